/* jsonl_event.c — one JSONL event line into a struct stint_jsonl_event, on yajl.
 *
 * Why yajl and not jansson (which the rest of stintd uses): this is the per-event hot path of
 * the JSONL source, and building jansson's tree of one object (a hash table, five values,
 * a copy of every key and string) cost 2.9 µs a line here against 0.6 µs for yajl's event
 * parser on the same 150-byte lines, half of all the CPU of stintd ingesting a backlog. yajl
 * calls back for each token and allocates nothing per value; the members we know are kept
 * as they go by, the rest are checked and dropped.
 *
 * Strictness. A line is accepted exactly when jansson (JSON_REJECT_DUPLICATES, no
 * JSON_ALLOW_NUL) would accept it, which tests/unit/test_jsonl_event.c checks on every
 * JSONTestSuite case. yajl alone is laxer in three places, closed here:
 *   - its UTF-8 check lets overlong forms, encoded surrogates and code points past U+10FFFF
 *     through: it is switched off and every string and key goes through stint_utf8_valid();
 *   - it turns a lone surrogate escape ("\ud800") into "?" or pairs a high surrogate with
 *     anything: escapes are checked on the raw line before parsing (surrogates_ok);
 *   - it knows nothing of duplicate members: the keys of each open object are kept (the
 *     parser's key area, a stack of starts) and compared when the object closes;
 * and "\u0000", which it accepts, is refused as jansson does (a NUL cannot reach the record), as
 * are a raw form feed or vertical tab, which it takes for blanks, and an unfinished token after
 * the object, which it overlooks (fuzz/fuzz_jsonl_diff.c compares the parser with jansson).
 *
 * Memory: the parser keeps three buffers (strings of known members, keys of open objects, key
 * references) that grow to the needs of the longest line and are reused. yajl's handle is made
 * per line, because yajl 2.1 cannot reset one after an error; its half-dozen allocations come
 * from an arena in the parser, reset per line, instead of malloc (they were 7% of stintd's CPU
 * ingesting a backlog).
 */
#include "jsonl_event.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "stint/utf8.h"

#define TIME_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

enum { M_TIME, M_APP, M_PATH, M_TITLE, M_URL, M_IDLE, M_PRIVATE, M_COUNT };
static const char *const member_names[M_COUNT] = {"time", "app",  "path",   "title",
                                                  "url",  "idle", "private"};
static const size_t member_lens[M_COUNT] = {4, 3, 4, 5, 3, 4, 7};

enum vtype { V_ABSENT, V_NULL, V_TRUE, V_FALSE, V_INT, V_REAL, V_STRING, V_CONTAINER };

struct member {
    enum vtype type;
    long long ival;
    size_t off, len; /* V_STRING: in p->str */
};

struct keyref {
    const char *s;
    size_t len;
};

/* yajl's allocations for one line come from here (ARENA bytes, bump-allocated, all dropped
 * when the line is done); past it, from malloc. A line of the benchmark's shape takes about
 * 600 bytes of it; a string with escapes takes yajl's 2 KiB decode buffer too. */
#define ARENA (16 * 1024)
#define ALIGN 16

struct stint_jsonl_parser {
    _Alignas(ALIGN) unsigned char arena[ARENA];
    size_t arena_used;
    struct member m[M_COUNT];
    int cur;         /* the known member whose value comes next at depth 1, or -1 */
    size_t depth;    /* open containers */
    bool top_seen;   /* the top-level value has started */
    bool not_object; /* the top-level value is an array */
    bool nomem;      /* an allocation failed in a callback */
    yajl_handle h;   /* the line's handle: where the top-level value ends */
    size_t end;      /* that offset (0: it did not end) */
    const char *why; /* why a callback stopped the parse (a static message) */
    char *num;       /* the text of the number being converted, NUL-terminated */
    size_t num_cap;
    char *str; /* strings of known members */
    size_t str_len, str_cap;
    char *keys; /* keys of the open objects: a size_t length, then the bytes */
    size_t keys_len, keys_cap;
    size_t *starts; /* per open container: where its keys begin (SIZE_MAX: an array) */
    size_t starts_cap;
    struct keyref *refs; /* scratch for the duplicate check */
    size_t refs_cap;
};

