/* ctl_filters.h — `stintctl filters test`: which [filters] rule matches a window and what would
 * be recorded (spec/AGENT.md, "Filters"). It reads agent.ini itself: no running stintd needed. */
#ifndef STINT_CTL_FILTERS_H
#define STINT_CTL_FILTERS_H

/* argv[0] is the word after "filters". Prints to stdout; errors to stderr prefixed with prog.
 * Returns the exit status: 0 done (a rule matched or not), 1 the config file is bad or cannot be
 * read, 2 usage. */
int stint_ctl_filters(const char *prog, int argc, char **argv);

#endif
