/* link.h — stint-tray's side of stintd's control socket (spec/CONTROL.md).
 *
 * Two kinds of connection: one long-lived `watch` connection whose state lines the tray's loop
 * reads as they come (stint_link_watch, then stint_link_read_lines on every POLLIN), and short
 * ones for a single request (stint_link_ask: private, flush, status). Every connection checks
 * the peer with SO_PEERCRED before a byte is sent: the daemon at the other end must run as our
 * own uid, as stintctl does, so a socket another user planted at the path gets nothing (not
 * even the fact that we toggled private mode).
 *
 * Conventions: functions return enum stint_err and fill a struct stint_error with what and
 * where; inputs are borrowed; JSON objects handed out are the caller's (json_decref).
 */
#ifndef STINT_TRAY_LINK_H
#define STINT_TRAY_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "stint/error.h"

/* A request line's answer may take this long (ms) before stint_link_ask gives up. */
#define STINT_LINK_ASK_TIMEOUT_MS 5000
/* Longest state line kept; a longer one ends the watch (stintd never sends one). */
#define STINT_LINK_LINE_MAX 8192

/* Connects to the socket at path and checks that its owner is our euid. STINT_EIO with
 * "cannot connect" (no socket, refused: *refused tells ECONNREFUSED/ENOENT apart from other
 * failures when not NULL) or "permission denied" (another uid). On success *fd is a blocking
 * socket the caller closes. */
enum stint_err stint_link_connect(const char *path, int *fd, bool *refused, struct stint_error *e);

/* One request on a fresh connection: sends line (a JSON object, no newline), reads lines until
 * the final one (interim lines are skipped) within STINT_LINK_ASK_TIMEOUT_MS, and returns it in
 * *answer (the caller's). An answer with "ok": false is returned as STINT_EIO with its message
 * in e, and *answer is still set. */
enum stint_err stint_link_ask(const char *path, const char *line, json_t **answer,
                              struct stint_error *e);

/* A line reader over a non-blocking socket, for the watch connection. */
struct stint_link_reader {
    char buf[STINT_LINK_LINE_MAX];
    size_t len;
};

/* Reads what is there and calls fn once for every complete line parsed as JSON (a line that is
 * not JSON ends the watch: stintd never sends one). Returns STINT_OK while the connection goes
 * on, STINT_EIO when it ended (EOF, an error, an over-long or malformed line). */
enum stint_err stint_link_read_lines(int fd, struct stint_link_reader *r,
                                     void (*fn)(void *ctx, json_t *line), void *ctx,
                                     struct stint_error *e);

#endif
