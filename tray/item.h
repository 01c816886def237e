/* item.h — a StatusNotifierItem with a com.canonical.dbusmenu menu, on sd-bus.
 *
 * The tray icon as the desktop sees it: the object /StatusNotifierItem (interface
 * org.kde.StatusNotifierItem) under the name org.kde.StatusNotifierItem-PID-1, registered with
 * whichever org.kde.StatusNotifierWatcher owns that name now or later, and its menu at /MenuBar
 * (com.canonical.dbusmenu, version 3). The module knows nothing of Stint's states: the caller
 * hands it a view (icon, tooltip, what the menu offers) and gets the user's clicks back as
 * actions. Everything runs on the sd-event loop the bus is attached to.
 *
 * Conventions: functions return enum stint_err and fill a struct stint_error; the view's strings
 * are copied; create/destroy in a pair, destroy accepts NULL.
 */
#ifndef STINT_TRAY_ITEM_H
#define STINT_TRAY_ITEM_H

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "stint/error.h"

/* What a click asks for. Menu item ids on the bus are these values (the root is 0). */
enum stint_tray_action {
    STINT_TRAY_PRIVATE = 3, /* the Private mode check item, and a click on the icon */
    STINT_TRAY_FLUSH = 4,   /* Send now */
    STINT_TRAY_REPORT = 5,  /* Today's report */
    STINT_TRAY_QUIT = 7,    /* Quit tray */
};

/* What the icon shows and the menu offers. */
struct stint_tray_view {
    const char *icon;      /* IconName: stint-recording, stint-private, ..., stint-stopped */
    const char *status;    /* Status: "Active" or "NeedsAttention" */
    const char *tip_title; /* ToolTip title, e.g. "Stint: recording" */
    const char *tip_text;  /* ToolTip body */
    const char *label;     /* the menu's first line (a disabled item): the state in words */
    bool running;          /* false: the menu offers only Quit (nothing that would fail) */
    bool private_mode;     /* the check mark */
    bool can_flush;        /* Send now: a server is configured */
};

struct stint_tray_item_opts {
    const char *icon_theme_path; /* IconThemePath; "" or NULL: the icons are installed */
    void (*action)(void *ctx, enum stint_tray_action a);
    void *ctx;
};

struct stint_tray_item;

/* Takes the bus name, exports both objects, and registers with the watcher (now if there is
 * one, else as soon as one appears). bus is borrowed and must outlive the item. STINT_EIO with
 * sd-bus's message on failure. On success *out is the caller's: stint_tray_item_destroy(). */
enum stint_err stint_tray_item_create(sd_bus *bus, const struct stint_tray_item_opts *opts,
                                      const struct stint_tray_view *view,
                                      struct stint_tray_item **out, struct stint_error *e);

/* Shows a new view: emits NewIcon, NewToolTip, NewStatus and the menu's LayoutUpdated for what
 * changed (nothing when nothing did). STINT_ENOMEM when a string cannot be copied. */
enum stint_err stint_tray_item_update(struct stint_tray_item *it,
                                      const struct stint_tray_view *view);

void stint_tray_item_destroy(struct stint_tray_item *it); /* NULL is fine */

#endif
