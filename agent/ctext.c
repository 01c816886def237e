/* ctext.c — COMPOUND_TEXT and STRING to UTF-8 (see ctext.h).
 *
 * A small ISO 2022 state machine: G0 is shown in GL (0x21..0x7E), G1 in GR (0xA1..0xFE). At the
 * start G0 is ASCII and G1 the right half of ISO 8859-1. Escape sequences designate:
 *     ESC ( F     a 94-set into G0          ESC ) F     a 94-set into G1
 *     ESC - F     a 96-set into G1          ESC $ ( F   a 94^2-set into G0 (also ESC $ F)
 *     ESC $ ) F   a 94^2-set into G1        ESC % G ... ESC % @   UTF-8, taken as it is
 *     ESC % / F M L   an extended segment of (M-128)*128 + (L-128) bytes: skipped, U+FFFD
 * A run of bytes in one set is converted at once: an 8859 right half by iconv from "ISO-8859-N"
 * (the byte with its high bit set), a 94^2 set by iconv from the matching EUC encoding (both
 * bytes with their high bits set: that is what EUC-CN, EUC-JP and EUC-KR are). The converter for
 * each set is opened when first needed in a call and closed at its end.
 */
#define _POSIX_C_SOURCE 200809L
#include "ctext.h"

#include <iconv.h>
#include <stdbool.h>
#include <string.h>

#include "stint/utf8.h"

enum set_kind { SET_ASCII, SET_ICONV1, SET_ICONV2, SET_UNKNOWN };

struct gset {
    enum set_kind kind;
    const char *charset; /* iconv name */
};

struct out {
    char *p;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        return; /* whole characters only */
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put_cp(struct out *o, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    put(o, b, n);
}

#define REPLACEMENT 0xFFFDu

size_t stint_latin1_to_utf8(const char *in, size_t len, char *out, size_t cap)
{
    struct out o = {out, cap, 0};
    if (cap) {
        out[0] = '\0';
    }
    for (size_t i = 0; i < len; i++) {
        put_cp(&o, (unsigned char)in[i]);
    }
    return o.len;
}

/* Only valid UTF-8 of the segment goes out (checked by Stint's one validator); each invalid
 * byte becomes U+FFFD. */
static void put_utf8(struct out *o, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned cp = 0;
        size_t k = stint_utf8_decode(s + i, n - i, &cp);
        if (k) {
            put(o, s + i, k);
            i += k;
        } else {
            put_cp(o, REPLACEMENT);
            i++;
        }
    }
}

/* Converts one run of a set through iconv; bytes it cannot take become U+FFFD. */
static void put_iconv(struct out *o, const char *charset, const unsigned char *run, size_t n,
                      int width)
{
    char inb[512];
    iconv_t cd = iconv_open("UTF-8", charset);
    size_t i = 0;

    if (cd == (iconv_t)-1) {
        for (size_t k = 0; k < n; k += (size_t)width) {
            put_cp(o, REPLACEMENT);
        }
        return;
    }
    while (i < n) {
        /* one character at a time: an unmappable one costs only itself */
        size_t w = (size_t)width <= n - i ? (size_t)width : n - i;
        for (size_t k = 0; k < w; k++) {
            inb[k] = (char)(run[i + k] | 0x80);
        }
        char tmp[16];
        char *ip = inb, *op = tmp;
        size_t il = w, ol = sizeof(tmp);
        if (w == (size_t)width && iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && il == 0) {
            put_utf8(o, tmp, sizeof(tmp) - ol);
        } else {
            iconv(cd, NULL, NULL, NULL, NULL);
            put_cp(o, REPLACEMENT);
        }
        i += w;
    }
    iconv_close(cd);
}

static struct gset set94(unsigned char f)
{
    switch (f) {
    case 'B': /* ASCII */
    case 'J': /* JIS X0201 Roman: ASCII but for two marks; close enough for a title */
        return (struct gset){SET_ASCII, NULL};
    default:
        return (struct gset){SET_UNKNOWN, NULL};
    }
}

static struct gset set96(unsigned char f)
{
    static const struct {
        unsigned char f;
        const char *cs;
    } t[] = {{'A', "ISO-8859-1"},  {'B', "ISO-8859-2"},  {'C', "ISO-8859-3"},  {'D', "ISO-8859-4"},
             {'F', "ISO-8859-7"},  {'G', "ISO-8859-6"},  {'H', "ISO-8859-8"},  {'L', "ISO-8859-5"},
             {'M', "ISO-8859-9"},  {'V', "ISO-8859-10"}, {'Y', "ISO-8859-13"}, {'_', "ISO-8859-14"},
             {'b', "ISO-8859-15"}, {'f', "ISO-8859-16"}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].f == f) {
            return (struct gset){SET_ICONV1, t[i].cs};
        }
    }
    return (struct gset){SET_UNKNOWN, NULL};
}

