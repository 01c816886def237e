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
 *
 * Windows the extension cannot see. Chromium does not show an extension its incognito windows
 * unless the user allows it ("Allow in Incognito"), and nothing in X11 tells an incognito
 * window apart (same WM_CLASS, role and title format; measured with Chromium 156). What the
 * extension does say is that none of the windows it sees has the focus (a blur) while the
 * window source shows a window of that browser's pid. So a browser's window is handed on only
 * when the browser's report agrees with it (the browser has the focus, and its tab's title is
 * in the window title, or its window is private); otherwise the sample is held until the
 * browser's next report, at most HOLD_MS: a focus report releases it with the URL, a blur (or
 * the browser still blurred at the deadline) makes it private. Likewise a blur of the browser
 * whose window is in focus, with no other window sampled within HOLD_MS, turns that spell
 * private from the blur. The record starts at the sample's time either way (the held time is
 * handed to the tracker), so holding shifts nothing; it only delays the decision. Firefox
 * private windows are also known by their title (stint_browser_private_title), which the
 * window sources check themselves.
 */
#define _GNU_SOURCE /* clock_gettime */
#include "browser_merge.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stint/record.h"
#include "common/clock.h"

/* How long a browser window waits for its browser's report (module comment). Reports come
 * within tens of ms of the focus change; a loaded machine may need a second. */
#define HOLD_MS 3000

enum hold { HOLD_NONE, HOLD_SAMPLE, HOLD_BLUR };

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
    bool win_private; /* the window source says: a private window */
    struct browser b[STINT_BROWSER_MERGE_MAX];
    int n;
    /* a decision waiting for a browser's report (module comment) */
    enum hold hold;
    long hold_pid;
    int64_t hold_ms;  /* when the record starts: the item's time, or wall ms for live sources */
    int64_t hold_due; /* deadline: event ms (event-timed) or monotonic ms (live) */
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

static struct browser *find(struct stint_browser_merge *m, long pid)
{
    for (int i = 0; i < m->n; i++) {
        if (pid > 0 && m->b[i].pid == pid)
            return &m->b[i];
    }
    return NULL;
}

static bool ends_with(const char *s, size_t len, const char *tail)
{
    size_t tl = strlen(tail);
    return len >= tl && memcmp(s + len - tl, tail, tl) == 0;
}

bool stint_browser_private_title(const char *app, size_t app_len, const char *title,
                                 size_t title_len)
{
    char a[64];
    size_t al = app_len < sizeof(a) - 1 ? app_len : sizeof(a) - 1;

    if (!app || !title)
        return false;
    for (size_t i = 0; i < al; i++)
        a[i] = (char)(app[i] >= 'A' && app[i] <= 'Z' ? app[i] - 'A' + 'a' : app[i]);
    a[al] = '\0';
    /* Firefox: "Mozilla Firefox Private Browsing", "Page — Mozilla Firefox Private Browsing" */
    if (strstr(a, "firefox") && ends_with(title, title_len, "Private Browsing"))
        return true;
    /* Chrome and Chromium builds that mark the title */
    if ((strstr(a, "chrom") || strstr(a, "brave")) && ends_with(title, title_len, "(Incognito)"))
        return true;
    return false;
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
                           const struct stint_source_pos *pos, bool resent, bool unseen)
{
    const struct browser *b = unseen ? NULL : owner(m);
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
    if (unseen || m->win_private) {
        /* a window its browser cannot see, or a private one by its title: times only */
        s.private_view = true;
        m->st.unseen += unseen;
    }
    if (resent)
        m->st.resent++;
    return m->to.sample(m->to.ctx, &s, pos);
}

/* The browser's last report agrees with the remembered window (module comment). */
static bool agrees(const struct stint_browser_merge *m, const struct browser *b)
{
    return b->focus && (b->is_private || !b->title[0] || strstr(m->title, b->title));
}

/* Starts waiting for browser pid's report about what started at item_ms (0: now). */
static void hold(struct stint_browser_merge *m, enum hold kind, long pid, int64_t item_ms)
{
    m->hold = kind;
    m->hold_pid = pid;
    if (m->event_time) {
        m->hold_ms = item_ms;
        m->hold_due = item_ms + HOLD_MS;
    } else {
        m->hold_ms = stint_clock_wall_ms();
        m->hold_due = stint_clock_mono_ms() + HOLD_MS;
    }
    m->st.held++;
}

/* Ends a wait: the held window is handed on, with its browser's URL when the browser has the
 * focus, private when it does not (a blur, or gone). */
static enum stint_err decide(struct stint_browser_merge *m)
{
    const struct browser *b = find(m, m->hold_pid);
    enum hold kind = m->hold;
    bool seen = b && b->focus;

    m->hold = HOLD_NONE;
    if (kind == HOLD_SAMPLE)
        return emit(m, m->hold_ms, NULL, false, !seen);
    if (kind == HOLD_BLUR && !seen)
        return emit(m, m->hold_ms, NULL, true, true);
    return STINT_OK;
}

/* Decides a wait whose deadline an event-timed item at item_ms has passed. */
static enum stint_err overdue(struct stint_browser_merge *m, int64_t item_ms)
{
    if (m->hold != HOLD_NONE && m->event_time && item_ms > m->hold_due)
        return decide(m);
    return STINT_OK;
}

