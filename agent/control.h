/* control.h — stintd's control socket: the server side of what stintctl speaks.
 *
 * A Unix stream socket (default $XDG_RUNTIME_DIR/stint/control) in a folder of mode 0700, the
 * socket itself 0600, and every peer's uid checked with SO_PEERCRED: only the uid the daemon
 * runs as may talk to it (root is not exempt). The protocol is line-delimited JSON, one request
 * a line, answered by zero or more intermediate lines and one final line that holds "ok"; it is
 * written down byte by byte in spec/CONTROL.md.
 *
 * The server does no work of its own: the daemon hands it a callback table (struct
 * stint_control_ops) and the server calls it from the thread that drives it. It never blocks and
 * has no thread: the daemon's poll loop asks for its file descriptors
 * (stint_control_pollfds), polls them with its own, gives the results back
 * (stint_control_handle) and bounds its poll timeout by stint_control_timeout_ms. Long requests
 * (`flush --wait`, `purge --server`, `pending` over a large backlog) are state machines driven by
 * those calls, so the loop keeps running sources and timers while they last.
 *
 * Conventions: every function that can fail returns enum stint_err and, when given one, fills a
 * struct stint_error with a message naming what and where. Inputs are borrowed. Handles come in
 * pairs (stint_control_open / stint_control_close).
 */
#ifndef STINT_AGENT_CONTROL_H
#define STINT_AGENT_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/log.h"
#include "error.h" /* the agent's error convention */
#include "stint/record.h"

/* Longest request line, newline included; a longer one is answered with STINT_ELIMIT and the
 * connection is closed. */
#define STINT_CONTROL_LINE_MAX 4096
/* Clients served at once; one more is answered with STINT_ELIMIT and closed. */
#define STINT_CONTROL_CLIENTS_MAX 16
/* File descriptors stint_control_pollfds may fill: the listening socket and every client. */
#define STINT_CONTROL_FDS_MAX (1 + STINT_CONTROL_CLIENTS_MAX)
/* Output a client may leave unread before it is dropped (a stuck reader cannot grow the daemon). */
#define STINT_CONTROL_OUT_MAX ((size_t)1 << 20)
/* Records asked of the pending callback at once while streaming. */
#define STINT_CONTROL_PENDING_CHUNK 64u

/* The commands, in the order of spec/CONTROL.md. */
enum stint_control_cmd {
    STINT_CONTROL_STATUS = 0,
    STINT_CONTROL_PRIVATE = 1,
    STINT_CONTROL_FLUSH = 2,
    STINT_CONTROL_PENDING = 3,
    STINT_CONTROL_PURGE = 4,
    STINT_CONTROL_DEAD_LETTERS = 5,
    STINT_CONTROL_WATCH = 6,
    STINT_CONTROL_BROWSER = 7, /* a report of the browser extension, from stint-browser-host */
    STINT_CONTROL_HISTORY = 8, /* list the acked records kept for the user's report */
};

/* dead_letters: what to do with them. */
enum stint_control_dl_action {
    STINT_CONTROL_DL_LIST = 0,  /* list them (seq, reason, when), at most `limit` */
    STINT_CONTROL_DL_RETRY = 1, /* put them back in the queue (all, or the seqs given) */
    STINT_CONTROL_DL_DROP = 2,  /* forget them (all, or the seqs given) */
};
/* Seqs one dead_letters request may name. */
#define STINT_CONTROL_SEQS_MAX 256
/* Dead letters one list answer holds at most (the answer says "more" past it). */
#define STINT_CONTROL_DL_LIST_MAX 1000

/* One parsed request line. */
struct stint_control_request {
    enum stint_control_cmd cmd;
    bool on;          /* private: the mode asked for */
    bool wait;        /* flush: wait until the backlog present now has been acked */
    bool server;      /* purge: also DELETE /v1/data on the server */
    uint64_t limit;   /* pending, history: most records to list; 0: all. dead_letters list */
    int64_t since_ms; /* history: leave out records that ended at or before this (Unix ms) */
    enum stint_control_dl_action action;   /* dead_letters */
    uint64_t seqs[STINT_CONTROL_SEQS_MAX]; /* dead_letters retry/drop: these (none: all) */
    size_t n_seqs;
    /* browser (spec/AGENT.md, "Browser messages"): the browser's pid, the message's type
     * ("hello", "focus", "blur"), its time, private window, and url/title (focus) */
    long pid;
    char btype[8];
    int64_t time_ms;
    bool is_private;
    char url[STINT_CONTROL_LINE_MAX];
    char title[STINT_CONTROL_LINE_MAX];
};

/* Parses one request line (without its newline) into *out, finding the command in the table of
 * commands.c. Errors, with a message in e (may be
 * NULL): STINT_ELIMIT (longer than STINT_CONTROL_LINE_MAX - 1), STINT_EJSON (not JSON, or not an
 * object), STINT_EINVAL (no "cmd", an unknown command, an unknown member, a member missing),
 * STINT_ETYPE (a member of the wrong type or out of range). Pure: no allocation survives it. */
enum stint_err stint_control_parse_request(const char *line, size_t len,
                                           struct stint_control_request *out,
                                           struct stint_error *e);

/* Handed a record by the pending callback; a non-OK return stops the listing. */
typedef enum stint_err (*stint_control_record_fn)(void *emit_ctx, const struct stint_record *r);

/* What the daemon does for each command. Every callback runs on the thread that calls
 * stint_control_handle, must not block for long (no network), and reports failure as an enum
 * stint_err with a message in e, which goes to the client as is. Objects handed in (json_t *) are
 * empty JSON objects the callback adds members to; the server owns them. Any callback may be NULL:
 * the command is then answered with STINT_EUNSUPPORTED. */
