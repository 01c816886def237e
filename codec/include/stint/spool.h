/* spool.h — records kept as their compact v1 encodings, in order, to be read back as an
 * iterator. It joins a decoder that pushes records (stint_record_fn) to an encoder that pulls them
 * (stint_record_iter) in about as much memory as the encoded input, not 7.5 KB per record.
 *
 * buf holds the records framed as the field 4 of a Batch (tag 0x22, varint length, encoding),
 * so a Batch header (stint_pb_encode_batch with no records) followed by buf is a Batch. */
#ifndef STINT_SPOOL_H
#define STINT_SPOOL_H

#include "stint/pb.h"

#ifdef __cplusplus
extern "C" {
#endif

struct stint_spool {
    struct stint_buf buf; /* [size_t length][encoding] ... */
    size_t count;
    size_t read_pos;
};

/* Appends r. A zeroed spool is empty and ready. */
enum stint_err stint_spool_add(struct stint_spool *s, const struct stint_record *r);

/* Appends an encoding as it is (a stored record: its bytes are not looked at). */
enum stint_err stint_spool_add_raw(struct stint_spool *s, const uint8_t *enc, size_t len);

/* stint_spool_add() as a stint_record_fn; ctx is the spool. */
enum stint_err stint_spool_fn(void *ctx, const struct stint_record *r);

/* An iterator over the spooled records from the first; each call to next() decodes one into the
 * encoder's scratch record. */
struct stint_record_iter stint_spool_iter(struct stint_spool *s);

/* Reads the next record into *r; *done is set after the last. STINT_EINVAL for a frame that is
 * not field 4 or runs past the buffer (buf was changed by hand). */
enum stint_err stint_spool_next(struct stint_spool *s, struct stint_record *r, bool *done);

/* Empties the spool, keeping its memory. */
void stint_spool_reset(struct stint_spool *s);

void stint_spool_free(struct stint_spool *s); /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif
