/* browser_merge.c — attaching the browser's URL to the window source's records (browser_merge.h).
 *
 * Two sources describe the same moment: the window source knows which window has the focus
 * (and its pid), the extension knows which tab is in front in which browser. Neither can wait
 * for the other, so the merger keeps the last of each: the last window sample (copied, since a
 * sample is only borrowed for the call) and each browser's last report. Every change on either
 * side hands the tracker one merged sample, and the tracker does what it always does: a sample
 * with other content closes the open record and opens a new one, the same content extends it.
 * The URL cut (url_mode) stays the tracker's, so it applies before anything is journaled.
 *
 * A private window's report reaches here with its url and title already blanked (the host
 * blanks them); the merged sample is marked private_view and the tracker stores kind private
 * with times only. A browser whose last report is a blur matches no window: what is in focus is
 * then another program, and the window source says which.
 */
#define _GNU_SOURCE /* clock_gettime */
#include "browser_merge.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stint/record.h"
#include "common/clock.h"

struct browser {
    long pid;
    bool focus, is_private;
    int64_t time_ms, seen_ms;
    char url[STINT_URL_MAX + 1];
    char title[STINT_TITLE_MAX + 1];
};

struct stint_browser_merge {
    struct stint_sink to;   /* the tracker */
    struct stint_sink sink; /* what the window source calls */
    bool event_time;
    bool has_window;
    long win_pid;
    long title_owner; /* pid of the browser matched to this pid-less window by its title */
    char app[STINT_APP_MAX + 1], path[STINT_PATH_MAX + 1], title[STINT_TITLE_MAX + 1];
    char url[STINT_URL_MAX + 1];
    struct browser b[STINT_BROWSER_MERGE_MAX];
    int n;
    struct stint_browser_merge_stats st;
};

static void copy_str(char *dst, size_t cap, const char *s, size_t len)
{
    if (!s)
        len = 0;
    if (len > cap - 1)
        len = cap - 1; /* stint_record_set repairs a split character */
    if (len)
        memcpy(dst, s, len);
    dst[len] = '\0';
}

/* The browser the remembered window belongs to, or NULL. */
static const struct browser *owner(const struct stint_browser_merge *m)
{
    for (int i = 0; i < m->n; i++) {
        const struct browser *b = &m->b[i];
        if (m->win_pid > 0 && b->pid == m->win_pid)
            return b->focus ? b : NULL;
    }
    if (m->win_pid > 0)
        return NULL; /* a pid that no browser reported: not a browser window */
    /* no pid (a source without one): the browser already matched to this window keeps it while
     * it reports other tabs (the window is retitled after the report); otherwise a focused
     * browser whose tab title is in the window's */
    for (int i = 0; i < m->n; i++) {
        const struct browser *b = &m->b[i];
        if (m->title_owner && b->pid == m->title_owner)
            return b->focus ? b : NULL;
    }
    for (int i = 0; i < m->n; i++) {
        const struct browser *b = &m->b[i];
        if (b->focus && !b->is_private && b->title[0] && strstr(m->title, b->title))
            return b;
    }
    return NULL;
}

/* Hands the tracker the remembered window, merged with its browser's tab. */
static enum stint_err emit(struct stint_browser_merge *m, int64_t time_ms,
                           const struct stint_source_pos *pos, bool resent)
{
    const struct browser *b = owner(m);
    struct stint_sample s = {0};

    s.time_ms = time_ms;
    s.pid = m->win_pid;
    s.app = m->app;
    s.app_len = strlen(m->app);
    s.path = m->path;
    s.path_len = strlen(m->path);
    s.title = m->title;
    s.title_len = strlen(m->title);
    s.url = m->url;
    s.url_len = strlen(m->url);
    if (b) {
        if (m->win_pid <= 0)
            m->title_owner = b->pid;
        m->st.matched++;
        s.url = b->url;
        s.url_len = strlen(b->url);
        s.private_view = b->is_private;
    }
    if (resent)
        m->st.resent++;
    return m->to.sample(m->to.ctx, &s, pos);
}

