/* cases.c — the golden vector cases (see cases.h). Changing a case changes the golden files:
 * regenerate with `gen_vectors --write spec/vectors` and review the diff. */
#include "cases.h"

#include <stdio.h>
#include <string.h>

#define AGENT_ID "\x5e\x1b\x0c\x7a\x44\x0f\x4b\x8e\x9d\x21\x3a\x60\xc2\x11\xf0\x07"
#define T0 INT64_C(1314172181000) /* 2011-08-24T07:49:41Z, the documented sample's start */

static void set(struct stint_record *r, enum stint_field f, const char *s)
{
    stint_record_set(r, f, s, strlen(s));
}

static void std_head(struct stint_batch *b)
{
    stint_batch_clear(b);
    memcpy(b->agent_id, AGENT_ID, STINT_AGENT_ID_LEN);
    b->agent_id_len = STINT_AGENT_ID_LEN;
    stint_batch_set_version(b, "1.0.4289", 8);
    b->now_ms = T0 + 2000;
}

static void active(struct stint_record *r, uint64_t seq, int64_t start, int64_t end)
{
    stint_record_clear(r);
    r->seq = seq;
    r->start_ms = start;
    r->end_ms = end;
    r->kind = STINT_KIND_ACTIVE;
}

/* 1. The documented sample: one record, still open, so it travels as `current`. */
static void desktime_head(struct stint_batch *b)
{
    std_head(b);
    b->has_current = true;
    active(&b->current, 0, T0, 0);
    set(&b->current, STINT_FIELD_APP, "firefox");
    set(&b->current, STINT_FIELD_PATH, "\\Mozilla Firefox\\firefox.exe");
    set(&b->current, STINT_FIELD_TITLE, "jQuery UI - Datepicker Demos & Documentation");
    set(&b->current, STINT_FIELD_URL, "jqueryui.com");
}

/* 2. Empty message: zero bytes, every field at its default. */
static void empty_head(struct stint_batch *b)
{
    stint_batch_clear(b);
}

/* 4. Closed records and the open one. */
static void open_head(struct stint_batch *b)
{
    std_head(b);
    b->has_current = true;
    active(&b->current, 0, T0 + 60000, 0);
    set(&b->current, STINT_FIELD_APP, "code");
    set(&b->current, STINT_FIELD_PATH, "/usr/share/code/code");
    set(&b->current, STINT_FIELD_TITLE, "journal.c - stint - Visual Studio Code");
}

static void open_record(size_t i, struct stint_record *r)
{
    active(r, 41 + i, T0 + (int64_t)i * 30000, T0 + (int64_t)i * 30000 + 29999);
    set(r, STINT_FIELD_APP, i ? "firefox" : "xterm");
    set(r, STINT_FIELD_PATH, i ? "/usr/lib/firefox/firefox" : "/usr/bin/xterm");
    set(r, STINT_FIELD_TITLE, i ? "Stint protocol - Mozilla Firefox" : "make test");
    if (i)
        set(r, STINT_FIELD_URL, "https://stint.example");
}

/* 5. Every kind. */
static void kinds_record(size_t i, struct stint_record *r)
{
    int64_t s = T0 + (int64_t)i * 600000;

    active(r, 100 + i, s, s + 599999);
    switch (i) {
    case 0:
        set(r, STINT_FIELD_APP, "libreoffice");
        set(r, STINT_FIELD_PATH, "/usr/lib/libreoffice/program/soffice.bin");
        set(r, STINT_FIELD_TITLE, "budget.ods - LibreOffice Calc");
        break;
    case 1:
        r->kind = STINT_KIND_IDLE;
        break;
    case 2:
        r->kind = STINT_KIND_PRIVATE;
        break;
    default:
        r->kind = STINT_KIND_GAP;
        r->gap_count = 1234;
        break;
    }
}

/* 6. Every string at its limit, ending on a multi-byte character. */
static void fill(struct stint_record *r, enum stint_field f, uint32_t max, const char *unit)
{
    char buf[STINT_URL_MAX + 8];
    size_t ul = strlen(unit), n = 0;

    while (n + ul <= max) {
        memcpy(buf + n, unit, ul);
        n += ul;
    }
    while (n < max) /* pad with ASCII so the total is exactly max */
        buf[n++] = 'x';
    stint_record_set(r, f, buf, n);
}

static void maxlen_record(size_t i, struct stint_record *r)
{
    (void)i;
    active(r, 7, T0, T0 + 1000);
    fill(r, STINT_FIELD_APP, STINT_APP_MAX, "a\xc3\xa9");
    fill(r, STINT_FIELD_PATH, STINT_PATH_MAX, "/\xe4\xb8\xad");
    fill(r, STINT_FIELD_TITLE, STINT_TITLE_MAX, "t\xf0\x9f\x98\x80");
    fill(r, STINT_FIELD_URL, STINT_URL_MAX, "u");
}

