/* handler.c — the collector's protocol logic: request in, response out (see handler.h).
 *
 * POST /v1/batches, in order: authenticate (401), check Content-Encoding (415) and
 * Content-Type (415), the body size as sent (413), gunzip under the decoded cap (413 for a
 * bomb, 400 for broken gzip), then decode the Batch with the streaming decoder. Each record is
 * checked as it arrives (stint_record_check): good ones are staged as stored values, bad ones
 * become rejections in the Ack; over max_records stops decoding (413). A Batch that does not
 * decode is refused whole (400): the client sent bytes, not records. Then the store commits
 * (de-dup, idempotency, durable write) and the Ack goes back in the request's encoding.
 *
 * Records must come in increasing seq: one whose seq is below an earlier one of the batch and
 * equal to none of them is rejected (REJECT_BAD_SEQ); one that repeats an earlier seq is a
 * duplicate (the store sees it; the first wins). A kind above KIND_GAP (a later v1.x) is stored
 * by its number (stint_record_check).
 *
 * Fingerprint of a batch: FNV-1a over its seqs in wire order and their count. An Idempotency-Key
 * seen again must come with the same fingerprint (else 409); without the header the key is
 * derived from the fingerprint itself ("auto:MIN-MAX:N:FP"), so a byte-for-byte replay is
 * recognised either way.
 *
 * Legacy payloads (spec/PROTOCOL.md §6.8) get their identity from the Stint-Agent-Id and
 * Stint-Seqs headers when the agent sends them (then they are handled exactly as a Batch of
 * those seqs), else from their content (agent_id of zeros, seq = stint_legacy_content_seq, with
 * the number of identical records before it in the payload): a replayed payload stores nothing
 * twice, and records that start in the same second, or come from two machines of one account,
 * are all stored. */
#include "handler.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inflate.h"
#include "stint/format.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"
#include "stint/pb_ref.h"
#include "common/byteorder.h"
#include "common/media_type.h"

#define IDEM_MAX 200
#define PBC_FAST_MAX ((size_t)1 << 20)

struct stint_handler {
    struct stint_handler_opts o;
    atomic_uint_fast64_t requests, batches, stored, duplicates, rejected, replays, s4xx, s5xx,
        deleted;
};

enum stint_err stint_handler_create(const struct stint_handler_opts *opts,
                                    struct stint_handler **out)
{
    struct stint_handler *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (!h)
        return STINT_ENOMEM;
    h->o = *opts;
    if (!h->o.max_body)
        h->o.max_body = STINT_COLLECTOR_MAX_BODY;
    if (!h->o.max_decoded)
        h->o.max_decoded = STINT_COLLECTOR_MAX_DECODED;
    if (!h->o.max_records)
        h->o.max_records = STINT_COLLECTOR_MAX_RECORDS;
    *out = h;
    return STINT_OK;
}

void stint_handler_destroy(struct stint_handler *h)
{
    free(h);
}

void stint_response_free(struct stint_response *rs)
{
    if (rs)
        stint_buf_free(&rs->body);
}

enum stint_err stint_json_quote(struct stint_buf *out, const char *s, size_t len)
{
    enum stint_err rc = stint_buf_append(out, "\"", 1);
    size_t i;

    for (i = 0; i < len && rc == STINT_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = stint_buf_append(out, esc, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            rc = stint_buf_append(out, "?", 1);
        } else {
            rc = stint_buf_append(out, &s[i], 1);
        }
    }
    if (rc == STINT_OK)
        rc = stint_buf_append(out, "\"", 1);
    return rc;
}

enum stint_err stint_response_error(struct stint_response *rs, int status, const char *code,
                                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    enum stint_err rc;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rs->status = status;
    rs->content_type = "application/json";
    stint_buf_reset(&rs->body);
    rc = stint_buf_printf(&rs->body, "{\"error\":{\"code\":\"%s\",\"message\":", code);
    if (rc == STINT_OK)
        rc = stint_json_quote(&rs->body, msg, strlen(msg));
    if (rc == STINT_OK)
        rc = stint_buf_append_str(&rs->body, "}}");
    return rc;
}

