/* test_record.c — the record model: setters that repair and cut, semantic checks. */
#include "cmocka_all.h"

#include <stdlib.h>
#include <string.h>

#include "stint/record.h"

static int setup(void **state)
{
    struct stint_record *r = calloc(1, sizeof(*r));
    *state = r;
    return r ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void test_set_plain(void **state)
{
    struct stint_record *r = *state;

    stint_record_clear(r);
    assert_int_equal(stint_record_set(r, STINT_FIELD_TITLE, "hello", 5), STINT_OK);
    assert_int_equal(r->title_len, 5);
    assert_string_equal(r->title, "hello");
    assert_int_equal(r->truncated, 0);
    assert_int_equal(r->repaired, 0);
}

static void test_set_cuts_and_flags(void **state)
{
    struct stint_record *r = *state;
    char big[STINT_APP_MAX + 10];

    stint_record_clear(r);
    memset(big, 'a', sizeof(big));
    big[STINT_APP_MAX - 1] = (char)0xc3; /* a 2-byte char straddling the limit */
    big[STINT_APP_MAX] = (char)0xa9;
    assert_int_equal(stint_record_set(r, STINT_FIELD_APP, big, sizeof(big)), STINT_OK);
    assert_int_equal(r->app_len, STINT_APP_MAX - 1);
    assert_int_equal(r->truncated, STINT_FIELD_APP);
    assert_int_equal(r->repaired, 0);
    /* setting a short value clears the flag again */
    assert_int_equal(stint_record_set(r, STINT_FIELD_APP, "x", 1), STINT_OK);
    assert_int_equal(r->truncated, 0);
}

static void test_set_repairs_and_flags(void **state)
{
    struct stint_record *r = *state;

    stint_record_clear(r);
    assert_int_equal(stint_record_set(r, STINT_FIELD_URL, "a\x80z", 3), STINT_OK);
    assert_int_equal(r->url_len, 5);
    assert_memory_equal(r->url, "a\xef\xbf\xbdz", 5);
    assert_int_equal(r->repaired, STINT_FIELD_URL);
    assert_int_equal(stint_record_set(r, 3, "x", 1), STINT_EINVAL);
}

struct check_case {
    const char *name;
    uint64_t seq;
    int64_t start, end;
    int32_t kind;
    uint64_t gap;
    bool with_title;
    bool closed;
    int expect;
};

static const struct check_case checks[] = {
    {"good closed", 1, 1000, 2000, STINT_KIND_ACTIVE, 0, true, true, 0},
    {"good open", 0, 1000, 0, STINT_KIND_ACTIVE, 0, true, false, 0},
    {"zero-length", 3, 1000, 1000, STINT_KIND_ACTIVE, 0, false, true, 0},
    {"seq 0 closed", 0, 1000, 2000, STINT_KIND_ACTIVE, 0, false, true, STINT_REJECT_BAD_SEQ},
    {"no start", 1, 0, 2000, STINT_KIND_ACTIVE, 0, false, true, STINT_REJECT_BAD_TIME},
    {"negative start", 1, -5, 2000, STINT_KIND_ACTIVE, 0, false, true, STINT_REJECT_BAD_TIME},
    {"end before start", 1, 2000, 1000, STINT_KIND_ACTIVE, 0, false, true, STINT_REJECT_BAD_TIME},
    {"closed without end", 1, 2000, 0, STINT_KIND_ACTIVE, 0, false, true, STINT_REJECT_BAD_TIME},
    {"year 10000", 1, 253402300800000, 253402300800001, STINT_KIND_ACTIVE, 0, false, true,
     STINT_REJECT_BAD_TIME},
    {"unknown kind (a later v1.x): kept", 1, 1000, 2000, 9, 0, true, true, 0},
    {"unknown kind with gap_count: that version's rule", 1, 1000, 2000, 9, 3, false, true, 0},
    {"negative kind", 1, 1000, 2000, -1, 0, false, true, STINT_REJECT_BAD_KIND},
    {"gap count on active", 1, 1000, 2000, STINT_KIND_ACTIVE, 4, false, true,
     STINT_REJECT_BAD_KIND},
    {"gap", 1, 1000, 2000, STINT_KIND_GAP, 4, false, true, 0},
    {"idle with title", 1, 1000, 2000, STINT_KIND_IDLE, 0, true, true, STINT_REJECT_BAD_STRING},
};

static void test_check_table(void **state)
{
    struct stint_record *r = *state;
    char reason[128];
    size_t i;

    for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        const struct check_case *c = &checks[i];
        int got;

        stint_record_clear(r);
        r->seq = c->seq;
        r->start_ms = c->start;
        r->end_ms = c->end;
        r->kind = c->kind;
        r->gap_count = c->gap;
        if (c->with_title)
            stint_record_set(r, STINT_FIELD_TITLE, "t", 1);
        got = stint_record_check(r, c->closed, reason, sizeof(reason));
        if (got != c->expect)
            fail_msg("%s: got %d (%s), expected %d", c->name, got, reason, c->expect);
        if (got)
            assert_true(strlen(reason) > 0);
    }
}

static void test_equal_and_copy(void **state)
{
    struct stint_record *r = *state;
    struct stint_record *c = malloc(sizeof(*c));

    assert_non_null(c);
    stint_record_clear(r);
    r->seq = 9;
    r->start_ms = 5;
    stint_record_set(r, STINT_FIELD_PATH, "/usr/bin/x\0y", 12);
    stint_record_copy(c, r);
    assert_true(stint_record_equal(r, c));
    c->path[11] = 'z';
    assert_false(stint_record_equal(r, c));
    free(c);
}

static void test_ack_rejections(void **state)
{
    struct stint_ack a;
    int i;

    (void)state;
    memset(&a, 0, sizeof(a));
    for (i = 0; i < 100; i++)
        assert_int_equal(stint_ack_add_rejection(&a, (uint64_t)i, 1, "bad", 3), STINT_OK);
    assert_int_equal(a.n_rejected, 100);
    assert_int_equal(a.rejected[99].seq, 99);
    assert_string_equal(a.rejected[42].reason, "bad");
    stint_ack_free(&a);
    assert_null(a.rejected);
    stint_ack_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_cuts_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_repairs_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal_and_copy, setup, teardown),
        cmocka_unit_test(test_ack_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
