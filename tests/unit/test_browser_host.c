/* test_browser_host.c — stint-browser-host: framing over real pipes, message validation as a
 * table, forwarding to a real Unix socket (a listener in this process standing in for stintd's
 * control socket, and no listener at all for "stintd absent"), and the binary end to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "forward.h"
#include "frame.h"
#include "message.h"

static void write_frame(int fd, const char *s, size_t len)
{
    uint32_t n = (uint32_t)len;
    assert_int_equal(write(fd, &n, 4), 4);
    assert_int_equal(write(fd, s, len), (ssize_t)len);
}

/* A whole message, then the end between messages. */
static void test_frame_roundtrip_and_end(void **state)
{
    char buf[128];
    size_t len;
    int p[2];
    struct stint_error e;
    (void)state;

    assert_int_equal(pipe(p), 0);
    assert_int_equal(stint_browser_frame_write(p[1], "{\"a\":1}", 7, &e), STINT_OK);
    close(p[1]);
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_OK);
    assert_int_equal(len, 7);
    assert_string_equal(buf, "{\"a\":1}");
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_EIO);
    assert_int_equal(len, 0);
    assert_string_equal(e.msg, "stdin: end");
    close(p[0]);
}

/* Input ending inside a header or a body is truncated, not a clean end. */
static void test_frame_short_reads(void **state)
{
    char buf[128];
    size_t len;
    int p[2];
    struct stint_error e;
    uint32_t n = 10;
    (void)state;

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], &n, 2), 2);
    close(p[1]);
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_ETRUNC);
    assert_non_null(strstr(e.msg, "header (2 of 4 bytes)"));
    close(p[0]);

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], &n, 4), 4);
    assert_int_equal(write(p[1], "{\"a\"", 4), 4);
    close(p[1]);
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_ETRUNC);
    assert_non_null(strstr(e.msg, "inside a 10-byte message (4 bytes came)"));
    close(p[0]);
}

/* A message in pieces (a pipe's short reads) is put back together. */
static void *slow_writer(void *arg)
{
    int fd = *(int *)arg;
    const char *msg = "{\"type\":\"blur\",\"time\":5}";
    uint32_t n = (uint32_t)strlen(msg);
    struct timespec ts = {0, 2000000};

    for (size_t i = 0; i < 4; i++) {
        if (write(fd, (char *)&n + i, 1) != 1)
            return NULL;
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (write(fd, msg + i, 1) != 1)
            return NULL;
    }
    close(fd);
    return NULL;
}

static void test_frame_in_pieces(void **state)
{
    char buf[128];
    size_t len;
    int p[2];
    pthread_t t;
    struct stint_error e;
    (void)state;

    assert_int_equal(pipe(p), 0);
    assert_int_equal(pthread_create(&t, NULL, slow_writer, &p[1]), 0);
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_OK);
    assert_string_equal(buf, "{\"type\":\"blur\",\"time\":5}");
    pthread_join(t, NULL);
    close(p[0]);
}

/* A length over the limit is refused and skipped: the next message still reads. */
static void test_frame_over_limit_skipped(void **state)
{
    char buf[32], big[100];
    size_t len;
    int p[2];
    struct stint_error e;
    (void)state;

    memset(big, 'x', sizeof(big));
    assert_int_equal(pipe(p), 0);
    write_frame(p[1], big, sizeof(big));
    write_frame(p[1], "{}", 2);
    close(p[1]);
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_ELIMIT);
    assert_int_equal(len, 100);
    assert_non_null(strstr(e.msg, "100-byte message, over the 31-byte limit"));
    assert_int_equal(stint_browser_frame_read(p[0], buf, sizeof(buf), &len, &e), STINT_OK);
    assert_string_equal(buf, "{}");
    close(p[0]);

    /* the real limit: 1 MiB + 1 announced */
    assert_int_equal(stint_browser_frame_write(p[1], big, STINT_BROWSER_MSG_MAX + 1, &e),
                     STINT_ELIMIT);
}

struct parse_case {
    const char *json;
    enum stint_err want;
    const char *msg_part; /* in the error message, or NULL */
};

