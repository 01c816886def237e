/* forward.h — handing browser lines to stintd over its control socket (spec/CONTROL.md).
 *
 * One connection, opened on first use and again after any failure. Every line waits for
 * stintd's final answer at most timeout_ms, so the browser never waits long on a stuck agent.
 * When stintd is absent (no socket, connection refused) or answers with an error, the line is
 * dropped and counted: the host never queues (stintd's journal is the only queue).
 *
 * Conventions: stint_browser_fwd_create / stint_browser_fwd_destroy (NULL is fine); errors as
 * enum stint_err with a message in struct stint_error.
 */
#ifndef STINT_BROWSER_FORWARD_H
#define STINT_BROWSER_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"

struct stint_browser_fwd;

struct stint_browser_fwd_stats {
    uint64_t forwarded; /* lines stintd accepted */
    uint64_t dropped;   /* lines not delivered: stintd absent, refused or too slow */
    bool connected;     /* the last line reached stintd */
    char last_error[256];
};

/* A forwarder to the control socket at path (copied). *out belongs to the caller. */
enum stint_err stint_browser_fwd_create(const char *path, int timeout_ms,
                                        struct stint_browser_fwd **out, struct stint_error *e);

/* Sends one line (no newline) and waits for stintd's answer. STINT_OK when stintd accepted it;
 * STINT_EIO when stintd is absent or stopped answering (counted as dropped); STINT_ETYPE when
 * stintd answered with an error (dropped; its message is in e). */
enum stint_err stint_browser_fwd_send(struct stint_browser_fwd *f, const char *line, size_t len,
                                      struct stint_error *e);

void stint_browser_fwd_stats(const struct stint_browser_fwd *f,
                             struct stint_browser_fwd_stats *out);

void stint_browser_fwd_destroy(struct stint_browser_fwd *f);

#endif
