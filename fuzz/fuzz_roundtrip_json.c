/* fuzz_roundtrip_json.c — decode -> encode -> decode is a fixed point for canonical JSON.
 *
 * Whatever the JSON decoders accept as a Batch, Record or Ack (in any of the mapping's lenient
 * spellings):
 *   - encodes without error to canonical JSON, which is valid UTF-8 and passes the syntax check;
 *   - the canonical text decodes to the same values with no unknown member, and encodes to the
 *     same bytes (canonical output is a fixed point);
 *   - the same values survive v1 protobuf: model -> pb -> model is the same.
 *
 * STINT_FUZZ_DICT: json.dict
 */
#include <string.h>

#include "invariants.h"

static void same_bytes(const struct stint_buf *a, const struct stint_buf *b, const char *what)
{
    STINT_FUZZ_CHECK(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0),
                     "%s: %zu bytes, then %zu bytes, or different bytes", what, a->len, b->len);
}

static void canonical_text(const struct stint_buf *b, const char *what)
{
    struct stint_error err;

    STINT_FUZZ_CHECK(stint_utf8_valid((const char *)b->data, b->len),
                     "%s: canonical JSON is not valid UTF-8", what);
    STINT_FUZZ_CHECK(stint_json_check_syntax((const char *)b->data, b->len, &err) == STINT_OK,
                     "%s: canonical JSON is not JSON: %s", what, err.msg);
}

static void batch_roundtrip(const char *text, size_t size)
{
    static struct stint_batch h1, h2, h3;
    struct stint_spool s1, s2, s3;
    struct stint_buf j1 = {0}, j2 = {0}, pb = {0};
    struct stint_decode_info info = {0, 0};
    struct stint_record_iter it;
    struct stint_error err;
    enum stint_err ret;

    memset(&s1, 0, sizeof(s1));
    memset(&s2, 0, sizeof(s2));
    memset(&s3, 0, sizeof(s3));
    ret = stint_json_decode_batch(text, size, &h1, stint_spool_fn, &s1, NULL, &err);
    if (ret != STINT_OK)
        goto cleanup;
    it = stint_spool_iter(&s1);
    ret = stint_json_encode_batch(&h1, &it, &j1);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: accepted, but encoding failed: %d", ret);
    canonical_text(&j1, "batch");
    ret = stint_json_decode_batch((const char *)j1.data, j1.len, &h2, stint_spool_fn, &s2, &info,
                                  &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: own canonical JSON refused: %s", err.msg);
    STINT_FUZZ_CHECK(info.unknown_fields == 0, "batch: own JSON has unknown members");
    STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&h1, &h2), "batch: header changed by a round-trip");
    stint_fuzz_check_same_records(&s1, &s2, "batch JSON round-trip");
    it = stint_spool_iter(&s2);
    ret = stint_json_encode_batch(&h2, &it, &j2);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: second encoding failed: %d", ret);
    same_bytes(&j1, &j2, "batch: canonical JSON not a fixed point");

    it = stint_spool_iter(&s1);
    ret = stint_pb_encode_batch(&h1, &it, &pb);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: pb encoding failed: %d", ret);
    ret = stint_pb_decode_batch(pb.data, pb.len, &h3, stint_spool_fn, &s3, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: pb of a JSON batch refused: %s", err.msg);
    STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&h1, &h3), "batch: header changed through pb");
    stint_fuzz_check_same_records(&s1, &s3, "batch JSON -> pb -> model");
cleanup:
    stint_spool_free(&s1);
    stint_spool_free(&s2);
    stint_spool_free(&s3);
    stint_buf_free(&j1);
    stint_buf_free(&j2);
    stint_buf_free(&pb);
}

static void record_roundtrip(const char *text, size_t size)
{
    static struct stint_record r1, r2;
    struct stint_buf j1 = {0}, j2 = {0}, pb = {0};
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    enum stint_err ret;

    if (stint_json_decode_record(text, size, &r1, NULL, &err) != STINT_OK)
        return;
    ret = stint_json_encode_record(&r1, &j1);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: accepted, but encoding failed: %d", ret);
    canonical_text(&j1, "record");
    ret = stint_json_decode_record((const char *)j1.data, j1.len, &r2, &info, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: own canonical JSON refused: %s", err.msg);
    STINT_FUZZ_CHECK(info.unknown_fields == 0, "record: own JSON has unknown members");
    STINT_FUZZ_CHECK(stint_record_equal(&r1, &r2), "record: changed by a round-trip");
    ret = stint_json_encode_record(&r2, &j2);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: second encoding failed");
    same_bytes(&j1, &j2, "record: canonical JSON not a fixed point");
    ret = stint_pb_encode_record(&r1, &pb);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: pb encoding failed");
    ret = stint_pb_decode_record(pb.data, pb.len, &r2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_record_equal(&r1, &r2),
                     "record: changed through pb (%s)", err.msg);
    stint_buf_free(&j1);
    stint_buf_free(&j2);
    stint_buf_free(&pb);
}

static void ack_roundtrip(const char *text, size_t size)
{
    struct stint_ack a1, a2;
    struct stint_buf j1 = {0}, j2 = {0}, pb = {0};
    struct stint_error err;
    enum stint_err ret;

    memset(&a2, 0, sizeof(a2));
    if (stint_json_decode_ack(text, size, &a1, NULL, &err) != STINT_OK)
        return;
    ret = stint_json_encode_ack(&a1, &j1);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: accepted, but encoding failed: %d", ret);
    canonical_text(&j1, "ack");
    ret = stint_json_decode_ack((const char *)j1.data, j1.len, &a2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: own canonical JSON refused: %s", err.msg);
    STINT_FUZZ_CHECK(stint_fuzz_ack_equal(&a1, &a2), "ack: changed by a round-trip");
    ret = stint_json_encode_ack(&a2, &j2);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: second encoding failed");
    same_bytes(&j1, &j2, "ack: canonical JSON not a fixed point");
    stint_ack_free(&a2);
    ret = stint_pb_encode_ack(&a1, &pb);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: pb encoding failed");
    ret = stint_pb_decode_ack(pb.data, pb.len, &a2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_fuzz_ack_equal(&a1, &a2),
                     "ack: changed through pb (%s)", err.msg);
    stint_ack_free(&a1);
    stint_ack_free(&a2);
    stint_buf_free(&j1);
    stint_buf_free(&j2);
    stint_buf_free(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    batch_roundtrip((const char *)data, size);
    record_roundtrip((const char *)data, size);
    ack_roundtrip((const char *)data, size);
    return 0;
}
