/* test_control.c — the control socket server (agent/control.c) against a fake daemon.
 *
 * Every test opens a real server on a socket in a fresh temporary folder and talks to it through
 * real Unix-socket clients; the test itself pumps the server's poll loop (pump()), as stintd's
 * tracker thread does, so everything runs on one thread and deterministically. The fake daemon's
 * callbacks record what they were asked and answer from a table of records. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "control.h"

#define N_RECORDS 1000

struct fake {
    bool private_mode;
    int status_calls, flush_calls, progress_calls, purge_calls, purge_polls;
    uint64_t acked, last; /* flush: acked grows by 100 a progress call */
    uint64_t n_records;   /* records "in the journal": seqs 1..n_records above acked */
    bool purged, server_purged;
    bool purge_hold;     /* purge_poll never finishes while set */
    enum stint_err fail; /* when set, every callback fails with it */
    int pending_calls;
    size_t max_chunk_seen;
};

static struct fake fk;
static char dir[32], sock[64];
static char rbuf[1 << 20]; /* what was read past the last answer (one connection at a time) */
static size_t rlen;

static enum stint_err f_status(void *ctx, json_t *out, struct stint_error *e)
{
    struct fake *f = ctx;
    f->status_calls++;
    if (f->fail)
        return stint_error_set(e, f->fail, 0, "status failed on purpose");
    json_object_set_new(out, "private", json_boolean(f->private_mode));
    json_object_set_new(out, "backlog", json_integer((json_int_t)(f->n_records)));
    return STINT_OK;
}

static enum stint_err f_private(void *ctx, bool on, struct stint_error *e)
{
    struct fake *f = ctx;
    if (f->fail)
        return stint_error_set(e, f->fail, 0, "private failed on purpose");
    f->private_mode = on;
    return STINT_OK;
}

static enum stint_err f_flush(void *ctx, uint64_t *target, json_t *out, struct stint_error *e)
{
    struct fake *f = ctx;
    (void)out;
    f->flush_calls++;
    if (f->fail)
        return stint_error_set(e, f->fail, 0, "no server configured");
    *target = f->last;
    return STINT_OK;
}

static enum stint_err f_progress(void *ctx, uint64_t target, json_t *out, bool *done,
                                 struct stint_error *e)
{
    struct fake *f = ctx;
    (void)e;
    f->progress_calls++;
    if (f->acked < target)
        f->acked = f->acked + 100 > target ? target : f->acked + 100;
    json_object_set_new(out, "acked", json_integer((json_int_t)f->acked));
    json_object_set_new(out, "backlog", json_integer((json_int_t)(target - f->acked)));
    *done = f->acked >= target;
    return STINT_OK;
}

static enum stint_err f_pending(void *ctx, uint64_t from, size_t max, stint_control_record_fn fn,
                                void *fn_ctx, uint64_t *next, bool *more, struct stint_error *e)
{
    struct fake *f = ctx;
    struct stint_record r;
    uint64_t s;
    size_t n = 0;
    enum stint_err err;

    f->pending_calls++;
    if (max > f->max_chunk_seen)
        f->max_chunk_seen = max;
    if (f->fail)
        return stint_error_set(e, f->fail, 0, "pending failed on purpose");
    if (from == 0)
        from = 1;
    for (s = from; s <= f->n_records && n < max; s++, n++) {
        stint_record_clear(&r);
        r.seq = s;
        r.kind = STINT_KIND_ACTIVE;
        r.start_ms = 1700000000000 + (int64_t)s * 1000;
        r.end_ms = r.start_ms + 999;
        stint_record_set(&r, STINT_FIELD_APP, "firefox", 7);
        stint_record_set(&r, STINT_FIELD_TITLE, "Stint \xe2\x80\x94 docs", 12);
        err = fn(fn_ctx, &r);
        if (err != STINT_OK)
            return err;
    }
    *next = s;
    *more = s <= f->n_records;
    return STINT_OK;
}

static enum stint_err f_purge(void *ctx, bool server, bool *in_progress, json_t *out,
                              struct stint_error *e)
{
    struct fake *f = ctx;
    f->purge_calls++;
    if (f->fail)
        return stint_error_set(e, f->fail, 0, "purge failed on purpose");
    f->purged = true;
    f->n_records = 0;
    json_object_set_new(out, "local", json_true());
    *in_progress = server;
    return STINT_OK;
}

static enum stint_err f_purge_poll(void *ctx, bool *done, json_t *out, struct stint_error *e)
{
    struct fake *f = ctx;
    (void)e;
    f->purge_polls++;
    *done = !f->purge_hold && f->purge_polls >= 3;
    if (*done) {
        f->server_purged = true;
        json_object_set_new(out, "server", json_true());
    }
    return STINT_OK;
}

/* history: the fake's records again, told apart by their app. */
struct hist_fwd {
    stint_control_record_fn fn;
    void *ctx;
};

static enum stint_err history_rec(void *ctx, const struct stint_record *r)
{
    static struct stint_record h;
    struct hist_fwd *p = ctx;
    h = *r;
    stint_record_set(&h, STINT_FIELD_APP, "from-history", 12);
    return p->fn(p->ctx, &h);
}

