/* test_url.c — stint_url_cut: the stored form of URLs, table-driven. */
#include <string.h>

#include "cmocka_all.h"
#include "url.h"

struct url_case {
    const char *in, *host, *full;
};

static const struct url_case cases[] = {
    {"https://github.com/x/y?q=1#f", "https://github.com", "https://github.com/x/y?q=1#f"},
    {"HTTPS://GitHub.COM/X", "https://github.com", "https://github.com/X"},
    {"https://user:secret@example.org/p", "https://example.org", "https://example.org/p"},
    {"http://example.org:80/", "http://example.org", "http://example.org:80/"},
    {"https://example.org:443", "https://example.org", "https://example.org:443"},
    {"https://example.org:8443/a", "https://example.org:8443", "https://example.org:8443/a"},
    {"http://[::1]:8080/x", "http://[::1]:8080", "http://[::1]:8080/x"},
    {"jqueryui.com", "jqueryui.com", "jqueryui.com"},
    {"jqueryui.com/demos/?x", "jqueryui.com", "jqueryui.com/demos/?x"},
    {"localhost:8080/app", "localhost:8080", "localhost:8080/app"},
    {"about:blank", "about:", "about:blank"},
    {"mailto:a@b.example", "mailto:", "mailto:a@b.example"},
    {"file:///home/me/secret.pdf", "file://", "file:///home/me/secret.pdf"},
    {"  https://a.example/x  ", "https://a.example", "https://a.example/x"},
    {"", "", ""},
    {"https://a@b@c.example/", "https://c.example", "https://c.example/"},
    {"https://münchen.example/straße", "https://münchen.example", "https://münchen.example/straße"},
    {"https://example.org?q", "https://example.org", "https://example.org?q"},
    {"weird", "weird", "weird"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        size_t n =
            stint_url_cut(cases[i].in, strlen(cases[i].in), STINT_URL_HOST, out, sizeof(out));
        if (strcmp(out, cases[i].host) != 0 || n != strlen(out)) {
            fail_msg("host(%s) = \"%s\", want \"%s\"", cases[i].in, out, cases[i].host);
        }
        n = stint_url_cut(cases[i].in, strlen(cases[i].in), STINT_URL_FULL, out, sizeof(out));
        if (strcmp(out, cases[i].full) != 0 || n != strlen(out)) {
            fail_msg("full(%s) = \"%s\", want \"%s\"", cases[i].in, out, cases[i].full);
        }
    }
}

/* A small buffer cuts, never overflows, and the output is never longer than the input. */
static void test_caps(void **state)
{
    char out[8];
    const char *u = "https://example.org/a/b/c";
    (void)state;
    memset(out, 'x', sizeof(out));
    assert_int_equal(stint_url_cut(u, strlen(u), STINT_URL_FULL, out, sizeof(out)), 7);
    assert_string_equal(out, "https:/");
    assert_int_equal(stint_url_cut(u, strlen(u), STINT_URL_HOST, out, 1), 0);
    assert_string_equal(out, "");
    /* a length that stops before the NUL is honoured */
    assert_int_equal(stint_url_cut(u, 12, STINT_URL_HOST, out, sizeof(out)), 7);
}

static void test_mode_names(void **state)
{
    enum stint_url_mode m = STINT_URL_HOST;
    (void)state;
    assert_true(stint_url_mode_parse("full", &m));
    assert_int_equal(m, STINT_URL_FULL);
    assert_true(stint_url_mode_parse("host", &m));
    assert_int_equal(m, STINT_URL_HOST);
    assert_false(stint_url_mode_parse("Host", &m));
    assert_string_equal(stint_url_mode_name(STINT_URL_FULL), "full");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
