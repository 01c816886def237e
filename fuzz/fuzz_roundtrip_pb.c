/* fuzz_roundtrip_pb.c — decode -> encode -> decode is a fixed point for v1 protobuf.
 *
 * Whatever nanopb accepts as a Batch, Record or Ack:
 *   - encodes without error (the model it produced is within every limit);
 *   - the encoding decodes again, to the same values, with no unknown field, and encodes to the
 *     same bytes (the canonical encoding is a fixed point);
 *   - protobuf-c's encoder writes bytes that decode to the same values (not always the same
 *     bytes: nanopb writes a negative enum in five bytes, protobuf-c in ten), and protobuf-c's
 *     decoder reads nanopb's canonical bytes back to the same values;
 *   - a Batch or Record also survives canonical JSON: pb -> model -> JSON -> model is the same.
 * Records of a batch are spooled (spool.h) so that a batch of any size is compared in order.
 *
 * STINT_FUZZ_DICT: pb.dict
 */
#include <string.h>

#include "invariants.h"

static void same_bytes(const struct stint_buf *a, const struct stint_buf *b, const char *what)
{
    STINT_FUZZ_CHECK(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0),
                     "%s: %zu bytes, then %zu bytes, or different bytes", what, a->len, b->len);
}

static void batch_roundtrip(const uint8_t *data, size_t size)
{
    static struct stint_batch h1, h2, h3;
    struct stint_spool s1, s2, s3;
    struct stint_buf b1 = {0}, b2 = {0}, bc = {0}, js = {0};
    struct stint_decode_info info = {0, 0};
    struct stint_record_iter it;
    struct stint_error err;
    enum stint_err ret;

    memset(&s1, 0, sizeof(s1));
    memset(&s2, 0, sizeof(s2));
    memset(&s3, 0, sizeof(s3));
    ret = stint_pb_decode_batch(data, size, &h1, stint_spool_fn, &s1, NULL, &err);
    if (ret != STINT_OK)
        goto cleanup;
    it = stint_spool_iter(&s1);
    ret = stint_pb_encode_batch(&h1, &it, &b1);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: accepted, but encoding failed: %d", ret);

    ret = stint_pb_decode_batch(b1.data, b1.len, &h2, stint_spool_fn, &s2, &info, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: own encoding refused: %s", err.msg);
    STINT_FUZZ_CHECK(info.unknown_fields == 0, "batch: own encoding has unknown fields");
    STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&h1, &h2), "batch: header changed by a round-trip");
    stint_fuzz_check_same_records(&s1, &s2, "batch pb round-trip");
    it = stint_spool_iter(&s2);
    ret = stint_pb_encode_batch(&h2, &it, &b2);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: second encoding failed: %d", ret);
    same_bytes(&b1, &b2, "batch: encoding not a fixed point");

    it = stint_spool_iter(&s1);
    ret = stint_pbc_encode_batch(&h1, &it, &bc);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: protobuf-c encoding failed: %d", ret);
    stint_spool_free(&s2);
    ret = stint_pb_decode_batch(bc.data, bc.len, &h2, stint_spool_fn, &s2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: protobuf-c's encoding refused: %s", err.msg);
    STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&h1, &h2), "batch: protobuf-c wrote another header");
    stint_fuzz_check_same_records(&s1, &s2, "batch protobuf-c encoding");
    stint_spool_free(&s2);
    ret = stint_pbc_decode_batch(b1.data, b1.len, &h2, stint_spool_fn, &s2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: protobuf-c refuses the canonical form: %s", err.msg);
    STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&h1, &h2), "batch: protobuf-c reads another header");
    stint_fuzz_check_same_records(&s1, &s2, "batch pb -> protobuf-c");

    it = stint_spool_iter(&s1);
    ret = stint_json_encode_batch(&h1, &it, &js);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: JSON encoding failed: %d", ret);
    ret = stint_json_decode_batch((const char *)js.data, js.len, &h3, stint_spool_fn, &s3, &info,
                                  &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "batch: own JSON refused: %s", err.msg);
    STINT_FUZZ_CHECK(info.unknown_fields == 0, "batch: own JSON has unknown members");
    STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&h1, &h3), "batch: header changed through JSON");
    stint_fuzz_check_same_records(&s1, &s3, "batch pb -> JSON -> model");
