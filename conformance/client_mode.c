/* client_mode.c — the scripted server of `stint-conformance client` (see client_mode.h).
 *
 * libmicrohttpd (TLS through GnuTLS) runs one internal thread; each request is collected whole,
 * decoded, logged as an observation and answered by the script, all under one mutex. The main
 * thread only waits for the end (the script done and the line quiet, or the timeout), stops the
 * daemon and judges the cases from the log. Times are CLOCK_MONOTONIC except where the client's
 * wall clock is compared (now_ms, the HTTP-date of Retry-After), which use CLOCK_REALTIME.
 *
 * A wait is measured from the moment the answer was queued to the arrival of the next request,
 * so the time the client spends on TLS and encoding counts as waiting; that only makes the
 * Retry-After checks easier to pass by a hair (a tolerance of 50 ms is allowed anyway). */
#define _POSIX_C_SOURCE 200809L
#include "client_mode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <zlib.h>

#include "batch.h"
#include "http.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "common/clock.h"
#include "common/number.h"

#define MAX_OBS 1024
#define MAX_BODY ((size_t)64 << 20)
#define RA_DELTA_S 2
#define RA_DATE_S 3
#define BACKOFF_N 7
#define TOLERANCE_S 0.05
#define JITTER_MIN_S 0.4 /* C06 judges ratios of waits this long when there are 3 or more */
#define NOW_SLACK_S 2.0  /* C04: now_ms may lag the time between attempts by this much */

struct judging;

/* A row of the case table: the case and the function that judges it from the log. */
struct row {
    struct stint_conf_case_info info;
    void (*judge)(const struct judging *j, struct stint_conf_outcome *out);
};

enum phase {
    PH_X_RA1 = 0, /* first request: 503 + Retry-After: 2 */
    PH_X_RA2,     /* 429 + Retry-After: HTTP-date */
    PH_X_BACKOFF, /* BACKOFF_N failures without Retry-After */
    PH_X_OK,      /* then 200 */
    PH_Y,         /* the next batch of 2+ records: 413 */
    PH_Y_SPLIT,   /* 200 to its parts */
    PH_Z,         /* the next batch: 400 */
    PH_AFTER,     /* the next batch: 401, after which the client must pause */
    PH_PAUSED,    /* anything more is a violation of the pause: 401 again */
};

struct obs {
    double t_arrive, t_answer; /* monotonic seconds */
    int64_t wall_arrive_ms;
    int phase;
    int status;
    bool valid;
    char problem[200]; /* why the request is not well-formed */
    char key[201];
    uint64_t first, last;
    size_t n;
    int64_t now_ms;
    int64_t retry_at_ms; /* the HTTP-date sent with this answer (wall ms), 0: none */
    bool legacy;         /* POST /v1/legacy */
    bool ident_ok;       /* ... with identity headers that match the payload (C11) */
    char ident_problem[160];
    char seqs[200]; /* the Stint-Seqs value (cut), to compare attempts */
    size_t closed;  /* closed records of the legacy payload */
    bool has_open;  /* ... and an open one */
};

struct state {
    pthread_mutex_t mu;
    const struct stint_conf_client_opts *o;
    struct obs obs[MAX_OBS];
    size_t n_obs;
    enum phase ph;
    int backoff_i;
    uint64_t x_first, x_last, y_first, y_last, z_first, z_last, acked;
    size_t y_n;
    double t_last;
    bool script_done;
};

/* Monotonic seconds: the log's time axis. */
static double mono_s(void)
{
    return (double)stint_clock_mono_ns() / 1e9;
}

struct conn {
    struct stint_buf body;
    bool over;
    double t_arrive;
    int64_t wall_ms;
};

struct scan {
    uint64_t first, last, prev;
    size_t n;
    bool increasing;
};

static enum stint_err on_record(void *ctx, const struct stint_record *r)
{
    struct scan *s = ctx;

    if (s->n == 0)
        s->first = r->seq;
    else if (r->seq <= s->prev)
        s->increasing = false;
    s->prev = r->seq;
    if (r->seq > s->last)
        s->last = r->seq;
    s->n++;
    return STINT_OK;
}

