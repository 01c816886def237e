/* report_cli.c — the report options both binaries share (report_cli.h). */
#define _POSIX_C_SOURCE 200809L
#include "report_cli.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int stint_report_cli_arg(struct stint_report_cli *c, int argc, char **argv, int *i,
                         const char *prog)
{
    const char *a = argv[*i];
    const char **dst = NULL;

    if (strcmp(a, "--week") == 0) {
        c->week = true;
        return 1;
    }
    if (strcmp(a, "--json") == 0) {
        c->json = true;
        return 1;
    }
    if (strcmp(a, "--csv") == 0) {
        c->csv = true;
        return 1;
    }
    if (strcmp(a, "--day") == 0) {
        dst = &c->day;
    } else if (strcmp(a, "--from") == 0) {
        dst = &c->from;
    } else if (strcmp(a, "--to") == 0) {
        dst = &c->to;
    } else if (strcmp(a, "--html") == 0) {
        dst = &c->html;
    } else if (strcmp(a, "--by") != 0) {
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: report: %s needs a value\n", prog, a);
        return -1;
    }
    (*i)++;
    if (dst) {
        *dst = argv[*i];
        return 1;
    }
    if (!stint_report_by_parse(argv[*i], &c->by)) {
        fprintf(stderr, "%s: report: --by takes app, site, title or hour, not \"%.40s\"\n", prog,
                argv[*i]);
        return -1;
    }
    return 1;
}

int stint_report_cli_make(const struct stint_report_cli *c, const char *prog,
                          struct stint_report **out)
{
    struct stint_error e;
    int64_t from = 0, to = 0, x = 0;
    char label[64], a[16], b[16];

    *out = NULL;
    if ((c->json + c->csv + (c->html != NULL)) > 1) {
        fprintf(stderr, "%s: report: one of --json, --csv, --html\n", prog);
        return 2;
    }
    if ((c->from || c->to) && (c->day || c->week)) {
        fprintf(stderr, "%s: report: --from/--to or --day/--week, not both\n", prog);
        return 2;
    }
    if (!c->from != !c->to) {
        fprintf(stderr, "%s: report: --from and --to go together\n", prog);
        return 2;
    }
    if (c->from) {
        if (stint_report_days(c->from, 1, &from, &x, &e) != STINT_OK ||
            stint_report_days(c->to, 1, &x, &to, &e) != STINT_OK) {
            fprintf(stderr, "%s: report: %s\n", prog, e.msg);
            return 2;
        }
        if (to <= from) {
            fprintf(stderr, "%s: report: --to %s is before --from %s\n", prog, c->to, c->from);
            return 2;
        }
    } else if (stint_report_days(c->day, 1, &from, &to, &e) != STINT_OK) {
        fprintf(stderr, "%s: report: --day: %s\n", prog, e.msg);
        return 2;
    }
    if (c->week) {
        /* Monday to Sunday of the week holding the day */
        time_t s = (time_t)(from / 1000);
        struct tm tm;
        localtime_r(&s, &tm);
        int back = (tm.tm_wday + 6) % 7;
        stint_report_date(from, a, sizeof(a));
        tm.tm_mday -= back;
        tm.tm_hour = 12; /* away from DST changes, then back to the date */
        tm.tm_isdst = -1;
        s = mktime(&tm);
        stint_report_date((int64_t)s * 1000, a, sizeof(a));
        if (stint_report_days(a, 7, &from, &to, &e) != STINT_OK) {
            fprintf(stderr, "%s: report: %s\n", prog, e.msg);
            return 2;
        }
    }
    stint_report_date(from, a, sizeof(a));
    stint_report_date(to - 1, b, sizeof(b));
    if (strcmp(a, b) == 0) {
        snprintf(label, sizeof(label), "%s", a);
    } else {
        snprintf(label, sizeof(label), "%s to %s", a, b);
    }
    if (stint_report_create(from, to, c->by, label, out) != STINT_OK) {
        fprintf(stderr, "%s: report: out of memory\n", prog);
        return 1;
    }
    return 0;
}

int stint_report_cli_print(const struct stint_report_cli *c, const struct stint_report *r, FILE *f)
{
    enum stint_err err;
    if (c->html) {
        FILE *h = fopen(c->html, "w");
        if (!h) {
            fprintf(stderr, "report: %s: cannot write: %s\n", c->html, strerror(errno));
            return 1;
        }
        err = stint_report_print_html(r, h);
        if (fclose(h) != 0) {
            err = STINT_EIO;
        }
        if (err != STINT_OK) {
            fprintf(stderr, "report: %s: cannot write\n", c->html);
        }
        return err == STINT_OK ? 0 : 1;
    }
    if (c->json) {
        err = stint_report_print_json(r, f);
    } else if (c->csv) {
        err = stint_report_print_csv(r, f);
    } else {
        struct winsize ws;
        int width = 80;
        if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
            width = ws.ws_col;
        }
        err = stint_report_print_table(r, f, width);
    }
    return err == STINT_OK && fflush(f) == 0 ? 0 : 1;
}
