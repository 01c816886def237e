/* item.c — StatusNotifierItem + dbusmenu on sd-bus (item.h).
 *
 * Design. Why our own StatusNotifierItem rather than libayatana-appindicator3: the protocol is
 * two small D-Bus interfaces (an item of a dozen properties and four methods; a menu of seven
 * methods), and libayatana-appindicator3 brings GTK 3, GLib, GIO, libdbusmenu-gtk3 and their
 * dozens of shared objects into a program whose whole job is to hand the desktop an icon name:
 * a GTK process and GLib's main loop, for nothing the desktop sees differently. sd-bus
 * (libsystemd, already on every Debian desktop) plus sd-event give the same objects on the bus
 * in one library, a loop that sleeps in epoll until a D-Bus message or a state line arrives,
 * and about 3 MiB of RSS (bench/bench_idle.sh). The desktops reached are the same either way,
 * because both speak the same protocol: KDE Plasma (native), GNOME with the
 * AppIndicator/KStatusNotifierItem extension (Ubuntu's default), XFCE (the systray plugin of
 * 4.14+), Cinnamon and MATE (their applets host SNI), LXQt, and wlroots bars (waybar's and
 * swaybar's trays). The one thing given up: with no SNI host at all, libayatana-appindicator3
 * falls back to an XEmbed GtkStatusIcon, so old XEmbed-only trays (stalonetray, trayer, tint2)
 * would show it; ours needs an SNI host there (or a bridge such as snixembed). Every desktop
 * listed above hosts SNI, and GTK 4 has no XEmbed tray at all.
 *
 * The menu is static apart from its labels, check mark and what is visible, so it is a fixed
 * table of items (ids = enum stint_tray_action values and a few inert ones); every view change
 * bumps the layout revision and sends LayoutUpdated, which hosts answer with GetLayout. Hosts
 * differ in what they call (Activate vs a menu on left click, AboutToShow or not, GetLayout with
 * any depth), so every method answers something sensible for every id.
 */
#define _GNU_SOURCE
#include "item.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITEM_PATH "/StatusNotifierItem"
#define ITEM_IFACE "org.kde.StatusNotifierItem"
#define MENU_PATH "/MenuBar"
#define MENU_IFACE "com.canonical.dbusmenu"
#define WATCHER "org.kde.StatusNotifierWatcher"

struct stint_tray_item {
    sd_bus *bus;
    sd_bus_slot *item_slot, *menu_slot, *match_slot, *reg_slot;
    char name[64];
    char *theme;
    char *icon, *status, *tip_title, *tip_text, *label;
    bool running, private_mode, can_flush;
    uint32_t revision;
    void (*action)(void *ctx, enum stint_tray_action a);
    void *ctx;
};

/* The menu: id, type, label; the root (0) holds the rest in this order. */
enum { ID_ROOT = 0, ID_STATE = 1, ID_SEP1 = 2, ID_SEP2 = 6 };
static const int menu_ids[] = {ID_STATE,          ID_SEP1, STINT_TRAY_PRIVATE, STINT_TRAY_FLUSH,
                               STINT_TRAY_REPORT, ID_SEP2, STINT_TRAY_QUIT};
#define N_MENU (sizeof(menu_ids) / sizeof(menu_ids[0]))

static bool known_id(int id)
{
    size_t i;
    if (id == ID_ROOT)
        return true;
    for (i = 0; i < N_MENU; i++)
        if (menu_ids[i] == id)
            return true;
    return false;
}

/* ---- the item ---- */

