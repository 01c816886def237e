/* loopback.h — whether a host is the machine itself: the one check behind "plain http:// only
 * to loopback" (stintd's server URL, stint-conformance's --url).
 *
 * Loopback is localhost (any case), an IPv4 literal in 127.0.0.0/8 or the IPv6 loopback address
 * (::1 in any of its spellings), nothing else: the host is parsed, never compared by its first
 * bytes, so 127.example.com and localhost.example.com are not loopback. A name other than
 * localhost is not resolved. */
#ifndef STINT_COMMON_LOOPBACK_H
#define STINT_COMMON_LOOPBACK_H

#include <stdbool.h>

/* True when host (as in a URL: an IPv6 literal in brackets or not, no port) is loopback. NULL
 * and "" are not. */
bool stint_loopback_host(const char *host);

#endif
