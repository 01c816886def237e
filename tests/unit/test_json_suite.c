/* test_json_suite.c — every parsing case of JSONTestSuite through Stint's JSON decoder:
 * y_ files must be accepted as JSON, n_ files refused as JSON (STINT_EJSON), i_ files may go
 * either way; nothing may crash or leak (the sanitizer build runs this too). A file that parses
 * is then also fed to the Batch decoder, which must answer OK or a typed error, never EJSON.
 * The cases are in the repository (tests/data/json-test-suite, MIT, with its LICENSE), so a clone
 * anywhere runs this test; a missing folder is a failure, never a silent pass. */
#include "cmocka_all.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/stint.h"

static int read_file(const char *path, struct stint_buf *b)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return -1;
    stint_buf_reset(b);
    do {
        if (stint_buf_reserve(b, 4096) != STINT_OK)
            break;
        n = fread(b->data + b->len, 1, 4096, f);
        b->len += n;
    } while (n == 4096);
    fclose(f);
    return 0;
}

static void test_json_test_suite(void **state)
{
    const char *dir = STINT_JSON_TEST_SUITE;
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_buf b = {0};
    struct dirent *de;
    int y = 0, n = 0, i = 0, bad = 0;
    DIR *d = opendir(dir);

    (void)state;
    if (!d)
        fail_msg("JSONTestSuite not found at %s (tests/data/json-test-suite/test_parsing in the "
                 "checkout, or the folder named by -DSTINT_JSON_TEST_SUITE=...)",
                 dir);
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stint_error err;
        enum stint_err e;
        const char *name = de->d_name;

        if (strlen(name) < 3 || name[1] != '_')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(read_file(path, &b), 0);
        e = stint_json_check_syntax(b.data ? (char *)b.data : "", b.len, &err);
        if (name[0] == 'y') {
            y++;
            if (e != STINT_OK) {
                printf("accept expected: %s: %s\n", name, err.msg);
                bad++;
            }
        } else if (name[0] == 'n') {
            n++;
            if (e != STINT_EJSON) {
                printf("reject expected: %s\n", name);
                bad++;
            }
        } else {
            i++;
        }
        e = stint_json_decode_batch(b.data ? (char *)b.data : "", b.len, h, NULL, NULL, NULL, &err);
        if (e == STINT_EJSON && name[0] == 'y') {
            printf("batch decoder called valid JSON invalid: %s\n", name);
            bad++;
        }
        if (e != STINT_OK && (err.code != e || err.offset > b.len || !err.msg[0])) {
            printf("bad error record for %s\n", name);
            bad++;
        }
    }
    closedir(d);
    printf("JSONTestSuite: %d y_ accepted, %d n_ refused, %d i_ run, %d wrong\n", y, n, i, bad);
    assert_true(y > 90 && n > 180);
    assert_int_equal(bad, 0);
    stint_buf_free(&b);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_test_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
