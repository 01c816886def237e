/* source_gnome.c — what is in focus on GNOME and KDE, through a helper inside the compositor
 * that speaks on the session D-Bus (desktop/: a GNOME Shell extension, a KWin script).
 *
 * Mutter and KWin keep their windows to themselves: they offer neither the wlroots toplevel
 * protocol nor X11's view of Wayland windows. Code running inside them can see the focused
 * window, so a small helper publishes it, and this source (sd-bus, from libsystemd) reads it.
 * The D-Bus contract, in full in spec/AGENT.md ("Desktop helpers"):
 *
 *     name org.stint.Desktop (the GNOME Shell extension owns it), object /org/stint/Desktop,
 *     interface org.stint.Desktop1:
 *         method GetFocus() -> (s app_id, s title, u pid)    what is focused now ("" and 0: none)
 *         method GetIdletime() -> (t ms)                     ms since the last input
 *         signal FocusChanged(s app_id, s title, u pid)      sent on every focus or title change
 *
 *     name org.stint.Agent (this source owns it), object /org/stint/Desktop, same interface:
 *         method Update(s app_id, s title, s pid)            a helper that cannot own a name
 *                                                            (a KWin script: callDBus only)
 *                                                            pushes the focus here instead;
 *                                                            the pid in decimal ("" or "0":
 *                                                            none), as a script's numbers
 *                                                            have no fixed D-Bus type
 *
 * The source listens to FocusChanged from the owner of org.stint.Desktop only (the bus checks the
 * sender), asks GetFocus at start and whenever that name gets a new owner (GNOME Shell restarted,
 * the extension enabled), and reports "nothing in focus" when the name loses its owner. Events
 * are pushed: nothing is polled. The pid gives the path (/proc/PID/exe, readable for the user's
 * own processes). A title change of the same window is delivered TITLE_DELAY_MS after it, as in
 * the other live sources.
 *
 * Idle: GetIdletime of the helper (the extension reads Mutter's core idle monitor), else Mutter's
 * own org.gnome.Mutter.IdleMonitor on the session bus, asked only when the tracker wants it (as
 * X11's MIT-SCREEN-SAVER is); else none, and status says which.
 *
 * Private mode drops the FocusChanged match (the bus stops routing the signal to us) and ignores
 * Update calls; capture on adds the match back and asks GetFocus. Losing the session bus (the
 * session ended) ends the source.
 */
#define _GNU_SOURCE
#include "source.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "stint/record.h"
#include "common/clock.h"

#define TITLE_DELAY_MS 50
#define CALL_TIMEOUT_US (500 * 1000) /* a synchronous call (idle time) waits at most this */
#define STR_MAX (4 * STINT_TITLE_MAX)

#define HELPER_NAME "org.stint.Desktop"
#define AGENT_NAME "org.stint.Agent"
#define OBJ_PATH "/org/stint/Desktop"
#define IFACE "org.stint.Desktop1"

enum idle_kind { IDLE_UNKNOWN, IDLE_HELPER, IDLE_MUTTER, IDLE_NONE };

struct gn {
    struct stint_source base;
    sd_bus *bus;
    sd_bus_slot *focus_match, *owner_match, *vtable, *call, *name_req;
    bool capture, helper, agent_name, ended;
    enum idle_kind idle_kind;
    char app[STINT_APP_MAX + 1], title[STR_MAX + 1], path[PATH_MAX];
    uint32_t pid;
    bool have;         /* a focus was received (app/title/pid hold it) */
    bool shown_valid;  /* a sample went out */
    int64_t title_due; /* monotonic ms: deliver the changed title then; 0: no */
    char shown_app[STINT_APP_MAX + 1], shown_title[STR_MAX + 1];
    uint32_t shown_pid;
    uint64_t updates; /* Update calls received (KWin script) */
    struct stint_source_stats st;
};

