/* base64.c — RFC 4648 base64: padded standard output; standard or URL-safe input. */
#include "stint/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum stint_err stint_base64_encode(const uint8_t *p, size_t n, struct stint_buf *out)
{
    enum stint_err e = stint_buf_reserve(out, (n + 2) / 3 * 4);
    size_t i;
    char *o;

    if (e != STINT_OK)
        return e;
    o = (char *)out->data + out->len;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)((uint8_t *)o - out->data);
    return STINT_OK;
}

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

enum stint_err stint_base64_decode(const char *s, size_t len, uint8_t *dst, size_t cap,
                                   size_t *outlen)
{
    uint32_t acc = 0;
    size_t i, bits = 0, o = 0, pad = 0, data;

    while (pad < len && pad < 2 && s[len - 1 - pad] == '=')
        pad++;
    data = len - pad;
    if (pad && len % 4 != 0)
        return STINT_ESYNTAX;
    if (data % 4 == 1)
        return STINT_ESYNTAX;
    for (i = 0; i < data; i++) {
        int v = sextet(s[i]);
        if (v < 0)
            return STINT_ESYNTAX;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return STINT_ELIMIT;
            dst[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* the leftover bits must be zero: one encoding per value */
    if (bits && (acc & ((1u << bits) - 1)))
        return STINT_ESYNTAX;
    *outlen = o;
    return STINT_OK;
}
