/* filters.c — the user's privacy rules (filters.h; spec/AGENT.md, "Filters").
 *
 * Rules are few (at most STINT_FILTERS_MAX) and a record is built once per focus change, so a
 * list tried in order is all that is needed. Each rule is compiled once, when it is added: a glob
 * is kept as text for fnmatch(3), a title pattern as a PCRE2 code with its match data, so applying
 * a rule allocates nothing.
 *
 * Why PCRE2 and not POSIX ERE (regcomp): titles are UTF-8 and users write patterns the way every
 * other tool takes them — `(?i)` for case, `\d`, `\b`, non-greedy parts — which ERE lacks;
 * regexec's behaviour on bytes that are not valid in the locale is unspecified while PCRE2's
 * PCRE2_MATCH_INVALID_UTF is defined for them (a window title is whatever the application set);
 * and PCRE2 bounds a match (match and depth limits), where a glibc ERE with back-tracking has no
 * bound. The limits are set low enough that a pathological pattern costs milliseconds, not
 * seconds; a title that hits them counts as matching, so a privacy rule fails closed.
 */
#define _GNU_SOURCE /* FNM_CASEFOLD */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "filters.h"

#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/* "agent.ini:12: " before a message, or nothing */
#define PFX(w) ((w) && *(w) ? (w) : ""), ((w) && *(w) ? ": " : "")

#define MATCH_LIMIT 100000u
#define DEPTH_LIMIT 10000u

struct rule {
    char text[STINT_FILTER_RULE_MAX];
    enum stint_filter_action action;
    enum stint_filter_match match;
    /* offsets into text, not pointers: the array of rules is realloc'd as rules are added */
    size_t pattern;
    size_t redact; /* 0: the app's name (text starts with the action word, never TEXT) */
    size_t redact_len;
    pcre2_code *re;       /* STINT_FILTER_TITLE */
    pcre2_match_data *md; /* STINT_FILTER_TITLE */
};

struct stint_filters {
    struct rule *rules;
    size_t n;
    pcre2_match_context *mctx;
};

static const char *const action_names[] = {"drop", "redact-title", "host-only", "no-url"};
static const char *const match_names[] = {"app", "path", "title", "host"};

const char *stint_filter_action_name(enum stint_filter_action a)
{
    return (unsigned)a < 4 ? action_names[a] : "?";
}

const char *stint_filter_match_name(enum stint_filter_match m)
{
    return (unsigned)m < 4 ? match_names[m] : "?";
}