static void set_detail(struct gn *g)
{
    static const char *const idle_names[] = {"not asked yet", "the helper's GetIdletime",
                                             "org.gnome.Mutter.IdleMonitor",
                                             "none (neither the helper nor Mutter answers)"};
    snprintf(g->st.detail, sizeof(g->st.detail),
             "gnome: helper %s %s; %s %s (KWin script pushes: %llu); idle: %s", HELPER_NAME,
             g->helper ? "present" : "absent (waiting for it)", AGENT_NAME,
             g->agent_name ? "owned" : "not owned", (unsigned long long)g->updates,
             idle_names[g->idle_kind]);
}

static enum stint_err deliver(struct gn *g)
{
    struct stint_sample s = {0};
    g->title_due = 0;
    g->shown_valid = true;
    snprintf(g->shown_app, sizeof(g->shown_app), "%s", g->have ? g->app : "");
    snprintf(g->shown_title, sizeof(g->shown_title), "%s", g->have ? g->title : "");
    g->shown_pid = g->have ? g->pid : 0;
    s.app = g->shown_app;
    s.title = g->shown_title;
    s.path = g->have ? g->path : "";
    s.app_len = strlen(s.app);
    s.title_len = strlen(s.title);
    s.path_len = strlen(s.path);
    g->st.items++;
    return g->base.sink.sample ? g->base.sink.sample(g->base.sink.ctx, &s, NULL) : STINT_OK;
}

/* Takes a focus (app_id, title, pid) from the helper: a new window is delivered now, a new
 * title of the same window after TITLE_DELAY_MS. */
static void take(struct gn *g, const char *app, const char *title, uint32_t pid)
{
    if (!g->capture) {
        return;
    }
    if (!g->have || pid != g->pid) {
        g->path[0] = '\0';
        if (pid) {
            char link[64];
            ssize_t n;
            snprintf(link, sizeof(link), "/proc/%u/exe", (unsigned)pid);
            n = readlink(link, g->path, sizeof(g->path) - 1);
            g->path[n > 0 ? n : 0] = '\0';
        }
    }
    g->have = app[0] || title[0] || pid;
    snprintf(g->app, sizeof(g->app), "%s", app);
    snprintf(g->title, sizeof(g->title), "%.*s", STR_MAX, title);
    g->pid = pid;
    if (g->shown_valid && strcmp(g->shown_app, g->app) == 0 && g->shown_pid == g->pid && g->have) {
        if (strcmp(g->shown_title, g->title) == 0) {
            g->title_due = 0;
        } else if (!g->title_due) {
            g->title_due = stint_clock_mono_ms() + TITLE_DELAY_MS;
        }
        return;
    }
    deliver(g);
}

/* Reads (s app_id, s title, u pid) from m; false when it is not that. */
static bool read_focus(sd_bus_message *m, const char **app, const char **title, uint32_t *pid)
{
    return sd_bus_message_read(m, "ssu", app, title, pid) >= 0;
}

static int on_focus_changed(sd_bus_message *m, void *data, sd_bus_error *err)
{
    struct gn *g = data;
    const char *app, *title;
    uint32_t pid;
    (void)err;
    if (read_focus(m, &app, &title, &pid)) {
        g->helper = true;
        take(g, app, title, pid);
    } else {
        snprintf(g->st.last_error, sizeof(g->st.last_error),
                 "gnome: a FocusChanged signal that is not (ssu), ignored");
        g->st.bad++;
    }
    return 0;
}

