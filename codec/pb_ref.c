/* pb_ref.c — the v1 protobuf codec on protobuf-c, and the differential check (see pb_ref.h).
 *
 * Design. protobuf-c's generated code comes from the same stint.proto with every `string` field
 * declared `bytes` (the build rewrites a copy: cmake/ref_proto.cmake). The wire format of the two
 * is identical; the only difference is that protobuf-c then hands over (length, bytes) instead of a
 * C string it has cut at the first NUL, so this implementation sees exactly what is on the wire and
 * applies the v1 rules itself: limits, UTF-8, agent_id length. protobuf-c validates no UTF-8 in
 * either case.
 *
 * Decoding unpacks the whole message into protobuf-c's tree (one allocation tree per call),
 * converts each record to the model, and frees the tree. Encoding builds protobuf-c structs whose
 * byte fields point into the model's buffers: a single record needs no allocation.
 */
#include "stint/pb_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/utf8.h"
#include "stint/v1/stint.pb-c.h"

static const uint8_t no_bytes[1];

static enum stint_err bin_to_text(const ProtobufCBinaryData *b, char *buf, uint32_t *len,
                                  uint32_t max, const char *where, const char *name,
                                  struct stint_error *err)
{
    size_t ok;

    if (b->len == 0) {
        buf[0] = '\0';
        *len = 0;
        return STINT_OK;
    }
    if (b->len > max)
        return stint_error_set(err, STINT_ELIMIT, 0, "%s%s%s: %zu bytes, limit %u", where,
                               where[0] ? "." : "", name, b->len, max);
    ok = stint_utf8_valid_prefix((const char *)b->data, b->len);
    if (ok != b->len)
        return stint_error_set(err, STINT_EUTF8, 0,
                               "%s%s%s: invalid UTF-8 at byte %zu of the string", where,
                               where[0] ? "." : "", name, ok);
    if (b->len)
        memcpy(buf, b->data, b->len);
    buf[b->len] = '\0';
    *len = (uint32_t)b->len;
    return STINT_OK;
}

static enum stint_err record_to_model(const Stint__V1__Record *m, struct stint_record *r,
                                      const char *where, struct stint_error *err)
{
    enum stint_err e;

    /* every field of r is assigned below: no clear needed */
    r->seq = m->seq;
    r->start_ms = m->start_ms;
    r->end_ms = m->end_ms;
    r->kind = (int32_t)m->kind;
    r->truncated = m->truncated;
    r->repaired = m->repaired;
    r->gap_count = m->gap_count;
    if (r->kind < 0)
        return stint_error_set(err, STINT_ETYPE, 0,
                               "%s%skind: negative value %d (enum values "
                               "are never negative)",
                               where, where[0] ? "." : "", (int)r->kind);
    if ((e = bin_to_text(&m->app, r->app, &r->app_len, STINT_APP_MAX, where, "app", err)) ||
        (e = bin_to_text(&m->path, r->path, &r->path_len, STINT_PATH_MAX, where, "path", err)) ||
        (e = bin_to_text(&m->title, r->title, &r->title_len, STINT_TITLE_MAX, where, "title",
                         err)) ||
        (e = bin_to_text(&m->url, r->url, &r->url_len, STINT_URL_MAX, where, "url", err)))
        return e;
    return STINT_OK;
}

/* protobuf-c keeps a field numbered 0 as an unknown field when its key is written in more than
 * one byte; field number 0 is malformed in every message (spec/PROTOCOL.md, "Decoding rules"). */
