/* json.c — canonical JSON for stint.v1 (see json.h), on jansson.
 *
 * Design. Parsing is jansson's (strict RFC 8259; JSON_ALLOW_NUL so that "\u0000" round-trips
 * like any other code point); this file only maps the parsed tree to the model, field by field,
 * with the proto3 JSON rules. Encoding writes the object's punctuation itself and lets jansson
 * escape every string and number, one member at a time, so a batch streams: memory is one
 * record, not the whole array.
 *
 * Out of memory. jansson 2.14 ignores a failed allocation in places: its lexer drops a character
 * of a string when growing its buffer fails, and the document still parses (found by
 * tests/unit/test_alloc.c). So jansson allocates through track_malloc() here, which notes any
 * failure in a thread-local flag, and a parse or dump during which an allocation failed is
 * refused with STINT_ENOMEM, whatever jansson returned. json_set_alloc_funcs() is process-wide:
 * another jansson user in the process gets the same malloc/free, only watched.
 */
#include "stint/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>

#include "stint/base64.h"
#include "stint/utf8.h"

static _Thread_local bool alloc_failed;
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void *track_malloc(size_t n)
{
    void *p = malloc(n);

    if (!p)
        alloc_failed = true;
    return p;
}

static void track_free(void *p)
{
    free(p);
}

static void install_alloc(void)
{
    json_set_alloc_funcs(track_malloc, track_free);
}

/* Starts watching jansson's allocations on this thread. */
static void watch_alloc(void)
{
    pthread_once(&alloc_once, install_alloc);
    alloc_failed = false;
}

/* --- encoding ----------------------------------------------------------------------------- */

static int dump_cb(const char *p, size_t n, void *data)
{
    return stint_buf_append(data, p, n) == STINT_OK ? 0 : -1;
}

/* Appends `sep"name":` */
static enum stint_err put_key(struct stint_buf *out, bool *first, const char *name)
{
    enum stint_err e = stint_buf_append(out, *first ? "\"" : ",\"", *first ? 1 : 2);

    *first = false;
    if (e == STINT_OK)
        e = stint_buf_append_str(out, name);
    if (e == STINT_OK)
        e = stint_buf_append(out, "\":", 2);
    return e;
}

/* Dumps v (which it releases): v was made under watch_alloc(), see put_str(). */
static enum stint_err put_json(struct stint_buf *out, json_t *v)
{
    int rc;

    if (!v)
        return STINT_ENOMEM;
    rc = json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return rc == 0 && !alloc_failed ? STINT_OK : STINT_ENOMEM;
}

static enum stint_err put_str(struct stint_buf *out, bool *first, const char *name, const char *p,
                              uint32_t len)
{
    enum stint_err e;

    if (len == 0)
        return STINT_OK;
    if ((e = put_key(out, first, name)) != STINT_OK)
        return e;
    /* json_stringn refuses invalid UTF-8; the model never holds any */
    watch_alloc();
    return put_json(out, json_stringn(p, len));
}

static enum stint_err put_u64(struct stint_buf *out, bool *first, const char *name, uint64_t v)
{
    enum stint_err e;

    if (v == 0)
        return STINT_OK;
    if ((e = put_key(out, first, name)) != STINT_OK)
        return e;
    return stint_buf_printf(out, "\"%" PRIu64 "\"", v);
}

static enum stint_err put_i64(struct stint_buf *out, bool *first, const char *name, int64_t v)
{
    enum stint_err e;

    if (v == 0)
        return STINT_OK;
    if ((e = put_key(out, first, name)) != STINT_OK)
        return e;
    return stint_buf_printf(out, "\"%" PRId64 "\"", v);
}

static enum stint_err put_u32(struct stint_buf *out, bool *first, const char *name, uint32_t v)
{
    enum stint_err e;

    if (v == 0)
        return STINT_OK;
    if ((e = put_key(out, first, name)) != STINT_OK)
        return e;
    return stint_buf_printf(out, "%" PRIu32, v);
}

static const char *const reject_names[] = {"REJECT_UNSPECIFIED", "REJECT_BAD_TIME",
                                           "REJECT_BAD_SEQ", "REJECT_BAD_KIND",
                                           "REJECT_BAD_STRING"};
#define N_REJECT_NAMES (sizeof(reject_names) / sizeof(reject_names[0]))

static const char *reject_name(int32_t code)
{
    return code >= 0 && (size_t)code < N_REJECT_NAMES ? reject_names[code] : NULL;
}

