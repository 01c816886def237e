/* fuzz_jsonl_diff.c — the JSONL event-line parser (agent/jsonl_event.c, on yajl) against jansson.
 *
 * The input is one line. Invariants: the parser calls it JSON (anything but STINT_EJSON) exactly
 * when jansson (JSON_REJECT_DUPLICATES, no JSON_ALLOW_NUL) parses it and it holds no raw NUL
 * byte (jansson stops reading at one; RFC 8259 has no raw control characters); an event the
 * parser accepts has the time and the strings jansson reads from the same text, and its strings
 * are valid UTF-8. Inputs nested deeper than jansson's limit (2048) are not compared.
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 * STINT_FUZZ_DICT: json.dict
 */
#include <jansson.h>
#include <string.h>

#include "invariants.h"
#include "jsonl_event.h"
#include "stint/utf8.h"

static struct stint_jsonl_parser *parser;

/* Whether jansson's string member `key` of o is (s, len); absent or null is "". */
static bool same_string(json_t *o, const char *key, const char *s, size_t len)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        return len == 0;
    }
    return json_is_string(v) && json_string_length(v) == len &&
           (len == 0 || memcmp(json_string_value(v), s, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stint_jsonl_event ev;
    json_error_t jerr;
    json_t *o = NULL;
    char msg[200];
    size_t open = 0;
    enum stint_err err;

    if (size > 65536) {
        return 0; /* the source refuses longer lines before parsing */
    }
    for (size_t i = 0; i < size; i++) {
        open += data[i] == '[' || data[i] == '{';
    }
    if (!parser) {
        STINT_FUZZ_CHECK(stint_jsonl_parser_create(&parser) == STINT_OK, "jsonl_diff: create");
    }
    err = stint_jsonl_parse(parser, (const char *)data, size, &ev, msg, sizeof(msg));
    STINT_FUZZ_CHECK(err == STINT_OK || err == STINT_EJSON || err == STINT_ETYPE,
                     "jsonl_diff: error %d", err);
    STINT_FUZZ_CHECK(strlen(msg) < sizeof(msg) && (err == STINT_OK) == (msg[0] == '\0'),
                     "jsonl_diff: message \"%s\" with error %d", msg, err);
    if (open > 2000) {
        return 0;
    }
    o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    bool jansson_json = o != NULL && !memchr(data, 0, size);
    STINT_FUZZ_CHECK((err != STINT_EJSON) == jansson_json,
                     "jsonl_diff: the parser says %s (%s), jansson %s (%s)",
                     err == STINT_EJSON ? "not JSON" : "JSON", msg,
                     jansson_json ? "JSON" : "not JSON", o ? "NUL byte" : jerr.text);
    if (err == STINT_OK) {
        json_t *t = json_object_get(o, "time");
        STINT_FUZZ_CHECK(json_is_object(o) && json_is_integer(t) &&
                             json_integer_value(t) == ev.time_ms,
                         "jsonl_diff: time %lld", (long long)ev.time_ms);
        STINT_FUZZ_CHECK(
            stint_utf8_valid(ev.app, ev.app_len) && stint_utf8_valid(ev.path, ev.path_len) &&
                stint_utf8_valid(ev.title, ev.title_len) && stint_utf8_valid(ev.url, ev.url_len),
            "jsonl_diff: a string that is not UTF-8");
        STINT_FUZZ_CHECK(same_string(o, "app", ev.app, ev.app_len) &&
                             same_string(o, "path", ev.path, ev.path_len) &&
                             same_string(o, "title", ev.title, ev.title_len) &&
                             same_string(o, "url", ev.url, ev.url_len),
                         "jsonl_diff: a string differs from jansson's");
    }
    json_decref(o);
    return 0;
}
