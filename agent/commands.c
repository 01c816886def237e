/* commands.c — the control commands (commands.h; protocol: spec/CONTROL.md).
 *
 * Design. One table names the commands (the request's "cmd", the enum, a line of help), the
 * way a tool's subcommands are one array of {name, function, description}: the parser finds a
 * request's command in it, the error for an unknown one lists it, stint_control_cmd_name reads
 * it. The parser checks every member of a request line against the command (control.h says what
 * it refuses) and hands the socket server a struct stint_control_request; the server (control.c)
 * then calls the daemon's answer for that command through stint_commands_ops.
 *
 * The answers run on the daemon's loop thread (daemon.c), so they may touch the tracker without
 * locks; the journal and the sender are thread-safe. status builds the answer's JSON from the
 * tracker's, journal's, source's and sender's figures (spec/CONTROL.md, "status"). The only slow
 * one, `purge --server` (an HTTPS DELETE), runs on a short-lived thread of its own that the
 * control socket polls (purge_poll), so the loop never waits for the network. The thread owns a
 * copy of everything it needs (URL, trust, the Authorization header, wiped when done): a daemon
 * that stops may leave it running, and it frees its job itself then.
 */
#define _GNU_SOURCE
#include "commands.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_int.h"
#include "http.h"
#include "stint/pb.h"
#include "version.h"

/* The purge --server request, run on its own thread. state: who frees the job. The thread sets
 * JOB_DONE when it ends; a daemon that stops before that sets JOB_ORPHANED and does not wait
 * (the request may take 40 s, the stop must take 2), and the thread then frees the job itself.
 * Whoever swaps the state second frees it. */
enum { JOB_RUNNING = 0, JOB_DONE = 1, JOB_ORPHANED = 2 };
struct purge_job {
    pthread_t thread;
    bool started;       /* the DELETE waits until the purged batch's request has ended */
    int64_t wait_until; /* wall ms: past this, that request is cut instead */
    atomic_int state;
    char url[STINT_CONFIG_PATH_MAX + 16];
    char ca_file[STINT_CONFIG_PATH_MAX];
    char pinned[STINT_CONFIG_PATH_MAX];
    char auth[STINT_CONFIG_TOKEN_MAX + 32];
    long status;
    int curl_code;
    char error[256];
    char body[512]; /* the answer's start ({"deletedRecords":"N"}); never printed */
    size_t body_len;
};

/* ---- the command table and the request parser ---- */

const struct stint_command stint_commands[] = {
    {"status", STINT_CONTROL_STATUS, "the agent's state: source, tracker, journal, sender"},
    {"private", STINT_CONTROL_PRIVATE, "turn private mode on or off"},
    {"flush", STINT_CONTROL_FLUSH, "send the backlog now (with wait: until it is acked)"},
    {"pending", STINT_CONTROL_PENDING, "list the records not yet acked"},
    {"purge", STINT_CONTROL_PURGE, "delete every local record (with server: the server's too)"},
    {"dead_letters", STINT_CONTROL_DEAD_LETTERS, "list, retry or drop the dead letters"},
    {"watch", STINT_CONTROL_WATCH, "stream the state whenever it changes"},
    {"browser", STINT_CONTROL_BROWSER, "a report of the browser extension"},
    {"history", STINT_CONTROL_HISTORY, "list the acked records kept for the user"},
};
const size_t stint_commands_count = sizeof(stint_commands) / sizeof(stint_commands[0]);

const char *stint_control_cmd_name(enum stint_control_cmd cmd)
{
    for (size_t i = 0; i < stint_commands_count; i++)
        if (stint_commands[i].cmd == cmd)
            return stint_commands[i].name;
    return "?";
}

/* The command named `name`; false when there is none. */
static bool cmd_lookup(const char *name, enum stint_control_cmd *out)
{
    for (size_t i = 0; i < stint_commands_count; i++) {
        if (strcmp(stint_commands[i].name, name) == 0) {
            *out = stint_commands[i].cmd;
            return true;
        }
    }
    return false;
}

