/* main.c — stint-collector's command line: serve, dump, stats, migrate. Wiring only; the work is in
 * the core library (handler, store, tokens, faults, server, control). */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "faults.h"
#include "handler.h"
#include "server.h"
#include "report_cmd.h"
#include "store.h"
#include "tokens.h"
#include "common/number.h"

#define MAX_FAULTS STINT_FAULT_RULES_MAX

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stint-collector serve --listen HOST:PORT --tls-cert FILE --tls-key FILE\n"
            "                             (--data DIR | --store DIR|URL) --tokens FILE\n"
            "                             [--port-file FILE] [--store-ingest unnest|values|copy]\n"
            "                             [--fault SPEC]... [--fault-seed N] [--admin HOST:PORT]\n"
            "                             [--insecure-http] [--ack-only] [--max-body BYTES]\n"
            "                             [--max-decoded BYTES] [--max-records N]\n"
            "                             [--timeout SECONDS] [--head-timeout SECONDS]\n"
            "                             [--min-rate BYTES-PER-SECOND] [--max-connections N]\n"
            "                             [--per-ip-limit N] [--admin-tokens FILE]\n"
            "       stint-collector dump (--data DIR | --store DIR|URL) --account NAME\n"
            "                            [--since SEQ]\n"
            "       stint-collector stats (--data DIR | --store DIR|URL)\n"
            "       stint-collector migrate --store URL\n"
            "       stint-collector report (--data DIR | --store DIR|URL) --account NAME\n"
            "                              [--day DATE | --week |\n"
            "                              --from DATE --to DATE] [--by app|site|title|hour]\n"
            "                              [--json | --csv | --html FILE]\n"
            "       stint-collector --version\n"
            "--store takes a LevelDB folder (as --data) or a postgresql://USER@HOST/DB URL\n"
            "(PostgreSQL, shared by several collectors; make its schema with migrate first).\n"
            "Fault SPECs and the protocol: spec/PROTOCOL.md, \"Collector\"; storage:\n"
            "spec/COLLECTOR.md.\n");
}

/* Reads a whole (small) file into a NUL-terminated string the caller frees. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;

    if (!f)
        return NULL;
    for (;;) {
        size_t r;
        if (cap - len < 4096) {
            char *nb;
            if (cap > (1u << 24))
                goto fail;
            nb = realloc(buf, cap + 65536);
            if (!nb)
                goto fail;
            buf = nb;
            cap += 65536;
        }
        r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (r == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    buf[len] = '\0';
    fclose(f);
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

static int write_port_file(const char *path, uint16_t port)
{
    char tmp[4096];
    FILE *f;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -1;
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u\n", (unsigned)port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* The data folder: created 0700 when missing; an existing one that group or others may read is
 * refused (the records are people's activity). 0 when usable. */
static int check_data_dir(const char *data)
{
    struct stat st;

    if (mkdir(data, 0700) == 0)
        return 0;
    if (errno != EEXIST) {
        fprintf(stderr, "stint-collector: cannot create %s: %s\n", data, strerror(errno));
        return -1;
    }
    if (stat(data, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "stint-collector: --data %s is not a folder\n", data);
        return -1;
    }
    if (st.st_mode & 077) {
        fprintf(stderr,
                "stint-collector: --data %s has mode %04o: group or others may read the stored "
                "records; run `chmod 700 %s` (the collector creates its folder 0700, its files "
                "0600)\n",
                data, (unsigned)(st.st_mode & 07777), data);
        return -1;
    }
    return 0;
}

/* One descriptor per connection, plus LevelDB's files: raise the soft limit toward the hard one
 * so that --max-connections can be reached. */
static void raise_fd_limit(unsigned max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        fprintf(stderr,
                "stint-collector: warning: only %llu file descriptors (--max-connections %u "
                "wants %llu)\n",
                (unsigned long long)rl.rlim_cur, max_connections, (unsigned long long)want);
}

/* What `serve` was asked for; the defaults are set by parse_serve. */
struct serve_args {
    const char *listen, *cert, *key, *data, *tokens_path, *port_file, *admin, *admin_tokens_path;
    const char *ingest;
    const char *faults_spec[MAX_FAULTS];
    size_t n_faults;
    uint64_t seed, max_body, max_decoded, max_records, timeout, head_timeout, min_rate;
    uint64_t max_connections, per_ip;
    bool insecure, ack_only;
};

/* Reads serve's options into *a: 0 when they make sense, else 2 (the exit status) with the
 * reason on stderr. Every option but the two switches takes a value. */
