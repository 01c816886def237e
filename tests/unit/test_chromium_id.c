/* test_chromium_id.c — Chromium's id for an unpacked extension folder (ctl/chromium_id.c),
 * against ids that a real Chromium (156, Debian 12's chromium package) gave folders loaded with
 * --load-extension, read back from its profile's Preferences (extensions.settings). The live
 * check runs in tests/integration/browser_real.py, which compares the id the running Chromium
 * reports with the one stintctl wrote into the host manifest. */
#include "cmocka_all.h"

#include <string.h>

#include "chromium_id.h"

static const struct {
    const char *dir, *id;
} real[] = {
    /* a space in the path */
    {"/tmp/p17/stint ext/browser-extension", "mclbinbjndhjmnjecencclnhhljngbmi"},
    /* UTF-8 (U+00E9): the path's bytes are hashed */
    {"/tmp/p17/ext\xc3\xa9", "klnhpgdicmmmfhecnlfbllfifheljmhp"},
};

static void test_real_ids(void **state)
{
    char id[STINT_CHROMIUM_ID_LEN + 1];
    (void)state;
    for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
        assert_true(stint_chromium_id(real[i].dir, id, sizeof(id)));
        assert_string_equal(id, real[i].id);
        assert_true(stint_chromium_id_valid(id));
    }
}

/* A relative path, NULL or a short buffer is refused, and the buffer is left empty. */
static void test_refused(void **state)
{
    char id[STINT_CHROMIUM_ID_LEN + 1] = "x";
    (void)state;
    assert_false(stint_chromium_id("browser/extension", id, sizeof(id)));
    assert_string_equal(id, "");
    assert_false(stint_chromium_id(NULL, id, sizeof(id)));
    assert_false(stint_chromium_id("/usr/share", id, STINT_CHROMIUM_ID_LEN));
    assert_string_equal(id, "");
}

static void test_valid(void **state)
{
    static const struct {
        const char *id;
        bool ok;
    } cases[] = {
        {"mclbinbjndhjmnjecencclnhhljngbmi", true},
        {"abcdefghijklmnopabcdefghijklmnop", true},
        {"mclbinbjndhjmnjecencclnhhljngbm", false},
        {"mclbinbjndhjmnjecencclnhhljngbmiq", false},
        {"qclbinbjndhjmnjecencclnhhljngbmi", false},
        {"Mclbinbjndhjmnjecencclnhhljngbmi", false},
        {"", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(stint_chromium_id_valid(cases[i].id), cases[i].ok);
    assert_false(stint_chromium_id_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_ids),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