static int item_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    int r;

    (void)bus;
    (void)path;
    (void)iface;
    (void)err;
    if (strcmp(prop, "Category") == 0)
        return sd_bus_message_append(reply, "s", "ApplicationStatus");
    if (strcmp(prop, "Id") == 0)
        return sd_bus_message_append(reply, "s", "stint-tray");
    if (strcmp(prop, "Title") == 0)
        return sd_bus_message_append(reply, "s", "Stint");
    if (strcmp(prop, "Status") == 0)
        return sd_bus_message_append(reply, "s", it->status);
    if (strcmp(prop, "WindowId") == 0)
        return sd_bus_message_append(reply, "i", 0);
    if (strcmp(prop, "IconName") == 0)
        return sd_bus_message_append(reply, "s", it->icon);
    if (strcmp(prop, "IconThemePath") == 0)
        return sd_bus_message_append(reply, "s", it->theme);
    if (strcmp(prop, "OverlayIconName") == 0)
        return sd_bus_message_append(reply, "s", "");
    if (strcmp(prop, "AttentionIconName") == 0)
        return sd_bus_message_append(reply, "s", it->icon);
    if (strcmp(prop, "ItemIsMenu") == 0)
        return sd_bus_message_append(reply, "b", 0); /* a left click is Activate: toggle */
    if (strcmp(prop, "Menu") == 0)
        return sd_bus_message_append(reply, "o", MENU_PATH);
    if (strcmp(prop, "IconPixmap") == 0 || strcmp(prop, "OverlayIconPixmap") == 0 ||
        strcmp(prop, "AttentionIconPixmap") == 0)
        return sd_bus_message_append(reply, "a(iiay)", 0);
    if (strcmp(prop, "ToolTip") == 0) {
        r = sd_bus_message_open_container(reply, 'r', "sa(iiay)ss");
        if (r >= 0)
            r = sd_bus_message_append(reply, "sa(iiay)ss", it->icon, 0, it->tip_title,
                                      it->tip_text);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
        return r;
    }
    return -ENOENT;
}

static int m_activate(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    (void)err;
    if (it->running && it->action)
        it->action(it->ctx, STINT_TRAY_PRIVATE);
    return sd_bus_reply_method_return(m, "");
}

static int m_ignore(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)userdata;
    (void)err;
    return sd_bus_reply_method_return(m, ""); /* the host shows our menu itself */
}

