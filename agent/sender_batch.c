/* sender_batch.c — the sender's batch (sender_int.h): read from the journal as the stored
 * encodings, framed in the codec's spool, encoded for the configured encoding (protobuf as is;
 * JSON and legacy decoded one record at a time) and gzipped; then the server's answer for it
 * read: the Ack's trim and rejections, or a legacy server's confirmation.
 *
 * The design of the sender is written atop sender.c; the normative text is spec/PROTOCOL.md,
 * "Sending".
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sender_int.h"
#include "stint/json.h"
#include "stint/legacy.h"
#include "stint/pb.h"

/* ---- the batch ---------------------------------------------------------------------------- */

static void batch_clear(struct batch *b)
{
    stint_spool_reset(&b->frames);
    b->n = 0;
    b->n_legacy = 0;
    b->first = b->last = 0;
}

void batch_free(struct batch *b)
{
    stint_spool_free(&b->frames);
    stint_buf_free(&b->body);
    stint_buf_free(&b->gz);
    stint_buf_free(&b->seqs_header);
    free(b->lseq);
    free(b->lstart);
    free(b->items);
    memset(b, 0, sizeof(*b));
}

static enum stint_err on_entry(void *ctx, const struct stint_journal_entry *e)
{
    struct batch *b = ctx;
    enum stint_err rc;

    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 256;
        struct item *ni = realloc(b->items, ncap * sizeof(*ni));
        if (!ni)
            return STINT_ENOMEM;
        b->items = ni;
        b->cap = ncap;
    }
    rc = stint_spool_add_raw(&b->frames, e->raw, e->raw_len);
    if (rc != STINT_OK)
        return rc;
    b->items[b->n].seq = e->seq;
    b->items[b->n].raw_off = (uint32_t)(b->frames.buf.len - e->raw_len);
    b->items[b->n].raw_len = (uint32_t)e->raw_len;
    if (b->n == 0)
        b->first = e->seq;
    b->last = e->seq;
    b->n++;
    return STINT_OK;
}

/* The records of the batch that the legacy mapping writes, and the Stint-Seqs header naming
 * them: the server identifies them by (agent_id, seq) as it does a Batch's (§6.8). */
static enum stint_err legacy_seqs(struct batch *b)
{
    struct stint_record *r = malloc(sizeof(*r));
    enum stint_err rc = STINT_OK;
    size_t i;

    if (!r)
        return STINT_ENOMEM;
    b->n_legacy = 0;
    for (i = 0; i < b->n && rc == STINT_OK; i++) {
        const struct item *e = &b->items[i];
        rc = stint_pb_decode_record(b->frames.buf.data + e->raw_off, e->raw_len, r, NULL, NULL);
        if (rc != STINT_OK || !stint_legacy_keeps(r))
            continue;
        if (b->n_legacy == b->cap_legacy) {
            size_t ncap = b->cap_legacy ? b->cap_legacy * 2 : 64;
            uint64_t *ns = realloc(b->lseq, ncap * sizeof(*ns));
            int64_t *nt = ns ? realloc(b->lstart, ncap * sizeof(*nt)) : NULL;
            if (ns)
                b->lseq = ns;
            if (nt)
                b->lstart = nt;
            if (!ns || !nt) {
                rc = STINT_ENOMEM;
                break;
            }
            b->cap_legacy = ncap;
        }
        b->lseq[b->n_legacy] = e->seq;
        /* floor, as the mapping writes 'start' */
        b->lstart[b->n_legacy] =
            r->start_ms >= 0 ? r->start_ms / 1000 : -((999 - r->start_ms) / 1000);
        b->n_legacy++;
    }
    free(r);
    if (rc != STINT_OK)
        return rc;
    stint_buf_reset(&b->seqs_header);
    rc = stint_buf_append_str(&b->seqs_header, STINT_LEGACY_SEQS_HEADER ": ");
    if (rc == STINT_OK)
        rc = stint_legacy_seqs_format(b->lseq, b->n_legacy, &b->seqs_header);
    if (rc == STINT_OK)
        rc = stint_buf_append(&b->seqs_header, "", 1); /* the NUL, for curl's header list */
    return rc;
}

