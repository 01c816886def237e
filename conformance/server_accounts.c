/* server_accounts.c — server-mode cases of stint-conformance, accounts, deletion, legacy identity
 * and kept Acks: S38-S48.
 *
 * Accounts are kept apart; DELETE /v1/data deletes one account's data; legacy payloads get an
 * identity; kinds of later versions are stored; kept Acks outlive later batches. The table at the
 * end is the group's rows (see server_internal.h). */
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
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_ack(&r, &ack, "account A, records 1-3", d, cap) ||
        !stint_case_ack_is(&ack, 3, 3, 0, 0, "account A, records 1-3", d, cap))
        goto cleanup;
    stint_ack_free(&ack);
    b.n = 4;
    if (!stint_case_send(o, o->token_b, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_ack(&r, &ack, "account B, same agent and key, records 1-4", d, cap) ||
        !stint_case_ack_is(&ack, 4, 4, 0, 0, "account B, same agent and key, records 1-4", d, cap))
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

    if (stint_case_request(o, "DELETE", "/v1/data", auth, NULL, NULL, NULL, NULL, 0, &r) !=
        STINT_OK)
        res = stint_case_no_answer(&r, d, cap);
    else if (stint_case_want_status(&r, want, what, d, cap))
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
    stint_case_bearer(o->token, auth, sizeof(auth));
    if ((res = stint_case_send_expect(o, o->token, agent, 1, 3, ":a1", 3, 0,
                                      "account A, records 1-3", d, cap)) != STINT_CONF_PASS ||
        (res = stint_case_send_expect(o, o->token_b, agent, 1, 3, ":b1", 3, 0,
                                      "account B, records 1-3", d, cap)) != STINT_CONF_PASS ||
        (res = delete_as(o, auth, 200, "DELETE /v1/data as A", d, cap)) != STINT_CONF_PASS ||
        (res = stint_case_send_expect(o, o->token, agent, 1, 3, ":a2", 3, 0,
                                      "account A, records 1-3 after its deletion", d, cap)) !=
            STINT_CONF_PASS ||
        (res = stint_case_send_expect(o, o->token_b, agent, 1, 3, ":b2", 0, 3,
                                      "account B, records 1-3 after A's deletion", d, cap)) !=
            STINT_CONF_PASS)
        return res;
    D("A's records deleted (stored anew), B's still held (duplicates)");
    return STINT_CONF_PASS;
}

