/* collector_diskfault.c — stint-collector under a failing disk keeps every Ack it gave.
 *
 *   collector_diskfault STINT-SEND-TEST tmpfs    the data folder on a small tmpfs (root only:
 *                                                 mount), filled to the last byte twice
 *   collector_diskfault STINT-SEND-TEST fsize    the collector under RLIMIT_FSIZE, lowered twice
 *
 * Four agents (stint-send-test, each its own journal of RECORDS records, batches of 100) send
 * over TLS while the disk is made to fail under the collector and then given room again:
 *   spell 1: writes fail -> a DELETE of bob's account is sent in the middle of it -> room ->
 *            the collector heals; then it is stopped with SIGTERM and restarted on its port;
 *   spell 2: writes fail -> the collector is killed with SIGKILL in the middle of it -> room ->
 *            restarted on its port.
 * First, one writer alone (the spell as the issue found it): batches of 50 records with titles of
 * random letters while the disk is full (answered 503, or 200 while room lasts), room again, more
 * batches, a clean restart: every record ever answered 200 must be in `dump` once. A collector
 * that keeps writing to the handle whose log took the torn write drops most of them here.
 *
 * Then every agent must drain its journal (it trims what was acknowledged, so an Ack for a record
 * that is then lost leaves a hole nobody fills); after a last clean restart `dump` must show
 * seqs 1..RECORDS of every agent exactly once, and bob's account, deleted during the spell
 * (answered 503, or 200) and again after it (200), must stay empty across the restarts.
 * Against a collector that keeps writing to a handle whose log took a torn write, the records
 * written after the tear are acknowledged and then dropped at the next open.
 *
 * The environment variable STINT_COLLECTOR_UNDER_TEST names another stint-collector to try
 * (an older build, to see this test fail against it).
 *
 * Exit: 0 pass, 1 fail, 77 skipped (tmpfs without root), 2 usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sender_support.h"
#include "stint/pb.h"

#define AGENTS 4
#define RECORDS 5000   /* in each journal at the start */
#define SEQ_MAX 200000 /* what the counts can hold: RECORDS plus what the agents append */
#define BOB_TOKEN "bob-token-abcdefghijkl"
#define BOB_RECORDS 300

static const char *send_test, *collector_bin = STINT_COLLECTOR_BIN, *batch = "100";
static struct sup_run run;
static char mnt[256], data[300], out[300], filler[300];
static bool mounted, use_tmpfs;
static pid_t coll_pid;
static int port;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "collector_diskfault: FAIL line %d: ", __LINE__);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            finish(1);                                                                             \
        }                                                                                          \
    } while (0)

static void finish(int code)
{
    char cmd[512];

    if (coll_pid > 0) {
        kill(coll_pid, SIGKILL);
        waitpid(coll_pid, NULL, 0);
    }
    if (code != 0) {
        snprintf(cmd, sizeof(cmd), "tail -n 40 '%s' >&2", out);
        if (system(cmd) != 0)
            fprintf(stderr, "(no collector output)\n");
    }
    if (mounted && umount2(mnt, MNT_DETACH) != 0)
        fprintf(stderr, "collector_diskfault: umount %s: %s\n", mnt, strerror(errno));
    sup_run_cleanup(&run);
    exit(code);
}

/* Starts the collector on `port` (0 the first time), with its output appended to `out`. */
static void start_collector(void)
{
    char listen[64], portfile[300];
    pid_t parent = getpid();
    double t0;

    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(portfile, sizeof(portfile), "%s/port", run.base);
    unlink(portfile);
    coll_pid = fork();
    CHECK(coll_pid >= 0, "fork");
    if (coll_pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(collector_bin, collector_bin, "serve", "--listen", listen, "--data", data, "--tokens",
              run.tokens, "--port-file", portfile, "--tls-cert", run.cert, "--tls-key", run.key,
              (char *)NULL);
        _exit(127);
    }
    t0 = sup_now();
    while (sup_now() - t0 < 60) {
        FILE *f = fopen(portfile, "r");
        int status;
        if (f) {
            int p = 0, ok = fscanf(f, "%d", &p);
            fclose(f);
            if (ok == 1 && p > 0) {
                port = p;
                return;
            }
        }
        if (waitpid(coll_pid, &status, WNOHANG) == coll_pid) {
            coll_pid = 0;
            CHECK(false, "the collector exited at start (status %d)", status);
        }
        sup_sleep(0.02);
    }
    CHECK(false, "the collector did not start");
}

