/* legacy_json.c — the `legacy-json` shape: PHP 8.2's json_encode() of the legacy array with
 * default flags, and its reading back (what json_decode($text, true) gives a server).
 *
 * Design. Emitting escapes as php_json_escape_string() does without flags: `"` `\` and `/`
 * with a backslash, \b \f \n \r \t by name, other bytes below 0x20 as \u00xx, every code point
 * above U+007F as \uxxxx (a surrogate pair above U+FFFF), lower-case hex; DEL and everything
 * else printable as is. 'log' is a JSON list: its keys are 0..n-1 in order.
 *
 * Reading is jansson's (strict RFC 8259; "\u0000" allowed), after two checks of our own: the
 * text must be UTF-8 (json_decode() refuses it otherwise; STINT_EUTF8 names the byte), and one
 * pass counts containers, commas and depth so that a text of a million empty arrays is refused
 * before jansson would build it (STINT_ELIMIT). jansson keeps no positions: when the mapping
 * finds a type error, a light second walk over the text, in step with jansson's tree, finds
 * where each value begins (json_locate), so that the error names the byte like the others do.
 */
#include "legacy_internal.h"

#include <string.h>

#include "stint/utf8.h"

#define APPEND_LIT(out, lit) stint_buf_append((out), (lit), sizeof(lit) - 1)

static const char hexdig[] = "0123456789abcdef";

static void put_u(uint8_t *p, unsigned v)
{
    p[0] = '\\';
    p[1] = 'u';
    p[2] = (uint8_t)hexdig[(v >> 12) & 0xF];
    p[3] = (uint8_t)hexdig[(v >> 8) & 0xF];
    p[4] = (uint8_t)hexdig[(v >> 4) & 0xF];
    p[5] = (uint8_t)hexdig[v & 0xF];
}

/* Bytes that json_encode() writes for byte c of valid UTF-8: a lead byte stands for its whole
 * sequence (\uxxxx, or a surrogate pair for a 4-byte one), a continuation byte for nothing. */
static size_t out_len(unsigned char c)
{
    if (c >= 0xF0)
        return 12;
    if (c >= 0xC0)
        return 6;
    if (c >= 0x80)
        return 0;
    if (c == '"' || c == '\\' || c == '/' || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
        c == '\t')
        return 2;
    return c < 0x20 ? 6 : 1;
}

/* "text" as json_encode() writes it; s is valid UTF-8 (checked by the mapping). The exact size
 * is reserved first, so that an output that fits the buffer's cap is never refused. */
static enum stint_err put_str(struct stint_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    enum stint_err e;
    size_t i = 0, need = 2;
    uint8_t *p;

    for (i = 0; i < len; i++)
        need += out_len(u[i]);
    i = 0;
    if ((e = stint_buf_reserve(out, need)) != STINT_OK)
        return e;
    p = out->data + out->len;
    *p++ = '"';
    while (i < len) {
        unsigned c = u[i];

        if (c >= 0x80) {
            unsigned cp = 0;
            size_t n = stint_utf8_decode(s + i, len - i, &cp);

            if (n == 0)
                return STINT_EUTF8;
            i += n;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(p, 0xD800 | (cp >> 10));
                put_u(p + 6, 0xDC00 | (cp & 0x3FF));
                p += 12;
            } else {
                put_u(p, cp);
                p += 6;
            }
            continue;
        }
        i++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *p++ = '\\';
            *p++ = (uint8_t)c;
            break;
        case '\b':
            *p++ = '\\';
            *p++ = 'b';
            break;
        case '\f':
            *p++ = '\\';
            *p++ = 'f';
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            *p++ = '\\';
            *p++ = 'r';
            break;
        case '\t':
            *p++ = '\\';
            *p++ = 't';
            break;
        default:
            if (c < 0x20) {
                put_u(p, c);
                p += 6;
            } else {
                *p++ = (uint8_t)c;
            }
        }
    }
    *p++ = '"';
    out->len = (size_t)(p - out->data);
    return STINT_OK;
}

