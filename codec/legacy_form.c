/* legacy_form.c — the `form` shape: PHP 8.2's http_build_query() of the legacy array (the body
 * of an application/x-www-form-urlencoded POST), and its reading back as PHP's parse_str() and
 * $_POST see it.
 *
 * Design. Emitting: pairs joined by `&`, names and values encoded like urlencode() (letters,
 * digits and `-_.` as they are, space as `+`, every other byte as %XX in upper case), nested
 * keys as `log%5B0%5D%5Bapp%5D`. An empty 'log' writes nothing at all, as PHP does.
 *
 * Reading follows php_default_treat_data() and php_register_variable_ex(): split at `&`
 * (empty pieces skipped), name and value at the first `=`, both url-decoded (`+` is a space,
 * %XX a byte, a `%` not followed by two hex digits is itself); leading spaces of a name dropped
 * and ` ` and `.` of its base turned into `_`; `base[a][b]` nests arrays, a later pair replaces
 * an earlier value, a scalar in the way becomes an array. Where PHP would silently drop or
 * rename a pair, this reader refuses the payload with STINT_ESYNTAX instead, so that a broken
 * client is noticed: a raw NUL byte (PHP stops reading there), a NUL in a name, an empty name,
 * `[` without `]`, text after a `]`, and the append form `[]` (http_build_query never writes
 * it). Pairs and values count against STINT_LEGACY_MAX_VALUES, brackets against
 * STINT_LEGACY_MAX_DEPTH. A type error names the path and the offset of the pair that set the
 * value.
 */
#include "legacy_internal.h"

#include <string.h>

#define APPEND_LIT(out, lit) stint_buf_append((out), (lit), sizeof(lit) - 1)

/* --- emitting ----------------------------------------------------------------------------- */

static const char hexup[] = "0123456789ABCDEF";

static bool url_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* urlencode(s) */
static enum stint_err put_enc(struct stint_buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    enum stint_err e;
    uint8_t *p;
    size_t i, need = 0;

    /* the exact size, so that an output that fits the buffer's cap is never refused */
    for (i = 0; i < len; i++)
        need += url_plain(u[i]) || u[i] == ' ' ? 1 : 3;
    if ((e = stint_buf_reserve(out, need)) != STINT_OK)
        return e;
    p = out->data + out->len;
    for (i = 0; i < len; i++) {
        unsigned char c = u[i];

        if (url_plain(c)) {
            *p++ = c;
        } else if (c == ' ') {
            *p++ = '+';
        } else {
            *p++ = '%';
            *p++ = (uint8_t)hexup[c >> 4];
            *p++ = (uint8_t)hexup[c & 15];
        }
    }
    out->len = (size_t)(p - out->data);
    return STINT_OK;
}

static enum stint_err form_open(struct stint_buf *out, const struct stint_legacy_head *h,
                                size_t *mark)
{
    enum stint_err e;

    (void)mark;
    if ((e = APPEND_LIT(out, "now=")) || (e = put_enc(out, h->now.val, h->now.len)) ||
        (e = APPEND_LIT(out, "&version=")))
        return e;
    return put_enc(out, h->version.val, h->version.len);
}

static enum stint_err form_entry(struct stint_buf *out, uint64_t index,
                                 const struct stint_legacy_entry *en)
{
    enum stint_err e;
    size_t i;

    for (i = 0; i < en->n; i++) {
        if ((e = APPEND_LIT(out, "&log%5B")) || (e = stint_legacy_put_int(out, (int64_t)index)) ||
            (e = APPEND_LIT(out, "%5D%5B")) || (e = stint_buf_append_str(out, en->f[i].key)) ||
            (e = APPEND_LIT(out, "%5D=")) || (e = put_enc(out, en->f[i].val, en->f[i].len)))
            return e;
    }
    return STINT_OK;
}

static enum stint_err form_close(struct stint_buf *out, uint64_t count, size_t mark)
{
    (void)out;
    (void)count;
    (void)mark;
    return STINT_OK;
}

/* --- reading ------------------------------------------------------------------------------ */

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

/* php_url_decode(s) into b (emptied first). */
static enum stint_err url_decode(struct stint_buf *b, const char *s, size_t len)
{
    enum stint_err e;
    uint8_t *p;
    size_t i;

    stint_buf_reset(b);
    if ((e = stint_buf_reserve(b, len + 1)) != STINT_OK)
        return e;
    p = b->data;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '+') {
            *p++ = ' ';
        } else if (c == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *p++ = (uint8_t)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            *p++ = (uint8_t)c;
        }
    }
    b->len = (size_t)(p - b->data);
    return STINT_OK;
}

struct form_reader {
    struct stint_legacy_tree *t;
    struct stint_error *err;
    size_t off; /* of the pair being read */
};

