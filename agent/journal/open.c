/* open.c — the handle: open and close, the counters and ids it hands out, private mode
 * and the caller's meta keys.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "journal_int.h"
#include "stint/pb.h"

/* ---- public API ---- */

/* LevelDB's C destructors do not all accept NULL (leveldb_cache_destroy does not). */
static void free_ldb_objects(struct stint_journal *j)
{
    if (j->wb) {
        leveldb_writebatch_destroy(j->wb);
    }
    if (j->pend) {
        leveldb_writebatch_destroy(j->pend);
    }
    if (j->wopt) {
        leveldb_writeoptions_destroy(j->wopt);
    }
    if (j->wsync) {
        leveldb_writeoptions_destroy(j->wsync);
    }
    if (j->ropt) {
        leveldb_readoptions_destroy(j->ropt);
    }
    if (j->rscan) {
        leveldb_readoptions_destroy(j->rscan);
    }
    if (j->lopt) {
        leveldb_options_destroy(j->lopt);
    }
    if (j->cache) {
        leveldb_cache_destroy(j->cache);
    }
}

/* A left-over open record (the checkpoint) is closed at its last checkpoint time and appended;
 * one that no longer decodes is counted lost. The message of a failure is in j->errmsg. */
static enum stint_err close_open_record(struct stint_journal *j,
                                        struct stint_journal_open_info *info)
{
    enum stint_err err = STINT_OK;
    size_t vl = 0;
    char *lerr = NULL;
    char *v = leveldb_get(j->db, j->ropt, K_CHECKPOINT, 1, &vl, &lerr);
    if (lerr) {
        leveldb_free(v);
        return ldb_fail(j, lerr, "reading the checkpoint");
    }
    if (v) {
        struct stint_record *r = malloc(sizeof(*r));
        struct stint_journal_append_opts ao = {.clear_checkpoint = true};
        const uint8_t *body = NULL;
        size_t bl = 0;
        bool ok = r && unseal((const uint8_t *)v, vl, &body, &bl) && bl >= 8 &&
                  stint_pb_decode_record(body + 8, bl - 8, r, NULL, NULL) == STINT_OK;
        if (ok) {
            int64_t t = (int64_t)stint_be64_get(body);
            r->end_ms = t > r->start_ms ? t : r->start_ms;
            err = stint_journal_append(j, r, 1, &ao, &info->checkpoint_seq);
            info->checkpoint_restored = err == STINT_OK;
        } else {
            /* not a record any more: count it lost rather than crash-loop on it */
            j->st.lost++;
            info->lost++;
            err = stint_journal_append(j, NULL, 0, &ao, NULL);
        }
        free(r);
        leveldb_free(v);
    }
    return err;
}

/* Makes the history (history.h) and drops what is past its age or cap, all of it when history
 * is now off. */
static enum stint_err history_attach(struct stint_journal *j, struct stint_error *e)
{
    struct stint_history_opts ho = {j->o.history_ms, j->o.history_max_bytes};
    uint64_t freed = 0, head;

    if (stint_history_create(&ho, &j->hist) != STINT_OK) {
        return stint_error_set(e, STINT_ENOMEM, 0, "journal: out of memory");
    }
    if (stint_history_trim(j->hist, j->db, j->ropt, j->wopt, j->st.acked, wall_ms(j), &freed,
                           j->errmsg, sizeof(j->errmsg)) != STINT_OK) {
        return stint_error_set(e, STINT_EIO, 0, "journal %s: %s", j->path, j->errmsg);
    }
    if (freed) {
        head = stint_history_head(j->hist);
        want_compaction(j, head ? head - 1 : j->st.acked); /* what went leaves the files */
    }
    return STINT_OK;
}

enum stint_err stint_journal_open(const struct stint_journal_opts *opts, struct stint_journal **out,
                                  struct stint_journal_open_info *info, struct stint_error *e)
{
    struct stint_journal *j = NULL;
    enum stint_err err = STINT_OK;
    struct stint_journal_open_info scratch;
    bool mu_ok = false, cv_ok = false, rw_ok = false, rel_ok = false;
    struct stat st;

