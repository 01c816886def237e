/* server_read.c — server-mode cases of stint-conformance, forward compatibility, JSON, error
 * bodies, routes and throttling: S26-S37.
 *
 * What a server must read leniently (unknown fields, JSON number forms, proto names) and how it
 * must answer when it refuses (error body, WWW-Authenticate, 405, 404, Retry-After). The table at
 * the end is the group's rows (see server_internal.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "batch.h"
#include "server_internal.h"
#include "stint/base64.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "common/clock.h"

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
    if (stint_case_post(o, o->token, STINT_CASE_CT_PB, NULL, NULL, &body, &resp) != STINT_OK) {
        res = stint_case_no_answer(&resp, d, cap);
        goto cleanup;
    }
    if (stint_case_want_ack(&resp, &ack, "batch with unknown fields", d, cap) &&
        stint_case_ack_is(&ack, 2, 2, 0, 0, "batch with unknown fields", d, cap)) {
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
    if (stint_case_post(o, o->token, STINT_CASE_CT_JSON, NULL, NULL, &body, &resp) != STINT_OK) {
        res = stint_case_no_answer(&resp, d, cap);
        goto cleanup;
    }
    if (stint_case_want_ack(&resp, &ack, what, d, cap) &&
        stint_case_ack_is(&ack, acked, stored, 0, 0, what, d, cap))
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

    if (stint_case_good_body(&body, STINT_CONF_JSON) != STINT_OK)
        goto cleanup;
    if (stint_case_post(o, o->token, STINT_CASE_CT_JSON, NULL, NULL, &body, &r) != STINT_OK) {
        res = stint_case_no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!stint_case_want_status(&r, 200, "JSON batch", d, cap))
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

    stint_case_bearer(o->token, auth, sizeof(auth));
    if (stint_case_good_body(&body, STINT_CONF_PB) != STINT_OK)
        goto cleanup;
    {
        const struct req reqs[5] = {
            {"Basic credentials", "POST", "/v1/batches", "Basic c3RpbnQ6c3RpbnQ=", STINT_CASE_CT_PB,
             body.data, body.len},
            {"text/plain", "POST", "/v1/batches", auth, "text/plain", body.data, body.len},
            {"malformed protobuf", "POST", "/v1/batches", auth, STINT_CASE_CT_PB, garbage,
             sizeof(garbage)},
            {"an unknown path", "GET", "/v1/stint-conformance-nothing", auth, NULL, NULL, 0},
            {"a DELETE of /v1/batches", "DELETE", "/v1/batches", auth, NULL, NULL, 0},
        };
        for (i = 0; i < 5; i++) {
            if (stint_case_request(o, reqs[i].method, reqs[i].path, reqs[i].auth, reqs[i].ctype,
                                   NULL, NULL, reqs[i].p, reqs[i].n, &r) != STINT_OK) {
                res = stint_case_no_answer(&r, d, cap);
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

    if (stint_case_good_body(&body, STINT_CONF_PB) != STINT_OK)
        goto cleanup;
    if (stint_case_request(o, "POST", "/v1/batches", "Basic c3RpbnQ6c3RpbnQ=", STINT_CASE_CT_PB,
                           NULL, NULL, body.data, body.len, &r) != STINT_OK) {
        res = stint_case_no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!stint_case_want_status(&r, 401, "Basic credentials", d, cap))
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

    if (stint_case_request(o, "GET", "/v1/health", NULL, NULL, NULL, NULL, NULL, 0, &r) != STINT_OK)
        res = stint_case_no_answer(&r, d, cap);
    else if (stint_case_want_status(&r, 200, "GET /v1/health", d, cap)) {
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

    stint_case_bearer(o->token, auth, sizeof(auth));
    if (stint_case_request(o, "GET", "/v1/batches", auth, NULL, NULL, NULL, NULL, 0, &r) !=
        STINT_OK)
        res = stint_case_no_answer(&r, d, cap);
    else if (stint_case_want_status(&r, 405, "GET /v1/batches", d, cap)) {
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

    stint_case_bearer(o->token, auth, sizeof(auth));
    if (stint_case_request(o, "GET", "/v1/stint-conformance-nothing", auth, NULL, NULL, NULL, NULL,
                           0, &r) != STINT_OK)
        res = stint_case_no_answer(&r, d, cap);
    else if (stint_case_want_status(&r, 404, "GET of an unknown path", d, cap)) {
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
        if (stint_case_good_body(&body, STINT_CONF_PB) != STINT_OK)
            break;
        if (stint_case_post(o, o->token, STINT_CASE_CT_PB, NULL, NULL, &body, &r) == STINT_OK &&
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
    return ok || stint_case_throttled.seen;
}

static enum stint_conf_result s36(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    char why[200];

    if (!throttle_probe(o, why, sizeof(why))) {
        D("%s", why);
        return STINT_CONF_SKIP;
    }
    if (stint_case_throttled.malformed) {
        D("%s: neither delta-seconds nor an IMF-fixdate", stint_case_throttled.status_and_value);
        return STINT_CONF_FAIL;
    }
    D("%d answers 429/503, %d with a well-formed Retry-After%s%s", stint_case_throttled.seen,
      stint_case_throttled.seen - stint_case_throttled.missing,
      stint_case_throttled.first[0] ? " (first: " : "",
      stint_case_throttled.first[0] ? stint_case_throttled.first : "");
    if (stint_case_throttled.first[0])
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
    if (stint_case_throttled.missing) {
        D("%d of %d answers 429/503 had no Retry-After", stint_case_throttled.missing,
          stint_case_throttled.seen);
        return STINT_CONF_FAIL;
    }
    D("every 429/503 (%d) had Retry-After", stint_case_throttled.seen);
    return STINT_CONF_PASS;
}

/* ---- the rows: id, level, section, requirement, function ---- */

