/* source_jsonl.c — events as JSON lines, from a file (followed like tail -F), a FIFO or stdin.
 *
 * The format is normative in spec/AGENT.md: one JSON object a
 * line, `time` in Unix ms ("from this moment"), app/path/title/url strings, `"idle": true` for
 * the start of idle, `"private": true|false` for private mode. Members this version does not
 * know are ignored (a producer may send more); a line that is not such an object is reported
 * with its line number, counted and skipped. Blank lines are skipped silently.
 *
 * Regular files are followed like `tail -F`, event-driven: one inotify watch on the file's
 * folder reports writes, creations and renames of its name. After each wake-up the file is read
 * to its end, then the path is looked at again: another inode there means the file was rotated
 * (what was left of the old one has just been read; the new one is read from its start), a size
 * below what was read means it was truncated (read again from the start). A last line without
 * its newline is left until the newline comes (the writer may be half-way through it). Without
 * inotify the folder is looked at once a second.
 *
 * Positions (resumable: regular files only) are 34 bytes: 'J', 1, then big-endian device, inode,
 * byte offset and line number of the start of the line the item came from. seek() resumes there
 * when device and inode still match and the file is not shorter; otherwise the file at the path
 * is read from its start (it was rotated or truncated while stintd was down).
 *
 * A FIFO is opened for reading and, by this process, for writing too, so that there is always a
 * writer: producers can come and go without an end of file (and without poll() reporting POLLHUP
 * forever). Standard input ends for good at its end of file; a last line without a newline is
 * taken then, and stats.ended tells stintd.
 */
#define _GNU_SOURCE
#include "source.h"

#include "jsonl_event.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES (64 * 1024)
#define READ_CHUNK (64 * 1024)
#define READ_BUDGET (1024 * 1024) /* per dispatch, so one big file cannot starve the loop */
#define POS_LEN 34
#define TIME_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

struct jsonl {
    struct stint_source base;
    char *path; /* NULL: stdin or a caller's fd */
    char *dir, *name;
    int fd, wfd, ifd;
    bool regular, fifo, ended, more, skipping, owns_fd;
    bool stalled; /* the sink refused an event: read nothing until seek */
    bool refused; /* the path holds something that is not a regular file: not read */
    dev_t dev;
    ino_t ino;
    uint64_t buf_off; /* file offset of buf[0] */
    uint64_t line;    /* lines before buf[0] */
    char *buf;
    size_t len, cap;
    struct stint_source_stats st;
    struct stint_jsonl_parser *parser; /* reused line after line */
};

/* ---- positions ---- */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* ---- one line ---- */

