/* filters.h — the user's privacy rules, applied in the tracker before anything is journaled.
 *
 * A rule is one line of agent.ini's [filters] section (spec/AGENT.md, "Filters"):
 *
 *   rule = ACTION MATCH PATTERN
 *
 *   ACTION  drop | redact-title | redact-title:TEXT | host-only | no-url
 *   MATCH   app (glob) | path (glob, the executable) | title (PCRE2 regex) | host (glob, the URL's)
 *
 * The pattern is the rest of the line (it may hold spaces). Rules are tried in order; the first
 * that matches is applied, the others are not looked at. What each action leaves:
 *   drop          a `private` record with times only: no app, path, title or URL (the server sees
 *                 what private mode sends, and the day still adds up);
 *   redact-title  the title replaced by the app's name, or by TEXT;
 *   host-only     the URL cut to its origin whatever url_mode says;
 *   no-url        no URL.
 * Globs are fnmatch(3) patterns, `*` also crosses `/`; app and host globs ignore case. Titles
 * are matched by PCRE2 in UTF mode (invalid UTF-8 in a title is no error), with a match limit:
 * a title that makes a pattern hit the limit counts as matching (a privacy rule fails closed).
 */
#ifndef STINT_AGENT_FILTERS_H
#define STINT_AGENT_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h" /* the agent's error convention */
#include "stint/record.h"

#define STINT_FILTERS_MAX 64      /* rules at most */
#define STINT_FILTER_RULE_MAX 512 /* bytes of one rule's text, NUL included */

enum stint_filter_action {
    STINT_FILTER_DROP = 0,
    STINT_FILTER_REDACT_TITLE = 1,
    STINT_FILTER_HOST_ONLY = 2,
    STINT_FILTER_NO_URL = 3,
};

enum stint_filter_match {
    STINT_FILTER_APP = 0,
    STINT_FILTER_PATH = 1,
    STINT_FILTER_TITLE = 2,
    STINT_FILTER_HOST = 3,
};

struct stint_filters;

/* An empty rule list. On success *out belongs to the caller: stint_filters_destroy().
 * STINT_ENOMEM. */
enum stint_err stint_filters_create(struct stint_filters **out);

/* NULL is fine. */
void stint_filters_destroy(struct stint_filters *f);

/* Parses and compiles one rule (text as after "rule =") and appends it. `where` names its origin
 * in messages ("agent.ini:12"). STINT_EINVAL with e->msg "WHERE: [filters] rule: what" for an
 * unknown action or match kind, an empty pattern, a regex PCRE2 refuses (with its offset), a rule
 * longer than STINT_FILTER_RULE_MAX - 1 bytes or more than STINT_FILTERS_MAX rules; STINT_ENOMEM.
 * f is unchanged on error. */
enum stint_err stint_filters_add(struct stint_filters *f, const char *rule, const char *where,
                                 struct stint_error *e);

/* Checks one rule without keeping it (the config's load-time check); same errors. */
enum stint_err stint_filters_check(const char *rule, const char *where, struct stint_error *e);

size_t stint_filters_count(const struct stint_filters *f);

/* The i-th rule's text as given (borrowed, valid as long as f), or NULL past the last. */
const char *stint_filters_rule(const struct stint_filters *f, size_t i);

/* Applies the first rule that matches to r, a record built from what the source saw (its url
 * already cut by url_mode); url/url_len is the URL as the source gave it, for host matching and
 * host-only (may be NULL). Returns the index of the rule applied, or -1 when none matched (r is
 * untouched). f may be NULL (no rules). Allocates nothing after stint_filters_add. */
int stint_filters_apply(const struct stint_filters *f, struct stint_record *r, const char *url,
                        size_t url_len);

const char *stint_filter_action_name(enum stint_filter_action a);
const char *stint_filter_match_name(enum stint_filter_match m);

/* The action and match kind of the i-th rule; false past the last. */
bool stint_filters_rule_info(const struct stint_filters *f, size_t i, enum stint_filter_action *a,
                             enum stint_filter_match *m);

#endif
