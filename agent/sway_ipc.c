/* sway_ipc.c — the pid of the focused window, from sway's IPC (sway_ipc.h).
 *
 * One short exchange per call on a fresh connection: GET_TREE, the reply read whole (bounded by
 * STINT_SWAY_REPLY_MAX and a STINT_SWAY_TIMEOUT_MS deadline over every read and write, on a
 * non-blocking socket), parsed by jansson, and the tree walked for the node marked focused. The
 * walk is bounded in depth; the reply is untrusted input (fuzz/fuzz_sway_tree.c). Called once per
 * window, when it first gets the focus, so the cost of the whole tree does not matter.
 */
#define _GNU_SOURCE
#include "sway_ipc.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "common/clock.h"

/* Reads or writes len bytes before deadline (monotonic ms); false on error, EOF or timeout. */
static bool io_full(int fd, void *buf, size_t len, bool wr, int64_t deadline)
{
    char *p = buf;
    while (len) {
        struct pollfd pf = {.fd = fd, .events = wr ? POLLOUT : POLLIN};
        int64_t left = deadline - stint_clock_mono_ms();
        ssize_t n;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
            return false;
        }
        n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static long focused_pid(json_t *node, const char *app, int depth)
{
    static const char *const kids[] = {"nodes", "floating_nodes"};
    if (!json_is_object(node) || depth > STINT_SWAY_DEPTH_MAX) {
        return 0;
    }
    if (json_is_true(json_object_get(node, "focused"))) {
        const char *id = json_string_value(json_object_get(node, "app_id"));
        json_int_t pid = json_integer_value(json_object_get(node, "pid"));
        if (!id) {
            id = json_string_value(
                json_object_get(json_object_get(node, "window_properties"), "class"));
        }
        return id && strcmp(id, app) == 0 && pid > 0 && pid <= INT32_MAX ? (long)pid : 0;
    }
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(node, kids[k]), i, c) {
            long pid = focused_pid(c, app, depth + 1);
            if (pid) {
                return pid;
            }
        }
    }
    return 0;
}

long stint_sway_tree_focused_pid(const char *json, size_t len, const char *app)
{
    json_t *tree = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    long pid = tree ? focused_pid(tree, app, 0) : 0;
    json_decref(tree);
    return pid;
}

long stint_sway_focused_pid(const char *path, const char *app)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    unsigned char hdr[14];
    uint32_t len = 0, type = 4; /* GET_TREE */
    int64_t deadline = stint_clock_mono_ms() + STINT_SWAY_TIMEOUT_MS;
    char *body = NULL;
    long pid = 0;
    int fd = -1;

    if (!path || !path[0] || strlen(path) >= sizeof(sa.sun_path)) {
        return 0;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        goto cleanup;
    }
    memcpy(hdr, "i3-ipc", 6);
    memcpy(hdr + 6, &len, 4);
    memcpy(hdr + 10, &type, 4);
    if (!io_full(fd, hdr, sizeof(hdr), true, deadline) ||
        !io_full(fd, hdr, sizeof(hdr), false, deadline) || memcmp(hdr, "i3-ipc", 6) != 0) {
        goto cleanup;
    }
    memcpy(&len, hdr + 6, 4);
    if (len == 0 || len > STINT_SWAY_REPLY_MAX || !(body = malloc(len))) {
        goto cleanup;
    }
    if (io_full(fd, body, len, false, deadline)) {
        pid = stint_sway_tree_focused_pid(body, len, app);
    }
cleanup:
    free(body);
    if (fd >= 0) {
        close(fd);
    }
    return pid;
}