enum stint_err stint_jsonl_parser_create(struct stint_jsonl_parser **out)
{
    struct stint_jsonl_parser *p = calloc(1, sizeof(*p));

    *out = p;
    return p ? STINT_OK : STINT_ENOMEM;
}

void stint_jsonl_parser_destroy(struct stint_jsonl_parser *p)
{
    if (!p) {
        return;
    }
    free(p->num);
    free(p->str);
    free(p->keys);
    free(p->starts);
    free(p->refs);
    free(p);
}

/* An arena block is a size_t header (its usable size, a multiple of ALIGN) then the bytes. */
static bool in_arena(const struct stint_jsonl_parser *p, const void *ptr)
{
    const unsigned char *c = ptr;
    return c >= p->arena && c < p->arena + ARENA;
}

static void *arena_malloc(void *ctx, size_t sz)
{
    struct stint_jsonl_parser *p = ctx;
    size_t need = (sz + ALIGN - 1) / ALIGN * ALIGN;

    if (sz <= ARENA && ARENA - p->arena_used >= need + ALIGN) {
        unsigned char *blk = p->arena + p->arena_used;
        memcpy(blk, &need, sizeof(need));
        p->arena_used += need + ALIGN;
        return blk + ALIGN;
    }
    return malloc(sz);
}

static void arena_free(void *ctx, void *ptr)
{
    if (!in_arena(ctx, ptr)) {
        free(ptr); /* an arena block lives until the line is done */
    }
}

static void *arena_realloc(void *ctx, void *ptr, size_t sz)
{
    struct stint_jsonl_parser *p = ctx;
    size_t old;
    void *n;

    if (!ptr) {
        return arena_malloc(ctx, sz);
    }
    if (!in_arena(p, ptr)) {
        return realloc(ptr, sz);
    }
    memcpy(&old, (unsigned char *)ptr - ALIGN, sizeof(old));
    if (sz <= old) {
        return ptr;
    }
    n = arena_malloc(ctx, sz);
    if (n) {
        memcpy(n, ptr, old);
    }
    return n;
}

/* Makes room for `more` bytes after *len in *buf (capacity *cap). */
static bool grow(void **buf, size_t *cap, size_t len, size_t more, size_t unit)
{
    if (len + more <= *cap) {
        return true;
    }
    size_t want = *cap ? *cap : 256 / unit + 1;
    while (want < len + more) {
        want *= 2;
    }
    void *n = realloc(*buf, want * unit);
    if (!n) {
        return false;
    }
    *buf = n;
    *cap = want;
    return true;
}

/* A string or key as jansson would take it: valid UTF-8 and no NUL. */
static int text_ok(struct stint_jsonl_parser *p, const unsigned char *s, size_t len)
{
    if (memchr(s, 0, len)) {
        p->why = "NUL byte in a string or member name";
        return 0;
    }
    if (!stint_utf8_valid((const char *)s, len)) {
        p->why = "invalid UTF-8 in a string or member name";
        return 0;
    }
    return 1;
}

/* Every scalar value: a top-level one is not an object; a known member's is kept. */
static int scalar(struct stint_jsonl_parser *p, enum vtype t, long long ival,
                  const unsigned char *s, size_t len)
{
    if (p->depth == 0) {
        p->why = "'{' expected";
        return 0;
    }
    if (p->depth != 1 || p->cur < 0) {
        return 1;
    }
    struct member *m = &p->m[p->cur];
    m->type = t;
    m->ival = ival;
    if (t == V_STRING) {
        if (!grow((void **)&p->str, &p->str_cap, p->str_len, len, 1)) {
            p->nomem = true;
            return 0;
        }
        if (len) {
            memcpy(p->str + p->str_len, s, len);
        }
        m->off = p->str_len;
        m->len = len;
        p->str_len += len;
    }
    return 1;
}

static int on_null(void *ctx)
{
    return scalar(ctx, V_NULL, 0, NULL, 0);
}

static int on_boolean(void *ctx, int b)
{
    return scalar(ctx, b ? V_TRUE : V_FALSE, 0, NULL, 0);
}

