/* tracker.c — samples and events in, records out (rules: tracker.h, spec/AGENT.md).
 *
 * State: the open record (at most one), what the source last said is in focus (live sources:
 * kept while idle, so that the record can open again when input comes back), idle and private
 * flags, and a floor: the latest record boundary written. Every boundary is clamped to the
 * floor, which is how a wall clock that steps back can never make a record end before it began
 * or start before the previous one ended. A record whose end equals its start is not written.
 *
 * Closed records go to a small pending list and are appended to the journal at the end of each
 * entry point, in one write. When the journal cannot take them (a full disk), what happens
 * depends on whether the source can be read again (spec/AGENT.md, "Backpressure"):
 *   - a resumable source (a JSONL file) is rewound: the tracker forgets everything after the
 *     position stored with the last append (exactly as a restart would), hands that position back
 *     to the source, and stops reading it (stint_tracker_source_paused) until the retry timer;
 *     then the same events are read again, so nothing is lost, however long the disk stays full;
 *   - any other source (X11, stdin) keeps the closed records in the pending list, retried by the
 *     timer; past PENDING_MAX the oldest are dropped, counted, and remembered as one span, which
 *     becomes a `gap` record (start and end of the dropped span, how many) in front of the rest
 *     once the journal takes records again.
 *
 * Live clocks. Each entry point first reads wall, monotonic and boot time and compares them with
 * the previous reading: boot running ahead of monotonic by more than STINT_TRACKER_JUMP_MS means
 * the machine slept that long; wall moving otherwise than boot by more than that means the clock
 * was set. Either way the open record ends where the old timeline says "now" (the previous wall
 * reading plus the awake time since: for a suspend, that is when the sleep began, counting the
 * awake time as before it) and the same thing opens again at the new wall time. Idle is asked of
 * the source (MIT-SCREEN-SAVER for x11) only when it can be due: at last input + idle_after, and
 * every idle_poll while idle.
 *
 * Event-timed sources. No clock: times come from the items, clamped to the floor. Resumable
 * sources hand a position with each item; the position of the item that established the current
 * state (opened the open record, or turned private mode on with nothing to open) is stored with
 * every append, in the same LevelDB write as the records, as the meta value
 *     floor (8 bytes, big-endian Unix ms) || the source's position
 * (the floor too, because re-reading an item must clamp its time as it was clamped before). After
 * kill -9 the source restarts at that item: re-reading it opens the open record again with its own
 * time, and the items after it had produced no records (or their records would have been appended
 * with a later position), so nothing is repeated or skipped. Private mode is written to the journal
 * after the append that carries the toggling item's position, so a crash between the two re-applies
 * the toggle.
 */
#define _GNU_SOURCE
#include "tracker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "common/clock.h"

#include "browser_merge.h"

#define PENDING_MAX 256
#define RETRY_MS 5000

struct stint_tracker {
    struct stint_journal *journal;
    struct stint_source *source;
    struct stint_clock clk;
    bool real_clock;
    int64_t idle_after, checkpoint_every, idle_poll;
    bool private_records;
    enum stint_url_mode url_mode;
    const struct stint_filters *filters;
    bool event_time, resumable, live;
    char pos_key[64];
    struct stint_sink sink;
    void (*on_bad_input)(void *ctx, uint64_t line, const char *msg);
    void *on_bad_input_ctx;

    struct stint_record *open, *focus, *tmp;
    bool has_open, has_focus, idle, private_mode, need_private_open;
    int64_t floor_ms, last_item_ms, last_input_ms;

    bool have_prev;
    int64_t prev_wall, prev_mono, prev_boot;
    int64_t next_checkpoint, next_idle, next_retry; /* monotonic ms; -1: none */

    struct stint_record *pending;
    size_t n_pending, cap_pending;
    bool failing;               /* the last append failed; appends wait for next_retry */
    bool batching;              /* inside stint_tracker_batch_begin/end: appends are grouped */
    int64_t high_item_ms;       /* event-timed: the latest item time read (a rewind keeps it) */
    bool rewind, paused;        /* resumable: rewind due / source paused until next_retry */
    uint64_t gap_count;         /* records dropped from the pending list, not yet in a gap */
    int64_t gap_start, gap_end; /* the span they covered */
    uint8_t saved_meta[8 + STINT_SOURCE_POS_MAX]; /* resumable: the meta of the last append */
    size_t saved_len;

    uint8_t cur_pos[STINT_SOURCE_POS_MAX], resume_pos[STINT_SOURCE_POS_MAX];
    uint8_t meta[8 + STINT_SOURCE_POS_MAX];
    size_t cur_pos_len, resume_pos_len;
    bool has_cur_pos, has_resume_pos, pos_dirty;