static enum stint_err f_history(void *ctx, uint64_t from, size_t max, stint_control_record_fn fn,
                                void *fn_ctx, uint64_t *next, bool *more, struct stint_error *e)
{
    struct hist_fwd p = {fn, fn_ctx};
    return f_pending(ctx, from, max, history_rec, &p, next, more, e);
}

static const struct stint_control_ops ops = {
    .history = f_history,
    .status = f_status,
    .private_set = f_private,
    .flush = f_flush,
    .flush_progress = f_progress,
    .pending = f_pending,
    .purge = f_purge,
    .purge_poll = f_purge_poll,
};

static struct stint_control *open_server(const struct stint_control_ops *o, bool other_uid,
                                         uint32_t idle_ms)
{
    struct stint_control_opts opts = {
        .path = sock, .ops = o, .ctx = &fk, .tick_ms = 5, .idle_timeout_ms = idle_ms};
    struct stint_control *c = NULL;
    struct stint_error e;

    if (other_uid) {
        opts.check_uid = true;
        opts.uid = getuid() + 1;
    }
    assert_int_equal(stint_control_open(&opts, &c, &e), STINT_OK);
    assert_non_null(c);
    return c;
}

static int setup(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof(fk));
    rlen = 0;
    fk.n_records = N_RECORDS;
    fk.last = 1000;
    snprintf(dir, sizeof(dir), "/tmp/stint-ctl-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sock, sizeof(sock), "%s/run/control", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int connect_client(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void pump(struct stint_control *c, int wait_ms)
{
    struct pollfd fds[STINT_CONTROL_FDS_MAX];
    size_t n = stint_control_pollfds(c, fds, STINT_CONTROL_FDS_MAX);
    int t = stint_control_timeout_ms(c);

    if (t < 0 || t > wait_ms)
        t = wait_ms;
    if (poll(fds, n, t) < 0)
        fail_msg("poll: %s", strerror(errno));
    stint_control_handle(c, fds, n);
}

/* Reads lines from fd while pumping the server, until a line with "ok" (the final one) or EOF.
 * Returns the lines as a JSON array (caller decrefs); *eof tells whether the peer closed. */

static json_t *read_answer(struct stint_control *c, int fd, bool *eof)
{
    json_t *lines = json_array();
    struct timespec t0, t1;

    *eof = false;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char *nl;
        ssize_t r;

        while ((nl = memchr(rbuf, '\n', rlen)) != NULL) {
            json_error_t je;
            json_t *o = json_loadb(rbuf, (size_t)(nl - rbuf), 0, &je);
            if (!o)
                fail_msg("answer line is not JSON: %.*s (%s)", (int)(nl - rbuf), rbuf, je.text);
            json_array_append_new(lines, o);
            rlen -= (size_t)(nl + 1 - rbuf);
            memmove(rbuf, nl + 1, rlen);
            if (json_object_get(o, "ok"))
                return lines;
        }
        pump(c, 5);
        r = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, MSG_DONTWAIT);
        if (r == 0) {
            *eof = true;
            rlen = 0;
            return lines;
        }
        if (r > 0)
            rlen += (size_t)r;
        else if (errno != EAGAIN)
            fail_msg("recv: %s", strerror(errno));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 10)
            fail_msg("no answer within 10 s");
    }
}

static void send_str(int fd, const char *s)
{
    size_t len = strlen(s);
    assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Sends one request and returns the final line (caller decrefs); *lines_out gets all lines. */
static json_t *ask(struct stint_control *c, int fd, const char *req, json_t **lines_out)
{
    json_t *lines, *last;
    bool eof;

    send_str(fd, req);
    lines = read_answer(c, fd, &eof);
    assert_true(json_array_size(lines) > 0);
    last = json_incref(json_array_get(lines, json_array_size(lines) - 1));
    if (lines_out)
        *lines_out = lines;
    else
        json_decref(lines);
    return last;
}

static bool is_ok(json_t *o)
{
    return json_is_true(json_object_get(o, "ok"));
}

static json_int_t int_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        fail_msg("member %s missing or not an integer", k);
    return json_integer_value(v);
}

/* ---- parsing: a table of lines and what each must give ---- */

