/* recover.c — opening LevelDB and recovering: the scan of the whole database,
 * repair, moving a damaged folder aside, settling the state with what the scan found, and the
 * reopen after a failed write (ensure_db).
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "journal_int.h"

/* ---- opening, scanning, repairing ---- */

static void scan_free(struct scan *s)
{
    free(s->bad);
    free(s->stale);
    if (s->junk) {
        leveldb_writebatch_destroy(s->junk);
    }
    s->bad = NULL;
    s->stale = NULL;
    s->junk = NULL;
}

static bool seq_push(uint64_t **v, size_t *n, size_t *cap, uint64_t seq)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        uint64_t *p = realloc(*v, ncap * sizeof(*p));
        if (!p) {
            return false;
        }
        *v = p;
        *cap = ncap;
    }
    (*v)[(*n)++] = seq;
    return true;
}

/* Reads the state before the scan: it sorts after the records (format 2; format 1's "mstate"
 * before them), and the scan needs its acked seq to tell history from records to send. */
static void scan_state(struct stint_journal *j, struct scan *s)
{
    static const char *const keys[] = {K_STATE, K_STATE_V1};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !s->has_state && !s->corrupt; i++) {
        char *lerr = NULL;
        size_t vl = 0;
        char *v = leveldb_get(j->db, j->rscan, keys[i], strlen(keys[i]), &vl, &lerr);
        if (lerr) {
            s->corrupt = true;
            s->transient = transient_error(lerr);
            snprintf(s->msg, sizeof(s->msg), "%s", lerr);
            leveldb_free(lerr);
        } else if (v) {
            s->has_state = state_decode((const uint8_t *)v, vl, &s->st);
            if (s->has_state && s->st.acked > s->acked_floor) {
                s->acked_floor = s->st.acked;
            }
        }
        leveldb_free(v);
    }
}

/* Iterates the whole database once (never holding more than one value), checksums verified. */
static enum stint_err scan_db(struct stint_journal *j, struct scan *s)
{
    leveldb_iterator_t *it;
    char *lerr = NULL;
    enum stint_err err = STINT_OK;

    scan_state(j, s);
    if (s->corrupt) {
        return STINT_OK; /* the caller repairs or reports, as for a failed iteration */
    }
    it = leveldb_create_iterator(j->db, j->rscan);
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        s->any_key = true;
        /* the pages this scan touches would otherwise stay in the RSS until it ends: a
         * backlog of a million records would peak at its table size (see release_table_pages) */
        j->touched_bytes += kl + vl;
        if (j->touched_bytes >= RELEASE_BYTES) {
            release_table_pages(j);
        }
        if (kl != KEY_LEN && kl > 0 && (k[0] == P_REC || k[0] == P_DEAD)) {
            if (!s->junk) {
                s->junk = leveldb_writebatch_create();
            }
            leveldb_writebatch_delete(s->junk, (const char *)k, kl);
            s->n_junk++;
            continue;
        }
        if (kl == KEY_LEN && k[0] == P_HIST_V1 && stint_be64_get(k + 1) > s->acked_floor) {
            /* a format 1 history record was acked: a witness of the acked seq, which its 'r'
             * keys (sorting after) need, should the state be older than it */
            s->acked_floor = stint_be64_get(k + 1);
            continue;
        }
        if (kl == KEY_LEN && k[0] == P_REC) {
            uint64_t seq = stint_be64_get(k + 1);
            if (seq <= s->acked_floor) {
                if (j->o.history_ms > 0) {
                    continue; /* history (history.c counts it) */
                }
                if (!seq_push(&s->stale, &s->n_stale, &s->cap_stale, seq)) {
                    err = fail(j, STINT_ENOMEM, "journal %s: out of memory scanning", j->path);
                    goto cleanup;
                }
                continue;
            }
            if (!decode_stored(v, vl, seq, &j->dec_rec)) {
                if (!seq_push(&s->bad, &s->n_bad, &s->cap_bad, seq)) {
                    err = fail(j, STINT_ENOMEM, "journal %s: out of memory scanning", j->path);
                    goto cleanup;
                }
                continue; /* not a witness of the next seq: its key may be what was damaged */
            }
            s->count++;
            s->bytes += kl + vl;
            s->last_rec = seq;
        } else if (kl == KEY_LEN && k[0] == P_DEAD) {
            s->dead++;
        } else if (kl == 1 && k[0] == 'c') {
            s->has_checkpoint = true;
        } else if (kl == sizeof(K_VERSION) - 1 && memcmp(k, K_VERSION, kl) == 0 && vl == 4) {
            s->has_version = true;
            s->version = (uint32_t)(((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) |
                                    ((uint32_t)v[2] << 8) | v[3]);
        } else if (kl == sizeof(K_AGENT) - 1 && memcmp(k, K_AGENT, kl) == 0 &&
                   vl == STINT_AGENT_ID_LEN) {
            s->has_agent = true;
            memcpy(s->agent_id, v, STINT_AGENT_ID_LEN);
        } else if (kl == sizeof(K_PRIVATE) - 1 && memcmp(k, K_PRIVATE, kl) == 0 && vl == 1) {
            s->private_mode = v[0] != 0;
        }
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        s->corrupt = true;
        s->transient = transient_error(lerr);
        snprintf(s->msg, sizeof(s->msg), "%s", lerr);
        leveldb_free(lerr);
    }
cleanup:
    leveldb_iter_destroy(it);
    return err;
}