/* Encodes the current batch into b.body (and b.gz); body and len say what to send. */
enum stint_err encode_body(struct stint_sender *s, int64_t now, const uint8_t **body, size_t *len,
                           bool *gz)
{
    struct batch *b = &s->b;
    struct stint_batch head;
    struct stint_record_iter it = stint_spool_iter(&b->frames);
    enum stint_err rc;
    size_t min = s->o.gzip_min_bytes ? s->o.gzip_min_bytes : STINT_SENDER_DEFAULT_GZIP_MIN;

    stint_batch_clear(&head);
    memcpy(head.agent_id, s->agent_id, STINT_AGENT_ID_LEN);
    head.agent_id_len = STINT_AGENT_ID_LEN;
    stint_batch_set_version(&head, s->client_version, strlen(s->client_version));
    head.now_ms = now;
    stint_buf_reset(&b->body);
    switch (s->o.encoding) {
    case STINT_SENDER_JSON:
        rc = stint_json_encode_batch(&head, &it, &b->body);
        break;
    case STINT_SENDER_LEGACY_FORM:
        rc = legacy_seqs(b);
        if (rc == STINT_OK)
            rc = stint_legacy_encode(STINT_LEGACY_FORM, &head, &it, &b->body);
        break;
    case STINT_SENDER_LEGACY_JSON:
        rc = legacy_seqs(b);
        if (rc == STINT_OK)
            rc = stint_legacy_encode(STINT_LEGACY_JSON, &head, &it, &b->body);
        break;
    case STINT_SENDER_PB:
    default:
        rc = stint_pb_encode_batch(&head, NULL, &b->body);
        if (rc == STINT_OK)
            rc = stint_buf_append(&b->body, b->frames.buf.data, b->frames.buf.len);
        break;
    }
    if (rc != STINT_OK)
        return rc;
    *body = b->body.data;
    *len = b->body.len;
    *gz = false;
    if (b->body.len >= min && min != STINT_SENDER_NO_GZIP) {
        uLong bound;
        int zr;
        if (deflateReset(&s->zs) != Z_OK)
            return STINT_ENOMEM;
        bound = deflateBound(&s->zs, (uLong)b->body.len) + 32;
        stint_buf_reset(&b->gz);
        rc = stint_buf_reserve(&b->gz, bound);
        if (rc != STINT_OK)
            return rc;
        s->zs.next_in = b->body.data;
        s->zs.avail_in = (uInt)b->body.len;
        s->zs.next_out = b->gz.data;
        s->zs.avail_out = (uInt)bound;
        zr = deflate(&s->zs, Z_FINISH);
        if (zr != Z_STREAM_END)
            return STINT_ENOMEM;
        b->gz.len = bound - s->zs.avail_out;
        *body = b->gz.data;
        *len = b->gz.len;
        *gz = true;
    }
    return STINT_OK;
}

/* The legacy payload (form or JSON) goes to /v1/legacy, which numbers records by start time. */
bool legacy_encoding(enum stint_sender_encoding e)
{
    return e == STINT_SENDER_LEGACY_FORM || e == STINT_SENDER_LEGACY_JSON;
}

/* Reads the next batch from the journal (after the acked seq). */
enum stint_err fill_batch(struct stint_sender *s)
{
    size_t max_bytes = s->o.batch_max_bytes;
    enum stint_err rc;

    batch_clear(&s->b);
    rc = stint_journal_read(s->j, 0, s->limit, max_bytes, STINT_JOURNAL_RAW, on_entry, &s->b, NULL,
                            NULL);
    if (rc != STINT_OK) {
        batch_clear(&s->b);
        return rc;
    }
    s->have_batch = s->b.n > 0;
    return STINT_OK;
}

/* ---- after an answer ------------------------------------------------------------------------ */