static void bad(struct jsonl *j, uint64_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void bad(struct jsonl *j, uint64_t line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    j->st.bad++;
    j->st.last_bad_line = line;
    snprintf(j->st.last_error, sizeof(j->st.last_error), "%s:%llu: %s", j->path ? j->path : "stdin",
             (unsigned long long)line, msg);
    if (j->base.sink.bad_input) {
        j->base.sink.bad_input(j->base.sink.ctx, line, j->st.last_error);
    }
}

static enum stint_err handle_line(struct jsonl *j, const char *p, size_t n, uint64_t start_off,
                                  uint64_t lineno)
{
    struct stint_jsonl_event ev;
    struct stint_sample s = {0};
    uint8_t posb[POS_LEN];
    struct stint_source_pos pos = {posb, POS_LEN};
    const struct stint_source_pos *pp = NULL;
    char msg[200];
    enum stint_err err;
    size_t i = 0;

    while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    if (i == n) {
        return STINT_OK; /* blank */
    }
    err = stint_jsonl_parse(j->parser, p, n, &ev, msg, sizeof(msg));
    if (err == STINT_ENOMEM) {
        return err;
    }
    if (err != STINT_OK) {
        bad(j, lineno, "%s", msg);
        return STINT_OK;
    }
    if (j->regular) {
        posb[0] = 'J';
        posb[1] = 1;
        put64(posb + 2, (uint64_t)j->dev);
        put64(posb + 10, (uint64_t)j->ino);
        put64(posb + 18, start_off);
        put64(posb + 26, lineno - 1);
        pp = &pos;
    }
    j->st.items++;
    switch (ev.kind) {
    case STINT_JSONL_PRIVATE:
        return j->base.sink.private_mode
                   ? j->base.sink.private_mode(j->base.sink.ctx, ev.private_on, ev.time_ms, pp)
                   : STINT_OK;
    case STINT_JSONL_IDLE:
        return j->base.sink.idle ? j->base.sink.idle(j->base.sink.ctx, ev.time_ms, pp) : STINT_OK;
    case STINT_JSONL_FOCUS:
        break;
    }
    s.time_ms = ev.time_ms;
    s.app = ev.app;
    s.app_len = ev.app_len;
    s.path = ev.path;
    s.path_len = ev.path_len;
    s.title = ev.title;
    s.title_len = ev.title_len;
    s.url = ev.url;
    s.url_len = ev.url_len;
    return j->base.sink.sample ? j->base.sink.sample(j->base.sink.ctx, &s, pp) : STINT_OK;
}

/* Hands every complete line in buf to handle_line; keeps the rest. `final`: the input is over,
 * a last line without its newline counts. */
static enum stint_err drain_lines(struct jsonl *j, bool final)
{
    enum stint_err err = STINT_OK, e2;
    size_t at = 0;

    for (;;) {
        char *nl = memchr(j->buf + at, '\n', j->len - at);
        size_t n;
        if (!nl) {
            if (j->len - at > LINE_MAX_BYTES) {
                /* no newline within the limit: refuse the line, skip to its end */
                if (!j->skipping) {
                    bad(j, j->line + 1, "longer than %d bytes", LINE_MAX_BYTES);
                    j->skipping = true;
                }
                j->buf_off += j->len - at;
                at = j->len;
            } else if (final && j->len > at) {
                n = j->len - at;
                j->line++;
                if (j->skipping) {
                    j->skipping = false;
                } else if ((e2 = handle_line(j, j->buf + at, n, j->buf_off, j->line)) != STINT_OK) {
                    err = err == STINT_OK ? e2 : err;
                }
                j->buf_off += n;
                at = j->len;
            }
            break;
        }
        n = (size_t)(nl - (j->buf + at));
        j->line++;
        if (j->skipping) {
            j->skipping = false; /* the end of the over-long line */
        } else if (n > LINE_MAX_BYTES) {
            bad(j, j->line, "longer than %d bytes", LINE_MAX_BYTES);
        } else if ((e2 = handle_line(j, j->buf + at, n, j->buf_off, j->line)) != STINT_OK) {
            err = err == STINT_OK ? e2 : err;
            if (j->regular) {
                /* the tracker could not journal it: stop here; it sends us back (seek) to the
                 * last event it journaled and reads again once the journal works */
                j->buf_off += n + 1;
                at += n + 1;
                j->stalled = true;
                break;
            }
        }
        j->buf_off += n + 1;
        at += n + 1;
    }
    memmove(j->buf, j->buf + at, j->len - at);
    j->len -= at;
    return err;
}

/* Reads what is there (at most READ_BUDGET); *eof when read() said end of file. */
static enum stint_err read_some(struct jsonl *j, bool *eof)
{
    enum stint_err err = STINT_OK, e2;
    size_t total = 0;

    *eof = false;
    j->more = false;
    while (j->fd >= 0 && !j->stalled) {
        if (j->cap - j->len < READ_CHUNK) {
            size_t cap = j->len + READ_CHUNK + 1;
            char *p = realloc(j->buf, cap);
            if (!p) {
                return STINT_ENOMEM;
            }
            j->buf = p;
            j->cap = cap;
        }
        ssize_t r = read(j->fd, j->buf + j->len, READ_CHUNK);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            }
            snprintf(j->st.last_error, sizeof(j->st.last_error), "%s: read: %s",
                     j->path ? j->path : "stdin", strerror(errno));
            return STINT_EIO;
        }
        if (r == 0) {
            *eof = true;
            break;
        }
        j->len += (size_t)r;
        total += (size_t)r;
        e2 = drain_lines(j, false);
        err = err == STINT_OK ? e2 : err;
        if (j->stalled) {
            break;
        }
        if (!j->regular && !j->fifo) {
            break; /* stdin: one read per readiness, so that it never blocks */
        }
        if (total >= READ_BUDGET) {
            j->more = true;
            break;
        }
    }
    return err;
}