const struct stint_case stint_case_read[] = {
    {{"S26", STINT_CONF_MUST, "§3.7 Decoding rules; §9 Versioning and compatibility",
      "A decoder MUST skip protobuf fields it does not know (every wire type but groups), at "
      "batch and record level: the batch is accepted and its records stored."},
     s26},
    {{"S27", STINT_CONF_MUST, "§4 JSON mapping",
      "A JSON reader MUST ignore members it does not know, at batch and record level."},
     s27},
    {{"S28", STINT_CONF_MUST, "§4 JSON mapping",
      "A JSON reader MUST accept 64-bit integers both as decimal strings and as JSON numbers "
      "(an integral number with a fraction or exponent included)."},
     s28},
    {{"S29", STINT_CONF_MUST, "§4 JSON mapping",
      "A JSON reader MUST accept the proto field names (start_ms) as well as lowerCamelCase, and "
      "enums by number as well as by name."},
     s29},
    {{"S30", STINT_CONF_SHOULD, "§4 JSON mapping (output); §6.5 The Ack",
      "A JSON Ack SHOULD write 64-bit integers as decimal strings (proto3 JSON mapping)."},
     s30},
    {{"S31", STINT_CONF_MUST, "§6.4 Status codes and the error body",
      "Every refusal (4xx, 5xx) MUST carry Content-Type application/json and the body "
      "{\"error\":{\"code\":STRING,\"message\":STRING}}."},
     s31},
    {{"S32", STINT_CONF_MUST, "§6.4 Status codes and the error body (401; RFC 9110 §11.6.1)",
      "A 401 MUST carry WWW-Authenticate naming the Bearer scheme."},
     s32},
    {{"S33", STINT_CONF_SHOULD, "§6.2 Resources",
      "GET /v1/health SHOULD answer 200 without authentication."},
     s33},
    {{"S34", STINT_CONF_SHOULD, "§6.2 Resources (RFC 9110 §15.5.6)",
      "A method a route does not serve SHOULD be answered 405 with an Allow header."},
     s34},
    {{"S35", STINT_CONF_SHOULD, "§6.2 Resources", "An unknown path SHOULD be answered 404."}, s35},
    {{"S36", STINT_CONF_MUST,
      "§6.4 Status codes and the error body (Retry-After; RFC 9110 §10.2.3)",
      "A Retry-After sent with 429 or 503 MUST be delta-seconds or an IMF-fixdate."},
     s36},
    {{"S37", STINT_CONF_SHOULD, "§6.4 Status codes and the error body (Retry-After)",
      "A 429 or 503 SHOULD carry Retry-After."},
     s37},
};
const size_t stint_case_read_n = sizeof(stint_case_read) / sizeof(stint_case_read[0]);