/* 7. A title cut at its limit by the agent, and an app repaired from invalid UTF-8. */
static void flagged_record(size_t i, struct stint_record *r)
{
    char title[STINT_TITLE_MAX + 100];

    (void)i;
    active(r, 8, T0, T0 + 5000);
    memset(title, 'w', sizeof(title));
    memcpy(title + STINT_TITLE_MAX - 2, "\xe2\x82\xac", 3); /* a euro sign across the limit */
    stint_record_set(r, STINT_FIELD_TITLE, title, sizeof(title));
    stint_record_set(r, STINT_FIELD_APP,
                     "bad\xff\xfe"
                     "app",
                     8);
    set(r, STINT_FIELD_PATH, "/opt/bad/app");
}

/* 8-10. Scripts. */
static void cjk_record(size_t i, struct stint_record *r)
{
    /* Each literal is split by hand at a character boundary, one comment line above it: a
     * literal that runs past the column limit is broken by clang-format in the same pass that
     * lays out the initializer, and the next pass lays it out again differently. */
    static const char *const titles[] = {
        /* zh */
        "\xe6\x96\x87\xe4\xbb\xb6\xe5\xa4\xb9 - "
        "\xe8\xb5\x84\xe6\xba\x90\xe7\xae\xa1\xe7\x90\x86\xe5\x99\xa8",
        /* ja */
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
        "\xe3\x81\xae\xe3\x83\x9a\xe3\x83\xbc\xe3\x82\xb8",
        /* ko */
        "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 \xeb\xac\xb8\xec\x84\x9c",
    };
    active(r, 200 + i, T0 + (int64_t)i * 1000, T0 + (int64_t)i * 1000 + 999);
    set(r, STINT_FIELD_APP, "gedit");
    set(r, STINT_FIELD_PATH, "/usr/bin/gedit");
    set(r, STINT_FIELD_TITLE, titles[i]);
}

static void emoji_record(size_t i, struct stint_record *r)
{
    static const char *const titles[] = {
        "\xf0\x9f\x8e\x89 Release party \xf0\x9f\x8e\x89",
        /* family: man ZWJ woman ZWJ girl, and a flag */
        ("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 "
         "\xf0\x9f\x87\xb1\xf0\x9f\x87\xbb"),
        /* combining marks: e + U+0301, a + U+0308 U+0304 */
        "Cafe\xcc\x81 a\xcc\x88\xcc\x84",
    };
    active(r, 300 + i, T0 + (int64_t)i * 1000, T0 + (int64_t)i * 1000 + 999);
    set(r, STINT_FIELD_APP, "slack");
    set(r, STINT_FIELD_TITLE, titles[i]);
    set(r, STINT_FIELD_URL, "app.slack.com");
}

static void rtl_record(size_t i, struct stint_record *r)
{
    static const char *const titles[] = {
        /* Arabic, with an embedded LTR number */
        ("\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84"
         "\xd9\x85 2026"),
        /* Hebrew with RLM and an RLO ... PDF override */
        ("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\xe2\x80\x8f \xe2\x80\xae"
         "abc\xe2\x80\xac"),
    };
    active(r, 400 + i, T0 + (int64_t)i * 1000, T0 + (int64_t)i * 1000 + 999);
    set(r, STINT_FIELD_APP, "chromium");
    set(r, STINT_FIELD_TITLE, titles[i]);
    set(r, STINT_FIELD_URL, "https://www.example.org/\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a");
}

/* 11. Characters JSON and C treat specially: NUL, quotes, backslashes, controls, U+2028,
 * "</script>", and a slash (json_encode escapes it; canonical JSON does not). */
static void escapes_record(size_t i, struct stint_record *r)
{
    static const char title[] = "a\0b \"q\" 'q' \\ \t\r\n \x01\x1f \xe2\x80\xa8 </script> 50%";

    (void)i;
    active(r, 500, T0, T0 + 1);
    stint_record_set(r, STINT_FIELD_TITLE, title, sizeof(title) - 1);
    set(r, STINT_FIELD_APP, "NUL\\and 'quotes'");
    set(r, STINT_FIELD_URL, "https://example.com/a?b=c&d=e#f");
}

/* 12. Unknown fields from a later v1.x, at every level, and a kind v1 does not name. */
static void unknown_record(size_t i, struct stint_record *r)
{
    active(r, 600 + i, T0, T0 + 10);
    set(r, STINT_FIELD_APP, "future");
    if (i == 1)
        r->kind = 7; /* a kind added in v1.x: kept as a number */
}

static void put_varint(struct stint_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    stint_buf_append(b, tmp, n);
}

/* Unknown fields: record field 12 (varint), 13 (string), 14 (fixed64), 15 (fixed32); batch
 * field 6 (varint) and 7 (string, a nested message). */
