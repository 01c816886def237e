/* gen_vectors — writes and checks the golden vectors of spec/vectors/.
 *
 *   gen_vectors --write DIR   (re)writes DIR/<case>.pb, DIR/<case>.json and DIR/manifest.json
 *   gen_vectors --check DIR   checks every case (the ctest test "vectors"):
 *     - the nanopb and the protobuf-c encoders both produce the golden .pb bytes;
 *     - the canonical JSON encoder produces the golden .json bytes;
 *     - both protobuf decoders and the JSON decoder read the golden files back to the case's
 *       model, record by record, with the expected count of unknown fields;
 *     - stint_pb_compare finds no difference.
 * Google's implementation checks the same files separately (check_google.py).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

static int read_file(const char *path, struct stint_buf *b)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return -1;
    for (;;) {
        if (stint_buf_reserve(b, 65536) != STINT_OK) {
            fclose(f);
            return -1;
        }
        n = fread(b->data + b->len, 1, 65536, f);
        b->len += n;
        if (n < 65536)
            break;
    }
    fclose(f);
    return 0;
}

static int write_file(const char *path, const struct stint_buf *b)
{
    FILE *f = fopen(path, "wb");

    if (!f || (b->len && fwrite(b->data, 1, b->len, f) != b->len) || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The golden .pb of a case, as the writer makes it. */
static enum stint_err golden_pb(const struct vector_case *c, struct stint_buf *out,
                                uint64_t *unknown)
{
    struct vector_iter_state st = {c, 0};
    struct stint_record_iter it = vector_case_iter(&st);
    struct stint_batch head;

    *unknown = 0;
    if (c->raw_pb)
        return c->raw_pb(c, out, unknown);
    c->head(&head);
    return stint_pb_encode_batch(&head, c->n_records ? &it : NULL, out);
}

static enum stint_err golden_json(const struct vector_case *c, struct stint_buf *out)
{
    struct vector_iter_state st = {c, 0};
    struct stint_record_iter it = vector_case_iter(&st);
    struct stint_batch head;
    enum stint_err e;

    c->head(&head);
    e = stint_json_encode_batch(&head, c->n_records ? &it : NULL, out);
    if (e == STINT_OK)
        e = stint_buf_append(out, "\n", 1);
    return e;
}

/* Checks decoded records against the case, in order. */
struct expect {
    const struct vector_case *c;
    const char *who;
    size_t i;
    struct stint_record want;
};

static enum stint_err expect_record(void *ctx, const struct stint_record *r)
{
    struct expect *x = ctx;

    if (x->i >= x->c->n_records) {
        FAIL("%s %s: more records than %zu", x->c->name, x->who, x->c->n_records);
        return STINT_EINVAL;
    }
    x->c->record(x->i, &x->want);
    if (!stint_record_equal(&x->want, r)) {
        FAIL("%s %s: records[%zu] differs from the case", x->c->name, x->who, x->i);
        return STINT_EINVAL;
    }
    x->i++;
    return STINT_OK;
}

static void check_head(const struct vector_case *c, const char *who, const struct stint_batch *got)
{
    struct stint_batch want;

    c->head(&want);
    if (want.agent_id_len != got->agent_id_len ||
        memcmp(want.agent_id, got->agent_id, want.agent_id_len) ||
        want.client_version_len != got->client_version_len ||
        memcmp(want.client_version, got->client_version, want.client_version_len) ||
        want.now_ms != got->now_ms || want.has_current != got->has_current ||
        (want.has_current && !stint_record_equal(&want.current, &got->current)))
        FAIL("%s %s: batch header differs from the case", c->name, who);
}

typedef enum stint_err (*batch_decoder)(const uint8_t *, size_t, struct stint_batch *,
                                        stint_record_fn, void *, struct stint_decode_info *,
                                        struct stint_error *);

static enum stint_err json_dec(const uint8_t *b, size_t n, struct stint_batch *h,
                               stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                               struct stint_error *err)
{
    return stint_json_decode_batch((const char *)b, n, h, fn, ctx, info, err);
}

static void check_decoder(const struct vector_case *c, const char *who, batch_decoder dec,
                          const struct stint_buf *in, uint64_t unknown)
{
    struct expect *x = malloc(sizeof(*x));
    struct stint_batch *head = malloc(sizeof(*head));
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    enum stint_err e;

    if (!x || !head) {
        FAIL("out of memory");
        goto cleanup;
    }
    x->c = c;
    x->who = who;
    x->i = 0;
    e = dec(in->data ? in->data : (const uint8_t *)"", in->len, head, expect_record, x, &info,
            &err);
    if (e != STINT_OK) {
        FAIL("%s %s: decode failed: %s: %s", c->name, who, stint_strerror(e), err.msg);
        goto cleanup;
    }
    if (x->i != c->n_records || info.records != c->n_records)
        FAIL("%s %s: %zu records, expected %zu", c->name, who, x->i, c->n_records);
    if (info.unknown_fields != unknown)
        FAIL("%s %s: %" PRIu64 " unknown fields, expected %" PRIu64, c->name, who,
             info.unknown_fields, unknown);
    check_head(c, who, head);
cleanup:
    free(x);
    free(head);
}

