/* journal_int.h — what the files of agent/journal/ share: the handle, the state, the layout
 * constants and the helpers one file defines for the others. The public API is agent/journal.h;
 * one idea per file (format, mark, recover, open, append, bounds, read, dead, purge, maint).
 *
 * The design of the journal, the durable, bounded FIFO of records on LevelDB.
 *
 * Layout (spec/JOURNAL.md, format 2): one-byte key prefixes keep the spaces apart and in a
 * fixed order: 'c' the checkpoint, 'd' + be64 seq the dead letters, 'm' + name the journal's
 * rarely written meta keys, 'r' + be64 seq the records, stored as their v1 protobuf encoding
 * with the seq inside, so the sender frames them into a Batch byte for byte, then 's' the state
 * and 'u/' + name the callers' keys (a source's position). Big-endian seqs make LevelDB's byte
 * order the send order. Records at or below the acked seq are the user's history (history.c):
 * an ack moves the acked seq and deletes nothing (with `history` 0 it deletes them).
 *
 * Why this order: what is written often (records at the tail, the state, a source's position)
 * sorts at or after the newest record, so a busy journal is append-only at the end of its key
 * space: each table LevelDB flushes overlaps only the last table of the next level, and
 * compactions move tables down instead of rewriting them. Format 1 kept the state and the
 * position before the records and copied each acked record to an 'h' space: every table then
 * spanned the whole backlog and each compaction rewrote it (343 MB written for a 42 MB journal
 * at a million records). Opening a format 1 journal moves its 'mu/' keys and "mstate" in the
 * synced write that records format 2, then its 'h' records back under 'r' (move_history_v1).
 *
 * State: everything the handle counts (next seq, acked seq, backlog count and bytes, drop, dead
 * and loss counters) is one fixed-size value under "s", rewritten in the SAME WriteBatch as
 * every change it describes except a plain append (half the bytes per append): what appends
 * change (next seq, count, bytes) is recounted from the records on open, so the counters can
 * never disagree with the records after a crash. The handle keeps the state in memory; a change
 * is computed on a copy and only committed when LevelDB has accepted the write, so a failed write
 * (disk full) leaves both sides as they were. Every stored value carries a CRC-32 of its own:
 * leveldb_repair_db copies log records without checking LevelDB's checksums.
 *
 * Durability: `always` writes with sync; `interval` writes without and the journal's own thread
 * issues an empty synced write at most every interval (LevelDB syncs its log in order, so that
 * one fsync covers everything written before it); `none` syncs only on close and on request.
 * durable_seq is the last seq known to be covered by an fsync. With `interval`, plain appends
 * (no meta key, no checkpoint change, no bound hit) are also coalesced in a pending WriteBatch
 * handed to LevelDB after 256 records or 2 ms (by the thread when no append follows) or before
 * any other call: one write syscall per group instead of one per record. Every other call sees
 * them (ensure_db hands them over first); a failed hand-over keeps them pending and counted.
 *
 * Memory: the open scan, reads and LevelDB's own compactions touch its mmap'd tables;
 * release_table_pages() drops those clean pages from the RSS after the scan, every 4 MiB or
 * 10 ms of calls, and the releaser thread (maint.c) every 10 ms while the journal works, so
 * memory does not grow with the backlog or with what LevelDB compacts.
 *
 * Failure handling: a write error (ENOSPC, EFBIG) can leave a torn record at the end of LevelDB's
 * log and LevelDB may refuse further writes, so the handle is marked broken and the next call
 * closes and reopens the database (LevelDB stops reading a log at a torn tail record; what was
 * written before is intact). Corruption found on open, or by a read later, is met by
 * leveldb_repair_db; if the database still does not open and read cleanly, the folder is moved
 * aside as <path>.corrupt-<UTC time> and a new journal started. Disk errors (no space, no
 * permission) never trigger repair or move-aside: they are reported as STINT_EIO.
 *
 * Counting losses: on open every record is scanned (iterated, never loaded together) and counted.
 * The expected count is the one the clean-close mark (stint.closed, written at close, removed at
 * open) states, or else the one "mstate" states; what is missing is reported as lost. A seq is
 * never given out twice: next seq is the highest of every witness (state, mark, keys present).
 *
 * Bounds: max_bytes counts key + value bytes of stored records. Dropping the oldest replaces the
 * dropped run (and any gap record it swallows) with one gap record at the seq of the last record
 * dropped, so seq order stays time order and an ack past it retires it; dropping the newest keeps
 * one gap record at the tail, updated in place until the sender has read it. max_age always
 * drops from the head (dropping the newest would never free an old record).
 *
 * Threads: `mu` guards the handle and is held for the whole of every call, LevelDB calls
 * included (appends and acks must not interleave their read-modify-write of the state).
 * The maintenance thread compacts acked ranges outside `mu`, holding `dblock` for reading;
 * whatever replaces j->db (reopen, purge, move-aside) holds `mu` and then `dblock` for writing.
 */
