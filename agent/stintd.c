/* stintd.c — the Stint agent daemon's main: flags, config, logging, signals. Wiring only: the
 * work is in daemon.c (the loop) and the modules it opens.
 *
 * Settings come from, in order: the defaults (XDG paths), the config file (--config FILE, else
 * $XDG_CONFIG_HOME/stint/agent.ini when it exists), then the flags, whatever their order on the
 * command line, so flags always override the file. Every config key has a flag: [section] key_name
 * is --key-name VALUE ([journal] path is --journal), and --set SECTION.KEY=VALUE reaches any key.
 * SIGHUP repeats the same steps.
 *
 * Logs go to stderr, one line each. Under systemd (JOURNAL_STREAM set) lines carry the "<N>"
 * priority prefix journald understands; otherwise a UTC timestamp and the level.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "version.h"
#include "common/log.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG 2

struct setting {
    const char *section, *key, *value;
    char *owned; /* --set: the copy the three point into */
};

struct cli {
    const char *config_path; /* --config; NULL: the default, if it exists */
    struct setting *settings;
    size_t n_settings;
    int verbose;
};

/* stderr, with a UTC timestamp and the level; journald's priority prefix under systemd */
static struct stint_log_stderr log_to = {.prog = "stintd", .timestamps = true};

static void flag_name(const char *section, const char *key, char *out, size_t cap)
{
    size_t i;

    if (strcmp(section, "journal") == 0 && strcmp(key, "path") == 0) {
        snprintf(out, cap, "journal");
        return;
    }
    snprintf(out, cap, "%s", key);
    for (i = 0; out[i]; i++)
        if (out[i] == '_')
            out[i] = '-';
}

static void help(void)
{
    struct stint_config_key_info ki;
    char flag[64];
    size_t i;

    printf(
        "NAME\n"
        "    stintd - the Stint activity agent: records which application is in use, journals it,\n"
        "    and delivers it to a Stint server, offline-first\n"
        "\n"
        "SYNOPSIS\n"
        "    stintd [--config FILE] [-v]... [--SETTING VALUE]... [--set SECTION.KEY=VALUE]...\n"
        "\n"
        "DESCRIPTION\n"
        "    stintd watches what is in focus (the Wayland, GNOME or X11 window, or JSON-lines\n"
        "    events), turns it into records (app, path, title, URL, start, end; idle and private\n"
        "    spans), keeps them in a\n"
        "    crash-proof journal, and sends them over HTTPS when the server can be reached. "
        "stintctl\n"
        "    talks to it through the control socket. Titles and the token are never logged.\n"
        "\n"
        "    Settings come from the defaults, then the config file, then the flags: a flag always\n"
        "    overrides the file. Durations take ms, s, m, h or d; sizes B, K, M or G.\n"
        "\n"
        "OPTIONS\n"
        "    --config FILE     the config file (default $XDG_CONFIG_HOME/stint/agent.ini when it\n"
        "                      exists; see packaging/agent.ini.example)\n"
        "    -v                more log output (repeat for debug)\n"
        "    --set S.K=VALUE   any config key, e.g. --set tracker.idle_after=5m\n"
        "    --version         print the version\n"
        "    -h, --help        this text\n"
        "\n"
        "SETTINGS (each also a key of the config file)\n");
    /* from config.c's key table, as are the defaults themselves, packaging/agent.ini.example
     * and spec/AGENT.md's table (tests/integration/defaults_agree.py compares them) */
    for (i = 0; stint_config_key_info(i, &ki); i++) {
        flag_name(ki.section, ki.name, flag, sizeof(flag));
        printf("    --%s %s\n", flag, ki.arg);
        printf("        [%s] %s: %s (default: %s)\n", ki.section, ki.name, ki.help,
               ki.def ? (ki.def[0] ? ki.def : "empty") : ki.def_doc);
    }
    printf(
        "\n"
        "SIGNALS\n"
        "    SIGTERM, SIGINT   stop cleanly within 2 s: the open record is saved, an in-flight "
        "request\n"
        "                      abandoned (its records stay journaled and are sent again), exit 0\n"
        "    SIGHUP            read the config again; the token and [sender] apply at once\n"
        "\n"
        "EXIT STATUS\n"
        "    0 clean stop; 1 a runtime error (journal held by another stintd, no X server, ...);\n"
        "    2 a usage or config error (the message names file, line and key)\n"
        "\n"
        "FILES\n"
        "    $XDG_CONFIG_HOME/stint/agent.ini   config;  $XDG_CONFIG_HOME/stint/token   the token\n"
        "    $XDG_STATE_HOME/stint/journal      journal; $XDG_RUNTIME_DIR/stint/control control "
        "socket\n"
        "\n"
        "EXAMPLES\n"
        "    stintd --server https://stint.example.com --token-file ~/.config/stint/token\n"
        "    stintd --source jsonl:/var/log/focus.jsonl --journal /tmp/j --server ''\n"
        "\n"
        "SEE ALSO\n"
        "    stintctl(1), packaging/stintd.service, README.md\n");
}

/* Finds the config key a flag names: "--idle-after" -> tracker.idle_after. */
static bool find_flag(const char *flag, const char **section, const char **key)
{
    char name[64];
    size_t i;

    for (i = 0; stint_config_key(i, section, key); i++) {
        flag_name(*section, *key, name, sizeof(name));
        if (strcmp(name, flag) == 0)
            return true;
    }
    return false;
}

/* Defaults, then the file, then the flags, then the checks across keys. */
static enum stint_err load_config(const struct cli *cli, struct stint_config *c,
                                  struct stint_error *e)
{
    char def[STINT_CONFIG_PATH_MAX];
    const char *path = cli->config_path;
    enum stint_err err;
    size_t i;