static void check_case(const char *dir, const struct vector_case *c)
{
    struct stint_buf file_pb = {0}, file_json = {0}, mine = {0};
    struct vector_iter_state st = {c, 0};
    struct stint_record_iter it;
    struct stint_batch head;
    struct stint_error err;
    char path[4096];
    uint64_t unknown = 0;

    snprintf(path, sizeof(path), "%s/%s.pb", dir, c->name);
    if (read_file(path, &file_pb) != 0) {
        FAIL("%s: cannot read %s", c->name, path);
        goto cleanup;
    }
    snprintf(path, sizeof(path), "%s/%s.json", dir, c->name);
    if (read_file(path, &file_json) != 0) {
        FAIL("%s: cannot read %s", c->name, path);
        goto cleanup;
    }
    /* encoders produce the golden bytes */
    if (golden_pb(c, &mine, &unknown) != STINT_OK || mine.len != file_pb.len ||
        (mine.len && memcmp(mine.data, file_pb.data, mine.len) != 0))
        FAIL("%s: nanopb encoding differs from %s.pb", c->name, c->name);
    if (!c->raw_pb) {
        stint_buf_reset(&mine);
        c->head(&head);
        it = vector_case_iter(&st);
        if (stint_pbc_encode_batch(&head, c->n_records ? &it : NULL, &mine) != STINT_OK ||
            mine.len != file_pb.len || (mine.len && memcmp(mine.data, file_pb.data, mine.len)))
            FAIL("%s: protobuf-c encoding differs from %s.pb", c->name, c->name);
    }
    stint_buf_reset(&mine);
    if (golden_json(c, &mine) != STINT_OK || mine.len != file_json.len ||
        memcmp(mine.data, file_json.data, mine.len) != 0)
        FAIL("%s: JSON encoding differs from %s.json", c->name, c->name);
    /* decoders read the golden files to the case's model */
    check_decoder(c, "nanopb", stint_pb_decode_batch, &file_pb, unknown);
    check_decoder(c, "protobuf-c", stint_pbc_decode_batch, &file_pb, unknown);
    check_decoder(c, "json", json_dec, &file_json, 0);
    if (stint_pb_compare(file_pb.data ? file_pb.data : (const uint8_t *)"", file_pb.len, &err) !=
            STINT_OK ||
        err.code != STINT_OK)
        FAIL("%s: differential: %s", c->name, err.msg);
cleanup:
    stint_buf_free(&file_pb);
    stint_buf_free(&file_json);
    stint_buf_free(&mine);
}

static int write_case(const char *dir, const struct vector_case *c)
{
    struct stint_buf b = {0};
    char path[4096];
    uint64_t unknown;
    int rc = -1;

    if (golden_pb(c, &b, &unknown) != STINT_OK)
        goto cleanup;
    snprintf(path, sizeof(path), "%s/%s.pb", dir, c->name);
    if (write_file(path, &b) != 0)
        goto cleanup;
    stint_buf_reset(&b);
    if (golden_json(c, &b) != STINT_OK)
        goto cleanup;
    snprintf(path, sizeof(path), "%s/%s.json", dir, c->name);
    if (write_file(path, &b) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    stint_buf_free(&b);
    return rc;
}

static int write_manifest(const char *dir)
{
    struct stint_buf b = {0};
    char path[4096];
    size_t i;
    int rc;

    stint_buf_append_str(&b, "{\n  \"format\": \"stint.v1 golden vectors\",\n"
                             "  \"message\": \"stint.v1.Batch\",\n  \"cases\": [\n");
    for (i = 0; i < stint_vector_case_count; i++) {
        const struct vector_case *c = &stint_vector_cases[i];
        struct stint_buf pb = {0};
        uint64_t unknown = 0;

        golden_pb(c, &pb, &unknown);
        stint_buf_printf(&b,
                         "    {\"name\": \"%s\", \"pb\": \"%s.pb\", \"json\": \"%s.json\", "
                         "\"records\": %zu, \"unknown_fields\": %" PRIu64 ",\n"
                         "     \"shows\": \"%s\"}%s\n",
                         c->name, c->name, c->name, c->n_records, unknown, c->shows,
                         i + 1 < stint_vector_case_count ? "," : "");
        stint_buf_free(&pb);
    }
    stint_buf_append_str(&b, "  ]\n}\n");
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    rc = write_file(path, &b);
    stint_buf_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc != 3 || (strcmp(argv[1], "--write") && strcmp(argv[1], "--check"))) {
        fprintf(stderr, "usage: gen_vectors --write|--check DIR\n");
        return 2;
    }
    if (strcmp(argv[1], "--write") == 0) {
        for (i = 0; i < stint_vector_case_count; i++)
            if (write_case(argv[2], &stint_vector_cases[i]) != 0)
                return 1;
        if (write_manifest(argv[2]) != 0)
            return 1;
        printf("wrote %zu cases to %s\n", stint_vector_case_count, argv[2]);
        return 0;
    }
    for (i = 0; i < stint_vector_case_count; i++)
        check_case(argv[2], &stint_vector_cases[i]);
    printf("%zu cases checked, %d failures\n", stint_vector_case_count, failures);
    return failures ? 1 : 0;
}
