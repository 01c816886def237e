/* server_cases.c — the server-mode cases of stint-conformance (see server_cases.h).
 *
 * Each case checks one requirement and only that one: a case that needs other behaviour on the
 * way (storing a batch before replaying it) reads the answers leniently (an Ack is read in
 * whichever encoding it comes, an error's body is not looked at), so one broken requirement
 * makes one case fail. The error body has its own case (S31), so has WWW-Authenticate (S32).
 *
 * Refusals are sent as well-formed as possible except for the one thing under test: the
 * oversize body and the decompression bomb are valid Batches padded with an unknown field, so
 * the only reason left to refuse them is their size; a server that decodes as it reads cannot
 * pass them by stumbling on garbage. After a 413 the kit sends the same records again and
 * checks that the refused request stored nothing.
 *
 * 429 and 503 cannot be provoked by a client alone: --throttle-cmd names a command that makes
 * the server throttle (for stint-collector, a fault rule posted to its admin endpoint); any
 * 429 or 503 met during the run is checked too. */
#define _POSIX_C_SOURCE 200809L
#include "server_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "batch.h"
#include "stint/base64.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "common/clock.h"

#define D(...) snprintf(d, cap, __VA_ARGS__)

static const struct stint_conf_case_info cases[] = {
    {"S01", STINT_CONF_MUST, "§6.3 Request headers (Content-Type); §6.5 The Ack",
     "A server MUST accept a Batch POSTed to /v1/batches as application/x-protobuf and answer "
     "200 with an Ack in the request's encoding (application/x-protobuf)."},
    {"S02", STINT_CONF_MUST, "§6.3 Request headers (Content-Type)",
     "application/protobuf is an alias of application/x-protobuf: a server MUST accept it."},
    {"S03", STINT_CONF_MUST, "§6.3 Request headers (Content-Type); §4 JSON mapping; §6.5 The Ack",
     "A server MUST accept a Batch as application/json (proto3 JSON mapping) and answer 200 with "
     "an Ack as application/json."},
    {"S04", STINT_CONF_MUST, "§6.3 Request headers (Content-Encoding)",
     "A server MUST accept a protobuf body sent with Content-Encoding: gzip."},
    {"S05", STINT_CONF_MUST, "§6.3 Request headers (Content-Encoding)",
     "A server MUST accept a JSON body sent with Content-Encoding: gzip."},
    {"S06", STINT_CONF_SHOULD, "§6.3 Request headers (Content-Type; RFC 9110 §8.3.1)",
     "Media types are case-insensitive and may carry parameters: a server SHOULD accept "
     "`Application/X-Protobuf; proto=stint.v1.Batch`."},
    {"S07", STINT_CONF_MUST, "§3.5 Batch; §6.5 The Ack; §6.8 Per-record validation",
     "The open record (Batch.current) is a live heartbeat, never stored as closed, never "
     "acknowledged: acked_seq and stored count only Batch.records."},
    {"S08", STINT_CONF_MUST, "§6.5 The Ack",
     "A batch with no records is a probe: accepted, nothing stored, and its acked_seq is the "
     "highest seq the server holds for the agent (0 for a new agent)."},
    {"S09", STINT_CONF_MUST, "§6.7 De-duplication and idempotency",
     "A server MUST answer a replayed batch (same Idempotency-Key, same batch) with the same Ack "
     "as the first time, byte for byte in the same encoding."},
    {"S10", STINT_CONF_MUST, "§6.7 De-duplication and idempotency",
     "The server de-duplicates by (account, agent_id, seq): a record it already holds is not "
     "stored again and counts in duplicates; the new ones are stored."},
    {"S11", STINT_CONF_MUST, "§6.7 De-duplication and idempotency",
     "The same Idempotency-Key with a batch whose seqs differ is 409 idempotency_conflict, and "
     "nothing is stored."},
    {"S12", STINT_CONF_MUST,
     "§3.8 Per-record validation (servers); §6.8 Per-record validation; §6.5 The Ack",
     "A server checks each record on its own and refuses only the records that fail, with a "
     "Rejection; the others are stored, and acked_seq covers both."},
    {"S13", STINT_CONF_MUST, "§3.8 Per-record validation (servers)",
     "Each failed check gives its code: seq 0 REJECT_BAD_SEQ; bad times REJECT_BAD_TIME; "
     "gap_count off a gap REJECT_BAD_KIND; strings on idle records or unknown flag bits "
     "REJECT_BAD_STRING."},
    {"S14", STINT_CONF_MUST,
     "§6.3 Request headers (Authorization); §6.4 Status codes and the error body",
     "A batch without an Authorization header MUST be refused with 401."},
    {"S15", STINT_CONF_MUST,
     "§6.3 Request headers (Authorization); §6.4 Status codes and the error body",
     "A batch with a bearer token the server does not know MUST be refused with 401."},
    {"S16", STINT_CONF_MUST, "§6.3 Request headers (Content-Type)",
     "A body of any other Content-Type (text/plain) MUST be refused with 415."},
    {"S17", STINT_CONF_MUST, "§6.3 Request headers (Content-Encoding)",
     "A Content-Encoding other than gzip or identity (br) MUST be refused with 415."},
    {"S18", STINT_CONF_MUST, "§6.6 Limits; §6.4 Status codes and the error body",
     "A body over the server's limit as sent MUST be refused with 413, and nothing of it stored."},
    {"S19", STINT_CONF_MUST, "§6.6 Limits; §6.4 Status codes and the error body",
     "A gzip body that decompresses past the server's limit (a decompression bomb) MUST be "
     "refused with 413 without being inflated whole, and nothing of it stored."},
    {"S20", STINT_CONF_MUST,
     "§6.3 Request headers (Content-Encoding); §6.4 Status codes and the error body",
     "A body that is not valid gzip although Content-Encoding says gzip MUST be refused with "
     "400."},
    {"S21", STINT_CONF_MUST,
     "§3.7 Decoding rules; §6.4 Status codes and the error body (bad_batch)",
     "A body that is not a well-formed protobuf Batch (truncated length, wire type 3/4/6/7, "
     "field 0, an 11-byte varint) MUST be refused whole with 400."},
    {"S22", STINT_CONF_MUST, "§4 JSON mapping; §6.4 Status codes and the error body (bad_batch)",
     "Text that is not JSON (RFC 8259), a raw NUL, a value of the wrong type or an integer "
     "string with an exponent MUST be refused whole with 400."},
    {"S23", STINT_CONF_MUST, "§3.4 Strings; §6.4 Status codes and the error body (bad_batch)",
     "A decoder MUST refuse a message carrying invalid UTF-8 (overlong forms, surrogates, lone "
     "continuation bytes): 400."},
    {"S24", STINT_CONF_MUST,
     "§3.5 Batch; §6.4 Status codes and the error body (bad_batch, missing_agent_id)",
     "A decoder MUST refuse an agent_id of any length other than 0 or 16, and a server refuses a "
     "Batch without agent_id: 400."},
    {"S25", STINT_CONF_MUST, "§6.6 Limits; §6.4 Status codes and the error body",
     "A batch of more records than the server's limit MUST be refused with 413."},
    {"S26", STINT_CONF_MUST, "§3.7 Decoding rules; §9 Versioning and compatibility",
     "A decoder MUST skip protobuf fields it does not know (every wire type but groups), at "
     "batch and record level: the batch is accepted and its records stored."},
    {"S27", STINT_CONF_MUST, "§4 JSON mapping",
     "A JSON reader MUST ignore members it does not know, at batch and record level."},
    {"S28", STINT_CONF_MUST, "§4 JSON mapping",
     "A JSON reader MUST accept 64-bit integers both as decimal strings and as JSON numbers "
     "(an integral number with a fraction or exponent included)."},
    {"S29", STINT_CONF_MUST, "§4 JSON mapping",
     "A JSON reader MUST accept the proto field names (start_ms) as well as lowerCamelCase, and "
     "enums by number as well as by name."},
    {"S30", STINT_CONF_SHOULD, "§4 JSON mapping (output); §6.5 The Ack",
     "A JSON Ack SHOULD write 64-bit integers as decimal strings (proto3 JSON mapping)."},
    {"S31", STINT_CONF_MUST, "§6.4 Status codes and the error body",
     "Every refusal (4xx, 5xx) MUST carry Content-Type application/json and the body "
     "{\"error\":{\"code\":STRING,\"message\":STRING}}."},
    {"S32", STINT_CONF_MUST, "§6.4 Status codes and the error body (401; RFC 9110 §11.6.1)",
     "A 401 MUST carry WWW-Authenticate naming the Bearer scheme."},
    {"S33", STINT_CONF_SHOULD, "§6.2 Resources",
     "GET /v1/health SHOULD answer 200 without authentication."},
    {"S34", STINT_CONF_SHOULD, "§6.2 Resources (RFC 9110 §15.5.6)",
     "A method a route does not serve SHOULD be answered 405 with an Allow header."},
    {"S35", STINT_CONF_SHOULD, "§6.2 Resources", "An unknown path SHOULD be answered 404."},
    {"S36", STINT_CONF_MUST, "§6.4 Status codes and the error body (Retry-After; RFC 9110 §10.2.3)",
     "A Retry-After sent with 429 or 503 MUST be delta-seconds or an IMF-fixdate."},
    {"S37", STINT_CONF_SHOULD, "§6.4 Status codes and the error body (Retry-After)",
     "A 429 or 503 SHOULD carry Retry-After."},
    {"S38", STINT_CONF_MUST, "§6.9 Time, accounts and deletion",
     "Accounts are isolated: de-duplication and Idempotency-Keys are per account, so account B "
     "sending account A's agent_id, seqs and key stores its own records."},
    {"S39", STINT_CONF_MUST, "§6.9 Time, accounts and deletion",
     "DELETE /v1/data deletes everything stored for the token's account and nothing of any "
     "other account: afterwards the same records are stored anew for A, and still held for B."},
    {"S40", STINT_CONF_MUST, "§6.9 Time, accounts and deletion",
     "DELETE /v1/data with a token the server does not know MUST be refused with 401, deleting "
     "nothing."},
    {"S41", STINT_CONF_MUST,
     "§6.3 Request headers (Idempotency-Key); §6.4 Status codes and the error body",
     "An Idempotency-Key that is not 1-200 visible ASCII characters is refused with 400 "
     "(bad_idempotency_key)."},
    {"S42", STINT_CONF_SHOULD, "§6.2 Resources (POST /v1/legacy); §5 Legacy payload",
     "POST /v1/legacy takes the legacy form payload (PHP http_build_query) and answers 200 with "
     "a JSON Ack: closed records stored once (a record sent again is a duplicate), the open one "
     "not stored."},
    {"S43", STINT_CONF_MUST, "§6.10 Legacy identity (content)",
     "Legacy records that start in the same second are distinct records: a payload without "
     "identity headers holding three closed records of one second, two of them identical, is "
     "stored whole (stored=3)."},
    {"S44", STINT_CONF_MUST, "§6.10 Legacy identity (Stint-Agent-Id, Stint-Seqs)",
     "Two agents of one account sending the same legacy payload, each with its Stint-Agent-Id "
     "and Stint-Seqs, both have their records stored, answered with Stint-Legacy-Identity: "
     "agent-seq."},
    {"S45", STINT_CONF_MUST, "§6.10 Legacy identity (content); §6.7 De-duplication and idempotency",
     "A legacy payload replayed (the same records in a new payload, under a new "
     "Idempotency-Key) stores nothing: every record counts in duplicates."},
    {"S46", STINT_CONF_MUST, "§3.3 Kinds; §3.8 Per-record validation (servers)",
     "A record of a kind v1.0 does not name (a later v1.x), by number in protobuf and in JSON, "
     "is stored by its number, not rejected."},
    {"S47", STINT_CONF_MUST, "§6.7 De-duplication and idempotency (kept Acks)",
     "A kept Ack outlives later batches: the first of 17 batches of an agent, replayed under its "
     "Idempotency-Key after the other 16, gets its first Ack byte for byte."},
    {"S48", STINT_CONF_MUST, "§3.5 Batch; §3.8 Per-record validation (servers)",
     "Seqs increase within a batch: a record whose seq is below an earlier one and equal to "
     "none is rejected with REJECT_BAD_SEQ; the others are stored."},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

size_t stint_conf_server_count(void)
{
    return N_CASES;
}

const struct stint_conf_case_info *stint_conf_server_info(size_t i)
{
    return i < N_CASES ? &cases[i] : NULL;
}

/* ---- what every case uses ---- */

/* 429 and 503 met so far, for S36/S37. */
static struct {
    int seen;
    char status_and_value[200]; /* of the first malformed one */
    int malformed;
    int missing;
    char first[200]; /* the first Retry-After seen, for the detail */
} throttled;

static const char *ct_pb = "application/x-protobuf", *ct_json = "application/json";

static bool retry_after_ok(const char *v)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    size_t i, n = strlen(v);
    bool ok = false;
    int dd, hh, mi, ss;

    if (n == 0)
        return false;
    for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
    }
    if (i == n)
        return n <= 10; /* delta-seconds */
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (n != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
        v[19] != ':' || v[22] != ':' || v[25] != ' ' || strcmp(v + 26, "GMT") != 0)
        return false;
    for (i = 0; i < 7; i++)
        ok = ok || strncmp(v, days[i], 3) == 0;
    if (!ok)
        return false;
    ok = false;
    for (i = 0; i < 12; i++)
        ok = ok || strncmp(v + 8, months[i], 3) == 0;
    if (!ok)
        return false;
    {
        static const int digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
        for (i = 0; i < sizeof(digits) / sizeof(digits[0]); i++)
            if (v[digits[i]] < '0' || v[digits[i]] > '9')
                return false;
    }
    dd = (v[5] - '0') * 10 + (v[6] - '0');
    hh = (v[17] - '0') * 10 + (v[18] - '0');
    mi = (v[20] - '0') * 10 + (v[21] - '0');
    ss = (v[23] - '0') * 10 + (v[24] - '0');
    return dd >= 1 && dd <= 31 && hh <= 23 && mi <= 59 && ss <= 60;
}