static const sd_bus_vtable item_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Category", "s", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Id", "s", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Title", "s", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Status", "s", item_get, 0, 0),
    SD_BUS_PROPERTY("WindowId", "i", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("IconName", "s", item_get, 0, 0),
    SD_BUS_PROPERTY("IconThemePath", "s", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("IconPixmap", "a(iiay)", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("OverlayIconName", "s", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("OverlayIconPixmap", "a(iiay)", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("AttentionIconName", "s", item_get, 0, 0),
    SD_BUS_PROPERTY("AttentionIconPixmap", "a(iiay)", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ToolTip", "(sa(iiay)ss)", item_get, 0, 0),
    SD_BUS_PROPERTY("ItemIsMenu", "b", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Menu", "o", item_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Activate", "ii", "", m_activate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SecondaryActivate", "ii", "", m_ignore, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ContextMenu", "ii", "", m_ignore, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Scroll", "is", "", m_ignore, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("NewTitle", "", 0),
    SD_BUS_SIGNAL("NewIcon", "", 0),
    SD_BUS_SIGNAL("NewAttentionIcon", "", 0),
    SD_BUS_SIGNAL("NewOverlayIcon", "", 0),
    SD_BUS_SIGNAL("NewToolTip", "", 0),
    SD_BUS_SIGNAL("NewStatus", "s", 0),
    SD_BUS_VTABLE_END};

/* ---- the menu ---- */

static int put_s(sd_bus_message *m, const char *k, const char *v)
{
    return sd_bus_message_append(m, "{sv}", k, "s", v);
}

static int put_b(sd_bus_message *m, const char *k, bool v)
{
    return sd_bus_message_append(m, "{sv}", k, "b", (int)v);
}

static int put_i(sd_bus_message *m, const char *k, int v)
{
    return sd_bus_message_append(m, "{sv}", k, "i", v);
}

/* Appends the a{sv} of one menu item. */
static int item_props(struct stint_tray_item *it, sd_bus_message *m, int id)
{
    bool live = it->running;
    int r = sd_bus_message_open_container(m, 'a', "{sv}");

    if (r < 0)
        return r;
    switch (id) {
    case ID_ROOT:
        r = put_s(m, "children-display", "submenu");
        break;
    case ID_STATE:
        r = put_s(m, "label", it->label);
        if (r >= 0)
            r = put_b(m, "enabled", false);
        break;
    case ID_SEP1:
    case ID_SEP2:
        r = put_s(m, "type", "separator");
        if (r >= 0 && id == ID_SEP1)
            r = put_b(m, "visible", live);
        break;
    case STINT_TRAY_PRIVATE:
        r = put_s(m, "label", "_Private mode");
        if (r >= 0)
            r = put_s(m, "toggle-type", "checkmark");
        if (r >= 0)
            r = put_i(m, "toggle-state", it->private_mode ? 1 : 0);
        if (r >= 0)
            r = put_b(m, "enabled", live);
        if (r >= 0)
            r = put_b(m, "visible", live);
        break;
    case STINT_TRAY_FLUSH:
        r = put_s(m, "label", "_Send now");
        if (r >= 0)
            r = put_b(m, "enabled", live && it->can_flush);
        if (r >= 0)
            r = put_b(m, "visible", live && it->can_flush);
        break;
    case STINT_TRAY_REPORT:
        r = put_s(m, "label", "Today's _report");
        if (r >= 0)
            r = put_b(m, "enabled", live);
        if (r >= 0)
            r = put_b(m, "visible", live);
        break;
    case STINT_TRAY_QUIT:
        r = put_s(m, "label", "_Quit tray");
        break;
    default:
        break;
    }
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    return r;
}

/* Appends (ia{sv}av) for id, with its children when depth allows (depth < 0: all). */
static int layout_node(struct stint_tray_item *it, sd_bus_message *m, int id, int depth)
{
    size_t i;
    int r = sd_bus_message_open_container(m, 'r', "ia{sv}av");

    if (r >= 0)
        r = sd_bus_message_append(m, "i", id);
    if (r >= 0)
        r = item_props(it, m, id);
    if (r >= 0)
        r = sd_bus_message_open_container(m, 'a', "v");
    if (r >= 0 && id == ID_ROOT && depth != 0) {
        for (i = 0; r >= 0 && i < N_MENU; i++) {
            r = sd_bus_message_open_container(m, 'v', "(ia{sv}av)");
            if (r >= 0)
                r = layout_node(it, m, menu_ids[i], depth - 1);
            if (r >= 0)
                r = sd_bus_message_close_container(m);
        }
    }
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    return r;
}

static int m_get_layout(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    sd_bus_message *reply = NULL;
    int32_t parent, depth;
    int r;

    r = sd_bus_message_read(m, "ii", &parent, &depth);
    if (r < 0)
        return r;
    if (!known_id(parent))
        return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "no menu item %d", parent);
    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_append(reply, "u", it->revision);
    if (r >= 0)
        r = layout_node(it, reply, parent, depth);
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return r;
}

static int m_group_props(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    sd_bus_message *reply = NULL;
    int32_t want[N_MENU + 1];
    size_t n = 0, i;
    int32_t id;
    int r;

    (void)err;
    r = sd_bus_message_enter_container(m, 'a', "i");
    while (r >= 0 && (r = sd_bus_message_read(m, "i", &id)) > 0)
        if (known_id(id) && n < N_MENU + 1)
            want[n++] = id;
    if (r < 0)
        return r;
    if (n == 0) { /* none named: every item */
        want[n++] = ID_ROOT;
        for (i = 0; i < N_MENU; i++)
            want[n++] = menu_ids[i];
    }
    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "(ia{sv})");
    for (i = 0; r >= 0 && i < n; i++) {
        r = sd_bus_message_open_container(reply, 'r', "ia{sv}");
        if (r >= 0)
            r = sd_bus_message_append(reply, "i", want[i]);
        if (r >= 0)
            r = item_props(it, reply, want[i]);
        if (r >= 0)
            r = sd_bus_message_close_container(reply);
    }
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return r;
}

static int m_get_property(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    sd_bus_message *tmp = NULL, *reply = NULL;
    const char *name;
    int32_t id;
    int r;

    r = sd_bus_message_read(m, "is", &id, &name);
    if (r < 0)
        return r;
    if (!known_id(id))
        return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "no menu item %d", id);
    /* The simple way that stays in step with item_props: the label, or an error. */
    if (strcmp(name, "label") != 0 || id == ID_ROOT || id == ID_SEP1 || id == ID_SEP2)
        return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "item %d has no property %s", id,
                                 name);
    (void)tmp;
    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_append(reply, "v", "s",
                                  id == ID_STATE             ? it->label
                                  : id == STINT_TRAY_PRIVATE ? "_Private mode"
                                  : id == STINT_TRAY_FLUSH   ? "_Send now"
                                  : id == STINT_TRAY_REPORT  ? "Today's _report"
                                                             : "_Quit tray");
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return r;
}

/* A click on a menu item: only what the current view offers runs. */
static void clicked(struct stint_tray_item *it, int id)
{
    if (!it->action)
        return;
    if (id == STINT_TRAY_QUIT ||
        (it->running && (id == STINT_TRAY_PRIVATE || id == STINT_TRAY_REPORT ||
                         (id == STINT_TRAY_FLUSH && it->can_flush))))
        it->action(it->ctx, (enum stint_tray_action)id);
}

static int m_event(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    const char *type;
    int32_t id;
    int r;

    r = sd_bus_message_read(m, "is", &id, &type);
    if (r < 0)
        return r;
    if (!known_id(id))
        return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS, "no menu item %d", id);
    r = sd_bus_reply_method_return(m, ""); /* answer first: the action may take a moment */
    if (strcmp(type, "clicked") == 0)
        clicked(it, id);
    return r;
}

static int m_event_group(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    sd_bus_message *reply = NULL;
    int32_t clicks[16], bad[16];
    size_t nc = 0, nb = 0, i;
    int r;

    (void)err;
    r = sd_bus_message_enter_container(m, 'a', "(isvu)");
    while (r >= 0) {
        const char *type;
        int32_t id;
        r = sd_bus_message_enter_container(m, 'r', "isvu");
        if (r <= 0)
            break;
        r = sd_bus_message_read(m, "is", &id, &type);
        if (r >= 0 && !known_id(id) && nb < 16)
            bad[nb++] = id;
        else if (r >= 0 && strcmp(type, "clicked") == 0 && nc < 16)
            clicks[nc++] = id;
        if (r >= 0)
            r = sd_bus_message_skip(m, "vu");
        if (r >= 0)
            r = sd_bus_message_exit_container(m);
    }
    if (r < 0)
        return r;
    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_append_array(reply, 'i', bad, nb * sizeof(bad[0]));
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    for (i = 0; i < nc; i++)
        clicked(it, clicks[i]);
    return r;
}

static int m_about_to_show(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)userdata;
    (void)err;
    return sd_bus_reply_method_return(m, "b", 0); /* always current: LayoutUpdated says so */
}

