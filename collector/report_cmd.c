/* report_cmd.c — `stint-collector report --data DIR --account A [--day D ...]`: what an agent
 * sent, as the user sees it with `stintctl report` (the same code: report/, spec/AGENT.md,
 * "Reports").
 *
 * Records are read with the store's own dump call (stint_store_dump), from the database
 * directly: a running server holds the folder's lock, so stop it or use `dump` through it and
 * `stintctl report --records -`.
 */
#include "report_cmd.h"

#include <stdio.h>
#include <string.h>

#include "report_cli.h"
#include "store.h"
#include "tokens.h"

static enum stint_err add_one(void *ctx, const struct stint_stored *st)
{
    return stint_report_add(ctx, &st->rec);
}

int stint_collector_report(int argc, char **argv)
{
    const char *prog = "stint-collector", *data = NULL, *account = NULL;
    struct stint_report_cli c;
    struct stint_report *r = NULL;
    struct stint_store *store = NULL;
    struct stint_store_opts so;
    struct stint_error err;
    int rc;

    memset(&c, 0, sizeof(c));
    for (int i = 2; i < argc; i++) {
        int t = stint_report_cli_arg(&c, argc, argv, &i, prog);
        if (t < 0) {
            return 2;
        }
        if (t > 0) {
            continue;
        }
        if ((strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--store") == 0) && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--account") == 0 && i + 1 < argc) {
            account = argv[++i];
        } else {
            fprintf(stderr,
                    "%s: report: unknown argument \"%.100s\"\nusage: %s report (--data DIR | "
                    "--store DIR|URL) "
                    "--account NAME " STINT_REPORT_CLI_USAGE "\n",
                    prog, argv[i], prog);
            return 2;
        }
    }
    if (!data || !account || !stint_account_valid(account, strlen(account))) {
        fprintf(stderr, "%s: report needs --data DIR (or --store DIR|URL) and --account NAME\n",
                prog);
        return 2;
    }
    rc = stint_report_cli_make(&c, prog, &r);
    if (rc != 0) {
        return rc;
    }
    stint_error_clear(&err);
    memset(&so, 0, sizeof(so));
    so.dir = data;
    so.must_exist = true;
    rc = 1;
    if (stint_store_open(&so, &store, &err) != STINT_OK) {
        const char *m = err.msg[0] ? err.msg : stint_strerror(err.code);
        fprintf(stderr, "%s: report: %s%s\n", prog, m,
                strstr(m, "lock") ? " (a running server holds the folder: stop it, or pipe "
                                    "`dump` into `stintctl report --records -`)"
                                  : "");
        goto cleanup;
    }
    if (stint_store_dump(store, account, 0, add_one, r, &err) != STINT_OK) {
        fprintf(stderr, "%s: report: %s\n", prog, err.msg[0] ? err.msg : stint_strerror(err.code));
        goto cleanup;
    }
    rc = stint_report_cli_print(&c, r, stdout);
cleanup:
    stint_store_close(store);
    stint_report_destroy(r);
    return rc;
}
