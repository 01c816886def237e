/* bench_legacy — what a record costs in each legacy shape: emit and decode ns per record and
 * bytes per record, for a batch of typical records.
 *
 * The typical record: the documented DeskTime sample, closed: app "firefox" (7 bytes), path
 * "\Mozilla Firefox\firefox.exe" (28), title "jQuery UI - Datepicker Demos & Documentation" (44),
 * url "jqueryui.com" (12), start and end. A batch holds BATCH of them; each figure is the median
 * of RUNS runs, divided by BATCH. Bytes per record are the batch's size less an empty batch's,
 * divided by BATCH (so the header is not counted). The v1 protobuf batch of the same records is
 * printed as the reference row; bench_codec has the v1 figures in full. Nothing passes or fails
 * on time.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "stint/legacy.h"

#ifndef STINT_CFLAGS
#define STINT_CFLAGS "?"
#endif
#ifndef STINT_COMPILER
#define STINT_COMPILER "?"
#endif

#define RUNS 9
#define BATCH 1000
#define ROUNDS 40 /* batches per run */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile size_t sink;

/* Bytes the readers ask jansson's allocator for (their parsed tree), counted while decoding. */
static size_t tree_bytes, tree_allocs;

static void *counting_malloc(size_t n)
{
    tree_bytes += n;
    tree_allocs++;
    return malloc(n);
}
static struct stint_record rec;
static struct stint_batch head, got;
static struct stint_buf out;

static enum stint_err typical_next(void *ctx, struct stint_record *scratch,
                                   const struct stint_record **r)
{
    size_t *left = ctx;

    (void)scratch;
    *r = *left ? &rec : NULL;
    if (*left)
        (*left)--;
    return STINT_OK;
}

static enum stint_err count_fn(void *ctx, const struct stint_record *r)
{
    (void)ctx;
    sink += r->app_len;
    return STINT_OK;
}

/* shape 0 is v1 protobuf (the reference row) */
static enum stint_err encode(int shape, size_t n, struct stint_buf *b)
{
    size_t left = n;
    struct stint_record_iter it = {typical_next, &left};

    stint_buf_reset(b);
    if (shape == 0)
        return stint_pb_encode_batch(&head, &it, b);
    return stint_legacy_encode((enum stint_legacy_shape)shape, &head, &it, b);
}

static double measure_encode(int shape)
{
    double runs[RUNS];
    int r, k;

    for (r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        for (k = 0; k < ROUNDS; k++) {
            if (encode(shape, BATCH, &out) != STINT_OK)
                return -1;
            sink += out.len;
        }
        runs[r] = (now_ns() - t0) / (double)(ROUNDS * BATCH);
    }
    qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
    return runs[RUNS / 2];
}

static double measure_decode(int shape, const struct stint_buf *in)
{
    double runs[RUNS];
    int r, k;

    for (r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        for (k = 0; k < ROUNDS; k++) {
            enum stint_err e;

            if (shape == 0)
                e = stint_pb_decode_batch(in->data, in->len, &got, count_fn, NULL, NULL, NULL);
            else
                e = stint_legacy_decode((enum stint_legacy_shape)shape, (const char *)in->data,
                                        in->len, &got, count_fn, NULL, NULL, NULL);
            if (e != STINT_OK)
                return -1;
        }
        runs[r] = (now_ns() - t0) / (double)(ROUNDS * BATCH);
    }
    qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
    return runs[RUNS / 2];
}

int main(void)
{
    static const struct {
        int shape;
        const char *name;
        bool decodes;
    } rows[] = {
        {STINT_LEGACY_PHP, "php (var_export)", true},
        {STINT_LEGACY_SERIALIZE, "php-serialize (serialize)", false},
        {STINT_LEGACY_JSON, "legacy-json (json_encode)", true},
        {STINT_LEGACY_FORM, "form (http_build_query)", true},
        {0, "v1 protobuf (nanopb), for reference", true},
    };
    struct stint_buf full = {0}, empty = {0};
    size_t i;

    stint_record_clear(&rec);
    rec.seq = 1;
    rec.kind = STINT_KIND_ACTIVE;
    rec.start_ms = 1314172181000;
    rec.end_ms = 1314172183000;
    stint_record_set(&rec, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(&rec, STINT_FIELD_PATH, "\\Mozilla Firefox\\firefox.exe", 28);
    stint_record_set(&rec, STINT_FIELD_TITLE, "jQuery UI - Datepicker Demos & Documentation", 44);
    stint_record_set(&rec, STINT_FIELD_URL, "jqueryui.com", 12);
    stint_batch_clear(&head);
    head.now_ms = 1314172183000;
    stint_batch_set_version(&head, "1.0.4289", 8);

    printf("\nStint legacy shapes: typical record (app 7, path 28, title 44, url 12 bytes, start "
           "and end)\n");
    printf("compiler: %s; flags: %s\n", STINT_COMPILER, STINT_CFLAGS);
    printf("batches of %d records; median of %d runs of %d batches\n\n", BATCH, RUNS, ROUNDS);
    printf("| shape | emit ns/record | decode ns/record | bytes/record | reader's tree: bytes, "
           "allocations/record |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double e_ns, d_ns = -1;

        if (encode(rows[i].shape, BATCH, &full) != STINT_OK ||
            encode(rows[i].shape, 0, &empty) != STINT_OK) {
            fprintf(stderr, "bench_legacy: encoding %s failed\n", rows[i].name);
            return 1;
        }
        e_ns = measure_encode(rows[i].shape);
        if (rows[i].decodes)
            d_ns = measure_decode(rows[i].shape, &full);
        if (e_ns < 0 || (rows[i].decodes && d_ns < 0)) {
            fprintf(stderr, "bench_legacy: %s failed while measuring\n", rows[i].name);
            return 1;
        }
        if (rows[i].decodes && rows[i].shape != 0) {
            /* one more decode, counting what the tree asks for */
            tree_bytes = tree_allocs = 0;
            json_set_alloc_funcs(counting_malloc, free);
            stint_legacy_decode((enum stint_legacy_shape)rows[i].shape, (const char *)full.data,
                                full.len, &got, count_fn, NULL, NULL, NULL);
            json_set_alloc_funcs(malloc, free);
            printf("| %s | %.0f | %.0f | %.1f | %.0f, %.1f |\n", rows[i].name, e_ns, d_ns,
                   (double)(full.len - empty.len) / BATCH, (double)tree_bytes / BATCH,
                   (double)tree_allocs / BATCH);
        } else if (rows[i].decodes) {
            printf("| %s | %.0f | %.0f | %.1f | - |\n", rows[i].name, e_ns, d_ns,
                   (double)(full.len - empty.len) / BATCH);
        } else {
            printf("| %s | %.0f | - (emit only) | %.1f | - |\n", rows[i].name, e_ns,
                   (double)(full.len - empty.len) / BATCH);
        }
    }
    printf("\n");
    stint_buf_free(&full);
    stint_buf_free(&empty);
    stint_buf_free(&out);
    return sink == 42 ? 1 : 0;
}
