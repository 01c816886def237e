/* source_wayland.c — what is in focus on a wlroots Wayland compositor, and when the user is idle.
 *
 * Wayland gives a client no view of other clients' windows; wlroots compositors (sway, Hyprland,
 * river, labwc, Wayfire) publish them to taskbars through zwlr_foreign_toplevel_manager_v1
 * (agent/protocols/, our own description of the protocol: Debian packages no wlr-protocols).
 * The source binds it and hears, for every toplevel window, its app_id, title and state, each
 * set closed by a `done` event; the window whose state holds `activated` has the keyboard focus.
 * Everything is pushed by the compositor: there is no polling. Listeners only record what they
 * hear; after each read (dispatch) one decision is taken over the whole batch, so the usual
 * "old window deactivated, new one activated" pair makes one sample.
 *
 * As in the X11 source, "nothing activated" is reported only when it lasts NONE_DELAY_MS (a
 * focus move can pass through it), and a title change of the focused window is delivered
 * TITLE_DELAY_MS after it (a title typed letter by letter makes one sample, not twenty).
 *
 * The protocol carries no pid. Where the compositor says more through its own IPC — sway's
 * ($SWAYSOCK, GET_TREE: the focused node's pid) — the path is read from /proc/PID/exe once per
 * window (sway_ipc.c); elsewhere the path is empty, and the status detail says so ("pid: none").
 *
 * Idle: ext_idle_notifier_v1 where the compositor has it, else KDE's org_kde_kwin_idle (sway 1.7
 * in Debian 12 has only this one), else none (idle_ms answers STINT_EUNSUPPORTED and the tracker
 * never sees idle). Either protocol tells the client, after `timeout` ms without input on a seat,
 * "idle", and on the next input "resumed". The timeout is the tracker's idle_after
 * (stint_source_set_idle_after; 180 s until told), so the notification is the idle moment
 * itself: the source hands it to the tracker at once (sink.idle, since = now - idle_after), and
 * on "resumed" hands it the focused window again, which makes the tracker ask idle_ms and end
 * the idle span at the resume. idle_ms: while idle, the time since the last input (exact); after
 * a resume, the time since it while that is below idle_after; otherwise 0 (there was input less
 * than idle_after ago, but the protocols do not say when).
 *
 * Private mode (set_capture false): the source destroys every window handle and stops the
 * manager, so the compositor sends nothing about windows any more; capture on binds a new
 * manager, which announces every window again, and the focused one is sampled.
 *
 * The compositor going away (it crashed, the session restarts it): the source reports it
 * (dispatch returns STINT_EIO once, stats.last_error says what), delivers "nothing in focus",
 * and connects again after RETRY_MIN_MS, doubling to RETRY_MAX_MS: a timer, never a busy loop.
 */
#define _GNU_SOURCE
#include "source.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "ext-idle-notify-v1-client-protocol.h"
#include "kde-idle-client-protocol.h"
#include "stint/record.h"
#include "sway_ipc.h"
#include "wlr-foreign-toplevel-management-unstable-v1-client-protocol.h"
#include "common/clock.h"

#define NONE_DELAY_MS 250
#define TITLE_DELAY_MS 50
#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 5000
#define IDLE_DEFAULT_MS 180000
#define MGR_VERSION_MAX 3
/* longest string kept from the compositor (titles are cut to STINT_TITLE_MAX later) */
#define STR_MAX (4 * STINT_TITLE_MAX)

enum idle_kind { IDLE_NONE, IDLE_EXT, IDLE_KDE };

struct top {
    struct zwlr_foreign_toplevel_handle_v1 *h;
    struct wl_src *w;
    char *app, *title, *p_app, *p_title; /* committed at `done`, and pending */
    bool activated, p_activated;
    bool path_known;
    char *path; /* from the pid, when the compositor tells it; NULL: none */
    struct top *next;
};