static enum stint_err gunzip(const uint8_t *in, size_t n, struct stint_buf *out)
{
    z_stream z;
    int zr = Z_OK;
    enum stint_err rc = STINT_OK;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return STINT_ENOMEM;
    out->max = MAX_BODY;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    while (zr != Z_STREAM_END) {
        if ((rc = stint_buf_reserve(out, 65536)) != STINT_OK)
            break;
        z.next_out = out->data + out->len;
        z.avail_out = 65536;
        zr = inflate(&z, Z_NO_FLUSH);
        out->len += 65536 - z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = STINT_ESYNTAX;
            break;
        }
        if (zr == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            rc = STINT_ETRUNC;
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

static enum stint_err count_closed(void *ctx, const struct stint_record *r)
{
    (void)r;
    ++*(size_t *)ctx;
    return STINT_OK;
}

/* A legacy payload: decoded, and its identity headers held against it (C11, C12). first, last
 * and n come from Stint-Seqs when it is usable, so that the script follows a legacy client as
 * it follows a Batch. */
static void inspect_legacy(struct MHD_Connection *c, enum stint_legacy_shape shape,
                           const uint8_t *body, size_t len, struct stint_batch *head,
                           struct obs *ob)
{
    const char *agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, STINT_LEGACY_AGENT_HEADER);
    const char *seqs = MHD_lookup_connection_value(c, MHD_HEADER_KIND, STINT_LEGACY_SEQS_HEADER);
    struct stint_error err;
    uint64_t *v = NULL;
    size_t n = 0;
    uint8_t id[STINT_AGENT_ID_LEN];

    stint_error_clear(&err);
    if (stint_legacy_decode(shape, (const char *)body, len, head, count_closed, &ob->closed, NULL,
                            &err) != STINT_OK) {
        snprintf(ob->problem, sizeof(ob->problem), "the body is not a legacy payload: %.140s",
                 err.msg);
        return;
    }
    ob->has_open = head->has_current;
    ob->valid = true;
    ob->now_ms = head->now_ms;
    snprintf(ob->seqs, sizeof(ob->seqs), "%s", seqs ? seqs : "");
    if (!agent || !seqs) {
        snprintf(ob->ident_problem, sizeof(ob->ident_problem), "no %s",
                 agent ? STINT_LEGACY_SEQS_HEADER : STINT_LEGACY_AGENT_HEADER);
        return;
    }
    if (!stint_legacy_agent_parse(agent, id)) {
        snprintf(ob->ident_problem, sizeof(ob->ident_problem), "%s is not 32 hex digits",
                 STINT_LEGACY_AGENT_HEADER);
        return;
    }
    if (stint_legacy_seqs_parse(seqs, strlen(seqs), 1u << 20, &v, &n, &err) != STINT_OK) {
        snprintf(ob->ident_problem, sizeof(ob->ident_problem), "%.150s", err.msg);
        return;
    }
    if (n) {
        ob->first = v[0];
        ob->last = v[n - 1];
    }
    ob->n = n;
    free(v);
    if (n != ob->closed) {
        snprintf(ob->ident_problem, sizeof(ob->ident_problem),
                 "%s names %zu seqs for %zu closed records", STINT_LEGACY_SEQS_HEADER, n,
                 ob->closed);
        return;
    }
    ob->ident_ok = true;
}

/* Checks and decodes one request into ob; *json says the encoding for the answer. */
static void inspect(struct state *st, struct MHD_Connection *c, const char *method, const char *url,
                    const struct conn *cn, struct obs *ob, bool *json)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    struct stint_buf plain = {0};
    struct stint_batch *head = NULL;
    struct stint_error err;
    struct scan sc = {0, 0, 0, 0, true};
    const uint8_t *body = cn->body.data ? cn->body.data : (const uint8_t *)"";
    size_t len = cn->body.len;
    char mt[128];
    enum stint_err rc;

    *json = false;
    ob->valid = false;
    snprintf(ob->key, sizeof(ob->key), "%s", key ? key : "");
    ob->legacy = strcmp(method, "POST") == 0 && strcmp(url, "/v1/legacy") == 0;
    if (strcmp(method, "POST") != 0 || (strcmp(url, "/v1/batches") != 0 && !ob->legacy)) {
        snprintf(ob->problem, sizeof(ob->problem), "%s %s", method, url);
        return;
    }
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 ||
        (st->o->token && strcmp(auth + 7, st->o->token) != 0)) {
        snprintf(ob->problem, sizeof(ob->problem), "Authorization is not Bearer%s%s",
                 st->o->token ? " with the expected token" : "", auth ? "" : " (none)");
        return;
    }
    stint_media_type(ct ? ct : "", mt, sizeof(mt));
    if (ob->legacy && strcmp(mt, "application/json") != 0 &&
        strcmp(mt, "application/x-www-form-urlencoded") != 0) {
        snprintf(ob->problem, sizeof(ob->problem), "Content-Type '%s' for /v1/legacy",
                 ct ? ct : "");
        return;
    }
    if (strcmp(mt, "application/json") == 0) {
        *json = true;
    } else if (!ob->legacy && strcmp(mt, "application/x-protobuf") != 0 &&
               strcmp(mt, "application/protobuf") != 0) {
        snprintf(ob->problem, sizeof(ob->problem), "Content-Type '%s'", ct ? ct : "");
        return;
    }
    if (cn->over) {
        snprintf(ob->problem, sizeof(ob->problem), "a body over %zu bytes", MAX_BODY);
        return;
    }
    if (ce && strcasecmp(ce, "gzip") == 0) {
        if (gunzip(body, len, &plain) != STINT_OK) {
            snprintf(ob->problem, sizeof(ob->problem), "Content-Encoding gzip, but not gzip");
            goto cleanup;
        }
        body = plain.data ? plain.data : (const uint8_t *)"";
        len = plain.len;
    } else if (ce && strcasecmp(ce, "identity") != 0) {
        snprintf(ob->problem, sizeof(ob->problem), "Content-Encoding '%s'", ce);
        return;
    }
    head = malloc(sizeof(*head));
    if (!head) {
        snprintf(ob->problem, sizeof(ob->problem), "the kit ran out of memory");
        goto cleanup;
    }
    stint_error_clear(&err);
    if (ob->legacy) {
        inspect_legacy(c,
                       strcmp(mt, "application/json") == 0 ? STINT_LEGACY_JSON : STINT_LEGACY_FORM,
                       body, len, head, ob);
        *json = true;
        goto cleanup;
    }
    rc = *json ? stint_json_decode_batch((const char *)body, len, head, on_record, &sc, NULL, &err)
               : stint_pb_decode_batch(body, len, head, on_record, &sc, NULL, &err);
    if (rc != STINT_OK) {
        snprintf(ob->problem, sizeof(ob->problem), "the body is not a Batch: %.150s", err.msg);
        goto cleanup;
    }
    if (head->agent_id_len != STINT_AGENT_ID_LEN) {
        snprintf(ob->problem, sizeof(ob->problem), "no 16-byte agent_id");
        goto cleanup;
    }
    if (!sc.increasing) {
        snprintf(ob->problem, sizeof(ob->problem), "seqs not strictly increasing");
        goto cleanup;
    }
    ob->first = sc.first;
    ob->last = sc.last;
    ob->n = sc.n;
    ob->now_ms = head->now_ms;
    ob->valid = true;
