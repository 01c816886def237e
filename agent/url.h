/* url.h — how a URL from a source is cut to what Stint stores (spec/AGENT.md, "URLs").
 *
 * By default only the origin is kept: lower-cased scheme and host, and the port when it is not
 * the scheme's default ("https://github.com/x/y?q#f" -> "https://github.com"). A URL with no
 * authority ("about:blank", "mailto:a@b") keeps its scheme only ("about:"), and a bare host as
 * the JSONL example has ("jqueryui.com/demos") keeps the host ("jqueryui.com"). The full mode
 * keeps the URL as given. Both modes always drop userinfo ("user:password@"): credentials are
 * never stored. UTF-8 repair and the length limit are stint_record_set's job, after the cut.
 */
#ifndef STINT_AGENT_URL_H
#define STINT_AGENT_URL_H

#include <stdbool.h>
#include <stddef.h>

enum stint_url_mode {
    STINT_URL_HOST = 0, /* scheme and host (and a non-default port): the default */
    STINT_URL_FULL = 1, /* everything but userinfo */
};

/* Writes the cut form of in[0..len) into out (cap bytes, cap >= 1, NUL-terminated) and returns
 * its length. The result is never longer than the input, so cap = len + 1 always suffices;
 * with a smaller cap the result is cut at cap - 1 bytes (the caller repairs a split character
 * through stint_record_set). Never fails; empty input gives "". */
size_t stint_url_cut(const char *in, size_t len, enum stint_url_mode mode, char *out, size_t cap);

/* Parses "host" or "full" (the config's url_mode); false for anything else. */
bool stint_url_mode_parse(const char *s, enum stint_url_mode *out);

/* "host" or "full". */
const char *stint_url_mode_name(enum stint_url_mode mode);

#endif
