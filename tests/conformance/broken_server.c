/* broken_server.c — test only: stint-collector's protocol logic (the handler and store of
 * stint_collector_core) behind plain HTTP on loopback, with one requirement broken on purpose:
 *
 *   broken_server --listen 127.0.0.1:0 --port-file F --data DIR --tokens FILE
 *                 [--break CASE-ID] [--throttle-file F] [--max-body N] [--max-decoded N]
 *                 [--max-records N]
 *
 * Each --break names the stint-conformance case whose requirement it breaks, and breaks only
 * that one, narrowly (on the requests that case sends), so that the kit must report exactly that
 * case failing. Without --break the server is the collector itself and passes every case.
 * While --throttle-file exists every request is answered 503 with Retry-After: 2 (how the kit's
 * --throttle-cmd provokes S36/S37 here).
 *
 * Breaks act in three places: on the request before the handler (S14, S15: let unauthenticated
 * requests in), on the handler's limits (S18, S19, S25), or on its answer (everything else;
 * most only when the handler said 200, i.e. "refuses what it must accept", or only on one error
 * code, i.e. "accepts what it must refuse"). The body is decoded beforehand (when not gzipped)
 * so that breaks can look at what the batch holds. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "handler.h"
#include "server.h"
#include "store.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "tokens.h"

#define KEYS_MAX 4096

struct pre {
    bool decoded; /* a non-gzip pb/JSON body was decoded */
    bool failed;  /* ... and the decoder refused it */
    bool json;
    enum stint_err code;
    char msg[256];
    uint64_t records, unknown;
    uint64_t unknown_kinds; /* records of a kind above KIND_GAP */
    uint64_t same_second;   /* legacy: records starting in the second of an earlier one */
    bool has_current;
};

static struct {
    const char *brk;
    const char *throttle_file;
    const char *alias; /* a known token, for S14/S15 */
    struct stint_handler *handler;
    const struct stint_tokens *tokens;
    size_t max_body;
    /* S09 and S38: Idempotency-Keys seen, with the Authorization they came with */
    char *keys[KEYS_MAX], *auths[KEYS_MAX];
    size_t n_keys;
    char last_key[256]; /* S47: the key of the latest batch */
} g;

static bool breaking(const char *id)
{
    return g.brk && strcasecmp(g.brk, id) == 0;
}

struct conn {
    struct stint_buf body;
    bool over;
};

static enum stint_err count(void *ctx, const struct stint_record *r)
{
    struct pre *p = ctx;
    ++p->records;
    if (r->kind > STINT_KIND_GAP)
        p->unknown_kinds++;
    return STINT_OK;
}

/* Legacy payloads: counts the records that start in the same second as an earlier one. */
static struct {
    int64_t starts[256];
    size_t n;
} lstarts;

static enum stint_err same_second(void *ctx, const struct stint_record *r)
{
    struct pre *p = ctx;
    size_t i;
    for (i = 0; i < lstarts.n; i++)
        if (lstarts.starts[i] == r->start_ms) {
            p->same_second++;
            break;
        }
    if (lstarts.n < 256)
        lstarts.starts[lstarts.n++] = r->start_ms;
    return STINT_OK;
}

static void media_type(const char *ct, char *out, size_t cap)
{
    size_t i = 0;

    while (ct && (*ct == ' ' || *ct == '\t'))
        ct++;
    for (; ct && ct[i] && ct[i] != ';' && ct[i] != ' ' && i + 1 < cap; i++)
        out[i] = (char)((ct[i] >= 'A' && ct[i] <= 'Z') ? ct[i] + 32 : ct[i]);
    out[i] = '\0';
}

static void predecode(const char *mt, const char *ce, const uint8_t *body, size_t len,
                      struct pre *p)
{
    static struct stint_batch head;
    struct stint_decode_info info = {0, 0};
    struct stint_error err;
    enum stint_err rc;