void db_close(struct stint_journal *j)
{
    if (j->db) {
        leveldb_close(j->db);
        j->db = NULL;
    }
}

static enum stint_err db_repair(struct stint_journal *j)
{
    char *lerr = NULL;
    leveldb_repair_db(j->lopt, j->path, &lerr);
    if (lerr) {
        return ldb_fail(j, lerr, "repair failed");
    }
    return STINT_OK;
}

/* Moves the damaged folder aside and makes an empty one in its place, locked by us. */
static enum stint_err move_aside(struct stint_journal *j, struct stint_journal_open_info *info)
{
    char to[4096];
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);
    struct stint_journal_lock fresh;
    struct stint_error le;
    int n;

    db_close(j);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    for (int i = 1;; i++) {
        struct stat st;
        n = i == 1 ? snprintf(to, sizeof(to), "%s.corrupt-%s", j->path, stamp)
                   : snprintf(to, sizeof(to), "%s.corrupt-%s-%d", j->path, stamp, i);
        if (n < 0 || (size_t)n >= sizeof(to)) {
            return fail(j, STINT_EINVAL, "journal %s: path too long to move aside", j->path);
        }
        if (stat(to, &st) != 0) {
            break;
        }
    }
    if (rename(j->path, to) != 0) {
        return fail(j, STINT_EIO, "journal %s: cannot move the damaged journal to %s: %s", j->path,
                    to, strerror(errno));
    }
    if (mkdir(j->path, 0700) != 0) {
        return fail(j, STINT_EIO, "journal %s: cannot create: %s", j->path, strerror(errno));
    }
    if (stint_journal_lock_take(j->path, &fresh, &le) != STINT_OK) {
        return fail(j, STINT_EIO, "%s", le.msg);
    }
    stint_journal_lock_release(&j->lock);
    j->lock = fresh;
    if (info) {
        info->moved_aside = true;
        snprintf(info->moved_to, sizeof(info->moved_to), "%s", to);
    }
    return STINT_OK;
}

/* Opens LevelDB and scans it, repairing or moving aside on damage. On success j->db is open and
 * *s describes it. */
static enum stint_err db_attach(struct stint_journal *j, struct stint_journal_open_info *info,
                                struct scan *s, uint64_t acked_floor, bool *moved)
{
    bool repaired = false;
    enum stint_err err;

    *moved = false;
    for (;;) {
        char *lerr = NULL;
        scan_free(s);
        memset(s, 0, sizeof(*s));
        s->acked_floor = *moved ? 0 : acked_floor;
        j->db = leveldb_open(j->lopt, j->path, &lerr);
        if (!j->db) {
            if (transient_error(lerr) || *moved) {
                return ldb_fail(j, lerr, "cannot open");
            }
            leveldb_free(lerr);
        } else {
            err = scan_db(j, s);
            if (err != STINT_OK) {
                return err;
            }
            if (!s->corrupt) {
                if (info) {
                    info->repaired = info->repaired || repaired;
                }
                return STINT_OK;
            }
            db_close(j);
            if (s->transient || *moved) {
                return fail(j, STINT_EIO, "journal %s: read failed: %s", j->path, s->msg);
            }
        }
        if (!repaired) {
            repaired = true;
            err = db_repair(j);
            if (err != STINT_OK && transient_error(j->errmsg)) {
                return err;
            }
            continue;
        }
        err = move_aside(j, info);
        if (err != STINT_OK) {
            return err;
        }
        *moved = true;
    }
}

