/* journal.h — the durable, bounded FIFO of records between the tracker and the sender.
 *
 * The journal is the agent's only queue: a record it has accepted survives kill -9, a crash and
 * (once its seq is durable) a power loss, and leaves exactly once, when the server acks it. It is
 * a LevelDB database in one folder; the byte layout is spec/JOURNAL.md.
 *
 * Conventions:
 *   - every call that can fail returns enum stint_err (STINT_EIO for disk and database errors,
 *     STINT_EINVAL for bad arguments, STINT_EUNSUPPORTED for a journal of a newer format);
 *     stint_journal_last_error() copies the human message (what, where) of the last failure;
 *   - seqs start at 1 and only grow; a seq is never given out twice by one journal (agent_id);
 *   - inputs are borrowed; nothing handed out needs freeing unless said so.
 *
 * Threads: one handle serves several threads at once (the tracker appends and checkpoints while
 * the sender reads, acks and dead-letters). A mutex guards the handle's state and every call holds
 * it while it runs, so calls are atomic with respect to each other; LevelDB is thread-safe below
 * that. The journal runs one thread of its own (group commit for STINT_SYNC_INTERVAL, and giving
 * disk space back after acks). A read callback runs with the mutex held: it must not call back
 * into the journal.
 */
#ifndef STINT_AGENT_JOURNAL_H
#define STINT_AGENT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"
#include "stint/record.h"

/* On-disk format version this code writes and reads (meta key "version"). */
#define STINT_JOURNAL_FORMAT 2

#define STINT_JOURNAL_DEFAULT_MAX_BYTES ((uint64_t)512 << 20)
#define STINT_JOURNAL_DEFAULT_MAX_AGE_MS ((int64_t)90 * 24 * 3600 * 1000)
#define STINT_JOURNAL_DEFAULT_INTERVAL_MS 1000u
#define STINT_JOURNAL_DEFAULT_MAX_DEAD 10000u
#define STINT_JOURNAL_MIN_MAX_BYTES ((uint64_t)64 << 10)
/* Longest key of stint_journal_meta_get/set, and largest value. */
#define STINT_JOURNAL_META_KEY_MAX 64
#define STINT_JOURNAL_META_VAL_MAX 4096

enum stint_sync {
    STINT_SYNC_ALWAYS = 0,   /* every write is fsync'ed before the call returns (the default) */
    STINT_SYNC_INTERVAL = 1, /* group commit: one fsync at most every sync_interval_ms; plain
                              * appends are also coalesced into one LevelDB write (at most 256
                              * records or 2 ms), so a kill -9 may lose those too: only seqs up
                              * to durable_seq are promised */
    STINT_SYNC_NONE = 2,     /* never fsync (survives a process crash, not a power loss) */
};

enum stint_full {
    STINT_FULL_DROP_OLDEST = 0, /* make room by dropping the oldest records (the default) */
    STINT_FULL_DROP_NEWEST = 1, /* refuse new records while full */
};

struct stint_journal_opts {
    const char *path;          /* folder; created (one level) if missing */
    enum stint_sync sync;      /* STINT_SYNC_ALWAYS when zeroed */
    uint32_t sync_interval_ms; /* STINT_SYNC_INTERVAL: 0 means 1000 */
    uint64_t max_bytes;        /* bound on stored records (key + value bytes); 0: 512 MiB */
    int64_t max_age_ms;        /* records that ended longer ago are dropped; 0: 90 days, <0: none */
    enum stint_full full;      /* what max_bytes drops; max_age always drops the oldest */
    uint32_t max_dead;         /* dead letters kept (oldest go first); 0: 10,000 */
    size_t cache_bytes;        /* LevelDB block cache; 0: 256 KiB */
    int max_open_files;        /* LevelDB max_open_files; 0: 64 (LevelDB raises it to 74) */
    /* History (agent/history.h): acked records are kept this long for the user's report;
     * 0: none are kept (and any kept before are dropped at open). */
    int64_t history_ms;
    uint64_t history_max_bytes; /* bound on the history (key + value bytes); 0: 64 MiB */
    /* Wall clock in Unix ms for record times (checkpoint close, max_age); NULL: CLOCK_REALTIME. */
    int64_t (*clock_ms)(void *ctx);
    void *clock_ctx;
};