struct wl_src {
    struct stint_source base;
    char name[128]; /* the display: WAYLAND_DISPLAY or the name given */
    struct wl_display *d;
    struct wl_registry *reg;
    struct wl_seat *seat;
    struct zwlr_foreign_toplevel_manager_v1 *mgr;
    struct zwlr_foreign_toplevel_manager_v1 *stopping; /* stopped (private mode), not finished */
    uint32_t mgr_name, mgr_version;
    struct ext_idle_notifier_v1 *ext;
    struct ext_idle_notification_v1 *ext_n;
    struct org_kde_kwin_idle *kde;
    struct org_kde_kwin_idle_timeout *kde_t;
    enum idle_kind idle_kind;
    struct top *tops;
    const struct top *shown; /* the window last reported; NULL: nothing (or not yet) */
    bool shown_valid;        /* `shown` means something (a sample went out) */
    bool capture, dirty, force, is_idle, resumed_pending, idle_pending;
    int64_t idle_after; /* ms: the notification timeout */
    int64_t idle_since; /* monotonic ms of the last input, while idle */
    int64_t resumed_at; /* monotonic ms of the last resume; 0: none */
    int64_t idle_wall;  /* wall ms of the last input, for sink.idle */
    int64_t none_due;   /* monotonic ms: report "nothing activated" then; 0: no */
    int64_t title_due;  /* monotonic ms: report the changed title then; 0: no */
    int64_t retry_due;  /* monotonic ms: connect again then; 0: connected */
    int64_t retry_wait; /* current back-off */
    uint64_t losses, tries;
    bool gone; /* the connection is lost (retry_due says when to try again) */
    char ipc[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* sway's IPC socket; "": none */
    /* the shown window's app and title as last delivered, to tell a title change from nothing */
    char shown_app[STR_MAX + 1], shown_title[STR_MAX + 1];
    struct stint_source_stats st;
};

/* A copy of s cut to STR_MAX bytes (the tracker repairs a cut character); NULL when out of memory
 * (the field is then empty). */
static char *dup_cut(const char *s)
{
    return strndup(s ? s : "", STR_MAX);
}

/* Fills t->path once: from sway's pid when there is sway. */
static void find_path(struct top *t)
{
    char link[64], buf[PATH_MAX];
    long pid;
    ssize_t n;

    if (t->path_known) {
        return;
    }
    t->path_known = true;
    pid = t->app && t->app[0] && t->w->ipc[0] ? stint_sway_focused_pid(t->w->ipc, t->app) : 0;
    if (pid <= 0) {
        return;
    }
    snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
    n = readlink(link, buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        t->path = strdup(buf);
    }
}

/* ---- the toplevel handles ---- */

static void top_free(struct top *t, bool send)
{
    if (send) {
        zwlr_foreign_toplevel_handle_v1_destroy(t->h);
    } else {
        wl_proxy_destroy((struct wl_proxy *)t->h);
    }
    free(t->app);
    free(t->title);
    free(t->p_app);
    free(t->p_title);
    free(t->path);
    free(t);
}

static void top_unlink(struct wl_src *w, struct top *t)
{
    for (struct top **pp = &w->tops; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    if (w->shown == t) {
        w->shown = NULL; /* a new sample is due: what was shown is gone */
        w->shown_valid = false;
    }
}

static void on_title(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, const char *title)
{
    struct top *t = data;
    (void)h;
    free(t->p_title);
    t->p_title = dup_cut(title);
}

static void on_app_id(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, const char *app_id)
{
    struct top *t = data;
    (void)h;
    free(t->p_app);
    t->p_app = dup_cut(app_id);
}

static void on_output(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_output *o)
{
    (void)data;
    (void)h;
    (void)o;
}

static void on_state(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_array *st)
{
    struct top *t = data;
    const uint32_t *v = st->data;
    (void)h;
    t->p_activated = false;
    for (size_t i = 0; i < st->size / sizeof(uint32_t); i++) {
        if (v[i] == ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_ACTIVATED) {
            t->p_activated = true;
        }
    }
}

static void on_done(void *data, struct zwlr_foreign_toplevel_handle_v1 *h)
{
    struct top *t = data;
    (void)h;
    /* the pending values replace the committed ones; absent ones stay as they were */
    if (t->p_app) {
        if (t->app && strcmp(t->app, t->p_app) != 0) {
            t->path_known = false; /* another program in the same window: ask again */
            free(t->path);
            t->path = NULL;
        }
        free(t->app);
        t->app = t->p_app;
        t->p_app = NULL;
    }
    if (t->p_title) {
        free(t->title);
        t->title = t->p_title;
        t->p_title = NULL;
    }
    t->activated = t->p_activated;
    t->w->dirty = true;
}

static void on_closed(void *data, struct zwlr_foreign_toplevel_handle_v1 *h)
{
    struct top *t = data;
    struct wl_src *w = t->w;
    (void)h;
    top_unlink(w, t);
    top_free(t, true);
    w->dirty = true;
}

static void on_parent(void *data, struct zwlr_foreign_toplevel_handle_v1 *h,
                      struct zwlr_foreign_toplevel_handle_v1 *parent)
{
    (void)data;
    (void)h;
    (void)parent;
}

static const struct zwlr_foreign_toplevel_handle_v1_listener top_listener = {
    .title = on_title,
    .app_id = on_app_id,
    .output_enter = on_output,
    .output_leave = on_output,
    .state = on_state,
    .done = on_done,
    .closed = on_closed,
    .parent = on_parent,
};

static void on_toplevel(void *data, struct zwlr_foreign_toplevel_manager_v1 *m,
                        struct zwlr_foreign_toplevel_handle_v1 *h)
{
    struct wl_src *w = data;
    struct top *t;

    if (m != w->mgr) { /* a manager being stopped (private mode): keep nothing */
        zwlr_foreign_toplevel_handle_v1_destroy(h);
        return;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        zwlr_foreign_toplevel_handle_v1_destroy(h);
        snprintf(w->st.last_error, sizeof(w->st.last_error), "wayland: out of memory");
        return;
    }
    t->h = h;
    t->w = w;
    t->next = w->tops;
    w->tops = t;
    zwlr_foreign_toplevel_handle_v1_add_listener(h, &top_listener, t);
}

static void on_finished(void *data, struct zwlr_foreign_toplevel_manager_v1 *m)
{
    struct wl_src *w = data;
    if (m == w->stopping) {
        w->stopping = NULL;
    }
    if (m == w->mgr) {
        w->mgr = NULL; /* the compositor dropped us: windows are no longer reported */
        snprintf(w->st.last_error, sizeof(w->st.last_error),
                 "wayland: the compositor stopped the toplevel manager");
    }
    zwlr_foreign_toplevel_manager_v1_destroy(m);
}

static const struct zwlr_foreign_toplevel_manager_v1_listener mgr_listener = {
    .toplevel = on_toplevel,
    .finished = on_finished,
};

/* ---- idle ---- */

static void idle_start(struct wl_src *w)
{
    int64_t m = stint_clock_mono_ms();
    w->is_idle = true;
    w->idle_since = m - w->idle_after;
    w->idle_wall = stint_clock_wall_ms() - w->idle_after;
    w->idle_pending = true;
    w->resumed_pending = false;
}

static void idle_end(struct wl_src *w)
{
    w->is_idle = false;
    w->resumed_at = stint_clock_mono_ms();
    w->resumed_pending = true;
    w->idle_pending = false;
}

static void on_ext_idled(void *data, struct ext_idle_notification_v1 *n)
{
    (void)n;
    idle_start(data);
}

static void on_ext_resumed(void *data, struct ext_idle_notification_v1 *n)
{
    (void)n;
    idle_end(data);
}

static const struct ext_idle_notification_v1_listener ext_listener = {
    .idled = on_ext_idled,
    .resumed = on_ext_resumed,
};

static void on_kde_idle(void *data, struct org_kde_kwin_idle_timeout *t)
{
    (void)t;
    idle_start(data);
}

static void on_kde_resumed(void *data, struct org_kde_kwin_idle_timeout *t)
{
    (void)t;
    idle_end(data);
}

static const struct org_kde_kwin_idle_timeout_listener kde_listener = {
    .idle = on_kde_idle,
    .resumed = on_kde_resumed,
};

/* (Re)makes the idle notification with the current timeout. */
static void idle_watch(struct wl_src *w)
{
    uint32_t ms = (uint32_t)w->idle_after;
    if (w->ext_n) {
        ext_idle_notification_v1_destroy(w->ext_n);
        w->ext_n = NULL;
    }
    if (w->kde_t) {
        org_kde_kwin_idle_timeout_release(w->kde_t);
        w->kde_t = NULL;
    }
    w->is_idle = false;
    w->idle_kind = IDLE_NONE;
    if (!w->seat) {
        return;
    }
    if (w->ext) {
        w->ext_n = ext_idle_notifier_v1_get_idle_notification(w->ext, ms, w->seat);
        ext_idle_notification_v1_add_listener(w->ext_n, &ext_listener, w);
        w->idle_kind = IDLE_EXT;
    } else if (w->kde) {
        w->kde_t = org_kde_kwin_idle_get_idle_timeout(w->kde, w->seat, ms);
        org_kde_kwin_idle_timeout_add_listener(w->kde_t, &kde_listener, w);
        w->idle_kind = IDLE_KDE;
    }
}

/* ---- the connection ---- */

static void on_global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
                      uint32_t version)
{
    struct wl_src *w = data;
    if (strcmp(iface, zwlr_foreign_toplevel_manager_v1_interface.name) == 0 && !w->mgr_name) {
        w->mgr_name = name;
        w->mgr_version = version < MGR_VERSION_MAX ? version : MGR_VERSION_MAX;
    } else if (strcmp(iface, wl_seat_interface.name) == 0 && !w->seat) {
        w->seat = wl_registry_bind(reg, name, &wl_seat_interface, 1);
    } else if (strcmp(iface, ext_idle_notifier_v1_interface.name) == 0 && !w->ext) {
        w->ext = wl_registry_bind(reg, name, &ext_idle_notifier_v1_interface, 1);
    } else if (strcmp(iface, org_kde_kwin_idle_interface.name) == 0 && !w->kde) {
        w->kde = wl_registry_bind(reg, name, &org_kde_kwin_idle_interface, 1);
    }
}

static void on_global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
    (void)data;
    (void)reg;
    (void)name;
}