/* "status, private, ...": every command's name, for the error that names an unknown one. */
static void cmd_list(char *out, size_t cap)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < stint_commands_count && len < cap; i++) {
        int n = snprintf(out + len, cap - len, "%s%s", i ? ", " : "", stint_commands[i].name);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

static enum stint_err get_bool(json_t *v, const char *name, bool *out, struct stint_error *e)
{
    if (!json_is_boolean(v))
        return stint_error_set(e, STINT_ETYPE, 0, "member \"%s\" must be true or false", name);
    *out = json_is_true(v);
    return STINT_OK;
}

/* One member of a "browser" request (what stint-browser-host forwards: browser/host/message.h).
 * Members a newer host may add are ignored, as the host ignores the extension's. */
static enum stint_err browser_member(struct stint_control_request *out, const char *key, json_t *v,
                                     struct stint_error *e)
{
    if (strcmp(key, "pid") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > INT32_MAX)
            return stint_error_set(e, STINT_ETYPE, 0, "member \"pid\" must be a process id");
        out->pid = (long)json_integer_value(v);
    } else if (strcmp(key, "type") == 0) {
        const char *t = json_string_value(v);
        if (!t || (strcmp(t, "hello") != 0 && strcmp(t, "focus") != 0 && strcmp(t, "blur") != 0))
            return stint_error_set(e, STINT_ETYPE, 0,
                                   "member \"type\" must be \"hello\", \"focus\" or \"blur\"");
        snprintf(out->btype, sizeof(out->btype), "%s", t);
    } else if (strcmp(key, "time") == 0) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return stint_error_set(e, STINT_ETYPE, 0, "member \"time\" must be an integer >= 0");
        out->time_ms = (int64_t)json_integer_value(v);
    } else if (strcmp(key, "private") == 0) {
        return get_bool(v, key, &out->is_private, e);
    } else if (strcmp(key, "url") == 0 || strcmp(key, "title") == 0) {
        char *dst = key[0] == 'u' ? out->url : out->title;
        if (!json_is_string(v))
            return stint_error_set(e, STINT_ETYPE, 0, "member \"%s\" must be a string", key);
        /* shorter than the line it came in, so it fits; an embedded NUL cuts it */
        snprintf(dst, STINT_CONTROL_LINE_MAX, "%s", json_string_value(v));
    }
    return STINT_OK;
}

enum stint_err stint_control_parse_request(const char *line, size_t len,
                                           struct stint_control_request *out, struct stint_error *e)
{
    json_error_t jerr;
    json_t *root = NULL, *v;
    const char *key, *cmd;
    enum stint_err err = STINT_OK;
    bool have_on = false;

    stint_error_clear(e);
    memset(out, 0, sizeof(*out));
    if (len >= STINT_CONTROL_LINE_MAX) {
        err = stint_error_set(e, STINT_ELIMIT, 0, "request of %zu bytes (at most %d)", len,
                              STINT_CONTROL_LINE_MAX - 1);
        goto cleanup;
    }
    root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        err = stint_error_set(e, STINT_EJSON, (size_t)(jerr.position > 0 ? jerr.position : 0),
                              "request is not JSON: %s (byte %d)", jerr.text, jerr.position);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        err = stint_error_set(e, STINT_EJSON, 0, "request is not a JSON object");
        goto cleanup;
    }
    v = json_object_get(root, "cmd");
    if (!v) {
        err = stint_error_set(e, STINT_EINVAL, 0, "request has no \"cmd\"");
        goto cleanup;
    }
    if (!json_is_string(v)) {
        err = stint_error_set(e, STINT_ETYPE, 0, "member \"cmd\" must be a string");
        goto cleanup;
    }
    cmd = json_string_value(v);
    if (strlen(cmd) != json_string_length(v))
        cmd = ""; /* an embedded NUL: no command has one */
    if (!cmd_lookup(cmd, &out->cmd)) {
        char names[160];
        cmd_list(names, sizeof(names));
        err = stint_error_set(e, STINT_EINVAL, 0, "unknown command \"%.64s\" (%s)", cmd, names);
        goto cleanup;
    }
    json_object_foreach (root, key, v) {
        if (strcmp(key, "cmd") == 0)
            continue;
        if (out->cmd == STINT_CONTROL_PRIVATE && strcmp(key, "on") == 0) {
            err = get_bool(v, key, &out->on, e);
            have_on = true;
        } else if (out->cmd == STINT_CONTROL_FLUSH && strcmp(key, "wait") == 0) {
            err = get_bool(v, key, &out->wait, e);
        } else if (out->cmd == STINT_CONTROL_PURGE && strcmp(key, "server") == 0) {
            err = get_bool(v, key, &out->server, e);
        } else if (out->cmd == STINT_CONTROL_DEAD_LETTERS && strcmp(key, "action") == 0) {
            const char *a = json_string_value(v);
            if (a && strcmp(a, "list") == 0)
                out->action = STINT_CONTROL_DL_LIST;
            else if (a && strcmp(a, "retry") == 0)
                out->action = STINT_CONTROL_DL_RETRY;
            else if (a && strcmp(a, "drop") == 0)
                out->action = STINT_CONTROL_DL_DROP;
            else
                err = stint_error_set(e, STINT_ETYPE, 0,
                                      "member \"action\" must be \"list\", \"retry\" or \"drop\"");
        } else if (out->cmd == STINT_CONTROL_DEAD_LETTERS && strcmp(key, "seqs") == 0) {
            size_t i;
            json_t *sv;
            if (!json_is_array(v) || json_array_size(v) > STINT_CONTROL_SEQS_MAX) {
                err = stint_error_set(e, STINT_ETYPE, 0,
                                      "member \"seqs\" must be an array of at most %d seqs",
                                      STINT_CONTROL_SEQS_MAX);
            } else {
                json_array_foreach (v, i, sv) {
                    if (!json_is_integer(sv) || json_integer_value(sv) < 1) {
                        err = stint_error_set(e, STINT_ETYPE, 0,
                                              "member \"seqs\": item %zu is not a seq (an "
                                              "integer >= 1)",
                                              i);
                        break;
                    }
                    out->seqs[out->n_seqs++] = (uint64_t)json_integer_value(sv);
                }
            }
        } else if ((out->cmd == STINT_CONTROL_PENDING || out->cmd == STINT_CONTROL_DEAD_LETTERS ||
                    out->cmd == STINT_CONTROL_HISTORY) &&
                   strcmp(key, "limit") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                err =
                    stint_error_set(e, STINT_ETYPE, 0, "member \"limit\" must be an integer >= 0");
            else
                out->limit = (uint64_t)json_integer_value(v);
        } else if (out->cmd == STINT_CONTROL_HISTORY && strcmp(key, "since_ms") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                err = stint_error_set(e, STINT_ETYPE, 0,
                                      "member \"since_ms\" must be an integer >= 0");
            else
                out->since_ms = (int64_t)json_integer_value(v);
        } else if (out->cmd == STINT_CONTROL_BROWSER) {
            err = browser_member(out, key, v, e);
        } else {
            err = stint_error_set(e, STINT_EINVAL, 0, "unknown member \"%.64s\" for \"%s\"", key,
                                  stint_control_cmd_name(out->cmd));
        }
        if (err != STINT_OK)
            goto cleanup;
    }
    if (out->cmd == STINT_CONTROL_BROWSER && (out->pid <= 0 || !out->btype[0]))
        err = stint_error_set(e, STINT_EINVAL, 0, "\"browser\" needs \"pid\" and \"type\"");
    else if (out->cmd == STINT_CONTROL_PRIVATE && !have_on)
        err = stint_error_set(e, STINT_EINVAL, 0, "\"private\" needs \"on\": true or false");
    else if (out->cmd == STINT_CONTROL_DEAD_LETTERS && out->action == STINT_CONTROL_DL_LIST &&
             out->n_seqs)
        err = stint_error_set(e, STINT_EINVAL, 0, "\"seqs\" belongs to retry and drop, not list");