/* ---- regular files: open, rotation, truncation ---- */

static void reset_stream(struct jsonl *j)
{
    j->buf_off = 0;
    j->line = 0;
    j->len = 0;
    j->skipping = false;
}

/* Opens the file at the path (if there is one) from its start. */
static enum stint_err open_file(struct jsonl *j)
{
    struct stat st;
    int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            return STINT_OK; /* tail -F: wait for it */
        }
        snprintf(j->st.last_error, sizeof(j->st.last_error), "%s: %s", j->path, strerror(errno));
        return STINT_EIO;
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return STINT_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        /* a device (a link to /dev/zero), a folder, a socket: never read; the path is looked at
         * again at its next change, and a regular file there is read from its start */
        close(fd);
        if (!j->refused || st.st_dev != j->dev || st.st_ino != j->ino) {
            bad(j, j->line + 1, "%s is no longer a regular file: not read until it is", j->path);
        }
        if (j->fd >= 0) {
            close(j->fd);
            j->fd = -1;
        }
        j->refused = true;
        j->dev = st.st_dev;
        j->ino = st.st_ino;
        reset_stream(j);
        return STINT_OK;
    }
    j->refused = false;
    if (j->fd >= 0) {
        close(j->fd);
    }
    j->fd = fd;
    j->dev = st.st_dev;
    j->ino = st.st_ino;
    reset_stream(j);
    return STINT_OK;
}

/* After reading to the end: is the path still our file, and not shorter? *moved: we now read
 * another file (or the same from its start). */
static enum stint_err follow(struct jsonl *j, bool *moved)
{
    struct stat st;
    *moved = false;
    if (stat(j->path, &st) != 0) {
        return STINT_OK; /* moved away, nothing new yet: keep the old one until it appears */
    }
    if (j->refused && st.st_dev == j->dev && st.st_ino == j->ino) {
        return STINT_OK; /* still the thing we refused */
    }
    if (j->fd < 0 || st.st_dev != j->dev || st.st_ino != j->ino) {
        if (j->len && !j->skipping) {
            bad(j, j->line + 1, "incomplete last line of a rotated file");
        }
        *moved = true;
        return open_file(j); /* created, or rotated: the new one from its start */
    }
    if ((uint64_t)st.st_size < j->buf_off + j->len) {
        /* truncated: from the start again */
        if (lseek(j->fd, 0, SEEK_SET) == 0) {
            reset_stream(j);
            *moved = true;
        }
    }
    return STINT_OK;
}

/* Whether the inotify events read name our file (or overflowed: then assume so). */
static bool drain_inotify(struct jsonl *j)
{
    _Alignas(struct inotify_event) char evbuf[4096];
    bool ours = false;
    ssize_t r;
    while ((r = read(j->ifd, evbuf, sizeof(evbuf))) > 0) {
        for (char *p = evbuf; p < evbuf + r;) {
            struct inotify_event ev;
            memcpy(&ev, p, sizeof(ev));
            const char *name = p + sizeof(ev);
            if ((ev.mask & IN_Q_OVERFLOW) || (ev.len && strcmp(name, j->name) == 0)) {
                ours = true;
            }
            p += sizeof(ev) + ev.len;
        }
    }
    return ours;
}

static enum stint_err j_dispatch(struct stint_source *s, const struct pollfd *fds, int n)
{
    struct jsonl *j = (struct jsonl *)s;
    enum stint_err err = STINT_OK, e2;
    bool eof = false;

