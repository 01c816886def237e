/* append.c — appending records and checkpoints, and the coalesced appends of `interval`
 * (flush_pending).
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal_int.h"
#include "stint/pb.h"

/* Hands the coalesced appends to LevelDB. On failure they stay pending (and counted): the
 * handle is marked broken and the next call reopens and tries again. */
enum stint_err flush_pending(struct stint_journal *j)
{
    char *lerr = NULL;

    if (!j->pend_n) {
        return STINT_OK;
    }
    leveldb_write(j->db, j->wopt, j->pend, &lerr);
    if (lerr) {
        j->broken = true;
        return ldb_fail(j, lerr, "append failed");
    }
    leveldb_writebatch_clear(j->pend);
    j->pend_n = 0;
    j->pend_bytes = 0;
    return STINT_OK;
}

/* `interval`: the n records encoded in j->enc (at j->offs) join the pending WriteBatch, handed
 * to LevelDB after PEND_MAX records or PEND_MS (see the design block); they count as stored at
 * once. need: their stored bytes; now: the wall clock. */
static enum stint_err append_pending(struct stint_journal *j, const struct stint_record *records,
                                     size_t n, uint64_t need, int64_t now, uint64_t *first_seq)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t k[KEY_LEN];
        make_key(k, P_REC, j->st.next_seq + i);
        leveldb_writebatch_put(j->pend, (const char *)k, sizeof(k),
                               (const char *)j->enc.data + j->offs[i], j->offs[i + 1] - j->offs[i]);
    }
    if (first_seq) {
        *first_seq = j->st.next_seq;
    }
    if (!j->pend_n) {
        j->pend_since_mono = stint_clock_mono_ms();
        pthread_cond_broadcast(&j->cv); /* the thread hands them over if nothing follows */
    }
    j->pend_n += n;
    j->pend_bytes += need;
    j->pend_last = j->st.next_seq + n - 1;
    j->st.next_seq += n;
    j->st.count += n;
    j->st.bytes += need;
    if (j->oldest_ms == 0) {
        j->oldest_ms = records[0].end_ms ? records[0].end_ms : now;
    }
    if (j->pend_n >= PEND_MAX || stint_clock_mono_ms() - j->pend_since_mono >= PEND_MS) {
        /* these records are accepted either way: on failure they stay pending, the handle
         * reopens on the next call, and that call reports the disk's error */
        (void)flush_pending(j);
    }
    return STINT_OK;
}