static const struct wl_registry_listener reg_listener = {
    .global = on_global,
    .global_remove = on_global_remove,
};

static void bind_manager(struct wl_src *w)
{
    w->mgr = wl_registry_bind(w->reg, w->mgr_name, &zwlr_foreign_toplevel_manager_v1_interface,
                              w->mgr_version);
    zwlr_foreign_toplevel_manager_v1_add_listener(w->mgr, &mgr_listener, w);
}

static void set_detail(struct wl_src *w)
{
    static const char *const idle_names[] = {"none (the compositor offers no idle protocol)",
                                             "ext_idle_notifier_v1", "org_kde_kwin_idle"};
    if (w->gone) {
        snprintf(w->st.detail, sizeof(w->st.detail),
                 "wayland %s: no compositor, connecting again (try %llu)", w->name,
                 (unsigned long long)w->tries);
        return;
    }
    snprintf(w->st.detail, sizeof(w->st.detail),
             "wayland %s: zwlr_foreign_toplevel_manager_v1 v%u; idle: %s; pid: %s; "
             "reconnections: %llu",
             w->name, (unsigned)w->mgr_version, idle_names[w->idle_kind],
             w->ipc[0] ? "sway IPC" : "none (no sway IPC: path left empty)",
             (unsigned long long)w->losses);
}

