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

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || !end || *end)
        return false;
    *out = (uint64_t)v;
    return true;
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

static int cmd_serve(int argc, char **argv)
{
    const char *listen = NULL, *cert = NULL, *key = NULL, *data = NULL, *tokens_path = NULL;
    const char *port_file = NULL, *admin = NULL, *admin_tokens_path = NULL, *ingest = NULL;
    const char *faults_spec[MAX_FAULTS];
    bool pg = false;
    size_t n_faults = 0, i;
    uint64_t seed = 1, max_body = 0, max_decoded = 0, max_records = 0, timeout = 0;
    uint64_t head_timeout = STINT_SERVER_HEAD_TIMEOUT_S, min_rate = STINT_SERVER_MIN_RATE;
    uint64_t max_connections = STINT_SERVER_MAX_CONNECTIONS, per_ip = STINT_SERVER_PER_IP_LIMIT;
    bool insecure = false, ack_only = false;
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
    for (i = 2; i < (size_t)argc; i++) {
        const char *a = argv[i], *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
        bool takes = true;

        if (strcmp(a, "--listen") == 0)
            listen = v;
        else if (strcmp(a, "--tls-cert") == 0)
            cert = v;
        else if (strcmp(a, "--tls-key") == 0)
            key = v;
        else if (strcmp(a, "--data") == 0 || strcmp(a, "--store") == 0)
            data = v;
        else if (strcmp(a, "--store-ingest") == 0)
            ingest = v;
        else if (strcmp(a, "--tokens") == 0)
            tokens_path = v;
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--admin") == 0)
            admin = v;
        else if (strcmp(a, "--admin-tokens") == 0)
            admin_tokens_path = v;
        else if (strcmp(a, "--head-timeout") == 0) {
            if (!parse_u64(v, &head_timeout) || head_timeout == 0 || head_timeout > 3600)
                goto bad_value;
        } else if (strcmp(a, "--min-rate") == 0) {
            if (!parse_u64(v, &min_rate) || min_rate > (1u << 30))
                goto bad_value;
        } else if (strcmp(a, "--max-connections") == 0) {
            if (!parse_u64(v, &max_connections) || max_connections < 64 || max_connections > 100000)
                goto bad_value;
        } else if (strcmp(a, "--per-ip-limit") == 0) {
            if (!parse_u64(v, &per_ip) || per_ip > 100000)
                goto bad_value;
        } else if (strcmp(a, "--fault") == 0) {
            if (n_faults == MAX_FAULTS) {
                fprintf(stderr, "stint-collector: at most %d --fault\n", MAX_FAULTS);
                return 2;
            }
            if (v)
                faults_spec[n_faults++] = v;
        } else if (strcmp(a, "--fault-seed") == 0) {
            if (!parse_u64(v, &seed))
                goto bad_value;
        } else if (strcmp(a, "--max-body") == 0) {
            if (!parse_u64(v, &max_body) || max_body == 0)
                goto bad_value;
        } else if (strcmp(a, "--max-decoded") == 0) {
            if (!parse_u64(v, &max_decoded) || max_decoded == 0)
                goto bad_value;
        } else if (strcmp(a, "--max-records") == 0) {
            if (!parse_u64(v, &max_records) || max_records == 0)
                goto bad_value;
        } else if (strcmp(a, "--timeout") == 0) {
            if (!parse_u64(v, &timeout) || timeout == 0 || timeout > 3600)
                goto bad_value;
        } else if (strcmp(a, "--insecure-http") == 0) {
            insecure = true;
            takes = false;
        } else if (strcmp(a, "--ack-only") == 0) {
            ack_only = true;
            takes = false;
        } else {
            fprintf(stderr, "stint-collector: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (takes) {
            if (!v) {
                fprintf(stderr, "stint-collector: %s needs a value\n", a);
                return 2;
            }
            i++;
        }
        continue;
    bad_value:
        fprintf(stderr, "stint-collector: bad value for %s: %s\n", a, v ? v : "(none)");
        return 2;
    }
    if (!listen || !data || !tokens_path || (!insecure && (!cert || !key))) {
        fprintf(stderr, "stint-collector: serve needs --listen, --data (or --store), --tokens and "
                        "--tls-cert/--tls-key (or --insecure-http on loopback)\n");
        usage(stderr);
        return 2;
    }
    if (admin && !admin_tokens_path) {
        fprintf(stderr, "stint-collector: --admin needs --admin-tokens FILE (one `TOKEN NAME` "
                        "a line, mode 0600): the admin endpoint has tokens of its own\n");
        return 2;
    }
    if (!insecure) {
        cert_pem = read_file(cert);
        key_pem = read_file(key);
        if (!cert_pem || !key_pem) {
            fprintf(stderr, "stint-collector: cannot read %s\n", !cert_pem ? cert : key);
            goto cleanup;
        }
    }
    if (stint_tokens_load(tokens_path, &tokens, &err) != STINT_OK)
        goto fail;
    if (admin_tokens_path && stint_tokens_load(admin_tokens_path, &admin_tokens, &err) != STINT_OK)
        goto fail;
    if (stint_faults_create(seed, &faults) != STINT_OK)
        goto cleanup;
    for (i = 0; i < n_faults; i++)
        if (stint_faults_add(faults, faults_spec[i], &err) != STINT_OK)
            goto fail;
    pg = stint_store_is_pg(data);
    if (ingest && !pg) {
        fprintf(stderr, "stint-collector: --store-ingest is for a postgresql:// store\n");
        goto cleanup;
    }
    if (!pg && check_data_dir(data) != 0)
        goto cleanup;
    raise_fd_limit((unsigned)max_connections);
    memset(&so, 0, sizeof(so));
    so.dir = data;
    so.sync = true;
    so.ingest = ingest;
    if (stint_store_open(&so, &store, &err) != STINT_OK)
        goto fail;
    memset(&ho, 0, sizeof(ho));
    ho.store = store;
    ho.tokens = tokens;
    ho.max_body = (size_t)max_body;
    ho.max_decoded = (size_t)max_decoded;
    ho.max_records = (size_t)max_records;
    ho.ack_only = ack_only;
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
    if (!pg && stint_control_start(data, store, handler, faults, &control, &err) != STINT_OK) {
        if (err.code != STINT_EINVAL)
            goto fail;
        /* a --data path too long for a Unix socket: serve anyway, say what is missing */
        fprintf(stderr,
                "stint-collector: warning: %s; dump and stats will not work while serving\n",
                err.msg);
        stint_error_clear(&err);
    }
    memset(&vo, 0, sizeof(vo));
    vo.listen = listen;
    vo.cert_pem = cert_pem;
    vo.key_pem = key_pem;
    vo.insecure_http = insecure;
    vo.admin_listen = admin;
    vo.handler = handler;
    vo.faults = faults;
    vo.store = store;
    vo.max_body = ho.max_body ? ho.max_body : STINT_COLLECTOR_MAX_BODY;
    vo.timeout_s = (unsigned)timeout;
    vo.head_timeout_s = (unsigned)head_timeout;
    vo.min_rate = (unsigned)min_rate;
    vo.max_connections = (unsigned)max_connections;
    vo.per_ip_limit = (unsigned)per_ip;
    vo.admin_tokens = admin_tokens;
    if (stint_server_start(&vo, &server, &err) != STINT_OK)
        goto fail;
    if (port_file && write_port_file(port_file, stint_server_port(server)) != 0) {
        fprintf(stderr, "stint-collector: cannot write %s: %s\n", port_file, strerror(errno));
        goto cleanup;
    }
    printf("stint-collector: serving %s on %s, port %u%s%s\n", insecure ? "http" : "https", listen,
           (unsigned)stint_server_port(server), ack_only ? " (ack-only: storing nothing)" : "",
           n_faults ? " with faults" : "");
    if (admin)
        printf("stint-collector: admin endpoint on %s port %u\n", admin,
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
            if (!parse_u64(v, &since)) {
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
