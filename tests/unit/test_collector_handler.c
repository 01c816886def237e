/* Tests of collector/handler.c with collector/store.c: the protocol without sockets. One test
 * body, two stores: each test gets a fresh LevelDB in a temporary folder, or, when STINT_PG_URL
 * is set (ctest test_collector_handler_pg runs this under tests/support/with_postgres.sh), the
 * PostgreSQL store on that database, migrated and with both accounts emptied first. Two
 * accounts: alice, bob. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "handler.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "store.h"
#include "tokens.h"

#define ALICE "Bearer alice-token-0123456789"
#define BOB "Bearer bob-token-abcdefghijkl"
#define PB "application/x-protobuf"
#define JSON "application/json"

struct fx {
    char dir[64];
    struct stint_store *store;
    struct stint_tokens *tokens;
    struct stint_handler *h;
};

static void make_handler(struct fx *f, size_t max_body, size_t max_decoded, size_t max_records,
                         bool ack_only)
{
    struct stint_handler_opts o;

    stint_handler_destroy(f->h);
    memset(&o, 0, sizeof(o));
    o.store = f->store;
    o.tokens = f->tokens;
    o.max_body = max_body;
    o.max_decoded = max_decoded;
    o.max_records = max_records;
    o.ack_only = ack_only;
    assert_int_equal(stint_handler_create(&o, &f->h), STINT_OK);
}

static void open_store(struct fx *f)
{
    const char *pg = getenv("STINT_PG_URL");
    struct stint_store_opts so = {.dir = f->dir, .sync = false, .must_exist = false};
    struct stint_error e;

    if (pg && *pg) {
        so.dir = pg;
        so.migrate = true;
        so.ingest = getenv("STINT_PG_INGEST");
    }
    if (stint_store_open(&so, &f->store, &e) != STINT_OK)
        fail_msg("store: %s", e.msg);
}

/* PostgreSQL outlives a test: start each from empty accounts. */
static void empty_accounts(struct fx *f)
{
    static const char *const accounts[] = {"alice", "bob"};
    struct stint_error e;
    uint64_t n;
    size_t i;

    if (!getenv("STINT_PG_URL"))
        return;
    for (i = 0; i < 2; i++)
        if (stint_store_delete_account(f->store, accounts[i], &n, &e) != STINT_OK)
            fail_msg("emptying %s: %s", accounts[i], e.msg);
}

static int setup(void **state)
{
    static const char tokens[] = "alice-token-0123456789 alice\nbob-token-abcdefghijkl bob\n";
    struct fx *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-coll-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    open_store(f);
    empty_accounts(f);
    assert_int_equal(stint_tokens_parse(tokens, strlen(tokens), &f->tokens, NULL), STINT_OK);
    make_handler(f, 0, 0, 0, false);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];

    stint_handler_destroy(f->h);
    stint_store_close(f->store);
    stint_tokens_destroy(f->tokens);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* n valid records from seq first. */
static struct stint_record *records(size_t n, uint64_t first)
{
    struct stint_record *r = calloc(n ? n : 1, sizeof(*r));
    size_t i;
    for (i = 0; i < n; i++) {
        stint_record_clear(&r[i]);
        r[i].seq = first + i;
        r[i].start_ms = 1700000000000 + (int64_t)i * 1000;
        r[i].end_ms = r[i].start_ms + 900;
        r[i].kind = STINT_KIND_ACTIVE;
        stint_record_set(&r[i], STINT_FIELD_APP, "firefox", 7);
        stint_record_set(&r[i], STINT_FIELD_TITLE, "Stint \xe2\x80\x94 docs", 14);
    }
    return r;
}

static void encode(bool json, uint8_t agent, const struct stint_record *r, size_t n,
                   struct stint_buf *out)
{
    struct stint_batch head;
    struct stint_record_array arr = {r, n, 0};
    struct stint_record_iter it = stint_record_array_iter(&arr);

    stint_batch_clear(&head);
    memset(head.agent_id, agent, STINT_AGENT_ID_LEN);
    head.agent_id_len = agent ? STINT_AGENT_ID_LEN : 0;
    stint_batch_set_version(&head, "1.0", 3);
    head.now_ms = 1700000100000;
    stint_buf_reset(out);
    if (json)
        assert_int_equal(stint_json_encode_batch(&head, &it, out), STINT_OK);
    else
        assert_int_equal(stint_pb_encode_batch(&head, &it, out), STINT_OK);
}

static int post(struct fx *f, const char *path, const char *auth, const char *ctype,
                const char *enc, const char *idem, const struct stint_buf *body,
                struct stint_response *rs)
{
    struct stint_request rq;

    memset(&rq, 0, sizeof(rq));
    rq.method = "POST";
    rq.path = path;
    rq.authorization = auth;
    rq.content_type = ctype;
    rq.content_encoding = enc;
    rq.idempotency_key = idem;
    rq.body = body ? body->data : NULL;
    rq.body_len = body ? body->len : 0;
    rq.now_ms = 1700000200000;
    stint_response_free(rs);
    assert_int_equal(stint_handler_serve(f->h, &rq, rs), STINT_OK);
    return rs->status;
}