cleanup:
    json_decref(root);
    return err;
}

/* ---- the daemon's answers (run on the loop's thread) ---- */

static json_t *str_n(const char *s, uint32_t len)
{
    return json_stringn(s, len);
}

/* "active", "idle", "private", "gap" (the enum's name without KIND_, lower case). */
static const char *kind_word(int32_t kind)
{
    switch (kind) {
    case STINT_KIND_ACTIVE:
        return "active";
    case STINT_KIND_IDLE:
        return "idle";
    case STINT_KIND_PRIVATE:
        return "private";
    case STINT_KIND_GAP:
        return "gap";
    default:
        return stint_kind_name(kind);
    }
}

static enum stint_err c_status(void *ctx, json_t *out, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct stint_tracker_status ts;
    struct stint_journal_stats js;
    struct stint_source_stats ss;
    json_t *o;

    (void)e;
    stint_tracker_status(d->tracker, &ts);
    stint_journal_stats(d->journal, &js);
    stint_source_stats(d->source, &ss);

    json_object_set_new(out, "version", json_string(stint_agent_version()));
    json_object_set_new(out, "pid", json_integer(getpid()));
    json_object_set_new(out, "uptime_s",
                        json_integer((stint_clock_wall_ms() - d->started_ms) / 1000));
    json_object_set_new(out, "private", json_boolean(ts.private_mode));
    json_object_set_new(out, "idle", json_boolean(ts.idle));
    json_object_set_new(out, "backlog", json_integer((json_int_t)js.backlog));

    o = json_object();
    json_object_set_new(o, "spec", json_string(d->cfg.source));
    json_object_set_new(o, "name", json_string(stint_source_name(d->source))); /* auto's choice */
    if (ss.detail[0])
        json_object_set_new(o, "detail", json_string(ss.detail));
    json_object_set_new(o, "items", json_integer((json_int_t)ss.items));
    json_object_set_new(o, "bad_lines", json_integer((json_int_t)ss.bad));
    if (ss.bad)
        json_object_set_new(o, "last_bad_line", json_integer((json_int_t)ss.last_bad_line));
    if (ss.last_error[0])
        json_object_set_new(o, "last_error", json_string(ss.last_error));
    json_object_set_new(out, "source", o);
    if (d->browser) {
        struct stint_browser_merge_stats bs;
        json_t *list = json_array();
        stint_browser_merge_stats(d->browser, &bs);
        for (int i = 0; i < bs.browsers; i++)
            json_array_append_new(list,
                                  json_pack("{s:I, s:I}", "pid", (json_int_t)bs.pids[i],
                                            "last_event_ms", (json_int_t)bs.last_event_ms[i]));
        json_object_set_new(out, "browser",
                            json_pack("{s:I, s:I, s:I, s:I, s:o}", "events", (json_int_t)bs.events,
                                      "matched", (json_int_t)bs.matched, "resent",
                                      (json_int_t)bs.resent, "unseen", (json_int_t)bs.unseen,
                                      "browsers", list));
    }

    if (ts.has_open) {
        o = json_object();
        json_object_set_new(o, "kind", json_string(kind_word(ts.open.kind)));
        json_object_set_new(o, "start_ms", json_integer(ts.open.start_ms));
        if (ts.open.app_len)
            json_object_set_new(o, "app", str_n(ts.open.app, ts.open.app_len));
        if (ts.open.title_len)
            json_object_set_new(o, "title", str_n(ts.open.title, ts.open.title_len));
        if (ts.open.url_len)
            json_object_set_new(o, "url", str_n(ts.open.url, ts.open.url_len));
        json_object_set_new(out, "open", o);
    } else {
        json_object_set_new(out, "open", json_null());
    }

    o = json_object();
    json_object_set_new(o, "path", json_string(d->cfg.journal));
    json_object_set_new(o, "backlog_bytes", json_integer((json_int_t)js.backlog_bytes));
    if (js.oldest_ms)
        json_object_set_new(o, "oldest_ms", json_integer(js.oldest_ms));
    json_object_set_new(o, "next_seq", json_integer((json_int_t)js.next_seq));
    json_object_set_new(o, "acked_seq", json_integer((json_int_t)js.acked_seq));
    json_object_set_new(o, "durable_seq", json_integer((json_int_t)js.durable_seq));
    json_object_set_new(o, "dead_letters", json_integer((json_int_t)js.dead));
    json_object_set_new(o, "dropped", json_integer((json_int_t)js.dropped));
    json_object_set_new(o, "lost", json_integer((json_int_t)js.lost));
    json_object_set_new(o, "history", json_integer((json_int_t)js.history));
    json_object_set_new(o, "history_bytes", json_integer((json_int_t)js.history_bytes));
    json_object_set_new(out, "journal", o);

    o = json_object();
    json_object_set_new(o, "records", json_integer((json_int_t)ts.records));
    json_object_set_new(o, "checkpoints", json_integer((json_int_t)ts.checkpoints));
    json_object_set_new(o, "suspends", json_integer((json_int_t)ts.suspends));
    json_object_set_new(o, "clock_jumps", json_integer((json_int_t)ts.clock_jumps));
    json_object_set_new(o, "append_errors", json_integer((json_int_t)ts.append_errors));
    json_object_set_new(o, "held", json_integer((json_int_t)ts.pending));
    json_object_set_new(o, "dropped", json_integer((json_int_t)ts.dropped));
    json_object_set_new(o, "gaps", json_integer((json_int_t)ts.gaps));
    if (ts.failing)
        json_object_set_new(o, "journal",
                            json_string(ts.source_paused ? "failing: source paused, will read "
                                                           "again from the last journaled event"
                                                         : "failing: records held in memory"));
    if (ts.last_error[0])
        json_object_set_new(o, "last_error", json_string(ts.last_error));
    json_object_set_new(out, "tracker", o);

    o = json_object();
    if (!d->sender) {
        json_object_set_new(o, "state", json_string("off (no server configured)"));
    } else {
        struct stint_sender_status st;
        const char *state;
        stint_sender_status(d->sender, &st);
        state = st.auth_paused     ? "paused: the server refused the token (fix token_file, then "
                                     "reload or flush)"
                : st.config_paused ? "paused: the server URL or encoding is wrong"
                : st.blocked       ? "blocked: TLS or setup error"
                : st.next_retry_ms ? "retrying"
                : st.backlog       ? "sending"
                                   : "idle";
        json_object_set_new(o, "state", json_string(state));
        if (st.fix[0])
            json_object_set_new(o, "fix", json_string(st.fix));
        json_object_set_new(o, "server", json_string(d->cfg.server));
        json_object_set_new(o, "in_flight",
                            json_boolean(!stint_sender_settled(d->sender) || st.in_flight));
        json_object_set_new(o, "attempts", json_integer((json_int_t)st.attempts));
        json_object_set_new(o, "records_sent", json_integer((json_int_t)st.records_sent));
        json_object_set_new(o, "batches_acked", json_integer((json_int_t)st.batches_acked));
        json_object_set_new(o, "records_dead", json_integer((json_int_t)st.records_dead));
        if (st.last_attempt_ms)
            json_object_set_new(o, "last_attempt_ms", json_integer(st.last_attempt_ms));
        if (st.last_success_ms)
            json_object_set_new(o, "last_success_ms", json_integer(st.last_success_ms));
        if (st.next_retry_ms)
            json_object_set_new(o, "next_retry_ms", json_integer(st.next_retry_ms));
        if (st.last_status)
            json_object_set_new(o, "last_status", json_integer(st.last_status));
        if (st.last_error[0])
            json_object_set_new(o, "last_error", json_string(st.last_error));
    }
    json_object_set_new(out, "sender", o);
    return STINT_OK;
}