static int m_about_to_show_group(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    (void)userdata;
    (void)err;
    return sd_bus_reply_method_return(m, "aiai", 0, 0);
}

static int menu_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    (void)bus;
    (void)path;
    (void)iface;
    (void)err;
    if (strcmp(prop, "Version") == 0)
        return sd_bus_message_append(reply, "u", 3);
    if (strcmp(prop, "TextDirection") == 0)
        return sd_bus_message_append(reply, "s", "ltr");
    if (strcmp(prop, "Status") == 0)
        return sd_bus_message_append(reply, "s", "normal");
    if (strcmp(prop, "IconThemePath") == 0)
        return *it->theme ? sd_bus_message_append(reply, "as", 1, it->theme)
                          : sd_bus_message_append(reply, "as", 0);
    return -ENOENT;
}

static const sd_bus_vtable menu_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "u", menu_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("TextDirection", "s", menu_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Status", "s", menu_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("IconThemePath", "as", menu_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("GetLayout", "iias", "u(ia{sv}av)", m_get_layout, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetGroupProperties", "aias", "a(ia{sv})", m_group_props,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetProperty", "is", "v", m_get_property, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Event", "isvu", "", m_event, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("EventGroup", "a(isvu)", "ai", m_event_group, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("AboutToShow", "i", "b", m_about_to_show, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("AboutToShowGroup", "ai", "aiai", m_about_to_show_group,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("ItemsPropertiesUpdated", "a(ia{sv})a(ias)", 0),
    SD_BUS_SIGNAL("LayoutUpdated", "ui", 0),
    SD_BUS_SIGNAL("ItemActivationRequested", "iu", 0),
    SD_BUS_VTABLE_END};

/* ---- registration ---- */

static int registered(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    const sd_bus_error *e = sd_bus_message_get_error(m);
    (void)err;
    it->reg_slot = sd_bus_slot_unref(it->reg_slot);
    if (e) /* no watcher yet: we register when one appears */
        fprintf(stderr, "stint-tray: no tray host yet (%s); waiting for one\n", e->message);
    return 0;
}

static void register_item(struct stint_tray_item *it)
{
    it->reg_slot = sd_bus_slot_unref(it->reg_slot);
    sd_bus_call_method_async(it->bus, &it->reg_slot, WATCHER, "/StatusNotifierWatcher", WATCHER,
                             "RegisterStatusNotifierItem", registered, it, "s", it->name);
}

static int watcher_changed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
    struct stint_tray_item *it = userdata;
    const char *name, *old_owner, *new_owner;
    (void)err;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
        return 0;
    if (strcmp(name, WATCHER) == 0 && *new_owner)
        register_item(it); /* a new host (or the panel restarted): show ourselves again */
    return 0;
}

/* ---- create / update / destroy ---- */

static bool set_str(char **dst, const char *src)
{
    char *s = strdup(src ? src : "");
    if (!s)
        return false;
    free(*dst);
    *dst = s;
    return true;
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

enum stint_err stint_tray_item_update(struct stint_tray_item *it, const struct stint_tray_view *v)
{
    bool icon = !same(it->icon, v->icon), status = !same(it->status, v->status);
    bool tip = icon || !same(it->tip_title, v->tip_title) || !same(it->tip_text, v->tip_text);
    bool menu = !same(it->label, v->label) || it->running != v->running ||
                it->private_mode != v->private_mode || it->can_flush != v->can_flush;

    if (!set_str(&it->icon, v->icon) || !set_str(&it->status, v->status) ||
        !set_str(&it->tip_title, v->tip_title) || !set_str(&it->tip_text, v->tip_text) ||
        !set_str(&it->label, v->label))
        return STINT_ENOMEM;
    it->running = v->running;
    it->private_mode = v->private_mode;
    it->can_flush = v->can_flush;
    if (!it->item_slot)
        return STINT_OK; /* not on the bus yet (create is still setting up) */
    if (icon) {
        sd_bus_emit_signal(it->bus, ITEM_PATH, ITEM_IFACE, "NewIcon", "");
        sd_bus_emit_signal(it->bus, ITEM_PATH, ITEM_IFACE, "NewAttentionIcon", "");
    }
    if (tip)
        sd_bus_emit_signal(it->bus, ITEM_PATH, ITEM_IFACE, "NewToolTip", "");
    if (status)
        sd_bus_emit_signal(it->bus, ITEM_PATH, ITEM_IFACE, "NewStatus", "s", it->status);
    if (menu) {
        it->revision++;
        sd_bus_emit_signal(it->bus, MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui", it->revision, 0);
    }
    return STINT_OK;
}

enum stint_err stint_tray_item_create(sd_bus *bus, const struct stint_tray_item_opts *opts,
                                      const struct stint_tray_view *view,
                                      struct stint_tray_item **out, struct stint_error *e)
{
    struct stint_tray_item *it = NULL;
    enum stint_err err = STINT_OK;
    int r;

    *out = NULL;
    it = calloc(1, sizeof(*it));
    if (!it || !set_str(&it->theme, opts->icon_theme_path)) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    it->bus = bus;
    it->action = opts->action;
    it->ctx = opts->ctx;
    it->revision = 1;
    if (stint_tray_item_update(it, view) != STINT_OK) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    snprintf(it->name, sizeof(it->name), "org.kde.StatusNotifierItem-%d-1", (int)getpid());
    r = sd_bus_add_object_vtable(bus, &it->item_slot, ITEM_PATH, ITEM_IFACE, item_vtable, it);
    if (r >= 0)
        r = sd_bus_add_object_vtable(bus, &it->menu_slot, MENU_PATH, MENU_IFACE, menu_vtable, it);
    if (r < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "D-Bus: cannot export the tray item: %s",
                              strerror(-r));
        goto cleanup;
    }
    r = sd_bus_request_name(bus, it->name, 0);
    if (r < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "D-Bus: cannot own the name %s: %s", it->name,
                              strerror(-r));
        goto cleanup;
    }
    /* arg0: only the watcher's name, so other programs coming and going never wake us */
    r = sd_bus_add_match_async(bus, &it->match_slot,
                               "type='signal',sender='org.freedesktop.DBus',"
                               "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                               "member='NameOwnerChanged',arg0='" WATCHER "'",
                               watcher_changed, NULL, it);
    if (r < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "D-Bus: cannot watch for a tray host: %s",
                              strerror(-r));
        goto cleanup;
    }
    register_item(it);
    *out = it;
    it = NULL;
cleanup:
    stint_tray_item_destroy(it);
    return err;
}

void stint_tray_item_destroy(struct stint_tray_item *it)
{
    if (!it)
        return;
    sd_bus_slot_unref(it->reg_slot);
    sd_bus_slot_unref(it->match_slot);
    sd_bus_slot_unref(it->menu_slot);
    sd_bus_slot_unref(it->item_slot);
    free(it->theme);
    free(it->icon);
    free(it->status);
    free(it->tip_title);
    free(it->tip_text);
    free(it->label);
    free(it);
}
