/* utf8.c — validation and repair of UTF-8 (RFC 3629).
 *
 * Repair follows the "maximal subpart" practice of Unicode (chapter 3, U+FFFD substitution): each
 * maximal prefix of a valid sequence that is cut short, and each byte that cannot start one,
 * becomes one U+FFFD. The ASCII fast path matters: most titles are ASCII. */
#include "stint/utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid sequence at s (1..4), or 0; *cp receives the code point. When invalid,
 * *bad receives the length of the maximal subpart to replace (>= 1). */
static size_t decode_one(const unsigned char *s, size_t len, unsigned *cp, size_t *bad)
{
    unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t need, i;
    unsigned v;

    *bad = 1;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    for (i = 1; i <= need; i++) {
        unsigned b;
        if (i >= len)
            return 0;
        b = s[i];
        if (b < lo || b > hi)
            return 0;
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (b & 0x3F);
        *bad = i + 1;
    }
    *cp = v;
    return need + 1;
}

size_t stint_utf8_decode(const char *s, size_t len, unsigned *cp)
{
    size_t bad;
    unsigned v = 0;
    size_t n;

    if (len == 0)
        return 0;
    n = decode_one((const unsigned char *)s, len, &v, &bad);
    if (n && cp)
        *cp = v;
    return n;
}

size_t stint_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        size_t n, bad;
        unsigned cp;

        /* ASCII fast path, eight bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        n = decode_one(s + i, len - i, &cp, &bad);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

size_t stint_utf8_sanitize(char *dst, size_t cap, const char *str, size_t len, bool *repaired,
                           bool *truncated)
{
    static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    const unsigned char *s = (const unsigned char *)str;
    size_t room = cap ? cap - 1 : 0;
    size_t i = 0, o = 0;
    bool rep = false, cut = false;

    while (i < len) {
        size_t n, bad;
        unsigned cp;
        const char *piece;
        size_t plen;

        /* ASCII fast path, eight bytes at a time (most titles are ASCII: this loop runs for
         * every string of every record the tracker stores) */
        while (i + 8 <= len && o + 8 <= room) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            memcpy(dst + o, s + i, 8);
            i += 8;
            o += 8;
        }
        if (i >= len)
            break;
        n = decode_one(s + i, len - i, &cp, &bad);
        if (n) {
            piece = (const char *)s + i;
            plen = n;
            i += n;
        } else {
            piece = fffd;
            plen = 3;
            i += bad;
            rep = true;
        }
        if (o + plen > room) {
            cut = true;
            /* keep scanning for repair flags? no: what is cut away is not kept, so it is not
             * reported as repaired either. */
            break;
        }
        memcpy(dst + o, piece, plen);
        o += plen;
    }
    if (cap)
        dst[o] = '\0';
    if (repaired)
        *repaired = rep;
    if (truncated)
        *truncated = cut;
    return o;
}
