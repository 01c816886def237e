/* daemon.c — stintd's wiring and the tracker thread's poll loop (daemon.h).
 *
 * Design. Everything the agent does on its own thread happens in one poll() call: the source's
 * fds (X connection, inotify, a FIFO), the tracker's clock fd (wall-clock set, resume), the
 * control socket's listening and client fds, and a signalfd. The timeout is the earliest of the
 * tracker's, the source's and the control socket's timers, so an idle agent sleeps until a timer
 * is really due. The sender runs on its own thread and is told about new records with
 * stint_sender_wake, which this loop calls whenever the journal's next seq moved.
 *
 * The control socket's callbacks (status, private, flush, pending, purge) run on this thread, so
 * they may touch the tracker without locks; the journal and the sender are thread-safe. The only
 * slow operation, `purge --server` (an HTTPS DELETE), runs on a short-lived thread of its own and
 * the control socket polls it, so the loop never waits for the network.
 *
 * Signals are blocked by the caller before any thread exists, so every thread inherits the mask
 * and only the signalfd here sees SIGTERM, SIGINT and SIGHUP.
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "control.h"
#include "stint/pb.h"
#include "journal.h"
#include "sender.h"
#include "source.h"
#include "browser_merge.h"
#include "tracker.h"
#include "version.h"

#define FDS_MAX (2 + 16 + STINT_CONTROL_FDS_MAX)

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

struct stint_daemon {
    struct stint_config cfg;
    enum stint_err (*reload)(void *ctx, struct stint_config *out, struct stint_error *e);
    void *reload_ctx;
    stint_daemon_log_fn log;
    void *log_ctx;
    enum stint_log_level level;
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

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
dlog(struct stint_daemon *d, enum stint_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (!d->log || level > d->level)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    d->log(d->log_ctx, level, line);
}

static void sender_log(void *ctx, const char *line)
{
    dlog(ctx, STINT_LOG_INFO, "sender: %s", line);
}

static void control_log(void *ctx, int level, const char *line)
{
    dlog(ctx, level <= 0 ? STINT_LOG_ERROR : (enum stint_log_level)(level > 3 ? 3 : level), "%s",
         line);
}

/* ---- the sender ---- */

static enum stint_err sender_make(struct stint_daemon *d, const struct stint_config *c,
                                  struct stint_sender **out, struct stint_error *e)
{
    struct stint_sender_opts so;
    char token[STINT_CONFIG_TOKEN_MAX + 1];
    size_t token_len = 0;
    enum stint_err err;

    *out = NULL;
    if (!c->server[0])
        return STINT_OK;
    err = stint_config_read_token(c, token, sizeof(token), &token_len, e);
    if (err != STINT_OK)
        return err;
    memset(&so, 0, sizeof(so));
    so.url = c->server;
    so.token = token;
    so.token_len = token_len;
    so.ca_file = c->ca_file[0] ? c->ca_file : NULL;
    so.pinned_pubkey = c->pinned_key[0] ? c->pinned_key : NULL;
    switch (c->encoding) {
    case STINT_ENCODING_JSON:
        so.encoding = STINT_SENDER_JSON;
        break;
    case STINT_ENCODING_LEGACY_FORM:
        so.encoding = STINT_SENDER_LEGACY_FORM;
        break;
    case STINT_ENCODING_LEGACY_JSON:
        so.encoding = STINT_SENDER_LEGACY_JSON;
        break;
    case STINT_ENCODING_PROTOBUF:
    default:
        so.encoding = STINT_SENDER_PB;
        break;
    }
    so.gzip_min_bytes = c->gzip ? 0 : STINT_SENDER_NO_GZIP;
    so.batch_max_records = c->batch_records;
    so.batch_max_bytes = (size_t)c->batch_bytes;
    so.backoff_base_ms = (uint32_t)c->backoff_base_ms;
    so.backoff_cap_ms = (uint32_t)c->backoff_cap_ms;
    so.probe_ms = (uint32_t)c->probe_ms;
    so.timeout_ms = (uint32_t)c->timeout_ms;
    so.stop_grace_ms = d->stop_grace_ms;
    so.log = sender_log;
    so.cb_ctx = d;
    err = stint_sender_create(&so, d->journal, out, e);
    memset(token, 0, sizeof(token));
    if (err == STINT_OK) {
        err = stint_sender_start(*out);
        if (err != STINT_OK) {
            stint_error_set(e, err, 0, "cannot start the sender thread");
            stint_sender_destroy(*out);
            *out = NULL;
        }
    }
    return err;
}