static enum stint_err put_pair(struct stint_buf *out, const struct stint_legacy_pair *pr,
                               bool first)
{
    enum stint_err e;

    if ((e = stint_buf_append(out, first ? "\"" : ",\"", first ? 1 : 2)) ||
        (e = stint_buf_append_str(out, pr->key)) || (e = APPEND_LIT(out, "\":")))
        return e;
    return put_str(out, pr->val, pr->len);
}

static enum stint_err json_open(struct stint_buf *out, const struct stint_legacy_head *h,
                                size_t *mark)
{
    enum stint_err e;

    (void)mark;
    if ((e = APPEND_LIT(out, "{")) || (e = put_pair(out, &h->now, true)) ||
        (e = put_pair(out, &h->version, false)))
        return e;
    return APPEND_LIT(out, ",\"log\":[");
}

static enum stint_err json_entry(struct stint_buf *out, uint64_t index,
                                 const struct stint_legacy_entry *en)
{
    enum stint_err e;
    size_t i;

    if ((e = stint_buf_append(out, index ? ",{" : "{", index ? 2 : 1)) != STINT_OK)
        return e;
    for (i = 0; i < en->n; i++)
        if ((e = put_pair(out, &en->f[i], i == 0)) != STINT_OK)
            return e;
    return APPEND_LIT(out, "}");
}

static enum stint_err json_close(struct stint_buf *out, uint64_t count, size_t mark)
{
    (void)count;
    (void)mark;
    return APPEND_LIT(out, "]}");
}

/* One pass over the text outside strings: depth and an upper bound of the values jansson would
 * create (containers + commas + 1: exact when no container is empty). */
static enum stint_err prescan(const char *s, size_t len, struct stint_error *err)
{
    size_t i, depth = 0, values = 1;
    bool in_str = false;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            break;
        case '[':
        case '{':
            if (++depth > STINT_LEGACY_MAX_DEPTH)
                return stint_error_set(err, STINT_ELIMIT, i,
                                       "JSON at byte %zu: arrays nested deeper than %d", i,
                                       STINT_LEGACY_MAX_DEPTH);
            values++;
            break;
        case ']':
        case '}':
            if (depth)
                depth--;
            break;
        case ',':
            values++;
            break;
        default:
            break;
        }
        if (values > STINT_LEGACY_MAX_VALUES)
            return stint_error_set(err, STINT_ELIMIT, i, "JSON at byte %zu: more than %u values", i,
                                   STINT_LEGACY_MAX_VALUES);
    }
    return STINT_OK;
}

/* --- positions, for the messages of type errors ------------------------------------------- */

/* A second, light walk over text that jansson accepted, in step with jansson's tree, noting
 * where each value begins. It runs only when a type error asks for an offset. */
struct locator {
    struct stint_legacy_tree *t;
    const char *s;
    size_t len, pos;
    struct stint_buf key;
    bool failed;
};

static void loc_ws(struct locator *l)
{
    while (l->pos < l->len && (l->s[l->pos] == ' ' || l->s[l->pos] == '\t' ||
                               l->s[l->pos] == '\n' || l->s[l->pos] == '\r'))
        l->pos++;
}

static unsigned loc_hex4(struct locator *l)
{
    unsigned v = 0;
    size_t i;

    for (i = 0; i < 4 && l->pos < l->len; i++, l->pos++) {
        char c = l->s[l->pos];

        v = v * 16 + (unsigned)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
    }
    return v;
}

static void loc_put(struct locator *l, const char *p, size_t n, bool keep)
{
    if (keep && stint_buf_append(&l->key, p, n) != STINT_OK)
        l->failed = true;
}

