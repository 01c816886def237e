/* read.c — reading batches for the sender and acking them, with the read cache that
 * makes an ack need no second iteration.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "journal_int.h"

/* The next call after a failed write reopens LevelDB (see the design block). */
void rc_drop(struct stint_journal *j)
{
    j->rc_valid = false;
    j->rc_head = j->rc_n = 0;
}

static void rc_push(struct stint_journal *j, uint64_t seq, size_t size)
{
    if (!j->rc_valid) {
        return;
    }
    if (j->rc_n == j->rc_cap) {
        size_t ncap = j->rc_cap ? j->rc_cap * 2 : 1024;
        uint64_t *a;
        uint32_t *b;
        if (ncap > RC_MAX) {
            rc_drop(j);
            return;
        }
        a = realloc(j->rc_seq, ncap * sizeof(*a));
        if (a) {
            j->rc_seq = a;
        }
        b = a ? realloc(j->rc_size, ncap * sizeof(*b)) : NULL;
        if (!a || !b) {
            rc_drop(j);
            return;
        }
        j->rc_size = b;
        j->rc_cap = ncap;
    }
    j->rc_seq[j->rc_n] = seq;
    j->rc_size[j->rc_n] = (uint32_t)size;
    j->rc_n++;
}

enum stint_err stint_journal_read(struct stint_journal *j, uint64_t from, size_t max_records,
                                  size_t max_bytes, unsigned flags, stint_journal_entry_fn fn,
                                  void *ctx, uint64_t *next_from, size_t *n_read)
{
    leveldb_iterator_t *it = NULL;
    struct seqlist bad = {0};
    enum stint_err err = STINT_OK;
    size_t n = 0, bytes = 0;
    uint64_t last = 0;
    char *lerr = NULL;
    uint8_t k0[KEY_LEN];

    if (n_read) {
        *n_read = 0;
    }
    pthread_mutex_lock(&j->mu);
    if (!fn) {
        err = fail(j, STINT_EINVAL, "journal %s: read: no callback", j->path);
        goto cleanup;
    }
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    if (from <= j->st.acked) {
        from = j->st.acked + 1;
    }
    if (from == j->st.acked + 1) {
        rc_drop(j); /* a read from the acked point starts the cache afresh */
        j->rc_valid = true;
        j->rc_base = j->st.acked;
    } else if (!(j->rc_valid && j->rc_base == j->st.acked &&
                 from == (j->rc_n > j->rc_head ? j->rc_seq[j->rc_n - 1] + 1 : from - 1))) {
        rc_drop(j); /* not a continuation of what the cache covers */
    }
    last = from - 1;
    make_key(k0, P_REC, from);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0));
         n < max_records && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        struct stint_journal_entry e;
        uint64_t seq;
        if (kl == 0 || k[0] != P_REC) {
            break;
        }
        if (kl != KEY_LEN) {
            continue; /* damage made after open (settle deletes those it finds): not a record */
        }
        seq = stint_be64_get(k + 1);
        if (n > 0 && bytes + vl > max_bytes) {
            break;
        }
        e.seq = seq;
        e.record = NULL;
        if ((flags & STINT_JOURNAL_RAW) ? !unseal(v, vl, &e.raw, &e.raw_len)
                                        : !decode_stored(v, vl, seq, &j->dec_rec)) {
            if (!seqlist_add(&bad, seq)) {
                err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
                goto cleanup;
            }
            continue;
        }
        if (!(flags & STINT_JOURNAL_RAW)) {
            e.raw = v + CRC_LEN;
            e.raw_len = vl - CRC_LEN;
            e.record = &j->dec_rec;
        }
        err = fn(ctx, &e);
        if (err != STINT_OK) {
            goto cleanup;
        }
        rc_push(j, seq, vl);
        n++;
        bytes += vl;
        j->touched_bytes += vl;
        last = seq;
        if (seq > j->read_hwm) {
            j->read_hwm = seq;
        }
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        /* damage found while running: the next call reopens, which repairs */
        j->broken = true;
        err = ldb_fail(j, lerr, "read failed (the journal will be repaired)");
        goto cleanup;
    }
    if (next_from) {
        *next_from = last + 1;
    }
    release_maybe(j, 0);
    if (n_read) {
        *n_read = n;
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    if (bad.n && j->db && !j->broken) {
        enum stint_err e2 = dead_commit(j, &bad, "undecodable");
        if (err == STINT_OK) {
            err = e2;
        }
    }
    free(bad.v);
    pthread_mutex_unlock(&j->mu);
    return err;
}

/* How much history trims drop between two compactions of what they dropped. */
static uint64_t hist_compact_bytes(const struct stint_journal *j)
{
    uint64_t cap =
        j->o.history_max_bytes ? j->o.history_max_bytes : STINT_HISTORY_DEFAULT_MAX_BYTES;
    return cap / 4 > COMPACT_BYTES ? cap / 4 : COMPACT_BYTES;
}

/* Applies the history's bounds after an ack; returns the bytes they dropped. A failure is not
 * the ack's: the records are acked, and old history goes at the next trim. */