static struct gset set94n(unsigned char f)
{
    switch (f) {
    case 'A':
        return (struct gset){SET_ICONV2, "EUC-CN"};
    case 'B':
        return (struct gset){SET_ICONV2, "EUC-JP"};
    case 'C':
        return (struct gset){SET_ICONV2, "EUC-KR"};
    default:
        return (struct gset){SET_UNKNOWN, NULL};
    }
}

static void put_run(struct out *o, struct gset g, const unsigned char *run, size_t n)
{
    switch (g.kind) {
    case SET_ASCII:
        for (size_t i = 0; i < n; i++) {
            put_cp(o, run[i] & 0x7F);
        }
        break;
    case SET_ICONV1:
        put_iconv(o, g.charset, run, n, 1);
        break;
    case SET_ICONV2:
        put_iconv(o, g.charset, run, n, 2);
        break;
    case SET_UNKNOWN:
        for (size_t i = 0; i < n; i++) {
            put_cp(o, REPLACEMENT);
        }
        break;
    }
}

size_t stint_ctext_to_utf8(const char *text, size_t len, char *outp, size_t cap)
{
    const unsigned char *in = (const unsigned char *)text;
    struct out o = {outp, cap, 0};
    struct gset g0 = {SET_ASCII, NULL}, g1 = {SET_ICONV1, "ISO-8859-1"};
    size_t i = 0;

    if (cap) {
        outp[0] = '\0';
    }
    while (i < len) {
        unsigned char c = in[i];
        if (c == 0x1B) {
            size_t rest = len - i;
            if (rest >= 3 && in[i + 1] == '(') {
                g0 = set94(in[i + 2]);
                i += 3;
            } else if (rest >= 3 && in[i + 1] == ')') {
                g1 = set94(in[i + 2]);
                i += 3;
            } else if (rest >= 3 && in[i + 1] == '-') {
                g1 = set96(in[i + 2]);
                i += 3;
            } else if (rest >= 4 && in[i + 1] == '$' && in[i + 2] == '(') {
                g0 = set94n(in[i + 3]);
                i += 4;
            } else if (rest >= 4 && in[i + 1] == '$' && in[i + 2] == ')') {
                g1 = set94n(in[i + 3]);
                i += 4;
            } else if (rest >= 3 && in[i + 1] == '$' && in[i + 2] >= 'A' && in[i + 2] <= 'C') {
                g0 = set94n(in[i + 2]); /* the old short form */
                i += 3;
            } else if (rest >= 3 && in[i + 1] == '%' && in[i + 2] == 'G') {
                /* UTF-8 until ESC % @ (or the end) */
                size_t start = i + 3, end = start;
                while (end < len && !(in[end] == 0x1B && end + 2 < len && in[end + 1] == '%' &&
                                      in[end + 2] == '@')) {
                    end++;
                }
                put_utf8(&o, text + start, end - start);
                i = end < len ? end + 3 : len;
            } else if (rest >= 6 && in[i + 1] == '%' && in[i + 2] == '/') {
                size_t n = (size_t)((in[i + 4] & 0x7F) * 128 + (in[i + 5] & 0x7F));
                put_cp(&o, REPLACEMENT);
                i += 6;
                i = n < len - i ? i + n : len;
            } else {
                /* a sequence this converter does not know: skip ESC and its intermediates */
                i++;
                while (i < len && in[i] >= 0x20 && in[i] <= 0x2F) {
                    i++;
                }
                if (i < len && in[i] >= 0x30 && in[i] <= 0x7E) {
                    i++;
                }
                put_cp(&o, REPLACEMENT);
            }
            continue;
        }
        if (c == 0x9B) {
            /* CSI: direction marks and such; skip to the final byte */
            i++;
            while (i < len && !(in[i] >= 0x40 && in[i] <= 0x7E)) {
                i++;
            }
            i += i < len;
            continue;
        }
        if (c == '\t' || c == '\n') {
            put(&o, (const char *)&in[i], 1);
            i++;
            continue;
        }
        if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xFF) {
            i++; /* other controls (and the 94-set holes of a 96-set) are dropped */
            continue;
        }
        /* a run in GL or GR */
        bool gr = c >= 0x80;
        size_t j = i;
        while (j < len && in[j] != 0x1B && in[j] != 0x9B && (in[j] >= 0x80) == gr &&
               (gr ? (in[j] > 0xA0 && in[j] != 0xFF) : in[j] >= 0x20 && in[j] != 0x7F)) {
            j++;
        }
        if (gr) {
            put_run(&o, g1, in + i, j - i);
        } else if (c == ' ') {
            /* space is space in every set */
            put(&o, " ", 1);
            j = i + 1;
        } else {
            size_t k = i;
            while (k < j && in[k] != ' ') {
                k++;
            }
            /* GL sets take spaces only as ASCII: split at them */
            put_run(&o, g0, in + i, k - i);
            j = k;
        }
        i = j;
    }
    return o.len;
}