    memset(p, 0, sizeof(*p));
    if (ce && strcasecmp(ce, "identity") != 0)
        return;
    stint_error_clear(&err);
    if (strcmp(mt, "application/json") == 0) {
        p->json = true;
        rc = stint_json_decode_batch((const char *)(body ? body : (const uint8_t *)""), len, &head,
                                     count, p, &info, &err);
    } else if (strcmp(mt, "application/x-protobuf") == 0 ||
               strcmp(mt, "application/protobuf") == 0) {
        rc = stint_pb_decode_batch(body ? body : (const uint8_t *)"", len, &head, count, p, &info,
                                   &err);
    } else if (strcmp(mt, "application/x-www-form-urlencoded") == 0) {
        lstarts.n = 0; /* legacy: only what S43 looks at */
        stint_legacy_decode(STINT_LEGACY_FORM, (const char *)(body ? body : (const uint8_t *)""),
                            len, &head, same_second, p, NULL, &err);
        return;
    } else {
        return;
    }
    p->decoded = true;
    p->failed = rc != STINT_OK;
    p->code = err.code;
    snprintf(p->msg, sizeof(p->msg), "%s", err.msg);
    p->unknown = info.unknown_fields;
    p->has_current = rc == STINT_OK && head.has_current;
}

/* The decoder refused the agent_id (its length: nanopb says "bytes overflow" past 16). */
static bool agent_id_error(const struct pre *p)
{
    return strncmp(p->msg, "agent_id", 8) == 0;
}

/* Replaces the response by 200 with an empty Ack in the request's encoding. */
static void empty_ack(struct stint_response *rs, bool json)
{
    struct stint_ack a;

    memset(&a, 0, sizeof(a));
    stint_buf_reset(&rs->body);
    rs->status = 200;
    rs->www_authenticate = false;
    rs->allow = NULL;
    if (json) {
        rs->content_type = "application/json";
        stint_json_encode_ack(&a, &rs->body);
    } else {
        rs->content_type = "application/x-protobuf";
        stint_pb_encode_ack(&a, &rs->body);
    }
}

static bool error_code_is(const struct stint_response *rs, const char *code)
{
    char want[80];

    snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
    return rs->body.data && memmem(rs->body.data, rs->body.len, want, strlen(want)) != NULL;
}

/* Applies f to the Ack of a 200 answer and writes it back in the encoding it came in. */
static void edit_ack(struct stint_response *rs, void (*f)(struct stint_ack *a))
{
    struct stint_ack a;
    bool json = rs->body.len && rs->body.data[0] == '{';
    enum stint_err rc;

    rc = json ? stint_json_decode_ack((const char *)rs->body.data, rs->body.len, &a, NULL, NULL)
              : stint_pb_decode_ack(rs->body.data ? rs->body.data : (const uint8_t *)"",
                                    rs->body.len, &a, NULL, NULL);
    if (rc != STINT_OK)
        return;
    f(&a);
    stint_buf_reset(&rs->body);
    if (json)
        stint_json_encode_ack(&a, &rs->body);
    else
        stint_pb_encode_ack(&a, &rs->body);
    stint_ack_free(&a);
}

static void add_current(struct stint_ack *a)
{
    a->stored++;
}
static void replay_fresh(struct stint_ack *a)
{
    a->duplicates = a->stored;
    a->stored = 0;
}
static void dups_stored(struct stint_ack *a)
{
    if (a->stored && a->duplicates) { /* only a batch of old and new records */
        a->stored += a->duplicates;
        a->duplicates = 0;
    }
}
/* An Ack that rejects a record for its order (S48's): S12 and S13 leave it alone. */
static bool order_rejection(const struct stint_ack *a)
{
    size_t i;
    for (i = 0; i < a->n_rejected; i++)
        if (a->rejected[i].code == STINT_REJECT_BAD_SEQ && a->rejected[i].seq != 0)
            return true;
    return false;
}

static void good_lost(struct stint_ack *a)
{
    if (a->n_rejected && !order_rejection(a))
        a->stored = 0;
}

static void codes_lost(struct stint_ack *a)
{
    size_t i;
    if (order_rejection(a))
        return;
    for (i = 0; i < a->n_rejected; i++)
        a->rejected[i].code = STINT_REJECT_UNSPECIFIED;
}

