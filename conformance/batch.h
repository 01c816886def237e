/* batch.h — what the cases send: batches of typical records in protobuf or JSON, raw protobuf
 * pieces for inputs Stint's own encoder refuses to write (unknown fields, bad UTF-8, a wrong
 * agent_id length), gzip, and reading an Ack back from an answer.
 *
 * Records are made on the fly (an iterator), so a batch of 10,001 records costs no array. */
#ifndef STINT_CONF_BATCH_H
#define STINT_CONF_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"
#include "stint/record.h"
#include "common/clock.h"

enum stint_conf_enc {
    STINT_CONF_PB = 0,
    STINT_CONF_JSON = 1,
};

/* Changes record i (0-based) of a batch after it was filled with typical values. */
typedef void (*stint_conf_mutate_fn)(size_t i, struct stint_record *r, void *arg);

struct stint_conf_batch {
    enum stint_conf_enc enc;
    const uint8_t *agent_id; /* 16 bytes, or NULL for none */
    uint64_t first_seq;      /* records get first_seq, first_seq + 1, ... */
    size_t n;
    bool current;                /* add an open record as Batch.current */
    stint_conf_mutate_fn mutate; /* may be NULL */
    void *arg;
};

/* Fills 16 random bytes (/dev/urandom). */
void stint_conf_random(uint8_t *out, size_t n);

/* A closed, valid, active record with this seq; times an hour ago, one second apart. */
void stint_conf_record_typical(struct stint_record *r, uint64_t seq);

/* Appends the encoded batch to out. */
enum stint_err stint_conf_batch_encode(const struct stint_conf_batch *b, struct stint_buf *out);

/* Raw protobuf pieces. */
enum stint_err stint_conf_pb_varint(struct stint_buf *out, uint64_t v);
enum stint_err stint_conf_pb_tag(struct stint_buf *out, uint32_t field, uint32_t wire_type);
enum stint_err stint_conf_pb_bytes(struct stint_buf *out, uint32_t field, const void *p, size_t n);

/* gzip (RFC 1952) of in[0..n) appended to out. */
enum stint_err stint_conf_gzip(const void *in, size_t n, struct stint_buf *out);

/* "<hex agent_id>:<first>-<last>" plus an optional suffix, into out (cap >= 100). */
void stint_conf_idem_key(const uint8_t *agent_id, uint64_t first, uint64_t last, const char *suffix,
                         char *out, size_t cap);

/* Reads an Ack from an answer's body: JSON when its first non-space byte is '{', else
 * protobuf. On success ack->rejected is the caller's (stint_ack_free). Writes why into msg on
 * failure. */
enum stint_err stint_conf_ack_read(const uint8_t *body, size_t len, struct stint_ack *ack,
                                   char *msg, size_t cap);

#endif
