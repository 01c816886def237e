/* server_accept.c — server-mode cases of stint-conformance, acceptance, idempotency and per-record
 * rejections: S01-S13.
 *
 * A server takes a Batch in every encoding the protocol names, answers replays with the same Ack,
 * and refuses bad records one by one. The table at the end is
 * the group's rows (see server_internal.h). */
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
    if (!stint_case_send(o, o->token, ctype, gzip, key, &b, &body, &r, d, cap))
        goto cleanup;
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
    } else if (!stint_case_want_ack(&r, &ack, "batch", d, cap)) {
        goto cleanup;
    }
    if (!stint_case_ack_is(&ack, 3, 3, 0, 0, "Ack", d, cap))
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
    return accept_case(o, STINT_CONF_PB, STINT_CASE_CT_PB, false, "application/x-protobuf", NULL,
                       false, d, cap);
}

static enum stint_conf_result s02(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, "application/protobuf", false, NULL, NULL, false, d, cap);
}

static enum stint_conf_result s03(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_JSON, STINT_CASE_CT_JSON, false, "application/json", NULL,
                       false, d, cap);
}

static enum stint_conf_result s04(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, STINT_CASE_CT_PB, true, NULL, NULL, false, d, cap);
}

static enum stint_conf_result s05(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_JSON, STINT_CASE_CT_JSON, true, NULL, NULL, false, d, cap);
}

static enum stint_conf_result s06(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, "Application/X-Protobuf; proto=stint.v1.Batch", false,
                       NULL, NULL, false, d, cap);
}

static enum stint_conf_result s07(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    return accept_case(o, STINT_CONF_PB, STINT_CASE_CT_PB, false, NULL, NULL, true, d, cap);
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

    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, NULL, &b, &body, &r, d, cap))
        goto cleanup;
    if (stint_case_want_ack(&r, &ack, what, d, cap) &&
        stint_case_ack_is(&ack, want, 0, 0, 0, what, d, cap))
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
        (res = stint_case_send_expect(o, o->token, agent, 1, 3, NULL, 3, 0, "records 1-3", d,
                                      cap)) != STINT_CONF_PASS ||
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

static enum stint_conf_result s09(const struct stint_conf_server_opts *o, char *d, size_t cap)
{
    uint8_t agent[16];
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 3, false, stint_case_bad_second, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack a1 = {0}, a2 = {0};
    struct stint_buf first = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;
    char key[200];

    stint_conf_random(agent, 16);
    stint_conf_idem_key(agent, 1, 3, NULL, key, sizeof(key));
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_ack(&r, &a1, "first request", d, cap))
        goto cleanup;
    if (stint_buf_append(&first, r.body.data, r.body.len) != STINT_OK)
        goto cleanup;
    if (stint_case_post(o, o->token, STINT_CASE_CT_PB, NULL, key, &body, &r) != STINT_OK) {
        res = stint_case_no_answer(&r, d, cap);
        goto cleanup;
    }
    if (!stint_case_want_ack(&r, &a2, "replay", d, cap))
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
    res = stint_case_send_expect(o, o->token, agent, 1, 3, NULL, 3, 0, "records 1-3", d, cap);
    if (res != STINT_CONF_PASS)
        return res;
    res = stint_case_send_expect(o, o->token, agent, 2, 4, NULL, 2, 2, "records 2-5 after 1-3", d,
                                 cap);
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
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_status(&r, 200, "records 1-3", d, cap))
        goto cleanup;
    b.n = 4;
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, key, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_status(&r, 409, "records 1-4 under the key of 1-3", d, cap))
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
    struct stint_conf_batch b = {STINT_CONF_PB, agent, 1, 3, false, stint_case_bad_second, NULL};
    struct stint_buf body = {0};
    struct stint_conf_resp r = {0};
    struct stint_ack ack = {0};
    enum stint_conf_result res = STINT_CONF_FAIL;

    stint_conf_random(agent, 16);
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, NULL, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_ack(&r, &ack, "batch with a bad record 2", d, cap))
        goto cleanup;
    if (!stint_case_ack_is(&ack, 3, 2, 0, 1, "records 1-3, 2 ending before it starts", d, cap))
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
    if (!stint_case_send(o, o->token, STINT_CASE_CT_PB, false, NULL, &b, &body, &r, d, cap))
        goto cleanup;
    if (!stint_case_want_ack(&r, &ack, "batch of bad records", d, cap))
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
              stint_case_code_name(ack.rejected[j].code),
              stint_case_code_name(bad_records[i].code));
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

