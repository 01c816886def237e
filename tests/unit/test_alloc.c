/* test_alloc.c — what the codec allocates, and how it behaves when allocation fails.
 *
 * malloc, calloc and realloc of the codec are wrapped at link time (-Wl,--wrap=...): the wrappers
 * count calls, and fail the n-th one on request. jansson allocates through the codec's own
 * allocator (codec/json.c), whose malloc calls are wrapped too.
 *  - nanopb decoding of a 10,000-record batch allocates nothing, per record or at all;
 *  - nanopb encoding into a buffer already large enough allocates nothing;
 *  - every decoder and encoder that allocates, failed at each of its allocations in turn, either
 *    returns an error or (where a library recovers, as jansson does from some failures) the
 *    right result; it never crashes and never leaks (the sanitizer build checks leaks). Each
 *    operation below returns STINT_EDIFF when its result is wrong.
 */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/stint.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static long calls;
static long fail_at; /* 0: never */

static bool should_fail(void)
{
    calls++;
    return fail_at && calls == fail_at;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return should_fail() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

static enum stint_err gen_next(void *ctx, struct stint_record *scratch,
                               const struct stint_record **out)
{
    size_t *left = ctx;

    if (*left == 0) {
        *out = NULL;
        return STINT_OK;
    }
    stint_record_clear(scratch);
    scratch->seq = 100000 - (*left)--;
    scratch->start_ms = 1314172181000;
    scratch->end_ms = 1314172183000;
    scratch->kind = STINT_KIND_ACTIVE;
    stint_record_set(scratch, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(scratch, STINT_FIELD_TITLE, "a title of some length", 22);
    *out = scratch;
    return STINT_OK;
}

static struct stint_buf make_batch(size_t n)
{
    struct stint_buf b = {0};
    struct stint_record_iter it = {gen_next, &n};
    struct stint_batch h;

    stint_batch_clear(&h);
    stint_batch_set_version(&h, "1.0", 3);
    assert_int_equal(stint_pb_encode_batch(&h, &it, &b), STINT_OK);
    return b;
}

static void test_nanopb_decode_allocates_nothing(void **state)
{
    struct stint_buf b = make_batch(10000);
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_decode_info info;
    long before;

    (void)state;
    before = calls;
    assert_int_equal(stint_pb_decode_batch(b.data, b.len, h, NULL, NULL, &info, NULL), STINT_OK);
    assert_int_equal(info.records, 10000);
    assert_int_equal(calls - before, 0);
    free(h);
    stint_buf_free(&b);
}

static void test_nanopb_encode_into_room_allocates_nothing(void **state)
{
    struct stint_buf b = make_batch(10000);
    struct stint_buf again = {0};
    size_t n = 10000;
    struct stint_record_iter it = {gen_next, &n};
    struct stint_batch h;
    long before;

    (void)state;
    assert_int_equal(stint_buf_reserve(&again, b.len + STINT_PB_RECORD_MAX + 64), STINT_OK);
    stint_batch_clear(&h);
    stint_batch_set_version(&h, "1.0", 3);
    before = calls;
    assert_int_equal(stint_pb_encode_batch(&h, &it, &again), STINT_OK);
    assert_int_equal(calls - before, 0);
    assert_int_equal(again.len, b.len);
    stint_buf_free(&b);
    stint_buf_free(&again);
}

/* Runs op with each of its allocations failing in turn: an error is fine, a wrong result is not;
 * with nothing failing it must succeed. */
static void failure_loop(const char *name, enum stint_err (*op)(void))
{
    long total, k;

    fail_at = 0;
    calls = 0;
    assert_int_equal(op(), STINT_OK);
    total = calls;
    for (k = 1; k <= total; k++) {
        enum stint_err e;
        calls = 0;
        fail_at = k;
        e = op();
        fail_at = 0;
        if (e == STINT_EDIFF)
            fail_msg("%s: allocation %ld of %ld failed and the result is wrong", name, k, total);
    }
    printf("%s: %ld allocations, each failed once, all handled\n", name, total);
}

static struct stint_buf g_pb;
static struct stint_buf g_json;

static enum stint_err op_pbc_decode(void)
{
    struct stint_decode_info info;
    struct stint_batch *h = malloc(sizeof(*h));
    enum stint_err e;

    if (!h)
        return STINT_ENOMEM;
    e = stint_pbc_decode_batch(g_pb.data, g_pb.len, h, NULL, NULL, &info, NULL);
    if (e == STINT_OK && info.records != 20)
        e = STINT_EDIFF;
    free(h);
    return e;
}

static enum stint_err op_json_roundtrip(void)
{
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_spool sp = {{0}, 0, 0};
    struct stint_record_iter it;
    struct stint_buf out = {0};
    enum stint_err e;

    if (!h)
        return STINT_ENOMEM;
    e = stint_json_decode_batch((const char *)g_json.data, g_json.len, h, stint_spool_fn, &sp, NULL,
                                NULL);
    if (e == STINT_OK) {
        it = stint_spool_iter(&sp);
        e = stint_json_encode_batch(h, &it, &out);
    }
    if (e == STINT_OK && (out.len != g_json.len || memcmp(out.data, g_json.data, out.len)))
        e = STINT_EDIFF;
    stint_buf_free(&out);
    stint_spool_free(&sp);
    free(h);
    return e;
}

static enum stint_err op_pbc_encode(void)
{
    size_t n = 20;
    struct stint_record_iter it = {gen_next, &n};
    struct stint_batch h;
    struct stint_buf out = {0};
    enum stint_err e;

    stint_batch_clear(&h);
    e = stint_pbc_encode_batch(&h, &it, &out);
    stint_buf_free(&out);
    return e;
}

static enum stint_err op_ack(void)
{
    struct stint_ack a, b;
    struct stint_buf out = {0};
    enum stint_err e = STINT_OK;
    int i;

    memset(&a, 0, sizeof(a));
    for (i = 0; i < 5 && e == STINT_OK; i++)
        e = stint_ack_add_rejection(&a, (uint64_t)i, 1, "why", 3);
    if (e == STINT_OK)
        e = stint_pb_encode_ack(&a, &out);
    if (e == STINT_OK)
        e = stint_pb_decode_ack(out.data, out.len, &b, NULL, NULL);
    if (e == STINT_OK) {
        if (b.n_rejected != 5 || strcmp(b.rejected[4].reason, "why") != 0)
            e = STINT_EDIFF;
        stint_ack_free(&b);
    }
    stint_ack_free(&a);
    stint_buf_free(&out);
    return e;
}

static void test_allocation_failures(void **state)
{
    struct stint_spool sp = {{0}, 0, 0};
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_record_iter it;

    (void)state;
    g_pb = make_batch(20);
    assert_int_equal(stint_pb_decode_batch(g_pb.data, g_pb.len, h, stint_spool_fn, &sp, NULL, NULL),
                     STINT_OK);
    it = stint_spool_iter(&sp);
    assert_int_equal(stint_json_encode_batch(h, &it, &g_json), STINT_OK);
    failure_loop("protobuf-c decode", op_pbc_decode);
    failure_loop("protobuf-c encode", op_pbc_encode);
    failure_loop("JSON decode + spool + encode", op_json_roundtrip);
    failure_loop("ack encode/decode", op_ack);
    stint_spool_free(&sp);
    stint_buf_free(&g_pb);
    stint_buf_free(&g_json);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nanopb_decode_allocates_nothing),
        cmocka_unit_test(test_nanopb_encode_into_room_allocates_nothing),
        cmocka_unit_test(test_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