static int parse_serve(int argc, char **argv, struct serve_args *a)
{
    const struct {
        const char *name;
        const char **to;
    } strs[] = {
        {"--listen", &a->listen},      {"--tls-cert", &a->cert},
        {"--tls-key", &a->key},        {"--data", &a->data},
        {"--store", &a->data},         {"--store-ingest", &a->ingest},
        {"--tokens", &a->tokens_path}, {"--port-file", &a->port_file},
        {"--admin", &a->admin},        {"--admin-tokens", &a->admin_tokens_path},
    };
    const struct {
        const char *name;
        uint64_t *to, min, max;
    } nums[] = {
        {"--head-timeout", &a->head_timeout, 1, 3600},
        {"--min-rate", &a->min_rate, 0, 1u << 30},
        {"--max-connections", &a->max_connections, 64, 100000},
        {"--per-ip-limit", &a->per_ip, 0, 100000},
        {"--fault-seed", &a->seed, 0, UINT64_MAX},
        {"--max-body", &a->max_body, 1, UINT64_MAX},
        {"--max-decoded", &a->max_decoded, 1, UINT64_MAX},
        {"--max-records", &a->max_records, 1, UINT64_MAX},
        {"--timeout", &a->timeout, 1, 3600},
    };
    size_t k;

    memset(a, 0, sizeof(*a));
    a->seed = 1;
    a->head_timeout = STINT_SERVER_HEAD_TIMEOUT_S;
    a->min_rate = STINT_SERVER_MIN_RATE;
    a->max_connections = STINT_SERVER_MAX_CONNECTIONS;
    a->per_ip = STINT_SERVER_PER_IP_LIMIT;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "--insecure-http") == 0 || strcmp(o, "--ack-only") == 0) {
            *(o[2] == 'i' ? &a->insecure : &a->ack_only) = true;
            continue;
        }
        for (k = 0; k < sizeof(strs) / sizeof(strs[0]) && strcmp(o, strs[k].name) != 0; k++)
            ;
        if (k < sizeof(strs) / sizeof(strs[0])) {
            *strs[k].to = v;
        } else if (strcmp(o, "--fault") == 0) {
            if (a->n_faults == MAX_FAULTS) {
                fprintf(stderr, "stint-collector: at most %d --fault\n", MAX_FAULTS);
                return 2;
            }
            if (v)
                a->faults_spec[a->n_faults++] = v;
        } else {
            for (k = 0; k < sizeof(nums) / sizeof(nums[0]) && strcmp(o, nums[k].name) != 0; k++)
                ;
            if (k == sizeof(nums) / sizeof(nums[0])) {
                fprintf(stderr, "stint-collector: unknown option %s\n", o);
                usage(stderr);
                return 2;
            }
            if (stint_number_u64(o, v, nums[k].min, nums[k].max, nums[k].to, NULL) != STINT_OK) {
                fprintf(stderr, "stint-collector: bad value for %s: %s\n", o, v ? v : "(none)");
                return 2;
            }
        }
        if (!v) {
            fprintf(stderr, "stint-collector: %s needs a value\n", o);
            return 2;
        }
        i++;
    }
    if (!a->listen || !a->data || !a->tokens_path || (!a->insecure && (!a->cert || !a->key))) {
        fprintf(stderr, "stint-collector: serve needs --listen, --data (or --store), --tokens and "
                        "--tls-cert/--tls-key (or --insecure-http on loopback)\n");
        usage(stderr);
        return 2;
    }
    if (a->admin && !a->admin_tokens_path) {
        fprintf(stderr, "stint-collector: --admin needs --admin-tokens FILE (one `TOKEN NAME` "
                        "a line, mode 0600): the admin endpoint has tokens of its own\n");
        return 2;
    }
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    struct serve_args a;
    bool pg = false;
    size_t i;
    char *cert_pem = NULL, *key_pem = NULL;
    struct stint_tokens *tokens = NULL, *admin_tokens = NULL;
    struct stint_store *store = NULL;
    struct stint_faults *faults = NULL;
    struct stint_handler *handler = NULL;
    struct stint_server *server = NULL;
    struct stint_control *control = NULL;
    struct stint_error err;
    struct stint_store_opts so;
    struct stint_handler_opts ho;
    struct stint_server_opts vo;
    sigset_t sigs;
    int status = 1, sig = 0;

    stint_error_clear(&err);
    if (parse_serve(argc, argv, &a) != 0)
        return 2;
    if (!a.insecure) {
        cert_pem = read_file(a.cert);
        key_pem = read_file(a.key);
        if (!cert_pem || !key_pem) {
            fprintf(stderr, "stint-collector: cannot read %s\n", !cert_pem ? a.cert : a.key);
            goto cleanup;
        }
    }
    if (stint_tokens_load(a.tokens_path, &tokens, &err) != STINT_OK)
        goto fail;
    if (a.admin_tokens_path &&
        stint_tokens_load(a.admin_tokens_path, &admin_tokens, &err) != STINT_OK)
        goto fail;
    if (stint_faults_create(a.seed, &faults) != STINT_OK)
        goto cleanup;
    for (i = 0; i < a.n_faults; i++)
        if (stint_faults_add(faults, a.faults_spec[i], &err) != STINT_OK)
            goto fail;
    pg = stint_store_is_pg(a.data);
    if (a.ingest && !pg) {
        fprintf(stderr, "stint-collector: --store-ingest is for a postgresql:// store\n");
        goto cleanup;
    }
    if (!pg && check_data_dir(a.data) != 0)
        goto cleanup;
    raise_fd_limit((unsigned)a.max_connections);
    memset(&so, 0, sizeof(so));
    so.dir = a.data;
    so.sync = true;
    so.ingest = a.ingest;
    if (stint_store_open(&so, &store, &err) != STINT_OK)
        goto fail;
    memset(&ho, 0, sizeof(ho));
    ho.store = store;
    ho.tokens = tokens;
    ho.max_body = (size_t)a.max_body;
    ho.max_decoded = (size_t)a.max_decoded;
    ho.max_records = (size_t)a.max_records;
    ho.ack_only = a.ack_only;
    if (stint_handler_create(&ho, &handler) != STINT_OK)
        goto cleanup;

    /* Batches come and go in buffers of 100 KB and more; glibc would mmap and unmap each one
     * (page faults on every request, measured as a fifth of the server's time under load).
     * Keep such blocks in the heap instead. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);

    /* the signals this thread waits for are blocked before any other thread exists */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a file size limit (RLIMIT_FSIZE) is a failed write like a full disk, not a crash */
    signal(SIGXFSZ, SIG_IGN);

    /* PostgreSQL: dump and stats read the database themselves, there is no folder */
    if (!pg && stint_control_start(a.data, store, handler, faults, &control, &err) != STINT_OK) {
        if (err.code != STINT_EINVAL)
            goto fail;
        /* a --data path too long for a Unix socket: serve anyway, say what is missing */
        fprintf(stderr,
                "stint-collector: warning: %s; dump and stats will not work while serving\n",
                err.msg);
        stint_error_clear(&err);
    }
    memset(&vo, 0, sizeof(vo));
    vo.listen = a.listen;
    vo.cert_pem = cert_pem;
    vo.key_pem = key_pem;
    vo.insecure_http = a.insecure;
    vo.admin_listen = a.admin;
    vo.handler = handler;
    vo.faults = faults;
    vo.store = store;
    vo.max_body = ho.max_body ? ho.max_body : STINT_COLLECTOR_MAX_BODY;
    vo.timeout_s = (unsigned)a.timeout;
    vo.head_timeout_s = (unsigned)a.head_timeout;
    vo.min_rate = (unsigned)a.min_rate;
    vo.max_connections = (unsigned)a.max_connections;
    vo.per_ip_limit = (unsigned)a.per_ip;
    vo.admin_tokens = admin_tokens;
    if (stint_server_start(&vo, &server, &err) != STINT_OK)
        goto fail;
    if (a.port_file && write_port_file(a.port_file, stint_server_port(server)) != 0) {
        fprintf(stderr, "stint-collector: cannot write %s: %s\n", a.port_file, strerror(errno));
        goto cleanup;
    }
    printf("stint-collector: serving %s on %s, port %u%s%s\n", a.insecure ? "http" : "https",
           a.listen, (unsigned)stint_server_port(server),
           a.ack_only ? " (ack-only: storing nothing)" : "", a.n_faults ? " with faults" : "");
    if (a.admin)
        printf("stint-collector: admin endpoint on %s port %u\n", a.admin,
               (unsigned)stint_server_admin_port(server));
    fflush(stdout);
    sigwait(&sigs, &sig);
    status = 0;
    goto cleanup;