/* ---- control socket callbacks (run on the loop's thread) ---- */

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
    json_object_set_new(out, "uptime_s", json_integer((wall_ms() - d->started_ms) / 1000));
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

static bool journal_failing(struct stint_daemon *d)
{
    struct stint_tracker_status ts;

    stint_tracker_status(d->tracker, &ts);
    return ts.failing;
}

/* Logs the start and the end of a spell of journal failure, once each, with what it cost. */
static void journal_spell(struct stint_daemon *d)
{
    struct stint_tracker_status ts;

    stint_tracker_status(d->tracker, &ts);
    if (ts.failing && !d->journal_spell) {
        d->journal_spell = true;
        d->spell_dropped0 = ts.dropped;
        d->spell_errors0 = ts.append_errors ? ts.append_errors - 1 : 0;
        dlog(d, STINT_LOG_ERROR,
             "journal %s cannot take records (%s): %s; retrying every few seconds", d->cfg.journal,
             ts.last_error,
             ts.source_paused ? "the source is paused and will be read again from the last "
                                "journaled event, nothing is lost"
                              : "records are held in memory (the oldest are dropped past 256, "
                                "and a gap record will say how many)");
    } else if (!ts.failing && d->journal_spell) {
        d->journal_spell = false;
        dlog(d, ts.dropped > d->spell_dropped0 ? STINT_LOG_WARN : STINT_LOG_INFO,
             "journal %s takes records again after %" PRIu64 " failed writes; %" PRIu64
             " records dropped (in a gap record)",
             d->cfg.journal, ts.append_errors - d->spell_errors0, ts.dropped - d->spell_dropped0);
    }
}

static void wake_if_new(struct stint_daemon *d)
{
    struct stint_journal_stats js;

    stint_journal_stats(d->journal, &js);
    if (js.next_seq != d->seen_next_seq) {
        d->seen_next_seq = js.next_seq;
        if (d->sender)
            stint_sender_wake(d->sender);
    }
}

static enum stint_err c_private(void *ctx, bool on, struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    enum stint_err err = stint_tracker_private_set(d->tracker, on);

    if (err != STINT_OK)
        return stint_error_set(e, err, 0, "private mode could not be stored in the journal");
    dlog(d, STINT_LOG_INFO, "private mode %s (control socket)", on ? "on" : "off");
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
    dlog(d, STINT_LOG_INFO, "flush asked (control socket): %" PRIu64 " records", js.backlog);
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
        int64_t in = st.next_retry_ms - wall_ms();
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

/* The DELETE's answer is kept (its count is reported through stintctl), never printed. */
static size_t purge_body(char *ptr, size_t size, size_t n, void *ctx)
{
    struct purge_job *job = ctx;
    size_t len = size * n, room = sizeof(job->body) - 1 - job->body_len;

    memcpy(job->body + job->body_len, ptr, len < room ? len : room);
    job->body_len += len < room ? len : room;
    job->body[job->body_len] = '\0';
    return len;
}

static void *purge_thread(void *p)
{
    struct purge_job *job = p;
    struct curl_slist *hdrs = NULL;
    CURL *h = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc = CURLE_FAILED_INIT;

    if (h) {
        hdrs = curl_slist_append(NULL, job->auth);
        curl_easy_setopt(h, CURLOPT_URL, job->url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, purge_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, job);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        /* The config allows http:// only to a loopback host (stint_config_finish). */
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
                         strncmp(job->url, "http://", 7) == 0 ? "http" : "https");
        (void)stint_http_set_trust(h, job->ca_file[0] ? job->ca_file : NULL); /* as the sender */
        if (job->pinned[0])
            curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, job->pinned);
        rc = curl_easy_perform(h);
        if (rc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &job->status);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
    }
    job->curl_code = (int)rc;
    snprintf(job->error, sizeof(job->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
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
        if (wall_ms() < job->wait_until)
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
    dlog(d, STINT_LOG_WARN, "purge (control socket): %" PRIu64 " local records deleted%s",
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
    job->wait_until = wall_ms() + d->cfg.timeout_ms + 5000;
    d->purge = job;
    *in_progress = true;
    return purge_start_when_settled(d, e);
}

/* Collects a finished purge job; with `leave`, one still running is left to free itself. */
static void purge_reap(struct stint_daemon *d, bool leave)
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
        dlog(d, STINT_LOG_WARN,
             "purge: the server deleted the account's data (HTTP %ld, %lld records)", job->status,
             (long long)count);
    }
    purge_reap(d, false);
    return err;
}

