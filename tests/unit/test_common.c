/* test_common.c — the helpers of common/: clocks, big-endian integers, strict number parsing,
 * media types, and the logging facility with its stderr sink. Table-driven where there are
 * cases to list. */
#define _GNU_SOURCE /* clock_gettime, fileno, dup */
#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/byteorder.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/media_type.h"
#include "common/number.h"

/* The clocks agree with clock_gettime and the monotonic one never goes back. */
static void test_clocks(void **state)
{
    struct timespec ts;
    int64_t a, b, ns, wall;

    (void)state;
    clock_gettime(CLOCK_REALTIME, &ts);
    wall = stint_clock_wall_ms();
    /* within a minute of the reading just taken, however loaded the machine */
    assert_true(wall >= (int64_t)ts.tv_sec * 1000);
    assert_true(wall < ((int64_t)ts.tv_sec + 60) * 1000);
    a = stint_clock_mono_ms();
    ns = stint_clock_mono_ns();
    b = stint_clock_mono_ms();
    assert_true(stint_clock_boot_ms() >= 0);
    assert_true(a <= b);
    assert_true(ns / 1000000 >= a);
    assert_true(ns / 1000000 <= b);
    for (int i = 0; i < 1000; i++) {
        int64_t c = stint_clock_mono_ms();
        assert_true(c >= b);
        b = c;
    }
}

/* Known byte patterns both ways, and the sort order that keys rely on. */
static void test_be64(void **state)
{
    static const struct {
        uint64_t v;
        uint8_t b[8];
    } cases[] = {
        {0, {0, 0, 0, 0, 0, 0, 0, 0}},
        {1, {0, 0, 0, 0, 0, 0, 0, 1}},
        {0x0102030405060708ULL, {1, 2, 3, 4, 5, 6, 7, 8}},
        {0xff00000000000000ULL, {0xff, 0, 0, 0, 0, 0, 0, 0}},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
    };
    uint8_t buf[9], prev[8] = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 0xaa, sizeof(buf));
        stint_be64_put(buf, cases[i].v);
        assert_memory_equal(buf, cases[i].b, 8);
        assert_int_equal(buf[8], 0xaa); /* writes exactly eight bytes */
        assert_true(stint_be64_get(cases[i].b) == cases[i].v);
        if (i > 0)
            assert_true(memcmp(prev, buf, 8) < 0);
        memcpy(prev, buf, 8);
    }
    /* unaligned */
    stint_be64_put(buf + 1, 0x1122334455667788ULL);
    assert_true(stint_be64_get(buf + 1) == 0x1122334455667788ULL);
}

/* be32: known patterns both ways, exactly four bytes written, unaligned access. */
static void test_be32(void **state)
{
    static const struct {
        uint32_t v;
        uint8_t b[4];
    } cases[] = {
        {0, {0, 0, 0, 0}},
        {1, {0, 0, 0, 1}},
        {0x01020304U, {1, 2, 3, 4}},
        {0xff000080U, {0xff, 0, 0, 0x80}},
        {UINT32_MAX, {0xff, 0xff, 0xff, 0xff}},
    };
    uint8_t buf[6];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 0xaa, sizeof(buf));
        stint_be32_put(buf + 1, cases[i].v);
        assert_memory_equal(buf + 1, cases[i].b, 4);
        assert_int_equal(buf[0], 0xaa);
        assert_int_equal(buf[5], 0xaa);
        assert_true(stint_be32_get(buf + 1) == cases[i].v);
        assert_true(stint_be32_get(cases[i].b) == cases[i].v);
    }
}

/* Microseconds agree with the other monotonic readings; a deadline lies wait_ms ahead on the
 * clock asked for, with tv_nsec normalised. */
