/* fuzz_collector_request.c — the collector's request path without sockets: a header block and a
 * body, straight into stint_handler_serve() with a real LevelDB store (in a temporary folder,
 * sync off) and two accounts.
 *
 * Input: "METHOD PATH\nName: value\n...\n\n" then the body, as raw bytes (the header lines the
 * handler reads: Content-Type, Content-Encoding, Authorization, Idempotency-Key, and for
 * /v1/legacy Stint-Agent-Id and Stint-Seqs (spec/PROTOCOL.md §6.10); "Token: alice"
 * or "Token: bob" stands for that account's bearer token). Without a blank line the whole input
 * is a body POSTed to /v1/batches as protobuf (first byte even) or JSON (odd), as alice.
 *
 * Checked, whatever the input:
 *   - the status is one the spec defines for the collector, and never 500 (the store is healthy);
 *   - every refusal has an error body that is JSON: {"error":{"code":"...","message":"..."}};
 *   - a 200 on a batch carries an Ack that decodes in the answer's encoding, within limits;
 *   - the same request again gets the same status and, for a batch, the same Ack byte for byte
 *     (the replay contract: stores nothing twice, answers the same).
 *
 * STINT_FUZZ_LIBS: stint_collector_core
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handler.h"
#include "invariants.h"
#include "store.h"
#include "tokens.h"

#define ALICE "alice-token-0123456789"
#define BOB "bob-token-abcdefghijkl"

static struct stint_handler *handler;
static struct stint_store *store;
static struct stint_tokens *tokens;
static char dir[64];

static void cleanup(void)
{
    char cmd[128];

    stint_handler_destroy(handler);
    stint_store_close(store);
    stint_tokens_destroy(tokens);
    if (dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "fuzz_collector_request: could not remove %s\n", dir);
    }
}

static void init(void)
{
    static const char text[] = ALICE " alice\n" BOB " bob\n";
    struct stint_store_opts so;
    struct stint_handler_opts ho;
    struct stint_error err;

    snprintf(dir, sizeof(dir), "/tmp/stint-fuzz-collector-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    memset(&so, 0, sizeof(so));
    so.dir = dir;
    so.sync = false;
    if (stint_store_open(&so, &store, &err) != STINT_OK ||
        stint_tokens_parse(text, strlen(text), &tokens, &err) != STINT_OK) {
        fprintf(stderr, "fuzz_collector_request: %s\n", err.msg);
        abort();
    }
    memset(&ho, 0, sizeof(ho));
    ho.store = store;
    ho.tokens = tokens;
    ho.max_body = 1 << 20;
    ho.max_decoded = 4 << 20; /* small enough that bombs are cheap to find */
    ho.max_records = 2000;
    if (stint_handler_create(&ho, &handler) != STINT_OK)
        abort();
    atexit(cleanup);
}

/* Copies a header value (to end of line) into out, NUL-terminated. */
static void copy_value(const char *v, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

struct parsed {
    char method[16], path[128], ctype[256], cenc[64], auth[300], idem[300], agent[80], seqs[4096];
    bool has_ctype, has_cenc, has_auth, has_idem, has_agent, has_seqs;
};

/* Parses the header block data[0..n). */
static void parse_head(const char *data, size_t n, struct parsed *p)
{
    size_t pos = 0, line_no = 0;

    while (pos < n) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        const char *colon = memchr(line, ':', len);

        pos += len + 1;
        if (line_no++ == 0) {
            const char *sp = memchr(line, ' ', len);
            if (sp) {
                copy_value(line, (size_t)(sp - line), p->method, sizeof(p->method));
                copy_value(sp + 1, len - (size_t)(sp - line) - 1, p->path, sizeof(p->path));
            }
            continue;
        }
        if (!colon)
            continue;
        {
            size_t kn = (size_t)(colon - line), vn = len - kn - 1;
            const char *v = colon + 1;
            if (kn == 12 && strncasecmp(line, "Content-Type", kn) == 0) {
                copy_value(v, vn, p->ctype, sizeof(p->ctype));
                p->has_ctype = true;
            } else if (kn == 16 && strncasecmp(line, "Content-Encoding", kn) == 0) {
                copy_value(v, vn, p->cenc, sizeof(p->cenc));
                p->has_cenc = true;
            } else if (kn == 13 && strncasecmp(line, "Authorization", kn) == 0) {
                copy_value(v, vn, p->auth, sizeof(p->auth));
                p->has_auth = true;
            } else if (kn == 15 && strncasecmp(line, "Idempotency-Key", kn) == 0) {
                copy_value(v, vn, p->idem, sizeof(p->idem));
                p->has_idem = true;
            } else if (kn == 14 && strncasecmp(line, "Stint-Agent-Id", kn) == 0) {
                copy_value(v, vn, p->agent, sizeof(p->agent));
                p->has_agent = true;
            } else if (kn == 10 && strncasecmp(line, "Stint-Seqs", kn) == 0) {
                copy_value(v, vn, p->seqs, sizeof(p->seqs));
                p->has_seqs = true;
            } else if (kn == 5 && strncasecmp(line, "Token", kn) == 0) {
                snprintf(p->auth, sizeof(p->auth), "Bearer %s",
                         vn >= 4 && memcmp(v + vn - 3, "bob", 3) == 0 ? BOB : ALICE);
                p->has_auth = true;
            }
        }
    }
}

