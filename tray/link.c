/* link.c — the control socket client of stint-tray (link.h; protocol: spec/CONTROL.md).
 *
 * Design. The tray never polls stintd: it keeps one `watch` connection open and its event loop
 * sleeps until a state line arrives (or the connection ends, which is how it learns that stintd
 * stopped). Requests a click causes (private on/off, flush, status for the report) go over a
 * connection of their own, opened, asked and closed at once: they are rare, local and answered
 * in milliseconds, and a separate connection keeps the watch stream free of interleaved
 * answers. Each is bounded by a deadline so a wedged daemon cannot freeze the tray for more
 * than STINT_LINK_ASK_TIMEOUT_MS.
 *
 * The peer check (SO_PEERCRED: the socket's owner must be our euid) is the one stintctl makes:
 * the socket path comes from the environment, and a file another user put there must not learn
 * what we ask of it.
 */
#define _GNU_SOURCE
#include "link.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "common/clock.h"

enum stint_err stint_link_connect(const char *path, int *fd, bool *refused, struct stint_error *e)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    enum stint_err err = STINT_OK;
    int s = -1;

    *fd = -1;
    if (refused)
        *refused = false;
    if (strlen(path) >= sizeof(sa.sun_path))
        return stint_error_set(e, STINT_EINVAL, 0, "control socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return stint_error_set(e, STINT_EIO, 0, "socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (refused)
            *refused = errno == ECONNREFUSED || errno == ENOENT;
        err = stint_error_set(e, STINT_EIO, 0, "cannot connect to %s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || clen != sizeof(cred)) {
        err = stint_error_set(e, STINT_EIO, 0, "%s: SO_PEERCRED: %s", path, strerror(errno));
        goto cleanup;
    }
    if (cred.uid != geteuid()) {
        err = stint_error_set(e, STINT_EIO, 0,
                              "permission denied: %s belongs to uid %u, not to us (%u)", path,
                              (unsigned)cred.uid, (unsigned)geteuid());
        goto cleanup;
    }
    *fd = s;
    s = -1;
cleanup:
    if (s >= 0)
        close(s);
    return err;
}

/* Sends all of buf before the deadline; false with e set otherwise. */
static bool send_all(int fd, const char *buf, size_t len, long long deadline, struct stint_error *e)
{
    while (len > 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        long long left = deadline - stint_clock_mono_ms();
        ssize_t w;
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            stint_error_set(e, STINT_EIO, 0, "stintd did not take the request in time");
            return false;
        }
        w = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EINTR && errno != EAGAIN) {
            stint_error_set(e, STINT_EIO, 0, "sending to stintd: %s", strerror(errno));
            return false;
        }
        if (w > 0) {
            buf += w;
            len -= (size_t)w;
        }
    }
    return true;
}

enum stint_err stint_link_ask(const char *path, const char *line, json_t **answer,
                              struct stint_error *e)
{
    struct stint_link_reader *r = NULL;
    long long deadline = stint_clock_mono_ms() + STINT_LINK_ASK_TIMEOUT_MS;
    enum stint_err err;
    char *req = NULL;
    size_t len = strlen(line);
    int fd = -1;

    *answer = NULL;
    err = stint_link_connect(path, &fd, NULL, e);
    if (err != STINT_OK)
        goto cleanup;
    req = malloc(len + 2);
    r = calloc(1, sizeof(*r));
    if (!req || !r) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    memcpy(req, line, len);
    req[len] = '\n';
    if (!send_all(fd, req, len + 1, deadline, e)) {
        err = STINT_EIO;
        goto cleanup;
    }
    while (!*answer) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long left = deadline - stint_clock_mono_ms();
        char *nl;
        ssize_t got;

        while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
            json_t *o = json_loadb(r->buf, (size_t)(nl - r->buf), 0, NULL);
            r->len -= (size_t)(nl + 1 - r->buf);
            memmove(r->buf, nl + 1, r->len);
            if (!o) {
                err = stint_error_set(e, STINT_EJSON, 0, "stintd answered a line that is not JSON");
                goto cleanup;
            }
            if (json_object_get(o, "ok")) {
                *answer = o;
                break;
            }
            json_decref(o); /* an interim line (flush --wait progress): not asked for here */
        }
        if (*answer)
            break;
        if (r->len == sizeof(r->buf)) {
            err = stint_error_set(e, STINT_ELIMIT, 0, "stintd answered an over-long line");
            goto cleanup;
        }
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            err = stint_error_set(e, STINT_EIO, 0, "stintd did not answer within %d ms",
                                  STINT_LINK_ASK_TIMEOUT_MS);
            goto cleanup;
        }
        got = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT);
        if (got == 0) {
            err = stint_error_set(e, STINT_EIO, 0, "stintd closed the connection");
            goto cleanup;
        }
        if (got < 0 && errno != EINTR && errno != EAGAIN) {
            err = stint_error_set(e, STINT_EIO, 0, "reading from stintd: %s", strerror(errno));
            goto cleanup;
        }
        if (got > 0)
            r->len += (size_t)got;
    }
    if (!json_is_true(json_object_get(*answer, "ok"))) {
        const char *msg = json_string_value(json_object_get(*answer, "message"));
        err = stint_error_set(e, STINT_EIO, 0, "stintd: %s", msg ? msg : "error");
    }
cleanup:
    if (fd >= 0)
        close(fd);
    free(req);
    free(r);
    return err;
}

enum stint_err stint_link_read_lines(int fd, struct stint_link_reader *r,
                                     void (*fn)(void *ctx, json_t *line), void *ctx,
                                     struct stint_error *e)
{
    for (;;) {
        char *nl;
        ssize_t got;

        while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
            json_t *o = json_loadb(r->buf, (size_t)(nl - r->buf), 0, NULL);
            r->len -= (size_t)(nl + 1 - r->buf);
            memmove(r->buf, nl + 1, r->len);
            if (!o)
                return stint_error_set(e, STINT_EIO, 0, "stintd sent a line that is not JSON");
            fn(ctx, o);
            json_decref(o);
        }
        if (r->len == sizeof(r->buf))
            return stint_error_set(e, STINT_EIO, 0, "stintd sent an over-long line");
        got = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT);
        if (got == 0)
            return stint_error_set(e, STINT_EIO, 0, "stintd closed the connection");
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return STINT_OK;
            return stint_error_set(e, STINT_EIO, 0, "reading from stintd: %s", strerror(errno));
        }
        r->len += (size_t)got;
    }
}