/* A short printable excerpt of an error body for a dead-letter reason. */
void excerpt(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t i, o = 0;
    for (i = 0; i < len && o + 1 < cap; i++)
        out[o++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : ' ';
    out[o] = '\0';
}

static bool media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* A 2xx to a legacy payload from a server that did not answer Stint-Legacy-Identity: agent-seq
 * (an older server, spec/PROTOCOL.md §6.10): it is taken to follow the v1.0 rule, one record per
 * account and start second, so a record starting in the same second as the one sent before it
 * would be counted a duplicate and never stored. Such records are dead-lettered here (kept on
 * this machine with the reason, counted by `stintctl status`) rather than trimmed as if delivered;
 * the rest of the batch is done. */
static enum stint_send_class take_legacy_unconfirmed(struct stint_sender *s, char *why,
                                                     size_t why_cap, uint64_t *sent, uint64_t *dead)
{
    struct batch *b = &s->b;
    enum stint_err rc;
    size_t i;

    for (i = 0; i < b->n_legacy; i++) {
        if (s->have_legacy_prev && b->lstart[i] == s->legacy_prev_start) {
            char reason[STINT_REASON_MAX + 1];
            fmt_(reason, sizeof(reason),
                 "the legacy server keeps one record per start second (no %s: agent-seq in its "
                 "answer); this one starts in the same second as the record before it",
                 STINT_LEGACY_IDENTITY_HEADER);
            rc = stint_journal_dead_letter(s->j, b->lseq[i], b->lseq[i], reason);
            if (rc != STINT_OK) {
                fmt_(why, why_cap, "dead-lettering seq %" PRIu64 " failed: %s", b->lseq[i],
                     stint_strerror(rc));
                return STINT_SEND_RETRY;
            }
            (*dead)++;
        }
        s->legacy_prev_start = b->lstart[i];
        s->have_legacy_prev = true;
    }
    rc = stint_journal_ack(s->j, b->last);
    if (rc != STINT_OK) {
        fmt_(why, why_cap, "journal ack failed: %s", stint_strerror(rc));
        return STINT_SEND_RETRY;
    }
    *sent = b->n - *dead;
    if (*dead)
        stint_log(&s->lg, STINT_LOG_INFO,
                  "batch %" PRIu64 "-%" PRIu64 ": %" PRIu64 " records kept as dead letters (the "
                  "server merges records that start in the same second)",
                  b->first, b->last, *dead);
    return STINT_SEND_OK;
}

/* Handles a 2xx: returns the class it really was (RETRY for an Ack that cannot be used). */
enum stint_send_class take_ack(struct stint_sender *s, const struct stint_http_response *r,
                               char *why, size_t why_cap, uint64_t *sent, uint64_t *dead)
{
    struct stint_ack ack;
    struct stint_error err;
    struct batch *b = &s->b;
    uint64_t acked;
    size_t i;
    enum stint_err rc;
    enum stint_send_class cls = STINT_SEND_OK;

    memset(&ack, 0, sizeof(ack));
    *sent = *dead = 0;
    if (legacy_encoding(s->o.encoding) && strcmp(r->legacy_identity, "agent-seq") != 0)
        return take_legacy_unconfirmed(s, why, why_cap, sent, dead);
    stint_error_clear(&err);
    if (media_is(r->content_type, "application/x-protobuf") ||
        media_is(r->content_type, "application/protobuf"))
        rc = stint_pb_decode_ack(r->body, r->body_len, &ack, NULL, &err);
    else
        rc = stint_json_decode_ack((const char *)r->body, r->body_len, &ack, NULL, &err);
    if (rc != STINT_OK) {
        fmt_(why, why_cap, "HTTP %ld with an Ack that does not decode: %s", r->status, err.msg);
        return STINT_SEND_RETRY;
    }
    /* rejections first: once acked, the records are gone from the journal */
    for (i = 0; i < ack.n_rejected; i++) {
        const struct stint_rejection *rj = &ack.rejected[i];
        char reason[STINT_REASON_MAX + 1];
        if (rj->seq < b->first || rj->seq > b->last)
            continue;
        fmt_(reason, sizeof(reason), "server rejected (code %d): %s", (int)rj->code, rj->reason);
        rc = stint_journal_dead_letter(s->j, rj->seq, rj->seq, reason);
        if (rc != STINT_OK) {
            fmt_(why, why_cap, "dead-lettering seq %" PRIu64 " failed: %s", rj->seq,
                 stint_strerror(rc));
            cls = STINT_SEND_RETRY;
            goto cleanup;
        }
        (*dead)++;
        stint_log(&s->lg, STINT_LOG_INFO, "seq %" PRIu64 " dead-lettered: %s", rj->seq, reason);
    }
    acked = ack.acked_seq < b->last ? ack.acked_seq : b->last;
    /* a legacy batch is answered for up to its last record the mapping wrote: the others (idle,
     * private, gap) have no legacy form and are done with the batch (§6.8, §7.4) */
    if (legacy_encoding(s->o.encoding) && b->n_legacy && ack.acked_seq >= b->lseq[b->n_legacy - 1])
        acked = b->last;
    if (acked < b->first && *dead == 0) {
        fmt_(why, why_cap,
             "Ack covers nothing of the batch (acked_seq %" PRIu64 ", batch %" PRIu64 "-%" PRIu64
             ")",
             ack.acked_seq, b->first, b->last);
        cls = STINT_SEND_RETRY;
        goto cleanup;
    }
    if (acked >= b->first) {
        rc = stint_journal_ack(s->j, acked);
        if (rc != STINT_OK) {
            fmt_(why, why_cap, "journal ack failed: %s", stint_strerror(rc));
            cls = STINT_SEND_RETRY;
            goto cleanup;
        }
        for (i = 0; i < b->n && b->items[i].seq <= acked; i++)
            (*sent)++;
        *sent -= *dead <= *sent ? *dead : *sent;
    }
cleanup:
    stint_ack_free(&ack);
    return cls;
}
