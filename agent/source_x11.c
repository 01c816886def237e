/* source_x11.c — what is in focus on an X display, and how long the user has been idle.
 *
 * Event-driven, never polling: the source selects PropertyChange on the root window and hears
 * _NET_ACTIVE_WINDOW change (maintained by any EWMH window manager); it then selects
 * PropertyChange on the active window alone, to hear its title change, and drops that selection
 * when the focus moves on. Without an EWMH window manager it falls back to the core input focus
 * (xcb_get_input_focus) and selects FocusChange on the focused window, whose FocusOut says the
 * focus moved. Idle time comes from the MIT-SCREEN-SAVER extension, asked only when the tracker
 * wants it. There is no keyboard or pointer capture of any kind: no RECORD, no XInput event
 * selection, no grabs; only properties of the focused window are read.
 *
 * A sample: title from _NET_WM_NAME (UTF8_STRING), else WM_NAME (STRING is ISO 8859-1,
 * COMPOUND_TEXT is converted by ctext.c, UTF8_STRING as is); app from WM_CLASS (the class, e.g.
 * "firefox", "XTerm"; the instance when there is no class); path from _NET_WM_PID through
 * /proc/PID/exe. Invalid UTF-8 and over-long values are the tracker's to repair and cut.
 *
 * A browser window whose title marks it private (Firefox's "Private Browsing") is handed on as
 * private_view, without title or path (stint_browser_private_title).
 *
 * In private mode (set_capture false) the source reads nothing about any window and drops its
 * selection on the focused one; when capture comes back the tracker asks for a fresh sample.
 *
 * Window managers clear _NET_ACTIVE_WINDOW for a moment while the focus moves between windows
 * (openbox for about 15 ms): "nothing in focus" is reported only when it lasts NONE_DELAY_MS,
 * so that such a moment does not become a record of its own. Likewise a title change is read
 * TITLE_DELAY_MS after its PropertyNotify: clients set WM_NAME and _NET_WM_NAME one after the
 * other (xdotool, GTK), and a title typed or scrolled letter by letter comes in bursts.
 *
 * xcb reads events into its own queue while it waits for replies, where poll() cannot see them;
 * timeout() looks into that queue and asks for an immediate dispatch when it is not empty.
 */
#define _GNU_SOURCE
#include "source.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xcb/screensaver.h>
#include <xcb/xcb.h>

#include "browser_merge.h"
#include "ctext.h"
#include "stint/record.h"
#include "common/clock.h"

#define NONE_DELAY_MS 250
#define TITLE_DELAY_MS 50

/* longest property read, in bytes (titles are cut to STINT_TITLE_MAX later) */
#define PROP_MAX (4 * STINT_TITLE_MAX)

enum { A_ACTIVE, A_NET_WM_NAME, A_UTF8, A_PID, A_CTEXT, N_ATOMS };
static const char *const atom_names[N_ATOMS] = {"_NET_ACTIVE_WINDOW", "_NET_WM_NAME", "UTF8_STRING",
                                                "_NET_WM_PID", "COMPOUND_TEXT"};

struct x11 {
    struct stint_source base;
    xcb_connection_t *c;
    xcb_window_t root, watched;
    xcb_atom_t atom[N_ATOMS];
    bool ewmh, capture, has_ss, ended;
    xcb_generic_event_t *stash; /* an event taken from xcb's queue by timeout() */
    int64_t none_due;           /* monotonic ms when "nothing in focus" is reported; 0: no */
    int64_t title_due;          /* monotonic ms when a changed title is read; 0: no */
    char *conv;                 /* conversion buffer */
    size_t conv_cap;
    struct stint_source_stats st;
};

static xcb_get_property_reply_t *get_prop(struct x11 *x, xcb_window_t w, xcb_atom_t prop)
{
    xcb_get_property_cookie_t ck =
        xcb_get_property(x->c, 0, w, prop, XCB_GET_PROPERTY_TYPE_ANY, 0, PROP_MAX / 4);
    return xcb_get_property_reply(x->c, ck, NULL);
}

static bool ensure_conv(struct x11 *x, size_t need)
{
    if (need > x->conv_cap) {
        char *p = realloc(x->conv, need);
        if (!p) {
            return false;
        }
        x->conv = p;
        x->conv_cap = need;
    }
    return true;
}

