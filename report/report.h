/* report.h — a user's time, added up: the report shared by `stintctl report` and
 * `stint-collector report` (spec/AGENT.md, "Reports").
 *
 * Records go in one at a time (stint_report_add), in any order; each is clipped to the report's
 * range [from, to) and its length added to the totals of its kind (active, idle, private) and,
 * for active records, to its row: the app, the site (the stored URL, cut to its origin by
 * default), the title, or the local hour of the day. Times are Unix ms; days and hours are the
 * local time zone's (TZ), so a day is 23 or 25 hours at a DST change. Records never overlap (the
 * tracker guarantees it), and a suspend or a clock jump leaves no record for the time it took,
 * so the sums are the time actually used. Gap records (records lost) are counted, not timed.
 */
#ifndef STINT_REPORT_H
#define STINT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stint/error.h"
#include "stint/record.h"

enum stint_report_by {
    STINT_REPORT_APP = 0,
    STINT_REPORT_SITE = 1,
    STINT_REPORT_TITLE = 2,
    STINT_REPORT_HOUR = 3,
};

#define STINT_REPORT_ROWS_MAX 100000 /* distinct rows kept; the rest go to "(other)" */

struct stint_report;

/* A report of [from_ms, to_ms) grouped by `by`. label names the range for the output
 * ("2026-01-15"). On success *out is the caller's: stint_report_destroy(). STINT_EINVAL
 * (from >= to), STINT_ENOMEM. */
enum stint_err stint_report_create(int64_t from_ms, int64_t to_ms, enum stint_report_by by,
                                   const char *label, struct stint_report **out);
void stint_report_destroy(struct stint_report *r); /* NULL is fine */

/* Adds one closed record (end_ms > start_ms; others are ignored). STINT_ENOMEM. */
enum stint_err stint_report_add(struct stint_report *r, const struct stint_record *rec);

/* The totals in ms. */
struct stint_report_totals {
    int64_t active_ms, idle_ms, private_ms;
    uint64_t records, gaps;
};
void stint_report_totals(const struct stint_report *r, struct stint_report_totals *t);

/* The range the report covers, [*from_ms, *to_ms) in Unix ms. */
void stint_report_range(const struct stint_report *r, int64_t *from_ms, int64_t *to_ms);

/* Output, rows by time spent, longest first (ties by name). The table has a bar per row
 * (width columns in all, at least 40); JSON is one object (spec/AGENT.md); CSV has a header
 * line and one line per row, then the totals as rows "(idle)", "(private)". Errors: STINT_EIO
 * when the stream fails, STINT_ENOMEM. */
enum stint_err stint_report_print_table(const struct stint_report *r, FILE *f, int width);
enum stint_err stint_report_print_json(const struct stint_report *r, FILE *f);
enum stint_err stint_report_print_csv(const struct stint_report *r, FILE *f);

/* One self-contained HTML page (no script, no external file): a timeline of the range with one
 * lane per application (spans as <div class="span" data-ms=...> placed by percentages), a lane
 * each for idle and private time, the per-app totals and the top sites. It reads at laptop and
 * phone widths (the lanes shrink, the tables wrap). Strings are HTML-escaped. STINT_EIO,
 * STINT_ENOMEM. */
enum stint_err stint_report_print_html(const struct stint_report *r, FILE *f);

/* Parses "app", "site", "title" or "hour"; false otherwise. */
bool stint_report_by_parse(const char *s, enum stint_report_by *out);
const char *stint_report_by_name(enum stint_report_by by);

/* The local-time range of `days` days starting on date "YYYY-MM-DD" (NULL: today) into
 * [*from, *to), in Unix ms, following TZ. STINT_EINVAL with a message for a bad date. */
enum stint_err stint_report_days(const char *date, int days, int64_t *from, int64_t *to,
                                 struct stint_error *e);

/* The local date of a Unix ms time, "YYYY-MM-DD", into buf (11 bytes at least). */
void stint_report_date(int64_t ms, char *buf, size_t cap);

#endif