struct stint_control_ops {
    /* status: members of the answer (spec/CONTROL.md, "status"). */
    enum stint_err (*status)(void *ctx, json_t *out, struct stint_error *e);
    /* private on|off: turn private mode on or off (idempotent). */
    enum stint_err (*private_set)(void *ctx, bool on, struct stint_error *e);
    /* flush: send now. *target: the highest seq the flush covers (0: nothing to send). Members of
     * the answer may be added to out. */
    enum stint_err (*flush)(void *ctx, uint64_t *target, json_t *out, struct stint_error *e);
    /* flush --wait: how far sending has come towards target. Adds the progress members to out
     * (at least "acked" and "backlog") and sets *done once every record up to target has left the
     * journal. An error ends the wait with that error (e.g. the server refused the token). */
    enum stint_err (*flush_progress)(void *ctx, uint64_t target, json_t *out, bool *done,
                                     struct stint_error *e);
    /* pending: calls fn for at most max records not yet acked with seq >= from (0: the oldest),
     * in seq order; *next is where to continue, *more whether records are left after it. */
    enum stint_err (*pending)(void *ctx, uint64_t from, size_t max, stint_control_record_fn fn,
                              void *fn_ctx, uint64_t *next, bool *more, struct stint_error *e);
    /* history: as pending, over the acked records kept for the user (the history). */
    enum stint_err (*history)(void *ctx, uint64_t from, size_t max, stint_control_record_fn fn,
                              void *fn_ctx, uint64_t *next, bool *more, struct stint_error *e);
    /* purge: deletes every local record (synchronously) and, with server, starts the request to
     * the server and sets *in_progress; purge_poll is then called until it sets *done. Members of
     * the answer go into out. */
    enum stint_err (*purge)(void *ctx, bool server, bool *in_progress, json_t *out,
                            struct stint_error *e);
    enum stint_err (*purge_poll)(void *ctx, bool *done, json_t *out, struct stint_error *e);
    /* dead_letters: list (adds "dead_letters": [...], "total", "more"), retry or drop (adds
     * "retried" / "dropped": how many) the dead letters rq names. */
    enum stint_err (*dead_letters)(void *ctx, const struct stint_control_request *rq, json_t *out,
                                   struct stint_error *e);
    /* browser: one report of the browser extension (rq's browser members), from
     * stint-browser-host; STINT_EUNSUPPORTED when `source` does not name browser. */
    enum stint_err (*browser)(void *ctx, const struct stint_control_request *rq, json_t *out,
                              struct stint_error *e);
};

struct stint_control_opts {
    const char *path; /* socket path; its folder is created 0700 if missing */
    const struct stint_control_ops *ops;
    void *ctx;                /* handed to every callback */
    bool check_uid;           /* false: peers must have the daemon's euid (the default) */
    uid_t uid;                /* with check_uid: the one uid allowed (tests) */
    uint32_t tick_ms;         /* progress polling of flush --wait and purge; 0: 100 ms */
    uint32_t idle_timeout_ms; /* a client silent this long between requests is closed;
                                 0: 30 s */
    uint32_t watch_ms;        /* watch: the state is compared at least this often while a
                                 client watches (and after every request); 0: 1000 ms */
    /* The logger (common/log.h) for peers refused and clients dropped, borrowed: it must outlive
     * the socket (its level is read at each line). NULL: silent. */
    const struct stint_log *log;
};

struct stint_control;

/* Makes the folder (0700, when missing), refuses a folder that group or others may write or that
 * another uid owns, removes a stale socket left by a dead daemon (one that refuses connections),
 * refuses a live one, binds and listens (0600). STINT_EIO with a message naming the path for
 * every failure, STINT_EINVAL for bad opts. On success *out is the caller's: release with
 * stint_control_close(). */
enum stint_err stint_control_open(const struct stint_control_opts *opts, struct stint_control **out,
                                  struct stint_error *e);

/* Closes every client (a waiting flush gets a final error line, best effort), closes the
 * listening socket and removes the socket file if it is still ours. NULL is fine. */
void stint_control_close(struct stint_control *c);

/* Fills fds[0..cap) with the descriptors to poll and their events; returns how many (at most
 * STINT_CONTROL_FDS_MAX). Call before every poll: the set changes as clients come and go. */
size_t stint_control_pollfds(struct stint_control *c, struct pollfd *fds, size_t cap);

/* Handles what poll found for the descriptors stint_control_pollfds filled (fds as filled, their
 * revents set by poll; n as returned), and any timer that is due. Never blocks. Also fine to call
 * with n = 0 when only the timeout expired. */
void stint_control_handle(struct stint_control *c, const struct pollfd *fds, size_t n);

/* Milliseconds until stint_control_handle must be called even if nothing is readable (a flush
 * --wait tick, an idle client to close); -1 when nothing is due. */
int stint_control_timeout_ms(struct stint_control *c);

/* Clients connected now. */
size_t stint_control_clients(struct stint_control *c);

/* watch: the summary a watching client is sent (spec/CONTROL.md, "watch"), made from a status
 * answer (status: the members the status callback filled). Returns a new object the caller
 * releases with json_decref, or NULL when out of memory. Pure, so tests can table it. */
json_t *stint_control_watch_state(const json_t *status);

/* The name of a command ("status", ...), or "?" for a value out of range. */
const char *stint_control_cmd_name(enum stint_control_cmd cmd);

#endif
