/* server_refuse.c — server-mode cases of stint-conformance, refusals: S14-S25.
 *
 * Each request breaks one rule and must be refused whole with the status the spec names; after a
 * 413 the same records are sent again to show that nothing of the refused request was stored. The
 * table at the end is the group's rows (see server_internal.h). */
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

/* ---- refusals: S14-S25 ---- */

/* Posts a body and expects one status. auth as in stint_case_request(). */
static enum stint_conf_result refuse(const struct stint_conf_server_opts *o, const char *auth,
                                     const char *ctype, const char *cenc, const void *body,
                                     size_t len, long want, const char *what, char *d, size_t cap)
{
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (stint_case_request(o, "POST", "/v1/batches", auth, ctype, cenc, NULL, body, len, &r) !=
            STINT_OK &&
        r.status == 0)
        res = stint_case_no_answer(&r, d, cap);
    else if (stint_case_want_status(&r, want, what, d, cap))
        res = STINT_CONF_PASS;
    stint_conf_resp_free(&r);
    return res;
}

static enum stint_conf_result s14(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    struct stint_buf body = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    if (stint_case_good_body(&body, STINT_CONF_PB) == STINT_OK)
        res = refuse(o, NULL, STINT_CASE_CT_PB, NULL, body.data, body.len, 401, "no Authorization",
                     d, cap);
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
    if (stint_case_good_body(&body, STINT_CONF_PB) == STINT_OK)
        res = refuse(o, auth, STINT_CASE_CT_PB, NULL, body.data, body.len, 401, "unknown token", d,
                     cap);
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

    stint_case_bearer(o->token, auth, sizeof(auth));
    if (stint_case_good_body(&body, STINT_CONF_PB) == STINT_OK)
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

    stint_case_bearer(o->token, auth, sizeof(auth));
    if (stint_case_good_body(&body, STINT_CONF_PB) == STINT_OK)
        res = refuse(o, auth, STINT_CASE_CT_PB, "br", body.data, body.len, 415,
                     "Content-Encoding: br", d, cap);
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
        stint_case_send_expect(o, o->token, agent, 1, 1, ":after-413", 1, 0,
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
    stint_case_bearer(o->token, auth, sizeof(auth));
    if (padded_body(agent, o->max_body + 1, &body) != STINT_OK) {
        D("cannot build the body");
        goto cleanup;
    }
    snprintf(what, sizeof(what), "a %zu-byte body (limit %zu)", body.len, o->max_body);
    res = refuse(o, auth, STINT_CASE_CT_PB, NULL, body.data, body.len, 413, what, d, cap);
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
    stint_case_bearer(o->token, auth, sizeof(auth));
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
    res = refuse(o, auth, STINT_CASE_CT_PB, "gzip", body.data, body.len, 413, what, d, cap);
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

    stint_case_bearer(o->token, auth, sizeof(auth));
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

    if (stint_case_good_body(&good, STINT_CONF_PB) != STINT_OK ||
        stint_conf_gzip(good.data, good.len, &gz) != STINT_OK || gz.len < 20)
        goto cleanup;
    v[0] = (struct variant){"plain text as gzip", not_gzip, sizeof(not_gzip) - 1};
    v[1] = (struct variant){"a gzip header and a broken stream", bad_header, sizeof(bad_header)};
    v[2] = (struct variant){"gzip cut short", gz.data, gz.len - 12};
    gz.data[gz.len - 6] ^= 0x55; /* the CRC32 of the trailer */
    v[3] = (struct variant){"gzip with a wrong CRC", gz.data, gz.len};
    res = variants(o, STINT_CASE_CT_PB, "gzip", v, 4, 400, d, cap);
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
    return variants(o, STINT_CASE_CT_PB, NULL, v, sizeof(v) / sizeof(v[0]), 400, d, cap);
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
    return variants(o, STINT_CASE_CT_JSON, NULL, v, 7, 400, d, cap);
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
    res = variants(o, STINT_CASE_CT_PB, NULL, v, 6, 400, d, cap);
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
    if (stint_case_good_body(&good, STINT_CONF_PB) != STINT_OK)
        goto cleanup;
    /* the last agent_id on the wire wins: append a bad one after a good batch */
    if (stint_buf_append(&b5, good.data, good.len) != STINT_OK ||
        stint_conf_pb_bytes(&b5, 1, agent, 5) != STINT_OK ||
        stint_buf_append(&b17, good.data, good.len) != STINT_OK ||
        stint_conf_pb_bytes(&b17, 1, agent, 17) != STINT_OK)
        goto cleanup;
    v[0] = (struct variant){"a 5-byte agent_id", b5.data, b5.len};
    v[1] = (struct variant){"a 17-byte agent_id", b17.data, b17.len};
    if (stint_case_encode(&nb, false, &none) != STINT_OK)
        goto cleanup;
    v[2] = (struct variant){"no agent_id", none.data, none.len};
    res = variants(o, STINT_CASE_CT_PB, NULL, v, 3, 400, d, cap);
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
    stint_case_bearer(o->token, auth, sizeof(auth));
    if (stint_case_encode(&b, false, &body) != STINT_OK) {
        D("cannot encode");
        goto cleanup;
    }
    if (body.len > o->max_body) {
        D("%zu records take %zu bytes, over --max-body: cannot test", b.n, body.len);
        res = STINT_CONF_SKIP;
        goto cleanup;
    }
    snprintf(what, sizeof(what), "%zu records (limit %zu)", b.n, o->max_records);
    res = refuse(o, auth, STINT_CASE_CT_PB, NULL, body.data, body.len, 413, what, d, cap);
    if (res == STINT_CONF_PASS)
        D("413 for %zu records", b.n);
cleanup:
    stint_buf_free(&body);
    return res;
}

/* ---- the rows: id, level, section, requirement, function ---- */

const struct stint_case stint_case_refuse[] = {
    {{"S14", STINT_CONF_MUST,
      "§6.3 Request headers (Authorization); §6.4 Status codes and the error body",
      "A batch without an Authorization header MUST be refused with 401."},
     s14},
    {{"S15", STINT_CONF_MUST,
      "§6.3 Request headers (Authorization); §6.4 Status codes and the error body",
      "A batch with a bearer token the server does not know MUST be refused with 401."},
     s15},
    {{"S16", STINT_CONF_MUST, "§6.3 Request headers (Content-Type)",
      "A body of any other Content-Type (text/plain) MUST be refused with 415."},
     s16},
    {{"S17", STINT_CONF_MUST, "§6.3 Request headers (Content-Encoding)",
      "A Content-Encoding other than gzip or identity (br) MUST be refused with 415."},
     s17},
    {{"S18", STINT_CONF_MUST, "§6.6 Limits; §6.4 Status codes and the error body",
      "A body over the server's limit as sent MUST be refused with 413, and nothing of it stored."},
     s18},
    {{"S19", STINT_CONF_MUST, "§6.6 Limits; §6.4 Status codes and the error body",
      "A gzip body that decompresses past the server's limit (a decompression bomb) MUST be "
      "refused with 413 without being inflated whole, and nothing of it stored."},
     s19},
    {{"S20", STINT_CONF_MUST,
      "§6.3 Request headers (Content-Encoding); §6.4 Status codes and the error body",
      "A body that is not valid gzip although Content-Encoding says gzip MUST be refused with "
      "400."},
     s20},
    {{"S21", STINT_CONF_MUST,
      "§3.7 Decoding rules; §6.4 Status codes and the error body (bad_batch)",
      "A body that is not a well-formed protobuf Batch (truncated length, wire type 3/4/6/7, "
      "field 0, an 11-byte varint) MUST be refused whole with 400."},
     s21},
    {{"S22", STINT_CONF_MUST, "§4 JSON mapping; §6.4 Status codes and the error body (bad_batch)",
      "Text that is not JSON (RFC 8259), a raw NUL, a value of the wrong type or an integer "
      "string with an exponent MUST be refused whole with 400."},
     s22},
    {{"S23", STINT_CONF_MUST, "§3.4 Strings; §6.4 Status codes and the error body (bad_batch)",
      "A decoder MUST refuse a message carrying invalid UTF-8 (overlong forms, surrogates, lone "
      "continuation bytes): 400."},
     s23},
    {{"S24", STINT_CONF_MUST,
      "§3.5 Batch; §6.4 Status codes and the error body (bad_batch, missing_agent_id)",
      "A decoder MUST refuse an agent_id of any length other than 0 or 16, and a server refuses a "
      "Batch without agent_id: 400."},
     s24},
    {{"S25", STINT_CONF_MUST, "§6.6 Limits; §6.4 Status codes and the error body",
      "A batch of more records than the server's limit MUST be refused with 413."},
     s25},
};
const size_t stint_case_refuse_n = sizeof(stint_case_refuse) / sizeof(stint_case_refuse[0]);