    char *scratch;
    size_t scratch_cap;
    int tfd;

    struct stint_tracker_status st;
};

/* ---- clocks ---- */

static int64_t now_wall(struct stint_tracker *t)
{
    return t->clk.wall_ms ? t->clk.wall_ms(t->clk.ctx) : stint_clock_wall_ms();
}

static int64_t now_mono(struct stint_tracker *t)
{
    return t->clk.mono_ms ? t->clk.mono_ms(t->clk.ctx) : stint_clock_mono_ms();
}

static int64_t now_boot(struct stint_tracker *t)
{
    return t->clk.boot_ms ? t->clk.boot_ms(t->clk.ctx) : stint_clock_boot_ms();
}

static void set_error(struct stint_tracker *t, const char *msg)
{
    snprintf(t->st.last_error, sizeof(t->st.last_error), "%s", msg);
}

/* ---- records ---- */

static bool same_content(const struct stint_record *a, const struct stint_record *b)
{
    return a->kind == b->kind && a->app_len == b->app_len && a->path_len == b->path_len &&
           a->title_len == b->title_len && a->url_len == b->url_len &&
           a->truncated == b->truncated && a->repaired == b->repaired &&
           memcmp(a->app, b->app, a->app_len) == 0 && memcmp(a->path, b->path, a->path_len) == 0 &&
           memcmp(a->title, b->title, a->title_len) == 0 && memcmp(a->url, b->url, a->url_len) == 0;
}

/* A private browser window: marked by the source or the merger, or known by its title
 * (browser_merge.h), whatever the source. */
static bool private_window(const struct stint_sample *s)
{
    return s->private_view ||
           stint_browser_private_title(s->app, s->app_len, s->title, s->title_len);
}

static enum stint_err build(struct stint_tracker *t, const struct stint_sample *s,
                            struct stint_record *r)
{
    stint_record_clear(r);
    if (private_window(s)) {
        /* a private browser window (browser_merge.c): times only */
        r->kind = STINT_KIND_PRIVATE;
        return STINT_OK;
    }
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, s->app ? s->app : "", s->app ? s->app_len : 0);
    stint_record_set(r, STINT_FIELD_PATH, s->path ? s->path : "", s->path ? s->path_len : 0);
    stint_record_set(r, STINT_FIELD_TITLE, s->title ? s->title : "", s->title ? s->title_len : 0);
    if (s->url && s->url_len) {
        if (s->url_len + 1 > t->scratch_cap) {
            char *p = realloc(t->scratch, s->url_len + 1);
            if (!p) {
                return STINT_ENOMEM;
            }
            t->scratch = p;
            t->scratch_cap = s->url_len + 1;
        }
        size_t n = stint_url_cut(s->url, s->url_len, t->url_mode, t->scratch, t->scratch_cap);
        stint_record_set(r, STINT_FIELD_URL, t->scratch, n);
    }
    /* the user's rules, before the record can reach the journal, a checkpoint or status */
    stint_filters_apply(t->filters, r, s->url, s->url ? s->url_len : 0);
    return STINT_OK;
}

static int64_t clamp(struct stint_tracker *t, int64_t ms)
{
    return ms < t->floor_ms ? t->floor_ms : ms;
}

/* Queues a closed record for the journal. */
static void push(struct stint_tracker *t, const struct stint_record *r)
{
    if (t->n_pending == t->cap_pending || t->n_pending >= PENDING_MAX) {
        if (t->cap_pending < PENDING_MAX) {
            size_t cap = t->cap_pending ? t->cap_pending * 2 : 2;
            struct stint_record *p = realloc(t->pending, cap * sizeof(*p));
            if (p) {
                t->pending = p;
                t->cap_pending = cap;
            }
        }
        if (t->n_pending == t->cap_pending || t->n_pending >= PENDING_MAX) {
            /* the journal has failed for long: the oldest record goes into the gap */
            const struct stint_record *old = t->n_pending ? &t->pending[0] : r;
            if (t->gap_count == 0 || old->start_ms < t->gap_start) {
                t->gap_start = old->start_ms;
            }
            if (t->gap_count == 0 || old->end_ms > t->gap_end) {
                t->gap_end = old->end_ms;
            }
            t->gap_count++;
            t->st.dropped++;
            if (t->n_pending == 0) {
                return;
            }
            memmove(t->pending, t->pending + 1, (t->n_pending - 1) * sizeof(*t->pending));
            t->n_pending--;
        }
    }
    stint_record_copy(&t->pending[t->n_pending++], r);
}

