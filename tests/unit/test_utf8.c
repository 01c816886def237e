/* test_utf8.c — the one UTF-8 validator and its repair/cut rules. */
#include "cmocka_all.h"

#include <string.h>

#include "stint/utf8.h"

struct vcase {
    const char *name;
    const char *s;
    size_t len;
    size_t valid_prefix;
};

#define S(x) x, sizeof(x) - 1

static const struct vcase vcases[] = {
    {"empty", S(""), 0},
    {"ascii", S("hello, world"), 12},
    {"nul is valid", S("a\0b"), 3},
    {"2-byte", S("\xc3\xa9t\xc3\xa9"), 5},
    {"3-byte CJK", S("\xe4\xb8\xad\xe6\x96\x87"), 6},
    {"4-byte emoji", S("\xf0\x9f\x98\x80"), 4},
    {"max code point", S("\xf4\x8f\xbf\xbf"), 4},
    {"above max", S("\xf4\x90\x80\x80"), 0},
    {"overlong 2", S("\xc0\xaf"), 0},
    {"overlong c1", S("\xc1\xbf"), 0},
    {"overlong 3", S("\xe0\x80\xaf"), 0},
    {"overlong 4", S("\xf0\x80\x80\xaf"), 0},
    {"surrogate", S("ab\xed\xa0\x80"), 2},
    {"lone continuation", S("a\x80"), 1},
    {"cut 3-byte", S("xy\xe4\xb8"), 2},
    {"cut 4-byte", S("\xf0\x9f\x98"), 0},
    {"f5", S("\xf5\x80\x80\x80"), 0},
    {"ff", S("abcdefgh\xff"), 8},
    {"long ascii then bad", S("abcdefghijklmnopqrstuvwxyz\xc3"), 26},
};

static void test_valid_prefix_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
        size_t got = stint_utf8_valid_prefix(vcases[i].s, vcases[i].len);
        if (got != vcases[i].valid_prefix)
            fail_msg("%s: valid prefix %zu, expected %zu", vcases[i].name, got,
                     vcases[i].valid_prefix);
        assert_int_equal(stint_utf8_valid(vcases[i].s, vcases[i].len),
                         vcases[i].valid_prefix == vcases[i].len);
    }
}

/* Each maximal invalid subpart becomes one U+FFFD. */
static void test_sanitize_repairs(void **state)
{
    char out[64];
    bool rep, cut;
    size_t n;

    (void)state;
    n = stint_utf8_sanitize(out, sizeof(out),
                            S("a\xff"
                              "b\xe4\xb8"
                              "c"),
                            &rep, &cut);
    assert_true(rep);
    assert_false(cut);
    assert_int_equal(n, 9);
    assert_memory_equal(out,
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd"
                        "c",
                        9);
    assert_int_equal(out[n], '\0');

    n = stint_utf8_sanitize(out, sizeof(out), S("\xed\xa0\x80"), &rep, &cut);
    assert_true(rep);
    /* surrogate: E D is a valid lead, A0 is out of its range, so ED alone is one subpart */
    assert_int_equal(n, 9);
}

/* A value that does not fit is cut before the character that would cross the limit. */
static void test_sanitize_cuts_at_boundary(void **state)
{
    char out[6]; /* room for 5 bytes */
    bool rep, cut;
    size_t n;

    (void)state;
    n = stint_utf8_sanitize(out, sizeof(out), S("ab\xe4\xb8\xad\xe6\x96\x87"), &rep, &cut);
    assert_int_equal(n, 5);
    assert_true(cut);
    assert_false(rep);
    assert_memory_equal(out, "ab\xe4\xb8\xad", 5);

    n = stint_utf8_sanitize(out, sizeof(out), S("abcd\xf0\x9f\x98\x80"), &rep, &cut);
    assert_int_equal(n, 4);
    assert_true(cut);
    assert_true(stint_utf8_valid(out, n));

    n = stint_utf8_sanitize(out, sizeof(out), S("abcde"), &rep, &cut);
    assert_int_equal(n, 5);
    assert_false(cut);
}

static void test_decode_one(void **state)
{
    unsigned cp = 0;

    (void)state;
    assert_int_equal(stint_utf8_decode(S("\xf0\x9f\x98\x80"), &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(stint_utf8_decode(S("\xc3\xa9"), &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(stint_utf8_decode(S("\xc3"), &cp), 0);
    assert_int_equal(stint_utf8_decode("", 0, &cp), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_prefix_table),
        cmocka_unit_test(test_sanitize_repairs),
        cmocka_unit_test(test_sanitize_cuts_at_boundary),
        cmocka_unit_test(test_decode_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
