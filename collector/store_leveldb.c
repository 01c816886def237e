/* store_leveldb.c — records in LevelDB, de-duplicated by (account, agent_id, seq) (see store.h).
 *
 * Why chunks: one LevelDB entry per record made the memtable inserts (and their allocations)
 * the largest cost of a 1,000-record batch; one entry per batch halved the server's time per
 * record (bench/bench_collector.c). De-duplication stays per record.
 *
 * A commit, under the stripe lock of its (account, agent):
 *   1. look up the idempotency key: seen with the same fingerprint -> answer the stored Ack;
 *      seen with another -> conflict;
 *   2. sort the batch by seq; when its lowest seq is above the agent's highest stored one (the
 *      usual case: agents move forward) nothing can be held; else load the chunks overlapping
 *      [min seq, max seq] (the one before min when it reaches into the range, and those that
 *      start inside it; chunks do not overlap, so that is all of them);
 *   3. classify each record: held (or a repeat within the batch, first wins) -> duplicate; new
 *      and inside an existing chunk's range (a hole) -> that chunk is rewritten with it; new in a
 *      gap between chunks -> the records of one gap become one new chunk;
 *   4. put the chunks, the agent's counter and the Ack in one WriteBatch, written with sync.
 * Concurrent commits meet in our own write queue (write_synced): its first writer writes the
 * batches of all waiting in one synced LevelDB write (group commit), which is why agents do not
 * share one lock.
 *
 * Failing closed (spec/COLLECTOR.md, "Storage faults"): LevelDB keeps using a log that took a
 * torn write (ENOSPC, EFBIG): later writes "succeed" and the next open drops them with the torn
 * block. So the first failed write or sync marks the store broken; nothing is written to that
 * handle again (the write queue fails the writers behind the failed one), every use gets
 * STINT_EIO until heal() has closed it and reopened it with paranoid checks, so a damaged log
 * fails the open instead of being skipped in silence. An open that finds damage keeps a copy of
 * the logs, recovers, and reports the bytes LevelDB skipped.
 *
 * Deleting an account (stint_ldb_delete_account) removes its keys and then compacts its key
 * ranges until no table or log file holds the deleted values (see compact_gone). */
#include "store_impl.h"
#include "store_chunk.h"
#include "store_damage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "stint/pb.h"
#include "stint/pb_ref.h"
#include "common/clock.h"
#include "common/byteorder.h"
#include "common/log.h"

#define STRIPES 64
#define KEY_MAX (1 + 64 + 1 + STINT_AGENT_ID_LEN + 512)

/* One commit waiting in the write queue (see write_synced). */
struct writer {
    leveldb_writebatch_t *wb;
    bool done;
    bool ok;
    char msg[200];
    struct writer *next;
};

struct ldb_store {
    leveldb_t *db; /* NULL while broken and not yet reopened */
    leveldb_options_t *options;
    leveldb_writeoptions_t *wsync;
    leveldb_readoptions_t *ropts;
    char *dir;
    bool must_exist;
    const struct stint_log *log; /* borrowed: store.c's default or the caller's */
    pthread_mutex_t stripes[STRIPES];
    /* every use of db holds it shared; reopening and deleting an account hold it alone */
    pthread_rwlock_t lock;
    atomic_bool broken;
    pthread_mutex_t heal_mu; /* one reopen at a time; guards last_heal_ms */
    int64_t last_heal_ms;
    pthread_mutex_t msg_mu; /* guards broken_msg; a leaf: no other lock is taken under it */
    char broken_msg[200];
    /* the write queue: one leader writes the batches of everyone waiting, then wakes them */
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    struct writer *queue, *queue_tail;
    atomic_uint_fast64_t write_failures, reopens, dropped_bytes;
};

/* Writes tag account 0x00 [agent] into key; returns the length. */
static size_t key_prefix(uint8_t *key, char tag, const char *account, const uint8_t *agent)
{
    size_t n = strlen(account);
    key[0] = (uint8_t)tag;
    memcpy(key + 1, account, n);
    key[1 + n] = 0;
    n += 2;
    if (agent) {
        memcpy(key + n, agent, STINT_AGENT_ID_LEN);
        n += STINT_AGENT_ID_LEN;
    }
    return n;
}

static enum stint_err db_error(struct stint_error *err, char *msg, const char *what)
{
    enum stint_err rc = stint_error_set(err, STINT_EIO, 0, "%s: %s", what, msg);
    leveldb_free(msg);
    return rc;
}

static uint32_t stripe_of(const char *account, const uint8_t *agent)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; account[i]; i++)
        h = (h ^ (uint8_t)account[i]) * 16777619u;
    for (i = 0; i < STINT_AGENT_ID_LEN; i++)
        h = (h ^ agent[i]) * 16777619u;
    return h % STRIPES;
}

/* Opens the database into s->db: with paranoid checks, so a damaged log fails the open instead
 * of being skipped in silence. When it fails as corrupt, the logs are copied aside, the database
 * is recovered without the checks (LevelDB skips what it cannot read), the bytes it skipped are
 * reported loudly, and it is opened again with the checks. */
static enum stint_err db_open(struct ldb_store *s, struct stint_error *err)
{
    char *msg = NULL;
    uint64_t dropped;