static void close_open(struct stint_tracker *t, int64_t end)
{
    if (!t->has_open) {
        return;
    }
    end = clamp(t, end);
    if (end < t->open->start_ms) {
        end = t->open->start_ms;
    }
    if (end == t->open->start_ms) {
        t->st.zero_length++;
    } else {
        t->open->end_ms = end;
        push(t, t->open);
        t->open->end_ms = 0;
    }
    t->floor_ms = end;
    t->has_open = false;
}

/* The current item established the state: it is where a restart resumes. */
static void mark_resume(struct stint_tracker *t)
{
    if (t->has_cur_pos) {
        memcpy(t->resume_pos, t->cur_pos, t->cur_pos_len);
        t->resume_pos_len = t->cur_pos_len;
        t->has_resume_pos = true;
        t->pos_dirty = true;
    }
}

/* Opens a record like `like` (content) or, when like is NULL, an empty one of `kind`. */
static void open_rec(struct stint_tracker *t, const struct stint_record *like, int32_t kind,
                     int64_t start)
{
    if (like) {
        stint_record_copy(t->open, like);
    } else {
        stint_record_clear(t->open);
        t->open->kind = kind;
    }
    t->open->seq = 0;
    t->open->start_ms = clamp(t, start);
    t->open->end_ms = 0;
    t->floor_ms = t->open->start_ms;
    t->has_open = true;
    mark_resume(t);
}

/* Puts the gap record for the dropped span in front of the pending records (at most one slot
 * past PENDING_MAX: push never holds more than PENDING_MAX). */
static bool gap_insert(struct stint_tracker *t)
{
    struct stint_record *g;

    if (t->gap_count == 0) {
        return false;
    }
    if (t->n_pending == t->cap_pending) {
        struct stint_record *p = realloc(t->pending, (t->cap_pending + 1) * sizeof(*p));
        if (!p) {
            return false;
        }
        t->pending = p;
        t->cap_pending++;
    }
    memmove(t->pending + 1, t->pending, t->n_pending * sizeof(*t->pending));
    g = &t->pending[0];
    stint_record_clear(g);
    g->kind = STINT_KIND_GAP;
    g->start_ms = t->gap_start;
    g->end_ms = t->gap_end > t->gap_start ? t->gap_end : t->gap_start;
    g->gap_count = t->gap_count;
    t->n_pending++;
    return true;
}

static void gap_remove(struct stint_tracker *t)
{
    memmove(t->pending, t->pending + 1, (t->n_pending - 1) * sizeof(*t->pending));
    t->n_pending--;
}

/* Appends what is pending. force: even before the retry time (a clean stop must try). */
static enum stint_err flush_(struct stint_tracker *t, bool force)
{
    struct stint_journal_append_opts ao = {0};
    enum stint_err err;
    bool gap;

    if (t->n_pending == 0 && !(t->pos_dirty && t->resumable && t->has_resume_pos)) {
        return STINT_OK;
    }
    if (t->paused || t->rewind) {
        return STINT_EIO; /* resumable: nothing more until the rewind and the retry */
    }
    if (t->failing && !force && now_mono(t) < t->next_retry) {
        return STINT_OK; /* held: the timer retries (one failing write per RETRY_MS, not per item)
                          */
    }
    if (t->resumable && t->has_resume_pos) {
        uint64_t fl = (uint64_t)t->floor_ms;
        for (int i = 0; i < 8; i++) {
            t->meta[i] = (uint8_t)(fl >> (56 - 8 * i));
        }
        memcpy(t->meta + 8, t->resume_pos, t->resume_pos_len);
        ao.meta_key = t->pos_key;
        ao.meta_val = t->meta;
        ao.meta_len = 8 + t->resume_pos_len;
    }
    ao.clear_checkpoint = !t->event_time && t->n_pending > 0;
    gap = gap_insert(t);
    err = stint_journal_append(t->journal, t->pending, t->n_pending, &ao, NULL);
    if (err != STINT_OK) {
        char msg[200];
        if (gap) {
            gap_remove(t);
        }
        stint_journal_last_error(t->journal, msg, sizeof(msg));
        set_error(t, msg);
        t->st.append_errors++;
        t->failing = true;
        t->next_retry = now_mono(t) + RETRY_MS;
        if (t->resumable) {
            t->rewind = true; /* the events are read again once the journal takes them */
        }
        return err;
    }
    if (gap) {
        t->st.gaps++;
        t->st.records--; /* counted below with the others; a gap is not a record of use */
        t->gap_count = 0;
    }
    if (ao.meta_key) {
        memcpy(t->saved_meta, ao.meta_val, ao.meta_len);
        t->saved_len = ao.meta_len;
    }
    t->st.records += t->n_pending;
    t->n_pending = 0;
    t->pos_dirty = false;
    t->failing = false;
    t->next_retry = -1;
    return STINT_OK;
}