static void observe(const struct stint_conf_resp *r)
{
    if (r->status != 429 && r->status != 503)
        return;
    throttled.seen++;
    if (r->has_retry_after && !throttled.first[0])
        snprintf(throttled.first, sizeof(throttled.first), "%ld with Retry-After: %s", r->status,
                 r->retry_after);
    if (!r->has_retry_after) {
        throttled.missing++;
    } else if (!retry_after_ok(r->retry_after) && !throttled.malformed) {
        throttled.malformed = 1;
        snprintf(throttled.status_and_value, sizeof(throttled.status_and_value),
                 "%ld with Retry-After: %s", r->status, r->retry_after);
    }
}

/* One request. auth is a whole Authorization value ("Bearer T") or NULL; extra (may be NULL)
 * is a NULL-terminated list of more header lines. */
static enum stint_err request_x(const struct stint_conf_server_opts *o, const char *method,
                                const char *path, const char *auth, const char *ctype,
                                const char *cenc, const char *key, const char *const *extra,
                                const void *body, size_t len, struct stint_conf_resp *r)
{
    char h_auth[640], h_ct[200], h_ce[100], h_key[300];
    const char *hdrs[9];
    size_t n = 0;
    enum stint_err rc;

    if (auth) {
        snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
        hdrs[n++] = h_auth;
    }
    if (ctype) {
        snprintf(h_ct, sizeof(h_ct), "Content-Type: %s", ctype);
        hdrs[n++] = h_ct;
    }
    if (cenc) {
        snprintf(h_ce, sizeof(h_ce), "Content-Encoding: %s", cenc);
        hdrs[n++] = h_ce;
    }
    if (key) {
        snprintf(h_key, sizeof(h_key), "Idempotency-Key: %s", key);
        hdrs[n++] = h_key;
    }
    while (extra && *extra && n < 8)
        hdrs[n++] = *extra++;
    hdrs[n] = NULL;
    rc = stint_conf_http_request(o->http, method, path, hdrs, body, len, r);
    if (rc == STINT_OK)
        observe(r);
    return rc;
}

static enum stint_err request(const struct stint_conf_server_opts *o, const char *method,
                              const char *path, const char *auth, const char *ctype,
                              const char *cenc, const char *key, const void *body, size_t len,
                              struct stint_conf_resp *r)
{
    return request_x(o, method, path, auth, ctype, cenc, key, NULL, body, len, r);
}

static void bearer(const char *token, char *out, size_t cap)
{
    snprintf(out, cap, "Bearer %s", token);
}

/* POSTs a body to /v1/batches as account token. */
static enum stint_err post(const struct stint_conf_server_opts *o, const char *token,
                           const char *ctype, const char *cenc, const char *key,
                           const struct stint_buf *body, struct stint_conf_resp *r)
{
    char auth[600];

    bearer(token, auth, sizeof(auth));
    return request(o, "POST", "/v1/batches", token ? auth : NULL, ctype, cenc, key,
                   body ? body->data : NULL, body ? body->len : 0, r);
}

/* Encodes b (gzipped when asked) into out, emptied first. */
static enum stint_err encode(const struct stint_conf_batch *b, bool gzip, struct stint_buf *out)
{
    struct stint_buf raw = {0};
    enum stint_err rc;

    stint_buf_reset(out);
    if (!gzip)
        return stint_conf_batch_encode(b, out);
    rc = stint_conf_batch_encode(b, &raw);
    if (rc == STINT_OK)
        rc = stint_conf_gzip(raw.data, raw.len, out);
    stint_buf_free(&raw);
    return rc;
}

/* What to say when no HTTP answer came. */
static enum stint_conf_result no_answer(const struct stint_conf_resp *r, char *d, size_t cap)
{
    D("no HTTP answer: %s", r->error);
    return STINT_CONF_FAIL;
}

/* Expects 200 and an Ack (read in either encoding). */
static bool want_ack(const struct stint_conf_resp *r, struct stint_ack *ack, const char *what,
                     char *d, size_t cap)
{
    char msg[300];

    memset(ack, 0, sizeof(*ack));
    if (r->status != 200) {
        D("%s: expected 200, got %ld (%.*s)", what, r->status,
          (int)(r->body.len > 160 ? 160 : r->body.len),
          r->body.data ? (const char *)r->body.data : "");
        return false;
    }
    if (stint_conf_ack_read(r->body.data, r->body.len, ack, msg, sizeof(msg)) != STINT_OK) {
        D("%s: %s", what, msg);
        return false;
    }
    return true;
}

/* Expects `want`; the body is not looked at (S31 does that). */
static bool want_status(const struct stint_conf_resp *r, long want, const char *what, char *d,
                        size_t cap)
{
    if (r->status == want)
        return true;
    D("%s: expected %ld, got %ld%s%s", what, want, r->status, r->status ? "" : ": ",
      r->status ? "" : r->error);
    return false;
}

static bool ack_is(const struct stint_ack *a, uint64_t acked, uint64_t stored, uint64_t dup,
                   size_t rejected, const char *what, char *d, size_t cap)
{
    if (a->acked_seq == acked && a->stored == stored && a->duplicates == dup &&
        a->n_rejected == rejected)
        return true;
    D("%s: expected acked_seq=%llu stored=%llu duplicates=%llu rejected=%zu, got "
      "acked_seq=%llu stored=%llu duplicates=%llu rejected=%zu",
      what, (unsigned long long)acked, (unsigned long long)stored, (unsigned long long)dup,
      rejected, (unsigned long long)a->acked_seq, (unsigned long long)a->stored,
      (unsigned long long)a->duplicates, a->n_rejected);
    return false;
}

/* ack_is without acked_seq (legacy content seqs are the server's own). */
static bool counts_are(const struct stint_ack *a, uint64_t stored, uint64_t dup, size_t rejected,
                       const char *what, char *d, size_t cap)
{
    if (a->stored == stored && a->duplicates == dup && a->n_rejected == rejected)
        return true;
    D("%s: expected stored=%llu duplicates=%llu rejected=%zu, got stored=%llu duplicates=%llu "
      "rejected=%zu",
      what, (unsigned long long)stored, (unsigned long long)dup, rejected,
      (unsigned long long)a->stored, (unsigned long long)a->duplicates, a->n_rejected);
    return false;
}

/* Sends records first..first+n-1 of agent (protobuf) as token with a fresh key and expects an
 * Ack with these counts. */
