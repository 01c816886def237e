/* pb.h — the v1 protobuf codec (spec/PROTOCOL.md, "Wire format").
 *
 * Two implementations read the same bytes:
 *   - stint_pb_*  : nanopb, the agent's path. No heap allocation per record: strings are read
 *                   straight into the record model's buffers, and a batch of any size streams its
 *                   records through callbacks (decode) and an iterator (encode).
 *   - stint_pbc_* : protobuf-c (pb_ref.h), an independent second implementation, and
 *                   stint_pb_compare() to hold the two against each other.
 *
 * Every decoder: refuses input over STINT_DECODE_MAX_INPUT; refuses strings over their limit or
 * not valid UTF-8, agent_id of a length other than 0 or 16, and malformed wire data; skips fields
 * it does not know and counts them in stint_decode_info.unknown_fields; keeps enum values it does
 * not know. Errors carry a code, the byte offset where decoding stopped, and the field's path
 * ("records[3].title").
 */
#ifndef STINT_PB_H
#define STINT_PB_H

#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"
#include "stint/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest input any decoder accepts, in bytes (protobuf or text). */
#define STINT_DECODE_MAX_INPUT ((size_t)64 << 20)

/* Largest encoding of one Record: every field present at its limit, 64-bit values of ten bytes,
 * kind (never negative) of five. */
#define STINT_PB_RECORD_MAX 7498

struct stint_decode_info {
    uint64_t records;        /* records delivered to the callback */
    uint64_t unknown_fields; /* fields skipped because this version does not know them */
};

/* Receives each record of a batch in wire order. The record is only valid during the call.
 * Return STINT_OK to go on; any other value stops decoding and is returned by the decoder. */
typedef enum stint_err (*stint_record_fn)(void *ctx, const struct stint_record *r);

/* Produces the records an encoder writes. next() sets *out to the next record (which may point
 * at `scratch`, a record the encoder lends for filling in) or to NULL after the last one. */
struct stint_record_iter {
    enum stint_err (*next)(void *ctx, struct stint_record *scratch,
                           const struct stint_record **out);
    void *ctx;
};

/* An iterator over an array of records (tests, tools). `state` must outlive the iterator. */
struct stint_record_array {
    const struct stint_record *items;
    size_t n;
    size_t pos;
};
struct stint_record_iter stint_record_array_iter(struct stint_record_array *state);

/* Appends the v1 encoding of one Record to out. STINT_ENOMEM when out cannot grow. */
enum stint_err stint_pb_encode_record(const struct stint_record *r, struct stint_buf *out);

/* Decodes one Record from buf[0..len) into *r (no allocation). info may be NULL. */
enum stint_err stint_pb_decode_record(const uint8_t *buf, size_t len, struct stint_record *r,
                                      struct stint_decode_info *info, struct stint_error *err);

/* Appends the encoding of a Batch: the header fields of *head (and head->current when
 * head->has_current), then every record `it` yields, in that order. `it` may be NULL (no records).
 * Errors from the iterator are returned as they are. */
enum stint_err stint_pb_encode_batch(const struct stint_batch *head, struct stint_record_iter *it,
                                     struct stint_buf *out);

/* Decodes a Batch, calling fn (may be NULL) for each record of `records` in wire order. *head is
 * complete only when the function returns (header fields may follow the records on the wire).
 * Scratch memory is one record on the stack. */
enum stint_err stint_pb_decode_batch(const uint8_t *buf, size_t len, struct stint_batch *head,
                                     stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                     struct stint_error *err);

/* Appends the encoding of an Ack. */
enum stint_err stint_pb_encode_ack(const struct stint_ack *a, struct stint_buf *out);

/* Decodes an Ack into *a (zeroed first). On success a->rejected is owned by the caller:
 * release with stint_ack_free(). On failure nothing is left to free. */
enum stint_err stint_pb_decode_ack(const uint8_t *buf, size_t len, struct stint_ack *a,
                                   struct stint_decode_info *info, struct stint_error *err);

#ifdef __cplusplus
}
#endif
#endif
