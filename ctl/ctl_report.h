/* ctl_report.h — `stintctl report`: the user's own time (spec/AGENT.md, "Reports"). */
#ifndef STINT_CTL_REPORT_H
#define STINT_CTL_REPORT_H

#include <jansson.h>

#include "report.h"

/* Adds one record in canonical JSON (or an object holding one under "record") to r; rec is
 * scratch. 0, or 1 with the reason in msg (cap bytes). */
int stint_ctl_report_add_json(struct stint_report *r, json_t *obj, struct stint_record *rec,
                              char *msg, size_t cap);

/* Reads the history from stintd into r (stintctl.c: the control socket's `history`); returns
 * an exit status of stintctl's (0 done; the reason is on stderr otherwise). */
typedef int (*stint_ctl_history_fn)(void *ctx, struct stint_report *r);

/* argv[0..argc) are the words after "report". Records come from --records FILE, else from
 * history(ctx, ...). Returns the exit status: 0 done, 1 the records cannot be read, 2 usage,
 * or what history returned (3: stintd cannot be reached). */
int stint_ctl_report(const char *prog, int argc, char **argv, stint_ctl_history_fn history,
                     void *ctx);

#endif