/* Every number, as its text: converted here as jansson does, because yajl's own integer
 * conversion refuses -9223372036854775808 (it accumulates the magnitude as a positive number).
 * An integer token out of int64 range and a real one out of double range are not JSON to
 * jansson ("too big integer", "real number overflow"); a real that underflows is 0. */
static int on_number(void *ctx, const char *s, size_t len)
{
    struct stint_jsonl_parser *p = ctx;
    bool real = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);
    long long v = 0;

    if (!grow((void **)&p->num, &p->num_cap, 0, len + 1, 1)) {
        p->nomem = true;
        return 0;
    }
    memcpy(p->num, s, len);
    p->num[len] = '\0';
    errno = 0;
    if (!real) {
        v = strtoll(p->num, NULL, 10);
        if (errno == ERANGE) {
            p->why = "too big integer";
            return 0;
        }
        return scalar(p, V_INT, v, NULL, 0);
    }
    double d = strtod(p->num, NULL);
    if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
        p->why = "real number overflow";
        return 0;
    }
    return scalar(p, V_REAL, 0, NULL, 0);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    return text_ok(ctx, s, len) ? scalar(ctx, V_STRING, 0, s, len) : 0;
}

static int open_container(struct stint_jsonl_parser *p, bool object)
{
    if (p->depth == 0) {
        p->top_seen = true;
        p->not_object = !object;
    } else if (p->depth == 1 && p->cur >= 0) {
        p->m[p->cur].type = V_CONTAINER;
    }
    if (!grow((void **)&p->starts, &p->starts_cap, p->depth, 1, sizeof(size_t))) {
        p->nomem = true;
        return 0;
    }
    p->starts[p->depth++] = object ? p->keys_len : SIZE_MAX;
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, true);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, false);
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
    struct stint_jsonl_parser *p = ctx;

    if (!text_ok(p, s, len)) {
        return 0;
    }
    if (p->depth == 1) {
        p->cur = -1;
        for (int i = 0; i < M_COUNT; i++) {
            if (member_lens[i] == len && memcmp(member_names[i], s, len) == 0) {
                p->cur = i;
                break;
            }
        }
    }
    if (!grow((void **)&p->keys, &p->keys_cap, p->keys_len, sizeof(size_t) + len, 1)) {
        p->nomem = true;
        return 0;
    }
    memcpy(p->keys + p->keys_len, &len, sizeof(size_t));
    if (len) {
        memcpy(p->keys + p->keys_len + sizeof(size_t), s, len);
    }
    p->keys_len += sizeof(size_t) + len;
    return 1;
}

static int keyref_cmp(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static bool same_key(const struct keyref *x, const struct keyref *y)
{
    return x->len == y->len && (x->len == 0 || memcmp(x->s, y->s, x->len) == 0);
}

/* Whether the keys of the object that closes (from `start` in the key area) are all different:
 * pairwise for a few, sorted for many, so a line of thousands of members stays n log n. */
static int keys_unique(struct stint_jsonl_parser *p, size_t start)
{
    size_t n = 0;

    for (size_t at = start; at < p->keys_len;) {
        size_t len;
        memcpy(&len, p->keys + at, sizeof(size_t));
        if (!grow((void **)&p->refs, &p->refs_cap, n, 1, sizeof(struct keyref))) {
            p->nomem = true;
            return 0;
        }
        p->refs[n].s = p->keys + at + sizeof(size_t);
        p->refs[n++].len = len;
        at += sizeof(size_t) + len;
    }
    if (n <= 16) {
        for (size_t i = 0; i < n; i++) {
            for (size_t k = i + 1; k < n; k++) {
                if (same_key(&p->refs[i], &p->refs[k])) {
                    p->why = "duplicate object key";
                    return 0;
                }
            }
        }
        return 1;
    }
    qsort(p->refs, n, sizeof(*p->refs), keyref_cmp);
    for (size_t i = 1; i < n; i++) {
        if (same_key(&p->refs[i - 1], &p->refs[i])) {
            p->why = "duplicate object key";
            return 0;
        }
    }
    return 1;
}

/* Notes where the top-level value ends (yajl's offset is just past the closing bracket). */
static void close_container(struct stint_jsonl_parser *p)
{
    if (--p->depth == 0) {
        p->end = yajl_get_bytes_consumed(p->h);
    }
}

static int on_end_map(void *ctx)
{
    struct stint_jsonl_parser *p = ctx;
    size_t start = p->starts[p->depth - 1];

    if (!keys_unique(p, start)) {
        return 0;
    }
    p->keys_len = start;
    close_container(p);
    return 1;
}

static int on_end_array(void *ctx)
{
    close_container(ctx);
    return 1;
}

/* Where something other than blanks follows the top-level value (its offset + 1), or 0. yajl 2.1
 * lets an unfinished token there through: in {"time": 1} ": the lexer waits for the rest of
 * the string, and the end of input never says that it did not come. */
static size_t trailing_garbage(const char *line, size_t n, size_t end)
{
    for (size_t i = end; i < n; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') {
            return i + 1;
        }
    }
    return 0;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/* The \uXXXX escape at s[i] (s[i] == '\\', s[i + 1] == 'u'), or -1 when it is not one. */
static long escape_at(const char *s, size_t n, size_t i)
{
    long v = 0;

    if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u') {
        return -1;
    }
    for (size_t k = 2; k < 6; k++) {
        int h = hexval(s[i + k]);
        if (h < 0) {
            return -1;
        }
        v = v << 4 | h;
    }
    return v;
}

