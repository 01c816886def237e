/* sender_kill9.c — the sender process killed with SIGKILL at random moments during a drain, at
 * least 50 times; after the last restart the collector holds every record exactly once.
 *
 * The journal holds 50,000 records at the start. Each cycle starts stint-send-test on it (batches
 * of 25; the collector answers each request 10 ms late, so the backlog outlasts the 50 cycles)
 * and kills it: one time in five at a random moment of its start-up (0..300 ms after the spawn:
 * journal open, TLS handshake), else a random 0..400 ms after its first attempt ended — in the
 * middle of a request, between the server's store and the journal's trim, wherever the moment
 * falls. A kill counts as "in a drain" when the run had finished at least one attempt and the
 * last one logged did not reach the end of the backlog; at least half the kills must be such.
 * Then one last run drains everything (batches of 500: other ranges, other Idempotency-Keys),
 * and `stint-collector dump` must show seqs 1..50,000 once each.
 *
 * usage: sender_kill9 STINT-SEND-TEST [KILLS] [RECORDS]; STINT_KILL9_SEED repeats a run. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "journal.h"
#include "sender_support.h"

static pid_t spawn(const char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen("/dev/null", "w", stdout);
        (void)f;
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    return pid;
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int c;
    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* The last seq of the last attempt logged. */
static uint64_t last_seq_sent(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512], last[512] = "";
    unsigned long long v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        memcpy(last, line, sizeof(last));
    fclose(f);
    {
        /* "start end class status curl first last ..." */
        char *p = last;
        int field;
        for (field = 0; field < 6 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p)
            v = strtoull(p, NULL, 10);
    }
    return (uint64_t)v;
}

static uint64_t backlog_of(const char *journal)
{
    struct stint_journal *j = sup_journal_open(journal);
    struct stint_journal_stats st;
    if (!j)
        return UINT64_MAX;
    stint_journal_stats(j, &st);
    stint_journal_close(j);
    return st.backlog;
}

/* A whole decimal count in [lo, hi] from a command-line argument, or -1 (strtol with its end
 * pointer and errno: a typo must not read as 0). */
static long arg_count(const char *s, long lo, long hi)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    return v;
}

int main(int argc, char **argv)
{
    struct sup_run r;
    struct sup_collector c;
    char journal[256], data[256], url[128], att[300];
    const char *driver;
    int kills_wanted = argc > 2 ? (int)arg_count(argv[2], 1, 1000000) : 50;
    uint64_t records = argc > 3 ? strtoull(argv[3], NULL, 10) : 50000, total = 0;
    uint64_t seed = getenv("STINT_KILL9_SEED") ? strtoull(getenv("STINT_KILL9_SEED"), NULL, 10)
                                               : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    uint64_t rng = seed;
    int kills = 0, mid = 0, exited = 0, status = 0, rc = 1;
    double t0 = sup_now();
    pid_t pid;
    static const char *const slow[] = {"--fault", "delay=10", NULL};

    if (argc < 2) {
        fprintf(stderr, "usage: sender_kill9 STINT-SEND-TEST [KILLS] [RECORDS]\n");
        return 2;
    }
    if (kills_wanted < 0) {
        fprintf(stderr, "sender_kill9: KILLS must be a count from 1, not '%s'\n", argv[2]);
        return 2;
    }
    driver = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0); /* children must not inherit unwritten output */
    printf("sender_kill9: seed %" PRIu64 " (STINT_KILL9_SEED repeats it)\n", seed);
    if (sup_run_init(&r, "kill9", NULL) != 0)
        return 1;
    snprintf(journal, sizeof(journal), "%s/journal", r.base);
    snprintf(data, sizeof(data), "%s/data", r.base);
    snprintf(att, sizeof(att), "%s/attempts", r.base);
    if (sup_collector_start(&c, &r, "127.0.0.1:0", data, slow, NULL) != 0)
        goto cleanup;
    snprintf(url, sizeof(url), "https://127.0.0.1:%d", c.port);
    {
        const char *const args[] = {driver,       "run",     "--journal",     journal,
                                    "--url",      url,       "--ca",          r.cert,
                                    "--token",    SUP_TOKEN, "--batch",       "25",
                                    "--base-ms",  "10",      "--cap-ms",      "200",
                                    "--attempts", att,       "--no-netwatch", "--until-empty",
                                    NULL};
        const char *args_last[sizeof(args) / sizeof(args[0])];
        memcpy(args_last, args, sizeof(args));
        if (sup_fill(journal, records, NULL) != 0)
            goto cleanup;
        total = records;
        while (kills < kills_wanted) {
            long before;
            double wait_s;
            bool reaped = false;
            before = count_lines(att);
            pid = spawn(args);
            if (pid < 0)
                goto cleanup;
            /* one kill in five lands anywhere in the start-up (journal open, TLS handshake);
             * the others a random 0..400 ms after the first attempt of this run ended */
            if (stint_rng_upto(&rng, 4) == 0) {
                wait_s = (double)stint_rng_upto(&rng, 300) / 1000.0;
            } else {
                double tw = sup_now();
                while (count_lines(att) == before && sup_now() - tw < 10 && !reaped) {
                    reaped = waitpid(pid, &status, WNOHANG) == pid;
                    sup_sleep(0.002);
                }
                wait_s = (double)stint_rng_upto(&rng, 400) / 1000.0;
            }
            sup_sleep(wait_s);
            if (!reaped)
                reaped = waitpid(pid, &status, WNOHANG) == pid;
            if (reaped) {
                /* drained before the kill (not expected with this pace): more records */
                exited++;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    fprintf(stderr, "sender_kill9: driver failed (status %d)\n", status);
                    goto cleanup;
                }
                if (exited > 20 || sup_fill(journal, 1000, NULL) != 0)
                    goto cleanup;
                total += 1000;
                continue;
            }
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            kills++;
            if (count_lines(att) > before && last_seq_sent(att) < total)
                mid++;
        }
        printf("sender_kill9: %d kills (%d during a drain), %d runs ended by themselves, "
               "%" PRIu64 " records, %.1f s\n",
               kills, mid, exited, total, sup_now() - t0);
        /* the last run drains with larger batches: other ranges, other Idempotency-Keys, and
         * still nothing twice (the server de-duplicates by seq) */
        args_last[11] = "500";
        pid = spawn(args_last);
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "sender_kill9: the last drain failed (status %d)\n", status);
            goto cleanup;
        }
    }
    if (mid < kills_wanted / 2) {
        fprintf(stderr, "sender_kill9: only %d kills landed during a drain\n", mid);
        goto cleanup;
    }
    if (backlog_of(journal) != 0) {
        fprintf(stderr, "sender_kill9: the journal is not empty after the last drain\n");
        goto cleanup;
    }
    if (sup_check_once(&c, total, NULL, 0) != 0)
        goto cleanup;
    printf("sender_kill9: %" PRIu64 " records stored exactly once after %d kills, %ld attempts "
           "in all, %.1f s\n",
           total, kills, count_lines(att), sup_now() - t0);
    rc = 0;
cleanup:
    if (sup_collector_stop(&c, SIGTERM) != 0)
        rc = 1;
    if (rc == 0)
        sup_run_cleanup(&r);
    else
        fprintf(stderr, "sender_kill9: kept %s for a look\n", r.base);
    return rc;
}