static bool has_field_zero(const ProtobufCMessage *m)
{
    size_t i;

    for (i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return true;
    return false;
}

static enum stint_err field_zero(const char *where, struct stint_error *err)
{
    return stint_error_set(err, STINT_EWIRE, 0, "%s: field number 0", where);
}

static ProtobufCBinaryData text_bin(const char *p, uint32_t len)
{
    ProtobufCBinaryData b;

    b.len = len;
    b.data = (uint8_t *)(uintptr_t)p; /* protobuf-c's field is not const; pack only reads it */
    return b;
}

static void record_from_model(const struct stint_record *r, Stint__V1__Record *m)
{
    stint__v1__record__init(m);
    m->seq = r->seq;
    m->start_ms = r->start_ms;
    m->end_ms = r->end_ms;
    m->kind = (Stint__V1__Kind)r->kind;
    m->app = text_bin(r->app, r->app_len);
    m->path = text_bin(r->path, r->path_len);
    m->title = text_bin(r->title, r->title_len);
    m->url = text_bin(r->url, r->url_len);
    m->truncated = r->truncated;
    m->repaired = r->repaired;
    m->gap_count = r->gap_count;
}

static enum stint_err pack_into(const ProtobufCMessage *m, struct stint_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    enum stint_err e = stint_buf_reserve(out, n);

    if (e != STINT_OK || n == 0)
        return e; /* an empty buffer may have no memory at all: no arithmetic on NULL */
    out->len += protobuf_c_message_pack(m, out->data + out->len);
    return STINT_OK;
}

/* A record's size is bounded (STINT_PB_RECORD_MAX), so it is packed in place without first
 * walking it to compute its size. */
static enum stint_err pack_record_into(const Stint__V1__Record *m, struct stint_buf *out)
{
    enum stint_err e = stint_buf_reserve(out, STINT_PB_RECORD_MAX);

    if (e != STINT_OK)
        return e;
    out->len += protobuf_c_message_pack(&m->base, out->data + out->len);
    return STINT_OK;
}

static enum stint_err too_big(size_t len, struct stint_error *err)
{
    return stint_error_set(err, STINT_ELIMIT, 0, "input of %zu bytes, limit %zu", len,
                           STINT_DECODE_MAX_INPUT);
}

static enum stint_err refused(const char *what, struct stint_error *err)
{
    return stint_error_set(err, STINT_EWIRE, 0,
                           "%s: protobuf-c refused the message (it gives no position)", what);
}

enum stint_err stint_pbc_encode_record(const struct stint_record *r, struct stint_buf *out)
{
    Stint__V1__Record m;

    if (r->kind < 0)
        return STINT_EINVAL; /* enum values are never negative */
    record_from_model(r, &m);
    return pack_record_into(&m, out);
}

enum stint_err stint_pbc_decode_record(const uint8_t *buf, size_t len, struct stint_record *r,
                                       struct stint_decode_info *info, struct stint_error *err)
{
    Stint__V1__Record *m;
    enum stint_err e;

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL */
    stint_error_clear(err);
    if (len > STINT_DECODE_MAX_INPUT)
        return too_big(len, err);
    m = stint__v1__record__unpack(NULL, len, buf);
    if (!m)
        return refused("record", err);
    e = has_field_zero(&m->base) ? field_zero("record", err) : record_to_model(m, r, "record", err);
    if (e == STINT_OK && info) {
        info->records = 1;
        info->unknown_fields = m->base.n_unknown_fields;
    }
    stint__v1__record__free_unpacked(m, NULL);
    return e;
}

enum stint_err stint_pbc_encode_batch(const struct stint_batch *head, struct stint_record_iter *it,
                                      struct stint_buf *out)
{
    Stint__V1__Batch m;
    Stint__V1__Record cur;
    Stint__V1__Record **recs = NULL;
    struct stint_record *copies = NULL;
    size_t n = 0, cap = 0, i;
    enum stint_err e = STINT_OK;
    struct stint_record *scratch = NULL;

    if (head->agent_id_len != 0 && head->agent_id_len != STINT_AGENT_ID_LEN)
        return STINT_EINVAL;
    stint__v1__batch__init(&m);
    m.agent_id.len = head->agent_id_len;
    m.agent_id.data = (uint8_t *)(uintptr_t)head->agent_id;
    m.client_version = text_bin(head->client_version, head->client_version_len);
    m.now_ms = head->now_ms;
    if (head->has_current) {
        if (head->current.kind < 0)
            return STINT_EINVAL;
        record_from_model(&head->current, &cur);
        m.current = &cur;
    }
    if (it) {
        /* The iterator may reuse its records, so each is copied, into one growing array of
         * records and one of protobuf-c messages pointing at them. */
        scratch = malloc(sizeof(*scratch));
        if (!scratch) {
            e = STINT_ENOMEM;
            goto cleanup;
        }
        for (;;) {
            const struct stint_record *r = NULL;

            e = it->next(it->ctx, scratch, &r);
            if (e != STINT_OK)
                goto cleanup;
            if (!r)
                break;
            if (r->kind < 0) {
                e = STINT_EINVAL; /* enum values are never negative */
                goto cleanup;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct stint_record *nc = realloc(copies, ncap * sizeof(*nc));
                if (!nc) {
                    e = STINT_ENOMEM;
                    goto cleanup;
                }
                copies = nc;
                cap = ncap;
            }
            stint_record_copy(&copies[n++], r);
        }
        recs = calloc(n ? n : 1, sizeof(*recs) + sizeof(Stint__V1__Record));
        if (!recs) {
            e = STINT_ENOMEM;
            goto cleanup;
        }
        for (i = 0; i < n; i++) {
            Stint__V1__Record *rm = (Stint__V1__Record *)(void *)(recs + n) + i;
            record_from_model(&copies[i], rm);
            recs[i] = rm;
        }
        m.n_records = n;
        m.records = recs;
    }
    e = pack_into(&m.base, out);
cleanup:
    free(recs);
    free(copies);
    free(scratch);
    return e;
}

enum stint_err stint_pbc_decode_batch(const uint8_t *buf, size_t len, struct stint_batch *head,
                                      stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                      struct stint_error *err)
{
    Stint__V1__Batch *m = NULL;
    struct stint_record *scratch = NULL;
    enum stint_err e = STINT_OK;
    uint64_t unknown = 0;
    char where[48];
    size_t i;

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL */
    stint_error_clear(err);
    stint_batch_clear(head);
    if (len > STINT_DECODE_MAX_INPUT)
        return too_big(len, err);
    m = stint__v1__batch__unpack(NULL, len, buf);
    if (!m)
        return refused("batch", err);
    unknown = m->base.n_unknown_fields;
    if (has_field_zero(&m->base)) {
        e = field_zero("batch", err);
        goto cleanup;
    }
    if (m->agent_id.len != 0 && m->agent_id.len != STINT_AGENT_ID_LEN) {
        e = stint_error_set(err, m->agent_id.len > STINT_AGENT_ID_LEN ? STINT_ELIMIT : STINT_ETYPE,
                            0, "agent_id: %zu bytes, must be %d", m->agent_id.len,
                            STINT_AGENT_ID_LEN);
        goto cleanup;
    }
    if (m->agent_id.len)
        memcpy(head->agent_id, m->agent_id.data, m->agent_id.len);
    head->agent_id_len = (uint32_t)m->agent_id.len;
    e = bin_to_text(&m->client_version, head->client_version, &head->client_version_len,
                    STINT_VERSION_MAX, "", "client_version", err);
    if (e != STINT_OK)
        goto cleanup;
    head->now_ms = m->now_ms;
    if (m->current) {
        e = has_field_zero(&m->current->base)
                ? field_zero("current", err)
                : record_to_model(m->current, &head->current, "current", err);
        if (e != STINT_OK)
            goto cleanup;
        head->has_current = true;
        unknown += m->current->base.n_unknown_fields;
    }
    scratch = malloc(sizeof(*scratch));
    if (!scratch) {
        e = STINT_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i < m->n_records; i++) {
        snprintf(where, sizeof(where), "records[%zu]", i);
        e = has_field_zero(&m->records[i]->base)
                ? field_zero(where, err)
                : record_to_model(m->records[i], scratch, where, err);
        if (e != STINT_OK)
            goto cleanup;
        unknown += m->records[i]->base.n_unknown_fields;
        if (fn && (e = fn(ctx, scratch)) != STINT_OK) {
            stint_error_set(err, e, 0, "%s: stopped by the record function: %s", where,
                            stint_strerror(e));
            goto cleanup;
        }
    }
    if (info) {
        info->records = m->n_records;
        info->unknown_fields = unknown;
    }
cleanup:
    free(scratch);
    stint__v1__batch__free_unpacked(m, NULL);
    return e;
}

enum stint_err stint_pbc_encode_ack(const struct stint_ack *a, struct stint_buf *out)
{
    Stint__V1__Ack m;
    Stint__V1__Rejection *rej = NULL;
    Stint__V1__Rejection **ptrs = NULL;
    enum stint_err e;
    size_t i;

    stint__v1__ack__init(&m);
    m.acked_seq = a->acked_seq;
    m.server_time_ms = a->server_time_ms;
    m.stored = a->stored;
    m.duplicates = a->duplicates;
    if (a->n_rejected) {
        rej = calloc(a->n_rejected, sizeof(*rej));
        ptrs = calloc(a->n_rejected, sizeof(*ptrs));
        if (!rej || !ptrs) {
            e = STINT_ENOMEM;
            goto cleanup;
        }
        for (i = 0; i < a->n_rejected; i++) {
            stint__v1__rejection__init(&rej[i]);
            rej[i].seq = a->rejected[i].seq;
            rej[i].code = (Stint__V1__RejectCode)a->rejected[i].code;
            rej[i].reason = text_bin(a->rejected[i].reason, a->rejected[i].reason_len);
            ptrs[i] = &rej[i];
        }
        m.n_rejected = a->n_rejected;
        m.rejected = ptrs;
    }
    e = pack_into(&m.base, out);
cleanup:
    free(rej);
    free(ptrs);
    return e;
}

enum stint_err stint_pbc_decode_ack(const uint8_t *buf, size_t len, struct stint_ack *a,
                                    struct stint_decode_info *info, struct stint_error *err)
{
    Stint__V1__Ack *m;
    enum stint_err e = STINT_OK;
    uint64_t unknown;
    size_t i;

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL */
    memset(a, 0, sizeof(*a));
    stint_error_clear(err);
    if (len > STINT_DECODE_MAX_INPUT)
        return too_big(len, err);
    m = stint__v1__ack__unpack(NULL, len, buf);
    if (!m)
        return refused("ack", err);
    unknown = m->base.n_unknown_fields;
    if (has_field_zero(&m->base)) {
        e = field_zero("ack", err);
        goto cleanup;
    }
    a->acked_seq = m->acked_seq;
    a->server_time_ms = m->server_time_ms;
    a->stored = m->stored;
    a->duplicates = m->duplicates;
    if (m->n_rejected > STINT_ACK_REJECTED_MAX) {
        e = stint_error_set(err, STINT_ELIMIT, 0, "ack: %zu rejections, limit %d", m->n_rejected,
                            STINT_ACK_REJECTED_MAX);
        goto cleanup;
    }
    for (i = 0; i < m->n_rejected; i++) {
        const Stint__V1__Rejection *r = m->rejected[i];
        struct stint_rejection *t;
        char where[32];

        if (has_field_zero(&r->base)) {
            e = field_zero("rejected", err);
            goto cleanup;
        }
        if ((int32_t)r->code < 0) {
            e = stint_error_set(err, STINT_ETYPE, 0,
                                "rejected[%zu].code: negative value %d "
                                "(enum values are never negative)",
                                i, (int)r->code);
            goto cleanup;
        }
        e = stint_ack_add_rejection(a, r->seq, (int32_t)r->code, "", 0);
        if (e != STINT_OK)
            goto cleanup;
        t = &a->rejected[a->n_rejected - 1];
        snprintf(where, sizeof(where), "rejected[%zu]", i);
        e = bin_to_text(&r->reason, t->reason, &t->reason_len, STINT_REASON_MAX, where, "reason",
                        err);
        if (e != STINT_OK)
            goto cleanup;
        unknown += r->base.n_unknown_fields;
    }
    if (info) {
        info->records = 0;
        info->unknown_fields = unknown;
    }
cleanup:
    if (e != STINT_OK)
        stint_ack_free(a);
    stint__v1__ack__free_unpacked(m, NULL);
    return e;
}
