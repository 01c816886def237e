/* ctl_report.c — `stintctl report` (ctl_report.h).
 *
 * Design: the report itself is report/ (shared with `stint-collector report`); this file only
 * reads records. By default they are the history stintd keeps (the records the server has
 * acknowledged, for `[journal] history`, 14 days by default) and the records not sent yet,
 * both asked of stintd over the control socket (stintctl.c): stintd holds the journal's
 * LevelDB, which one process at a time may open, so there is one reader and no second copy of
 * the journal code in stintctl. With stintd not running the report says so and names
 * --records. With --records FILE ("-": standard input), one JSON object a line:
 * a record in Stint's canonical JSON (as `stintctl pending --json` prints) or an object holding
 * one under "record" (as `stint-collector dump` prints). Each line is decoded by the codec's
 * own JSON decoder, so what is refused here is refused everywhere; a bad line is an error
 * naming the file and the line.
 */
#define _POSIX_C_SOURCE 200809L
#include "ctl_report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_cli.h"
#include "stint/json.h"

#define LINE_MAX_BYTES (1u << 20)

static int usage(const char *prog, const char *msg)
{
    fprintf(stderr, "%s: %s\nusage: %s report [--records FILE] " STINT_REPORT_CLI_USAGE "\n", prog,
            msg, prog);
    return 2;
}

int stint_ctl_report_add_json(struct stint_report *r, json_t *obj, struct stint_record *rec,
                              char *msg, size_t cap)
{
    struct stint_error e;
    json_t *inner = json_object_get(obj, "record");
    char *text = json_dumps(inner ? inner : obj, JSON_COMPACT);
    int rc = 0;

    if (!text) {
        snprintf(msg, cap, "out of memory");
        return 1;
    }
    if (stint_json_decode_record(text, strlen(text), rec, NULL, &e) != STINT_OK) {
        snprintf(msg, cap, "not a record: %s", e.msg);
        rc = 1;
    } else if (stint_report_add(r, rec) != STINT_OK) {
        snprintf(msg, cap, "out of memory");
        rc = 1;
    }
    free(text);
    return rc;
}

/* Reads every record of f into r; 0, or 1 with a message naming name:line. */
static int read_records(FILE *f, const char *name, struct stint_report *r, const char *prog)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long no = 0;
    int rc = 0;
    struct stint_record *rec = malloc(sizeof(*rec));

    if (!rec) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        json_error_t je;
        json_t *root = NULL;
        char msg[300];
        no++;
        if (n == 0 || strspn(line, " \t\r\n") == (size_t)n) {
            continue;
        }
        if ((size_t)n > LINE_MAX_BYTES) {
            fprintf(stderr, "%s: %s:%lu: line longer than %u bytes\n", prog, name, no,
                    LINE_MAX_BYTES);
            rc = 1;
            break;
        }
        root = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
            fprintf(stderr, "%s: %s:%lu: not JSON: %s\n", prog, name, no, je.text);
            rc = 1;
            break;
        }
        rc = stint_ctl_report_add_json(r, root, rec, msg, sizeof(msg));
        json_decref(root);
        if (rc != 0) {
            fprintf(stderr, "%s: %s:%lu: %s\n", prog, name, no, msg);
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "%s: %s: read error: %s\n", prog, name, strerror(errno));
        rc = 1;
    }
    free(line);
    free(rec);
    return rc;
}

int stint_ctl_report(const char *prog, int argc, char **argv, stint_ctl_history_fn history,
                     void *ctx)
{
    struct stint_report_cli c;
    struct stint_report *r = NULL;
    const char *records = NULL;
    FILE *f = NULL;
    int rc;

    memset(&c, 0, sizeof(c));
    for (int i = 0; i < argc; i++) {
        int t = stint_report_cli_arg(&c, argc, argv, &i, prog);
        if (t < 0) {
            return 2;
        }
        if (t > 0) {
            continue;
        }
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
            records = argv[++i];
            continue;
        }
        char msg[160];
        snprintf(msg, sizeof(msg), "report: unknown argument \"%.100s\"", argv[i]);
        return usage(prog, msg);
    }
    rc = stint_report_cli_make(&c, prog, &r);
    if (rc != 0) {
        return rc;
    }
    if (!records) {
        rc = history(ctx, r);
        if (rc == 0) {
            rc = stint_report_cli_print(&c, r, stdout);
        }
        goto cleanup;
    }
    f = strcmp(records, "-") == 0 ? stdin : fopen(records, "r");
    if (!f) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, records, strerror(errno));
        rc = 1;
        goto cleanup;
    }
    rc = read_records(f, strcmp(records, "-") == 0 ? "standard input" : records, r, prog);
    if (rc == 0) {
        rc = stint_report_cli_print(&c, r, stdout);
    }
cleanup:
    if (f && f != stdin) {
        fclose(f);
    }
    stint_report_destroy(r);
    return rc;
}