    *out = NULL;
    if (!info) {
        info = &scratch;
    }
    memset(info, 0, sizeof(*info));
    if (!opts || !opts->path || !*opts->path || opts->sync > STINT_SYNC_NONE ||
        opts->full > STINT_FULL_DROP_NEWEST ||
        (opts->max_bytes && opts->max_bytes < STINT_JOURNAL_MIN_MAX_BYTES)) {
        return stint_error_set(e, STINT_EINVAL, 0, "journal: invalid options");
    }
    j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(opts->path))) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "journal: out of memory");
        goto cleanup;
    }
    j->lock.fd = -1;
    j->o = *opts;
    j->o.path = j->path;
    if (!j->o.sync_interval_ms) {
        j->o.sync_interval_ms = STINT_JOURNAL_DEFAULT_INTERVAL_MS;
    }
    if (!j->o.max_bytes) {
        j->o.max_bytes = STINT_JOURNAL_DEFAULT_MAX_BYTES;
    }
    if (!j->o.max_age_ms) {
        j->o.max_age_ms = STINT_JOURNAL_DEFAULT_MAX_AGE_MS;
    }
    if (!j->o.max_dead) {
        j->o.max_dead = STINT_JOURNAL_DEFAULT_MAX_DEAD;
    }
    if (!j->o.cache_bytes) {
        /* the sender reads each record once, in order: a larger cache only holds blocks that
         * are not read again (1 MiB peaked 1 MiB higher in a million-record live run) */
        j->o.cache_bytes = (size_t)256 << 10;
    }
    if (!j->o.max_open_files) {
        j->o.max_open_files = 64;
    }
    j->enc.max = (size_t)64 << 20;
    mu_ok = pthread_mutex_init(&j->mu, NULL) == 0;
    cv_ok = mu_ok && pthread_cond_init(&j->cv, NULL) == 0;
    rw_ok = cv_ok && pthread_rwlock_init(&j->dblock, NULL) == 0;
    rel_ok = rw_ok && pthread_mutex_init(&j->rel_mu, NULL) == 0;
    if (rel_ok && pthread_cond_init(&j->rel_cv, NULL) != 0) {
        pthread_mutex_destroy(&j->rel_mu);
        rel_ok = false;
    }
    if (!rel_ok) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "journal: cannot make locks");
        goto cleanup;
    }
    if (mkdir(j->path, 0700) != 0 && errno != EEXIST) {
        err = stint_error_set(e, STINT_EIO, 0, "journal %s: cannot create: %s", j->path,
                              strerror(errno));
        goto cleanup;
    }
    if (stat(j->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        err = stint_error_set(e, STINT_EIO, 0, "journal %s: not a folder", j->path);
        goto cleanup;
    }
    j->abspath = realpath(j->path, NULL); /* NULL only costs the RSS trimming */
    err = stint_journal_lock_take(j->path, &j->lock, e);
    if (err != STINT_OK) {
        goto cleanup;
    }
    j->cache = leveldb_cache_create_lru(j->o.cache_bytes);
    j->lopt = leveldb_options_create();
    leveldb_options_set_create_if_missing(j->lopt, 1);
    leveldb_options_set_paranoid_checks(j->lopt, 1);
    leveldb_options_set_cache(j->lopt, j->cache);
    leveldb_options_set_max_open_files(j->lopt, j->o.max_open_files);
    /* 1 MiB memtables (LevelDB's default is 4): a memtable and the one being flushed are most of
     * the journal's anonymous memory, and the agent's write rate is small */
    leveldb_options_set_write_buffer_size(j->lopt, (size_t)1 << 20);
    /* 512 KiB tables (LevelDB's default is 2 MiB): a compaction reads its inputs through mmaps
     * that count in the RSS until released, and smaller tables make smaller compactions */
    leveldb_options_set_max_file_size(j->lopt, (size_t)512 << 10);
    j->ropt = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(j->ropt, 1);
    j->rscan = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(j->rscan, 1);
    leveldb_readoptions_set_fill_cache(j->rscan, 0);
    j->wopt = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(j->wopt, j->o.sync == STINT_SYNC_ALWAYS);
    j->wsync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(j->wsync, 1);
    j->wb = leveldb_writebatch_create();
    if (j->o.sync == STINT_SYNC_INTERVAL) {
        j->pend = leveldb_writebatch_create();
    }

    err = db_bring_up(j, info);
    if (err != STINT_OK) {
        stint_error_set(e, err, 0, "%s", j->errmsg);
        goto cleanup;
    }
    err = close_open_record(j, info);
    if (err != STINT_OK) {
        stint_error_set(e, err, 0, "%s", j->errmsg);
        goto cleanup;
    }
    err = history_attach(j, e);
    if (err != STINT_OK) {
        goto cleanup;
    }
    if (pthread_create(&j->thread, NULL, maint_main, j) != 0) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "journal: cannot start its thread");
        goto cleanup;
    }
    j->thread_started = true;
    *out = j;
    j = NULL;
