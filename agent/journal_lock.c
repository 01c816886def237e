/* journal_lock.c — one agent per journal: Stint's own lock file beside LevelDB's LOCK.
 *
 * LevelDB's LOCK is an fcntl lock too, but its error only says "Resource temporarily
 * unavailable". Before LevelDB is opened we take a write lock on <dir>/stint.lock: when another
 * process holds it, fcntl(F_GETLK) names that process, and the file also holds the pid as text
 * for people. fcntl locks belong to a process and vanish when it dies (kill -9 included), so no
 * stale lock outlives a crash.
 *
 * Two properties of fcntl locks shape this file: a process never conflicts with itself, and
 * closing ANY descriptor of the file drops the process's lock on it. So a process-wide table of
 * the folders held (by device and inode) refuses a second open inside the same process before the
 * file is opened a second time.
 */
#define _GNU_SOURCE
#include "journal_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELD_MAX 64

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    dev_t dev;
    ino_t ino;
    int used;
} held[HELD_MAX];

static int held_find(dev_t dev, ino_t ino)
{
    for (int i = 0; i < HELD_MAX; i++) {
        if (held[i].used && held[i].dev == dev && held[i].ino == ino) {
            return i;
        }
    }
    return -1;
}

enum stint_err stint_journal_lock_take(const char *dir, struct stint_journal_lock *out,
                                       struct stint_error *e)
{
    enum stint_err err = STINT_OK;
    char file[4200];
    struct stat st;
    struct flock fl;
    char pidtxt[32];
    int fd = -1;
    int slot = -1;
    int n;

    out->fd = -1;
    if (stat(dir, &st) != 0) {
        return stint_error_set(e, STINT_EIO, 0, "journal %s: %s", dir, strerror(errno));
    }
    pthread_mutex_lock(&held_mu);
    if (held_find(st.st_dev, st.st_ino) >= 0) {
        err = stint_error_set(e, STINT_EIO, 0, "journal %s is in use by this process (pid %ld)",
                              dir, (long)getpid());
        goto cleanup;
    }
    for (int i = 0; i < HELD_MAX; i++) {
        if (!held[i].used) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        err = stint_error_set(e, STINT_ELIMIT, 0,
                              "journal %s: more than %d journals open in this process", dir,
                              HELD_MAX);
        goto cleanup;
    }
    n = snprintf(file, sizeof(file), "%s/%s", dir, STINT_JOURNAL_LOCK_FILE);
    if (n < 0 || (size_t)n >= sizeof(file)) {
        err = stint_error_set(e, STINT_EINVAL, 0, "journal path too long");
        goto cleanup;
    }
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "journal %s: cannot open %s: %s", dir, file,
                              strerror(errno));
        goto cleanup;
    }
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int en = errno;
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if ((en == EAGAIN || en == EACCES) && fcntl(fd, F_GETLK, &fl) == 0 &&
            fl.l_type != F_UNLCK) {
            err = stint_error_set(e, STINT_EIO, 0, "journal %s is in use by process %ld", dir,
                                  (long)fl.l_pid);
        } else {
            err = stint_error_set(e, STINT_EIO, 0, "journal %s: cannot lock %s: %s", dir, file,
                                  strerror(en));
        }
        goto cleanup;
    }
    n = snprintf(pidtxt, sizeof(pidtxt), "%ld\n", (long)getpid());
    /* the pid as text is for people; the lock itself is what counts, so a failed write is fine */
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pidtxt, (size_t)n, 0) < 0) {
        (void)0;
    }
    held[slot].used = 1;
    held[slot].dev = st.st_dev;
    held[slot].ino = st.st_ino;
    out->fd = fd;
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    fd = -1;
cleanup:
    pthread_mutex_unlock(&held_mu);
    if (fd >= 0) {
        close(fd);
    }
    return err;
}

void stint_journal_lock_release(struct stint_journal_lock *l)
{
    int i;

    if (!l || l->fd < 0) {
        return;
    }
    pthread_mutex_lock(&held_mu);
    i = held_find(l->dev, l->ino);
    if (i >= 0) {
        held[i].used = 0;
    }
    close(l->fd); /* drops the fcntl lock */
    l->fd = -1;
    pthread_mutex_unlock(&held_mu);
}