static void test_parse_table(void **state)
{
    static const struct {
        const char *line;
        enum stint_err want;
        enum stint_control_cmd cmd;
    } cases[] = {
        {"{\"cmd\":\"status\"}", STINT_OK, STINT_CONTROL_STATUS},
        {" { \"cmd\" : \"status\" } ", STINT_OK, STINT_CONTROL_STATUS},
        {"{\"cmd\":\"private\",\"on\":true}", STINT_OK, STINT_CONTROL_PRIVATE},
        {"{\"on\":false,\"cmd\":\"private\"}", STINT_OK, STINT_CONTROL_PRIVATE},
        {"{\"cmd\":\"flush\"}", STINT_OK, STINT_CONTROL_FLUSH},
        {"{\"cmd\":\"flush\",\"wait\":true}", STINT_OK, STINT_CONTROL_FLUSH},
        {"{\"cmd\":\"pending\"}", STINT_OK, STINT_CONTROL_PENDING},
        {"{\"cmd\":\"pending\",\"limit\":5}", STINT_OK, STINT_CONTROL_PENDING},
        {"{\"cmd\":\"history\"}", STINT_OK, STINT_CONTROL_HISTORY},
        {"{\"cmd\":\"history\",\"limit\":7}", STINT_OK, STINT_CONTROL_HISTORY},
        {"{\"cmd\":\"history\",\"limit\":-1}", STINT_ETYPE, 0},
        {"{\"cmd\":\"history\",\"since_ms\":1768435200000}", STINT_OK, STINT_CONTROL_HISTORY},
        {"{\"cmd\":\"history\",\"since_ms\":-1}", STINT_ETYPE, 0},
        {"{\"cmd\":\"history\",\"since_ms\":\"today\"}", STINT_ETYPE, 0},
        {"{\"cmd\":\"pending\",\"since_ms\":5}", STINT_EINVAL, 0},
        {"{\"cmd\":\"history\",\"wait\":true}", STINT_EINVAL, 0},
        {"{\"cmd\":\"purge\"}", STINT_OK, STINT_CONTROL_PURGE},
        {"{\"cmd\":\"purge\",\"server\":true}", STINT_OK, STINT_CONTROL_PURGE},
        {"{\"cmd\":\"dead_letters\"}", STINT_OK, STINT_CONTROL_DEAD_LETTERS},
        {"{\"cmd\":\"dead_letters\",\"action\":\"list\",\"limit\":3}", STINT_OK,
         STINT_CONTROL_DEAD_LETTERS},
        {"{\"cmd\":\"dead_letters\",\"action\":\"retry\"}", STINT_OK, STINT_CONTROL_DEAD_LETTERS},
        {"{\"cmd\":\"dead_letters\",\"action\":\"retry\",\"seqs\":[4,9]}", STINT_OK,
         STINT_CONTROL_DEAD_LETTERS},
        {"{\"cmd\":\"dead_letters\",\"action\":\"drop\",\"seqs\":[]}", STINT_OK,
         STINT_CONTROL_DEAD_LETTERS},
        {"{\"cmd\":\"dead_letters\",\"action\":\"resend\"}", STINT_ETYPE, 0},
        {"{\"cmd\":\"dead_letters\",\"action\":1}", STINT_ETYPE, 0},
        {"{\"cmd\":\"dead_letters\",\"action\":\"drop\",\"seqs\":[0]}", STINT_ETYPE, 0},
        {"{\"cmd\":\"dead_letters\",\"action\":\"drop\",\"seqs\":[\"4\"]}", STINT_ETYPE, 0},
        {"{\"cmd\":\"dead_letters\",\"action\":\"drop\",\"seqs\":4}", STINT_ETYPE, 0},
        {"{\"cmd\":\"dead_letters\",\"seqs\":[4]}", STINT_EINVAL, 0},
        {"{\"cmd\":\"dead_letters\",\"server\":true}", STINT_EINVAL, 0},
        {"{\"cmd\":\"watch\"}", STINT_OK, STINT_CONTROL_WATCH},
        {"{\"cmd\":\"watch\",\"every\":5}", STINT_EINVAL, 0},
        {"", STINT_EJSON, 0},
        {"status", STINT_EJSON, 0},
        {"{\"cmd\":\"status\"", STINT_EJSON, 0},
        {"{\"cmd\":\"status\"} x", STINT_EJSON, 0},
        {"[\"status\"]", STINT_EJSON, 0},
        {"\"status\"", STINT_EJSON, 0},
        {"{\"cmd\":\"status\",\"cmd\":\"purge\"}", STINT_EJSON, 0},
        {"{}", STINT_EINVAL, 0},
        {"{\"cmd\":7}", STINT_ETYPE, 0},
        {"{\"cmd\":null}", STINT_ETYPE, 0},
        {"{\"cmd\":\"reboot\"}", STINT_EINVAL, 0},
        {"{\"cmd\":\"STATUS\"}", STINT_EINVAL, 0},
        {"{\"cmd\":\"status\\u0000\"}", STINT_EJSON, 0},
        {"{\"cmd\":\"status\",\"json\":true}", STINT_EINVAL, 0},
        {"{\"cmd\":\"private\"}", STINT_EINVAL, 0},
        {"{\"cmd\":\"private\",\"on\":\"yes\"}", STINT_ETYPE, 0},
        {"{\"cmd\":\"private\",\"on\":1}", STINT_ETYPE, 0},
        {"{\"cmd\":\"flush\",\"wait\":null}", STINT_ETYPE, 0},
        {"{\"cmd\":\"flush\",\"server\":true}", STINT_EINVAL, 0},
        {"{\"cmd\":\"pending\",\"limit\":-1}", STINT_ETYPE, 0},
        {"{\"cmd\":\"pending\",\"limit\":1.5}", STINT_ETYPE, 0},
        {"{\"cmd\":\"pending\",\"limit\":\"5\"}", STINT_ETYPE, 0},
        {"{\"cmd\":\"purge\",\"server\":\"yes\"}", STINT_ETYPE, 0},
        {"{\"cmd\":\"purge\",\"yes\":true}", STINT_EINVAL, 0},
        {"{\"cmd\":\"st\xff\"}", STINT_EJSON, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stint_control_request rq;
        struct stint_error e;
        enum stint_err got =
            stint_control_parse_request(cases[i].line, strlen(cases[i].line), &rq, &e);
        if (got != cases[i].want)
            fail_msg("case %zu (%s): got %d (%s), want %d", i, cases[i].line, got, e.msg,
                     cases[i].want);
        if (got == STINT_OK)
            assert_int_equal(rq.cmd, cases[i].cmd);
        else
            assert_true(e.msg[0] != '\0');
    }
}

static void test_parse_values(void **state)
{
    struct stint_control_request rq;
    struct stint_error e;
    char big[STINT_CONTROL_LINE_MAX + 10];

    (void)state;
    assert_int_equal(stint_control_parse_request("{\"cmd\":\"private\",\"on\":true}", 27, &rq, &e),
                     STINT_OK);
    assert_true(rq.on);
    assert_int_equal(stint_control_parse_request("{\"cmd\":\"pending\",\"limit\":42}", 28, &rq, &e),
                     STINT_OK);
    assert_int_equal(rq.limit, 42);
    assert_int_equal(
        stint_control_parse_request("{\"cmd\":\"purge\",\"server\":true}", 29, &rq, &e), STINT_OK);
    assert_true(rq.server);
    memset(big, ' ', sizeof(big));
    memcpy(big, "{\"cmd\":\"status\"}", 16);
    assert_int_equal(stint_control_parse_request(big, sizeof(big), &rq, &e), STINT_ELIMIT);
    assert_non_null(strstr(e.msg, "bytes"));
}

/* ---- the server ---- */

static void test_modes_and_paths(void **state)
{
    struct stint_control *c;
    struct stat st;
    char d[64];

    (void)state;
    c = open_server(&ops, false, 0);
    snprintf(d, sizeof(d), "%s/run", dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(lstat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    stint_control_close(c);
    assert_int_not_equal(lstat(sock, &st), 0); /* removed on close */
}

static void test_every_command(void **state)
{
    struct stint_control *c;
    json_t *a, *lines;
    int fd;

    (void)state;
    c = open_server(&ops, false, 0);
    fd = connect_client();

    a = ask(c, fd, "{\"cmd\":\"status\"}\n", NULL);
    assert_true(is_ok(a));
    assert_true(json_is_false(json_object_get(a, "private")));
    assert_int_equal(int_of(a, "backlog"), N_RECORDS);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"private\",\"on\":true}\n", NULL);
    assert_true(is_ok(a));
    assert_true(json_is_true(json_object_get(a, "private")));
    assert_true(fk.private_mode);
    json_decref(a);
    a = ask(c, fd, "{\"cmd\":\"status\"}\n", NULL);
    assert_true(json_is_true(json_object_get(a, "private")));
    json_decref(a);
    a = ask(c, fd, "{\"cmd\":\"private\",\"on\":false}\n", NULL);
    assert_true(is_ok(a));
    assert_false(fk.private_mode);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"flush\"}\n", NULL);
    assert_true(is_ok(a));
    assert_int_equal(int_of(a, "target"), 1000);
    assert_int_equal(fk.progress_calls, 0);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"flush\",\"wait\":true}\n", &lines);
    assert_true(is_ok(a));
    assert_int_equal(int_of(a, "acked"), 1000);
    assert_int_equal(int_of(a, "backlog"), 0);
    /* ten steps of 100: nine progress lines, then the final answer */
    assert_int_equal(json_array_size(lines), 10);
    assert_int_equal(int_of(json_object_get(json_array_get(lines, 0), "progress"), "acked"), 100);
    assert_int_equal(int_of(json_object_get(json_array_get(lines, 8), "progress"), "acked"), 900);
    json_decref(lines);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"pending\",\"limit\":3}\n", &lines);
    assert_true(is_ok(a));
    assert_int_equal(int_of(a, "count"), 3);
    assert_true(json_is_true(json_object_get(a, "more")));
    assert_int_equal(json_array_size(lines), 4);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(lines, 0), "record"), "seq")),
                        "1");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(lines, 2), "record"), "app")),
                        "firefox");
    json_decref(lines);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"purge\"}\n", NULL);
    assert_true(is_ok(a));
    assert_true(fk.purged);
    assert_false(fk.server_purged);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"purge\",\"server\":true}\n", NULL);
    assert_true(is_ok(a));
    assert_true(fk.server_purged);
    assert_true(json_is_true(json_object_get(a, "server")));
    assert_int_equal(fk.purge_polls, 3);
    json_decref(a);

    a = ask(c, fd, "{\"cmd\":\"pending\"}\n", &lines);
    assert_true(is_ok(a));
    assert_int_equal(int_of(a, "count"), 0);
    assert_int_equal(json_array_size(lines), 1);
    json_decref(lines);
    json_decref(a);

    close(fd);
    stint_control_close(c);
}