static void test_clock_us_deadline(void **state)
{
    static const int64_t waits[] = {0, 1, 999, 1000, 1001, 250, 86400001};
    int64_t a, us, b;

    (void)state;
    a = stint_clock_mono_ms();
    us = stint_clock_mono_us();
    b = stint_clock_mono_ms();
    assert_true(us / 1000 >= a);
    assert_true(us / 1000 <= b);
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC};
        static const enum stint_clock_id ours[] = {STINT_CLOCK_REALTIME, STINT_CLOCK_MONOTONIC};
        for (size_t k = 0; k < 2; k++) {
            struct timespec before, after, d;
            int64_t d_ms, lo, hi;

            clock_gettime(ids[k], &before);
            d = stint_clock_deadline(ours[k], waits[i]);
            clock_gettime(ids[k], &after);
            assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
            d_ms = (int64_t)d.tv_sec * 1000 + d.tv_nsec / 1000000;
            lo = (int64_t)before.tv_sec * 1000 + before.tv_nsec / 1000000 + waits[i];
            hi = (int64_t)after.tv_sec * 1000 + after.tv_nsec / 1000000 + waits[i];
            assert_true(d_ms >= lo);
            assert_true(d_ms <= hi + 1);
        }
    }
}

/* Loopback is judged by the parsed host, never by its first bytes. */
static void test_loopback(void **state)
{
    static const struct {
        const char *host;
        bool yes;
    } cases[] = {
        {"127.0.0.1", true},
        {"127.1.2.3", true},
        {"localhost", true},
        {"LocalHost", true},
        {"[::1]", true},
        {"::1", true},
        {"[0:0:0:0:0:0:0:1]", true},
        {"128.0.0.1", false},
        {"10.0.0.1", false},
        {"127.example.com", false},
        {"127.0.0.1.example", false},
        {"localhost.example.com", false},
        {"[::2]", false},
        {"[::1", false},
        {"::1]", false},
        {"[]", false},
        {"", false},
        {"127.0.0.1:8080", false},
        {"[::ffff:127.0.0.1]", false},
        {"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff:0000", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (stint_loopback_host(cases[i].host) != cases[i].yes)
            fail_msg("%s: want %s", cases[i].host, cases[i].yes ? "loopback" : "not loopback");
    }
    assert_false(stint_loopback_host(NULL));
}

static void test_number_u64(void **state)
{
    static const struct {
        const char *s;
        uint64_t min, max;
        bool ok;
        uint64_t want;
    } cases[] = {
        {"0", 0, 10, true, 0},
        {"10", 0, 10, true, 10},
        {"11", 0, 10, false, 0},
        {"0", 1, 10, false, 0},
        {"007", 0, 10, true, 7},
        {"18446744073709551615", 0, UINT64_MAX, true, UINT64_MAX},
        {"18446744073709551616", 0, UINT64_MAX, false, 0}, /* overflow */
        {"-1", 0, UINT64_MAX, false, 0},                   /* strtoull would give 2^64 - 1 */
        {"+1", 0, 10, false, 0},
        {" 1", 0, 10, false, 0},
        {"1 ", 0, 10, false, 0},
        {"1x", 0, 10, false, 0},
        {"0x10", 0, 100, false, 0},
        {"", 0, 10, false, 0},
        {NULL, 0, 10, false, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stint_error e = {0};
        uint64_t v = 12345;
        enum stint_err rc = stint_number_u64("--n", cases[i].s, cases[i].min, cases[i].max, &v, &e);
        if (cases[i].ok) {
            assert_int_equal(rc, STINT_OK);
            assert_true(v == cases[i].want);
        } else {
            assert_int_equal(rc, STINT_EINVAL);
            assert_true(v == 12345); /* untouched */
            assert_int_equal(e.code, STINT_EINVAL);
            assert_non_null(strstr(e.msg, "--n: "));
        }
    }
}

/* The message names the option, the value and the range. */
static void test_number_message(void **state)
{
    struct stint_error e = {0};
    uint64_t v;
    double d;

    (void)state;
    assert_int_equal(stint_number_u64("--timeout", "abc", 1, 3600, &v, &e), STINT_EINVAL);
    assert_string_equal(e.msg, "--timeout: 'abc' is not a whole number from 1 to 3600");
    assert_int_equal(stint_number_u64(NULL, "", 1, 2, &v, &e), STINT_EINVAL);
    assert_string_equal(e.msg, "value: a number is missing");
    assert_int_equal(stint_number_double("--delay", "2s", 0, 60, &d, &e), STINT_EINVAL);
    assert_string_equal(e.msg, "--delay: '2s' is not a number from 0 to 60");
    assert_int_equal(stint_number_u64("--n", "5", 1, 9, &v, NULL), STINT_OK); /* e may be NULL */
    assert_int_equal(stint_number_u64("--n", "x", 1, 9, &v, NULL), STINT_EINVAL);
}

static void test_number_double(void **state)
{
    static const struct {
        const char *s;
        bool ok;
        double want;
    } cases[] = {
        {"1.5", true, 1.5},  {"0", true, 0},      {".5", true, 0.5}, {"1e2", true, 100},
        {"-1", false, 0},    {"1e400", false, 0}, {"inf", false, 0}, {"nan", false, 0},
        {"0x1p3", false, 0}, {" 1", false, 0},    {"1 ", false, 0},  {"", false, 0},
        {"101", false, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double v = -7;
        enum stint_err rc = stint_number_double("--s", cases[i].s, 0, 100, &v, NULL);
        assert_int_equal(rc, cases[i].ok ? STINT_OK : STINT_EINVAL);
        assert_true(cases[i].ok ? v == cases[i].want : v == -7);
    }
    {
        double v = 0;
        assert_int_equal(stint_number_double("--s", "-2.5", -3, 3, &v, NULL), STINT_OK);
        assert_true(v == -2.5);
    }
}

static void test_media_type(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"application/json", "application/json"},
        {"Application/JSON; charset=utf-8", "application/json"},
        {"  \tapplication/x-protobuf ;x=1", "application/x-protobuf"},
        {"text/plain\t; a=b", "text/plain"},
        {"", ""},
        {";", ""},
    };
    char out[64];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        stint_media_type(cases[i].in, out, sizeof(out));
        assert_string_equal(out, cases[i].want);
    }
    stint_media_type("application/json", out, 5); /* cut to cap - 1 */
    assert_string_equal(out, "appl");
    stint_media_type("application/json", out, 1);
    assert_string_equal(out, "");
}