/* The title of w in UTF-8 (in x->conv); its length, 0 when none. */
static size_t read_title(struct x11 *x, xcb_window_t w)
{
    xcb_get_property_reply_t *r = get_prop(x, w, x->atom[A_NET_WM_NAME]);
    size_t n = 0;

    if (r && r->format == 8 && xcb_get_property_value_length(r) > 0) {
        int len = xcb_get_property_value_length(r);
        if (ensure_conv(x, (size_t)len + 1)) {
            memcpy(x->conv, xcb_get_property_value(r), (size_t)len);
            x->conv[len] = '\0';
            n = (size_t)len;
        }
        free(r);
        return n;
    }
    free(r);
    r = get_prop(x, w, XCB_ATOM_WM_NAME);
    if (r && r->format == 8 && xcb_get_property_value_length(r) > 0) {
        const char *v = xcb_get_property_value(r);
        size_t len = (size_t)xcb_get_property_value_length(r);
        if (ensure_conv(x, 4 * len + 4)) {
            if (r->type == x->atom[A_CTEXT]) {
                n = stint_ctext_to_utf8(v, len, x->conv, x->conv_cap);
            } else if (r->type == x->atom[A_UTF8]) {
                memcpy(x->conv, v, len);
                x->conv[len] = '\0';
                n = len;
            } else {
                n = stint_latin1_to_utf8(v, len, x->conv, x->conv_cap);
            }
        }
    }
    free(r);
    return n;
}

/* Walks up from the input focus to the first window with WM_CLASS (the client window). */
static xcb_window_t client_of(struct x11 *x, xcb_window_t w)
{
    for (int depth = 0; depth < 16 && w != XCB_NONE && w != x->root; depth++) {
        xcb_get_property_reply_t *r = get_prop(x, w, XCB_ATOM_WM_CLASS);
        bool has = r && xcb_get_property_value_length(r) > 0;
        free(r);
        if (has) {
            return w;
        }
        xcb_query_tree_reply_t *t = xcb_query_tree_reply(x->c, xcb_query_tree(x->c, w), NULL);
        if (!t) {
            return XCB_NONE;
        }
        w = t->parent;
        free(t);
    }
    return XCB_NONE;
}

static xcb_window_t focused(struct x11 *x)
{
    xcb_window_t w = XCB_NONE;
    if (x->ewmh) {
        xcb_get_property_reply_t *r = get_prop(x, x->root, x->atom[A_ACTIVE]);
        if (r && r->type == XCB_ATOM_WINDOW && r->format == 32 &&
            xcb_get_property_value_length(r) >= 4) {
            memcpy(&w, xcb_get_property_value(r), sizeof(w));
        } else if (!r || r->type == XCB_NONE) {
            x->ewmh = false; /* the window manager went away */
        }
        free(r);
        if (x->ewmh) {
            return w;
        }
    }
    xcb_get_input_focus_reply_t *f =
        xcb_get_input_focus_reply(x->c, xcb_get_input_focus(x->c), NULL);
    if (f) {
        w = f->focus;
        free(f);
    }
    if (w == XCB_NONE || w == XCB_INPUT_FOCUS_POINTER_ROOT) {
        return XCB_NONE;
    }
    return client_of(x, w);
}

static void watch(struct x11 *x, xcb_window_t w)
{
    if (w == x->watched) {
        return;
    }
    if (x->watched != XCB_NONE) {
        uint32_t none = XCB_EVENT_MASK_NO_EVENT;
        xcb_change_window_attributes(x->c, x->watched, XCB_CW_EVENT_MASK, &none);
    }
    x->watched = w;
    if (w != XCB_NONE) {
        uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
        if (!x->ewmh) {
            mask |= XCB_EVENT_MASK_FOCUS_CHANGE;
        }
        xcb_change_window_attributes(x->c, w, XCB_CW_EVENT_MASK, &mask);
    }
}

/* Reads what is in focus now and hands it to the sink. `settled`: report "nothing in focus" at
 * once rather than after NONE_DELAY_MS. */
static enum stint_err sample_now(struct x11 *x, bool settled)
{
    struct stint_sample s = {0};
    char app[STINT_APP_MAX + 1] = "", path[PATH_MAX] = "";
    char *title = NULL;
    xcb_window_t w;

