/* base64.h — RFC 4648 base64, for bytes fields in JSON. */
#ifndef STINT_BASE64_H
#define STINT_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends the padded standard encoding of p[0..n) to out. */
enum stint_err stint_base64_encode(const uint8_t *p, size_t n, struct stint_buf *out);

/* Decodes s[0..len), standard or URL-safe alphabet, padding optional (but, when present, correct).
 * Writes at most cap bytes to dst and the count to *outlen. Returns STINT_ESYNTAX for a character
 * outside the alphabet or bad padding, STINT_ELIMIT when the result exceeds cap. */
enum stint_err stint_base64_decode(const char *s, size_t len, uint8_t *dst, size_t cap,
                                   size_t *outlen);

#ifdef __cplusplus
}
#endif
#endif