static int post_legacy(struct fx *f, const char *agent, const char *seqs, const char *text,
                       struct stint_response *rs);

static void ack_of(const struct stint_response *rs, bool json, struct stint_ack *a)
{
    assert_int_equal(rs->status, 200);
    if (json)
        assert_int_equal(
            stint_json_decode_ack((const char *)rs->body.data, rs->body.len, a, NULL, NULL),
            STINT_OK);
    else
        assert_int_equal(stint_pb_decode_ack(rs->body.data, rs->body.len, a, NULL, NULL), STINT_OK);
}

/* The error code of an error body. */
static void assert_error(const struct stint_response *rs, int status, const char *code)
{
    char want[96];
    if (rs->status != status)
        fail_msg("status %d, want %d: %.*s", rs->status, status, (int)rs->body.len,
                 (const char *)rs->body.data);
    snprintf(want, sizeof(want), "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    assert_string_equal(rs->content_type, "application/json");
    assert_true(rs->body.len > strlen(want));
    assert_memory_equal(rs->body.data, want, strlen(want));
}

static enum stint_err count_fn(void *ctx, const struct stint_stored *st)
{
    (void)st;
    (*(size_t *)ctx)++;
    return STINT_OK;
}

static size_t stored_count(struct fx *f, const char *account)
{
    size_t n = 0;
    assert_int_equal(stint_store_dump(f->store, account, 0, count_fn, &n, NULL), STINT_OK);
    return n;
}

static void test_health_and_routes(void **state)
{
    struct fx *f = *state;
    struct stint_request rq;
    struct stint_response rs = {0};

    memset(&rq, 0, sizeof(rq));
    rq.method = "GET";
    rq.path = "/v1/health";
    assert_int_equal(stint_handler_serve(f->h, &rq, &rs), STINT_OK);
    assert_int_equal(rs.status, 200);
    stint_response_free(&rs);
    rq.method = "POST";
    stint_handler_serve(f->h, &rq, &rs);
    assert_error(&rs, 405, "method_not_allowed");
    assert_string_equal(rs.allow, "GET, HEAD");
    stint_response_free(&rs);
    rq.method = "GET";
    rq.path = "/v1/batches";
    stint_handler_serve(f->h, &rq, &rs);
    assert_error(&rs, 405, "method_not_allowed");
    stint_response_free(&rs);
    rq.path = "/v2/anything";
    stint_handler_serve(f->h, &rq, &rs);
    assert_error(&rs, 404, "not_found");
    stint_response_free(&rs);
}

static void test_auth(void **state)
{
    static const char *const bad[] = {
        NULL,          "Basic YWxpY2U6eA==",           "Bearer",
        "Bearer nope", "Bearer alice-token-012345678", "Bearer alice-token-0123456789x"};
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r = records(3, 1);
    struct stint_response rs = {0};
    size_t i;

    encode(false, 1, r, 3, &b);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        post(f, "/v1/batches", bad[i], PB, NULL, NULL, &b, &rs);
        assert_error(&rs, 401, "unauthorized");
        assert_true(rs.www_authenticate);
    }
    assert_int_equal(stored_count(f, "alice"), 0);
    assert_int_equal(
        post(f, "/v1/batches", "bearer  alice-token-0123456789 ", PB, NULL, NULL, &b, &rs), 200);
    assert_int_equal(stored_count(f, "alice"), 3);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
}

/* Both encodings and both protobuf media types; the Ack comes back in the request's. */
static void test_store_pb_and_json(void **state)
{
    static const struct {
        const char *ctype;
        bool json;
    } cases[] = {
        {PB, false}, {"application/protobuf", false}, {"Application/JSON; charset=utf-8", true}};
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_response rs = {0};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stint_record *r = records(100, 1 + i * 100);
        struct stint_ack a;
        encode(cases[i].json, (uint8_t)(i + 1), r, 100, &b);
        post(f, "/v1/batches", ALICE, cases[i].ctype, NULL, NULL, &b, &rs);
        ack_of(&rs, cases[i].json, &a);
        assert_int_equal(a.acked_seq, 100 + i * 100);
        assert_int_equal(a.stored, 100);
        assert_int_equal(a.duplicates, 0);
        assert_int_equal(a.n_rejected, 0);
        assert_int_equal(a.server_time_ms, 1700000200000);
        if (!cases[i].json)
            assert_string_equal(rs.content_type, cases[i].ctype);
        else
            assert_string_equal(rs.content_type, "application/json");
        stint_ack_free(&a);
        free(r);
    }
    assert_int_equal(stored_count(f, "alice"), 300);
    stint_response_free(&rs);
    stint_buf_free(&b);
}

static void gzip_buf(const struct stint_buf *in, struct stint_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    stint_buf_reset(out);
    assert_int_equal(stint_buf_reserve(out, deflateBound(&zs, (uLong)in->len) + 64), STINT_OK);
    zs.next_in = in->data;
    zs.avail_in = (uInt)in->len;
    zs.next_out = out->data;
    zs.avail_out = (uInt)(out->cap);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out->len = zs.total_out;
    deflateEnd(&zs);
}