static void rule_free(struct rule *r)
{
    pcre2_match_data_free(r->md);
    pcre2_code_free(r->re);
    r->md = NULL;
    r->re = NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses text into r (r->text holds a copy; the pointers go into it). */
static enum stint_err parse(struct rule *r, const char *text, const char *where,
                            struct stint_error *e)
{
    size_t len = strlen(text);
    char *p, *word;
    size_t n;

    memset(r, 0, sizeof(*r));
    if (len >= sizeof(r->text)) {
        return stint_error_set(e, STINT_EINVAL, 0, "%s%s[filters] rule: longer than %zu bytes",
                               PFX(where), sizeof(r->text) - 1);
    }
    memcpy(r->text, text, len + 1);
    p = r->text;
    while (is_space(*p)) {
        p++;
    }
    /* the action */
    word = p;
    while (*p && !is_space(*p)) {
        p++;
    }
    n = (size_t)(p - word);
    if (n == 0) {
        return stint_error_set(
            e, STINT_EINVAL, 0,
            "%s%s[filters] rule: empty; the form is ACTION MATCH PATTERN (drop app firefox)",
            PFX(where));
    }
    if (n == 4 && memcmp(word, "drop", 4) == 0) {
        r->action = STINT_FILTER_DROP;
    } else if (n == 12 && memcmp(word, "redact-title", 12) == 0) {
        r->action = STINT_FILTER_REDACT_TITLE;
    } else if (n > 13 && memcmp(word, "redact-title:", 13) == 0) {
        r->action = STINT_FILTER_REDACT_TITLE;
        r->redact = (size_t)(word + 13 - r->text);
        r->redact_len = n - 13;
    } else if (n == 9 && memcmp(word, "host-only", 9) == 0) {
        r->action = STINT_FILTER_HOST_ONLY;
    } else if (n == 6 && memcmp(word, "no-url", 6) == 0) {
        r->action = STINT_FILTER_NO_URL;
    } else {
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s%s[filters] rule: unknown action \"%.*s\" (drop, redact-title, "
                               "redact-title:TEXT, host-only, no-url)",
                               PFX(where), (int)(n > 40 ? 40 : n), word);
    }
    while (is_space(*p)) {
        p++;
    }
    /* the match kind */
    word = p;
    while (*p && !is_space(*p)) {
        p++;
    }
    n = (size_t)(p - word);
    {
        bool found = false;
        for (size_t i = 0; i < 4; i++) {
            if (n == strlen(match_names[i]) && memcmp(word, match_names[i], n) == 0) {
                r->match = (enum stint_filter_match)i;
                found = true;
            }
        }
        if (!found) {
            return stint_error_set(
                e, STINT_EINVAL, 0,
                "%s%s[filters] rule: %s \"%.*s\" (app, path, title or host after the action)",
                PFX(where), n ? "unknown match" : "no match kind", (int)(n > 40 ? 40 : n), word);
        }
    }
    while (is_space(*p)) {
        p++;
    }
    /* the pattern: the rest, trailing blanks dropped */
    {
        char *end = p + strlen(p);
        while (end > p && (is_space(end[-1]) || end[-1] == '\r' || end[-1] == '\n')) {
            *--end = '\0';
        }
    }
    if (*p == '\0') {
        return stint_error_set(e, STINT_EINVAL, 0, "%s%s[filters] rule: no pattern after \"%s\"",
                               PFX(where), match_names[r->match]);
    }
    r->pattern = (size_t)(p - r->text);
    if (r->redact) {
        r->text[r->redact + r->redact_len] = '\0'; /* TEXT ends where the action word ends */
    }
    if (r->match == STINT_FILTER_TITLE) {
        int code = 0;
        PCRE2_SIZE off = 0;
        r->re = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
        if (!r->re) {
            PCRE2_UCHAR msg[160];
            if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0) {
                snprintf((char *)msg, sizeof(msg), "error %d", code);
            }
            return stint_error_set(e, STINT_EINVAL, 0,
                                   "%s%s[filters] rule: title regex at byte %zu: %s", PFX(where),
                                   (size_t)off, (const char *)msg);
        }
        r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
        if (!r->md) {
            rule_free(r);
            return stint_error_set(e, STINT_ENOMEM, 0, "%s: out of memory", where);
        }
    }
    return STINT_OK;
}

enum stint_err stint_filters_create(struct stint_filters **out)
{
    struct stint_filters *f = calloc(1, sizeof(*f));
    *out = NULL;
    if (!f) {
        return STINT_ENOMEM;
    }
    f->mctx = pcre2_match_context_create(NULL);
    if (!f->mctx) {
        free(f);
        return STINT_ENOMEM;
    }
    pcre2_set_match_limit(f->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(f->mctx, DEPTH_LIMIT);
    *out = f;
    return STINT_OK;
}

void stint_filters_destroy(struct stint_filters *f)
{
    if (!f) {
        return;
    }
    for (size_t i = 0; i < f->n; i++) {
        rule_free(&f->rules[i]);
    }
    free(f->rules);
    pcre2_match_context_free(f->mctx);
    free(f);
}

enum stint_err stint_filters_add(struct stint_filters *f, const char *rule, const char *where,
                                 struct stint_error *e)
{
    struct rule *r = NULL;
    enum stint_err err;

    stint_error_clear(e);
    if (f->n >= STINT_FILTERS_MAX) {
        return stint_error_set(e, STINT_EINVAL, 0, "%s%s[filters] rule: more than %d rules",
                               PFX(where), STINT_FILTERS_MAX);
    }
    r = realloc(f->rules, (f->n + 1) * sizeof(*r));
    if (!r) {
        return stint_error_set(e, STINT_ENOMEM, 0, "%s: out of memory", where);
    }
    f->rules = r;
    err = parse(&f->rules[f->n], rule, where, e);
    if (err != STINT_OK) {
        rule_free(&f->rules[f->n]);
        return err;
    }
    f->n++;
    return STINT_OK;
}

enum stint_err stint_filters_check(const char *rule, const char *where, struct stint_error *e)
{
    struct rule *r = malloc(sizeof(*r));
    enum stint_err err;