/* The whole backlog streams in bounded chunks, in order, each record once. */
static void test_pending_streams_all(void **state)
{
    struct stint_control *c;
    json_t *a, *lines;
    size_t i;
    int fd;

    (void)state;
    fk.n_records = 20000;
    c = open_server(&ops, false, 0);
    fd = connect_client();
    a = ask(c, fd, "{\"cmd\":\"pending\"}\n", &lines);
    assert_true(is_ok(a));
    assert_int_equal(int_of(a, "count"), 20000);
    assert_true(json_is_false(json_object_get(a, "more")));
    assert_int_equal(json_array_size(lines), 20001);
    for (i = 0; i < 20000; i++) {
        char want[24];
        json_t *r = json_object_get(json_array_get(lines, i), "record");
        snprintf(want, sizeof(want), "%zu", i + 1);
        assert_string_equal(json_string_value(json_object_get(r, "seq")), want);
    }
    assert_true(fk.max_chunk_seen <= STINT_CONTROL_PENDING_CHUNK);
    assert_true(fk.pending_calls >= (int)(20000 / STINT_CONTROL_PENDING_CHUNK));
    json_decref(lines);
    json_decref(a);
    close(fd);
    stint_control_close(c);
}

/* A peer whose uid is not the allowed one gets one error line and is closed. */
static void test_other_uid_refused(void **state)
{
    struct stint_control *c;
    json_t *lines, *a;
    bool eof;
    int fd;

    (void)state;
    c = open_server(&ops, true, 0);
    fd = connect_client();
    send_str(fd, "{\"cmd\":\"private\",\"on\":true}\n");
    lines = read_answer(c, fd, &eof);
    assert_int_equal(json_array_size(lines), 1);
    a = json_array_get(lines, 0);
    assert_false(is_ok(a));
    assert_int_equal(int_of(a, "code"), (json_int_t)STINT_EPERM);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "permission denied");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "permission denied"));
    json_decref(lines);
    lines = read_answer(c, fd, &eof);
    assert_true(eof);
    json_decref(lines);
    assert_false(fk.private_mode); /* the request was never run */
    assert_int_equal(fk.status_calls, 0);
    assert_int_equal(stint_control_clients(c), 0);
    close(fd);
    stint_control_close(c);
}