/* Drops every proxy and the connection, sending nothing (it may be dead). */
static void disconnect(struct wl_src *w)
{
    while (w->tops) {
        struct top *t = w->tops;
        w->tops = t->next;
        top_free(t, false);
    }
    w->shown = NULL;
    w->shown_valid = false;
    if (w->ext_n) {
        wl_proxy_destroy((struct wl_proxy *)w->ext_n);
    }
    if (w->kde_t) {
        wl_proxy_destroy((struct wl_proxy *)w->kde_t);
    }
    struct wl_proxy *px[] = {(struct wl_proxy *)w->mgr,  (struct wl_proxy *)w->stopping,
                             (struct wl_proxy *)w->ext,  (struct wl_proxy *)w->kde,
                             (struct wl_proxy *)w->seat, (struct wl_proxy *)w->reg};
    for (size_t i = 0; i < sizeof(px) / sizeof(px[0]); i++) {
        if (px[i]) {
            wl_proxy_destroy(px[i]);
        }
    }
    w->ext_n = NULL;
    w->kde_t = NULL;
    w->mgr = NULL;
    w->stopping = NULL;
    w->ext = NULL;
    w->kde = NULL;
    w->seat = NULL;
    w->reg = NULL;
    if (w->d) {
        wl_display_disconnect(w->d);
        w->d = NULL;
    }
    w->mgr_name = 0;
    w->mgr_version = 0;
    w->idle_kind = IDLE_NONE;
    w->is_idle = false;
    w->none_due = 0;
    w->title_due = 0;
}

/* Finds sway's IPC socket: the compositor's own (sway names it sway-ipc.UID.PID.sock in
 * $XDG_RUNTIME_DIR; uid and pid are the Wayland socket's peer), so that a restarted sway is
 * found again whatever $SWAYSOCK says; else $SWAYSOCK; else none (another compositor). */
