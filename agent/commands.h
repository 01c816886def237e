/* commands.h — the control commands: their table (name, command, short help), the parsing of
 * a request line, and what the daemon does for each (the callbacks the control socket calls).
 * The protocol is spec/CONTROL.md; the socket server that calls these is control.c.
 */
#ifndef STINT_AGENT_COMMANDS_H
#define STINT_AGENT_COMMANDS_H

#include <stddef.h>

#include "control.h"

struct stint_daemon;

/* One row of the command table. */
struct stint_command {
    const char *name; /* as on the wire: the request's "cmd" */
    enum stint_control_cmd cmd;
    const char *help; /* one line: what it does */
};

/* The commands, in the order of spec/CONTROL.md (and of enum stint_control_cmd). */
extern const struct stint_command stint_commands[];
extern const size_t stint_commands_count;

/* The daemon's answers to every command; ctx is the struct stint_daemon. */
extern const struct stint_control_ops stint_commands_ops;

/* Collects a finished purge --server job; with `leave`, one still running is left to free
 * itself (the daemon stops without waiting for the network). */
void stint_commands_purge_reap(struct stint_daemon *d, bool leave);

#endif
