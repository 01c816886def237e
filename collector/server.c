/* server.c — libmicrohttpd glue: headers and body in, the handler's answer out, faults on the
 * way (see server.h).
 *
 * The access callback runs three times per request in libmicrohttpd's model: once when the
 * headers are in, once per piece of body (kept up to max_body, then only counted), and once at
 * the end, where the handler answers and the other faults act. Nothing is read before it is
 * allowed: the first call refuses malformed heads (400), and everything the head alone decides
 * (stint_handler_check_head: route, method, token, media type, announced size, a broken store)
 * is answered there, so a refused body is never buffered; only an accepted request gets a body
 * buffer (max_body at most, freed when the request ends). "Reset" and the lost Ack close the
 * socket with SO_LINGER 0, so the client sees a TCP reset rather than an orderly close.
 *
 * Connection fairness (spec/COLLECTOR.md, "Connections"). libmicrohttpd's own timeout restarts
 * on every byte, so a slow client holds its slot for ever; here a tracker sees every connection
 * (MHD_OPTION_NOTIFY_CONNECTION) and a reaper thread shuts the socket down when
 *   - the request head (TLS handshake included) is not complete head_timeout seconds after the
 *     connection opened or its previous answer was sent, or
 *   - the body falls below min_rate bytes per second, counted after a grace of head_timeout;
 * and when the slots run short, a new connection evicts the oldest one still waiting for its
 * head (an idle or slow one), so a flood of idle connections cannot lock agents out. Each
 * address may hold per_ip_limit connections (libmicrohttpd's option).
 *
 * The admin endpoint (off by default, loopback only, plain HTTP, its own bearer tokens) is a
 * second daemon: GET /admin/stats, GET /admin/faults, POST /admin/faults (one SPEC a line),
 * DELETE /admin/faults. */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "control.h"
#include "stint/legacy.h"
#include "common/clock.h"

/* TLS 1.3 as GnuTLS has it, and TLS 1.2 with ECDHE key exchange and AEAD ciphers only (no CBC,
 * no SHA-1 MACs, no RSA or finite-field key exchange). */
#define TLS_PRIORITIES                                                                             \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"         \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

enum phase {
    PHASE_HEAD = 0, /* waiting for a request head (TLS handshake included) */
    PHASE_BODY = 1, /* head accepted, reading the body */
    PHASE_BUSY = 2, /* the server is answering: no deadline of the client's */
};

/* One connection, as the tracker sees it (libmicrohttpd's socket context). */
struct track {
    int fd;
    enum phase phase;
    int64_t since_ms;    /* start of the phase (monotonic) */
    uint64_t body_bytes; /* PHASE_BODY: bytes received so far */
    bool killed;         /* shut down by the reaper or an eviction */
    bool bad_path;       /* the path held %00 */
    struct track *prev, *next;
};

struct stint_server {
    struct stint_server_opts o;
    struct MHD_Daemon *d;
    struct MHD_Daemon *admin;
    uint16_t port, admin_port;
    /* the tracker: every connection of the main daemon, oldest first */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct track *head, *tail;
    size_t n_conns;
    bool stopping, reaper_started;
    pthread_t reaper;
    atomic_uint_fast64_t head_timeouts, slow_bodies, evictions, malformed;
};