static enum stint_err put_enum(struct stint_buf *out, bool *first, const char *name, int32_t v,
                               const char *vname)
{
    enum stint_err e;

    if (v == 0)
        return STINT_OK;
    if ((e = put_key(out, first, name)) != STINT_OK)
        return e;
    if (vname)
        return stint_buf_printf(out, "\"%s\"", vname);
    return stint_buf_printf(out, "%" PRId32, v);
}

enum stint_err stint_json_encode_record(const struct stint_record *r, struct stint_buf *out)
{
    bool first = true;
    enum stint_err e;

    if (r->kind < 0)
        return STINT_EINVAL; /* enum values are never negative */
    if ((e = stint_buf_append(out, "{", 1)) || (e = put_u64(out, &first, "seq", r->seq)) ||
        (e = put_i64(out, &first, "startMs", r->start_ms)) ||
        (e = put_i64(out, &first, "endMs", r->end_ms)) ||
        (e = put_enum(out, &first, "kind", r->kind, stint_kind_name(r->kind))) ||
        (e = put_str(out, &first, "app", r->app, r->app_len)) ||
        (e = put_str(out, &first, "path", r->path, r->path_len)) ||
        (e = put_str(out, &first, "title", r->title, r->title_len)) ||
        (e = put_str(out, &first, "url", r->url, r->url_len)) ||
        (e = put_u32(out, &first, "truncated", r->truncated)) ||
        (e = put_u32(out, &first, "repaired", r->repaired)) ||
        (e = put_u64(out, &first, "gapCount", r->gap_count)))
        return e;
    return stint_buf_append(out, "}", 1);
}

enum stint_err stint_json_encode_batch(const struct stint_batch *head, struct stint_record_iter *it,
                                       struct stint_buf *out)
{
    struct stint_record scratch;
    bool first = true, first_rec = true;
    enum stint_err e;

    if (head->agent_id_len != 0 && head->agent_id_len != STINT_AGENT_ID_LEN)
        return STINT_EINVAL;
    if ((e = stint_buf_append(out, "{", 1)) != STINT_OK)
        return e;
    if (head->agent_id_len) {
        if ((e = put_key(out, &first, "agentId")) || (e = stint_buf_append(out, "\"", 1)) ||
            (e = stint_base64_encode(head->agent_id, head->agent_id_len, out)) ||
            (e = stint_buf_append(out, "\"", 1)))
            return e;
    }
    if ((e = put_str(out, &first, "clientVersion", head->client_version,
                     head->client_version_len)) ||
        (e = put_i64(out, &first, "nowMs", head->now_ms)))
        return e;
    while (it) {
        const struct stint_record *r = NULL;

        if ((e = it->next(it->ctx, &scratch, &r)) != STINT_OK)
            return e;
        if (!r)
            break;
        if (first_rec) {
            if ((e = put_key(out, &first, "records")) || (e = stint_buf_append(out, "[", 1)))
                return e;
        } else if ((e = stint_buf_append(out, ",", 1)) != STINT_OK) {
            return e;
        }
        first_rec = false;
        if ((e = stint_json_encode_record(r, out)) != STINT_OK)
            return e;
    }
    if (!first_rec && (e = stint_buf_append(out, "]", 1)) != STINT_OK)
        return e;
    if (head->has_current) {
        if ((e = put_key(out, &first, "current")) ||
            (e = stint_json_encode_record(&head->current, out)))
            return e;
    }
    return stint_buf_append(out, "}", 1);
}

enum stint_err stint_json_encode_ack(const struct stint_ack *a, struct stint_buf *out)
{
    bool first = true;
    enum stint_err e;
    size_t i;

    if ((e = stint_buf_append(out, "{", 1)) || (e = put_u64(out, &first, "ackedSeq", a->acked_seq)))
        return e;
    if (a->n_rejected) {
        if ((e = put_key(out, &first, "rejected")) || (e = stint_buf_append(out, "[", 1)))
            return e;
        for (i = 0; i < a->n_rejected; i++) {
            const struct stint_rejection *r = &a->rejected[i];
            bool f2 = true;

            if ((e = stint_buf_append(out, i ? ",{" : "{", i ? 2 : 1)) ||
                (e = put_u64(out, &f2, "seq", r->seq)) ||
                (e = put_enum(out, &f2, "code", r->code, reject_name(r->code))) ||
                (e = put_str(out, &f2, "reason", r->reason, r->reason_len)) ||
                (e = stint_buf_append(out, "}", 1)))
                return e;
        }
        if ((e = stint_buf_append(out, "]", 1)) != STINT_OK)
            return e;
    }
    if ((e = put_i64(out, &first, "serverTimeMs", a->server_time_ms)) ||
        (e = put_u64(out, &first, "stored", a->stored)) ||
        (e = put_u64(out, &first, "duplicates", a->duplicates)))
        return e;
    return stint_buf_append(out, "}", 1);
}

