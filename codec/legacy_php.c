/* legacy_php.c — the `php` shape: PHP 8.2's var_export() of the legacy array, and a reader of
 * PHP array literals (spec/PROTOCOL.md, "Legacy payload", "The php shape").
 *
 * Design. Emitting copies var_export's layout byte for byte: `array (`, two spaces per level,
 * `'key' => value,` with a comma after the last element too, a nested array on the line after
 * `=> ` (with that trailing space), no newline at the end. Strings are single-quoted with `\`
 * and `'` escaped, and each NUL byte closes the string: `' . "\0" . '`.
 *
 * Reading accepts what var_export writes plus what hand-made or older dumps contain: `array(`
 * without the space, `[ ]`, keywords in any case, any whitespace between tokens, no trailing
 * comma, a closing `;`, elements without keys (PHP's next index), integer values and keys,
 * double-quoted strings with PHP's escapes, and `.` concatenation. It refuses what only an
 * interpreter could give a meaning to (variables, constants, calls, octal/hex literals), with
 * STINT_ESYNTAX at the byte where it stops. Recursion is bounded by STINT_LEGACY_MAX_DEPTH.
 */
#include "legacy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- emitting ----------------------------------------------------------------------------- */

#define APPEND_LIT(out, lit) stint_buf_append((out), (lit), sizeof(lit) - 1)

/* 'text' with var_export's escaping. */
static enum stint_err put_str(struct stint_buf *out, const char *s, size_t len)
{
    enum stint_err e;
    size_t i, run = 0;

    if ((e = stint_buf_reserve(out, len + 2)) != STINT_OK)
        return e;
    out->data[out->len++] = '\'';
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c != '\'' && c != '\\' && c != '\0')
            continue;
        if ((e = stint_buf_append(out, s + run, i - run)) != STINT_OK)
            return e;
        run = i + 1;
        if (c == '\0')
            e = APPEND_LIT(out, "' . \"\\0\" . '");
        else
            e = stint_buf_append(out, c == '\'' ? "\\'" : "\\\\", 2);
        if (e != STINT_OK)
            return e;
    }
    if ((e = stint_buf_append(out, s + run, len - run)) != STINT_OK)
        return e;
    return stint_buf_append(out, "'", 1);
}

static enum stint_err php_open(struct stint_buf *out, const struct stint_legacy_head *h,
                               size_t *mark)
{
    enum stint_err e;

    (void)mark;
    if ((e = APPEND_LIT(out, "array (\n  'now' => ")) ||
        (e = put_str(out, h->now.val, h->now.len)) || (e = APPEND_LIT(out, ",\n  'version' => ")) ||
        (e = put_str(out, h->version.val, h->version.len)))
        return e;
    return APPEND_LIT(out, ",\n  'log' => \n  array (\n");
}

static enum stint_err php_entry(struct stint_buf *out, uint64_t index,
                                const struct stint_legacy_entry *en)
{
    enum stint_err e;
    size_t i;

    if ((e = APPEND_LIT(out, "    ")) || (e = stint_legacy_put_int(out, (int64_t)index)) ||
        (e = APPEND_LIT(out, " => \n    array (\n")))
        return e;
    for (i = 0; i < en->n; i++) {
        if ((e = APPEND_LIT(out, "      '")) || (e = stint_buf_append_str(out, en->f[i].key)) ||
            (e = APPEND_LIT(out, "' => ")) || (e = put_str(out, en->f[i].val, en->f[i].len)) ||
            (e = APPEND_LIT(out, ",\n")))
            return e;
    }
    return APPEND_LIT(out, "    ),\n");
}

static enum stint_err php_close(struct stint_buf *out, uint64_t count, size_t mark)
{
    (void)count;
    (void)mark;
    return APPEND_LIT(out, "  ),\n)");
}

/* --- reading ------------------------------------------------------------------------------ */

struct reader {
    const char *s;
    size_t len, pos;
    struct stint_legacy_tree *t;
    struct stint_error *err;
    struct stint_buf str; /* the string being read (concatenations included) */
};