/* Adds to j->wb: each undecodable record (s->bad) moved to the dead letters, with the reason. */
static enum stint_err batch_bad(struct stint_journal *j, const struct scan *s, int64_t now)
{
    for (size_t i = 0; i < s->n_bad; i++) {
        uint8_t k[KEY_LEN], dk[KEY_LEN];
        size_t vl = 0;
        char *lerr = NULL;
        char *v;
        static const char reason[] = "undecodable";
        make_key(k, P_REC, s->bad[i]);
        v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            return ldb_fail(j, lerr, "reading a damaged record");
        }
        {
            const uint8_t *body;
            size_t bl;
            uint8_t *dv;
            dead_body((const uint8_t *)v, v ? vl : 0, &body, &bl);
            vl = bl;
            dv = malloc(DEAD_HDR + sizeof(reason) - 1 + vl + 1);
            if (!dv) {
                leveldb_free(v);
                return fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            }
            dv[0] = 1;
            stint_be64_put(dv + 1, (uint64_t)now);
            dv[9] = 0;
            dv[10] = sizeof(reason) - 1;
            memcpy(dv + DEAD_HDR, reason, sizeof(reason) - 1);
            if (vl) {
                memcpy(dv + DEAD_HDR + sizeof(reason) - 1, body, vl);
            }
            make_key(dk, P_DEAD, s->bad[i]);
            leveldb_writebatch_put(j->wb, (const char *)dk, sizeof(dk), (const char *)dv,
                                   DEAD_HDR + sizeof(reason) - 1 + vl);
            free(dv);
        }
        leveldb_free(v);
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
    }
    return STINT_OK;
}

/* Adds to j->wb: the callers' meta keys of a format 1 journal ('mu/' + name) moved to where
 * format 2 keeps them ('u/' + name, after the records). A key already present in the new space
 * is newer and stays. Idempotent; written with the version, so a journal is never half moved. */
static enum stint_err batch_user_keys_v1(struct stint_journal *j)
{
    const size_t pl = sizeof(K_USER_V1) - 1;
    char nk[sizeof(K_USER) + STINT_JOURNAL_META_KEY_MAX];
    leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->rscan);
    char *lerr = NULL;

    for (leveldb_iter_seek(it, K_USER_V1, pl); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl, ol = 0;
        const char *k = leveldb_iter_key(it, &kl);
        const char *v = leveldb_iter_value(it, &vl);
        char *old;
        if (kl < pl || memcmp(k, K_USER_V1, pl) != 0) {
            break;
        }
        if (kl - pl <= STINT_JOURNAL_META_KEY_MAX) {
            memcpy(nk, K_USER, sizeof(K_USER) - 1);
            memcpy(nk + sizeof(K_USER) - 1, k + pl, kl - pl);
            old = leveldb_get(j->db, j->ropt, nk, sizeof(K_USER) - 1 + kl - pl, &ol, &lerr);
            if (lerr) {
                break;
            }
            if (!old) {
                leveldb_writebatch_put(j->wb, nk, sizeof(K_USER) - 1 + kl - pl, v, vl);
            }
            leveldb_free(old);
        }
        leveldb_writebatch_delete(j->wb, k, kl); /* too long a name was never valid: dropped */
    }
    if (!lerr) {
        leveldb_iter_get_error(it, &lerr);
    }
    leveldb_iter_destroy(it);
    return lerr ? ldb_fail(j, lerr, "moving the format 1 meta keys") : STINT_OK;
}

/* Brings the state in line with what the scan found, writes it (with the undecodable records
 * moved to the dead letters) in one synced batch. */
