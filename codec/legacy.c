/* legacy.c — the legacy mapping (see legacy.h): the model to the legacy array and back, the
 * same for all four shapes.
 *
 * Design. The legacy array has a fixed form, so emitting needs no tree: this file walks the
 * batch once, turns each record that the mapping keeps into a list of key/value string pairs
 * (times as decimal seconds, 'end' only when closed) and hands it to the shape's emitter
 * (legacy_php.c, legacy_serialize.c, legacy_json.c, legacy_form.c), which only knows how PHP
 * prints "an array of strings". Memory while emitting is one record.
 *
 * Decoding goes the other way through a tree: each shape's parser builds the PHP array the
 * text means (PHP's own rules for duplicate keys, integer-like keys and order), bounded by
 * STINT_LEGACY_MAX_VALUES and STINT_LEGACY_MAX_DEPTH, and the one function below maps that
 * tree to the model. A tree costs memory proportional to the input, but it is the only way to
 * give the form shape PHP's meaning (parse_str() lets the pairs of one record come in any
 * order) and it lets all three decoders share every rule of the mapping.
 */
#include "legacy_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/utf8.h"

/* Largest |seconds| whose milliseconds fit in int64. */
#define SECONDS_MAX (INT64_MAX / 1000)

static const struct stint_legacy_ops *ops_of(enum stint_legacy_shape shape)
{
    switch (shape) {
    case STINT_LEGACY_PHP:
        return &stint_legacy_php_ops;
    case STINT_LEGACY_SERIALIZE:
        return &stint_legacy_serialize_ops;
    case STINT_LEGACY_JSON:
        return &stint_legacy_json_ops;
    case STINT_LEGACY_FORM:
        return &stint_legacy_form_ops;
    }
    return NULL;
}

enum stint_legacy_shape stint_legacy_shape_find(const char *name)
{
    if (!name)
        return (enum stint_legacy_shape)0;
    if (strcmp(name, "php") == 0)
        return STINT_LEGACY_PHP;
    if (strcmp(name, "php-serialize") == 0)
        return STINT_LEGACY_SERIALIZE;
    if (strcmp(name, "legacy-json") == 0)
        return STINT_LEGACY_JSON;
    if (strcmp(name, "form") == 0)
        return STINT_LEGACY_FORM;
    return (enum stint_legacy_shape)0;
}

/* --- emitting ----------------------------------------------------------------------------- */

/* Writes the decimal text of v into p (at least 21 bytes); returns its length. */
static size_t fmt_int(char *p, int64_t v)
{
    char tmp[24];
    size_t n = 0, i;
    /* work on the magnitude as unsigned so that INT64_MIN has one */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + (int)(m % 10));
        m /= 10;
    } while (m);
    i = 0;
    if (v < 0)
        p[i++] = '-';
    while (n)
        p[i++] = tmp[--n];
    p[i] = '\0';
    return i;
}

enum stint_err stint_legacy_put_int(struct stint_buf *out, int64_t v)
{
    char tmp[24];
    size_t n = fmt_int(tmp, v);

    return stint_buf_append(out, tmp, n);
}

/* floor(ms / 1000): C division truncates toward zero, the mapping floors. */
static int64_t floor_seconds(int64_t ms)
{
    int64_t q = ms / 1000;

    if (ms % 1000 < 0)
        q--;
    return q;
}

bool stint_legacy_keeps(const struct stint_record *r)
{
    return r->kind == STINT_KIND_ACTIVE || r->kind == STINT_KIND_UNSPECIFIED;
}

/* Room for the two times of an entry, which the entry's pairs point into. */
struct times {
    char start[24], end[24];
};

static enum stint_err to_entry(const struct stint_record *r, struct times *t,
                               struct stint_legacy_entry *e)
{
    int64_t end;

