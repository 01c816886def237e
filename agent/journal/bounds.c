/* bounds.c — the bounds and the drop policy: max_age and max_bytes drop the oldest
 * records (replacing them by one gap record) or refuse the newest (one gap at the tail).
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE

#include "journal_int.h"

/* ---- dropping, gaps ---- */

/* Time of the head of the queue. for_age: the end of the first record that is not a gap (a gap
 * does not age away by itself; see drop_oldest), 0 when there is none close to the head;
 * else the start of the first record. One seek. */
int64_t head_time(struct stint_journal *j, bool for_age)
{
    leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
    int64_t t = 0;
    int gaps = 0;

    for (seek_first_record(j, it); leveldb_iter_valid(it) && gaps < 16; leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        if (kl != KEY_LEN || k[0] != P_REC) {
            break;
        }
        if (!decode_stored(v, vl, stint_be64_get(k + 1), &j->dec_rec)) {
            continue; /* a damaged value is found and moved by the next read */
        }
        if (!for_age) {
            t = j->dec_rec.start_ms;
            break;
        }
        if (j->dec_rec.kind == STINT_KIND_GAP) {
            gaps++;
            continue;
        }
        t = j->dec_rec.end_ms ? j->dec_rec.end_ms : j->dec_rec.start_ms;
        break;
    }
    leveldb_iter_destroy(it);
    return t;
}

enum stint_err encode_into(struct stint_journal *j, const struct stint_record *r, uint64_t seq,
                           size_t *off, size_t *len)
{
    stint_record_copy(&j->enc_rec, r);
    j->enc_rec.seq = seq;
    *off = j->enc.len;
    if (seal_record(&j->enc_rec, &j->enc) != STINT_OK) {
        return fail(j, STINT_EINVAL, "journal %s: record does not encode", j->path);
    }
    *len = j->enc.len - *off;
    return STINT_OK;
}

struct gapacc {
    uint64_t count; /* records the gap stands for */
    uint64_t last;  /* seq of the last record dropped: where the gap goes */
    int64_t start_ms, end_ms;
    uint64_t removed; /* stored entries deleted */
};

static void gap_merge(struct gapacc *g, const struct stint_record *r, uint64_t seq)
{
    uint64_t c = r->kind == STINT_KIND_GAP ? r->gap_count : 1;
    g->count += c;
    if (r->start_ms && (g->start_ms == 0 || r->start_ms < g->start_ms)) {
        g->start_ms = r->start_ms;
    }
    if (r->end_ms > g->end_ms) {
        g->end_ms = r->end_ms;
    }
    if (seq > g->last) {
        g->last = seq;
    }
}

/* Puts a gap record for g at seq g->last into the batch and accounts for it in *st. */
static enum stint_err put_gap(struct stint_journal *j, const struct gapacc *g, struct jstate *st)
{
    struct stint_record *r = &j->enc_rec;
    uint8_t k[KEY_LEN];
    size_t off, len;
    struct stint_buf tmp = {0};
    enum stint_err err;

    stint_record_clear(r);
    r->seq = g->last;
    r->kind = STINT_KIND_GAP;
    r->gap_count = g->count;
    r->start_ms = g->start_ms ? g->start_ms : 1;
    r->end_ms = g->end_ms >= r->start_ms ? g->end_ms : r->start_ms;
    err = seal_record(r, &tmp);
    if (err != STINT_OK) {
        stint_buf_free(&tmp);
        return fail(j, err, "journal %s: gap record does not encode", j->path);
    }
    off = 0;
    len = tmp.len;
    make_key(k, P_REC, g->last);
    leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k), (const char *)tmp.data + off, len);
    stint_buf_free(&tmp);
    st->bytes += KEY_LEN + len;
    st->count++;
    st->gaps++;
    return STINT_OK;
}

/* Drops from the head: while the store is over `target` bytes (with `need` more to come), or the
 * head record ended before `cutoff` (0: no age bound). A gap record met on the way is merged
 * into the new gap only when something after it is dropped too. */