static enum stint_conf_result send_expect(const struct stint_conf_server_opts *o, const char *token,
                                          const uint8_t *agent, uint64_t first, size_t n,
                                          const char *suffix, uint64_t stored, uint64_t dup,
                                          const char *what, char *d, size_t cap)
{
    struct stint_conf_batch b = {STINT_CONF_PB, agent, first, n, false, NULL, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200];

    stint_conf_idem_key(agent, first, first + n - 1, suffix, key, sizeof(key));
    if (encode(&b, false, &body) != STINT_OK) {
        D("cannot encode");
        goto cleanup;
    }
    if (post(o, token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (want_ack(&r, &ack, what, d, cap) &&
        ack_is(&ack, first + n - 1, stored, dup, 0, what, d, cap))
        res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

/* ---- acceptance: S01-S08 ---- */

/* Sends 3 records in one encoding and checks the Ack and, when ack_type is set, its type. */
static enum stint_conf_result accept_case(const struct stint_conf_server_opts *o,
                                          enum stint_conf_enc enc, const char *ctype, bool gzip,
                                          const char *ack_type, const char *ack_type2, bool current,
                                          char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {enc, agent, 1, 3, current, NULL, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    struct stint_error err;
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200], mt[128];

    stint_conf_random(agent, 16);
    stint_conf_idem_key(agent, 1, 3, NULL, key, sizeof(key));
    if (encode(&b, gzip, &body) != STINT_OK) {
        D("cannot encode");
        goto cleanup;
    }
    if (post(o, o->token, ctype, gzip ? "gzip" : NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (ack_type) {
        stint_media_type(r.content_type, mt, sizeof(mt));
        if (r.status != 200) {
            D("expected 200, got %ld", r.status);
            goto cleanup;
        }
        if (strcmp(mt, ack_type) != 0 && !(ack_type2 && strcmp(mt, ack_type2) == 0)) {
            D("the Ack came as Content-Type '%s', expected %s", r.content_type, ack_type);
            goto cleanup;
        }
        stint_error_clear(&err);
        if (enc == STINT_CONF_PB
                ? stint_pb_decode_ack(r.body.data ? r.body.data : (const uint8_t *)"", r.body.len,
                                      &ack, NULL, &err) != STINT_OK
                : stint_json_decode_ack((const char *)r.body.data, r.body.len, &ack, NULL, &err) !=
                      STINT_OK) {
            D("the body is not an Ack in the request's encoding: %s", err.msg);
            goto cleanup;
        }
    } else if (!want_ack(&r, &ack, "batch", d, cap)) {
        goto cleanup;
    }
    if (!ack_is(&ack, 3, 3, 0, 0, "Ack", d, cap))
        goto cleanup;
    D("200, Ack acked_seq=3 stored=3%s", current ? " (the open record not counted)" : "");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s01(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, ct_pb, false, "application/x-protobuf", NULL, false, d,
                       cap);
}

static enum stint_conf_result s02(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, "application/protobuf", false, NULL, NULL, false, d, cap);
}

static enum stint_conf_result s03(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_JSON, ct_json, false, "application/json", NULL, false, d, cap);
}

static enum stint_conf_result s04(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, ct_pb, true, NULL, NULL, false, d, cap);
}

static enum stint_conf_result s05(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_JSON, ct_json, true, NULL, NULL, false, d, cap);
}

static enum stint_conf_result s06(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, "Application/X-Protobuf; proto=stint.v1.Batch", false,
                       NULL, NULL, false, d, cap);
}

static enum stint_conf_result s07(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, ct_pb, false, NULL, NULL, true, d, cap);
}

/* Sends an empty batch of agent and expects acked_seq == want. */
static enum stint_conf_result probe(const struct stint_conf_server_opts *o, const uint8_t *agent,
                                    uint64_t want, const char *what, char *d, size_t cap)
{
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 0, false, NULL, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (encode(&b, false, &body) != STINT_OK) {
        D("cannot encode");
        goto cleanup;
    }
    if (post(o, o->token, ct_pb, NULL, NULL, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (want_ack(&r, &ack, what, d, cap) && ack_is(&ack, want, 0, 0, 0, what, d, cap))
        res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s08(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    enum stint_conf_result res;

    stint_conf_random(agent, 16);
    if ((res = probe(o, agent, 0, "empty batch of a new agent", d, cap)) != STINT_CONF_PASS ||
        (res = send_expect(o, o->token, agent, 1, 3, NULL, 3, 0, "records 1-3", d, cap)) !=
            STINT_CONF_PASS ||
        (res = probe(o, agent, 3, "empty batch after records 1-3", d, cap)) != STINT_CONF_PASS)
        return res;
    D("200, nothing stored; acked_seq 0 for a new agent, 3 after records 1-3");
    return STINT_CONF_PASS;
}

/* ---- idempotency: S09-S11 ---- */

static bool same_ack(const struct stint_ack *a, const struct stint_ack *b)
{
    size_t i;

    if (a->acked_seq != b->acked_seq || a->stored != b->stored || a->duplicates != b->duplicates ||
        a->n_rejected != b->n_rejected)
        return false;
    for (i = 0; i < a->n_rejected; i++)
        if (a->rejected[i].seq != b->rejected[i].seq || a->rejected[i].code != b->rejected[i].code)
            return false;
    return true;
}

static void bad_second(size_t i, struct stint_record *r, void *arg)
{
    (void)arg;
    if (i == 1)
        r->end_ms = r->start_ms - 1000; /* ends before it starts */
}

static enum stint_conf_result s09(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 3, false, bad_second, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack a1 = {0}, a2 = {0};
    struct stint_buf first = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200];

    stint_conf_random(agent, 16);
    stint_conf_idem_key(agent, 1, 3, NULL, key, sizeof(key));
    if (encode(&b, false, &body) != STINT_OK) {
        D("cannot encode");
        goto cleanup;
    }
    if (post(o, o->token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &a1, "first request", d, cap))
        goto cleanup;
    if (stint_buf_append(&first, r.body.data, r.body.len) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &a2, "replay", d, cap))
        goto cleanup;
    if (!same_ack(&a1, &a2)) {
        D("the replay's Ack differs: first acked_seq=%llu stored=%llu duplicates=%llu "
          "rejected=%zu, replay acked_seq=%llu stored=%llu duplicates=%llu rejected=%zu",
          (unsigned long long)a1.acked_seq, (unsigned long long)a1.stored,
          (unsigned long long)a1.duplicates, a1.n_rejected, (unsigned long long)a2.acked_seq,
          (unsigned long long)a2.stored, (unsigned long long)a2.duplicates, a2.n_rejected);
        goto cleanup;
    }
    if (first.len != r.body.len || (first.len && memcmp(first.data, r.body.data, first.len))) {
        D("the replay's Ack has the same counts but not the same bytes (%zu and %zu bytes; "
          "server_time_ms %lld and %lld)",
          first.len, r.body.len, (long long)a1.server_time_ms, (long long)a2.server_time_ms);
        goto cleanup;
    }
    D("the replay got the same Ack, byte for byte (acked_seq=%llu stored=%llu rejected=%zu)",
      (unsigned long long)a1.acked_seq, (unsigned long long)a1.stored, a1.n_rejected);
    res = STINT_CONF_PASS;
cleanup:
    stint_buf_free(&first);
    stint_ack_free(&a1);
    stint_ack_free(&a2);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s10(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    enum stint_conf_result res;

    stint_conf_random(agent, 16);
    res = send_expect(o, o->token, agent, 1, 3, NULL, 3, 0, "records 1-3", d, cap);
    if (res != STINT_CONF_PASS)
        return res;
    res = send_expect(o, o->token, agent, 2, 4, NULL, 2, 2, "records 2-5 after 1-3", d, cap);
    if (res == STINT_CONF_PASS)
        D("records 2-5 after 1-3: stored=2 duplicates=2");
    return res;
}

static enum stint_conf_result s11(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 3, false, NULL, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200];

    stint_conf_random(agent, 16);
    stint_conf_idem_key(agent, 1, 3, NULL, key, sizeof(key));
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_status(&r, 200, "records 1-3", d, cap))
        goto cleanup;
    b.n = 4;
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_status(&r, 409, "records 1-4 under the key of 1-3", d, cap))
        goto cleanup;
    D("409 for a key reused for another batch");
    res = STINT_CONF_PASS;
cleanup:
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

/* ---- per-record rejections: S12, S13 ---- */

static enum stint_conf_result s12(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 3, false, bad_second, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    stint_conf_random(agent, 16);
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, NULL, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &ack, "batch with a bad record 2", d, cap))
        goto cleanup;
    if (!ack_is(&ack, 3, 2, 0, 1, "records 1-3, 2 ending before it starts", d, cap))
        goto cleanup;
    if (ack.rejected[0].seq != 2) {
        D("the Rejection names seq %llu, expected 2", (unsigned long long)ack.rejected[0].seq);
        goto cleanup;
    }
    D("200, stored=2, rejected seq 2, acked_seq=3");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

struct bad {
    const char *what;
    int code;
};

static const struct bad bad_records[] = {
    {"seq 0", STINT_REJECT_BAD_SEQ},
    {"end before start", STINT_REJECT_BAD_TIME},
    {"start_ms 0", STINT_REJECT_BAD_TIME},
    {"gap_count on an active record", STINT_REJECT_BAD_KIND},
    {"an idle record with an app", STINT_REJECT_BAD_STRING},
    {"truncated bit 16", STINT_REJECT_BAD_STRING},
    {"a closed record without end", STINT_REJECT_BAD_TIME},
    {"end past year 9999", STINT_REJECT_BAD_TIME},
};

static void make_bad(size_t i, struct stint_record *r, void *arg)
{
    (void)arg;
    switch (i) {
    case 0: /* seq 0: first_seq is 0 */
        break;
    case 1:
        r->end_ms = r->start_ms - 1000;
        break;
    case 2:
        r->start_ms = 0;
        break;
    case 3:
        r->gap_count = 5;
        break;
    case 4:
        r->kind = STINT_KIND_IDLE;
        r->path_len = r->title_len = r->url_len = 0;
        r->path[0] = r->title[0] = r->url[0] = '\0';
        break;
    case 5:
        r->truncated = 16;
        break;
    case 6:
        r->end_ms = 0;
        break;
    case 7:
        r->end_ms = 253402300800000;
        break;
    }
}

static const char *code_name(int c)
{
    switch (c) {
    case STINT_REJECT_BAD_TIME:
        return "REJECT_BAD_TIME";
    case STINT_REJECT_BAD_SEQ:
        return "REJECT_BAD_SEQ";
    case STINT_REJECT_BAD_KIND:
        return "REJECT_BAD_KIND";
    case STINT_REJECT_BAD_STRING:
        return "REJECT_BAD_STRING";
    }
    return "REJECT_UNSPECIFIED";
}