    leveldb_options_set_paranoid_checks(s->options, 1);
    s->db = leveldb_open(s->options, s->dir, &msg);
    if (!msg)
        return STINT_OK;
    if (strstr(msg, "lock") || strstr(msg, "LOCK") || !strstr(msg, "Corruption")) {
        enum stint_err rc;
        if (strstr(msg, "lock") || strstr(msg, "LOCK"))
            rc = stint_error_set(err, STINT_EIO, 0,
                                 "data %s is held by another process (a running "
                                 "stint-collector?): %s",
                                 s->dir, msg);
        else
            rc = stint_error_set(err, STINT_EIO, 0, "data %s: %s", s->dir, msg);
        leveldb_free(msg);
        return rc;
    }
    stint_log(s->log, STINT_LOG_WARN,
              "DATA LOSS CHECK: data %s does not open cleanly (%s); recovering what can be read",
              s->dir, msg);
    leveldb_free(msg);
    msg = NULL;
    stint_ldb_keep_damaged_logs(s->dir, s->log);
    leveldb_options_set_paranoid_checks(s->options, 0);
    s->db = leveldb_open(s->options, s->dir, &msg);
    dropped = stint_ldb_dropped_in_log(s->dir);
    leveldb_options_set_paranoid_checks(s->options, 1);
    if (msg) {
        enum stint_err rc =
            stint_error_set(err, STINT_EIO, 0, "data %s cannot be recovered: %s", s->dir, msg);
        leveldb_free(msg);
        return rc;
    }
    atomic_fetch_add(&s->dropped_bytes, dropped);
    stint_log(
        s->log, STINT_LOG_ERROR,
        "DATA LOSS: recovering %s skipped %" PRIu64 " bytes of its write-ahead log; records in "
        "them are gone unless an agent sends them again (spec/COLLECTOR.md, \"Storage faults\")",
        s->dir, dropped);
    /* once more with the checks on: the recovered state must now read cleanly */
    leveldb_close(s->db);
    s->db = leveldb_open(s->options, s->dir, &msg);
    if (msg) {
        enum stint_err rc = stint_error_set(err, STINT_EIO, 0, "data %s: %s", s->dir, msg);
        leveldb_free(msg);
        s->db = NULL;
        return rc;
    }
    return STINT_OK;
}

enum stint_err stint_ldb_open(const struct stint_store_opts *opts, struct ldb_store **out,
                              struct stint_error *err)
{
    struct ldb_store *s = NULL;
    pthread_rwlockattr_t attr;
    enum stint_err rc = STINT_OK;
    char *msg = NULL;
    int i;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    for (i = 0; i < STRIPES; i++)
        pthread_mutex_init(&s->stripes[i], NULL);
    /* writers first: a reopen must not wait behind a stream of commits */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&s->heal_mu, NULL);
    pthread_mutex_init(&s->msg_mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->wcv, NULL);
    s->log = opts->log;
    s->must_exist = opts->must_exist;
    s->dir = strdup(opts->dir);
    if (!s->dir) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    s->options = leveldb_options_create();
    leveldb_options_set_create_if_missing(s->options, opts->must_exist ? 0 : 1);
    leveldb_options_set_max_open_files(
        s->options, 64); /* small: "too many open files" is a known LevelDB failure */
    /* a larger memtable than LevelDB's 4 MiB: fewer level-0 files under a stream of batches */
    leveldb_options_set_write_buffer_size(s->options, 16u << 20);
    s->wsync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(s->wsync, opts->sync ? 1 : 0);
    s->ropts = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(s->ropts, 1);
    rc = db_open(s, err);
    if (rc != STINT_OK)
        goto cleanup;
    {
        /* the on-disk format: written once, checked at every open */
        size_t flen = 0;
        bool had_format;
        char *f = leveldb_get(s->db, s->ropts, "mformat", 7, &flen, &msg);
        if (msg) {
            rc = db_error(err, msg, "reading the format mark");
            goto cleanup;
        }
        if (f && !(flen == 1 && f[0] == '2')) {
            rc = stint_error_set(err, STINT_EIO, 0,
                                 "data %s holds storage format \"%.*s\"; this collector reads "
                                 "format 2",
                                 opts->dir, (int)(flen > 16 ? 16 : flen), f);
            leveldb_free(f);
            goto cleanup;
        }
        had_format = f != NULL;
        leveldb_free(f);
        if (!had_format && !opts->must_exist) {
            leveldb_put(s->db, s->wsync, "mformat", 7, "2", 1, &msg);
            if (msg) {
                rc = db_error(err, msg, "writing the format mark");
                goto cleanup;
            }
        }
    }
    *out = s;
    s = NULL;
cleanup:
    stint_ldb_close(s);
    return rc;
}

void stint_ldb_close(struct ldb_store *s)
{
    int i;

    if (!s)
        return;
    if (s->db)
        leveldb_close(s->db);
    if (s->options)
        leveldb_options_destroy(s->options);
    if (s->wsync)
        leveldb_writeoptions_destroy(s->wsync);
    if (s->ropts)
        leveldb_readoptions_destroy(s->ropts);
    for (i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&s->stripes[i]);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->heal_mu);
    pthread_mutex_destroy(&s->msg_mu);
    pthread_mutex_destroy(&s->wmu);
    pthread_cond_destroy(&s->wcv);
    free(s->dir);
    free(s);
}

static void set_msg(struct ldb_store *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Sets the reason the store is broken (shown in the 503s and in stats). */
static void set_msg(struct ldb_store *s, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&s->msg_mu);
    va_start(ap, fmt);
    vsnprintf(s->broken_msg, sizeof(s->broken_msg), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&s->msg_mu);
}