/* Trims spaces around a header value into out; false when it does not fit. */
static bool trimmed(const char *v, char *out, size_t cap)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return false;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* The account of the request's bearer token, or NULL (after filling a 401). */
static const char *authenticate(struct stint_handler *h, const struct stint_request *rq,
                                struct stint_response *rs)
{
    const char *a = rq->authorization, *account;

    if (!a) {
        stint_response_error(rs, 401, "unauthorized", "Authorization: Bearer TOKEN required");
        rs->www_authenticate = true;
        return NULL;
    }
    while (*a == ' ')
        a++;
    if (strncasecmp(a, "Bearer ", 7) != 0) {
        stint_response_error(rs, 401, "unauthorized", "Authorization must use the Bearer scheme");
        rs->www_authenticate = true;
        return NULL;
    }
    a += 7;
    while (*a == ' ')
        a++;
    {
        size_t n = strlen(a);
        while (n && (a[n - 1] == ' ' || a[n - 1] == '\t'))
            n--;
        account = stint_tokens_lookup(h->o.tokens, a, n);
    }
    if (!account) {
        stint_response_error(rs, 401, "unauthorized", "unknown bearer token");
        rs->www_authenticate = true;
    }
    return account;
}

/* What a batch decode collects. */
struct stage {
    struct stint_handler *h;
    struct stint_buf values;
    struct stint_store_item *items;
    size_t n, cap, records;
    struct stint_ack *ack;
    int64_t received_ms;
    uint64_t fp, min_seq, max_seq;
    bool legacy;           /* records have no seq of their own: see below */
    bool agent_seq;        /* legacy with Stint-Agent-Id and Stint-Seqs */
    const uint64_t *lseqs; /* ... the seq of each closed record, in order */
    size_t n_lseqs, next_lseq;
    /* legacy without: how many records of each occurrence-0 content seq came so far, an
     * open-addressing table (keys never 0: content seqs are at least 1) */
    uint64_t *content_key;
    uint32_t *content_count;
    size_t n_content, cap_content;
    enum stint_err failed;
};

/* True when seq is the seq of a record staged before (a repeat: a duplicate, not an error). */
static bool staged_before(const struct stage *st, uint64_t seq)
{
    size_t i;

    for (i = 0; i < st->n; i++)
        if (st->items[i].seq == seq)
            return true;
    return false;
}

/* The slot of key in a content table of cap (a power of two) slots: its own or the empty one
 * where it goes. */
static size_t content_slot(const uint64_t *keys, size_t cap, uint64_t key)
{
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (cap - 1);

    while (keys[i] && keys[i] != key)
        i = (i + 1) & (cap - 1);
    return i;
}

/* The content identity of a legacy record: its occurrence-0 seq, or, when identical records came
 * before it in this payload, the seq of its occurrence (spec §6.10). One table lookup a record. */
static enum stint_err content_seq(struct stage *st, const struct stint_record *r, uint64_t *out)
{
    uint64_t base = stint_legacy_content_seq(r, 0);
    uint32_t occ;
    size_t i;

    if (2 * (st->n_content + 1) > st->cap_content) {
        size_t ncap = st->cap_content ? st->cap_content * 2 : 128, j;
        uint64_t *nk = calloc(ncap, sizeof(*nk));
        uint32_t *nc = calloc(ncap, sizeof(*nc));
        if (!nk || !nc) {
            free(nk);
            free(nc);
            return STINT_ENOMEM;
        }
        for (j = 0; j < st->cap_content; j++)
            if (st->content_key[j]) {
                size_t k = content_slot(nk, ncap, st->content_key[j]);
                nk[k] = st->content_key[j];
                nc[k] = st->content_count[j];
            }
        free(st->content_key);
        free(st->content_count);
        st->content_key = nk;
        st->content_count = nc;
        st->cap_content = ncap;
    }
    i = content_slot(st->content_key, st->cap_content, base);
    if (!st->content_key[i]) {
        st->content_key[i] = base;
        st->n_content++;
    }
    occ = st->content_count[i]++;
    *out = occ ? stint_legacy_content_seq(r, occ) : base;
    return STINT_OK;
}

