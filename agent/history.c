/* history.c — acknowledged records kept for the user's own report (see history.h).
 *
 * Design: the history is the head of the journal's record space, 'r' + be64 seq up to the acked
 * seq, each value the record as it was stored (be32 CRC-32, then the v1 Record), so the
 * journal's own decoder reads it back and no second format exists. Keeping a record costs the
 * journal nothing but the acked seq it writes anyway; this file counts what an ack adds (count,
 * bytes) and applies the bounds afterwards, in a write of its own: dropping old history is not
 * something a crash can make unsafe, only late. (Journal format 1 copied each acked record to
 * an 'h' space in the ack's write: every record written twice, and each level-0 table of a busy
 * journal spanning the whole backlog between the two spaces' tails.)
 *
 * Counting: the count and bytes live only in memory. They are counted by one walk of the space
 * the first time a trim runs after create or stint_history_forget (open, purge, a database made
 * anew), and kept up to date by keep/settle and trim after that. The end time of the oldest
 * record is cached so that a trim with nothing to do costs no read.
 *
 * Seeking: a trim starts at the seq after the last one it dropped, not at the start of the
 * space. What it dropped stays in LevelDB as delete markers until a compaction reaches them, and
 * an iterator walks every marker in its way: from the start of the space, a trim after each ack
 * would walk all earlier trims' markers again (a million acks of records already past `history`:
 * 80 % of the agent's CPU went there).
 *
 * Order: seq order is time order for records of one journal (the tracker closes them in time
 * order), so the oldest by seq is the oldest by time: bounds always drop from the head.
 */
#include "history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#define HKEY_LEN 9
/* A compaction of [FLUSH_KEY, FLUSH_KEY] overlaps no table (every key sorts before it), so all
 * it does is hand the memtable to a level-0 table of its own. */
#define FLUSH_KEY "\xff"
#define ISOLATE_BYTES ((uint64_t)1 << 20)

struct stint_history {
    struct stint_history_opts o;
    bool counted; /* count/bytes reflect the database */
    uint64_t count, bytes;
    uint64_t pend_count, pend_bytes; /* added to a batch not yet written */
    bool head_known;                 /* head_end_ms is the end of the oldest record kept */
    int64_t head_end_ms;
    uint64_t head_seq;       /* no record below this seq is kept (0: not known) */
    struct stint_record rec; /* decoding scratch (large: kept off the stack) */
};

static void hkey(uint8_t k[HKEY_LEN], uint64_t seq)
{
    k[0] = (uint8_t)STINT_HISTORY_PREFIX;
    for (int i = 0; i < 8; i++) {
        k[1 + i] = (uint8_t)(seq >> (56 - 8 * i));
    }
}

static uint64_t hseq(const uint8_t *k)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | k[1 + i];
    }
    return v;
}

static bool is_hkey(const char *k, size_t kl)
{
    return kl == HKEY_LEN && (uint8_t)k[0] == (uint8_t)STINT_HISTORY_PREFIX;
}

enum stint_err stint_history_create(const struct stint_history_opts *o, struct stint_history **out)
{
    struct stint_history *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (!h) {
        return STINT_ENOMEM;
    }
    h->o = *o;
    if (h->o.keep_ms < 0) {
        h->o.keep_ms = 0;
    }
    if (h->o.max_bytes == 0) {
        h->o.max_bytes = STINT_HISTORY_DEFAULT_MAX_BYTES;
    }
    *out = h;
    return STINT_OK;
}

void stint_history_destroy(struct stint_history *h)
{
    free(h);
}

bool stint_history_on(const struct stint_history *h)
{
    return h && h->o.keep_ms > 0;
}

void stint_history_forget(struct stint_history *h)
{
    if (h) {
        h->counted = false;
        h->count = h->bytes = 0;
        h->pend_count = h->pend_bytes = 0;
        h->head_known = false;
        h->head_seq = 0;
    }
}

void stint_history_add(struct stint_history *h, uint64_t n, uint64_t bytes)
{
    if (!stint_history_on(h)) {
        return;
    }
    h->pend_count += n;
    h->pend_bytes += bytes;
}