struct captured {
    int calls;
    enum stint_log_level level;
    char line[STINT_LOG_LINE_MAX + 16];
};

static void capture(void *ctx, enum stint_log_level level, const char *line)
{
    struct captured *c = ctx;

    c->calls++;
    c->level = level;
    snprintf(c->line, sizeof(c->line), "%s", line);
}

/* Lines within the level reach the sink formatted; lines above it do not; long ones are cut. */
static void test_log_levels(void **state)
{
    struct captured c = {0};
    struct stint_log lg = {.fn = capture, .ctx = &c, .level = STINT_LOG_INFO};
    char big[3000];

    (void)state;
    stint_log(&lg, STINT_LOG_WARN, "disk %s at %d%%", "sda", 93);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, STINT_LOG_WARN);
    assert_string_equal(c.line, "disk sda at 93%");
    stint_log(&lg, STINT_LOG_DEBUG, "not shown %d", 1);
    assert_int_equal(c.calls, 1);
    assert_false(stint_log_enabled(&lg, STINT_LOG_DEBUG));
    assert_true(stint_log_enabled(&lg, STINT_LOG_INFO));
    stint_log(&lg, STINT_LOG_INFO, "info");
    assert_int_equal(c.calls, 2);
    lg.level = STINT_LOG_ERROR;
    stint_log(&lg, STINT_LOG_WARN, "dropped");
    stint_log(&lg, STINT_LOG_ERROR, "kept");
    assert_int_equal(c.calls, 3);
    assert_string_equal(c.line, "kept");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    stint_log(&lg, STINT_LOG_ERROR, "%s", big);
    assert_int_equal(strlen(c.line), STINT_LOG_LINE_MAX - 1);
    assert_string_equal(stint_log_level_str(STINT_LOG_ERROR), "error");
    assert_string_equal(stint_log_level_str(STINT_LOG_WARN), "warn");
    assert_string_equal(stint_log_level_str(STINT_LOG_INFO), "info");
    assert_string_equal(stint_log_level_str(STINT_LOG_DEBUG), "debug");
    assert_string_equal(stint_log_level_str((enum stint_log_level)9), "debug");
}

