/* report_cmd.h — `stint-collector report` (report_cmd.c). */
#ifndef STINT_COLLECTOR_REPORT_CMD_H
#define STINT_COLLECTOR_REPORT_CMD_H

/* argv as main's (argv[1] is "report"). Returns the exit status: 0 done, 1 the data cannot be
 * read, 2 usage. */
int stint_collector_report(int argc, char **argv);

#endif