static enum stint_err stage_record(void *ctx, const struct stint_record *in)
{
    struct stage *st = ctx;
    const struct stint_record *r = in;
    struct stint_record *copy = NULL;
    char reason[STINT_REASON_MAX + 1];
    enum stint_err rc = STINT_OK;
    size_t off;
    int code;

    if (++st->records > st->h->o.max_records)
        return STINT_ELIMIT;
    if (st->legacy) {
        copy = malloc(sizeof(*copy));
        if (!copy)
            return STINT_ENOMEM;
        stint_record_copy(copy, in);
        if (st->agent_seq) {
            /* more closed records than Stint-Seqs names: counted, refused after decoding */
            copy->seq = st->next_lseq < st->n_lseqs ? st->lseqs[st->next_lseq] : 0;
            st->next_lseq++;
        } else {
            rc = content_seq(st, copy, &copy->seq);
            if (rc != STINT_OK)
                goto cleanup;
        }
        r = copy;
    }
    st->fp = (st->fp ^ r->seq) * 1099511628211ull;
    if (st->records == 1 || r->seq < st->min_seq)
        st->min_seq = r->seq;
    if (st->records > 1 && r->seq < st->max_seq && r->seq != 0 && (!st->legacy || st->agent_seq) &&
        !staged_before(st, r->seq)) {
        /* seqs go up within a batch; content seqs of legacy payloads have no order */
        snprintf(reason, sizeof(reason), "seq %" PRIu64 " after seq %" PRIu64 ": not increasing",
                 r->seq, st->max_seq);
        code = STINT_REJECT_BAD_SEQ;
    } else {
        code = stint_record_check(r, true, reason, sizeof(reason));
    }
    if (r->seq > st->max_seq)
        st->max_seq = r->seq;
    if (code != STINT_REJECT_UNSPECIFIED) {
        rc = stint_ack_add_rejection(st->ack, r->seq, code, reason, strlen(reason));
        if (rc == STINT_OK && r->seq > st->ack->acked_seq)
            st->ack->acked_seq = r->seq;
        goto cleanup;
    }
    if (st->n == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 64;
        struct stint_store_item *ni = realloc(st->items, ncap * sizeof(*ni));
        if (!ni) {
            rc = STINT_ENOMEM;
            goto cleanup;
        }
        st->items = ni;
        st->cap = ncap;
    }
    off = st->values.len;
    /* the batch's now_ms may follow the records on the wire: patched in after decoding */
    rc = stint_store_value_encode(st->received_ms, 0, r, &st->values);
    if (rc != STINT_OK || st->values.len > UINT32_MAX) {
        rc = STINT_ENOMEM;
        goto cleanup;
    }
    st->items[st->n].seq = r->seq;
    st->items[st->n].off = (uint32_t)off;
    st->items[st->n].len = (uint32_t)(st->values.len - off);
    st->n++;
cleanup:
    free(copy);
    if (rc != STINT_OK)
        st->failed = rc;
    return rc;
}

static void count_status(struct stint_handler *h, int status)
{
    if (status >= 500)
        atomic_fetch_add(&h->s5xx, 1);
    else if (status >= 400)
        atomic_fetch_add(&h->s4xx, 1);
}

/* Content-Encoding and Content-Type of a batch: the decoder, whether the Ack is protobuf and its
 * media type, and the trimmed encoding (empty when absent) into enc. False with *rs filled (415,
 * 501) when they are not acceptable. */