enum stint_err drop_oldest(struct stint_journal *j, struct jstate *st, uint64_t need,
                           uint64_t target, int64_t cutoff)
{
    leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
    struct gapacc g = {0};
    char *lerr = NULL;
    bool pending = false;
    uint64_t pend_seq = 0, pend_size = 0;
    struct stint_record pend; /* the held gap: small, so the copy is cheap */
    enum stint_err err = STINT_OK;

    for (seek_first_record(j, it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        uint64_t seq;
        bool ok, drop;
        if (kl != KEY_LEN || k[0] != P_REC) {
            break;
        }
        seq = stint_be64_get(k + 1);
        ok = decode_stored(v, vl, seq, &j->dec_rec);
        if (ok && j->dec_rec.kind == STINT_KIND_GAP) {
            if (pending) { /* two gaps in a row: the first is merged */
                uint8_t pk[KEY_LEN];
                make_key(pk, P_REC, pend_seq);
                leveldb_writebatch_delete(j->wb, (const char *)pk, sizeof(pk));
                gap_merge(&g, &pend, pend_seq);
                st->bytes -= pend_size;
                st->count--;
                g.removed++;
            }
            stint_record_clear(&pend);
            pend.kind = j->dec_rec.kind;
            pend.gap_count = j->dec_rec.gap_count;
            pend.start_ms = j->dec_rec.start_ms;
            pend.end_ms = j->dec_rec.end_ms;
            pending = true;
            pend_seq = seq;
            pend_size = kl + vl;
            continue;
        }
        drop = st->bytes + need > target;
        if (!drop && cutoff && ok) {
            int64_t t = j->dec_rec.end_ms ? j->dec_rec.end_ms : j->dec_rec.start_ms;
            drop = t < cutoff;
        }
        if (!drop) {
            break;
        }
        if (pending) {
            uint8_t pk[KEY_LEN];
            make_key(pk, P_REC, pend_seq);
            leveldb_writebatch_delete(j->wb, (const char *)pk, sizeof(pk));
            gap_merge(&g, &pend, pend_seq);
            st->bytes -= pend_size;
            st->count--;
            g.removed++;
            pending = false;
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, kl);
        if (ok) {
            gap_merge(&g, &j->dec_rec, seq);
        } else {
            g.count++; /* a value that does not decode is dropped like any other */
            g.last = seq;
        }
        st->bytes -= kl + vl;
        st->count--;
        st->dropped++;
        g.removed++;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "reading the oldest records");
        goto cleanup;
    }
    if (g.removed) {
        err = put_gap(j, &g, st);
        j->oldest_valid = false;
        rc_drop(j);
    }
cleanup:
    leveldb_iter_destroy(it);
    return err;
}

/* DROP_NEWEST: the n records are not stored; one gap at the tail says so. The tail gap is
 * updated in place while the sender has not read it, else a new gap takes the next seq. */
enum stint_err drop_newest(struct stint_journal *j, struct jstate *st,
                           const struct stint_record *records, size_t n)
{
    struct gapacc g = {0};
    uint64_t tail = st->next_seq - 1;

    for (size_t i = 0; i < n; i++) {
        gap_merge(&g, &records[i], 0);
        g.count = g.count - (records[i].kind == STINT_KIND_GAP ? records[i].gap_count : 1) + 1;
    }
    st->dropped += n;
    if (tail > st->acked && tail > j->read_hwm) {
        uint8_t k[KEY_LEN];
        size_t vl = 0;
        char *lerr = NULL;
        char *v;
        make_key(k, P_REC, tail);
        v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            j->broken = true;
            return ldb_fail(j, lerr, "reading the newest record");
        }
        if (v && decode_stored((const uint8_t *)v, vl, tail, &j->dec_rec) &&
            j->dec_rec.kind == STINT_KIND_GAP) {
            gap_merge(&g, &j->dec_rec, tail);
            st->bytes -= KEY_LEN + vl;
            st->count--;
            st->gaps--; /* put_gap counts it again */
            leveldb_free(v);
            return put_gap(j, &g, st);
        }
        leveldb_free(v);
    }
    g.last = st->next_seq++;
    return put_gap(j, &g, st);
}
