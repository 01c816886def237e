/* history.h — the user's own history: acknowledged records kept on the laptop for a while, so
 * that `stintctl report` can show the user's day after the server has taken the records.
 *
 * The history is the head of the journal's record space: the records at or below the acked seq
 * ('r' + be64 seq, the stored value unchanged; spec/JOURNAL.md, "History"). An acknowledgement
 * only moves the acked seq (one small write, nothing read, nothing copied): what it passes
 * becomes history where it lies, so a crash can never find a record in two places or in none.
 * Nothing that sends reads below the acked seq: every read of the journal starts after it.
 * Purge removes it with the rest of the database.
 *
 * Bounds: at most max_bytes (key + value bytes; once passed, the oldest go until 1/16 under it,
 * so that a full history is trimmed in runs) and records that ended
 * more than keep_ms ago go at the next trim (after each acknowledgement, at open and before a
 * read). keep_ms 0 keeps none: the journal then deletes what is acked at once.
 *
 * Conventions: the journal owns the LevelDB handle and serialises calls (it holds its mutex);
 * these functions take the handle for each call, so a database made anew (purge, repair) needs
 * only stint_history_forget. Errors are enum stint_err with a message in the caller's buffer.
 */
#ifndef STINT_AGENT_HISTORY_H
#define STINT_AGENT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <leveldb/c.h>

#include "stint/error.h"

#define STINT_HISTORY_PREFIX 'r' /* the journal's record space */
#define STINT_HISTORY_DEFAULT_KEEP_MS ((int64_t)14 * 24 * 3600 * 1000)
#define STINT_HISTORY_DEFAULT_MAX_BYTES ((uint64_t)64 << 20)

struct stint_history_opts {
    int64_t keep_ms;    /* records that ended longer ago are dropped; 0: keep none */
    uint64_t max_bytes; /* key + value bytes kept at most; 0: 64 MiB */
};

struct stint_history;

/* On success *out is the caller's: stint_history_destroy(). STINT_ENOMEM. */
enum stint_err stint_history_create(const struct stint_history_opts *o, struct stint_history **out);
void stint_history_destroy(struct stint_history *h); /* NULL is fine */

/* Whether acknowledged records are kept at all (keep_ms > 0). NULL: false. */
bool stint_history_on(const struct stint_history *h);

/* The database was replaced or emptied: what is counted is recounted at the next trim. */
void stint_history_forget(struct stint_history *h);

/* Counts n acknowledged records of `bytes` key + value bytes into the history (nothing when it
 * is off). Call stint_history_settle once the ack's write was made or not. */
void stint_history_add(struct stint_history *h, uint64_t n, uint64_t bytes);
void stint_history_settle(struct stint_history *h, bool written);

/* Drops the oldest records at or below `acked` while more than max_bytes are kept, and those
 * that ended before now_ms - keep_ms (all of them when history is off), in one write of its own.
 * *freed (may be NULL) gets the bytes dropped. STINT_EIO with a message in msg (cap bytes). */
enum stint_err stint_history_trim(struct stint_history *h, leveldb_t *db,
                                  const leveldb_readoptions_t *ro, const leveldb_writeoptions_t *wo,
                                  uint64_t acked, int64_t now_ms, uint64_t *freed, char *msg,
                                  size_t cap);

/* One kept record, valid during the call: the stored value (stint_journal_value_decode reads
 * it). A non-OK return stops the read and is returned. */
typedef enum stint_err (*stint_history_fn)(void *ctx, uint64_t seq, const uint8_t *value,
                                           size_t len);

/* Calls fn for at most max kept records with from <= seq <= acked, oldest first. *next (may be
 * NULL): where to continue; *more (may be NULL): whether records are left after it. STINT_EIO. */
enum stint_err stint_history_read(leveldb_t *db, const leveldb_readoptions_t *ro, uint64_t acked,
                                  uint64_t from, size_t max, stint_history_fn fn, void *ctx,
                                  uint64_t *next, bool *more, char *msg, size_t cap);

/* No record below this seq is kept (what the trims dropped is below it); 0 when not known. */
uint64_t stint_history_head(const struct stint_history *h);

/* Records and bytes kept, as last counted (a forgotten count reads as 0 until the next trim). */
void stint_history_stats(const struct stint_history *h, uint64_t *count, uint64_t *bytes);

#endif