/* What stint_journal_open found and did. */
struct stint_journal_open_info {
    bool created;             /* a new journal was made (a new agent_id) */
    bool repaired;            /* LevelDB corruption was met by leveldb_repair_db */
    bool moved_aside;         /* repair failed: the old folder is now moved_to, this one is new */
    char moved_to[4096];      /* "<path>.corrupt-<UTC timestamp>" when moved_aside */
    uint64_t lost;            /* records lost to corruption, as far as can be counted */
    bool lost_known;          /* false when the loss could not be counted (no record of it) */
    uint64_t dead_lettered;   /* stored values that no longer decode, moved to dead letters */
    bool checkpoint_restored; /* a left-over open record was closed and appended */
    uint64_t checkpoint_seq;  /* its seq */
};

struct stint_journal_stats {
    uint64_t backlog;       /* records stored and not acked (gap records included) */
    uint64_t backlog_bytes; /* their key + value bytes (what max_bytes bounds) */
    int64_t oldest_ms;      /* start of the oldest stored record; 0 when empty */
    uint64_t next_seq;      /* the seq the next record gets */
    uint64_t acked_seq;     /* highest seq acked */
    uint64_t durable_seq;   /* every record with seq <= this survives a power loss */
    uint64_t dropped;       /* records dropped by the bounds, ever */
    uint64_t gaps;          /* gap records written, ever */
    uint64_t dead;          /* records in the dead-letter space now */
    uint64_t dead_total;    /* records moved to dead letters, ever */
    uint64_t dead_dropped;  /* dead letters dropped by max_dead, ever */
    uint64_t lost;          /* records lost to corruption, ever */
    uint64_t compactions;   /* acked ranges compacted (disk given back) */
    uint64_t history;       /* acked records kept in the history ... */
    uint64_t history_bytes; /* ... and their key + value bytes (as last counted) */
    bool private_mode;
};

/* A record handed out by stint_journal_read; valid only during the callback. */
struct stint_journal_entry {
    uint64_t seq;
    const uint8_t *raw; /* the stored v1 encoding of the Record (seq included), ready to frame */
    size_t raw_len;
    const struct stint_record *record; /* decoded; NULL when read with STINT_JOURNAL_RAW */
};
typedef enum stint_err (*stint_journal_entry_fn)(void *ctx, const struct stint_journal_entry *e);

/* A dead letter handed out by stint_journal_dead_list; valid only during the callback. */
struct stint_journal_dead {
    uint64_t seq;
    int64_t moved_ms; /* when it was dead-lettered */
    const char *reason;
    size_t reason_len;
    const uint8_t *raw; /* the record's stored bytes (may not decode: that can be the reason) */
    size_t raw_len;
};
typedef enum stint_err (*stint_journal_dead_fn)(void *ctx, const struct stint_journal_dead *d);

/* Extra work stint_journal_append does in the same atomic write as the records. */
struct stint_journal_append_opts {
    const char *meta_key; /* optional: a meta key (see stint_journal_meta_set) to set ... */
    const void *meta_val; /* ... to these bytes (NULL with meta_key: delete the key) */
    size_t meta_len;
    bool clear_checkpoint; /* also delete the checkpoint (the open record just closed) */
};

struct stint_journal;

/* Opens (or creates) the journal at opts->path. One process per journal: a second open fails
 * with STINT_EIO and a message naming the path and the holding pid. A journal of a newer format
 * is refused with STINT_EUNSUPPORTED and left untouched. Corruption is repaired, or the folder is
 * moved aside and a new journal started: *info (may be NULL) says which, and the loss. A left-over
 * checkpoint is closed at its checkpoint time and appended. On success *out belongs to the caller:
 * release it with stint_journal_close(). err (may be NULL) receives the message on failure. */
enum stint_err stint_journal_open(const struct stint_journal_opts *opts, struct stint_journal **out,
                                  struct stint_journal_open_info *info, struct stint_error *err);

/* Syncs what is not durable yet, writes the clean-close mark and closes. NULL is fine. */
void stint_journal_close(struct stint_journal *j);

/* Copies the message of the last failed call on this handle into buf (cap bytes, NUL-ended). */
void stint_journal_last_error(struct stint_journal *j, char *buf, size_t cap);

