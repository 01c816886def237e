/* daemon.h — stintd's wiring: journal, source, tracker, sender and control socket, and the poll
 * loop of the tracker thread that drives them.
 *
 * Two threads: this loop (the source's fds, the tracker's clock fd and timers, the control
 * socket, a signalfd for SIGTERM/SIGINT/SIGHUP), and the sender's own thread, with the journal
 * between them. The loop sleeps in poll() until an fd is ready or the earliest timer is due: with
 * nothing happening it does not wake.
 *
 * Shutdown (SIGTERM, SIGINT, or a source that ended): the control socket closes, the tracker
 * closes or checkpoints the open record, the sender abandons an in-flight request after at most
 * stop_grace_ms (its records stay journaled and go again with the same Idempotency-Key), the
 * journal is synced and closed. Reload (SIGHUP): the caller's reload function reads the config
 * again; the token, the log level and every [sender] setting take effect at once (the sender is
 * made anew), other changes are logged as needing a restart.
 */
#ifndef STINT_AGENT_DAEMON_H
#define STINT_AGENT_DAEMON_H

#include <stdbool.h>

#include "config.h"
#include "error.h" /* the agent's error convention */

struct stint_daemon;

struct stint_daemon_opts {
    const struct stint_config *config; /* copied */
    /* SIGHUP: fill *out with the new config (defaults, file, flags, finish). NULL: SIGHUP only
     * re-reads the token. */
    enum stint_err (*reload)(void *ctx, struct stint_config *out, struct stint_error *e);
    void *reload_ctx;
    /* The daemon's logger (common/log.h), copied; its level changes on SIGHUP. The sender logs
     * through it as "sender: ...". NULL: silent. */
    const struct stint_log *log;
    unsigned stop_grace_ms; /* in-flight request on shutdown; 0: 250 (libcurl may take
                               up to 1 s more to notice the abort: 2 s in all) */
};

/* Checks, before anything is made on disk, what an operator must fix rather than wait out:
 * the journal folder (when it exists: a real folder, not a link, owned by this user, mode 0700;
 * a looser one is refused with the chmod to run), the control socket's folder (not a link), the
 * token file when a server is set (present, 0600 or stricter; the message says how to make it),
 * the CA file (a readable regular file), the source (x11 needs $DISPLAY; a JSONL path must be a
 * regular file or a FIFO). STINT_EINVAL with the fix in e->msg: stintd exits 2 on it. */
enum stint_err stint_daemon_preflight(const struct stint_config *c, struct stint_error *e);

/* Opens everything: the journal (one instance per journal: a second stintd gets STINT_EIO naming
 * the holder's pid), the source (resumed from its stored position), the tracker, the control
 * socket (unless config->socket is empty) and the sender (unless config->server is empty), and
 * starts the sender thread. SIGTERM, SIGINT and SIGHUP must be blocked in every thread before
 * this is called (stintd's main does it first thing): the loop takes them through a signalfd.
 * On success *out belongs to the caller: stint_daemon_destroy(). e->msg names what failed. */
enum stint_err stint_daemon_create(const struct stint_daemon_opts *opts, struct stint_daemon **out,
                                   struct stint_error *e);

/* Runs the loop until SIGTERM/SIGINT or the end of the source, then shuts down cleanly as above.
 * STINT_OK after a clean stop; an error when the loop could not go on (e->msg says why). */
enum stint_err stint_daemon_run(struct stint_daemon *d, struct stint_error *e);

/* Releases whatever is left (after run, or instead of it). NULL is fine. */
void stint_daemon_destroy(struct stint_daemon *d);

/* The log level in force now (SIGHUP may change it). */
enum stint_log_level stint_daemon_log_level(struct stint_daemon *d);

#endif