/* S48 broken: records out of order are stored like the others. */
static void order_ignored(struct stint_ack *a)
{
    size_t i, k = 0;
    for (i = 0; i < a->n_rejected; i++) {
        if (a->rejected[i].code == STINT_REJECT_BAD_SEQ && a->rejected[i].seq != 0) {
            a->stored++;
            continue;
        }
        a->rejected[k++] = a->rejected[i];
    }
    a->n_rejected = k;
}

/* S43 broken: the v1.0 rule, one legacy record per start second. */
static uint64_t merged_now;
static void seconds_merged(struct stint_ack *a)
{
    uint64_t k = merged_now <= a->stored ? merged_now : a->stored;
    a->stored -= k;
    a->duplicates += k;
}

/* S45 broken: a replayed legacy payload is stored again. */
static void legacy_restored(struct stint_ack *a)
{
    a->stored += a->duplicates;
    a->duplicates = 0;
}

/* The key table: returns the index of key (any auth when auth is NULL), or -1. */
static long find_key(const char *key, const char *auth, bool other_auth)
{
    size_t i;

    for (i = 0; i < g.n_keys; i++) {
        if (strcmp(g.keys[i], key) != 0)
            continue;
        if (!other_auth && strcmp(g.auths[i], auth) == 0)
            return (long)i;
        if (other_auth && strcmp(g.auths[i], auth) != 0)
            return (long)i;
    }
    return -1;
}

static void remember_key(const char *key, const char *auth)
{
    if (g.n_keys < KEYS_MAX && find_key(key, auth, false) < 0) {
        g.keys[g.n_keys] = strdup(key);
        g.auths[g.n_keys] = strdup(auth);
        if (g.keys[g.n_keys] && g.auths[g.n_keys])
            g.n_keys++;
    }
}