static void stop_collector(int sig)
{
    int status = 0;

    kill(coll_pid, sig);
    CHECK(waitpid(coll_pid, &status, 0) == coll_pid, "waitpid");
    coll_pid = 0;
    if (sig == SIGTERM)
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the collector did not exit cleanly on SIGTERM (status %d)", status);
}

/* How many times `what` appears in the collector's output so far. */
static int count_in_out(const char *what)
{
    FILE *f = fopen(out, "r");
    char line[2048];
    int n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

/* Waits until `what` appeared `want` times in the collector's output; false after `seconds`
 * (the pacing only: what counts is checked at the end). */
static bool wait_count(const char *what, int want, double seconds)
{
    double t0 = sup_now();
    while (count_in_out(what) < want) {
        if (sup_now() - t0 > seconds) {
            fprintf(stderr, "collector_diskfault: no \"%s\" (#%d) in %.0f s\n", what, want,
                    seconds);
            return false;
        }
        sup_sleep(0.05);
    }
    return true;
}

/* Takes the disk's room away: a filler file over what is free (tmpfs), or a file size limit
 * of 4 KiB on the running collector (fsize). */
static void make_full(void)
{
    if (use_tmpfs) {
        struct statvfs sv;
        int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        off_t size = 0;
        int tries;

        CHECK(fd >= 0, "filler: %s", strerror(errno));
        /* all but 16 KiB; the agents write meanwhile, so an allocation that asks for more
         * than is left fails whole (tmpfs undoes it): ask again for less */
        for (tries = 0; tries < 200; tries++) {
            uint64_t free_b;
            off_t want;
            CHECK(statvfs(mnt, &sv) == 0, "statvfs");
            free_b = (uint64_t)sv.f_bavail * sv.f_frsize;
            if (free_b <= (64u << 10))
                break;
            want = (off_t)(free_b - (16u << 10));
            while (want > 4096 && posix_fallocate(fd, size, want) != 0)
                want /= 2;
            if (want > 4096)
                size += want;
        }
        close(fd);
        CHECK(statvfs(mnt, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize <= (64u << 10),
              "could not fill the tmpfs");
    } else {
        struct rlimit rl = {4096, RLIM_INFINITY};
        CHECK(prlimit(coll_pid, RLIMIT_FSIZE, &rl, NULL) == 0, "prlimit: %s", strerror(errno));
    }
}

static void make_room(void)
{
    if (use_tmpfs) {
        CHECK(unlink(filler) == 0, "unlink filler: %s", strerror(errno));
    } else if (coll_pid > 0) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        CHECK(prlimit(coll_pid, RLIMIT_FSIZE, &rl, NULL) == 0, "prlimit: %s", strerror(errno));
    }
}

/* An agent: drains its journal and, until stop_file exists (NULL: never), appends 20 records
 * every 20 ms, so that writes go on through every spell. */
static pid_t spawn_agent(const char *journal, const char *token, const char *log,
                         const char *stop_file)
{
    char url[64];
    pid_t pid;

    snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
    pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fd, 1);
        dup2(fd, 2);
        if (stop_file)
            execl(send_test, send_test, "run", "--journal", journal, "--url", url, "--ca", run.cert,
                  "--token", token, "--batch", batch, "--base-ms", "50", "--cap-ms", "500",
                  "--append-every-ms", "20", "--append-n", "20", "--stop-file", stop_file,
                  "--no-netwatch", "--timeout", "600", (char *)NULL);
        else
            execl(send_test, send_test, "run", "--journal", journal, "--url", url, "--ca", run.cert,
                  "--token", token, "--batch", batch, "--base-ms", "50", "--cap-ms", "500",
                  "--until-empty", "--no-netwatch", "--timeout", "600", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* DELETE /v1/data for bob; the status (0 when no answer). */
static long delete_bob(void)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " BOB_TOKEN);
    char url[64];
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");

    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/data", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, run.cert);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (sink)
        fclose(sink);
    return status;
}

/* One batch of 50 records of agent 0x07 from seq first, titles of 100 random letters (the log
 * holds them as they are); the status of its POST. */
static long post_single(uint64_t first)
{
    static char titles[50][101];
    struct stint_record *r = calloc(50, sizeof(*r));
    struct stint_record_array arr = {r, 50, 0};
    struct stint_record_iter it = stint_record_array_iter(&arr);
    struct stint_batch head;
    struct stint_buf body = {0};
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    char url[64];
    long status = 0;
    FILE *sink = fopen("/dev/null", "w");
    size_t i, k;

    CHECK(r && c && sink, "out of memory");
    for (i = 0; i < 50; i++) {
        for (k = 0; k < 100; k++)
            titles[i][k] = (char)('a' + rand() % 26);
        titles[i][100] = '\0';
        stint_record_clear(&r[i]);
        r[i].seq = first + i;
        r[i].start_ms = 1700000000000 + (int64_t)(first + i) * 1000;
        r[i].end_ms = r[i].start_ms + 999;
        r[i].kind = STINT_KIND_ACTIVE;
        stint_record_set(&r[i], STINT_FIELD_APP, "xterm", 5);
        stint_record_set(&r[i], STINT_FIELD_TITLE, titles[i], 100);
    }
    stint_batch_clear(&head);
    memset(head.agent_id, 7, STINT_AGENT_ID_LEN);
    head.agent_id_len = STINT_AGENT_ID_LEN;
    head.now_ms = 1700000000000;
    CHECK(stint_pb_encode_batch(&head, &it, &body) == STINT_OK, "encode");
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/batches", port);
    h = curl_slist_append(h, "Authorization: Bearer " SUP_TOKEN);
    h = curl_slist_append(h, "Content-Type: application/x-protobuf");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, run.cert);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body.data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(sink);
    stint_buf_free(&body);
    free(r);
    return status;
}