static void get_msg(struct ldb_store *s, char *out, size_t cap)
{
    pthread_mutex_lock(&s->msg_mu);
    snprintf(out, cap, "%s", s->broken_msg);
    pthread_mutex_unlock(&s->msg_mu);
}

/* Marks the store broken after a failed write or sync: no write goes to this handle again (a
 * LevelDB log that took a torn write "accepts" later writes that the next open then drops),
 * and writers get STINT_EIO until heal() has reopened it. */
static void mark_broken(struct ldb_store *s, const char *why)
{
    bool was = atomic_exchange(&s->broken, true);

    atomic_fetch_add(&s->write_failures, 1);
    set_msg(s, "%s", why);
    if (!was)
        stint_log(s->log, STINT_LOG_ERROR,
                  "storage write failed (%s): answering 503 to writes until %s is reopened", why,
                  s->dir);
}

#define HEAL_EVERY_MS 500

/* Closes and reopens a broken store (with paranoid checks), at most once per HEAL_EVERY_MS,
 * waiting for every user of the handle to leave first. */
static void heal(struct ldb_store *s)
{
    struct stint_error err;
    int64_t now = stint_clock_mono_ms();

    if (pthread_mutex_trylock(&s->heal_mu) != 0)
        return;
    if (!atomic_load(&s->broken) || now - s->last_heal_ms < HEAL_EVERY_MS) {
        pthread_mutex_unlock(&s->heal_mu);
        return;
    }
    s->last_heal_ms = now;
    pthread_rwlock_wrlock(&s->lock);
    if (s->db)
        leveldb_close(s->db);
    s->db = NULL;
    stint_error_clear(&err);
    if (db_open(s, &err) == STINT_OK) {
        /* a write reaches the disk again, or the store stays broken */
        char *msg = NULL;
        leveldb_put(s->db, s->wsync, "mformat", 7, "2", 1, &msg);
        if (msg) {
            set_msg(s, "reopened, but a write fails: %s", msg);
            leveldb_free(msg);
            leveldb_close(s->db);
            s->db = NULL;
        } else {
            atomic_store(&s->broken, false);
            atomic_fetch_add(&s->reopens, 1);
            stint_log(s->log, STINT_LOG_INFO, "storage %s reopened; accepting writes again",
                      s->dir);
        }
    } else {
        set_msg(s, "reopen failed: %s", err.msg);
    }
    pthread_rwlock_unlock(&s->lock);
    pthread_mutex_unlock(&s->heal_mu);
}

/* Takes the shared lock for one use of the database; STINT_EIO (lock not held) while it is
 * broken, after a reopen attempt. */
static enum stint_err enter(struct ldb_store *s, struct stint_error *err)
{
    char why[200];

    if (atomic_load(&s->broken))
        heal(s);
    pthread_rwlock_rdlock(&s->lock);
    if (!atomic_load(&s->broken) && s->db)
        return STINT_OK;
    pthread_rwlock_unlock(&s->lock);
    get_msg(s, why, sizeof(why));
    return stint_error_set(err, STINT_EIO, 0, "storage unavailable (%s)", why);
}

static void leave(struct ldb_store *s)
{
    pthread_rwlock_unlock(&s->lock);
}

bool stint_ldb_broken(struct ldb_store *s)
{
    if (atomic_load(&s->broken))
        heal(s);
    return atomic_load(&s->broken);
}

void stint_ldb_counters(struct ldb_store *s, struct stint_store_counters *c)
{
    c->write_failures = atomic_load(&s->write_failures);
    c->reopens = atomic_load(&s->reopens);
    c->dropped_bytes = atomic_load(&s->dropped_bytes);
    c->broken = atomic_load(&s->broken);
}

/* Writes wb with sync (when the store syncs), as part of a group: the first writer in the queue
 * writes the batches of all who wait behind it in one LevelDB write, then wakes them. Doing the
 * grouping here rather than in LevelDB's own queue is what lets a failed write stop the ones
 * behind it: LevelDB would append them after the torn record, where the next open drops them.
 * Caller holds the shared lock. */
static enum stint_err write_synced(struct ldb_store *s, leveldb_writebatch_t *wb,
                                   struct stint_error *err)
{
    struct writer me, *w, *last;
    leveldb_writebatch_t *group = NULL;
    char *msg = NULL;
    bool ok;