/* ---- dead letters ---- */

struct dl_ctx {
    const struct stint_control_request *rq;
    json_t *list; /* list */
    size_t total;
    /* retry */
    struct stint_record *recs;
    uint64_t *seqs;
    size_t n, cap;
    enum stint_err err;
};

static bool dl_named(const struct stint_control_request *rq, uint64_t seq)
{
    if (rq->n_seqs == 0)
        return true;
    for (size_t i = 0; i < rq->n_seqs; i++)
        if (rq->seqs[i] == seq)
            return true;
    return false;
}

static enum stint_err dl_each(void *ctx, const struct stint_journal_dead *dd)
{
    struct dl_ctx *c = ctx;

    if (c->rq->action == STINT_CONTROL_DL_LIST) {
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
    if (!dl_named(c->rq, dd->seq))
        return STINT_OK;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        uint64_t *ns = realloc(c->seqs, ncap * sizeof(*ns));
        struct stint_record *nr = NULL;
        if (ns)
            c->seqs = ns;
        if (ns && c->rq->action == STINT_CONTROL_DL_RETRY) {
            nr = realloc(c->recs, ncap * sizeof(*nr));
            if (nr)
                c->recs = nr;
        }
        if (!ns || (c->rq->action == STINT_CONTROL_DL_RETRY && !nr))
            return STINT_ENOMEM;
        c->cap = ncap;
    }
    if (c->rq->action == STINT_CONTROL_DL_RETRY &&
        stint_pb_decode_record(dd->raw, dd->raw_len, &c->recs[c->n], NULL, NULL) != STINT_OK)
        return STINT_OK; /* a dead letter that does not decode stays (its reason says so) */
    c->seqs[c->n++] = dd->seq;
    return STINT_OK;
}

static enum stint_err c_dead_letters(void *ctx, const struct stint_control_request *rq, json_t *out,
                                     struct stint_error *e)
{
    struct stint_daemon *d = ctx;
    struct dl_ctx c = {.rq = rq};
    enum stint_err err;
    size_t i, done = 0;

