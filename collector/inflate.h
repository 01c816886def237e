/* inflate.h — gzip request bodies, decompressed under a hard cap. */
#ifndef STINT_COLLECTOR_INFLATE_H
#define STINT_COLLECTOR_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"

/* Appends the decompression of the gzip stream in[0..len) to out, never letting out->len pass
 * max: STINT_ELIMIT as soon as the output would (a decompression bomb costs at most max bytes
 * of memory and stops there). STINT_ESYNTAX for data that is not gzip or is truncated, or for
 * bytes after the stream's end; STINT_ENOMEM when memory runs out. Concatenated gzip members
 * (RFC 1952) are decoded one after another. */
enum stint_err stint_inflate_gzip(const uint8_t *in, size_t len, size_t max, struct stint_buf *out,
                                  struct stint_error *err);

#endif
