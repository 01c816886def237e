/* legacy_serialize.c — the `php-serialize` shape: PHP 8.2's serialize() of the legacy array.
 * Emit only: unserialize() of untrusted bytes is a known PHP hazard, so Stint writes this shape
 * for servers that expect it and never reads it (spec/PROTOCOL.md, "Legacy payload").
 *
 * Design. serialize() writes `a:<count>:{` before the elements, and the encoder learns the
 * number of 'log' entries only at the end of its stream of records; so open() leaves a mark
 * where 'log' begins and close() inserts `a:<count>:{` there (one move of the entries' bytes).
 * Strings are `s:<length in bytes>:"<raw bytes>";`, integer keys `i:<n>;`; an array has no `;`
 * after its `}`.
 */
#include "legacy_internal.h"

#include <string.h>

#define APPEND_LIT(out, lit) stint_buf_append((out), (lit), sizeof(lit) - 1)

/* s:<len>:"<bytes>"; */
static enum stint_err put_str(struct stint_buf *out, const char *s, size_t len)
{
    enum stint_err e;

    if ((e = APPEND_LIT(out, "s:")) || (e = stint_legacy_put_int(out, (int64_t)len)) ||
        (e = APPEND_LIT(out, ":\"")) || (e = stint_buf_append(out, s, len)))
        return e;
    return APPEND_LIT(out, "\";");
}

static enum stint_err put_pair(struct stint_buf *out, const struct stint_legacy_pair *p)
{
    enum stint_err e = put_str(out, p->key, strlen(p->key));

    return e ? e : put_str(out, p->val, p->len);
}

static enum stint_err ser_open(struct stint_buf *out, const struct stint_legacy_head *h,
                               size_t *mark)
{
    enum stint_err e;

    if ((e = APPEND_LIT(out, "a:3:{")) || (e = put_pair(out, &h->now)) ||
        (e = put_pair(out, &h->version)) || (e = put_str(out, "log", 3)))
        return e;
    *mark = out->len;
    return STINT_OK;
}

static enum stint_err ser_entry(struct stint_buf *out, uint64_t index,
                                const struct stint_legacy_entry *en)
{
    enum stint_err e;
    size_t i;

    if ((e = APPEND_LIT(out, "i:")) || (e = stint_legacy_put_int(out, (int64_t)index)) ||
        (e = APPEND_LIT(out, ";a:")) || (e = stint_legacy_put_int(out, (int64_t)en->n)) ||
        (e = APPEND_LIT(out, ":{")))
        return e;
    for (i = 0; i < en->n; i++)
        if ((e = put_pair(out, &en->f[i])) != STINT_OK)
            return e;
    return APPEND_LIT(out, "}");
}

static enum stint_err ser_close(struct stint_buf *out, uint64_t count, size_t mark)
{
    struct stint_buf head = {0};
    enum stint_err e;

    if ((e = APPEND_LIT(&head, "a:")) || (e = stint_legacy_put_int(&head, (int64_t)count)) ||
        (e = APPEND_LIT(&head, ":{")) || (e = stint_buf_reserve(out, head.len + 2)))
        goto cleanup;
    memmove(out->data + mark + head.len, out->data + mark, out->len - mark);
    memcpy(out->data + mark, head.data, head.len);
    out->len += head.len;
    e = APPEND_LIT(out, "}}");
cleanup:
    stint_buf_free(&head);
    return e;
}

const struct stint_legacy_ops stint_legacy_serialize_ops = {ser_open, ser_entry, ser_close, NULL};
