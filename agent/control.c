/* control.c — the control socket server (control.h; protocol: spec/CONTROL.md).
 *
 * Design. The server is a set of small state machines, one per connected client, driven by the
 * daemon's poll loop; it never blocks and has no thread, so a slow or stuck client costs a slot
 * and some bounded memory, never the loop. Each client is in one of these states:
 *
 *   READ     waiting for a request line (the only state that reads from the socket; requests a
 *            client sends while an answer is still being produced wait in the kernel's buffer)
 *   PENDING  streaming records: a chunk is asked of the daemon whenever less than PENDING_LOW
 *            bytes wait to be written, so memory stays bounded whatever the backlog
 *   FLUSH    flush --wait: the daemon's progress callback is polled every tick; a progress line
 *            goes out when the figures change, the final line when it says done
 *   PURGE    purge --server: the daemon's purge_poll is polled every tick
 *   WATCH    watch: the connection only carries state lines from now on. The summary
 *            (stint_control_watch_state, made from the status callback) is computed every
 *            watch_ms and right after any client's request, and a line goes out only when it
 *            differs from the last one sent, so a tray that blocks on the socket wakes only when
 *            something it shows changed. The daemon has no notification from the sender thread,
 *            hence the slow tick; it runs only while somebody watches.
 *   CLOSING  the last bytes are written, then the connection is closed
 *
 * The peer's uid is checked once, at accept (SO_PEERCRED); a refused peer gets one error line
 * (best effort, never waited for) and is closed. A request line longer than the cap, a client
 * that leaves more than STINT_CONTROL_OUT_MAX bytes unread, or one silent between requests for
 * idle_timeout_ms is closed too, so the number and the size of clients are both bounded.
 *
 * Error codes: the protocol carries enum stint_err (spec/CONTROL.md, "Errors"): a refused peer
 * is answered with STINT_EPERM, a second purge at once with STINT_EBUSY, each with a message that
 * starts with "permission denied" or "busy" as before those codes existed.
 */
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "stint/buf.h"
#include "stint/json.h"

#define PENDING_LOW ((size_t)16 << 10) /* refill the pending stream below this many bytes */
#define CHUNKS_PER_CALL 16             /* pending chunks per handle call: the loop stays fair */
#define CLOSING_GRACE_MS 5000          /* a closing client's last bytes may take this long */

enum cstate { C_READ, C_PENDING, C_FLUSH, C_PURGE, C_WATCH, C_CLOSING };

struct client {
    int fd;
    enum cstate state;
    bool eof; /* the peer closed its side: no more requests */
    char in[STINT_CONTROL_LINE_MAX];
    size_t in_len;
    struct stint_buf out;
    size_t out_off;             /* bytes of out already written */
    int64_t deadline;           /* monotonic ms: idle close, next tick, closing grace */
    uint64_t target;            /* flush: the seq waited for */
    uint64_t from, left, count; /* pending: next seq, records still wanted (0: all), sent */
    bool unlimited;
    bool more;           /* pending: the daemon has more after from */
    bool history;        /* pending: list the history instead ... */
    int64_t since_ms;    /* ... without the records that ended at or before this */
    char *last_progress; /* flush: the last progress line; watch: the last state line */
};

struct stint_control {
    int listen_fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev;
    ino_t ino;
    struct stint_control_ops ops;
    void *ctx;
    uid_t uid;
    uint32_t tick_ms, idle_ms, watch_ms;
    bool watch_now; /* a request ran: compare the watched state at the end of this call */
    const struct stint_log *log; /* never NULL: stint_log_none when none was given */
    bool purge_busy;             /* a purge --server is running (one at a time) */
    bool again;                  /* work is left that needs no event: timeout 0 */
    struct client *clients[STINT_CONTROL_CLIENTS_MAX];
};

/* ---- output ---- */