#define SINGLE_BATCHES 40

/* The single writer (see the design block); leaves the collector stopped. */
static void single_writer(void)
{
    static bool acked[2 * SINGLE_BATCHES];
    static char line[65536];
    char cmd[700];
    int b, n_acked = 0, n_503 = 0, per_seq_bad = 0;
    uint64_t lines = 0;
    uint16_t *seen = calloc(2 * SINGLE_BATCHES * 50 + 1, sizeof(uint16_t));
    FILE *p;

    CHECK(seen, "out of memory");
    start_collector();
    make_full();
    for (b = 0; b < 2 * SINGLE_BATCHES; b++) {
        long st;
        if (b == SINGLE_BATCHES)
            make_room();
        st = post_single((uint64_t)b * 50 + 1);
        CHECK(st == 200 || st == 503 || st == 500, "batch %d answered %ld", b, st);
        acked[b] = st == 200;
        n_acked += acked[b];
        n_503 += st == 503;
        if (st != 200 && b >= SINGLE_BATCHES)
            sup_sleep(0.6); /* the store reopens at most twice a second */
    }
    stop_collector(SIGTERM);
    start_collector();
    snprintf(cmd, sizeof(cmd), "%s dump --data %s --account alice", collector_bin, data);
    p = popen(cmd, "r");
    CHECK(p, "popen");
    while (fgets(line, sizeof(line), p)) {
        char *q = strstr(line, "\"seq\":\"");
        uint64_t seq = q ? strtoull(q + 7, NULL, 10) : 0;
        lines++;
        if (seq >= 1 && seq <= 2 * SINGLE_BATCHES * 50)
            seen[seq]++;
    }
    CHECK(pclose(p) == 0, "dump failed");
    for (b = 0; b < 2 * SINGLE_BATCHES; b++) {
        int i;
        for (i = 1; i <= 50; i++) {
            uint16_t n = seen[(uint64_t)b * 50 + (uint64_t)i];
            if ((acked[b] && n != 1) || n > 1)
                per_seq_bad++;
        }
    }
    printf("single writer: %d of %d batches acknowledged (%d answered 503), %" PRIu64
           " records in dump, %d acknowledged records missing or repeated\n",
           n_acked, 2 * SINGLE_BATCHES, n_503, lines, per_seq_bad);
    CHECK(per_seq_bad == 0, "acknowledged records lost after the spell and a clean restart");
    CHECK(n_acked > SINGLE_BATCHES / 2, "the store did not come back after the spell");
    stop_collector(SIGTERM);
    free(seen);
}

/* The records a stint-send-test run appended ("appended=N" on its result line). */
static uint64_t appended(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    uint64_t n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = strstr(line, " appended=");
        if (p)
            n = strtoull(p + 10, NULL, 10);
    }
    fclose(f);
    return n;
}