/* Per-request state, libmicrohttpd's con_cls. */
struct conn {
    struct stint_buf body;
    bool over;
    bool refused;                /* decided from the head: the body is discarded, never kept */
    bool answered;               /* ... and already answered */
    uint64_t discarded;          /* body bytes read and dropped */
    struct stint_response early; /* the answer to send once the body is drained */
    int64_t now_ms;
    struct stint_fault fault;
};

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Makes the coming close send a TCP reset. */
static void linger_zero(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger l = {1, 0};

    if (ci)
        (void)setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The slow answer: one byte at a time at the fault's rate. */
struct slow {
    struct stint_buf body;
    uint32_t bps;
};

static ssize_t slow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct slow *s = cls;

    if (pos >= s->body.len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (max == 0)
        return 0;
    sleep_ms(s->bps >= 1000 ? 1 : 1000 / s->bps);
    buf[0] = (char)s->body.data[pos];
    return 1;
}

static void slow_free(void *cls)
{
    struct slow *s = cls;
    stint_buf_free(&s->body);
    free(s);
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct stint_response *rs,
                                     const struct stint_fault *ft)
{
    struct MHD_Response *r = NULL;
    enum MHD_Result ret;

    if (ft && ft->kind == STINT_FAULT_SLOW) {
        struct slow *s = calloc(1, sizeof(*s));
        if (!s)
            return MHD_NO;
        s->body = rs->body; /* hand the body over */
        memset(&rs->body, 0, sizeof(rs->body));
        s->bps = ft->slow_bps;
        r = MHD_create_response_from_callback(s->body.len, 64, slow_read, s, slow_free);
        if (!r) {
            slow_free(s);
            return MHD_NO;
        }
    } else {
        r = MHD_create_response_from_buffer(rs->body.len, rs->body.data, MHD_RESPMEM_MUST_COPY);
        if (!r)
            return MHD_NO;
    }
    if (rs->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (rs->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"stint\"");
    if (rs->retry_after[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, rs->retry_after);
    if (rs->legacy_identity)
        MHD_add_response_header(r, STINT_LEGACY_IDENTITY_HEADER, rs->legacy_identity);
    ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The tracker's entry of a connection, or NULL (the admin daemon has none). */
static struct track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (struct track *)ci->socket_context : NULL;
}

static void track_phase(struct stint_server *s, struct track *t, enum phase p)
{
    if (!t)
        return;
    pthread_mutex_lock(&s->mu);
    t->phase = p;
    t->since_ms = stint_clock_mono_ms();
    t->body_bytes = 0;
    pthread_mutex_unlock(&s->mu);
}

/* Shuts a connection's socket down: its thread sees the end of the stream and closes it. The
 * entry leaves the list (and the fd is closed) only in on_connection's CLOSED, under s->mu, so
 * the fd is still this connection's. Caller holds s->mu. */
static void kill_locked(struct track *t)
{
    if (t->killed)
        return;
    t->killed = true;
    (void)shutdown(t->fd, SHUT_RDWR);
}

/* The slots that stay free for new connections: past max - EVICT_SPARE connections, each new
 * one evicts the oldest that is still waiting for its head. */
#define EVICT_SPARE 16

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct stint_server *s = cls;
    struct track *t = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        t = calloc(1, sizeof(*t));
        if (!t || !ci) {
            free(t);
            return; /* untracked: libmicrohttpd's own timeout still applies */
        }
        t->fd = ci->connect_fd;
        t->since_ms = stint_clock_mono_ms();
        pthread_mutex_lock(&s->mu);
        if (s->n_conns + EVICT_SPARE >= s->o.max_connections) {
            struct track *o;
            for (o = s->head; o; o = o->next)
                if (o->phase == PHASE_HEAD && !o->killed)
                    break;
            if (o) {
                kill_locked(o);
                atomic_fetch_add(&s->evictions, 1);
            }
        }
        t->prev = s->tail;
        if (s->tail)
            s->tail->next = t;
        else
            s->head = t;
        s->tail = t;
        s->n_conns++;
        pthread_mutex_unlock(&s->mu);
        *socket_context = t;
        return;
    }
    if (!t)
        return;
    pthread_mutex_lock(&s->mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        s->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        s->tail = t->prev;
    s->n_conns--;
    pthread_mutex_unlock(&s->mu);
    free(t);
    *socket_context = NULL;
}

/* The reaper: four times a second, the deadlines of the design block. */
static void *reaper_main(void *arg)
{
    struct stint_server *s = arg;
    int64_t head_ms = (int64_t)s->o.head_timeout_s * 1000;

    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        int64_t now = stint_clock_mono_ms();
        struct track *t;

        for (t = s->head; t; t = t->next) {
            int64_t age = now - t->since_ms;
            if (t->killed)
                continue;
            if (t->phase == PHASE_HEAD && age > head_ms) {
                kill_locked(t);
                atomic_fetch_add(&s->head_timeouts, 1);
            } else if (t->phase == PHASE_BODY && s->o.min_rate && age > head_ms &&
                       t->body_bytes < (uint64_t)(age - head_ms) * s->o.min_rate / 1000) {
                kill_locked(t);
                atomic_fetch_add(&s->slow_bodies, 1);
            }
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Decodes %XX in the request path in place (libmicrohttpd's unescaper, but a %00 is not cut
 * short silently: it marks the request, which is answered 400). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *uri)
{
    size_t r = 0, w = 0;

    (void)cls;
    while (uri[r]) {
        if (uri[r] == '%' && isxdigit((unsigned char)uri[r + 1]) &&
            isxdigit((unsigned char)uri[r + 2])) {
            char hex[3] = {uri[r + 1], uri[r + 2], 0};
            unsigned long v = strtoul(hex, NULL, 16);
            if (v == 0) {
                struct track *t = track_of(c);
                if (t)
                    t->bad_path = true;
                v = '?';
            }
            uri[w++] = (char)v;
            r += 3;
        } else {
            uri[w++] = uri[r++];
        }
    }
    uri[w] = '\0';
    return w;
}

/* What the head checks of malformed requests count. */
struct head_scan {
    int content_length, transfer_encoding, host;
    bool nul;
    const char *start, *end; /* the head in libmicrohttpd's read buffer, when known */
    const char *prev_end;    /* where the previous header's value ended */
};

/* libmicrohttpd 0.9.75 parses the head in place and ends each string at its first NUL, so a NUL
 * inside a header value silently cuts it short. The strings point into the read buffer in the
 * order received: whatever lies between the end of one value and the next key (or the end of
 * the head) must be line ends and blanks; anything else was hidden behind a NUL. Used only
 * when every pointer lies inside the head, in order. */
static void gap_check(struct head_scan *h, const char *next)
{
    const char *p;

    if (!h->start || !h->prev_end || next < h->prev_end || next > h->end)
        return;
    for (p = h->prev_end; p < next; p++)
        if (*p != '\0' && *p != '\r' && *p != '\n' && *p != ' ' && *p != '\t')
            h->nul = true;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    struct head_scan *h = cls;

    (void)kind;
    if (strlen(key) != key_size || (value && strlen(value) != value_size))
        h->nul = true;
    if (h->start && key >= h->start && key < h->end) {
        gap_check(h, key);
        h->prev_end = value && value >= key && value < h->end ? value + value_size : NULL;
    } else {
        h->start = NULL; /* not the layout this check knows */
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        h->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
        h->transfer_encoding++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        h->host++;
    return MHD_YES;
}

/* A head that the protocol refuses whatever its route (RFC 9112 section 6.3: both framings, or
 * two lengths, are a smuggling risk; a NUL is never valid in a field; HTTP/1.1 needs one Host):
 * the reason, or NULL when it is well-formed. */
static const char *malformed(struct MHD_Connection *c, const char *method, const char *version,
                             struct track *t)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    struct head_scan h;

    memset(&h, 0, sizeof(h));
    if (ci && method) {
        h.start = method;
        h.end = method + ci->header_size;
    }
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, scan_header, &h);
    if (h.start && h.prev_end) {
        /* the last value: up to the blank line that ends the head */
        const char *p = h.prev_end;
        while (p < h.end && (*p == '\0' || *p == ' ' || *p == '\t'))
            p++;
        if (p < h.end && *p != '\r' && *p != '\n')
            h.nul = true;
    }
    if (t && t->bad_path)
        return "the path holds %00";
    if (h.nul)
        return "a header holds a NUL byte";
    if (h.content_length && h.transfer_encoding)
        return "both Content-Length and Transfer-Encoding";
    if (h.content_length > 1)
        return "more than one Content-Length";
    if (h.host > 1)
        return "more than one Host";
    if (h.host == 0 && version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
        return "an HTTP/1.1 request without Host";
    return NULL;
}

/* The most body a refused request may send before it is cut off (see on_request). */
static uint64_t discard_max(const struct stint_server *s)
{
    return 2 * (uint64_t)s->o.max_body;
}

/* Queues a response built from the head alone, closing the connection after it: the body the
 * client may still be sending is never read. */
static enum MHD_Result answer_from_head(struct MHD_Connection *c, struct stint_response *rs,
                                        bool close)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(rs->body.len, rs->body.data, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    if (rs->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (close)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (rs->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
    if (rs->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"stint\"");
    if (rs->retry_after[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, rs->retry_after);
    ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct stint_server *s = cls;
    struct conn *st = *con_cls;

    (void)toe;
    /* a kept-alive connection waits for its next head from now */
    track_phase(s, track_of(c), PHASE_HEAD);
    if (!st)
        return;
    stint_response_free(&st->early);
    stint_buf_free(&st->body);
    free(st);
    *con_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct stint_server *s = cls;

    (void)addr;
    (void)addrlen;
    if (s->o.faults && stint_faults_refusing(s->o.faults, stint_clock_wall_ms())) {
        stint_faults_count_refused(s->o.faults);
        return MHD_NO;
    }
    return MHD_YES;
}

/* The first call of a request, with its headers: refuses it from them when it can (malformed,
 * a fault window, what stint_handler_check_head finds), else makes its state in *con_cls and
 * reserves room for the announced body. */
static enum MHD_Result on_head(struct stint_server *s, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, void **con_cls)
{
    struct conn *st;
    struct stint_request rq;
    struct stint_response rs;
    enum MHD_Result ret;
    struct track *t = track_of(c);
    const char *why;
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long n = 0;
    char *end = NULL;
    bool has_length = false;

    st = calloc(1, sizeof(*st));
    if (!st)
        return MHD_NO;
    *con_cls = st;
    st->now_ms = stint_clock_wall_ms();
    st->body.max = s->o.max_body;
    track_phase(s, t, PHASE_BODY);
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    why = malformed(c, method, version, t);
    if (why) {
        atomic_fetch_add(&s->malformed, 1);
        st->refused = st->answered = true;
        stint_response_error(&rs, 400, "bad_request", "malformed request: %s", why);
        ret = answer_from_head(c, &rs, true); /* its framing is not to be trusted */
        stint_response_free(&rs);
        return ret;
    }
    if (cl) {
        errno = 0;
        n = strtoull(cl, &end, 10);
        has_length = cl[0] >= '0' && cl[0] <= '9' && end && *end == '\0' && errno == 0;
    }
    if (s->o.faults) {
        if (stint_faults_refusing(s->o.faults, st->now_ms)) {
            /* a window of refusal also ends keep-alive connections */
            stint_faults_count_refused(s->o.faults);
            linger_zero(c);
            return MHD_NO;
        }
    }
    rq.method = method;
    rq.path = url;
    rq.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq.content_encoding = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
    rq.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    if (stint_handler_check_head(s->o.handler, &rq, has_length, (uint64_t)n, &rs)) {
        st->refused = true;
        /* Agents send their bodies without waiting for 100-continue: closing on a body
         * still arriving would reset the connection before the client reads the answer.
         * So a body of a sane size is read and dropped (never kept), then answered; a
         * larger one is answered at once and the connection closed. */
        if ((has_length && n == 0) || (!has_length && !header(c, "Transfer-Encoding")) ||
            (has_length && n > discard_max(s))) {
            st->answered = true;
            ret = answer_from_head(c, &rs, true);
            stint_response_free(&rs);
            return ret;
        }
        st->early = rs;
        return MHD_YES;
    }
    if (s->o.faults) {
        stint_faults_pick(s->o.faults, method, url, &st->fault);
        if (st->fault.kind == STINT_FAULT_RESET || st->fault.kind == STINT_FAULT_STOP_ACCEPTING) {
            linger_zero(c);
            return MHD_NO;
        }
    }
    /* accepted: one allocation for the whole body when its length is announced */
    if (has_length && n > 0 && n <= s->o.max_body)
        (void)stint_buf_reserve(&st->body, (size_t)n);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct stint_server *s = cls;
    struct conn *st = *con_cls;
    struct stint_request rq;
    struct stint_response rs;
    enum MHD_Result ret;

    if (!st)
        return on_head(s, c, url, method, version, con_cls);
    if (*upload_size) {
        struct track *t = track_of(c);
        if (t) {
            pthread_mutex_lock(&s->mu);
            t->body_bytes += *upload_size;
            pthread_mutex_unlock(&s->mu);
        }
    }
    if (st->refused) {
        if (*upload_size) {
            st->discarded += *upload_size;
            *upload_size = 0; /* dropped: nothing is kept */
            if (st->discarded > discard_max(s))
                return MHD_NO; /* a chunked body past the cap: close */
            return MHD_YES;
        }
        if (st->answered)
            return MHD_YES;
        st->answered = true;
        return answer_from_head(c, &st->early, false);
    }
    if (*upload_size) {
        if (!st->over && stint_buf_append(&st->body, upload_data, *upload_size) != STINT_OK) {
            st->over = true; /* keep reading, keep nothing: the answer is 413 */
            stint_buf_free(&st->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    track_phase(s, track_of(c), PHASE_BUSY);

    memset(&rs, 0, sizeof(rs));
    if (st->fault.kind == STINT_FAULT_STATUS) {
        stint_response_error(&rs, st->fault.status, "injected_fault", "fault rule %d answered %d",
                             st->fault.rule, st->fault.status);
        stint_fault_retry_after(&st->fault, st->now_ms / 1000, rs.retry_after,
                                sizeof(rs.retry_after));
        ret = send_response(c, &rs, NULL);
        stint_response_free(&rs);
        return ret;
    }
    if (st->fault.kind == STINT_FAULT_DELAY)
        sleep_ms(st->fault.delay_ms);

    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.path = url;
    rq.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq.content_encoding = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
    rq.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    rq.idempotency_key = header(c, "Idempotency-Key");
    rq.legacy_agent_id = header(c, STINT_LEGACY_AGENT_HEADER);
    rq.legacy_seqs = header(c, STINT_LEGACY_SEQS_HEADER);
    rq.body = st->body.data;
    rq.body_len = st->body.len;
    rq.body_over_limit = st->over;
    rq.now_ms = st->now_ms;
    stint_handler_serve(s->o.handler, &rq, &rs);
    if (st->fault.kind == STINT_FAULT_DROP_AFTER_STORE) {
        /* stored (or refused) for good, and the client never hears of it: the lost Ack */
        stint_response_free(&rs);
        linger_zero(c);
        return MHD_NO;
    }
    ret = send_response(c, &rs, &st->fault);
    stint_response_free(&rs);
    return ret;
}

/* Appends the connection counters: `connections open=.. head_timeouts=.. slow_bodies=..
 * evictions=.. malformed=..`. */
static void connections_report(struct stint_server *s, struct stint_buf *out)
{
    struct stint_server_counters c;

    stint_server_counters(s, &c);
    stint_buf_printf(out,
                     "connections open=%" PRIu64 " head_timeouts=%" PRIu64 " slow_bodies=%" PRIu64
                     " evictions=%" PRIu64 " malformed=%" PRIu64 "\n",
                     c.connections, c.head_timeouts, c.slow_bodies, c.evictions, c.malformed);
}

/* True when the request carries one of the admin tokens (--admin-tokens). */
static bool admin_allowed(struct stint_server *s, struct MHD_Connection *c)
{
    const char *a = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t n;

    if (!a || !s->o.admin_tokens)
        return false;
    while (*a == ' ')
        a++;
    if (strncasecmp(a, "Bearer ", 7) != 0)
        return false;
    a += 7;
    while (*a == ' ')
        a++;
    n = strlen(a);
    while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
        n--;
    return stint_tokens_lookup(s->o.admin_tokens, a, n) != NULL;
}

/* The admin endpoint. */
static enum MHD_Result on_admin(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_size, void **con_cls)
{
    struct stint_server *s = cls;
    struct conn *st = *con_cls;
    struct stint_response rs;
    struct stint_error err;
    enum MHD_Result ret;

    (void)version;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        st->body.max = 64 << 10;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->over && stint_buf_append(&st->body, upload_data, *upload_size) != STINT_OK)
            st->over = true;
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&rs, 0, sizeof(rs));
    stint_error_clear(&err);
    if (!admin_allowed(s, c)) {
        stint_response_error(&rs, 401, "unauthorized",
                             "the admin endpoint needs Authorization: Bearer ADMIN-TOKEN");
        rs.www_authenticate = true;
    } else if (strcmp(url, "/admin/stats") == 0 && strcmp(method, "GET") == 0) {
        rs.status = 200;
        rs.content_type = "text/plain";
        if (stint_control_stats(s->o.store, s->o.handler, s->o.faults, &rs.body, &err) != STINT_OK)
            stint_response_error(&rs, 500, "internal", "%s", err.msg);
        else
            connections_report(s, &rs.body);
    } else if (strcmp(url, "/admin/faults") == 0 && strcmp(method, "GET") == 0) {
        rs.status = 200;
        rs.content_type = "text/plain";
        stint_faults_report(s->o.faults, &rs.body);
    } else if (strcmp(url, "/admin/faults") == 0 && strcmp(method, "DELETE") == 0) {
        stint_faults_clear(s->o.faults);
        rs.status = 204;
    } else if (strcmp(url, "/admin/faults") == 0 && strcmp(method, "POST") == 0) {
        size_t pos = 0;
        rs.status = 204;
        if (st->over)
            stint_response_error(&rs, 413, "body_too_large", "at most 64 KiB of rules");
        while (rs.status == 204 && pos < st->body.len) {
            const char *line = (const char *)st->body.data + pos;
            const char *nl = memchr(line, '\n', st->body.len - pos);
            size_t n = nl ? (size_t)(nl - line) : st->body.len - pos;
            char spec[256];

            pos += n + 1;
            while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
                n--;
            if (n == 0 || line[0] == '#')
                continue;
            if (n >= sizeof(spec)) {
                stint_response_error(&rs, 400, "bad_fault", "fault spec over 255 bytes");
                break;
            }
            memcpy(spec, line, n);
            spec[n] = '\0';
            if (stint_faults_add(s->o.faults, spec, &err) != STINT_OK)
                stint_response_error(&rs, 400, "bad_fault", "%s", err.msg);
        }
    } else if (strncmp(url, "/admin/", 7) == 0) {
        stint_response_error(&rs, 404, "not_found", "no such admin resource");
    } else {
        stint_response_error(&rs, 404, "not_found", "no such resource");
    }
    ret = send_response(c, &rs, NULL);
    stint_response_free(&rs);
    return ret;
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

enum stint_err stint_server_parse_listen(const char *listen, struct sockaddr_storage *sa,
                                         bool *loopback, struct stint_error *err)
{
    char host[256];
    const char *colon, *port;
    struct addrinfo hints, *res = NULL;
    size_t hn;
    int gr;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            goto bad;
        hn = (size_t)(close - listen - 1);
        if (hn >= sizeof(host))
            goto bad;
        memcpy(host, listen + 1, hn);
        port = close + 2;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            goto bad;
        hn = (size_t)(colon - listen);
        if (hn == 0 || hn >= sizeof(host))
            goto bad;
        memcpy(host, listen, hn);
        port = colon + 1;
    }
    host[hn] = '\0';
    if (!*port)
        goto bad;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    gr = getaddrinfo(host, port, &hints, &res);
    if (gr != 0 || !res)
        return stint_error_set(err, STINT_EINVAL, 0, "--listen %s: %s", listen,
                               gr ? gai_strerror(gr) : "no address");
    memset(sa, 0, sizeof(*sa));
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *loopback = is_loopback(res->ai_addr);
    freeaddrinfo(res);
    return STINT_OK;
bad:
    return stint_error_set(err, STINT_EINVAL, 0,
                           "listen address \"%s\": want HOST:PORT or "
                           "[V6ADDR]:PORT",
                           listen);
}

static struct MHD_Daemon *start_daemon(struct stint_server *s, const struct sockaddr_storage *sa,
                                       bool tls, bool admin)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem ops[16];
    int n = 0;

#define OPT(o, v, p) (ops[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
    if (sa->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)(uintptr_t)sa);
    /* idle timeout: the deadlines of the reaper are the ones that hold */
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout_s, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)(uintptr_t)on_completed, s);
    OPT(MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1u << 20), NULL);
    if (admin) {
        OPT(MHD_OPTION_CONNECTION_LIMIT, 16, NULL);
    } else {
        OPT(MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections, NULL);
        if (s->o.per_ip_limit)
            OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->o.per_ip_limit, NULL);
        OPT(MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)(uintptr_t)on_connection, s);
        OPT(MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)(uintptr_t)unescape, s);
        OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 << 10), NULL); /* bigger reads */
    }
    if (tls) {
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)s->o.key_pem);
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)s->o.cert_pem);
        OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)TLS_PRIORITIES);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    return MHD_start_daemon(flags, 0, admin ? NULL : on_accept, s, admin ? on_admin : on_request, s,
                            MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

enum stint_err stint_server_start(const struct stint_server_opts *opts, struct stint_server **out,
                                  struct stint_error *err)
{
    struct stint_server *s = NULL;
    struct sockaddr_storage sa;
    enum stint_err rc = STINT_OK;
    const union MHD_DaemonInfo *info;
    bool loopback = false;

    *out = NULL;
    rc = stint_server_parse_listen(opts->listen, &sa, &loopback, err);
    if (rc != STINT_OK)
        return rc;
    if (opts->insecure_http && !loopback)
        return stint_error_set(err, STINT_EINVAL, 0,
                               "--insecure-http serves plain HTTP only on a loopback address, "
                               "not %s",
                               opts->listen);
    if (!opts->insecure_http && (!opts->cert_pem || !opts->key_pem))
        return stint_error_set(err, STINT_EINVAL, 0, "HTTPS needs --tls-cert and --tls-key");
    s = calloc(1, sizeof(*s));
    if (!s)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    s->o = *opts;
    if (!s->o.max_body)
        s->o.max_body = STINT_COLLECTOR_MAX_BODY;
    if (!s->o.timeout_s)
        s->o.timeout_s = STINT_SERVER_TIMEOUT_S;
    if (!s->o.head_timeout_s)
        s->o.head_timeout_s = STINT_SERVER_HEAD_TIMEOUT_S;
    if (!s->o.max_connections)
        s->o.max_connections = STINT_SERVER_MAX_CONNECTIONS;
    if (s->o.max_connections <= 2 * EVICT_SPARE)
        s->o.max_connections = 2 * EVICT_SPARE + 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (opts->admin_listen && !opts->admin_tokens) {
        rc = stint_error_set(err, STINT_EINVAL, 0,
                             "--admin needs --admin-tokens FILE: the admin endpoint has tokens "
                             "of its own");
        goto cleanup;
    }
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        rc = stint_error_set(err, STINT_EIO, 0, "cannot start the connection reaper thread");
        goto cleanup;
    }
    s->reaper_started = true;
    s->d = start_daemon(s, &sa, !opts->insecure_http, false);
    if (!s->d) {
        rc = stint_error_set(err, STINT_EIO, 0,
                             "cannot serve on %s (address in use, or a bad certificate/key)",
                             opts->listen);
        goto cleanup;
    }
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    if (opts->admin_listen) {
        rc = stint_server_parse_listen(opts->admin_listen, &sa, &loopback, err);
        if (rc != STINT_OK)
            goto cleanup;
        if (!loopback) {
            rc = stint_error_set(err, STINT_EINVAL, 0,
                                 "--admin %s: the admin endpoint listens on loopback only",
                                 opts->admin_listen);
            goto cleanup;
        }
        s->admin = start_daemon(s, &sa, false, true);
        if (!s->admin) {
            rc = stint_error_set(err, STINT_EIO, 0, "cannot serve the admin endpoint on %s",
                                 opts->admin_listen);
            goto cleanup;
        }
        info = MHD_get_daemon_info(s->admin, MHD_DAEMON_INFO_BIND_PORT);
        s->admin_port = info ? info->port : 0;
    }
    *out = s;
    s = NULL;
cleanup:
    stint_server_stop(s);
    return rc;
}

uint16_t stint_server_port(const struct stint_server *s)
{
    return s->port;
}

uint16_t stint_server_admin_port(const struct stint_server *s)
{
    return s->admin_port;
}

void stint_server_counters(struct stint_server *s, struct stint_server_counters *c)
{
    pthread_mutex_lock(&s->mu);
    c->connections = s->n_conns;
    pthread_mutex_unlock(&s->mu);
    c->head_timeouts = atomic_load(&s->head_timeouts);
    c->slow_bodies = atomic_load(&s->slow_bodies);
    c->evictions = atomic_load(&s->evictions);
    c->malformed = atomic_load(&s->malformed);
}

void stint_server_stop(struct stint_server *s)
{
    if (!s)
        return;
    if (s->admin)
        MHD_stop_daemon(s->admin);
    if (s->d)
        MHD_stop_daemon(s->d);
    if (s->reaper_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->reaper, NULL);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