/* A scalar read before knowing whether it is a key or a value. */
enum scalar_type { SC_STRING, SC_INT, SC_FLOAT, SC_NULL, SC_BOOL };
struct scalar {
    enum scalar_type type;
    int64_t i; /* SC_INT, SC_BOOL */
    size_t off;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* Whether s[0..n) is the keyword kw (lower case ASCII), in any case, as PHP compares them. */
static bool word_is(const char *s, size_t n, const char *kw)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (kw[i] == '\0' || c != kw[i])
            return false;
    }
    return kw[n] == '\0';
}

static void skip_ws(struct reader *r)
{
    while (r->pos < r->len && is_ws(r->s[r->pos]))
        r->pos++;
}

static enum stint_err fail(struct reader *r, enum stint_err code, size_t off, const char *what)
{
    return stint_error_set(r->err, code, off, "PHP text at byte %zu: %s", off, what);
}

static enum stint_err ended(struct reader *r, const char *what)
{
    return fail(r, STINT_ETRUNC, r->len, what);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the UTF-8 form of cp (PHP's "\u{...}" writes surrogates too). */
static enum stint_err put_utf8(struct stint_buf *b, unsigned long cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return stint_buf_append(b, u, n);
}

/* 'single-quoted': only \\ and \' are escapes; any other byte, NUL and newlines included, is
 * itself. r->pos is on the quote. */
static enum stint_err read_single(struct reader *r)
{
    size_t run = ++r->pos;
    enum stint_err e;

    while (r->pos < r->len) {
        char c = r->s[r->pos];

        if (c == '\'') {
            e = stint_buf_append(&r->str, r->s + run, r->pos - run);
            r->pos++;
            return e;
        }
        if (c == '\\' && r->pos + 1 < r->len &&
            (r->s[r->pos + 1] == '\\' || r->s[r->pos + 1] == '\'')) {
            if ((e = stint_buf_append(&r->str, r->s + run, r->pos - run)) != STINT_OK ||
                (e = stint_buf_append(&r->str, r->s + r->pos + 1, 1)) != STINT_OK)
                return e;
            r->pos += 2;
            run = r->pos;
            continue;
        }
        r->pos++;
    }
    return ended(r, "string not closed");
}

/* "double-quoted" with PHP's escapes; `$` that would start a variable is refused. */
static enum stint_err read_double(struct reader *r)
{
    enum stint_err e = STINT_OK;

    r->pos++;
    while (r->pos < r->len) {
        char c = r->s[r->pos];
        char out;

        if (c == '"') {
            r->pos++;
            return STINT_OK;
        }
        if (c == '$' && r->pos + 1 < r->len &&
            (is_ident(r->s[r->pos + 1]) && !is_digit(r->s[r->pos + 1])))
            return fail(r, STINT_ESYNTAX, r->pos, "variables in strings are not supported");
        if (c == '{' && r->pos + 1 < r->len && r->s[r->pos + 1] == '$')
            return fail(r, STINT_ESYNTAX, r->pos, "variables in strings are not supported");
        if (c == '$' && r->pos + 1 < r->len && r->s[r->pos + 1] == '{')
            return fail(r, STINT_ESYNTAX, r->pos, "variables in strings are not supported");
        if (c != '\\' || r->pos + 1 >= r->len) {
            if ((e = stint_buf_append(&r->str, &c, 1)) != STINT_OK)
                return e;
            r->pos++;
            continue;
        }
        /* an escape: r->pos on the backslash */
        c = r->s[r->pos + 1];
        switch (c) {
        case 'n':
            out = '\n';
            break;
        case 't':
            out = '\t';
            break;
        case 'r':
            out = '\r';
            break;
        case 'v':
            out = '\v';
            break;
        case 'e':
            out = 0x1B;
            break;
        case 'f':
            out = '\f';
            break;
        case '\\':
            out = '\\';
            break;
        case '$':
            out = '$';
            break;
        case '"':
            out = '"';
            break;
        default:
            out = 0;
            break;
        }
        if (out) {
            e = stint_buf_append(&r->str, &out, 1);
            r->pos += 2;
        } else if (c >= '0' && c <= '7') {
            unsigned v = 0;
            size_t n = 0;

            r->pos++;
            while (n < 3 && r->pos < r->len && r->s[r->pos] >= '0' && r->s[r->pos] <= '7') {
                v = v * 8 + (unsigned)(r->s[r->pos] - '0');
                r->pos++;
                n++;
            }
            out = (char)(unsigned char)(v & 0xFF); /* PHP keeps the low byte of \400.. */
            e = stint_buf_append(&r->str, &out, 1);
        } else if (c == 'x' && r->pos + 2 < r->len && hexval(r->s[r->pos + 2]) >= 0) {
            unsigned v = (unsigned)hexval(r->s[r->pos + 2]);

            r->pos += 3;
            if (r->pos < r->len && hexval(r->s[r->pos]) >= 0)
                v = v * 16 + (unsigned)hexval(r->s[r->pos++]);
            out = (char)(unsigned char)v;
            e = stint_buf_append(&r->str, &out, 1);
        } else if (c == 'u' && r->pos + 2 < r->len && r->s[r->pos + 2] == '{') {
            size_t at = r->pos, n = 0;
            unsigned long cp = 0;

            r->pos += 3;
            while (r->pos < r->len && hexval(r->s[r->pos]) >= 0) {
                cp = cp * 16 + (unsigned long)hexval(r->s[r->pos++]);
                if (cp > 0x10FFFF)
                    return fail(r, STINT_ESYNTAX, at, "\\u{...} escape above U+10FFFF");
                n++;
            }
            if (r->pos >= r->len)
                return ended(r, "string not closed");
            if (n == 0 || r->s[r->pos] != '}')
                return fail(r, STINT_ESYNTAX, at, "malformed \\u{...} escape");
            r->pos++;
            e = put_utf8(&r->str, cp);
        } else {
            /* PHP keeps an unknown escape as it is, backslash included */
            e = stint_buf_append(&r->str, "\\", 1);
            r->pos++;
        }
        if (e != STINT_OK)
            return e;
    }
    return ended(r, "string not closed");
}

/* A string expression: one or more quoted strings joined by `.`, into r->str. */
static enum stint_err read_string_expr(struct reader *r)
{
    enum stint_err e;

    stint_buf_reset(&r->str);
    for (;;) {
        e = r->s[r->pos] == '\'' ? read_single(r) : read_double(r);
        if (e != STINT_OK)
            return e;
        skip_ws(r);
        if (r->pos >= r->len || r->s[r->pos] != '.')
            return STINT_OK;
        r->pos++;
        skip_ws(r);
        if (r->pos >= r->len)
            return ended(r, "a string was expected after '.'");
        if (r->s[r->pos] != '\'' && r->s[r->pos] != '"')
            return fail(r, STINT_ESYNTAX, r->pos, "only strings can be joined with '.'");
    }
}

/* A number: decimal integer (int64, else it is a float as in PHP) or float. */
static enum stint_err read_number(struct reader *r, struct scalar *sc)
{
    size_t at = r->pos, digits = 0;
    bool neg = false, is_float = false, overflow = false;
    uint64_t mag = 0;

    if (r->s[r->pos] == '-') {
        neg = true;
        r->pos++;
        skip_ws(r);
    }
    if (r->pos >= r->len)
        return ended(r, "a number was expected");
    if (!is_digit(r->s[r->pos]) && r->s[r->pos] != '.') {
        size_t s = r->pos, n;

        /* -INF */
        while (r->pos < r->len && is_ident(r->s[r->pos]))
            r->pos++;
        n = r->pos - s;
        if (word_is(r->s + s, n, "inf")) {
            sc->type = SC_FLOAT;
            return STINT_OK;
        }
        return fail(r, STINT_ESYNTAX, at, "a number was expected after '-'");
    }
    if (r->s[r->pos] == '0' && r->pos + 1 < r->len &&
        (is_digit(r->s[r->pos + 1]) || r->s[r->pos + 1] == 'x' || r->s[r->pos + 1] == 'X' ||
         r->s[r->pos + 1] == 'b' || r->s[r->pos + 1] == 'B' || r->s[r->pos + 1] == 'o' ||
         r->s[r->pos + 1] == 'O'))
        return fail(r, STINT_ESYNTAX, r->pos,
                    "octal, hexadecimal and binary numbers are not "
                    "supported");
    while (r->pos < r->len && is_digit(r->s[r->pos])) {
        unsigned d = (unsigned)(r->s[r->pos] - '0');

        if (mag > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            mag = mag * 10 + d;
        r->pos++;
        digits++;
    }
    if (r->pos < r->len && r->s[r->pos] == '.') {
        is_float = true;
        r->pos++;
        while (r->pos < r->len && is_digit(r->s[r->pos])) {
            r->pos++;
            digits++;
        }
    }
    if (digits == 0)
        return fail(r, STINT_ESYNTAX, at, "malformed number");
    if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
        size_t e_digits = 0;

        is_float = true;
        r->pos++;
        if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
            r->pos++;
        while (r->pos < r->len && is_digit(r->s[r->pos])) {
            r->pos++;
            e_digits++;
        }
        if (e_digits == 0)
            return fail(r, STINT_ESYNTAX, at, "malformed number exponent");
    }
    if (r->pos < r->len && is_ident(r->s[r->pos]))
        return fail(r, STINT_ESYNTAX, r->pos, "unexpected character after a number");
    if (is_float || overflow || mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        sc->type = SC_FLOAT; /* its value matters nowhere in the mapping */
        return STINT_OK;
    }
    sc->type = SC_INT;
    sc->i = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    return STINT_OK;
}

/* A scalar (string expression into r->str, number, NULL, true, false). `*word` is set when the
 * text is an identifier that is none of those (the caller checks for `array`). */
static enum stint_err read_scalar(struct reader *r, struct scalar *sc, bool *is_array)
{
    char c = r->s[r->pos];

    sc->off = r->pos;
    *is_array = false;
    if (c == '\'' || c == '"') {
        sc->type = SC_STRING;
        return read_string_expr(r);
    }
    if (c == '-' || is_digit(c) || c == '.')
        return read_number(r, sc);
    if (is_ident(c)) {
        size_t s = r->pos, n;

        while (r->pos < r->len && is_ident(r->s[r->pos]))
            r->pos++;
        n = r->pos - s;
        if (word_is(r->s + s, n, "array")) {
            *is_array = true;
            return STINT_OK;
        }
        if (word_is(r->s + s, n, "null")) {
            sc->type = SC_NULL;
        } else if (word_is(r->s + s, n, "true")) {
            sc->type = SC_BOOL;
            sc->i = 1;
        } else if (word_is(r->s + s, n, "false")) {
            sc->type = SC_BOOL;
            sc->i = 0;
        } else if ((n == 3 && (word_is(r->s + s, n, "inf") || word_is(r->s + s, n, "nan")))) {
            sc->type = SC_FLOAT;
        } else {
            return fail(r, STINT_ESYNTAX, s, "constants and function calls are not supported");
        }
        return STINT_OK;
    }
    if (c == '$')
        return fail(r, STINT_ESYNTAX, r->pos, "variables are not supported");
    return fail(r, STINT_ESYNTAX, r->pos, "a value was expected");
}

static json_t *scalar_value(struct reader *r, const struct scalar *sc)
{
    switch (sc->type) {
    case SC_STRING:
        return json_stringn_nocheck(r->str.len ? (const char *)r->str.data : "", r->str.len);
    case SC_INT:
        return json_integer((json_int_t)sc->i);
    case SC_FLOAT:
        return json_real(0.0);
    case SC_NULL:
        return json_null();
    case SC_BOOL:
        return json_boolean(sc->i);
    }
    return NULL;
}

/* Whether key[0..len) is a string PHP turns into an integer key ("5", "-3"; not "05", "-0"),
 * and that integer. */
static bool int_like(const char *key, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t mag = 0;

    if (len && key[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == len || len - i > 19 || !is_digit(key[i]) || (key[i] == '0' && len - i > 1) ||
        (neg && key[i] == '0'))
        return false;
    for (; i < len; i++) {
        if (!is_digit(key[i]))
            return false;
        mag = mag * 10 + (uint64_t)(key[i] - '0');
    }
    if (mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *out = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    return true;
}

static enum stint_err read_value(struct reader *r, int depth, json_t **out);

/* PHP's next free index: unset until an integer key is seen (then max + 1), 0 when unset. */
struct next_index {
    bool set;
    int64_t v;
};

static void saw_int_key(struct next_index *n, int64_t k)
{
    if (!n->set || k >= n->v) {
        n->set = true;
        n->v = k < INT64_MAX ? k + 1 : INT64_MAX;
    }
}

/* An array; r->pos is just past `array` (or on `[`). */
static enum stint_err read_array(struct reader *r, int depth, size_t at, char close, json_t **out)
{
    struct next_index next = {false, 0};
    json_t *arr = NULL, *val = NULL, *keyv = NULL;
    enum stint_err e;

    if (depth >= STINT_LEGACY_MAX_DEPTH)
        return fail(r, STINT_ELIMIT, at, "arrays nested too deep");
    arr = json_object();
    if (!arr)
        return fail(r, STINT_ENOMEM, at, "out of memory");
    if ((e = stint_legacy_tree_note(r->t, arr, at, r->err)) != STINT_OK)
        goto cleanup;
    for (;;) {
        struct scalar sc;
        bool is_array = false;
        char keytxt[64]; /* a short key lives here; a longer one in keyv */
        const char *key;
        size_t klen, el_at;

        skip_ws(r);
        if (r->pos >= r->len) {
            e = ended(r, "array not closed");
            goto cleanup;
        }
        if (r->s[r->pos] == close) {
            r->pos++;
            break;
        }
        el_at = r->pos;
        /* a key, or a value without one */
        if (r->s[r->pos] == '[') {
            is_array = true;
        } else if ((e = read_scalar(r, &sc, &is_array)) != STINT_OK) {
            goto cleanup;
        }
        skip_ws(r);
        if (!is_array && r->pos + 1 < r->len && r->s[r->pos] == '=' && r->s[r->pos + 1] == '>') {
            int64_t k;

            r->pos += 2;
            if (sc.type == SC_STRING && r->str.len <= sizeof(keytxt)) {
                /* the value is read into r->str next: keep the key apart */
                if (r->str.len)
                    memcpy(keytxt, r->str.data, r->str.len);
                key = keytxt;
                klen = r->str.len;
                if (int_like(key, klen, &k))
                    saw_int_key(&next, k);
            } else if (sc.type == SC_STRING) {
                keyv = json_stringn_nocheck((const char *)r->str.data, r->str.len);
                if (!keyv) {
                    e = fail(r, STINT_ENOMEM, el_at, "out of memory");
                    goto cleanup;
                }
                key = json_string_value(keyv);
                klen = json_string_length(keyv);
                if (int_like(key, klen, &k))
                    saw_int_key(&next, k);
            } else if (sc.type == SC_INT) {
                saw_int_key(&next, sc.i);
                klen = (size_t)snprintf(keytxt, sizeof(keytxt), "%lld", (long long)sc.i);
                key = keytxt;
            } else {
                e = fail(r, STINT_ESYNTAX, el_at, "an array key must be an integer or a string");
                goto cleanup;
            }
            skip_ws(r);
            if ((e = read_value(r, depth, &val)) != STINT_OK)
                goto cleanup;
        } else {
            /* no key: the value takes PHP's next index */
            int64_t k = next.set ? next.v : 0;

            if (next.set && next.v == INT64_MAX) {
                e = fail(r, STINT_ESYNTAX, el_at, "no next index left for a value without key");
                goto cleanup;
            }
            saw_int_key(&next, k);
            klen = (size_t)snprintf(keytxt, sizeof(keytxt), "%lld", (long long)k);
            key = keytxt;
            if (is_array) {
                r->pos = el_at;
                if ((e = read_value(r, depth, &val)) != STINT_OK)
                    goto cleanup;
            } else {
                val = scalar_value(r, &sc);
                if (!val) {
                    e = fail(r, STINT_ENOMEM, el_at, "out of memory");
                    goto cleanup;
                }
                if ((e = stint_legacy_tree_note(r->t, val, el_at, r->err)) != STINT_OK)
                    goto cleanup;
            }
        }
        /* a duplicate key replaces the value in place, as in PHP */
        if (json_object_setn_new_nocheck(arr, key, klen, val) != 0) {
            val = NULL;
            e = fail(r, STINT_ENOMEM, el_at, "out of memory");
            goto cleanup;
        }
        val = NULL;
        json_decref(keyv);
        keyv = NULL;
        skip_ws(r);
        if (r->pos >= r->len) {
            e = ended(r, "array not closed");
            goto cleanup;
        }
        if (r->s[r->pos] == ',') {
            r->pos++;
        } else if (r->s[r->pos] != close) {
            e = fail(r, STINT_ESYNTAX, r->pos,
                     close == ')' ? "',' or ')' was expected" : "',' or ']' was expected");
            goto cleanup;
        }
    }
    *out = arr;
    arr = NULL;
    e = STINT_OK;
cleanup:
    json_decref(keyv);
    json_decref(val);
    json_decref(arr);
    return e;
}

/* Any value; depth is that of the array holding it. */
static enum stint_err read_value(struct reader *r, int depth, json_t **out)
{
    struct scalar sc;
    bool is_array = false;
    size_t at;
    enum stint_err e;

    skip_ws(r);
    if (r->pos >= r->len)
        return ended(r, "a value was expected");
    at = r->pos;
    if (r->s[r->pos] == '[') {
        r->pos++;
        return read_array(r, depth + 1, at, ']', out);
    }
    if ((e = read_scalar(r, &sc, &is_array)) != STINT_OK)
        return e;
    if (is_array) {
        skip_ws(r);
        if (r->pos >= r->len)
            return ended(r, "'(' was expected after 'array'");
        if (r->s[r->pos] != '(')
            return fail(r, STINT_ESYNTAX, r->pos, "'(' was expected after 'array'");
        r->pos++;
        return read_array(r, depth + 1, at, ')', out);
    }
    *out = scalar_value(r, &sc);
    if (!*out)
        return fail(r, STINT_ENOMEM, at, "out of memory");
    return stint_legacy_tree_note(r->t, *out, at, r->err);
}

static enum stint_err php_parse(const char *text, size_t len, struct stint_legacy_tree *t,
                                struct stint_error *err)
{
    struct reader r;
    enum stint_err e;

    memset(&r, 0, sizeof(r));
    r.s = text;
    r.len = len;
    r.t = t;
    r.err = err;
    r.str.max = len + 16; /* a string never grows longer than the text holding it */
    if ((e = read_value(&r, -1, &t->root)) != STINT_OK)
        goto cleanup;
    skip_ws(&r);
    if (r.pos < r.len && r.s[r.pos] == ';') {
        r.pos++;
        skip_ws(&r);
    }
    if (r.pos < r.len)
        e = fail(&r, STINT_ESYNTAX, r.pos, "text after the array");
cleanup:
    stint_buf_free(&r.str);
    return e;
}

const struct stint_legacy_ops stint_legacy_php_ops = {php_open, php_entry, php_close, php_parse};
