/* tracker.h — turns what a source sees into records (source -> tracker -> journal).
 *
 * A record opens when what is in focus changes and closes when it changes again, on idle, on
 * suspend, on private mode, or on shutdown. Closed records go to the journal
 * (stint_journal_append); the open one is checkpointed every checkpoint_every. The rules, in
 * full, are spec/AGENT.md ("Tracker"); in short:
 *   - idle: no input for idle_after ends the active record at the last input; an idle record
 *     covers the rest, until input comes back;
 *   - suspend (CLOCK_BOOTTIME ran ahead of CLOCK_MONOTONIC): the record ends when the sleep
 *     began, sleep is not counted, and the record opens again on waking;
 *   - wall-clock jumps: the record ends where the old clock was, the next starts at the new one,
 *     and no record ever ends before it starts or starts before the previous one ended;
 *   - private mode: the open record closes at that moment, nothing of the window is captured
 *     (the source is told), a `private` record with times only covers the span if configured;
 *     the state is in the journal and survives restarts;
 *   - zero-length records are never written.
 * With an event-timed source (JSONL) no clock is read: every time comes from the events, so the
 * same input gives the same records; nothing is checkpointed (a resumable source re-reads the
 * event that opened the open record instead, from the position stored with the last append).
 *
 * Threads: a tracker belongs to one thread (stintd's poll loop); the journal it writes to is
 * shared with the sender.
 */
#ifndef STINT_AGENT_TRACKER_H
#define STINT_AGENT_TRACKER_H

#include <stdbool.h>
#include <stdint.h>

#include "filters.h"
#include "journal.h"
#include "source.h"
#include "error.h" /* the agent's error convention */
#include "stint/record.h"
#include "url.h"

/* The clocks the tracker reads, in ms; NULL functions mean the real CLOCK_REALTIME,
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME. Tests inject a fake. */
struct stint_clock {
    int64_t (*wall_ms)(void *ctx);
    int64_t (*mono_ms)(void *ctx);
    int64_t (*boot_ms)(void *ctx);
    void *ctx;
};

/* A jump of more than this between two readings counts (as suspend or as a clock change). */
#define STINT_TRACKER_JUMP_MS 2000

struct stint_tracker_opts {
    struct stint_journal *journal; /* borrowed; required */
    struct stint_source *source;   /* borrowed; may be NULL (no idle, no resample) */
    int64_t idle_after_ms;         /* 0: 180 s */
    int64_t checkpoint_every_ms;   /* 0: 30 s */
    int64_t idle_poll_ms;          /* while idle, how often input is looked for; 0: 1 s */
    bool private_records;
    enum stint_url_mode url_mode;
    const struct stint_filters *filters; /* borrowed; NULL: none (spec/AGENT.md, "Filters") */
    bool event_time;                 /* times come from the items (defaults to the source's flag) */
    const char *pos_key;             /* journal meta key for positions (defaults to the source's) */
    const struct stint_clock *clock; /* NULL: the real clocks */
    /* optional: told of every input item the source refused ("PATH:LINE: what"), to log it */
    void (*on_bad_input)(void *ctx, uint64_t line, const char *msg);
    void *on_bad_input_ctx;
};

struct stint_tracker_status {
    bool private_mode;
    bool idle;
    bool has_open;
    struct stint_record open; /* the open record (seq 0, end 0) when has_open */
    int64_t last_input_ms;    /* live: wall time of the last input seen; 0 unknown */
    uint64_t records;         /* records appended */
    uint64_t zero_length;     /* records not written because they had no length */
    uint64_t pending;         /* closed records waiting for the journal (it failed) */
    uint64_t dropped;         /* records lost because the journal kept failing (in gaps) */
    uint64_t gap_pending;     /* of those, not yet in a gap record (the journal still fails) */
    uint64_t gaps;            /* gap records written for them */
    uint64_t rewinds;         /* resumable source sent back to the last journaled event */
    bool failing;             /* the journal refused the last append */
    bool source_paused;       /* resumable: not read until the journal is retried */
    uint64_t append_errors;
    uint64_t checkpoints;
    uint64_t suspends;
    uint64_t clock_jumps;
    uint64_t bad_input; /* reported by the source */
    char last_error[256];
};