static enum stint_err c_private(void *ctx, bool on, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    enum stint_err err = stint_tracker_private_set(d->tracker, on);

    if (err != STINT_OK)
        return stint_error_set(e, err, 0, "private mode could not be stored in the journal");
    stint_log(&d->lg, STINT_LOG_INFO, "private mode %s (control socket)", on ? "on" : "off");
    wake_if_new(d);
    return STINT_OK;
}

static enum stint_err c_flush(void *ctx, uint64_t *target, json_t *out, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct stint_journal_stats js;

    (void)out;
    if (!d->sender)
        return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                               "no server configured: records stay in the journal");
    stint_journal_stats(d->journal, &js);
    *target = js.backlog ? js.next_seq - 1 : 0;
    stint_sender_flush(d->sender);
    stint_log(&d->lg, STINT_LOG_INFO, "flush asked (control socket): %" PRIu64 " records",
              js.backlog);
    return STINT_OK;
}

struct first_seq {
    uint64_t seq;
};

static enum stint_err take_first(void *ctx, const struct stint_journal_entry *en)
{
    ((struct first_seq *)ctx)->seq = en->seq;
    return STINT_OK;
}

static enum stint_err c_flush_progress(void *ctx, uint64_t target, json_t *out, bool *done,
                                       struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct stint_journal_stats js;
    struct stint_sender_status st;
    struct first_seq fs = {0};
    size_t n = 0;
    enum stint_err err;

    stint_journal_stats(d->journal, &js);
    /* Done when no record at or below the target is left (acked or dead-lettered). */
    err = stint_journal_read(d->journal, 0, 1, SIZE_MAX, STINT_JOURNAL_RAW, take_first, &fs, NULL,
                             &n);
    if (err != STINT_OK)
        return stint_error_set(e, err, 0, "reading the journal failed");
    *done = n == 0 || fs.seq > target;
    json_object_set_new(out, "acked", json_integer((json_int_t)js.acked_seq));
    json_object_set_new(out, "backlog", json_integer((json_int_t)js.backlog));
    if (*done || !d->sender)
        return STINT_OK;
    stint_sender_status(d->sender, &st);
    if (st.auth_paused)
        return stint_error_set(e, STINT_EIO, 0,
                               "the server refused the token (HTTP %ld): fix token_file, reload "
                               "(SIGHUP) and flush again",
                               st.last_status);
    if (st.config_paused)
        return stint_error_set(e, STINT_EIO, 0, "sending is paused: %s", st.fix);
    if (st.blocked)
        return stint_error_set(e, STINT_EIO, 0, "sending is blocked: %.100s; %.140s", st.last_error,
                               st.fix);
    if (st.next_retry_ms) {
        char state[200];
        int64_t in = st.next_retry_ms - stint_clock_wall_ms();
        snprintf(state, sizeof(state), "retry in %" PRId64 " s: %.120s", in > 0 ? in / 1000 : 0,
                 st.last_error[0] ? st.last_error : "server unreachable");
        json_object_set_new(out, "state", json_string(state));
    } else {
        json_object_set_new(out, "state", json_string("sending"));
    }
    return STINT_OK;
}