static enum stint_err on_sample(void *ctx, const struct stint_sample *s,
                                const struct stint_source_pos *pos)
{
    struct stint_browser_merge *m = ctx;
    const struct browser *b;
    enum stint_err err = overdue(m, s->time_ms);

    if (err != STINT_OK)
        return err;
    if (m->hold == HOLD_SAMPLE && s->pid > 0 && s->pid == m->hold_pid) {
        /* the same browser again (a retitle) while its report is awaited: keep waiting,
         * from the first sample's time */
    } else if (m->hold == HOLD_SAMPLE) {
        err = decide(m);
        if (err != STINT_OK)
            return err;
    } else {
        m->hold = HOLD_NONE; /* a blur followed by another window: the user moved on */
    }
    copy_str(m->app, sizeof(m->app), s->app, s->app_len);
    copy_str(m->path, sizeof(m->path), s->path, s->path_len);
    copy_str(m->title, sizeof(m->title), s->title, s->title_len);
    copy_str(m->url, sizeof(m->url), s->url, s->url_len);
    m->win_pid = s->pid;
    m->win_private = s->private_view;
    m->title_owner = 0; /* another sample: matched afresh */
    m->has_window = true;
    if (m->hold == HOLD_SAMPLE)
        return STINT_OK;
    b = find(m, s->pid);
    if (b && !s->private_view && !agrees(m, b)) {
        hold(m, HOLD_SAMPLE, b->pid, s->time_ms);
        return STINT_OK;
    }
    return emit(m, s->time_ms, pos, false, false);
}

/* idle, private mode and bad input pass straight through */
static enum stint_err on_idle(void *ctx, int64_t since_ms, const struct stint_source_pos *pos)
{
    struct stint_browser_merge *m = ctx;
    enum stint_err err = m->hold != HOLD_NONE ? decide(m) : STINT_OK;
    return err != STINT_OK ? err : m->to.idle(m->to.ctx, since_ms, pos);
}

static enum stint_err on_private(void *ctx, bool on, int64_t time_ms,
                                 const struct stint_source_pos *pos)
{
    struct stint_browser_merge *m = ctx;
    enum stint_err err = m->hold != HOLD_NONE ? decide(m) : STINT_OK;
    return err != STINT_OK ? err : m->to.private_mode(m->to.ctx, on, time_ms, pos);
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

/* The browser reporting with pid, added (forgetting the one heard from least recently) if new. */
static struct browser *take(struct stint_browser_merge *m, long pid)
{
    struct browser *b = NULL;

    for (int i = 0; i < m->n; i++) {
        if (m->b[i].pid == pid)
            b = &m->b[i];
    }
    if (b)
        return b;
    if (m->n == STINT_BROWSER_MERGE_MAX) {
        int oldest = 0;
        for (int i = 1; i < m->n; i++) {
            if (m->b[i].seen_ms < m->b[oldest].seen_ms)
                oldest = i;
        }
        if (m->hold != HOLD_NONE && m->b[oldest].pid == m->hold_pid)
            m->hold_pid = 0; /* gone: the wait ends private */
        m->b[oldest] = m->b[--m->n];
    }
    b = &m->b[m->n++];
    memset(b, 0, sizeof(*b));
    b->pid = pid;
    return b;
}

enum stint_err stint_browser_merge_event(struct stint_browser_merge *m,
                                         const struct stint_browser_event *ev)
{
    struct browser *b;
    const struct browser *before, *after;
    bool changed;
    enum stint_err err = overdue(m, ev->time_ms);

    if (err != STINT_OK)
        return err;
    before = m->has_window && m->hold != HOLD_SAMPLE ? owner(m) : NULL;
    b = take(m, ev->pid);
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
    if (m->hold == HOLD_SAMPLE && m->hold_pid == b->pid)
        return decide(m); /* the report the held window waited for */
    if (m->hold == HOLD_BLUR && m->hold_pid == b->pid && ev->focus)
        m->hold = HOLD_NONE; /* the browser has the focus again */
    if (m->hold == HOLD_SAMPLE)
        return STINT_OK;
    after = owner(m);
    /* the window in focus is this browser's and its tab changed (or it became its window): the
     * record splits here */
    if (after == b && (changed || before != after))
        return emit(m, m->event_time ? ev->time_ms : 0, NULL, true, false);
    /* the browser whose window is in focus sees none of its windows focused: either the user
     * is moving to another program (its sample follows) or to a window the extension cannot
     * see; wait to know which */
    if (before == b && !ev->focus && m->win_pid > 0 && m->win_pid == b->pid)
        hold(m, HOLD_BLUR, b->pid, ev->time_ms);
    return STINT_OK;
}

int64_t stint_browser_merge_timeout(const struct stint_browser_merge *m)
{
    int64_t left;

    if (!m || m->hold == HOLD_NONE || m->event_time)
        return -1;
    left = m->hold_due - stint_clock_mono_ms();
    return left > 0 ? left : 0;
}

enum stint_err stint_browser_merge_tick(struct stint_browser_merge *m)
{
    if (stint_browser_merge_timeout(m) != 0)
        return STINT_OK;
    return decide(m);
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
