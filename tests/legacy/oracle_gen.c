/* oracle_gen.c — the C half of the PHP comparison of the legacy shapes (run_oracle.sh).
 *
 *   oracle_gen SEED COUNT OUTDIR
 *   oracle_gen --variants SEED COUNT DIR
 *
 * Makes COUNT seeded random batches (random_batch.c) and writes, for each, the model in a plain
 * description (model.txt: numbers in decimal, strings in hex, so that PHP builds the array by
 * its own code, applying the mapping itself) and Stint's four outputs (php.out, ser.out,
 * json.out, form.out: "<length>\n<bytes>\n" per batch). tests/legacy/oracle.php then compares
 * them with PHP's own var_export/serialize/json_encode/http_build_query and reads them back
 * with eval/unserialize/json_decode/parse_str.
 *
 * On its own side it checks that every output of the php, legacy-json and form emitters
 * decodes back to the projection of the batch (random_batch.c) and encodes again to the same
 * bytes. With --variants it makes the same batches again and checks that the readers take
 * DIR/variants.out (the same arrays as PHP prints them with other code and flags, written by
 * oracle.php) to the same projection. Exit status 0 when all held, 1 otherwise, 2 on usage or
 * I/O errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "random_batch.h"

struct collect {
    struct stint_record *recs;
    size_t n, cap;
};

static enum stint_err collect_fn(void *ctx, const struct stint_record *r)
{
    struct collect *c = ctx;

    if (c->n == c->cap)
        return STINT_ELIMIT;
    stint_record_copy(&c->recs[c->n++], r);
    return STINT_OK;
}

static void put_hex(FILE *f, const char *s, size_t len)
{
    size_t i;

    if (len == 0) {
        fputc('-', f);
        return;
    }
    for (i = 0; i < len; i++)
        fprintf(f, "%02x", (unsigned)(unsigned char)s[i]);
}

static void put_record(FILE *f, char tag, const struct stint_record *r)
{
    fprintf(f, "%c %" PRId32 " %" PRId64 " %" PRId64 " ", tag, r->kind, r->start_ms, r->end_ms);
    put_hex(f, r->app, r->app_len);
    fputc(' ', f);
    put_hex(f, r->path, r->path_len);
    fputc(' ', f);
    put_hex(f, r->title, r->title_len);
    fputc(' ', f);
    put_hex(f, r->url, r->url_len);
    fputc('\n', f);
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f)
        perror(path);
    return f;
}

static bool batch_head_equal(const struct stint_batch *a, const struct stint_batch *b)
{
    return a->now_ms == b->now_ms && a->client_version_len == b->client_version_len &&
           memcmp(a->client_version, b->client_version, a->client_version_len) == 0 &&
           a->has_current == b->has_current &&
           (!a->has_current || stint_record_equal(&a->current, &b->current));
}

/* Reads one "<length>\n<bytes>\n" frame into b. */
static bool read_frame(FILE *f, struct stint_buf *b)
{
    unsigned long long len;

    stint_buf_reset(b);
    if (fscanf(f, "%llu", &len) != 1 || fgetc(f) != '\n' || stint_buf_reserve(b, len + 1))
        return false;
    if (len && fread(b->data, 1, len, f) != len)
        return false;
    b->len = len;
    return fgetc(f) == '\n';
}