static enum stint_conf_result s13(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    const size_t n = sizeof(bad_records) / sizeof(bad_records[0]);
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 0, n, false, make_bad, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    size_t i, j;

    stint_conf_random(agent, 16);
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, NULL, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &ack, "batch of bad records", d, cap))
        goto cleanup;
    for (i = 0; i < n; i++) {
        for (j = 0; j < ack.n_rejected; j++)
            if (ack.rejected[j].seq == i)
                break;
        if (j == ack.n_rejected) {
            D("seq %zu (%s) was not rejected", i, bad_records[i].what);
            goto cleanup;
        }
        if (ack.rejected[j].code != bad_records[i].code) {
            D("seq %zu (%s) rejected with %s, expected %s", i, bad_records[i].what,
              code_name(ack.rejected[j].code), code_name(bad_records[i].code));
            goto cleanup;
        }
    }
    D("%zu bad records, each with its code", n);
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

/* ---- refusals: S14-S25 ---- */

/* Posts a body and expects one status. auth as in request(). */
static enum stint_conf_result refuse(const struct stint_conf_server_opts *o, const char *auth,
                                     const char *ctype, const char *cenc, const void *body,
                                     size_t len, long want, const char *what, char *d, size_t cap)
{
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (request(o, "POST", "/v1/batches", auth, ctype, cenc, NULL, body, len, &r) != STINT_OK &&
        r.status == 0)
        res = no_answer(&r, d, cap);
    else if (want_status(&r, want, what, d, cap))
        res = STINT_CONF_PASS;
    stint_conf_resp_free(&r);
    return res;
}

/* A valid 3-record protobuf batch of a new agent into body. */
static enum stint_err good_body(struct stint_buf *body, enum stint_conf_enc enc)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {enc, agent, 1, 3, false, NULL, NULL};

    stint_conf_random(agent, 16);
    return encode(&b, false, body);
}

static enum stint_conf_result s14(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (good_body(&body, STINT_CONF_PB) == STINT_OK)
        res = refuse(o, NULL, ct_pb, NULL, body.data, body.len, 401, "no Authorization", d, cap);
    if (res == STINT_CONF_PASS)
        D("401 without Authorization");
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s15(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    uint8_t rnd[8];
    char auth[100];

    stint_conf_random(rnd, sizeof(rnd));
    snprintf(auth, sizeof(auth), "Bearer stint-conformance-unknown-%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    if (good_body(&body, STINT_CONF_PB) == STINT_OK)
        res = refuse(o, auth, ct_pb, NULL, body.data, body.len, 401, "unknown token", d, cap);
    if (res == STINT_CONF_PASS)
        D("401 for an unknown token");
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s16(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600];

    bearer(o->token, auth, sizeof(auth));
    if (good_body(&body, STINT_CONF_PB) == STINT_OK)
        res = refuse(o, auth, "text/plain", NULL, body.data, body.len, 415,
                     "Content-Type: text/plain", d, cap);
    if (res == STINT_CONF_PASS)
        D("415 for text/plain");
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s17(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600];

    bearer(o->token, auth, sizeof(auth));
    if (good_body(&body, STINT_CONF_PB) == STINT_OK)
        res =
            refuse(o, auth, ct_pb, "br", body.data, body.len, 415, "Content-Encoding: br", d, cap);
    if (res == STINT_CONF_PASS)
        D("415 for Content-Encoding: br");
    stint_buf_free(&body);
    return res;
}

/* A batch of one record (seq 1) of agent, padded with unknown field 15 to `size` bytes (at
 * least; a few bytes over). */
static enum stint_err padded_body(const uint8_t *agent, size_t size, struct stint_buf *out)
{
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 1, false, NULL, NULL};
    enum stint_err rc;
    size_t pad;

    stint_buf_reset(out);
    out->max = size + 1024;
    if ((rc = stint_conf_batch_encode(&b, out)) != STINT_OK)
        return rc;
    pad = size > out->len ? size - out->len : 0;
    if ((rc = stint_conf_pb_tag(out, 15, 2)) != STINT_OK ||
        (rc = stint_conf_pb_varint(out, pad)) != STINT_OK ||
        (rc = stint_buf_reserve(out, pad)) != STINT_OK)
        return rc;
    memset(out->data + out->len, 0, pad);
    out->len += pad;
    return STINT_OK;
}

/* The common end of S18 and S19: after a 413 the same record sent again is stored once. */
static enum stint_conf_result refused_stored_nothing(const struct stint_conf_server_opts *o,
                                                     const uint8_t *agent, const char *done,
                                                     char *d, size_t cap)
{
    enum stint_conf_result res =
        send_expect(o, o->token, agent, 1, 1, ":after-413", 1, 0,
                    "the refused record sent again (was it stored by the 413?)", d, cap);
    if (res == STINT_CONF_PASS)
        D("%s", done);
    return res;
}

static enum stint_conf_result s18(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600], what[100];

    stint_conf_random(agent, 16);
    bearer(o->token, auth, sizeof(auth));
    if (padded_body(agent, o->max_body + 1, &body) != STINT_OK) {
        D("cannot build the body");
        goto cleanup;
    }
    snprintf(what, sizeof(what), "a %zu-byte body (limit %zu)", body.len, o->max_body);
    res = refuse(o, auth, ct_pb, NULL, body.data, body.len, 413, what, d, cap);
    if (res == STINT_CONF_PASS)
        res = refused_stored_nothing(o, agent, "413 for a body over the limit; nothing stored", d,
                                     cap);
cleanup:
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s19(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_buf raw = {0}, body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    size_t size = o->max_decoded + ((size_t)1 << 20);
    char auth[600], what[160];

    stint_conf_random(agent, 16);
    bearer(o->token, auth, sizeof(auth));
    if (padded_body(agent, size, &raw) != STINT_OK ||
        stint_conf_gzip(raw.data, raw.len, &body) != STINT_OK) {
        D("cannot build the body");
        goto cleanup;
    }
    stint_buf_free(&raw);
    snprintf(what, sizeof(what), "%zu gzip bytes inflating to %zu (limit %zu)", body.len, size,
             o->max_decoded);
    if (body.len > o->max_body) {
        D("the bomb (%zu bytes) is over --max-body itself: give a larger --max-body", body.len);
        goto cleanup;
    }
    res = refuse(o, auth, ct_pb, "gzip", body.data, body.len, 413, what, d, cap);
    if (res == STINT_CONF_PASS)
        res = refused_stored_nothing(o, agent, "413 for a decompression bomb; nothing stored", d,
                                     cap);
cleanup:
    stint_buf_free(&raw);
    stint_buf_free(&body);
    return res;
}

/* Sends every variant and expects `want` for each; names the first that fails. */
struct variant {
    const char *what;
    const uint8_t *p;
    size_t n;
};

static enum stint_conf_result variants(const struct stint_conf_server_opts *o, const char *ctype,
                                       const char *cenc, const struct variant *v, size_t n,
                                       long want, char *d, size_t cap)
{
    char auth[600];
    size_t i;

    bearer(o->token, auth, sizeof(auth));
    for (i = 0; i < n; i++) {
        enum stint_conf_result res =
            refuse(o, auth, ctype, cenc, v[i].p, v[i].n, want, v[i].what, d, cap);
        if (res != STINT_CONF_PASS)
            return res;
    }
    D("%ld for each of %zu inputs", want, n);
    return STINT_CONF_PASS;
}

static enum stint_conf_result s20(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    static const uint8_t not_gzip[] = "this is not gzip at all";
    static const uint8_t bad_header[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0xff, 0xff};
    struct stint_buf good = {0}, gz = {0};
    struct variant v[4];
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (good_body(&good, STINT_CONF_PB) != STINT_OK ||
        stint_conf_gzip(good.data, good.len, &gz) != STINT_OK || gz.len < 20)
        goto cleanup;
    v[0] = (struct variant){"plain text as gzip", not_gzip, sizeof(not_gzip) - 1};
    v[1] = (struct variant){"a gzip header and a broken stream", bad_header, sizeof(bad_header)};
    v[2] = (struct variant){"gzip cut short", gz.data, gz.len - 12};
    gz.data[gz.len - 6] ^= 0x55; /* the CRC32 of the trailer */
    v[3] = (struct variant){"gzip with a wrong CRC", gz.data, gz.len};
    res = variants(o, ct_pb, "gzip", v, 4, 400, d, cap);
cleanup:
    stint_buf_free(&good);
    stint_buf_free(&gz);
    return res;
}

static enum stint_conf_result s21(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    static const uint8_t past_end[] = {0x22, 0xc8, 0x01, 'a', 'b', 'c'};
    static const uint8_t type7[] = {0x18, 0x01, 0x17, 0x00};
    static const uint8_t type6[] = {0x18, 0x01, 0x16, 0x00};
    static const uint8_t group[] = {0x18, 0x01, 0x4b, 0x4c};
    static const uint8_t field0[] = {0x00, 0x01};
    static const uint8_t long_varint[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t record_cut[] = {0x22, 0x05, 0x08, 0x01, 0x10, 0xff, 0xff};
    const struct variant v[] = {
        {"a length past the end", past_end, sizeof(past_end)},
        {"wire type 7", type7, sizeof(type7)},
        {"wire type 6", type6, sizeof(type6)},
        {"a group (wire type 3)", group, sizeof(group)},
        {"field number 0", field0, sizeof(field0)},
        {"an 11-byte varint", long_varint, sizeof(long_varint)},
        {"a record whose varint runs past its length", record_cut, sizeof(record_cut)},
    };
    return variants(o, ct_pb, NULL, v, sizeof(v) / sizeof(v[0]), 400, d, cap);
}

static enum stint_conf_result s22(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    static const char nul[] =
        "{\"agentId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"clientVersion\":\"a\0b\"}";
    static const char *const texts[] = {
        "{\"agentId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"nowMs\":",
        "{\"agentId\":\"AAECAwQFBgcICQoLDA0ODw==\"} trailing",
        nul,
        "{\"agentId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"nowMs\":{}}",
        ("{\"agentId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"records\":[{\"seq\":\"1e3\","
         "\"startMs\":\"1\",\"endMs\":\"2\"}]}"),
        "{\"agentId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"records\":{}}",
        "{'agentId':'AAECAwQFBgcICQoLDA0ODw=='}",
    };
    static const char *const whats[] = {"truncated JSON",
                                        "trailing garbage",
                                        "a raw NUL in a string",
                                        "nowMs as an object",
                                        "an integer string with an exponent",
                                        "records as an object",
                                        "single quotes"};
    struct variant v[7];
    size_t i;

    for (i = 0; i < 7; i++) {
        v[i].what = whats[i];
        v[i].p = (const uint8_t *)texts[i];
        v[i].n = texts[i] == nul ? sizeof(nul) - 1 : strlen(texts[i]);
    }
    return variants(o, ct_json, NULL, v, 7, 400, d, cap);
}

/* A batch (agent, now_ms) with one record whose title is `title` raw, into out. */
static enum stint_err raw_batch_title(const uint8_t *agent, const char *title, size_t tlen,
                                      struct stint_buf *out)
{
    struct stint_buf rec = {0};
    struct stint_record r;
    enum stint_err rc;

    stint_conf_record_typical(&r, 1);
    rc = stint_conf_pb_tag(&rec, 1, 0);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(&rec, r.seq);
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(&rec, 2, 0);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(&rec, (uint64_t)r.start_ms);
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(&rec, 3, 0);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(&rec, (uint64_t)r.end_ms);
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(&rec, 4, 0);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(&rec, 1);
    if (rc == STINT_OK)
        rc = stint_conf_pb_bytes(&rec, 7, title, tlen);
    if (rc == STINT_OK)
        rc = stint_conf_pb_bytes(out, 1, agent, 16);
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(out, 3, 0);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(out, (uint64_t)stint_clock_wall_ms());
    if (rc == STINT_OK)
        rc = stint_conf_pb_bytes(out, 4, rec.data, rec.len);
    stint_buf_free(&rec);
    return rc;
}

static enum stint_conf_result s23(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    static const char *const titles[] = {
        "bad \xc3\x28 byte",      "overlong \xc0\xaf slash",        "surrogate \xed\xa0\x80 half",
        "lone \x80 continuation", "past U+10FFFF \xf4\x90\x80\x80", "cut \xe2\x82"};
    static const char *const whats[] = {"a bad second byte",          "an overlong form",
                                        "a UTF-16 surrogate",         "a lone continuation byte",
                                        "a code point past U+10FFFF", "a sequence cut short"};
    struct stint_buf bodies[6];
    struct variant v[6];
    uint8_t agent[16];
    enum stint_conf_result res = STINT_CONF_FAIL;
    size_t i;

    memset(bodies, 0, sizeof(bodies));
    stint_conf_random(agent, 16);
    for (i = 0; i < 6; i++) {
        if (raw_batch_title(agent, titles[i], strlen(titles[i]), &bodies[i]) != STINT_OK)
            goto cleanup;
        v[i] = (struct variant){whats[i], bodies[i].data, bodies[i].len};
    }
    res = variants(o, ct_pb, NULL, v, 6, 400, d, cap);
cleanup:
    for (i = 0; i < 6; i++)
        stint_buf_free(&bodies[i]);
    return res;
}

static enum stint_conf_result s24(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf b5 = {0}, b17 = {0}, good = {0}, none = {0};
    struct stint_conf_batch nb = {STINT_CONF_PB, NULL, 1, 2, false, NULL, NULL};
    uint8_t agent[17];
    struct variant v[3];
    enum stint_conf_result res = STINT_CONF_FAIL;

    stint_conf_random(agent, 17);
    if (good_body(&good, STINT_CONF_PB) != STINT_OK)
        goto cleanup;
    /* the last agent_id on the wire wins: append a bad one after a good batch */
    if (stint_buf_append(&b5, good.data, good.len) != STINT_OK ||
        stint_conf_pb_bytes(&b5, 1, agent, 5) != STINT_OK ||
        stint_buf_append(&b17, good.data, good.len) != STINT_OK ||
        stint_conf_pb_bytes(&b17, 1, agent, 17) != STINT_OK)
        goto cleanup;
    v[0] = (struct variant){"a 5-byte agent_id", b5.data, b5.len};
    v[1] = (struct variant){"a 17-byte agent_id", b17.data, b17.len};
    if (encode(&nb, false, &none) != STINT_OK)
        goto cleanup;
    v[2] = (struct variant){"no agent_id", none.data, none.len};
    res = variants(o, ct_pb, NULL, v, 3, 400, d, cap);
cleanup:
    stint_buf_free(&none);
    stint_buf_free(&b5);
    stint_buf_free(&b17);
    stint_buf_free(&good);
    return res;
}

static enum stint_conf_result s25(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 0, false, NULL, NULL};
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600], what[100];

    stint_conf_random(agent, 16);
    b.n = o->max_records + 1;
    bearer(o->token, auth, sizeof(auth));
    if (encode(&b, false, &body) != STINT_OK) {
        D("cannot encode");
        goto cleanup;
    }
    if (body.len > o->max_body) {
        D("%zu records take %zu bytes, over --max-body: cannot test", b.n, body.len);
        res = STINT_CONF_SKIP;
        goto cleanup;
    }
    snprintf(what, sizeof(what), "%zu records (limit %zu)", b.n, o->max_records);
    res = refuse(o, auth, ct_pb, NULL, body.data, body.len, 413, what, d, cap);
    if (res == STINT_CONF_PASS)
        D("413 for %zu records", b.n);
cleanup:
    stint_buf_free(&body);
    return res;
}