static const struct parse_case parse_cases[] = {
    {"{\"type\":\"hello\",\"browser\":\"firefox\",\"version\":\"1.0.0\"}", STINT_OK, NULL},
    {"{\"type\":\"blur\",\"time\":1}", STINT_OK, NULL},
    {"{\"type\":\"focus\",\"time\":1,\"window\":2,\"tab\":3,\"url\":\"http://a/\",\"title\":\"t\","
     "\"private\":false,\"newer\":[1]}",
     STINT_OK, NULL},
    {"{\"type\":\"focus\",\"time\":1,\"window\":2,\"url\":\"u\",\"title\":\"t\"}", STINT_ETYPE,
     "\"private\""},
    {"{\"type\":\"focus\",\"time\":1,\"window\":2,\"title\":\"t\",\"private\":false}", STINT_ETYPE,
     "\"url\" is missing"},
    {"{\"type\":\"focus\",\"time\":-1,\"window\":2,\"url\":\"u\",\"title\":\"t\",\"private\":"
     "false}",
     STINT_ETYPE, "\"time\" is not a non-negative integer"},
    {"{\"type\":\"focus\",\"time\":1,\"window\":2,\"url\":7,\"title\":\"t\",\"private\":false}",
     STINT_ETYPE, "\"url\" is not a string"},
    {"{\"type\":\"scroll\",\"time\":1}", STINT_EUNSUPPORTED, "unknown type \"scroll\""},
    {"{\"time\":1}", STINT_ETYPE, "\"type\" is missing"},
    {"[1,2]", STINT_ETYPE, "not a JSON object"},
    {"{\"type\":\"blur\",", STINT_EJSON, "not JSON"},
    {"", STINT_EJSON, "not JSON"},
    {"{\"type\":\"blur\",\"time\":1,\"time\":2}", STINT_EJSON, "duplicate"},
    {"{\"type\":\"hello\",\"browser\":\"\xff\"}", STINT_EJSON, "not JSON"},
};

static void test_parse_table(void **state)
{
    struct stint_browser_msg m;
    struct stint_error e;
    (void)state;

    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        enum stint_err got = stint_browser_msg_parse(c->json, strlen(c->json), &m, &e);
        if (got != c->want)
            fail_msg("case %zu (%s): got %d (%s), want %d", i, c->json, got, e.msg, c->want);
        if (c->msg_part && !strstr(e.msg, c->msg_part))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.msg, c->msg_part);
    }
}

/* A private window's url and title never get past the parser. */
static void test_parse_private_blanked(void **state)
{
    const char *j = "{\"type\":\"focus\",\"time\":9,\"window\":2,\"url\":\"https://secret.example/"
                    "x\",\"title\":\"Secret\",\"private\":true}";
    struct stint_browser_msg m;
    char line[STINT_BROWSER_LINE_MAX];
    size_t len;
    (void)state;

    assert_int_equal(stint_browser_msg_parse(j, strlen(j), &m, NULL), STINT_OK);
    assert_true(m.is_private);
    assert_string_equal(m.url, "");
    assert_string_equal(m.title, "");
    assert_int_equal(stint_browser_msg_line(&m, 42, line, sizeof(line), &len, NULL), STINT_OK);
    assert_null(strstr(line, "secret"));
    assert_null(strstr(line, "Secret"));
}

/* The forwarded line carries the message and the browser pid, and stays under the line max
 * even when escaping would grow the longest strings six times. */