static void find_ipc(struct wl_src *w)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);
    const char *dir = getenv("XDG_RUNTIME_DIR"), *env = getenv("SWAYSOCK");

    w->ipc[0] = '\0';
    if (dir && getsockopt(wl_display_get_fd(w->d), SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
        snprintf(w->ipc, sizeof(w->ipc), "%s/sway-ipc.%u.%d.sock", dir, (unsigned)cr.uid,
                 (int)cr.pid) < (int)sizeof(w->ipc) &&
        access(w->ipc, F_OK) == 0) {
        return;
    }
    w->ipc[0] = '\0';
    if (env && strlen(env) < sizeof(w->ipc) && access(env, F_OK) == 0) {
        memcpy(w->ipc, env, strlen(env) + 1);
    }
}

/* Connects, lists the globals (one round trip), binds the manager and the idle notification.
 * STINT_EIO when there is no compositor, STINT_EUNSUPPORTED when it lacks the manager. */
static enum stint_err connect_display(struct wl_src *w, struct stint_error *e)
{
    if (w->name[0] != '/' && !getenv("XDG_RUNTIME_DIR")) {
        return stint_error_set(e, STINT_EIO, 0,
                               "wayland: XDG_RUNTIME_DIR is not set, so \"%s\" cannot be found",
                               w->name);
    }
    w->d = wl_display_connect(w->name);
    if (!w->d) {
        return stint_error_set(e, STINT_EIO, 0, "wayland: cannot connect to \"%s\": %s", w->name,
                               strerror(errno ? errno : ENOENT));
    }
    w->reg = wl_display_get_registry(w->d);
    wl_registry_add_listener(w->reg, &reg_listener, w);
    if (wl_display_roundtrip(w->d) < 0) {
        disconnect(w);
        return stint_error_set(e, STINT_EIO, 0, "wayland: \"%s\" hung up while listing its globals",
                               w->name);
    }
    if (!w->mgr_name) {
        disconnect(w);
        return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                               "wayland: the compositor at \"%s\" does not offer "
                               "zwlr_foreign_toplevel_manager_v1 (wlroots compositors do; GNOME "
                               "and KDE do not: see source = gnome in spec/AGENT.md)",
                               w->name);
    }
    find_ipc(w);
    if (w->capture) {
        bind_manager(w);
    }
    idle_watch(w);
    w->force = true;
    w->dirty = true;
    if (wl_display_flush(w->d) < 0 && errno != EAGAIN) {
        disconnect(w);
        return stint_error_set(e, STINT_EIO, 0, "wayland: \"%s\" hung up", w->name);
    }
    return STINT_OK;
}

/* ---- deciding what to report ---- */

static enum stint_err deliver(struct wl_src *w, const struct top *t)
{
    struct stint_sample s = {0};
    w->shown = t;
    w->shown_valid = true;
    w->none_due = 0;
    w->title_due = 0;
    if (t) {
        s.app = t->app ? t->app : "";
        s.title = t->title ? t->title : "";
        s.path = t->path ? t->path : "";
    } else {
        s.app = s.title = s.path = "";
    }
    s.app_len = strlen(s.app);
    s.title_len = strlen(s.title);
    s.path_len = strlen(s.path);
    w->st.items++;
    return w->base.sink.sample ? w->base.sink.sample(w->base.sink.ctx, &s, NULL) : STINT_OK;
}

static enum stint_err decide(struct wl_src *w, int64_t now)
{
    struct top *act = NULL;

    if (!w->capture || w->gone) {
        return STINT_OK;
    }
    for (struct top *t = w->tops; t; t = t->next) {
        if (t->activated) {
            act = t;
            break;
        }
    }
    if (!act) {
        if (w->shown_valid && !w->shown && !w->force) {
            return STINT_OK; /* nothing, as reported */
        }
        if (!w->none_due) {
            w->none_due = now + NONE_DELAY_MS;
        }
        if (now >= w->none_due) {
            w->force = false;
            return deliver(w, NULL);
        }
        return STINT_OK;
    }
    w->none_due = 0;
    if (w->force || !w->shown_valid || w->shown != act ||
        strcmp(w->shown_app, act->app ? act->app : "") != 0) {
        find_path(act);
        w->force = false;
    } else if (strcmp(w->shown_title, act->title ? act->title : "") != 0) {
        if (!w->title_due) {
            w->title_due = now + TITLE_DELAY_MS;
        }
        if (now < w->title_due) {
            return STINT_OK;
        }
    } else {
        w->title_due = 0; /* changed and changed back */
        return STINT_OK;
    }
    snprintf(w->shown_app, sizeof(w->shown_app), "%s", act->app ? act->app : "");
    snprintf(w->shown_title, sizeof(w->shown_title), "%s", act->title ? act->title : "");
    return deliver(w, act);
}

