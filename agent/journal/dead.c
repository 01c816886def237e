/* dead.c — dead letters: records the server refused for good, moved out of the queue
 * under the "d" prefix with the reason, listed, deleted, or put back in the queue on request.
 *
 * Putting back (retry) is one WriteBatch: the records under new seqs at the tail, the deletes of
 * their dead letters and the state together, so a crash leaves each record in exactly one of the
 * two spaces, and a second retry can never queue it twice (the server de-duplicates on the seq,
 * and a retried record has a new one). A retry that would pass max_bytes is refused whole:
 * dropping queued records, or some of the retried ones, to make room would trade one loss for
 * another behind the user's back. Dropping on request is one WriteBatch too, all or nothing.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "journal_int.h"
#include "stint/pb.h"

/* Moves the listed records (ascending seqs) to the dead letters; one batch, counted in *st. */
static enum stint_err dead_move(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                const char *reason, struct jstate *st)
{
    size_t rl = reason ? strlen(reason) : 0;
    int64_t now = wall_ms(j);
    uint64_t over;
    struct stint_buf dv = {0};
    enum stint_err err = STINT_OK;
    size_t skip = 0;

    if (rl > STINT_REASON_MAX) {
        rl = STINT_REASON_MAX;
    }
    over = st->dead + n > j->o.max_dead ? st->dead + n - j->o.max_dead : 0;
    if (over) {
        /* the dead-letter space is bounded: the oldest dead letters go first */
        leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
        const char pfx = P_DEAD;
        for (leveldb_iter_seek(it, &pfx, 1); over && leveldb_iter_valid(it);
             leveldb_iter_next(it)) {
            size_t kl;
            const char *k = leveldb_iter_key(it, &kl);
            if (kl != KEY_LEN || k[0] != P_DEAD) {
                break;
            }
            leveldb_writebatch_delete(j->wb, k, kl);
            st->dead--;
            st->dead_dropped++;
            over--;
        }
        leveldb_iter_destroy(it);
        skip = over < n ? (size_t)over : n; /* still over: the lowest of the new ones go too */
        st->dead_dropped += skip;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t k[KEY_LEN], hdr[DEAD_HDR];
        const uint8_t *body;
        size_t vl = 0, bl;
        char *lerr = NULL;
        char *v;
        make_key(k, P_REC, seqs[i]);
        v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            err = ldb_fail(j, lerr, "reading a record to dead-letter");
            goto cleanup;
        }
        if (!v) {
            continue;
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
        st->count--;
        st->bytes -= KEY_LEN + vl;
        st->dead_total++;
        if (i < skip) {
            leveldb_free(v);
            continue;
        }
        dead_body((const uint8_t *)v, vl, &body, &bl);
        hdr[0] = 1;
        stint_be64_put(hdr + 1, (uint64_t)now);
        hdr[9] = (uint8_t)(rl >> 8);
        hdr[10] = (uint8_t)rl;
        stint_buf_reset(&dv);
        if (stint_buf_append(&dv, hdr, sizeof(hdr)) != STINT_OK ||
            stint_buf_append(&dv, reason, rl) != STINT_OK ||
            stint_buf_append(&dv, body, bl) != STINT_OK) {
            leveldb_free(v);
            err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            goto cleanup;
        }
        leveldb_free(v);
        make_key(k, P_DEAD, seqs[i]);
        leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k), (const char *)dv.data, dv.len);
        st->dead++;
    }
cleanup:
    stint_buf_free(&dv);
    return err;
}

/* Reads a dead-letter value (spec/JOURNAL.md) into *d, all but d->seq; a damaged header makes
 * the whole value the raw bytes, with a reason that says so. */
static void dead_parse(const uint8_t *v, size_t vl, struct stint_journal_dead *d)
{
    size_t rl;
    uint64_t seq = d->seq;

    memset(d, 0, sizeof(*d));
    d->seq = seq;
    if (vl >= DEAD_HDR && v[0] == 1 && (rl = ((size_t)v[9] << 8) | v[10]) <= vl - DEAD_HDR) {
        d->moved_ms = (int64_t)stint_be64_get(v + 1);
        d->reason = (const char *)v + DEAD_HDR;
        d->reason_len = rl;
        d->raw = v + DEAD_HDR + rl;
        d->raw_len = vl - DEAD_HDR - rl;
    } else {
        d->reason = "damaged dead letter";
        d->reason_len = strlen(d->reason);
        d->raw = v;
        d->raw_len = vl;
    }
}