/* Appends n records (n may be 0 when only the meta key is written) in one atomic write. Seqs are
 * assigned in order; *first_seq (may be NULL) gets the first (0 when n is 0). The records' own seq
 * fields are ignored. When a bound is passed, records are dropped by opts.full and one gap record
 * says how many: with DROP_NEWEST the new records may be dropped (still STINT_OK; see
 * stats.dropped). ao may be NULL. Errors: STINT_EINVAL (bad meta key, a record that does not
 * encode), STINT_EIO (disk full or failing: no seq was given out and the handle reopens LevelDB
 * on the next call, so appends work again once the disk does; only when the fsync itself failed
 * may the records still turn up after a reopen, as LevelDB cannot tell). */
enum stint_err stint_journal_append(struct stint_journal *j, const struct stint_record *records,
                                    size_t n, const struct stint_journal_append_opts *ao,
                                    uint64_t *first_seq);

/* Stores the open record (end_ms ignored), replacing the previous checkpoint, with the current
 * time. On the next open a left-over checkpoint becomes a record ending at that time. NULL
 * deletes the checkpoint. */
enum stint_err stint_journal_checkpoint(struct stint_journal *j, const struct stint_record *open);

/* Reads stored records in seq order, starting at seq `from` (0, or anything not above the acked
 * seq: just after the acked seq), calling fn for each, stopping after max_records records or
 * before the raw bytes would pass max_bytes (one record is always delivered when one exists, so
 * a large record cannot stall the queue). Iterates LevelDB: the backlog is never loaded. A value
 * that no longer decodes is moved to the dead letters (reason "undecodable") and skipped.
 * *next_from (may be NULL): where to continue. *n_read (may be NULL): records delivered. flags:
 * 0, or STINT_JOURNAL_RAW to skip decoding. A non-OK return of fn stops and is returned. */
#define STINT_JOURNAL_RAW 1u
enum stint_err stint_journal_read(struct stint_journal *j, uint64_t from, size_t max_records,
                                  size_t max_bytes, unsigned flags, stint_journal_entry_fn fn,
                                  void *ctx, uint64_t *next_from, size_t *n_read);

/* The server stored everything up to seq: remembers seq. The records up to it become the
 * history where they lie (with history_ms 0 they are deleted, and the disk space given back in
 * the background, see stint_journal_compact). Acking at or below the acked seq does nothing;
 * STINT_EINVAL above the last seq given out. */
enum stint_err stint_journal_ack(struct stint_journal *j, uint64_t seq);

/* Moves the stored records with first <= seq <= last to the dead-letter space, with a reason
 * (cut to STINT_REASON_MAX). The dead-letter space keeps at most opts.max_dead records. */
enum stint_err stint_journal_dead_letter(struct stint_journal *j, uint64_t first, uint64_t last,
                                         const char *reason);

/* Lists dead letters with seq >= from in seq order, at most max (0: all). */
enum stint_err stint_journal_dead_list(struct stint_journal *j, uint64_t from, size_t max,
                                       stint_journal_dead_fn fn, void *ctx);

/* Deletes the dead letters with first <= seq <= last. */
enum stint_err stint_journal_dead_delete(struct stint_journal *j, uint64_t first, uint64_t last);

/* What stint_journal_dead_retry did, or on failure which seq or bound refused it. */
struct stint_journal_retry {
    size_t retried;       /* dead letters put back in the queue, with the seqs ... */
    uint64_t first_seq;   /* ... first_seq to first_seq + retried - 1 (0 when none) */
    size_t undecodable;   /* (seqs NULL) dead letters left in place: their bytes are no record */
    uint64_t refused_seq; /* STINT_EINVAL, STINT_EWIRE: the named seq that was refused */
    uint64_t need_bytes;  /* STINT_ELIMIT: the bytes the records would take ... */
    uint64_t room_bytes;  /* ... and the room max_bytes leaves */
};