cleanup:
    stint_spool_free(&s1);
    stint_spool_free(&s2);
    stint_spool_free(&s3);
    stint_buf_free(&b1);
    stint_buf_free(&b2);
    stint_buf_free(&bc);
    stint_buf_free(&js);
}

static void record_roundtrip(const uint8_t *data, size_t size)
{
    static struct stint_record r1, r2;
    struct stint_buf b1 = {0}, b2 = {0}, bc = {0}, js = {0};
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    enum stint_err ret;

    if (stint_pb_decode_record(data, size, &r1, NULL, &err) != STINT_OK)
        return;
    ret = stint_pb_encode_record(&r1, &b1);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: accepted, but encoding failed: %d", ret);
    STINT_FUZZ_CHECK(b1.len <= STINT_PB_RECORD_MAX, "record: encoding of %zu bytes, max %d", b1.len,
                     STINT_PB_RECORD_MAX);
    ret = stint_pb_decode_record(b1.data, b1.len, &r2, &info, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: own encoding refused: %s", err.msg);
    STINT_FUZZ_CHECK(info.unknown_fields == 0, "record: own encoding has unknown fields");
    STINT_FUZZ_CHECK(stint_record_equal(&r1, &r2), "record: changed by a round-trip");
    ret = stint_pb_encode_record(&r2, &b2);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: second encoding failed");
    same_bytes(&b1, &b2, "record: encoding not a fixed point");
    ret = stint_pbc_encode_record(&r1, &bc);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: protobuf-c encoding failed");
    STINT_FUZZ_CHECK(bc.len <= STINT_PB_RECORD_MAX, "record: protobuf-c wrote %zu bytes, max %d",
                     bc.len, STINT_PB_RECORD_MAX);
    ret = stint_pb_decode_record(bc.data, bc.len, &r2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_record_equal(&r1, &r2),
                     "record: protobuf-c's encoding reads back otherwise (%s)", err.msg);
    ret = stint_pbc_decode_record(b1.data, b1.len, &r2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_record_equal(&r1, &r2),
                     "record: protobuf-c reads the canonical form otherwise (%s)", err.msg);

    ret = stint_json_encode_record(&r1, &js);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: JSON encoding failed: %d", ret);
    ret = stint_json_decode_record((const char *)js.data, js.len, &r2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "record: own JSON refused: %s", err.msg);
    STINT_FUZZ_CHECK(stint_record_equal(&r1, &r2), "record: changed through JSON");
    stint_buf_free(&b1);
    stint_buf_free(&b2);
    stint_buf_free(&bc);
    stint_buf_free(&js);
}

static void ack_roundtrip(const uint8_t *data, size_t size)
{
    struct stint_ack a1, a2;
    struct stint_buf b1 = {0}, b2 = {0}, bc = {0};
    struct stint_error err;
    enum stint_err ret;

    memset(&a2, 0, sizeof(a2));
    if (stint_pb_decode_ack(data, size, &a1, NULL, &err) != STINT_OK)
        return;
    ret = stint_pb_encode_ack(&a1, &b1);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: accepted, but encoding failed: %d", ret);
    ret = stint_pb_decode_ack(b1.data, b1.len, &a2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: own encoding refused: %s", err.msg);
    STINT_FUZZ_CHECK(stint_fuzz_ack_equal(&a1, &a2), "ack: changed by a round-trip");
    ret = stint_pb_encode_ack(&a2, &b2);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: second encoding failed");
    same_bytes(&b1, &b2, "ack: encoding not a fixed point");
    ret = stint_pbc_encode_ack(&a1, &bc);
    STINT_FUZZ_CHECK(ret == STINT_OK, "ack: protobuf-c encoding failed");
    stint_ack_free(&a2);
    ret = stint_pb_decode_ack(bc.data, bc.len, &a2, NULL, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK && stint_fuzz_ack_equal(&a1, &a2),
                     "ack: protobuf-c's encoding reads back otherwise (%s)", err.msg);
    stint_ack_free(&a1);
    stint_ack_free(&a2);
    stint_buf_free(&b1);
    stint_buf_free(&b2);
    stint_buf_free(&bc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    batch_roundtrip(data, size);
    record_roundtrip(data, size);
    ack_roundtrip(data, size);
    return 0;
}
