/* bench_collector — stint-collector under load, from the outside.
 *
 * For each batch size (1, 100, 1,000 records) a fresh collector is started on a free loopback
 * port with a certificate made for the run (openssl CLI) and an empty data folder, with its
 * default durable writes (every Ack after a synced LevelDB write). N agents, each one libcurl easy
 * handle on one keep-alive TLS connection, driven by one libcurl multi handle, send batches back
 * to back for a fixed time: agent k sends seqs 1, 2, 3 ... of its own agent_id, so every record
 * is new. A batch counts when its Ack says 200 and `stored` equals its size. Printed per row:
 * batches/s and records/s stored, p50 and p99 of the request latency (send to Ack), and the
 * server's resident memory at the end and at its peak (VmRSS, VmHWM).
 *
 * Records are the typical record of bench_codec (app 7 bytes, path 28, title 44, url 12),
 * encoded with protobuf-c as the load runs. Nothing passes or fails on time.
 *
 * Then the cost of DELETE /v1/data (which compacts the account's key ranges until no file holds
 * the deleted bytes, spec/COLLECTOR.md §3) on a store of --delete-store records (default
 * 1,000,000) in two accounts of half each, loaded in batches of 1,000: the time of the DELETE of
 * one account, then of a second DELETE of the same, now empty, account (the fixed cost), and
 * the data folder's size before and after. --delete-store 0 skips it.
 *
 * With --store URL (postgresql://...) the same rows run again against the PostgreSQL store on
 * that database, once per way of ingesting (--store-ingest unnest, values, copy), in the same run
 * and table as LevelDB; each row starts from an empty schema (tables dropped, `stint-collector
 * migrate`). --store auto starts a PostgreSQL 15 of its own (tests/support/with_postgres.sh:
 * synchronous_commit and fsync on, the defaults). Extra columns: bytes of storage per stored
 * record (LevelDB: the data folder; PostgreSQL: pg_total_relation_size of the two tables, with
 * indexes, after a CHECKPOINT), PostgreSQL's WAL bytes per stored record, and where the CPU
 * time went: seconds of CPU used by the collector and by the PostgreSQL server processes during
 * the row, per second.
 *
 * Accounts: with --accounts N the agents are spread over N accounts (agent k in account k mod N),
 * and the DELETE rows load their store into --delete-accounts N accounts (default 2) and delete
 * one of them. Layouts: --pg-layout FILE is SQL run after each row's `migrate` (e.g. the records
 * table re-made PARTITION BY HASH (account)), --pg-ingest METHOD runs one way of ingesting only,
 * --pg-only skips the LevelDB rows; bench/bench_pg_partitions.sh uses them to compare layouts.
 * After the PostgreSQL DELETE the bench VACUUMs, then VACUUM FULLs, the relations (tables or
 * partitions) that held the account's rows, and prints their time and size: the work that the
 * deletion leaves to the database.
 *
 * STINT_COLLECTOR_UNDER_TEST=PATH runs another build of stint-collector (a before/after).
 *
 * usage: bench_collector [--agents N] [--seconds S] [--sizes 1,100,1000] [--ack-only]
 *                        [--delete-store N] [--store URL|auto] [--accounts N]
 *                        [--delete-accounts N] [--pg-layout FILE] [--pg-ingest METHOD]
 *                        [--pg-only]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <dirent.h>
#include <libpq-fe.h>

#include "stint/pb.h"
#include "stint/pb_ref.h"

#define TOKEN "bench-token-0123456789abcdef"
#define TOKEN_OTHER "bench-token-other-0123456789"
#define MAX_ACCOUNTS 256

static char base[64], cert[128], key[128], tokens[128];
static const char *collector_bin = STINT_COLLECTOR_BIN;
static int n_accounts = 1;                         /* --accounts */
static int n_delete_accounts = 2;                  /* --delete-accounts */
static const char *pg_layout;                      /* --pg-layout FILE: SQL run after migrate */
static char *pg_layout_sql;                        /* its text */
static struct curl_slist *acct_hdrs[MAX_ACCOUNTS]; /* request headers per account */

