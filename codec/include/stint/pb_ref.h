/* pb_ref.h — the v1 protobuf codec on protobuf-c: a second, independent implementation.
 *
 * Same contracts as pb.h (limits, UTF-8, agent_id, unknown fields counted). protobuf-c unpacks a
 * whole message into its own allocated tree, so memory grows with the input (bounded by
 * STINT_DECODE_MAX_INPUT); it is the faster path and the reference for stint_pb_compare().
 * protobuf-c reports no position for wire errors: those carry offset 0.
 */
#ifndef STINT_PB_REF_H
#define STINT_PB_REF_H

#include "stint/pb.h"

#ifdef __cplusplus
extern "C" {
#endif

enum stint_err stint_pbc_encode_record(const struct stint_record *r, struct stint_buf *out);
enum stint_err stint_pbc_decode_record(const uint8_t *buf, size_t len, struct stint_record *r,
                                       struct stint_decode_info *info, struct stint_error *err);
enum stint_err stint_pbc_encode_batch(const struct stint_batch *head, struct stint_record_iter *it,
                                      struct stint_buf *out);
enum stint_err stint_pbc_decode_batch(const uint8_t *buf, size_t len, struct stint_batch *head,
                                      stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                      struct stint_error *err);
enum stint_err stint_pbc_encode_ack(const struct stint_ack *a, struct stint_buf *out);
enum stint_err stint_pbc_decode_ack(const uint8_t *buf, size_t len, struct stint_ack *a,
                                    struct stint_decode_info *info, struct stint_error *err);

/* Decodes buf as a Batch with both implementations and compares: both refuse, or both accept
 * with the same header, the same records in the same order and the same unknown-field count.
 * Returns STINT_OK when they agree (report, if not NULL, says whether they accepted: code
 * STINT_OK, or the common refusal), STINT_EDIFF with the first difference described in
 * report->msg, or STINT_ENOMEM. Known, documented differences between the libraries (nanopb
 * refuses a 10-byte varint whose last byte is over 1, and an int32/uint32 varint out of range;
 * protobuf-c refuses tags of more than 5 bytes) count as agreement: spec/PROTOCOL.md,
 * "Decoder differences". */
enum stint_err stint_pb_compare(const uint8_t *buf, size_t len, struct stint_error *report);

#ifdef __cplusplus
}
#endif
#endif