struct pending_ctx {
    stint_control_record_fn fn;
    void *fn_ctx;
};

static enum stint_err pending_entry(void *ctx, const struct stint_journal_entry *en)
{
    struct pending_ctx *pc = ctx;
    return pc->fn(pc->fn_ctx, en->record);
}

static enum stint_err c_pending(void *ctx, uint64_t from, size_t max, stint_control_record_fn fn,
                                void *fn_ctx, uint64_t *next, bool *more, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct pending_ctx pc = {fn, fn_ctx};
    size_t n = 0;
    enum stint_err err;

    err = stint_journal_read(d->journal, from, max, SIZE_MAX, 0, pending_entry, &pc, next, &n);
    if (err != STINT_OK)
        return stint_error_set(e, err, 0, "reading the journal failed");
    *more = n == max && n > 0;
    return STINT_OK;
}

/* The DELETE, on its own thread. The answer's body is kept (its count is reported through
 * stintctl), never printed. */
static void *purge_thread(void *p)
{
    struct purge_job *job = p;
    const char *headers[] = {job->auth, NULL};
    struct stint_http_request rq = {
        .method = "DELETE",
        .url = job->url,
        .headers = headers,
        .ca_file = job->ca_file[0] ? job->ca_file : NULL, /* as the sender */
        .pinned_pubkey = job->pinned[0] ? job->pinned : NULL,
        .connect_timeout_ms = 10000,
        .timeout_ms = 30000,
        .answer = (uint8_t *)job->body,
        .answer_cap = sizeof(job->body) - 1,
    };
    struct stint_http_response resp;

    if (stint_http_request(&rq, &resp, NULL) != STINT_OK && resp.curl_code == 0)
        resp.curl_code = -1; /* not even made: reported as the server not reached */
    job->curl_code = resp.curl_code;
    job->status = resp.status;
    job->body_len = resp.body_len;
    snprintf(job->error, sizeof(job->error), "%s", resp.error);
    memset(job->auth, 0, sizeof(job->auth));
    if (atomic_exchange(&job->state, JOB_DONE) == JOB_ORPHANED)
        free(job);
    return NULL;
}

