/* report.c — a user's time, added up (report.h).
 *
 * Design. A report is a range, a grouping and a table of rows (key, ms). Rows are found by a
 * hash table of their keys (FNV-1a, open addressing, grown at half load) so that a month of
 * records with thousands of titles stays linear. Splitting by hour walks local-hour boundaries
 * with mktime(3), so hours follow the time zone's rules (DST included) and not UTC's. Output is
 * made only from the rows and totals; nothing is read from the clock but "today" in
 * stint_report_days.
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct row {
    char *key;
    int64_t ms;
};

struct stint_report {
    int64_t from, to;
    enum stint_report_by by;
    char label[64];
    struct stint_report_totals t;
    struct row *rows;
    size_t n, cap; /* rows */
    size_t *slots; /* hash table of row index + 1; 0 is empty */
    size_t nslots;
};

static const char *const by_names[] = {"app", "site", "title", "hour"};

bool stint_report_by_parse(const char *s, enum stint_report_by *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, by_names[i]) == 0) {
            *out = (enum stint_report_by)i;
            return true;
        }
    }
    return false;
}

const char *stint_report_by_name(enum stint_report_by by)
{
    return (unsigned)by < 4 ? by_names[by] : "?";
}

enum stint_err stint_report_create(int64_t from_ms, int64_t to_ms, enum stint_report_by by,
                                   const char *label, struct stint_report **out)
{
    struct stint_report *r;
    *out = NULL;
    if (from_ms >= to_ms || (unsigned)by > 3) {
        return STINT_EINVAL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        return STINT_ENOMEM;
    }
    r->from = from_ms;
    r->to = to_ms;
    r->by = by;
    snprintf(r->label, sizeof(r->label), "%s", label ? label : "");
    *out = r;
    return STINT_OK;
}

void stint_report_destroy(struct stint_report *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        free(r->rows[i].key);
    }
    free(r->rows);
    free(r->slots);
    free(r);
}

static uint64_t fnv(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    }
    return h;
}

static enum stint_err grow(struct stint_report *r)
{
    size_t n = r->nslots ? r->nslots * 2 : 64;
    size_t *s = calloc(n, sizeof(*s));
    if (!s) {
        return STINT_ENOMEM;
    }
    for (size_t i = 0; i < r->n; i++) {
        size_t j = (size_t)fnv(r->rows[i].key, strlen(r->rows[i].key)) & (n - 1);
        while (s[j]) {
            j = (j + 1) & (n - 1);
        }
        s[j] = i + 1;
    }
    free(r->slots);
    r->slots = s;
    r->nslots = n;
    return STINT_OK;
}

/* Adds ms to the row of key[0..len) (a string without NUL bytes before len). */
static enum stint_err add_to(struct stint_report *r, const char *key, size_t len, int64_t ms)
{
    if (r->n >= STINT_REPORT_ROWS_MAX) {
        key = "(other)";
        len = 7;
    }
    if ((r->n + 1) * 2 > r->nslots && grow(r) != STINT_OK) {
        return STINT_ENOMEM;
    }
    size_t j = (size_t)fnv(key, len) & (r->nslots - 1);
    while (r->slots[j]) {
        struct row *w = &r->rows[r->slots[j] - 1];
        if (strlen(w->key) == len && memcmp(w->key, key, len) == 0) {
            w->ms += ms;
            return STINT_OK;
        }
        j = (j + 1) & (r->nslots - 1);
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct row *p = realloc(r->rows, cap * sizeof(*p));
        if (!p) {
            return STINT_ENOMEM;
        }
        r->rows = p;
        r->cap = cap;
    }
    char *k = malloc(len + 1);
    if (!k) {
        return STINT_ENOMEM;
    }
    memcpy(k, key, len);
    k[len] = '\0';
    r->rows[r->n].key = k;
    r->rows[r->n].ms = ms;
    r->slots[j] = ++r->n;
    return STINT_OK;
}

/* The next local hour boundary after t (ms). */
static int64_t next_hour(int64_t t)
{
    time_t s = (time_t)(t / 1000);
    struct tm tm;
    localtime_r(&s, &tm);
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_hour += 1;
    tm.tm_isdst = -1;
    time_t n = mktime(&tm);
    int64_t ms = (int64_t)n * 1000;
    /* a DST change can make mktime land on or before t: fall back to the next UTC hour */
    if (n == (time_t)-1 || ms <= t) {
        ms = (t / 3600000 + 1) * 3600000;
    }
    return ms;
}

enum stint_err stint_report_add(struct stint_report *r, const struct stint_record *rec)
{
    int64_t a = rec->start_ms, b = rec->end_ms;