static bool pick_format(const struct stint_request *rq, bool legacy, struct stint_response *rs,
                        const struct stint_format **fmt, bool *pb, const char **ack_type, char *enc,
                        size_t enc_cap)
{
    char mt[64];

    *fmt = NULL;
    *pb = false;
    *ack_type = "application/json";
    if (rq->content_encoding) {
        if (!trimmed(rq->content_encoding, enc, enc_cap) ||
            (strcasecmp(enc, "gzip") != 0 && strcasecmp(enc, "x-gzip") != 0 &&
             strcasecmp(enc, "identity") != 0)) {
            stint_response_error(rs, 415, "unsupported_encoding",
                                 "Content-Encoding must be gzip or identity");
            return false;
        }
    } else {
        enc[0] = '\0';
    }
    stint_media_type(rq->content_type ? rq->content_type : "", mt, sizeof(mt));
    if (!legacy &&
        (strcmp(mt, "application/x-protobuf") == 0 || strcmp(mt, "application/protobuf") == 0)) {
        *fmt = stint_format_find("pb");
        *pb = true;
        *ack_type = strcmp(mt, "application/protobuf") == 0 ? "application/protobuf"
                                                            : "application/x-protobuf";
    } else if (!legacy && strcmp(mt, "application/json") == 0) {
        *fmt = stint_format_find("json");
    } else if (legacy && strcmp(mt, "application/x-www-form-urlencoded") == 0) {
        *fmt = stint_format_find("form");
    } else if (legacy && strcmp(mt, "application/json") == 0) {
        *fmt = stint_format_find("legacy-json");
    } else {
        stint_response_error(rs, 415, "unsupported_media_type",
                             legacy ? "Content-Type must be application/x-www-form-urlencoded "
                                      "or application/json"
                                    : "Content-Type must be application/x-protobuf, "
                                      "application/protobuf or application/json");
        return false;
    }
    if (!*fmt || !(*fmt)->decode_batch) {
        stint_response_error(rs, 501, "not_implemented", "this build has no decoder for %s", mt);
        return false;
    }
    return true;
}

/* A failed storage call: 503 with Retry-After while the store is broken (the client retries;
 * nothing was acknowledged), else 500. */
static enum stint_err storage_failed(struct stint_handler *h, const struct stint_error *err,
                                     struct stint_response *rs)
{
    if (h->o.store && stint_store_broken(h->o.store)) {
        snprintf(rs->retry_after, sizeof(rs->retry_after), "%u", STINT_COLLECTOR_RETRY_AFTER_S);
        return stint_response_error(rs, 503, "storage_unavailable",
                                    "storage is failing and being reopened; retry later: %s",
                                    err->msg);
    }
    return stint_response_error(rs, 500, "storage_failed", "%s", err->msg);
}

/* The body within the size limits, gunzipped when enc says so (into inflated, which the caller
 * frees): *body and *body_len are updated. False with *rs filled (413, 400, 503) and *rc the
 * result to return when it is not. */
static bool sized_body(struct stint_handler *h, const struct stint_request *rq, const char *enc,
                       struct stint_buf *inflated, const uint8_t **body, size_t *body_len,
                       struct stint_response *rs, enum stint_err *rc)
{
    struct stint_error err;

    stint_error_clear(&err);
    if (rq->body_over_limit || *body_len > h->o.max_body) {
        *rc = stint_response_error(rs, 413, "body_too_large", "request body over %zu bytes",
                                   h->o.max_body);
        return false;
    }
    if (enc[0] && strcasecmp(enc, "identity") != 0) {
        inflated->max = h->o.max_decoded + 1;
        *rc = stint_inflate_gzip(*body, *body_len, h->o.max_decoded, inflated, &err);
        if (*rc == STINT_ELIMIT) {
            *rc = stint_response_error(rs, 413, "decoded_too_large",
                                       "gzip body decompresses to more than %zu bytes",
                                       h->o.max_decoded);
            return false;
        }
        if (*rc == STINT_ENOMEM) {
            *rc = stint_response_error(rs, 503, "overloaded", "out of memory; retry later");
            return false;
        }
        if (*rc != STINT_OK) {
            *rc = stint_response_error(rs, 400, "bad_gzip", "%s", err.msg);
            return false;
        }
        *body = inflated->data;
        *body_len = inflated->len;
    } else if (*body_len > h->o.max_decoded) {
        *rc = stint_response_error(rs, 413, "decoded_too_large", "request body over %zu bytes",
                                   h->o.max_decoded);
        return false;
    }
    return true;
}