static void test_gzip_and_bomb(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0}, z = {0}, big = {0};
    struct stint_record *r = records(50, 1);
    struct stint_response rs = {0};
    struct stint_ack a;

    encode(false, 1, r, 50, &b);
    gzip_buf(&b, &z);
    post(f, "/v1/batches", ALICE, PB, "gzip", NULL, &z, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 50);
    stint_ack_free(&a);
    /* broken gzip */
    z.len -= 4;
    post(f, "/v1/batches", ALICE, PB, "gzip", NULL, &z, &rs);
    assert_error(&rs, 400, "bad_gzip");
    /* a bomb: 40 MiB of zeros, about 40 KiB compressed, over the 1 MiB decoded cap */
    make_handler(f, 0, 1 << 20, 0, false);
    assert_int_equal(stint_buf_reserve(&big, (size_t)40 << 20), STINT_OK);
    memset(big.data, 0, (size_t)40 << 20);
    big.len = (size_t)40 << 20;
    gzip_buf(&big, &z);
    assert_true(z.len < (1 << 20));
    post(f, "/v1/batches", ALICE, PB, "gzip", NULL, &z, &rs);
    assert_error(&rs, 413, "decoded_too_large");
    /* unknown content coding */
    post(f, "/v1/batches", ALICE, PB, "br", NULL, &b, &rs);
    assert_error(&rs, 415, "unsupported_encoding");
    assert_int_equal(stored_count(f, "alice"), 50);
    stint_response_free(&rs);
    stint_buf_free(&b);
    stint_buf_free(&z);
    stint_buf_free(&big);
    free(r);
}

/* A replayed batch stores nothing twice and gets the same Ack, byte for byte. */
static void test_replay_same_ack(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0}, first = {0};
    struct stint_record *r = records(20, 1);
    struct stint_response rs = {0};
    struct stint_request rq;
    static const char *const keys[] = {NULL, "0101-1-20"};
    size_t k;

    r[4].end_ms = 1; /* one bad record: the kept Ack has a rejection too */
    encode(false, 1, r, 20, &b);
    for (k = 0; k < 2; k++) {
        post(f, "/v1/batches", ALICE, PB, NULL, keys[k], &b, &rs);
        assert_int_equal(rs.status, 200);
        stint_buf_reset(&first);
        stint_buf_append(&first, rs.body.data, rs.body.len);
        /* later, with another server clock: the same Ack */
        memset(&rq, 0, sizeof(rq));
        rq.method = "POST";
        rq.path = "/v1/batches";
        rq.authorization = ALICE;
        rq.content_type = PB;
        rq.idempotency_key = keys[k];
        rq.body = b.data;
        rq.body_len = b.len;
        rq.now_ms = 1800000000000;
        stint_response_free(&rs);
        stint_handler_serve(f->h, &rq, &rs);
        assert_int_equal(rs.status, 200);
        assert_int_equal(rs.body.len, first.len);
        assert_memory_equal(rs.body.data, first.data, first.len);
    }
    assert_int_equal(stored_count(f, "alice"), 19);
    /* the same key naming a different batch */
    r[0].seq = 100;
    encode(false, 1, r, 20, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, "0101-1-20", &b, &rs);
    assert_error(&rs, 409, "idempotency_conflict");
    /* a bad key */
    post(f, "/v1/batches", ALICE, PB, NULL, "has space", &b, &rs);
    assert_error(&rs, 400, "bad_idempotency_key");
    stint_response_free(&rs);
    stint_buf_free(&b);
    stint_buf_free(&first);
    free(r);
}

/* Overlapping batches without keys: the overlap counts as duplicates. */
static void test_dedup_overlap(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r1 = records(10, 1), *r2 = records(10, 6);
    struct stint_response rs = {0};
    struct stint_ack a;

    encode(true, 9, r1, 10, &b);
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 10);
    stint_ack_free(&a);
    encode(true, 9, r2, 10, &b);
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 5);
    assert_int_equal(a.duplicates, 5);
    assert_int_equal(a.acked_seq, 15);
    stint_ack_free(&a);
    /* a seq twice in one batch: stored once */
    r1[1].seq = 1;
    r1[2].seq = 100;
    encode(true, 9, r1, 3, &b);
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 1);
    assert_int_equal(a.duplicates, 2);
    stint_ack_free(&a);
    /* another agent's seqs are its own */
    encode(true, 8, r2, 10, &b);
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 10);
    stint_ack_free(&a);
    /* an empty batch learns the agent's highest stored seq */
    encode(true, 9, r2, 0, &b);
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.acked_seq, 100);
    assert_int_equal(a.stored, 0);
    stint_ack_free(&a);
    assert_int_equal(stored_count(f, "alice"), 26);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r1);
    free(r2);
}