static void serve(struct MHD_Connection *c, const char *method, const char *url,
                  const struct conn *cn, struct stint_response *rs)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    struct stint_request rq;
    struct pre p;
    char mt[128], alias_auth[300];
    bool post = strcmp(method, "POST") == 0, batches = strcmp(url, "/v1/batches") == 0;
    bool legacy = post && strcmp(url, "/v1/legacy") == 0;
    bool known = false;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.path = url;
    rq.content_type = ct;
    rq.content_encoding = ce;
    rq.authorization = auth;
    rq.idempotency_key = key;
    rq.legacy_agent_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, STINT_LEGACY_AGENT_HEADER);
    rq.legacy_seqs = MHD_lookup_connection_value(c, MHD_HEADER_KIND, STINT_LEGACY_SEQS_HEADER);
    rq.body = cn->body.data;
    rq.body_len = cn->body.len;
    rq.body_over_limit = cn->over;
    rq.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    media_type(ct, mt, sizeof(mt));
    predecode(mt, ce, cn->body.data, cn->body.len, &p);
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        known = stint_tokens_lookup(g.tokens, auth + 7, strlen(auth + 7)) != NULL;
    snprintf(alias_auth, sizeof(alias_auth), "Bearer %s", g.alias);

    /* before the handler */
    if (g.throttle_file && access(g.throttle_file, F_OK) == 0) {
        stint_response_error(rs, 503, "throttled", "the throttle file exists");
        if (!breaking("S37"))
            snprintf(rs->retry_after, sizeof(rs->retry_after), "%s",
                     breaking("S36") ? "in two seconds" : "2");
        return;
    }
    if (breaking("S14") && !auth)
        rq.authorization = alias_auth;
    if (breaking("S15") && post && auth && strncasecmp(auth, "Bearer ", 7) == 0 && !known)
        rq.authorization = alias_auth;
    if (breaking("S02") && strcmp(mt, "application/protobuf") == 0) {
        stint_response_error(rs, 415, "unsupported_media_type", "broken: no alias");
        return;
    }
    if (breaking("S06") && ct && strchr(ct, ';')) {
        stint_response_error(rs, 415, "unsupported_media_type", "broken: no parameters");
        return;
    }
    if (breaking("S16") && strcmp(mt, "text/plain") == 0) {
        stint_response_error(rs, 400, "bad_batch", "broken: 400 instead of 415");
        return;
    }
    if (breaking("S17") && ce && strcasecmp(ce, "br") == 0) {
        stint_response_error(rs, 400, "bad_batch", "broken: 400 instead of 415");
        return;
    }
    if (breaking("S42") && strcmp(url, "/v1/legacy") == 0) {
        stint_response_error(rs, 404, "not_found", "broken: no legacy endpoint");
        return;
    }
    if (breaking("S33") && strcmp(url, "/v1/health") == 0) {
        stint_response_error(rs, 404, "not_found", "broken: no health");
        return;
    }
    if (strcmp(url, "/v1/data") == 0 && strcmp(method, "DELETE") == 0 &&
        ((breaking("S39") && known) || (breaking("S40") && !known))) {
        rs->status = 200;
        rs->content_type = "application/json";
        stint_buf_append_str(&rs->body, "{\"deletedRecords\":\"0\"}");
        return;
    }
    if (breaking("S44") && rq.legacy_agent_id && rq.legacy_seqs)
        rq.legacy_agent_id = rq.legacy_seqs = NULL; /* every legacy record is the account's */
    if (breaking("S46") && p.decoded && p.unknown_kinds) {
        stint_response_error(rs, 400, "bad_batch", "broken: a kind this server does not know");
        return;
    }
    if (breaking("S47") && post && batches && key && auth && find_key(key, auth, false) >= 0 &&
        strcmp(key, g.last_key) != 0)
        rq.idempotency_key = NULL; /* only the latest Ack is kept */
    if (breaking("S38") && post && batches && key && auth && find_key(key, auth, true) >= 0) {
        stint_response_error(rs, 409, "idempotency_conflict", "broken: keys shared by accounts");
        return;
    }

    stint_handler_serve(g.handler, &rq, rs);

    /* after the handler: answers that should have been refusals */
    if (rs->status != 200) {
        if ((breaking("S20") && error_code_is(rs, "bad_gzip")) ||
            (breaking("S11") && error_code_is(rs, "idempotency_conflict")) ||
            (breaking("S21") && p.decoded && !p.json && p.failed && p.code != STINT_EUTF8 &&
             !agent_id_error(&p)) ||
            (breaking("S22") && p.decoded && p.json && p.failed) ||
            (breaking("S23") && p.decoded && p.failed && p.code == STINT_EUTF8) ||
            (breaking("S24") && ((p.decoded && p.failed && agent_id_error(&p)) ||
                                 error_code_is(rs, "missing_agent_id"))) ||
            (breaking("S41") && error_code_is(rs, "bad_idempotency_key"))) {
            empty_ack(rs, p.json);
            return;
        }
        if (breaking("S31") && rs->status >= 400) {
            stint_buf_reset(&rs->body);
            stint_buf_append_str(&rs->body, "{\"error\":{\"code\":\"broken\"}}");
        }
        if (breaking("S32"))
            rs->www_authenticate = false;
        if (breaking("S34") && rs->status == 405) {
            rs->allow = NULL;
            stint_response_error(rs, 404, "not_found", "broken: 404 instead of 405");
        }
        if (breaking("S35") && rs->status == 404) {
            rs->status = 200;
            stint_buf_reset(&rs->body);
            stint_buf_append_str(&rs->body, "{}");
        }
        return;
    }

    /* after the handler: 200s that should have been something else */
    if (post && batches && key && auth) {
        bool seen = find_key(key, auth, false) >= 0, latest = strcmp(key, g.last_key) == 0;
        remember_key(key, auth);
        snprintf(g.last_key, sizeof(g.last_key), "%s", key);
        if (breaking("S09") && seen && latest) {
            edit_ack(rs, replay_fresh);
            return;
        }
    }
    if (breaking("S01") && strcmp(mt, "application/x-protobuf") == 0) {
        struct stint_ack a;
        if (stint_pb_decode_ack(rs->body.data, rs->body.len, &a, NULL, NULL) == STINT_OK) {
            stint_buf_reset(&rs->body);
            stint_json_encode_ack(&a, &rs->body);
            rs->content_type = "application/json";
            stint_ack_free(&a);
        }
    }
    if (breaking("S03") && strcmp(mt, "application/json") == 0)
        rs->content_type = "text/plain";
    if ((breaking("S04") && ce && strcmp(mt, "application/json") != 0) ||
        (breaking("S05") && ce && strcmp(mt, "application/json") == 0) ||
        (breaking("S08") && p.decoded && !p.failed && p.records == 0) ||
        (breaking("S26") && p.decoded && !p.json && p.unknown > 0) ||
        (breaking("S27") && p.decoded && p.json && p.unknown > 0) ||
        (breaking("S28") && p.json && cn->body.data &&
         memmem(cn->body.data, cn->body.len, "\"startMs\":1", 11)) ||
        (breaking("S29") && p.json && cn->body.data &&
         memmem(cn->body.data, cn->body.len, "\"start_ms\"", 10))) {
        stint_response_error(rs, 400, "bad_batch", "broken: %s refused", g.brk);
        return;
    }
    if (breaking("S07") && p.has_current)
        edit_ack(rs, add_current);
    if (breaking("S10"))
        edit_ack(rs, dups_stored);
    if (breaking("S12"))
        edit_ack(rs, good_lost);
    if (breaking("S13"))
        edit_ack(rs, codes_lost);
    if (breaking("S48"))
        edit_ack(rs, order_ignored);
    if (legacy && !rq.legacy_agent_id && !key && breaking("S43") && p.same_second) {
        merged_now = p.same_second;
        edit_ack(rs, seconds_merged);
    }
    if (legacy && !rq.legacy_agent_id && key && breaking("S45"))
        edit_ack(rs, legacy_restored);
    if (breaking("S30") && batches && rs->body.len && rs->body.data[0] == '{') {
        struct stint_ack a;
        if (stint_json_decode_ack((const char *)rs->body.data, rs->body.len, &a, NULL, NULL) ==
            STINT_OK) {
            stint_buf_reset(&rs->body);
            stint_buf_printf(&rs->body, "{\"ackedSeq\":%llu,\"stored\":%llu}",
                             (unsigned long long)a.acked_seq, (unsigned long long)a.stored);
            stint_ack_free(&a);
        }
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct conn *cn = *con_cls;
    struct stint_response rs;
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)cls;
    (void)version;
    if (!cn) {
        cn = calloc(1, sizeof(*cn));
        if (!cn)
            return MHD_NO;
        cn->body.max = g.max_body;
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
    memset(&rs, 0, sizeof(rs));
    serve(c, method, url, cn, &rs);
    r = MHD_create_response_from_buffer(rs.body.len, rs.body.data, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        stint_response_free(&rs);
        return MHD_NO;
    }
    if (rs.content_type)
        MHD_add_response_header(r, "Content-Type", rs.content_type);
    if (rs.allow)
        MHD_add_response_header(r, "Allow", rs.allow);
    if (rs.www_authenticate)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"stint\"");
    if (rs.retry_after[0])
        MHD_add_response_header(r, "Retry-After", rs.retry_after);
    if (rs.legacy_identity)
        MHD_add_response_header(r, STINT_LEGACY_IDENTITY_HEADER, rs.legacy_identity);
    ret = MHD_queue_response(c, (unsigned)rs.status, r);
    MHD_destroy_response(r);
    stint_response_free(&rs);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *cn = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (cn) {
        stint_buf_free(&cn->body);
        free(cn);
        *con_cls = NULL;
    }
}