/* Whether every surrogate escape in the line is a high one followed by a low one. A backslash
 * only means something inside a string, and any other escape is yajl's to judge, so a plain
 * scan from backslash to backslash is enough. Returns the offset of the first bad escape + 1,
 * or 0 when all are fine. */
static size_t surrogates_bad(const char *s, size_t n)
{
    const char *b = memchr(s, '\\', n);

    while (b) {
        size_t i = (size_t)(b - s);
        long c = escape_at(s, n, i);
        size_t next = i + 2;
        if (c >= 0xdc00 && c <= 0xdfff) {
            return i + 1;
        }
        if (c >= 0xd800 && c <= 0xdbff) {
            long lo = escape_at(s, n, i + 6);
            if (lo < 0xdc00 || lo > 0xdfff) {
                return i + 1;
            }
            next = i + 12;
        }
        if (next >= n) {
            break;
        }
        b = memchr(s + next, '\\', n - next);
    }
    return 0;
}

/* "not JSON (column C): what" from yajl's or our own reason. */
static void syntax_msg(struct stint_jsonl_parser *p, yajl_handle h, const char *line, size_t n,
                       size_t column, char *msg, size_t msgcap)
{
    unsigned char *yerr = NULL;
    const char *what = p->why;

    if (!what) {
        yerr = yajl_get_error(h, 0, (const unsigned char *)line, n);
        what = yerr ? (const char *)yerr : "syntax error";
    }
    int len = (int)strcspn(what, "\n");
    snprintf(msg, msgcap, "not JSON (column %zu): %.*s", column, len, what);
    if (yerr) {
        yajl_free_error(h, yerr);
    }
}