/* The Stint-Agent-Id and Stint-Seqs headers of a legacy payload, when it has them: into lagent
 * and *lseqs (the caller frees it), noted in *st. False with *rs filled and *rc the result to
 * return when they are malformed or only one is there. */
static bool legacy_identity(struct stint_handler *h, const struct stint_request *rq,
                            struct stage *st, uint8_t *lagent, uint64_t **lseqs,
                            struct stint_response *rs, enum stint_err *rc)
{
    struct stint_error err;
    size_t n = 0;

    if (!rq->legacy_agent_id && !rq->legacy_seqs)
        return true;
    stint_error_clear(&err);
    if (!rq->legacy_agent_id || !rq->legacy_seqs) {
        *rc = stint_response_error(rs, 400, "bad_legacy_identity", "%s and %s go together",
                                   STINT_LEGACY_AGENT_HEADER, STINT_LEGACY_SEQS_HEADER);
        return false;
    }
    if (!stint_legacy_agent_parse(rq->legacy_agent_id, lagent)) {
        *rc = stint_response_error(rs, 400, "bad_legacy_identity", "%s must be 32 hex digits",
                                   STINT_LEGACY_AGENT_HEADER);
        return false;
    }
    *rc = stint_legacy_seqs_parse(rq->legacy_seqs, strlen(rq->legacy_seqs), h->o.max_records, lseqs,
                                  &n, &err);
    if (*rc == STINT_ENOMEM) {
        *rc = stint_response_error(rs, 503, "overloaded", "out of memory; retry later");
        return false;
    }
    if (*rc != STINT_OK) {
        *rc = stint_response_error(rs, *rc == STINT_ELIMIT ? 413 : 400,
                                   *rc == STINT_ELIMIT ? "too_many_records" : "bad_legacy_identity",
                                   "%s", err.msg);
        return false;
    }
    st->agent_seq = true;
    st->lseqs = *lseqs;
    st->n_lseqs = n;
    return true;
}

/* The key the store de-duplicates by: "h:" and the Idempotency-Key header, else "auto:" and the
 * batch's seq range, count and fingerprint. False with *rs filled (400) and *rc the result to
 * return when the header is not 1..IDEM_MAX visible ASCII characters. */
static bool idempotency_key(const struct stint_request *rq, const struct stage *st, char *idem,
                            size_t cap, struct stint_response *rs, enum stint_err *rc)
{
    if (rq->idempotency_key) {
        char k[IDEM_MAX + 1];
        size_t n, j;
        bool ok = trimmed(rq->idempotency_key, k, sizeof(k));
        n = ok ? strlen(k) : 0;
        for (j = 0; j < n && ok; j++)
            ok = k[j] > 0x20 && k[j] < 0x7f;
        if (!ok || n == 0) {
            *rc = stint_response_error(rs, 400, "bad_idempotency_key",
                                       "Idempotency-Key must be 1..%d visible ASCII characters",
                                       IDEM_MAX);
            return false;
        }
        snprintf(idem, cap, "h:%s", k);
    } else {
        snprintf(idem, cap, "auto:%" PRIu64 "-%" PRIu64 ":%zu:%016" PRIx64, st->min_seq,
                 st->max_seq, st->records, st->fp);
    }
    return true;
}

/* Stores the staged records (or, ack-only, only acknowledges them) and fills *ack and *outcome.
 * False with *rs filled (500, 503, 409) and *rc the result to return when storing failed or the
 * key was used for another batch. */
static bool commit(struct stint_handler *h, const char *account, const struct stint_batch *head,
                   const struct stage *st, const char *idem, struct stint_ack *ack,
                   enum stint_store_outcome *outcome, struct stint_response *rs, enum stint_err *rc)
{
    if (h->o.ack_only) {
        for (size_t i = 0; i < st->n; i++)
            if (st->items[i].seq > ack->acked_seq)
                ack->acked_seq = st->items[i].seq;
        ack->stored = st->n;
    } else {
        struct stint_store_put put;
        struct stint_error err;

        stint_error_clear(&err);
        put.account = account;
        put.agent_id = head->agent_id;
        put.idem = idem;
        put.idem_len = strlen(idem);
        put.fingerprint = st->fp;
        put.items = st->items;
        put.n = st->n;
        put.values = st->values.data;
        *rc = stint_store_commit(h->o.store, &put, ack, outcome, &err);
        if (*rc != STINT_OK) {
            *rc = storage_failed(h, &err, rs);
            return false;
        }
        if (*outcome == STINT_STORE_CONFLICT) {
            *rc = stint_response_error(rs, 409, "idempotency_conflict",
                                       "Idempotency-Key was used before for a different batch");
            return false;
        }
    }
    return true;
}

