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
 * One more library difference is normalised here, for all three messages, because compare.c does
 * not know it yet (proposed for compare.c and spec/PROTOCOL.md, "Decoder differences"): when a
 * singular length-delimited field (a string, agent_id, the `current` record) occurs more than
 * once, nanopb checks every occurrence (limit, UTF-8) while protobuf-c keeps only the last
 * (strings) or merges them dropping the earlier one's unknown fields (`current`). So a refusal by
 * nanopb only, for a limit or UTF-8, and a different unknown-field count, are agreement when such
 * a field repeats. Likewise protobuf-c refuses a length prefix longer than 5 bytes as it does a
 * tag (nanopb reads both). Regression inputs: fuzz/regressions/pb_diff/duplicate-*, long-length-*.
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

enum msg { MSG_BATCH, MSG_RECORD, MSG_ACK, MSG_REJECTION };

/* Whether `field` of message `m` is a singular length-delimited field; *child is the message it
 * holds, when it holds one (else -1). */
static bool singular_ld(enum msg m, uint64_t field, int *child)
{
    *child = -1;
    switch (m) {
    case MSG_BATCH:
        if (field == 4 || field == 5)
            *child = MSG_RECORD;
        return field == 1 || field == 2 || field == 5;
    case MSG_RECORD:
        return field >= 5 && field <= 8;
    case MSG_ACK:
        if (field == 2)
            *child = MSG_REJECTION;
        return false;
    case MSG_REJECTION:
        return field == 3;
    }
    return false;
}

/* True when a singular length-delimited field occurs more than once in the message p[0..end) of
 * kind m, or in a message nested in it. Walks only well-formed structure. */
static bool repeats_singular(const uint8_t *p, const uint8_t *end, enum msg m)
{
    uint64_t seen = 0;

    while (p < end) {
        uint64_t key, v;
        size_t n = varint(p, end, &key);
        int child;

        if (n == 0)
            return false;
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
            if (singular_ld(m, key >> 3, &child)) {
                if (seen & ((uint64_t)1 << (key >> 3)))
                    return true;
                seen |= (uint64_t)1 << (key >> 3);
            }
            if (child >= 0 && repeats_singular(p, p + v, (enum msg)child))
                return true;
            p += v;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* True when the message p[0..end) of kind m, or one nested in it, holds a field tag longer than
 * 5 bytes (documented: protobuf-c refuses it, nanopb reads it) or, with `lengths`, a length
 * prefix longer than 5 bytes (the same difference for lengths; not yet in compare.c). Walks only
 * well-formed structure. */
static bool has_long_varint(const uint8_t *p, const uint8_t *end, enum msg m, bool lengths)
{
    while (p < end) {
        uint64_t key, v;
        size_t n = varint(p, end, &key);
        int child;

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
            if (lengths && n > 5)
                return true;
            p += n;
            (void)singular_ld(m, key >> 3, &child);
            if (child >= 0 && has_long_varint(p, p + v, (enum msg)child, lengths))
                return true;
            p += v;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* nanopb refuses for a limit or UTF-8 and protobuf-c accepts, and a singular field repeats */
static bool repeated_field_refusal(enum stint_err ra, enum stint_err rb, const uint8_t *data,
                                   size_t size, enum msg m)
{
    return (ra == STINT_ELIMIT || ra == STINT_EUTF8) && rb == STINT_OK &&
           repeats_singular(data, data + size, m);
}

/* compare.c reported a difference: is it one of those it does not know yet (see the top)? */
static bool batch_repeated_field_difference(const uint8_t *data, size_t size,
                                            const struct stint_error *report)
{
    static struct stint_batch ha, hb;
    struct stint_error ea, eb;
    enum stint_err ra, rb;

    if (strstr(report->msg, "nanopb accepts") && strstr(report->msg, "protobuf-c refuses") &&
        has_long_varint(data, data + size, MSG_BATCH, true))
        return true;
    if (!repeats_singular(data, data + size, MSG_BATCH))
        return false;
    if (strstr(report->msg, "unknown-field counts differ"))
        return true;
    ra = stint_pb_decode_batch(data, size, &ha, NULL, NULL, NULL, &ea);
    rb = stint_pbc_decode_batch(data, size, &hb, NULL, NULL, NULL, &eb);
    return repeated_field_refusal(ra, rb, data, size, MSG_BATCH);
}

static bool nanopb_only_refusal(const struct stint_error *e)
{
    return strstr(e->msg, "varint overflow") || strstr(e->msg, "integer too large");
}

/* Accept/refuse agreement of one message type; returns true when both accepted. */
static bool agree(const char *what, enum stint_err ra, const struct stint_error *ea,
                  enum stint_err rb, const struct stint_error *eb, const uint8_t *data, size_t size,
                  enum msg m)
{
    if ((ra == STINT_OK) == (rb == STINT_OK))
        return ra == STINT_OK;
    if (ra != STINT_OK && nanopb_only_refusal(ea))
        return false;
    if (repeated_field_refusal(ra, rb, data, size, m))
        return false;
    if (rb != STINT_OK && has_long_varint(data, data + size, m, true))
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
    if (ret == STINT_EDIFF && batch_repeated_field_difference(data, size, &report))
        ret = STINT_OK;
    STINT_FUZZ_CHECK(ret != STINT_EDIFF, "batch: the decoders differ: %s", report.msg);
    STINT_FUZZ_CHECK(ret == STINT_OK || ret == STINT_ENOMEM, "stint_pb_compare returned %d (%s)",
                     ret, report.msg);

    /* Record (field 1..11, no submessage) */
    xa = stint_pb_decode_record(data, size, &ra, &ia, &ea);
    xb = stint_pbc_decode_record(data, size, &rb, &ib, &eb);
    if (agree("record", xa, &ea, xb, &eb, data, size, MSG_RECORD)) {
        STINT_FUZZ_CHECK(stint_record_equal(&ra, &rb), "record: both accept, values differ");
        STINT_FUZZ_CHECK(ia.unknown_fields == ib.unknown_fields,
                         "record: unknown fields nanopb %llu, protobuf-c %llu",
                         (unsigned long long)ia.unknown_fields,
                         (unsigned long long)ib.unknown_fields);
    }

    /* Ack (rejections in field 2) */
    xa = stint_pb_decode_ack(data, size, &aa, &ia, &ea);
    xb = stint_pbc_decode_ack(data, size, &ab, &ib, &eb);
    if (agree("ack", xa, &ea, xb, &eb, data, size, MSG_ACK)) {
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