    if (rec->kind == STINT_KIND_GAP) {
        if (b > r->from && a < r->to) {
            r->t.gaps += rec->gap_count;
        }
        return STINT_OK;
    }
    if (b <= a) {
        return STINT_OK;
    }
    if (a < r->from) {
        a = r->from;
    }
    if (b > r->to) {
        b = r->to;
    }
    if (b <= a) {
        return STINT_OK;
    }
    r->t.records++;
    if (rec->kind == STINT_KIND_IDLE) {
        r->t.idle_ms += b - a;
        return STINT_OK;
    }
    if (rec->kind == STINT_KIND_PRIVATE) {
        r->t.private_ms += b - a;
        return STINT_OK;
    }
    if (rec->kind != STINT_KIND_ACTIVE) {
        return STINT_OK; /* a later kind: neither active nor idle */
    }
    r->t.active_ms += b - a;
    switch (r->by) {
    case STINT_REPORT_APP:
        return rec->app_len ? add_to(r, rec->app, strnlen(rec->app, rec->app_len), b - a)
                            : add_to(r, "(no app)", 8, b - a);
    case STINT_REPORT_SITE:
        return rec->url_len ? add_to(r, rec->url, strnlen(rec->url, rec->url_len), b - a)
                            : add_to(r, "(no site)", 9, b - a);
    case STINT_REPORT_TITLE:
        return rec->title_len ? add_to(r, rec->title, strnlen(rec->title, rec->title_len), b - a)
                              : add_to(r, "(no title)", 10, b - a);
    case STINT_REPORT_HOUR:
        while (a < b) {
            int64_t n = next_hour(a);
            int64_t e = n < b ? n : b;
            time_t s = (time_t)(a / 1000);
            struct tm tm;
            char key[8];
            localtime_r(&s, &tm);
            snprintf(key, sizeof(key), "%02d:00", tm.tm_hour);
            if (add_to(r, key, 5, e - a) != STINT_OK) {
                return STINT_ENOMEM;
            }
            a = e;
        }
        return STINT_OK;
    }
    return STINT_OK;
}

void stint_report_totals(const struct stint_report *r, struct stint_report_totals *t)
{
    *t = r->t;
}

static int by_time(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    if (a->ms != b->ms) {
        return a->ms > b->ms ? -1 : 1;
    }
    return strcmp(a->key, b->key);
}

static int by_key(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    return strcmp(a->key, b->key);
}

/* The rows in output order (hours by hour, the rest longest first); the caller frees. */
static struct row *sorted(const struct stint_report *r)
{
    struct row *s = malloc((r->n ? r->n : 1) * sizeof(*s));
    if (!s) {
        return NULL;
    }
    if (r->n) {
        memcpy(s, r->rows, r->n * sizeof(*s));
    }
    qsort(s, r->n, sizeof(*s), r->by == STINT_REPORT_HOUR ? by_key : by_time);
    return s;
}

static void hms(int64_t ms, char *buf, size_t cap)
{
    int64_t s = ms / 1000;
    snprintf(buf, cap, "%" PRId64 "h %02dm %02ds", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
}

/* Bytes of the first `cols` characters of a UTF-8 string (a display column per character, a
 * fair guess for titles), and the characters counted into *used. */
static size_t utf8_cut(const char *s, size_t cols, size_t *used)
{
    size_t i = 0, c = 0;
    while (s[i] && c < cols) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80) {
            i++;
        }
        c++;
    }
    *used = c;
    return i;
}

enum stint_err stint_report_print_table(const struct stint_report *r, FILE *f, int width)
{
    struct row *s = sorted(r);
    char t[32];
    int64_t max = 1;
    size_t keyw = 24;
    int barw;

    if (!s) {
        return STINT_ENOMEM;
    }
    if (width < 40) {
        width = 40;
    }
    if (width > 200) {
        width = 200;
    }
    if ((size_t)width > 80) {
        keyw = (size_t)width / 3;
    }
    barw = width - (int)keyw - 2 - 13 - 2 - 5 - 1;
    if (barw < 5) {
        barw = 5;
    }
    for (size_t i = 0; i < r->n; i++) {
        max = s[i].ms > max ? s[i].ms : max;
    }
    fprintf(f, "%s, by %s\n\n", r->label, by_names[r->by]);
    for (size_t i = 0; i < r->n; i++) {
        size_t used = 0, n = utf8_cut(s[i].key, keyw, &used);
        int bar = (int)((s[i].ms * barw + max / 2) / max);
        hms(s[i].ms, t, sizeof(t));
        fprintf(f, "%.*s%*s  %13s  ", (int)n, s[i].key, (int)(keyw - used), "", t);
        for (int k = 0; k < bar; k++) {
            fputs("\u2588", f);
        }
        fprintf(f, "%*s %3d%%\n", barw - bar, "",
                r->t.active_ms ? (int)((s[i].ms * 100 + r->t.active_ms / 2) / r->t.active_ms) : 0);
    }
    fputc('\n', f);
    hms(r->t.active_ms, t, sizeof(t));
    fprintf(f, "%-*s  %13s\n", (int)keyw, "active", t);
    hms(r->t.idle_ms, t, sizeof(t));
    fprintf(f, "%-*s  %13s\n", (int)keyw, "idle", t);
    hms(r->t.private_ms, t, sizeof(t));
    fprintf(f, "%-*s  %13s\n", (int)keyw, "private", t);
    if (r->t.gaps) {
        fprintf(f, "%-*s  %13" PRIu64 " records lost\n", (int)keyw, "gaps", r->t.gaps);
    }
    free(s);
    return ferror(f) ? STINT_EIO : STINT_OK;
}