static void client_free(struct client *cl)
{
    char sink[4096];
    int i;

    if (!cl)
        return;
    if (cl->fd >= 0) {
        /* Unread input would turn the close into a reset, and the peer could lose the error
         * line it was sent: read it away first (bounded: this is not a wait). */
        shutdown(cl->fd, SHUT_WR);
        for (i = 0; i < 16 && recv(cl->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
            ;
        close(cl->fd);
    }
    stint_buf_free(&cl->out);
    free(cl->last_progress);
    free(cl);
}

static size_t out_unsent(const struct client *cl)
{
    return cl->out.len - cl->out_off;
}

/* Appends one line; false when the client is over its output cap (it is then closed). */
static bool put_line(struct client *cl, const char *text, size_t len)
{
    if (out_unsent(cl) + len + 1 > STINT_CONTROL_OUT_MAX)
        return false;
    if (cl->out_off > 0 && cl->out_off == cl->out.len) {
        stint_buf_reset(&cl->out);
        cl->out_off = 0;
    } else if (cl->out_off >= PENDING_LOW) {
        /* written bytes are given back, so the buffer holds what is unsent and little more */
        memmove(cl->out.data, cl->out.data + cl->out_off, out_unsent(cl));
        cl->out.len -= cl->out_off;
        cl->out_off = 0;
    }
    if (stint_buf_append(&cl->out, text, len) != STINT_OK ||
        stint_buf_append(&cl->out, "\n", 1) != STINT_OK)
        return false;
    return true;
}

static bool put_json(struct client *cl, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    bool ok = text && put_line(cl, text, strlen(text));
    free(text);
    return ok;
}

static bool put_error(struct client *cl, enum stint_err code, const char *msg)
{
    json_t *o = json_pack("{sbsissss}", "ok", 0, "code", (int)code, "error", stint_strerror(code),
                          "message", msg && *msg ? msg : stint_strerror(code));
    bool ok = put_json(cl, o);
    json_decref(o);
    return ok;
}

/* Writes what it can without blocking; false when the connection is gone. */
static bool flush_out(struct client *cl)
{
    while (out_unsent(cl) > 0) {
        ssize_t w =
            send(cl->fd, cl->out.data + cl->out_off, out_unsent(cl), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        cl->out_off += (size_t)w;
    }
    stint_buf_reset(&cl->out);
    cl->out_off = 0;
    return true;
}

/* ---- commands ---- */

static void to_read(struct stint_control *c, struct client *cl)
{
    cl->state = C_READ;
    cl->deadline = stint_clock_mono_ms() + c->idle_ms;
}

/* Ends a command with an answer object (ok:true plus its members). */
static bool finish_ok(struct stint_control *c, struct client *cl, json_t *members)
{
    bool ok;

    json_object_set_new(members, "ok", json_true());
    ok = put_json(cl, members);
    to_read(c, cl);
    return ok;
}

static bool finish_err(struct stint_control *c, struct client *cl, const struct stint_error *e,
                       enum stint_err code)
{
    bool ok = put_error(cl, code, e ? e->msg : NULL);
    to_read(c, cl);
    return ok;
}

struct emit_ctx {
    struct client *cl;
    struct stint_buf tmp;
    uint64_t last_seq;
    bool over;
};

static enum stint_err emit_record(void *p, const struct stint_record *r)
{
    struct emit_ctx *ec = p;
    enum stint_err err;

    if (r->end_ms && r->end_ms <= ec->cl->since_ms) {
        ec->last_seq = r->seq; /* history since_ms: not asked for, and not counted */
        return STINT_OK;
    }
    stint_buf_reset(&ec->tmp);
    err = stint_buf_append_str(&ec->tmp, "{\"record\":");
    if (err == STINT_OK)
        err = stint_json_encode_record(r, &ec->tmp);
    if (err == STINT_OK)
        err = stint_buf_append(&ec->tmp, "}", 1);
    if (err != STINT_OK)
        return err;
    if (!put_line(ec->cl, (const char *)ec->tmp.data, ec->tmp.len)) {
        ec->over = true;
        return STINT_ENOMEM;
    }
    ec->last_seq = r->seq;
    ec->cl->count++;
    if (!ec->cl->unlimited && ec->cl->left > 0)
        ec->cl->left--;
    return STINT_OK;
}

/* Streams the next chunks of a pending listing; false when the client must be closed. */
static bool pending_step(struct stint_control *c, struct client *cl)
{
    int chunks = 0;

    while (cl->state == C_PENDING && out_unsent(cl) < PENDING_LOW) {
        struct emit_ctx ec = {.cl = cl};
        struct stint_error e;
        uint64_t next = cl->from;
        bool more = false;
        size_t max = STINT_CONTROL_PENDING_CHUNK;
        enum stint_err err;

        if (!cl->unlimited && cl->left == 0) {
            json_t *o = json_pack("{sIsb}", "count", (json_int_t)cl->count, "more", cl->more);
            bool ok = o && finish_ok(c, cl, o);
            json_decref(o);
            return ok;
        }
        if (chunks++ == CHUNKS_PER_CALL) {
            c->again = true; /* come back at once, after the loop's other work */
            return true;
        }
        if (!cl->unlimited && cl->left < max)
            max = (size_t)cl->left;
        stint_error_clear(&e);
        err = (cl->history ? c->ops.history : c->ops.pending)(c->ctx, cl->from, max, emit_record,
                                                              &ec, &next, &more, &e);
        stint_buf_free(&ec.tmp);
        if (ec.over)
            return false;
        if (err != STINT_OK)
            return finish_err(c, cl, &e, err);
        cl->more = more;
        if (next <= cl->from && ec.last_seq >= cl->from)
            next = ec.last_seq + 1; /* never ask for the same records twice */
        cl->from = next;
        if (!more) {
            json_t *o = json_pack("{sIsb}", "count", (json_int_t)cl->count, "more", 0);
            bool ok = o && finish_ok(c, cl, o);
            json_decref(o);
            return ok;
        }
    }
    return true;
}

static bool flush_tick(struct stint_control *c, struct client *cl)
{
    struct stint_error e;
    json_t *o = json_object(), *line = NULL;
    bool done = false, ok = true;
    char *text = NULL;
    enum stint_err err;

    stint_error_clear(&e);
    if (!o)
        return false;
    err = c->ops.flush_progress(c->ctx, cl->target, o, &done, &e);
    if (err != STINT_OK) {
        ok = finish_err(c, cl, &e, err);
        goto cleanup;
    }
    json_object_set_new(o, "target", json_integer((json_int_t)cl->target));
    if (done) {
        ok = finish_ok(c, cl, o);
        goto cleanup;
    }
    line = json_pack("{sO}", "progress", o);
    text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (!text) {
        ok = false;
        goto cleanup;
    }
    if (!cl->last_progress || strcmp(text, cl->last_progress) != 0) {
        ok = put_line(cl, text, strlen(text));
        free(cl->last_progress);
        cl->last_progress = text;
        text = NULL;
    }
    cl->deadline = stint_clock_mono_ms() + c->tick_ms;
cleanup:
    free(text);
    json_decref(line);
    json_decref(o);
    return ok;
}

static bool purge_tick(struct stint_control *c, struct client *cl)
{
    struct stint_error e;
    json_t *o = json_object();
    bool done = false, ok = true;
    enum stint_err err;

    stint_error_clear(&e);
    if (!o)
        return false;
    err = c->ops.purge_poll(c->ctx, &done, o, &e);
    if (err != STINT_OK) {
        c->purge_busy = false;
        ok = finish_err(c, cl, &e, err);
    } else if (done) {
        c->purge_busy = false;
        ok = finish_ok(c, cl, o);
    } else {
        cl->deadline = stint_clock_mono_ms() + c->tick_ms;
    }
    json_decref(o);
    return ok;
}

static const char *member_str(const json_t *o, const char *name)
{
    const char *v = json_string_value(json_object_get(o, name));
    return v ? v : "";
}

json_t *stint_control_watch_state(const json_t *status)
{
    const json_t *sender = json_object_get(status, "sender");
    const json_t *open = json_object_get(status, "open");
    const json_t *journal = json_object_get(status, "journal");
    const char *sstate = member_str(sender, "state"), *mode, *detail = NULL;
    bool priv = json_is_true(json_object_get(status, "private"));
    bool idle = json_is_true(json_object_get(status, "idle"));
    json_t *o, *v;

    /* One word for what the user most needs to know, in this order: private mode is what they
     * chose; a blocked sender needs them; then offline, sending, idle, recording. */
    if (priv) {
        mode = "private";
    } else if (strncmp(sstate, "paused", 6) == 0 || strncmp(sstate, "blocked", 7) == 0) {
        mode = "blocked";
        detail = *member_str(sender, "last_error") ? member_str(sender, "last_error") : sstate;
    } else if (strcmp(sstate, "retrying") == 0) {
        mode = "offline";
        detail = member_str(sender, "last_error");
    } else if (strcmp(sstate, "sending") == 0) {
        mode = "sending";
    } else if (idle) {
        mode = "idle";
    } else {
        mode = "recording";
    }
    o = json_pack("{sssbsbsIss}", "mode", mode, "private", priv, "idle", idle, "backlog",
                  (json_int_t)json_integer_value(json_object_get(status, "backlog")), "sender",
                  sstate);
    if (!o)
        return NULL;
    if (detail && *detail)
        json_object_set_new(o, "detail", json_string(detail));
    v = json_object_get(journal, "oldest_ms");
    if (json_is_integer(v))
        json_object_set_new(o, "oldest_ms", json_integer(json_integer_value(v)));
    /* The app only while it is being recorded: the title changes too often to be worth a line. */
    if (strcmp(member_str(open, "kind"), "active") == 0 && *member_str(open, "app"))
        json_object_set_new(o, "app", json_string(member_str(open, "app")));
    return o;
}

/* Sends the watched state when it differs from the last line sent; false when the client must
 * be closed. A failing status callback ends the watch with its error. */
static bool watch_tick(struct stint_control *c, struct client *cl)
{
    struct stint_error e;
    json_t *st = json_object(), *sum = NULL, *line = NULL;
    char *text = NULL;
    enum stint_err err;
    bool ok = true;

    stint_error_clear(&e);
    cl->deadline = stint_clock_mono_ms() + c->watch_ms;
    if (!st)
        return false;
    err = c->ops.status(c->ctx, st, &e);
    if (err != STINT_OK) {
        ok = put_error(cl, err, e.msg);
        cl->state = C_CLOSING;
        cl->deadline = stint_clock_mono_ms() + CLOSING_GRACE_MS;
        goto cleanup;
    }
    sum = stint_control_watch_state(st);
    line = sum ? json_pack("{sO}", "state", sum) : NULL;
    text = line ? json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text) {
        ok = false;
        goto cleanup;
    }
    if (!cl->last_progress || strcmp(text, cl->last_progress) != 0) {
        ok = put_line(cl, text, strlen(text));
        free(cl->last_progress);
        cl->last_progress = text;
        text = NULL;
    }
cleanup:
    free(text);
    json_decref(line);
    json_decref(sum);
    json_decref(st);
    return ok;
}

/* Runs one request line; false when the client must be closed. */
static bool dispatch(struct stint_control *c, struct client *cl, const char *line, size_t len)
{
    struct stint_control_request rq;
    struct stint_error e;
    enum stint_err err;
    json_t *o = NULL;
    bool ok = true;

    err = stint_control_parse_request(line, len, &rq, &e);
    if (err != STINT_OK) {
        stint_log(c->log, STINT_LOG_DEBUG, "control: malformed request: %s", e.msg);
        return finish_err(c, cl, &e, err);
    }
    stint_log(c->log, STINT_LOG_DEBUG, "control: %s", stint_control_cmd_name(rq.cmd));
    stint_error_clear(&e);
    o = json_object();
    if (!o)
        return false;
    switch (rq.cmd) {
    case STINT_CONTROL_STATUS:
        if (!c->ops.status)
            goto unsupported;
        err = c->ops.status(c->ctx, o, &e);
        ok = err == STINT_OK ? finish_ok(c, cl, o) : finish_err(c, cl, &e, err);
        break;
    case STINT_CONTROL_PRIVATE:
        if (!c->ops.private_set)
            goto unsupported;
        err = c->ops.private_set(c->ctx, rq.on, &e);
        if (err == STINT_OK)
            json_object_set_new(o, "private", json_boolean(rq.on));
        ok = err == STINT_OK ? finish_ok(c, cl, o) : finish_err(c, cl, &e, err);
        break;
    case STINT_CONTROL_FLUSH:
        if (!c->ops.flush || (rq.wait && !c->ops.flush_progress))
            goto unsupported;
        cl->target = 0;
        err = c->ops.flush(c->ctx, &cl->target, o, &e);
        if (err != STINT_OK) {
            ok = finish_err(c, cl, &e, err);
        } else if (!rq.wait) {
            json_object_set_new(o, "target", json_integer((json_int_t)cl->target));
            ok = finish_ok(c, cl, o);
        } else {
            free(cl->last_progress);
            cl->last_progress = NULL;
            cl->state = C_FLUSH;
            ok = flush_tick(c, cl);
        }
        break;
    case STINT_CONTROL_PENDING:
    case STINT_CONTROL_HISTORY:
        cl->history = rq.cmd == STINT_CONTROL_HISTORY;
        cl->since_ms = rq.since_ms;
        if (!(cl->history ? c->ops.history : c->ops.pending))
            goto unsupported;
        cl->state = C_PENDING;
        cl->from = 0;
        cl->count = 0;
        cl->left = rq.limit;
        cl->unlimited = rq.limit == 0;
        cl->more = true;
        ok = pending_step(c, cl);
        break;
    case STINT_CONTROL_PURGE: {
        bool in_progress = false;
        if (!c->ops.purge || (rq.server && !c->ops.purge_poll))
            goto unsupported;
        if (c->purge_busy) {
            stint_error_set(&e, STINT_EBUSY, 0, "busy: a purge of the server is running");
            ok = finish_err(c, cl, &e, STINT_EBUSY);
            break;
        }
        err = c->ops.purge(c->ctx, rq.server, &in_progress, o, &e);
        if (err != STINT_OK) {
            ok = finish_err(c, cl, &e, err);
        } else if (in_progress) {
            c->purge_busy = true;
            cl->state = C_PURGE;
            cl->deadline = stint_clock_mono_ms() + c->tick_ms;
        } else {
            ok = finish_ok(c, cl, o);
        }
        break;
    }
    case STINT_CONTROL_DEAD_LETTERS:
        if (!c->ops.dead_letters)
            goto unsupported;
        err = c->ops.dead_letters(c->ctx, &rq, o, &e);
        ok = err == STINT_OK ? finish_ok(c, cl, o) : finish_err(c, cl, &e, err);
        break;
    case STINT_CONTROL_WATCH:
        if (!c->ops.status)
            goto unsupported;
        free(cl->last_progress);
        cl->last_progress = NULL;
        cl->state = C_WATCH;
        ok = watch_tick(c, cl);
        break;
    case STINT_CONTROL_BROWSER:
        if (!c->ops.browser)
            goto unsupported;
        err = c->ops.browser(c->ctx, &rq, o, &e);
        ok = err == STINT_OK ? finish_ok(c, cl, o) : finish_err(c, cl, &e, err);
        break;
    }
    c->watch_now = true; /* whatever the request changed, watchers hear of it now */
    json_decref(o);
    return ok;
unsupported:
    json_decref(o);
    stint_error_set(&e, STINT_EUNSUPPORTED, 0, "this daemon does not support \"%s\"",
                    stint_control_cmd_name(rq.cmd));
    return finish_err(c, cl, &e, STINT_EUNSUPPORTED);
}

/* Takes complete lines out of the input buffer while the client is ready for one. */
static bool run_lines(struct stint_control *c, struct client *cl)
{
    while (cl->state == C_READ) {
        char *nl = memchr(cl->in, '\n', cl->in_len);
        size_t len;

        if (!nl) {
            if (cl->in_len >= sizeof(cl->in)) {
                struct stint_error e;
                stint_error_set(&e, STINT_ELIMIT, 0, "request line longer than %d bytes",
                                STINT_CONTROL_LINE_MAX - 1);
                put_error(cl, STINT_ELIMIT, e.msg);
                cl->state = C_CLOSING;
                cl->deadline = stint_clock_mono_ms() + CLOSING_GRACE_MS;
            } else if (cl->eof) {
                cl->state = C_CLOSING; /* a last line without newline is not a request */
                cl->deadline = stint_clock_mono_ms() + CLOSING_GRACE_MS;
            }
            return true;
        }
        len = (size_t)(nl - cl->in);
        if (len > 0 && cl->in[len - 1] == '\r')
            len--; /* a client typing through socat or nc -C */
        if (!dispatch(c, cl, cl->in, len))
            return false;
        cl->in_len -= (size_t)(nl + 1 - cl->in);
        memmove(cl->in, nl + 1, cl->in_len);
    }
    return true;
}

/* ---- open / close ---- */

static enum stint_err prepare_dir(const char *path, struct stint_error *e)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    const char *slash = strrchr(path, '/');
    struct stat st;
    size_t n;

    if (!slash) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return stint_error_set(e, STINT_EIO, 0, "control socket: cannot make folder %s: %s", dir,
                               strerror(errno));
    /* lstat: a link to a folder someone else controls must not pass as ours */
    if (lstat(dir, &st) != 0)
        return stint_error_set(e, STINT_EIO, 0, "control socket: %s: %s", dir, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return stint_error_set(e, STINT_EIO, 0,
                               "control socket: %s is a symbolic link: give --socket a path in a "
                               "real folder of your own",
                               dir);
    if (!S_ISDIR(st.st_mode))
        return stint_error_set(e, STINT_EIO, 0, "control socket: %s is not a folder", dir);
    /* Whoever may write the folder may replace the socket with one of their own. */
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return stint_error_set(e, STINT_EIO, 0,
                               "control socket: folder %s belongs to uid %u, not to us (%u)", dir,
                               (unsigned)st.st_uid, (unsigned)geteuid());
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        return stint_error_set(e, STINT_EIO, 0,
                               "control socket: folder %s may be written by group or others "
                               "(mode %03o): chmod 700 it or choose another --socket",
                               dir, (unsigned)(st.st_mode & 0777));
    return STINT_OK;
}

static enum stint_err clear_stale(const struct sockaddr_un *sa, struct stint_error *e)
{
    struct stat st;
    int fd;

    if (lstat(sa->sun_path, &st) != 0) {
        if (errno == ENOENT)
            return STINT_OK;
        return stint_error_set(e, STINT_EIO, 0, "control socket %s: %s", sa->sun_path,
                               strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return stint_error_set(e, STINT_EIO, 0, "control socket %s exists and is not a socket",
                               sa->sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return stint_error_set(e, STINT_EIO, 0, "socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
        close(fd);
        return stint_error_set(e, STINT_EIO, 0,
                               "control socket %s is in use: another stintd is running",
                               sa->sun_path);
    }
    close(fd);
    if (errno != ECONNREFUSED)
        return stint_error_set(e, STINT_EIO, 0, "control socket %s: %s", sa->sun_path,
                               strerror(errno));
    if (unlink(sa->sun_path) != 0 && errno != ENOENT)
        return stint_error_set(e, STINT_EIO, 0, "cannot remove stale socket %s: %s", sa->sun_path,
                               strerror(errno));
    return STINT_OK;
}

enum stint_err stint_control_open(const struct stint_control_opts *opts, struct stint_control **out,
                                  struct stint_error *e)
{
    struct stint_control *c = NULL;
    struct sockaddr_un sa;
    struct stat st;
    enum stint_err err = STINT_OK;
    size_t len;

    stint_error_clear(e);
    *out = NULL;
    if (!opts || !opts->path || !*opts->path || !opts->ops)
        return stint_error_set(e, STINT_EINVAL, 0, "control socket: no path or no callbacks");
    len = strlen(opts->path);
    if (len >= sizeof(sa.sun_path))
        return stint_error_set(e, STINT_EINVAL, 0,
                               "control socket path of %zu bytes (at most %zu): %s", len,
                               sizeof(sa.sun_path) - 1, opts->path);
    c = calloc(1, sizeof(*c));
    if (!c)
        return stint_error_set(e, STINT_ENOMEM, 0, "control socket: out of memory");
    c->listen_fd = -1;
    c->ops = *opts->ops;
    c->ctx = opts->ctx;
    c->uid = opts->check_uid ? opts->uid : geteuid();
    c->tick_ms = opts->tick_ms ? opts->tick_ms : 100;
    c->idle_ms = opts->idle_timeout_ms ? opts->idle_timeout_ms : 30000;
    c->watch_ms = opts->watch_ms ? opts->watch_ms : 1000;
    c->log = opts->log ? opts->log : &stint_log_none;
    memcpy(c->path, opts->path, len + 1);

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, opts->path, len + 1);
    err = prepare_dir(opts->path, e);
    if (err != STINT_OK)
        goto cleanup;
    err = clear_stale(&sa, e);
    if (err != STINT_OK)
        goto cleanup;
    c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->listen_fd < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "socket: %s", strerror(errno));
        goto cleanup;
    }
    if (bind(c->listen_fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
        err = stint_error_set(e, STINT_EIO, 0, "control socket %s: bind: %s", c->path,
                              strerror(errno));
        goto cleanup;
    }
    /* The folder is 0700 already; 0600 on the socket as well, whatever the umask was. */
    if (chmod(c->path, 0600) != 0 || stat(c->path, &st) != 0) {
        err = stint_error_set(e, STINT_EIO, 0, "control socket %s: chmod: %s", c->path,
                              strerror(errno));
        unlink(c->path);
        goto cleanup;
    }
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    if (listen(c->listen_fd, STINT_CONTROL_CLIENTS_MAX) != 0) {
        err = stint_error_set(e, STINT_EIO, 0, "control socket %s: listen: %s", c->path,
                              strerror(errno));
        unlink(c->path);
        goto cleanup;
    }
    *out = c;
    c = NULL;
cleanup:
    if (c) {
        if (c->listen_fd >= 0)
            close(c->listen_fd);
        free(c);
    }
    return err;
}

void stint_control_close(struct stint_control *c)
{
    struct stat st;
    size_t i;

    if (!c)
        return;
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++) {
        struct client *cl = c->clients[i];
        if (!cl)
            continue;
        if (cl->state == C_FLUSH || cl->state == C_PURGE || cl->state == C_PENDING ||
            cl->state == C_WATCH)
            put_error(cl, STINT_EIO, "stintd is shutting down");
        flush_out(cl);
        client_free(cl);
    }
    if (c->listen_fd >= 0)
        close(c->listen_fd);
    /* Only our own socket: a daemon started after us may have replaced it. */
    if (stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
        unlink(c->path);
    free(c);
}

/* ---- the loop's side ---- */

size_t stint_control_pollfds(struct stint_control *c, struct pollfd *fds, size_t cap)
{
    size_t n = 0, i;

    if (!c || cap == 0)
        return 0;
    fds[n++] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX && n < cap; i++) {
        struct client *cl = c->clients[i];
        short ev = 0;
        if (!cl)
            continue;
        if (cl->state == C_READ && !cl->eof)
            ev |= POLLIN;
        if (out_unsent(cl) > 0)
            ev |= POLLOUT;
        /* Always polled: POLLHUP and POLLERR come whatever events say. */
        fds[n++] = (struct pollfd){.fd = cl->fd, .events = ev};
    }
    return n;
}

static void accept_one(struct stint_control *c)
{
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    struct client *cl = NULL;
    int fd;
    size_t i;

    fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            stint_log(c->log, STINT_LOG_WARN, "control: accept: %s", strerror(errno));
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || clen != sizeof(cred)) {
        stint_log(c->log, STINT_LOG_WARN, "control: SO_PEERCRED: %s", strerror(errno));
        close(fd);
        return;
    }
    cl = calloc(1, sizeof(*cl));
    if (!cl) {
        close(fd);
        return;
    }
    cl->fd = fd;
    if (cred.uid != c->uid) {
        char msg[160];
        stint_log(c->log, STINT_LOG_WARN,
                  "control: refused a peer of uid %u (pid %d): only uid %u may connect",
                  (unsigned)cred.uid, (int)cred.pid, (unsigned)c->uid);
        snprintf(msg, sizeof(msg), "permission denied: peer uid %u is not the daemon's uid %u",
                 (unsigned)cred.uid, (unsigned)c->uid);
        put_error(cl, STINT_EPERM, msg);
        flush_out(cl);
        client_free(cl);
        return;
    }
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++) {
        if (!c->clients[i]) {
            c->clients[i] = cl;
            to_read(c, cl);
            return;
        }
    }
    stint_log(c->log, STINT_LOG_INFO, "control: %d clients already connected, refusing one more",
              STINT_CONTROL_CLIENTS_MAX);
    put_error(cl, STINT_ELIMIT, "too many control clients connected");
    flush_out(cl);
    client_free(cl);
}

