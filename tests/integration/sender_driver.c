/* sender_driver.c — stint-send-test: a journal and a sender in a process of its own, for the
 * tests that kill the sender (kill -9), cut its network (network namespaces), or measure it
 * (bench/bench_sender.c, which reads its rusage).
 *
 *   stint-send-test fill JOURNAL N
 *   stint-send-test run --journal DIR --url URL [--ca FILE] [--pin PIN] [--token TOKEN]
 *                       [--encoding pb|json|form|legacy-json] [--batch N] [--batch-bytes N]
 *                       [--base-ms N] [--cap-ms N] [--linger-ms N] [--gzip-min N]
 *                       [--append-every-ms MS --append-n N] [--stop-file F]
 *                       [--attempts FILE] [--no-netwatch] [--until-empty] [--timeout S]
 *
 * run: opens the journal, starts the sender, appends records when asked (a record source at a
 * fixed pace), and ends when the journal is empty (--until-empty, or once --stop-file exists,
 * after which nothing more is appended). Prints one line of key=value results: among them
 * maxrss_kb (peak RSS of the process), open_hwm_kb (the peak when the journal was open, before
 * the sender started) and drain_rss_kb (the highest RSS sampled every 100 ms while sending).
 * --attempts writes one line per attempt: "wall_start_ms wall_end_ms class status curl first last
 * records body_bytes gzip wait_ms". Exit: 0 drained, 3 timeout, 2 usage, 1 error. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sender.h"
#include "sender_support.h"

static FILE *attempts_f;
static int64_t wall0_ms, mono0_us;
static uint64_t first_ok_body, ok_records, ok_bytes;

static int64_t mono_now_us(void)
{
    return (int64_t)(sup_now() * 1e6);
}

static void on_attempt(void *ctx, const struct stint_sender_attempt *a)
{
    (void)ctx;
    if (a->cls == STINT_SEND_OK) {
        ok_records += a->records;
        ok_bytes += a->body_bytes;
        if (!first_ok_body)
            first_ok_body = a->body_bytes;
    }
    if (!attempts_f)
        return;
    fprintf(attempts_f,
            "%" PRId64 " %" PRId64 " %s %ld %d %" PRIu64 " %" PRIu64 " %zu %zu %d %" PRIu64 "\n",
            wall0_ms + (a->mono_start_us - mono0_us) / 1000,
            wall0_ms + (a->mono_end_us - mono0_us) / 1000, stint_send_class_name(a->cls), a->status,
            a->curl_code, a->first_seq, a->last_seq, a->records, a->body_bytes, a->gzip ? 1 : 0,
            a->wait_ms);
    fflush(attempts_f);
}

static void on_log(void *ctx, enum stint_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    if (getenv("STINT_SENDER_TEST_LOG"))
        fprintf(stderr, "%s\n", line); /* "sender: ...": the logger's name */
}

static const struct stint_log sender_log = {
    .fn = on_log, .level = STINT_LOG_DEBUG, .name = "sender"};

/* A field of /proc/self/status in kB (VmHWM: peak RSS so far, VmRSS: now); -1 when unknown. */
static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

static int usage(void)
{
    fprintf(stderr, "usage: stint-send-test fill JOURNAL N | run --journal DIR --url URL ...\n");
    return 2;
}