/* --- decoding ----------------------------------------------------------------------------- */

struct jdec {
    struct stint_error *err;
    uint64_t unknown;
    char path[48]; /* "records[12]" */
};

static enum stint_err jfail(struct jdec *d, enum stint_err code, const char *member,
                            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static enum stint_err jfail(struct jdec *d, enum stint_err code, const char *member,
                            const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return stint_error_set(d->err, code, 0, "%s%s%s: %s", d->path, d->path[0] ? "." : "", member,
                           msg);
}

/* jansson refuses the escape \u0000 inside an object key ("NUL byte in object key not
 * supported"), though the JSON is valid. No member name of stint.v1 contains U+0000, so such a
 * key can only be an unknown member: it is parsed again with each \u0000 of a key written as
 * \u0001, which keeps it unknown. Returns NULL when there was nothing to rewrite. */
static char *rewrite_nul_keys(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    size_t i = 0, changed = 0;

    if (!copy)
        return NULL;
    memcpy(copy, text, len);
    while (i < len) {
        size_t start, j, k;

        if (copy[i] != '"') {
            i++;
            continue;
        }
        start = ++i;
        while (i < len && copy[i] != '"')
            i += copy[i] == '\\' ? 2 : 1;
        if (i >= len)
            break;
        k = i + 1; /* a key is a string followed by ':' */
        while (k < len && (copy[k] == ' ' || copy[k] == '\t' || copy[k] == '\n' || copy[k] == '\r'))
            k++;
        if (k < len && copy[k] == ':') {
            for (j = start; j + 6 <= i; j++) {
                if (copy[j] == '\\' && memcmp(copy + j + 1, "u0000", 5) == 0) {
                    copy[j + 5] = '1';
                    changed++;
                    j += 5;
                } else if (copy[j] == '\\') {
                    j++;
                }
            }
        }
        i++;
    }
    if (!changed) {
        free(copy);
        return NULL;
    }
    return copy;
}

/* Parses text; `dups` 0 lets a repeated member name through (it is valid JSON syntax, RFC 8259
 * §4 only says SHOULD be unique), JSON_REJECT_DUPLICATES refuses it as a wrong value
 * (STINT_ETYPE): the decoders do, since which of two values counts is something readers have
 * never agreed on (spec/PROTOCOL.md §4). */
static json_t *parse_flags(const char *text, size_t len, size_t dups, struct stint_error *err)
{
    json_error_t je;
    json_t *root;
    const char *nul;

    if (len > STINT_DECODE_MAX_INPUT) {
        stint_error_set(err, STINT_ELIMIT, 0, "JSON input of %zu bytes, limit %zu", len,
                        STINT_DECODE_MAX_INPUT);
        return NULL;
    }
    if (!text)
        text = ""; /* an empty input may come as NULL */
    /* A raw NUL byte is never valid JSON text; jansson would stop reading at it. */
    nul = len ? memchr(text, 0, len) : NULL;
    if (nul) {
        size_t pos = (size_t)(nul - text);
        stint_error_set(err, STINT_EJSON, pos, "JSON syntax at byte %zu: raw NUL byte", pos);
        return NULL;
    }
    watch_alloc();
    root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | dups, &je);
    if (!root && !alloc_failed && strstr(je.text, "NUL byte in object key")) {
        char *copy = rewrite_nul_keys(text, len);
        if (copy) {
            root = json_loadb(copy, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | dups, &je);
            free(copy);
        }
    }
    if (alloc_failed) {
        json_decref(root); /* NULL is fine */
        stint_error_set(err, STINT_ENOMEM, 0, "out of memory while parsing JSON");
        return NULL;
    }
    if (!root) {
        size_t pos = je.position > 0 ? (size_t)je.position : 0;
        if (pos > len)
            pos = len;
        if (dups && strstr(je.text, "duplicate object key"))
            stint_error_set(err, STINT_ETYPE, pos, "a member given twice at byte %zu: %s", pos,
                            je.text);
        else
            stint_error_set(err, STINT_EJSON, pos,
                            "JSON syntax at line %d column %d (byte %zu): %s", je.line, je.column,
                            pos, je.text);
    }
    return root;
}

