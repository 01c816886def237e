/* spool.h — records kept as their compact v1 encodings, in order, to be read back as an
 * iterator. It joins a decoder that pushes records (stint_record_fn) to an encoder that pulls them
 * (stint_record_iter) in about as much memory as the encoded input, not 7.5 KB per record. */
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

/* stint_spool_add() as a stint_record_fn; ctx is the spool. */
enum stint_err stint_spool_fn(void *ctx, const struct stint_record *r);

/* An iterator over the spooled records from the first; each call to next() decodes one into the
 * encoder's scratch record. */
struct stint_record_iter stint_spool_iter(struct stint_spool *s);

/* Reads the next record into *r; *done is set after the last. */
enum stint_err stint_spool_next(struct stint_spool *s, struct stint_record *r, bool *done);

void stint_spool_free(struct stint_spool *s); /* NULL is fine */

#ifdef __cplusplus
}
#endif
#endif
