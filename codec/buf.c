/* buf.c — growable byte buffer with a hard cap (see buf.h). */
#include "stint/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum stint_err stint_buf_reserve(struct stint_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : STINT_BUF_DEFAULT_MAX;
    size_t want, ncap;
    uint8_t *p;

    if (extra > max || b->len > max - extra)
        return STINT_ENOMEM;
    want = b->len + extra;
    if (want <= b->cap)
        return STINT_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < want)
        ncap = ncap > max / 2 ? max : ncap * 2;
    p = realloc(b->data, ncap);
    if (!p)
        return STINT_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return STINT_OK;
}

enum stint_err stint_buf_append(struct stint_buf *b, const void *p, size_t n)
{
    enum stint_err err;

    if (n == 0)
        return STINT_OK;
    err = stint_buf_reserve(b, n);
    if (err)
        return err;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return STINT_OK;
}

enum stint_err stint_buf_append_str(struct stint_buf *b, const char *s)
{
    return stint_buf_append(b, s, strlen(s));
}

enum stint_err stint_buf_printf(struct stint_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum stint_err err;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return STINT_EINVAL;
    err = stint_buf_reserve(b, (size_t)n + 1);
    if (err)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return STINT_OK;
}

void stint_buf_reset(struct stint_buf *b)
{
    b->len = 0;
}

void stint_buf_free(struct stint_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
