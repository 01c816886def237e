/* frame.c — reading and writing the native messaging frames (frame.h).
 *
 * The browser writes a 4-byte length in native byte order, then the message. A pipe may hand a
 * frame over in pieces, so reads loop until the announced size is in; input that ends inside a
 * frame is an error of its own (truncated), while input that ends between frames is how the
 * browser says goodbye. A frame over the cap is drained, not kept, so one bad message does not
 * desynchronise the stream.
 */
#include "frame.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "message.h"

/* Reads up to n bytes; returns how many came before EOF, or -1 on a read error. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

enum stint_err stint_browser_frame_read(int fd, char *buf, size_t cap, size_t *len,
                                        struct stint_error *e)
{
    uint32_t n;
    ssize_t r;
    char sink[4096];

    *len = 0;
    r = read_full(fd, &n, sizeof(n));
    if (r < 0)
        return stint_error_set(e, STINT_EIO, 0, "stdin: %s", strerror(errno));
    if (r == 0)
        return stint_error_set(e, STINT_EIO, 0, "stdin: end");
    if ((size_t)r < sizeof(n))
        return stint_error_set(e, STINT_ETRUNC, (size_t)r,
                               "stdin: ended inside a message header (%zd of 4 bytes)", r);
    *len = n;
    if (cap == 0 || n > cap - 1) {
        uint32_t left = n;
        while (left > 0) {
            size_t want = left < sizeof(sink) ? left : sizeof(sink);
            r = read_full(fd, sink, want);
            if (r < 0)
                return stint_error_set(e, STINT_EIO, 0, "stdin: %s", strerror(errno));
            if ((size_t)r < want)
                return stint_error_set(e, STINT_ETRUNC, 4, "stdin: ended inside a %u-byte message",
                                       (unsigned)n);
            left -= (uint32_t)want;
        }
        return stint_error_set(e, STINT_ELIMIT, 0,
                               "stdin: a %u-byte message, over the %zu-byte limit (skipped)",
                               (unsigned)n, cap ? cap - 1 : 0);
    }
    r = read_full(fd, buf, n);
    if (r < 0)
        return stint_error_set(e, STINT_EIO, 0, "stdin: %s", strerror(errno));
    if ((size_t)r < n)
        return stint_error_set(e, STINT_ETRUNC, 4 + (size_t)r,
                               "stdin: ended inside a %u-byte message (%zd bytes came)",
                               (unsigned)n, r);
    buf[n] = '\0';
    return STINT_OK;
}

static enum stint_err write_all(int fd, const void *buf, size_t n, struct stint_error *e)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = write(fd, (const char *)buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return stint_error_set(e, STINT_EIO, 0, "stdout: %s", strerror(errno));
        done += (size_t)w;
    }
    return STINT_OK;
}

enum stint_err stint_browser_frame_write(int fd, const char *msg, size_t len, struct stint_error *e)
{
    uint32_t n = (uint32_t)len;
    enum stint_err err;

    if (len > STINT_BROWSER_MSG_MAX)
        return stint_error_set(e, STINT_ELIMIT, 0, "stdout: a %zu-byte message is over the limit",
                               len);
    err = write_all(fd, &n, sizeof(n), e);
    if (err == STINT_OK)
        err = write_all(fd, msg, len, e);
    return err;
}
