/* fuzz_browser_message.c — a message from the browser to stint-browser-host (spec/AGENT.md,
 * "Browser messages").
 *
 * The extension's messages are the host's only input, and a browser passes on whatever an
 * extension sends. Any input must be refused with a well-formed error or parsed into a message
 * whose values are in range: times and ids non-negative, strings NUL-terminated within their
 * buffers and valid UTF-8, nothing left of a private window's url or title. An accepted message
 * must give a forwarded line that fits the control socket, is JSON, names the command and type,
 * and parses back (through the same parser, with the cmd and pid members) to the same message.
 *
 * STINT_FUZZ_LIBS: stint_browser_host_core
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "invariants.h"
#include "message.h"
#include "stint/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stint_browser_msg m, again;
    struct stint_error err;
    enum stint_err ret;
    char line[STINT_BROWSER_LINE_MAX];
    size_t len = 0;

    ret = stint_browser_msg_parse((const char *)data, size, &m, &err);
    stint_fuzz_check_result(ret, &err, size, "browser message");
    if (ret != STINT_OK)
        return 0;
    STINT_FUZZ_CHECK(m.time_ms >= 0 && m.window >= 0 && m.tab >= -1, "negative value accepted");
    STINT_FUZZ_CHECK(strlen(m.url) <= STINT_BROWSER_URL_MAX, "url over its cap");
    STINT_FUZZ_CHECK(strlen(m.title) <= STINT_BROWSER_TITLE_MAX, "title over its cap");
    STINT_FUZZ_CHECK(stint_utf8_valid(m.url, strlen(m.url)), "url cut inside a character");
    STINT_FUZZ_CHECK(stint_utf8_valid(m.title, strlen(m.title)), "title cut inside a character");
    if (m.is_private)
        STINT_FUZZ_CHECK(!m.url[0] && !m.title[0], "a private window kept its url or title");
    ret = stint_browser_msg_line(&m, 4242, line, sizeof(line), &len, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "no line for an accepted message: %s", err.msg);
    STINT_FUZZ_CHECK(len < sizeof(line) && strlen(line) == len, "line length %zu", len);
    ret = stint_browser_msg_parse(line, len, &again, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "line %s does not parse back: %s", line, err.msg);
    STINT_FUZZ_CHECK(again.type == m.type && again.time_ms == m.time_ms &&
                         again.window == m.window && again.tab == m.tab &&
                         again.is_private == m.is_private,
                     "line %s parsed back to other values", line);
    if (!m.url_cut && !m.title_cut)
        STINT_FUZZ_CHECK(strcmp(again.url, m.url) == 0 && strcmp(again.title, m.title) == 0 &&
                             strcmp(again.browser, m.browser) == 0,
                         "line %s changed a string", line);
    return 0;
}