/* After an item. Inside a batch (a source handing over a burst) the closed records and the
 * position wait, up to half the pending list, and go in one append at the batch's end: one
 * LevelDB write for the burst, carrying the position of the batch's last state-setting item,
 * which is exactly what a restart after a crash anywhere in the batch resumes from (the records
 * of the items before it are in that same write, or the write did not happen and they are read
 * again). */
static enum stint_err flush(struct stint_tracker *t)
{
    if (t->batching && !t->failing && t->n_pending < PENDING_MAX / 2) {
        return STINT_OK;
    }
    return flush_(t, false);
}

/* Resumable, after a failed append: back to the state of the last append, as a restart would
 * find it, and the source back to the position stored with it. The source is paused until the
 * retry timer. */
static void do_rewind(struct stint_tracker *t)
{
    uint64_t fl = 0;

    t->rewind = false;
    t->paused = true;
    t->has_open = t->has_focus = t->idle = false;
    t->n_pending = 0;
    t->pos_dirty = false;
    t->last_item_ms = 0;
    t->has_resume_pos = false;
    t->floor_ms = 0;
    if (t->saved_len >= 8) {
        for (int i = 0; i < 8; i++) {
            fl = fl << 8 | t->saved_meta[i];
        }
        t->floor_ms = (int64_t)fl;
        memcpy(t->resume_pos, t->saved_meta + 8, t->saved_len - 8);
        t->resume_pos_len = t->saved_len - 8;
        t->has_resume_pos = true;
    }
    t->private_mode = stint_journal_private_get(t->journal);
    t->need_private_open = t->private_mode;
    t->st.rewinds++;
    if (t->source) {
        enum stint_err err =
            stint_source_seek(t->source, t->saved_len >= 8 ? t->saved_meta + 8 : NULL,
                              t->saved_len >= 8 ? t->saved_len - 8 : 0);
        if (err != STINT_OK && err != STINT_EUNSUPPORTED) {
            set_error(t, "the source cannot go back to the last journaled event");
        }
    }
}

/* ---- live clocks: suspend and jumps ---- */

static void schedule_idle_now(struct stint_tracker *t, int64_t mono)
{
    if (t->live && t->source && !t->private_mode) {
        t->next_idle = mono;
    }
}

/* Reads the clocks; handles a suspend or a wall-clock jump since the last reading. Returns the
 * wall time to use for "now". */
static int64_t observe(struct stint_tracker *t)
{
    int64_t w = now_wall(t), m = now_mono(t), b = now_boot(t);

    if (t->have_prev) {
        int64_t dm = m - t->prev_mono, db = b - t->prev_boot, dw = w - t->prev_wall;
        bool slept = db - dm > STINT_TRACKER_JUMP_MS;
        bool jumped = dw - db > STINT_TRACKER_JUMP_MS || db - dw > STINT_TRACKER_JUMP_MS;
        if (slept || jumped) {
            bool had = t->has_open;
            /* where the old timeline is now, without the sleep */
            int64_t old_now = t->prev_wall + (dm > 0 ? dm : 0);
            t->st.suspends += slept;
            t->st.clock_jumps += jumped;
            if (had) {
                stint_record_copy(t->tmp, t->open);
                close_open(t, old_now);
                open_rec(t, t->tmp, t->tmp->kind, w);
            } else if (w > t->floor_ms || old_now > t->floor_ms) {
                t->floor_ms = old_now > t->floor_ms ? old_now : t->floor_ms;
            }
            /* after waking the user may be back or gone: ask at once */
            schedule_idle_now(t, m);
        }
    }
    t->have_prev = true;
    t->prev_wall = w;
    t->prev_mono = m;
    t->prev_boot = b;
    return w;
}

/* Live: asks the source about input; starts or ends idle. */
static void check_idle(struct stint_tracker *t, int64_t w, int64_t m)
{
    int64_t idle = 0;

    if (!t->live || !t->source || t->private_mode ||
        stint_source_idle_ms(t->source, &idle) != STINT_OK) {
        t->next_idle = -1;
        return;
    }
    if (idle < 0) {
        idle = 0;
    }
    t->last_input_ms = w - idle;
    if (!t->idle) {
        if (idle >= t->idle_after) {
            int64_t at = w - idle;
            close_open(t, at);
            open_rec(t, NULL, STINT_KIND_IDLE, at);
            t->idle = true;
            t->next_idle = m + t->idle_poll;
        } else {
            t->next_idle = m + (t->idle_after - idle);
        }
    } else if (idle < t->idle_after) {
        /* input came back idle ms ago */
        int64_t at = w - idle;
        close_open(t, at);
        t->idle = false;
        if (t->has_focus) {
            open_rec(t, t->focus, STINT_KIND_ACTIVE, at);
        }
        t->next_idle = m + (t->idle_after - idle);
    } else {
        t->next_idle = m + t->idle_poll;
    }
}