static json_t *parse(const char *text, size_t len, struct stint_error *err)
{
    json_t *root = parse_flags(text, len, JSON_REJECT_DUPLICATES, err);
    struct stint_error syntax;

    if (root || err->code != STINT_ETYPE)
        return root;
    /* a repeated name stops jansson there: text that is not JSON further on is a syntax error
     * first, as the syntax check says */
    stint_error_clear(&syntax);
    root = parse_flags(text, len, 0, &syntax);
    if (!root)
        *err = syntax;
    json_decref(root);
    return NULL;
}

enum stint_err stint_json_check_syntax(const char *text, size_t len, struct stint_error *err)
{
    struct stint_error local;
    json_t *root;

    if (!err)
        err = &local; /* the code is needed even when the caller wants no message */
    stint_error_clear(err);
    root = parse_flags(text, len, 0, err);
    if (!root)
        return err->code;
    json_decref(root);
    return STINT_OK;
}

/* Parses an optionally signed decimal integer string. */
static bool parse_dec(const char *s, size_t len, bool neg_ok, uint64_t *mag, bool *neg)
{
    size_t i = 0;
    uint64_t v = 0;

    *neg = false;
    if (len && s[0] == '-' && neg_ok) {
        *neg = true;
        i = 1;
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        unsigned dgt;
        if (s[i] < '0' || s[i] > '9')
            return false;
        dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return false;
        v = v * 10 + dgt;
    }
    *mag = v;
    return true;
}

/* A JSON integer, integral real, or decimal string, into [lo, hi] (signed) or [0, uhi]. */
static enum stint_err get_int(struct jdec *d, const char *member, json_t *v, bool is_signed,
                              int64_t lo, int64_t hi, uint64_t uhi, int64_t *sout, uint64_t *uout)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (is_signed) {
            if (x < lo || x > hi)
                return jfail(d, STINT_ETYPE, member, "%lld out of range", (long long)x);
            *sout = x;
        } else {
            if (x < 0 || (uint64_t)x > uhi)
                return jfail(d, STINT_ETYPE, member, "%lld out of range", (long long)x);
            *uout = (uint64_t)x;
        }
        return STINT_OK;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x != floor(x))
            return jfail(d, STINT_ETYPE, member, "%g is not an integer", x);
        /* 2^63 and 2^64 are exact doubles: compare against them, not against INT64_MAX */
        if (is_signed) {
            if (x < -9223372036854775808.0 || x >= 9223372036854775808.0 || x < (double)lo ||
                x > (double)hi)
                return jfail(d, STINT_ETYPE, member, "%g out of range", x);
            *sout = (int64_t)x;
        } else {
            if (x < 0 || x >= 18446744073709551616.0 || x > (double)uhi)
                return jfail(d, STINT_ETYPE, member, "%g out of range", x);
            *uout = (uint64_t)x;
        }
        return STINT_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        uint64_t mag;
        bool neg;

        if (!parse_dec(s, len, is_signed, &mag, &neg))
            return jfail(d, STINT_ETYPE, member, "\"%.40s\" is not a decimal integer", s);
        if (is_signed) {
            if (neg) {
                if (mag > (uint64_t)INT64_MAX + 1 || -(int64_t)(mag - 1) - 1 < lo)
                    return jfail(d, STINT_ETYPE, member, "\"%.40s\" out of range", s);
                *sout = -(int64_t)(mag - 1) - 1;
            } else {
                if (mag > (uint64_t)hi)
                    return jfail(d, STINT_ETYPE, member, "\"%.40s\" out of range", s);
                *sout = (int64_t)mag;
            }
        } else {
            if (mag > uhi)
                return jfail(d, STINT_ETYPE, member, "\"%.40s\" out of range", s);
            *uout = mag;
        }
        return STINT_OK;
    }
    return jfail(d, STINT_ETYPE, member, "expected an integer or a decimal string");
}

static enum stint_err get_u64(struct jdec *d, const char *m, json_t *v, uint64_t *out)
{
    int64_t unused;
    return get_int(d, m, v, false, 0, 0, UINT64_MAX, &unused, out);
}

