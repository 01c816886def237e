/* ctl_report.c — `stintctl report` (ctl_report.h).
 *
 * Design: the report itself is report/ (shared with `stint-collector report`); this file only
 * reads records. They come from --records FILE ("-": standard input), one JSON object a line:
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
    fprintf(stderr, "%s: %s\nusage: %s report --records FILE " STINT_REPORT_CLI_USAGE "\n", prog,
            msg, prog);
    return 2;
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
        struct stint_error e;
        json_t *root = NULL, *obj;
        char *text = NULL;
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
        obj = json_object_get(root, "record");
        text = json_dumps(obj ? obj : root, JSON_COMPACT);
        json_decref(root);
        if (!text) {
            fprintf(stderr, "%s: out of memory\n", prog);
            rc = 1;
            break;
        }
        if (stint_json_decode_record(text, strlen(text), rec, NULL, &e) != STINT_OK) {
            fprintf(stderr, "%s: %s:%lu: not a record: %s\n", prog, name, no, e.msg);
            free(text);
            rc = 1;
            break;
        }
        free(text);
        if (stint_report_add(r, rec) != STINT_OK) {
            fprintf(stderr, "%s: out of memory\n", prog);
            rc = 1;
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

int stint_ctl_report(const char *prog, int argc, char **argv)
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
    if (!records) {
        return usage(prog, "report: --records FILE is needed (the output of `stint-collector "
                           "dump` or `stintctl pending --json`; - for standard input)");
    }
    rc = stint_report_cli_make(&c, prog, &r);
    if (rc != 0) {
        return rc;
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