/* ---- the rows: id, level, section, requirement, function ---- */

const struct stint_case stint_case_accept[] = {
    {{"S01", STINT_CONF_MUST, "§6.3 Request headers (Content-Type); §6.5 The Ack",
      "A server MUST accept a Batch POSTed to /v1/batches as application/x-protobuf and answer "
      "200 with an Ack in the request's encoding (application/x-protobuf)."},
     s01},
    {{"S02", STINT_CONF_MUST, "§6.3 Request headers (Content-Type)",
      "application/protobuf is an alias of application/x-protobuf: a server MUST accept it."},
     s02},
    {{"S03", STINT_CONF_MUST, "§6.3 Request headers (Content-Type); §4 JSON mapping; §6.5 The Ack",
      "A server MUST accept a Batch as application/json (proto3 JSON mapping) and answer 200 with "
      "an Ack as application/json."},
     s03},
    {{"S04", STINT_CONF_MUST, "§6.3 Request headers (Content-Encoding)",
      "A server MUST accept a protobuf body sent with Content-Encoding: gzip."},
     s04},
    {{"S05", STINT_CONF_MUST, "§6.3 Request headers (Content-Encoding)",
      "A server MUST accept a JSON body sent with Content-Encoding: gzip."},
     s05},
    {{"S06", STINT_CONF_SHOULD, "§6.3 Request headers (Content-Type; RFC 9110 §8.3.1)",
      "Media types are case-insensitive and may carry parameters: a server SHOULD accept "
      "`Application/X-Protobuf; proto=stint.v1.Batch`."},
     s06},
    {{"S07", STINT_CONF_MUST, "§3.5 Batch; §6.5 The Ack; §6.8 Per-record validation",
      "The open record (Batch.current) is a live heartbeat, never stored as closed, never "
      "acknowledged: acked_seq and stored count only Batch.records."},
     s07},
    {{"S08", STINT_CONF_MUST, "§6.5 The Ack",
      "A batch with no records is a probe: accepted, nothing stored, and its acked_seq is the "
      "highest seq the server holds for the agent (0 for a new agent)."},
     s08},
    {{"S09", STINT_CONF_MUST, "§6.7 De-duplication and idempotency",
      "A server MUST answer a replayed batch (same Idempotency-Key, same batch) with the same Ack "
      "as the first time, byte for byte in the same encoding."},
     s09},
    {{"S10", STINT_CONF_MUST, "§6.7 De-duplication and idempotency",
      "The server de-duplicates by (account, agent_id, seq): a record it already holds is not "
      "stored again and counts in duplicates; the new ones are stored."},
     s10},
    {{"S11", STINT_CONF_MUST, "§6.7 De-duplication and idempotency",
      "The same Idempotency-Key with a batch whose seqs differ is 409 idempotency_conflict, and "
      "nothing is stored."},
     s11},
    {{"S12", STINT_CONF_MUST,
      "§3.8 Per-record validation (servers); §6.8 Per-record validation; §6.5 The Ack",
      "A server checks each record on its own and refuses only the records that fail, with a "
      "Rejection; the others are stored, and acked_seq covers both."},
     s12},
    {{"S13", STINT_CONF_MUST, "§3.8 Per-record validation (servers)",
      "Each failed check gives its code: seq 0 REJECT_BAD_SEQ; bad times REJECT_BAD_TIME; "
      "gap_count off a gap REJECT_BAD_KIND; strings on idle records or unknown flag bits "
      "REJECT_BAD_STRING."},
     s13},
};
const size_t stint_case_accept_n = sizeof(stint_case_accept) / sizeof(stint_case_accept[0]);