#ifndef STINT_AGENT_JOURNAL_INT_H
#define STINT_AGENT_JOURNAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <leveldb/c.h>

#include "common/byteorder.h"
#include "common/clock.h"
#include "history.h"
#include "journal.h"
#include "journal_lock.h"
#include "stint/buf.h"

#define K_CHECKPOINT "c"
#define K_VERSION "mversion"
#define K_AGENT "magent_id"
#define K_STATE "s"         /* after the records: an ack writes only at the tail */
#define K_STATE_V1 "mstate" /* where format 1 kept it */
#define K_PRIVATE "mprivate"
#define K_USER "u/"
#define K_USER_V1 "mu/" /* format 1 kept the callers' keys among the meta keys */
#define P_DEAD 'd'
#define P_REC 'r'
#define P_HIST_V1 'h' /* format 1's history space (moved to 'r' on open) */
#define KEY_LEN 9
#define STATE_LEN 85 /* u8 format, 10 x be64, be32 CRC */
#define CRC_LEN 4
#define DEAD_HDR 11 /* u8 format, be64 moved_ms, be16 reason_len */
#define MARK_FILE "stint.closed"
#define ACK_CHUNK 10000
#define COMPACT_BYTES ((uint64_t)4 << 20)
#define COMPACT_EMPTY_BYTES ((uint64_t)256 << 10)
#define PEND_MAX 256 /* `interval`: appends coalesced into one LevelDB write at most ... */
#define PEND_MS 2    /* ... and for at most this long */
#define RELEASE_BYTES ((uint64_t)4 << 20)
#define ACTIVE_MS 1000        /* the releaser works this long after the last call */
#define RELEASE_MS 10         /* appending: the table pages are released this often at least */
#define TRIM_COMPACT_MS 60000 /* what a trim dropped is compacted within this of the next ack */
#define RC_MAX 65536          /* read-cache entries; reading further ahead unacked falls back */

struct jstate {
    uint64_t next_seq, acked, count, bytes, dropped, gaps, dead, dead_total, dead_dropped, lost;
};

/* The clean-close mark: what the journal held when it was last closed cleanly. */
struct mark {
    bool present;
    bool has_agent;
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    uint64_t next_seq, acked, count;
};

/* What a scan of the whole database found. */
struct scan {
    bool corrupt;   /* the iterator reported an error ... */
    bool transient; /* ... that is a disk condition, not damage */
    char msg[256];
    uint32_t version;
    bool has_version, has_agent, has_state, has_checkpoint, private_mode;
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    struct jstate st;
    uint64_t count, bytes, last_rec, dead;
    uint64_t *bad; /* seqs whose value does not decode (owned) */
    size_t n_bad, cap_bad;
    uint64_t acked_floor; /* records at or below it were acked: a lost delete brought them back */
    uint64_t *stale;      /* such seqs (owned) */
    size_t n_stale, cap_stale;
    /* keys in the record or dead-letter space that are not a prefix + be64 seq: made by damage
     * (a flipped length inside a log record that leveldb_repair_db copied unchecked); they are
     * no witness of anything, and left in place they would end every walk of their space */
    leveldb_writebatch_t *junk; /* their deletes (owned) */
    size_t n_junk;
    bool any_key;
};