/* ---- entry points ---- */

/* Common start of every item: the time it means, the item's position. */
static int64_t begin_item(struct stint_tracker *t, int64_t item_ms,
                          const struct stint_source_pos *pos)
{
    int64_t at;
    t->has_cur_pos = false;
    if (pos && pos->data && pos->len <= STINT_SOURCE_POS_MAX) {
        memcpy(t->cur_pos, pos->data, pos->len);
        t->cur_pos_len = pos->len;
        t->has_cur_pos = true;
    }
    if (t->event_time) {
        at = item_ms > 0 ? item_ms : (t->last_item_ms ? t->last_item_ms : t->floor_ms);
        at = clamp(t, at);
        if (at > t->last_item_ms) {
            t->last_item_ms = at;
        }
        if (at > t->high_item_ms) {
            t->high_item_ms = at;
        }
    } else {
        at = observe(t);
        if (item_ms > 0) {
            at = item_ms;
        }
        at = clamp(t, at);
    }
    if (t->need_private_open) {
        t->need_private_open = false;
        if (t->private_mode && t->private_records && !t->has_open) {
            open_rec(t, NULL, STINT_KIND_PRIVATE, at);
        }
    }
    return at;
}

static enum stint_err on_sample(void *ctx, const struct stint_sample *s,
                                const struct stint_source_pos *pos)
{
    struct stint_tracker *t = ctx;
    int64_t at = begin_item(t, s->time_ms, pos);
    enum stint_err err;

    if (t->private_mode) {
        /* nothing about the window is kept, not even as "what was in focus" */
        t->has_focus = false;
        return flush(t);
    }
    err = build(t, s, t->focus);
    if (err != STINT_OK) {
        return err;
    }
    t->has_focus = true;
    if (t->live && t->idle) {
        /* a window changed while idle: input, or a window opening by itself? ask */
        check_idle(t, at, now_mono(t));
        return flush(t);
    }
    /* The same thing still in focus goes on in the open record: an active one, or a private
     * browser window (a tab change there says nothing). Spans a [filters] rule dropped stay
     * one record each: they are private records too, but of different windows. */
    if (t->has_open && t->open->kind == t->focus->kind &&
        (t->focus->kind == STINT_KIND_ACTIVE || private_window(s)) &&
        same_content(t->open, t->focus)) {
        return flush(t);
    }
    close_open(t, at);
    t->idle = false;
    open_rec(t, t->focus, STINT_KIND_ACTIVE, at);
    if (t->live && t->next_idle < 0) {
        schedule_idle_now(t, now_mono(t));
    }
    return flush(t);
}

static enum stint_err on_idle(void *ctx, int64_t since_ms, const struct stint_source_pos *pos)
{
    struct stint_tracker *t = ctx;
    int64_t at = begin_item(t, since_ms, pos);

    if (!t->private_mode && !t->idle) {
        close_open(t, at);
        open_rec(t, NULL, STINT_KIND_IDLE, at);
        t->idle = true;
    }
    return flush(t);
}

static enum stint_err set_private(struct stint_tracker *t, bool on, int64_t at)
{
    enum stint_err err, err2;

    if (on == t->private_mode) {
        if (on && t->private_records && !t->has_open) {
            open_rec(t, NULL, STINT_KIND_PRIVATE, at);
        }
        return flush(t);
    }
    close_open(t, at);
    t->idle = false;
    t->private_mode = on;
    t->has_focus = false;
    mark_resume(t);
    if (on && t->private_records) {
        open_rec(t, NULL, STINT_KIND_PRIVATE, at);
    }
    /* the records and the position first: a crash before the flag re-applies this item (so no
     * batching here: the flag must not reach the journal before them) */
    err = flush_(t, false);
    /* resumable: when the records did not go, the toggle is read again after the rewind */
    err2 = err != STINT_OK && t->resumable ? STINT_OK : stint_journal_private_set(t->journal, on);
    if (err2 != STINT_OK) {
        char msg[200];
        stint_journal_last_error(t->journal, msg, sizeof(msg));
        set_error(t, msg);
    }
    if (t->source) {
        stint_source_set_capture(t->source, !on);
    }
    if (!on && t->live) {
        int64_t m = now_mono(t);
        t->next_idle = -1;
        schedule_idle_now(t, m);
        if (t->source) {
            enum stint_err rs = stint_source_resample(t->source);
            if (rs != STINT_OK && rs != STINT_EUNSUPPORTED && err == STINT_OK) {
                err = rs;
            }
        }
    }
    if (on) {
        t->next_idle = -1;
    }
    return err != STINT_OK ? err : err2;
}

