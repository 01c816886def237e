/* store_chunk.c — building and walking the record chunks of the LevelDB store (see
 * store_chunk.h). A chunk holds the records of one agent over a range of seqs in one LevelDB
 * value: one entry per batch rather than per record halved the server's time per record, while
 * de-duplication stays per record (store_leveldb.c). Lengths are big-endian like the keys. */
#include "store_chunk.h"

#include <stdlib.h>

#include "common/byteorder.h"

void stint_chunks_free(struct stint_chunk *c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(c[i].val);
        free(c[i].seqs);
        free(c[i].add);
    }
    free(c);
}

/* Walks the records of a chunk value: on each call the next (seq, bytes); false at the end or on
 * a malformed value (*bad set). */
bool stint_chunk_next(const uint8_t *v, size_t len, size_t *pos, uint64_t *seq, const uint8_t **rec,
                      uint32_t *rlen, bool *bad)
{
    uint32_t n;

    if (*pos == 0) {
        if (len < STINT_CHUNK_HEAD || v[0] != 2) {
            *bad = true;
            return false;
        }
        *pos = STINT_CHUNK_HEAD;
    }
    if (*pos == len)
        return false;
    if (len - *pos < STINT_CHUNK_REC_HEAD) {
        *bad = true;
        return false;
    }
    *seq = stint_be64_get(v + *pos);
    n = (uint32_t)v[*pos + 8] << 24 | (uint32_t)v[*pos + 9] << 16 | (uint32_t)v[*pos + 10] << 8 |
        v[*pos + 11];
    if (len - *pos - STINT_CHUNK_REC_HEAD < n) {
        *bad = true;
        return false;
    }
    *rec = v + *pos + STINT_CHUNK_REC_HEAD;
    *rlen = n;
    *pos += STINT_CHUNK_REC_HEAD + n;
    return true;
}

uint32_t stint_chunk_count(const uint8_t *v, size_t len)
{
    if (len < STINT_CHUNK_HEAD || v[0] != 2)
        return 0;
    return (uint32_t)v[9] << 24 | (uint32_t)v[10] << 16 | (uint32_t)v[11] << 8 | v[12];
}

/* Appends one record to a chunk value being built. */
enum stint_err stint_chunk_put(struct stint_buf *b, uint64_t seq, const uint8_t *rec, uint32_t n)
{
    uint8_t h[STINT_CHUNK_REC_HEAD];
    enum stint_err rc;

    stint_be64_put(h, seq);
    h[8] = (uint8_t)(n >> 24);
    h[9] = (uint8_t)(n >> 16);
    h[10] = (uint8_t)(n >> 8);
    h[11] = (uint8_t)n;
    rc = stint_buf_append(b, h, sizeof(h));
    return rc == STINT_OK ? stint_buf_append(b, rec, n) : rc;
}

/* Starts a chunk value; stint_chunk_finish() fills in last seq and count. */
enum stint_err stint_chunk_begin(struct stint_buf *b)
{
    const uint8_t h[STINT_CHUNK_HEAD] = {2};
    stint_buf_reset(b);
    return stint_buf_append(b, h, sizeof(h));
}

void stint_chunk_finish(struct stint_buf *b, uint64_t last, uint32_t count)
{
    stint_be64_put(b->data + 1, last);
    b->data[9] = (uint8_t)(count >> 24);
    b->data[10] = (uint8_t)(count >> 16);
    b->data[11] = (uint8_t)(count >> 8);
    b->data[12] = (uint8_t)count;
}

/* Is seq in chunk c's records? */
bool stint_chunk_holds(const struct stint_chunk *c, uint64_t seq)
{
    uint32_t lo = 0, hi = c->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->seqs[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->n && c->seqs[lo] == seq;
}
