/* purge.c — purge: the local copy is erased (files overwritten with zeros) and an empty
 * journal started, keeping the agent id and the seqs given out.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"

/* Overwrites every regular file of the folder except our lock with zeros and syncs it, so that
 * nothing of the records is left in the blocks once LevelDB removes the files. */
static enum stint_err zero_files(struct stint_journal *j)
{
    static const char zeros[65536];
    enum stint_err err = STINT_OK;
    DIR *d = opendir(j->path);
    struct dirent *de;

    if (!d) {
        return fail(j, STINT_EIO, "journal %s: purge: %s", j->path, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        char file[4200];
        struct stat st;
        int fd;
        if (strcmp(de->d_name, STINT_JOURNAL_LOCK_FILE) == 0 ||
            path_join(file, sizeof(file), j->path, de->d_name) != 0 || lstat(file, &st) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            err = fail(j, STINT_EIO, "journal %s: purge: %s: %s", j->path, de->d_name,
                       strerror(errno));
            continue;
        }
        for (off_t off = 0; off < st.st_size;) {
            size_t chunk = (size_t)(st.st_size - off) < sizeof(zeros) ? (size_t)(st.st_size - off)
                                                                      : sizeof(zeros);
            ssize_t w = pwrite(fd, zeros, chunk, off);
            if (w <= 0) {
                err = fail(j, STINT_EIO, "journal %s: purge: %s: %s", j->path, de->d_name,
                           strerror(errno));
                break;
            }
            off += w;
        }
        if (fdatasync(fd) != 0) {
            err = fail(j, STINT_EIO, "journal %s: purge: %s: %s", j->path, de->d_name,
                       strerror(errno));
        }
        close(fd);
    }
    closedir(d);
    return err;
}

/* One meta entry kept across a purge. */
struct kv {
    char *k, *v;
    size_t kl, vl;
};

/* Appends a copy of one entry to *keep; false when out of memory. */
static bool keep_one(struct kv **keep, size_t *n, size_t *cap, const char *k, size_t kl,
                     const char *v, size_t vl)
{
    struct kv *e;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct kv *p = realloc(*keep, ncap * sizeof(*p));
        if (!p) {
            return false;
        }
        *keep = p;
        *cap = ncap;
    }
    e = &(*keep)[*n];
    e->k = malloc(kl ? kl : 1);
    e->v = malloc(vl ? vl : 1);
    if (!e->k || !e->v) {
        free(e->k);
        free(e->v);
        return false;
    }
    memcpy(e->k, k, kl);
    memcpy(e->v, v, vl);
    e->kl = kl;
    e->vl = vl;
    (*n)++;
    return true;
}

enum stint_err stint_journal_purge(struct stint_journal *j)
{
    struct kv *keep = NULL;
    size_t n_keep = 0, cap_keep = 0;
    enum stint_err err = STINT_OK;
    leveldb_iterator_t *it;
    struct jstate st;
    char *lerr = NULL;
    static const char pfx[] = {'m', 'u'}; /* the journal's meta keys, the callers' keys */

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    /* keep the meta spaces (agent_id, private mode, a source's position); state is rewritten */
    it = leveldb_create_iterator(j->db, j->ropt);
    for (size_t sp = 0; sp < sizeof(pfx); sp++) {
        for (leveldb_iter_seek(it, &pfx[sp], 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
            size_t kl, vl;
            const char *k = leveldb_iter_key(it, &kl);
            const char *v = leveldb_iter_value(it, &vl);
            if (kl < 1 || k[0] != pfx[sp]) {
                break;
            }
            if (!keep_one(&keep, &n_keep, &cap_keep, k, kl, v, vl)) {
                leveldb_iter_destroy(it);
                err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
                goto cleanup;
            }
        }
    }
    leveldb_iter_get_error(it, &lerr);
    leveldb_iter_destroy(it);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "purge: reading meta failed");
        goto cleanup;
    }
    st = j->st;
    rc_drop(j);
    st.acked = st.next_seq - 1;
    st.count = 0;
    st.bytes = 0;
    st.dead = 0;

    pthread_rwlock_wrlock(&j->dblock);
    db_close(j);
    err = zero_files(j);
    if (err == STINT_OK) {
        leveldb_destroy_db(j->lopt, j->path, &lerr);
        if (lerr) {
            err = ldb_fail(j, lerr, "purge: removing the database failed");
        }
    }
    if (err == STINT_OK) {
        j->db = leveldb_open(j->lopt, j->path, &lerr);
        if (!j->db) {
            j->broken = true;
            err = ldb_fail(j, lerr, "purge: making the database anew failed");
        }
    }
    pthread_rwlock_unlock(&j->dblock);
    if (err != STINT_OK) {
        j->broken = true;
        goto cleanup;
    }
    leveldb_writebatch_clear(j->wb);
    for (size_t i = 0; i < n_keep; i++) {
        leveldb_writebatch_put(j->wb, keep[i].k, keep[i].kl, keep[i].v, keep[i].vl);
    }
    put_state(j, &st);
    j->st = st;
    stint_history_forget(j->hist); /* the history went with the old database */
    err = write_batch(j, true, "purge: writing meta failed");
    j->oldest_valid = false;
    j->read_hwm = st.acked;
    j->acked_bytes_since = 0;
    j->trimmed_bytes_since = 0;
cleanup:
    for (size_t i = 0; i < n_keep; i++) {
        free(keep[i].k);
        free(keep[i].v);
    }
    free(keep);
    pthread_mutex_unlock(&j->mu);
    return err;
}