    memset(&me, 0, sizeof(me));
    me.wb = wb;
    pthread_mutex_lock(&s->wmu);
    if (s->queue_tail)
        s->queue_tail->next = &me;
    else
        s->queue = &me;
    s->queue_tail = &me;
    while (!me.done && s->queue != &me)
        pthread_cond_wait(&s->wcv, &s->wmu);
    if (me.done)
        goto out;
    /* the leader: take everyone queued now */
    last = s->queue_tail;
    pthread_mutex_unlock(&s->wmu);
    if (atomic_load(&s->broken)) {
        ok = false;
        snprintf(me.msg, sizeof(me.msg), "an earlier write failed");
    } else {
        if (last != &me) {
            group = leveldb_writebatch_create();
            for (w = &me;; w = w->next) {
                leveldb_writebatch_append(group, w->wb);
                if (w == last)
                    break;
            }
        }
        leveldb_write(s->db, s->wsync, group ? group : wb, &msg);
        ok = msg == NULL;
        if (!ok) {
            snprintf(me.msg, sizeof(me.msg), "%s", msg);
            mark_broken(s, msg);
            leveldb_free(msg);
        }
        if (group)
            leveldb_writebatch_destroy(group);
    }
    pthread_mutex_lock(&s->wmu);
    for (w = &me;; w = w->next) {
        w->done = true;
        w->ok = ok;
        if (w != &me)
            memcpy(w->msg, me.msg, sizeof(w->msg));
        if (w == last)
            break;
    }
    s->queue = last->next;
    if (!s->queue)
        s->queue_tail = NULL;
    me.ok = ok;
    pthread_cond_broadcast(&s->wcv);
out:
    pthread_mutex_unlock(&s->wmu);
    if (me.ok)
        return STINT_OK;
    return stint_error_set(err, STINT_EIO, 0, "writing: %s", me.msg);
}

static int cmp_item(const void *a, const void *b)
{
    const struct stint_store_item *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->off < y->off ? -1 : (x->off > y->off); /* stable: first in the batch wins */
}

/* Reads the chunk at the iterator into *c (a copy). */
static enum stint_err chunk_load(leveldb_iterator_t *it, size_t plen, struct stint_chunk *c,
                                 struct stint_error *err)
{
    size_t klen, vlen, pos = 0;
    const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &klen);
    const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
    const uint8_t *rec;
    uint32_t rlen;
    uint64_t seq;
    bool bad = false;

    memset(c, 0, sizeof(*c));
    c->first = stint_be64_get(k + plen);
    c->last = vlen >= STINT_CHUNK_HEAD ? stint_be64_get(v + 1) : 0;
    c->val = malloc(vlen ? vlen : 1);
    c->seqs = malloc(((size_t)stint_chunk_count(v, vlen) + 1) * sizeof(*c->seqs));
    if (!c->val || !c->seqs)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    memcpy(c->val, v, vlen);
    c->len = vlen;
    while (c->n < stint_chunk_count(v, vlen) &&
           stint_chunk_next(c->val, vlen, &pos, &seq, &rec, &rlen, &bad))
        c->seqs[c->n++] = seq;
    if (bad || c->n != stint_chunk_count(v, vlen))
        return stint_error_set(err, STINT_EIO, 0, "data: malformed record chunk");
    return STINT_OK;
}

/* Loads the agent's chunks that overlap [lo, hi], in order: the one before lo when it reaches
 * into the range, then every chunk starting in it. */
static enum stint_err chunks_overlapping(struct ldb_store *s, const uint8_t *prefix, size_t plen,
                                         uint64_t lo, uint64_t hi, struct stint_chunk **out,
                                         size_t *n_out, struct stint_error *err)
{
    leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
    uint8_t key[KEY_MAX];
    struct stint_chunk *cs = NULL;
    size_t n = 0, cap = 0;
    enum stint_err rc = STINT_OK;
    char *msg = NULL;
    int pass;

    memcpy(key, prefix, plen);
    stint_be64_put(key + plen, lo);
    for (pass = 0; pass < 2; pass++) {
        leveldb_iter_seek(it, (const char *)key, plen + 8);
        if (pass == 0) {
            /* the chunk just before lo */
            if (leveldb_iter_valid(it))
                leveldb_iter_prev(it);
            else
                leveldb_iter_seek_to_last(it);
        }
        for (; leveldb_iter_valid(it); leveldb_iter_next(it)) {
            size_t klen;
            const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &klen);
            struct stint_chunk c;

            if (klen != plen + 8 || memcmp(k, prefix, plen) != 0)
                break;
            if (pass == 0 && stint_be64_get(k + plen) >= lo)
                break;
            if (pass == 1 && stint_be64_get(k + plen) > hi)
                break;
            rc = chunk_load(it, plen, &c, err);
            if (rc != STINT_OK) {
                free(c.val);
                free(c.seqs);
                goto cleanup;
            }
            if ((pass == 0 && c.last < lo) || n == cap) {
                if (pass == 0 && c.last < lo) {
                    free(c.val);
                    free(c.seqs);
                    break;
                }
                {
                    size_t ncap = cap ? cap * 2 : 4;
                    struct stint_chunk *nc = realloc(cs, ncap * sizeof(*nc));
                    if (!nc) {
                        free(c.val);
                        free(c.seqs);
                        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
                        goto cleanup;
                    }
                    cs = nc;
                    cap = ncap;
                }
            }
            cs[n++] = c;
            if (pass == 0)
                break;
        }
    }
    leveldb_iter_get_error(it, &msg);
    if (msg)
        rc = db_error(err, msg, "reading held records");
cleanup:
    leveldb_iter_destroy(it);
    if (rc != STINT_OK) {
        stint_chunks_free(cs, n);
        cs = NULL;
        n = 0;
    }
    *out = cs;
    *n_out = n;
    return rc;
}

/* Looks up the Ack stored under the idempotency key. */
static enum stint_err find_ack(struct ldb_store *s, const uint8_t *key, size_t klen,
                               uint64_t fingerprint, struct stint_ack *ack,
                               enum stint_store_outcome *outcome, bool *found,
                               struct stint_error *err)
{
    size_t vlen = 0;
    char *msg = NULL;
    char *v = leveldb_get(s->db, s->ropts, (const char *)key, klen, &vlen, &msg);
    enum stint_err rc = STINT_OK;
    struct stint_ack stored;

