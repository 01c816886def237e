/* report.c — tables, JSON and JUnit XML of a conformance run (see report.h).
 *
 * The table is meant for people and for grep: fixed columns, the detail last and on one line
 * (newlines and tabs in details become spaces), and a final line that scripts can rely on:
 * "N passed, N failed" followed by ", N skipped" when some were skipped. Text in JSON and XML is
 * escaped byte by byte; details are ASCII in practice but nothing here relies on it. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

const char *stint_conf_level_name(enum stint_conf_level l)
{
    switch (l) {
    case STINT_CONF_MUST:
        return "MUST";
    case STINT_CONF_SHOULD:
        return "SHOULD";
    case STINT_CONF_MAY:
        return "MAY";
    }
    return "?";
}

const char *stint_conf_result_name(enum stint_conf_result r)
{
    switch (r) {
    case STINT_CONF_PASS:
        return "PASS";
    case STINT_CONF_FAIL:
        return "FAIL";
    case STINT_CONF_SKIP:
        return "SKIP";
    }
    return "?";
}

enum stint_err stint_conf_report_add(struct stint_conf_report *rep,
                                     const struct stint_conf_outcome *o)
{
    if (rep->n == rep->cap) {
        size_t ncap = rep->cap ? rep->cap * 2 : 32;
        struct stint_conf_outcome *ni = realloc(rep->items, ncap * sizeof(*ni));
        if (!ni)
            return STINT_ENOMEM;
        rep->items = ni;
        rep->cap = ncap;
    }
    rep->items[rep->n++] = *o;
    return STINT_OK;
}

void stint_conf_report_free(struct stint_conf_report *rep)
{
    if (!rep)
        return;
    free(rep->items);
    rep->items = NULL;
    rep->n = rep->cap = 0;
}

static void counts(const struct stint_conf_report *rep, size_t *pass, size_t *fail, size_t *skip)
{
    size_t i;

    *pass = *fail = *skip = 0;
    for (i = 0; i < rep->n; i++) {
        if (rep->items[i].result == STINT_CONF_PASS)
            (*pass)++;
        else if (rep->items[i].result == STINT_CONF_FAIL)
            (*fail)++;
        else
            (*skip)++;
    }
}

/* Prints s on one line: control characters become spaces. */
static void put_flat(const char *s, FILE *out)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
}

void stint_conf_report_table(const struct stint_conf_report *rep, FILE *out)
{
    size_t i, pass, fail, skip;

    fprintf(out, "%-6s %-7s %-6s %s\n", "case", "level", "result", "detail");
    for (i = 0; i < rep->n; i++) {
        const struct stint_conf_outcome *o = &rep->items[i];
        fprintf(out, "%-6s %-7s %-6s ", o->info->id, stint_conf_level_name(o->info->level),
                stint_conf_result_name(o->result));
        put_flat(o->detail, out);
        fputc('\n', out);
    }
    counts(rep, &pass, &fail, &skip);
    fprintf(out, "%zu passed, %zu failed", pass, fail);
    if (skip)
        fprintf(out, ", %zu skipped", skip);
    fputc('\n', out);
}

static void json_str(const char *s, FILE *out)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void stint_conf_report_json(const struct stint_conf_report *rep, FILE *out)
{
    size_t i, pass, fail, skip;

    fputs("{\"cases\":[", out);
    for (i = 0; i < rep->n; i++) {
        const struct stint_conf_outcome *o = &rep->items[i];
        fputs(i ? ",\n{\"id\":" : "\n{\"id\":", out);
        json_str(o->info->id, out);
        fputs(",\"level\":", out);
        json_str(stint_conf_level_name(o->info->level), out);
        fputs(",\"section\":", out);
        json_str(o->info->section, out);
        fputs(",\"requirement\":", out);
        json_str(o->info->requirement, out);
        fputs(",\"result\":", out);
        json_str(stint_conf_result_name(o->result), out);
        fputs(",\"detail\":", out);
        json_str(o->detail, out);
        fprintf(out, ",\"seconds\":%.3f}", o->seconds);
    }
    counts(rep, &pass, &fail, &skip);
    fprintf(out, "\n],\"passed\":%zu,\"failed\":%zu,\"skipped\":%zu}\n", pass, fail, skip);
}

static void xml_str(const char *s, FILE *out)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '<')
            fputs("&lt;", out);
        else if (c == '>')
            fputs("&gt;", out);
        else if (c == '&')
            fputs("&amp;", out);
        else if (c == '"')
            fputs("&quot;", out);
        else if (c < 0x20)
            fputc(' ', out);
        else
            fputc(c, out);
    }
}

enum stint_err stint_conf_report_junit(const struct stint_conf_report *rep, const char *suite,
                                       const char *path)
{
    FILE *f = fopen(path, "w");
    size_t i, pass, fail, skip;
    double total = 0;

    if (!f)
        return STINT_EIO;
    counts(rep, &pass, &fail, &skip);
    for (i = 0; i < rep->n; i++)
        total += rep->items[i].seconds;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<testsuites>\n<testsuite name=\"");
    xml_str(suite, f);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\" time=\"%.3f\">\n",
            rep->n, fail, skip, total);
    for (i = 0; i < rep->n; i++) {
        const struct stint_conf_outcome *o = &rep->items[i];
        fprintf(f, "  <testcase classname=\"");
        xml_str(suite, f);
        fprintf(f, ".%s\" name=\"", stint_conf_level_name(o->info->level));
        xml_str(o->info->id, f);
        fprintf(f, " ");
        xml_str(o->info->requirement, f);
        fprintf(f, "\" time=\"%.3f\">", o->seconds);
        if (o->result == STINT_CONF_FAIL) {
            fprintf(f, "<failure message=\"");
            xml_str(o->detail, f);
            fprintf(f, "\">");
            xml_str(o->info->section, f);
            fprintf(f, "</failure>");
        } else if (o->result == STINT_CONF_SKIP) {
            fprintf(f, "<skipped message=\"");
            xml_str(o->detail, f);
            fprintf(f, "\"/>");
        }
        fprintf(f, "</testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    return fclose(f) == 0 ? STINT_OK : STINT_EIO;
}

int stint_conf_report_status(const struct stint_conf_report *rep, bool strict)
{
    size_t i;

    for (i = 0; i < rep->n; i++)
        if (rep->items[i].result == STINT_CONF_FAIL &&
            (strict || rep->items[i].info->level == STINT_CONF_MUST))
            return 1;
    return 0;
}

void stint_conf_list(const struct stint_conf_case_info *const *cases, size_t n, FILE *out)
{
    size_t i;

    for (i = 0; i < n; i++)
        fprintf(out, "%-6s %-7s %s\n       \"%s\"\n", cases[i]->id,
                stint_conf_level_name(cases[i]->level), cases[i]->section, cases[i]->requirement);
}