static enum stint_err get_i64(struct jdec *d, const char *m, json_t *v, int64_t *out)
{
    uint64_t unused;
    return get_int(d, m, v, true, INT64_MIN, INT64_MAX, 0, out, &unused);
}

static enum stint_err get_u32(struct jdec *d, const char *m, json_t *v, uint32_t *out)
{
    int64_t unused;
    uint64_t x = 0;
    enum stint_err e = get_int(d, m, v, false, 0, 0, UINT32_MAX, &unused, &x);

    *out = (uint32_t)x;
    return e;
}

static enum stint_err get_enum(struct jdec *d, const char *m, json_t *v,
                               const char *(*name_of)(int32_t), int32_t n_names, int32_t *out)
{
    if (json_is_string(v)) {
        int32_t i;
        for (i = 0; i < n_names; i++) {
            const char *n = name_of(i);
            if (n && strlen(n) == json_string_length(v) && strcmp(n, json_string_value(v)) == 0) {
                *out = i;
                return STINT_OK;
            }
        }
        return jfail(d, STINT_ETYPE, m, "unknown enum value \"%.40s\"", json_string_value(v));
    }
    if (json_is_integer(v) || json_is_real(v)) {
        int64_t x = 0;
        uint64_t unused;
        /* enum values are never negative (spec/PROTOCOL.md, "Kinds") */
        enum stint_err e = get_int(d, m, v, true, 0, INT32_MAX, 0, &x, &unused);
        *out = (int32_t)x;
        return e;
    }
    return jfail(d, STINT_ETYPE, m, "expected an enum name or number");
}

static enum stint_err get_text(struct jdec *d, const char *m, json_t *v, char *buf, uint32_t *len,
                               uint32_t max)
{
    size_t n;

    if (!json_is_string(v))
        return jfail(d, STINT_ETYPE, m, "expected a string");
    n = json_string_length(v);
    if (n > max)
        return jfail(d, STINT_ELIMIT, m, "%zu bytes, limit %u", n, max);
    /* jansson has validated UTF-8 already; the check stays so the rule lives in one place */
    if (!stint_utf8_valid(json_string_value(v), n))
        return jfail(d, STINT_EUTF8, m, "invalid UTF-8");
    memcpy(buf, json_string_value(v), n);
    buf[n] = '\0';
    *len = (uint32_t)n;
    return STINT_OK;
}

static bool is(const char *key, const char *camel, const char *proto)
{
    return strcmp(key, camel) == 0 || (proto && strcmp(key, proto) == 0);
}

/* A field given under both its names (startMs and start_ms) is given twice: refused like a
 * repeated member name (§4). */
static enum stint_err both_names(struct jdec *d, json_t *o, const char *const *pairs)
{
    for (; pairs[0]; pairs += 2)
        if (json_object_get(o, pairs[0]) && json_object_get(o, pairs[1]))
            return jfail(d, STINT_ETYPE, pairs[1], "given twice (also as %s)", pairs[0]);
    return STINT_OK;
}

static const char *const record_names[] = {"startMs",  "start_ms",  "endMs", "end_ms",
                                           "gapCount", "gap_count", NULL};
static const char *const batch_names[] = {
    "agentId", "agent_id", "clientVersion", "client_version", "nowMs", "now_ms", NULL};
static const char *const ack_names[] = {"ackedSeq", "acked_seq", "serverTimeMs", "server_time_ms",
                                        NULL};

static const char *kind_name_any(int32_t k)
{
    return stint_kind_name(k);
}

static enum stint_err record_from_json(struct jdec *d, json_t *o, struct stint_record *r)
{
    const char *key;
    json_t *v;
    enum stint_err e = STINT_OK;