    *found = false;
    if (msg)
        return db_error(err, msg, "reading an Ack");
    if (!v)
        return STINT_OK;
    *found = true;
    if (vlen < 8 || stint_be64_get((const uint8_t *)v) != fingerprint) {
        *outcome = STINT_STORE_CONFLICT;
        goto cleanup;
    }
    rc = stint_pb_decode_ack((const uint8_t *)v + 8, vlen - 8, &stored, NULL, err);
    if (rc != STINT_OK)
        goto cleanup;
    stint_ack_free(ack);
    *ack = stored;
    *outcome = STINT_STORE_REPLAY;
cleanup:
    leveldb_free(v);
    return rc;
}

/* A new record of a commit that falls in a gap between held chunks: its index in the batch's
 * items and how many held chunks start before it. */
struct fresh {
    size_t item, gap;
};

/* The agent's counter: how many records are held and the highest seq (0 and 0 when none). */
static enum stint_err read_counter(struct ldb_store *s, const struct stint_store_put *p,
                                   uint64_t *count, uint64_t *max_seq, struct stint_error *err)
{
    uint8_t ckey[KEY_MAX];
    size_t cklen = key_prefix(ckey, 'c', p->account, p->agent_id), cvlen = 0;
    char *msg = NULL, *cv = leveldb_get(s->db, s->ropts, (const char *)ckey, cklen, &cvlen, &msg);

    if (msg)
        return db_error(err, msg, "reading a counter");
    if (cv && cvlen == 16) {
        *count = stint_be64_get((const uint8_t *)cv);
        *max_seq = stint_be64_get((const uint8_t *)cv + 8);
    }
    leveldb_free(cv);
    return STINT_OK;
}

/* Step 3 of a commit: each record of the batch (sorted by seq) is a duplicate (held, or a
 * repeat within the batch: the first wins), new inside a held chunk's range (added to that
 * chunk's list) or new in a gap (added to fresh with its gap). Counts go into *ack, *count and
 * *max_seq. */
static enum stint_err classify(const struct stint_store_put *p, struct stint_ack *ack,
                               struct stint_chunk *chunks, size_t n_chunks, struct fresh *fresh,
                               size_t *n_fresh, uint64_t *count, uint64_t *max_seq,
                               struct stint_error *err)
{
    uint64_t last = 0;
    bool have_last = false;
    size_t h = 0;

    for (size_t i = 0; i < p->n; i++) {
        uint64_t seq = p->items[i].seq;
        bool dup = have_last && seq == last;
        size_t in = n_chunks;

        while (h < n_chunks && chunks[h].last < seq)
            h++;
        if (h < n_chunks && chunks[h].first <= seq) {
            in = h;
            dup = dup || stint_chunk_holds(&chunks[h], seq);
        }
        last = seq;
        have_last = true;
        if (seq > ack->acked_seq)
            ack->acked_seq = seq;
        if (dup) {
            ack->duplicates++;
            continue;
        }
        ack->stored++;
        (*count)++;
        if (seq > *max_seq)
            *max_seq = seq;
        if (in < n_chunks) {
            struct stint_chunk *c = &chunks[in];
            size_t *na = realloc(c->add, (c->n_add + 1) * sizeof(*na));
            if (!na)
                return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
            c->add = na;
            c->add[c->n_add++] = i;
        } else {
            /* the gap it falls in: how many chunks start before it */
            fresh[*n_fresh].item = i;
            fresh[*n_fresh].gap = h;
            (*n_fresh)++;
        }
    }
    return STINT_OK;
}

/* Puts into wb one new chunk for each run of fresh records that fall in the same gap between
 * held chunks. chunkbuf is scratch space. */
static enum stint_err put_new_chunks(const struct stint_store_put *p, const struct fresh *fresh,
                                     size_t n_fresh, const uint8_t *prefix, size_t plen,
                                     struct stint_buf *chunkbuf, leveldb_writebatch_t *wb,
                                     struct stint_error *err)
{
    enum stint_err rc = STINT_OK;

    for (size_t i = 0; i < n_fresh;) {
        size_t j = i;
        uint32_t nrec = 0;
        uint8_t rkey[KEY_MAX];

        rc = stint_chunk_begin(chunkbuf);
        while (rc == STINT_OK && j < n_fresh && fresh[j].gap == fresh[i].gap) {
            const struct stint_store_item *it = &p->items[fresh[j].item];
            rc = stint_chunk_put(chunkbuf, it->seq, p->values + it->off, it->len);
            nrec++;
            j++;
        }
        if (rc != STINT_OK) {
            rc = stint_error_set(err, rc, 0, "building a record chunk");
            return rc;
        }
        stint_chunk_finish(chunkbuf, p->items[fresh[j - 1].item].seq, nrec);
        memcpy(rkey, prefix, plen);
        stint_be64_put(rkey + plen, p->items[fresh[i].item].seq);
        leveldb_writebatch_put(wb, (const char *)rkey, plen + 8, (const char *)chunkbuf->data,
                               chunkbuf->len);
        i = j;
    }
    return STINT_OK;
}

/* Puts into wb each held chunk that gains records, rewritten with them merged in seq order.
 * chunkbuf is scratch space. */
