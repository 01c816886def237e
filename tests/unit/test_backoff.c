/* test_backoff.c — full-jitter backoff: bounds, growth, cap, reset, and the distribution of the
 * draws with a seeded generator. */
#include "cmocka_all.h"

#include <string.h>

#include "backoff.h"

/* The ceiling doubles from base and stops at the cap; it never overflows. */
static void test_ceiling_doubles_to_cap(void **state)
{
    struct stint_backoff b;
    uint64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000};
    size_t i;

    (void)state;
    stint_backoff_init(&b, 0, 0, 42); /* defaults: 1 s, 300 s */
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(stint_backoff_ceiling(&b), want[i]);
        assert_true(stint_backoff_next(&b) <= want[i]);
    }
    for (i = 0; i < 10000; i++)
        assert_true(stint_backoff_next(&b) <= 300000);
    assert_int_equal(stint_backoff_ceiling(&b), 300000);
    assert_true(b.attempt < 64);
}

static void test_huge_values_do_not_overflow(void **state)
{
    struct stint_backoff b;
    (void)state;
    stint_backoff_init(&b, UINT64_MAX / 3, UINT64_MAX, 1);
    b.attempt = 60;
    assert_int_equal(stint_backoff_ceiling(&b), UINT64_MAX);
    stint_backoff_init(&b, 5000, 10, 1); /* cap below base is raised to base */
    assert_int_equal(stint_backoff_ceiling(&b), 5000);
    assert_int_equal(b.cap_ms, 5000);
}

static void test_reset_starts_again(void **state)
{
    struct stint_backoff b;
    int i;
    (void)state;
    stint_backoff_init(&b, 100, 10000, 7);
    for (i = 0; i < 5; i++)
        stint_backoff_next(&b);
    assert_int_equal(stint_backoff_ceiling(&b), 3200);
    stint_backoff_reset(&b);
    assert_int_equal(stint_backoff_ceiling(&b), 100);
}

/* Same seed, same waits; another seed, other waits. */
static void test_seeded_is_reproducible(void **state)
{
    struct stint_backoff a, b, c;
    int i, differ = 0;
    (void)state;
    stint_backoff_init(&a, 1000, 300000, 12345);
    stint_backoff_init(&b, 1000, 300000, 12345);
    stint_backoff_init(&c, 1000, 300000, 54321);
    for (i = 0; i < 50; i++) {
        uint64_t x = stint_backoff_next(&a), y = stint_backoff_next(&b), z = stint_backoff_next(&c);
        assert_int_equal(x, y);
        differ += x != z;
    }
    assert_true(differ > 40);
}

/* Full jitter: draws at the cap are uniform over [0, cap]. 200,000 draws in 10 bins: each bin
 * within 3% of its expected count, the mean within 1% of cap/2, and both ends reached. */
static void test_distribution_is_uniform(void **state)
{
    struct stint_backoff b;
    uint64_t bins[10];
    uint64_t lo = UINT64_MAX, hi = 0;
    double sum = 0;
    const int n = 200000;
    int i;

    (void)state;
    memset(bins, 0, sizeof(bins));
    stint_backoff_init(&b, 1000, 10000, 99);
    b.attempt = 10; /* at the cap */
    for (i = 0; i < n; i++) {
        uint64_t w = stint_backoff_next(&b);
        assert_true(w <= 10000);
        bins[w * 10 / 10001]++;
        sum += (double)w;
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
    }
    for (i = 0; i < 10; i++) {
        double dev = ((double)bins[i] - n / 10.0) / (n / 10.0);
        assert_true(dev > -0.03 && dev < 0.03);
    }
    assert_true(sum / n > 4950 && sum / n < 5050);
    assert_true(lo < 20);
    assert_true(hi > 9980);
}

/* Bounded draws: every value of a small range comes up, none outside it. */
static void test_rng_upto_small_ranges(void **state)
{
    uint64_t st = 5, seen[4] = {0};
    int i;
    (void)state;
    for (i = 0; i < 4000; i++) {
        uint64_t v = stint_rng_upto(&st, 3);
        assert_true(v <= 3);
        seen[v]++;
    }
    for (i = 0; i < 4; i++)
        assert_true(seen[i] > 800);
    for (i = 0; i < 100; i++)
        assert_int_equal(stint_rng_upto(&st, 0), 0);
    (void)stint_rng_upto(&st, UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceiling_doubles_to_cap),
        cmocka_unit_test(test_huge_values_do_not_overflow),
        cmocka_unit_test(test_reset_starts_again),
        cmocka_unit_test(test_seeded_is_reproducible),
        cmocka_unit_test(test_distribution_is_uniform),
        cmocka_unit_test(test_rng_upto_small_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