    (void)fds;
    (void)n;
    if (j->ended) {
        return STINT_OK;
    }
    if (j->regular) {
        bool moved = false;
        if (j->ifd >= 0 && !drain_inotify(j) && !j->more) {
            return STINT_OK; /* another file of the folder changed */
        }
        if (j->stalled) {
            return STINT_OK; /* waiting for the tracker's seek */
        }
        /* the old file to its end, then whether the path moved on (then the new one at once) */
        err = read_some(j, &eof);
        if (j->more || j->stalled) {
            return err;
        }
        e2 = follow(j, &moved);
        err = err == STINT_OK ? e2 : err;
        if (moved) {
            e2 = read_some(j, &eof);
            err = err == STINT_OK ? e2 : err;
        }
        return err;
    }
    err = read_some(j, &eof);
    if (eof && !j->fifo) {
        e2 = drain_lines(j, true);
        err = err == STINT_OK ? e2 : err;
        j->ended = true;
        j->st.ended = true;
    }
    return err;
}

static int j_fds(struct stint_source *s, struct pollfd *fds, int cap)
{
    struct jsonl *j = (struct jsonl *)s;
    if (cap < 1 || j->ended) {
        return 0;
    }
    if (j->regular) {
        if (j->ifd < 0) {
            return 0;
        }
        fds[0] = (struct pollfd){.fd = j->ifd, .events = POLLIN};
        return 1;
    }
    fds[0] = (struct pollfd){.fd = j->fd, .events = POLLIN};
    return 1;
}

static int64_t j_timeout(struct stint_source *s)
{
    struct jsonl *j = (struct jsonl *)s;
    if (j->more) {
        return 0;
    }
    if (j->regular && j->ifd < 0) {
        return 1000; /* no inotify: look once a second */
    }
    return -1;
}

static enum stint_err j_seek(struct stint_source *s, const void *pos, size_t len)
{
    struct jsonl *j = (struct jsonl *)s;
    const uint8_t *p = pos;
    struct stat st;

    if (!j->regular) {
        return STINT_EUNSUPPORTED;
    }
    j->stalled = false;
    j->more = true; /* the next dispatch reads from here without waiting for a change */
    if (!p || len != POS_LEN || p[0] != 'J' || p[1] != 1 || j->fd < 0 || fstat(j->fd, &st) != 0) {
        /* not ours, or nothing journaled yet: from the start */
        if (j->fd >= 0 && lseek(j->fd, 0, SEEK_SET) != 0) {
            return STINT_EIO;
        }
        reset_stream(j);
        return STINT_OK;
    }
    uint64_t off = get64(p + 18);
    if (get64(p + 2) != (uint64_t)st.st_dev || get64(p + 10) != (uint64_t)st.st_ino ||
        off > (uint64_t)st.st_size || off > (uint64_t)INT64_MAX) {
        /* rotated or truncated while we were away */
        if (lseek(j->fd, 0, SEEK_SET) != 0) {
            return STINT_EIO;
        }
        reset_stream(j);
        return STINT_OK;
    }
    if (lseek(j->fd, (off_t)off, SEEK_SET) != (off_t)off) {
        return STINT_EIO;
    }
    reset_stream(j);
    j->buf_off = off;
    j->line = get64(p + 26);
    return STINT_OK;
}

static void j_stats(struct stint_source *s, struct stint_source_stats *out)
{
    struct jsonl *j = (struct jsonl *)s;
    *out = j->st;
    out->lines = j->line;
}

static void j_destroy(struct stint_source *s)
{
    struct jsonl *j = (struct jsonl *)s;
    if (j->fd >= 0 && j->owns_fd) {
        close(j->fd);
    }
    if (j->wfd >= 0) {
        close(j->wfd);
    }
    if (j->ifd >= 0) {
        close(j->ifd);
    }
    free(j->path);
    free(j->dir);
    free(j->buf);
    stint_jsonl_parser_destroy(j->parser);
    free(j);
}

static const struct stint_source_ops file_ops = {
    .name = "jsonl",
    .flags = STINT_SOURCE_EVENT_TIME | STINT_SOURCE_RESUMABLE,
    .fds = j_fds,
    .timeout = j_timeout,
    .dispatch = j_dispatch,
    .seek = j_seek,
    .stats = j_stats,
    .destroy = j_destroy,
};