/* Runs the stderr sink with stderr sent to a file and returns what it wrote. */
static void stderr_of(const struct stint_log *lg, enum stint_log_level level, const char *msg,
                      char *out, size_t cap)
{
    FILE *f = tmpfile();
    int saved = dup(2);
    size_t n;

    assert_non_null(f);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_true(dup2(fileno(f), 2) == 2);
    stint_log(lg, level, "%s", msg);
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    rewind(f);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* A named logger puts "NAME: " before each line (cut lines included); stint_log_none drops every
 * line and writes nothing to stderr. */
static void test_log_name_none(void **state)
{
    struct captured c = {0};
    struct stint_log lg = {.fn = capture, .ctx = &c, .level = STINT_LOG_DEBUG, .name = "sender"};
    char big[3000], out[64];

    (void)state;
    stint_log(&lg, STINT_LOG_INFO, "batch %d-%d acked", 1, 5);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, STINT_LOG_INFO);
    assert_string_equal(c.line, "sender: batch 1-5 acked");
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    stint_log(&lg, STINT_LOG_ERROR, "%s", big);
    assert_int_equal(strlen(c.line), STINT_LOG_LINE_MAX - 1);
    assert_memory_equal(c.line, "sender: yyy", 11);
    lg.name = NULL;
    stint_log(&lg, STINT_LOG_INFO, "plain");
    assert_string_equal(c.line, "plain");
    assert_int_equal(c.calls, 3);
    for (int l = STINT_LOG_ERROR; l <= STINT_LOG_DEBUG; l++)
        assert_false(stint_log_enabled(&stint_log_none, (enum stint_log_level)l));
    stderr_of(&stint_log_none, STINT_LOG_ERROR, "never", out, sizeof(out));
    assert_string_equal(out, "");
}

static void test_log_stderr_sink(void **state)
{
    struct stint_log_stderr plain = {.prog = "stint-collector"};
    struct stint_log_stderr jd = {.prog = "stintd", .journald = true, .timestamps = true};
    struct stint_log_stderr ts = {.prog = "stintd", .timestamps = true};
    struct stint_log lg = {.fn = stint_log_stderr, .ctx = &plain, .level = STINT_LOG_DEBUG};
    char out[512], want[64];

    (void)state;
    stderr_of(&lg, STINT_LOG_INFO, "migrated", out, sizeof(out));
    assert_string_equal(out, "stint-collector: migrated\n");
    lg.ctx = &jd;
    stderr_of(&lg, STINT_LOG_WARN, "careful", out, sizeof(out));
    assert_string_equal(out, "<4>careful\n");
    stderr_of(&lg, STINT_LOG_ERROR, "bad", out, sizeof(out));
    assert_string_equal(out, "<3>bad\n");
    lg.ctx = &ts;
    stderr_of(&lg, STINT_LOG_DEBUG, "hello", out, sizeof(out));
    /* 2026-01-02T03:04:05.678Z stintd[PID] debug: hello */
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[23], 'Z');
    snprintf(want, sizeof(want), " stintd[%d] debug: hello\n", (int)getpid());
    assert_string_equal(out + 24, want);
    stderr_of(NULL, STINT_LOG_DEBUG, "no logger", out, sizeof(out));
    assert_string_equal(out, "stint: no logger\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clocks),        cmocka_unit_test(test_be64),
        cmocka_unit_test(test_be32),          cmocka_unit_test(test_clock_us_deadline),
        cmocka_unit_test(test_number_u64),    cmocka_unit_test(test_number_message),
        cmocka_unit_test(test_number_double), cmocka_unit_test(test_media_type),
        cmocka_unit_test(test_log_levels),    cmocka_unit_test(test_log_stderr_sink),
        cmocka_unit_test(test_log_name_none), cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