/* ---- the table ---- */

static void lose(struct wl_src *w, const char *why)
{
    disconnect(w);
    w->gone = true;
    w->losses++;
    w->tries = 0;
    w->retry_wait = RETRY_MIN_MS;
    w->retry_due = stint_clock_mono_ms() + w->retry_wait;
    snprintf(w->st.last_error, sizeof(w->st.last_error),
             "wayland: lost the compositor at \"%s\" (%s); connecting again", w->name, why);
    set_detail(w);
}

static enum stint_err try_reconnect(struct wl_src *w, int64_t now)
{
    struct stint_error e;
    enum stint_err err;

    if (!w->gone || now < w->retry_due) {
        return STINT_OK;
    }
    w->tries++;
    err = connect_display(w, &e);
    if (err != STINT_OK) {
        w->retry_wait = w->retry_wait * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : w->retry_wait * 2;
        w->retry_due = now + w->retry_wait;
        set_detail(w);
        return STINT_OK;
    }
    w->gone = false;
    w->retry_due = 0;
    snprintf(w->st.last_error, sizeof(w->st.last_error),
             "wayland: connected again to \"%s\" after %llu tries", w->name,
             (unsigned long long)w->tries);
    set_detail(w);
    return STINT_OK;
}

static enum stint_err w_dispatch(struct stint_source *s, const struct pollfd *fds, int n)
{
    struct wl_src *w = (struct wl_src *)s;
    enum stint_err err = STINT_OK;
    int64_t now;

    if (w->gone) {
        return try_reconnect(w, stint_clock_mono_ms());
    }
    if (n >= 1 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        bool ok = true;
        int er = 0;
        while (ok && wl_display_prepare_read(w->d) != 0) {
            ok = wl_display_dispatch_pending(w->d) >= 0; /* queued events first */
        }
        if (ok && wl_display_read_events(w->d) < 0 && errno != EAGAIN) {
            ok = false;
        }
        if (!ok) {
            er = wl_display_get_error(w->d);
            lose(w, strerror(er ? er : errno ? errno : EPIPE));
            if (w->capture) {
                deliver(w, NULL);
            }
            return STINT_EIO;
        }
    }
    if (wl_display_dispatch_pending(w->d) < 0 || wl_display_get_error(w->d)) {
        int er = wl_display_get_error(w->d);
        lose(w, strerror(er ? er : EPIPE));
        if (w->capture) {
            deliver(w, NULL);
        }
        return STINT_EIO;
    }
    now = stint_clock_mono_ms();
    if (w->idle_pending) {
        w->idle_pending = false;
        if (w->capture && w->base.sink.idle) {
            err = w->base.sink.idle(w->base.sink.ctx, w->idle_wall, NULL);
        }
    }
    if (w->resumed_pending) {
        w->resumed_pending = false;
        w->force = true; /* the tracker asks idle_ms on a sample while idle */
        w->dirty = true;
    }
    if (w->dirty || w->none_due || w->title_due) {
        w->dirty = false;
        enum stint_err e2 = decide(w, now);
        if (err == STINT_OK) {
            err = e2;
        }
    }
    wl_display_flush(w->d);
    return err;
}

static int w_fds(struct stint_source *s, struct pollfd *fds, int cap)
{
    struct wl_src *w = (struct wl_src *)s;
    if (cap < 1 || w->gone) {
        return 0;
    }
    wl_display_flush(w->d);
    fds[0] = (struct pollfd){.fd = wl_display_get_fd(w->d), .events = POLLIN};
    return 1;
}

static int64_t w_timeout(struct stint_source *s)
{
    struct wl_src *w = (struct wl_src *)s;
    int64_t due = 0, now = stint_clock_mono_ms();

    if (w->gone) {
        due = w->retry_due;
    } else {
        /* events read during a round trip wait in the queue, where poll cannot see them */
        if (wl_display_prepare_read(w->d) != 0) {
            return 0;
        }
        wl_display_cancel_read(w->d);
        if (w->dirty || w->idle_pending || w->resumed_pending) {
            return 0;
        }
        due = w->none_due;
        if (w->title_due && (!due || w->title_due < due)) {
            due = w->title_due;
        }
    }
    if (!due) {
        return -1;
    }
    return due > now ? due - now : 0;
}

