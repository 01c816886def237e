/* random_batch.c — see random_batch.h. */
#include "random_batch.h"

#include <string.h>

uint64_t rb_next(struct rb_rng *g)
{
    /* splitmix64: small, seedable, good enough to mix test data */
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(struct rb_rng *g, uint64_t n)
{
    return n ? rb_next(g) % n : 0;
}

#define P(x)                                                                                       \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }
static const struct {
    const char *s;
    size_t len;
} pieces[] = {
    P("'"),
    P("\""),
    P("\\"),
    P("\0"),
    P("\r"),
    P("\n"),
    P("\r\n"),
    P("\t"),
    P("&"),
    P("="),
    P("+"),
    P("%"),
    P("["),
    P("]"),
    P("/"),
    P("?"),
    P("#"),
    P(" "),
    P("  "),
    P("\xe4\xb8\xad\xe6\x96\x87"),             /* CJK */
    P("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), /* CJK */
    P("\xf0\x9f\x98\x80"),                     /* emoji (astral: a surrogate pair in JSON) */
    P("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"),     /* emoji with skin tone */
    P("e\xcc\x81"),                            /* e + combining acute */
    P("\xcc\x81"),                             /* a lone combining mark */
    P("\xc3\xbc"),
    P("\xe2\x80\xa8"),
    P("\xef\xbb\xbf"),
    P("\xef\xbf\xbf"),
    P("\x01"),
    P("\x1f"),
    P("\x7f"),
    P("\x08"),
    P("\x0c"),
    P("a"),
    P("Z"),
    P("0"),
    P("9"),
    P("-"),
    P("_"),
    P("."),
    P("~"),
    P("*"),
    P("$x"),
    P("{$y}"),
    P("abc"),
    P("Mozilla Firefox"),
    P("%20"),
    P("%zz"),
    P("%%"),
    P("<b>"),
    P("a=b&c=d"),
    P("log[0][app]"),
    P("' . \"\\0\" . '"),
    P("\\'"),
    P("\\\\"),
    P("\\u0000"),
    P("a:1:{"),
    P("s:3:\"x\";"),
    P("=>"),
    P(");"),
    P("array ("),
    P("\\x41"),
    P("\"\\0\""),
};

/* A random string of at most max bytes (valid UTF-8: made of whole pieces). */
static size_t rand_text(struct rb_rng *g, char *buf, size_t max)
{
    size_t want, len = 0;
    uint64_t r = below(g, 100);

    if (r < 15)
        want = 0;
    else if (r < 85)
        want = (size_t)below(g, 40);
    else if (r < 97)
        want = (size_t)below(g, max / 2 + 1);
    else
        want = max; /* long values, up to the limit */
    if (want > max)
        want = max;
    while (len < want) {
        size_t k = (size_t)below(g, sizeof(pieces) / sizeof(pieces[0]));

        if (len + pieces[k].len > want) {
            if (want - len < 4) /* only one-byte pieces fit now */
                break;
            continue;
        }
        memcpy(buf + len, pieces[k].s, pieces[k].len);
        len += pieces[k].len;
    }
    return len;
}

static void rand_record(struct rb_rng *g, struct stint_record *r, bool open)
{
    static char buf[STINT_URL_MAX];
    static const enum stint_field bits[] = {STINT_FIELD_APP, STINT_FIELD_PATH, STINT_FIELD_TITLE,
                                            STINT_FIELD_URL};
    static const uint32_t maxes[] = {STINT_APP_MAX, STINT_PATH_MAX, STINT_TITLE_MAX, STINT_URL_MAX};
    uint64_t k = below(g, 100);
    size_t i;

    stint_record_clear(r);
    r->kind = k < 80   ? STINT_KIND_ACTIVE
              : k < 85 ? STINT_KIND_UNSPECIFIED
              : k < 90 ? STINT_KIND_IDLE
              : k < 94 ? STINT_KIND_PRIVATE
              : k < 98 ? STINT_KIND_GAP
                       : 7; /* a kind this version does not know */
    r->start_ms = 1000 + (int64_t)below(g, 4000000000000ull);
    r->end_ms = open ? 0 : r->start_ms + (int64_t)below(g, below(g, 2) ? 3600000 : 1000);
    if (below(g, 40) == 0) {
        /* around the epoch: negative times floor down, an end within the first second is 0 s */
        r->start_ms = (int64_t)below(g, 4000) - 2000;
        r->end_ms = open ? 0 : r->start_ms + (int64_t)below(g, 2500);
    }
    if (r->kind == STINT_KIND_GAP)
        r->gap_count = 1 + below(g, 100);
    if (r->kind == STINT_KIND_ACTIVE || r->kind == STINT_KIND_UNSPECIFIED || r->kind == 7) {
        for (i = 0; i < 4; i++) {
            size_t n = rand_text(g, buf, maxes[i]);
            stint_record_set(r, bits[i], buf, n);
        }
    }
}

size_t rb_batch(struct rb_rng *g, struct stint_batch *head, struct stint_record *recs)
{
    char ver[STINT_VERSION_MAX];
    uint64_t r = below(g, 100);
    size_t n, i;

    stint_batch_clear(head);
    head->now_ms = (int64_t)below(g, 5000000000000ull);
    stint_batch_set_version(head, ver, rand_text(g, ver, sizeof(ver)));
    n = r < 10 ? 0 : r < 90 ? (size_t)below(g, 9) : r < 99 ? (size_t)below(g, 41) : RB_MAX_RECORDS;
    for (i = 0; i < n; i++) {
        /* now and then an open record among the closed ones: it keeps no 'end' */
        rand_record(g, &recs[i], below(g, 50) == 0);
        recs[i].seq = 1000 + i;
    }
    if (below(g, 2)) {
        head->has_current = true;
        rand_record(g, &head->current, true);
    }
    return n;
}

static int64_t floor_ms(int64_t ms)
{
    int64_t s = ms / 1000;

    if (ms % 1000 < 0)
        s--;
    return s * 1000;
}

size_t rb_project(const struct stint_batch *head, const struct stint_record *recs, size_t n,
                  struct stint_batch *phead, struct stint_record *out)
{
    const struct stint_record *kept[RB_MAX_RECORDS + 1];
    size_t nk = 0, i, nout = 0;

    stint_batch_clear(phead);
    phead->now_ms = floor_ms(head->now_ms);
    phead->client_version_len = head->client_version_len;
    memcpy(phead->client_version, head->client_version, head->client_version_len + 1);
    for (i = 0; i < n; i++)
        if (recs[i].kind == STINT_KIND_ACTIVE || recs[i].kind == STINT_KIND_UNSPECIFIED)
            kept[nk++] = &recs[i];
    if (head->has_current &&
        (head->current.kind == STINT_KIND_ACTIVE || head->current.kind == STINT_KIND_UNSPECIFIED))
        kept[nk++] = &head->current;
    for (i = 0; i < nk; i++) {
        struct stint_record *p =
            (i + 1 == nk && floor_ms(kept[i]->end_ms) == 0) ? &phead->current : &out[nout];

        stint_record_copy(p, kept[i]);
        p->kind = STINT_KIND_ACTIVE;
        p->truncated = p->repaired = 0;
        p->gap_count = 0;
        p->start_ms = floor_ms(kept[i]->start_ms);
        p->end_ms = floor_ms(kept[i]->end_ms); /* 0 s: open, as the array cannot say more */
        if (p == &phead->current) {
            p->seq = 0;
            phead->has_current = true;
        } else {
            p->seq = i + 1;
            nout++;
        }
    }
    return nout;
}