/* ---- forward compatibility and JSON: S26-S30 ---- */

static enum stint_conf_result s26(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_buf body = {0}, rec = {0};
    struct stint_record r;
    struct stint_conf_resp resp = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    enum stint_err rc = STINT_OK;
    uint64_t seq;

    stint_conf_random(agent, 16);
    rc = stint_conf_pb_bytes(&body, 1, agent, 16);
    /* batch level: a varint, a 64-bit, a length-delimited and a 32-bit field of later versions */
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(&body, 99, 0);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(&body, 123456789);
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(&body, 100, 1);
    if (rc == STINT_OK)
        rc = stint_buf_append(&body, "\1\2\3\4\5\6\7\10", 8);
    if (rc == STINT_OK)
        rc = stint_conf_pb_bytes(&body, 101, "\x0a\x03xyz", 5);
    if (rc == STINT_OK)
        rc = stint_conf_pb_tag(&body, 102, 5);
    if (rc == STINT_OK)
        rc = stint_buf_append(&body, "\1\2\3\4", 4);
    for (seq = 1; seq <= 2 && rc == STINT_OK; seq++) {
        stint_buf_reset(&rec);
        stint_conf_record_typical(&r, seq);
        rc = stint_pb_encode_record(&r, &rec);
        if (rc == STINT_OK)
            rc = stint_conf_pb_tag(&rec, 50, 5);
        if (rc == STINT_OK)
            rc = stint_buf_append(&rec, "abcd", 4);
        if (rc == STINT_OK)
            rc = stint_conf_pb_bytes(&rec, 51, "future", 6);
        if (rc == STINT_OK)
            rc = stint_conf_pb_tag(&rec, 536870911, 0); /* the largest field number */
        if (rc == STINT_OK)
            rc = stint_conf_pb_varint(&rec, 1);
        if (rc == STINT_OK)
            rc = stint_conf_pb_bytes(&body, 4, rec.data, rec.len);
    }
    if (rc != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, NULL, &body, &resp) != STINT_OK) {
        res = no_answer(&resp, d, cap);
        goto cleanup;
    }
    if (want_ack(&resp, &ack, "batch with unknown fields", d, cap) &&
        ack_is(&ack, 2, 2, 0, 0, "batch with unknown fields", d, cap)) {
        D("200, 2 records stored past 8 unknown fields");
        res = STINT_CONF_PASS;
    }
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&resp);
    stint_buf_free(&body);
    stint_buf_free(&rec);
    return res;
}

/* Posts a hand-written JSON batch and expects 200 with `stored` records stored. */
static enum stint_conf_result post_json(const struct stint_conf_server_opts *o, const char *text,
                                        uint64_t acked, uint64_t stored, const char *what, char *d,
                                        size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp resp = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (stint_buf_append_str(&body, text) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_json, NULL, NULL, &body, &resp) != STINT_OK) {
        res = no_answer(&resp, d, cap);
        goto cleanup;
    }
    if (want_ack(&resp, &ack, what, d, cap) && ack_is(&ack, acked, stored, 0, 0, what, d, cap))
        res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&resp);
    stint_buf_free(&body);
    return res;
}

/* The agent id as base64 and the kit's time base, for hand-written JSON. */
static void json_parts(char *b64, size_t cap_b64, long long *t0)
{
    uint8_t agent[16];
    struct stint_buf b = {0};
    struct stint_record r;

    stint_conf_random(agent, 16);
    if (stint_base64_encode(agent, 16, &b) == STINT_OK && b.len < cap_b64) {
        memcpy(b64, b.data, b.len);
        b64[b.len] = '\0';
    } else {
        snprintf(b64, cap_b64, "AAECAwQFBgcICQoLDA0ODw==");
    }
    stint_buf_free(&b);
    stint_conf_record_typical(&r, 1);
    *t0 = (long long)r.start_ms;
}

static enum stint_conf_result s27(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char b64[64], text[2048];
    long long t0;
    enum stint_conf_result res;

    json_parts(b64, sizeof(b64), &t0);
    snprintf(text, sizeof(text),
             "{\"agentId\":\"%s\",\"futureHeader\":{\"a\":[1,2,{\"b\":null}]},\"nowMs\":\"%lld\","
             "\"records\":[{\"seq\":\"1\",\"startMs\":\"%lld\",\"endMs\":\"%lld\","
             "\"kind\":\"KIND_ACTIVE\",\"app\":\"x\",\"futureField\":\"y\"},"
             "{\"seq\":\"2\",\"startMs\":\"%lld\",\"endMs\":\"%lld\",\"futureFlag\":true,"
             "\"futureList\":[]}],\"futureTail\":42}",
             b64, (long long)stint_clock_wall_ms(), t0, t0 + 500, t0 + 1000, t0 + 1500);
    res = post_json(o, text, 2, 2, "JSON with unknown members", d, cap);
    if (res == STINT_CONF_PASS)
        D("200, 2 records stored past 6 unknown members");
    return res;
}

