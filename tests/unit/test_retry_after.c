/* test_retry_after.c — Retry-After: delta-seconds, the three HTTP-date forms, garbage, overflow,
 * past dates and the 24 h clamp, as a table. */
#include "cmocka_all.h"

#include <string.h>

#include "retry_after.h"

#define H24 ((uint64_t)24 * 3600 * 1000)

/* 2026-11-29 01:59:26 UTC, a Sunday */
static const int64_t NOW = (int64_t)1795917566 * 1000;

struct row {
    const char *in;
    int64_t now_ms;
    int ok;         /* 1: STINT_OK, 0: STINT_ESYNTAX */
    uint64_t delay; /* when ok */
};

static const struct row rows[] = {
    /* delay-seconds */
    {"0", NOW, 1, 0},
    {"1", NOW, 1, 1000},
    {"120", NOW, 1, 120000},
    {"  7\t", NOW, 1, 7000},
    {"007", NOW, 1, 7000},
    {"86399", NOW, 1, 86399000},
    {"86400", NOW, 1, H24},
    {"86401", NOW, 1, H24},
    {"999999999999999999999999999999", NOW, 1, H24}, /* overflow: clamped, not wrapped */
    {"18446744073709551616", NOW, 1, H24},
    /* IMF-fixdate */
    {"Sun, 29 Nov 2026 01:59:36 GMT", NOW, 1, 10000},
    {"Sun, 29 Nov 2026 01:59:26 GMT", NOW, 1, 0}, /* now */
    {"Sat, 28 Nov 2026 01:59:26 GMT", NOW, 1, 0}, /* past */
    {"Sun, 06 Nov 1994 08:49:37 GMT", NOW, 1, 0}, /* RFC example, long past */
    {"Mon, 30 Nov 2026 01:59:25 GMT", NOW, 1, H24 - 1000},
    {"Mon, 30 Nov 2026 01:59:27 GMT", NOW, 1, H24}, /* over 24 h: clamped */
    {"Fri, 31 Dec 9999 23:59:59 GMT", NOW, 1, H24},
    {"Thu, 01 Jan 1970 00:00:00 GMT", NOW, 1, 0},
    {"Wed, 29 Feb 2028 00:00:00 GMT", NOW, 1, H24},   /* a leap day exists */
    {"Sun, 29 Nov 2026 01:59:60 GMT", NOW, 1, 34000}, /* leap second accepted */
    {"Mon, 29 Nov 2026 01:59:36 GMT", NOW, 1, 10000}, /* day name not checked (RFC 9110) */
    /* RFC 850 */
    {"Sunday, 29-Nov-26 01:59:46 GMT", NOW, 1, 20000},
    {"Sunday, 06-Nov-94 08:49:37 GMT", NOW, 1, 0}, /* 1994, not 2094 */
    /* asctime */
    {"Sun Nov 29 02:00:26 2026", NOW, 1, 60000},
    {"Sun Nov  6 08:49:37 1994", NOW, 1, 0},
    /* garbage */
    {"", NOW, 0, 0},
    {"   ", NOW, 0, 0},
    {"-1", NOW, 0, 0},
    {"+5", NOW, 0, 0},
    {"1.5", NOW, 0, 0},
    {"5 s", NOW, 0, 0},
    {"0x10", NOW, 0, 0},
    {"soon", NOW, 0, 0},
    {"Sun, 29 Nov 2026 01:59:36 UTC", NOW, 0, 0},
    {"Sun, 29 Nov 2026 01:59:36 gmt", NOW, 0, 0},
    {"Sun, 29 Nov 2026 01:59:36 GMT junk", NOW, 0, 0},
    {"Sun, 29 Nov 2026 1:59:36 GMT", NOW, 0, 0},
    {"Sun, 31 Nov 2026 01:59:36 GMT", NOW, 0, 0}, /* no 31 November */
    {"Sun, 29 Feb 2027 01:59:36 GMT", NOW, 0, 0}, /* not a leap year */
    {"Sun, 00 Nov 2026 01:59:36 GMT", NOW, 0, 0},
    {"Sun, 29 Nov 2026 24:00:00 GMT", NOW, 0, 0},
    {"Sun, 29 Nov 2026 23:60:00 GMT", NOW, 0, 0},
    {"Sun, 29 Nov 2026 23:59:61 GMT", NOW, 0, 0},
    {"Xyz, 29 Nov 2026 01:59:36 GMT", NOW, 0, 0},
    {"Sun, 29 Foo 2026 01:59:36 GMT", NOW, 0, 0},
    {"Sun, 29 Nov 26 01:59:36 GMT", NOW, 0, 0},
    {"Sunday, 29-Nov-2026 01:59:46 GMT", NOW, 0, 0},
    {"Sun Nov 29 02:00:26 26", NOW, 0, 0},
    {"Sun, 29 Nov 2026 01:59:3", NOW, 0, 0}, /* cut short */
    {"Sun,", NOW, 0, 0},
    /* extreme clocks do not overflow */
    {"Sun, 29 Nov 2026 01:59:36 GMT", INT64_MIN, 1, H24},
    {"Sun, 29 Nov 2026 01:59:36 GMT", INT64_MAX, 1, 0},
    {"Sunday, 29-Nov-26 01:59:46 GMT", INT64_MIN, 1, H24},
    {"Sunday, 29-Nov-26 01:59:46 GMT", INT64_MAX, 1, 0},
};

static void test_table(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t d = 12345;
        enum stint_err rc =
            stint_retry_after_parse(rows[i].in, strlen(rows[i].in), rows[i].now_ms, &d);
        if (rows[i].ok != (rc == STINT_OK) || (rows[i].ok && d != rows[i].delay))
            fail_msg("row %zu \"%s\": rc %d delay %llu, want ok=%d delay %llu", i, rows[i].in,
                     (int)rc, (unsigned long long)d, rows[i].ok, (unsigned long long)rows[i].delay);
        if (!rows[i].ok)
            assert_int_equal(d, 0);
    }
}

/* The length is honoured: no NUL needed, bytes past len ignored, an embedded NUL is garbage. */
static void test_length_bounds(void **state)
{
    uint64_t d;
    (void)state;
    assert_int_equal(stint_retry_after_parse("12345", 2, NOW, &d), STINT_OK);
    assert_int_equal(d, 12000);
    assert_int_equal(stint_retry_after_parse("1\0002", 3, NOW, &d), STINT_ESYNTAX);
    assert_int_equal(stint_retry_after_parse(NULL, 0, NOW, &d), STINT_ESYNTAX);
}

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(stint_retry_after_civil(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(stint_retry_after_civil(1994, 11, 6, 8, 49, 37), 784111777);
    assert_int_equal(stint_retry_after_civil(2000, 3, 1, 0, 0, 0), 951868800);
    assert_int_equal(stint_retry_after_civil(2026, 11, 29, 1, 59, 26), NOW / 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_length_bounds),
        cmocka_unit_test(test_civil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