/* Malformed requests get an error with the right code and the connection stays usable. */
static void test_malformed_answered(void **state)
{
    static const struct {
        const char *req;
        enum stint_err code;
    } cases[] = {
        {"hello\n", STINT_EJSON},
        {"{\"cmd\":\"status\"\n", STINT_EJSON},
        {"[1,2]\n", STINT_EJSON},
        {"{}\n", STINT_EINVAL},
        {"{\"cmd\":\"halt\"}\n", STINT_EINVAL},
        {"{\"cmd\":\"private\"}\n", STINT_EINVAL},
        {"{\"cmd\":\"private\",\"on\":\"on\"}\n", STINT_ETYPE},
        {"{\"cmd\":\"pending\",\"limit\":-3}\n", STINT_ETYPE},
        {"\n", STINT_EJSON},
        {"\xff\xfe\r\n", STINT_EJSON},
    };
    struct stint_control *c;
    size_t i;
    json_t *a;
    int fd;

    (void)state;
    c = open_server(&ops, false, 0);
    fd = connect_client();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        a = ask(c, fd, cases[i].req, NULL);
        assert_false(is_ok(a));
        if (int_of(a, "code") != cases[i].code)
            fail_msg("case %zu: code %d, want %d", i, (int)int_of(a, "code"), cases[i].code);
        assert_true(strlen(json_string_value(json_object_get(a, "message"))) > 0);
        assert_string_equal(json_string_value(json_object_get(a, "error")),
                            stint_strerror(cases[i].code));
        json_decref(a);
    }
    a = ask(c, fd, "{\"cmd\":\"status\"}\r\n", NULL);
    assert_true(is_ok(a));
    json_decref(a);
    close(fd);
    stint_control_close(c);
}

/* A request line over the cap is answered with STINT_ELIMIT and the connection closed. */
static void test_long_line_closed(void **state)
{
    struct stint_control *c;
    char big[STINT_CONTROL_LINE_MAX + 100];
    json_t *lines;
    bool eof;
    int fd;

    (void)state;
    c = open_server(&ops, false, 0);
    fd = connect_client();
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    send_str(fd, big);
    lines = read_answer(c, fd, &eof);
    assert_int_equal(json_array_size(lines), 1);
    assert_int_equal(int_of(json_array_get(lines, 0), "code"), STINT_ELIMIT);
    json_decref(lines);
    lines = read_answer(c, fd, &eof);
    assert_true(eof);
    json_decref(lines);
    close(fd);
    stint_control_close(c);
}

/* Requests sent together are answered in order, one after the other. */
static void test_pipelined(void **state)
{
    struct stint_control *c;
    json_t *a;
    bool eof;
    int fd;

    (void)state;
    c = open_server(&ops, false, 0);
    fd = connect_client();
    send_str(fd, "{\"cmd\":\"private\",\"on\":true}\n{\"cmd\":\"pending\",\"limit\":2}\n"
                 "{\"cmd\":\"status\"}\n");
    a = read_answer(c, fd, &eof);
    assert_true(json_is_true(json_object_get(json_array_get(a, 0), "private")));
    json_decref(a);
    a = read_answer(c, fd, &eof);
    assert_int_equal(json_array_size(a), 3);
    json_decref(a);
    a = read_answer(c, fd, &eof);
    assert_int_equal(json_array_size(a), 1);
    assert_true(json_is_true(json_object_get(json_array_get(a, 0), "private")));
    json_decref(a);
    close(fd);
    stint_control_close(c);
}

/* history streams what the history callback gives, in chunks, to the end; without the
 * callback it is unsupported (code 11). */
