/* source.c — the thin layer over a source's callback table (source.h) and the choice of source
 * by its config name. Each source lives in its own file (source_jsonl.c, source_x11.c,
 * source_wayland.c, source_gnome.c).
 *
 * "auto" (the default) picks the desktop's own way of telling what is in focus: a Wayland
 * session hides other clients' windows from X11 (an X11 client sees Xwayland windows only), so
 * Wayland comes first, then the D-Bus helper of GNOME and KDE, and X11 last. Each refusal is
 * kept, so that the final error says what was tried and why each failed. */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum stint_err open_auto(struct stint_source **out, struct stint_error *e)
{
    char why[3][120] = {"", "", ""};
    const char *wl = getenv("WAYLAND_DISPLAY"), *x = getenv("DISPLAY");
    enum stint_err err;

    if (wl && wl[0]) {
        err = stint_source_wayland_open(NULL, out, e);
        if (err == STINT_OK) {
            return err;
        }
        snprintf(why[0], sizeof(why[0]), "%.119s", e->msg);
    } else {
        snprintf(why[0], sizeof(why[0]), "wayland: WAYLAND_DISPLAY is not set");
    }
    if (stint_source_gnome_present()) {
        err = stint_source_gnome_open(out, e);
        if (err == STINT_OK) {
            return err;
        }
        snprintf(why[1], sizeof(why[1]), "%.119s", e->msg);
    } else {
        snprintf(why[1], sizeof(why[1]), "gnome: no org.stint.Desktop on the session bus");
    }
    if (x && x[0]) {
        err = stint_source_x11_open(NULL, out, e);
        if (err == STINT_OK) {
            return err;
        }
        snprintf(why[2], sizeof(why[2]), "%.119s", e->msg);
    } else {
        snprintf(why[2], sizeof(why[2]), "x11: DISPLAY is not set");
    }
    return stint_error_set(e, STINT_EIO, 0,
                           "source auto: no desktop to watch (%.80s; %.70s; %.60s)", why[0], why[1],
                           why[2]);
}

enum stint_err stint_source_open(const char *spec, struct stint_source **out, struct stint_error *e)
{
    *out = NULL;
    if (strcmp(spec, "auto") == 0) {
        return open_auto(out, e);
    }
    if (strcmp(spec, "wayland") == 0) {
        return stint_source_wayland_open(NULL, out, e);
    }
    if (strcmp(spec, "gnome") == 0) {
        return stint_source_gnome_open(out, e);
    }
    if (strcmp(spec, "x11") == 0) {
        return stint_source_x11_open(NULL, out, e);
    }
    if (strcmp(spec, "stdin") == 0) {
        return stint_source_jsonl_open(NULL, out, e);
    }
    if (strncmp(spec, "jsonl:", 6) == 0 && spec[6]) {
        return stint_source_jsonl_open(spec + 6, out, e);
    }
    return stint_error_set(e, STINT_EINVAL, 0,
                           "source \"%.100s\": not auto, wayland, gnome, x11, stdin or jsonl:PATH",
                           spec);
}

#ifndef STINT_HAVE_X11
enum stint_err stint_source_x11_open(const char *display, struct stint_source **out,
                                     struct stint_error *e)
{
    (void)display;
    *out = NULL;
    return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                           "source x11: this stintd was built without xcb");
}
#endif

#ifndef STINT_HAVE_WAYLAND
enum stint_err stint_source_wayland_open(const char *display, struct stint_source **out,
                                         struct stint_error *e)
{
    (void)display;
    *out = NULL;
    return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                           "source wayland: this stintd was built without libwayland-client");
}
#endif

#ifndef STINT_HAVE_SDBUS
enum stint_err stint_source_gnome_open(struct stint_source **out, struct stint_error *e)
{
    *out = NULL;
    return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                           "source gnome: this stintd was built without libsystemd (sd-bus)");
}

bool stint_source_gnome_present(void)
{
    return false;
}
#endif

void stint_source_set_sink(struct stint_source *s, const struct stint_sink *sink)
{
    s->sink = *sink;
}

unsigned stint_source_flags(const struct stint_source *s)
{
    return s->ops->flags;
}

const char *stint_source_name(const struct stint_source *s)
{
    return s->ops->name;
}

int stint_source_fds(struct stint_source *s, struct pollfd *fds, int cap)
{
    return s->ops->fds ? s->ops->fds(s, fds, cap) : 0;
}

int64_t stint_source_timeout(struct stint_source *s)
{
    return s->ops->timeout ? s->ops->timeout(s) : -1;
}

enum stint_err stint_source_dispatch(struct stint_source *s, const struct pollfd *fds, int n)
{
    return s->ops->dispatch ? s->ops->dispatch(s, fds, n) : STINT_OK;
}

enum stint_err stint_source_idle_ms(struct stint_source *s, int64_t *ms)
{
    *ms = 0;
    return s->ops->idle_ms ? s->ops->idle_ms(s, ms) : STINT_EUNSUPPORTED;
}

enum stint_err stint_source_resample(struct stint_source *s)
{
    return s->ops->resample ? s->ops->resample(s) : STINT_EUNSUPPORTED;
}

void stint_source_set_capture(struct stint_source *s, bool on)
{
    if (s->ops->set_capture) {
        s->ops->set_capture(s, on);
    }
}

void stint_source_set_idle_after(struct stint_source *s, int64_t ms)
{
    if (s->ops->set_idle_after) {
        s->ops->set_idle_after(s, ms);
    }
}

enum stint_err stint_source_seek(struct stint_source *s, const void *pos, size_t len)
{
    return s->ops->seek ? s->ops->seek(s, pos, len) : STINT_EUNSUPPORTED;
}

void stint_source_stats(struct stint_source *s, struct stint_source_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (s->ops->stats) {
        s->ops->stats(s, out);
    }
}

void stint_source_destroy(struct stint_source *s)
{
    if (s) {
        s->ops->destroy(s);
    }
}