static enum stint_err on_private(void *ctx, bool on, int64_t time_ms,
                                 const struct stint_source_pos *pos)
{
    struct stint_tracker *t = ctx;
    int64_t at = begin_item(t, time_ms, pos);
    return set_private(t, on, at);
}

static void on_bad(void *ctx, uint64_t line, const char *msg)
{
    struct stint_tracker *t = ctx;
    t->st.bad_input++;
    if (t->on_bad_input) {
        t->on_bad_input(t->on_bad_input_ctx, line, msg);
    }
}

enum stint_err stint_tracker_private_set(struct stint_tracker *t, bool on)
{
    int64_t at = begin_item(t, 0, NULL);
    return set_private(t, on, at);
}

/* Applies the rules to an active record as it stands (its URL already cut: a host-only or
 * host rule sees the host all the same). */
static void refilter(struct stint_tracker *t, struct stint_record *r)
{
    char url[STINT_URL_MAX + 1];
    size_t n = r->url_len;

    if (r->kind != STINT_KIND_ACTIVE) {
        return;
    }
    memcpy(url, r->url, n); /* apply may rewrite r->url from it */
    url[n] = '\0';
    stint_filters_apply(t->filters, r, n ? url : NULL, n);
}

void stint_tracker_set_filters(struct stint_tracker *t, const struct stint_filters *f)
{
    t->filters = f;
    if (t->has_open) {
        refilter(t, t->open);
        if (t->next_checkpoint >= 0) {
            t->next_checkpoint = now_mono(t); /* the stored checkpoint too, at the next tick */
        }
    }
    if (t->has_focus) {
        refilter(t, t->focus);
    }
    for (size_t i = 0; i < t->n_pending; i++) {
        refilter(t, &t->pending[i]);
    }
}

void stint_tracker_discard_open(struct stint_tracker *t)
{
    int64_t at = t->event_time ? t->high_item_ms : now_wall(t);
    int32_t kind = t->has_open ? t->open->kind : STINT_KIND_IDLE;

    t->n_pending = 0;
    t->gap_count = 0;
    if (at > t->floor_ms)
        t->floor_ms = at;
    if (t->resumable && (t->paused || t->rewind) && t->has_cur_pos) {
        /* The journal failed and the source was (to be) sent back to the last journaled event:
         * the events read since were never journaled, and after the purge they must not come
         * back as new records. The source goes on from the last event read instead, which says
         * what is in focus now; read again, it opens the record at the purge time (the floor). */
        t->rewind = t->paused = t->failing = false;
        t->next_retry = -1;
        t->has_open = t->has_focus = t->idle = false;
        memcpy(t->resume_pos, t->cur_pos, t->cur_pos_len);
        t->resume_pos_len = t->cur_pos_len;
        t->has_resume_pos = true;
        t->pos_dirty = true;
        if (t->source) {
            (void)stint_source_seek(t->source, t->cur_pos, t->cur_pos_len);
        }
        return;
    }
    /* Nothing of the open record's past stays. Live, not even its title: it is dropped and the
     * source asked what is in focus now, which opens a record now. Event-timed, the stream says
     * what is in focus until its next event, so the record goes on from the purge time (as a
     * restart, which re-reads that event with the purge time as its floor, would have it). An
     * idle or private span goes on from the purge time (it holds no content). */
    if (t->live && kind == STINT_KIND_ACTIVE) {
        t->has_open = false;
        t->has_focus = false;
        memset(t->open, 0, sizeof(*t->open));
        memset(t->focus, 0, sizeof(*t->focus));
        memset(t->tmp, 0, sizeof(*t->tmp));
        if (!t->private_mode && t->source) {
            (void)stint_source_resample(t->source); /* opens the record now, as it is now */
        }
    } else if (t->has_open) {
        t->open->start_ms = t->floor_ms;
        t->open->end_ms = 0;
    }
    t->pos_dirty = true; /* the purge deleted the stored source position: write it again */
}

void stint_tracker_batch_begin(struct stint_tracker *t)
{
    t->batching = true;
}

enum stint_err stint_tracker_batch_end(struct stint_tracker *t)
{
    t->batching = false;
    return flush(t);
}

bool stint_tracker_source_paused(struct stint_tracker *t)
{
    return t->paused || t->rewind;
}

/* ---- life cycle ---- */