    if (rq->action == STINT_CONTROL_DL_LIST)
        c.list = json_array();
    err = stint_journal_dead_list(d->journal, 0, 0, dl_each, &c);
    if (err != STINT_OK) {
        err = stint_error_set(e, err, 0, "reading the dead letters failed");
        goto cleanup;
    }
    if (rq->action == STINT_CONTROL_DL_LIST) {
        json_object_set_new(out, "total", json_integer((json_int_t)c.total));
        json_object_set_new(out, "more", json_boolean(c.total > json_array_size(c.list)));
        json_object_set(out, "dead_letters", c.list);
        goto cleanup;
    }
    if (rq->action == STINT_CONTROL_DL_RETRY && c.n) {
        /* back in the queue as new records (new seqs: the server never stored the old ones, and
         * the queue only grows), then out of the dead letters */
        for (i = 0; i < c.n; i++) {
            c.recs[i].seq = 0;
        }
        err = stint_journal_append(d->journal, c.recs, c.n, NULL, NULL);
        if (err != STINT_OK) {
            err = stint_error_set(e, err, 0, "putting the dead letters back in the queue failed");
            goto cleanup;
        }
    }
    for (i = 0; i < c.n; i++) {
        err = stint_journal_dead_delete(d->journal, c.seqs[i], c.seqs[i]);
        if (err != STINT_OK) {
            err = stint_error_set(e, err, 0, "removing dead letter %" PRIu64 " failed", c.seqs[i]);
            goto cleanup;
        }
        done++;
    }
    for (i = 0; i < rq->n_seqs; i++) {
        bool found = false;
        for (size_t k = 0; k < c.n; k++)
            found = found || c.seqs[k] == rq->seqs[i];
        if (!found) {
            err = stint_error_set(e, STINT_EINVAL, 0,
                                  "seq %" PRIu64 " is not a dead letter (%zu of the others done)",
                                  rq->seqs[i], done);
            goto cleanup;
        }
    }
    json_object_set_new(out, rq->action == STINT_CONTROL_DL_RETRY ? "retried" : "dropped",
                        json_integer((json_int_t)done));
    dlog(d, STINT_LOG_INFO, "dead letters (control socket): %zu %s", done,
         rq->action == STINT_CONTROL_DL_RETRY ? "put back in the queue" : "dropped");
    if (rq->action == STINT_CONTROL_DL_RETRY && done && d->sender)
        stint_sender_flush(d->sender);
cleanup:
    json_decref(c.list);
    free(c.recs);
    free(c.seqs);
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

static const struct stint_control_ops control_ops = {
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

/* ---- create / run / destroy ---- */

/* mkdir -p of the folders above path (0700: activity data is private), not path itself. */
static enum stint_err make_parents(const char *path, struct stint_error *e)
{
    char buf[STINT_CONFIG_PATH_MAX];
    size_t i, len = strlen(path);

    if (len >= sizeof(buf))
        return stint_error_set(e, STINT_EINVAL, 0, "path too long: %s", path);
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    for (i = 1; i < len; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return stint_error_set(e, STINT_EIO, 0, "cannot make folder %s: %s", buf,
                                   strerror(errno));
        buf[i] = '/';
    }
    return STINT_OK;
}

/* A folder that holds activity data: a real folder (not a link), ours, 0700. Missing is fine
 * (it is made 0700). */
static enum stint_err check_private_dir(const char *what, const char *path, struct stint_error *e)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return STINT_OK;
        return stint_error_set(e, STINT_EINVAL, 0, "%s %s: %s", what, path, strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s %s is a symbolic link: give the real folder (it must be yours, "
                               "mode 0700)",
                               what, path);
    if (!S_ISDIR(st.st_mode))
        return stint_error_set(e, STINT_EINVAL, 0, "%s %s is not a folder", what, path);
    if (st.st_uid != geteuid())
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s %s belongs to uid %u, not to you (uid %u): use a folder of "
                               "your own",
                               what, path, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 077)
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s %s has mode %04o: others could read it; run: chmod 700 %s", what,
                               path, (unsigned)(st.st_mode & 07777), path);
    return STINT_OK;
}

enum stint_err stint_daemon_preflight(const struct stint_config *c, struct stint_error *e)
{
    enum stint_err err;
    struct stat st;

    stint_error_clear(e);
    err = check_private_dir("journal", c->journal, e);
    if (err != STINT_OK)
        return err;
    if (c->socket[0]) {
        char dir[STINT_CONFIG_PATH_MAX];
        const char *slash = strrchr(c->socket, '/');
        if (slash && slash != c->socket) {
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - c->socket), c->socket);
            if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
                return stint_error_set(e, STINT_EINVAL, 0,
                                       "control socket folder %s is a symbolic link: give "
                                       "--socket a path in a real folder of your own",
                                       dir);
        }
    }
    if (c->server[0]) {
        char token[STINT_CONFIG_TOKEN_MAX + 1];
        size_t len = 0;
        err = stint_config_read_token(c, token, sizeof(token), &len, e);
        memset(token, 0, sizeof(token));
        if (err != STINT_OK) {
            char msg[sizeof(e->msg)];
            snprintf(msg, sizeof(msg), "%s", e->msg);
            return stint_error_set(e, STINT_EINVAL, 0, "%s", msg);
        }
        if (c->ca_file[0]) {
            int fd = open(c->ca_file, O_RDONLY | O_CLOEXEC);
            bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
            int saved = errno;
            if (fd >= 0)
                close(fd);
            if (!ok)
                return stint_error_set(e, STINT_EINVAL, 0,
                                       "[sender] ca_file %s: %s: give the PEM file of the CA that "
                                       "signed the server's certificate",
                                       c->ca_file, fd < 0 ? strerror(saved) : "not a regular file");
        }
    }
    if (strcmp(c->source, "x11") == 0) {
        const char *disp = getenv("DISPLAY");
        if (!disp || !*disp)
            return stint_error_set(e, STINT_EINVAL, 0,
                                   "source x11: DISPLAY is not set; as a user service run "
                                   "`systemctl --user import-environment DISPLAY XAUTHORITY` "
                                   "(or start it from the session)");
    } else if (strncmp(c->source, "jsonl:", 6) == 0) {
        const char *path = c->source + 6;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
            return stint_error_set(e, STINT_EINVAL, 0, "source %s: not a regular file or a FIFO",
                                   c->source);
    }
    return STINT_OK;
}