void stint_history_settle(struct stint_history *h, bool written)
{
    if (!h) {
        return;
    }
    if (written && h->counted) {
        if (h->count == 0) {
            h->head_known = false; /* the first record kept is the new head */
        }
        h->count += h->pend_count;
        h->bytes += h->pend_bytes;
    }
    h->pend_count = h->pend_bytes = 0;
}

static enum stint_err iter_error(leveldb_iterator_t *it, const char *what, char *msg, size_t cap)
{
    char *lerr = NULL;

    leveldb_iter_get_error(it, &lerr);
    if (!lerr) {
        return STINT_OK;
    }
    snprintf(msg, cap, "history: %s: %s", what, lerr);
    leveldb_free(lerr);
    return STINT_EIO;
}

/* Counts the space once (never holding more than one value). */
static enum stint_err count_all(struct stint_history *h, leveldb_t *db,
                                const leveldb_readoptions_t *ro, uint64_t acked, char *msg,
                                size_t cap)
{
    leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
    const char p = STINT_HISTORY_PREFIX;
    enum stint_err err;

    h->count = h->bytes = 0;
    for (leveldb_iter_seek(it, &p, 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        if (kl < 1 || k[0] != p || (is_hkey(k, kl) && hseq((const uint8_t *)k) > acked)) {
            break;
        }
        if (!is_hkey(k, kl)) {
            continue; /* not a record's key: the journal's open deletes such damage */
        }
        (void)leveldb_iter_value(it, &vl);
        h->count++;
        h->bytes += kl + vl;
    }
    err = iter_error(it, "counting failed", msg, cap);
    leveldb_iter_destroy(it);
    h->counted = err == STINT_OK;
    h->head_known = false;
    h->head_seq = 0;
    return err;
}

/* The end time of a stored value; a value that does not decode counts as ended long ago (it is
 * of no use to a report, and only bounds would ever remove it). */
static int64_t end_of(struct stint_history *h, uint64_t seq, const void *v, size_t vl)
{
    if (stint_journal_value_decode(v, vl, seq, &h->rec) != STINT_OK) {
        return INT64_MIN;
    }
    return h->rec.end_ms;
}

enum stint_err stint_history_trim(struct stint_history *h, leveldb_t *db,
                                  const leveldb_readoptions_t *ro, const leveldb_writeoptions_t *wo,
                                  uint64_t acked, int64_t now_ms, uint64_t *freed, char *msg,
                                  size_t cap)
{
    leveldb_writebatch_t *wb = NULL;
    leveldb_iterator_t *it = NULL;
    const char p = STINT_HISTORY_PREFIX;
    int64_t cutoff = stint_history_on(h) ? now_ms - h->o.keep_ms : INT64_MAX;
    uint64_t count, bytes, gone = 0, head = 0, floor_bytes;
    enum stint_err err = STINT_OK;
    uint8_t k0[HKEY_LEN];
    char *lerr = NULL;

    if (freed) {
        *freed = 0;
    }
    if (!h->counted) {
        err = count_all(h, db, ro, acked, msg, cap);
        if (err != STINT_OK) {
            goto cleanup;
        }
    }
    if (h->count == 0 ||
        (h->bytes <= h->o.max_bytes && h->head_known && h->head_end_ms >= cutoff)) {
        goto cleanup;
    }
    /* over the cap: down to 1/16 under it, so that a full history is trimmed in runs, not a
     * record per ack (each run is a write of deletes at the head of the record space) */
    floor_bytes = h->bytes > h->o.max_bytes ? h->o.max_bytes - h->o.max_bytes / 16 : h->o.max_bytes;
    count = h->count;
    bytes = h->bytes;
    wb = leveldb_writebatch_create();
    it = leveldb_create_iterator(db, ro);
    h->head_known = false;
    hkey(k0, h->head_seq);
    if (h->head_seq) {
        leveldb_iter_seek(it, (const char *)k0, sizeof(k0));
    } else {
        leveldb_iter_seek(it, &p, 1); /* from the very start: keys that are not 9 bytes too */
    }
    for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        const char *v = leveldb_iter_value(it, &vl);
        int64_t end;
        if (kl < 1 || k[0] != p || (is_hkey(k, kl) && hseq((const uint8_t *)k) > acked)) {
            break; /* past the acked seq: records still to send, never history */
        }
        if (!is_hkey(k, kl)) {
            continue;
        }
        /* over the cap it goes whatever its time: decoded only when its time decides */
        end = bytes > floor_bytes ? INT64_MIN : end_of(h, hseq((const uint8_t *)k), v, vl);
        if (bytes <= floor_bytes && end >= cutoff) {
            h->head_known = true;
            h->head_end_ms = end;
            break;
        }
        head = hseq((const uint8_t *)k) + 1;
        leveldb_writebatch_delete(wb, k, kl);
        count--;
        bytes -= kl + vl;
        gone += kl + vl;
    }
    err = iter_error(it, "reading failed", msg, cap);
    if (err != STINT_OK || gone == 0) {
        goto cleanup;
    }
    /* a run of deletes (a full history trimmed) goes into a memtable of its own, so the
     * level-0 table LevelDB makes of it spans the head of the record space only, not the head
     * and the tail (appends, the state): such a table would overlap, and have a compaction
     * rewrite, every table between. A few records passing their age go with the tail. */
    if (gone >= ISOLATE_BYTES) {
        leveldb_compact_range(db, FLUSH_KEY, 1, FLUSH_KEY, 1);
    }
    leveldb_write(db, wo, wb, &lerr);
    if (!lerr && gone >= ISOLATE_BYTES) {
        leveldb_compact_range(db, FLUSH_KEY, 1, FLUSH_KEY, 1);
    }
    if (lerr) {
        snprintf(msg, cap, "history: dropping old records failed: %s", lerr);
        leveldb_free(lerr);
        err = STINT_EIO;
        goto cleanup;
    }
    h->count = count;
    h->bytes = bytes;
    if (head > h->head_seq) {
        h->head_seq = head;
    }
    if (freed) {
        *freed = gone;
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    if (wb) {
        leveldb_writebatch_destroy(wb);
    }
    return err;
}

enum stint_err stint_history_read(leveldb_t *db, const leveldb_readoptions_t *ro, uint64_t acked,
                                  uint64_t from, size_t max, stint_history_fn fn, void *ctx,
                                  uint64_t *next, bool *more, char *msg, size_t cap)
{
    leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
    enum stint_err err = STINT_OK;
    uint8_t k0[HKEY_LEN];
    size_t n = 0;
    bool left = false;

    hkey(k0, from);
    if (next) {
        *next = from;
    }
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0)); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        const char *v;
        uint64_t seq;
        if (kl < 1 || k[0] != STINT_HISTORY_PREFIX) {
            break;
        }
        if (!is_hkey(k, kl)) {
            continue; /* not ours to interpret: damage, skipped as the record space does */
        }
        if (hseq((const uint8_t *)k) > acked) {
            break; /* records still to send */
        }
        if (n == max) {
            left = true;
            break;
        }
        seq = hseq((const uint8_t *)k);
        v = leveldb_iter_value(it, &vl);
        err = fn(ctx, seq, (const uint8_t *)v, vl);
        if (err != STINT_OK) {
            goto cleanup;
        }
        n++;
        if (next) {
            *next = seq + 1;
        }
    }
    err = iter_error(it, "reading failed", msg, cap);
cleanup:
    if (more) {
        *more = left;
    }
    leveldb_iter_destroy(it);
    return err;
}

void stint_history_stats(const struct stint_history *h, uint64_t *count, uint64_t *bytes)
{
    *count = h && h->counted ? h->count : 0;
    *bytes = h && h->counted ? h->bytes : 0;
}

uint64_t stint_history_head(const struct stint_history *h)
{
    return h ? h->head_seq : 0;
}