/* The checks of spec/AGENT.md section 1 on a parsed object, in its order. */
static enum stint_err event_of(struct stint_jsonl_parser *p, struct stint_jsonl_event *ev,
                               char *msg, size_t msgcap)
{
    const struct member *m = p->m;
    const char **strs[] = {&ev->app, &ev->path, &ev->title, &ev->url};
    size_t *lens[] = {&ev->app_len, &ev->path_len, &ev->title_len, &ev->url_len};

    if (m[M_TIME].type == V_ABSENT) {
        snprintf(msg, msgcap, "no \"time\"");
        return STINT_ETYPE;
    }
    if (m[M_TIME].type != V_INT || m[M_TIME].ival < 1 || m[M_TIME].ival > TIME_MAX) {
        snprintf(msg, msgcap, "\"time\" is not a whole number of Unix milliseconds");
        return STINT_ETYPE;
    }
    for (int i = M_IDLE; i <= M_PRIVATE; i++) {
        if (m[i].type != V_ABSENT && m[i].type != V_TRUE && m[i].type != V_FALSE) {
            snprintf(msg, msgcap, "\"%s\" is not true or false", member_names[i]);
            return STINT_ETYPE;
        }
    }
    if (m[M_IDLE].type == V_TRUE && m[M_PRIVATE].type != V_ABSENT) {
        snprintf(msg, msgcap, "\"idle\" and \"private\" in one event");
        return STINT_ETYPE;
    }
    for (int i = M_APP; i <= M_URL; i++) {
        if (m[i].type != V_ABSENT && m[i].type != V_NULL && m[i].type != V_STRING) {
            snprintf(msg, msgcap, "\"%s\" is not a string", member_names[i]);
            return STINT_ETYPE;
        }
        /* an empty string has no bytes in p->str, which may still be NULL */
        bool bytes = m[i].type == V_STRING && m[i].len > 0;
        *strs[i - M_APP] = bytes ? p->str + m[i].off : "";
        *lens[i - M_APP] = bytes ? m[i].len : 0;
    }
    ev->time_ms = m[M_TIME].ival;
    ev->private_on = m[M_PRIVATE].type == V_TRUE;
    ev->kind = m[M_PRIVATE].type != V_ABSENT ? STINT_JSONL_PRIVATE
               : m[M_IDLE].type == V_TRUE    ? STINT_JSONL_IDLE
                                             : STINT_JSONL_FOCUS;
    return STINT_OK;
}

enum stint_err stint_jsonl_parse(struct stint_jsonl_parser *p, const char *line, size_t n,
                                 struct stint_jsonl_event *ev, char *msg, size_t msgcap)
{
    yajl_handle h = NULL;
    enum stint_err err = STINT_OK;
    size_t bad_escape;

    memset(p->m, 0, sizeof(p->m));
    memset(ev, 0, sizeof(*ev));
    p->cur = -1;
    p->depth = 0;
    p->top_seen = p->not_object = p->nomem = false;
    p->why = NULL;
    p->str_len = p->keys_len = 0;
    msg[0] = '\0';
    /* yajl takes form feed and vertical tab for blanks; raw, they are never JSON (nor in a
     * string: control characters are escaped there) */
    const char *ff = memchr(line, '\f', n), *vt = memchr(line, '\v', n);
    if (ff || vt) {
        const char *first = ff && (!vt || ff < vt) ? ff : vt;
        snprintf(msg, msgcap, "not JSON (column %zu): a raw control character",
                 (size_t)(first - line) + 1);
        return STINT_EJSON;
    }
    bad_escape = surrogates_bad(line, n);
    if (bad_escape) {
        snprintf(msg, msgcap, "not JSON (column %zu): invalid Unicode escape (lone surrogate)",
                 bad_escape);
        return STINT_EJSON;
    }
    yajl_alloc_funcs af = {arena_malloc, arena_realloc, arena_free, p};
    p->arena_used = 0; /* the last line's handle is gone: every block is free */
    h = yajl_alloc(&callbacks, &af, p);
    if (!h) {
        return STINT_ENOMEM;
    }
    p->h = h;
    p->end = 0;
    /* our own UTF-8 check (text_ok) is stricter: yajl's would only repeat part of it */
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)line, n);
    /* where parsing stopped; an error found only at the end of input is at the end */
    size_t column = yajl_get_bytes_consumed(h) + 1;
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        column = n + 1;
    }
    if (p->nomem) {
        err = STINT_ENOMEM;
        goto cleanup;
    }
    if (st != yajl_status_ok) {
        syntax_msg(p, h, line, n, column, msg, msgcap);
        err = STINT_EJSON;
        goto cleanup;
    }
    size_t junk = trailing_garbage(line, n, p->end);
    if (junk) {
        snprintf(msg, msgcap, "not JSON (column %zu): trailing garbage", junk);
        err = STINT_EJSON;
        goto cleanup;
    }
    if (p->not_object) {
        snprintf(msg, msgcap, "not a JSON object");
        err = STINT_ETYPE;
        goto cleanup;
    }
    err = event_of(p, ev, msg, msgcap);
cleanup:
    yajl_free(h);
    return err;
}