bool seqlist_add(struct seqlist *l, uint64_t seq)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        uint64_t *p = realloc(l->v, ncap * sizeof(*p));
        if (!p) {
            return false;
        }
        l->v = p;
        l->cap = ncap;
    }
    l->v[l->n++] = seq;
    return true;
}

/* Commits a dead-letter move of `bad` with the state, in one batch. */
enum stint_err dead_commit(struct stint_journal *j, const struct seqlist *bad, const char *reason)
{
    struct jstate st = j->st;
    enum stint_err err;

    leveldb_writebatch_clear(j->wb);
    err = dead_move(j, bad->v, bad->n, reason, &st);
    if (err != STINT_OK) {
        return err;
    }
    put_state(j, &st);
    err = write_batch(j, false, "moving records to the dead letters failed");
    if (err == STINT_OK) {
        j->st = st;
        j->oldest_valid = false;
    }
    return err;
}

enum stint_err stint_journal_dead_letter(struct stint_journal *j, uint64_t first, uint64_t last,
                                         const char *reason)
{
    struct seqlist l = {0};
    enum stint_err err = STINT_OK;
    leveldb_iterator_t *it = NULL;
    uint8_t k0[KEY_LEN];
    char *lerr = NULL;

    pthread_mutex_lock(&j->mu);
    if (first > last || first == 0) {
        err = fail(j, STINT_EINVAL, "journal %s: dead_letter: bad range", j->path);
        goto cleanup;
    }
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    if (first <= j->st.acked) {
        first = j->st.acked + 1; /* at or below it: acked, the user's history, never dead */
    }
    make_key(k0, P_REC, first);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0)); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t kl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        if (kl != KEY_LEN || k[0] != P_REC || stint_be64_get(k + 1) > last) {
            break;
        }
        if (!seqlist_add(&l, stint_be64_get(k + 1))) {
            err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            goto cleanup;
        }
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "dead_letter failed");
        goto cleanup;
    }
    if (l.n) {
        rc_drop(j);
        err = dead_commit(j, &l, reason ? reason : "");
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    free(l.v);
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_dead_list(struct stint_journal *j, uint64_t from, size_t max,
                                       stint_journal_dead_fn fn, void *ctx)
{
    leveldb_iterator_t *it = NULL;
    enum stint_err err = STINT_OK;
    uint8_t k0[KEY_LEN];
    char *lerr = NULL;
    size_t n = 0;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK || !fn) {
        err = err ? err : fail(j, STINT_EINVAL, "journal %s: no callback", j->path);
        goto cleanup;
    }
    make_key(k0, P_DEAD, from);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0));
         (max == 0 || n < max) && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        struct stint_journal_dead d;
        if (kl != KEY_LEN || k[0] != P_DEAD) {
            break;
        }
        d.seq = stint_be64_get(k + 1);
        dead_parse(v, vl, &d);
        err = fn(ctx, &d);
        if (err != STINT_OK) {
            goto cleanup;
        }
        n++;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "listing dead letters failed");
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_dead_delete(struct stint_journal *j, uint64_t first, uint64_t last)
{
    leveldb_iterator_t *it = NULL;
    enum stint_err err = STINT_OK;
    uint8_t k0[KEY_LEN];
    char *lerr = NULL;
    struct jstate st;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    st = j->st;
    leveldb_writebatch_clear(j->wb);
    make_key(k0, P_DEAD, first);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0)); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t kl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        if (kl != KEY_LEN || k[0] != P_DEAD || stint_be64_get(k + 1) > last) {
            break;
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, kl);
        st.dead--;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "deleting dead letters failed");
        goto cleanup;
    }
    put_state(j, &st);
    err = write_batch(j, false, "deleting dead letters failed");
    if (err == STINT_OK) {
        j->st = st;
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}

