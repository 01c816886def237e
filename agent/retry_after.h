/* retry_after.h — the Retry-After header of a 429/503 answer (RFC 9110, section 10.2.3), turned
 * into a wait in milliseconds (spec/PROTOCOL.md, "Sending", "Retry-After").
 *
 *   Retry-After = HTTP-date / delay-seconds
 *
 * delay-seconds is 1*DIGIT; HTTP-date is the IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") or
 * one of the two obsolete forms a recipient must accept: RFC 850 ("Sunday, 06-Nov-94 08:49:37
 * GMT", two-digit year read as at most 50 years ahead of now) and asctime ("Sun Nov  6 08:49:37
 * 1994"). Leading and trailing blanks are ignored. The result is clamped: a date in the past
 * (or now) is 0, anything over STINT_RETRY_AFTER_MAX_MS (24 h), including a number too large for
 * 64 bits, is STINT_RETRY_AFTER_MAX_MS. */
#ifndef STINT_AGENT_RETRY_AFTER_H
#define STINT_AGENT_RETRY_AFTER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h" /* the agent's error convention */

#define STINT_RETRY_AFTER_MAX_MS ((uint64_t)24 * 3600 * 1000)

/* Parses value[0..len) (not NUL-terminated; NUL bytes are garbage) against the wall clock now_ms
 * (Unix ms). STINT_OK with the clamped wait in *delay_ms; STINT_ESYNTAX (and *delay_ms 0) when
 * the value is neither form: the caller then falls back to its own backoff. */
enum stint_err stint_retry_after_parse(const char *value, size_t len, int64_t now_ms,
                                       uint64_t *delay_ms);

/* Unix seconds of a civil UTC date-time (proleptic Gregorian), for the parser and its tests. */
int64_t stint_retry_after_civil(int64_t year, int month, int day, int hour, int min, int sec);

#endif