static void test_history_streams(void **state)
{
    static const struct stint_control_ops no_history = {.pending = f_pending};
    struct stint_control *c;
    json_t *a, *lines;
    int fd;

    (void)state;
    fk.n_records = 1000;
    c = open_server(&ops, false, 0);
    fd = connect_client();
    a = ask(c, fd, "{\"cmd\":\"history\"}\n", &lines);
    assert_true(is_ok(a));
    assert_int_equal(int_of(a, "count"), 1000);
    assert_int_equal(json_array_size(lines), 1001);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(lines, 999), "record"), "app")),
                        "from-history");
    json_decref(lines);
    json_decref(a);
    a = ask(c, fd, "{\"cmd\":\"history\",\"limit\":10}\n", &lines);
    assert_int_equal(int_of(a, "count"), 10);
    assert_true(json_is_true(json_object_get(a, "more")));
    json_decref(lines);
    json_decref(a);
    /* since_ms: record s ends at 1700000000000 + s * 1000 + 999; 1 .. 600 ended by then */
    a = ask(c, fd, "{\"cmd\":\"history\",\"since_ms\":1700000600999}\n", &lines);
    assert_int_equal(int_of(a, "count"), 400);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(lines, 0), "record"), "seq")),
                        "601");
    json_decref(lines);
    json_decref(a);
    close(fd);
    stint_control_close(c);

    c = open_server(&no_history, false, 0);
    fd = connect_client();
    a = ask(c, fd, "{\"cmd\":\"history\"}\n", NULL);
    assert_int_equal(int_of(a, "code"), STINT_EUNSUPPORTED);
    json_decref(a);
    close(fd);
    stint_control_close(c);
}

/* Errors of the daemon's callbacks travel to the client with their code and message; missing
 * callbacks are STINT_EUNSUPPORTED. */
static void test_callback_errors(void **state)
{
    static const struct stint_control_ops none = {0};
    struct stint_control *c;
    json_t *a;
    int fd;

    (void)state;
    fk.fail = STINT_EIO;
    c = open_server(&ops, false, 0);
    fd = connect_client();
    a = ask(c, fd, "{\"cmd\":\"flush\",\"wait\":true}\n", NULL);
    assert_false(is_ok(a));
    assert_int_equal(int_of(a, "code"), STINT_EIO);
    assert_string_equal(json_string_value(json_object_get(a, "message")), "no server configured");
    json_decref(a);
    a = ask(c, fd, "{\"cmd\":\"pending\"}\n", NULL);
    assert_int_equal(int_of(a, "code"), STINT_EIO);
    json_decref(a);
    close(fd);
    stint_control_close(c);

    c = open_server(&none, false, 0);
    fd = connect_client();
    a = ask(c, fd, "{\"cmd\":\"status\"}\n", NULL);
    assert_int_equal(int_of(a, "code"), STINT_EUNSUPPORTED);
    json_decref(a);
    close(fd);
    stint_control_close(c);
}

/* A client that goes away in the middle of a flush --wait costs nothing: it is dropped. */
static void test_client_gone_mid_flush(void **state)
{
    struct stint_control *c;
    int fd, i;

    (void)state;
    fk.last = 1000000; /* 10,000 ticks: it will not finish */
    c = open_server(&ops, false, 0);
    fd = connect_client();
    send_str(fd, "{\"cmd\":\"flush\",\"wait\":true}\n");
    for (i = 0; i < 5; i++)
        pump(c, 10);
    assert_int_equal(stint_control_clients(c), 1);
    close(fd);
    for (i = 0; i < 20 && stint_control_clients(c) > 0; i++)
        pump(c, 10);
    assert_int_equal(stint_control_clients(c), 0);
    stint_control_close(c);
}

/* A second purge --server while one runs is answered "busy" (code 14) and not run; the first
 * one ends as usual. */
static void test_second_purge_busy(void **state)
{
    struct stint_control *c;
    struct timespec t0, t1;
    json_t *a;
    bool eof;
    int fd1, fd2;

    (void)state;
    fk.purge_hold = true;
    c = open_server(&ops, false, 0);
    fd1 = connect_client();
    send_str(fd1, "{\"cmd\":\"purge\",\"server\":true}\n");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (fk.purge_polls == 0) {
        pump(c, 5);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 10)
            fail_msg("the first purge did not start within 10 s");
    }
    fd2 = connect_client();
    a = ask(c, fd2, "{\"cmd\":\"purge\",\"server\":true}\n", NULL);
    assert_false(is_ok(a));
    assert_int_equal(int_of(a, "code"), (json_int_t)STINT_EBUSY);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "busy");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "busy: "));
    json_decref(a);
    assert_int_equal(fk.purge_calls, 1); /* the second was never run */
    close(fd2);
    fk.purge_hold = false;
    {
        json_t *lines = read_answer(c, fd1, &eof);
        a = json_array_get(lines, json_array_size(lines) - 1);
        assert_true(is_ok(a));
        assert_true(fk.server_purged);
        json_decref(lines);
    }
    close(fd1);
    stint_control_close(c);
}

