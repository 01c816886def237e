/* number.c — strict number parsing for flags and options (see number.h).
 *
 * strtoull alone accepts " 7", "+7", "-1" (as 2^64 - 1) and "7abc" (stopping at 'a'); every
 * caller used to wrap it with its own checks, each a little different. Here the checks are made
 * once: the first character must be a digit, the whole string must be consumed, errno must stay
 * 0, and the result must be within the caller's range. */
#include "common/number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define NAME(what) ((what) ? (what) : "value")

enum stint_err stint_number_u64(const char *what, const char *s, uint64_t min, uint64_t max,
                                uint64_t *out, struct stint_error *e)
{
    char *end = NULL;
    unsigned long long v;

    if (!s || !*s)
        return stint_error_set(e, STINT_EINVAL, 0, "%s: a number is missing", NAME(what));
    if (*s < '0' || *s > '9')
        goto bad;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || !end || *end || v < min || v > max)
        goto bad;
    *out = (uint64_t)v;
    return STINT_OK;
bad:
    return stint_error_set(e, STINT_EINVAL, 0,
                           "%s: '%.64s' is not a whole number from %llu to %llu", NAME(what), s,
                           (unsigned long long)min, (unsigned long long)max);
}

enum stint_err stint_number_double(const char *what, const char *s, double min, double max,
                                   double *out, struct stint_error *e)
{
    char *end = NULL;
    double v;

    if (!s || !*s)
        return stint_error_set(e, STINT_EINVAL, 0, "%s: a number is missing", NAME(what));
    /* A digit or a point first: refuses space, signs on positive-only ranges are the caller's
     * range to decide, so a leading '-' is allowed; "inf", "nan" and hex are refused below. */
    if (!((*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
        goto bad;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        goto bad;
    errno = 0;
    v = strtod(s, &end);
    if (errno || !end || *end || !isfinite(v) || v < min || v > max)
        goto bad;
    *out = v;
    return STINT_OK;
bad:
    return stint_error_set(e, STINT_EINVAL, 0, "%s: '%.64s' is not a number from %g to %g",
                           NAME(what), s, min, max);
}