    if (r->app_len > STINT_APP_MAX || r->path_len > STINT_PATH_MAX ||
        r->title_len > STINT_TITLE_MAX || r->url_len > STINT_URL_MAX)
        return STINT_EINVAL; /* not a model: its lengths pass its buffers */
    if (!stint_utf8_valid(r->app, r->app_len) || !stint_utf8_valid(r->path, r->path_len) ||
        !stint_utf8_valid(r->title, r->title_len) || !stint_utf8_valid(r->url, r->url_len))
        return STINT_EUTF8;
    e->f[0] = (struct stint_legacy_pair){"app", r->app, r->app_len};
    e->f[1] = (struct stint_legacy_pair){"path", r->path, r->path_len};
    e->f[2] = (struct stint_legacy_pair){"win", r->title, r->title_len};
    e->f[3] = (struct stint_legacy_pair){"url", r->url, r->url_len};
    e->f[4] = (struct stint_legacy_pair){"start", t->start,
                                         fmt_int(t->start, floor_seconds(r->start_ms))};
    e->n = 5;
    /* closed: an end that is not 0 s. An end within the first second after the epoch is 0 s,
     * which the array cannot tell from "open", so it is not written either: the array is always
     * that of the projection a reader gives back. */
    end = floor_seconds(r->end_ms);
    if (end != 0) {
        e->f[5] = (struct stint_legacy_pair){"end", t->end, fmt_int(t->end, end)};
        e->n = 6;
    }
    return STINT_OK;
}

enum stint_err stint_legacy_encode(enum stint_legacy_shape shape, const struct stint_batch *head,
                                   struct stint_record_iter *it, struct stint_buf *out)
{
    const struct stint_legacy_ops *ops = ops_of(shape);
    struct stint_record scratch;
    struct stint_legacy_head h;
    struct stint_legacy_entry e;
    struct times t;
    char now[24];
    size_t mark = 0, at;
    uint64_t count = 0;
    enum stint_err err;

    if (!ops || !head || !out)
        return STINT_EINVAL;
    at = out->len;
    if (head->client_version_len > STINT_VERSION_MAX) {
        err = STINT_EINVAL;
        goto cleanup;
    }
    if (!stint_utf8_valid(head->client_version, head->client_version_len)) {
        err = STINT_EUTF8;
        goto cleanup;
    }
    h.now = (struct stint_legacy_pair){"now", now, fmt_int(now, floor_seconds(head->now_ms))};
    h.version =
        (struct stint_legacy_pair){"version", head->client_version, head->client_version_len};
    if ((err = ops->open(out, &h, &mark)) != STINT_OK)
        goto cleanup;
    while (it) {
        const struct stint_record *r = NULL;

        if ((err = it->next(it->ctx, &scratch, &r)) != STINT_OK)
            goto cleanup;
        if (!r)
            break;
        if (!stint_legacy_keeps(r))
            continue;
        if ((err = to_entry(r, &t, &e)) != STINT_OK ||
            (err = ops->entry(out, count++, &e)) != STINT_OK)
            goto cleanup;
    }
    if (head->has_current && stint_legacy_keeps(&head->current)) {
        if ((err = to_entry(&head->current, &t, &e)) != STINT_OK ||
            (err = ops->entry(out, count++, &e)) != STINT_OK)
            goto cleanup;
    }
    err = ops->close(out, count, mark);
cleanup:
    if (err != STINT_OK)
        out->len = at; /* a failed encoding leaves nothing behind */
    return err;
}

/* --- the parsed tree ---------------------------------------------------------------------- */

enum stint_err stint_legacy_tree_note(struct stint_legacy_tree *t, const json_t *v, size_t off,
                                      struct stint_error *err)
{
    if (t->values >= STINT_LEGACY_MAX_VALUES)
        return stint_error_set(err, STINT_ELIMIT, off, "more than %u values in the payload",
                               STINT_LEGACY_MAX_VALUES);
    t->values++;
    if (!v)
        return STINT_OK;
    if (t->n_where == t->cap_where) {
        size_t ncap = t->cap_where ? t->cap_where * 2 : 64;
        struct stint_legacy_where *p = realloc(t->where, ncap * sizeof(*p));

        if (!p)
            return stint_error_set(err, STINT_ENOMEM, off, "out of memory");
        t->where = p;
        t->cap_where = ncap;
    }
    t->where[t->n_where].v = v;
    t->where[t->n_where].off = off;
    t->n_where++;
    return STINT_OK;
}

size_t stint_legacy_tree_offset(struct stint_legacy_tree *t, const json_t *v)
{
    size_t i;

    if (!t->located && t->locate) {
        t->located = true;
        t->locate(t);
    }
    i = t->n_where;

    /* newest first: a value replaced by a duplicate key may have left its address to another */
    while (i--)
        if (t->where[i].v == v)
            return t->where[i].off;
    return 0;
}

void stint_legacy_tree_free(struct stint_legacy_tree *t)
{
    if (!t)
        return;
    json_decref(t->root);
    free(t->where);
    memset(t, 0, sizeof(*t));
}

/* --- decoding: the tree to the model ------------------------------------------------------ */