static void test_partial_rejection(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r = records(6, 1);
    struct stint_response rs = {0};
    struct stint_ack a;

    r[1].end_ms = 0;             /* closed record without end */
    r[3].gap_count = 2;          /* gap_count off a gap */
    r[2].kind = 99;              /* a kind of a later v1.x: stored */
    r[4].kind = STINT_KIND_IDLE; /* idle with window strings */
    r[5].seq = 0;                /* no seq */
    encode(false, 1, r, 6, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 2);
    assert_int_equal(a.n_rejected, 4);
    assert_int_equal(a.rejected[0].seq, 2);
    assert_int_equal(a.rejected[0].code, STINT_REJECT_BAD_TIME);
    assert_int_equal(a.rejected[1].seq, 4);
    assert_int_equal(a.rejected[1].code, STINT_REJECT_BAD_KIND);
    assert_int_equal(a.rejected[2].code, STINT_REJECT_BAD_STRING);
    assert_int_equal(a.rejected[3].code, STINT_REJECT_BAD_SEQ);
    assert_true(a.rejected[0].reason_len > 0);
    assert_int_equal(a.acked_seq, 5);
    stint_ack_free(&a);
    assert_int_equal(stored_count(f, "alice"), 2);
    /* a rejected record is not held: sent again (another batch, no key), it is checked again and
     * rejected again, not counted as a duplicate (spec §6.8) */
    encode(false, 1, r + 1, 1, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.n_rejected, 1);
    assert_int_equal(a.rejected[0].seq, 2);
    assert_int_equal(a.duplicates, 0);
    assert_int_equal(a.stored, 0);
    stint_ack_free(&a);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
}

static void test_limits_and_bad_input(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0}, junk = {0};
    struct stint_record *r = records(11, 1);
    struct stint_response rs = {0};
    struct stint_request rq;

    make_handler(f, 4096, 0, 10, false);
    encode(false, 1, r, 11, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    assert_error(&rs, 413, "too_many_records");
    /* the record limit binds legacy payloads too: 11 closed records, and 11 seqs named */
    {
        struct stint_buf lj = {0};
        int k;
        stint_buf_append_str(&lj, "{\"now\":\"1\",\"version\":\"1\",\"log\":[");
        for (k = 0; k < 11; k++)
            stint_buf_printf(&lj,
                             "%s{\"app\":\"a\",\"path\":\"\",\"win\":\"\",\"url\":\"\","
                             "\"start\":\"%d\",\"end\":\"%d\"}",
                             k ? "," : "", 1700000000 + k, 1700000000 + k);
        stint_buf_append_str(&lj, "]}");
        stint_buf_append(&lj, "", 1);
        post_legacy(f, NULL, NULL, (const char *)lj.data, &rs);
        assert_error(&rs, 413, "too_many_records");
        post_legacy(f, "0123456789abcdef0123456789abcdef", "1-11", (const char *)lj.data, &rs);
        assert_error(&rs, 413, "too_many_records");
        stint_buf_free(&lj);
    }
    encode(false, 1, r, 10, &b);
    assert_int_equal(post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs), 200);
    stint_buf_reserve(&junk, 5000);
    memset(junk.data, 0x0a, 5000);
    junk.len = 5000;
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &junk, &rs);
    assert_error(&rs, 413, "body_too_large");
    memset(&rq, 0, sizeof(rq));
    rq.method = "POST";
    rq.path = "/v1/batches";
    rq.authorization = ALICE;
    rq.content_type = PB;
    rq.body_over_limit = true; /* the server stopped keeping it */
    stint_response_free(&rs);
    stint_handler_serve(f->h, &rq, &rs);
    assert_error(&rs, 413, "body_too_large");
    junk.len = 100;
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &junk, &rs);
    assert_error(&rs, 400, "bad_batch");
    stint_buf_reset(&junk);
    stint_buf_append_str(&junk, "{\"records\":[}");
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &junk, &rs);
    assert_error(&rs, 400, "bad_batch");
    post(f, "/v1/batches", ALICE, "text/plain", NULL, NULL, &b, &rs);
    assert_error(&rs, 415, "unsupported_media_type");
    post(f, "/v1/batches", ALICE, NULL, NULL, NULL, &b, &rs);
    assert_error(&rs, 415, "unsupported_media_type");
    encode(false, 0, r, 3, &b); /* no agent_id */
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    assert_error(&rs, 400, "missing_agent_id");
    assert_int_equal(stored_count(f, "alice"), 10);
    stint_response_free(&rs);
    stint_buf_free(&b);
    stint_buf_free(&junk);
    free(r);
}

/* One token never reads, writes or deletes another account's data. */
static void test_isolation_and_delete(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r = records(5, 1);
    struct stint_response rs = {0};
    struct stint_request rq;
    struct stint_ack a;

    encode(false, 1, r, 5, &b);
    assert_int_equal(post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs), 200);
    /* bob sends the very same batch (same agent_id and seqs): stored for bob, not a dup */
    post(f, "/v1/batches", BOB, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 5);
    stint_ack_free(&a);
    memset(&rq, 0, sizeof(rq));
    rq.method = "DELETE";
    rq.path = "/v1/data";
    rq.authorization = BOB;
    stint_response_free(&rs);
    stint_handler_serve(f->h, &rq, &rs);
    assert_int_equal(rs.status, 200);
    assert_int_equal(rs.body.len, strlen("{\"deletedRecords\":\"5\"}"));
    assert_memory_equal(rs.body.data, "{\"deletedRecords\":\"5\"}", rs.body.len);
    assert_int_equal(stored_count(f, "bob"), 0);
    assert_int_equal(stored_count(f, "alice"), 5);
    rq.authorization = NULL;
    stint_response_free(&rs);
    stint_handler_serve(f->h, &rq, &rs);
    assert_error(&rs, 401, "unauthorized");
    rq.authorization = ALICE;
    stint_response_free(&rs);
    stint_handler_serve(f->h, &rq, &rs);
    assert_int_equal(rs.status, 200);
    assert_int_equal(stored_count(f, "alice"), 0);
    /* after a delete the same batch is new again (its kept Ack went too) */
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 5);
    stint_ack_free(&a);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
}