cleanup:
    if (j) {
        db_close(j);
        free_ldb_objects(j);
        stint_journal_lock_release(&j->lock);
        if (rel_ok) {
            pthread_cond_destroy(&j->rel_cv);
            pthread_mutex_destroy(&j->rel_mu);
        }
        if (rw_ok) {
            pthread_rwlock_destroy(&j->dblock);
        }
        if (cv_ok) {
            pthread_cond_destroy(&j->cv);
        }
        if (mu_ok) {
            pthread_mutex_destroy(&j->mu);
        }
        stint_history_destroy(j->hist);
        free(j->abspath);
        free(j->path);
        free(j);
    }
    return err;
}

void stint_journal_close(struct stint_journal *j)
{
    if (!j) {
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (j->thread_started) {
        pthread_join(j->thread, NULL);
    }
    if (j->pend_n) {
        (void)ensure_db(j); /* hand over the coalesced appends (reopening if need be) */
    }
    if (j->db && !j->broken) {
        /* the exact state and one fsync, then the mark that vouches for them */
        leveldb_writebatch_clear(j->wb);
        put_state(j, &j->st);
        if (write_batch(j, true, "close: sync failed") == STINT_OK) {
            mark_write(j);
        }
    }
    db_close(j);
    free_ldb_objects(j);
    stint_journal_lock_release(&j->lock);
    pthread_cond_destroy(&j->rel_cv);
    pthread_mutex_destroy(&j->rel_mu);
    pthread_rwlock_destroy(&j->dblock);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    stint_buf_free(&j->enc);
    free(j->offs);
    free(j->rc_seq);
    free(j->rc_size);
    stint_history_destroy(j->hist);
    free(j->abspath);
    free(j->path);
    free(j);
}

void stint_journal_last_error(struct stint_journal *j, char *buf, size_t cap)
{
    if (!cap) {
        return;
    }
    pthread_mutex_lock(&j->mu);
    snprintf(buf, cap, "%s", j->errmsg);
    pthread_mutex_unlock(&j->mu);
}

uint64_t stint_journal_durable_seq(struct stint_journal *j)
{
    uint64_t d;
    pthread_mutex_lock(&j->mu);
    d = j->durable;
    pthread_mutex_unlock(&j->mu);
    return d;
}

void stint_journal_stats(struct stint_journal *j, struct stint_journal_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&j->mu);
    if (j->st.count && j->db && !j->broken && flush_pending(j) == STINT_OK) {
        out->oldest_ms = head_time(j, false); /* one seek: status is not a hot path */
    }
    out->backlog = j->st.count;
    out->backlog_bytes = j->st.bytes;
    out->next_seq = j->st.next_seq;
    out->acked_seq = j->st.acked;
    out->durable_seq = j->durable;
    out->dropped = j->st.dropped;
    out->gaps = j->st.gaps;
    out->dead = j->st.dead;
    out->dead_total = j->st.dead_total;
    out->dead_dropped = j->st.dead_dropped;
    out->lost = j->st.lost;
    out->compactions = j->compactions;
    stint_history_stats(j->hist, &out->history, &out->history_bytes);
    out->private_mode = j->private_mode;
    pthread_mutex_unlock(&j->mu);
}