/* Every file the journal folder holds is the user's alone (a journal made by an older stintd,
 * or under a loose umask, may have 0644 files). Returns how many files could not be tightened
 * (the folder itself is 0700, so they are still out of other users' reach). */
static size_t tighten_files(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *de;
    size_t failed = 0;

    if (!dir)
        return 0;
    while ((de = readdir(dir)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & 077) && fchmodat(dirfd(dir), de->d_name, st.st_mode & 0700, 0) != 0)
            failed++;
    }
    closedir(dir);
    return failed;
}

static enum stint_err open_journal(struct stint_daemon *d, struct stint_error *e)
{
    struct stint_journal_opts jo;
    struct stint_journal_open_info info;
    enum stint_err err;

    err = check_private_dir("journal", d->cfg.journal, e);
    if (err != STINT_OK)
        return err;
    err = make_parents(d->cfg.journal, e);
    if (err != STINT_OK)
        return err;

    memset(&jo, 0, sizeof(jo));
    jo.path = d->cfg.journal;
    jo.sync = d->cfg.sync;
    jo.sync_interval_ms = (uint32_t)d->cfg.sync_interval_ms;
    jo.max_bytes = d->cfg.max_bytes;
    jo.max_age_ms = d->cfg.max_age_ms;
    jo.full = d->cfg.full;
    err = stint_journal_open(&jo, &d->journal, &info, e);
    if (err != STINT_OK)
        return err;
    {
        size_t loose = tighten_files(d->cfg.journal);
        if (loose)
            dlog(d, STINT_LOG_WARN,
                 "journal: %zu file(s) in %s could not be made 0600 (chmod 600 them by hand)",
                 loose, d->cfg.journal);
    }
    if (info.created)
        dlog(d, STINT_LOG_INFO, "journal %s created", d->cfg.journal);
    if (info.repaired)
        dlog(d, STINT_LOG_WARN, "journal %s was damaged and repaired (%" PRIu64 " records lost%s)",
             d->cfg.journal, info.lost, info.lost_known ? "" : ", at least");
    if (info.moved_aside)
        dlog(d, STINT_LOG_ERROR, "journal %s could not be repaired: moved to %s, a new one begun",
             d->cfg.journal, info.moved_to);
    if (info.checkpoint_restored)
        dlog(d, STINT_LOG_INFO, "the record open at the last stop was closed (seq %" PRIu64 ")",
             info.checkpoint_seq);
    return STINT_OK;
}

enum stint_err stint_daemon_create(const struct stint_daemon_opts *opts, struct stint_daemon **out,
                                   struct stint_error *e)
{
    struct stint_daemon *d = NULL;
    struct stint_tracker_opts to;
    struct stint_journal_stats js;
    sigset_t set;
    enum stint_err err = STINT_OK;

