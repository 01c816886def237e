/* error.h — Stint's one error enum and the detailed error record decoders fill in.
 *
 * Conventions for the whole codec API (codec/include/stint/):
 *   - every function that can fail returns enum stint_err; STINT_OK is 0;
 *   - functions that parse untrusted input take a `struct stint_error *` (NULL is fine) and fill
 *     it with the code, the byte offset in the input, and a message naming what was wrong;
 *   - values of enum stint_err are append-only: they cross the control socket and appear in logs.
 */
#ifndef STINT_ERROR_H
#define STINT_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum stint_err {
    STINT_OK = 0,
    STINT_ENOMEM = 1,        /* an allocation failed, or a buffer cap was reached */
    STINT_EINVAL = 2,        /* a caller passed an invalid argument */
    STINT_ETRUNC = 3,        /* input ended in the middle of a value */
    STINT_EWIRE = 4,         /* malformed protobuf: bad tag, wire type or varint */
    STINT_ELIMIT = 5,        /* a length, count or depth over its documented limit */
    STINT_EUTF8 = 6,         /* a string is not valid UTF-8 */
    STINT_EJSON = 7,         /* text is not JSON */
    STINT_ETYPE = 8,         /* valid syntax, wrong type or out-of-range value for the field */
    STINT_EIO = 9,           /* reading or writing a file or stream failed */
    STINT_ESYNTAX = 10,      /* malformed text in a non-JSON format (PHP literal, form) */
    STINT_EUNSUPPORTED = 11, /* the operation does not exist for this format */
    STINT_EDIFF = 12,        /* two decoders disagreed on the same input */
    STINT_EPERM = 13,        /* not allowed: a peer of another user (the agent's control socket) */
    STINT_EBUSY = 14,        /* the same operation is already running; one at a time */
};

/* What went wrong, where. `offset` is a byte offset into the input being decoded (0 when the
 * error is not tied to a position); `msg` is NUL-terminated and names the field when there is one.
 */
struct stint_error {
    enum stint_err code;
    size_t offset;
    char msg[256];
};

/* A static, human-readable name for an error code ("input truncated"). Never NULL. */
const char *stint_strerror(enum stint_err err);

/* Fills *e (if e is not NULL) with code, offset and a printf-style message, and returns code,
 * so a caller can write `return stint_error_set(e, STINT_EUTF8, off, "title: ...")`. */
enum stint_err stint_error_set(struct stint_error *e, enum stint_err code, size_t offset,
                               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Resets *e to STINT_OK, offset 0, empty message. NULL is fine. */
void stint_error_clear(struct stint_error *e);

#ifdef __cplusplus
}
#endif
#endif