static int cmd_run(int argc, char **argv)
{
    struct stint_sender_opts o;
    struct stint_sender *s = NULL;
    struct stint_journal *j = NULL;
    struct stint_sender_status st;
    struct stint_error err;
    const char *journal = NULL, *stop_file = NULL, *attempts = NULL, *token = NULL;
    uint64_t append_every = 0, append_n = 0, appended = 0;
    double timeout = 600, t0, last_append;
    bool until_empty = false, stopping = false;
    struct rusage ru;
    long open_hwm = -1, rss_max_drain = 0;
    double last_rss = 0;
    int i, rc = 1;

    memset(&o, 0, sizeof(o));
    o.linger_ms = STINT_SENDER_NO_LINGER;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool flag = true;
        if (strcmp(a, "--until-empty") == 0)
            until_empty = true;
        else if (strcmp(a, "--no-netwatch") == 0)
            o.no_netwatch = true;
        else
            flag = false;
        if (flag)
            continue;
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--journal") == 0)
            journal = v;
        else if (strcmp(a, "--url") == 0)
            o.url = v;
        else if (strcmp(a, "--ca") == 0)
            o.ca_file = v;
        else if (strcmp(a, "--pin") == 0)
            o.pinned_pubkey = v;
        else if (strcmp(a, "--token") == 0)
            token = v;
        else if (strcmp(a, "--encoding") == 0)
            o.encoding = strcmp(v, "json") == 0          ? STINT_SENDER_JSON
                         : strcmp(v, "form") == 0        ? STINT_SENDER_LEGACY_FORM
                         : strcmp(v, "legacy-json") == 0 ? STINT_SENDER_LEGACY_JSON
                                                         : STINT_SENDER_PB;
        else if (strcmp(a, "--batch") == 0)
            o.batch_max_records = strtoul(v, NULL, 10);
        else if (strcmp(a, "--batch-bytes") == 0)
            o.batch_max_bytes = strtoul(v, NULL, 10);
        else if (strcmp(a, "--base-ms") == 0)
            o.backoff_base_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--cap-ms") == 0)
            o.backoff_cap_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--linger-ms") == 0)
            o.linger_ms = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--gzip-min") == 0)
            o.gzip_min_bytes =
                strcmp(v, "never") == 0 ? STINT_SENDER_NO_GZIP : strtoul(v, NULL, 10);
        else if (strcmp(a, "--append-every-ms") == 0)
            append_every = strtoull(v, NULL, 10);
        else if (strcmp(a, "--append-n") == 0)
            append_n = strtoull(v, NULL, 10);
        else if (strcmp(a, "--stop-file") == 0)
            stop_file = v;
        else if (strcmp(a, "--attempts") == 0)
            attempts = v;
        else if (strcmp(a, "--timeout") == 0)
            timeout = strtod(v, NULL);
        else
            return usage();
    }
    if (!journal || !o.url)
        return usage();
    if (token) {
        o.token = token;
        o.token_len = strlen(token);
    }
    o.on_attempt = on_attempt;
    o.log = &sender_log;
    wall0_ms = sup_wall_ms();
    mono0_us = mono_now_us();
    if (attempts) {
        attempts_f = fopen(attempts, "a");
        if (!attempts_f)
            return 1;
    }
    j = sup_journal_open(journal);
    if (!j)
        goto cleanup;
    open_hwm = proc_status_kb("VmHWM"); /* what opening the journal took, before any sending */
    stint_error_clear(&err);
    if (stint_sender_create(&o, j, &s, &err) != STINT_OK) {
        fprintf(stderr, "stint-send-test: %s\n", err.msg);
        goto cleanup;
    }
    t0 = sup_now();
    last_append = t0;
    if (stint_sender_start(s) != STINT_OK)
        goto cleanup;
    stint_sender_wake(s);
    for (;;) {
        double now = sup_now();
        if (!stopping && append_every && append_n &&
            (now - last_append) * 1000 >= (double)append_every) {
            if (sup_append(j, append_n, NULL) != 0)
                goto cleanup;
            appended += append_n;
            last_append = now;
            stint_sender_wake(s);
        }
        if (!stopping && stop_file && access(stop_file, F_OK) == 0) {
            stopping = true;
            stint_sender_flush(s);
        }
        if (until_empty || stopping) {
            stint_sender_status(s, &st);
            if (st.backlog == 0)
                break;
        }
        if (now - last_rss >= 0.1) { /* RSS while draining, sampled ten times a second */
            long v = proc_status_kb("VmRSS");
            if (v > rss_max_drain)
                rss_max_drain = v;
            last_rss = now;
        }
        if (now - t0 > timeout) {
            rc = 3;
            fprintf(stderr, "stint-send-test: timeout\n");
            break;
        }
        sup_sleep(0.005);
    }
    stint_sender_stop(s);
    stint_sender_status(s, &st);
    getrusage(RUSAGE_SELF, &ru);
    printf("seconds=%.3f records_sent=%" PRIu64 " attempts=%" PRIu64 " batches=%" PRIu64
           " bytes_sent=%" PRIu64 " body_bytes=%" PRIu64 " dead=%" PRIu64 " appended=%" PRIu64
           " net_wakes=%" PRIu64 " backlog=%" PRIu64 " cpu=%.3f maxrss_kb=%ld open_hwm_kb=%ld"
           " drain_rss_kb=%ld\n",
           sup_now() - t0, st.records_sent, st.attempts, st.batches_acked, st.bytes_sent, ok_bytes,
           st.records_dead, appended, st.net_wakes, st.backlog,
           (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
           ru.ru_maxrss, open_hwm, rss_max_drain);
    if (rc != 3)
        rc = 0;
cleanup:
    stint_sender_destroy(s);
    stint_journal_close(j);
    if (attempts_f)
        fclose(attempts_f);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "fill") == 0) {
        if (argc != 4)
            return usage();
        return sup_fill(argv[2], strtoull(argv[3], NULL, 10), NULL) == 0 ? 0 : 1;
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc, argv);
    return usage();
}
