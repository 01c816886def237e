/* test_ctext.c — COMPOUND_TEXT and STRING titles to UTF-8 (agent/ctext.c), with the bytes xterm
 * really puts in WM_NAME, every kind of segment, and broken input. */
#include <stdio.h>
#include <string.h>

#include "cmocka_all.h"
#include "ctext.h"
#include "stint/utf8.h"

struct ct_case {
    const char *in;
    size_t len;
    const char *want;
};

#define C(s, w)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1, w                                                                        \
    }

static const struct ct_case cases[] = {
    /* xterm -T "Grüße — ☃ Привет ελλάδα 日本" under C.UTF-8 (read back with xprop) */
    C("Gr\xfc\xdf"
      "e \x1b%G\xe2\x80\x94\x1b%@ \x1b%G\xe2\x98\x83\x1b%@ \x1b-L\xbf\xe0\xd8\xd2\xd5\xe2 "
      "\x1b-F\xe5\xeb\xeb\xdc\xe4\xe1 \x1b$(BF|K\\",
      "Grüße — ☃ Привет ελλάδα 日本"),
    C("plain ascii", "plain ascii"),
    C("", ""),
    C("\x1b-B\xb1\xe8", "ąč"),                                   /* Latin-2 */
    C("\x1b$)C\xc7\xd1\xb1\xdb", "한글"),                        /* KS C 5601 in GR */
    C("\x1b$(A\x56\x50", "中"),                                  /* GB 2312 in GL */
    C("tab\tand\nnewline\x07", "tab\tand\nnewline"),             /* other controls dropped */
    C("\x1b%G\xff\xfe ok\x1b%@", "\xef\xbf\xbd\xef\xbf\xbd ok"), /* bad UTF-8 in a segment */
    C("\x1b(Zx", "\xef\xbf\xbd"),                                /* an unknown 94-set */
    C("\x1b", "\xef\xbf\xbd"),                                   /* a lone ESC */
    C("a\x1b%Gb", "ab"),                                         /* unterminated UTF-8 segment */
    C("\x1b-A\x1b(B\xe9t\xe9", "été"),
    C("\x9b"
      "1]"
      "x\x9b"
      "]",
      "x"), /* direction marks */
};

static void test_ctext(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[512];
        size_t n = stint_ctext_to_utf8(cases[i].in, cases[i].len, out, sizeof(out));
        if (n != strlen(cases[i].want) || strcmp(out, cases[i].want) != 0) {
            fail_msg("case %zu: \"%s\", want \"%s\"", i, out, cases[i].want);
        }
    }
}

static void test_latin1(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(stint_latin1_to_utf8("caf\xe9 \xff", 6, out, sizeof(out)), 8);
    assert_string_equal(out, "café ÿ");
}

/* Every byte string gives valid UTF-8 within the cap, small caps included. */
static void test_any_bytes(void **state)
{
    unsigned seed = 7;
    (void)state;
    for (int round = 0; round < 20000; round++) {
        unsigned char in[24];
        char out[128];
        size_t len = (size_t)(round % 24);
        for (size_t k = 0; k < len; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* lean towards the interesting bytes */
            static const unsigned char hot[] = {0x1b, '%', 'G', '@',  '$',  '(',  ')',  '-',
                                                'A',  'B', 'C', 0x9b, 0xa1, 0xc7, 0xe2, 0x80};
            in[k] = (r & 1) ? hot[(r >> 1) % sizeof(hot)] : (unsigned char)(r >> 3);
        }
        size_t cap = 1 + (size_t)(round % 100);
        size_t n = stint_ctext_to_utf8((const char *)in, len, out, cap);
        assert_true(n < cap);
        assert_int_equal(out[n], '\0');
        assert_true(stint_utf8_valid(out, n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctext),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_any_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