static int on_get_focus(sd_bus_message *m, void *data, sd_bus_error *err)
{
    struct gn *g = data;
    const char *app, *title;
    uint32_t pid;
    (void)err;
    g->call = sd_bus_slot_unref(g->call);
    if (sd_bus_message_is_method_error(m, NULL)) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        g->helper = false;
        if (e && e->name && strcmp(e->name, "org.freedesktop.DBus.Error.ServiceUnknown") != 0 &&
            strcmp(e->name, "org.freedesktop.DBus.Error.NameHasNoOwner") != 0) {
            snprintf(g->st.last_error, sizeof(g->st.last_error), "gnome: GetFocus: %s: %s", e->name,
                     e->message ? e->message : "");
        }
    } else if (read_focus(m, &app, &title, &pid)) {
        g->helper = true;
        take(g, app, title, pid);
    } else {
        snprintf(g->st.last_error, sizeof(g->st.last_error),
                 "gnome: GetFocus answered something other than (ssu)");
    }
    set_detail(g);
    return 0;
}

static void ask_focus(struct gn *g)
{
    int r;
    g->call = sd_bus_slot_unref(g->call);
    r = sd_bus_call_method_async(g->bus, &g->call, HELPER_NAME, OBJ_PATH, IFACE, "GetFocus",
                                 on_get_focus, g, "");
    if (r < 0) {
        snprintf(g->st.last_error, sizeof(g->st.last_error), "gnome: GetFocus: %s", strerror(-r));
    }
}

static int on_owner_changed(sd_bus_message *m, void *data, sd_bus_error *err)
{
    struct gn *g = data;
    const char *name, *old_owner, *new_owner;
    (void)err;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
        strcmp(name, HELPER_NAME) != 0) {
        return 0;
    }
    if (new_owner[0]) {
        g->helper = true;
        g->idle_kind = IDLE_UNKNOWN;
        if (g->capture) {
            ask_focus(g);
        }
    } else {
        g->helper = false;
        g->idle_kind = IDLE_UNKNOWN;
        snprintf(g->st.last_error, sizeof(g->st.last_error),
                 "gnome: the desktop helper (%s) went away", HELPER_NAME);
        if (g->capture) {
            g->have = false;
            deliver(g); /* nothing known to be in focus */
        }
    }
    set_detail(g);
    return 0;
}

static int on_update(sd_bus_message *m, void *data, sd_bus_error *err)
{
    struct gn *g = data;
    const char *app, *title, *pid_s;
    unsigned long pid = 0;
    char *end = NULL;

    if (sd_bus_message_read(m, "sss", &app, &title, &pid_s) < 0) {
        return sd_bus_error_set(err, SD_BUS_ERROR_INVALID_ARGS,
                                "Update takes (s app_id, s title, s pid)");
    }
    if (pid_s[0]) {
        errno = 0;
        pid = strtoul(pid_s, &end, 10);
        if (errno || *end || pid > UINT32_MAX) {
            return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
                                     "Update: pid \"%.20s\" is not a decimal number", pid_s);
        }
    }
    g->updates++;
    take(g, app, title, (uint32_t)pid);
    set_detail(g);
    return sd_bus_reply_method_return(m, "");
}

static int on_name(sd_bus_message *m, void *data, sd_bus_error *err)
{
    struct gn *g = data;
    (void)err;
    g->agent_name = !sd_bus_message_is_method_error(m, NULL);
    set_detail(g);
    return 0;
}

static const sd_bus_vtable agent_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Update", "sss", "", on_update, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static int add_focus_match(struct gn *g)
{
    return sd_bus_match_signal(g->bus, &g->focus_match, HELPER_NAME, OBJ_PATH, IFACE,
                               "FocusChanged", on_focus_changed, g);
}

/* ---- the table ---- */

static int gn_fds(struct stint_source *s, struct pollfd *fds, int cap)
{
    struct gn *g = (struct gn *)s;
    int ev;
    if (cap < 1 || g->ended) {
        return 0;
    }
    ev = sd_bus_get_events(g->bus);
    fds[0] = (struct pollfd){.fd = sd_bus_get_fd(g->bus), .events = (short)(ev > 0 ? ev : POLLIN)};
    return 1;
}

