/* ctext.h — X11 window titles in COMPOUND_TEXT and STRING, converted to UTF-8.
 *
 * Clients that do not set _NET_WM_NAME (xterm, Xt and Motif programs) put their title in WM_NAME:
 * as STRING (ISO 8859-1) when it fits, otherwise as COMPOUND_TEXT, the ISO 2022 subset of the X
 * Consortium's "Compound Text Encoding" (version 1.1). Used by source_x11.c; separate so that it
 * is tested and fuzzed without an X server.
 */
#ifndef STINT_AGENT_CTEXT_H
#define STINT_AGENT_CTEXT_H

#include <stddef.h>

/* Converts COMPOUND_TEXT in[0..len) to UTF-8 in out (cap bytes, NUL-terminated; 4 * len + 4 is
 * always enough) and returns the bytes written. Converted: GL/GR designations of ASCII and
 * JIS X0201-Roman; the ISO 8859 right halves (8859-1 to -10, -13 to -16, through iconv); GB 2312,
 * JIS X0208 and KS C 5601 (through iconv's EUC tables); UTF-8 in extended segments (ESC % G ...
 * ESC % @). Anything else (other sets, broken sequences, C0/C1 controls but TAB and LF) becomes
 * U+FFFD or is dropped; the output is always valid UTF-8. Never fails. */
size_t stint_ctext_to_utf8(const char *in, size_t len, char *out, size_t cap);

/* ISO 8859-1 (the STRING type) to UTF-8; same contract. */
size_t stint_latin1_to_utf8(const char *in, size_t len, char *out, size_t cap);

#endif
