/* ctl_report.h — `stintctl report`: the user's own time (spec/AGENT.md, "Reports"). */
#ifndef STINT_CTL_REPORT_H
#define STINT_CTL_REPORT_H

/* argv[0..argc) are the words after "report". Returns the exit status: 0 done, 1 the records
 * cannot be read, 2 usage. */
int stint_ctl_report(const char *prog, int argc, char **argv);

#endif
