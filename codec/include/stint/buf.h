/* buf.h — a growable byte buffer with a hard cap, used for every encoder's output.
 *
 * A zeroed struct is an empty buffer with the default cap (STINT_BUF_DEFAULT_MAX). Growth
 * doubles, so appending n bytes costs amortised O(n). */
#ifndef STINT_BUF_H
#define STINT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STINT_BUF_DEFAULT_MAX ((size_t)1 << 30)

struct stint_buf {
    uint8_t *data; /* owned; release with stint_buf_free() */
    size_t len;
    size_t cap;
    size_t max; /* 0: STINT_BUF_DEFAULT_MAX */
};

/* Makes room for `extra` more bytes. STINT_ENOMEM when allocation fails or max would be passed. */
enum stint_err stint_buf_reserve(struct stint_buf *b, size_t extra);
enum stint_err stint_buf_append(struct stint_buf *b, const void *p, size_t n);
enum stint_err stint_buf_append_str(struct stint_buf *b, const char *s);
/* Appends a printf-formatted string (without its NUL). */
enum stint_err stint_buf_printf(struct stint_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Empties the buffer, keeping its memory. */
void stint_buf_reset(struct stint_buf *b);
/* Releases the memory; the buffer is empty and reusable afterwards. NULL is fine. */
void stint_buf_free(struct stint_buf *b);

#ifdef __cplusplus
}
#endif
#endif
