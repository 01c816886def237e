/* pb.c — the v1 protobuf codec on nanopb (see pb.h).
 *
 * Design. nanopb's generated descriptors (proto/stint/v1/stint.options) make every string and
 * every repeated message a callback field. The callbacks here move bytes between the wire and the
 * record model directly: a string is read into the model's own buffer after its length is checked
 * against the limit, then validated as UTF-8 in place; a batch's records are decoded one by one
 * into a single scratch record and handed to the caller's function. Nothing is allocated per
 * record; encoding writes into a growable stint_buf whose growth is amortised.
 *
 * Positions. The input stream's state points at a shared cursor (struct cursor) that every
 * nanopb substream also points at, so the cursor is always the global position in the input:
 * that is the offset an error reports.
 *
 * Unknown fields. nanopb skips fields it does not know without telling. A decoded message's
 * canonical encoding is never longer than its input (duplicates, over-long varints, explicit
 * zeros only add bytes) and an unknown field adds at least two bytes, so when the canonical size
 * equals the input length there is nothing to count; otherwise a second pass with nanopb's own
 * pb_decode_tag/pb_skip_field counts the tags this version does not know. Well-formed v1 input
 * takes the cheap path.
 */
#include "stint/pb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "stint/utf8.h"
#include "stint/v1/stint.pb.h"
#include "wire.h"

/* Highest field number v1 defines, per message. */
#define RECORD_LAST_FIELD 11u
#define BATCH_LAST_FIELD 5u
#define REJECTION_LAST_FIELD 3u
#define ACK_LAST_FIELD 5u

/* Stands in for a NULL empty input, so that no pointer arithmetic ever starts from NULL. */
static const uint8_t no_bytes[1];

struct cursor {
    const uint8_t *base;
    const uint8_t *pos;
};

struct dec {
    struct cursor cur;
    struct stint_error *err;
    bool failed; /* err filled here; nanopb's message is secondary */
    enum stint_err code;
    uint64_t unknown;
    uint64_t records;
    enum { AT_TOP, AT_RECORD, AT_RECORDS, AT_CURRENT, AT_REJECTED } at; /* for messages */
    uint64_t at_index;
    /* the innermost message being decoded, to name the field an error falls in */
    const char *const *msg_fields; /* names by field number, NULL-ended */
    const uint8_t *msg_start;
    const uint8_t *msg_end;
    struct stint_record *target; /* record being decoded */
    stint_record_fn fn;
    void *fn_ctx;
    struct stint_record *scratch;
    struct stint_batch *head;
    size_t cb_bytes; /* canonical size of top-level callback fields seen */
    struct stint_ack *ack;
};

static bool cursor_read(pb_istream_t *s, pb_byte_t *buf, size_t n)
{
    struct cursor *c = s->state;

    if (buf && n)
        memcpy(buf, c->pos, n);
    c->pos += n;
    return true;
}

static pb_istream_t dec_stream(struct dec *d, const uint8_t *buf, size_t len)
{
    pb_istream_t s;

    d->cur.base = buf;
    d->cur.pos = buf;
    s.callback = cursor_read;
    s.state = &d->cur;
    s.bytes_left = len;
#ifndef PB_NO_ERRMSG
    s.errmsg = NULL;
#endif
    return s;
}

static size_t dec_offset(const struct dec *d)
{
    return (size_t)(d->cur.pos - d->cur.base);
}