static void drop(struct stint_control *c, size_t i)
{
    struct client *cl = c->clients[i];

    if (cl->state == C_PURGE)
        c->purge_busy = true; /* the daemon's purge runs on; purge_poll is still owed a call */
    client_free(cl);
    c->clients[i] = NULL;
}

/* Reads what is there into the input buffer; false when the connection is gone. */
static bool read_in(struct client *cl)
{
    for (;;) {
        ssize_t r;
        if (cl->in_len == sizeof(cl->in))
            return true;
        r = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (r == 0) {
            cl->eof = true;
            return true;
        }
        cl->in_len += (size_t)r;
    }
}

static bool step(struct stint_control *c, struct client *cl, short revents, int64_t now)
{
    if (revents & POLLNVAL)
        return false;
    if ((revents & POLLERR) && cl->state != C_READ)
        return false;
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        if (cl->state == C_READ) {
            if (!read_in(cl))
                return false;
            cl->deadline = now + c->idle_ms;
        } else if (revents & (POLLHUP | POLLERR)) {
            return false; /* gone while its answer was being made */
        }
    }
    if (!run_lines(c, cl))
        return false;
    if (cl->state == C_PENDING && !pending_step(c, cl))
        return false;
    if (cl->state == C_FLUSH && now >= cl->deadline && !flush_tick(c, cl))
        return false;
    if (cl->state == C_PURGE && now >= cl->deadline && !purge_tick(c, cl))
        return false;
    if (cl->state == C_WATCH && now >= cl->deadline && !watch_tick(c, cl))
        return false;
    if (!flush_out(cl))
        return false;
    if (cl->state == C_PENDING && out_unsent(cl) == 0)
        c->again = true; /* the socket took it all: the next chunk needs no event */
    /* A finished answer may have freed the client for a request already buffered. */
    if (cl->state == C_READ && cl->in_len > 0 && memchr(cl->in, '\n', cl->in_len))
        c->again = true;
    if (cl->state == C_CLOSING && out_unsent(cl) == 0)
        return false;
    if (cl->state == C_READ && cl->eof && out_unsent(cl) == 0 && cl->in_len == 0)
        return false;
    if ((cl->state == C_READ || cl->state == C_CLOSING) && now >= cl->deadline)
        return false; /* idle too long, or the last bytes were never read */
    return true;
}

