/* server_common.c — the requests and checks the server-mode cases share (see server_internal.h).
 *
 * Every request goes through stint_case_request_x, which also notes each 429 and 503 and its
 * Retry-After for S36/S37: those answers cannot be provoked by a client alone, so any met during
 * the run is checked. The checks read answers leniently where the case tests something else (an
 * Ack in whichever encoding it comes), so that one broken requirement fails one case. */
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

struct stint_case_throttled stint_case_throttled;

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
    stint_case_throttled.seen++;
    if (r->has_retry_after && !stint_case_throttled.first[0])
        snprintf(stint_case_throttled.first, sizeof(stint_case_throttled.first),
                 "%ld with Retry-After: %s", r->status, r->retry_after);
    if (!r->has_retry_after) {
        stint_case_throttled.missing++;
    } else if (!retry_after_ok(r->retry_after) && !stint_case_throttled.malformed) {
        stint_case_throttled.malformed = 1;
        snprintf(stint_case_throttled.status_and_value,
                 sizeof(stint_case_throttled.status_and_value), "%ld with Retry-After: %s",
                 r->status, r->retry_after);
    }
}

/* One request. auth is a whole Authorization value ("Bearer T") or NULL; extra (may be NULL)
 * is a NULL-terminated list of more header lines. */
enum stint_err stint_case_request_x(const struct stint_conf_server_opts *o, const char *method,
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

enum stint_err stint_case_request(const struct stint_conf_server_opts *o, const char *method,
                                  const char *path, const char *auth, const char *ctype,
                                  const char *cenc, const char *key, const void *body, size_t len,
                                  struct stint_conf_resp *r)
{
    return stint_case_request_x(o, method, path, auth, ctype, cenc, key, NULL, body, len, r);
}

void stint_case_bearer(const char *token, char *out, size_t cap)
{
    snprintf(out, cap, "Bearer %s", token);
}

/* POSTs a body to /v1/batches as account token. */
enum stint_err stint_case_post(const struct stint_conf_server_opts *o, const char *token,
                               const char *ctype, const char *cenc, const char *key,
                               const struct stint_buf *body, struct stint_conf_resp *r)
{
    char auth[600];

    stint_case_bearer(token, auth, sizeof(auth));
    return stint_case_request(o, "POST", "/v1/batches", token ? auth : NULL, ctype, cenc, key,
                              body ? body->data : NULL, body ? body->len : 0, r);
}

/* Encodes b (gzipped when asked) into out, emptied first. */
enum stint_err stint_case_encode(const struct stint_conf_batch *b, bool gzip, struct stint_buf *out)
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
enum stint_conf_result stint_case_no_answer(const struct stint_conf_resp *r, char *d, size_t cap)
{
    D("no HTTP answer: %s", r->error);
    return STINT_CONF_FAIL;
}

/* Expects 200 and an Ack (read in either encoding). */
bool stint_case_want_ack(const struct stint_conf_resp *r, struct stint_ack *ack, const char *what,
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
bool stint_case_want_status(const struct stint_conf_resp *r, long want, const char *what, char *d,
                            size_t cap)
{
    if (r->status == want)
        return true;
    D("%s: expected %ld, got %ld%s%s", what, want, r->status, r->status ? "" : ": ",
      r->status ? "" : r->error);
    return false;
}

bool stint_case_ack_is(const struct stint_ack *a, uint64_t acked, uint64_t stored, uint64_t dup,
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
bool stint_case_counts_are(const struct stint_ack *a, uint64_t stored, uint64_t dup,
                           size_t rejected, const char *what, char *d, size_t cap)
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
enum stint_conf_result stint_case_send_expect(const struct stint_conf_server_opts *o,
                                              const char *token, const uint8_t *agent,
                                              uint64_t first, size_t n, const char *suffix,
                                              uint64_t stored, uint64_t dup, const char *what,
                                              char *d, size_t cap)
{
    struct stint_conf_batch b = {STINT_CONF_PB, agent, first, n, false, NULL, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200];

    stint_conf_idem_key(agent, first, first + n - 1, suffix, key, sizeof(key));
    if (!stint_case_send(o, token, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
        goto cleanup;
    if (stint_case_want_ack(&r, &ack, what, d, cap) &&
        stint_case_ack_is(&ack, first + n - 1, stored, dup, 0, what, d, cap))
        res = STINT_CONF_PASS;
cleanup:
    stint_ack_free(&ack);
    stint_conf_resp_free(&r);
    stint_buf_free(&body);
    return res;
}

void stint_case_bad_second(size_t i, struct stint_record *r, void *arg)
{
    (void)arg;
    if (i == 1)
        r->end_ms = r->start_ms - 1000; /* ends before it starts */
}

const char *stint_case_code_name(int c)
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

/* A valid 3-record protobuf batch of a new agent into body. */
enum stint_err stint_case_good_body(struct stint_buf *body, enum stint_conf_enc enc)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {enc, agent, 1, 3, false, NULL, NULL};

    stint_conf_random(agent, 16);
    return stint_case_encode(&b, false, body);
}

bool stint_case_send(const struct stint_conf_server_opts *o, const char *token, const char *ctype,
                     bool gzip, const char *key, const struct stint_conf_batch *b,
                     struct stint_buf *body, struct stint_conf_resp *r, char *d, size_t cap)
{
    if (stint_case_encode(b, gzip, body) != STINT_OK) {
        D("cannot encode");
        return false;
    }
    if (stint_case_post(o, token, ctype, gzip ? "gzip" : NULL, key, body, r) != STINT_OK) {
        stint_case_no_answer(r, d, cap);
        return false;
    }
    return true;
}