/* --variants: the readers take what other PHP code and flags print to the same model. */
static int run_variants(uint64_t seed, uint64_t count, const char *dir)
{
    static const enum stint_legacy_shape shapes[] = {STINT_LEGACY_PHP, STINT_LEGACY_JSON,
                                                     STINT_LEGACY_FORM};
    static const char *const names[] = {"php", "json", "form"};
    struct stint_record *recs = calloc(RB_MAX_RECORDS, sizeof(*recs));
    struct stint_record *want = calloc(RB_MAX_RECORDS + 1, sizeof(*want));
    struct collect col = {calloc(RB_MAX_RECORDS + 1, sizeof(*col.recs)), 0, RB_MAX_RECORDS + 1};
    struct stint_batch *head = calloc(1, sizeof(*head)), *phead = calloc(1, sizeof(*phead));
    struct stint_batch *got = calloc(1, sizeof(*got));
    struct stint_buf text = {0};
    struct rb_rng g = {seed};
    char path[4096];
    FILE *f = NULL;
    uint64_t b, failures = 0, texts = 0;
    int rc = 2;

    snprintf(path, sizeof(path), "%s/variants.out", dir);
    if (!recs || !want || !col.recs || !head || !phead || !got || !(f = fopen(path, "rb"))) {
        perror(path);
        goto cleanup;
    }
    for (b = 0; b < count; b++) {
        size_t n = rb_batch(&g, head, recs), nwant = rb_project(head, recs, n, phead, want);
        size_t s, i;

        for (s = 0; s < 3; s++) {
            struct stint_error err;

            if (!read_frame(f, &text)) {
                fprintf(stderr, "%s: batch %" PRIu64 ": bad or missing frame\n", path, b);
                goto cleanup;
            }
            texts++;
            col.n = 0;
            if (stint_legacy_decode(shapes[s], (const char *)text.data, text.len, got, collect_fn,
                                    &col, NULL, &err) != STINT_OK) {
                fprintf(stderr, "variant batch %" PRIu64 " %s: %s (%s)\n", b, names[s],
                        stint_strerror(err.code), err.msg);
                failures++;
                continue;
            }
            if (col.n != nwant || !batch_head_equal(got, phead)) {
                fprintf(stderr,
                        "variant batch %" PRIu64 " %s: %zu records (want %zu) or head "
                        "differs\n",
                        b, names[s], col.n, nwant);
                failures++;
                continue;
            }
            for (i = 0; i < nwant; i++) {
                if (!stint_record_equal(&col.recs[i], &want[i])) {
                    fprintf(stderr, "variant batch %" PRIu64 " %s: record %zu differs\n", b,
                            names[s], i);
                    failures++;
                    break;
                }
            }
        }
    }
    printf("oracle_gen --variants: %" PRIu64 " texts that PHP printed with other code and flags: "
           "%" PRIu64 " failures\n",
           texts, failures);
    rc = failures ? 1 : 0;
cleanup:
    if (f)
        fclose(f);
    stint_buf_free(&text);
    free(recs);
    free(want);
    free(col.recs);
    free(head);
    free(phead);
    free(got);
    return rc;
}