    stint_error_clear(e);
    if (!r) {
        return stint_error_set(e, STINT_ENOMEM, 0, "%s: out of memory", where);
    }
    err = parse(r, rule, where, e);
    rule_free(r);
    free(r);
    return err;
}

size_t stint_filters_count(const struct stint_filters *f)
{
    return f ? f->n : 0;
}

const char *stint_filters_rule(const struct stint_filters *f, size_t i)
{
    return f && i < f->n ? f->rules[i].text : NULL;
}

bool stint_filters_rule_info(const struct stint_filters *f, size_t i, enum stint_filter_action *a,
                             enum stint_filter_match *m)
{
    if (!f || i >= f->n) {
        return false;
    }
    *a = f->rules[i].action;
    *m = f->rules[i].match;
    return true;
}

/* The host of a URL, lower-cased, into out: the origin's host without scheme, userinfo or port
 * ("https://u@Mail.Example:8443/x" -> "mail.example"). */
static void url_host(const char *url, size_t len, char *out, size_t cap)
{
    char origin[STINT_URL_MAX + 1];
    const char *h, *end;
    size_t n;

    out[0] = '\0';
    if (!url || len == 0) {
        return;
    }
    n = stint_url_cut(url, len, STINT_URL_HOST, origin, sizeof(origin));
    h = strstr(origin, "://");
    h = h ? h + 3 : origin;
    if (n > 0 && origin[n - 1] == ':') {
        return; /* "about:", "mailto:": no host */
    }
    end = h;
    while (end < origin + n && *end != ':' && *end != '/') {
        end++;
    }
    if (h < end && *h == '[') { /* an IPv6 literal keeps its brackets and colons */
        end = strchr(h, ']');
        end = end ? end + 1 : origin + n;
    }
    n = (size_t)(end - h);
    if (n >= cap) {
        n = cap - 1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
}

static bool matches(const struct stint_filters *f, struct rule *r, const struct stint_record *rec,
                    const char *host)
{
    switch (r->match) {
    case STINT_FILTER_APP:
        return fnmatch(r->text + r->pattern, rec->app, FNM_CASEFOLD) == 0;
    case STINT_FILTER_PATH:
        return fnmatch(r->text + r->pattern, rec->path, 0) == 0;
    case STINT_FILTER_HOST:
        return host[0] && fnmatch(r->text + r->pattern, host, FNM_CASEFOLD) == 0;
    case STINT_FILTER_TITLE: {
        int rc = pcre2_match(r->re, (PCRE2_SPTR)rec->title, rec->title_len, 0, 0, r->md, f->mctx);
        /* no match is the only "no"; a limit or any other error counts as a match */
        return rc != PCRE2_ERROR_NOMATCH;
    }
    }
    return false;
}

int stint_filters_apply(const struct stint_filters *f, struct stint_record *r, const char *url,
                        size_t url_len)
{
    char host[STINT_URL_MAX + 1];
    char app[STINT_APP_MAX + 1];

    if (!f || f->n == 0 || r->kind != STINT_KIND_ACTIVE) {
        return -1;
    }
    url_host(url, url_len, host, sizeof(host));
    for (size_t i = 0; i < f->n; i++) {
        struct rule *rule = &f->rules[i];
        if (!matches(f, rule, r, host)) {
            continue;
        }
        switch (rule->action) {
        case STINT_FILTER_DROP: {
            int64_t start = r->start_ms, end = r->end_ms;
            uint64_t seq = r->seq;
            stint_record_clear(r);
            r->kind = STINT_KIND_PRIVATE;
            r->start_ms = start;
            r->end_ms = end;
            r->seq = seq;
            break;
        }
        case STINT_FILTER_REDACT_TITLE:
            if (rule->redact) {
                stint_record_set(r, STINT_FIELD_TITLE, rule->text + rule->redact, rule->redact_len);
            } else {
                size_t n = r->app_len;
                memcpy(app, r->app, n);
                app[n] = '\0';
                stint_record_set(r, STINT_FIELD_TITLE, app, n);
            }
            break;
        case STINT_FILTER_HOST_ONLY:
            if (url && url_len) {
                char origin[STINT_URL_MAX + 1];
                size_t n = stint_url_cut(url, url_len, STINT_URL_HOST, origin, sizeof(origin));
                stint_record_set(r, STINT_FIELD_URL, origin, n);
            }
            break;
        case STINT_FILTER_NO_URL:
            stint_record_set(r, STINT_FIELD_URL, "", 0);
            break;
        }
        return (int)i;
    }
    return -1;
}
