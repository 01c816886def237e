/* spool.c — records as length-prefixed v1 encodings in one buffer (see spool.h). */
#include "stint/spool.h"

#include <string.h>

enum stint_err stint_spool_add(struct stint_spool *s, const struct stint_record *r)
{
    size_t at = s->buf.len, len;
    enum stint_err e;

    e = stint_buf_append(&s->buf, &at, sizeof(at)); /* room for the length, filled below */
    if (e == STINT_OK)
        e = stint_pb_encode_record(r, &s->buf);
    if (e != STINT_OK) {
        s->buf.len = at;
        return e;
    }
    len = s->buf.len - at - sizeof(len);
    memcpy(s->buf.data + at, &len, sizeof(len));
    s->count++;
    return STINT_OK;
}

enum stint_err stint_spool_fn(void *ctx, const struct stint_record *r)
{
    return stint_spool_add(ctx, r);
}

enum stint_err stint_spool_next(struct stint_spool *s, struct stint_record *r, bool *done)
{
    size_t len;

    if (s->read_pos + sizeof(len) > s->buf.len) {
        *done = true;
        return STINT_OK;
    }
    *done = false;
    memcpy(&len, s->buf.data + s->read_pos, sizeof(len));
    s->read_pos += sizeof(len);
    if (len > s->buf.len - s->read_pos)
        return STINT_EINVAL;
    s->read_pos += len;
    return stint_pb_decode_record(s->buf.data + s->read_pos - len, len, r, NULL, NULL);
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

void stint_spool_free(struct stint_spool *s)
{
    if (!s)
        return;
    stint_buf_free(&s->buf);
    s->count = 0;
    s->read_pos = 0;
}