/* Puts dead letters back in the queue in ONE atomic write: each is stored at the tail as a new
 * record (a new seq: the server never stored the old one; in the order of the old seqs, keeping
 * its times and fields), its dead letter is deleted and the counters updated in the same
 * LevelDB WriteBatch, so a crash at any moment leaves each either a dead letter or queued,
 * never both and never neither. seqs: the n dead letters to retry (any order, repeats count
 * once), or NULL and 0 for every dead letter. On any error nothing changes. Errors:
 * STINT_EINVAL a named seq is not a dead letter; STINT_EWIRE a named dead letter does not decode
 * as the record of its seq (with seqs NULL such ones stay and are counted in out->undecodable);
 * STINT_ELIMIT the records would pass max_bytes: nothing is dropped to make room for them
 * (whatever the full policy), retry fewer or once the queue has drained; STINT_ENOMEM;
 * STINT_EIO. out (may be NULL) says what was done, or what refused it. */
enum stint_err stint_journal_dead_retry(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                        struct stint_journal_retry *out);

/* Deletes dead letters in ONE write, all or nothing: the n named seqs (any order, repeats count
 * once), or every dead letter (seqs NULL, n 0). *dropped (may be NULL): how many. Errors:
 * STINT_EINVAL a named seq is not a dead letter (*refused_seq, may be NULL, says which), and
 * nothing was deleted; STINT_ENOMEM; STINT_EIO. */
enum stint_err stint_journal_dead_drop(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                       size_t *dropped, uint64_t *refused_seq);

/* Deletes every record, the checkpoint and every dead letter so that nothing of them is left on
 * disk (LevelDB's files are overwritten with zeros, then removed, and the database made anew).
 * Keeps agent_id, next seq, private mode, the counters and the meta keys. */
enum stint_err stint_journal_purge(struct stint_journal *j);

/* Syncs now: afterwards durable_seq covers every record appended. */
enum stint_err stint_journal_sync(struct stint_journal *j);

/* Compacts the acked range now and waits (tests, bench; the journal does it by itself). */
enum stint_err stint_journal_compact(struct stint_journal *j);

/* Highest seq that survives a power loss (0: none yet). */
uint64_t stint_journal_durable_seq(struct stint_journal *j);

void stint_journal_stats(struct stint_journal *j, struct stint_journal_stats *out);

/* The 16 random bytes made when the journal was created. A journal moved aside as corrupt
 * (also when that is found while running) starts anew with a new agent_id and seqs from 1:
 * read it for every batch rather than once. */
void stint_journal_agent_id(struct stint_journal *j, uint8_t out[STINT_AGENT_ID_LEN]);

bool stint_journal_private_get(struct stint_journal *j);
enum stint_err stint_journal_private_set(struct stint_journal *j, bool on);

/* Small key/value store for other modules (e.g. a source's read offset). Keys: 1 to
 * STINT_JOURNAL_META_KEY_MAX bytes of [A-Za-z0-9._-]; values up to STINT_JOURNAL_META_VAL_MAX
 * bytes. get copies at most cap bytes into buf and sets *len to the value's length and *found;
 * a missing key is STINT_OK with *found false. set with val NULL deletes the key. */
enum stint_err stint_journal_meta_get(struct stint_journal *j, const char *key, void *buf,
                                      size_t cap, size_t *len, bool *found);
enum stint_err stint_journal_meta_set(struct stint_journal *j, const char *key, const void *val,
                                      size_t len);

/* Reads the history (acked records kept for the user, agent/history.h) in seq order from seq
 * `from` (0: the oldest), at most max records, calling fn for each (entry as in
 * stint_journal_read, record decoded; a value that does not decode is skipped). History past
 * its age or cap is dropped first. *next (may be NULL): where to continue; *more (may be NULL):
 * whether records are left. Never touches the records waiting to be sent. STINT_EIO. */
enum stint_err stint_journal_history_read(struct stint_journal *j, uint64_t from, size_t max,
                                          stint_journal_entry_fn fn, void *ctx, uint64_t *next,
                                          bool *more);

/* Decodes one stored record value as the journal does (spec/JOURNAL.md: be32 CRC-32 of
 * the rest, then the v1 Record): STINT_OK when the CRC holds, the Record decodes into *r and its
 * seq equals `seq`; STINT_EWIRE otherwise. For tools and the fuzz harness; no allocation. */
enum stint_err stint_journal_value_decode(const uint8_t *value, size_t len, uint64_t seq,
                                          struct stint_record *r);

#endif