/* The token of account i: account 0 is "bench" (TOKEN), 1 is "other", then "acctNNN". */
static void account_token(int i, char *out, size_t cap)
{
    if (i == 0)
        snprintf(out, cap, "%s", TOKEN);
    else if (i == 1)
        snprintf(out, cap, "%s", TOKEN_OTHER);
    else
        snprintf(out, cap, "bench-token-acct%03d-0123456789abcdef", i);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct agent {
    CURL *easy;
    uint8_t id[STINT_AGENT_ID_LEN];
    uint64_t next_seq;
    struct stint_buf body;
    struct stint_buf resp;
    double started;
    size_t size;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct stint_buf *b = ctx;
    return stint_buf_append(b, p, size * n) == STINT_OK ? size * n : 0;
}

static void fill_batch(struct agent *a, struct stint_record *recs, size_t n)
{
    struct stint_batch head;
    struct stint_record_array arr = {recs, n, 0};
    struct stint_record_iter it = stint_record_array_iter(&arr);
    size_t i;

    for (i = 0; i < n; i++) {
        recs[i].seq = a->next_seq + i;
        recs[i].start_ms = 1700000000000 + (int64_t)(a->next_seq + i) * 5000;
        recs[i].end_ms = recs[i].start_ms + 4000;
    }
    a->next_seq += n;
    stint_batch_clear(&head);
    memcpy(head.agent_id, a->id, STINT_AGENT_ID_LEN);
    head.agent_id_len = STINT_AGENT_ID_LEN;
    stint_batch_set_version(&head, "bench", 5);
    head.now_ms = 1700000000000;
    stint_buf_reset(&a->body);
    if (stint_pbc_encode_batch(&head, &it, &a->body) != STINT_OK)
        abort();
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static long status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = strtol(line + strlen(field) + 1, NULL, 10);
    fclose(f);
    return v;
}

/* CPU seconds (user + system) of one process. */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    int i;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof(buf), f)) {
        fclose(f);
        return 0;
    }
    fclose(f);
    p = strrchr(buf, ')');
    if (!p)
        return 0;
    /* fields after the name: state is 3; utime 14, stime 15 */
    for (i = 3; i < 14 && p; i++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p, " %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of every process named postgres (the server and its backends; those that ended
 * during a row are not counted, so this is a lower bound). */
static double postgres_cpu_s(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    double total = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char path[300], comm[64] = "";
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof(comm), f))
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "postgres", 8) == 0)
            total += cpu_s((pid_t)strtol(e->d_name, NULL, 10));
    }
    closedir(d);
    return total;
}

static const char *pg_url;    /* --store URL, or NULL */
static const char *pg_ingest; /* the row's way of ingesting */

