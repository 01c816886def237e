/* forward.c — the host's one connection to stintd's control socket (forward.h).
 *
 * The control socket checks the peer's uid (SO_PEERCRED), so the host, started by the user's
 * browser, is let in exactly as stintctl is. The host talks one request at a time: it writes a
 * line and reads until the final answer line (the object with "ok"), bounded in bytes and time.
 * Anything odd closes the connection, and the next line opens a new one: a restarted stintd is
 * found again without the browser restarting the host.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC, MSG_NOSIGNAL, clock_gettime */
#include "forward.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include "common/clock.h"

struct stint_browser_fwd {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int timeout_ms;
    int fd;
    struct stint_browser_fwd_stats st;
};

enum stint_err stint_browser_fwd_create(const char *path, int timeout_ms,
                                        struct stint_browser_fwd **out, struct stint_error *e)
{
    struct stint_browser_fwd *f;

    *out = NULL;
    if (!path || strlen(path) >= sizeof(f->path))
        return stint_error_set(e, STINT_EINVAL, 0, "socket path %s", path ? "too long" : "missing");
    f = calloc(1, sizeof(*f));
    if (!f)
        return stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
    memcpy(f->path, path, strlen(path) + 1);
    f->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    f->fd = -1;
    *out = f;
    return STINT_OK;
}

static void disconnect(struct stint_browser_fwd *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static enum stint_err connect_socket(struct stint_browser_fwd *f, struct stint_error *e)
{
    struct sockaddr_un sa;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
    f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        return stint_error_set(e, STINT_EIO, 0, "socket: %s", strerror(errno));
    if (connect(f->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int err = errno;
        disconnect(f);
        return stint_error_set(e, STINT_EIO, 0, "stintd is not running (%s: %s)", f->path,
                               strerror(err));
    }
    return STINT_OK;
}

/* Reads lines until the final one (an object with "ok"); *ok is its value. */
static enum stint_err read_answer(struct stint_browser_fwd *f, bool *ok, char *msg, size_t cap,
                                  struct stint_error *e)
{
    char buf[4096];
    size_t have = 0;
    int64_t deadline = stint_clock_mono_ms() + f->timeout_ms;

    for (;;) {
        char *nl = memchr(buf, '\n', have);
        if (nl) {
            json_t *o = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
            json_t *v = o ? json_object_get(o, "ok") : NULL;
            size_t used = (size_t)(nl - buf) + 1;
            if (json_is_boolean(v)) {
                const char *m = json_string_value(json_object_get(o, "message"));
                *ok = json_is_true(v);
                snprintf(msg, cap, "%s", m ? m : "");
                json_decref(o);
                return STINT_OK;
            }
            json_decref(o);
            memmove(buf, buf + used, have - used);
            have -= used;
            continue;
        }
        if (have == sizeof(buf))
            return stint_error_set(e, STINT_EIO, 0, "stintd: an answer line over %zu bytes",
                                   sizeof(buf));
        int64_t left = deadline - stint_clock_mono_ms();
        if (left <= 0)
            return stint_error_set(e, STINT_EIO, 0, "stintd did not answer in %d ms",
                                   f->timeout_ms);
        struct pollfd p = {.fd = f->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(f->fd, buf + have, sizeof(buf) - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return stint_error_set(e, STINT_EIO, 0, "stintd closed the connection");
        have += (size_t)n;
    }
}

enum stint_err stint_browser_fwd_send(struct stint_browser_fwd *f, const char *line, size_t len,
                                      struct stint_error *e)
{
    enum stint_err err = STINT_OK;
    char msg[200];
    bool ok = false;
    size_t done = 0;

    if (f->fd < 0) {
        err = connect_socket(f, e);
        if (err != STINT_OK)
            goto cleanup;
    }
    while (done <= len) {
        /* the line, then its newline */
        const char *p = done < len ? line + done : "\n";
        size_t n = done < len ? len - done : 1;
        ssize_t w = send(f->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err = stint_error_set(e, STINT_EIO, 0, "stintd: %s", strerror(errno));
            goto cleanup;
        }
        done += (size_t)w;
    }
    err = read_answer(f, &ok, msg, sizeof(msg), e);
    if (err == STINT_OK && !ok)
        err = stint_error_set(e, STINT_ETYPE, 0, "stintd refused the message: %s", msg);
cleanup:
    if (err == STINT_OK) {
        f->st.forwarded++;
        f->st.connected = true;
    } else {
        f->st.dropped++;
        f->st.connected = err == STINT_ETYPE;
        if (e)
            snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", e->msg);
        if (err != STINT_ETYPE)
            disconnect(f);
    }
    return err;
}

void stint_browser_fwd_stats(const struct stint_browser_fwd *f, struct stint_browser_fwd_stats *out)
{
    *out = f->st;
}

void stint_browser_fwd_destroy(struct stint_browser_fwd *f)
{
    if (!f)
        return;
    disconnect(f);
    free(f);
}