static bool parse_size(const char *s, size_t *out)
{
    char *end = NULL;
    unsigned long long v;

    errno = 0;
    v = strtoull(s ? s : "", &end, 10);
    if (!s || errno || !end || *end || v == 0)
        return false;
    *out = (size_t)v;
    return true;
}

/* The first token of the tokens file: the one unauthenticated requests are let in as. */
static bool first_token(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[512];
    bool ok = false;

    if (!f)
        return false;
    while (!ok && fgets(line, sizeof(line), f)) {
        char *sp;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        sp = strchr(line, ' ');
        if (sp && (size_t)(sp - line) < cap) {
            memcpy(out, line, (size_t)(sp - line));
            out[sp - line] = '\0';
            ok = true;
        }
    }
    fclose(f);
    return ok;
}

int main(int argc, char **argv)
{
    const char *listen = NULL, *port_file = NULL, *data = NULL, *tokens_path = NULL;
    struct stint_handler_opts ho;
    struct stint_store_opts so;
    struct stint_store *store = NULL;
    struct stint_tokens *tokens = NULL;
    struct stint_error err;
    struct sockaddr_storage sa;
    struct MHD_Daemon *d = NULL;
    const union MHD_DaemonInfo *info;
    size_t max_body = 0, max_decoded = 0, max_records = 0, i;
    char alias[256];
    bool loopback = false;
    sigset_t sigs;
    int sig, a, status = 1;
    FILE *f;

    memset(&g, 0, sizeof(g));
    stint_error_clear(&err);
    for (a = 1; a + 1 < argc; a += 2) {
        const char *o = argv[a], *v = argv[a + 1];
        if (strcmp(o, "--listen") == 0)
            listen = v;
        else if (strcmp(o, "--port-file") == 0)
            port_file = v;
        else if (strcmp(o, "--data") == 0)
            data = v;
        else if (strcmp(o, "--tokens") == 0)
            tokens_path = v;
        else if (strcmp(o, "--break") == 0)
            g.brk = v;
        else if (strcmp(o, "--throttle-file") == 0)
            g.throttle_file = v;
        else if (strcmp(o, "--max-body") == 0 && parse_size(v, &max_body))
            continue;
        else if (strcmp(o, "--max-decoded") == 0 && parse_size(v, &max_decoded))
            continue;
        else if (strcmp(o, "--max-records") == 0 && parse_size(v, &max_records))
            continue;
        else {
            fprintf(stderr, "broken_server: bad option %s %s\n", o, v);
            return 2;
        }
    }
    if (a != argc || !listen || !port_file || !data || !tokens_path ||
        !first_token(tokens_path, alias, sizeof(alias))) {
        fprintf(stderr, "usage: broken_server --listen 127.0.0.1:0 --port-file F --data DIR "
                        "--tokens FILE [--break CASE-ID] [--throttle-file F] [--max-body N] "
                        "[--max-decoded N] [--max-records N]\n");
        return 2;
    }
    g.alias = alias;
    if (stint_server_parse_listen(listen, &sa, &loopback, &err) != STINT_OK || !loopback) {
        fprintf(stderr, "broken_server: --listen must be a loopback address\n");
        return 2;
    }
    if (stint_tokens_load(tokens_path, &tokens, &err) != STINT_OK)
        goto fail;
    g.tokens = tokens;
    mkdir(data, 0700);
    memset(&so, 0, sizeof(so));
    so.dir = data;
    if (stint_store_open(&so, &store, &err) != STINT_OK)
        goto fail;
    memset(&ho, 0, sizeof(ho));
    ho.store = store;
    ho.tokens = tokens;
    ho.max_body = max_body;
    ho.max_decoded = max_decoded;
    ho.max_records = max_records;
    if (breaking("S18"))
        ho.max_body = (size_t)1 << 30;
    if (breaking("S19"))
        ho.max_decoded = (size_t)1 << 30;
    if (breaking("S25"))
        ho.max_records = 10000000;
    g.max_body = (ho.max_body ? ho.max_body : STINT_COLLECTOR_MAX_BODY) + 1;
    if (stint_handler_create(&ho, &g.handler) != STINT_OK)
        goto cleanup;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "broken_server: cannot listen on %s\n", listen);
        goto cleanup;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
        f = fopen(tmp, "w");
        if (!f || !info)
            goto cleanup;
        fprintf(f, "%u\n", (unsigned)info->port);
        if (fclose(f) != 0 || rename(tmp, port_file) != 0)
            goto cleanup;
    }
    printf("broken_server: http on port %u, breaking %s\n", (unsigned)info->port,
           g.brk ? g.brk : "nothing");
    fflush(stdout);
    sigwait(&sigs, &sig);
    status = 0;
    goto cleanup;
fail:
    fprintf(stderr, "broken_server: %s\n", err.msg);
cleanup:
    if (d)
        MHD_stop_daemon(d);
    stint_handler_destroy(g.handler);
    stint_store_close(store);
    stint_tokens_destroy(tokens);
    for (i = 0; i < g.n_keys; i++) {
        free(g.keys[i]);
        free(g.auths[i]);
    }
    return status;
}