    if (!x->capture) {
        return STINT_OK;
    }
    w = focused(x);
    if (w == XCB_NONE && !settled) {
        if (!x->none_due) {
            x->none_due = stint_clock_mono_ms() + NONE_DELAY_MS;
        }
        return STINT_OK;
    }
    x->none_due = 0;
    x->title_due = 0;
    watch(x, w);
    xcb_flush(x->c);
    if (w != XCB_NONE) {
        size_t tl = read_title(x, w);
        if (tl) {
            title = x->conv;
            s.title_len = tl;
        }
        xcb_get_property_reply_t *r = get_prop(x, w, XCB_ATOM_WM_CLASS);
        if (r && r->format == 8 && xcb_get_property_value_length(r) > 0) {
            /* "instance\0class\0": the class names the program */
            const char *v = xcb_get_property_value(r);
            size_t len = (size_t)xcb_get_property_value_length(r);
            size_t il = strnlen(v, len);
            const char *cls = il + 1 < len ? v + il + 1 : "";
            size_t cl = il + 1 < len ? strnlen(cls, len - il - 1) : 0;
            const char *pick = cl ? cls : v;
            size_t pl = cl ? cl : il;
            if (pl > STINT_APP_MAX) {
                pl = STINT_APP_MAX;
            }
            memcpy(app, pick, pl);
            app[pl] = '\0';
            s.app_len = pl;
        }
        free(r);
        r = get_prop(x, w, x->atom[A_PID]);
        if (r && r->type == XCB_ATOM_CARDINAL && r->format == 32 &&
            xcb_get_property_value_length(r) >= 4) {
            uint32_t pid;
            char link[64];
            memcpy(&pid, xcb_get_property_value(r), sizeof(pid));
            s.pid = (long)pid;
            snprintf(link, sizeof(link), "/proc/%u/exe", (unsigned)pid);
            ssize_t n = pid ? readlink(link, path, sizeof(path) - 1) : -1;
            if (n > 0) {
                path[n] = '\0';
                s.path_len = (size_t)n;
            }
        }
        free(r);
    }
    if (stint_browser_private_title(app, s.app_len, title ? title : "", s.title_len)) {
        /* a private browser window, known by its title: times only (spec/AGENT.md, 2d) */
        s.private_view = true;
        title = NULL;
        s.title_len = 0;
        path[0] = '\0';
        s.path_len = 0;
    }
    s.app = app;
    s.path = path;
    s.title = title ? title : "";
    x->st.items++;
    if (!x->base.sink.sample) {
        return STINT_OK;
    }
    return x->base.sink.sample(x->base.sink.ctx, &s, NULL);
}

static enum stint_err handle(struct x11 *x, xcb_generic_event_t *ev, bool *resample, bool *retitle)
{
    uint8_t type = ev->response_type & 0x7F;
    if (type == XCB_PROPERTY_NOTIFY) {
        xcb_property_notify_event_t *p = (xcb_property_notify_event_t *)ev;
        if (p->window == x->root && p->atom == x->atom[A_ACTIVE]) {
            x->ewmh = p->state == XCB_PROPERTY_NEW_VALUE;
            *resample = true;
        } else if (p->window == x->watched &&
                   (p->atom == x->atom[A_NET_WM_NAME] || p->atom == XCB_ATOM_WM_NAME ||
                    p->atom == XCB_ATOM_WM_CLASS)) {
            *retitle = true;
        }
    } else if (type == XCB_FOCUS_OUT || type == XCB_FOCUS_IN) {
        *resample = true;
    }
    /* errors (type 0) come from windows that went away between the event and the request */
    return STINT_OK;
}

static enum stint_err x_dispatch(struct stint_source *s, const struct pollfd *fds, int n)
{
    struct x11 *x = (struct x11 *)s;
    xcb_generic_event_t *ev;
    bool resample = false, retitle = false;
    int64_t now;

    (void)fds;
    (void)n;
    if (x->ended) {
        return STINT_OK;
    }
    if (x->stash) {
        handle(x, x->stash, &resample, &retitle);
        free(x->stash);
        x->stash = NULL;
    }
    while ((ev = xcb_poll_for_event(x->c)) != NULL) {
        handle(x, ev, &resample, &retitle);
        free(ev);
    }
    if (xcb_connection_has_error(x->c)) {
        x->ended = true;
        x->st.ended = true;
        snprintf(x->st.last_error, sizeof(x->st.last_error), "x11: the X connection is lost");
        return STINT_EIO;
    }
    now = stint_clock_mono_ms();
    if (retitle && !x->title_due) {
        x->title_due = now + TITLE_DELAY_MS;
    }
    if (!resample && x->title_due && now >= x->title_due) {
        return sample_now(x, false);
    }
    if (!resample && x->none_due && now >= x->none_due) {
        return sample_now(x, true);
    }
    /* many events in one go (a title typed letter by letter) make one sample */
    return resample ? sample_now(x, false) : STINT_OK;
}

static int x_fds(struct stint_source *s, struct pollfd *fds, int cap)
{
    struct x11 *x = (struct x11 *)s;
    if (cap < 1 || x->ended) {
        return 0;
    }
    fds[0] = (struct pollfd){.fd = xcb_get_file_descriptor(x->c), .events = POLLIN};
    return 1;
}