cleanup:
    free(head);
    stint_buf_free(&plain);
}

/* The script: decides the status (and Retry-After) for one observed request. */
static int decide(struct state *st, struct obs *ob, char *retry_after, size_t cap)
{
    static const int backoff_status[BACKOFF_N] = {503, 500, 502, 504, 503, 500, 502};

    retry_after[0] = '\0';
    ob->phase = (int)st->ph;
    if (!ob->valid)
        return 400;
    switch (st->ph) {
    case PH_X_RA1:
        if (ob->n == 0)
            return 200; /* a heartbeat without records: not a batch to script */
        st->x_first = ob->first;
        st->x_last = ob->last;
        snprintf(retry_after, cap, "%d", RA_DELTA_S);
        st->ph = PH_X_RA2;
        return 503;
    case PH_X_RA2: {
        time_t t = (time_t)(ob->wall_arrive_ms / 1000) + RA_DATE_S;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(retry_after, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        ob->retry_at_ms = (int64_t)t * 1000;
        st->ph = PH_X_BACKOFF;
        return 429;
    }
    case PH_X_BACKOFF: {
        int s = backoff_status[st->backoff_i++];
        if (st->backoff_i == BACKOFF_N)
            st->ph = PH_X_OK;
        return s;
    }
    case PH_X_OK:
        st->ph = PH_Y;
        return 200;
    case PH_Y:
        if (ob->n < 2)
            return 200;
        st->y_first = ob->first;
        st->y_last = ob->last;
        st->y_n = ob->n;
        st->ph = PH_Y_SPLIT;
        return 413;
    case PH_Y_SPLIT:
        if (ob->last >= st->y_last)
            st->ph = PH_Z;
        return 200;
    case PH_Z:
        if (ob->n == 0)
            return 200;
        st->z_first = ob->first;
        st->z_last = ob->last;
        st->ph = PH_AFTER;
        return 400;
    case PH_AFTER:
        if (ob->n == 0)
            return 200;
        if (ob->first >= st->z_first && ob->last <= st->z_last)
            return 400; /* a part of the refused batch (a client splitting to find the record
                           at fault): refused as well, until it goes on past it */
        st->ph = PH_PAUSED;
        st->script_done = true;
        return 401;
    case PH_PAUSED:
        return 401;
    }
    return 200;
}

static enum MHD_Result answer(struct MHD_Connection *c, int status, bool json, const struct obs *ob,
                              const char *retry_after)
{
    struct stint_buf body = {0};
    struct stint_ack ack;
    struct MHD_Response *r;
    enum MHD_Result ret;
    const char *ct = "application/json";

    memset(&ack, 0, sizeof(ack));
    if (status == 200) {
        ack.acked_seq = ob->last;
        ack.stored = ob->n;
        ack.server_time_ms = stint_clock_wall_ms();
        if (json)
            stint_json_encode_ack(&ack, &body);
        else {
            stint_pb_encode_ack(&ack, &body);
            ct = "application/x-protobuf";
        }
    } else {
        stint_buf_printf(&body,
                         "{\"error\":{\"code\":\"conformance_script\",\"message\":\"status %d "
                         "from the conformance script\"}}",
                         status);
    }
    r = MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_COPY);
    stint_buf_free(&body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ct);
    if (status == 200 && ob->legacy)
        MHD_add_response_header(r, STINT_LEGACY_IDENTITY_HEADER, "agent-seq");
    if (retry_after[0])
        MHD_add_response_header(r, "Retry-After", retry_after);
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct state *st = cls;
    struct conn *cn = *con_cls;
    struct obs local, *ob = &local;
    char retry_after[64];
    bool json = false;
    int status;

    (void)version;
    if (!cn) {
        cn = calloc(1, sizeof(*cn));
        if (!cn)
            return MHD_NO;
        cn->t_arrive = mono_s();
        cn->wall_ms = stint_clock_wall_ms();
        cn->body.max = MAX_BODY;
        *con_cls = cn;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cn->over && stint_buf_append(&cn->body, upload_data, *upload_size) != STINT_OK) {
            cn->over = true;
            stint_buf_free(&cn->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    memset(&local, 0, sizeof(local));
    if (strcmp(url, "/v1/health") == 0)
        return answer(c, 200, true, &local, "");
    local.t_arrive = cn->t_arrive;
    local.wall_arrive_ms = cn->wall_ms;
    inspect(st, c, method, url, cn, &local, &json);
    pthread_mutex_lock(&st->mu);
    status = decide(st, &local, retry_after, sizeof(retry_after));
    local.status = status;
    local.t_answer = mono_s();
    st->t_last = local.t_answer;
    if (st->n_obs < MAX_OBS) {
        st->obs[st->n_obs] = local;
        ob = &st->obs[st->n_obs++];
    }
    pthread_mutex_unlock(&st->mu);
    return answer(c, status, json, ob, retry_after);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *cn = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (!cn)
        return;
    stint_buf_free(&cn->body);
    free(cn);
    *con_cls = NULL;
}

/* Reads a whole small file; NULL on failure. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static bool parse_listen(const char *s, struct sockaddr_in *sa, bool *loopback)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    uint64_t port;
    size_t n;

    if (!colon || (n = (size_t)(colon - s)) >= sizeof(host))
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    if (stint_number_u64(NULL, colon + 1, 0, 65535, &port, NULL) != STINT_OK)
        return false;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return false;
    *loopback = (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
    return true;
}

static int write_port(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -1;
    if (!(f = fopen(tmp, "w")))
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* ---- judging ---- */

static void set(struct stint_conf_outcome *o, enum stint_conf_result r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set(struct stint_conf_outcome *o, enum stint_conf_result r, const char *fmt, ...)
{
    va_list ap;

    o->result = r;
    va_start(ap, fmt);
    vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
    va_end(ap);
}

/* The attempts of batch X, in order: indexes into obs. */
static size_t x_attempts(const struct state *st, size_t *idx, size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < st->n_obs && n < cap; i++) {
        const struct obs *ob = &st->obs[i];
        if (ob->phase <= PH_X_OK && ob->phase >= PH_X_RA1 && ob->valid && ob->n > 0)
            idx[n++] = i;
    }
    return n;
}

/* What the judges share: the log and the attempts of batch X in it. */
struct judging {
    const struct state *st;
    size_t xi[64]; /* indexes into st->obs */
    size_t nx;
};

/* C11 and C12 read the same legacy payloads (both skipped without any). */
static void judge_legacy(const struct judging *j, struct stint_conf_outcome *c11,
                         struct stint_conf_outcome *c12)
{
    const struct state *st = j->st;
    const struct obs *ob = j->st->obs;
    size_t i, k, nl = 0, bad11 = 0, bad12 = 0;
    char why11[300] = "", why12[200] = "";

    for (i = 0; i < st->n_obs; i++) {
        if (!ob[i].legacy || !ob[i].valid)
            continue;
        nl++;
        if (ob[i].closed == 0 && !ob[i].has_open) {
            if (!bad12++)
                snprintf(why12, sizeof(why12), "request %zu: a payload with an empty 'log'", i + 1);
            continue;
        }
        if (ob[i].closed && !ob[i].ident_ok && !bad11++)
            snprintf(why11, sizeof(why11), "request %zu: %.200s", i + 1, ob[i].ident_problem);
        for (k = 0; k < i && !bad11; k++)
            if (ob[k].legacy && ob[k].key[0] && strcmp(ob[k].key, ob[i].key) == 0 &&
                strcmp(ob[k].seqs, ob[i].seqs) != 0 && !bad11++)
                snprintf(why11, sizeof(why11),
                         "requests %zu and %zu: one Idempotency-Key, Stint-Seqs '%.60s' then "
                         "'%.60s'",
                         k + 1, i + 1, ob[k].seqs, ob[i].seqs);
    }
    if (nl == 0) {
        set(c11, STINT_CONF_SKIP, "no legacy payload came");
        set(c12, STINT_CONF_SKIP, "no legacy payload came");
    } else {
        if (bad11)
            set(c11, STINT_CONF_FAIL, "%s", why11);
        else
            set(c11, STINT_CONF_PASS, "%zu legacy payloads, each naming its agent and its seqs",
                nl);
        if (bad12)
            set(c12, STINT_CONF_FAIL, "%s", why12);
        else
            set(c12, STINT_CONF_PASS, "%zu legacy payloads, none empty", nl);
    }
}

/* C09: every request well-formed. */
static void judge_c09(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct state *st = j->st;
    const struct obs *ob = j->st->obs;
    size_t i;

    set(out, STINT_CONF_PASS, "%zu requests, each a valid Batch", st->n_obs);
    if (st->n_obs == 0)
        set(out, STINT_CONF_FAIL, "no request came");
    for (i = 0; i < st->n_obs; i++)
        if (!ob[i].valid) {
            set(out, STINT_CONF_FAIL, "request %zu: %s", i + 1, ob[i].problem);
            break;
        }
}

/* C01: the wait after Retry-After in delta-seconds. */
static void judge_c01(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct obs *ob = j->st->obs;
    const size_t *xi = j->xi;
    size_t nx = j->nx;

    if (nx < 2)
        set(out, STINT_CONF_FAIL,
            "the batch answered 503 + Retry-After: %d was not sent "
            "again",
            RA_DELTA_S);
    else {
        double w = ob[xi[1]].t_arrive - ob[xi[0]].t_answer;
        set(out, w + TOLERANCE_S >= RA_DELTA_S ? STINT_CONF_PASS : STINT_CONF_FAIL,
            "waited %.3f s after Retry-After: %d", w, RA_DELTA_S);
    }
}

/* C02: the wait after Retry-After as an HTTP-date. */
static void judge_c02(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct obs *ob = j->st->obs;
    const size_t *xi = j->xi;
    size_t nx = j->nx;

    if (nx < 3)
        set(out, STINT_CONF_FAIL,
            "the batch answered 429 + Retry-After (HTTP-date) was not "
            "sent again");
    else {
        int64_t early = ob[xi[1]].retry_at_ms - ob[xi[2]].wall_arrive_ms;
        set(out, early <= (int64_t)(TOLERANCE_S * 1000) ? STINT_CONF_PASS : STINT_CONF_FAIL,
            early > 0 ? "came back %" PRId64 " ms before the Retry-After date"
                      : "came back %" PRId64 " ms after the Retry-After date",
            early > 0 ? early : -early);
    }
}

/* C03: every attempt of batch X with the same key and records. */
static void judge_c03(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct state *st = j->st;
    const struct obs *ob = j->st->obs;
    const size_t *xi = j->xi;
    size_t nx = j->nx;
    size_t i;

    if (nx < 2)
        set(out, STINT_CONF_FAIL, "no retry to compare");
    else {
        set(out, STINT_CONF_PASS, "%zu attempts with Idempotency-Key %s", nx, ob[xi[0]].key);
        for (i = 0; i < nx; i++) {
            const struct obs *a = &ob[xi[i]];
            if (!a->key[0]) {
                set(out, STINT_CONF_FAIL, "attempt %zu has no Idempotency-Key", i + 1);
                break;
            }
            if (strcmp(a->key, ob[xi[0]].key) != 0) {
                set(out, STINT_CONF_FAIL, "attempt %zu has Idempotency-Key %s, the first %s", i + 1,
                    a->key, ob[xi[0]].key);
                break;
            }
            if (a->first != st->x_first || a->last != st->x_last) {
                set(out, STINT_CONF_FAIL,
                    "attempt %zu carries seqs %" PRIu64 "-%" PRIu64 ", the first %" PRIu64
                    "-%" PRIu64,
                    i + 1, a->first, a->last, st->x_first, st->x_last);
                break;
            }
        }
    }
}

/* C04: now_ms refreshed on each attempt. */
static void judge_c04(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct obs *ob = j->st->obs;
    const size_t *xi = j->xi;
    size_t nx = j->nx;
    size_t i;

    if (nx < 2)
        set(out, STINT_CONF_FAIL, "no retry to compare");
    else {
        double worst = 0;
        set(out, STINT_CONF_PASS, "now_ms followed the clock over %zu attempts", nx);
        for (i = 1; i < nx; i++) {
            const struct obs *a = &ob[xi[i - 1]], *b = &ob[xi[i]];
            double moved = (double)(b->now_ms - a->now_ms) / 1000.0;
            double passed = b->t_arrive - a->t_arrive;
            /* a legacy payload's 'now' is in whole seconds: equal within a second is fine */
            if (b->now_ms < a->now_ms ||
                (b->now_ms == a->now_ms && (!b->legacy || passed >= 1.0 + TOLERANCE_S))) {
                set(out, STINT_CONF_FAIL,
                    "attempt %zu has now_ms %" PRId64 ", not later than attempt %zu (%" PRId64 ")",
                    i + 1, b->now_ms, i, a->now_ms);
                break;
            }
            if (moved - passed > worst || passed - moved > worst)
                worst = moved > passed ? moved - passed : passed - moved;
            if (worst > NOW_SLACK_S) {
                set(out, STINT_CONF_FAIL,
                    "between attempts %zu and %zu now_ms moved %.3f s "
                    "while %.3f s passed",
                    i, i + 1, moved, passed);
                break;
            }
        }
    }
}

/* C05 and C06 read the same waits: the retries of batch X without Retry-After. */
static void judge_backoff(const struct judging *j, struct stint_conf_outcome *c05,
                          struct stint_conf_outcome *c06)
{
    const struct obs *ob = j->st->obs;
    const size_t *xi = j->xi;
    size_t nx = j->nx;
    double gaps[BACKOFF_N];
    size_t i, ng = 0;

    for (i = 2; i + 1 < nx && ng < BACKOFF_N; i++)
        gaps[ng++] = ob[xi[i + 1]].t_arrive - ob[xi[i]].t_answer;
    if (ng < BACKOFF_N) {
        set(c05, STINT_CONF_FAIL, "only %zu of %d retries without Retry-After came", ng, BACKOFF_N);
        set(c06, STINT_CONF_FAIL, "only %zu of %d retries without Retry-After came", ng, BACKOFF_N);
    } else {
        char list[200];
        size_t off = 0, n_long = 0;
        double early = gaps[0] > gaps[1] ? gaps[0] : gaps[1], late = 0, rmin = 1e9, rmax = 0;
        double lmin = 1e9, lmax = 0;
        for (i = 0; i < ng; i++) {
            off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%.0f", i ? " " : "",
                                    gaps[i] * 1000);
            if (i >= ng - 3 && gaps[i] > late)
                late = gaps[i];
            if (i) {
                double r = gaps[i] / (gaps[i - 1] > 0.0005 ? gaps[i - 1] : 0.0005);
                if (r < rmin)
                    rmin = r;
                if (r > rmax)
                    rmax = r;
                /* ratios of long waits only: timing noise of a loaded machine (tens of ms)
                 * must not pass for jitter */
                if (gaps[i] >= JITTER_MIN_S && gaps[i - 1] >= JITTER_MIN_S) {
                    n_long++;
                    if (r < lmin)
                        lmin = r;
                    if (r > lmax)
                        lmax = r;
                }
            }
        }
        if (n_long >= 3) {
            rmin = lmin;
            rmax = lmax;
        }
        set(c05, late > early ? STINT_CONF_PASS : STINT_CONF_FAIL,
            "waits %s ms: the longest of the last three %s the longest of the first two", list,
            late > early ? "exceeds" : "does not exceed");
        set(c06, rmax > 1.5 * rmin ? STINT_CONF_PASS : STINT_CONF_FAIL,
            "ratios of consecutive waits%s from %.2f to %.2f%s",
            n_long >= 3 ? " (of 0.4 s or more)" : "", rmin, rmax,
            rmax > 1.5 * rmin ? "" : ": a fixed sequence, no jitter");
    }
}

/* C07: batch Y split after 413, every record delivered. */
static void judge_c07(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct state *st = j->st;
    const struct obs *ob = j->st->obs;
    size_t i;

    if (st->ph < PH_Y_SPLIT) {
        set(out, STINT_CONF_FAIL, "no batch of 2 or more records came after the first one");
    } else {
        const struct obs *nxt = NULL;
        uint64_t covered = st->y_first - 1;
        bool gap = false;
        for (i = 0; i < st->n_obs; i++)
            if (ob[i].phase >= PH_Y_SPLIT && ob[i].valid && ob[i].n > 0 &&
                ob[i].first <= st->y_last) {
                if (!nxt)
                    nxt = &ob[i];
                if (ob[i].first > covered + 1)
                    gap = true;
                if (ob[i].last > covered)
                    covered = ob[i].last;
            }
        if (!nxt)
            set(out, STINT_CONF_FAIL,
                "nothing of the refused batch %" PRIu64 "-%" PRIu64 " came again", st->y_first,
                st->y_last);
        else if (nxt->first != st->y_first || nxt->n >= st->y_n)
            set(out, STINT_CONF_FAIL,
                "after 413 on %zu records (%" PRIu64 "-%" PRIu64 ") came %zu records (%" PRIu64
                "-%" PRIu64 ")",
                st->y_n, st->y_first, st->y_last, nxt->n, nxt->first, nxt->last);
        else if (gap || covered < st->y_last)
            set(out, STINT_CONF_FAIL,
                "the parts of %" PRIu64 "-%" PRIu64 " left out seqs "
                "(delivered up to %" PRIu64 ")",
                st->y_first, st->y_last, covered);
        else
            set(out, STINT_CONF_PASS,
                "413 on %zu records: split, first part %zu records, "
                "all delivered",
                st->y_n, nxt->n);
    }
}

/* C10: the pause after 401. */
static void judge_c10(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct state *st = j->st;
    const struct obs *ob = j->st->obs;
    size_t i, ai = st->n_obs;

    for (i = 0; i < st->n_obs; i++)
        if (ob[i].phase == PH_AFTER && ob[i].status == 401) {
            ai = i;
            break;
        }
    if (ai == st->n_obs)
        set(out, STINT_CONF_FAIL, "the script did not reach the 401");
    else if (ai + 1 < st->n_obs)
        set(out, STINT_CONF_FAIL,
            "after 401 the client sent again %.3f s later (%zu "
            "requests)",
            ob[ai + 1].t_arrive - ob[ai].t_answer, st->n_obs - ai - 1);
    else
        set(out, STINT_CONF_PASS, "no request in the %.1f s after 401", mono_s() - ob[ai].t_answer);
}

/* C08: batch Z not sent again after 400, the next one sent. */
static void judge_c08(const struct judging *j, struct stint_conf_outcome *out)
{
    const struct state *st = j->st;
    const struct obs *ob = j->st->obs;
    size_t i;

    if (st->ph < PH_AFTER) {
        set(out, STINT_CONF_FAIL, "the script did not reach the permanent refusal");
    } else {
        bool again = false, went_on = false;
        size_t zi = 0;
        for (i = 0; i < st->n_obs; i++)
            if (ob[i].phase == PH_Z && ob[i].status == 400)
                zi = i;
        for (i = zi + 1; i < st->n_obs; i++) {
            if (!ob[i].valid || ob[i].n == 0)
                continue;
            if ((ob[i].first == st->z_first && ob[i].last == st->z_last) ||
                (ob[i].key[0] && strcmp(ob[i].key, ob[zi].key) == 0))
                again = true;
            if (ob[i].first > st->z_last)
                went_on = true;
        }
        if (again)
            set(out, STINT_CONF_FAIL,
                "the batch refused with 400 (%" PRIu64 "-%" PRIu64 ") was sent again", st->z_first,
                st->z_last);
        else if (!went_on)
            set(out, STINT_CONF_FAIL,
                "nothing after the refused batch came (give the client "
                "more records)");
        else
            set(out, STINT_CONF_PASS,
                "the refused batch %" PRIu64 "-%" PRIu64 " was not "
                "sent again; the next one was",
                st->z_first, st->z_last);
    }
}

static void judge_c05(const struct judging *j, struct stint_conf_outcome *out)
{
    struct stint_conf_outcome c06;

    judge_backoff(j, out, &c06);
}

static void judge_c06(const struct judging *j, struct stint_conf_outcome *out)
{
    struct stint_conf_outcome c05;

    judge_backoff(j, &c05, out);
}

static void judge_c11(const struct judging *j, struct stint_conf_outcome *out)
{
    struct stint_conf_outcome c12;

    judge_legacy(j, out, &c12);
}

static void judge_c12(const struct judging *j, struct stint_conf_outcome *out)
{
    struct stint_conf_outcome c11;

    judge_legacy(j, &c11, out);
}

/* ---- the rows: id, level, section, requirement, judge ---- */

static const struct row rows[] = {
    {{"C01", STINT_CONF_MUST, "§7.6 Waiting: backoff and Retry-After",
      "After 503 with Retry-After: 2 (delta-seconds) the client MUST NOT send again before two "
      "seconds have passed."},
     judge_c01},
    {{"C02", STINT_CONF_MUST, "§7.6 Waiting: backoff and Retry-After",
      "After 429 with Retry-After as an HTTP-date the client MUST NOT send again before that "
      "date."},
     judge_c02},
    {{"C03", STINT_CONF_MUST, "§7.1 Batches; §7.2 Request (Idempotency-Key)",
      "Every attempt of one batch MUST carry the same Idempotency-Key and the same records."},
     judge_c03},
    {{"C04", STINT_CONF_MUST, "§3.5 Batch (now_ms); §7.1 Batches",
      "now_ms is the client's clock when this attempt was sent, refreshed on each retry: it "
      "advances between attempts by the time that passed (a legacy payload's now: to the "
      "second)."},
     judge_c04},
    {{"C05", STINT_CONF_MUST, "§7.4 Retry table; §7.6 Waiting: backoff and Retry-After",
      "503, 500, 502 and 504 without Retry-After are retried with the same batch, and the waits "
      "between retries MUST grow (exponential backoff)."},
     judge_c05},
    {{"C06", STINT_CONF_SHOULD, "§7.4 Retry table; §7.6 Waiting: backoff and Retry-After",
      "Waits SHOULD be randomised (full jitter), so agents that failed together do not come back "
      "together."},
     judge_c06},
    {{"C07", STINT_CONF_MUST, "§7.5 413: splitting",
      "After 413 the client MUST split the batch: the next request starts at the same seq with "
      "fewer records, and all the batch's records are delivered."},
     judge_c07},
    {{"C08", STINT_CONF_MUST, "§7.4 Retry table (REJECT)",
      "After a permanent 4xx (400) the client MUST NOT send that batch again (it MAY split it "
      "to find the record at fault; the parts are refused too), and MUST go on with the next "
      "one."},
     judge_c08},
    {{"C09", STINT_CONF_MUST, "§7.2 Request; §3 Wire format",
      "Every request is a POST to /v1/batches with a Bearer token, a protobuf or JSON Content-Type "
      "(gzip allowed) and a body that decodes as a Batch with a 16-byte agent_id and increasing "
      "seqs (a legacy client: to /v1/legacy, a form or legacy JSON payload)."},
     judge_c09},
    {{"C10", STINT_CONF_MUST, "§7.7 Pauses; §7.4 Retry table (AUTH)",
      "After 401 the client stops sending: no retry until its token changes or an operator "
      "flushes."},
     judge_c10},
    {{"C11", STINT_CONF_MUST, "§6.10 Legacy identity (Stint-Agent-Id, Stint-Seqs)",
      "A legacy client names its records: every legacy payload with records carries "
      "Stint-Agent-Id and a Stint-Seqs with one seq per closed record, the same on every attempt "
      "of the payload (skipped when the client sent no legacy payload)."},
     judge_c11},
    {{"C12", STINT_CONF_MUST, "§6.10 Legacy identity; §7.4 Retry table",
      "A legacy client sends no payload with an empty 'log': a batch that has no legacy form is "
      "done without a request (skipped when the client sent no legacy payload)."},
     judge_c12},
};

#define N_CASES (sizeof(rows) / sizeof(rows[0]))

size_t stint_conf_client_count(void)
{
    return N_CASES;
}

const struct stint_conf_case_info *stint_conf_client_info(size_t i)
{
    return i < N_CASES ? &rows[i].info : NULL;
}

/* Judges every case from the log, each by its row's function. */
static void judge(const struct state *st, struct stint_conf_outcome *out)
{
    struct judging j = {.st = st};
    size_t i;

    j.nx = x_attempts(st, j.xi, sizeof(j.xi) / sizeof(j.xi[0]));
    for (i = 0; i < N_CASES; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].info = &rows[i].info;
        rows[i].judge(&j, &out[i]);
    }
}