static enum stint_err put_grown_chunks(const struct stint_store_put *p,
                                       const struct stint_chunk *chunks, size_t n_chunks,
                                       const uint8_t *prefix, size_t plen,
                                       struct stint_buf *chunkbuf, leveldb_writebatch_t *wb,
                                       struct stint_error *err)
{
    enum stint_err rc = STINT_OK;

    for (size_t h = 0; h < n_chunks; h++) {
        const struct stint_chunk *c = &chunks[h];
        size_t pos = 0, a = 0;
        uint64_t seq = 0;
        const uint8_t *rec = NULL;
        uint32_t rlen = 0, nrec = 0;
        bool bad = false, more;
        uint8_t rkey[KEY_MAX];

        if (c->n_add == 0)
            continue;
        rc = stint_chunk_begin(chunkbuf);
        more = stint_chunk_next(c->val, c->len, &pos, &seq, &rec, &rlen, &bad);
        while (rc == STINT_OK && (more || a < c->n_add)) {
            const struct stint_store_item *it = a < c->n_add ? &p->items[c->add[a]] : NULL;
            if (it && (!more || it->seq < seq)) {
                rc = stint_chunk_put(chunkbuf, it->seq, p->values + it->off, it->len);
                a++;
            } else {
                rc = stint_chunk_put(chunkbuf, seq, rec, rlen);
                more = stint_chunk_next(c->val, c->len, &pos, &seq, &rec, &rlen, &bad);
            }
            nrec++;
        }
        if (rc != STINT_OK || bad) {
            rc = stint_error_set(err, rc != STINT_OK ? rc : STINT_EIO, 0,
                                 "rewriting a record chunk");
            return rc;
        }
        stint_chunk_finish(chunkbuf, c->last, nrec);
        memcpy(rkey, prefix, plen);
        stint_be64_put(rkey + plen, c->first);
        leveldb_writebatch_put(wb, (const char *)rkey, plen + 8, (const char *)chunkbuf->data,
                               chunkbuf->len);
    }
    return STINT_OK;
}

enum stint_err stint_ldb_commit(struct ldb_store *s, struct stint_store_put *p,
                                struct stint_ack *ack, enum stint_store_outcome *outcome,
                                struct stint_error *err)
{
    uint8_t prefix[KEY_MAX], key[KEY_MAX], counter[16];
    size_t plen, klen, n_chunks = 0, n_fresh = 0;
    uint64_t count = 0, max_seq = 0;
    struct stint_chunk *chunks = NULL;
    struct fresh *fresh = NULL;
    leveldb_writebatch_t *wb = NULL;
    struct stint_buf ackbuf = {0}, chunkbuf = {0};
    pthread_mutex_t *mu;
    enum stint_err rc = STINT_OK;
    bool found = false;

    *outcome = STINT_STORE_STORED;
    if (strlen(p->account) > 64 || p->idem_len == 0 || p->idem_len > 400)
        return stint_error_set(err, STINT_EINVAL, 0, "bad account or idempotency key");
    rc = enter(s, err);
    if (rc != STINT_OK)
        return rc;
    mu = &s->stripes[stripe_of(p->account, p->agent_id)];
    pthread_mutex_lock(mu);

    /* 1. the idempotency key (a batch without records has nothing to replay) */
    klen = key_prefix(key, 'k', p->account, p->agent_id);
    memcpy(key + klen, p->idem, p->idem_len);
    klen += p->idem_len;
    if (p->n || ack->n_rejected) {
        rc = find_ack(s, key, klen, p->fingerprint, ack, outcome, &found, err);
        if (rc != STINT_OK || found)
            goto cleanup;
    }

    /* 2. what is already held */
    if (p->n > 1)
        qsort(p->items, p->n, sizeof(*p->items), cmp_item);
    plen = key_prefix(prefix, 'r', p->account, p->agent_id);
    rc = read_counter(s, p, &count, &max_seq, err);
    if (rc != STINT_OK)
        goto cleanup;
    /* an agent that only moves forward (the usual case) has nothing at or above its max */
    if (p->n && (count > 0 && p->items[0].seq <= max_seq)) {
        rc = chunks_overlapping(s, prefix, plen, p->items[0].seq, p->items[p->n - 1].seq, &chunks,
                                &n_chunks, err);
        if (rc != STINT_OK)
            goto cleanup;
    }

    /* 3. classify: duplicate, new inside an existing chunk's range, or new in a gap */
    fresh = malloc((p->n ? p->n : 1) * sizeof(*fresh));
    if (!fresh) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    rc = classify(p, ack, chunks, n_chunks, fresh, &n_fresh, &count, &max_seq, err);
    if (rc != STINT_OK)
        goto cleanup;

