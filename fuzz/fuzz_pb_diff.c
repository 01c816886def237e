/* fuzz_pb_diff.c — the differential harness: nanopb and protobuf-c decode the same bytes and
 * must agree.
 *
 * Batch: stint_pb_compare() (codec/compare.c) decodes with both and compares header, records in
 * order and unknown-field counts, normalising the libraries' documented differences
 * (spec/PROTOCOL.md, "Decoder differences"). STINT_EDIFF is a finding: abort with its report.
 *
 * Record and Ack: compared here the same way, because compare.c covers only Batch. Accept/refuse
 * must agree, and when both accept every value must be equal. The same known differences count as
 * agreement: a refusal by nanopb only, for a varint it finds too large ("varint overflow",
 * "integer too large"); a refusal by protobuf-c only, when the input holds a field tag longer
 * than 5 bytes (which protobuf-c refuses and nanopb reads).
 *
 * STINT_FUZZ_DICT: pb.dict
 */
#include <stdio.h>
#include <string.h>

#include "invariants.h"

/* Reads a varint at p[0..end); returns its length, 0 when unterminated or over 10 bytes. */
static size_t varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    size_t i;

    *v = 0;
    for (i = 0; i < 10 && p + i < end; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return i + 1;
    }
    return 0;
}

/* True when a tag longer than 5 bytes appears in the message p[0..end), or inside its field
 * `nested` (a submessage; 0: none). Walks only well-formed structure. */
static bool has_long_tag(const uint8_t *p, const uint8_t *end, uint32_t nested)
{
    while (p < end) {
        uint64_t key, v;
        size_t n = varint(p, end, &key);

        if (n == 0)
            return false;
        if (n > 5)
            return true;
        p += n;
        switch (key & 7) {
        case 0:
            if ((n = varint(p, end, &v)) == 0)
                return false;
            p += n;
            break;
        case 1:
        case 5:
            if ((size_t)(end - p) < ((key & 7) == 1 ? 8u : 4u))
                return false;
            p += (key & 7) == 1 ? 8 : 4;
            break;
        case 2:
            n = varint(p, end, &v);
            if (n == 0 || v > (uint64_t)(end - p) - n)
                return false;
            p += n;
            if (nested && (key >> 3) == nested && has_long_tag(p, p + v, 0))
                return true;
            p += v;
            break;
        default:
            return false;
        }
    }
    return false;
}

static bool nanopb_only_refusal(const struct stint_error *e)
{
    return strstr(e->msg, "varint overflow") || strstr(e->msg, "integer too large");
}

/* Accept/refuse agreement of one message type; returns true when both accepted. */
static bool agree(const char *what, enum stint_err ra, const struct stint_error *ea,
                  enum stint_err rb, const struct stint_error *eb, const uint8_t *data,
                  size_t size, uint32_t nested)
{
    if ((ra == STINT_OK) == (rb == STINT_OK))
        return ra == STINT_OK;
    if (ra != STINT_OK && nanopb_only_refusal(ea))
        return false;
    if (rb != STINT_OK && has_long_tag(data, data + size, nested))
        return false;
    stint_fuzz_fail(__FILE__, __LINE__, "%s: nanopb %s (%s), protobuf-c %s (%s)", what,
                    ra == STINT_OK ? "accepts" : "refuses", ra == STINT_OK ? "-" : ea->msg,
                    rb == STINT_OK ? "accepts" : "refuses", rb == STINT_OK ? "-" : eb->msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_record ra, rb;
    struct stint_decode_info ia = {0, 0}, ib = {0, 0};
    struct stint_error report, ea, eb;
    struct stint_ack aa, ab;
    enum stint_err ret, xa, xb;

    ret = stint_pb_compare(data, size, &report);
    STINT_FUZZ_CHECK(ret != STINT_EDIFF, "batch: the decoders differ: %s", report.msg);
    STINT_FUZZ_CHECK(ret == STINT_OK || ret == STINT_ENOMEM, "stint_pb_compare returned %d (%s)",
                     ret, report.msg);

    /* Record (field 1..11, no submessage) */
    xa = stint_pb_decode_record(data, size, &ra, &ia, &ea);
    xb = stint_pbc_decode_record(data, size, &rb, &ib, &eb);
    if (agree("record", xa, &ea, xb, &eb, data, size, 0)) {
        STINT_FUZZ_CHECK(stint_record_equal(&ra, &rb), "record: both accept, values differ");
        STINT_FUZZ_CHECK(ia.unknown_fields == ib.unknown_fields,
                         "record: unknown fields nanopb %llu, protobuf-c %llu",
                         (unsigned long long)ia.unknown_fields,
                         (unsigned long long)ib.unknown_fields);
    }

    /* Ack (rejections in field 2) */
    xa = stint_pb_decode_ack(data, size, &aa, &ia, &ea);
    xb = stint_pbc_decode_ack(data, size, &ab, &ib, &eb);
    if (agree("ack", xa, &ea, xb, &eb, data, size, 2)) {
        STINT_FUZZ_CHECK(stint_fuzz_ack_equal(&aa, &ab), "ack: both accept, values differ");
        STINT_FUZZ_CHECK(ia.unknown_fields == ib.unknown_fields,
                         "ack: unknown fields nanopb %llu, protobuf-c %llu",
                         (unsigned long long)ia.unknown_fields,
                         (unsigned long long)ib.unknown_fields);
    }
    stint_ack_free(&aa);
    stint_ack_free(&ab);
    return 0;
}