struct stint_journal {
    char *path;
    struct stint_journal_opts o;
    struct stint_journal_lock lock;
    leveldb_t *db;
    leveldb_options_t *lopt;
    leveldb_cache_t *cache;
    leveldb_readoptions_t *ropt;
    leveldb_readoptions_t *rscan;
    leveldb_writeoptions_t *wopt;
    leveldb_writeoptions_t *wsync;
    leveldb_writebatch_t *wb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_rwlock_t dblock;
    pthread_t thread;
    bool thread_started, stop;
    struct jstate st;
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    bool private_mode;
    int64_t oldest_ms;
    bool oldest_valid;
    uint64_t durable;
    int64_t last_sync_mono;
    uint64_t read_hwm;
    bool broken;
    bool compact_wanted;
    uint64_t compact_upto;
    uint64_t acked_bytes_since;   /* deleted by acks since the last compaction */
    uint64_t trimmed_bytes_since; /* dropped by history trims since then */
    int64_t trim_compact_mono;    /* when trims were last compacted (monotonic ms) */
    uint64_t compactions;
    struct stint_record enc_rec;
    struct stint_record dec_rec;
    struct stint_buf enc;
    size_t *offs;
    size_t offs_cap;
    /* `interval` only: appends waiting to be handed to LevelDB in one write (see the design
     * block); counted in st already */
    leveldb_writebatch_t *pend;
    uint64_t pend_n, pend_bytes, pend_last;
    int64_t pend_since_mono;
    /* What reads handed out since the acked seq (seqs and stored sizes, contiguous in the record
     * space), so that acking them needs no second iteration. Dropped whenever records in that
     * range change other than by an ack (drops, dead letters, purge, reopen). */
    uint64_t *rc_seq;
    uint32_t *rc_size;
    size_t rc_head, rc_n, rc_cap;
    bool rc_valid;
    uint64_t rc_base;           /* the acked seq the cache starts after */
    char *abspath;              /* realpath of the folder, to find LevelDB's mappings */
    struct stint_history *hist; /* acked records kept for the user (history.c) */
    uint64_t touched_bytes;     /* read since the mapped table pages were last released */
    int64_t released_ms;        /* CLOCK_MONOTONIC ms of that release */
    /* The releaser (maint.c): a thread that gives the table pages back every RELEASE_MS while
     * the journal works and ACTIVE_MS after, whoever holds mu. rel_mu guards what follows. */
    pthread_mutex_t rel_mu;
    pthread_cond_t rel_cv;
    pthread_t rel_thread;
    bool rel_stop;
    int64_t rel_active_ms; /* the last call that read or wrote, monotonic ms */
    char errmsg[512];
};

/* What the dead letters and the reads collect: seqs (owned, realloc'd; free v). */
struct seqlist {
    uint64_t *v;
    size_t n, cap;
};

/* The helpers below are defined in one file of agent/journal/ and used by others. They keep
 * the short names they had as statics (so their bodies read as before); these macros give
 * them prefixed link names, so that nothing else linked into the agent can clash with them. */