    /* 4. one WriteBatch: new chunks for runs in gaps, rewritten chunks that gained records */
    wb = leveldb_writebatch_create();
    rc = put_new_chunks(p, fresh, n_fresh, prefix, plen, &chunkbuf, wb, err);
    if (rc == STINT_OK)
        rc = put_grown_chunks(p, chunks, n_chunks, prefix, plen, &chunkbuf, wb, err);
    if (rc != STINT_OK)
        goto cleanup;
    if (p->n == 0 && ack->n_rejected == 0) {
        ack->acked_seq = max_seq;
        goto cleanup;
    }
    {
        uint8_t ckey[KEY_MAX];
        size_t cklen = key_prefix(ckey, 'c', p->account, p->agent_id);
        stint_be64_put(counter, count);
        stint_be64_put(counter + 8, max_seq);
        if (ack->stored)
            leveldb_writebatch_put(wb, (const char *)ckey, cklen, (const char *)counter, 16);
    }
    {
        uint8_t fp[8];
        stint_be64_put(fp, p->fingerprint);
        rc = stint_buf_append(&ackbuf, fp, 8);
        if (rc == STINT_OK)
            rc = stint_pb_encode_ack(ack, &ackbuf);
        if (rc != STINT_OK) {
            rc = stint_error_set(err, rc, 0, "encoding the Ack to keep");
            goto cleanup;
        }
        leveldb_writebatch_put(wb, (const char *)key, klen, (const char *)ackbuf.data, ackbuf.len);
    }
    rc = write_synced(s, wb, err);
cleanup:
    pthread_mutex_unlock(mu);
    leave(s);
    if (wb)
        leveldb_writebatch_destroy(wb);
    stint_chunks_free(chunks, n_chunks);
    free(fresh);
    stint_buf_free(&ackbuf);
    stint_buf_free(&chunkbuf);
    return rc;
}

static enum stint_err dump_locked(struct ldb_store *s, const char *account, uint64_t since,
                                  stint_store_dump_fn fn, void *ctx, struct stint_error *err)
{
    uint8_t prefix[KEY_MAX];
    size_t plen = key_prefix(prefix, 'r', account, NULL);
    leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
    struct stint_stored *st = malloc(sizeof(*st));
    enum stint_err rc = STINT_OK;
    char *msg = NULL;

    if (!st) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    for (leveldb_iter_seek(it, (const char *)prefix, plen); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &klen);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);

        if (klen < plen || memcmp(k, prefix, plen) != 0)
            break;
        if (klen != plen + STINT_AGENT_ID_LEN + 8) {
            rc = stint_error_set(err, STINT_EIO, 0, "data: malformed record key");
            goto cleanup;
        }
        {
            size_t pos = 0;
            uint64_t seq;
            const uint8_t *rec;
            uint32_t rlen;
            bool bad = false;

            while (stint_chunk_next(v, vlen, &pos, &seq, &rec, &rlen, &bad)) {
                if (seq <= since)
                    continue;
                if (rlen < 17 || rec[0] != 1) {
                    bad = true;
                    break;
                }
                memcpy(st->agent_id, k + plen, STINT_AGENT_ID_LEN);
                st->received_ms = (int64_t)stint_be64_get(rec + 1);
                st->client_now_ms = (int64_t)stint_be64_get(rec + 9);
                rc = stint_pb_decode_record(rec + 17, rlen - 17, &st->rec, NULL, err);
                if (rc == STINT_OK)
                    rc = fn(ctx, st);
                if (rc != STINT_OK)
                    goto cleanup;
            }
            if (bad) {
                rc = stint_error_set(err, STINT_EIO, 0, "data: malformed record chunk");
                goto cleanup;
            }
        }
    }
    leveldb_iter_get_error(it, &msg);
    if (msg)
        rc = db_error(err, msg, "reading records");
cleanup:
    leveldb_iter_destroy(it);
    free(st);
    return rc;
}

enum stint_err stint_ldb_dump(struct ldb_store *s, const char *account, uint64_t since,
                              stint_store_dump_fn fn, void *ctx, struct stint_error *err)
{
    enum stint_err rc = enter(s, err);

    if (rc != STINT_OK)
        return rc;
    rc = dump_locked(s, account, since, fn, ctx, err);
    leave(s);
    return rc;
}

static enum stint_err stats_locked(struct ldb_store *s, stint_store_stats_fn fn, void *ctx,
                                   struct stint_error *err)
{
    leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
    enum stint_err rc = STINT_OK;
    char *msg = NULL;

    for (leveldb_iter_seek(it, "c", 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &klen);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
        char account[65];
        const uint8_t *nul;
        size_t alen;

        if (klen == 0 || k[0] != 'c')
            break;
        nul = memchr(k + 1, 0, klen - 1);
        alen = nul ? (size_t)(nul - (k + 1)) : 0;
        if (!nul || alen >= sizeof(account) || klen != 2 + alen + STINT_AGENT_ID_LEN || vlen != 16)
            continue;
        memcpy(account, k + 1, alen);
        account[alen] = '\0';
        rc = fn(ctx, account, nul + 1, stint_be64_get(v), stint_be64_get(v + 8));
        if (rc != STINT_OK)
            goto cleanup;
    }
    leveldb_iter_get_error(it, &msg);
    if (msg)
        rc = db_error(err, msg, "reading counters");
cleanup:
    leveldb_iter_destroy(it);
    return rc;
}

enum stint_err stint_ldb_stats(struct ldb_store *s, stint_store_stats_fn fn, void *ctx,
                               struct stint_error *err)
{
    enum stint_err rc = enter(s, err);

    if (rc != STINT_OK)
        return rc;
    rc = stats_locked(s, fn, ctx, err);
    leave(s);
    return rc;
}

/* Deletes every key that starts with prefix; counts them into *n (records for chunks).
 * Caller holds the lock alone. */
