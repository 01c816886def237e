/* media_type.c — the media type of a Content-Type header value (see media_type.h).
 *
 * Type and subtype are case-insensitive (RFC 9110 §8.3.1), parameters are not looked at: the
 * protocol's content types carry none that change the bytes. ASCII-only lower-casing on purpose,
 * so the answer does not depend on the locale. */
#include "common/media_type.h"

void stint_media_type(const char *ct, char *out, size_t cap)
{
    size_t i = 0;

    while (*ct == ' ' || *ct == '\t')
        ct++;
    for (; ct[i] && ct[i] != ';' && ct[i] != ' ' && ct[i] != '\t' && i + 1 < cap; i++)
        out[i] = (char)((ct[i] >= 'A' && ct[i] <= 'Z') ? ct[i] + 32 : ct[i]);
    out[i] = '\0';
}
