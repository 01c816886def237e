/* bench_sender.c — the sender draining a backlog over TLS on loopback (stint-send-test in a
 * process of its own, so its CPU time and peak RSS are its own; stint-collector as the server).
 *
 *   1. drain of an N-record backlog (default 1,000,000), protobuf + gzip, into the collector
 *      storing for real (LevelDB, de-dup), then into `--ack-only` (the agent's own ceiling):
 *      records/s, CPU seconds, peak RSS of the sender; median of 3 runs; the first storing run
 *      is checked with `dump`: every record exactly once;
 *   2. bytes on the wire per record (HTTP request header + body, as libcurl counts them; TLS
 *      framing not counted) for protobuf and JSON, gzip on and off, and the legacy payload (form
 *      and JSON), on a 100,000-record drain into --ack-only;
 *   3. the delay from the server's return to the first batch: the sender starts while nothing
 *      listens, the collector comes up on that port after 5 s (default backoff, 1 s base), median
 *      of 3 runs.
 *
 * usage: bench_sender STINT-SEND-TEST [RECORDS] */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sender_support.h"

struct result {
    double seconds, cpu;
    uint64_t records, bytes, body;
    long rss_kb, open_kb, drain_kb;
};

static const char *driver;
static struct sup_run R;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double field(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

/* Runs the driver to an empty journal; parses its result line. */
static int drain(const char *journal, int port, const char *encoding, const char *gzip_min,
                 const char *batch, struct result *res)
{
    char cmd[2048], line[2048];
    FILE *p;
    int ok = -1;

    snprintf(cmd, sizeof(cmd),
             "%s run --journal %s --url https://127.0.0.1:%d --ca %s --token %s --encoding %s "
             "--gzip-min %s --batch %s --until-empty --no-netwatch --timeout 900",
             driver, journal, port, R.cert, SUP_TOKEN, encoding, gzip_min, batch);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p)) {
        if (strstr(line, "records_sent=")) {
            res->seconds = field(line, "seconds=");
            res->cpu = field(line, "cpu=");
            res->records = (uint64_t)field(line, "records_sent=");
            res->bytes = (uint64_t)field(line, "bytes_sent=");
            res->body = (uint64_t)field(line, "body_bytes=");
            res->rss_kb = (long)field(line, "maxrss_kb=");
            res->open_kb = (long)field(line, "open_hwm_kb=");
            res->drain_kb = (long)field(line, "drain_rss_kb=");
            ok = 0;
        }
    }
    if (pclose(p) != 0)
        ok = -1;
    return ok;
}

static int copy_journal(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    return system(cmd) == 0 ? 0 : -1;
}

static int drain_table(const char *master, uint64_t n, bool ack_only, int runs)
{
    static const char *const ack[] = {"--ack-only", NULL};
    double rps[8], cpu[8], rss[8], open_rss[8], drain_rss[8];
    char journal[300], data[300];
    int i;

    for (i = 0; i < runs; i++) {
        struct sup_collector c;
        struct result res;
        memset(&res, 0, sizeof(res));
        snprintf(journal, sizeof(journal), "%s/j-run", R.base);
        snprintf(data, sizeof(data), "%s/data-%s-%d", R.base, ack_only ? "ack" : "store", i);
        if (copy_journal(master, journal) != 0 ||
            sup_collector_start(&c, &R, "127.0.0.1:0", data, ack_only ? ack : NULL, NULL) != 0)
            return -1;
        if (drain(journal, c.port, "pb", "1024", "1000", &res) != 0 || res.records != n) {
            fprintf(stderr, "bench_sender: drain failed (%" PRIu64 " of %" PRIu64 " records)\n",
                    res.records, n);
            sup_collector_stop(&c, SIGKILL);
            return -1;
        }
        if (!ack_only && i == 0 && sup_check_once(&c, n, NULL, 0) != 0) {
            fprintf(stderr, "bench_sender: the stored data is not exactly once\n");
            sup_collector_stop(&c, SIGKILL);
            return -1;
        }
        sup_collector_stop(&c, SIGTERM);
        rps[i] = (double)res.records / res.seconds;
        cpu[i] = res.cpu;
        rss[i] = (double)res.rss_kb / 1024.0;
        open_rss[i] = (double)res.open_kb / 1024.0;
        drain_rss[i] = (double)res.drain_kb / 1024.0;
        printf("  run %d: %" PRIu64 " records in %.2f s = %.0f records/s, sender CPU %.2f s, "
               "peak RSS %.1f MiB (journal open %.1f MiB, while sending %.1f MiB)%s\n",
               i + 1, res.records, res.seconds, rps[i], res.cpu, rss[i], open_rss[i], drain_rss[i],
               !ack_only && i == 0 ? " (dump: every record exactly once)" : "");
        snprintf(data, sizeof(data), "rm -rf '%s/data-%s-%d'", R.base, ack_only ? "ack" : "store",
                 i);
        if (system(data) != 0)
            return -1;
    }
    printf("| %-34s | %10.0f | %8.2f | %8.1f | %8.1f | %8.1f |\n",
           ack_only ? "pb+gzip into --ack-only" : "pb+gzip into the storing collector",
           median(rps, runs), median(cpu, runs), median(rss, runs), median(open_rss, runs),
           median(drain_rss, runs));
    return 0;
}