static void test_line(void **state)
{
    const char *j = "{\"type\":\"focus\",\"time\":1314172181000,\"window\":2,\"tab\":5,\"url\":"
                    "\"http://127.0.0.1:8099/plan.html\",\"title\":\"Plan \\u00e9\",\"private\":"
                    "false}";
    struct stint_browser_msg m;
    char line[STINT_BROWSER_LINE_MAX], *big;
    size_t len, n = 20000;
    json_t *o;
    (void)state;

    assert_int_equal(stint_browser_msg_parse(j, strlen(j), &m, NULL), STINT_OK);
    assert_int_equal(stint_browser_msg_line(&m, 4242, line, sizeof(line), &len, NULL), STINT_OK);
    assert_int_equal(strlen(line), len);
    o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "cmd")), "browser");
    assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "focus");
    assert_int_equal(json_integer_value(json_object_get(o, "time")), 1314172181000LL);
    assert_string_equal(json_string_value(json_object_get(o, "url")),
                        "http://127.0.0.1:8099/plan.html");
    assert_string_equal(json_string_value(json_object_get(o, "title")), "Plan \xc3\xa9");
    json_decref(o);

    /* control characters everywhere: \u0001 is 6 bytes escaped */
    big = malloc(n * 12 + 400);
    assert_non_null(big);
    len = (size_t)snprintf(big, 200,
                           "{\"type\":\"focus\",\"time\":1,\"window\":2,\"private\":false,"
                           "\"title\":\"");
    for (size_t i = 0; i < n; i++, len += 6)
        memcpy(big + len, "\\u0001", 6);
    len += (size_t)snprintf(big + len, 200, "\",\"url\":\"");
    for (size_t i = 0; i < n; i++, len += 6)
        memcpy(big + len, "\\u0001", 6);
    len += (size_t)snprintf(big + len, 200, "\"}");
    assert_int_equal(stint_browser_msg_parse(big, len, &m, NULL), STINT_OK);
    assert_true(m.url_cut && m.title_cut);
    assert_int_equal(strlen(m.url), STINT_BROWSER_URL_MAX);
    assert_int_equal(stint_browser_msg_line(&m, 1, line, sizeof(line), &len, NULL), STINT_OK);
    assert_true(len < STINT_BROWSER_LINE_MAX);
    o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_true(strlen(json_string_value(json_object_get(o, "url"))) > 100);
    json_decref(o);
    free(big);
}

/* A cut never splits a UTF-8 character. */
static void test_cut_at_character(void **state)
{
    char *j = malloc(STINT_BROWSER_URL_MAX * 2 + 200);
    struct stint_browser_msg m;
    size_t len;
    (void)state;

    assert_non_null(j);
    len = (size_t)snprintf(j, 200,
                           "{\"type\":\"focus\",\"time\":1,\"window\":2,\"private\":false,"
                           "\"title\":\"\",\"url\":\"x");
    for (size_t i = 0; i < STINT_BROWSER_URL_MAX / 2; i++, len += 2)
        memcpy(j + len, "\xc3\xa9", 2);
    len += (size_t)snprintf(j + len, 200, "\"}");
    assert_int_equal(stint_browser_msg_parse(j, len, &m, NULL), STINT_OK);
    assert_true(m.url_cut);
    assert_int_equal(strlen(m.url), STINT_BROWSER_URL_MAX - 1);
    free(j);
}

/* stintd absent: the line is dropped and counted, and the error says so. */
static void test_forward_absent(void **state)
{
    struct stint_browser_fwd *f = NULL;
    struct stint_browser_fwd_stats st;
    struct stint_error e;
    (void)state;

    assert_int_equal(stint_browser_fwd_create("/nonexistent/stint/control", 500, &f, &e), STINT_OK);
    assert_int_equal(stint_browser_fwd_send(f, "{}", 2, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "stintd is not running"));
    assert_int_equal(stint_browser_fwd_send(f, "{}", 2, &e), STINT_EIO);
    stint_browser_fwd_stats(f, &st);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.forwarded, 0);
    assert_false(st.connected);
    stint_browser_fwd_destroy(f);
}

/* A listener standing in for stintd: answers each line with an interim line, then the final
 * answer `answers[i]`, and records the lines. */
struct fake_stintd {
    int lfd;
    const char *answers[4];
    char got[4][512];
    int n;
};

static void *fake_stintd_run(void *arg)
{
    struct fake_stintd *s = arg;
    int c = accept(s->lfd, NULL, NULL);
    char buf[4096];
    size_t have = 0;

    if (c < 0)
        return NULL;
    while (s->n < 4 && s->answers[s->n]) {
        ssize_t r = read(c, buf + have, sizeof(buf) - have);
        char *nl;
        if (r <= 0)
            break;
        have += (size_t)r;
        while ((nl = memchr(buf, '\n', have)) && s->n < 4 && s->answers[s->n]) {
            size_t l = (size_t)(nl - buf);
            snprintf(s->got[s->n], sizeof(s->got[0]), "%.*s", (int)l, buf);
            memmove(buf, nl + 1, have - l - 1);
            have -= l + 1;
            if (write(c, "{\"note\":1}\n", 11) != 11 ||
                write(c, s->answers[s->n], strlen(s->answers[s->n])) < 0)
                break;
            s->n++;
        }
    }
    close(c);
    return NULL;
}

