/* spool.c — records as the field-4 frames of a Batch, in one buffer (see spool.h).
 *
 * Each record is stored as a Batch frames it: the tag of field 4 with wire type 2
 * (0x22), the length as a varint, the v1 encoding. So the buffer is at once a spool to iterate
 * and the records part of a Batch body: the sender appends it after the Batch header as is, and
 * the agent's stored encodings go in without a decode (stint_spool_add_raw). Reading checks each
 * frame against the buffer's end; a frame that does not fit is STINT_EINVAL. */
#include "stint/spool.h"

#include <string.h>

#define FRAME_TAG 0x22 /* Batch.records: field 4, wire type 2 */
#define VARINT_MAX 10

static size_t put_varint(uint8_t out[VARINT_MAX], uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t byte = (uint8_t)(v & 0x7f);
        v >>= 7;
        out[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    return n;
}

enum stint_err stint_spool_add_raw(struct stint_spool *s, const uint8_t *enc, size_t len)
{
    uint8_t hdr[1 + VARINT_MAX];
    size_t at = s->buf.len, h;
    enum stint_err e;

    hdr[0] = FRAME_TAG;
    h = 1 + put_varint(hdr + 1, len);
    e = stint_buf_append(&s->buf, hdr, h);
    if (e == STINT_OK)
        e = stint_buf_append(&s->buf, enc, len);
    if (e != STINT_OK) {
        s->buf.len = at;
        return e;
    }
    s->count++;
    return STINT_OK;
}

enum stint_err stint_spool_add(struct stint_spool *s, const struct stint_record *r)
{
    uint8_t hdr[1 + VARINT_MAX];
    size_t at = s->buf.len, body, len, h;
    enum stint_err e;

    /* the encoding goes right after the tag, then moves up by the varint's size: its length is
     * known only once it is written */
    hdr[0] = FRAME_TAG;
    e = stint_buf_append(&s->buf, hdr, 1);
    body = s->buf.len;
    if (e == STINT_OK)
        e = stint_pb_encode_record(r, &s->buf);
    len = s->buf.len - body;
    h = put_varint(hdr + 1, len);
    if (e == STINT_OK)
        e = stint_buf_append(&s->buf, hdr + 1, h); /* room for the varint */
    if (e != STINT_OK) {
        s->buf.len = at;
        return e;
    }
    memmove(s->buf.data + body + h, s->buf.data + body, len);
    memcpy(s->buf.data + body, hdr + 1, h);
    s->count++;
    return STINT_OK;
}

enum stint_err stint_spool_fn(void *ctx, const struct stint_record *r)
{
    return stint_spool_add(ctx, r);
}

enum stint_err stint_spool_next(struct stint_spool *s, struct stint_record *r, bool *done)
{
    uint64_t len = 0;
    size_t pos = s->read_pos;
    unsigned shift = 0;

    if (pos >= s->buf.len) {
        *done = true;
        return STINT_OK;
    }
    *done = false;
    if (s->buf.data[pos++] != FRAME_TAG)
        return STINT_EINVAL;
    for (;;) {
        uint8_t byte;
        if (pos == s->buf.len || shift >= 7 * VARINT_MAX)
            return STINT_EINVAL;
        byte = s->buf.data[pos++];
        len |= (uint64_t)(byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80))
            break;
    }
    if (len > s->buf.len - pos)
        return STINT_EINVAL;
    s->read_pos = pos + (size_t)len;
    return stint_pb_decode_record(s->buf.data + pos, (size_t)len, r, NULL, NULL);
}

static enum stint_err spool_iter_next(void *ctx, struct stint_record *scratch,
                                      const struct stint_record **out)
{
    bool done = false;
    enum stint_err e = stint_spool_next(ctx, scratch, &done);

    *out = (e == STINT_OK && !done) ? scratch : NULL;
    return e;
}

struct stint_record_iter stint_spool_iter(struct stint_spool *s)
{
    struct stint_record_iter it = {spool_iter_next, s};

    s->read_pos = 0;
    return it;
}

void stint_spool_reset(struct stint_spool *s)
{
    stint_buf_reset(&s->buf);
    s->count = 0;
    s->read_pos = 0;
}

void stint_spool_free(struct stint_spool *s)
{
    if (!s)
        return;
    stint_buf_free(&s->buf);
    s->count = 0;
    s->read_pos = 0;
}