    stint_error_clear(e);
    *out = NULL;
    if (!opts || !opts->config)
        return stint_error_set(e, STINT_EINVAL, 0, "no config");
    d = calloc(1, sizeof(*d));
    if (!d)
        return stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
    d->sfd = -1;
    d->cfg = *opts->config;
    d->reload = opts->reload;
    d->reload_ctx = opts->reload_ctx;
    d->log = opts->log;
    d->log_ctx = opts->log_ctx;
    d->level = opts->log_level;
    d->stop_grace_ms = opts->stop_grace_ms ? opts->stop_grace_ms : 250;
    d->started_ms = wall_ms();

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    d->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d->sfd < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "signalfd: %s", strerror(errno));
        goto cleanup;
    }
    /* the source first: a source that cannot start (no X server) leaves nothing on disk */
    err = stint_source_open(d->cfg.source, &d->source, e);
    if (err != STINT_OK)
        goto cleanup;
    err = open_journal(d, e);
    if (err != STINT_OK)
        goto cleanup;
    stint_source_set_idle_after(d->source, d->cfg.idle_after_ms); /* wayland: its idle timeout */
    memset(&to, 0, sizeof(to));
    to.journal = d->journal;
    to.source = d->source;
    to.idle_after_ms = d->cfg.idle_after_ms;
    to.checkpoint_every_ms = d->cfg.checkpoint_every_ms;
    to.private_records = d->cfg.private_records;
    to.url_mode = d->cfg.url_mode;
    err = stint_config_filters(&d->cfg, &d->filters, e);
    if (err != STINT_OK)
        goto cleanup;
    to.filters = d->filters;
    to.event_time = (stint_source_flags(d->source) & STINT_SOURCE_EVENT_TIME) != 0;
    err = stint_tracker_create(&to, &d->tracker, e);
    if (err != STINT_OK)
        goto cleanup;
    if (d->cfg.browser) {
        /* the window source's samples go through the merger, which adds the browser's URL */
        err = stint_browser_merge_create(stint_tracker_sink(d->tracker), to.event_time, &d->browser,
                                         e);
        if (err != STINT_OK)
            goto cleanup;
        stint_source_set_sink(d->source, stint_browser_merge_sink(d->browser));
    }
    if (d->cfg.socket[0]) {
        struct stint_control_opts co = {
            .path = d->cfg.socket, .ops = &control_ops, .ctx = d, .log = control_log};
        err = stint_control_open(&co, &d->control, e);
        if (err != STINT_OK)
            goto cleanup;
    } else {
        dlog(d, STINT_LOG_WARN, "no control socket ($XDG_RUNTIME_DIR unset and no --socket)");
    }
    err = sender_make(d, &d->cfg, &d->sender, e);
    if (err != STINT_OK)
        goto cleanup;
    stint_journal_stats(d->journal, &js);
    d->seen_next_seq = js.next_seq;
    if (d->sender && js.backlog)
        stint_sender_wake(d->sender);
    dlog(d, STINT_LOG_INFO,
         "stintd %s started: source %s, journal %s (%" PRIu64 " records waiting), %s%s%s",
         stint_agent_version(), d->cfg.source, d->cfg.journal, js.backlog,
         d->sender ? "server " : "no server", d->sender ? d->cfg.server : "",
         js.private_mode ? ", private mode on" : "");
    *out = d;
    d = NULL;
cleanup:
    stint_daemon_destroy(d);
    return err;
}

