/* Tests of collector/inflate.c: gzip under a cap, bombs, broken streams. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "inflate.h"

/* gzip of n bytes of `fill` into *out. */
static size_t gz(const uint8_t *in, size_t n, uint8_t **out)
{
    z_stream zs;
    size_t cap, len;

    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    cap = deflateBound(&zs, (uLong)n) + 64;
    *out = malloc(cap);
    assert_non_null(*out);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = *out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    len = zs.total_out;
    deflateEnd(&zs);
    return len;
}

static void test_round_trip_and_cap(void **state)
{
    uint8_t *src = malloc(100000), *z = NULL;
    struct stint_buf out = {0};
    size_t zn, i;

    (void)state;
    for (i = 0; i < 100000; i++)
        src[i] = (uint8_t)(i * 7 + i / 13);
    zn = gz(src, 100000, &z);
    assert_int_equal(stint_inflate_gzip(z, zn, 100000, &out, NULL), STINT_OK);
    assert_int_equal(out.len, 100000);
    assert_memory_equal(out.data, src, 100000);
    stint_buf_reset(&out);
    /* one byte under the size: over the cap */
    assert_int_equal(stint_inflate_gzip(z, zn, 99999, &out, NULL), STINT_ELIMIT);
    assert_true(out.len <= 99999);
    stint_buf_free(&out);
    free(z);
    free(src);
}

static void test_bomb(void **state)
{
    size_t n = (size_t)64 << 20; /* 64 MiB of zeros: about 64 KiB of gzip */
    uint8_t *zeros = calloc(1, n), *z = NULL;
    struct stint_buf out = {0};
    size_t zn = gz(zeros, n, &z);
    struct stint_error e;

    (void)state;
    free(zeros);
    assert_true(zn < 200000);
    assert_int_equal(stint_inflate_gzip(z, zn, 1 << 20, &out, &e), STINT_ELIMIT);
    assert_true(out.cap <= (2u << 20)); /* memory stayed near the cap */
    stint_buf_free(&out);
    free(z);
}

static void test_broken(void **state)
{
    static const uint8_t text[] = "hello hello hello";
    uint8_t *z = NULL, *twice;
    struct stint_buf out = {0};
    size_t zn = gz(text, sizeof(text), &z);

    (void)state;
    /* truncated */
    assert_int_equal(stint_inflate_gzip(z, zn - 5, 1000, &out, NULL), STINT_ESYNTAX);
    stint_buf_reset(&out);
    /* not gzip at all */
    assert_int_equal(stint_inflate_gzip(text, sizeof(text), 1000, &out, NULL), STINT_ESYNTAX);
    stint_buf_reset(&out);
    /* empty */
    assert_int_equal(stint_inflate_gzip(text, 0, 1000, &out, NULL), STINT_ESYNTAX);
    stint_buf_reset(&out);
    /* two members: both decoded */
    twice = malloc(2 * zn + 3);
    memcpy(twice, z, zn);
    memcpy(twice + zn, z, zn);
    assert_int_equal(stint_inflate_gzip(twice, 2 * zn, 1000, &out, NULL), STINT_OK);
    assert_int_equal(out.len, 2 * sizeof(text));
    stint_buf_reset(&out);
    /* garbage after the stream */
    memcpy(twice + zn, "xyz", 3);
    assert_int_equal(stint_inflate_gzip(twice, zn + 3, 1000, &out, NULL), STINT_ESYNTAX);
    free(twice);
    stint_buf_free(&out);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_cap),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