/* ---- retry ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The seqs a retry or a drop works on into *l, ascending and once each: the n named ones, or (seqs
 * NULL) every key of the dead-letter space. */
static enum stint_err pick_seqs(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                struct seqlist *l)
{
    leveldb_iterator_t *it;
    const char pfx = P_DEAD;
    char *lerr = NULL;
    size_t w = 0;

    if (seqs) {
        for (size_t i = 0; i < n; i++) {
            if (!seqlist_add(l, seqs[i])) {
                return fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            }
        }
        qsort(l->v, l->n, sizeof(*l->v), cmp_u64);
        for (size_t i = 0; i < l->n; i++) {
            if (w == 0 || l->v[i] != l->v[w - 1]) {
                l->v[w++] = l->v[i];
            }
        }
        l->n = w;
        return STINT_OK;
    }
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, &pfx, 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        if (kl != KEY_LEN || k[0] != P_DEAD) {
            break;
        }
        if (!seqlist_add(l, stint_be64_get(k + 1))) {
            leveldb_iter_destroy(it);
            return fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
        }
    }
    leveldb_iter_get_error(it, &lerr);
    leveldb_iter_destroy(it);
    if (lerr) {
        j->broken = true;
        return ldb_fail(j, lerr, "listing dead letters failed");
    }
    return STINT_OK;
}

enum retry_outcome { RETRY_STAGED, RETRY_MISSING, RETRY_UNDECODABLE };

/* Stages dead letter `seq` in j->wb: its record under the seq st->next_seq, the delete of its
 * dead letter, both counted in *st. *outcome says whether it was staged, is not a dead letter,
 * or does not decode as the record of its seq (then nothing is staged). */
static enum stint_err retry_one(struct stint_journal *j, uint64_t seq, struct jstate *st,
                                enum retry_outcome *outcome)
{
    struct stint_journal_dead d = {.seq = seq};
    uint8_t k[KEY_LEN];
    size_t vl = 0;
    char *lerr = NULL;
    char *v;

    make_key(k, P_DEAD, seq);
    v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
    if (lerr) {
        leveldb_free(v);
        j->broken = true;
        return ldb_fail(j, lerr, "reading a dead letter to retry");
    }
    *outcome = v ? RETRY_STAGED : RETRY_MISSING;
    if (!v) {
        return STINT_OK;
    }
    dead_parse((const uint8_t *)v, vl, &d);
    stint_buf_reset(&j->enc);
    if (stint_pb_decode_record(d.raw, d.raw_len, &j->dec_rec, NULL, NULL) != STINT_OK ||
        j->dec_rec.seq != seq) {
        *outcome = RETRY_UNDECODABLE;
    } else {
        j->dec_rec.seq = st->next_seq;
        if (seal_record(&j->dec_rec, &j->enc) != STINT_OK) {
            *outcome = RETRY_UNDECODABLE;
        }
    }
    leveldb_free(v);
    if (*outcome != RETRY_STAGED) {
        return STINT_OK;
    }
    leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
    make_key(k, P_REC, st->next_seq);
    leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k), (const char *)j->enc.data,
                           j->enc.len);
    st->next_seq++;
    st->count++;
    st->bytes += KEY_LEN + j->enc.len;
    st->dead--;
    return STINT_OK;
}

enum stint_err stint_journal_dead_retry(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                        struct stint_journal_retry *out)
{
    struct stint_journal_retry res = {0};
    struct seqlist l = {0};
    struct jstate st, before;
    enum stint_err err;
    bool was_synced;