void stint_journal_agent_id(struct stint_journal *j, uint8_t out[STINT_AGENT_ID_LEN])
{
    pthread_mutex_lock(&j->mu);
    memcpy(out, j->agent_id, STINT_AGENT_ID_LEN);
    pthread_mutex_unlock(&j->mu);
}

bool stint_journal_private_get(struct stint_journal *j)
{
    bool on;
    pthread_mutex_lock(&j->mu);
    on = j->private_mode;
    pthread_mutex_unlock(&j->mu);
    return on;
}

enum stint_err stint_journal_private_set(struct stint_journal *j, bool on)
{
    enum stint_err err;
    const char v = on ? 1 : 0;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err == STINT_OK) {
        leveldb_writebatch_clear(j->wb);
        leveldb_writebatch_put(j->wb, K_PRIVATE, sizeof(K_PRIVATE) - 1, &v, 1);
        err = write_batch(j, false, "setting private mode failed");
    }
    if (err == STINT_OK) {
        j->private_mode = on;
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_meta_get(struct stint_journal *j, const char *key, void *buf,
                                      size_t cap, size_t *len, bool *found)
{
    char ukey[sizeof(K_USER) + STINT_JOURNAL_META_KEY_MAX];
    enum stint_err err;
    char *lerr = NULL;
    char *v;
    size_t vl = 0;

    *found = false;
    *len = 0;
    if (!meta_key_ok(key)) {
        pthread_mutex_lock(&j->mu);
        err = fail(j, STINT_EINVAL, "journal %s: bad meta key", j->path);
        pthread_mutex_unlock(&j->mu);
        return err;
    }
    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    v = leveldb_get(j->db, j->ropt, ukey, user_key(ukey, key), &vl, &lerr);
    if (lerr) {
        leveldb_free(v);
        j->broken = true;
        err = ldb_fail(j, lerr, "reading a meta key failed");
        goto cleanup;
    }
    if (v) {
        *found = true;
        *len = vl;
        if (buf && cap) {
            memcpy(buf, v, vl < cap ? vl : cap);
        }
        leveldb_free(v);
    }
cleanup:
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_meta_set(struct stint_journal *j, const char *key, const void *val,
                                      size_t len)
{
    struct stint_journal_append_opts ao = {.meta_key = key, .meta_val = val, .meta_len = len};
    return stint_journal_append(j, NULL, 0, &ao, NULL);
}
struct hist_read {
    struct stint_journal *j;
    stint_journal_entry_fn fn;
    void *ctx;
};

static enum stint_err hist_entry(void *ctx, uint64_t seq, const uint8_t *value, size_t len)
{
    struct hist_read *hr = ctx;
    struct stint_journal_entry en = {seq, value, len, &hr->j->dec_rec};
    if (!decode_stored(value, len, seq, &hr->j->dec_rec)) {
        return STINT_OK; /* of no use to a report; the bounds remove it in time */
    }
    return hr->fn(hr->ctx, &en);
}

enum stint_err stint_journal_history_read(struct stint_journal *j, uint64_t from, size_t max,
                                          stint_journal_entry_fn fn, void *ctx, uint64_t *next,
                                          bool *more)
{
    struct hist_read hr = {j, fn, ctx};
    enum stint_err err;
    uint64_t head;

    pthread_mutex_lock(&j->mu);
    head = stint_history_head(j->hist);
    if (from < head) {
        from = head; /* nothing below is kept: never walk the trims' delete markers */
    }
    err = ensure_db(j);
    if (err == STINT_OK) {
        err = stint_history_trim(j->hist, j->db, j->ropt, j->wopt, j->st.acked, wall_ms(j), NULL,
                                 j->errmsg, sizeof(j->errmsg));
    }
    if (err == STINT_OK) {
        err = stint_history_read(j->db, j->ropt, j->st.acked, from, max, hist_entry, &hr, next,
                                 more, j->errmsg, sizeof(j->errmsg));
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}