int main(int argc, char **argv)
{
    static const enum stint_legacy_shape shapes[] = {STINT_LEGACY_PHP, STINT_LEGACY_SERIALIZE,
                                                     STINT_LEGACY_JSON, STINT_LEGACY_FORM};
    static const char *const names[] = {"php.out", "ser.out", "json.out", "form.out"};
    struct stint_record *recs = NULL, *want = NULL;
    struct stint_batch *head = NULL, *phead = NULL, *got = NULL;
    struct stint_buf out = {0}, again = {0};
    struct collect col = {NULL, 0, RB_MAX_RECORDS + 1};
    FILE *model = NULL, *outs[4] = {NULL, NULL, NULL, NULL};
    struct rb_rng g;
    uint64_t count, b, failures = 0, records = 0, bytes = 0;
    int rc = 2;
    size_t s;

    if (argc == 5 && strcmp(argv[1], "--variants") == 0)
        return run_variants(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), argv[4]);
    if (argc != 4) {
        fprintf(stderr, "usage: oracle_gen [--variants] SEED COUNT DIR\n");
        return 2;
    }
    g.s = strtoull(argv[1], NULL, 10);
    count = strtoull(argv[2], NULL, 10);
    recs = calloc(RB_MAX_RECORDS, sizeof(*recs));
    want = calloc(RB_MAX_RECORDS + 1, sizeof(*want));
    col.recs = calloc(RB_MAX_RECORDS + 1, sizeof(*col.recs));
    head = calloc(1, sizeof(*head));
    phead = calloc(1, sizeof(*phead));
    got = calloc(1, sizeof(*got));
    if (!recs || !want || !col.recs || !head || !phead || !got)
        goto cleanup;
    if (!(model = open_out(argv[3], "model.txt")))
        goto cleanup;
    for (s = 0; s < 4; s++)
        if (!(outs[s] = open_out(argv[3], names[s])))
            goto cleanup;
    for (b = 0; b < count; b++) {
        size_t n = rb_batch(&g, head, recs), nwant, i;

        nwant = rb_project(head, recs, n, phead, want);
        records += n;
        fprintf(model, "B %" PRIu64 " %" PRId64 " ", b, head->now_ms);
        put_hex(model, head->client_version, head->client_version_len);
        fputc('\n', model);
        for (i = 0; i < n; i++)
            put_record(model, 'R', &recs[i]);
        if (head->has_current)
            put_record(model, 'C', &head->current);
        fputs("E\n", model);
        for (s = 0; s < 4; s++) {
            struct stint_record_array arr = {recs, n, 0};
            struct stint_record_iter it = stint_record_array_iter(&arr);
            struct stint_decode_info info;
            struct stint_error err;
            enum stint_err e;

            stint_buf_reset(&out);
            e = stint_legacy_encode(shapes[s], head, &it, &out);
            if (e != STINT_OK) {
                fprintf(stderr, "batch %" PRIu64 " %s: encode: %s\n", b, names[s],
                        stint_strerror(e));
                failures++;
                continue;
            }
            bytes += out.len;
            fprintf(outs[s], "%zu\n", out.len);
            if (out.len)
                fwrite(out.data, 1, out.len, outs[s]);
            fputc('\n', outs[s]);
            if (shapes[s] == STINT_LEGACY_SERIALIZE)
                continue;
            /* decodes back to the projection, and encodes again to the same bytes */
            col.n = 0;
            e = stint_legacy_decode(shapes[s], (const char *)out.data, out.len, got, collect_fn,
                                    &col, &info, &err);
            if (e != STINT_OK) {
                fprintf(stderr, "batch %" PRIu64 " %s: decode: %s: %s\n", b, names[s],
                        stint_strerror(e), err.msg);
                failures++;
                continue;
            }
            if (col.n != nwant || info.records != nwant || info.unknown_fields != 0 ||
                !batch_head_equal(got, phead)) {
                fprintf(stderr,
                        "batch %" PRIu64 " %s: decoded %zu records (want %zu) or head "
                        "differs\n",
                        b, names[s], col.n, nwant);
                failures++;
                continue;
            }
            for (i = 0; i < nwant; i++) {
                if (!stint_record_equal(&col.recs[i], &want[i])) {
                    fprintf(stderr, "batch %" PRIu64 " %s: record %zu differs after decoding\n", b,
                            names[s], i);
                    failures++;
                    break;
                }
            }
            {
                struct stint_record_array arr2 = {col.recs, col.n, 0};
                struct stint_record_iter it2 = stint_record_array_iter(&arr2);

                stint_buf_reset(&again);
                e = stint_legacy_encode(shapes[s], got, &it2, &again);
                if (e != STINT_OK || again.len != out.len ||
                    (out.len && memcmp(again.data, out.data, out.len) != 0)) {
                    fprintf(stderr, "batch %" PRIu64 " %s: re-encoding differs\n", b, names[s]);
                    failures++;
                }
            }
        }
    }
    printf("oracle_gen: %" PRIu64 " batches, %" PRIu64 " records, %" PRIu64
           " bytes of output; C round trips: %" PRIu64 " failures\n",
           count, records, bytes, failures);
    rc = failures ? 1 : 0;
cleanup:
    if (model && fclose(model) != 0)
        rc = 2;
    for (s = 0; s < 4; s++)
        if (outs[s] && fclose(outs[s]) != 0)
            rc = 2;
    stint_buf_free(&out);
    stint_buf_free(&again);
    free(recs);
    free(want);
    free(col.recs);
    free(head);
    free(phead);
    free(got);
    return rc;
}