/* POST /v1/batches and POST /v1/legacy. */
static enum stint_err serve_batch(struct stint_handler *h, const struct stint_request *rq,
                                  const char *account, bool legacy, struct stint_response *rs)
{
    static const uint8_t legacy_agent[STINT_AGENT_ID_LEN] = {0};
    const struct stint_format *fmt = NULL;
    enum stint_err (*decode)(const uint8_t *, size_t, struct stint_batch *, stint_record_fn, void *,
                             struct stint_decode_info *, struct stint_error *);
    struct stint_buf inflated = {0};
    struct stage st;
    struct stint_batch *head = NULL;
    struct stint_ack ack;
    struct stint_error err;
    enum stint_store_outcome outcome = STINT_STORE_STORED;
    const uint8_t *body = rq->body;
    size_t body_len = rq->body_len, i;
    char enc[32], idem[IDEM_MAX + 64];
    const char *ack_type = "application/json";
    bool pb = false;
    uint64_t *lseqs = NULL;
    uint8_t lagent[STINT_AGENT_ID_LEN];
    enum stint_err rc = STINT_OK;

    memset(&st, 0, sizeof(st));
    memset(&ack, 0, sizeof(ack));
    stint_error_clear(&err);

    /* the encodings */
    if (!pick_format(rq, legacy, rs, &fmt, &pb, &ack_type, enc, sizeof(enc))) {
        rc = rs->body.len ? STINT_OK : STINT_ENOMEM;
        goto cleanup;
    }

    /* the sizes */
    if (!sized_body(h, rq, enc, &inflated, &body, &body_len, rs, &rc))
        goto cleanup;

    /* the legacy identity: both headers or neither */
    if (legacy && !legacy_identity(h, rq, &st, lagent, &lseqs, rs, &rc))
        goto cleanup;

    /* decode, check and stage every record */
    head = malloc(sizeof(*head));
    if (!head) {
        rc = STINT_ENOMEM;
        goto cleanup;
    }
    stint_batch_clear(head);
    st.h = h;
    st.ack = &ack;
    st.received_ms = rq->now_ms;
    st.fp = 14695981039346656037ull;
    st.legacy = legacy;
    /* protobuf-c decodes about 2.5 times faster than nanopb (bench/bench_codec.c) but unpacks the
     * whole message before the first record reaches us, in memory that grows with the input; nanopb
     * streams in constant memory and stops at the record limit. So: protobuf-c up to
     * PBC_FAST_MAX bytes (a 1,000-record batch is ~150 KB), nanopb beyond. */
    decode = fmt->decode_batch;
    if (pb && body_len <= PBC_FAST_MAX)
        decode = stint_pbc_decode_batch;
    rc = decode(body ? body : (const uint8_t *)"", body_len, head, stage_record, &st, NULL, &err);
    if (rc == STINT_ELIMIT &&
        (st.records > h->o.max_records || (legacy && !strstr(err.msg, "nested")))) {
        /* a legacy reader's value limit is a record limit too (about 37,000 records); its
         * nesting limit is not (spec §6.4: 400) */
        rc = stint_response_error(rs, 413, "too_many_records", "more than %zu records in a batch",
                                  h->o.max_records);
        goto cleanup;
    }
    if (rc == STINT_ENOMEM || st.failed == STINT_ENOMEM) {
        rc = stint_response_error(rs, 503, "overloaded", "out of memory; retry later");
        goto cleanup;
    }
    if (rc != STINT_OK) {
        rc = stint_response_error(rs, 400, "bad_batch", "%s (%s at byte %zu)", err.msg,
                                  stint_strerror(err.code), err.offset);
        goto cleanup;
    }
    if (st.agent_seq && st.next_lseq != st.n_lseqs) {
        rc = stint_response_error(rs, 400, "bad_legacy_identity",
                                  "%s names %zu seqs, the payload holds %zu closed records",
                                  STINT_LEGACY_SEQS_HEADER, st.n_lseqs, st.next_lseq);
        goto cleanup;
    }
    if (legacy) {
        memcpy(head->agent_id, st.agent_seq ? lagent : legacy_agent, STINT_AGENT_ID_LEN);
        head->agent_id_len = STINT_AGENT_ID_LEN;
    }
    if (head->agent_id_len != STINT_AGENT_ID_LEN) {
        rc =
            stint_response_error(rs, 400, "missing_agent_id", "a batch needs its 16-byte agent_id");
        goto cleanup;
    }
    for (i = 0; i < st.n; i++) /* the batch's own clock, now that the header is complete */
        stint_be64_put(st.values.data + st.items[i].off + 9, (uint64_t)head->now_ms);
    st.fp = (st.fp ^ st.records) * 1099511628211ull;

    /* the idempotency key */
    if (!idempotency_key(rq, &st, idem, sizeof(idem), rs, &rc))
        goto cleanup;

    ack.server_time_ms = rq->now_ms;
    if (!commit(h, account, head, &st, idem, &ack, &outcome, rs, &rc))
        goto cleanup;
    if (outcome == STINT_STORE_REPLAY) {
        atomic_fetch_add(&h->replays, 1);
    } else {
        atomic_fetch_add(&h->stored, ack.stored);
        atomic_fetch_add(&h->duplicates, ack.duplicates);
        atomic_fetch_add(&h->rejected, ack.n_rejected);
    }
    atomic_fetch_add(&h->batches, 1);
    rs->status = 200;
    rs->content_type = pb ? ack_type : "application/json";
    if (legacy)
        rs->legacy_identity = st.agent_seq ? "agent-seq" : "content";
    rc = pb ? stint_pb_encode_ack(&ack, &rs->body) : stint_json_encode_ack(&ack, &rs->body);
cleanup:
    free(head);
    free(lseqs);
    free(st.content_key);
    free(st.content_count);
    free(st.items);
    stint_buf_free(&st.values);
    stint_buf_free(&inflated);
    stint_ack_free(&ack);
    return rc;
}