static void test_forward_to_listener(void **state)
{
    struct fake_stintd s = {
        .answers = {"{\"ok\":true}\n", "{\"ok\":false,\"code\":2,\"message\":\"no such cmd\"}\n"}};
    char dir[] = "/tmp/stint-bh-XXXXXX", path[128];
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stint_browser_fwd *f = NULL;
    struct stint_browser_fwd_stats st;
    struct stint_error e;
    pthread_t t;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/control", dir);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    s.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s.lfd >= 0);
    assert_int_equal(bind(s.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s.lfd, 4), 0);
    assert_int_equal(pthread_create(&t, NULL, fake_stintd_run, &s), 0);

    assert_int_equal(stint_browser_fwd_create(path, 30000, &f, &e), STINT_OK);
    assert_int_equal(stint_browser_fwd_send(f, "{\"cmd\":\"browser\",\"n\":1}", 23, &e), STINT_OK);
    assert_int_equal(stint_browser_fwd_send(f, "{\"cmd\":\"browser\",\"n\":2}", 23, &e),
                     STINT_ETYPE);
    assert_non_null(strstr(e.msg, "no such cmd"));
    pthread_join(t, NULL);
    assert_string_equal(s.got[0], "{\"cmd\":\"browser\",\"n\":1}");
    assert_string_equal(s.got[1], "{\"cmd\":\"browser\",\"n\":2}");
    stint_browser_fwd_stats(f, &st);
    assert_int_equal(st.forwarded, 1);
    assert_int_equal(st.dropped, 1);
    stint_browser_fwd_destroy(f);
    close(s.lfd);
    unlink(path);
    rmdir(dir);
}

/* Reads one framed reply from fd into buf. */
static void read_reply(int fd, char *buf, size_t cap)
{
    size_t len;
    struct stint_error e;
    enum stint_err err = stint_browser_frame_read(fd, buf, cap, &len, &e);
    if (err != STINT_OK)
        fail_msg("no reply from the host: %s", e.msg);
}

/* The binary: stintd absent, a good message, a bad one, a clean end (exit 0); then input cut
 * inside a message (exit 1). */
static void test_binary(void **state)
{
    int in[2], out[2], status;
    char reply[1024];
    const char *focus = "{\"type\":\"focus\",\"time\":1,\"window\":2,\"url\":\"http://a/\","
                        "\"title\":\"t\",\"private\":false}";
    pid_t pid;
    (void)state;

    signal(SIGPIPE, SIG_IGN);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(pipe(in), 0);
        assert_int_equal(pipe(out), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[1]);
            close(out[0]);
            execl(STINT_BROWSER_HOST_BIN, "stint-browser-host", "--socket",
                  "/nonexistent/stint/control", "chrome-extension://abc/", (char *)NULL);
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        write_frame(in[1], focus, strlen(focus));
        read_reply(out[0], reply, sizeof(reply));
        assert_non_null(strstr(reply, "\"stintd\":\"absent\""));
        assert_non_null(strstr(reply, "\"dropped\":1"));
        write_frame(in[1], "{\"type\":\"nope\"}", 15);
        read_reply(out[0], reply, sizeof(reply));
        assert_non_null(strstr(reply, "\"bad\":1"));
        assert_non_null(strstr(reply, "unknown type"));
        if (round == 1) {
            uint32_t n = 50;
            assert_int_equal(write(in[1], &n, 4), 4);
            assert_int_equal(write(in[1], "{", 1), 1);
        }
        close(in[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), round == 0 ? 0 : 1);
        close(out[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_roundtrip_and_end),
        cmocka_unit_test(test_frame_short_reads),
        cmocka_unit_test(test_frame_in_pieces),
        cmocka_unit_test(test_frame_over_limit_skipped),
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_private_blanked),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_cut_at_character),
        cmocka_unit_test(test_forward_absent),
        cmocka_unit_test(test_forward_to_listener),
        cmocka_unit_test(test_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