static bool fail(struct dec *d, enum stint_err code, size_t off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Where decoding is, as a field path prefix ("records[3]"); formatted only for errors, since
 * a snprintf per record would cost more than decoding it. */
static void where(const struct dec *d, char *buf, size_t cap)
{
    buf[0] = '\0';
    switch (d->at) {
    case AT_TOP:
        buf[0] = '\0';
        break;
    case AT_RECORD:
        snprintf(buf, cap, "record");
        break;
    case AT_RECORDS:
        snprintf(buf, cap, "records[%llu]", (unsigned long long)d->at_index);
        break;
    case AT_CURRENT:
        snprintf(buf, cap, "current");
        break;
    case AT_REJECTED:
        snprintf(buf, cap, "rejected[%llu]", (unsigned long long)d->at_index);
        break;
    }
}

static bool fail(struct dec *d, enum stint_err code, size_t off, const char *fmt, ...)
{
    char msg[200], w[48];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    where(d, w, sizeof(w));
    d->failed = true;
    d->code = code;
    stint_error_set(d->err, code, off, "%s%s%s at byte %zu", w, w[0] ? "." : "", msg, off);
    return false;
}

/* nanopb hands a callback field that arrives with a scalar wire type to the callback as a copy
 * of the raw value, in a stream of its own rather than ours. Every callback field of v1 is
 * length-delimited, so that is a wrong wire type (protobuf-c refuses it the same way). */
static bool length_delimited(struct dec *d, const pb_istream_t *s, const char *name)
{
    if (s->callback == cursor_read)
        return true;
    return fail(d, STINT_EWIRE, dec_offset(d), "%s: wrong wire type", name);
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static const char *const record_fields[] = {
    "?",     "seq", "start_ms",  "end_ms",   "kind",      "app", "path",
    "title", "url", "truncated", "repaired", "gap_count", NULL};
static const char *const batch_fields[] = {
    "?", "agent_id", "client_version", "now_ms", "records", "current", NULL};
static const char *const ack_fields[] = {"?",      "acked_seq",  "rejected", "server_time_ms",
                                         "stored", "duplicates", NULL};
static const char *const rejection_fields[] = {"?", "seq", "code", "reason", NULL};

static void set_msg(struct dec *d, const char *const *fields, const uint8_t *start, size_t len)
{
    d->msg_fields = fields;
    d->msg_start = start;
    d->msg_end = start + len;
}

/* The name of the field whose bytes contain `at` in the innermost message, written into buf
 * ("title", or "field 12" for one v1 does not know); "" when no field starts before `at`. */
static void field_at(const struct dec *d, const uint8_t *at, char *buf, size_t cap)
{
    const uint8_t *p = d->msg_start, *end = d->msg_end;
    uint64_t last = 0;

    buf[0] = '\0';
    if (!p)
        return;
    while (p < end && p <= at) {
        uint64_t key;
        size_t n = stint_wire_varint(p, end, &key);

        if (n == 0)
            break;
        last = key >> 3;
        p = stint_wire_skip(p + n, end, (unsigned)(key & 7));
        if (!p)
            break; /* the error is in this field */
    }
    if (last == 0)
        return;
    {
        size_t i;
        for (i = 1; d->msg_fields[i]; i++)
            if (i == last) {
                snprintf(buf, cap, "%s", d->msg_fields[i]);
                return;
            }
    }
    snprintf(buf, cap, "field %llu", (unsigned long long)last);
}

/* nanopb's error strings, turned into Stint codes. */
static enum stint_err map_nanopb(const char *msg)
{
    if (!msg)
        return STINT_EWIRE;
    if (strcmp(msg, "end-of-stream") == 0 || strcmp(msg, "io error") == 0 ||
        strcmp(msg, "parent stream too short") == 0)
        return STINT_ETRUNC;
    if (strcmp(msg, "bytes overflow") == 0 || strcmp(msg, "string overflow") == 0 ||
        strcmp(msg, "array overflow") == 0)
        return STINT_ELIMIT;
    return STINT_EWIRE;
}

/* Counts the tags above `last` (or 0) in buf[0..len), a message nanopb has just decoded, into
 * d->unknown. nanopb skips an unknown varint without bounding its length; v1 bounds every varint
 * at 10 bytes (so does protobuf-c), so an unknown varint is read here, not skipped: returns false,
 * with the error in d, when one is malformed. */
static bool count_unknown(struct dec *d, const uint8_t *buf, size_t len, uint32_t last)
{
    pb_istream_t s = pb_istream_from_buffer(buf, len);
    size_t base = (size_t)(buf - d->cur.base);

    for (;;) {
        pb_wire_type_t wt;
        uint32_t tag;
        bool eof;
        uint64_t v;

        if (!pb_decode_tag(&s, &wt, &tag, &eof))
            break;
        if (tag == 0 || tag > last) {
            d->unknown++;
            if (wt == PB_WT_VARINT) {
                if (!pb_decode_varint(&s, &v))
                    return fail(d, STINT_EWIRE, base + (len - s.bytes_left),
                                "field %u: varint overflow", (unsigned)tag);
                continue;
            }
        }
        if (!pb_skip_field(&s, wt))
            break;
    }
    return true;
}

/* The string field with number `tag` of a Record, or NULL. */
static bool record_text_by_tag(struct stint_record *r, uint32_t tag, struct stint_text *t)
{
    static const enum stint_field bits[] = {STINT_FIELD_APP, STINT_FIELD_PATH, STINT_FIELD_TITLE,
                                            STINT_FIELD_URL};
    if (tag < stint_v1_Record_app_tag || tag > stint_v1_Record_url_tag)
        return false;
    return stint_record_text(r, bits[tag - stint_v1_Record_app_tag], t);
}

/* Reads a length-delimited string of at most `max` bytes into buf, NUL-terminated, checking
 * UTF-8. `name` names the field in errors. */
static bool read_string(struct dec *d, pb_istream_t *s, char *buf, uint32_t *len, uint32_t max,
                        const char *name)
{
    size_t n = s->bytes_left;
    size_t at = dec_offset(d);
    size_t ok;

#ifdef STINT_PLANTED_BUG
    /* Test-only build (-DSTINT_PLANTED_BUG=ON): the length check lets strings up to 16 bytes over
     * the limit through, silently cut to the limit, so that the differential fuzz harness can
     * prove that it finds a decoder bug. Never in a release build. */
    if (n > (size_t)max + 16)
        return fail(d, STINT_ELIMIT, at, "%s: %zu bytes, limit %u", name, n, max);
    if (n > max) {
        if (!pb_read(s, (pb_byte_t *)buf, max) || !pb_read(s, NULL, n - max))
            return false;
        n = max;
        goto check_utf8;
    }
#else
    if (n > max)
        return fail(d, STINT_ELIMIT, at, "%s: %zu bytes, limit %u", name, n, max);
#endif
    if (!pb_read(s, (pb_byte_t *)buf, n))
        return false;
#ifdef STINT_PLANTED_BUG
check_utf8:
#endif
    ok = stint_utf8_valid_prefix(buf, n);
    if (ok != n)
        return fail(d, STINT_EUTF8, at + ok, "%s: invalid UTF-8", name);
    buf[n] = '\0';
    *len = (uint32_t)n;
    return true;
}

static bool dec_record_text(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    struct dec *d = *arg;
    struct stint_text t;

    if (!record_text_by_tag(d->target, f->tag, &t) || !length_delimited(d, s, t.name))
        return false;
    return read_string(d, s, t.buf, t.len, t.max, t.name);
}

static void record_to_model(const stint_v1_Record *m, struct stint_record *r)
{
    r->seq = m->seq;
    r->start_ms = m->start_ms;
    r->end_ms = m->end_ms;
    r->kind = (int32_t)m->kind;
    r->truncated = m->truncated;
    r->repaired = m->repaired;
    r->gap_count = m->gap_count;
}

/* Size of nanopb's (canonical) encoding of r. */
static size_t record_size(const struct stint_record *r)
{
    size_t n = 0;

    if (r->seq)
        n += 1 + varint_size(r->seq);
    if (r->start_ms)
        n += 1 + varint_size((uint64_t)r->start_ms);
    if (r->end_ms)
        n += 1 + varint_size((uint64_t)r->end_ms);
    if (r->kind) /* never negative: the decoders refuse it, the encoders too */
        n += 1 + varint_size((uint32_t)r->kind);
    if (r->app_len)
        n += 1 + varint_size(r->app_len) + r->app_len;
    if (r->path_len)
        n += 1 + varint_size(r->path_len) + r->path_len;
    if (r->title_len)
        n += 1 + varint_size(r->title_len) + r->title_len;
    if (r->url_len)
        n += 1 + varint_size(r->url_len) + r->url_len;
    if (r->truncated)
        n += 1 + varint_size(r->truncated);
    if (r->repaired)
        n += 1 + varint_size(r->repaired);
    if (r->gap_count)
        n += 1 + varint_size(r->gap_count);
    return n;
}

/* Decodes the Record in stream s (exactly its bytes) into r. With `merge`, r keeps the values
 * this occurrence does not set: protobuf merges a singular message field that appears twice. */
static bool decode_record(struct dec *d, pb_istream_t *s, struct stint_record *r, bool merge)
{
    stint_v1_Record m;
    const uint8_t *start = d->cur.pos;
    size_t len = s->bytes_left;
    struct stint_record *outer = d->target;
    const char *const *outer_fields = d->msg_fields;
    const uint8_t *outer_start = d->msg_start, *outer_end = d->msg_end;

    if (!merge)
        stint_record_clear(r);
    memset(&m, 0, sizeof(m));
    m.seq = r->seq;
    m.start_ms = r->start_ms;
    m.end_ms = r->end_ms;
    m.kind = (stint_v1_Kind)r->kind;
    m.truncated = r->truncated;
    m.repaired = r->repaired;
    m.gap_count = r->gap_count;
    m.app.funcs.decode = dec_record_text;
    m.app.arg = d;
    m.path = m.app;
    m.title = m.app;
    m.url = m.app;
    d->target = r;
    set_msg(d, record_fields, start, len);
    if (!pb_decode_ex(s, stint_v1_Record_fields, &m, PB_DECODE_NOINIT)) {
        d->target = outer;
        return false; /* the innermost message stays set, for the error message */
    }
    d->target = outer;
    d->msg_fields = outer_fields;
    d->msg_start = outer_start;
    d->msg_end = outer_end;
    record_to_model(&m, r);
    if (r->kind < 0)
        return fail(d, STINT_ETYPE, dec_offset(d),
                    "kind: negative value %d (enum values are "
                    "never negative)",
                    (int)r->kind);
    if ((merge || record_size(r) != len) && !count_unknown(d, start, len, RECORD_LAST_FIELD))
        return false;
    return true;
}

/* Ends a failed decode: fills err from nanopb when no callback did. */
static enum stint_err dec_finish_error(struct dec *d, pb_istream_t *s)
{
    char w[48], f[32], path[96];

    if (d->failed)
        return d->code;
    where(d, w, sizeof(w));
    field_at(d, d->cur.pos, f, sizeof(f));
    snprintf(path, sizeof(path), "%s%s%s", w, w[0] && f[0] ? "." : "", f);
    d->code = map_nanopb(PB_GET_ERROR(s));
    stint_error_set(d->err, d->code, dec_offset(d), "%s%s%s at byte %zu", path, path[0] ? ": " : "",
                    PB_GET_ERROR(s), dec_offset(d));
    return d->code;
}

enum stint_err stint_pb_decode_record(const uint8_t *buf, size_t len, struct stint_record *r,
                                      struct stint_decode_info *info, struct stint_error *err)
{
    struct dec d;
    pb_istream_t s;

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL: no arithmetic on NULL */
    memset(&d, 0, sizeof(d));
    d.err = err;
    stint_error_clear(err);
    if (len > STINT_DECODE_MAX_INPUT)
        return stint_error_set(err, STINT_ELIMIT, 0, "record: %zu bytes, limit %zu", len,
                               STINT_DECODE_MAX_INPUT);
    s = dec_stream(&d, buf, len);
    d.at = AT_RECORD;
    if (!decode_record(&d, &s, r, false))
        return dec_finish_error(&d, &s);
    if (info) {
        info->records = 1;
        info->unknown_fields = d.unknown;
    }
    return STINT_OK;
}

/* --- batch decoding ----------------------------------------------------------------------- */

static bool dec_batch_record(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    struct dec *d = *arg;
    size_t len = s->bytes_left;
    enum stint_err e;

    (void)f;
    if (!length_delimited(d, s, "records"))
        return false;
    d->cb_bytes += 1 + varint_size(len) + len;
    d->at = AT_RECORDS;
    d->at_index = d->records;
    if (!decode_record(d, s, d->scratch, false))
        return false;
    d->at = AT_TOP;
    d->records++;
    if (d->fn) {
        e = d->fn(d->fn_ctx, d->scratch);
        if (e != STINT_OK) {
            d->at = AT_RECORDS;
            d->at_index = d->records - 1;
            return fail(d, e, dec_offset(d), "stopped by the record function: %s",
                        stint_strerror(e));
        }
    }
    return true;
}

static bool dec_batch_current(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    struct dec *d = *arg;
    size_t len = s->bytes_left;

    (void)f;
    if (!length_delimited(d, s, "current"))
        return false;
    d->cb_bytes += 1 + varint_size(len) + len;
    d->at = AT_CURRENT;
    if (!decode_record(d, s, &d->head->current, d->head->has_current))
        return false;
    d->at = AT_TOP;
    d->head->has_current = true;
    return true;
}

static bool dec_batch_version(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    struct dec *d = *arg;
    size_t len = s->bytes_left;

    (void)f;
    if (!length_delimited(d, s, "client_version"))
        return false;
    d->cb_bytes += 1 + varint_size(len) + len;
    return read_string(d, s, d->head->client_version, &d->head->client_version_len,
                       STINT_VERSION_MAX, "client_version");
}

enum stint_err stint_pb_decode_batch(const uint8_t *buf, size_t len, struct stint_batch *head,
                                     stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                     struct stint_error *err)
{
    struct stint_record scratch;
    stint_v1_Batch m;
    struct dec d;
    pb_istream_t s;
    size_t canon;

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL: no arithmetic on NULL */
    memset(&d, 0, sizeof(d));
    d.err = err;
    d.fn = fn;
    d.fn_ctx = ctx;
    d.scratch = &scratch;
    d.head = head;
    stint_error_clear(err);
    stint_batch_clear(head);
    if (len > STINT_DECODE_MAX_INPUT)
        return stint_error_set(err, STINT_ELIMIT, 0, "batch: %zu bytes, limit %zu", len,
                               STINT_DECODE_MAX_INPUT);
    memset(&m, 0, sizeof(m));
    m.client_version.funcs.decode = dec_batch_version;
    m.client_version.arg = &d;
    m.records.funcs.decode = dec_batch_record;
    m.records.arg = &d;
    m.current.funcs.decode = dec_batch_current;
    m.current.arg = &d;
    s = dec_stream(&d, buf, len);
    set_msg(&d, batch_fields, buf, len);
    if (!pb_decode_ex(&s, stint_v1_Batch_fields, &m, PB_DECODE_NOINIT))
        return dec_finish_error(&d, &s);
    if (m.agent_id.size != 0 && m.agent_id.size != STINT_AGENT_ID_LEN)
        return stint_error_set(err, STINT_ETYPE, 0, "agent_id: %u bytes, must be %d",
                               (unsigned)m.agent_id.size, STINT_AGENT_ID_LEN);
    memcpy(head->agent_id, m.agent_id.bytes, m.agent_id.size);
    head->agent_id_len = (uint32_t)m.agent_id.size;
    head->now_ms = m.now_ms;
    canon = d.cb_bytes;
    if (m.agent_id.size)
        canon += 2 + m.agent_id.size;
    if (m.now_ms)
        canon += 1 + varint_size((uint64_t)m.now_ms);
    if (canon != len && !count_unknown(&d, buf, len, BATCH_LAST_FIELD))
        return d.code;
    if (info) {
        info->records = d.records;
        info->unknown_fields = d.unknown;
    }
    return STINT_OK;
}

/* --- ack decoding ------------------------------------------------------------------------- */

struct rej_arg {
    struct dec *d;
    struct stint_rejection *r;
};

static bool dec_rejection_reason(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    struct rej_arg *ra = *arg;

    (void)f;
    if (!length_delimited(ra->d, s, "reason"))
        return false;
    return read_string(ra->d, s, ra->r->reason, &ra->r->reason_len, STINT_REASON_MAX, "reason");
}

static bool dec_ack_rejection(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    struct dec *d = *arg;
    struct stint_ack *a = d->ack;
    stint_v1_Rejection m;
    struct stint_rejection *r;
    struct rej_arg ra;
    const uint8_t *outer_start, *outer_end;
    const uint8_t *start = d->cur.pos;
    size_t len = s->bytes_left;
    enum stint_err e;

    (void)f;
    if (!length_delimited(d, s, "rejected"))
        return false;
    d->at = AT_REJECTED;
    d->at_index = a->n_rejected;
    e = stint_ack_add_rejection(a, 0, 0, "", 0);
    if (e != STINT_OK)
        return fail(d, e, dec_offset(d), "more than %d rejections", STINT_ACK_REJECTED_MAX);
    r = &a->rejected[a->n_rejected - 1];
    memset(&m, 0, sizeof(m));
    ra.d = d;
    ra.r = r;
    m.reason.funcs.decode = dec_rejection_reason;
    m.reason.arg = &ra;
    outer_start = d->msg_start;
    outer_end = d->msg_end;
    set_msg(d, rejection_fields, start, len);
    if (!pb_decode_ex(s, stint_v1_Rejection_fields, &m, PB_DECODE_NOINIT))
        return false;
    set_msg(d, ack_fields, outer_start, (size_t)(outer_end - outer_start));
    r->seq = m.seq;
    r->code = (int32_t)m.code;
    if (r->code < 0)
        return fail(d, STINT_ETYPE, dec_offset(d),
                    "code: negative value %d (enum values are "
                    "never negative)",
                    (int)r->code);
    if (!count_unknown(d, start, len, REJECTION_LAST_FIELD))
        return false;
    d->at = AT_TOP;
    return true;
}

enum stint_err stint_pb_decode_ack(const uint8_t *buf, size_t len, struct stint_ack *a,
                                   struct stint_decode_info *info, struct stint_error *err)
{
    stint_v1_Ack m;
    struct dec d;
    pb_istream_t s;

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL: no arithmetic on NULL */
    memset(a, 0, sizeof(*a));
    memset(&d, 0, sizeof(d));
    d.err = err;
    d.ack = a;
    stint_error_clear(err);
    if (len > STINT_DECODE_MAX_INPUT)
        return stint_error_set(err, STINT_ELIMIT, 0, "ack: %zu bytes, limit %zu", len,
                               STINT_DECODE_MAX_INPUT);
    memset(&m, 0, sizeof(m));
    m.rejected.funcs.decode = dec_ack_rejection;
    m.rejected.arg = &d;
    s = dec_stream(&d, buf, len);
    set_msg(&d, ack_fields, buf, len);
    if (!pb_decode_ex(&s, stint_v1_Ack_fields, &m, PB_DECODE_NOINIT)) {
        enum stint_err e = dec_finish_error(&d, &s);
        stint_ack_free(a);
        return e;
    }
    a->acked_seq = m.acked_seq;
    a->server_time_ms = m.server_time_ms;
    a->stored = m.stored;
    a->duplicates = m.duplicates;
    if (!count_unknown(&d, buf, len, ACK_LAST_FIELD)) {
        stint_ack_free(a);
        return d.code;
    }
    if (info) {
        info->records = 0;
        info->unknown_fields = d.unknown;
    }
    return STINT_OK;
}

/* --- encoding ----------------------------------------------------------------------------- */

static bool buf_write(pb_ostream_t *s, const pb_byte_t *p, size_t n)
{
    return stint_buf_append(s->state, p, n) == STINT_OK;
}

static pb_ostream_t enc_stream(struct stint_buf *out)
{
    pb_ostream_t s;

    s.callback = buf_write;
    s.state = out;
    s.max_size = SIZE_MAX;
    s.bytes_written = 0;
#ifndef PB_NO_ERRMSG
    s.errmsg = NULL;
#endif
    return s;
}

static bool enc_string(pb_ostream_t *s, const pb_field_t *f, const char *p, uint32_t len)
{
    if (len == 0)
        return true;
    return pb_encode_tag_for_field(s, f) && pb_encode_string(s, (const pb_byte_t *)p, len);
}

static bool enc_record_text(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const struct stint_record *r = *arg;

    switch (f->tag) {
    case stint_v1_Record_app_tag:
        return enc_string(s, f, r->app, r->app_len);
    case stint_v1_Record_path_tag:
        return enc_string(s, f, r->path, r->path_len);
    case stint_v1_Record_title_tag:
        return enc_string(s, f, r->title, r->title_len);
    case stint_v1_Record_url_tag:
        return enc_string(s, f, r->url, r->url_len);
    default:
        return false;
    }
}

static void record_from_model(const struct stint_record *r, stint_v1_Record *m)
{
    m->seq = r->seq;
    m->start_ms = r->start_ms;
    m->end_ms = r->end_ms;
    m->kind = (stint_v1_Kind)r->kind;
    m->truncated = r->truncated;
    m->repaired = r->repaired;
    m->gap_count = r->gap_count;
    m->app.funcs.encode = enc_record_text;
    m->app.arg = (void *)(uintptr_t)r; /* nanopb's arg is not const; it is only read */
    m->path = m->app;
    m->title = m->app;
    m->url = m->app;
}

/* Writes the encoding of r at the end of out, straight into its memory: one reservation for
 * the worst case, then nanopb's own buffer stream, which is cheaper than a write callback. */
static enum stint_err encode_record_at_end(const struct stint_record *r, struct stint_buf *out,
                                           size_t *written)
{
    stint_v1_Record m;
    pb_ostream_t s;
    enum stint_err e;

    e = stint_buf_reserve(out, STINT_PB_RECORD_MAX);
    if (e != STINT_OK)
        return e;
    record_from_model(r, &m);
    s = pb_ostream_from_buffer(out->data + out->len, STINT_PB_RECORD_MAX);
    if (!pb_encode(&s, stint_v1_Record_fields, &m))
        return STINT_EINVAL;
    out->len += s.bytes_written;
    *written = s.bytes_written;
    return STINT_OK;
}

enum stint_err stint_pb_encode_record(const struct stint_record *r, struct stint_buf *out)
{
    size_t n;

    if (r->kind < 0)
        return STINT_EINVAL;
    return encode_record_at_end(r, out, &n);
}

struct enc_batch {
    const struct stint_batch *head;
    struct stint_record_iter *it;
    enum stint_err err;
};

static bool enc_batch_version(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const struct enc_batch *eb = *arg;

    return enc_string(s, f, eb->head->client_version, eb->head->client_version_len);
}

static bool enc_batch_current(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const struct enc_batch *eb = *arg;
    stint_v1_Record m;

    if (!eb->head->has_current)
        return true;
    if (eb->head->current.kind < 0)
        return false;
    record_from_model(&eb->head->current, &m);
    return pb_encode_tag_for_field(s, f) && pb_encode_submessage(s, stint_v1_Record_fields, &m);
}

static bool enc_batch_records(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    struct enc_batch *eb = *arg;
    struct stint_record scratch;
    stint_v1_Record m;

    if (!eb->it)
        return true;
    for (;;) {
        const struct stint_record *r = NULL;

        eb->err = eb->it->next(eb->it->ctx, &scratch, &r);
        if (eb->err != STINT_OK)
            return false;
        if (!r)
            return true;
        if (r->kind < 0) {
            eb->err = STINT_EINVAL; /* enum values are never negative */
            return false;
        }
        if (s->callback == buf_write) {
            /* Length first, from record_size(), then the record written in place: one pass,
             * where pb_encode_submessage would encode each record twice (size, then bytes). */
            size_t size = record_size(r), written = 0;

            if (!pb_encode_tag_for_field(s, f) || !pb_encode_varint(s, size)) {
                eb->err = STINT_ENOMEM;
                return false;
            }
            eb->err = encode_record_at_end(r, s->state, &written);
            if (eb->err == STINT_OK && written != size)
                eb->err = STINT_EINVAL; /* record_size() and nanopb disagree: never emit it */
            if (eb->err != STINT_OK)
                return false;
            s->bytes_written += written;
            continue;
        }
        record_from_model(r, &m);
        if (!pb_encode_tag_for_field(s, f) ||
            !pb_encode_submessage(s, stint_v1_Record_fields, &m)) {
            eb->err = STINT_ENOMEM;
            return false;
        }
    }
}

enum stint_err stint_pb_encode_batch(const struct stint_batch *head, struct stint_record_iter *it,
                                     struct stint_buf *out)
{
    struct enc_batch eb = {head, it, STINT_OK};
    stint_v1_Batch m;
    pb_ostream_t s;

    if (head->agent_id_len != 0 && head->agent_id_len != STINT_AGENT_ID_LEN)
        return STINT_EINVAL;
    memset(&m, 0, sizeof(m));
    memcpy(m.agent_id.bytes, head->agent_id, head->agent_id_len);
    m.agent_id.size = (pb_size_t)head->agent_id_len;
    m.client_version.funcs.encode = enc_batch_version;
    m.client_version.arg = &eb;
    m.now_ms = head->now_ms;
    m.records.funcs.encode = enc_batch_records;
    m.records.arg = &eb;
    m.current.funcs.encode = enc_batch_current;
    m.current.arg = &eb;
    s = enc_stream(out);
    if (!pb_encode(&s, stint_v1_Batch_fields, &m))
        return eb.err != STINT_OK ? eb.err : STINT_ENOMEM;
    return STINT_OK;
}

static bool enc_rejection_reason(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const struct stint_rejection *r = *arg;

    return enc_string(s, f, r->reason, r->reason_len);
}

static bool enc_ack_rejected(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const struct stint_ack *a = *arg;
    size_t i;

    for (i = 0; i < a->n_rejected; i++) {
        stint_v1_Rejection m;

        memset(&m, 0, sizeof(m));
        m.seq = a->rejected[i].seq;
        m.code = (stint_v1_RejectCode)a->rejected[i].code;
        m.reason.funcs.encode = enc_rejection_reason;
        m.reason.arg = (void *)(uintptr_t)&a->rejected[i];
        if (!pb_encode_tag_for_field(s, f) ||
            !pb_encode_submessage(s, stint_v1_Rejection_fields, &m))
            return false;
    }
    return true;
}

enum stint_err stint_pb_encode_ack(const struct stint_ack *a, struct stint_buf *out)
{
    stint_v1_Ack m;
    pb_ostream_t s;

    memset(&m, 0, sizeof(m));
    m.acked_seq = a->acked_seq;
    m.server_time_ms = a->server_time_ms;
    m.stored = a->stored;
    m.duplicates = a->duplicates;
    m.rejected.funcs.encode = enc_ack_rejected;
    m.rejected.arg = (void *)(uintptr_t)a;
    s = enc_stream(out);
    return pb_encode(&s, stint_v1_Ack_fields, &m) ? STINT_OK : STINT_ENOMEM;
}

/* --- array iterator ----------------------------------------------------------------------- */

static enum stint_err array_next(void *ctx, struct stint_record *scratch,
                                 const struct stint_record **out)
{
    struct stint_record_array *a = ctx;

    (void)scratch;
    *out = a->pos < a->n ? &a->items[a->pos++] : NULL;
    return STINT_OK;
}

struct stint_record_iter stint_record_array_iter(struct stint_record_array *state)
{
    struct stint_record_iter it = {array_next, state};

    return it;
}