/* Silent clients are closed after the idle timeout; with no client nothing is due. */
static void test_idle_timeout(void **state)
{
    struct stint_control *c;
    int fd, i;

    (void)state;
    c = open_server(&ops, false, 50);
    assert_int_equal(stint_control_timeout_ms(c), -1);
    fd = connect_client();
    pump(c, 10);
    assert_int_equal(stint_control_clients(c), 1);
    assert_true(stint_control_timeout_ms(c) <= 50);
    for (i = 0; i < 100 && stint_control_clients(c) > 0; i++)
        pump(c, 10);
    assert_int_equal(stint_control_clients(c), 0);
    assert_int_equal(stint_control_timeout_ms(c), -1);
    close(fd);
    stint_control_close(c);
}

/* One client more than the cap is told so and closed; the others stay. */
static void test_too_many_clients(void **state)
{
    struct stint_control *c;
    int fds[STINT_CONTROL_CLIENTS_MAX + 1];
    json_t *lines;
    bool eof;
    int i;

    (void)state;
    c = open_server(&ops, false, 0);
    for (i = 0; i < STINT_CONTROL_CLIENTS_MAX; i++) {
        fds[i] = connect_client();
        pump(c, 10);
    }
    assert_int_equal(stint_control_clients(c), STINT_CONTROL_CLIENTS_MAX);
    fds[i] = connect_client();
    lines = read_answer(c, fds[i], &eof);
    assert_int_equal(int_of(json_array_get(lines, 0), "code"), STINT_ELIMIT);
    json_decref(lines);
    for (i = 0; i <= STINT_CONTROL_CLIENTS_MAX; i++)
        close(fds[i]);
    stint_control_close(c);
}

/* A stale socket (no one listening) is replaced; a live one is refused; a folder others may
 * write is refused. */
static void test_stale_live_and_loose(void **state)
{
    struct stint_control_opts opts = {.path = sock, .ops = &ops, .ctx = &fk};
    struct stint_control *c = NULL, *c2 = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stint_error e;
    char d[64];
    int fd;

    (void)state;
    snprintf(d, sizeof(d), "%s/run", dir);
    assert_int_equal(mkdir(d, 0700), 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd); /* bound, never listening: what a killed daemon leaves */
    assert_int_equal(stint_control_open(&opts, &c, &e), STINT_OK);
    assert_int_equal(stint_control_open(&opts, &c2, &e), STINT_EIO);
    assert_null(c2);
    assert_non_null(strstr(e.msg, "another stintd"));
    stint_control_close(c);

    assert_int_equal(chmod(d, 0777), 0);
    assert_int_equal(stint_control_open(&opts, &c, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "group or others"));
    assert_int_equal(chmod(d, 0700), 0);

    fd = open(sock, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(stint_control_open(&opts, &c, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "not a socket"));
}

/* ---- watch: the summary, as a table of status answers, and the live stream ---- */

static void test_watch_state_table(void **state)
{
    static const struct {
        const char *status;
        const char *want; /* the summary, compact with sorted keys */
    } cases[] = {
        {"{\"private\":false,\"idle\":false,\"backlog\":0,\"open\":{\"kind\":\"active\","
         "\"app\":\"firefox\",\"title\":\"t\"},\"sender\":{\"state\":\"idle\"}}",
         "{\"app\":\"firefox\",\"backlog\":0,\"idle\":false,\"mode\":\"recording\","
         "\"private\":false,\"sender\":\"idle\"}"},
        {"{\"private\":true,\"idle\":false,\"backlog\":2,\"open\":{\"kind\":\"private\"},"
         "\"sender\":{\"state\":\"retrying\",\"last_error\":\"refused\"}}",
         "{\"backlog\":2,\"idle\":false,\"mode\":\"private\",\"private\":true,"
         "\"sender\":\"retrying\"}"},
        {"{\"private\":false,\"idle\":true,\"backlog\":0,\"open\":{\"kind\":\"idle\"},"
         "\"sender\":{\"state\":\"off (no server configured)\"}}",
         "{\"backlog\":0,\"idle\":true,\"mode\":\"idle\",\"private\":false,"
         "\"sender\":\"off (no server configured)\"}"},
        {"{\"private\":false,\"idle\":false,\"backlog\":7,\"open\":null,\"journal\":"
         "{\"oldest_ms\":1700000000000},\"sender\":{\"state\":\"retrying\",\"last_error\":"
         "\"connection refused\"}}",
         "{\"backlog\":7,\"detail\":\"connection refused\",\"idle\":false,\"mode\":"
         "\"offline\",\"oldest_ms\":1700000000000,\"private\":false,\"sender\":\"retrying\"}"},
        {"{\"private\":false,\"idle\":false,\"backlog\":1,\"sender\":{\"state\":\"sending\"}}",
         "{\"backlog\":1,\"idle\":false,\"mode\":\"sending\",\"private\":false,"
         "\"sender\":\"sending\"}"},
        {"{\"private\":false,\"idle\":false,\"backlog\":1,\"sender\":{\"state\":"
         "\"paused: the server refused the token\",\"last_error\":\"HTTP 401\"}}",
         "{\"backlog\":1,\"detail\":\"HTTP 401\",\"idle\":false,\"mode\":\"blocked\","
         "\"private\":false,\"sender\":\"paused: the server refused the token\"}"},
        {"{\"private\":false,\"idle\":false,\"backlog\":1,\"sender\":{\"state\":"
         "\"blocked: TLS or setup error\"}}",
         "{\"backlog\":1,\"detail\":\"blocked: TLS or setup error\",\"idle\":false,\"mode\":"
         "\"blocked\",\"private\":false,\"sender\":\"blocked: TLS or setup error\"}"},
        {"{}", "{\"backlog\":0,\"idle\":false,\"mode\":\"recording\",\"private\":false,"
               "\"sender\":\"\"}"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *st = json_loads(cases[i].status, 0, NULL), *sum;
        char *text;
        assert_non_null(st);
        sum = stint_control_watch_state(st);
        assert_non_null(sum);
        text = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS);
        if (strcmp(text, cases[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, text, cases[i].want);
        free(text);
        json_decref(sum);
        json_decref(st);
    }
}

/* The next line from fd as JSON, pumping the server (when c is not NULL) for at most 5 s;
 * NULL when none came. */
static json_t *next_line(struct stint_control *c, int fd)
{
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char *nl = memchr(rbuf, '\n', rlen);
        ssize_t r;
        if (nl) {
            json_t *o = json_loadb(rbuf, (size_t)(nl - rbuf), 0, NULL);
            assert_non_null(o);
            rlen -= (size_t)(nl + 1 - rbuf);
            memmove(rbuf, nl + 1, rlen);
            return o;
        }
        if (c) {
            pump(c, 5);
        } else {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 100);
        }
        r = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, MSG_DONTWAIT);
        if (r == 0)
            return NULL;
        if (r > 0)
            rlen += (size_t)r;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 5)
            return NULL;
    }
}