static enum stint_conf_result s28(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char b64[64], text[2048];
    long long t0;
    enum stint_conf_result res;

    json_parts(b64, sizeof(b64), &t0);
    snprintf(text, sizeof(text),
             "{\"agentId\":\"%s\",\"nowMs\":%lld,\"records\":["
             "{\"seq\":\"1\",\"startMs\":\"%lld\",\"endMs\":\"%lld\",\"kind\":\"KIND_ACTIVE\"},"
             "{\"seq\":2,\"startMs\":%lld,\"endMs\":%lld,\"kind\":\"KIND_ACTIVE\"},"
             "{\"seq\":3.0,\"startMs\":%lld.0,\"endMs\":%lld,\"kind\":\"KIND_ACTIVE\"},"
             "{\"seq\":4e0,\"startMs\":\"%lld\",\"endMs\":%lld,\"kind\":\"KIND_ACTIVE\"}]}",
             b64, (long long)stint_clock_wall_ms(), t0, t0 + 500, t0 + 1000, t0 + 1500, t0 + 2000,
             t0 + 2500, t0 + 3000, t0 + 3500);
    res = post_json(o, text, 4, 4, "int64 as strings and numbers", d, cap);
    if (res == STINT_CONF_PASS)
        D("200, 4 records stored: strings, numbers, 3.0 and 4e0");
    return res;
}

static enum stint_conf_result s29(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char b64[64], text[2048];
    long long t0;
    enum stint_conf_result res;

    json_parts(b64, sizeof(b64), &t0);
    snprintf(text, sizeof(text),
             "{\"agent_id\":\"%s\",\"client_version\":\"conformance\",\"now_ms\":\"%lld\","
             "\"records\":[{\"seq\":\"1\",\"start_ms\":\"%lld\",\"end_ms\":\"%lld\",\"kind\":1,"
             "\"app\":\"x\"},{\"seq\":\"2\",\"start_ms\":\"%lld\",\"end_ms\":\"%lld\","
             "\"kind\":2}]}",
             b64, (long long)stint_clock_wall_ms(), t0, t0 + 500, t0 + 1000, t0 + 1500);
    res = post_json(o, text, 2, 2, "proto names and enum numbers", d, cap);
    if (res == STINT_CONF_PASS)
        D("200, 2 records stored from proto field names and enum numbers");
    return res;
}

static enum stint_conf_result s30(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    json_t *root = NULL, *v;
    json_error_t jerr;
    static const char *const members[] = {"ackedSeq", "stored", "serverTimeMs"};
    size_t i;

    if (good_body(&body, STINT_CONF_JSON) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_json, NULL, NULL, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_status(&r, 200, "JSON batch", d, cap))
        goto cleanup;
    root = json_loadb((const char *)r.body.data, r.body.len, 0, &jerr);
    if (!json_is_object(root)) {
        D("the Ack is not a JSON object: %s", jerr.text);
        goto cleanup;
    }
    for (i = 0; i < 3; i++) {
        v = json_object_get(root, members[i]);
        if (v && !json_is_string(v)) {
            D("%s is written as a JSON %s, not a string", members[i],
              json_is_integer(v) ? "number" : "value of another type");
            goto cleanup;
        }
    }
    D("64-bit members of the Ack are strings");
    res = STINT_CONF_PASS;
cleanup:
    json_decref(root);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

/* ---- error bodies and headers: S31-S35 ---- */

static bool error_body_ok(const struct stint_conf_resp *r, char *why, size_t cap)
{
    json_t *root = NULL, *e, *code, *msg;
    json_error_t jerr;
    char mt[128];
    bool ok = false;

    stint_media_type(r->content_type, mt, sizeof(mt));
    if (strcmp(mt, "application/json") != 0) {
        snprintf(why, cap, "Content-Type '%s', expected application/json", r->content_type);
        return false;
    }
    root = json_loadb(r->body.data ? (const char *)r->body.data : "", r->body.len, 0, &jerr);
    e = json_object_get(root, "error");
    code = json_object_get(e, "code");
    msg = json_object_get(e, "message");
    if (!root)
        snprintf(why, cap, "the body is not JSON (%s)", jerr.text);
    else if (!json_is_object(e))
        snprintf(why, cap, "no \"error\" object");
    else if (!json_is_string(code) || json_string_length(code) == 0)
        snprintf(why, cap, "error.code is not a non-empty string");
    else if (!json_is_string(msg))
        snprintf(why, cap, "error.message is not a string");
    else
        ok = true;
    json_decref(root);
    return ok;
}

static enum stint_conf_result s31(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    static const uint8_t garbage[] = {0x0a, 0xc8, 0x01, 'x'};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    char auth[600], why[200];
    enum stint_conf_result res = STINT_CONF_FAIL;
    size_t i, errors = 0;
    struct req {
        const char *what, *method, *path, *auth, *ctype;
        const void *p;
        size_t n;
    };

    bearer(o->token, auth, sizeof(auth));
    if (good_body(&body, STINT_CONF_PB) != STINT_OK)
        goto cleanup;
    {
        const struct req reqs[5] = {
            {"Basic credentials", "POST", "/v1/batches", "Basic c3RpbnQ6c3RpbnQ=", ct_pb, body.data,
             body.len},
            {"text/plain", "POST", "/v1/batches", auth, "text/plain", body.data, body.len},
            {"malformed protobuf", "POST", "/v1/batches", auth, ct_pb, garbage, sizeof(garbage)},
            {"an unknown path", "GET", "/v1/stint-conformance-nothing", auth, NULL, NULL, 0},
            {"a DELETE of /v1/batches", "DELETE", "/v1/batches", auth, NULL, NULL, 0},
        };
        for (i = 0; i < 5; i++) {
            if (request(o, reqs[i].method, reqs[i].path, reqs[i].auth, reqs[i].ctype, NULL, NULL,
                        reqs[i].p, reqs[i].n, &r) != STINT_OK) {
                res = no_answer(&r, d, cap);
                goto cleanup;
            }
            if (r.status < 400)
                continue; /* other cases judge the status; this one judges error bodies */
            errors++;
            if (!error_body_ok(&r, why, sizeof(why))) {
                D("%s answered %ld: %s", reqs[i].what, r.status, why);
                goto cleanup;
            }
        }
    }
    if (errors == 0) {
        D("none of the 5 requests was refused: no error body to check");
        goto cleanup;
    }
    D("%zu refusals, each with the error body", errors);
    res = STINT_CONF_PASS;
cleanup:
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s32(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (good_body(&body, STINT_CONF_PB) != STINT_OK)
        goto cleanup;
    if (request(o, "POST", "/v1/batches", "Basic c3RpbnQ6c3RpbnQ=", ct_pb, NULL, NULL, body.data,
                body.len, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_status(&r, 401, "Basic credentials", d, cap))
        goto cleanup;
    if (!r.has_www_authenticate) {
        D("401 without WWW-Authenticate");
        goto cleanup;
    }
    if (strncasecmp(r.www_authenticate, "Bearer", 6) != 0 ||
        (r.www_authenticate[6] != '\0' && r.www_authenticate[6] != ' ')) {
        D("WWW-Authenticate: %s does not name Bearer", r.www_authenticate);
        goto cleanup;
    }
    D("401 with WWW-Authenticate: %s", r.www_authenticate);
    res = STINT_CONF_PASS;
cleanup:
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s33(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (request(o, "GET", "/v1/health", NULL, NULL, NULL, NULL, NULL, 0, &r) != STINT_OK)
        res = no_answer(&r, d, cap);
    else if (want_status(&r, 200, "GET /v1/health", d, cap)) {
        D("200 without authentication");
        res = STINT_CONF_PASS;
    }
    stint_conf_resp_free(&r);
    return res;
}

static enum stint_conf_result s34(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600];

    bearer(o->token, auth, sizeof(auth));
    if (request(o, "GET", "/v1/batches", auth, NULL, NULL, NULL, NULL, 0, &r) != STINT_OK)
        res = no_answer(&r, d, cap);
    else if (want_status(&r, 405, "GET /v1/batches", d, cap)) {
        if (!strstr(r.allow, "POST"))
            D("405 with Allow '%s', which does not name POST", r.allow);
        else {
            D("405 with Allow: %s", r.allow);
            res = STINT_CONF_PASS;
        }
    }
    stint_conf_resp_free(&r);
    return res;
}

static enum stint_conf_result s35(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600];

    bearer(o->token, auth, sizeof(auth));
    if (request(o, "GET", "/v1/stint-conformance-nothing", auth, NULL, NULL, NULL, NULL, 0, &r) !=
        STINT_OK)
        res = no_answer(&r, d, cap);
    else if (want_status(&r, 404, "GET of an unknown path", d, cap)) {
        D("404");
        res = STINT_CONF_PASS;
    }
    stint_conf_resp_free(&r);
    return res;
}

/* ---- throttling: S36, S37 ---- */

/* Runs the throttle command once per run, sends batches until a 429/503 comes (3 tries), runs
 * the unthrottle command. Returns false (with why) when it could not. */
static bool throttle_probe(const struct stint_conf_server_opts *o, char *why, size_t cap)
{
    static int done;
    static bool ok;
    static char msg[200];
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    int i;

    if (done)
        goto out;
    done = 1;
    if (!o->throttle_cmd) {
        snprintf(msg, sizeof(msg),
                 "no 429 or 503 seen; --throttle-cmd tells the kit how to "
                 "provoke one");
        goto out;
    }
    if (system(o->throttle_cmd) != 0) {
        snprintf(msg, sizeof(msg), "--throttle-cmd failed: %s", o->throttle_cmd);
        goto out;
    }
    for (i = 0; i < 3 && !ok; i++) {
        if (good_body(&body, STINT_CONF_PB) != STINT_OK)
            break;
        if (post(o, o->token, ct_pb, NULL, NULL, &body, &r) == STINT_OK &&
            (r.status == 429 || r.status == 503))
            ok = true;
    }
    if (!ok)
        snprintf(msg, sizeof(msg), "after --throttle-cmd the server still answered %ld", r.status);
    if (o->unthrottle_cmd && system(o->unthrottle_cmd) != 0) {
        snprintf(msg, sizeof(msg), "--unthrottle-cmd failed: %s", o->unthrottle_cmd);
        ok = false;
    }
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
out:
    snprintf(why, cap, "%s", msg);
    return ok || throttled.seen;
}

static enum stint_conf_result s36(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char why[200];

    if (!throttle_probe(o, why, sizeof(why))) {
        D("%s", why);
        return STINT_CONF_SKIP;
    }
    if (throttled.malformed) {
        D("%s: neither delta-seconds nor an IMF-fixdate", throttled.status_and_value);
        return STINT_CONF_FAIL;
    }
    D("%d answers 429/503, %d with a well-formed Retry-After%s%s", throttled.seen,
      throttled.seen - throttled.missing, throttled.first[0] ? " (first: " : "",
      throttled.first[0] ? throttled.first : "");
    if (throttled.first[0])
        snprintf(d + strlen(d), cap - strlen(d), ")");
    return STINT_CONF_PASS;
}

static enum stint_conf_result s37(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char why[200];

    if (!throttle_probe(o, why, sizeof(why))) {
        D("%s", why);
        return STINT_CONF_SKIP;
    }
    if (throttled.missing) {
        D("%d of %d answers 429/503 had no Retry-After", throttled.missing, throttled.seen);
        return STINT_CONF_FAIL;
    }
    D("every 429/503 (%d) had Retry-After", throttled.seen);
    return STINT_CONF_PASS;
}

/* ---- accounts: S38-S40 ---- */

static enum stint_conf_result s38(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 3, false, NULL, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200];

    stint_conf_random(agent, 16);
    stint_conf_idem_key(agent, 1, 3, NULL, key, sizeof(key));
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &ack, "account A, records 1-3", d, cap) ||
        !ack_is(&ack, 3, 3, 0, 0, "account A, records 1-3", d, cap))
        goto cleanup;
    stint_ack_free(&ack);
    b.n = 4;
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token_b, ct_pb, NULL, key, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &ack, "account B, same agent and key, records 1-4", d, cap) ||
        !ack_is(&ack, 4, 4, 0, 0, "account B, same agent and key, records 1-4", d, cap))
        goto cleanup;
    D("account B stored its own 4 records under A's agent_id and key");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result delete_as(const struct stint_conf_server_opts *o, const char *auth,
                                        long want, const char *what, char *d, size_t cap)
{
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (request(o, "DELETE", "/v1/data", auth, NULL, NULL, NULL, NULL, 0, &r) != STINT_OK)
        res = no_answer(&r, d, cap);
    else if (want_status(&r, want, what, d, cap))
        res = STINT_CONF_PASS;
    stint_conf_resp_free(&r);
    return res;
}

