/* daemon_int.h — what daemon.c shares with commands.c, the control commands it answers: the
 * daemon's handle and the few helpers both use. Not an API: only those two files include it.
 */
#ifndef STINT_AGENT_DAEMON_INT_H
#define STINT_AGENT_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "browser_merge.h"
#include "common/clock.h"
#include "control.h"
#include "daemon.h"
#include "journal.h"
#include "sender.h"
#include "source.h"
#include "tracker.h"

struct purge_job; /* commands.c */

struct stint_daemon {
    struct stint_config cfg;
    enum stint_err (*reload)(void *ctx, struct stint_config *out, struct stint_error *e);
    void *reload_ctx;
    struct stint_log lg; /* stint_log(&d->lg, ...); the level is the one in force */
    unsigned stop_grace_ms;

    int sfd; /* signalfd */
    struct stint_journal *journal;
    struct stint_source *source;
    struct stint_tracker *tracker;
    struct stint_filters *filters;       /* [filters], the tracker borrows it */
    struct stint_browser_merge *browser; /* source = WINDOW, browser */
    struct stint_sender *sender;
    struct stint_control *control;
    struct purge_job *purge;
    uint64_t seen_next_seq; /* the journal's next seq when the sender was last woken */
    int64_t started_ms;
    bool stopping;
    /* a spell of journal failure: logged when it starts and when it ends, not per record */
    bool journal_spell;
    uint64_t spell_dropped0, spell_errors0;
};

/* The helpers below keep their short names inside daemon.c and commands.c; these macros give
 * them prefixed link names, so that nothing else linked into the agent can clash with them. */
#define wake_if_new stint_daemon_i_wake_if_new

/* Wakes the sender when the journal's next seq moved since the last call. */
void wake_if_new(struct stint_daemon *d);

#endif
