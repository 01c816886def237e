/* store_chunk.h — the value format of the LevelDB store's record chunks (store_leveldb.c).
 *
 * Internal to the collector. Conventions: values are built in a struct stint_buf the caller owns
 * (stint_chunk_begin, stint_chunk_put per record, stint_chunk_finish) and read in place
 * (stint_chunk_next); nothing here touches LevelDB. The format is spec/COLLECTOR.md's. */
#ifndef STINT_COLLECTOR_STORE_CHUNK_H
#define STINT_COLLECTOR_STORE_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"

/* A chunk: the records of one agent over a range of seqs, in one LevelDB value (see the design
 * block). Value: version 2, last seq[8], count[4], then per record seq[8] len[4] and the stored
 * value (stint_store_value_encode). Chunks of an agent never overlap: for two chunks A before B,
 * A's last seq < B's first. */
struct stint_chunk {
    uint64_t first, last;
    uint8_t *val; /* a copy of the LevelDB value */
    size_t len;
    uint64_t *seqs; /* its seqs, ascending */
    uint32_t n;
    size_t *add; /* indexes into the batch's items of new records inside [first, last] */
    size_t n_add;
};

#define STINT_CHUNK_HEAD 13
#define STINT_CHUNK_REC_HEAD 12

/* Frees n chunks' copies and lists, then the array c. NULL is fine. */
void stint_chunks_free(struct stint_chunk *c, size_t n);

/* Walks the records of a chunk value: on each call the next (seq, bytes); false at the end or on
 * a malformed value (*bad set). *pos starts at 0; *rec points into v. */
bool stint_chunk_next(const uint8_t *v, size_t len, size_t *pos, uint64_t *seq, const uint8_t **rec,
                      uint32_t *rlen, bool *bad);

/* The record count in a chunk value's header; 0 when the value is malformed. */
uint32_t stint_chunk_count(const uint8_t *v, size_t len);

/* Starts a chunk value in b (reset first); stint_chunk_finish() fills in last seq and count. */
enum stint_err stint_chunk_begin(struct stint_buf *b);

/* Appends one record to a chunk value being built. STINT_ENOMEM when b cannot grow. */
enum stint_err stint_chunk_put(struct stint_buf *b, uint64_t seq, const uint8_t *rec, uint32_t n);

/* Writes the header of a value begun with stint_chunk_begin(). */
void stint_chunk_finish(struct stint_buf *b, uint64_t last, uint32_t count);

/* Is seq among c's records (c->seqs, ascending)? */
bool stint_chunk_holds(const struct stint_chunk *c, uint64_t seq);

#endif