static void test_ack_only(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r = records(7, 1);
    struct stint_response rs = {0};
    struct stint_ack a;

    make_handler(f, 0, 0, 0, true);
    encode(false, 1, r, 7, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 7);
    assert_int_equal(a.acked_seq, 7);
    stint_ack_free(&a);
    assert_int_equal(stored_count(f, "alice"), 0);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
}

/* What is acknowledged is there after the store is closed and opened again, byte for byte. */
static enum stint_err first_fn(void *ctx, const struct stint_stored *st)
{
    struct stint_stored *out = ctx;
    if (out->rec.seq == 0)
        *out = *st;
    return STINT_OK;
}

static void test_survives_reopen(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r = records(30, 1);
    struct stint_response rs = {0};
    struct stint_stored *st = calloc(1, sizeof(*st));

    encode(false, 3, r, 30, &b);
    assert_int_equal(post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs), 200);
    stint_handler_destroy(f->h);
    f->h = NULL;
    stint_store_close(f->store);
    open_store(f);
    make_handler(f, 0, 0, 0, false);
    assert_int_equal(stored_count(f, "alice"), 30);
    assert_int_equal(stint_store_dump(f->store, "alice", 0, first_fn, st, NULL), STINT_OK);
    assert_true(stint_record_equal(&st->rec, &r[0]));
    assert_int_equal(st->received_ms, 1700000200000);
    assert_int_equal(st->client_now_ms, 1700000100000);
    assert_int_equal(st->agent_id[0], 3);
    /* and a replay after the restart still gets the kept Ack */
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    {
        struct stint_ack a;
        ack_of(&rs, false, &a);
        assert_int_equal(a.stored, 30);
        stint_ack_free(&a);
    }
    assert_int_equal(stored_count(f, "alice"), 30);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
    free(st);
}

/* Threads replaying overlapping batches of one agent at once: each seq is stored once. */
struct racer {
    struct fx *f;
    int id;
};

static void *race(void *arg)
{
    struct racer *rc = arg;
    struct stint_buf b = {0};
    struct stint_response rs = {0};
    int i;

    for (i = 0; i < 20; i++) {
        struct stint_record *r = records(50, (uint64_t)(i * 25 + rc->id * 5 + 1));
        struct stint_request rq;
        encode(false, 5, r, 50, &b);
        memset(&rq, 0, sizeof(rq));
        rq.method = "POST";
        rq.path = "/v1/batches";
        rq.authorization = ALICE;
        rq.content_type = PB;
        rq.body = b.data;
        rq.body_len = b.len;
        stint_handler_serve(rc->f->h, &rq, &rs);
        if (rs.status != 200)
            abort();
        stint_response_free(&rs);
        free(r);
    }
    stint_buf_free(&b);
    return NULL;
}

static void test_concurrent_dedup(void **state)
{
    struct fx *f = *state;
    pthread_t t[4];
    struct racer rc[4];
    int i;

    for (i = 0; i < 4; i++) {
        rc[i].f = f;
        rc[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, race, &rc[i]), 0);
    }
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    /* seqs 1 .. 19*25+3*5+50 = 540, every one covered */
    assert_int_equal(stored_count(f, "alice"), 540);
}

/* Seqs collected by dump, to check order and completeness. */
struct seqs {
    uint64_t v[256];
    size_t n;
};

static enum stint_err seq_fn(void *ctx, const struct stint_stored *st)
{
    struct seqs *q = ctx;
    if (q->n < 256)
        q->v[q->n] = st->rec.seq;
    q->n++;
    return STINT_OK;
}