/* Counts dump lines per (agent, seq) for account: agents[] gets the agent ids seen (hex). */
static long dump_account(const char *account, char agents[][33], size_t *n_agents,
                         uint16_t counts[][SEQ_MAX + 1], uint64_t *bad)
{
    char cmd[700];
    static char line[65536];
    FILE *p;
    long n = 0;

    *bad = 0;
    snprintf(cmd, sizeof(cmd), "%s dump --data %s --account %s", collector_bin, data, account);
    p = popen(cmd, "r");
    CHECK(p, "popen");
    while (fgets(line, sizeof(line), p)) {
        char *a = strstr(line, "\"agentId\":\""), *s = strstr(line, "\"seq\":\"");
        uint64_t seq;
        size_t k;

        n++;
        if (!a || !s || !counts) {
            (*bad)++;
            continue;
        }
        a += 11;
        for (k = 0; k < *n_agents; k++)
            if (strncmp(agents[k], a, 32) == 0)
                break;
        if (k == *n_agents) {
            if (*n_agents == AGENTS) {
                (*bad)++;
                continue;
            }
            memcpy(agents[k], a, 32);
            agents[k][32] = '\0';
            (*n_agents)++;
        }
        seq = strtoull(s + 7, NULL, 10);
        if (seq >= 1 && seq <= SEQ_MAX)
            counts[k][seq]++;
        else
            (*bad)++;
    }
    CHECK(pclose(p) == 0, "dump --account %s failed", account);
    return n;
}

