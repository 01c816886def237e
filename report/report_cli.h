/* report_cli.h — the options `stintctl report` and `stint-collector report` share, so that both
 * take the same words and print the same report (spec/AGENT.md, "Reports").
 *
 *   --day DATE | --week | --from DATE --to DATE   the range (default: today), local dates
 *   --by app|site|title|hour                       the rows (default app)
 *   --json | --csv                                 for scripts (default: a table)
 */
#ifndef STINT_REPORT_CLI_H
#define STINT_REPORT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

struct stint_report_cli {
    const char *day, *from, *to;
    const char *html; /* --html FILE: the page goes there */
    bool week, json, csv;
    enum stint_report_by by;
};

/* Takes argv[*i] (and its value, advancing *i) when it is one of the options above: returns 1;
 * 0 when it is not one of them; -1 with a message on stderr (prog: ...) for a bad value. */
int stint_report_cli_arg(struct stint_report_cli *c, int argc, char **argv, int *i,
                         const char *prog);

/* Makes the report the options ask for (checking they agree). On success *out is the caller's.
 * Exit-status style: 0 ok, 2 usage (message on stderr), 1 out of memory. */
int stint_report_cli_make(const struct stint_report_cli *c, const char *prog,
                          struct stint_report **out);

/* Prints it as asked; 0 ok, 1 the output failed. */
int stint_report_cli_print(const struct stint_report_cli *c, const struct stint_report *r, FILE *f);

#define STINT_REPORT_CLI_USAGE                                                                     \
    "[--day DATE | --week | --from DATE --to DATE] [--by app|site|title|hour] "                    \
    "[--json | --csv | --html FILE]"

#endif