static enum stint_err append_locked(struct stint_journal *j, const struct stint_record *records,
                                    size_t n, const struct stint_journal_append_opts *ao,
                                    uint64_t *first_seq)
{
    struct jstate st;
    uint64_t need = 0;
    int64_t now;
    bool newest_dropped = false, was_synced, coalesce;
    enum stint_err err;
    char ukey[sizeof(K_USER) + STINT_JOURNAL_META_KEY_MAX];

    if (first_seq) {
        *first_seq = 0;
    }
    if ((n && !records) ||
        (ao && ao->meta_key &&
         (!meta_key_ok(ao->meta_key) || ao->meta_len > STINT_JOURNAL_META_VAL_MAX))) {
        return fail(j, STINT_EINVAL, "journal %s: append: invalid argument", j->path);
    }
    coalesce = j->pend && n && !(ao && (ao->meta_key || ao->clear_checkpoint));
    err = coalesce && !j->broken && j->db ? STINT_OK : ensure_db(j);
    if (err != STINT_OK) {
        return err;
    }
    if (n + 1 > j->offs_cap) {
        size_t *p = realloc(j->offs, (n + 1) * sizeof(*p));
        if (!p) {
            return fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
        }
        j->offs = p;
        j->offs_cap = n + 1;
    }
    st = j->st;
    stint_buf_reset(&j->enc);
    for (size_t i = 0; i < n; i++) {
        size_t off = 0, len = 0;
        err = encode_into(j, &records[i], st.next_seq + i, &off, &len);
        if (err != STINT_OK) {
            return err;
        }
        j->offs[i] = off;
        need += KEY_LEN + len;
    }
    j->offs[n] = j->enc.len;
    leveldb_writebatch_clear(j->wb);
    now = wall_ms(j);
    if (coalesce &&
        (st.bytes + need > j->o.max_bytes || !j->oldest_valid ||
         (j->o.max_age_ms > 0 && j->oldest_ms && j->oldest_ms < now - j->o.max_age_ms))) {
        coalesce = false; /* a bound may drop records: that works on what LevelDB holds */
        err = flush_pending(j);
        if (err != STINT_OK) {
            return err;
        }
    }
    if (coalesce) {
        return append_pending(j, records, n, need, now, first_seq);
    }
    if (n && j->o.max_age_ms > 0) {
        if (!j->oldest_valid) {
            j->oldest_ms = head_time(j, true); /* found again lazily after acks and drops */
            j->oldest_valid = true;
        }
        if (j->oldest_ms && j->oldest_ms < now - j->o.max_age_ms) {
            err = drop_oldest(j, &st, 0, UINT64_MAX, now - j->o.max_age_ms);
            if (err != STINT_OK) {
                return err;
            }
        }
    }
    if (n && st.bytes + need > j->o.max_bytes) {
        if (j->o.full == STINT_FULL_DROP_OLDEST) {
            err = drop_oldest(j, &st, need, j->o.max_bytes - j->o.max_bytes / 64, 0);
        } else {
            err = drop_newest(j, &st, records, n);
            newest_dropped = true;
        }
        if (err != STINT_OK) {
            return err;
        }
    }
    if (!newest_dropped) {
        for (size_t i = 0; i < n; i++) {
            uint8_t k[KEY_LEN];
            make_key(k, P_REC, st.next_seq + i);
            leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k),
                                   (const char *)j->enc.data + j->offs[i],
                                   j->offs[i + 1] - j->offs[i]);
        }
        if (n && first_seq) {
            *first_seq = st.next_seq;
        }
        st.next_seq += n;
        st.count += n;
        st.bytes += need;
    }
    if (ao && ao->meta_key) {
        size_t kl = user_key(ukey, ao->meta_key);
        if (ao->meta_val) {
            leveldb_writebatch_put(j->wb, ukey, kl, ao->meta_val, ao->meta_len);
        } else {
            leveldb_writebatch_delete(j->wb, ukey, kl);
        }
    }
    if (ao && ao->clear_checkpoint) {
        leveldb_writebatch_delete(j->wb, K_CHECKPOINT, 1);
    }
    if (st.dropped != j->st.dropped || st.gaps != j->st.gaps || st.lost != j->st.lost) {
        /* a plain append leaves the state alone (half the bytes per append): next seq, count and
         * bytes are recounted on open; anything else that changes is written with it */
        put_state(j, &st);
    }
    {
        struct jstate before = j->st;
        was_synced = j->durable == before.next_seq - 1;
        j->st = st; /* write_batch reads next_seq for durable_seq */
        err = write_batch(j, false, "append failed");
        if (err != STINT_OK) {
            j->st = before;
            if (first_seq) {
                *first_seq = 0;
            }
            return err;
        }
    }
    if (n && !newest_dropped && j->oldest_valid && j->oldest_ms == 0) {
        j->oldest_ms = records[0].end_ms ? records[0].end_ms : now;
    }
    if (was_synced && j->o.sync == STINT_SYNC_INTERVAL) {
        pthread_cond_broadcast(&j->cv); /* the thread sleeps without a timeout when all is synced */
    }
    /* LevelDB's compactions read what is appended, several times over, through the same table
     * mmaps: without this a backlog ingested offline keeps its tables in the RSS (30 of 39 MiB
     * at a million records). A compaction reads faster than appends come: so also by time. */
    release_maybe(j, need);
    return STINT_OK;
}

enum stint_err stint_journal_append(struct stint_journal *j, const struct stint_record *records,
                                    size_t n, const struct stint_journal_append_opts *ao,
                                    uint64_t *first_seq)
{
    enum stint_err err;
    pthread_mutex_lock(&j->mu);
    err = append_locked(j, records, n, ao, first_seq);
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_checkpoint(struct stint_journal *j, const struct stint_record *open)
{
    enum stint_err err;
    uint8_t t[8];

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    leveldb_writebatch_clear(j->wb);
    if (open) {
        /* CRC, be64 checkpoint time, then the record (seq 0): the CRC covers time and record */
        static const uint8_t zero[CRC_LEN] = {0};
        stint_buf_reset(&j->enc);
        stint_record_copy(&j->enc_rec, open);
        j->enc_rec.seq = 0;
        j->enc_rec.end_ms = 0;
        stint_be64_put(t, (uint64_t)wall_ms(j));
        if (stint_buf_append(&j->enc, zero, CRC_LEN) != STINT_OK ||
            stint_buf_append(&j->enc, t, sizeof(t)) != STINT_OK ||
            stint_pb_encode_record(&j->enc_rec, &j->enc) != STINT_OK) {
            err = fail(j, STINT_EINVAL, "journal %s: checkpoint does not encode", j->path);
            goto cleanup;
        }
        stint_be32_put(j->enc.data, crc_of(j->enc.data + CRC_LEN, j->enc.len - CRC_LEN));
        leveldb_writebatch_put(j->wb, K_CHECKPOINT, 1, (const char *)j->enc.data, j->enc.len);
    } else {
        leveldb_writebatch_delete(j->wb, K_CHECKPOINT, 1);
    }
    err = write_batch(j, false, "checkpoint failed");
cleanup:
    pthread_mutex_unlock(&j->mu);
    return err;
}