#define crc_of stint_journal_i_crc_of
#define dead_body stint_journal_i_dead_body
#define decode_stored stint_journal_i_decode_stored
#define fail stint_journal_i_fail
#define ldb_fail stint_journal_i_ldb_fail
#define make_key stint_journal_i_make_key
#define meta_key_ok stint_journal_i_meta_key_ok
#define put_state stint_journal_i_put_state
#define seal_record stint_journal_i_seal_record
#define seek_first_record stint_journal_i_seek_first_record
#define state_decode stint_journal_i_state_decode
#define transient_error stint_journal_i_transient_error
#define unseal stint_journal_i_unseal
#define user_key stint_journal_i_user_key
#define wall_ms stint_journal_i_wall_ms
#define write_batch stint_journal_i_write_batch
#define mark_read stint_journal_i_mark_read
#define mark_remove stint_journal_i_mark_remove
#define mark_write stint_journal_i_mark_write
#define path_join stint_journal_i_path_join
#define db_bring_up stint_journal_i_db_bring_up
#define db_close stint_journal_i_db_close
#define ensure_db stint_journal_i_ensure_db
#define flush_pending stint_journal_i_flush_pending
#define drop_newest stint_journal_i_drop_newest
#define drop_oldest stint_journal_i_drop_oldest
#define encode_into stint_journal_i_encode_into
#define head_time stint_journal_i_head_time
#define rc_drop stint_journal_i_rc_drop
#define dead_commit stint_journal_i_dead_commit
#define seqlist_add stint_journal_i_seqlist_add
#define maint_main stint_journal_i_maint_main
#define release_table_pages stint_journal_i_release_table_pages
#define release_maybe stint_journal_i_release_maybe
#define want_compaction stint_journal_i_want_compaction

/* format.c */
void make_key(uint8_t k[KEY_LEN], char prefix, uint64_t seq);
int64_t wall_ms(struct stint_journal *j);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
enum stint_err
fail(struct stint_journal *j, enum stint_err e, const char *fmt, ...);
enum stint_err ldb_fail(struct stint_journal *j, char *lerr, const char *what);
bool transient_error(const char *m);
uint32_t crc_of(const uint8_t *p, size_t n);
bool unseal(const uint8_t *v, size_t vl, const uint8_t **body, size_t *bl);
bool state_decode(const uint8_t *p, size_t len, struct jstate *s);
void put_state(struct stint_journal *j, const struct jstate *s);
bool decode_stored(const uint8_t *v, size_t len, uint64_t seq, struct stint_record *r);
enum stint_err seal_record(const struct stint_record *r, struct stint_buf *b);
void dead_body(const uint8_t *v, size_t vl, const uint8_t **body, size_t *bl);
bool meta_key_ok(const char *key);
size_t user_key(char *out, const char *key);
enum stint_err write_batch(struct stint_journal *j, bool sync, const char *what);
void seek_first_record(struct stint_journal *j, leveldb_iterator_t *it);

/* mark.c */
int path_join(char *out, size_t cap, const char *dir, const char *name);
void mark_read(const char *dir, struct mark *m);
void mark_remove(const char *dir);
void mark_write(struct stint_journal *j);

/* recover.c */
void db_close(struct stint_journal *j);
enum stint_err db_bring_up(struct stint_journal *j, struct stint_journal_open_info *info);
enum stint_err ensure_db(struct stint_journal *j);

/* append.c */
enum stint_err flush_pending(struct stint_journal *j);

/* bounds.c */
int64_t head_time(struct stint_journal *j, bool for_age);
enum stint_err encode_into(struct stint_journal *j, const struct stint_record *r, uint64_t seq,
                           size_t *off, size_t *len);
enum stint_err drop_oldest(struct stint_journal *j, struct jstate *st, uint64_t need,
                           uint64_t target, int64_t cutoff);
enum stint_err drop_newest(struct stint_journal *j, struct jstate *st,
                           const struct stint_record *records, size_t n);

/* read.c */
void rc_drop(struct stint_journal *j);

/* dead.c */
bool seqlist_add(struct seqlist *l, uint64_t seq);
enum stint_err dead_commit(struct stint_journal *j, const struct seqlist *bad, const char *reason);

/* maint.c */
void release_table_pages(struct stint_journal *j);
/* Adds touched bytes (read or written) and releases the table pages when RELEASE_BYTES were
 * touched or RELEASE_MS passed since the last release: LevelDB's own thread compacts through
 * the same mmaps meanwhile, faster than records come. */
void release_maybe(struct stint_journal *j, uint64_t touched);
/* Asks the journal's thread to compact the record space up to upto (caller holds mu). */
void want_compaction(struct stint_journal *j, uint64_t upto);
void *maint_main(void *arg);

#endif