static enum stint_conf_result s40(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    enum stint_conf_result res;

    stint_conf_random(agent, 16);
    if ((res = stint_case_send_expect(o, o->token, agent, 1, 3, ":d1", 3, 0,
                                      "account A, records 1-3", d, cap)) != STINT_CONF_PASS ||
        (res = delete_as(o, "Bearer stint-conformance-unknown-token", 401,
                         "DELETE /v1/data with an unknown token", d, cap)) != STINT_CONF_PASS ||
        (res = stint_case_send_expect(o, o->token, agent, 1, 3, ":d2", 0, 3,
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
        if (stint_case_good_body(&body, STINT_CONF_PB) != STINT_OK)
            goto cleanup;
        if (stint_case_post(o, o->token, STINT_CASE_CT_PB, NULL, keys[i], &body, &r) != STINT_OK) {
            res = stint_case_no_answer(&r, d, cap);
            goto cleanup;
        }
        if (!stint_case_want_status(&r, 400, whats[i], d, cap))
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
    stint_case_bearer(o->token, auth, sizeof(auth));
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
        if (stint_case_request(o, "POST", "/v1/legacy", auth, "application/x-www-form-urlencoded",
                               NULL, NULL, body.data, body.len, &r) != STINT_OK) {
            res = stint_case_no_answer(&r, d, cap);
            goto cleanup;
        }
        stint_ack_free(&ack);
        if (!stint_case_want_ack(&r, &ack, what, d, cap) ||
            !stint_case_counts_are(&ack, pass ? 0 : 2, pass ? 1 : 0, 0, what, d, cap))
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

    stint_case_bearer(o->token, auth, sizeof(auth));
    stint_ack_free(ack);
    memset(ack, 0, sizeof(*ack));
    if (stint_case_request_x(o, "POST", "/v1/legacy", auth, "application/x-www-form-urlencoded",
                             NULL, key, extra, body->data, body->len, r) != STINT_OK)
        return stint_case_no_answer(r, d, cap);
    if (r->status == 404 || r->status == 501) {
        D("no legacy endpoint (%ld): the legacy rules do not apply", r->status);
        return STINT_CONF_SKIP;
    }
    return stint_case_want_ack(r, ack, what, d, cap) ? STINT_CONF_PASS : STINT_CONF_FAIL;
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
    if (!stint_case_counts_are(&ack, 3, 0, 0, "three records of one second, two identical", d, cap))
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
        if (!stint_case_counts_are(&ack, 2, 0, 0, what, d, cap))
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
    if (!stint_case_counts_are(&ack, 3, 0, 0, "a legacy payload", d, cap))
        goto cleanup;
    /* the same records, sent again later: a new `now`, a new key */
    if (legacy_form(&body, s0 + 80, recs, 3, tag) != STINT_OK)
        goto cleanup;
    snprintf(key, sizeof(key), "conformance-legacy-replay-%s", tag);
    res = legacy_post(o, &body, key, NULL, &ack, "the payload replayed", d, cap, &r);
    if (res != STINT_CONF_PASS)
        goto cleanup;
    res = STINT_CONF_FAIL;
    if (!stint_case_counts_are(&ack, 0, 3, 0, "the payload replayed under a new key", d, cap))
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
        if (!stint_case_send(o, o->token, pass ? STINT_CASE_CT_JSON : STINT_CASE_CT_PB, false, NULL,
                             &b, &body, &r, d, cap))
            goto cleanup;
        stint_ack_free(&ack);
        if (!stint_case_want_ack(&r, &ack, what, d, cap) ||
            !stint_case_ack_is(&ack, 2, 2, 0, 0, what, d, cap))
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
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 2, false, stint_case_bad_second, NULL};
    struct stint_buf body = {0}, first = {0}, first_body = {0};
    struct stint_conf_resp r = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200], key1[200];
    int i;

    stint_conf_random(agent, 16);
    for (i = 0; i < 17; i++) {
        b.first_seq = 1 + 2 * (uint64_t)i;
        b.mutate = i == 0 ? stint_case_bad_second : NULL; /* the first Ack carries a rejection */
        stint_conf_idem_key(agent, b.first_seq, b.first_seq + 1, NULL, key, sizeof(key));
        if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
            goto cleanup;
        if (!stint_case_want_status(&r, 200, "a batch", d, cap))
            goto cleanup;
        if (i == 0 && (stint_buf_append(&first, r.body.data, r.body.len) != STINT_OK ||
                       stint_buf_append(&first_body, body.data, body.len) != STINT_OK))
            goto cleanup;
        if (i == 0)
            snprintf(key1, sizeof(key1), "%s", key);
    }
    if (stint_case_post(o, o->token, STINT_CASE_CT_PB, NULL, key1, &first_body, &r) != STINT_OK) {
        res = stint_case_no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!stint_case_want_status(&r, 200, "the first batch replayed", d, cap))
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
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, NULL, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_ack(&r, &ack, "seqs 5, 7, 6", d, cap) ||
        !stint_case_ack_is(&ack, 7, 2, 0, 1, "seqs 5, 7, 6", d, cap))
        goto cleanup;
    if (ack.rejected[0].seq != 6 || ack.rejected[0].code != STINT_REJECT_BAD_SEQ) {
        D("the Rejection names seq %llu with %s, expected seq 6 with REJECT_BAD_SEQ",
          (unsigned long long)ack.rejected[0].seq, stint_case_code_name(ack.rejected[0].code));
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

/* ---- the rows: id, level, section, requirement, function ---- */

const struct stint_case stint_case_accounts[] = {
    {{"S38", STINT_CONF_MUST, "§6.9 Time, accounts and deletion",
      "Accounts are isolated: de-duplication and Idempotency-Keys are per account, so account B "
      "sending account A's agent_id, seqs and key stores its own records."},
     s38},
    {{"S39", STINT_CONF_MUST, "§6.9 Time, accounts and deletion",
      "DELETE /v1/data deletes everything stored for the token's account and nothing of any "
      "other account: afterwards the same records are stored anew for A, and still held for B."},
     s39},
    {{"S40", STINT_CONF_MUST, "§6.9 Time, accounts and deletion",
      "DELETE /v1/data with a token the server does not know MUST be refused with 401, deleting "
      "nothing."},
     s40},
    {{"S41", STINT_CONF_MUST,
      "§6.3 Request headers (Idempotency-Key); §6.4 Status codes and the error body",
      "An Idempotency-Key that is not 1-200 visible ASCII characters is refused with 400 "
      "(bad_idempotency_key)."},
     s41},
    {{"S42", STINT_CONF_SHOULD, "§6.2 Resources (POST /v1/legacy); §5 Legacy payload",
      "POST /v1/legacy takes the legacy form payload (PHP http_build_query) and answers 200 with "
      "a JSON Ack: closed records stored once (a record sent again is a duplicate), the open one "
      "not stored."},
     s42},
    {{"S43", STINT_CONF_MUST, "§6.10 Legacy identity (content)",
      "Legacy records that start in the same second are distinct records: a payload without "
      "identity headers holding three closed records of one second, two of them identical, is "
      "stored whole (stored=3)."},
     s43},
    {{"S44", STINT_CONF_MUST, "§6.10 Legacy identity (Stint-Agent-Id, Stint-Seqs)",
      "Two agents of one account sending the same legacy payload, each with its Stint-Agent-Id "
      "and Stint-Seqs, both have their records stored, answered with Stint-Legacy-Identity: "
      "agent-seq."},
     s44},
    {{"S45", STINT_CONF_MUST,
      "§6.10 Legacy identity (content); §6.7 De-duplication and idempotency",
      "A legacy payload replayed (the same records in a new payload, under a new "
      "Idempotency-Key) stores nothing: every record counts in duplicates."},
     s45},
    {{"S46", STINT_CONF_MUST, "§3.3 Kinds; §3.8 Per-record validation (servers)",
      "A record of a kind v1.0 does not name (a later v1.x), by number in protobuf and in JSON, "
      "is stored by its number, not rejected."},
     s46},
    {{"S47", STINT_CONF_MUST, "§6.7 De-duplication and idempotency (kept Acks)",
      "A kept Ack outlives later batches: the first of 17 batches of an agent, replayed under its "
      "Idempotency-Key after the other 16, gets its first Ack byte for byte."},
     s47},
    {{"S48", STINT_CONF_MUST, "§3.5 Batch; §3.8 Per-record validation (servers)",
      "Seqs increase within a batch: a record whose seq is below an earlier one and equal to "
      "none is rejected with REJECT_BAD_SEQ; the others are stored."},
     s48},
};
const size_t stint_case_accounts_n = sizeof(stint_case_accounts) / sizeof(stint_case_accounts[0]);