static int64_t gn_timeout(struct stint_source *s)
{
    struct gn *g = (struct gn *)s;
    uint64_t us = UINT64_MAX;
    int64_t best = -1, now = stint_clock_mono_ms();

    if (g->ended) {
        return -1;
    }
    /* sd-bus answers 0 when it holds messages already read (during a synchronous call) */
    if (sd_bus_get_timeout(g->bus, &us) >= 0 && us != UINT64_MAX) {
        uint64_t now_us = (uint64_t)stint_clock_mono_ns() / 1000u;
        best = us > now_us ? (int64_t)((us - now_us + 999) / 1000) : 0;
    }
    if (g->title_due) {
        int64_t left = g->title_due > now ? g->title_due - now : 0;
        if (best < 0 || left < best) {
            best = left;
        }
    }
    return best;
}

static enum stint_err gn_dispatch(struct stint_source *s, const struct pollfd *fds, int n)
{
    struct gn *g = (struct gn *)s;
    int r;
    (void)fds;
    (void)n;
    if (g->ended) {
        return STINT_OK;
    }
    while ((r = sd_bus_process(g->bus, NULL)) > 0) {
    }
    if (r < 0) {
        g->ended = true;
        g->st.ended = true;
        snprintf(g->st.last_error, sizeof(g->st.last_error), "gnome: lost the session bus: %s",
                 strerror(-r));
        return STINT_EIO;
    }
    if (g->title_due && stint_clock_mono_ms() >= g->title_due) {
        return deliver(g);
    }
    return STINT_OK;
}

/* One synchronous call for the idle time: (t ms) from the helper, (t ms) from Mutter. */
static bool call_idle(struct gn *g, enum idle_kind k, int64_t *ms)
{
    sd_bus_message *req = NULL, *reply = NULL;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    uint64_t v = 0;
    bool ok = false;
    int r;

    if (k == IDLE_HELPER) {
        r = sd_bus_message_new_method_call(g->bus, &req, HELPER_NAME, OBJ_PATH, IFACE,
                                           "GetIdletime");
    } else {
        r = sd_bus_message_new_method_call(g->bus, &req, "org.gnome.Mutter.IdleMonitor",
                                           "/org/gnome/Mutter/IdleMonitor/Core",
                                           "org.gnome.Mutter.IdleMonitor", "GetIdletime");
    }
    if (r >= 0 && sd_bus_call(g->bus, req, CALL_TIMEOUT_US, &err, &reply) >= 0 &&
        sd_bus_message_read(reply, "t", &v) >= 0) {
        *ms = v > INT64_MAX ? INT64_MAX : (int64_t)v;
        ok = true;
    }
    sd_bus_error_free(&err);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(req);
    return ok;
}

static enum stint_err gn_idle_ms(struct stint_source *s, int64_t *ms)
{
    struct gn *g = (struct gn *)s;
    enum idle_kind was = g->idle_kind;
    bool ok = false;

    if (g->ended) {
        return STINT_EUNSUPPORTED;
    }
    /* the helper first, then Mutter; "none" sticks until the helper's name changes owner */
    if (g->idle_kind == IDLE_UNKNOWN || g->idle_kind == IDLE_HELPER) {
        ok = call_idle(g, IDLE_HELPER, ms);
        g->idle_kind = ok ? IDLE_HELPER : IDLE_UNKNOWN;
    }
    if (!ok && g->idle_kind != IDLE_NONE) {
        ok = call_idle(g, IDLE_MUTTER, ms);
        g->idle_kind = ok ? IDLE_MUTTER : IDLE_NONE;
    }
    if (g->idle_kind != was) {
        set_detail(g);
    }
    return ok ? STINT_OK : STINT_EUNSUPPORTED;
}

static enum stint_err gn_resample(struct stint_source *s)
{
    struct gn *g = (struct gn *)s;
    if (g->ended) {
        return STINT_EIO;
    }
    ask_focus(g); /* the answer is delivered when it comes */
    return STINT_OK;
}