void stint_control_handle(struct stint_control *c, const struct pollfd *fds, size_t n)
{
    short rev[STINT_CONTROL_CLIENTS_MAX] = {0};
    int64_t now = stint_clock_mono_ms();
    bool listen_ready = false;
    size_t i, k;

    if (!c)
        return;
    c->again = false;
    for (k = 0; k < n; k++) {
        if (fds[k].fd == c->listen_fd) {
            listen_ready = (fds[k].revents & POLLIN) != 0;
            continue;
        }
        for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++)
            if (c->clients[i] && c->clients[i]->fd == fds[k].fd)
                rev[i] = fds[k].revents;
    }
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++) {
        struct client *cl = c->clients[i];
        if (cl && !step(c, cl, rev[i], now))
            drop(c, i);
    }
    if (listen_ready) {
        /* A burst of connections is taken in one go, up to the free slots and one more. */
        for (k = 0; k <= STINT_CONTROL_CLIENTS_MAX; k++) {
            size_t before = stint_control_clients(c);
            accept_one(c);
            if (stint_control_clients(c) == before)
                break;
        }
    }
    /* After a request (a private toggle, a flush), watchers hear of the change at once rather
     * than at their next tick. */
    if (c->watch_now) {
        c->watch_now = false;
        for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++) {
            struct client *cl = c->clients[i];
            if (cl && cl->state == C_WATCH && (!watch_tick(c, cl) || !flush_out(cl)))
                drop(c, i);
        }
    }
    /* A purge whose client went away still needs its result collected. */
    if (c->purge_busy) {
        bool owned = false;
        for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++)
            if (c->clients[i] && c->clients[i]->state == C_PURGE)
                owned = true;
        if (!owned) {
            struct stint_error e;
            json_t *o = json_object();
            bool done = false;
            if (o && (c->ops.purge_poll(c->ctx, &done, o, &e) != STINT_OK || done))
                c->purge_busy = false;
            json_decref(o);
        }
    }
}

int stint_control_timeout_ms(struct stint_control *c)
{
    int64_t now = stint_clock_mono_ms(), best = -1;
    size_t i;

    if (!c)
        return -1;
    if (c->again)
        return 0;
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++) {
        const struct client *cl = c->clients[i];
        int64_t d;
        if (!cl || cl->state == C_PENDING)
            continue; /* driven by POLLOUT, or by `again` */
        d = cl->deadline - now;
        if (d < 0)
            d = 0;
        if (best < 0 || d < best)
            best = d;
    }
    if (c->purge_busy && (best < 0 || best > c->tick_ms))
        best = c->tick_ms;
    return best > 0x7fffffff ? 0x7fffffff : (int)best;
}

size_t stint_control_clients(struct stint_control *c)
{
    size_t i, n = 0;

    if (!c)
        return 0;
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++)
        n += c->clients[i] != NULL;
    return n;
}