static enum stint_err on_sample(void *ctx, const struct stint_sample *s,
                                const struct stint_source_pos *pos)
{
    struct stint_browser_merge *m = ctx;

    copy_str(m->app, sizeof(m->app), s->app, s->app_len);
    copy_str(m->path, sizeof(m->path), s->path, s->path_len);
    copy_str(m->title, sizeof(m->title), s->title, s->title_len);
    copy_str(m->url, sizeof(m->url), s->url, s->url_len);
    m->win_pid = s->pid;
    m->title_owner = 0; /* another sample: matched afresh */
    m->has_window = true;
    return emit(m, s->time_ms, pos, false);
}

/* idle, private mode and bad input pass straight through */
static enum stint_err on_idle(void *ctx, int64_t since_ms, const struct stint_source_pos *pos)
{
    struct stint_browser_merge *m = ctx;
    return m->to.idle(m->to.ctx, since_ms, pos);
}

static enum stint_err on_private(void *ctx, bool on, int64_t time_ms,
                                 const struct stint_source_pos *pos)
{
    struct stint_browser_merge *m = ctx;
    return m->to.private_mode(m->to.ctx, on, time_ms, pos);
}

static void on_bad(void *ctx, uint64_t line, const char *msg)
{
    struct stint_browser_merge *m = ctx;
    if (m->to.bad_input)
        m->to.bad_input(m->to.ctx, line, msg);
}

enum stint_err stint_browser_merge_create(const struct stint_sink *to, bool event_time,
                                          struct stint_browser_merge **out, struct stint_error *e)
{
    struct stint_browser_merge *m;

    *out = NULL;
    if (!to || !to->sample || !to->idle || !to->private_mode)
        return stint_error_set(e, STINT_EINVAL, 0, "browser merge: no tracker sink");
    m = calloc(1, sizeof(*m));
    if (!m)
        return stint_error_set(e, STINT_ENOMEM, 0, "browser merge: out of memory");
    m->to = *to;
    m->event_time = event_time;
    m->sink.ctx = m;
    m->sink.sample = on_sample;
    m->sink.idle = on_idle;
    m->sink.private_mode = on_private;
    m->sink.bad_input = on_bad;
    *out = m;
    return STINT_OK;
}

const struct stint_sink *stint_browser_merge_sink(struct stint_browser_merge *m)
{
    return &m->sink;
}

enum stint_err stint_browser_merge_event(struct stint_browser_merge *m,
                                         const struct stint_browser_event *ev)
{
    struct browser *b = NULL;
    const struct browser *before, *after;
    bool changed;

    before = m->has_window ? owner(m) : NULL;
    for (int i = 0; i < m->n; i++) {
        if (m->b[i].pid == ev->pid)
            b = &m->b[i];
    }
    if (!b) {
        if (m->n == STINT_BROWSER_MERGE_MAX) {
            /* forget the browser heard from least recently */
            int oldest = 0;
            for (int i = 1; i < m->n; i++) {
                if (m->b[i].seen_ms < m->b[oldest].seen_ms)
                    oldest = i;
            }
            m->b[oldest] = m->b[--m->n];
        }
        b = &m->b[m->n++];
        memset(b, 0, sizeof(*b));
        b->pid = ev->pid;
    }
    changed = b->focus != ev->focus || b->is_private != ev->is_private ||
              strcmp(b->url, ev->url ? ev->url : "") != 0;
    b->focus = ev->focus;
    b->time_ms = ev->time_ms;
    b->seen_ms = stint_clock_wall_ms();
    if (ev->focus) {
        b->is_private = ev->is_private;
        copy_str(b->url, sizeof(b->url), ev->url, ev->url ? strlen(ev->url) : 0);
        copy_str(b->title, sizeof(b->title), ev->title, ev->title ? strlen(ev->title) : 0);
    }
    m->st.events++;
    if (!m->has_window)
        return STINT_OK;
    after = owner(m);
    /* the window in focus is this browser's and its tab changed (or it became its window): the
     * record splits here */
    if (after == b && (changed || before != after))
        return emit(m, m->event_time ? ev->time_ms : 0, NULL, true);
    return STINT_OK;
}

void stint_browser_merge_stats(const struct stint_browser_merge *m,
                               struct stint_browser_merge_stats *out)
{
    *out = m->st;
    out->browsers = m->n;
    for (int i = 0; i < m->n; i++) {
        out->pids[i] = m->b[i].pid;
        out->last_event_ms[i] = m->b[i].seen_ms;
    }
}

void stint_browser_merge_destroy(struct stint_browser_merge *m)
{
    free(m);
}
