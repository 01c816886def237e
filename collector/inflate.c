/* inflate.c — gzip bodies through zlib, bounded (see inflate.h).
 *
 * The output grows in steps of at most 256 KiB and never past `max`, so memory follows the real
 * size of the data up to the cap and no further, whatever the compression ratio claims. */
#include "inflate.h"

#include <string.h>

#include <zlib.h>

#define STEP ((size_t)256 << 10)

enum stint_err stint_inflate_gzip(const uint8_t *in, size_t len, size_t max, struct stint_buf *out,
                                  struct stint_error *err)
{
    z_stream zs;
    enum stint_err rc = STINT_OK;
    int zr = Z_OK;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return stint_error_set(err, STINT_ENOMEM, 0, "gzip: cannot start zlib");
    zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const-correct */
    zs.avail_in = 0;
    for (;;) {
        size_t room, want;

        if (zs.avail_in == 0) {
            size_t used = (size_t)(zs.next_in - (const Bytef *)in);
            size_t left = len - used;
            zs.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
        }
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* another gzip member follows */
            if (inflateReset(&zs) != Z_OK) {
                rc = stint_error_set(err, STINT_ESYNTAX, zs.total_in, "gzip: reset failed");
                goto cleanup;
            }
        }
        if (out->len >= max) {
            /* full: one more byte of output means over the limit */
            uint8_t probe;
            zs.next_out = &probe;
            zs.avail_out = 1;
            zr = inflate(&zs, Z_NO_FLUSH);
            if (zs.avail_out == 0) {
                rc = stint_error_set(err, STINT_ELIMIT, 0,
                                     "gzip: body decompresses to more than %zu bytes", max);
                goto cleanup;
            }
        } else {
            room = out->cap - out->len;
            if (room == 0) {
                want = max - out->len < STEP ? max - out->len : STEP;
                rc = stint_buf_reserve(out, want);
                if (rc != STINT_OK) {
                    rc = stint_error_set(err, rc, 0, "gzip: out of memory");
                    goto cleanup;
                }
                room = out->cap - out->len;
            }
            if (room > max - out->len)
                room = max - out->len;
            if (room > (1u << 30))
                room = 1u << 30;
            zs.next_out = out->data + out->len;
            zs.avail_out = (uInt)room;
            zr = inflate(&zs, Z_NO_FLUSH);
            out->len += room - zs.avail_out;
        }
        if (zr == Z_STREAM_END)
            continue;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = stint_error_set(err, STINT_ESYNTAX, zs.total_in, "gzip: stream is truncated");
            goto cleanup;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = stint_error_set(err, STINT_ESYNTAX, zs.total_in, "gzip: %s",
                                 zs.msg ? zs.msg : "invalid data");
            goto cleanup;
        }
    }
cleanup:
    inflateEnd(&zs);
    return rc;
}
