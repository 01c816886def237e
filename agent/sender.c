/* sender.c — the sender thread (see sender.h; normative text in spec/PROTOCOL.md, "Sending").
 *
 * Design. The journal is the queue; the sender holds at most one batch: the raw v1 bytes of its
 * records, each framed as Batch field 4 (tag 0x22, varint length, bytes) in the codec's spool
 * (stint/spool.h) exactly as stint_journal_read hands them out, so the protobuf path never
 * decodes or re-encodes a record.
 * Each attempt re-frames the header (agent_id, client_version, a fresh now_ms) in front of the
 * stored frames, gzips the body above the threshold, and POSTs it. JSON and legacy bodies decode
 * the frames one at a time through a record iterator into one scratch record. The batch stays
 * the same (same seqs, same Idempotency-Key) across retries until the server answers for it:
 * an Ack (dead-letter the rejections, then trim), 413 (halve: the batch is re-read with a lower
 * record limit until the original range is through), or another 4xx (dead-letter it).
 *
 * Waiting. One mutex and one condition variable on CLOCK_MONOTONIC. The thread waits for exactly
 * one of: a wake (new records) followed by the linger, a flush, its retry time, a token change
 * (auth pause), stop, or a network change reported by the netlink helper thread. A network change
 * (a link, address or route that came or went) while waiting after a network error retries at
 * once (at most every 100 ms) with the backoff reset. Any change, up or down, cuts short a request
 * in flight for a second or more (a TCP connection across a link that went down sits in
 * retransmission backoff for seconds or minutes), and the next attempt opens a fresh connection.
 *
 * Stop. stop sets a flag; an in-flight request may run until stop_grace_ms, then the wait inside
 * libcurl is interrupted (curl_multi_wakeup) and the request abandoned. The journal keeps the
 * batch: nothing is lost, and a replay of a batch the server did store is answered from the
 * server's de-duplication.
 *
 * Legacy encodings (spec/PROTOCOL.md §6.8). The legacy array has no agent and no seq, so the
 * request names them in Stint-Agent-Id and Stint-Seqs (the seqs of the records the mapping
 * writes); a server that answers Stint-Legacy-Identity: agent-seq identifies the records as
 * those of a Batch and its Ack is taken as for a Batch. An older server is taken to keep one
 * record per start second: records it would merge are dead-lettered, not trimmed as delivered.
 * A batch with nothing the mapping writes (idle, private, gap only) is done without a request.
 *
 * Files: this one holds the thread, the attempts and the API; sender_batch.c the batch (read,
 * encoded, its answer read), behind sender_int.h. */
#define _GNU_SOURCE
#include "sender_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "backoff.h"
#include "common/clock.h"
#include "retry_after.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "stint/spool.h"
#include "version.h"

#define NET_MIN_GAP_MS 100
#define NET_CUT_AFTER_MS 1000 /* a request this old is cut short by a network change */

static int64_t wall_ms(const struct stint_sender *s)
{
    if (s->o.wall_ms)
        return s->o.wall_ms(s->o.clock_ctx);
    return stint_clock_wall_ms();
}