static enum stint_conf_result s39(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    enum stint_conf_result res;
    char auth[600];

    stint_conf_random(agent, 16);
    bearer(o->token, auth, sizeof(auth));
    if ((res = send_expect(o, o->token, agent, 1, 3, ":a1", 3, 0, "account A, records 1-3", d,
                           cap)) != STINT_CONF_PASS ||
        (res = send_expect(o, o->token_b, agent, 1, 3, ":b1", 3, 0, "account B, records 1-3", d,
                           cap)) != STINT_CONF_PASS ||
        (res = delete_as(o, auth, 200, "DELETE /v1/data as A", d, cap)) != STINT_CONF_PASS ||
        (res = send_expect(o, o->token, agent, 1, 3, ":a2", 3, 0,
                           "account A, records 1-3 after its deletion", d, cap)) !=
            STINT_CONF_PASS ||
        (res = send_expect(o, o->token_b, agent, 1, 3, ":b2", 0, 3,
                           "account B, records 1-3 after A's deletion", d, cap)) != STINT_CONF_PASS)
        return res;
    D("A's records deleted (stored anew), B's still held (duplicates)");
    return STINT_CONF_PASS;
}

static enum stint_conf_result s40(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    enum stint_conf_result res;

    stint_conf_random(agent, 16);
    if ((res = send_expect(o, o->token, agent, 1, 3, ":d1", 3, 0, "account A, records 1-3", d,
                           cap)) != STINT_CONF_PASS ||
        (res = delete_as(o, "Bearer stint-conformance-unknown-token", 401,
                         "DELETE /v1/data with an unknown token", d, cap)) != STINT_CONF_PASS ||
        (res = send_expect(o, o->token, agent, 1, 3, ":d2", 0, 3,
                           "account A, records 1-3 after the refused DELETE", d, cap)) !=
            STINT_CONF_PASS)
        return res;
    D("401, and A's records still held");
    return STINT_CONF_PASS;
}

