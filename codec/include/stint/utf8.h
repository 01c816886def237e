/* utf8.h — the one UTF-8 validator of Stint. Every decoder and every source goes through it.
 *
 * Valid means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
 * U+10FFFF. NUL (U+0000) is valid. */
#ifndef STINT_UTF8_H
#define STINT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the length of the longest valid prefix of s[0..len): len when all of it is valid. */
size_t stint_utf8_valid_prefix(const char *s, size_t len);

static inline bool stint_utf8_valid(const char *s, size_t len)
{
    return stint_utf8_valid_prefix(s, len) == len;
}

/* Copies s[0..len) into dst (cap bytes, cap >= 1), replacing each maximal invalid subsequence by
 * U+FFFD and cutting at a character boundary so that the result fits in cap-1 bytes; dst is
 * NUL-terminated. Returns the bytes written (without the NUL); *repaired and *truncated (either
 * may be NULL) are set when that happened. */
size_t stint_utf8_sanitize(char *dst, size_t cap, const char *s, size_t len, bool *repaired,
                           bool *truncated);

/* Decodes one code point at s[0..len); returns its byte length (1..4) and stores it in *cp, or
 * returns 0 when the sequence there is invalid or incomplete. */
size_t stint_utf8_decode(const char *s, size_t len, unsigned *cp);

#ifdef __cplusplus
}
#endif
#endif