void fmt_(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

void stint_sender_idempotency_key(const uint8_t agent_id[STINT_AGENT_ID_LEN], uint64_t first,
                                  uint64_t last, char *out, size_t cap)
{
    char hex[2 * STINT_AGENT_ID_LEN + 1];
    size_t i;

    for (i = 0; i < STINT_AGENT_ID_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", agent_id[i]);
    fmt_(out, cap, "%s:%" PRIu64 "-%" PRIu64, hex, first, last);
}

uint64_t stint_sender_retry_wait(uint64_t backoff_ms, bool has_retry_after, const char *retry_after,
                                 int64_t now_ms, bool *from_retry_after)
{
    uint64_t ra = 0;

    *from_retry_after = false;
    if (has_retry_after && retry_after &&
        stint_retry_after_parse(retry_after, strlen(retry_after), now_ms, &ra) == STINT_OK &&
        ra >= backoff_ms) {
        *from_retry_after = true;
        return ra;
    }
    return backoff_ms;
}

/* ---- the thread ----------------------------------------------------------------------------- */

static bool should_abort(void *ctx)
{
    struct stint_sender *s = ctx;
    bool abort_now;

    pthread_mutex_lock(&s->mu);
    abort_now = s->net_abort || s->purge_abort ||
                (s->stopping && stint_clock_mono_ms() >= s->stop_deadline);
    pthread_mutex_unlock(&s->mu);
    return abort_now;
}

static void wait_until(struct stint_sender *s, int64_t deadline_ms)
{
    struct timespec ts;
    if (deadline_ms <= 0) {
        pthread_cond_wait(&s->cv, &s->mu);
        return;
    }
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Forgets the batch (purged): the next one is read afresh, at the configured size. */
static void drop_batch(struct stint_sender *s)
{
    s->have_batch = false;
    s->split_until = 0;
    s->limit = s->o.batch_max_records;
}

/* What to change after a 404/405/415/501: the URL or the encoding, named. */
static void misconfig_fix(const struct stint_sender *s, long status, char *out, size_t cap)
{
    switch (status) {
    case 404:
        fmt_(out, cap,
             "the server has no %s (HTTP 404): [sender] server must be the base URL that /v1/... "
             "goes under; fix it, then reload stintd or run `stintctl flush`",
             s->url);
        break;
    case 405:
        fmt_(out, cap,
             "the server refuses POST to %s (HTTP 405): [sender] server does not point at a Stint "
             "server; fix it, then reload stintd or run `stintctl flush`",
             s->url);
        break;
    case 415:
        fmt_(out, cap,
             "the server does not take this encoding (HTTP 415): set [sender] encoding to one it "
             "takes, then reload stintd or run `stintctl flush`");
        break;
    default:
        fmt_(out, cap,
             "the server does not implement %s (HTTP %ld): check [sender] server and encoding, "
             "then reload stintd or run `stintctl flush`",
             s->url, status);
        break;
    }
}

/* One attempt of the current batch; called without mu. */
/* What an attempt of class cls means for the batch and the wait before the next one (returned):
 * dead-letters or splits it, pauses, backs off or probes. why: what happened; r: the answer;
 * network: a network failure. Sets fix (for BLOCKED and MISCONFIG), *dead, *from_ra (the wait
 * is the server's Retry-After) and *probed. */
static uint64_t decide(struct stint_sender *s, enum stint_send_class cls, const char *why,
                       const struct stint_http_response *r, bool network, char *fix, size_t fix_cap,
                       uint64_t *dead, bool *from_ra, bool *probed)
{
    uint64_t wait = 0;

    switch (cls) {
    case STINT_SEND_OK:
        stint_backoff_reset(&s->bo);
        if (s->split_until && s->b.last >= s->split_until) {
            s->split_until = 0;
            s->limit = s->o.batch_max_records;
        }
        s->have_batch = false;
        break;
    case STINT_SEND_SPLIT:
        if (s->b.n <= 1) {
            char reason[STINT_REASON_MAX + 1];
            fmt_(reason, sizeof(reason), "too large for the server: %s", why);
            if (stint_journal_dead_letter(s->j, s->b.first, s->b.last, reason) == STINT_OK)
                *dead = s->b.n;
            stint_log(&s->lg, STINT_LOG_INFO, "seq %" PRIu64 " dead-lettered: %s", s->b.first,
                      reason);
            if (s->split_until && s->b.last >= s->split_until) {
                s->split_until = 0;
                s->limit = s->o.batch_max_records;
            }
        } else {
            if (!s->split_until)
                s->split_until = s->b.last;
            s->limit = s->b.n / 2;
            stint_log(&s->lg, STINT_LOG_INFO,
                      "batch %" PRIu64 "-%" PRIu64 " too large (%s): split to %zu records",
                      s->b.first, s->b.last, why, s->limit);
        }
        s->have_batch = false;
        break;
    case STINT_SEND_REJECT:
        /* a refusal of the batch as a whole (400, 422, ...) may come from one bad record: halve
         * until the record at fault is alone; only that one is dead-lettered */
        if (s->b.n > 1) {
            if (!s->split_until)
                s->split_until = s->b.last;
            s->limit = s->b.n / 2;
            stint_log(&s->lg, STINT_LOG_INFO,
                      "batch %" PRIu64 "-%" PRIu64 " refused (%s): split to %zu records to find "
                      "the record at fault",
                      s->b.first, s->b.last, why, s->limit);
        } else {
            char reason[STINT_REASON_MAX + 1];
            fmt_(reason, sizeof(reason), "%s", why);
            if (stint_journal_dead_letter(s->j, s->b.first, s->b.last, reason) == STINT_OK)
                *dead = s->b.n;
            stint_log(&s->lg, STINT_LOG_INFO, "seq %" PRIu64 " dead-lettered: %s", s->b.first,
                      reason);
            if (s->split_until && s->b.last >= s->split_until) {
                s->split_until = 0;
                s->limit = s->o.batch_max_records;
            }
        }
        stint_backoff_reset(&s->bo);
        s->have_batch = false;
        break;
    case STINT_SEND_AUTH:
        stint_log(&s->lg, STINT_LOG_INFO, "sending paused: the server refused the token (%s)", why);
        break;
    case STINT_SEND_MISCONFIG:
        misconfig_fix(s, r->status, fix, fix_cap);
        stint_log(&s->lg, STINT_LOG_INFO, "sending paused: %s (%s)", fix, why);
        break;
    case STINT_SEND_BLOCKED:
        wait = s->bo.cap_ms;
        stint_http_blocked_fix(r->curl_code, fix, fix_cap);
        stint_log(&s->lg, STINT_LOG_INFO,
                  "cannot talk to the server: %s; %s; next try in %" PRIu64 " ms", why, fix, wait);
        break;
    case STINT_SEND_RETRY:
    default:
        if (network && stint_http_unreachable(r->curl_code)) {
            /* the server is away, not busy: the next attempt is the probe (one refused connect
             * costs the server nothing), about every probe_ms, so that the first batch leaves
             * within about a second of the server's return; the backoff is left where it was */
            uint64_t p = s->o.probe_ms ? s->o.probe_ms : 1000;
            wait = p / 2 + stint_rng_upto(&s->probe_rng, p);
            *probed = true;
            stint_log(&s->lg, STINT_LOG_INFO,
                      "batch %" PRIu64 "-%" PRIu64 ": %s; server away, probe in %" PRIu64 " ms",
                      s->b.first, s->b.last, why, wait);
            break;
        }
        wait = stint_sender_retry_wait(stint_backoff_next(&s->bo), r->has_retry_after,
                                       r->retry_after, wall_ms(s), from_ra);
        stint_log(&s->lg, STINT_LOG_INFO,
                  "batch %" PRIu64 "-%" PRIu64 ": %s; retry in %" PRIu64 " ms%s", s->b.first,
                  s->b.last, why, wait, *from_ra ? " (Retry-After)" : "");
        break;
    }
    return wait;
}

/* Counts an attempt in the status (under mu) and sets when the next one may start. */
static void account(struct stint_sender *s, enum stint_send_class cls, int64_t now,
                    const struct stint_http_response *r, const char *why, const char *fix,
                    uint64_t wait, uint64_t sent, uint64_t dead, bool probed, bool network)
{
    pthread_mutex_lock(&s->mu);
    s->last_end = (stint_clock_mono_us() + 999) / 1000; /* rounded up: a wait is never cut short */
    s->st.attempts++;
    s->st.last_attempt_ms = now;
    s->st.last_class = cls;
    s->st.last_status = r->status;
    s->st.last_curl_code = r->curl_code;
    fmt_(s->st.last_error, sizeof(s->st.last_error), "%s", why);
    s->st.bytes_sent += r->wire_up;
    s->st.records_dead += dead;
    s->st.records_sent += sent;
    s->st.probes += probed;
    s->st.blocked = cls == STINT_SEND_BLOCKED;
    if (cls == STINT_SEND_SPLIT && s->b.n > 1)
        s->st.splits++;
    if (cls == STINT_SEND_OK) {
        s->st.batches_acked++;
        s->st.last_success_ms = now;
    }
    if (cls == STINT_SEND_AUTH)
        s->st.auth_paused = true;
    if (cls == STINT_SEND_MISCONFIG)
        s->st.config_paused = true;
    if (cls == STINT_SEND_MISCONFIG || cls == STINT_SEND_BLOCKED)
        fmt_(s->st.fix, sizeof(s->st.fix), "%s", fix);
    else
        s->st.fix[0] = '\0';
    if (cls == STINT_SEND_RETRY || cls == STINT_SEND_BLOCKED) {
        s->retry_at = s->last_end + (int64_t)wait;
        s->st.next_retry_ms = wall_ms(s) + (int64_t)wait;
        s->server_wait = cls == STINT_SEND_RETRY && r->curl_code == 0 && r->status != 0;
        /* a network change seen during this attempt counts only for a network failure */
        if (!network)
            s->net_seen = s->net_epoch;
    } else {
        s->retry_at = 0;
        s->st.next_retry_ms = 0;
        s->net_seen = s->net_epoch;
    }
    pthread_mutex_unlock(&s->mu);
}

/* Acks a batch that is done without a request (see attempt); *sent: its records. */
static enum stint_send_class ack_unsendable(struct stint_sender *s, char *why, size_t cap,
                                            uint64_t *sent)
{
    enum stint_err rc = stint_journal_ack(s->j, s->b.last);

    if (rc != STINT_OK) {
        fmt_(why, cap, "journal ack failed: %s", stint_strerror(rc));
        return STINT_SEND_RETRY;
    }
    *sent = s->b.n;
    return STINT_SEND_OK;
}

static void attempt(struct stint_sender *s)
{
    struct stint_http_response r;
    struct stint_sender_attempt a;
    const char *hdrs[10];
    char idem[128], why[512], fix[256] = "";
    const uint8_t *body = NULL;
    size_t len = 0, nh = 0;
    bool gz = false;
    enum stint_err rc;
    enum stint_send_class cls;
    uint64_t wait = 0, sent = 0, dead = 0;
    bool from_ra = false, network = false, probed = false;
    int64_t now;

    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    why[0] = '\0';
    now = wall_ms(s);
    a.started_ms = now;
    a.first_seq = s->b.first;
    a.last_seq = s->b.last;
    a.records = s->b.n;
    rc = encode_body(s, now, &body, &len, &gz);
    if (rc != STINT_OK) {
        /* the batch does not fit the encoder's buffers (or a stored record no longer
         * decodes): treat it like a 413, so it shrinks down to the one record at fault */
        fmt_(why, sizeof(why), "encoding the batch failed: %s", stint_strerror(rc));
        cls = STINT_SEND_SPLIT;
        a.mono_start_us = a.mono_end_us = stint_clock_mono_us();
        goto decided;
    }
    if (legacy_encoding(s->o.encoding) && s->b.n_legacy == 0) {
        /* nothing of the batch has a legacy form (idle, private, gap only): there is nothing to
         * send, and an empty payload would only be a probe (§7.4): the batch is done here */
        a.mono_start_us = a.mono_end_us = stint_clock_mono_us();
        cls = ack_unsendable(s, why, sizeof(why), &sent);
        len = 0;
        goto decided;
    }
    stint_sender_idempotency_key(s->agent_id, s->b.first, s->b.last, idem + 17, sizeof(idem) - 17);
    memcpy(idem, "Idempotency-Key: ", 17);
    pthread_mutex_lock(&s->mu);
    if (s->batch_epoch != s->purge_epoch) {
        /* purged since the batch was read: none of it may leave */
        pthread_mutex_unlock(&s->mu);
        drop_batch(s);
        return;
    }
    if (s->auth_header)
        hdrs[nh++] = s->auth_header;
    s->in_flight = true;
    s->in_flight_epoch = s->batch_epoch;
    s->net_abort = false;
    s->purge_abort = false;
    if (s->net_conn != s->net_epoch) {
        /* the network changed since the kept connection was made: a connection across a link
         * that went away would swallow the request silently, a new one fails (or works) at once */
        stint_http_reset_connection(s->http);
        s->net_conn = s->net_epoch;
    }
    s->in_flight_since = stint_clock_mono_ms();
    hdrs[nh++] = s->ctype;
    if (gz)
        hdrs[nh++] = "Content-Encoding: gzip";
    hdrs[nh++] = idem;
    hdrs[nh++] = s->ua_header;
    if (legacy_encoding(s->o.encoding)) {
        hdrs[nh++] = s->agent_header;
        hdrs[nh++] = (const char *)s->b.seqs_header.data;
    }
    hdrs[nh] = NULL;
    /* the header strings must stay while curl runs: copy the token line out of mu's reach */
    {
        char *auth = s->auth_header ? strdup(s->auth_header) : NULL;
        if (s->auth_header && !auth) {
            s->in_flight = false;
            pthread_mutex_unlock(&s->mu);
            fmt_(why, sizeof(why), "out of memory");
            cls = STINT_SEND_RETRY;
            a.mono_start_us = a.mono_end_us = stint_clock_mono_us();
            goto decided;
        }
        if (auth)
            hdrs[0] = auth;
        pthread_mutex_unlock(&s->mu);
        a.mono_start_us = stint_clock_mono_us();
        rc = stint_http_post(s->http, hdrs, body, len, &r);
        a.mono_end_us = stint_clock_mono_us();
        if (auth) {
            volatile char *p = auth;
            while (*p)
                *p++ = 0; /* the token does not linger in freed memory */
            free(auth);
        }
    }
    pthread_mutex_lock(&s->mu);
    s->in_flight = false;
    if (s->net_abort || s->purge_abort)
        stint_http_reset_connection(s->http);
    s->net_abort = false;
    s->purge_abort = false;
    if (s->batch_epoch != s->purge_epoch) {
        /* the journal was purged while this request was out: its answer is thrown away (no ack,
         * no dead letter, no backoff), and so is the batch */
        s->st.answers_ignored++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        stint_log(&s->lg, STINT_LOG_INFO,
                  "batch %" PRIu64 "-%" PRIu64 " was purged while in flight: its answer is ignored",
                  s->b.first, s->b.last);
        drop_batch(s);
        return;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (rc != STINT_OK) {
        fmt_(why, sizeof(why), "building the request failed: %s", stint_strerror(rc));
        cls = STINT_SEND_RETRY;
        goto decided;
    }
    cls = stint_http_classify(r.curl_code, r.status);
    if (r.curl_code != 0) {
        fmt_(why, sizeof(why), "%s", r.error);
        network = cls == STINT_SEND_RETRY;
    } else if (cls != STINT_SEND_OK) {
        char ex[200];
        excerpt(r.body, r.body_len, ex, sizeof(ex));
        fmt_(why, sizeof(why), "HTTP %ld: %s", r.status, ex);
    }
    if (cls == STINT_SEND_OK)
        cls = take_ack(s, &r, why, sizeof(why), &sent, &dead);

decided:
    a.body_bytes = len;
    a.gzip = gz;
    a.cls = cls;
    a.curl_code = r.curl_code;
    a.status = r.status;
    wait = decide(s, cls, why, &r, network, fix, sizeof(fix), &dead, &from_ra, &probed);
    a.wait_ms = wait;
    a.retry_after = from_ra;

    account(s, cls, now, &r, why, fix, wait, sent, dead, probed, network);
    if (s->o.on_attempt)
        s->o.on_attempt(s->o.cb_ctx, &a);
}

static void *run(void *arg)
{
    struct stint_sender *s = arg;
    enum stint_err rc;

    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        int64_t now = stint_clock_mono_ms();

        if (s->have_batch && s->batch_epoch != s->purge_epoch) {
            /* purged while held (in backoff or being split): drop it, start afresh */
            drop_batch(s);
            continue;
        }
        if (s->st.auth_paused || s->st.config_paused) {
            if (s->flush_req || s->token_changed) {
                s->st.auth_paused = false;
                s->st.config_paused = false;
                s->st.fix[0] = '\0';
                s->flush_req = s->token_changed = false;
                stint_backoff_reset(&s->bo);
                stint_log(&s->lg, STINT_LOG_INFO, "sending resumed");
                continue;
            }
            wait_until(s, 0);
            continue;
        }
        if (s->retry_at > now && !s->flush_req) {
            if (s->net_seen != s->net_epoch) {
                int64_t soon = s->last_end + NET_MIN_GAP_MS;
                s->net_seen = s->net_epoch;
                if (!s->server_wait && soon < s->retry_at) {
                    s->retry_at = soon;
                    s->st.net_wakes++;
                    stint_backoff_reset(&s->bo);
                    stint_log(&s->lg, STINT_LOG_INFO, "network changed: retrying now");
                }
                continue;
            }
            wait_until(s, s->retry_at);
            continue;
        }
        if (!s->have_batch && s->linger_until > now && !s->flush_req) {
            wait_until(s, s->linger_until);
            continue;
        }
        s->retry_at = 0;
        s->st.next_retry_ms = 0;
        s->wake_req = false; /* anything appended from now on wakes us again */
        s->flush_req = false;
        s->idle = false;
        s->net_seen = s->net_epoch;

        if (!s->have_batch)
            s->batch_epoch = s->purge_epoch;
        pthread_mutex_unlock(&s->mu);

        rc = STINT_OK;
        if (!s->have_batch)
            rc = fill_batch(s);
        if (rc != STINT_OK) {
            char msg[256];
            uint64_t wait = stint_backoff_next(&s->bo);
            stint_journal_last_error(s->j, msg, sizeof(msg));
            stint_log(&s->lg, STINT_LOG_INFO,
                      "reading the journal failed: %s; retry in %" PRIu64 " ms", msg, wait);
            pthread_mutex_lock(&s->mu);
            s->retry_at = stint_clock_mono_ms() + (int64_t)wait;
            s->server_wait = false;
            s->last_end = stint_clock_mono_ms();
            fmt_(s->st.last_error, sizeof(s->st.last_error), "journal: %s", msg);
            continue;
        }
        if (!s->have_batch) {
            pthread_mutex_lock(&s->mu);
            if (!s->wake_req && !s->flush_req && !s->stopping) {
                s->idle = true;
                wait_until(s, 0);
            }
            continue;
        }
        attempt(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the network watcher -------------------------------------------------------------------- */

/* A link, address or route came or went. A request in flight for a second or more is cut short:
 * across a link that went down it would sit in TCP retransmission for as long as the timeouts
 * allow, and after a return its connection may be dead. (Younger requests are left alone, so that
 * a busy host's unrelated interfaces coming and going cannot keep cutting a healthy upload; the
 * next attempt after any change opens a new connection, which fails or works at once.) A failed
 * attempt is retried at once (at most every NET_MIN_GAP_MS): after a return that is the point;
 * after a loss the retry fails at once (no route) and the backoff goes on as before, and when the
 * change was elsewhere (another interface) it simply succeeds. */
static void net_changed(struct stint_sender *s)
{
    bool cut = false;

    pthread_mutex_lock(&s->mu);
    s->net_epoch++;
    /* a request of a purged batch is left to end by itself: cut, the server might still store
     * it after the purge's DELETE, which waits for it to end (stint_sender_settled) */
    if (s->in_flight && s->in_flight_epoch == s->purge_epoch &&
        stint_clock_mono_ms() - s->in_flight_since >= NET_CUT_AFTER_MS) {
        s->net_abort = true;
        cut = true;
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (cut)
        stint_http_wakeup(s->http);
}

static void *netwatch(void *arg)
{
    struct stint_sender *s = arg;
    union {
        char buf[16384];
        struct nlmsghdr align;
    } u;

    for (;;) {
        struct pollfd p[2] = {{s->nl_fd, POLLIN, 0}, {s->pipe_fd[0], POLLIN, 0}};
        ssize_t n;
        struct nlmsghdr *nh;
        bool changed = false;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        n = recv(s->nl_fd, u.buf, sizeof(u.buf), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) /* events were lost: assume something came up */
                net_changed(s);
            continue;
        }
        for (nh = &u.align; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
            if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_NEWADDR ||
                nh->nlmsg_type == RTM_NEWROUTE || nh->nlmsg_type == RTM_DELLINK ||
                nh->nlmsg_type == RTM_DELADDR || nh->nlmsg_type == RTM_DELROUTE) {
                changed = true;
            }
        }
        if (changed)
            net_changed(s);
    }
    return NULL;
}

static void netwatch_start(struct stint_sender *s)
{
    struct sockaddr_nl sa;

    s->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s->nl_fd < 0) {
        stint_log(&s->lg, STINT_LOG_INFO, "no netlink socket (%s): network changes are not watched",
                  strerror(errno));
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR |
                   RTMGRP_IPV6_ROUTE;
    if (bind(s->nl_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || pipe2(s->pipe_fd, O_CLOEXEC)) {
        stint_log(&s->lg, STINT_LOG_INFO,
                  "netlink unavailable (%s): network changes are not watched", strerror(errno));
        close(s->nl_fd);
        s->nl_fd = -1;
        return;
    }
    if (pthread_create(&s->nl_thread, NULL, netwatch, s) != 0) {
        close(s->nl_fd);
        close(s->pipe_fd[0]);
        close(s->pipe_fd[1]);
        s->nl_fd = s->pipe_fd[0] = s->pipe_fd[1] = -1;
        return;
    }
    s->nl_started = true;
}

/* ---- the API -------------------------------------------------------------------------------- */

static char *make_auth(const void *token, size_t len, struct stint_error *err, enum stint_err *rc)
{
    static const char prefix[] = "Authorization: Bearer ";
    const unsigned char *t = token;
    char *h;
    size_t i;

    *rc = STINT_OK;
    if (!token)
        return NULL;
    for (i = 0; i < len; i++) {
        if (t[i] <= 0x20 || t[i] >= 0x7f) {
            *rc = stint_error_set(err, STINT_EINVAL, 0,
                                  "the token holds a byte not allowed in an HTTP header "
                                  "(at offset %zu)",
                                  i);
            return NULL;
        }
    }
    if (len == 0) {
        *rc = stint_error_set(err, STINT_EINVAL, 0, "the token is empty");
        return NULL;
    }
    h = malloc(sizeof(prefix) + len);
    if (!h) {
        *rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        return NULL;
    }
    memcpy(h, prefix, sizeof(prefix) - 1);
    memcpy(h + sizeof(prefix) - 1, token, len);
    h[sizeof(prefix) - 1 + len] = '\0';
    return h;
}

static void free_secret(char *p)
{
    if (p) {
        volatile char *v = p;
        while (*v)
            *v++ = 0;
        free(p);
    }
}

enum stint_err stint_sender_create(const struct stint_sender_opts *opts, struct stint_journal *j,
                                   struct stint_sender **out, struct stint_error *err)
{
    struct stint_sender *s = NULL;
    struct stint_http_opts ho;
    pthread_condattr_t ca;
    enum stint_err rc = STINT_OK;
    const char *path, *ver;
    size_t ulen;
    bool ca_ready = false;

    *out = NULL;
    if (!opts || !j || !opts->url) {
        rc = stint_error_set(err, STINT_EINVAL, 0, "sender: options, journal and URL needed");
        goto cleanup;
    }
    if (opts->encoding != STINT_SENDER_PB && opts->encoding != STINT_SENDER_JSON &&
        !legacy_encoding(opts->encoding)) {
        rc = stint_error_set(err, STINT_EINVAL, 0, "sender: unknown encoding %d",
                             (int)opts->encoding);
        goto cleanup;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    s->nl_fd = s->pipe_fd[0] = s->pipe_fd[1] = -1;
    s->o = *opts;
    s->lg = opts->log ? *opts->log : stint_log_none;
    s->o.log = NULL; /* borrowed for create only */
    s->j = j;
    if (!s->o.batch_max_records)
        s->o.batch_max_records = STINT_SENDER_DEFAULT_MAX_RECORDS;
    /* a PHP server drops form variables past max_input_vars (1000) without an error, so a
     * larger form batch would lose records silently (spec/PROTOCOL.md, "Legacy payload") */
    if (opts->encoding == STINT_SENDER_LEGACY_FORM &&
        s->o.batch_max_records > STINT_SENDER_LEGACY_FORM_MAX_RECORDS)
        s->o.batch_max_records = STINT_SENDER_LEGACY_FORM_MAX_RECORDS;
    if (!s->o.batch_max_bytes)
        s->o.batch_max_bytes = STINT_SENDER_DEFAULT_MAX_BYTES;
    if (!s->o.linger_ms)
        s->o.linger_ms = STINT_SENDER_DEFAULT_LINGER_MS;
    else if (s->o.linger_ms == STINT_SENDER_NO_LINGER)
        s->o.linger_ms = 0;
    if (!s->o.stop_grace_ms)
        s->o.stop_grace_ms = 2000;
    s->limit = s->o.batch_max_records;
    /* borrowed strings of opts are not kept: the ones needed later are copied here */
    s->o.url = NULL;
    s->o.token = NULL;
    s->o.ca_file = NULL;
    s->o.pinned_pubkey = NULL;
    s->o.client_version = NULL;
    ver = opts->client_version ? opts->client_version : stint_agent_version();
    snprintf(s->client_version, sizeof(s->client_version), "%s", ver);
    s->auth_header = make_auth(opts->token, opts->token_len, err, &rc);
    if (rc != STINT_OK)
        goto cleanup;
    path = legacy_encoding(opts->encoding) ? "/v1/legacy" : "/v1/batches";
    ulen = strlen(opts->url);
    while (ulen && opts->url[ulen - 1] == '/')
        ulen--;
    s->url = malloc(ulen + strlen(path) + 1);
    s->ua_header = malloc(strlen(s->client_version) + 32);
    if (!s->url || !s->ua_header) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    memcpy(s->url, opts->url, ulen);
    memcpy(s->url + ulen, path, strlen(path) + 1); /* sized above, the NUL included */
    snprintf(s->ua_header, strlen(s->client_version) + 32, "User-Agent: stint/%s",
             s->client_version);
    s->ctype = opts->encoding == STINT_SENDER_JSON || opts->encoding == STINT_SENDER_LEGACY_JSON
                   ? "Content-Type: application/json"
               : opts->encoding == STINT_SENDER_LEGACY_FORM
                   ? "Content-Type: application/x-www-form-urlencoded"
                   : "Content-Type: application/x-protobuf";
    memset(&ho, 0, sizeof(ho));
    ho.url = s->url;
    ho.ca_file = opts->ca_file;
    ho.pinned_pubkey = opts->pinned_pubkey;
    ho.connect_timeout_ms = opts->connect_timeout_ms;
    ho.timeout_ms = opts->timeout_ms;
    ho.low_speed_bytes = opts->low_speed_bytes;
    ho.low_speed_time_s = opts->low_speed_time_s;
    ho.abort_fn = should_abort;
    ho.abort_ctx = s;
    rc = stint_http_create(&ho, &s->http, err);
    if (rc != STINT_OK)
        goto cleanup;
    if (deflateInit2(&s->zs, s->o.gzip_level > 0 && s->o.gzip_level <= 9 ? s->o.gzip_level : 1,
                     Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "zlib: deflateInit2 failed");
        goto cleanup;
    }
    s->zs_ready = true;
    /* caps: frames hold one batch (plus the one record the journal always delivers), the body
     * at most a JSON expansion of it; past these the batch is split, never the memory grown */
    s->b.frames.buf.max =
        s->o.batch_max_bytes + s->o.batch_max_records * 4 + STINT_PB_RECORD_MAX + 64;
    s->b.body.max = 8 * s->b.frames.buf.max + 65536;
    s->b.gz.max = s->b.body.max + s->b.body.max / 100 + 65536;
    stint_journal_agent_id(j, s->agent_id);
    {
        size_t i, o = strlen(STINT_LEGACY_AGENT_HEADER ": ");
        memcpy(s->agent_header, STINT_LEGACY_AGENT_HEADER ": ", o);
        for (i = 0; i < STINT_AGENT_ID_LEN; i++, o += 2)
            snprintf(s->agent_header + o, 3, "%02x", s->agent_id[i]);
    }
    stint_backoff_init(&s->bo, opts->backoff_base_ms, opts->backoff_cap_ms,
                       opts->rng_seed
                           ? opts->rng_seed
                           : (uint64_t)stint_clock_mono_us() ^ ((uint64_t)getpid() << 32));
    /* its own stream: probes do not shift the backoff's draws */
    s->probe_rng = s->bo.rng ^ 0x9e3779b97f4a7c15ULL;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "pthread_mutex_init failed");
        goto cleanup;
    }
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        rc = stint_error_set(err, STINT_ENOMEM, 0, "pthread_cond_init failed");
        goto cleanup;
    }
    ca_ready = true;
    pthread_condattr_destroy(&ca);
    s->idle = true;
    *out = s;
    s = NULL;
cleanup:
    if (s) {
        if (s->zs_ready)
            deflateEnd(&s->zs);
        stint_http_destroy(s->http);
        free_secret(s->auth_header);
        free(s->url);
        free(s->ua_header);
        free(s);
    }
    (void)ca_ready;
    return rc;
}

enum stint_err stint_sender_start(struct stint_sender *s)
{
    enum stint_err rc = STINT_OK;

    pthread_mutex_lock(&s->mu);
    if (s->started) {
        rc = STINT_EINVAL;
        goto cleanup;
    }
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        rc = STINT_ENOMEM;
        goto cleanup;
    }
    s->started = true;
    s->st.running = true;
cleanup:
    pthread_mutex_unlock(&s->mu);
    if (rc == STINT_OK && !s->o.no_netwatch)
        netwatch_start(s);
    return rc;
}

void stint_sender_wake(struct stint_sender *s)
{
    pthread_mutex_lock(&s->mu);
    s->wake_req = true;
    if (s->idle) {
        s->idle = false;
        s->linger_until = stint_clock_mono_ms() + (int64_t)s->o.linger_ms;
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void stint_sender_flush(struct stint_sender *s)
{
    pthread_mutex_lock(&s->mu);
    s->flush_req = true;
    s->wake_req = true;
    if (s->st.auth_paused || s->st.config_paused) {
        /* lifted now, so that a status (or flush --wait) asked right after does not see the
         * pause of the last attempt; the next attempt shows whether it still holds */
        s->st.auth_paused = s->st.config_paused = false;
        s->st.fix[0] = '\0';
        stint_log(&s->lg, STINT_LOG_INFO, "sending resumed (flush)");
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void stint_sender_purge(struct stint_sender *s, bool abort_in_flight)
{
    bool busy;

    pthread_mutex_lock(&s->mu);
    s->purge_epoch++;
    s->st.purges++;
    busy = s->in_flight;
    if (busy && abort_in_flight)
        s->purge_abort = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (!busy || !abort_in_flight)
        return;
    stint_http_wakeup(s->http);
    /* the abort is seen at once (curl_multi_wakeup): wait for the request to be gone, so that
     * nothing of it is still being written when the caller goes on */
    pthread_mutex_lock(&s->mu);
    while (s->in_flight && s->in_flight_epoch != s->purge_epoch) {
        struct timespec ts = stint_clock_deadline(STINT_CLOCK_MONOTONIC, 50);
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->in_flight)
            s->purge_abort = true; /* a new post may have cleared it: ask again */
        pthread_mutex_unlock(&s->mu);
        stint_http_wakeup(s->http);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

bool stint_sender_settled(struct stint_sender *s)
{
    bool settled;

    pthread_mutex_lock(&s->mu);
    settled = !s->in_flight || s->in_flight_epoch == s->purge_epoch;
    pthread_mutex_unlock(&s->mu);
    return settled;
}

enum stint_err stint_sender_set_token(struct stint_sender *s, const void *token, size_t len)
{
    enum stint_err rc = STINT_OK;
    char *h = make_auth(token, len, NULL, &rc);

    if (rc != STINT_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    free_secret(s->auth_header);
    s->auth_header = h;
    s->token_changed = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return STINT_OK;
}

void stint_sender_status(struct stint_sender *s, struct stint_sender_status *out)
{
    struct stint_journal_stats js;

    stint_journal_stats(s->j, &js);
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->in_flight = s->in_flight;
    pthread_mutex_unlock(&s->mu);
    out->backlog = js.backlog;
    out->oldest_ms = js.oldest_ms;
    out->oldest_age_ms = js.oldest_ms ? wall_ms(s) - js.oldest_ms : 0;
}

void stint_sender_stop(struct stint_sender *s)
{
    bool join;

    pthread_mutex_lock(&s->mu);
    if (!s->stopping) {
        s->stopping = true;
        s->stop_deadline = stint_clock_mono_ms() + (int64_t)s->o.stop_grace_ms;
    }
    join = s->started && !s->joined;
    s->joined = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (!join)
        return;
    /* a request in flight gets the grace period; curl is woken when it runs out */
    {
        int64_t deadline = stint_clock_mono_ms() + (int64_t)s->o.stop_grace_ms;
        struct timespec ts;
        for (;;) {
            bool busy;
            pthread_mutex_lock(&s->mu);
            busy = s->in_flight;
            pthread_mutex_unlock(&s->mu);
            if (!busy || stint_clock_mono_ms() >= deadline)
                break;
            ts.tv_sec = 0;
            ts.tv_nsec = 10 * 1000000;
            nanosleep(&ts, NULL);
        }
        stint_http_wakeup(s->http);
    }
    pthread_join(s->thread, NULL);
    if (s->nl_started) {
        ssize_t w = write(s->pipe_fd[1], "x", 1);
        (void)w;
        pthread_join(s->nl_thread, NULL);
        s->nl_started = false;
    }
    pthread_mutex_lock(&s->mu);
    s->st.running = false;
    pthread_mutex_unlock(&s->mu);
}

void stint_sender_destroy(struct stint_sender *s)
{
    if (!s)
        return;
    stint_sender_stop(s);
    if (s->nl_fd >= 0)
        close(s->nl_fd);
    if (s->pipe_fd[0] >= 0)
        close(s->pipe_fd[0]);
    if (s->pipe_fd[1] >= 0)
        close(s->pipe_fd[1]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    deflateEnd(&s->zs);
    stint_http_destroy(s->http);
    batch_free(&s->b);
    free_secret(s->auth_header);
    free(s->url);
    free(s->ua_header);
    free(s);
}