static const char *mode_of(json_t *line)
{
    const char *m = json_string_value(json_object_get(json_object_get(line, "state"), "mode"));
    return m ? m : "(none)";
}

/* A watcher gets the state at once, a line when a request changes it (in the same handle call,
 * not at the next tick), nothing while nothing changes, is never closed for being silent, and
 * hears the daemon stop. */
static void test_watch_stream(void **state)
{
    struct stint_control_opts opts = {
        .path = sock, .ops = &ops, .ctx = &fk, .tick_ms = 5, .idle_timeout_ms = 50, .watch_ms = 20};
    struct stint_control *c = NULL;
    struct pollfd pf[STINT_CONTROL_FDS_MAX];
    struct stint_error e;
    json_t *o;
    int w, q, i, calls;
    size_t n;

    (void)state;
    assert_int_equal(stint_control_open(&opts, &c, &e), STINT_OK);
    w = connect_client();
    send_str(w, "{\"cmd\":\"watch\"}\n");
    o = next_line(c, w);
    assert_non_null(o);
    assert_string_equal(mode_of(o), "recording");
    assert_null(json_object_get(o, "ok"));
    json_decref(o);

    /* Nothing changes for well over the idle timeout: compared on its tick, nothing sent. */
    calls = fk.status_calls;
    for (i = 0; i < 20; i++)
        pump(c, 10);
    assert_true(fk.status_calls > calls);
    assert_int_equal(recv(w, rbuf, sizeof(rbuf), MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(stint_control_clients(c), 1);

    /* Another client turns private mode on: the watcher's line is written before that handle
     * call returns, so it is readable without another pump. */
    q = connect_client();
    send_str(q, "{\"cmd\":\"private\",\"on\":true}\n");
    for (i = 0; i < 500 && !fk.private_mode; i++) {
        n = stint_control_pollfds(c, pf, STINT_CONTROL_FDS_MAX);
        poll(pf, n, 10);
        stint_control_handle(c, pf, n);
    }
    assert_true(fk.private_mode);
    o = next_line(NULL, w);
    assert_non_null(o);
    assert_string_equal(mode_of(o), "private");
    json_decref(o);

    /* A change nobody told the server of (the journal grew) arrives with the tick. */
    fk.n_records = 5;
    o = next_line(c, w);
    assert_non_null(o);
    assert_int_equal(int_of(json_object_get(o, "state"), "backlog"), 5);
    json_decref(o);

    /* The daemon stopping ends the watch with a final error line, then EOF. */
    close(q);
    stint_control_close(c);
    o = next_line(NULL, w);
    assert_non_null(o);
    assert_false(is_ok(o));
    assert_int_equal(int_of(o, "code"), STINT_EIO);
    json_decref(o);
    assert_null(next_line(NULL, w));
    close(w);
}

/* A watcher that hangs up is dropped and its slot given back. */
static void test_watch_hangup(void **state)
{
    struct stint_control *c = open_server(&ops, false, 0);
    json_t *o;
    int w, i;

    (void)state;
    w = connect_client();
    send_str(w, "{\"cmd\":\"watch\"}\n");
    o = next_line(c, w);
    assert_non_null(o);
    json_decref(o);
    assert_int_equal(stint_control_clients(c), 1);
    close(w);
    for (i = 0; i < 500 && stint_control_clients(c) > 0; i++)
        pump(c, 10);
    assert_int_equal(stint_control_clients(c), 0);
    stint_control_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test_setup_teardown(test_modes_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_streams_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_uid_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_gone_mid_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_purge_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_live_and_loose, setup, teardown),
        cmocka_unit_test(test_watch_state_table),
        cmocka_unit_test_setup_teardown(test_watch_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_hangup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