/* Starts the DELETE once no request of a purged batch is in flight any more. */
static enum stint_err purge_start_when_settled(struct stint_daemon *d, struct stint_error *e)
{
    struct purge_job *job = d->purge;

    if (!job || job->started)
        return STINT_OK;
    if (d->sender && !stint_sender_settled(d->sender)) {
        if (stint_clock_wall_ms() < job->wait_until)
            return STINT_OK;
        stint_sender_purge(d->sender, true); /* it took too long: cut it */
    }
    if (pthread_create(&job->thread, NULL, purge_thread, job) != 0) {
        d->purge = NULL;
        free(job);
        return stint_error_set(e, STINT_ENOMEM, 0, "cannot start the purge thread");
    }
    job->started = true;
    return STINT_OK;
}

static enum stint_err c_purge(void *ctx, bool server, bool *in_progress, json_t *out,
                              struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct stint_journal_stats js;
    struct purge_job *job = NULL;
    char token[STINT_CONFIG_TOKEN_MAX + 1];
    size_t token_len = 0;
    enum stint_err err;

    *in_progress = false;
    if (server && !d->cfg.server[0])
        return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                               "no server configured: nothing to purge there");
    if (server) {
        err = stint_config_read_token(&d->cfg, token, sizeof(token), &token_len, e);
        if (err != STINT_OK)
            return err;
    }
    stint_journal_stats(d->journal, &js);
    stint_tracker_discard_open(d->tracker); /* nothing from before the purge is written later */
    /* The sender drops its batch and ignores the answer to a request in flight. That request
     * is not cut: it was on its way, and a server stores before it answers, so once it has
     * ended the server holds all of it. A later (or this) --server DELETE goes after it and so
     * deletes it too (spec/AGENT.md, "Purge"). */
    if (d->sender)
        stint_sender_purge(d->sender, false);
    err = stint_journal_purge(d->journal);
    if (err != STINT_OK) {
        memset(token, 0, sizeof(token));
        return stint_error_set(e, err, 0, "purging the journal failed");
    }
    stint_log(&d->lg, STINT_LOG_WARN, "purge (control socket): %" PRIu64 " local records deleted%s",
              js.backlog, server ? "; asking the server to delete the account's data" : "");
    json_object_set_new(out, "deleted", json_integer((json_int_t)js.backlog));
    if (!server)
        return STINT_OK;
    job = calloc(1, sizeof(*job));
    if (!job) {
        memset(token, 0, sizeof(token));
        return stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
    }
    {
        size_t sl = strlen(d->cfg.server);
        while (sl > 0 && d->cfg.server[sl - 1] == '/')
            sl--;
        snprintf(job->url, sizeof(job->url), "%.*s/v1/data", (int)sl, d->cfg.server);
    }
    snprintf(job->ca_file, sizeof(job->ca_file), "%s", d->cfg.ca_file);
    snprintf(job->pinned, sizeof(job->pinned), "%s", d->cfg.pinned_key);
    snprintf(job->auth, sizeof(job->auth), "Authorization: Bearer %.*s", (int)token_len, token);
    memset(token, 0, sizeof(token));
    atomic_init(&job->state, JOB_RUNNING);
    job->wait_until = stint_clock_wall_ms() + d->cfg.timeout_ms + 5000;
    d->purge = job;
    *in_progress = true;
    return purge_start_when_settled(d, e);
}

