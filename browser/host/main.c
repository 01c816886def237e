/* main.c — stint-browser-host: the native messaging host the Stint WebExtension starts.
 *
 * The browser starts this program when the extension connects (connectNative) and talks to it
 * over stdin/stdout in length-prefixed JSON (frame.h). Each message is validated (message.h)
 * and forwarded to stintd's control socket as a "browser" request carrying the browser's pid
 * (our parent), which lets the tracker match the browser's windows by _NET_WM_PID. Every
 * message is answered with a status message, so the extension can show whether stintd is there
 * and how many messages were dropped. The host keeps nothing: when stintd is absent a message is
 * dropped and counted, never queued, and the browser is never blocked for longer than the
 * forward timeout. It exits when the browser closes stdin (exit 0) or the stream breaks (1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "forward.h"
#include "frame.h"
#include "message.h"

#define PROG "stint-browser-host"

static void usage(FILE *to)
{
    fprintf(to, "Usage: " PROG " [--socket PATH] [ORIGIN | MANIFEST EXTENSION-ID]\n"
                "\n"
                "The native messaging host of the Stint browser extension. A browser starts it;\n"
                "it reads the extension's messages on stdin and hands them to stintd.\n"
                "Arguments the browser passes (the extension's origin, or the manifest path and\n"
                "the extension id) are accepted and ignored.\n"
                "\n"
                "Options:\n"
                "    --socket PATH\n"
                "        stintd's control socket (default: $XDG_RUNTIME_DIR/stint/control).\n"
                "    --help\n"
                "        Show this help and exit.\n"
                "\n"
                "Environment:\n"
                "    XDG_RUNTIME_DIR   where the default socket lives\n"
                "\n"
                "Exit status:\n"
                "    0   the browser closed stdin\n"
                "    1   stdin broke off inside a message, or a write to the browser failed\n"
                "    2   bad usage\n");
}

/* Answers the extension: {"type":"status",...}. */
static enum stint_err reply(const struct stint_browser_fwd *f, uint64_t bad, const char *error,
                            struct stint_error *e)
{
    struct stint_browser_fwd_stats st;
    enum stint_err err;
    json_t *o;
    char *text;

    stint_browser_fwd_stats(f, &st);
    o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "type", "status", "stintd",
                  st.connected ? "connected" : "absent", "forwarded", (json_int_t)st.forwarded,
                  "dropped", (json_int_t)st.dropped, "bad", (json_int_t)bad);
    if (o && error && error[0])
        json_object_set_new(o, "error", json_string(error));
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
    err = stint_browser_frame_write(STDOUT_FILENO, text, strlen(text), e);
    free(text);
    return err;
}

int main(int argc, char **argv)
{
    struct stint_browser_fwd *fwd = NULL;
    struct stint_browser_msg msg;
    struct stint_error e;
    enum stint_err err;
    const char *socket_path = NULL;
    char path_buf[512], line[STINT_BROWSER_LINE_MAX];
    char *buf = NULL;
    uint64_t bad = 0;
    size_t len;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (strncmp(argv[i], "--socket=", 9) == 0) {
            socket_path = argv[i] + 9;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr, PROG ": unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
        /* anything else is what the browser passes: origin, manifest path, extension id */
    }
    if (!socket_path) {
        const char *rt = getenv("XDG_RUNTIME_DIR");
        int n;
        if (!rt || !rt[0]) {
            fprintf(stderr, PROG ": XDG_RUNTIME_DIR is not set: give --socket PATH\n");
            return 2;
        }
        n = snprintf(path_buf, sizeof(path_buf), "%s/stint/control", rt);
        if (n < 0 || (size_t)n >= sizeof(path_buf)) {
            fprintf(stderr, PROG ": XDG_RUNTIME_DIR too long\n");
            return 2;
        }
        socket_path = path_buf;
    }
    if (stint_browser_fwd_create(socket_path, 1000, &fwd, &e) != STINT_OK) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return 2;
    }
    buf = malloc(STINT_BROWSER_MSG_MAX + 1);
    if (!buf) {
        fprintf(stderr, PROG ": out of memory\n");
        goto cleanup;
    }
    for (;;) {
        const char *problem = NULL;
        struct stint_error fe;

        err = stint_browser_frame_read(STDIN_FILENO, buf, STINT_BROWSER_MSG_MAX + 1, &len, &e);
        if (err == STINT_EIO && len == 0 && strcmp(e.msg, "stdin: end") == 0) {
            rc = 0; /* the browser closed the port */
            break;
        }
        if (err == STINT_EIO || err == STINT_ETRUNC) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            break;
        }
        if (err == STINT_OK)
            err = stint_browser_msg_parse(buf, len, &msg, &e);
        if (err == STINT_OK)
            err = stint_browser_msg_line(&msg, (long)getppid(), line, sizeof(line), &len, &e);
        if (err != STINT_OK) {
            bad++;
            problem = e.msg;
            fprintf(stderr, PROG ": message refused: %s\n", e.msg);
        } else if (stint_browser_fwd_send(fwd, line, len, &fe) != STINT_OK) {
            problem = fe.msg;
        }
        if (reply(fwd, bad, problem, &e) != STINT_OK) {
            fprintf(stderr, PROG ": %s\n", e.msg);
            break;
        }
    }
cleanup:
    free(buf);
    stint_browser_fwd_destroy(fwd);
    return rc;
}