static void put_unknown_record_fields(struct stint_buf *b)
{
    put_varint(b, 12u << 3 | 0);
    put_varint(b, 300);
    put_varint(b, 13u << 3 | 2);
    put_varint(b, 5);
    stint_buf_append(b, "extra", 5);
    put_varint(b, 14u << 3 | 1);
    stint_buf_append(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    put_varint(b, 15u << 3 | 5);
    stint_buf_append(b, "\x09\x0a\x0b\x0c", 4);
}

static enum stint_err unknown_raw(const struct vector_case *c, struct stint_buf *out,
                                  uint64_t *unknown)
{
    struct stint_batch head;
    struct stint_record r;
    struct stint_buf rec = {0};
    size_t i;
    enum stint_err e;

    c->head(&head);
    e = stint_pb_encode_batch(&head, NULL, out);
    *unknown = 0;
    put_varint(out, 6u << 3 | 0); /* top level: before the records */
    put_varint(out, 1);
    (*unknown)++;
    for (i = 0; e == STINT_OK && i < c->n_records; i++) {
        stint_buf_reset(&rec);
        c->record(i, &r);
        e = stint_pb_encode_record(&r, &rec);
        put_unknown_record_fields(&rec);
        *unknown += 4;
        put_varint(out, 4u << 3 | 2);
        put_varint(out, rec.len);
        stint_buf_append(out, rec.data, rec.len);
    }
    put_varint(out, 7u << 3 | 2); /* top level: after the records, a nested message */
    put_varint(out, 4);
    stint_buf_append(out, "\x08\x01\x10\x02", 4);
    (*unknown)++;
    stint_buf_free(&rec);
    return e;
}

/* 13. A large batch: 10,000 records of a working day, 3 s each. */
static void large_record(size_t i, struct stint_record *r)
{
    static const char *const apps[] = {"firefox", "xterm", "code", "slack", "evince"};
    char title[64];
    int n;

    active(r, 1000000 + i, T0 + (int64_t)i * 3000, T0 + (int64_t)i * 3000 + 2999);
    set(r, STINT_FIELD_APP, apps[i % 5]);
    n = snprintf(title, sizeof(title), "Document %zu", i);
    stint_record_set(r, STINT_FIELD_TITLE, title, (size_t)n);
}

/* 14. Extreme values: the largest seq, negative and far-future times, every flag bit. The wire
 * carries them; a server's per-record checks (spec: "Per-record validation") refuse some. */
static void extreme_record(size_t i, struct stint_record *r)
{
    stint_record_clear(r);
    r->kind = STINT_KIND_ACTIVE;
    if (i == 0) {
        r->seq = UINT64_MAX;
        r->start_ms = INT64_MAX - 1;
        r->end_ms = INT64_MAX;
    } else {
        r->seq = 1;
        r->start_ms = -1;
        r->end_ms = INT64_MIN;
        r->truncated = 15;
        r->repaired = 15;
    }
}

static void extreme_head(struct stint_batch *b)
{
    std_head(b);
    b->now_ms = -86400000;
}

const struct vector_case stint_vector_cases[] = {
    {"desktime-sample", "the DeskTime client's documented sample as v1: one open record (current)",
     desktime_head, 0, NULL, NULL},
    {"empty-message", "zero bytes: every field at its default, no records", empty_head, 0, NULL,
     NULL},
    {"empty-batch", "a header (agent_id, client_version, now_ms) and no records", std_head, 0, NULL,
     NULL},
    {"open-record", "two closed records and the open one in current (no end_ms, seq 0)", open_head,
     2, open_record, NULL},
    {"every-kind", "one record of each kind: active, idle, private, gap with gap_count", std_head,
     4, kinds_record, NULL},
    {"max-length", "app, path, title and url at exactly 256, 1024, 2048 and 4096 bytes", std_head,
     1, maxlen_record, NULL},
    {"flagged",
     "a title cut at its limit on a character boundary (truncated) and an app "
     "repaired from invalid UTF-8 (repaired)",
     std_head, 1, flagged_record, NULL},
    {"cjk", "Chinese, Japanese and Korean titles", std_head, 3, cjk_record, NULL},
    {"emoji", "emoji (4-byte UTF-8, ZWJ sequences, flags) and combining marks", std_head, 3,
     emoji_record, NULL},
    {"right-to-left", "Arabic and Hebrew titles with bidi controls, a non-ASCII URL", std_head, 2,
     rtl_record, NULL},
    {"escapes", "NUL, quotes, backslashes, control characters, U+2028, </script>, / and %",
     std_head, 1, escapes_record, NULL},
    {"unknown-fields",
     "fields from a later v1.x at batch and record level, and a kind v1 does "
     "not name: skipped, counted, kept, and stored by a server",
     std_head, 2, unknown_record, unknown_raw},
    {"extreme-values", "largest seq, negative and far-future times, every flag bit", extreme_head,
     2, extreme_record, NULL},
    {"large-batch", "10,000 records", std_head, 10000, large_record, NULL},
};
const size_t stint_vector_case_count = sizeof(stint_vector_cases) / sizeof(stint_vector_cases[0]);

static enum stint_err case_next(void *ctx, struct stint_record *scratch,
                                const struct stint_record **out)
{
    struct vector_iter_state *st = ctx;

    if (st->pos >= st->c->n_records) {
        *out = NULL;
        return STINT_OK;
    }
    st->c->record(st->pos++, scratch);
    *out = scratch;
    return STINT_OK;
}

struct stint_record_iter vector_case_iter(struct vector_iter_state *st)
{
    struct stint_record_iter it = {case_next, st};

    st->pos = 0;
    return it;
}
