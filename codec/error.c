/* error.c — the strerror switch and the error-record helpers.
 *
 * The switch has no default case on purpose: adding an enum value without a message is a
 * compiler warning (-Wswitch), hence an error under -Werror. */
#include "stint/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *stint_strerror(enum stint_err err)
{
    switch (err) {
    case STINT_OK:
        return "ok";
    case STINT_ENOMEM:
        return "out of memory";
    case STINT_EINVAL:
        return "invalid argument";
    case STINT_ETRUNC:
        return "input truncated";
    case STINT_EWIRE:
        return "malformed protobuf";
    case STINT_ELIMIT:
        return "over limit";
    case STINT_EUTF8:
        return "invalid UTF-8";
    case STINT_EJSON:
        return "invalid JSON";
    case STINT_ETYPE:
        return "wrong type or value";
    case STINT_EIO:
        return "I/O error";
    case STINT_ESYNTAX:
        return "syntax error";
    case STINT_EUNSUPPORTED:
        return "not supported";
    case STINT_EDIFF:
        return "decoders disagree";
    case STINT_EPERM:
        return "permission denied";
    case STINT_EBUSY:
        return "busy";
    }
    return "unknown error";
}

enum stint_err stint_error_set(struct stint_error *e, enum stint_err code, size_t offset,
                               const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    e->code = code;
    e->offset = offset;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

void stint_error_clear(struct stint_error *e)
{
    if (!e)
        return;
    e->code = STINT_OK;
    e->offset = 0;
    e->msg[0] = '\0';
}