/* SIGHUP: read the config again and apply what can change while running. */
static void reload(struct stint_daemon *d)
{
    struct stint_config *nc = NULL;
    struct stint_sender *ns = NULL;
    struct stint_error e;
    enum stint_err err;

    if (!d->reload) {
        dlog(d, STINT_LOG_INFO, "SIGHUP: nothing to reload (no config file)");
        return;
    }
    nc = malloc(sizeof(*nc));
    if (!nc)
        return;
    err = d->reload(d->reload_ctx, nc, &e);
    if (err != STINT_OK) {
        dlog(d, STINT_LOG_ERROR, "SIGHUP: config not reloaded, the old one stays: %s", e.msg);
        goto cleanup;
    }
    if (strcmp(nc->source, d->cfg.source) != 0 || strcmp(nc->journal, d->cfg.journal) != 0 ||
        strcmp(nc->socket, d->cfg.socket) != 0 || nc->idle_after_ms != d->cfg.idle_after_ms ||
        nc->checkpoint_every_ms != d->cfg.checkpoint_every_ms ||
        nc->private_records != d->cfg.private_records || nc->url_mode != d->cfg.url_mode ||
        nc->sync != d->cfg.sync || nc->max_bytes != d->cfg.max_bytes ||
        nc->max_age_ms != d->cfg.max_age_ms || nc->full != d->cfg.full ||
        nc->n_filters != d->cfg.n_filters ||
        memcmp(nc->filters, d->cfg.filters, sizeof(nc->filters)) != 0)
        dlog(d, STINT_LOG_WARN,
             "SIGHUP: [agent] source/socket, [tracker], [journal] and [filters] changes take "
             "effect at the next start");
    /* The sender is made anew from the new [sender] section and token (it may also be gone, or
     * new); the journal keeps every record meanwhile. */
    err = sender_make(d, nc, &ns, &e);
    if (err != STINT_OK) {
        dlog(d, STINT_LOG_ERROR, "SIGHUP: the sender keeps its old settings: %s", e.msg);
        goto cleanup;
    }
    stint_sender_destroy(d->sender);
    d->sender = ns;
    memcpy(d->cfg.server, nc->server, sizeof(nc->server));
    memcpy(d->cfg.token_file, nc->token_file, sizeof(nc->token_file));
    memcpy(d->cfg.ca_file, nc->ca_file, sizeof(nc->ca_file));
    memcpy(d->cfg.pinned_key, nc->pinned_key, sizeof(nc->pinned_key));
    d->cfg.encoding = nc->encoding;
    d->cfg.gzip = nc->gzip;
    d->cfg.batch_records = nc->batch_records;
    d->cfg.batch_bytes = nc->batch_bytes;
    d->cfg.backoff_base_ms = nc->backoff_base_ms;
    d->cfg.backoff_cap_ms = nc->backoff_cap_ms;
    d->cfg.probe_ms = nc->probe_ms;
    d->cfg.timeout_ms = nc->timeout_ms;
    d->cfg.log_level = nc->log_level;
    d->level = nc->log_level; /* -v already applied by the reload function */
    if (d->sender)
        stint_sender_wake(d->sender);
    dlog(d, STINT_LOG_INFO, "SIGHUP: config reloaded (%s%s)", d->sender ? "server " : "no server",
         d->sender ? d->cfg.server : "");
cleanup:
    free(nc);
}

static int min_timeout(int a, int64_t b)
{
    if (b < 0)
        return a;
    if (b > 0x7fffffff)
        b = 0x7fffffff;
    return a < 0 || b < a ? (int)b : a;
}

/* Drains the signalfd; sets *stop / *hup. */
static void read_signals(struct stint_daemon *d, bool *stop, bool *hup)
{
    struct signalfd_siginfo si;

    while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            *hup = true;
        } else {
            dlog(d, STINT_LOG_INFO, "%s: stopping", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
            *stop = true;
        }
    }
}

enum stint_err stint_daemon_run(struct stint_daemon *d, struct stint_error *e)
{
    struct pollfd fds[FDS_MAX];
    enum stint_err err = STINT_OK;
    bool stop = false;