/* Collects a finished purge job; with `leave`, one still running is left to free itself. */
void stint_commands_purge_reap(struct stint_daemon *d, bool leave)
{
    struct purge_job *job = d->purge;

    if (!job)
        return;
    d->purge = NULL;
    if (!job->started) {
        memset(job->auth, 0, sizeof(job->auth));
        free(job);
        return;
    }
    if (leave && atomic_exchange(&job->state, JOB_ORPHANED) == JOB_RUNNING) {
        pthread_detach(job->thread);
        return;
    }
    pthread_join(job->thread, NULL);
    free(job);
}

static enum stint_err c_purge_poll(void *ctx, bool *done, json_t *out, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct purge_job *job = d->purge;
    enum stint_err err = STINT_OK;

    *done = false;
    if (!job) {
        *done = true;
        return STINT_OK;
    }
    if (!job->started) {
        err = purge_start_when_settled(d, e);
        if (err != STINT_OK) {
            *done = true;
            return err;
        }
        return STINT_OK;
    }
    if (atomic_load(&job->state) != JOB_DONE)
        return STINT_OK;
    *done = true;
    if (job->curl_code != 0)
        err = stint_error_set(e, STINT_EIO, 0,
                              "local records deleted, but the server could not be reached: %s",
                              job->error);
    else if (job->status < 200 || job->status > 299)
        err = stint_error_set(e, STINT_EIO, 0,
                              "local records deleted, but the server answered HTTP %ld to "
                              "DELETE /v1/data",
                              job->status);
    else {
        json_t *ans = json_loadb(job->body, job->body_len, 0, NULL);
        json_t *n = ans ? json_object_get(ans, "deletedRecords") : NULL;
        json_int_t count = -1;
        if (json_is_integer(n))
            count = json_integer_value(n);
        else if (json_is_string(n))
            count = (json_int_t)strtoll(json_string_value(n), NULL, 10);
        json_object_set_new(out, "server", json_true());
        json_object_set_new(out, "status", json_integer(job->status));
        if (count >= 0)
            json_object_set_new(out, "server_deleted", json_integer(count));
        json_decref(ans);
        stint_log(&d->lg, STINT_LOG_WARN,
                  "purge: the server deleted the account's data (HTTP %ld, %lld records)",
                  job->status, (long long)count);
    }
    stint_commands_purge_reap(d, false);
    return err;
}

/* ---- dead letters ---- */

struct dl_ctx {
    const struct stint_control_request *rq;
    json_t *list;
    size_t total;
};

static enum stint_err dl_each(void *ctx, const struct stint_journal_dead *dd)
{
    struct dl_ctx *c = ctx;

    c->total++;
    if (json_array_size(c->list) < (c->rq->limit ? c->rq->limit : STINT_CONTROL_DL_LIST_MAX) &&
        json_array_size(c->list) < STINT_CONTROL_DL_LIST_MAX) {
        json_t *o = json_object();
        json_object_set_new(o, "seq", json_integer((json_int_t)dd->seq));
        json_object_set_new(o, "reason", json_stringn_nocheck(dd->reason, dd->reason_len));
        json_object_set_new(o, "moved_ms", json_integer(dd->moved_ms));
        json_array_append_new(c->list, o);
    }
    return STINT_OK;
}

/* retry: one atomic write of the journal (stint_journal_dead_retry), all or nothing. */
static enum stint_err dl_retry(struct stint_daemon *d, const struct stint_control_request *rq,
                               json_t *out, struct stint_error *e)
{
    struct stint_journal_retry r;
    enum stint_err err;
    char msg[512];

    err = stint_journal_dead_retry(d->journal, rq->n_seqs ? rq->seqs : NULL, rq->n_seqs, &r);
    if (err == STINT_EINVAL)
        return stint_error_set(e, err, 0, "seq %" PRIu64 " is not a dead letter (nothing retried)",
                               r.refused_seq);
    if (err == STINT_EWIRE)
        return stint_error_set(e, err, 0,
                               "dead letter %" PRIu64 " does not decode as a record: it can only "
                               "be dropped (nothing retried)",
                               r.refused_seq);
    if (err == STINT_ELIMIT)
        return stint_error_set(e, err, 0,
                               "the journal is full: the dead letters take %" PRIu64
                               " bytes, max_bytes leaves %" PRIu64 " (nothing retried: retry "
                               "fewer, or once the queue has drained)",
                               r.need_bytes, r.room_bytes);
    if (err != STINT_OK) {
        stint_journal_last_error(d->journal, msg, sizeof(msg));
        return stint_error_set(e, err, 0,
                               "putting the dead letters back in the queue failed (nothing "
                               "retried): %s",
                               msg);
    }
    json_object_set_new(out, "retried", json_integer((json_int_t)r.retried));
    if (r.undecodable)
        json_object_set_new(out, "undecodable", json_integer((json_int_t)r.undecodable));
    stint_log(&d->lg, STINT_LOG_INFO,
              "dead letters (control socket): %zu put back in the queue (seqs %" PRIu64
              " on), %zu left that do not decode",
              r.retried, r.first_seq, r.undecodable);
    if (r.retried && d->sender)
        stint_sender_flush(d->sender);
    return STINT_OK;
}