static enum stint_err bad(struct form_reader *f, enum stint_err code, const char *what)
{
    return stint_error_set(f->err, code, f->off, "form pair at byte %zu: %s", f->off, what);
}

/* The array at obj[key], made (or made from a scalar) when needed. */
static enum stint_err child_array(struct form_reader *f, json_t *obj, const char *key, size_t klen,
                                  json_t **out)
{
    json_t *c = json_object_getn(obj, key, klen);
    enum stint_err e;

    if (c && json_is_object(c)) {
        *out = c;
        return STINT_OK;
    }
    c = json_object();
    if (!c)
        return bad(f, STINT_ENOMEM, "out of memory");
    if ((e = stint_legacy_tree_note(f->t, c, f->off, f->err)) != STINT_OK) {
        json_decref(c);
        return e;
    }
    if (json_object_setn_new_nocheck(obj, key, klen, c) != 0)
        return bad(f, STINT_ENOMEM, "out of memory");
    *out = c;
    return STINT_OK;
}

/* php_register_variable_ex() for one decoded pair; name is modified in place. */
static enum stint_err put_pair(struct form_reader *f, char *name, size_t nlen, const char *val,
                               size_t vlen)
{
    json_t *cur = f->t->root, *v;
    const char *key;
    size_t klen, i, levels = 0;
    enum stint_err e;

    if (memchr(name, '\0', nlen))
        return bad(f, STINT_ESYNTAX, "a name holds a NUL byte (PHP would cut it there)");
    while (nlen && *name == ' ') {
        name++;
        nlen--;
    }
    for (i = 0; i < nlen && name[i] != '['; i++)
        if (name[i] == ' ' || name[i] == '.')
            name[i] = '_';
    if (i == 0)
        return bad(f, STINT_ESYNTAX, "empty name (PHP would drop the pair)");
    key = name;
    klen = i;
    while (i < nlen) {
        /* name[i] == '[' */
        const char *idx = name + i + 1;
        const char *close = memchr(idx, ']', nlen - i - 1);

        if (!close)
            return bad(f, STINT_ESYNTAX, "'[' without ']' in a name");
        if (close == idx)
            return bad(f, STINT_ESYNTAX, "'[]' (append) is not supported in a name");
        if (++levels >= STINT_LEGACY_MAX_DEPTH)
            return bad(f, STINT_ELIMIT, "name nested too deep");
        if ((e = child_array(f, cur, key, klen, &cur)) != STINT_OK)
            return e;
        key = idx;
        klen = (size_t)(close - idx);
        i = (size_t)(close - name) + 1;
        if (i < nlen && name[i] != '[')
            return bad(f, STINT_ESYNTAX, "text after ']' in a name (PHP would drop it)");
    }
    v = json_stringn_nocheck(vlen ? val : "", vlen);
    if (!v)
        return bad(f, STINT_ENOMEM, "out of memory");
    if ((e = stint_legacy_tree_note(f->t, v, f->off, f->err)) != STINT_OK) {
        json_decref(v);
        return e;
    }
    if (json_object_setn_new_nocheck(cur, key, klen, v) != 0)
        return bad(f, STINT_ENOMEM, "out of memory");
    return STINT_OK;
}

static enum stint_err form_parse(const char *text, size_t len, struct stint_legacy_tree *t,
                                 struct stint_error *err)
{
    struct form_reader f = {t, err, 0};
    struct stint_buf name = {0}, val = {0};
    const char *nul = memchr(text, '\0', len);
    size_t pos = 0;
    enum stint_err e = STINT_OK;

    if (nul) {
        f.off = (size_t)(nul - text);
        return bad(&f, STINT_ESYNTAX, "raw NUL byte (PHP would stop reading there)");
    }
    t->root = json_object();
    if (!t->root)
        return bad(&f, STINT_ENOMEM, "out of memory");
    if ((e = stint_legacy_tree_note(t, t->root, 0, err)) != STINT_OK)
        goto cleanup;
    while (pos < len) {
        const char *amp = memchr(text + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - text) : len;
        const char *eq = memchr(text + pos, '=', end - pos);
        size_t nend = eq ? (size_t)(eq - text) : end;

        f.off = pos;
        if (end > pos) {
            if ((e = url_decode(&name, text + pos, nend - pos)) != STINT_OK ||
                (e = url_decode(&val, eq ? eq + 1 : "", eq ? end - nend - 1 : 0)) != STINT_OK) {
                e = bad(&f, e, "out of memory");
                goto cleanup;
            }
            if ((e = put_pair(&f, (char *)name.data, name.len, (const char *)val.data, val.len)) !=
                STINT_OK)
                goto cleanup;
        }
        pos = end + 1;
    }
cleanup:
    stint_buf_free(&name);
    stint_buf_free(&val);
    return e;
}

const struct stint_legacy_ops stint_legacy_form_ops = {form_open, form_entry, form_close,
                                                       form_parse};