static void iso_local(int64_t ms, char *buf, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&s, &tm);
    if (strftime(buf, cap, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0) {
        buf[0] = '\0';
    }
}

enum stint_err stint_report_print_json(const struct stint_report *r, FILE *f)
{
    struct row *s = sorted(r);
    json_t *o = NULL, *rows = NULL;
    char from[40], to[40];
    enum stint_err err = STINT_ENOMEM;

    if (!s) {
        goto cleanup;
    }
    iso_local(r->from, from, sizeof(from));
    iso_local(r->to, to, sizeof(to));
    rows = json_array();
    if (!rows) {
        goto cleanup;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (json_array_append_new(rows, json_pack("{s:s,s:I}", "key", s[i].key, "active_ms",
                                                  (json_int_t)s[i].ms)) != 0) {
            goto cleanup;
        }
    }
    o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:{s:I,s:I,s:I,s:I,s:I},s:O}", "label", r->label,
                  "from", from, "to", to, "from_ms", (json_int_t)r->from, "to_ms",
                  (json_int_t)r->to, "by", by_names[r->by], "totals", "active_ms",
                  (json_int_t)r->t.active_ms, "idle_ms", (json_int_t)r->t.idle_ms, "private_ms",
                  (json_int_t)r->t.private_ms, "records", (json_int_t)r->t.records, "gaps",
                  (json_int_t)r->t.gaps, "rows", rows);
    if (!o) {
        goto cleanup;
    }
    err = json_dumpf(o, f, JSON_COMPACT | JSON_ENSURE_ASCII) == 0 && fputc('\n', f) != EOF
              ? STINT_OK
              : STINT_EIO;
cleanup:
    json_decref(o);
    json_decref(rows);
    free(s);
    return err;
}

/* A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

enum stint_err stint_report_print_csv(const struct stint_report *r, FILE *f)
{
    struct row *s = sorted(r);
    if (!s) {
        return STINT_ENOMEM;
    }
    fprintf(f, "%s,seconds\r\n", by_names[r->by]);
    for (size_t i = 0; i < r->n; i++) {
        csv_field(f, s[i].key);
        fprintf(f, ",%" PRId64 ".%03d\r\n", s[i].ms / 1000, (int)(s[i].ms % 1000));
    }
    fprintf(f, "(active),%" PRId64 ".%03d\r\n", r->t.active_ms / 1000,
            (int)(r->t.active_ms % 1000));
    fprintf(f, "(idle),%" PRId64 ".%03d\r\n", r->t.idle_ms / 1000, (int)(r->t.idle_ms % 1000));
    fprintf(f, "(private),%" PRId64 ".%03d\r\n", r->t.private_ms / 1000,
            (int)(r->t.private_ms % 1000));
    free(s);
    return ferror(f) ? STINT_EIO : STINT_OK;
}

enum stint_err stint_report_days(const char *date, int days, int64_t *from, int64_t *to,
                                 struct stint_error *e)
{
    struct tm tm;
    time_t a, b;

    stint_error_clear(e);
    memset(&tm, 0, sizeof(tm));
    if (date) {
        int y = 0, m = 0, d = 0;
        char *end = NULL;
        const char *p = date;
        long v = strtol(p, &end, 10);
        if (end != p + 4 || *end != '-' || v < 1970 || v > 9999) {
            goto bad;
        }
        y = (int)v;
        p = end + 1;
        v = strtol(p, &end, 10);
        if (end != p + 2 || *end != '-' || v < 1 || v > 12) {
            goto bad;
        }
        m = (int)v;
        p = end + 1;
        v = strtol(p, &end, 10);
        if (end != p + 2 || *end != '\0' || v < 1 || v > 31) {
            goto bad;
        }
        d = (int)v;
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
    } else {
        time_t now = time(NULL);
        localtime_r(&now, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    }
    tm.tm_isdst = -1;
    {
        struct tm t2 = tm;
        a = mktime(&t2);
        if (date && (t2.tm_mday != tm.tm_mday || t2.tm_mon != tm.tm_mon)) {
            goto bad; /* 2026-02-30 */
        }
    }
    tm.tm_mday += days;
    tm.tm_isdst = -1;
    b = mktime(&tm);
    if (a == (time_t)-1 || b == (time_t)-1 || b <= a) {
        goto bad;
    }
    *from = (int64_t)a * 1000;
    *to = (int64_t)b * 1000;
    return STINT_OK;
bad:
    return stint_error_set(e, STINT_EINVAL, 0, "not a date (YYYY-MM-DD): \"%.40s\"",
                           date ? date : "");
}

void stint_report_date(int64_t ms, char *buf, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&s, &tm);
    if (strftime(buf, cap, "%Y-%m-%d", &tm) == 0 && cap) {
        buf[0] = '\0';
    }
}