/* drop: one atomic write of the journal (stint_journal_dead_drop), all or nothing. */
static enum stint_err dl_drop(struct stint_daemon *d, const struct stint_control_request *rq,
                              json_t *out, struct stint_error *e)
{
    uint64_t refused = 0;
    size_t done = 0;
    enum stint_err err;
    char msg[512];

    err = stint_journal_dead_drop(d->journal, rq->n_seqs ? rq->seqs : NULL, rq->n_seqs, &done,
                                  &refused);
    if (err == STINT_EINVAL)
        return stint_error_set(e, err, 0, "seq %" PRIu64 " is not a dead letter (nothing dropped)",
                               refused);
    if (err != STINT_OK) {
        stint_journal_last_error(d->journal, msg, sizeof(msg));
        return stint_error_set(e, err, 0, "dropping the dead letters failed (nothing dropped): %s",
                               msg);
    }
    json_object_set_new(out, "dropped", json_integer((json_int_t)done));
    stint_log(&d->lg, STINT_LOG_INFO, "dead letters (control socket): %zu dropped", done);
    return STINT_OK;
}

static enum stint_err c_dead_letters(void *ctx, const struct stint_control_request *rq, json_t *out,
                                     struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct dl_ctx c = {.rq = rq};
    enum stint_err err;

    if (rq->action == STINT_CONTROL_DL_RETRY)
        return dl_retry(d, rq, out, e);
    if (rq->action == STINT_CONTROL_DL_DROP)
        return dl_drop(d, rq, out, e);
    c.list = json_array();
    err = stint_journal_dead_list(d->journal, 0, 0, dl_each, &c);
    if (err != STINT_OK) {
        err = stint_error_set(e, err, 0, "reading the dead letters failed");
        goto cleanup;
    }
    json_object_set_new(out, "total", json_integer((json_int_t)c.total));
    json_object_set_new(out, "more", json_boolean(c.total > json_array_size(c.list)));
    json_object_set(out, "dead_letters", c.list);
cleanup:
    json_decref(c.list);
    return err;
}

/* browser: a report of the extension, through stint-browser-host (browser_merge.h) */
static enum stint_err c_browser(void *ctx, const struct stint_control_request *rq, json_t *out,
                                struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct stint_browser_event ev = {0};
    enum stint_err err;

    (void)out;
    if (!d->browser)
        return stint_error_set(e, STINT_EUNSUPPORTED, 0,
                               "browser reports are off: set source = %s, browser", d->cfg.source);
    if (strcmp(rq->btype, "hello") == 0)
        return STINT_OK;
    ev.pid = rq->pid;
    ev.focus = strcmp(rq->btype, "focus") == 0;
    ev.time_ms = rq->time_ms;
    ev.is_private = rq->is_private;
    ev.url = rq->is_private ? "" : rq->url;
    ev.title = rq->is_private ? "" : rq->title;
    err = stint_browser_merge_event(d->browser, &ev);
    if (err != STINT_OK)
        return stint_error_set(e, err, 0, "browser report: %s", stint_strerror(err));
    return STINT_OK;
}

/* history: like pending, over the acked records kept for the user (agent/history.h). */
static enum stint_err c_history(void *ctx, uint64_t from, size_t max, stint_control_record_fn fn,
                                void *fn_ctx, uint64_t *next, bool *more, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct pending_ctx pc = {fn, fn_ctx};
    enum stint_err err;

    err = stint_journal_history_read(d->journal, from, max, pending_entry, &pc, next, more);
    if (err != STINT_OK)
        return stint_error_set(e, err, 0, "reading the history failed");
    return STINT_OK;
}

const struct stint_control_ops stint_commands_ops = {
    .history = c_history,
    .browser = c_browser,
    .status = c_status,
    .private_set = c_private,
    .flush = c_flush,
    .flush_progress = c_flush_progress,
    .pending = c_pending,
    .purge = c_purge,
    .purge_poll = c_purge_poll,
    .dead_letters = c_dead_letters,
};