static uint64_t send_range(struct fx *f, uint64_t first, size_t n, uint64_t bad_seq, uint64_t *dups)
{
    struct stint_buf b = {0};
    struct stint_record *r = records(n, first);
    struct stint_response rs = {0};
    struct stint_ack a;
    uint64_t stored;
    size_t i;

    for (i = 0; i < n; i++)
        if (r[i].seq == bad_seq)
            r[i].end_ms = 1; /* rejected: leaves a hole */
    encode(false, 7, r, n, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    stored = a.stored;
    if (dups)
        *dups = a.duplicates;
    stint_ack_free(&a);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
    return stored;
}

/* Out-of-order ranges, holes left by rejections and filled later: every seq once, in order. */
static void test_holes_and_gaps(void **state)
{
    struct fx *f = *state;
    struct seqs q;
    uint64_t dups = 0;
    size_t i;

    assert_int_equal(send_range(f, 20, 11, 25, NULL), 10); /* 20..30 without 25 */
    assert_int_equal(send_range(f, 1, 10, 0, NULL), 10);   /* 1..10, before the first chunk */
    assert_int_equal(send_range(f, 5, 25, 0, &dups), 10);  /* 5..29: 11..19 and 25 are new */
    assert_int_equal(dups, 15);
    assert_int_equal(send_range(f, 40, 5, 0, NULL), 5);   /* 40..44 after a gap */
    assert_int_equal(send_range(f, 28, 14, 0, &dups), 9); /* 28..41: 31..39 new */
    assert_int_equal(dups, 5);
    assert_int_equal(send_range(f, 1, 44, 0, &dups), 0); /* everything again */
    assert_int_equal(dups, 44);
    memset(&q, 0, sizeof(q));
    assert_int_equal(stint_store_dump(f->store, "alice", 0, seq_fn, &q, NULL), STINT_OK);
    assert_int_equal(q.n, 44);
    for (i = 0; i < q.n; i++)
        assert_int_equal(q.v[i], i + 1);
    memset(&q, 0, sizeof(q));
    assert_int_equal(stint_store_dump(f->store, "alice", 30, seq_fn, &q, NULL), STINT_OK);
    assert_int_equal(q.n, 14);
    assert_int_equal(q.v[0], 31);
}

/* POST /v1/legacy as legacy JSON, with the identity headers when agent is not NULL. */
static int post_legacy(struct fx *f, const char *agent, const char *seqs, const char *text,
                       struct stint_response *rs)
{
    struct stint_request rq;

    memset(&rq, 0, sizeof(rq));
    rq.method = "POST";
    rq.path = "/v1/legacy";
    rq.authorization = ALICE;
    rq.content_type = JSON;
    rq.legacy_agent_id = agent;
    rq.legacy_seqs = seqs;
    rq.body = (const uint8_t *)text;
    rq.body_len = strlen(text);
    rq.now_ms = 1700000200000;
    stint_response_free(rs);
    assert_int_equal(stint_handler_serve(f->h, &rq, rs), STINT_OK);
    return rs->status;
}

/* The legacy payload without identity headers: the content identity (§6.8). */
static void test_legacy(void **state)
{
    static const char form[] =
        "now=1314172183&version=1.0.4289&log%5B0%5D%5Bapp%5D=firefox&log%5B0%5D%5Bpath%5D="
        "%2Fusr%2Fbin%2Ffirefox&log%5B0%5D%5Bwin%5D=Stint&log%5B0%5D%5Burl%5D=&log%5B0%5D%5B"
        "start%5D=1314172181&log%5B0%5D%5Bend%5D=1314172183&log%5B1%5D%5Bapp%5D=xterm&log%5B1"
        "%5D%5Bpath%5D=&log%5B1%5D%5Bwin%5D=&log%5B1%5D%5Burl%5D=&log%5B1%5D%5Bstart%5D="
        "1314172183";
    /* the first record again (another payload: a later `now`), and a new one */
    static const char json[] =
        "{\"now\":\"1314172190\",\"version\":\"1.0.4289\",\"log\":[{\"app\":\"firefox\","
        "\"path\":\"\\/usr\\/bin\\/firefox\",\"win\":\"Stint\",\"url\":\"\",\"start\":"
        "\"1314172181\",\"end\":\"1314172183\"},{\"app\":\"vim\",\"path\":\"\",\"win\":\"\","
        "\"url\":\"\",\"start\":\"1314172185\",\"end\":\"1314172189\"}]}";
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_response rs = {0};
    struct stint_ack a;
    struct stint_stored *st = calloc(1, sizeof(*st));
    struct stint_record *want = calloc(1, sizeof(*want));

    stint_buf_append(&b, form, strlen(form));
    post(f, "/v1/legacy", ALICE, "application/x-www-form-urlencoded", NULL, NULL, &b, &rs);
    if (rs.status == 501) /* this build's codec has no legacy decoders */
        goto cleanup;
    ack_of(&rs, true, &a);
    assert_string_equal(rs.legacy_identity, "content");
    assert_int_equal(a.stored, 1);     /* the closed record */
    assert_int_equal(a.n_rejected, 0); /* the open one (no end) is `current`: not stored */
    stint_ack_free(&a);
    assert_int_equal(stint_store_dump(f->store, "alice", 0, first_fn, st, NULL), STINT_OK);
    assert_int_equal(st->agent_id[0], 0);
    assert_string_equal(st->rec.app, "firefox");
    /* seq is the content identity of exactly these fields */
    stint_record_clear(want);
    want->start_ms = 1314172181000;
    want->end_ms = 1314172183000;
    stint_record_set(want, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(want, STINT_FIELD_PATH, "/usr/bin/firefox", 16);
    stint_record_set(want, STINT_FIELD_TITLE, "Stint", 5);
    assert_int_equal(st->rec.seq, stint_legacy_content_seq(want, 0));
    /* the same record in another payload is a duplicate; the new one is stored */
    post_legacy(f, NULL, NULL, json, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 1);
    assert_int_equal(a.duplicates, 1);
    stint_ack_free(&a);
    assert_int_equal(stored_count(f, "alice"), 2);
    post(f, "/v1/legacy", ALICE, PB, NULL, NULL, &b, &rs);
    assert_error(&rs, 415, "unsupported_media_type");
cleanup:
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(want);
    free(st);
}

/* What the head alone decides, as a table: each refusal with its status and code, and the heads
 * that must go on to their body (health, a good batch head, a good DELETE head). */
static void test_check_head(void **state)
{
    static const struct {
        const char *method, *path, *auth, *ctype, *enc;
        bool has_length;
        uint64_t length;
        int want; /* 0: not refused */
        const char *code;
    } cases[] = {
        {"GET", "/v1/health", NULL, NULL, NULL, false, 0, 0, NULL},
        {"POST", "/v1/batches", ALICE, PB, NULL, true, 100, 0, NULL},
        {"POST", "/v1/batches", ALICE, JSON, "gzip", false, 0, 0, NULL},
        {"POST", "/v1/legacy", ALICE, "application/x-www-form-urlencoded", NULL, true, 9, 0, NULL},
        {"DELETE", "/v1/data", BOB, NULL, NULL, false, 0, 0, NULL},
        {"POST", "/v1/nowhere", ALICE, PB, NULL, true, 100, 404, "not_found"},
        {"GET", "/v1/batches", ALICE, NULL, NULL, false, 0, 405, "method_not_allowed"},
        {"POST", "/v1/data", BOB, NULL, NULL, false, 0, 405, "method_not_allowed"},
        {"POST", "/v1/batches", NULL, PB, NULL, true, 8u << 20, 401, "unauthorized"},
        {"POST", "/v1/batches", "Bearer nobody-knows-this-token", PB, NULL, true, 10, 401,
         "unauthorized"},
        {"DELETE", "/v1/data", "Basic YWxpY2U6eA==", NULL, NULL, false, 0, 401, "unauthorized"},
        {"POST", "/v1/batches", ALICE, "text/plain", NULL, true, 10, 415, "unsupported_media_type"},
        {"POST", "/v1/batches", ALICE, PB, "br", true, 10, 415, "unsupported_encoding"},
        {"POST", "/v1/batches", ALICE, PB, NULL, true, 1025, 413, "body_too_large"},
        {"POST", "/v1/batches", ALICE, PB, NULL, true, 1024, 0, NULL},
    };
    struct fx *f = *state;
    struct stint_response rs;
    size_t i;

    make_handler(f, 1024, 0, 0, false);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stint_request rq;
        bool refused;

        memset(&rq, 0, sizeof(rq));
        rq.method = cases[i].method;
        rq.path = cases[i].path;
        rq.authorization = cases[i].auth;
        rq.content_type = cases[i].ctype;
        rq.content_encoding = cases[i].enc;
        refused = stint_handler_check_head(f->h, &rq, cases[i].has_length, cases[i].length, &rs);
        if (refused != (cases[i].want != 0))
            fail_msg("case %zu (%s %s): refused=%d", i, cases[i].method, cases[i].path, refused);
        if (refused)
            assert_error(&rs, cases[i].want, cases[i].code);
        else
            assert_int_equal(rs.status, 0);
        stint_response_free(&rs);
    }
}

/* Records starting in the same second, an identical one among them, all stored; the payload
 * replayed stores nothing. */
static void test_legacy_same_second(void **state)
{
    static const char json[] =
        "{\"now\":\"1314172190\",\"version\":\"1\",\"log\":["
        "{\"app\":\"a\",\"path\":\"\",\"win\":\"\",\"url\":\"\",\"start\":\"1314172181\","
        "\"end\":\"1314172181\"},"
        "{\"app\":\"b\",\"path\":\"\",\"win\":\"\",\"url\":\"\",\"start\":\"1314172181\","
        "\"end\":\"1314172181\"},"
        "{\"app\":\"a\",\"path\":\"\",\"win\":\"\",\"url\":\"\",\"start\":\"1314172181\","
        "\"end\":\"1314172181\"},"
        "{\"app\":\"a\",\"path\":\"\",\"win\":\"x\",\"url\":\"\",\"start\":\"1314172181\","
        "\"end\":\"1314172182\"}]}";
    struct fx *f = *state;
    struct stint_response rs = {0};
    struct stint_ack a;

    if (post_legacy(f, NULL, NULL, json, &rs) == 501)
        goto cleanup;
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 4);
    assert_int_equal(a.duplicates, 0);
    stint_ack_free(&a);
    post_legacy(f, NULL, NULL, json, &rs);
    assert_int_equal(rs.status, 200);
    assert_int_equal(stored_count(f, "alice"), 4);
cleanup:
    stint_response_free(&rs);
}

