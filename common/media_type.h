/* media_type.h — the media type of an HTTP Content-Type value.
 *
 * "Application/JSON; charset=utf-8" names the media type "application/json": leading blanks
 * dropped, lower-cased, cut at the first ';', space or tab. Both sides of the protocol compare
 * media types this way (spec/PROTOCOL.md §6.3, "Request headers"). */
#ifndef STINT_COMMON_MEDIA_TYPE_H
#define STINT_COMMON_MEDIA_TYPE_H

#include <stddef.h>

/* Writes the media type of content_type (a header value, NUL-terminated) into out, cut to
 * cap - 1 bytes and NUL-terminated. cap must be at least 1. */
void stint_media_type(const char *content_type, char *out, size_t cap);

#endif
