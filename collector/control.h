/* control.h — reading a collector's data while it runs: `stats` and `dump`.
 *
 * LevelDB lets one process open a database, and the serving collector holds it. So the server
 * also listens on a Unix socket in its data folder, DIR/control.sock (mode 0600: whoever may
 * read the data folder may ask), and `stint-collector dump|stats --data DIR` ask it there; when
 * no server answers, they open the database themselves. Both paths print the same lines.
 *
 * Protocol: the client sends one line, `stats` or `dump ACCOUNT SINCE`; the server answers
 * `ok` or `error MESSAGE` on the first line, then the output, then closes. */
#ifndef STINT_COLLECTOR_CONTROL_H
#define STINT_COLLECTOR_CONTROL_H

#include <stdio.h>

#include "faults.h"
#include "handler.h"
#include "store.h"

#define STINT_CONTROL_SOCKET "control.sock"

/* Appends the stats text: one `agent account=.. agent_id=.. records=.. max_seq=..` line per
 * agent, a `total accounts=.. agents=.. records=..` line, then (when not NULL) the handler's
 * and the faults' counters. */
enum stint_err stint_control_stats(struct stint_store *store, struct stint_handler *handler,
                                   struct stint_faults *faults, struct stint_buf *out,
                                   struct stint_error *err);

/* Writes the records of account with seq > since to out as JSON lines (see spec/PROTOCOL.md,
 * "Collector: dump"). */
enum stint_err stint_control_dump(struct stint_store *store, const char *account, uint64_t since,
                                  FILE *out, struct stint_error *err);

struct stint_control; /* opaque: the server side */

/* Listens on DIR/control.sock in a thread of its own. On success *out is the caller's: release
 * with stint_control_stop(), which also removes the socket file. */
enum stint_err stint_control_start(const char *dir, struct stint_store *store,
                                   struct stint_handler *handler, struct stint_faults *faults,
                                   struct stint_control **out, struct stint_error *err);
void stint_control_stop(struct stint_control *c); /* NULL is fine */

/* Client: sends `line` to the server of DIR and copies its output to out. STINT_EIO when no
 * server listens there (the caller may then open the database itself); STINT_EINVAL with the
 * server's message when it answered `error`. */
enum stint_err stint_control_ask(const char *dir, const char *line, FILE *out,
                                 struct stint_error *err);

#endif