bool stint_handler_check_head(struct stint_handler *h, const struct stint_request *rq,
                              bool has_length, uint64_t content_length, struct stint_response *rs)
{
    const char *path = rq->path ? rq->path : "", *method = rq->method ? rq->method : "";
    bool batches = strcmp(path, "/v1/batches") == 0, legacy = strcmp(path, "/v1/legacy") == 0;
    bool data = strcmp(path, "/v1/data") == 0;
    const struct stint_format *fmt = NULL;
    const char *ack_type = NULL;
    char enc[32];
    bool pb = false;

    memset(rs, 0, sizeof(*rs));
    if (strcmp(path, "/v1/health") == 0)
        return false;
    if (!batches && !legacy && !data) {
        stint_response_error(rs, 404, "not_found", "no such resource");
        goto refused;
    }
    if (strcmp(method, data ? "DELETE" : "POST") != 0) {
        rs->allow = data ? "DELETE" : "POST";
        stint_response_error(rs, 405, "method_not_allowed", data ? "use DELETE" : "use POST");
        goto refused;
    }
    if (!authenticate(h, rq, rs))
        goto refused;
    if (!data && !pick_format(rq, legacy, rs, &fmt, &pb, &ack_type, enc, sizeof(enc)))
        goto refused;
    if (!data && has_length && content_length > h->o.max_body) {
        stint_response_error(rs, 413, "body_too_large", "request body over %zu bytes",
                             h->o.max_body);
        goto refused;
    }
    if (h->o.store && !h->o.ack_only && stint_store_broken(h->o.store)) {
        snprintf(rs->retry_after, sizeof(rs->retry_after), "%u", STINT_COLLECTOR_RETRY_AFTER_S);
        stint_response_error(rs, 503, "storage_unavailable",
                             "storage is failing and being reopened; retry later");
        goto refused;
    }
    return false;
refused:
    if (rs->status == 0)
        rs->status = 500;
    atomic_fetch_add(&h->requests, 1);
    count_status(h, rs->status);
    return true;
}

