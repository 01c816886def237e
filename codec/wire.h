/* wire.h — raw protobuf wire reading for diagnostics (internal to the codec, not installed).
 *
 * Decoding is nanopb's and protobuf-c's job; these helpers only look at bytes those libraries
 * have already judged, to say *where* something is: which field an error offset falls in, or
 * whether an input has a feature one library refuses (compare.c). */
#ifndef STINT_CODEC_WIRE_H
#define STINT_CODEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Reads a varint at p[0..end): returns its length (1..10) and stores the value, or returns 0
 * when it is unterminated within 10 bytes or runs past end. */
static inline size_t stint_wire_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    size_t i;

    *v = 0;
    for (i = 0; i < 10 && p + i < end; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return i + 1;
    }
    return 0;
}

/* Skips the value of a field of wire type wt at p; returns the position after it, or NULL when
 * it does not fit before end or wt is not a valid type. */
static inline const uint8_t *stint_wire_skip(const uint8_t *p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    size_t n;

    switch (wt) {
    case 0:
        n = stint_wire_varint(p, end, &v);
        return n ? p + n : NULL;
    case 1:
        return end - p >= 8 ? p + 8 : NULL;
    case 5:
        return end - p >= 4 ? p + 4 : NULL;
    case 2:
        n = stint_wire_varint(p, end, &v);
        if (n == 0 || v > (uint64_t)(end - p) - n)
            return NULL;
        return p + n + v;
    default:
        return NULL;
    }
}

#endif
