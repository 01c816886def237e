/* server.c — libmicrohttpd glue: headers and body in, the handler's answer out, faults on the
 * way (see server.h).
 *
 * The access callback runs three times per request in libmicrohttpd's model: once when the
 * headers are in (faults that act before the body are decided here: reset, stop-accepting),
 * once per piece of body (kept up to max_body, then only counted), and once at the end, where
 * the handler answers and the other faults act. "Reset" and the lost Ack close the socket with
 * SO_LINGER 0, so the client sees a TCP reset rather than an orderly close.
 *
 * The admin endpoint (off by default, loopback only, plain HTTP) is a second daemon:
 *   GET /admin/stats, GET /admin/faults, POST /admin/faults (one SPEC a line),
 *   DELETE /admin/faults. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "control.h"
#include "stint/legacy.h"

struct stint_server {
    struct stint_server_opts o;
    struct MHD_Daemon *d;
    struct MHD_Daemon *admin;
    uint16_t port, admin_port;
};

/* Per-request state, libmicrohttpd's con_cls. */
struct conn {
    struct stint_buf body;
    bool over;
    int64_t now_ms;
    struct stint_fault fault;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *st = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (!st)
        return;
    stint_buf_free(&st->body);
    free(st);
    *con_cls = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct stint_server *s = cls;

    (void)addr;
    (void)addrlen;
    if (s->o.faults && stint_faults_refusing(s->o.faults, now_ms())) {
        stint_faults_count_refused(s->o.faults);
        return MHD_NO;
    }
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

    (void)version;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        *con_cls = st;
        st->now_ms = now_ms();
        st->body.max = s->o.max_body;
        {
            /* one allocation for the whole body when its length is announced */
            const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
            char *end = NULL;
            unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
            if (n > 0 && n <= s->o.max_body && end && *end == '\0')
                (void)stint_buf_reserve(&st->body, (size_t)n);
        }
        if (s->o.faults) {
            if (stint_faults_refusing(s->o.faults, st->now_ms)) {
                /* a window of refusal also ends keep-alive connections */
                stint_faults_count_refused(s->o.faults);
                linger_zero(c);
                return MHD_NO;
            }
            stint_faults_pick(s->o.faults, method, url, &st->fault);
            if (st->fault.kind == STINT_FAULT_RESET ||
                st->fault.kind == STINT_FAULT_STOP_ACCEPTING) {
                linger_zero(c);
                return MHD_NO;
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->over && stint_buf_append(&st->body, upload_data, *upload_size) != STINT_OK) {
            st->over = true; /* keep reading, keep nothing: the answer is 413 */
            stint_buf_free(&st->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }

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
    if (strcmp(url, "/admin/stats") == 0 && strcmp(method, "GET") == 0) {
        rs.status = 200;
        rs.content_type = "text/plain";
        if (stint_control_stats(s->o.store, s->o.handler, s->o.faults, &rs.body, &err) != STINT_OK)
            stint_response_error(&rs, 500, "internal", "%s", err.msg);
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
    unsigned timeout = s->o.timeout_s ? s->o.timeout_s : 30;
    unsigned limit = s->o.max_connections ? s->o.max_connections : 512;

    if (sa->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    if (tls)
        return MHD_start_daemon(
            flags, 0, on_accept, s, on_request, s, MHD_OPTION_SOCK_ADDR, sa,
            MHD_OPTION_HTTPS_MEM_KEY, s->o.key_pem, MHD_OPTION_HTTPS_MEM_CERT, s->o.cert_pem,
            MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
            MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT, limit,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 << 10), /* bigger reads */
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, admin ? NULL : on_accept, s, admin ? on_admin : on_request, s,
                            MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                            MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, s, MHD_OPTION_END);
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

void stint_server_stop(struct stint_server *s)
{
    if (!s)
        return;
    if (s->admin)
        MHD_stop_daemon(s->admin);
    if (s->d)
        MHD_stop_daemon(s->d);
    free(s);
}