/* Empties the database for a row: drops the tables, then `stint-collector migrate`. */
static int pg_reset(void)
{
    PGconn *c = PQconnectdb(pg_url);
    PGresult *r;
    pid_t pid;
    int st = 1;

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_collector: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    r = PQexec(c, "SET client_min_messages = warning; "
                  "DROP TABLE IF EXISTS stint_records, stint_acks, stint_schema");
    st = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (st)
        fprintf(stderr, "bench_collector: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    if (st)
        return -1;
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(collector_bin, collector_bin, "migrate", "--store", pg_url, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    if (pg_layout_sql) {
        c = PQconnectdb(pg_url);
        r = PQexec(c, pg_layout_sql);
        st = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (st)
            fprintf(stderr, "bench_collector: %s: %s", pg_layout, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
    }
    return st;
}

/* The server's current WAL position in bytes; -1 on failure. */
static long long pg_wal_lsn(void)
{
    PGconn *c = PQconnectdb(pg_url);
    PGresult *r;
    long long n = -1;

    if (PQstatus(c) == CONNECTION_OK) {
        r = PQexec(c, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    PQfinish(c);
    return n;
}

/* Bytes of the two tables with their indexes and TOAST, after a CHECKPOINT; -1 on failure. */
static long long pg_bytes(void)
{
    PGconn *c = PQconnectdb(pg_url);
    PGresult *r;
    long long n = -1;

    if (PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(c, "CHECKPOINT"));
        /* partitioned tables have no storage of their own: sum over the partition trees */
        r = PQexec(c, "SELECT sum(pg_total_relation_size(r))::int8 FROM (SELECT "
                      "'stint_records'::regclass AS r UNION SELECT 'stint_acks'::regclass UNION "
                      "SELECT relid FROM pg_partition_tree('stint_records') UNION "
                      "SELECT relid FROM pg_partition_tree('stint_acks')) t");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    PQfinish(c);
    return n;
}

static pid_t start_server(const char *data, bool ack_only, int *port)
{
    char portfile[256];
    pid_t pid;
    double t0 = now_s();

    snprintf(portfile, sizeof(portfile), "%s.port", data);
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        if (pg_url)
            execl(collector_bin, collector_bin, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                  cert, "--tls-key", key, "--store", pg_url, "--store-ingest", pg_ingest,
                  "--tokens", tokens, "--port-file", portfile, (char *)NULL);
        else
            execl(collector_bin, collector_bin, "serve", "--listen", "127.0.0.1:0", "--tls-cert",
                  cert, "--tls-key", key, "--data", data, "--tokens", tokens, "--port-file",
                  portfile, ack_only ? "--ack-only" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    *port = 0;
    while (now_s() - t0 < 20 && *port == 0) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", port) != 1)
                *port = 0;
            fclose(f);
        }
        if (*port == 0)
            usleep(20000);
    }
    return pid;
}

static long long folder_bytes(const char *dir);

struct row {
    size_t size;
    double batches_s, records_s, p50_ms, p99_ms;
    long rss_kib, hwm_kib;
    uint64_t failed;
    double bytes_per_record;
    double wal_per_record;            /* PostgreSQL: WAL bytes written per stored record */
    double collector_cpu_s, db_cpu_s; /* CPU seconds per second of the row */
};

static int run_row(size_t size, int n_agents, double seconds, bool ack_only, int row_no,
                   struct row *out)
{
    char data[128], url[128];
    struct agent *agents = calloc((size_t)n_agents, sizeof(*agents));
    struct stint_record *recs = calloc(size, sizeof(*recs));
    size_t lat_cap = 1 << 20, lat_n = 0, i;
    double *lat = malloc(lat_cap * sizeof(*lat));
    CURLM *multi = curl_multi_init();
    uint64_t ok_batches = 0, ok_records = 0, failed = 0;
    double t0, t_end, elapsed, cpu0, db0;
    long long wal0 = -1;
    int port = 0, running = 0, a;
    pid_t pid;

    snprintf(data, sizeof(data), "%s/data%d", base, row_no);
    if (pg_url && pg_reset() != 0) {
        fprintf(stderr, "bench_collector: cannot empty the PostgreSQL database\n");
        return -1;
    }
    pid = start_server(data, ack_only, &port);
    if (port == 0) {
        fprintf(stderr, "bench_collector: the collector did not start\n");
        return -1;
    }
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/batches", port);
    for (i = 0; i < size; i++) {
        stint_record_clear(&recs[i]);
        recs[i].kind = STINT_KIND_ACTIVE;
        stint_record_set(&recs[i], STINT_FIELD_APP, "firefox", 7);
        stint_record_set(&recs[i], STINT_FIELD_PATH, "/usr/lib/firefox/firefox-bin", 28);
        stint_record_set(&recs[i], STINT_FIELD_TITLE,
                         "Stint: offline-first activity agent - Firefox", 44);
        stint_record_set(&recs[i], STINT_FIELD_URL, "jqueryui.com", 12);
    }
    for (a = 0; a < n_agents; a++) {
        struct agent *ag = &agents[a];
        ag->easy = curl_easy_init();
        memset(ag->id, 0, STINT_AGENT_ID_LEN);
        ag->id[0] = (uint8_t)row_no;
        ag->id[14] = (uint8_t)(a >> 8);
        ag->id[15] = (uint8_t)a;
        ag->next_seq = 1;
        ag->size = size;
        curl_easy_setopt(ag->easy, CURLOPT_URL, url);
        curl_easy_setopt(ag->easy, CURLOPT_CAINFO, cert);
        curl_easy_setopt(ag->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(ag->easy, CURLOPT_HTTPHEADER, acct_hdrs[a % n_accounts]);
        curl_easy_setopt(ag->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(ag->easy, CURLOPT_WRITEDATA, &ag->resp);
        curl_easy_setopt(ag->easy, CURLOPT_PRIVATE, ag);
        curl_easy_setopt(ag->easy, CURLOPT_TIMEOUT, 60L);
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n_agents);
    cpu0 = cpu_s(pid);
    db0 = pg_url ? postgres_cpu_s() : 0;
    wal0 = pg_url ? pg_wal_lsn() : -1;
    t0 = now_s();
    t_end = t0 + seconds;
    for (a = 0; a < n_agents; a++) {
        struct agent *ag = &agents[a];
        fill_batch(ag, recs, size);
        curl_easy_setopt(ag->easy, CURLOPT_POSTFIELDS, ag->body.data);
        curl_easy_setopt(ag->easy, CURLOPT_POSTFIELDSIZE, (long)ag->body.len);
        ag->started = now_s();
        curl_multi_add_handle(multi, ag->easy);
    }
    do {
        CURLMsg *m;
        int left;
        curl_multi_perform(multi, &running);
        while ((m = curl_multi_info_read(multi, &left))) {
            struct agent *ag = NULL;
            long code = 0;
            struct stint_ack ack;
            double t = now_s();

            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&ag);
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            curl_multi_remove_handle(multi, m->easy_handle);
            if (m->data.result == CURLE_OK && code == 200 &&
                stint_pb_decode_ack(ag->resp.data, ag->resp.len, &ack, NULL, NULL) == STINT_OK) {
                if (ack.stored == ag->size) {
                    ok_batches++;
                    ok_records += ack.stored;
                    if (lat_n < lat_cap)
                        lat[lat_n++] = t - ag->started;
                } else {
                    failed++;
                }
                stint_ack_free(&ack);
            } else {
                failed++;
            }
            stint_buf_reset(&ag->resp);
            if (t < t_end) {
                fill_batch(ag, recs, size);
                curl_easy_setopt(ag->easy, CURLOPT_POSTFIELDS, ag->body.data);
                curl_easy_setopt(ag->easy, CURLOPT_POSTFIELDSIZE, (long)ag->body.len);
                ag->started = now_s();
                curl_multi_add_handle(multi, ag->easy);
                running++;
            }
        }
        if (running)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    } while (running);
    elapsed = now_s() - t0;
    out->size = size;
    out->batches_s = (double)ok_batches / elapsed;
    out->records_s = (double)ok_records / elapsed;
    qsort(lat, lat_n, sizeof(*lat), cmp_double);
    out->p50_ms = lat_n ? lat[lat_n / 2] * 1000 : 0;
    out->p99_ms = lat_n ? lat[(size_t)((double)lat_n * 0.99)] * 1000 : 0;
    out->rss_kib = status_kib(pid, "VmRSS");
    out->hwm_kib = status_kib(pid, "VmHWM");
    out->failed = failed;
    out->collector_cpu_s = (cpu_s(pid) - cpu0) / elapsed;
    out->db_cpu_s = pg_url ? (postgres_cpu_s() - db0) / elapsed : 0;
    {
        long long wal1 = wal0 >= 0 ? pg_wal_lsn() : -1;
        out->wal_per_record = wal1 >= wal0 && wal0 >= 0 && ok_records
                                  ? (double)(wal1 - wal0) / (double)ok_records
                                  : 0;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    {
        long long bytes = pg_url ? pg_bytes() : folder_bytes(data);
        out->bytes_per_record = ok_records && bytes > 0 ? (double)bytes / (double)ok_records : 0;
    }
    for (a = 0; a < n_agents; a++) {
        curl_easy_cleanup(agents[a].easy);
        stint_buf_free(&agents[a].body);
        stint_buf_free(&agents[a].resp);
    }
    curl_multi_cleanup(multi);
    free(agents);
    free(recs);
    free(lat);
    return 0;
}

/* Bytes of the files under dir (not recursive: LevelDB's folder is flat). */
static long long folder_bytes(const char *dir)
{
    char cmd[512], line[64];
    long long n = -1;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "du -sb '%s' 2>/dev/null", dir);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    if (fgets(line, sizeof(line), p))
        n = strtoll(line, NULL, 10);
    pclose(p);
    return n;
}

/* One request on the keep-alive handle; the status (0: no answer). */
static long send_one(CURL *c, const char *url, const char *method, struct curl_slist *hdrs,
                     const struct stint_buf *body, struct stint_buf *resp)
{
    long code = 0;

    stint_buf_reset(resp);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? (const char *)body->data : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)body->len : 0L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* PostgreSQL: the relations (tables or partitions) that hold account's rows, as a SQL list of
 * quoted names ("stint_records, stint_acks"), into out; false if none or on failure. */
static bool pg_account_relations(PGconn *pc, const char *account, char *out, size_t cap)
{
    const char *vals[1] = {account};
    PGresult *r =
        PQexecParams(pc,
                     "SELECT string_agg(rel, ', ') FROM (SELECT DISTINCT tableoid::regclass::text "
                     "AS rel FROM stint_records WHERE account = $1 UNION SELECT DISTINCT "
                     "tableoid::regclass::text FROM stint_acks WHERE account = $1) x",
                     1, NULL, vals, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);

    if (ok)
        snprintf(out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

/* PostgreSQL: bytes of the relations of a list made by pg_account_relations, after a
 * CHECKPOINT; -1 on failure. */
static long long pg_relations_bytes(PGconn *pc, const char *rels)
{
    char sql[1400];
    PGresult *r;
    long long n = -1;

    PQclear(PQexec(pc, "CHECKPOINT"));
    snprintf(sql, sizeof(sql),
             "SELECT sum(pg_total_relation_size(r::regclass))::int8 FROM "
             "unnest(string_to_array('%s', ', ')) "
             "AS r",
             rels);
    r = PQexec(pc, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

/* PostgreSQL: runs "WHAT rels" and returns its time in seconds, -1 on failure. */
static double pg_timed(PGconn *pc, const char *what, const char *rels)
{
    char sql[1400];
    PGresult *r;
    double t0 = now_s(), t = -1;

    snprintf(sql, sizeof(sql), "%s %s", what, rels);
    r = PQexec(pc, sql);
    if (PQresultStatus(r) == PGRES_COMMAND_OK)
        t = now_s() - t0;
    else
        fprintf(stderr, "bench_collector: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return t;
}

/* Loads store_records records in batches of 1,000 from n_ag agents spread over
 * n_delete_accounts accounts, interleaved as real traffic would be; 0 or -1. */
static int load_accounts(CURL *c, const char *url, struct stint_record *recs,
                         uint64_t store_records, struct stint_buf *resp)
{
    /* at least 20 agents, the same number in every account */
    int n_ag = n_delete_accounts * ((20 + n_delete_accounts - 1) / n_delete_accounts), ag;
    struct agent *agents = calloc((size_t)n_ag, sizeof(*agents));
    uint64_t loaded = 0;
    int rc = 0;

    if (!agents)
        return -1;
    for (ag = 0; ag < n_ag; ag++) {
        agents[ag].id[0] = 0xde;
        agents[ag].id[14] = (uint8_t)(ag >> 8);
        agents[ag].id[15] = (uint8_t)ag;
        agents[ag].next_seq = 1;
    }
    while (loaded < store_records && rc == 0) {
        for (ag = 0; ag < n_ag && loaded < store_records && rc == 0; ag++) {
            fill_batch(&agents[ag], recs, 1000);
            if (send_one(c, url, "POST", acct_hdrs[ag % n_delete_accounts], &agents[ag].body,
                         resp) != 200) {
                fprintf(stderr, "bench_collector: a batch failed while loading\n");
                rc = -1;
            }
            loaded += 1000;
        }
    }
    for (ag = 0; ag < n_ag; ag++)
        stint_buf_free(&agents[ag].body);
    free(agents);
    return rc;
}

/* The DELETE rows (see the design block). */
static int run_delete(uint64_t store_records, int row_no)
{
    char data[128], url[128], url_del[128], rels[1024] = "", vac[64] = "–", full[96] = "–";
    struct stint_record *recs = calloc(1000, sizeof(*recs));
    struct stint_buf resp = {0};
    CURL *c = curl_easy_init();
    PGconn *pc = NULL;
    int port = 0;
    unsigned long long deleted = 0;
    long long before, after;
    double t0, t_full, t_empty, t_load;
    const char *d;
    pid_t pid;
    size_t i;

    snprintf(data, sizeof(data), "%s/data%d", base, row_no);
    if (pg_url && pg_reset() != 0) {
        fprintf(stderr, "bench_collector: cannot empty the PostgreSQL database\n");
        return -1;
    }
    pid = start_server(data, false, &port);
    if (port == 0 || !recs || !c) {
        fprintf(stderr, "bench_collector: the collector did not start\n");
        return -1;
    }
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/batches", port);
    snprintf(url_del, sizeof(url_del), "https://127.0.0.1:%d/v1/data", port);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 3600L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    for (i = 0; i < 1000; i++) {
        stint_record_clear(&recs[i]);
        recs[i].kind = STINT_KIND_ACTIVE;
        stint_record_set(&recs[i], STINT_FIELD_APP, "firefox", 7);
        stint_record_set(&recs[i], STINT_FIELD_PATH, "/usr/lib/firefox/firefox-bin", 28);
        stint_record_set(&recs[i], STINT_FIELD_TITLE,
                         "Stint: offline-first activity agent - Firefox", 44);
        stint_record_set(&recs[i], STINT_FIELD_URL, "jqueryui.com", 12);
    }
    t0 = now_s();
    if (load_accounts(c, url, recs, store_records, &resp) != 0)
        return -1;
    t_load = now_s() - t0;
    if (pg_url) {
        /* a database in its steady state: vacuumed (visibility map set) before the DELETE */
        pc = PQconnectdb(pg_url);
        if (pg_timed(pc, "VACUUM (ANALYZE)", "stint_records, stint_acks") < 0 ||
            !pg_account_relations(pc, "bench", rels, sizeof(rels)))
            return -1;
    } else {
        sleep(2); /* let background compactions settle */
    }
    before = pg_url ? pg_bytes() : folder_bytes(data);
    t0 = now_s();
    if (send_one(c, url_del, "DELETE", acct_hdrs[0], NULL, &resp) != 200) {
        fprintf(stderr, "bench_collector: DELETE failed\n");
        return -1;
    }
    t_full = now_s() - t0;
    stint_buf_append(&resp, "", 1);
    d = strstr((const char *)resp.data, "\"deletedRecords\":\"");
    if (d)
        deleted = strtoull(d + 18, NULL, 10);
    after = pg_url ? pg_bytes() : folder_bytes(data);
    t0 = now_s();
    send_one(c, url_del, "DELETE", acct_hdrs[0], NULL, &resp);
    t_empty = now_s() - t0;
    if (pc) {
        /* the dead tuples: VACUUM makes their space reusable, VACUUM FULL rewrites the files
         * without them; both only on the relations that held the account */
        long long scope = pg_relations_bytes(pc, rels);
        double tv = pg_timed(pc, "VACUUM", rels);
        double tf = pg_timed(pc, "VACUUM FULL", rels);
        snprintf(vac, sizeof(vac), "%.3f (%.1f MiB)", tv, (double)scope / 1048576.0);
        snprintf(full, sizeof(full), "%.3f (%.1f -> %.1f MiB)", tf, (double)scope / 1048576.0,
                 (double)pg_relations_bytes(pc, rels) / 1048576.0);
        PQfinish(pc);
    }
    printf("| %s | %llu | %d | %llu | %.3f | %.3f | %.1f -> %.1f | %s | %s | %.1f |\n",
           pg_url ? "pg" : "leveldb", (unsigned long long)store_records, n_delete_accounts, deleted,
           t_full, t_empty, (double)before / 1048576.0, (double)after / 1048576.0, vac, full,
           t_load);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    curl_easy_cleanup(c);
    stint_buf_free(&resp);
    free(recs);
    return 0;
}

/* The head of the DELETE rows' table. */
static void print_delete_head(void)
{
    printf("\nDELETE /v1/data of one account of %d, then again (empty); PostgreSQL: "
           "tables and indexes after a CHECKPOINT, dead tuples included (vacuumed before "
           "the DELETE, not after); then VACUUM, then VACUUM FULL, of the relations that "
           "held the account (their size):\n\n",
           n_delete_accounts);
    printf("| store | store records | accounts | deleted records | DELETE s | DELETE "
           "again s | data MiB before -> after | VACUUM s (of MiB) | VACUUM FULL s "
           "(MiB) | load s |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
}

/* The whole of a small text file, NUL-terminated (free it); NULL on failure. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (text = calloc(1, (size_t)n + 1)) &&
        fread(text, 1, (size_t)n, f) != (size_t)n) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

/* The run's folder (base), a certificate for 127.0.0.1 (openssl CLI) and the tokens file of
 * MAX_ACCOUNTS accounts, with each account's request headers (acct_hdrs); 0 or -1. */
static int make_credentials(void)
{
    char cmd[1024];
    FILE *f;
    int i;

    snprintf(base, sizeof(base), "/tmp/stint-bench-coll-XXXXXX");
    if (!mkdtemp(base))
        return -1;
    snprintf(cert, sizeof(cert), "%s/cert.pem", base);
    snprintf(key, sizeof(key), "%s/key.pem", base);
    snprintf(tokens, sizeof(tokens), "%s/tokens", base);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s "
             "2>/dev/null",
             key, cert);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_collector: openssl failed\n");
        return -1;
    }
    f = fopen(tokens, "w");
    if (!f)
        return -1;
    for (i = 0; i < MAX_ACCOUNTS; i++) {
        char tok[64], line[128];
        account_token(i, tok, sizeof(tok));
        if (i > 1)
            fprintf(f, "%s acct%03d\n", tok, i);
        else
            fprintf(f, "%s %s\n", tok, i ? "other" : "bench");
        snprintf(line, sizeof(line), "Authorization: Bearer %s", tok);
        acct_hdrs[i] = curl_slist_append(NULL, line);
        acct_hdrs[i] = curl_slist_append(acct_hdrs[i], "Content-Type: application/x-protobuf");
        acct_hdrs[i] = curl_slist_append(acct_hdrs[i], "Expect:");
    }
    fclose(f);
    chmod(tokens, 0600);
    return 0;
}

/* --store auto without STINT_PG_URL: runs this command again under
 * tests/support/with_postgres.sh, which starts a PostgreSQL 15 for it; returns only on failure. */
static int rerun_under_postgres(int argc, char **argv)
{
    char script[4200];
    char **args = calloc((size_t)argc + 3, sizeof(*args));
    int i;

    if (!args)
        return 1;
    snprintf(script, sizeof(script), "%s/tests/support/with_postgres.sh", STINT_SOURCE_DIR);
    args[0] = (char *)"sh";
    args[1] = script;
    for (i = 0; i < argc; i++)
        args[2 + i] = argv[i];
    execvp("sh", args);
    fprintf(stderr, "bench_collector: cannot run %s\n", script);
    free(args);
    return 1;
}

int main(int argc, char **argv)
{
    int n_agents = 16, i, row_no = 0, pass;
    const char *store = NULL, *only_ingest = NULL;
    bool pg_only = false;
    double seconds = 4;
    const char *sizes = "1,100,1000";
    bool ack_only = false;
    unsigned long long delete_store = 1000000;
    char cmd[1024];

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--agents") == 0 && i + 1 < argc)
            n_agents = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc)
            sizes = argv[++i];
        else if (strcmp(argv[i], "--ack-only") == 0)
            ack_only = true;
        else if (strcmp(argv[i], "--delete-store") == 0 && i + 1 < argc)
            delete_store = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            store = argv[++i];
        else if (strcmp(argv[i], "--accounts") == 0 && i + 1 < argc)
            n_accounts = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--delete-accounts") == 0 && i + 1 < argc)
            n_delete_accounts = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--pg-layout") == 0 && i + 1 < argc)
            pg_layout = argv[++i];
        else if (strcmp(argv[i], "--pg-ingest") == 0 && i + 1 < argc)
            only_ingest = argv[++i];
        else if (strcmp(argv[i], "--pg-only") == 0)
            pg_only = true;
        else {
            fprintf(stderr,
                    "usage: bench_collector [--agents N] [--seconds S] [--sizes 1,100,1000] "
                    "[--ack-only] [--delete-store N] [--store URL|auto] [--accounts N] "
                    "[--delete-accounts N] [--pg-layout FILE] [--pg-ingest unnest|values|copy] "
                    "[--pg-only]\n");
            return 2;
        }
    }
    if (n_accounts < 1 || n_accounts > MAX_ACCOUNTS || n_delete_accounts < 2 ||
        n_delete_accounts > MAX_ACCOUNTS) {
        fprintf(stderr, "bench_collector: --accounts is 1..%d, --delete-accounts 2..%d\n",
                MAX_ACCOUNTS, MAX_ACCOUNTS);
        return 2;
    }
    if (pg_layout && !(pg_layout_sql = read_file(pg_layout))) {
        fprintf(stderr, "bench_collector: cannot read --pg-layout %s\n", pg_layout);
        return 2;
    }
    if (store && strcmp(store, "auto") == 0) {
        const char *url = getenv("STINT_PG_URL");
        if (!url || !*url)
            return rerun_under_postgres(argc, argv);
        store = url;
    }
    if (n_agents < 1 || n_agents > 1000 || seconds <= 0) {
        fprintf(stderr, "bench_collector: bad --agents or --seconds\n");
        return 2;
    }
    if (make_credentials() != 0)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (getenv("STINT_COLLECTOR_UNDER_TEST"))
        collector_bin = getenv("STINT_COLLECTOR_UNDER_TEST");

    printf("stint-collector load: %d agents in %d account(s), keep-alive HTTPS (one TLS "
           "connection each, libcurl multi), %.0f s per row,\n%s; %ld cores%s%s\n\n",
           n_agents, n_accounts, seconds,
           ack_only ? "--ack-only (nothing stored)"
                    : "durable: a synced LevelDB write, or a PostgreSQL COMMIT with "
                      "synchronous_commit = on, before each Ack",
           sysconf(_SC_NPROCESSORS_ONLN), pg_layout ? "; PostgreSQL layout: " : "",
           pg_layout ? pg_layout : "");
    {
        /* the machine may be shared: say how busy it was */
        char load[128] = "?";
        FILE *lf = fopen("/proc/loadavg", "r");
        if (lf) {
            if (!fgets(load, sizeof(load), lf))
                snprintf(load, sizeof(load), "?\n");
            fclose(lf);
        }
        printf("load average before the run: %s\n", load);
    }
    printf("| store | records/batch | batches/s | records/s | p50 ms | p99 ms | server RSS MiB "
           "(peak) | bytes/record | WAL bytes/record | collector CPU s/s | PostgreSQL CPU s/s | "
           "failed |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
           "|\n");
    fflush(stdout);
    for (pass = 0; pass < (store ? 4 : 1); pass++) {
        const char *p = sizes;
        const char *name = "leveldb";
        if (pass > 0) {
            pg_url = store;
            pg_ingest = pass == 1 ? "unnest" : pass == 2 ? "values" : "copy";
            name = pass == 1 ? "pg unnest" : pass == 2 ? "pg values" : "pg copy";
            if (only_ingest && strcmp(only_ingest, pg_ingest) != 0)
                continue;
        } else if (pg_only && store) {
            continue;
        }
        while (*p) {
            size_t size = (size_t)strtoul(p, NULL, 10);
            struct row r;
            if (size == 0 || size > 10000)
                break;
            if (run_row(size, n_agents, seconds, ack_only, ++row_no, &r) != 0)
                return 1;
            printf("| %s | %zu | %.0f | %.0f | %.2f | %.2f | %.1f (%.1f) | %.0f | %.0f | %.2f | "
                   "%.2f | %llu |\n",
                   name, r.size, r.batches_s, r.records_s, r.p50_ms, r.p99_ms,
                   (double)r.rss_kib / 1024.0, (double)r.hwm_kib / 1024.0, r.bytes_per_record,
                   r.wal_per_record, r.collector_cpu_s, r.db_cpu_s, (unsigned long long)r.failed);
            fflush(stdout);
            p = strchr(p, ',');
            if (!p)
                break;
            p++;
        }
    }
    pg_url = NULL;
    for (pass = 0; pass < (store ? 2 : 1) && delete_store >= 1000 && !ack_only; pass++) {
        pg_url = pass ? store : NULL;
        pg_ingest = only_ingest ? only_ingest : "unnest";
        if (pass == 0)
            print_delete_head();
        if (pass == 0 && pg_only && store)
            continue;
        fflush(stdout);
        if (run_delete(delete_store, ++row_no) != 0)
            return 1;
    }
    for (i = 0; i < MAX_ACCOUNTS; i++)
        curl_slist_free_all(acct_hdrs[i]);
    free(pg_layout_sql);
    curl_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : 1;
}