static const struct stint_source_ops stream_ops = {
    .name = "jsonl",
    .flags = STINT_SOURCE_EVENT_TIME,
    .fds = j_fds,
    .timeout = j_timeout,
    .dispatch = j_dispatch,
    .stats = j_stats,
    .destroy = j_destroy,
};

static const struct stint_source_ops stdin_ops = {
    .name = "stdin",
    .flags = STINT_SOURCE_EVENT_TIME,
    .fds = j_fds,
    .timeout = j_timeout,
    .dispatch = j_dispatch,
    .stats = j_stats,
    .destroy = j_destroy,
};

static struct jsonl *new_jsonl(void)
{
    struct jsonl *j = calloc(1, sizeof(*j));
    if (j) {
        j->fd = j->wfd = j->ifd = -1;
        snprintf(j->base.meta_key, sizeof(j->base.meta_key), "source.jsonl");
        if (stint_jsonl_parser_create(&j->parser) != STINT_OK) {
            free(j);
            j = NULL;
        }
    }
    return j;
}

enum stint_err stint_source_jsonl_open_fd(int fd, struct stint_source **out, struct stint_error *e)
{
    struct jsonl *j = new_jsonl();
    *out = NULL;
    if (!j) {
        return stint_error_set(e, STINT_ENOMEM, 0, "jsonl: out of memory");
    }
    j->base.ops = &stdin_ops;
    j->fd = fd;
    *out = &j->base;
    return STINT_OK;
}

enum stint_err stint_source_jsonl_open(const char *path, struct stint_source **out,
                                       struct stint_error *e)
{
    struct jsonl *j = NULL;
    enum stint_err err = STINT_OK;
    struct stat st;

    *out = NULL;
    stint_error_clear(e);
    if (!path || strcmp(path, "-") == 0) {
        return stint_source_jsonl_open_fd(STDIN_FILENO, out, e);
    }
    j = new_jsonl();
    if (!j || !(j->path = strdup(path)) || !(j->dir = strdup(path))) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "jsonl: out of memory");
        goto cleanup;
    }
    j->owns_fd = true;
    {
        char *slash = strrchr(j->dir, '/');
        if (slash) {
            j->name = j->path + (slash - j->dir) + 1;
            *slash = '\0'; /* "/x": folder "" (read as "/" below), name "x" */
        } else {
            j->name = j->path;
            free(j->dir);
            j->dir = strdup(".");
            if (!j->dir) {
                err = stint_error_set(e, STINT_ENOMEM, 0, "jsonl: out of memory");
                goto cleanup;
            }
        }
    }
    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode)) {
        j->base.ops = &stream_ops;
        j->fifo = true;
        j->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        /* our own writer: no end of file while producers come and go */
        j->wfd = j->fd >= 0 ? open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK) : -1;
        if (j->fd < 0 || j->wfd < 0) {
            err = stint_error_set(e, STINT_EIO, 0, "jsonl %s: cannot open the FIFO: %s", path,
                                  strerror(errno));
            goto cleanup;
        }
    } else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        err = stint_error_set(e, STINT_EINVAL, 0, "jsonl %s: not a regular file or a FIFO", path);
        goto cleanup;
    } else {
        struct stat dst;
        const char *dir = j->dir[0] ? j->dir : "/";
        j->base.ops = &file_ops;
        j->regular = true;
        if (stat(dir, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
            err = stint_error_set(e, STINT_EIO, 0, "jsonl %s: folder %s does not exist", path, dir);
            goto cleanup;
        }
        j->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (j->ifd >= 0 && inotify_add_watch(j->ifd, dir,
                                             IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                                 IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
            close(j->ifd);
            j->ifd = -1;
        }
        if (open_file(j) != STINT_OK) {
            err = stint_error_set(e, STINT_EIO, 0, "jsonl %s: cannot open: %s", path,
                                  strerror(errno));
            goto cleanup;
        }
        /* the first dispatch reads what is there already */
        j->more = true;
    }
    *out = &j->base;
    j = NULL;
cleanup:
    if (j) {
        j_destroy(&j->base);
    }
    return err;
}
