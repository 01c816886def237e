/* Tests of collector/tokens.c: the tokens file, its permissions, constant-time lookup. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokens.h"

#define T1 "alice-token-0123456789"
#define T2 "bob-token-abcdefghijkl"

static void test_parse_and_lookup(void **state)
{
    static const char text[] = "# comment\n\n  " T1 "   alice \r\n" T2 "\tbob\n# end";
    struct stint_tokens *t = NULL;

    (void)state;
    assert_int_equal(stint_tokens_parse(text, strlen(text), &t, NULL), STINT_OK);
    assert_int_equal(stint_tokens_count(t), 2);
    assert_string_equal(stint_tokens_lookup(t, T1, strlen(T1)), "alice");
    assert_string_equal(stint_tokens_lookup(t, T2, strlen(T2)), "bob");
    /* a prefix, an extension, a one-byte change: none is a token */
    assert_null(stint_tokens_lookup(t, T1, strlen(T1) - 1));
    assert_null(stint_tokens_lookup(t, T1 "x", strlen(T1) + 1));
    assert_null(stint_tokens_lookup(t, "alice-token-0123456788", strlen(T1)));
    assert_null(stint_tokens_lookup(t, "", 0));
    assert_null(stint_tokens_lookup(NULL, T1, strlen(T1)));
    stint_tokens_destroy(t);
}

static void test_bad_lines(void **state)
{
    static const char *const bad[] = {
        "short alice\n",           /* token under 16 characters */
        T1 "\n",                   /* no account */
        T1 " alice extra\n",       /* a third field */
        T1 " ali/ce\n",            /* account outside [A-Za-z0-9._-] */
        T1 " alice\n" T1 " bob\n", /* the same token twice */
        T1 " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", /* 65 */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct stint_tokens *t = NULL;
        struct stint_error e;
        assert_int_equal(stint_tokens_parse(bad[i], strlen(bad[i]), &t, &e), STINT_ESYNTAX);
        assert_null(t);
        assert_non_null(strstr(e.msg, "line"));
    }
}

static void test_file_mode(void **state)
{
    char path[] = "/tmp/stint-tokens-XXXXXX";
    int fd = mkstemp(path);
    struct stint_tokens *t = NULL;
    struct stint_error e;
    static const char text[] = T1 " alice\n";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(stint_tokens_load(path, &t, &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "0644"));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(stint_tokens_load(path, &t, &e), STINT_EINVAL);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(stint_tokens_load(path, &t, &e), STINT_OK);
    assert_string_equal(stint_tokens_lookup(t, T1, strlen(T1)), "alice");
    stint_tokens_destroy(t);
    unlink(path);
    assert_int_equal(stint_tokens_load(path, &t, &e), STINT_EIO);
}

static void test_account_names(void **state)
{
    (void)state;
    assert_true(stint_account_valid("a", 1));
    assert_true(stint_account_valid("Team_1.x-y", 10));
    assert_false(stint_account_valid("", 0));
    assert_false(stint_account_valid("a b", 3));
    assert_false(stint_account_valid("a\0b", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_lookup),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_file_mode),
        cmocka_unit_test(test_account_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
