/* fuzz_filter_rule.c — a [filters] rule (agent/filters.c) and a window it is applied to.
 *
 * Input: the rule's text, then a NUL byte, then the window as "APP\nTITLE\nURL" (missing parts
 * are empty). Invariants: a refusal is STINT_EINVAL (or ENOMEM) with a message that starts
 * "fuzz: [filters] rule: "; stint_filters_check and stint_filters_add agree; an accepted rule
 * keeps its text; applying it returns 0 or -1, never changes the times, and leaves a record a
 * server accepts (a dropped span is a private record with no strings; a redacted title is the
 * app's name or the rule's text).
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"
#include "invariants.h"
#include "stint/record.h"
#include "url.h"

static size_t part(const char *s, size_t len, size_t *pos, const char **out)
{
    size_t start = *pos;
    while (*pos < len && s[*pos] != '\n') {
        (*pos)++;
    }
    *out = s + start;
    size_t n = *pos - start;
    if (*pos < len) {
        (*pos)++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct stint_record r, before;
    static char cut[STINT_URL_MAX + 1];
    struct stint_filters *f = NULL;
    struct stint_error e1, e2;
    char *text = malloc(size + 1);
    const char *app, *title, *url;
    size_t rule_len, pos, app_len, title_len, url_len;

    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    rule_len = strlen(text);
    pos = rule_len < size ? rule_len + 1 : size;
    app_len = part(text, size, &pos, &app);
    title_len = part(text, size, &pos, &title);
    url_len = part(text, size, &pos, &url);

    if (stint_filters_create(&f) != STINT_OK) {
        goto cleanup;
    }
    enum stint_err c = stint_filters_check(text, "fuzz", &e1);
    enum stint_err a = stint_filters_add(f, text, "fuzz", &e2);
    STINT_FUZZ_CHECK(c == a, "filters: check %d, add %d", c, a);
    if (a != STINT_OK) {
        STINT_FUZZ_CHECK(a == STINT_EINVAL || a == STINT_ENOMEM, "filters: code %d", a);
        STINT_FUZZ_CHECK(a == STINT_ENOMEM || strncmp(e2.msg, "fuzz: [filters] rule: ", 22) == 0,
                         "filters: message \"%s\"", e2.msg);
        STINT_FUZZ_CHECK(stint_filters_count(f) == 0, "filters: a refused rule was kept");
        goto cleanup;
    }
    STINT_FUZZ_CHECK(stint_filters_count(f) == 1, "filters: count");
    STINT_FUZZ_CHECK(stint_filters_rule(f, 0) != NULL, "filters: no text");

    stint_record_clear(&r);
    r.seq = 7;
    r.kind = STINT_KIND_ACTIVE;
    r.start_ms = 1000;
    r.end_ms = 5000;
    stint_record_set(&r, STINT_FIELD_APP, app, app_len);
    stint_record_set(&r, STINT_FIELD_TITLE, title, title_len);
    size_t n = stint_url_cut(url, url_len, STINT_URL_FULL, cut, sizeof(cut));
    stint_record_set(&r, STINT_FIELD_URL, cut, n);
    stint_record_copy(&before, &r);
    int rc = stint_filters_apply(f, &r, url, url_len);
    STINT_FUZZ_CHECK(rc == 0 || rc == -1, "filters: apply returned %d", rc);
    STINT_FUZZ_CHECK(r.start_ms == 1000 && r.end_ms == 5000 && r.seq == 7, "filters: times moved");
    if (rc == -1) {
        STINT_FUZZ_CHECK(stint_record_equal(&r, &before), "filters: no match but changed");
    } else {
        enum stint_filter_action act;
        enum stint_filter_match m;
        char reason[256];
        STINT_FUZZ_CHECK(stint_filters_rule_info(f, 0, &act, &m), "filters: info");
        STINT_FUZZ_CHECK(stint_record_check(&r, true, reason, sizeof(reason)) == 0,
                         "filters: result refused: %s", reason);
        if (act == STINT_FILTER_DROP) {
            STINT_FUZZ_CHECK(r.kind == STINT_KIND_PRIVATE &&
                                 r.app_len + r.path_len + r.title_len + r.url_len == 0,
                             "filters: drop left something");
        } else if (act == STINT_FILTER_NO_URL) {
            STINT_FUZZ_CHECK(r.url_len == 0, "filters: no-url left a URL");
        } else if (act == STINT_FILTER_HOST_ONLY) {
            STINT_FUZZ_CHECK(r.url_len <= before.url_len, "filters: host-only grew the URL");
        }
    }
cleanup:
    stint_filters_destroy(f);
    free(text);
    return 0;
}
