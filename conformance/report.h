/* report.h — what stint-conformance found: one outcome per case, printed as a table (always
 * ending with the plain line "N passed, N failed[, N skipped]"), as JSON, or as JUnit XML.
 *
 * A case is described once, statically (struct stint_conf_case_info), and run into an outcome.
 * The exit status of a run is decided here: non-zero when a MUST case failed, or, with
 * --strict, when any case failed. */
#ifndef STINT_CONF_REPORT_H
#define STINT_CONF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stint/error.h"

enum stint_conf_level {
    STINT_CONF_MUST = 0,
    STINT_CONF_SHOULD = 1,
    STINT_CONF_MAY = 2,
};

enum stint_conf_result {
    STINT_CONF_PASS = 0,
    STINT_CONF_FAIL = 1,
    STINT_CONF_SKIP = 2,
};

/* A numbered case: its id ("S07"), level, the spec section it checks and the requirement it
 * quotes. Static data. */
struct stint_conf_case_info {
    const char *id;
    enum stint_conf_level level;
    const char *section;
    const char *requirement;
};

#define STINT_CONF_DETAIL_MAX 600

struct stint_conf_outcome {
    const struct stint_conf_case_info *info; /* borrowed, static */
    enum stint_conf_result result;
    char detail[STINT_CONF_DETAIL_MAX];
    double seconds;
};

struct stint_conf_report {
    struct stint_conf_outcome *items; /* owned: stint_conf_report_free() */
    size_t n, cap;
};

const char *stint_conf_level_name(enum stint_conf_level l);
const char *stint_conf_result_name(enum stint_conf_result r);

/* Appends a copy of *o. STINT_ENOMEM. */
enum stint_err stint_conf_report_add(struct stint_conf_report *rep,
                                     const struct stint_conf_outcome *o);
void stint_conf_report_free(struct stint_conf_report *rep); /* NULL is fine */

/* The table: "case  level   result  detail", one row per outcome, then the summary line. */
void stint_conf_report_table(const struct stint_conf_report *rep, FILE *out);

/* {"cases":[{"id":..,"level":..,"section":..,"requirement":..,"result":..,"detail":..,
 * "seconds":..}],"passed":N,"failed":N,"skipped":N} */
void stint_conf_report_json(const struct stint_conf_report *rep, FILE *out);

/* JUnit XML (one testsuite named `suite`, a testcase per outcome). STINT_EIO when the file
 * cannot be written. */
enum stint_err stint_conf_report_junit(const struct stint_conf_report *rep, const char *suite,
                                       const char *path);

/* 0 when no MUST case failed (with strict: no case failed), else 1. */
int stint_conf_report_status(const struct stint_conf_report *rep, bool strict);

/* --list: one block per case: id, level, section, then the quoted requirement. */
void stint_conf_list(const struct stint_conf_case_info *const *cases, size_t n, FILE *out);

#endif