static enum stint_err delete_prefix(struct ldb_store *s, const uint8_t *prefix, size_t plen,
                                    uint64_t *n, struct stint_error *err)
{
    leveldb_iterator_t *it = leveldb_create_iterator(s->db, s->ropts);
    leveldb_writebatch_t *wb = leveldb_writebatch_create();
    enum stint_err rc = STINT_OK;
    size_t pending = 0;
    char *msg = NULL;

    *n = 0;
    for (leveldb_iter_seek(it, (const char *)prefix, plen); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t klen;
        const char *k = leveldb_iter_key(it, &klen);

        if (klen < plen || memcmp(k, prefix, plen) != 0)
            break;
        leveldb_writebatch_delete(wb, k, klen);
        if (k[0] == 'r') { /* a chunk: count its records */
            size_t vlen;
            const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vlen);
            *n += stint_chunk_count(v, vlen);
        } else {
            (*n)++;
        }
        if (++pending == 10000) {
            rc = write_synced(s, wb, err);
            if (rc != STINT_OK)
                goto cleanup;
            leveldb_writebatch_clear(wb);
            pending = 0;
        }
    }
    leveldb_iter_get_error(it, &msg);
    if (msg) {
        rc = db_error(err, msg, "reading for delete");
        goto cleanup;
    }
    if (pending)
        rc = write_synced(s, wb, err);
cleanup:
    leveldb_writebatch_destroy(wb);
    leveldb_iter_destroy(it);
    return rc;
}

/* The key spaces that belong to an account (see store.h): counters, kept Acks, records. A new
 * account-scoped space must be added here, or DELETE leaves it behind. */
static const char account_tags[] = {'c', 'k', 'r'};

/* Makes deleted values unreadable from any file: after the deletes, LevelDB still holds the old
 * values in the log and memtable, and in table files until a compaction of their key range
 * meets the delete markers.
 *   1. Flush the memtable (a compaction of an empty range does only that): the log holding the
 *      values is deleted once its memtable is in a table.
 *   2. Per key space: write two fence keys just outside the account's range (TAG account, and
 *      TAG account 0x01; no real key looks like them, every reader skips them), then compact
 *      the range. LevelDB compacts a range level by level from the top, pulling in the files
 *      below that overlap; a table at the deepest level with nothing above it is never
 *      rewritten, and that is where a flushed memtable holding both values and markers can land.
 *      The fences' table overlaps every table of the range, so it is placed above them all, and
 *      the compaction goes down through each of them: shadowed values and markers meet and
 *      are dropped, and the old files are deleted.
 *   3. Remove the fences (their markers hold the account name only).
 * A background error (a failed compaction) shows as the failure of the last write.
 * Caller holds the lock alone. */
static enum stint_err compact_gone(struct ldb_store *s, const char *account,
                                   struct stint_error *err)
{
    leveldb_writebatch_t *wb = leveldb_writebatch_create();
    enum stint_err rc = STINT_OK;
    uint8_t lo[KEY_MAX], hi[KEY_MAX];
    size_t i, plen = 0;

    leveldb_compact_range(s->db, "\0", 1, "\0", 1);
    for (i = 0; i < sizeof(account_tags) && rc == STINT_OK; i++) {
        plen = key_prefix(lo, account_tags[i], account, NULL) - 1; /* TAG account */
        memcpy(hi, lo, plen);
        hi[plen] = 1;
        leveldb_writebatch_clear(wb);
        leveldb_writebatch_put(wb, (const char *)lo, plen, "", 0);
        leveldb_writebatch_put(wb, (const char *)hi, plen + 1, "", 0);
        rc = write_synced(s, wb, err);
        if (rc == STINT_OK)
            leveldb_compact_range(s->db, (const char *)lo, plen, (const char *)hi, plen + 1);
    }
    if (rc != STINT_OK)
        goto cleanup;
    leveldb_writebatch_clear(wb);
    for (i = 0; i < sizeof(account_tags); i++) {
        plen = key_prefix(lo, account_tags[i], account, NULL) - 1;
        memcpy(hi, lo, plen);
        hi[plen] = 1;
        leveldb_writebatch_delete(wb, (const char *)lo, plen);
        leveldb_writebatch_delete(wb, (const char *)hi, plen + 1);
    }
    rc = write_synced(s, wb, err);
cleanup:
    leveldb_writebatch_destroy(wb);
    return rc;
}

enum stint_err stint_ldb_delete_account(struct ldb_store *s, const char *account, uint64_t *deleted,
                                        struct stint_error *err)
{
    enum stint_err rc = STINT_OK;
    uint8_t prefix[KEY_MAX];
    uint64_t n = 0;
    size_t i;

    *deleted = 0;
    if (strlen(account) > 64)
        return stint_error_set(err, STINT_EINVAL, 0, "bad account");
    if (atomic_load(&s->broken))
        heal(s);
    /* alone: no commit interleaves, and no iterator keeps an old table file alive */
    pthread_rwlock_wrlock(&s->lock);
    if (atomic_load(&s->broken) || !s->db) {
        char why[200];
        get_msg(s, why, sizeof(why));
        rc = stint_error_set(err, STINT_EIO, 0, "storage unavailable (%s)", why);
        goto cleanup;
    }
    for (i = 0; i < sizeof(account_tags) && rc == STINT_OK; i++) {
        size_t plen = key_prefix(prefix, account_tags[i], account, NULL);
        rc = delete_prefix(s, prefix, plen, &n, err);
        if (account_tags[i] == 'r')
            *deleted = n;
    }
    if (rc == STINT_OK)
        rc = compact_gone(s, account, err);
cleanup:
    pthread_rwlock_unlock(&s->lock);
    return rc;
}