struct stint_tracker;

/* Makes a tracker writing to opts->journal. Reads private mode from the journal; when it is on
 * and private records are kept, a private record opens (live: now; event-timed: at the first
 * item's time). Sets itself as the source's sink. On success *out belongs to the caller:
 * stint_tracker_destroy(). STINT_EINVAL (no journal, bad option), STINT_ENOMEM. */
enum stint_err stint_tracker_create(const struct stint_tracker_opts *opts,
                                    struct stint_tracker **out, struct stint_error *e);

/* Frees the tracker without writing anything: to the journal it looks like a crash (the last
 * checkpoint stands). Use stint_tracker_shutdown first for a clean stop. NULL is fine. */
void stint_tracker_destroy(struct stint_tracker *t);

/* Clean stop: live, the open record closes now and is appended (the checkpoint cleared);
 * event-timed and resumable, nothing is written (the open record is re-read on restart);
 * event-timed otherwise (stdin), the open record closes at the last item's time plus at most
 * idle_after, never later than now. Errors from the journal. */
enum stint_err stint_tracker_shutdown(struct stint_tracker *t);

/* The sink a source delivers to (valid as long as the tracker). */
const struct stint_sink *stint_tracker_sink(struct stint_tracker *t);

/* Private mode from the control socket: takes effect now (live) or at the last item's time
 * (event-timed). Stored in the journal. */
enum stint_err stint_tracker_private_set(struct stint_tracker *t, bool on);

/* Reload: from now on f is the rules (borrowed; NULL: none). They are applied at once to what
 * the tracker holds and the journal does not have yet: the open record, the window in focus
 * and the closed records waiting for the journal, so a rule added for the window in use covers
 * its whole open span. What a rule took away before cannot come back (a rule removed applies
 * from the next sample of a window). */
void stint_tracker_set_filters(struct stint_tracker *t, const struct stint_filters *f);

/* For purge: forgets everything the tracker holds that the journal does not: the closed records
 * waiting for the journal (and a pending gap), and the past of the open record. Live, an active
 * record is dropped whole (title included) and the source asked what is in focus now, which opens
 * a record now; event-timed (the stream says what is in focus until its next event) and for idle
 * or private spans, the open record restarts at the purge time (now, or the last item's time).
 * Nothing from before the purge is ever written. Call it before stint_journal_purge(). */
void stint_tracker_discard_open(struct stint_tracker *t);

/* Group commit. Between begin and end (stintd wraps each source dispatch in them) the records that
 * items close and the source position are appended together: one journal write per burst (or
 * per half pending list), not one per item. end appends what is held; its error is that of the
 * append (the tracker then holds or rewinds as for any failed append). Live and event-timed
 * sources alike; a private-mode toggle still appends before it writes the flag. */
void stint_tracker_batch_begin(struct stint_tracker *t);
enum stint_err stint_tracker_batch_end(struct stint_tracker *t);

/* True while a resumable source must not be read (the journal failed; the tracker has sent the
 * source back to the last journaled event and retries at its timer): stintd polls neither its
 * fds nor its timer meanwhile. */
bool stint_tracker_source_paused(struct stint_tracker *t);

/* ms until stint_tracker_tick should run (idle check, checkpoint, retrying the journal);
 * -1: no timer. */
int64_t stint_tracker_timeout(struct stint_tracker *t);

/* An fd that becomes readable when the wall clock is set or the machine resumes (a timerfd with
 * TFD_TIMER_CANCEL_ON_SET), so a jump is handled at once rather than at the next timer; -1 with
 * an injected clock or an event-timed source. When it is readable, call stint_tracker_tick. */
int stint_tracker_fd(struct stint_tracker *t);

/* Runs what is due: suspend and clock-jump checks, idle start/end, checkpoint, journal retry. */
enum stint_err stint_tracker_tick(struct stint_tracker *t);

void stint_tracker_status(struct stint_tracker *t, struct stint_tracker_status *out);

#endif
