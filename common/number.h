/* number.h — strict parsing of the numbers users type: command-line flags and option values.
 *
 * Strict means: the whole string is the number (no leading space or sign, no trailing text, no
 * empty string), decimal only, and within the caller's inclusive range; anything else is refused
 * with a message that names the option and the value ("--timeout: 'abc' is not a whole number
 * from 1 to 3600"). Conventions: `what` names the option for the message (may be NULL: "value");
 * *out is written only on success; e may be NULL. */
#ifndef STINT_COMMON_NUMBER_H
#define STINT_COMMON_NUMBER_H

#include <stdint.h>

#include <stint/error.h>

/* Parses s as a decimal integer in [min, max] into *out. STINT_EINVAL (with a message in e) when
 * s is NULL, empty, signed, has other characters, or is out of range. */
enum stint_err stint_number_u64(const char *what, const char *s, uint64_t min, uint64_t max,
                                uint64_t *out, struct stint_error *e);

/* Parses s as a finite decimal number (strtod syntax, no leading space, no hex, inf or nan) in
 * [min, max] into *out. STINT_EINVAL with a message in e otherwise. */
enum stint_err stint_number_double(const char *what, const char *s, double min, double max,
                                   double *out, struct stint_error *e);

#endif
