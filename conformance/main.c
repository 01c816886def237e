/* main.c — stint-conformance's command line: wiring only (server_cases.c, client_mode.c and
 * report.c do the work).
 *
 *   stint-conformance server --url URL --token T --token-b T2 [--ca-file F] [--case ID]...
 *                            [--strict] [--json | --junit FILE] [--max-body N]
 *                            [--max-decoded N] [--max-records N]
 *                            [--throttle-cmd CMD [--unthrottle-cmd CMD]]
 *   stint-conformance client --listen HOST:PORT (--tls-cert C --tls-key K | --insecure-http)
 *                            [--port-file F] [--token T] [--timeout S] [--quiet S]
 *                            [--case ID]... [--strict] [--json | --junit FILE]
 *   stint-conformance --list [server|client]
 *
 * Exit status: 0 when no MUST case failed (with --strict: no case failed), 1 otherwise, 2 for
 * a usage error or a run that could not start. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "client_mode.h"
#include "http.h"
#include "report.h"
#include "server_cases.h"
#include "common/number.h"

#define MAX_SELECT 128

static void usage(FILE *f)
{
    fprintf(f, "usage: stint-conformance server --url URL --token T --token-b T2 [--ca-file F]\n"
               "           [--case ID]... [--strict] [--json | --junit FILE]\n"
               "           [--max-body BYTES] [--max-decoded BYTES] [--max-records N]\n"
               "           [--throttle-cmd CMD [--unthrottle-cmd CMD]]\n"
               "       stint-conformance client --listen HOST:PORT (--tls-cert C --tls-key K |\n"
               "           --insecure-http) [--port-file F] [--token T] [--timeout S] [--quiet S]\n"
               "           [--case ID]... [--strict] [--json | --junit FILE]\n"
               "       stint-conformance --list [server|client]\n"
               "Cases, levels and the requirements they check: --list; spec/PROTOCOL.md,\n"
               "\"Conformance\". Exit status 1 when a MUST case fails (--strict: any case).\n");
}

struct common {
    const char *select[MAX_SELECT];
    size_t n_select;
    bool strict, json;
    const char *junit;
};

static bool selected(const struct common *c, const char *id)
{
    size_t i;

    if (c->n_select == 0)
        return true;
    for (i = 0; i < c->n_select; i++)
        if (strcasecmp(c->select[i], id) == 0)
            return true;
    return false;
}

/* Splits "S01,S02" into the selection; false when too many. */
static bool add_select(struct common *c, char *v)
{
    char *save = NULL, *p;

    for (p = strtok_r(v, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (c->n_select == MAX_SELECT)
            return false;
        c->select[c->n_select++] = p;
    }
    return true;
}

/* A byte or record limit: a whole number from 1 to 2^40. */
static bool parse_size(const char *s, size_t *out)
{
    uint64_t v;

    if (stint_number_u64(NULL, s, 1, (uint64_t)1 << 40, &v, NULL) != STINT_OK)
        return false;
    *out = (size_t)v;
    return true;
}

/* A wait in seconds: more than 0, at most a day. */
static bool parse_seconds(const char *s, double *out)
{
    double v;

    if (stint_number_double(NULL, s, 0, 86400, &v, NULL) != STINT_OK || !(v > 0))
        return false;
    *out = v;
    return true;
}

/* Options both modes share; returns 1 when taken (and *i advanced), 0 when not ours, -1 bad. */
static int common_option(struct common *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    char *v = *i + 1 < argc ? argv[*i + 1] : NULL;

    if (strcmp(a, "--strict") == 0) {
        c->strict = true;
        return 1;
    }
    if (strcmp(a, "--json") == 0) {
        c->json = true;
        return 1;
    }
    if (strcmp(a, "--case") == 0 || strcmp(a, "--junit") == 0) {
        if (!v) {
            fprintf(stderr, "stint-conformance: %s needs a value\n", a);
            return -1;
        }
        (*i)++;
        if (a[2] == 'j')
            c->junit = v;
        else if (!add_select(c, v)) {
            fprintf(stderr, "stint-conformance: too many --case\n");
            return -1;
        }
        return 1;
    }
    return 0;
}

static bool check_selection(const struct common *c,
                            const struct stint_conf_case_info *(*info)(size_t), size_t n)
{
    size_t i, j;

    if (c->json && c->junit) {
        fprintf(stderr, "stint-conformance: --json and --junit exclude each other\n");
        return false;
    }
    for (i = 0; i < c->n_select; i++) {
        for (j = 0; j < n; j++)
            if (strcasecmp(info(j)->id, c->select[i]) == 0)
                break;
        if (j == n) {
            fprintf(stderr, "stint-conformance: no case %s (see --list)\n", c->select[i]);
            return false;
        }
    }
    return true;
}

static int finish(const struct common *c, struct stint_conf_report *rep, const char *suite)
{
    int status;

    if (c->json) {
        stint_conf_report_json(rep, stdout);
    } else {
        stint_conf_report_table(rep, stdout);
        if (c->junit && stint_conf_report_junit(rep, suite, c->junit) != STINT_OK) {
            fprintf(stderr, "stint-conformance: cannot write %s\n", c->junit);
            stint_conf_report_free(rep);
            return 2;
        }
    }
    status = stint_conf_report_status(rep, c->strict);
    stint_conf_report_free(rep);
    return status;
}

static int cmd_server(int argc, char **argv)
{
    struct stint_conf_server_opts so;
    struct common c;
    struct stint_conf_report rep = {0};
    const char *url = NULL, *ca = NULL;
    char msg[300];
    size_t i;
    int a, status = 2;

    memset(&so, 0, sizeof(so));
    memset(&c, 0, sizeof(c));
    so.max_body = STINT_CONF_DEFAULT_MAX_BODY;
    so.max_decoded = STINT_CONF_DEFAULT_MAX_DECODED;
    so.max_records = STINT_CONF_DEFAULT_MAX_RECORDS;
    for (a = 2; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        int r = common_option(&c, argc, argv, &a);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (!v) {
            fprintf(stderr, "stint-conformance: %s needs a value (or is unknown)\n", o);
            usage(stderr);
            return 2;
        }
        a++;
        if (strcmp(o, "--url") == 0)
            url = v;
        else if (strcmp(o, "--token") == 0)
            so.token = v;
        else if (strcmp(o, "--token-b") == 0)
            so.token_b = v;
        else if (strcmp(o, "--ca-file") == 0)
            ca = v;
        else if (strcmp(o, "--throttle-cmd") == 0)
            so.throttle_cmd = v;
        else if (strcmp(o, "--unthrottle-cmd") == 0)
            so.unthrottle_cmd = v;
        else if (strcmp(o, "--max-body") == 0 && parse_size(v, &so.max_body))
            continue;
        else if (strcmp(o, "--max-decoded") == 0 && parse_size(v, &so.max_decoded))
            continue;
        else if (strcmp(o, "--max-records") == 0 && parse_size(v, &so.max_records))
            continue;
        else {
            fprintf(stderr, "stint-conformance: unknown option or bad value: %s %s\n", o, v);
            usage(stderr);
            return 2;
        }
    }
    if (!url || !so.token || !so.token_b) {
        fprintf(stderr, "stint-conformance: server needs --url, --token and --token-b\n");
        usage(stderr);
        return 2;
    }
    if (strcmp(so.token, so.token_b) == 0) {
        fprintf(stderr, "stint-conformance: --token and --token-b must be of two accounts\n");
        return 2;
    }
    if (!check_selection(&c, stint_conf_server_info, stint_conf_server_count()))
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (stint_conf_http_create(url, ca, &so.http, msg, sizeof(msg)) != STINT_OK) {
        fprintf(stderr, "stint-conformance: %s\n", msg);
        goto cleanup;
    }
    for (i = 0; i < stint_conf_server_count(); i++) {
        struct stint_conf_outcome out;
        if (!selected(&c, stint_conf_server_info(i)->id))
            continue;
        stint_conf_server_run(&so, i, &out);
        if (stint_conf_report_add(&rep, &out) != STINT_OK) {
            fprintf(stderr, "stint-conformance: out of memory\n");
            goto cleanup;
        }
    }
    status = finish(&c, &rep, "stint-conformance.server");
cleanup:
    stint_conf_report_free(&rep);
    stint_conf_http_destroy(so.http);
    curl_global_cleanup();
    return status;
}

static int cmd_client(int argc, char **argv)
{
    struct stint_conf_client_opts co;
    struct common c;
    struct stint_conf_report all = {0}, rep = {0};
    char msg[300];
    size_t i;
    int a, status = 2;

    memset(&co, 0, sizeof(co));
    memset(&c, 0, sizeof(c));
    for (a = 2; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        int r = common_option(&c, argc, argv, &a);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        if (strcmp(o, "--insecure-http") == 0) {
            co.insecure_http = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "stint-conformance: %s needs a value (or is unknown)\n", o);
            usage(stderr);
            return 2;
        }
        a++;
        if (strcmp(o, "--listen") == 0)
            co.listen = v;
        else if (strcmp(o, "--tls-cert") == 0)
            co.tls_cert = v;
        else if (strcmp(o, "--tls-key") == 0)
            co.tls_key = v;
        else if (strcmp(o, "--port-file") == 0)
            co.port_file = v;
        else if (strcmp(o, "--token") == 0)
            co.token = v;
        else if (strcmp(o, "--timeout") == 0 && parse_seconds(v, &co.timeout_s))
            continue;
        else if (strcmp(o, "--quiet") == 0 && parse_seconds(v, &co.quiet_s))
            continue;
        else {
            fprintf(stderr, "stint-conformance: unknown option or bad value: %s %s\n", o, v);
            usage(stderr);
            return 2;
        }
    }
    if (!co.listen) {
        fprintf(stderr, "stint-conformance: client needs --listen\n");
        usage(stderr);
        return 2;
    }
    if (!check_selection(&c, stint_conf_client_info, stint_conf_client_count()))
        return 2;
    if (stint_conf_client_run(&co, &all, msg, sizeof(msg)) != STINT_OK) {
        fprintf(stderr, "stint-conformance: %s\n", msg);
        goto cleanup;
    }
    for (i = 0; i < all.n; i++)
        if (selected(&c, all.items[i].info->id) &&
            stint_conf_report_add(&rep, &all.items[i]) != STINT_OK)
            goto cleanup;
    status = finish(&c, &rep, "stint-conformance.client");
cleanup:
    stint_conf_report_free(&all);
    stint_conf_report_free(&rep);
    return status;
}

static int cmd_list(const char *which)
{
    const struct stint_conf_case_info *list[256];
    size_t n = 0, i;

    if (!which || strcmp(which, "server") == 0)
        for (i = 0; i < stint_conf_server_count() && n < 256; i++)
            list[n++] = stint_conf_server_info(i);
    if (!which || strcmp(which, "client") == 0)
        for (i = 0; i < stint_conf_client_count() && n < 256; i++)
            list[n++] = stint_conf_client_info(i);
    if (n == 0) {
        usage(stderr);
        return 2;
    }
    stint_conf_list(list, n, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "server") == 0)
        return cmd_server(argc, argv);
    if (strcmp(argv[1], "client") == 0)
        return cmd_client(argc, argv);
    if (strcmp(argv[1], "--list") == 0 || strcmp(argv[1], "list") == 0)
        return cmd_list(argc > 2 ? argv[2] : NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