struct mapper {
    struct stint_legacy_tree *t;
    struct stint_error *err;
    uint64_t unknown;
};

static bool key_is(const char *key, size_t klen, const char *name)
{
    size_t n = strlen(name);

    return klen == n && memcmp(key, name, n) == 0;
}

static enum stint_err type_error(struct mapper *m, const json_t *v, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A type error at value v: the message, then the byte where v begins (searched for only now,
 * on the error path). */
static enum stint_err type_error(struct mapper *m, const json_t *v, const char *fmt, ...)
{
    char msg[200];
    size_t off = stint_legacy_tree_offset(m->t, v);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return stint_error_set(m->err, STINT_ETYPE, off, "%s (at byte %zu)", msg, off);
}

/* Names a member for a message: "now", or "log[3].start" for a member of entry i. Only called
 * on the error path, so the hot loop formats nothing. */
struct where {
    char s[48];
};

static const char *where_of(struct where *w, size_t i, const char *name)
{
    if (i == SIZE_MAX)
        snprintf(w->s, sizeof(w->s), "%s", name);
    else
        snprintf(w->s, sizeof(w->s), "log[%zu].%s", i, name);
    return w->s;
}

#define WHERE where_of(&w, i, name)

/* A time: a decimal integer string (optionally signed) or an integer, in seconds. */
static enum stint_err get_time(struct mapper *m, size_t i, const char *name, const json_t *v,
                               int64_t *ms)
{
    struct where w;
    int64_t s;

    if (json_is_integer(v)) {
        s = (int64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *p = json_string_value(v);
        size_t len = json_string_length(v), j = 0;
        bool neg = false;
        uint64_t mag = 0;

        if (len && p[0] == '-') {
            neg = true;
            j = 1;
        }
        if (j == len)
            return type_error(m, v, "%s: empty time", WHERE);
        for (; j < len; j++) {
            if (p[j] < '0' || p[j] > '9')
                return type_error(m, v, "%s: time is not a decimal integer", WHERE);
            mag = mag * 10 + (uint64_t)(p[j] - '0');
            if (mag > (uint64_t)SECONDS_MAX)
                return type_error(m, v, "%s: time out of range", WHERE);
        }
        s = neg ? -(int64_t)mag : (int64_t)mag;
    } else {
        return type_error(m, v, "%s: expected a time in seconds (a decimal string)", WHERE);
    }
    if (s > SECONDS_MAX || s < -SECONDS_MAX)
        return type_error(m, v, "%s: time out of range", WHERE);
    *ms = s * 1000;
    return STINT_OK;
}

static enum stint_err get_text(struct mapper *m, size_t i, const char *name, const json_t *v,
                               struct stint_record *r, enum stint_field bit)
{
    struct where w;

    if (!json_is_string(v))
        return type_error(m, v, "%s: expected a string", WHERE);
    return stint_record_set(r, bit, json_string_value(v), json_string_length(v));
}

/* One entry of 'log' into r. */
static enum stint_err to_record(struct mapper *m, size_t i, json_t *el, struct stint_record *r,
                                bool *closed)
{
    static const struct {
        const char *key;
        enum stint_field bit;
    } texts[] = {{"app", STINT_FIELD_APP},
                 {"path", STINT_FIELD_PATH},
                 {"win", STINT_FIELD_TITLE},
                 {"url", STINT_FIELD_URL}};
    const char *key;
    size_t klen, k;
    json_t *v;
    bool has_start = false;
    enum stint_err e;

    stint_record_clear(r);
    r->kind = STINT_KIND_ACTIVE;
    *closed = false;
    if (!json_is_object(el))
        return type_error(m, el, "log[%zu]: expected an array (a record)", i);
    json_object_keylen_foreach(el, key, klen, v)
    {
        bool known = false;

        if (json_is_null(v))
            continue; /* NULL stands for an absent value, as isset() sees it */
        for (k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
            if (key_is(key, klen, texts[k].key)) {
                if ((e = get_text(m, i, texts[k].key, v, r, texts[k].bit)) != STINT_OK)
                    return e;
                known = true;
            }
        }
        if (key_is(key, klen, "start")) {
            if ((e = get_time(m, i, "start", v, &r->start_ms)) != STINT_OK)
                return e;
            has_start = known = true;
        } else if (key_is(key, klen, "end")) {
            if ((e = get_time(m, i, "end", v, &r->end_ms)) != STINT_OK)
                return e;
            *closed = known = true;
        }
        if (!known)
            m->unknown++;
    }
    if (!has_start)
        return type_error(m, el, "log[%zu]: 'start' is missing", i);
    return STINT_OK;
}

/* Hands entry i of n to fn, or keeps it as the open record when it is the last, without end. */
static enum stint_err deliver(struct mapper *m, size_t i, size_t n, json_t *el,
                              struct stint_record *r, struct stint_batch *head, stint_record_fn fn,
                              void *ctx, uint64_t *nrec)
{
    bool closed;
    enum stint_err e;

    if ((e = to_record(m, i, el, r, &closed)) != STINT_OK)
        return e;
    if (!closed && i + 1 == n) {
        stint_record_copy(&head->current, r);
        head->has_current = true;
        return STINT_OK;
    }
    r->seq = (uint64_t)i + 1;
    (*nrec)++;
    if (fn && (e = fn(ctx, r)) != STINT_OK)
        return stint_error_set(m->err, e, 0, "log[%zu]: stopped by the record function: %s", i,
                               stint_strerror(e));
    return STINT_OK;
}

static enum stint_err map_tree(struct mapper *m, struct stint_batch *head, stint_record_fn fn,
                               void *ctx, uint64_t *nrec)
{
    json_t *root = m->t->root, *log = NULL;
    struct stint_record scratch;
    const char *key;
    size_t klen;
    json_t *v;
    enum stint_err e;

    if (!json_is_object(root))
        return type_error(m, root, "the payload is not an array");
    /* the header first, whatever the order, so that fn sees it complete */
    json_object_keylen_foreach(root, key, klen, v)
    {
        if (json_is_null(v))
            continue;
        if (key_is(key, klen, "now")) {
            if ((e = get_time(m, SIZE_MAX, "now", v, &head->now_ms)) != STINT_OK)
                return e;
        } else if (key_is(key, klen, "version")) {
            if (!json_is_string(v))
                return type_error(m, v, "version: expected a string");
            stint_batch_set_version(head, json_string_value(v), json_string_length(v));
        } else if (key_is(key, klen, "log")) {
            log = v;
        } else {
            m->unknown++;
        }
    }
    if (!log)
        return STINT_OK; /* http_build_query() writes nothing for an empty 'log' */
    if (json_is_array(log)) {
        size_t i, n = json_array_size(log);

        for (i = 0; i < n; i++)
            if ((e = deliver(m, i, n, json_array_get(log, i), &scratch, head, fn, ctx, nrec)))
                return e;
    } else if (json_is_object(log)) {
        size_t i = 0, n = json_object_size(log);

        json_object_keylen_foreach(log, key, klen, v)
        {
            if ((e = deliver(m, i, n, v, &scratch, head, fn, ctx, nrec)) != STINT_OK)
                return e;
            i++;
        }
    } else {
        return type_error(m, log, "log: expected an array of records");
    }
    return STINT_OK;
}

enum stint_err stint_legacy_decode(enum stint_legacy_shape shape, const char *text, size_t len,
                                   struct stint_batch *head, stint_record_fn fn, void *ctx,
                                   struct stint_decode_info *info, struct stint_error *err)
{
    const struct stint_legacy_ops *ops = ops_of(shape);
    struct stint_legacy_tree t;
    struct mapper m;
    uint64_t nrec = 0;
    enum stint_err e;

    memset(&t, 0, sizeof(t));
    stint_error_clear(err);
    if (!head || (!text && len))
        return stint_error_set(err, STINT_EINVAL, 0, "no batch or no text");
    stint_batch_clear(head);
    if (!ops)
        return stint_error_set(err, STINT_EINVAL, 0, "unknown legacy shape %d", (int)shape);
    if (!ops->parse)
        return stint_error_set(err, STINT_EUNSUPPORTED, 0,
                               "the serialize shape is emit-only: it is never decoded");
    if (len > STINT_DECODE_MAX_INPUT)
        return stint_error_set(err, STINT_ELIMIT, 0, "legacy input of %zu bytes, limit %zu", len,
                               STINT_DECODE_MAX_INPUT);
    if (!text)
        text = "";
    if ((e = ops->parse(text, len, &t, err)) != STINT_OK)
        goto cleanup;
    m.t = &t;
    m.err = err;
    m.unknown = 0;
    if ((e = map_tree(&m, head, fn, ctx, &nrec)) != STINT_OK)
        goto cleanup;
    if (info) {
        info->records = nrec;
        info->unknown_fields = m.unknown;
    }
cleanup:
    stint_legacy_tree_free(&t);
    return e;
}