enum stint_err stint_handler_serve(struct stint_handler *h, const struct stint_request *rq,
                                   struct stint_response *rs)
{
    const char *path = rq->path ? rq->path : "", *method = rq->method ? rq->method : "";
    const char *account = NULL;
    enum stint_err rc = STINT_OK;

    memset(rs, 0, sizeof(*rs));
    atomic_fetch_add(&h->requests, 1);
    if (strcmp(path, "/v1/health") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
            rs->allow = "GET, HEAD";
            rc = stint_response_error(rs, 405, "method_not_allowed", "use GET");
            goto done;
        }
        rs->status = 200;
        rs->content_type = "application/json";
        rc = stint_buf_append_str(&rs->body, "{\"status\":\"ok\"}");
        goto done;
    }
    if (strcmp(path, "/v1/batches") == 0 || strcmp(path, "/v1/legacy") == 0) {
        if (strcmp(method, "POST") != 0) {
            rs->allow = "POST";
            rc = stint_response_error(rs, 405, "method_not_allowed", "use POST");
            goto done;
        }
        account = authenticate(h, rq, rs);
        if (account)
            rc = serve_batch(h, rq, account, strcmp(path, "/v1/legacy") == 0, rs);
        goto done;
    }
    if (strcmp(path, "/v1/data") == 0) {
        uint64_t deleted = 0;
        struct stint_error err;

        if (strcmp(method, "DELETE") != 0) {
            rs->allow = "DELETE";
            rc = stint_response_error(rs, 405, "method_not_allowed", "use DELETE");
            goto done;
        }
        account = authenticate(h, rq, rs);
        if (!account)
            goto done;
        stint_error_clear(&err);
        rc = stint_store_delete_account(h->o.store, account, &deleted, &err);
        if (rc != STINT_OK) {
            rc = storage_failed(h, &err, rs);
            goto done;
        }
        atomic_fetch_add(&h->deleted, deleted);
        rs->status = 200;
        rs->content_type = "application/json";
        rc = stint_buf_printf(&rs->body, "{\"deletedRecords\":\"%" PRIu64 "\"}", deleted);
        goto done;
    }
    rc = stint_response_error(rs, 404, "not_found", "no such resource");
done:
    if (rc != STINT_OK) {
        /* only memory can fail here: try a short answer once more */
        rc = stint_response_error(rs, 500, "internal", "out of memory");
    }
    if (rs->status == 0)
        rs->status = 500;
    if (rs->status == 503 && !rs->retry_after[0]) /* spec §6.4: a 503 says when to come back */
        snprintf(rs->retry_after, sizeof(rs->retry_after), "1");
    count_status(h, rs->status);
    return rc;
}

enum stint_err stint_handler_report(struct stint_handler *h, struct stint_buf *out)
{
    return stint_buf_printf(out,
                            "requests total=%" PRIu64 " batches=%" PRIu64 " stored=%" PRIu64
                            " duplicates=%" PRIu64 " rejected=%" PRIu64 " replays=%" PRIu64
                            " status_4xx=%" PRIu64 " status_5xx=%" PRIu64 " deleted=%" PRIu64 "\n",
                            (uint64_t)atomic_load(&h->requests), (uint64_t)atomic_load(&h->batches),
                            (uint64_t)atomic_load(&h->stored),
                            (uint64_t)atomic_load(&h->duplicates),
                            (uint64_t)atomic_load(&h->rejected), (uint64_t)atomic_load(&h->replays),
                            (uint64_t)atomic_load(&h->s4xx), (uint64_t)atomic_load(&h->s5xx),
                            (uint64_t)atomic_load(&h->deleted));
}