static enum stint_err settle(struct stint_journal *j, struct scan *s, const struct mark *mk,
                             bool moved, struct stint_journal_open_info *info)
{
    struct jstate st = s->has_state ? s->st : (struct jstate){0};
    uint64_t expected = 0, present;
    bool expected_known = false;
    uint8_t ver[4] = {0, 0, 0, STINT_JOURNAL_FORMAT};
    int64_t now = wall_ms(j);
    enum stint_err err;

    if (s->has_version && s->version > STINT_JOURNAL_FORMAT) {
        return fail(j, STINT_EUNSUPPORTED,
                    "journal %s was written by journal format %u; this Stint reads formats up "
                    "to %d: refusing to touch it",
                    j->path, s->version, STINT_JOURNAL_FORMAT);
    }
    if (info && !s->any_key && !moved) {
        info->created = true;
    }
    if (s->has_agent) {
        memcpy(j->agent_id, s->agent_id, STINT_AGENT_ID_LEN);
    } else if (mk->has_agent && !moved) {
        memcpy(j->agent_id, mk->agent_id, STINT_AGENT_ID_LEN);
    } else if (getrandom(j->agent_id, STINT_AGENT_ID_LEN, 0) != STINT_AGENT_ID_LEN) {
        return fail(j, STINT_EIO, "journal %s: getrandom: %s", j->path, strerror(errno));
    }
    if (mk->present) {
        expected = mk->count;
        expected_known = true;
    } else if (s->has_state) {
        /* plain appends do not rewrite the state: those after it are the seqs from its next_seq
         * to the last record found (contiguous, since anything else rewrites it) */
        expected = s->st.count;
        if (s->count && s->last_rec >= s->st.next_seq) {
            expected += s->last_rec - s->st.next_seq + 1;
        }
        if (s->acked_floor > s->st.acked) {
            /* acked after the state was written (a format 1 history record says so) */
            uint64_t since = s->acked_floor - s->st.acked;
            expected -= since < expected ? since : expected;
        }
        expected_known = true;
    }
    present = s->count + s->n_bad;
    if (moved) {
        st = (struct jstate){0};
        st.lost = expected;
        if (info) {
            info->lost = expected;
            info->lost_known = expected_known;
        }
    } else {
        uint64_t lost = expected > present ? expected - present : 0;
        st.lost += lost;
        if (info) {
            info->lost = lost;
            info->lost_known = expected_known || !s->any_key;
        }
        if (!mk->present && !s->has_state && s->any_key) {
            /* no witness at all of how much there was: say so rather than claim zero */
            if (info) {
                info->lost_known = false;
            }
        }
    }
    /* never give a seq out twice: the highest of every witness */
    if (!moved && mk->next_seq > st.next_seq) {
        st.next_seq = mk->next_seq;
    }
    if (!moved && s->acked_floor > st.acked) {
        st.acked = s->acked_floor; /* the mark's, or a format 1 history record's */
    }
    if (s->last_rec + 1 > st.next_seq) {
        st.next_seq = s->last_rec + 1;
    }
    if (st.acked + 1 > st.next_seq) {
        st.next_seq = st.acked + 1;
    }
    st.count = s->count;
    st.bytes = s->bytes;
    st.dead = s->dead + s->n_bad;
    st.dead_total += s->n_bad;
    if (info) {
        info->dead_lettered = s->n_bad;
    }

    leveldb_writebatch_clear(j->wb);
    if (s->junk) {
        leveldb_writebatch_append(j->wb, s->junk);
    }
    for (size_t i = 0; i < s->n_stale; i++) {
        uint8_t k[KEY_LEN];
        make_key(k, P_REC, s->stale[i]);
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
    }
    err = batch_bad(j, s, now);
    if (err == STINT_OK) {
        err = batch_user_keys_v1(j);
    }
    if (err != STINT_OK) {
        return err;
    }
    leveldb_writebatch_put(j->wb, K_VERSION, sizeof(K_VERSION) - 1, (const char *)ver, 4);
    leveldb_writebatch_delete(j->wb, K_STATE_V1, sizeof(K_STATE_V1) - 1); /* now K_STATE */
    leveldb_writebatch_put(j->wb, K_AGENT, sizeof(K_AGENT) - 1, (const char *)j->agent_id,
                           STINT_AGENT_ID_LEN);
    j->st = st;
    put_state(j, &st);
    err = write_batch(j, true, "cannot write the journal state");
    if (err != STINT_OK) {
        return err;
    }
    j->private_mode = s->private_mode;
    j->oldest_ms = 0;
    j->oldest_valid = false; /* found on the first append that needs it */
    j->durable = st.next_seq - 1;
    j->read_hwm = st.acked;
    j->broken = false;
    return STINT_OK;
}