    stint_record_clear(r);
    if (!json_is_object(o))
        return jfail(d, STINT_ETYPE, "", "expected an object");
    if ((e = both_names(d, o, record_names)) != STINT_OK)
        return e;
    json_object_foreach (o, key, v) {
        if (json_is_null(v)) {
            /* null is the default value; still a known-or-unknown member */
            if (!(is(key, "seq", NULL) || is(key, "startMs", "start_ms") ||
                  is(key, "endMs", "end_ms") || is(key, "kind", NULL) || is(key, "app", NULL) ||
                  is(key, "path", NULL) || is(key, "title", NULL) || is(key, "url", NULL) ||
                  is(key, "truncated", NULL) || is(key, "repaired", NULL) ||
                  is(key, "gapCount", "gap_count")))
                d->unknown++;
            continue;
        }
        if (is(key, "seq", NULL))
            e = get_u64(d, key, v, &r->seq);
        else if (is(key, "startMs", "start_ms"))
            e = get_i64(d, key, v, &r->start_ms);
        else if (is(key, "endMs", "end_ms"))
            e = get_i64(d, key, v, &r->end_ms);
        else if (is(key, "kind", NULL))
            e = get_enum(d, key, v, kind_name_any, STINT_KIND_GAP + 1, &r->kind);
        else if (is(key, "app", NULL))
            e = get_text(d, key, v, r->app, &r->app_len, STINT_APP_MAX);
        else if (is(key, "path", NULL))
            e = get_text(d, key, v, r->path, &r->path_len, STINT_PATH_MAX);
        else if (is(key, "title", NULL))
            e = get_text(d, key, v, r->title, &r->title_len, STINT_TITLE_MAX);
        else if (is(key, "url", NULL))
            e = get_text(d, key, v, r->url, &r->url_len, STINT_URL_MAX);
        else if (is(key, "truncated", NULL))
            e = get_u32(d, key, v, &r->truncated);
        else if (is(key, "repaired", NULL))
            e = get_u32(d, key, v, &r->repaired);
        else if (is(key, "gapCount", "gap_count"))
            e = get_u64(d, key, v, &r->gap_count);
        else
            d->unknown++;
        if (e != STINT_OK)
            return e;
    }
    return STINT_OK;
}

enum stint_err stint_json_decode_record(const char *text, size_t len, struct stint_record *r,
                                        struct stint_decode_info *info, struct stint_error *err)
{
    struct stint_error local;
    struct jdec d = {err ? err : &local, 0, "record"};
    json_t *root;
    enum stint_err e;

    err = d.err;
    stint_error_clear(err);
    stint_record_clear(r);
    root = parse(text, len, err);
    if (!root)
        return err->code;
    e = record_from_json(&d, root, r);
    json_decref(root);
    if (e == STINT_OK && info) {
        info->records = 1;
        info->unknown_fields = d.unknown;
    }
    return e;
}

enum stint_err stint_json_decode_batch(const char *text, size_t len, struct stint_batch *head,
                                       stint_record_fn fn, void *ctx,
                                       struct stint_decode_info *info, struct stint_error *err)
{
    struct stint_error local;
    struct jdec d = {err ? err : &local, 0, ""};
    struct stint_record scratch;
    json_t *root, *v;
    const char *key;
    enum stint_err e = STINT_OK;
    uint64_t nrec = 0;

    err = d.err;
    stint_error_clear(err);
    stint_batch_clear(head);
    root = parse(text, len, err);
    if (!root)
        return err->code;
    if (!json_is_object(root)) {
        e = stint_error_set(err, STINT_ETYPE, 0, "batch: expected a JSON object");
        goto cleanup;
    }
    if ((e = both_names(&d, root, batch_names)) != STINT_OK)
        goto cleanup;
    /* header first, whatever the member order, so that the records' function sees it complete */
    json_object_foreach (root, key, v) {
        if (json_is_null(v) || is(key, "records", NULL))
            continue;
        if (is(key, "agentId", "agent_id")) {
            size_t n = 0;
            enum stint_err be;
            if (!json_is_string(v)) {
                e = jfail(&d, STINT_ETYPE, key, "expected a base64 string");
                goto cleanup;
            }
            be = stint_base64_decode(json_string_value(v), json_string_length(v), head->agent_id,
                                     sizeof(head->agent_id), &n);
            if (be == STINT_ESYNTAX) {
                e = jfail(&d, STINT_ETYPE, key, "not base64");
                goto cleanup;
            }
            if (be != STINT_OK || (n != 0 && n != STINT_AGENT_ID_LEN)) {
                e = jfail(&d, be == STINT_ELIMIT ? STINT_ELIMIT : STINT_ETYPE, key,
                          "must be %d bytes", STINT_AGENT_ID_LEN);
                goto cleanup;
            }
            head->agent_id_len = (uint32_t)n;
        } else if (is(key, "clientVersion", "client_version")) {
            e = get_text(&d, key, v, head->client_version, &head->client_version_len,
                         STINT_VERSION_MAX);
        } else if (is(key, "nowMs", "now_ms")) {
            e = get_i64(&d, key, v, &head->now_ms);
        } else if (is(key, "current", NULL)) {
            snprintf(d.path, sizeof(d.path), "current");
            e = record_from_json(&d, v, &head->current);
            d.path[0] = '\0';
            head->has_current = true;
        } else {
            d.unknown++;
        }
        if (e != STINT_OK)
            goto cleanup;
    }
    v = json_object_get(root, "records");
    if (v && !json_is_null(v)) {
        size_t i;
        json_t *el;
        if (!json_is_array(v)) {
            e = jfail(&d, STINT_ETYPE, "records", "expected an array");
            goto cleanup;
        }
        json_array_foreach (v, i, el) {
            snprintf(d.path, sizeof(d.path), "records[%zu]", i);
            if ((e = record_from_json(&d, el, &scratch)) != STINT_OK)
                goto cleanup;
            nrec++;
            if (fn && (e = fn(ctx, &scratch)) != STINT_OK) {
                stint_error_set(err, e, 0, "%s: stopped by the record function: %s", d.path,
                                stint_strerror(e));
                goto cleanup;
            }
        }
    }
    if (info) {
        info->records = nrec;
        info->unknown_fields = d.unknown;
    }
cleanup:
    json_decref(root);
    return e;
}