static enum stint_err w_idle_ms(struct stint_source *s, int64_t *ms)
{
    struct wl_src *w = (struct wl_src *)s;
    int64_t now = stint_clock_mono_ms();

    if (w->gone || w->idle_kind == IDLE_NONE) {
        return STINT_EUNSUPPORTED;
    }
    if (w->is_idle) {
        *ms = now - w->idle_since;
    } else if (w->resumed_at && now - w->resumed_at < w->idle_after) {
        *ms = now - w->resumed_at;
    } else {
        *ms = 0;
    }
    return STINT_OK;
}

static enum stint_err w_resample(struct stint_source *s)
{
    struct wl_src *w = (struct wl_src *)s;
    if (w->gone) {
        return STINT_EIO;
    }
    w->force = true;
    return decide(w, stint_clock_mono_ms());
}

static void w_set_capture(struct stint_source *s, bool on)
{
    struct wl_src *w = (struct wl_src *)s;
    if (on == w->capture) {
        return;
    }
    w->capture = on;
    if (w->gone) {
        return;
    }
    if (!on) {
        /* forget every window and ask for no more: nothing about windows reaches us */
        while (w->tops) {
            struct top *t = w->tops;
            w->tops = t->next;
            top_free(t, true);
        }
        w->shown = NULL;
        w->shown_valid = false;
        w->none_due = 0;
        w->title_due = 0;
        if (w->mgr) {
            zwlr_foreign_toplevel_manager_v1_stop(w->mgr);
            if (w->stopping) { /* stopped before, never finished: let it go */
                zwlr_foreign_toplevel_manager_v1_destroy(w->stopping);
            }
            w->stopping = w->mgr; /* its proxy goes on `finished` (on_finished) */
            w->mgr = NULL;
        }
    } else if (w->mgr_name && !w->mgr) {
        bind_manager(w);
        w->force = true;
    }
    wl_display_flush(w->d);
}

static void w_set_idle_after(struct stint_source *s, int64_t ms)
{
    struct wl_src *w = (struct wl_src *)s;
    if (ms <= 0 || ms > UINT32_MAX || ms == w->idle_after) {
        return;
    }
    w->idle_after = ms;
    if (!w->gone) {
        idle_watch(w);
        set_detail(w);
        wl_display_flush(w->d);
    }
}

static void w_stats(struct stint_source *s, struct stint_source_stats *out)
{
    *out = ((struct wl_src *)s)->st;
}

static void w_destroy(struct stint_source *s)
{
    struct wl_src *w = (struct wl_src *)s;
    disconnect(w);
    free(w);
}

static const struct stint_source_ops wayland_ops = {
    .name = "wayland",
    .flags = STINT_SOURCE_LIVE,
    .fds = w_fds,
    .timeout = w_timeout,
    .dispatch = w_dispatch,
    .idle_ms = w_idle_ms,
    .resample = w_resample,
    .set_capture = w_set_capture,
    .set_idle_after = w_set_idle_after,
    .stats = w_stats,
    .destroy = w_destroy,
};

enum stint_err stint_source_wayland_open(const char *display, struct stint_source **out,
                                         struct stint_error *e)
{
    struct wl_src *w = NULL;
    enum stint_err err = STINT_OK;
    const char *name = display ? display : getenv("WAYLAND_DISPLAY");

    *out = NULL;
    stint_error_clear(e);
    if (!name || !name[0]) {
        return stint_error_set(e, STINT_EIO, 0, "wayland: WAYLAND_DISPLAY is not set");
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        return stint_error_set(e, STINT_ENOMEM, 0, "wayland: out of memory");
    }
    if (snprintf(w->name, sizeof(w->name), "%s", name) >= (int)sizeof(w->name)) {
        err = stint_error_set(e, STINT_EINVAL, 0, "wayland: display name too long");
        goto cleanup;
    }
    w->base.ops = &wayland_ops;
    w->capture = true;
    w->idle_after = IDLE_DEFAULT_MS;
    err = connect_display(w, e);
    if (err != STINT_OK) {
        goto cleanup;
    }
    set_detail(w);
    *out = &w->base;
    w = NULL;
cleanup:
    if (w) {
        w_destroy(&w->base);
    }
    return err;
}