static void arm_tfd(struct stint_tracker *t)
{
    /* an absolute timer far away that the kernel cancels when the clock is set or on resume */
    struct itimerspec its = {0};
    its.it_value.tv_sec = (time_t)4102444800; /* 2100-01-01 */
    if (timerfd_settime(t->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) != 0) {
        close(t->tfd);
        t->tfd = -1;
    }
}

enum stint_err stint_tracker_create(const struct stint_tracker_opts *opts,
                                    struct stint_tracker **out, struct stint_error *e)
{
    struct stint_tracker *t = NULL;
    enum stint_err err = STINT_OK;
    unsigned flags = 0;

    *out = NULL;
    stint_error_clear(e);
    if (!opts || !opts->journal) {
        return stint_error_set(e, STINT_EINVAL, 0, "tracker: no journal");
    }
    if (opts->idle_after_ms < 0 || opts->checkpoint_every_ms < 0 || opts->idle_poll_ms < 0) {
        return stint_error_set(e, STINT_EINVAL, 0, "tracker: negative interval");
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        return stint_error_set(e, STINT_ENOMEM, 0, "tracker: out of memory");
    }
    t->tfd = -1;
    t->open = malloc(sizeof(*t->open));
    t->focus = malloc(sizeof(*t->focus));
    t->tmp = malloc(sizeof(*t->tmp));
    if (!t->open || !t->focus || !t->tmp) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "tracker: out of memory");
        goto cleanup;
    }
    t->journal = opts->journal;
    t->source = opts->source;
    if (opts->clock) {
        t->clk = *opts->clock;
    }
    t->real_clock = !opts->clock || (!t->clk.wall_ms && !t->clk.mono_ms && !t->clk.boot_ms);
    t->idle_after = opts->idle_after_ms ? opts->idle_after_ms : 180000;
    t->checkpoint_every = opts->checkpoint_every_ms ? opts->checkpoint_every_ms : 30000;
    t->idle_poll = opts->idle_poll_ms ? opts->idle_poll_ms : 1000;
    t->private_records = opts->private_records;
    t->url_mode = opts->url_mode;
    t->filters = opts->filters;
    flags = t->source ? stint_source_flags(t->source) : 0;
    t->event_time = opts->event_time || (flags & STINT_SOURCE_EVENT_TIME);
    t->live = !t->event_time;
    if (opts->pos_key) {
        snprintf(t->pos_key, sizeof(t->pos_key), "%s", opts->pos_key);
    } else if (t->source && (flags & STINT_SOURCE_RESUMABLE)) {
        snprintf(t->pos_key, sizeof(t->pos_key), "%s", t->source->meta_key);
    }
    t->resumable = t->event_time && t->pos_key[0];
    t->next_checkpoint = -1;
    t->next_idle = -1;
    t->next_retry = -1;
    t->on_bad_input = opts->on_bad_input;
    t->on_bad_input_ctx = opts->on_bad_input_ctx;
    t->sink.ctx = t;
    t->sink.sample = on_sample;
    t->sink.idle = on_idle;
    t->sink.private_mode = on_private;
    t->sink.bad_input = on_bad;
    t->private_mode = stint_journal_private_get(t->journal);

    if (t->live) {
        int64_t w = observe(t);
        t->floor_ms = w;
        t->next_checkpoint = now_mono(t) + t->checkpoint_every;
        if (t->real_clock) {
            t->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
            if (t->tfd >= 0) {
                arm_tfd(t);
            }
        }
        if (t->private_mode && t->private_records) {
            open_rec(t, NULL, STINT_KIND_PRIVATE, w);
        }
    } else {
        t->need_private_open = t->private_mode;
    }
    if (t->resumable) {
        /* where the last run stopped: the floor back, the position to the source */
        size_t len = 0;
        bool found = false;
        err =
            stint_journal_meta_get(t->journal, t->pos_key, t->meta, sizeof(t->meta), &len, &found);
        if (err != STINT_OK) {
            stint_error_set(e, err, 0, "tracker: reading %s from the journal failed", t->pos_key);
            goto cleanup;
        }
        if (found && len >= 8 && len <= sizeof(t->meta)) {
            uint64_t fl = 0;
            for (int i = 0; i < 8; i++) {
                fl = fl << 8 | t->meta[i];
            }
            t->floor_ms = (int64_t)fl;
            if (t->source) {
                err = stint_source_seek(t->source, t->meta + 8, len - 8);
                if (err != STINT_OK && err != STINT_EUNSUPPORTED) {
                    stint_error_set(e, err, 0, "tracker: %s cannot resume",
                                    stint_source_name(t->source));
                    goto cleanup;
                }
                err = STINT_OK;
            }
        }
    }
    if (t->source) {
        stint_source_set_sink(t->source, &t->sink);
        stint_source_set_capture(t->source, !t->private_mode);
        if (t->live && !t->private_mode) {
            enum stint_err rs = stint_source_resample(t->source);
            if (rs != STINT_OK && rs != STINT_EUNSUPPORTED) {
                err = stint_error_set(e, rs, 0, "tracker: first sample from %s failed",
                                      stint_source_name(t->source));
                goto cleanup;
            }
            schedule_idle_now(t, now_mono(t));
        }
    }
    *out = t;
    t = NULL;
