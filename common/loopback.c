/* loopback.c — the loopback check (see loopback.h).
 *
 * inet_pton does the parsing, so every spelling the C library accepts as an address is judged
 * by its value: 127.1.2.3 and 0:0::1 are loopback, 127.0.0.1.example and 1::1 are not. */
#include "common/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

bool stint_loopback_host(const char *host)
{
    char h[64];
    size_t n;
    struct in_addr a4;
    struct in6_addr a6;

    if (!host)
        return false;
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof(h))
        return false;
    memcpy(h, host, n);
    h[n] = '\0';
    if (strcasecmp(h, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, h, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}