/* Format 1 kept acknowledged records in an 'h' space of their own: they move back under their
 * 'r' keys (at or below the acked seq, where format 2 keeps the history), in writes of
 * ACK_CHUNK keys, each moving its keys whole. Idempotent: an open after a crash goes on. */
static enum stint_err move_history_v1(struct stint_journal *j)
{
    const char p = P_HIST_V1;
    enum stint_err err = STINT_OK;
    char *lerr = NULL, from[KEY_LEN + 1] = {P_HIST_V1};
    size_t from_len = 1;
    bool more = true;

    while (more && err == STINT_OK) {
        leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->rscan);
        size_t n = 0;
        more = false;
        leveldb_writebatch_clear(j->wb);
        /* each chunk from where the last stopped: never over the delete markers it wrote */
        for (leveldb_iter_seek(it, from, from_len); leveldb_iter_valid(it); leveldb_iter_next(it)) {
            size_t kl, vl;
            const char *k = leveldb_iter_key(it, &kl);
            const char *v = leveldb_iter_value(it, &vl);
            if (kl < 1 || k[0] != p) {
                break;
            }
            if (n == ACK_CHUNK) {
                more = kl <= sizeof(from);
                from_len = more ? kl : 0;
                memcpy(from, k, from_len);
                break;
            }
            if (kl == KEY_LEN && stint_be64_get((const uint8_t *)k + 1) <= j->st.acked) {
                uint8_t rk[KEY_LEN]; /* (the open's scan made the acked seq cover every one) */
                make_key(rk, P_REC, stint_be64_get((const uint8_t *)k + 1));
                leveldb_writebatch_put(j->wb, (const char *)rk, sizeof(rk), v, vl);
            }
            leveldb_writebatch_delete(j->wb, k, kl);
            n++;
        }
        leveldb_iter_get_error(it, &lerr);
        leveldb_iter_destroy(it);
        if (lerr) {
            return ldb_fail(j, lerr, "moving the format 1 history");
        }
        if (n) {
            err = write_batch(j, !more, "moving the format 1 history");
        }
    }
    return err;
}

/* Opens the database at j->path and settles its state. */
enum stint_err db_bring_up(struct stint_journal *j, struct stint_journal_open_info *info)
{
    struct scan s;
    struct mark mk;
    bool moved = false;
    enum stint_err err;

    memset(&s, 0, sizeof(s));
    mark_read(j->path, &mk);
    err = db_attach(j, info, &s, mk.acked, &moved);
    if (err == STINT_OK) {
        err = settle(j, &s, &mk, moved, info);
    }
    if (err == STINT_OK && s.n_stale) {
        want_compaction(j, j->st.acked); /* what history kept, now off: out of the files */
    }
    if (err == STINT_OK) {
        /* the history is the user's convenience, not the queue's: a full disk must not keep
         * the agent from starting. What is left under 'h' moves at the next open (a failed
         * write marks the handle broken: the next call reopens); meanwhile it witnesses the
         * acked seq and is never read. */
        (void)move_history_v1(j);
    }
    stint_history_forget(j->hist); /* a database opened anew is counted anew */
    if (err == STINT_OK) {
        mark_remove(j->path);   /* from now on the state in LevelDB is the witness */
        release_table_pages(j); /* the scan touched every table */
    } else {
        db_close(j);
    }
    scan_free(&s);
    return err;
}

/* Every call that touches LevelDB starts here: reopen after a failed write, then hand over the
 * coalesced appends, so that what the call sees is everything appended. */
enum stint_err ensure_db(struct stint_journal *j)
{
    struct stint_journal_open_info info;
    enum stint_err err;

    if (!j->broken && j->db) {
        return flush_pending(j);
    }
    memset(&info, 0, sizeof(info));
    rc_drop(j);
    pthread_rwlock_wrlock(&j->dblock);
    db_close(j);
    err = db_bring_up(j, &info);
    pthread_rwlock_unlock(&j->dblock);
    if (err == STINT_OK && j->pend_n) {
        /* the reopen counted what is on disk; the pending appends come on top */
        if (j->pend_last + 1 > j->st.next_seq) {
            j->st.next_seq = j->pend_last + 1;
        }
        j->st.count += j->pend_n;
        j->st.bytes += j->pend_bytes;
        err = flush_pending(j);
    }
    return err;
}