    pthread_mutex_lock(&j->mu);
    if (!seqs && n) {
        err = fail(j, STINT_EINVAL, "journal %s: dead-letter retry: %zu seqs and no list", j->path,
                   n);
        goto cleanup;
    }
    err = ensure_db(j); /* hands any coalesced appends over first: the new seqs follow them */
    if (err == STINT_OK) {
        err = pick_seqs(j, seqs, n, &l);
    }
    if (err != STINT_OK) {
        goto cleanup;
    }
    st = j->st;
    leveldb_writebatch_clear(j->wb);
    for (size_t i = 0; i < l.n; i++) {
        enum retry_outcome o;
        err = retry_one(j, l.v[i], &st, &o);
        if (err != STINT_OK) {
            goto cleanup;
        }
        if (o == RETRY_STAGED) {
            res.retried++;
        } else if (!seqs) {
            res.undecodable += o == RETRY_UNDECODABLE; /* it stays, and its reason says why */
        } else {
            res.refused_seq = l.v[i];
            err = o == RETRY_MISSING
                      ? fail(j, STINT_EINVAL, "journal %s: seq %" PRIu64 " is not a dead letter",
                             j->path, l.v[i])
                      : fail(j, STINT_EWIRE,
                             "journal %s: dead letter %" PRIu64 " does not decode as a record",
                             j->path, l.v[i]);
            goto cleanup;
        }
    }
    if (res.retried && st.bytes > j->o.max_bytes) {
        res.need_bytes = st.bytes - j->st.bytes;
        res.room_bytes = j->o.max_bytes > j->st.bytes ? j->o.max_bytes - j->st.bytes : 0;
        err = fail(j, STINT_ELIMIT,
                   "journal %s: %zu dead letters take %" PRIu64 " bytes, max_bytes leaves %" PRIu64,
                   j->path, res.retried, res.need_bytes, res.room_bytes);
        goto cleanup;
    }
    if (res.retried) {
        put_state(j, &st);
        before = j->st;
        was_synced = j->durable == before.next_seq - 1;
        j->st = st; /* write_batch reads next_seq for durable_seq */
        err = write_batch(j, false, "putting dead letters back in the queue failed");
        if (err != STINT_OK) {
            j->st = before;
            goto cleanup;
        }
        res.first_seq = before.next_seq;
        j->oldest_valid = false;
        if (was_synced && j->o.sync == STINT_SYNC_INTERVAL) {
            pthread_cond_broadcast(&j->cv); /* the thread sleeps untimed while all is synced */
        }
    }
cleanup:
    if (err != STINT_OK) {
        res.retried = 0;
        res.first_seq = 0;
        res.undecodable = 0;
    }
    free(l.v);
    pthread_mutex_unlock(&j->mu);
    if (out) {
        *out = res;
    }
    return err;
}

/* ---- drop ---- */

enum stint_err stint_journal_dead_drop(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                       size_t *dropped, uint64_t *refused_seq)
{
    struct seqlist l = {0};
    struct jstate st;
    enum stint_err err;
    size_t done = 0;

    pthread_mutex_lock(&j->mu);
    if (!seqs && n) {
        err =
            fail(j, STINT_EINVAL, "journal %s: dead-letter drop: %zu seqs and no list", j->path, n);
        goto cleanup;
    }
    err = ensure_db(j);
    if (err == STINT_OK) {
        err = pick_seqs(j, seqs, n, &l); /* seqs NULL: the keys found are there */
    }
    if (err != STINT_OK) {
        goto cleanup;
    }
    st = j->st;
    leveldb_writebatch_clear(j->wb);
    for (size_t i = 0; i < l.n; i++) {
        uint8_t k[KEY_LEN];
        make_key(k, P_DEAD, l.v[i]);
        if (seqs) {
            size_t vl = 0;
            char *lerr = NULL;
            char *v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
            leveldb_free(v);
            if (lerr) {
                j->broken = true;
                err = ldb_fail(j, lerr, "reading a dead letter to drop");
                goto cleanup;
            }
            if (!v) {
                if (refused_seq) {
                    *refused_seq = l.v[i];
                }
                err = fail(j, STINT_EINVAL, "journal %s: seq %" PRIu64 " is not a dead letter",
                           j->path, l.v[i]);
                goto cleanup;
            }
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
        st.dead--;
        done++;
    }
    if (done) {
        put_state(j, &st);
        err = write_batch(j, false, "dropping dead letters failed");
        if (err == STINT_OK) {
            j->st = st;
        }
    }
cleanup:
    free(l.v);
    pthread_mutex_unlock(&j->mu);
    if (dropped) {
        *dropped = err == STINT_OK ? done : 0;
    }
    return err;
}