/* Checks one response; returns how many records its Ack accounts for (0 for anything else). */
static uint64_t check_response(const struct stint_request *rq, const struct stint_response *rs)
{
    static const int allowed[] = {200, 400, 401, 404, 405, 409, 413, 415, 501, 503};
    uint64_t counted = 0;
    bool ok = false;
    size_t i;

    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        ok |= rs->status == allowed[i];
    STINT_FUZZ_CHECK(ok, "status %d is not one the spec defines (%s %s)", rs->status, rq->method,
                     rq->path);
    STINT_FUZZ_CHECK(rs->content_type != NULL, "a response without Content-Type");
    if (rs->status != 200) {
        static const char head[] = "{\"error\":{\"code\":\"";
        struct stint_error e;
        STINT_FUZZ_CHECK(rs->body.len > sizeof(head) &&
                             memcmp(rs->body.data, head, sizeof(head) - 1) == 0,
                         "status %d without the error body", rs->status);
        STINT_FUZZ_CHECK(stint_json_check_syntax((const char *)rs->body.data, rs->body.len, &e) ==
                             STINT_OK,
                         "error body is not JSON: %s", e.msg);
        STINT_FUZZ_CHECK(rs->status != 401 || rs->www_authenticate, "401 without a challenge");
        STINT_FUZZ_CHECK(rs->status != 405 || rs->allow, "405 without Allow");
        return 0;
    }
    if (strcmp(rq->path, "/v1/batches") == 0 || strcmp(rq->path, "/v1/legacy") == 0) {
        struct stint_ack ack;
        struct stint_error e;
        enum stint_err rc;
        bool pb = strcmp(rs->content_type, "application/json") != 0;

        rc = pb ? stint_pb_decode_ack(rs->body.data, rs->body.len, &ack, NULL, &e)
                : stint_json_decode_ack((const char *)rs->body.data, rs->body.len, &ack, NULL, &e);
        STINT_FUZZ_CHECK(rc == STINT_OK, "the Ack does not decode: %s", e.msg);
        stint_fuzz_check_ack(&ack);
        STINT_FUZZ_CHECK(ack.stored + ack.duplicates + ack.n_rejected <= 2000,
                         "an Ack counts more records than a batch may hold");
        STINT_FUZZ_CHECK(ack.server_time_ms == rq->now_ms || ack.stored == 0 ||
                             ack.server_time_ms <= rq->now_ms,
                         "an Ack from the future");
        counted = ack.stored + ack.duplicates + ack.n_rejected;
        stint_ack_free(&ack);
    }
    return counted;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parsed p;
    struct stint_request rq;
    struct stint_response first, again;
    const char *text = (const char *)data;
    const char *blank = NULL;
    uint64_t counted;
    size_t i;

    if (!handler)
        init();
    memset(&p, 0, sizeof(p));
    memset(&rq, 0, sizeof(rq));
    for (i = 0; i + 1 < size; i++)
        if (text[i] == '\n' && text[i + 1] == '\n') {
            blank = text + i;
            break;
        }
    if (blank) {
        parse_head(text, (size_t)(blank - text), &p);
        rq.body = (const uint8_t *)blank + 2;
        rq.body_len = size - (size_t)(blank - text) - 2;
    } else {
        snprintf(p.method, sizeof(p.method), "POST");
        snprintf(p.path, sizeof(p.path), "/v1/batches");
        snprintf(p.ctype, sizeof(p.ctype), "%s",
                 size && (data[0] & 1) ? "application/json" : "application/x-protobuf");
        snprintf(p.auth, sizeof(p.auth), "Bearer " ALICE);
        p.has_ctype = p.has_auth = true;
        rq.body = data;
        rq.body_len = size;
    }
    rq.method = p.method;
    rq.path = p.path;
    rq.content_type = p.has_ctype ? p.ctype : NULL;
    rq.content_encoding = p.has_cenc ? p.cenc : NULL;
    rq.authorization = p.has_auth ? p.auth : NULL;
    rq.idempotency_key = p.has_idem ? p.idem : NULL;
    rq.legacy_agent_id = p.has_agent ? p.agent : NULL;
    rq.legacy_seqs = p.has_seqs ? p.seqs : NULL;
    rq.now_ms = 1700000000000;

    STINT_FUZZ_CHECK(stint_handler_serve(handler, &rq, &first) == STINT_OK, "serve failed");
    counted = check_response(&rq, &first);
    if (strcmp(rq.method, "DELETE") != 0) {
        /* the replay contract */
        rq.now_ms = 1700000999000;
        STINT_FUZZ_CHECK(stint_handler_serve(handler, &rq, &again) == STINT_OK, "serve failed");
        check_response(&rq, &again);
        STINT_FUZZ_CHECK(again.status == first.status, "replay: status %d, then %d", first.status,
                         again.status);
        /* a batch without records keeps no Ack: only its server time may differ */
        if (first.status == 200 && strcmp(rq.path, "/v1/batches") == 0 && counted > 0)
            STINT_FUZZ_CHECK(again.body.len == first.body.len &&
                                 memcmp(again.body.data, first.body.data, first.body.len) == 0,
                             "replay: a different Ack");
        stint_response_free(&again);
    }
    stint_response_free(&first);
    return 0;
}