static int bytes_table(const char *master, uint64_t n)
{
    static const char *const ack[] = {"--ack-only", NULL};
    static const struct {
        const char *name, *enc, *gz;
    } rows[] = {
        {"protobuf + gzip", "pb", "1024"},
        {"protobuf", "pb", "never"},
        {"canonical JSON + gzip", "json", "1024"},
        {"canonical JSON", "json", "never"},
        {"legacy form + gzip", "form", "1024"},
        {"legacy form", "form", "never"},
        {"legacy JSON + gzip", "legacy-json", "1024"},
        {"legacy JSON", "legacy-json", "never"},
    };
    char journal[300], data[300];
    size_t i;
    struct sup_collector c;

    snprintf(data, sizeof(data), "%s/data-bytes", R.base);
    if (sup_collector_start(&c, &R, "127.0.0.1:0", data, ack, NULL) != 0)
        return -1;
    printf("\n| encoding (batches of 1,000)   | wire B/record | body B/record | records/s |\n"
           "| --- | ---: | ---: | ---: |\n");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct result res;
        memset(&res, 0, sizeof(res));
        snprintf(journal, sizeof(journal), "%s/j-bytes", R.base);
        if (copy_journal(master, journal) != 0 ||
            drain(journal, c.port, rows[i].enc, rows[i].gz, "1000", &res) != 0 ||
            res.records != n) {
            sup_collector_stop(&c, SIGKILL);
            return -1;
        }
        printf("| %-29s | %13.1f | %13.1f | %9.0f |\n", rows[i].name,
               (double)res.bytes / (double)res.records, (double)res.body / (double)res.records,
               (double)res.records / res.seconds);
    }
    sup_collector_stop(&c, SIGTERM);
    return 0;
}

/* The server is away while the sender starts; it comes back after `down` seconds. */
static int return_delay(int runs, double down)
{
    double d[8];
    int i;

    for (i = 0; i < runs; i++) {
        struct sup_collector c;
        char journal[300], data[300], att[300], listen[64], cmd[2048];
        int port, sock_port;
        int64_t t_ready, first_ok = -1;
        FILE *f;
        pid_t pid;

        /* a free port: the collector takes port 0 once, and that port is reused below */
        snprintf(data, sizeof(data), "%s/data-ret%d", R.base, i);
        if (sup_collector_start(&c, &R, "127.0.0.1:0", data, NULL, NULL) != 0)
            return -1;
        port = c.port;
        sup_collector_stop(&c, SIGTERM);
        snprintf(journal, sizeof(journal), "%s/j-ret%d", R.base, i);
        snprintf(att, sizeof(att), "%s/att-ret%d", R.base, i);
        if (sup_fill(journal, 2000, NULL) != 0)
            return -1;
        snprintf(cmd, sizeof(cmd),
                 "exec %s run --journal %s --url https://127.0.0.1:%d --ca %s --token %s "
                 "--attempts %s --until-empty --timeout 120 >/dev/null",
                 driver, journal, port, R.cert, SUP_TOKEN, att);
        pid = fork();
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        sup_sleep(down);
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        if (sup_collector_start(&c, &R, listen, data, NULL, NULL) != 0)
            return -1;
        t_ready = sup_wall_ms();
        sock_port = c.port;
        (void)sock_port;
        waitpid(pid, NULL, 0);
        sup_collector_stop(&c, SIGTERM);
        f = fopen(att, "r");
        if (f) {
            char cls[16];
            int64_t s0, e0;
            long st;
            int cc, gz;
            uint64_t a, b, w;
            size_t recs, body;
            while (fscanf(f,
                          "%" SCNd64 " %" SCNd64 " %15s %ld %d %" SCNu64 " %" SCNu64
                          " %zu %zu %d %" SCNu64,
                          &s0, &e0, cls, &st, &cc, &a, &b, &recs, &body, &gz, &w) == 11)
                if (first_ok < 0 && strcmp(cls, "ok") == 0)
                    first_ok = s0;
            fclose(f);
        }
        d[i] = (double)(first_ok - t_ready) / 1000.0;
        printf("  run %d: server back after %.0f s down; first batch %.3f s after it listened\n",
               i + 1, down, d[i]);
    }
    printf("median delay from the server's return to the first batch: %.3f s (backoff 1 s base, "
           "300 s cap, full jitter; a loopback server's return makes no netlink event)\n",
           median(d, runs));
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000, nb = 100000;
    char master[300], small[300];
    double t0;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_sender STINT-SEND-TEST [RECORDS]\n");
        return 2;
    }
    driver = argv[1];
    if (getenv("STINT_BENCH_SENDER_RECORDS"))
        n = strtoull(getenv("STINT_BENCH_SENDER_RECORDS"), NULL, 10);
    if (nb > n)
        nb = n;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (sup_run_init(&R, "bench", NULL) != 0)
        return 1;
    snprintf(master, sizeof(master), "%s/journal-master", R.base);
    snprintf(small, sizeof(small), "%s/journal-small", R.base);
    printf("== sender: drain of a %" PRIu64 "-record backlog over TLS on loopback ==\n", n);
    t0 = sup_now();
    if (sup_fill(master, n, NULL) != 0 || sup_fill(small, nb, NULL) != 0)
        goto fail;
    printf("(journals filled in %.1f s; records of about 110 bytes: app, path, title, url)\n",
           sup_now() - t0);
    printf("\n| drain (median of 3)                | records/s | CPU s    | peak RSS | open RSS | "
           "send RSS |\n"
           "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    if (drain_table(master, n, false, 3) != 0 || drain_table(master, n, true, 3) != 0)
        goto fail;
    if (bytes_table(small, nb) != 0)
        goto fail;
    printf("\n");
    if (return_delay(3, 5.0) != 0)
        goto fail;
    sup_run_cleanup(&R);
    return 0;
fail:
    fprintf(stderr, "bench_sender: failed; kept %s\n", R.base);
    return 1;
}