/* Stint-Agent-Id and Stint-Seqs: the records are the agent's seqs; two agents of one account
 * sending the same payload each have theirs stored; the headers are checked. */
static void test_legacy_agent_seq(void **state)
{
    static const char json[] =
        "{\"now\":\"1314172190\",\"version\":\"1\",\"log\":["
        "{\"app\":\"a\",\"path\":\"\",\"win\":\"\",\"url\":\"\",\"start\":\"1314172181\","
        "\"end\":\"1314172181\"},"
        "{\"app\":\"a\",\"path\":\"\",\"win\":\"\",\"url\":\"\",\"start\":\"1314172181\","
        "\"end\":\"1314172181\"}]}";
    static const char agent_a[] = "0123456789abcdef0123456789abcdef";
    static const char agent_b[] = "FEDCBA9876543210FEDCBA9876543210";
    struct fx *f = *state;
    struct stint_response rs = {0};
    struct stint_ack a;
    struct seqs q;

    if (post_legacy(f, agent_a, "7-8", json, &rs) == 501)
        goto cleanup;
    ack_of(&rs, true, &a);
    assert_string_equal(rs.legacy_identity, "agent-seq");
    assert_int_equal(a.stored, 2);
    assert_int_equal(a.acked_seq, 8);
    stint_ack_free(&a);
    post_legacy(f, agent_b, " 7 , 8 ", json, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 2);
    stint_ack_free(&a);
    post_legacy(f, agent_a, "7,8", json, &rs); /* the same payload again: nothing new */
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored + a.duplicates, 2);
    stint_ack_free(&a);
    assert_int_equal(stored_count(f, "alice"), 4);
    memset(&q, 0, sizeof(q));
    assert_int_equal(stint_store_dump(f->store, "alice", 0, seq_fn, &q, NULL), STINT_OK);
    assert_int_equal(q.v[0], 7);
    assert_int_equal(q.v[3], 8);
    /* refusals: one header alone, a count that differs, seqs that do not increase, a bad id */
    post_legacy(f, agent_a, NULL, json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    post_legacy(f, NULL, "7-8", json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    post_legacy(f, agent_a, "7", json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    post_legacy(f, agent_a, "7-9", json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    post_legacy(f, agent_a, "8,7", json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    post_legacy(f, agent_a, "07,8", json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    post_legacy(f, "0123", "7-8", json, &rs);
    assert_error(&rs, 400, "bad_legacy_identity");
    /* the legacy readers' errors (spec §6.4): syntax 400, nesting 400, a bad type 400 */
    post_legacy(f, NULL, NULL, "{\"log\":[", &rs);
    assert_error(&rs, 400, "bad_batch");
    post_legacy(f, NULL, NULL, "{\"log\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}", &rs);
    assert_error(&rs, 400, "bad_batch");
    post_legacy(f, NULL, NULL, "{\"log\":[{\"start\":\"soon\"}]}", &rs);
    assert_error(&rs, 400, "bad_batch");
    assert_int_equal(stored_count(f, "alice"), 4);
cleanup:
    stint_response_free(&rs);
}

/* Reads spec/vectors/NAME into b. */
static void read_vector(const char *name, struct stint_buf *b)
{
    char path[1024];
    uint8_t chunk[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/spec/vectors/%s", STINT_SOURCE_DIR, name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    stint_buf_reset(b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(stint_buf_append(b, chunk, n), STINT_OK);
    fclose(f);
}

/* The unknown-fields vector (a later v1.x: unknown fields, kind 7) is accepted whole, in both
 * formats: both records stored, none rejected (spec/PROTOCOL.md §3.3, §9). */
static void test_unknown_fields_vector(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_response rs = {0};
    struct stint_ack a;

    read_vector("unknown-fields.pb", &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 2);
    assert_int_equal(a.n_rejected, 0);
    assert_int_equal(a.acked_seq, 601);
    stint_ack_free(&a);
    read_vector("unknown-fields.json", &b);
    post(f, "/v1/batches", BOB, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 2);
    assert_int_equal(a.n_rejected, 0);
    stint_ack_free(&a);
    stint_response_free(&rs);
    stint_buf_free(&b);
}

/* A seq below an earlier one of the batch and equal to none is rejected (REJECT_BAD_SEQ); a
 * repeated seq is a duplicate; a kind of a later v1.x is stored. */
static void test_seq_order_and_unknown_kind(void **state)
{
    struct fx *f = *state;
    struct stint_buf b = {0};
    struct stint_record *r = records(4, 1);
    struct stint_response rs = {0};
    struct stint_ack a;

    r[0].seq = 5;
    r[1].seq = 7;
    r[2].seq = 6; /* decreasing */
    r[3].seq = 5; /* a repeat */
    encode(false, 7, r, 4, &b);
    post(f, "/v1/batches", ALICE, PB, NULL, NULL, &b, &rs);
    ack_of(&rs, false, &a);
    assert_int_equal(a.stored, 2);
    assert_int_equal(a.duplicates, 1);
    assert_int_equal(a.n_rejected, 1);
    assert_int_equal(a.rejected[0].seq, 6);
    assert_int_equal(a.rejected[0].code, STINT_REJECT_BAD_SEQ);
    assert_int_equal(a.acked_seq, 7);
    stint_ack_free(&a);
    r[0].seq = 20;
    r[0].kind = 9; /* a kind of a later v1.x, with strings */
    encode(true, 7, r, 1, &b);
    post(f, "/v1/batches", ALICE, JSON, NULL, NULL, &b, &rs);
    ack_of(&rs, true, &a);
    assert_int_equal(a.stored, 1);
    assert_int_equal(a.n_rejected, 0);
    stint_ack_free(&a);
    stint_response_free(&rs);
    stint_buf_free(&b);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_and_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_pb_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_and_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_same_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_rejection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isolation_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_same_second, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_agent_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_order_and_unknown_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holes_and_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_head, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
