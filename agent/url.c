/* url.c — cutting a URL to what is stored.
 *
 * Not a full RFC 3986 parser: just enough structure to find the scheme, the authority and the
 * userinfo inside it, on input that may be anything a source hands over (a browser's address
 * bar, a bare host name, garbage). The shapes:
 *
 *     scheme "://" [userinfo "@"] host [":" port] [path] ["?" query] ["#" fragment]
 *     scheme ":" opaque                         (about:blank, mailto:a@b, data:...)
 *     [userinfo "@"] host [":" port] [path...]   (no scheme: "jqueryui.com/demos")
 *
 * "localhost:8080/x" reads as a bare host with a port (what follows the colon is digits), not
 * as the scheme "localhost". Only ASCII letters are lower-cased, so a host in UTF-8 (an IDN
 * that a source did not punycode) passes through untouched and is repaired, if it needs to be,
 * by stint_record_set like any other string. Surrounding ASCII white space is dropped.
 */
#include "url.h"

#include <string.h>

struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n, bool lower)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) {
        char c = s[i];
        if (lower && c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        o->buf[o->len++] = c;
    }
    o->buf[o->len] = '\0';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of the scheme at s (without the ':'), or 0 when s does not start with one. */
static size_t scheme_len(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !is_alpha(s[0])) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        char c = s[i];
        if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) {
            break;
        }
    }
    return i < len && s[i] == ':' ? i : 0;
}

/* Bytes of s before the first of `stops` (at most three bytes) or a NUL. Compared inline, not
 * by strchr() per byte: this runs over every URL of every record the tracker stores. */
static size_t span_until(const char *s, size_t len, const char *stops)
{
    char a = stops[0], b = a ? stops[1] : '\0', c = b ? stops[2] : '\0';
    size_t i = 0;
    b = b ? b : a; /* an absent stop repeats the first: no effect */
    c = c ? c : a;
    while (i < len) {
        char ch = s[i];
        if (ch == '\0' || ch == a || ch == b || ch == c) {
            break;
        }
        i++;
    }
    return i;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen) {
        return false;
    }
    for (size_t i = 0; i < alen; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != b[i]) {
            return false;
        }
    }
    return true;
}

/* A port the scheme implies, which the host form leaves out. */
static bool default_port(const char *scheme, size_t slen, const char *port, size_t plen)
{
    static const struct {
        const char *scheme, *port;
    } known[] = {{"http", "80"}, {"https", "443"}, {"ws", "80"}, {"wss", "443"}, {"ftp", "21"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (ieq(scheme, slen, known[i].scheme) && plen == strlen(known[i].port) &&
            memcmp(port, known[i].port, plen) == 0) {
            return true;
        }
    }
    return false;
}

/* Writes host[:port] of an authority (userinfo already gone). */
static void put_hostport(struct out *o, const char *scheme, size_t slen, const char *hp, size_t len)
{
    size_t hl = 0;
    if (len && hp[0] == '[') {
        hl = span_until(hp, len, "]");
        hl = hl < len ? hl + 1 : len;
    } else {
        hl = span_until(hp, len, ":");
    }
    put(o, hp, hl, true);
    if (hl < len && hp[hl] == ':') {
        const char *port = hp + hl + 1;
        size_t plen = len - hl - 1;
        if (plen && !default_port(scheme, slen, port, plen)) {
            put(o, hp + hl, len - hl, false);
        }
    }
}

size_t stint_url_cut(const char *in, size_t len, enum stint_url_mode mode, char *out, size_t cap)
{
    struct out o = {out, cap, 0};
    size_t slen = 0, auth_at = 0, auth_len = 0, user_len = 0;
    bool bare = false;

    if (cap == 0) {
        return 0;
    }
    out[0] = '\0';
    while (len && is_space(in[0])) {
        in++;
        len--;
    }
    while (len && is_space(in[len - 1])) {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    slen = scheme_len(in, len);
    if (slen) {
        const char *rest = in + slen + 1;
        size_t rlen = len - slen - 1;
        if (rlen >= 2 && rest[0] == '/' && rest[1] == '/') {
            auth_at = slen + 3;
        } else {
            /* "host:8080..." is a bare host with a port, not a scheme */
            size_t d = span_until(rest, rlen, "/?#");
            bool digits = d > 0;
            for (size_t i = 0; i < d; i++) {
                digits = digits && is_digit(rest[i]);
            }
            if (!digits) {
                /* no authority: the scheme alone, or all of it */
                if (mode == STINT_URL_FULL) {
                    put(&o, in, slen, true);
                    put(&o, in + slen, len - slen, false);
                } else {
                    put(&o, in, slen + 1, true);
                }
                return o.len;
            }
            slen = 0;
            bare = true;
        }
    } else {
        bare = true;
    }
    if (bare) {
        auth_at = 0;
    }
    auth_len = span_until(in + auth_at, len - auth_at, "/?#");
    /* userinfo ends at the last '@' of the authority */
    for (size_t i = auth_len; i > 0; i--) {
        if (in[auth_at + i - 1] == '@') {
            user_len = i;
            break;
        }
    }
    if (mode == STINT_URL_FULL) {
        if (!bare) {
            put(&o, in, slen, true);
            put(&o, "://", 3, false);
        }
        put(&o, in + auth_at + user_len, auth_len - user_len, true);
        put(&o, in + auth_at + auth_len, len - auth_at - auth_len, false);
        return o.len;
    }
    if (!bare) {
        put(&o, in, slen, true);
        put(&o, "://", 3, false);
    }
    put_hostport(&o, in, slen, in + auth_at + user_len, auth_len - user_len);
    return o.len;
}

bool stint_url_mode_parse(const char *s, enum stint_url_mode *out)
{
    if (strcmp(s, "host") == 0) {
        *out = STINT_URL_HOST;
        return true;
    }
    if (strcmp(s, "full") == 0) {
        *out = STINT_URL_FULL;
        return true;
    }
    return false;
}

const char *stint_url_mode_name(enum stint_url_mode mode)
{
    return mode == STINT_URL_FULL ? "full" : "host";
}