cleanup:
    stint_tracker_destroy(t);
    return err;
}

void stint_tracker_destroy(struct stint_tracker *t)
{
    if (!t) {
        return;
    }
    if (t->tfd >= 0) {
        close(t->tfd);
    }
    free(t->open);
    free(t->focus);
    free(t->tmp);
    free(t->pending);
    free(t->scratch);
    free(t);
}

enum stint_err stint_tracker_shutdown(struct stint_tracker *t)
{
    enum stint_err err;

    if (t->live) {
        int64_t w = observe(t);
        close_open(t, w);
        err = flush_(t, true); /* on failure the checkpoint stays: the next start closes it */
        if (err == STINT_OK) {
            /* nothing written (a zero-length record): the checkpoint must still go */
            err = stint_journal_checkpoint(t->journal, NULL);
        }
        return err;
    }
    if (!t->resumable && t->has_open) {
        int64_t now = stint_clock_wall_ms();
        int64_t last = t->last_item_ms > t->open->start_ms ? t->last_item_ms : t->open->start_ms;
        int64_t cap = last + t->idle_after;
        close_open(t, now < cap ? now : cap);
    }
    return flush_(t, true);
}

const struct stint_sink *stint_tracker_sink(struct stint_tracker *t)
{
    return &t->sink;
}

int stint_tracker_fd(struct stint_tracker *t)
{
    return t->tfd;
}

int64_t stint_tracker_timeout(struct stint_tracker *t)
{
    int64_t m = now_mono(t), best = -1;
    int64_t due[4] = {t->live ? t->next_checkpoint : -1, t->live ? t->next_idle : -1,
                      t->n_pending || t->paused || (t->pos_dirty && t->resumable) ? t->next_retry
                                                                                  : -1,
                      t->rewind ? m : -1};
    for (int i = 0; i < 4; i++) {
        if (due[i] >= 0) {
            int64_t d = due[i] > m ? due[i] - m : 0;
            if (best < 0 || d < best) {
                best = d;
            }
        }
    }
    return best;
}

enum stint_err stint_tracker_tick(struct stint_tracker *t)
{
    enum stint_err err = STINT_OK;
    int64_t m;

    if (t->tfd >= 0) {
        uint64_t n;
        if (read(t->tfd, &n, sizeof(n)) < 0 && errno == ECANCELED) {
            arm_tfd(t);
        }
    }
    if (t->live) {
        int64_t w = observe(t);
        m = now_mono(t);
        if (t->next_idle >= 0 && m >= t->next_idle) {
            check_idle(t, w, m);
        }
        err = flush(t);
        if (t->next_checkpoint >= 0 && m >= t->next_checkpoint) {
            t->next_checkpoint = m + t->checkpoint_every;
            if (t->has_open) {
                enum stint_err ce = stint_journal_checkpoint(t->journal, t->open);
                if (ce == STINT_OK) {
                    t->st.checkpoints++;
                } else {
                    char msg[200];
                    stint_journal_last_error(t->journal, msg, sizeof(msg));
                    set_error(t, msg);
                    if (err == STINT_OK) {
                        err = ce;
                    }
                }
            }
        }
        return err;
    }
    m = now_mono(t);
    if (t->rewind) {
        do_rewind(t);
    }
    if (t->next_retry >= 0 && m >= t->next_retry) {
        if (t->paused) {
            t->paused = false; /* the source reads the same events again: they tell */
            t->next_retry = -1;
            return STINT_OK;
        }
        err = flush(t);
    }
    return err;
}

void stint_tracker_status(struct stint_tracker *t, struct stint_tracker_status *out)
{
    memcpy(out, &t->st, sizeof(*out));
    out->private_mode = t->private_mode;
    out->idle = t->idle;
    out->has_open = t->has_open;
    if (t->has_open) {
        stint_record_copy(&out->open, t->open);
    } else {
        stint_record_clear(&out->open);
    }
    out->last_input_ms = t->last_input_ms;
    out->pending = t->n_pending;
    out->source_paused = t->paused || t->rewind;
    out->failing = t->failing;
    out->gap_pending = t->gap_count;
}