int main(int argc, char **argv)
{
    static uint16_t counts[AGENTS][SEQ_MAX + 1];
    char journals[AGENTS][300], logs[AGENTS][300], bob_journal[300], bob_log[300];
    char agents[AGENTS][33], stop_file[300];
    uint64_t total[AGENTS], expect = 0;
    pid_t pids[AGENTS];
    size_t n_agents = 0, i;
    uint64_t bad = 0, missing = 0, dups = 0;
    long status, n;
    FILE *f;
    int k, failed0, reopened0;

    if (argc != 3 || (strcmp(argv[2], "tmpfs") != 0 && strcmp(argv[2], "fsize") != 0)) {
        fprintf(stderr, "usage: collector_diskfault STINT-SEND-TEST tmpfs|fsize\n");
        return 2;
    }
    send_test = argv[1];
    if (getenv("STINT_DISKFAULT_BATCH")) /* records per batch of the agents (default 100) */
        batch = getenv("STINT_DISKFAULT_BATCH");
    if (getenv("STINT_COLLECTOR_UNDER_TEST"))
        collector_bin = getenv("STINT_COLLECTOR_UNDER_TEST");
    use_tmpfs = strcmp(argv[2], "tmpfs") == 0;
    if (use_tmpfs && geteuid() != 0) {
        printf("SKIPPED: mounting a tmpfs needs root (CI runs as root); the fsize variant runs "
               "as any user\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (sup_run_init(&run, argv[2], NULL) != 0) {
        fprintf(stderr, "collector_diskfault: setup failed\n");
        return 1;
    }
    f = fopen(run.tokens, "a");
    CHECK(f, "tokens");
    fprintf(f, "%s bob\n", BOB_TOKEN);
    fclose(f);
    snprintf(out, sizeof(out), "%s/collector.out", run.base);
    snprintf(mnt, sizeof(mnt), "%s/mnt", run.base);
    CHECK(mkdir(mnt, 0700) == 0, "mkdir %s", mnt);
    if (use_tmpfs) {
        CHECK(mount("tmpfs", mnt, "tmpfs", 0, "size=48m,mode=0700") == 0, "mount tmpfs: %s",
              strerror(errno));
        mounted = true;
    }
    snprintf(data, sizeof(data), "%s/data", mnt);
    snprintf(filler, sizeof(filler), "%s/filler", mnt);

    for (i = 0; i < AGENTS; i++) {
        snprintf(journals[i], sizeof(journals[i]), "%s/journal%zu", run.base, i);
        snprintf(logs[i], sizeof(logs[i]), "%s/agent%zu.out", run.base, i);
        CHECK(sup_fill(journals[i], RECORDS, NULL) == 0, "fill %s", journals[i]);
    }
    snprintf(stop_file, sizeof(stop_file), "%s/stop", run.base);
    snprintf(bob_journal, sizeof(bob_journal), "%s/journal-bob", run.base);
    snprintf(bob_log, sizeof(bob_log), "%s/bob.out", run.base);
    CHECK(sup_fill(bob_journal, BOB_RECORDS, NULL) == 0, "fill bob");

    snprintf(data, sizeof(data), "%s/single", mnt);
    single_writer();
    snprintf(data, sizeof(data), "%s/data", mnt);
    start_collector();
    /* bob's records first, all stored */
    {
        pid_t b = spawn_agent(bob_journal, BOB_TOKEN, bob_log, NULL);
        int st = 0;
        CHECK(waitpid(b, &st, 0) == b && WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "bob's agent did not drain (status %d)", st);
    }
    for (i = 0; i < AGENTS; i++)
        pids[i] = spawn_agent(journals[i], SUP_TOKEN, logs[i], stop_file);
    sup_sleep(0.3);

    /* spell 1: full while agents send; a DELETE in the middle of it; room; SIGTERM restart */
    failed0 = count_in_out("storage write failed");
    reopened0 = count_in_out("reopened; accepting writes again");
    make_full();
    (void)wait_count("storage write failed", failed0 + 1, 60);
    status = delete_bob();
    printf("DELETE during the spell: %ld\n", status);
    CHECK(status == 200 || status == 503, "DELETE during the spell answered %ld", status);
    sup_sleep(1.0);
    make_room();
    (void)wait_count("reopened; accepting writes again", reopened0 + 1, 30);
    sup_sleep(0.5);
    stop_collector(SIGTERM);
    start_collector();

    /* spell 2: full again; killed with SIGKILL in the middle of it; room; restart */
    k = count_in_out("storage write failed");
    make_full();
    (void)wait_count("storage write failed", k + 1, 60);
    sup_sleep(0.5);
    stop_collector(SIGKILL);
    make_room();
    start_collector();

    /* the agents stop appending, drain, and say how many records they made */
    sup_sleep(0.5);
    f = fopen(stop_file, "w");
    CHECK(f, "stop file");
    fclose(f);
    for (i = 0; i < AGENTS; i++) {
        int st = 0;
        CHECK(waitpid(pids[i], &st, 0) == pids[i], "waitpid agent");
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent %zu did not drain (status %d): %s", i,
              st, logs[i]);
        total[i] = RECORDS + appended(logs[i]);
        CHECK(total[i] <= SEQ_MAX, "agent %zu made %" PRIu64 " records", i, total[i]);
    }
    CHECK(delete_bob() == 200, "DELETE after the spells");
    stop_collector(SIGTERM);
    start_collector();

    n = dump_account("alice", agents, &n_agents, counts, &bad);
    CHECK(n_agents == AGENTS, "dump shows %zu agents, not %d", n_agents, AGENTS);
    /* each agent in the dump holds 1..M once, and the M's are the journals' totals (an agent's
     * id is not known here; its highest seq names it) */
    {
        bool used[AGENTS] = {false};
        for (i = 0; i < AGENTS; i++) {
            uint64_t seq, top = 0;
            size_t a;
            for (seq = 1; seq <= SEQ_MAX; seq++)
                if (counts[i][seq])
                    top = seq;
            for (a = 0; a < AGENTS; a++)
                if (!used[a] && total[a] == top)
                    break;
            if (a == AGENTS) {
                fprintf(stderr, "agent %s: highest seq %" PRIu64 " is no journal's total\n",
                        agents[i], top);
                bad++;
            } else {
                used[a] = true;
            }
            expect += top;
            for (seq = 1; seq <= top; seq++) {
                if (counts[i][seq] == 0 && missing++ < 10)
                    fprintf(stderr, "missing: agent %s seq %" PRIu64 "\n", agents[i], seq);
                if (counts[i][seq] > 1 && dups++ < 10)
                    fprintf(stderr, "twice: agent %s seq %" PRIu64 "\n", agents[i], seq);
            }
        }
    }
    printf("dump alice: %ld lines, %" PRIu64 " missing, %" PRIu64 " twice, %" PRIu64
           " malformed; write failures seen %d, reopens %d\n",
           n, missing, dups, bad, count_in_out("storage write failed"),
           count_in_out("reopened; accepting writes again"));
    CHECK(missing == 0 && dups == 0 && bad == 0 && n == (long)expect,
          "acknowledged records lost or repeated (%ld lines, %" PRIu64 " made)", n, expect);
    {
        size_t nb = 0;
        n = dump_account("bob", NULL, &nb, NULL, &bad);
        CHECK(n == 0, "bob's deleted account shows %ld records after the restart", n);
    }
    /* and the spells did happen: two failures (one each) and the reopen after the first */
    CHECK(count_in_out("storage write failed") >= failed0 + 2 &&
              count_in_out("reopened; accepting writes again") >= reopened0 + 1,
          "the collector never reported the failing disk");
    stop_collector(SIGTERM);
    printf("ok: every acknowledged record once, the deletion kept (%s)\n", argv[2]);
    curl_global_cleanup();
    finish(0);
    return 0;
}
