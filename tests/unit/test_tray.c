/* test_tray.c — stint-tray's view of a state line (tray/view.c) and its line reader
 * (tray/link.c).
 *
 * The view as a table: each row a state line as stintd sends it (spec/CONTROL.md, "watch") and
 * what the tray must show: icon, tray status, words that must be in the tooltip and the menu's
 * first line, the check mark and whether Send now is offered. Times are in UTC (TZ is set), so
 * "since" is the same on every machine. The reader gets real bytes through a socketpair: lines
 * split across reads, two in one read, a line that is not JSON, an over-long line, EOF. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "link.h"
#include "view.h"

/* 2023-11-14 22:13:20 UTC */
#define NOW 1700000000

static void test_view_table(void **state)
{
    static const struct {
        const char *line;
        const char *icon, *status, *title, *text, *label;
        bool private_mode, can_flush;
    } cases[] = {
        {"{\"mode\":\"recording\",\"app\":\"firefox\",\"backlog\":0,\"private\":false,"
         "\"idle\":false,\"sender\":\"idle\"}",
         "stint-recording", "Active", "recording", "Now: firefox", "Recording: firefox", false,
         true},
        {"{\"mode\":\"recording\",\"backlog\":0,\"private\":false,\"sender\":"
         "\"off (no server configured)\"}",
         "stint-recording", "Active", "recording", "Recording", "Recording", false, false},
        {"{\"mode\":\"private\",\"private\":true,\"backlog\":3,\"sender\":\"idle\"}",
         "stint-private", "Active", "private mode", "Click the icon to resume",
         "nothing is recorded", true, true},
        {"{\"mode\":\"idle\",\"idle\":true,\"backlog\":0,\"sender\":\"idle\"}", "stint-idle",
         "Active", "idle", "away", "Idle", false, true},
        {"{\"mode\":\"offline\",\"backlog\":42,\"oldest_ms\":1699999000000,\"detail\":"
         "\"Could not connect to server\",\"sender\":\"retrying\"}",
         "stint-offline", "Active", "offline",
         "42 records waiting since 21:56\nCould not connect to server",
         "Offline: 42 waiting since 21:56", false, true},
        {"{\"mode\":\"offline\",\"backlog\":1,\"oldest_ms\":1690000000000,\"sender\":"
         "\"retrying\"}",
         "stint-offline", "Active", "offline", "1 record waiting since 2023-07-22 04:26",
         "Offline: 1 waiting since 2023-07-22 04:26", false, true},
        {"{\"mode\":\"sending\",\"backlog\":7,\"sender\":\"sending\"}", "stint-sending", "Active",
         "sending", "7 records to send", "Sending 7 records", false, true},
        {"{\"mode\":\"blocked\",\"backlog\":9,\"detail\":\"HTTP 401: token refused\",\"sender\":"
         "\"paused: the server refused the token\"}",
         "stint-blocked", "NeedsAttention", "blocked", "HTTP 401: token refused\n9 records",
         "Sending blocked: HTTP 401: token refused", false, true},
        {"{\"mode\":\"blocked\",\"backlog\":1,\"sender\":\"blocked: TLS or setup error\"}",
         "stint-blocked", "NeedsAttention", "blocked", "blocked: TLS or setup error\n1 record ",
         "Sending blocked: blocked: TLS", false, true},
        /* what a later stintd might send, or a broken line: still a sane view */
        {"{\"mode\":\"hibernating\"}", "stint-recording", "Active", "recording", "Recording",
         "Recording", false, false},
        {"{\"mode\":7,\"app\":[1],\"backlog\":\"x\",\"private\":\"yes\"}", "stint-recording",
         "Active", "recording", "Recording", "Recording", false, false},
        {"{}", "stint-recording", "Active", "recording", "Recording", "Recording", false, false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stint_tray_view_text vt;
        json_t *st = json_loads(cases[i].line, 0, NULL);
        assert_non_null(st);
        stint_tray_view_of_state(st, NOW, &vt);
        if (strcmp(vt.view.icon, cases[i].icon) != 0 ||
            strcmp(vt.view.status, cases[i].status) != 0 ||
            !strstr(vt.view.tip_title, cases[i].title) ||
            !strstr(vt.view.tip_text, cases[i].text) || !strstr(vt.view.label, cases[i].label) ||
            vt.view.private_mode != cases[i].private_mode ||
            vt.view.can_flush != cases[i].can_flush || !vt.view.running)
            fail_msg("case %zu: icon %s status %s title \"%s\" text \"%s\" label \"%s\" "
                     "private %d flush %d",
                     i, vt.view.icon, vt.view.status, vt.view.tip_title, vt.view.tip_text,
                     vt.view.label, vt.view.private_mode, vt.view.can_flush);
        json_decref(st);
    }
}

static void test_view_stopped(void **state)
{
    struct stint_tray_view_text vt;
    char why[1000];

    (void)state;
    stint_tray_view_stopped("permission denied: /run/x belongs to uid 65534", &vt);
    assert_string_equal(vt.view.icon, "stint-stopped");
    assert_string_equal(vt.view.status, "Active");
    assert_false(vt.view.running);
    assert_non_null(strstr(vt.view.tip_text, "permission denied"));
    assert_non_null(strstr(vt.view.tip_text, "systemctl --user start stintd"));
    stint_tray_view_stopped(NULL, &vt);
    assert_non_null(strstr(vt.view.tip_text, "not running"));
    memset(why, 'x', sizeof(why) - 1); /* a long reason is cut, not overflowed */
    why[sizeof(why) - 1] = '\0';
    stint_tray_view_stopped(why, &vt);
    assert_true(strlen(vt.view.tip_text) < sizeof(vt.text));
}

/* ---- the reader ---- */

struct got {
    int n;
    char modes[8][32];
};

static void on_line(void *ctx, json_t *line)
{
    struct got *g = ctx;
    const char *m = json_string_value(json_object_get(json_object_get(line, "state"), "mode"));
    if (g->n < 8)
        snprintf(g->modes[g->n], sizeof(g->modes[0]), "%s", m ? m : "?");
    g->n++;
}

static void put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_reader(void **state)
{
    struct stint_link_reader *r = calloc(1, sizeof(*r));
    struct stint_error e;
    struct got g = {0};
    char *big;
    int sv[2];

    (void)state;
    assert_non_null(r);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    /* nothing yet: goes on */
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_OK);
    assert_int_equal(g.n, 0);
    /* a line in two pieces, then two lines in one read */
    put(sv[1], "{\"state\":{\"mo");
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_OK);
    assert_int_equal(g.n, 0);
    put(sv[1], "de\":\"private\"}}\n{\"state\":{\"mode\":\"idle\"}}\n{\"state\":");
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.modes[0], "private");
    assert_string_equal(g.modes[1], "idle");
    put(sv[1], "{\"mode\":\"sending\"}}\n");
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_OK);
    assert_int_equal(g.n, 3);
    /* a line that is not JSON ends the watch */
    put(sv[1], "not json\n");
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "not JSON"));
    /* an over-long line ends it too, without overflowing */
    memset(r, 0, sizeof(*r));
    big = malloc(STINT_LINK_LINE_MAX + 10);
    assert_non_null(big);
    memset(big, 'a', STINT_LINK_LINE_MAX + 9);
    big[STINT_LINK_LINE_MAX + 9] = '\0';
    put(sv[1], big);
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "over-long"));
    free(big);
    /* EOF */
    memset(r, 0, sizeof(*r));
    {
        char sink[20000];
        while (read(sv[0], sink, sizeof(sink)) > 0)
            ;
    }
    close(sv[1]);
    assert_int_equal(stint_link_read_lines(sv[0], r, on_line, &g, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "closed"));
    close(sv[0]);
    free(r);
}

/* connect: no socket is "refused" (stintd not running), and says where */
static void test_connect_missing(void **state)
{
    struct stint_error e;
    bool refused = false;
    int fd = -1;

    (void)state;
    assert_int_equal(stint_link_connect("/nonexistent/stint/control", &fd, &refused, &e),
                     STINT_EIO);
    assert_true(refused);
    assert_int_equal(fd, -1);
    assert_non_null(strstr(e.msg, "/nonexistent/stint/control"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_table),
        cmocka_unit_test(test_view_stopped),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_connect_missing),
    };
    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