static int64_t x_timeout(struct stint_source *s)
{
    struct x11 *x = (struct x11 *)s;
    if (x->ended) {
        return -1;
    }
    if (!x->stash) {
        x->stash = xcb_poll_for_queued_event(x->c);
    }
    if (x->stash) {
        return 0;
    }
    if (x->none_due || x->title_due) {
        int64_t due = x->none_due && (!x->title_due || x->none_due < x->title_due) ? x->none_due
                                                                                   : x->title_due;
        int64_t left = due - stint_clock_mono_ms();
        return left > 0 ? left : 0;
    }
    return -1;
}

static enum stint_err x_idle_ms(struct stint_source *s, int64_t *ms)
{
    struct x11 *x = (struct x11 *)s;
    xcb_screensaver_query_info_reply_t *r;
    if (!x->has_ss || x->ended) {
        return STINT_EUNSUPPORTED;
    }
    r = xcb_screensaver_query_info_reply(x->c, xcb_screensaver_query_info(x->c, x->root), NULL);
    if (!r) {
        return STINT_EIO;
    }
    *ms = r->ms_since_user_input;
    free(r);
    return STINT_OK;
}

static enum stint_err x_resample(struct stint_source *s)
{
    struct x11 *x = (struct x11 *)s;
    return x->ended ? STINT_EIO : sample_now(x, true);
}

static void x_set_capture(struct stint_source *s, bool on)
{
    struct x11 *x = (struct x11 *)s;
    x->capture = on;
    if (!on) {
        watch(x, XCB_NONE);
        xcb_flush(x->c);
    }
}

static void x_stats(struct stint_source *s, struct stint_source_stats *out)
{
    *out = ((struct x11 *)s)->st;
}

static void x_destroy(struct stint_source *s)
{
    struct x11 *x = (struct x11 *)s;
    if (x->c) {
        xcb_disconnect(x->c);
    }
    free(x->stash);
    free(x->conv);
    free(x);
}

static const struct stint_source_ops x11_ops = {
    .name = "x11",
    .flags = STINT_SOURCE_LIVE,
    .fds = x_fds,
    .timeout = x_timeout,
    .dispatch = x_dispatch,
    .idle_ms = x_idle_ms,
    .resample = x_resample,
    .set_capture = x_set_capture,
    .stats = x_stats,
    .destroy = x_destroy,
};

enum stint_err stint_source_x11_open(const char *display, struct stint_source **out,
                                     struct stint_error *e)
{
    struct x11 *x = calloc(1, sizeof(*x));
    enum stint_err err = STINT_OK;
    xcb_intern_atom_cookie_t ck[N_ATOMS];
    int screen = 0;

    *out = NULL;
    stint_error_clear(e);
    if (!x) {
        return stint_error_set(e, STINT_ENOMEM, 0, "x11: out of memory");
    }
    x->base.ops = &x11_ops;
    x->capture = true;
    x->c = xcb_connect(display, &screen);
    if (xcb_connection_has_error(x->c)) {
        const char *d = display ? display : getenv("DISPLAY");
        err = stint_error_set(e, STINT_EIO, 0, "x11: cannot connect to display \"%s\"",
                              d ? d : "(DISPLAY is not set)");
        goto cleanup;
    }
    {
        xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(x->c));
        for (int i = 0; i < screen && it.rem; i++) {
            xcb_screen_next(&it);
        }
        if (!it.rem) {
            err = stint_error_set(e, STINT_EIO, 0, "x11: screen %d not found", screen);
            goto cleanup;
        }
        x->root = it.data->root;
    }
    for (int i = 0; i < N_ATOMS; i++) {
        ck[i] = xcb_intern_atom(x->c, 0, (uint16_t)strlen(atom_names[i]), atom_names[i]);
    }
    for (int i = 0; i < N_ATOMS; i++) {
        xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(x->c, ck[i], NULL);
        if (!r) {
            err = stint_error_set(e, STINT_EIO, 0, "x11: cannot intern %s", atom_names[i]);
            goto cleanup;
        }
        x->atom[i] = r->atom;
        free(r);
    }
    {
        const xcb_query_extension_reply_t *ext = xcb_get_extension_data(x->c, &xcb_screensaver_id);
        x->has_ss = ext && ext->present;
    }
    {
        uint32_t mask = XCB_EVENT_MASK_PROPERTY_CHANGE;
        xcb_change_window_attributes(x->c, x->root, XCB_CW_EVENT_MASK, &mask);
        xcb_get_property_reply_t *r = get_prop(x, x->root, x->atom[A_ACTIVE]);
        x->ewmh = r && r->type == XCB_ATOM_WINDOW;
        free(r);
    }
    xcb_flush(x->c);
    *out = &x->base;
    x = NULL;
cleanup:
    if (x) {
        x_destroy(&x->base);
    }
    return err;
}