static enum stint_conf_result s41(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char long_key[202];
    const char *keys[3];
    static const char *const whats[] = {"a key with a space inside", "a 201-character key",
                                        "a key with non-ASCII bytes"};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    size_t i;

    memset(long_key, 'k', 201);
    long_key[201] = '\0';
    keys[0] = "stint conformance";
    keys[1] = long_key;
    keys[2] = "cl\xc3\xa9-conformance";
    for (i = 0; i < 3; i++) {
        if (good_body(&body, STINT_CONF_PB) != STINT_OK)
            goto cleanup;
        if (post(o, o->token, ct_pb, NULL, keys[i], &body, &r) != STINT_OK) {
            res = no_answer(&r, d, cap);
            goto cleanup;
        }
        if (!want_status(&r, 400, whats[i], d, cap))
            goto cleanup;
    }
    D("400 for each of 3 malformed keys");
    res = STINT_CONF_PASS;
cleanup:
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s42(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char auth[600];
    uint8_t rnd[4];
    long long now = (long long)(stint_clock_wall_ms() / 1000), s0;
    int pass;

    /* a start time of its own, so that earlier runs hold none of these records */
    stint_conf_random(rnd, sizeof(rnd));
    s0 = now - 7200 -
         (long long)(((uint32_t)rnd[0] << 16 | (uint32_t)rnd[1] << 8 | rnd[2]) % 5000000u) * 60;
    bearer(o->token, auth, sizeof(auth));
    if (stint_buf_printf(&body,
                         "now=%lld&version=stint-conformance"
                         "&log%%5B0%%5D%%5Bapp%%5D=xterm&log%%5B0%%5D%%5Bpath%%5D=%%2Fusr%%2Fbin"
                         "%%2Fxterm&log%%5B0%%5D%%5Bwin%%5D=make+test&log%%5B0%%5D%%5Burl%%5D="
                         "&log%%5B0%%5D%%5Bstart%%5D=%lld&log%%5B0%%5D%%5Bend%%5D=%lld"
                         "&log%%5B1%%5D%%5Bapp%%5D=firefox&log%%5B1%%5D%%5Bpath%%5D="
                         "&log%%5B1%%5D%%5Bwin%%5D=Stint&log%%5B1%%5D%%5Burl%%5D=stint.example"
                         "&log%%5B1%%5D%%5Bstart%%5D=%lld&log%%5B1%%5D%%5Bend%%5D=%lld"
                         "&log%%5B2%%5D%%5Bapp%%5D=code&log%%5B2%%5D%%5Bpath%%5D="
                         "&log%%5B2%%5D%%5Bwin%%5D=journal.c&log%%5B2%%5D%%5Burl%%5D="
                         "&log%%5B2%%5D%%5Bstart%%5D=%lld",
                         now, s0, s0 + 5, s0 + 10, s0 + 15, s0 + 20) != STINT_OK)
        goto cleanup;
    for (pass = 0; pass < 2; pass++) {
        const char *what = pass ? "the first legacy record again, alone" : "a legacy form payload";
        if (pass) {
            /* another payload (a replay of the same bytes would get the kept Ack): record 0 */
            stint_buf_reset(&body);
            if (stint_buf_printf(&body,
                                 "now=%lld&version=stint-conformance"
                                 "&log%%5B0%%5D%%5Bapp%%5D=xterm&log%%5B0%%5D%%5Bpath%%5D=%%2Fusr"
                                 "%%2Fbin%%2Fxterm&log%%5B0%%5D%%5Bwin%%5D=make+test"
                                 "&log%%5B0%%5D%%5Burl%%5D=&log%%5B0%%5D%%5Bstart%%5D=%lld"
                                 "&log%%5B0%%5D%%5Bend%%5D=%lld",
                                 now, s0, s0 + 5) != STINT_OK)
                goto cleanup;
        }
        if (request(o, "POST", "/v1/legacy", auth, "application/x-www-form-urlencoded", NULL, NULL,
                    body.data, body.len, &r) != STINT_OK) {
            res = no_answer(&r, d, cap);
            goto cleanup;
        }
        stint_ack_free(&ack);
        if (!want_ack(&r, &ack, what, d, cap) ||
            !counts_are(&ack, pass ? 0 : 2, pass ? 1 : 0, 0, what, d, cap))
            goto cleanup;
    }
    D("200: 2 closed records stored once, the open one not stored");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

/* ---- legacy identity, kinds, kept Acks, seq order: S43-S48 ---- */

/* A legacy record for a form payload. */
struct lrec {
    const char *app, *win;
    long long start, end;
};

/* A random start second a day or more ago and a random tag, so that earlier runs against the
 * same server hold none of the records a case sends. */
static void fresh_legacy(long long *s0, char *tag, size_t cap)
{
    uint8_t rnd[8];
    long long now = (long long)(stint_clock_wall_ms() / 1000);

    stint_conf_random(rnd, sizeof(rnd));
    *s0 = now - 86400 -
          (long long)(((uint32_t)rnd[0] << 16 | (uint32_t)rnd[1] << 8 | rnd[2]) % 5000000u) * 60;
    snprintf(tag, cap, "%02x%02x%02x%02x%02x", rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

/* The form payload (http_build_query) of n closed records; win gets " tag" appended. */
static enum stint_err legacy_form(struct stint_buf *out, long long now, const struct lrec *r,
                                  size_t n, const char *tag)
{
    enum stint_err rc;
    size_t i;

    stint_buf_reset(out);
    rc = stint_buf_printf(out, "now=%lld&version=stint-conformance", now);
    for (i = 0; i < n && rc == STINT_OK; i++)
        rc = stint_buf_printf(out,
                              "&log%%5B%zu%%5D%%5Bapp%%5D=%s&log%%5B%zu%%5D%%5Bpath%%5D="
                              "&log%%5B%zu%%5D%%5Bwin%%5D=%s+%s&log%%5B%zu%%5D%%5Burl%%5D="
                              "&log%%5B%zu%%5D%%5Bstart%%5D=%lld&log%%5B%zu%%5D%%5Bend%%5D=%lld",
                              i, r[i].app, i, i, r[i].win, tag, i, i, r[i].start, i, r[i].end);
    return rc;
}

/* POSTs a form payload to /v1/legacy; extra header lines may be NULL. SKIP (with the detail)
 * when the server has no legacy endpoint (404, 501: S42 says so). */
static enum stint_conf_result legacy_post(const struct stint_conf_server_opts *o,
                                          const struct stint_buf *body, const char *key,
                                          const char *const *extra, struct stint_ack *ack,
                                          const char *what, char *d, size_t cap,
                                          struct stint_conf_resp *r)
{
    char auth[600];

    bearer(o->token, auth, sizeof(auth));
    stint_ack_free(ack);
    memset(ack, 0, sizeof(*ack));
    if (request_x(o, "POST", "/v1/legacy", auth, "application/x-www-form-urlencoded", NULL, key,
                  extra, body->data, body->len, r) != STINT_OK)
        return no_answer(r, d, cap);
    if (r->status == 404 || r->status == 501) {
        D("no legacy endpoint (%ld): the legacy rules do not apply", r->status);
        return STINT_CONF_SKIP;
    }
    return want_ack(r, ack, what, d, cap) ? STINT_CONF_PASS : STINT_CONF_FAIL;
}

static enum stint_conf_result s43(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    long long s0;
    char tag[16];

    fresh_legacy(&s0, tag, sizeof(tag));
    {
        const struct lrec recs[] = {
            {"xterm", "make", s0, s0}, {"firefox", "docs", s0, s0}, {"xterm", "make", s0, s0}};
        if (legacy_form(&body, s0 + 5, recs, 3, tag) != STINT_OK)
            goto cleanup;
    }
    res = legacy_post(o, &body, NULL, NULL, &ack, "three records of one second", d, cap, &r);
    if (res != STINT_CONF_PASS)
        goto cleanup;
    res = STINT_CONF_FAIL;
    if (!counts_are(&ack, 3, 0, 0, "three records of one second, two identical", d, cap))
        goto cleanup;
    D("200, stored=3: records of one second, identical ones included, are distinct");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s44(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    uint8_t agent[2][16];
    char h_agent[2][80], key[2][200], tag[16];
    const char *h_seqs = STINT_LEGACY_SEQS_HEADER ": 1-2";
    long long s0;
    int i, j;

    fresh_legacy(&s0, tag, sizeof(tag));
    {
        const struct lrec recs[] = {{"xterm", "make", s0, s0 + 1}, {"code", "edit", s0, s0 + 2}};
        if (legacy_form(&body, s0 + 5, recs, 2, tag) != STINT_OK)
            goto cleanup;
    }
    for (i = 0; i < 2; i++) {
        int o_ = snprintf(h_agent[i], sizeof(h_agent[i]), "%s: ", STINT_LEGACY_AGENT_HEADER);
        stint_conf_random(agent[i], 16);
        for (j = 0; j < 16; j++)
            o_ += snprintf(h_agent[i] + o_, sizeof(h_agent[i]) - (size_t)o_, "%02x", agent[i][j]);
        stint_conf_idem_key(agent[i], 1, 2, NULL, key[i], sizeof(key[i]));
    }
    for (i = 0; i < 2; i++) {
        const char *extra[] = {h_agent[i], h_seqs, NULL};
        char what[64];
        snprintf(what, sizeof(what), "the payload from agent %c", 'A' + i);
        res = legacy_post(o, &body, key[i], extra, &ack, what, d, cap, &r);
        if (res != STINT_CONF_PASS)
            goto cleanup;
        res = STINT_CONF_FAIL;
        if (!counts_are(&ack, 2, 0, 0, what, d, cap))
            goto cleanup;
        if (strcmp(r.legacy_identity, "agent-seq") != 0) {
            D("%s: answered %s: %s, expected agent-seq", what, STINT_LEGACY_IDENTITY_HEADER,
              r.legacy_identity[0] ? r.legacy_identity : "(none)");
            goto cleanup;
        }
    }
    D("200 for each agent: stored=2 twice, Stint-Legacy-Identity: agent-seq");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s45(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    long long s0;
    char tag[16], key[64];
    struct lrec recs[3];

    fresh_legacy(&s0, tag, sizeof(tag));
    recs[0] = (struct lrec){"xterm", "make", s0, s0 + 4};
    recs[1] = (struct lrec){"firefox", "docs", s0 + 4, s0 + 9};
    recs[2] = (struct lrec){"code", "edit", s0 + 9, s0 + 12};
    if (legacy_form(&body, s0 + 20, recs, 3, tag) != STINT_OK)
        goto cleanup;
    res = legacy_post(o, &body, NULL, NULL, &ack, "a legacy payload", d, cap, &r);
    if (res != STINT_CONF_PASS)
        goto cleanup;
    res = STINT_CONF_FAIL;
    if (!counts_are(&ack, 3, 0, 0, "a legacy payload", d, cap))
        goto cleanup;
    /* the same records, sent again later: a new `now`, a new key */
    if (legacy_form(&body, s0 + 80, recs, 3, tag) != STINT_OK)
        goto cleanup;
    snprintf(key, sizeof(key), "conformance-legacy-replay-%s", tag);
    res = legacy_post(o, &body, key, NULL, &ack, "the payload replayed", d, cap, &r);
    if (res != STINT_CONF_PASS)
        goto cleanup;
    res = STINT_CONF_FAIL;
    if (!counts_are(&ack, 0, 3, 0, "the payload replayed under a new key", d, cap))
        goto cleanup;
    D("200: stored=3, then the replay stored=0 duplicates=3");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static void kind_nine(size_t i, struct stint_record *r, void *arg)
{
    (void)arg;
    if (i == 1)
        r->kind = 9; /* unnamed in v1.0; the record keeps its strings */
}

static enum stint_conf_result s46(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 2, false, kind_nine, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    int pass;

    for (pass = 0; pass < 2; pass++) {
        const char *what = pass ? "JSON, kind 9 as a number" : "protobuf, kind 9";
        stint_conf_random(agent, 16);
        b.enc = pass ? STINT_CONF_JSON : STINT_CONF_PB;
        if (encode(&b, false, &body) != STINT_OK)
            goto cleanup;
        if (post(o, o->token, pass ? ct_json : ct_pb, NULL, NULL, &body, &r) != STINT_OK) {
            res = no_answer(&r, d, cap);
            goto cleanup;
        }
        stint_ack_free(&ack);
        if (!want_ack(&r, &ack, what, d, cap) || !ack_is(&ack, 2, 2, 0, 0, what, d, cap))
            goto cleanup;
    }
    D("200, both records stored, in protobuf and in JSON");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

static enum stint_conf_result s47(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 2, false, bad_second, NULL};
    struct stint_buf body = {0}, first = {0}, first_body = {0};
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200], key1[200];
    int i;

    stint_conf_random(agent, 16);
    for (i = 0; i < 17; i++) {
        b.first_seq = 1 + 2 * (uint64_t)i;
        b.mutate = i == 0 ? bad_second : NULL; /* the first Ack carries a rejection */
        stint_conf_idem_key(agent, b.first_seq, b.first_seq + 1, NULL, key, sizeof(key));
        if (encode(&b, false, &body) != STINT_OK)
            goto cleanup;
        if (post(o, o->token, ct_pb, NULL, key, &body, &r) != STINT_OK) {
            res = no_answer(&r, d, cap);
            goto cleanup;
        }
        if (!want_status(&r, 200, "a batch", d, cap))
            goto cleanup;
        if (i == 0 && (stint_buf_append(&first, r.body.data, r.body.len) != STINT_OK ||
                       stint_buf_append(&first_body, body.data, body.len) != STINT_OK))
            goto cleanup;
        if (i == 0)
            snprintf(key1, sizeof(key1), "%s", key);
    }
    if (post(o, o->token, ct_pb, NULL, key1, &first_body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_status(&r, 200, "the first batch replayed", d, cap))
        goto cleanup;
    if (first.len != r.body.len || (first.len && memcmp(first.data, r.body.data, first.len))) {
        D("the first batch, replayed after 16 later ones, got another Ack (%zu and %zu bytes)",
          first.len, r.body.len);
        goto cleanup;
    }
    D("the first of 17 batches, replayed last, got its first Ack byte for byte");
    res = STINT_CONF_PASS;
cleanup:
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    stint_buf_free(&first);
    stint_buf_free(&first_body);
    return res;
}

static void decreasing(size_t i, struct stint_record *r, void *arg)
{
    static const uint64_t seqs[] = {5, 7, 6};
    (void)arg;
    r->seq = seqs[i];
}

static enum stint_conf_result s48(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 5, 3, false, decreasing, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    stint_conf_random(agent, 16);
    if (encode(&b, false, &body) != STINT_OK)
        goto cleanup;
    if (post(o, o->token, ct_pb, NULL, NULL, &body, &r) != STINT_OK) {
        res = no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!want_ack(&r, &ack, "seqs 5, 7, 6", d, cap) ||
        !ack_is(&ack, 7, 2, 0, 1, "seqs 5, 7, 6", d, cap))
        goto cleanup;
    if (ack.rejected[0].seq != 6 || ack.rejected[0].code != STINT_REJECT_BAD_SEQ) {
        D("the Rejection names seq %llu with %s, expected seq 6 with REJECT_BAD_SEQ",
          (unsigned long long)ack.rejected[0].seq, code_name(ack.rejected[0].code));
        goto cleanup;
    }
    D("200, stored 5 and 7, seq 6 rejected with REJECT_BAD_SEQ");
    res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

/* ---- the table of functions, in the order of cases[] ---- */

typedef enum stint_conf_result (*case_fn)(const struct stint_conf_server_opts *o, char *d,
                                          size_t cap);

static const case_fn fns[] = {s01, s02, s03, s04, s05, s06, s07, s08, s09, s10, s11, s12,
                              s13, s14, s15, s16, s17, s18, s19, s20, s21, s22, s23, s24,
                              s25, s26, s27, s28, s29, s30, s31, s32, s33, s34, s35, s36,
                              s37, s38, s39, s40, s41, s42, s43, s44, s45, s46, s47, s48};

_Static_assert(sizeof(fns) / sizeof(fns[0]) == N_CASES, "one function per case");

static double mono_s(void)
{
    return (double)stint_clock_mono_ns() / 1e9;
}

void stint_conf_server_run(const struct stint_conf_server_opts *o, size_t i,
                           struct stint_conf_outcome *out)
{
    double t0 = mono_s();

    memset(out, 0, sizeof(*out));
    out->info = &cases[i];
    out->result = fns[i](o, out->detail, sizeof(out->detail));
    out->seconds = mono_s() - t0;
}
