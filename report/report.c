/* report.c — a user's time, added up (report.h).
 *
 * Design. A report is a range, a grouping and a table of rows (key, ms). Rows are found by a
 * hash table of their keys (FNV-1a, open addressing, grown at half load) so that a month of
 * records with thousands of titles stays linear. Splitting by hour walks local-hour boundaries
 * with mktime(3), so hours follow the time zone's rules (DST included) and not UTC's. Output is
 * made only from the rows and totals; nothing is read from the clock but "today" in
 * stint_report_days.
 */
#define _POSIX_C_SOURCE 200809L /* strndup */
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

/* A clipped span, for the HTML timeline. */
struct span {
    int64_t a, b;
    int32_t kind;
    char *app, *site; /* active spans only; NULL otherwise */
};

#define SPANS_MAX 1000000 /* a month of focus changes is far less */

struct stint_report {
    struct span *spans;
    size_t nspans, capspans;
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
    for (size_t i = 0; i < r->nspans; i++) {
        free(r->spans[i].app);
        free(r->spans[i].site);
    }
    free(r->spans);
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
    if (r->nspans < SPANS_MAX) {
        if (r->nspans == r->capspans) {
            size_t cap = r->capspans ? r->capspans * 2 : 64;
            struct span *p = realloc(r->spans, cap * sizeof(*p));
            if (!p) {
                return STINT_ENOMEM;
            }
            r->spans = p;
            r->capspans = cap;
        }
        struct span *sp = &r->spans[r->nspans];
        memset(sp, 0, sizeof(*sp));
        sp->a = a;
        sp->b = b;
        sp->kind = rec->kind;
        if (rec->kind == STINT_KIND_ACTIVE) {
            sp->app =
                strndup(rec->app_len ? rec->app : "(no app)", rec->app_len ? rec->app_len : 8);
            sp->site = rec->url_len ? strndup(rec->url, rec->url_len) : NULL;
            if (!sp->app || (rec->url_len && !sp->site)) {
                free(sp->app);
                free(sp->site);
                return STINT_ENOMEM;
            }
        }
        r->nspans++;
    }
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

void stint_report_range(const struct stint_report *r, int64_t *from_ms, int64_t *to_ms)
{
    *from_ms = r->from;
    *to_ms = r->to;
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

/* ---- HTML ---- */

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A colour per app, from its name: the same app has the same colour in every report. */
static unsigned hue(const char *s)
{
    return (unsigned)(fnv(s, strlen(s)) % 360);
}

static void lane(FILE *f, const struct stint_report *r, const char *name, const char *cls,
                 int32_t kind, const char *app, int64_t total)
{
    char t[32];
    double range = (double)(r->to - r->from);
    hms(total, t, sizeof(t));
    fputs("<div class=\"lane\" data-lane=\"", f);
    html_text(f, name);
    fprintf(f, "\" data-kind=\"%s\" data-ms=\"%" PRId64 "\"><div class=\"name\">", cls, total);
    html_text(f, name);
    fprintf(f, " <small>%s</small></div><div class=\"track\">", t);
    for (size_t i = 0; i < r->nspans; i++) {
        const struct span *sp = &r->spans[i];
        if (sp->kind != kind || (app && strcmp(sp->app, app) != 0)) {
            continue;
        }
        fprintf(f,
                "<div class=\"span %s\" data-ms=\"%" PRId64 "\" style=\"left:%.6f%%;width:%.6f%%",
                cls, sp->b - sp->a, (double)(sp->a - r->from) * 100.0 / range,
                (double)(sp->b - sp->a) * 100.0 / range);
        if (app) {
            fprintf(f, ";background:hsl(%u,60%%,48%%)", hue(app));
        }
        fputs("\"></div>", f);
    }
    fputs("</div></div>\n", f);
}

enum stint_err stint_report_print_html(const struct stint_report *r, FILE *f)
{
    struct stint_report *apps = NULL, *sites = NULL;
    struct row *a = NULL, *s = NULL;
    enum stint_err err = STINT_ENOMEM;
    char from[40], to[40], t[32];

    /* the per-app and per-site rows, from the spans */
    if (stint_report_create(r->from, r->to, STINT_REPORT_APP, r->label, &apps) != STINT_OK ||
        stint_report_create(r->from, r->to, STINT_REPORT_SITE, r->label, &sites) != STINT_OK) {
        goto cleanup;
    }
    for (size_t i = 0; i < r->nspans; i++) {
        const struct span *sp = &r->spans[i];
        if (sp->kind != STINT_KIND_ACTIVE) {
            continue;
        }
        if (add_to(apps, sp->app, strlen(sp->app), sp->b - sp->a) != STINT_OK ||
            (sp->site && add_to(sites, sp->site, strlen(sp->site), sp->b - sp->a) != STINT_OK)) {
            goto cleanup;
        }
    }
    a = sorted(apps);
    s = sorted(sites);
    if (!a || !s) {
        goto cleanup;
    }
    iso_local(r->from, from, sizeof(from));
    iso_local(r->to, to, sizeof(to));
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Stint: ",
          f);
    html_text(f, r->label);
    fputs("</title>\n<style>\n"
          "body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:16px;max-width:1200px;"
          "color:#222;background:#fafafa}\n"
          "h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}\n"
          ".axis,.lane{display:flex;align-items:center;margin:2px 0}\n"
          ".name{flex:0 0 11em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;"
          "padding-right:8px}\n"
          ".name small{color:#666}\n"
          ".track{position:relative;flex:1 1 auto;height:20px;background:#eee;border-radius:3px;"
          "overflow:hidden}\n"
          ".span{position:absolute;top:0;bottom:0;min-width:1px}\n"
          ".span.idle{background:repeating-linear-gradient(45deg,#bbb 0 4px,#ddd 4px 8px)}\n"
          ".span.private{background:#555}\n"
          ".ticks{position:relative;flex:1 1 auto;height:1.2em;font-size:.75em;color:#666}\n"
          ".ticks span{position:absolute;transform:translateX(-50%)}\n"
          "table{border-collapse:collapse;width:100%;max-width:40em}\n"
          "td,th{padding:3px 6px;text-align:left;border-bottom:1px solid #ddd;"
          "overflow-wrap:anywhere}\n"
          "td.t{text-align:right;white-space:nowrap}\n"
          ".sw{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:4px}\n"
          "@media (max-width:600px){body{padding:8px;font-size:14px}.name{flex-basis:7em}}\n"
          "</style></head><body>\n<h1>Stint: ",
          f);
    html_text(f, r->label);
    fprintf(f, "</h1>\n<p>%s to %s</p>\n<h2>Timeline</h2>\n<div id=\"timeline\">\n", from, to);
    /* hour ticks, every 3 hours of a day, or each day of a longer range */
    fputs("<div class=\"axis\"><div class=\"name\"></div><div class=\"ticks\">", f);
    {
        int64_t step = r->to - r->from > 2 * 86400000LL ? 86400000LL : 3 * 3600000LL;
        for (int64_t x = r->from; x < r->to; x += step) {
            time_t sec = (time_t)(x / 1000);
            struct tm tm;
            char lab[16];
            localtime_r(&sec, &tm);
            strftime(lab, sizeof(lab), step == 86400000LL ? "%a %d" : "%H:%M", &tm);
            fprintf(f, "<span style=\"left:%.4f%%\">%s</span>",
                    (double)(x - r->from) * 100.0 / (double)(r->to - r->from), lab);
        }
    }
    fputs("</div></div>\n", f);
    for (size_t i = 0; i < apps->n; i++) {
        lane(f, r, a[i].key, "active", STINT_KIND_ACTIVE, a[i].key, a[i].ms);
    }
    lane(f, r, "idle", "idle", STINT_KIND_IDLE, NULL, r->t.idle_ms);
    lane(f, r, "private", "private", STINT_KIND_PRIVATE, NULL, r->t.private_ms);
    fputs("</div>\n<h2>Applications</h2>\n<table id=\"apps\"><tr><th>application</th>"
          "<th>time</th></tr>\n",
          f);
    for (size_t i = 0; i < apps->n; i++) {
        hms(a[i].ms, t, sizeof(t));
        fprintf(f, "<tr><td><span class=\"sw\" style=\"background:hsl(%u,60%%,48%%)\"></span>",
                hue(a[i].key));
        html_text(f, a[i].key);
        fprintf(f, "</td><td class=\"t\" data-ms=\"%" PRId64 "\">%s</td></tr>\n", a[i].ms, t);
    }
    hms(r->t.active_ms, t, sizeof(t));
    fprintf(f, "<tr><th>active</th><td class=\"t\" data-ms=\"%" PRId64 "\">%s</td></tr>\n",
            r->t.active_ms, t);
    hms(r->t.idle_ms, t, sizeof(t));
    fprintf(f, "<tr><th>idle</th><td class=\"t\" data-ms=\"%" PRId64 "\">%s</td></tr>\n",
            r->t.idle_ms, t);
    hms(r->t.private_ms, t, sizeof(t));
    fprintf(f, "<tr><th>private</th><td class=\"t\" data-ms=\"%" PRId64 "\">%s</td></tr>\n",
            r->t.private_ms, t);
    fputs("</table>\n<h2>Top sites</h2>\n<table id=\"sites\"><tr><th>site</th><th>time</th>"
          "</tr>\n",
          f);
    for (size_t i = 0; i < sites->n && i < 10; i++) {
        hms(s[i].ms, t, sizeof(t));
        fputs("<tr><td>", f);
        html_text(f, s[i].key);
        fprintf(f, "</td><td class=\"t\" data-ms=\"%" PRId64 "\">%s</td></tr>\n", s[i].ms, t);
    }
    fputs("</table>\n</body></html>\n", f);
    err = ferror(f) ? STINT_EIO : STINT_OK;
cleanup:
    free(a);
    free(s);
    stint_report_destroy(apps);
    stint_report_destroy(sites);
    return err;
}
