/* Tests of collector/faults.c: the SPEC grammar, seeded rates, counts, Retry-After forms. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "faults.h"

static void test_grammar(void **state)
{
    static const char *const good[] = {
        "status=503",
        "status=429,retry-after=2",
        "status=503,retry-after-date=3,rate=0.5",
        "delay=100",
        "reset",
        "drop-after-store,count=1",
        "slow=4",
        "stop-accepting=2",
        "status=500,path=/v1/batches,method=POST,skip=2,count=3",
        "reset,rate=.25",
        "reset,rate=1",
    };
    static const char *const bad[] = {
        "",
        "status",
        "status=200",
        "status=600",
        "status=50x",
        "delay=0",
        "reset=1",
        "slow",
        "stop-accepting=0",
        "bogus",
        "reset,rate=1.5",
        "reset,rate=0.1234567",
        "reset,count=0",
        "delay=10,retry-after=1",
        "status=503,retry-after=1,retry-after-date=1",
        "reset,",
        "reset,path=v1",
        "status=503,nope=1",
    };
    struct stint_faults *f = NULL;
    size_t i;

    (void)state;
    assert_int_equal(stint_faults_create(7, &f), STINT_OK);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct stint_error e;
        if (stint_faults_add(f, good[i], &e) != STINT_OK)
            fail_msg("refused \"%s\": %s", good[i], e.msg);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct stint_error e;
        if (stint_faults_add(f, bad[i], &e) != STINT_ESYNTAX)
            fail_msg("accepted \"%s\"", bad[i]);
    }
    stint_faults_destroy(f);
}

/* n picks against one rule; returns how many fired. */
static int fire(struct stint_faults *f, int n, const char *path, char *pattern)
{
    int i, fired = 0;
    for (i = 0; i < n; i++) {
        struct stint_fault ft;
        bool on = stint_faults_pick(f, "POST", path, &ft);
        if (pattern)
            pattern[i] = on ? '1' : '0';
        fired += on;
    }
    if (pattern)
        pattern[n] = '\0';
    return fired;
}

static void test_seeded_rate(void **state)
{
    struct stint_faults *a = NULL, *b = NULL, *c = NULL;
    char pa[1001], pb[1001], pc[1001];
    int na, nc;

    (void)state;
    assert_int_equal(stint_faults_create(42, &a), STINT_OK);
    assert_int_equal(stint_faults_create(42, &b), STINT_OK);
    assert_int_equal(stint_faults_create(43, &c), STINT_OK);
    assert_int_equal(stint_faults_add(a, "status=503,rate=0.3", NULL), STINT_OK);
    assert_int_equal(stint_faults_add(b, "status=503,rate=0.3", NULL), STINT_OK);
    assert_int_equal(stint_faults_add(c, "status=503,rate=0.3", NULL), STINT_OK);
    na = fire(a, 1000, "/v1/batches", pa);
    fire(b, 1000, "/v1/batches", pb);
    nc = fire(c, 1000, "/v1/batches", pc);
    assert_string_equal(pa, pb);     /* same seed, same sequence */
    assert_string_not_equal(pa, pc); /* another seed, another one */
    assert_in_range(na, 240, 360);   /* about 30 % */
    assert_in_range(nc, 240, 360);
    stint_faults_destroy(a);
    stint_faults_destroy(b);
    stint_faults_destroy(c);
}

static void test_count_skip_path(void **state)
{
    struct stint_faults *f = NULL;
    struct stint_buf out = {0};
    struct stint_fault ft;

    (void)state;
    assert_int_equal(stint_faults_create(1, &f), STINT_OK);
    assert_int_equal(stint_faults_add(f, "drop-after-store,skip=2,count=3", NULL), STINT_OK);
    assert_false(stint_faults_pick(f, "GET", "/v1/health", &ft)); /* never by default */
    {
        char p[11];
        assert_int_equal(fire(f, 10, "/v1/batches", p), 3);
        assert_string_equal(p, "0011100000");
    }
    stint_faults_clear(f);
    assert_int_equal(stint_faults_add(f, "status=401,path=/v1/data", NULL), STINT_OK);
    assert_int_equal(stint_faults_add(f, "status=502", NULL), STINT_OK);
    assert_true(stint_faults_pick(f, "DELETE", "/v1/data", &ft));
    assert_int_equal(ft.status, 401);
    assert_int_equal(ft.rule, 1);
    assert_true(stint_faults_pick(f, "POST", "/v1/batches", &ft));
    assert_int_equal(ft.status, 502);
    assert_int_equal(ft.rule, 2);
    assert_int_equal(stint_faults_report(f, &out), STINT_OK);
    assert_int_equal(stint_buf_append(&out, "", 1), STINT_OK);
    /* the first rule fired for DELETE, so the second saw only the POST */
    assert_non_null(strstr((char *)out.data, "spec=\"status=502\" matched=1 injected=1"));
    assert_non_null(strstr((char *)out.data, "faults injected=5 status=2 delay=0 reset=0 "
                                             "drop_after_store=3"));
    stint_buf_free(&out);
    stint_faults_destroy(f);
}

static void test_retry_after(void **state)
{
    struct stint_fault ft;
    char v[40];

    (void)state;
    memset(&ft, 0, sizeof(ft));
    ft.retry_after_s = -1;
    stint_fault_retry_after(&ft, 0, v, sizeof(v));
    assert_string_equal(v, "");
    ft.retry_after_s = 7;
    stint_fault_retry_after(&ft, 1000, v, sizeof(v));
    assert_string_equal(v, "7");
    ft.retry_after_date = true;
    ft.retry_after_s = 3;
    /* 1994-11-06 08:49:37 UTC is RFC 9110's example date */
    stint_fault_retry_after(&ft, 784111777 - 3, v, sizeof(v));
    assert_string_equal(v, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static void test_stop_accepting_window(void **state)
{
    struct stint_faults *f = NULL;
    struct stint_fault ft;
    struct timespec ts;
    int64_t now;

    (void)state;
    assert_int_equal(stint_faults_create(1, &f), STINT_OK);
    assert_int_equal(stint_faults_add(f, "stop-accepting=2,count=1", NULL), STINT_OK);
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    assert_false(stint_faults_refusing(f, now));
    assert_true(stint_faults_pick(f, "POST", "/v1/batches", &ft));
    assert_int_equal(ft.kind, STINT_FAULT_STOP_ACCEPTING);
    assert_true(stint_faults_refusing(f, now + 1000));
    assert_false(stint_faults_refusing(f, now + 5000));
    assert_false(stint_faults_pick(f, "POST", "/v1/batches", &ft)); /* count spent */
    stint_faults_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),
        cmocka_unit_test(test_seeded_rate),
        cmocka_unit_test(test_count_skip_path),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_stop_accepting_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