    err = stint_config_defaults(c, e);
    if (err != STINT_OK)
        return err;
    if (!path && stint_config_default_path(def, sizeof(def)) && access(def, F_OK) == 0)
        path = def;
    if (path) {
        err = stint_config_load(c, path, e);
        if (err != STINT_OK)
            return err;
    }
    for (i = 0; i < cli->n_settings; i++) {
        err = stint_config_set(c, cli->settings[i].section, cli->settings[i].key,
                               cli->settings[i].value, "command line", e);
        if (err != STINT_OK)
            return err;
    }
    err = stint_config_finish(c, e);
    if (err != STINT_OK)
        return err;
    if (cli->verbose) {
        int l = (int)c->log_level + cli->verbose;
        c->log_level = l > STINT_LOG_DEBUG ? STINT_LOG_DEBUG : (enum stint_log_level)l;
    }
    return STINT_OK;
}

static enum stint_err reload_config(void *ctx, struct stint_config *out, struct stint_error *e)
{
    return load_config(ctx, out, e);
}

static int parse_args(int argc, char **argv, struct cli *cli)
{
    int i;

    cli->settings = calloc((size_t)argc + 1, sizeof(*cli->settings));
    if (!cli->settings)
        return EXIT_RUNTIME;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *value = NULL, *eq;
        char name[128];
        const char *section, *key;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help();
            exit(0);
        }
        if (strcmp(a, "--version") == 0) {
            printf("stintd %s\n", stint_agent_version());
            exit(0);
        }
        if (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
            cli->verbose += (int)strlen(a + 1);
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "stintd: unexpected argument \"%s\" (try --help)\n", a);
            return EXIT_CONFIG;
        }
        eq = strchr(a, '=');
        if ((size_t)(eq ? eq - a - 2 : (ptrdiff_t)strlen(a + 2)) >= sizeof(name)) {
            fprintf(stderr, "stintd: unknown option %s (try --help)\n", a);
            return EXIT_CONFIG;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - a - 2 : (ptrdiff_t)strlen(a + 2)),
                 a + 2);
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "stintd: %s needs a value (try --help)\n", a);
            return EXIT_CONFIG;
        }
        if (strcmp(name, "config") == 0) {
            cli->config_path = value;
        } else if (strcmp(name, "set") == 0) {
            /* SECTION.KEY=VALUE: split into a setting whose strings live in argv */
            const char *dot = strchr(value, '.'), *veq = strchr(value, '=');
            char *copy;
            if (!dot || !veq || dot > veq) {
                fprintf(stderr, "stintd: --set wants SECTION.KEY=VALUE, not \"%s\"\n", value);
                return EXIT_CONFIG;
            }
            copy = strdup(value);
            if (!copy)
                return EXIT_RUNTIME;
            copy[dot - value] = '\0';
            copy[veq - value] = '\0';
            cli->settings[cli->n_settings++] =
                (struct setting){copy, copy + (dot - value) + 1, copy + (veq - value) + 1, copy};
        } else if (find_flag(name, &section, &key)) {
            cli->settings[cli->n_settings++] = (struct setting){section, key, value, NULL};
        } else {
            fprintf(stderr, "stintd: unknown option --%s (try --help)\n", name);
            return EXIT_CONFIG;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    struct stint_config *cfg = NULL;
    struct stint_daemon *d = NULL;
    struct stint_daemon_opts opts;
    struct stint_log lg = {0};
    struct stint_error e;
    sigset_t set;
    int rc = 0;
    size_t i;

    /* Two malloc arenas, not one per thread (eight per core): the agent's threads (tracker,
     * sender, the journal's, LevelDB's) allocate little, and each arena keeps what it touched.
     * Draining a million-record backlog peaked 2 MiB lower, at no measured cost in CPU. */
    (void)mallopt(M_ARENA_MAX, 2);

    /* Before any thread exists: every thread inherits the mask, and only the loop's signalfd
     * takes these. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* everything stintd makes (journal folder and files, socket folder) is the user's alone */
    umask(077);
    log_to.journald = getenv("JOURNAL_STREAM") != NULL;
    setvbuf(stderr, NULL, _IOLBF, 0);

    rc = parse_args(argc, argv, &cli);
    if (rc != 0)
        goto cleanup;
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        rc = EXIT_RUNTIME;
        goto cleanup;
    }
    if (load_config(&cli, cfg, &e) != STINT_OK) {
        fprintf(stderr, "stintd: %s\n", e.msg);
        rc = EXIT_CONFIG;
        goto cleanup;
    }
    if (stint_daemon_preflight(cfg, &e) != STINT_OK) {
        fprintf(stderr, "stintd: %s\n", e.msg);
        rc = EXIT_CONFIG;
        goto cleanup;
    }
    memset(&opts, 0, sizeof(opts));
    opts.config = cfg;
    opts.reload = reload_config;
    opts.reload_ctx = &cli;
    lg.fn = stint_log_stderr;
    lg.ctx = &log_to;
    lg.level = cfg->log_level;
    opts.log = &lg;
    if (stint_daemon_create(&opts, &d, &e) != STINT_OK) {
        stint_log_stderr(&log_to, STINT_LOG_ERROR, e.msg);
        rc = EXIT_RUNTIME;
        goto cleanup;
    }
    if (stint_daemon_run(d, &e) != STINT_OK) {
        stint_log_stderr(&log_to, STINT_LOG_ERROR, e.msg);
        rc = EXIT_RUNTIME;
    }
    stint_daemon_destroy(d);
cleanup:
    for (i = 0; i < cli.n_settings; i++)
        free(cli.settings[i].owned);
    free(cli.settings);
    free(cfg);
    return rc;
}