static void gn_set_capture(struct stint_source *s, bool on)
{
    struct gn *g = (struct gn *)s;
    if (on == g->capture || g->ended) {
        return;
    }
    g->capture = on;
    if (!on) {
        g->focus_match = sd_bus_slot_unref(g->focus_match);
        g->call = sd_bus_slot_unref(g->call);
        g->have = false;
        g->shown_valid = false;
        g->title_due = 0;
        g->app[0] = g->title[0] = g->path[0] = '\0';
    } else {
        if (add_focus_match(g) < 0) {
            snprintf(g->st.last_error, sizeof(g->st.last_error),
                     "gnome: cannot listen to FocusChanged again");
        }
        ask_focus(g);
    }
    sd_bus_flush(g->bus);
}

static void gn_stats(struct stint_source *s, struct stint_source_stats *out)
{
    *out = ((struct gn *)s)->st;
}

static void gn_destroy(struct stint_source *s)
{
    struct gn *g = (struct gn *)s;
    sd_bus_slot_unref(g->focus_match);
    sd_bus_slot_unref(g->owner_match);
    sd_bus_slot_unref(g->vtable);
    sd_bus_slot_unref(g->call);
    sd_bus_slot_unref(g->name_req);
    if (g->bus) {
        sd_bus_flush_close_unref(g->bus);
    }
    free(g);
}

static const struct stint_source_ops gnome_ops = {
    .name = "gnome",
    .flags = STINT_SOURCE_LIVE,
    .fds = gn_fds,
    .timeout = gn_timeout,
    .dispatch = gn_dispatch,
    .idle_ms = gn_idle_ms,
    .resample = gn_resample,
    .set_capture = gn_set_capture,
    .stats = gn_stats,
    .destroy = gn_destroy,
};

enum stint_err stint_source_gnome_open(struct stint_source **out, struct stint_error *e)
{
    struct gn *g = calloc(1, sizeof(*g));
    enum stint_err err = STINT_OK;
    int r;

    *out = NULL;
    stint_error_clear(e);
    if (!g) {
        return stint_error_set(e, STINT_ENOMEM, 0, "gnome: out of memory");
    }
    g->base.ops = &gnome_ops;
    g->capture = true;
    r = sd_bus_open_user(&g->bus);
    if (r < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "gnome: cannot reach the session D-Bus: %s",
                              strerror(-r));
        goto cleanup;
    }
    r = add_focus_match(g);
    if (r >= 0) {
        r = sd_bus_add_match(g->bus, &g->owner_match,
                             "type='signal',sender='org.freedesktop.DBus',"
                             "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                             "member='NameOwnerChanged',arg0='" HELPER_NAME "'",
                             on_owner_changed, g);
    }
    if (r >= 0) {
        r = sd_bus_add_object_vtable(g->bus, &g->vtable, OBJ_PATH, IFACE, agent_vtable, g);
    }
    if (r >= 0) {
        /* another stintd may hold it: then Update calls go there, and status says so */
        r = sd_bus_request_name_async(g->bus, &g->name_req, AGENT_NAME, 0, on_name, g);
    }
    if (r < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "gnome: setting up on the session bus: %s",
                              strerror(-r));
        goto cleanup;
    }
    ask_focus(g);
    set_detail(g);
    sd_bus_flush(g->bus);
    *out = &g->base;
    g = NULL;
cleanup:
    if (g) {
        gn_destroy(&g->base);
    }
    return err;
}

bool stint_source_gnome_present(void)
{
    sd_bus *bus = NULL;
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int has = 0;

    if (sd_bus_open_user(&bus) >= 0 &&
        sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                           "org.freedesktop.DBus", "NameHasOwner", &err, &reply, "s",
                           HELPER_NAME) >= 0) {
        if (sd_bus_message_read(reply, "b", &has) < 0) {
            has = 0;
        }
    }
    sd_bus_error_free(&err);
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return has != 0;
}