static uint64_t history_after_ack(struct stint_journal *j)
{
    uint64_t freed = 0;
    char msg[256];

    (void)stint_history_trim(j->hist, j->db, j->ropt, j->wopt, j->st.acked, wall_ms(j), &freed, msg,
                             sizeof(msg));
    if (freed) {
        release_table_pages(j); /* the trim read the head of the record space */
    }
    return freed;
}

enum stint_err stint_journal_ack(struct stint_journal *j, uint64_t seq)
{
    enum stint_err err = STINT_OK;
    uint64_t freed = 0, trimmed;
    bool hist = stint_history_on(j->hist); /* keep what is acked where it lies: delete nothing */

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    if (seq <= j->st.acked) {
        goto cleanup;
    }
    if (seq >= j->st.next_seq) {
        err = fail(j, STINT_EINVAL,
                   "journal %s: ack of seq %" PRIu64 " but the last seq given out is %" PRIu64,
                   j->path, seq, j->st.next_seq - 1);
        goto cleanup;
    }
    if (j->rc_valid && j->rc_base == j->st.acked && j->rc_n > j->rc_head &&
        seq <= j->rc_seq[j->rc_n - 1]) {
        /* everything stored up to seq was handed out by reads: their keys and sizes are known,
         * nothing needs reading */
        struct jstate st = j->st;
        size_t i = j->rc_head;
        uint64_t n = 0, passed = 0;
        leveldb_writebatch_clear(j->wb);
        for (; i < j->rc_n && j->rc_seq[i] <= seq; i++) {
            uint8_t k[KEY_LEN];
            if (!hist) {
                make_key(k, P_REC, j->rc_seq[i]);
                leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
            }
            st.count--;
            st.bytes -= KEY_LEN + j->rc_size[i];
            passed += KEY_LEN + j->rc_size[i];
            n++;
        }
        st.acked = seq;
        put_state(j, &st);
        stint_history_add(j->hist, n, passed);
        err = write_batch(j, false, "ack failed");
        stint_history_settle(j->hist, err == STINT_OK);
        if (err != STINT_OK) {
            rc_drop(j);
            goto cleanup;
        }
        freed += hist ? 0 : passed;
        j->st = st;
        j->rc_head = i;
        j->rc_base = seq;
        if (j->rc_head == j->rc_n) {
            j->rc_head = j->rc_n = 0;
        }
        goto acked;
    }
    rc_drop(j);
    for (;;) {
        /* chunks keep each WriteBatch small on a large ack; each chunk is a consistent state */
        leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
        struct jstate st = j->st;
        char *lerr = NULL;
        size_t n = 0;
        uint64_t chunk_bytes = 0;
        bool more = false;
        leveldb_writebatch_clear(j->wb);
        for (seek_first_record(j, it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
            size_t kl, vl;
            const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
            uint64_t s;
            if (kl != KEY_LEN || k[0] != P_REC || (s = stint_be64_get(k + 1)) > seq) {
                break;
            }
            if (n == ACK_CHUNK) {
                more = true;
                break;
            }
            (void)leveldb_iter_value(it, &vl);
            if (!hist) {
                leveldb_writebatch_delete(j->wb, (const char *)k, kl);
            }
            st.count--;
            st.bytes -= kl + vl;
            chunk_bytes += kl + vl;
            st.acked = s;
            n++;
        }
        leveldb_iter_get_error(it, &lerr);
        leveldb_iter_destroy(it);
        if (lerr) {
            j->broken = true;
            err = ldb_fail(j, lerr, "ack failed");
            goto cleanup;
        }
        if (!more) {
            st.acked = seq;
        }
        put_state(j, &st);
        stint_history_add(j->hist, n, chunk_bytes);
        err = write_batch(j, false, "ack failed");
        stint_history_settle(j->hist, err == STINT_OK);
        if (err != STINT_OK) {
            goto cleanup;
        }
        j->st = st;
        freed += hist ? 0 : chunk_bytes;
        if (!more) {
            break;
        }
    }
acked:
    trimmed = history_after_ack(j);
    j->oldest_valid = false;
    j->acked_bytes_since += freed;
    j->trimmed_bytes_since += trimmed;
    release_maybe(j, freed + trimmed);
    /* what an ack deletes is compacted every few MiB; what a history trim drops, every quarter
     * of the history's cap or a minute after, whichever comes first (a compaction of the head
     * of the record space also rewrites the level-0 tables of the tail, so not for every run;
     * but what a trim drops must leave the files, even for a user who trims a record a day) */
    if (j->acked_bytes_since >= COMPACT_BYTES ||
        (j->st.count == 0 && j->acked_bytes_since >= COMPACT_EMPTY_BYTES) ||
        j->trimmed_bytes_since >= hist_compact_bytes(j) ||
        (j->trimmed_bytes_since &&
         stint_clock_mono_ms() - j->trim_compact_mono >= TRIM_COMPACT_MS)) {
        uint64_t head = stint_history_head(j->hist); /* the history trims below it */
        want_compaction(j, !hist ? j->st.acked : head ? head - 1 : j->st.acked);
    }
cleanup:
    pthread_mutex_unlock(&j->mu);
    return err;
}