    stint_error_clear(e);
    while (!stop) {
        int n = 0, nsrc, timeout = -1, tfd, r, src_first, ctl_first, tfd_at = -1;
        size_t nctl = 0;
        bool hup = false, src_ready = false, tfd_ready = false, src_paused;
        struct stint_source_stats ss;
        int64_t tt, st;

        fds[n++] = (struct pollfd){.fd = d->sfd, .events = POLLIN};
        tfd = stint_tracker_fd(d->tracker);
        if (tfd >= 0) {
            tfd_at = n;
            fds[n++] = (struct pollfd){.fd = tfd, .events = POLLIN};
        }
        src_first = n;
        /* a resumable source waits while the journal fails (it is read again from the last
         * journaled event at the tracker's retry) */
        src_paused = stint_tracker_source_paused(d->tracker);
        nsrc = src_paused ? 0 : stint_source_fds(d->source, fds + n, 16);
        if (nsrc < 0)
            nsrc = 0;
        n += nsrc;
        ctl_first = n;
        if (d->control)
            nctl = stint_control_pollfds(d->control, fds + n, STINT_CONTROL_FDS_MAX);
        n += (int)nctl;

        tt = stint_tracker_timeout(d->tracker);
        st = src_paused ? -1 : stint_source_timeout(d->source);
        timeout = min_timeout(timeout, tt);
        timeout = min_timeout(timeout, st);
        if (d->control)
            timeout = min_timeout(timeout, stint_control_timeout_ms(d->control));
        if (d->browser) /* a browser window waiting for its browser's report */
            timeout = min_timeout(timeout, stint_browser_merge_timeout(d->browser));

        r = poll(fds, (nfds_t)n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = stint_error_set(e, STINT_EIO, 0, "poll: %s", strerror(errno));
            break;
        }
        if (fds[0].revents & POLLIN)
            read_signals(d, &stop, &hup);
        if (tfd_at >= 0 && fds[tfd_at].revents)
            tfd_ready = true;
        for (int i = src_first; i < src_first + nsrc; i++)
            if (fds[i].revents)
                src_ready = true;

        /* The source first: its items may close records before a timer would. */
        if (!src_paused && (src_ready || (st >= 0 && stint_source_timeout(d->source) <= 0))) {
            enum stint_err berr;
            stint_tracker_batch_begin(d->tracker);
            err = stint_source_dispatch(d->source, fds + src_first, nsrc);
            berr = stint_tracker_batch_end(d->tracker); /* one append for the burst */
            if (err == STINT_OK)
                err = berr;
            if (err != STINT_OK) {
                stint_source_stats(d->source, &ss);
                /* A journal error reaches us through the sink: the tracker holds the records (or
                 * rewinds the source) and retries; that is logged once per spell below. */
                if (!stint_tracker_source_paused(d->tracker) && !journal_failing(d))
                    dlog(d, STINT_LOG_ERROR, "source %s: %s%s%s", d->cfg.source,
                         stint_strerror(err), ss.last_error[0] ? ": " : "", ss.last_error);
                err = STINT_OK;
            }
        }
        if (d->browser && stint_browser_merge_tick(d->browser) != STINT_OK)
            dlog(d, STINT_LOG_WARN, "browser: a held window could not be recorded");
        if (tfd_ready || (tt >= 0 && stint_tracker_timeout(d->tracker) <= 0)) {
            err = stint_tracker_tick(d->tracker);
            if (err != STINT_OK) {
                struct stint_tracker_status ts;
                stint_tracker_status(d->tracker, &ts);
                if (!ts.failing)
                    dlog(d, STINT_LOG_WARN, "tracker: %s (%s)", stint_strerror(err), ts.last_error);
                err = STINT_OK;
            }
        }
        journal_spell(d);
        wake_if_new(d);
        if (d->control)
            stint_control_handle(d->control, fds + ctl_first, nctl);
        if (hup)
            reload(d);
        stint_source_stats(d->source, &ss);
        if (ss.ended && !stop) {
            dlog(d, STINT_LOG_INFO, "source %s ended: stopping", d->cfg.source);
            stop = true;
        }
    }

    /* Clean stop: no new requests, the open record closed or checkpointed, the sender stopped
     * (an in-flight request abandoned after the grace), the journal closed. */
    stint_control_close(d->control);
    d->control = NULL;
    {
        enum stint_err serr = stint_tracker_shutdown(d->tracker);
        if (serr != STINT_OK)
            dlog(d, STINT_LOG_ERROR, "tracker shutdown: %s", stint_strerror(serr));
    }
    if (d->sender)
        stint_sender_stop(d->sender);
    purge_reap(d, true);
    dlog(d, STINT_LOG_INFO, "stopped");
    return err;
}

void stint_daemon_destroy(struct stint_daemon *d)
{
    if (!d)
        return;
    stint_control_close(d->control);
    stint_sender_destroy(d->sender);
    purge_reap(d, true);
    stint_tracker_destroy(d->tracker);
    stint_filters_destroy(d->filters);
    stint_browser_merge_destroy(d->browser);
    stint_source_destroy(d->source);
    stint_journal_close(d->journal);
    if (d->sfd >= 0)
        close(d->sfd);
    free(d);
}

enum stint_log_level stint_daemon_log_level(struct stint_daemon *d)
{
    return d ? d->level : STINT_LOG_INFO;
}