enum stint_err stint_conf_client_run(const struct stint_conf_client_opts *o,
                                     struct stint_conf_report *rep, char *msg, size_t cap)
{
    struct state *st = NULL;
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sa;
    struct stint_conf_outcome out[N_CASES];
    char *cert = NULL, *key = NULL;
    const union MHD_DaemonInfo *info;
    enum stint_err rc = STINT_OK;
    double t0, timeout = o->timeout_s > 0 ? o->timeout_s : 120,
               quiet = o->quiet_s > 0 ? o->quiet_s : 3;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    bool loopback = false;
    size_t i;

    if (!parse_listen(o->listen, &sa, &loopback)) {
        snprintf(msg, cap, "--listen wants IPV4:PORT, got %s", o->listen);
        return STINT_EINVAL;
    }
    if (o->insecure_http && !loopback) {
        snprintf(msg, cap, "--insecure-http only on a loopback address");
        return STINT_EINVAL;
    }
    if (!o->insecure_http) {
        if (!o->tls_cert || !o->tls_key) {
            snprintf(msg, cap, "client mode needs --tls-cert and --tls-key (or --insecure-http)");
            return STINT_EINVAL;
        }
        cert = slurp(o->tls_cert);
        key = slurp(o->tls_key);
        if (!cert || !key) {
            snprintf(msg, cap, "cannot read %s", !cert ? o->tls_cert : o->tls_key);
            rc = STINT_EIO;
            goto cleanup;
        }
        flags |= MHD_USE_TLS;
    }
    st = calloc(1, sizeof(*st));
    if (!st) {
        rc = STINT_ENOMEM;
        goto cleanup;
    }
    pthread_mutex_init(&st->mu, NULL);
    st->o = o;
    if (cert)
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, st, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, st,
                             MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_HTTPS_MEM_CERT, cert,
                             MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
    else
        d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, st, MHD_OPTION_SOCK_ADDR, &sa,
                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, st,
                             MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        snprintf(msg, cap, "cannot listen on %s", o->listen);
        rc = STINT_EIO;
        goto cleanup;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (o->port_file && (!info || write_port(o->port_file, info->port) != 0)) {
        snprintf(msg, cap, "cannot write %s", o->port_file);
        rc = STINT_EIO;
        goto cleanup;
    }
    fprintf(stderr, "stint-conformance: client mode listening on %s port %u\n",
            o->insecure_http ? "http" : "https", info ? (unsigned)info->port : 0u);
    t0 = mono_s();
    for (;;) {
        struct timespec ts = {0, 50 * 1000000L};
        bool done;
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&st->mu);
        done = st->script_done && mono_s() - st->t_last >= quiet;
        pthread_mutex_unlock(&st->mu);
        if (done || mono_s() - t0 >= timeout)
            break;
    }
    MHD_stop_daemon(d);
    d = NULL;
    judge(st, out);
    for (i = 0; i < N_CASES; i++)
        if ((rc = stint_conf_report_add(rep, &out[i])) != STINT_OK)
            goto cleanup;
cleanup:
    if (d)
        MHD_stop_daemon(d);
    if (st) {
        pthread_mutex_destroy(&st->mu);
        free(st);
    }
    free(cert);
    free(key);
    return rc;
}