/* The string at l->pos (on its quote), decoded into l->key when `keep`. */
static void loc_string(struct locator *l, bool keep)
{
    stint_buf_reset(&l->key);
    l->pos++;
    while (l->pos < l->len && l->s[l->pos] != '"') {
        char c = l->s[l->pos];
        unsigned cp;
        char u[4];

        if (c != '\\') {
            loc_put(l, &c, 1, keep);
            l->pos++;
            continue;
        }
        if (l->pos + 1 >= l->len)
            break;
        c = l->s[l->pos + 1];
        l->pos += 2;
        if (c != 'u') {
            c = c == 'b'   ? '\b'
                : c == 'f' ? '\f'
                : c == 'n' ? '\n'
                : c == 'r' ? '\r'
                : c == 't' ? '\t'
                           : c;
            loc_put(l, &c, 1, keep);
            continue;
        }
        cp = loc_hex4(l);
        if (cp >= 0xD800 && cp < 0xDC00 && l->pos + 1 < l->len && l->s[l->pos] == '\\' &&
            l->s[l->pos + 1] == 'u') {
            l->pos += 2;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (loc_hex4(l) - 0xDC00);
        }
        if (cp < 0x80) {
            u[0] = (char)cp;
            loc_put(l, u, 1, keep);
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3F));
            loc_put(l, u, 2, keep);
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            loc_put(l, u, 3, keep);
        } else {
            u[0] = (char)(0xF0 | (cp >> 18));
            u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            loc_put(l, u, 4, keep);
        }
    }
    l->pos++; /* the closing quote */
}

/* The value at l->pos, which jansson holds as v (NULL: not kept, e.g. an overwritten member). */
static void loc_value(struct locator *l, json_t *v, int depth)
{
    char c;

    loc_ws(l);
    if (l->failed || l->pos >= l->len || depth > STINT_LEGACY_MAX_DEPTH) {
        l->failed = true;
        return;
    }
    if (v && stint_legacy_tree_note(l->t, v, l->pos, NULL) != STINT_OK) {
        l->failed = true;
        return;
    }
    c = l->s[l->pos];
    if (c == '{' || c == '[') {
        size_t i = 0;

        l->pos++;
        loc_ws(l);
        if (l->pos < l->len && l->s[l->pos] == (c == '{' ? '}' : ']')) {
            l->pos++;
            return;
        }
        while (!l->failed) {
            json_t *child;

            loc_ws(l);
            if (c == '{') {
                if (l->pos >= l->len || l->s[l->pos] != '"') {
                    l->failed = true;
                    return;
                }
                loc_string(l, true);
                child = json_is_object(v)
                            ? json_object_getn(v, l->key.len ? (char *)l->key.data : "", l->key.len)
                            : NULL;
                loc_ws(l);
                if (l->pos >= l->len || l->s[l->pos] != ':') {
                    l->failed = true;
                    return;
                }
                l->pos++;
            } else {
                child = json_is_array(v) ? json_array_get(v, i++) : NULL;
            }
            loc_value(l, child, depth + 1);
            loc_ws(l);
            if (l->pos < l->len && l->s[l->pos] == ',') {
                l->pos++;
            } else if (l->pos < l->len && l->s[l->pos] == (c == '{' ? '}' : ']')) {
                l->pos++;
                return;
            } else {
                l->failed = true;
            }
        }
        return;
    }
    if (c == '"') {
        loc_string(l, false);
        return;
    }
    while (l->pos < l->len && !strchr(",]} \t\n\r", l->s[l->pos]))
        l->pos++;
}

static void json_locate(struct stint_legacy_tree *t)
{
    struct locator l;

    memset(&l, 0, sizeof(l));
    l.t = t;
    l.s = t->text;
    l.len = t->len;
    loc_value(&l, t->root, 0);
    stint_buf_free(&l.key);
}

static enum stint_err json_parse(const char *text, size_t len, struct stint_legacy_tree *t,
                                 struct stint_error *err)
{
    json_error_t je;
    size_t valid = stint_utf8_valid_prefix(text, len);
    enum stint_err e;

    if (valid != len)
        return stint_error_set(err, STINT_EUTF8, valid, "JSON at byte %zu: not UTF-8", valid);
    if ((e = prescan(text, len, err)) != STINT_OK)
        return e;
    t->locate = json_locate;
    t->text = text;
    t->len = len;
    t->root = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!t->root) {
        size_t pos = je.position > 0 ? (size_t)je.position : 0;

        if (pos > len)
            pos = len;
        return stint_error_set(err, STINT_EJSON, pos, "JSON at byte %zu (line %d column %d): %s",
                               pos, je.line, je.column, je.text);
    }
    return STINT_OK;
}

const struct stint_legacy_ops stint_legacy_json_ops = {json_open, json_entry, json_close,
                                                       json_parse};