static const char *reject_name_any(int32_t c)
{
    return reject_name(c);
}

enum stint_err stint_json_decode_ack(const char *text, size_t len, struct stint_ack *a,
                                     struct stint_decode_info *info, struct stint_error *err)
{
    struct stint_error local;
    struct jdec d = {err ? err : &local, 0, ""};
    json_t *root, *v;
    const char *key;
    enum stint_err e = STINT_OK;

    err = d.err;
    memset(a, 0, sizeof(*a));
    stint_error_clear(err);
    root = parse(text, len, err);
    if (!root)
        return err->code;
    if (!json_is_object(root)) {
        e = stint_error_set(err, STINT_ETYPE, 0, "ack: expected a JSON object");
        goto cleanup;
    }
    if ((e = both_names(&d, root, ack_names)) != STINT_OK)
        goto cleanup;
    json_object_foreach (root, key, v) {
        if (json_is_null(v))
            continue;
        if (is(key, "ackedSeq", "acked_seq")) {
            e = get_u64(&d, key, v, &a->acked_seq);
        } else if (is(key, "serverTimeMs", "server_time_ms")) {
            e = get_i64(&d, key, v, &a->server_time_ms);
        } else if (is(key, "stored", NULL)) {
            e = get_u64(&d, key, v, &a->stored);
        } else if (is(key, "duplicates", NULL)) {
            e = get_u64(&d, key, v, &a->duplicates);
        } else if (is(key, "rejected", NULL)) {
            size_t i;
            json_t *el;
            if (!json_is_array(v)) {
                e = jfail(&d, STINT_ETYPE, key, "expected an array");
                goto cleanup;
            }
            json_array_foreach (v, i, el) {
                const char *k2;
                json_t *v2;
                struct stint_rejection *r;

                snprintf(d.path, sizeof(d.path), "rejected[%zu]", i);
                if (!json_is_object(el)) {
                    e = jfail(&d, STINT_ETYPE, "", "expected an object");
                    goto cleanup;
                }
                if ((e = stint_ack_add_rejection(a, 0, 0, "", 0)) != STINT_OK) {
                    e = jfail(&d, e, "", "too many rejections");
                    goto cleanup;
                }
                r = &a->rejected[a->n_rejected - 1];
                json_object_foreach (el, k2, v2) {
                    if (json_is_null(v2))
                        continue;
                    if (is(k2, "seq", NULL))
                        e = get_u64(&d, k2, v2, &r->seq);
                    else if (is(k2, "code", NULL))
                        e = get_enum(&d, k2, v2, reject_name_any, (int32_t)N_REJECT_NAMES,
                                     &r->code);
                    else if (is(k2, "reason", NULL))
                        e = get_text(&d, k2, v2, r->reason, &r->reason_len, STINT_REASON_MAX);
                    else
                        d.unknown++;
                    if (e != STINT_OK)
                        goto cleanup;
                }
            }
            d.path[0] = '\0';
        } else {
            d.unknown++;
        }
        if (e != STINT_OK)
            goto cleanup;
    }
    if (info) {
        info->records = 0;
        info->unknown_fields = d.unknown;
    }
cleanup:
    if (e != STINT_OK)
        stint_ack_free(a);
    json_decref(root);
    return e;
}