fail:
    fprintf(stderr, "stint-collector: %s\n", err.msg[0] ? err.msg : stint_strerror(err.code));
cleanup:
    stint_server_stop(server);
    stint_control_stop(control);
    stint_handler_destroy(handler);
    stint_store_close(store);
    stint_faults_destroy(faults);
    stint_tokens_destroy(tokens);
    stint_tokens_destroy(admin_tokens);
    free(cert_pem);
    if (key_pem) {
        memset(key_pem, 0, strlen(key_pem));
        free(key_pem);
    }
    return status;
}

/* dump and stats: ask the running server, else open the database. */
static int cmd_read(int argc, char **argv, bool dump)
{
    const char *data = NULL, *account = NULL;
    uint64_t since = 0;
    struct stint_store *store = NULL;
    struct stint_store_opts so;
    struct stint_error err;
    struct stint_buf out = {0};
    char line[256];
    enum stint_err rc;
    int i, status = 1;

    stint_error_clear(&err);
    for (i = 2; i < argc; i += 2) { /* every option takes a value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if ((strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--store") == 0) && v)
            data = v;
        else if (dump && strcmp(argv[i], "--account") == 0 && v)
            account = v;
        else if (dump && strcmp(argv[i], "--since") == 0 && v) {
            if (stint_number_u64("--since", v, 0, UINT64_MAX, &since, NULL) != STINT_OK) {
                fprintf(stderr, "stint-collector: bad --since %s\n", v);
                return 2;
            }
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!data || (dump && (!account || !stint_account_valid(account, strlen(account))))) {
        usage(stderr);
        return 2;
    }
    if (dump)
        snprintf(line, sizeof(line), "dump %s %" PRIu64, account, since);
    else
        snprintf(line, sizeof(line), "stats");
    /* LevelDB: one process at a time, so ask the server of that folder first */
    rc = stint_store_is_pg(data) ? STINT_EIO : stint_control_ask(data, line, stdout, &err);
    if (rc == STINT_OK)
        return 0;
    if (rc != STINT_EIO)
        goto fail;
    /* nobody serves this folder: read it ourselves */
    stint_error_clear(&err);
    memset(&so, 0, sizeof(so));
    so.dir = data;
    so.must_exist = true;
    if (stint_store_open(&so, &store, &err) != STINT_OK)
        goto fail;
    if (dump) {
        if (stint_control_dump(store, account, since, stdout, &err) != STINT_OK)
            goto fail;
    } else {
        if (stint_control_stats(store, NULL, NULL, &out, &err) != STINT_OK)
            goto fail;
        fwrite(out.data, 1, out.len, stdout);
    }
    status = 0;
    goto cleanup;
fail:
    fprintf(stderr, "stint-collector: %s\n", err.msg[0] ? err.msg : stint_strerror(err.code));
cleanup:
    stint_buf_free(&out);
    stint_store_close(store);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}

/* migrate --store URL: creates or upgrades the PostgreSQL schema (idempotent). */
static int cmd_migrate(int argc, char **argv)
{
    const char *url = NULL;
    struct stint_store *store = NULL;
    struct stint_store_opts so;
    struct stint_error err;

    stint_error_clear(&err);
    if (argc == 4 && strcmp(argv[2], "--store") == 0)
        url = argv[3];
    if (!url) {
        usage(stderr);
        return 2;
    }
    if (!stint_store_is_pg(url)) {
        fprintf(stderr, "stint-collector: migrate is for a postgresql:// store (a LevelDB "
                        "folder needs none)\n");
        return 2;
    }
    memset(&so, 0, sizeof(so));
    so.dir = url;
    so.migrate = true;
    if (stint_store_open(&so, &store, &err) != STINT_OK) {
        fprintf(stderr, "stint-collector: %s\n", err.msg[0] ? err.msg : stint_strerror(err.code));
        return 1;
    }
    stint_store_close(store);
    printf("stint-collector: schema is current\n");
    return 0;
}

int main(int argc, char **argv)
{
    /* every file the collector makes (LevelDB's, the control socket) is its user's alone */
    umask(077);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(argv[1], "dump") == 0)
        return cmd_read(argc, argv, true);
    if (strcmp(argv[1], "stats") == 0)
        return cmd_read(argc, argv, false);
    if (strcmp(argv[1], "report") == 0)
        return stint_collector_report(argc, argv);
    if (strcmp(argv[1], "migrate") == 0)
        return cmd_migrate(argc, argv);
    if (strcmp(argv[1], "--version") == 0) {
        printf("stint-collector %s\n", STINT_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
