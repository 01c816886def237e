/* sender_faults.c — the sender against the real stint-collector on loopback TLS, one test per
 * fault kind of its --fault, each ending with `stint-collector dump` showing every record exactly
 * once (or, for the records the server refused for good, not at all and in the dead letters).
 *
 * The sender runs in this process (backoff 20 ms .. 500 ms so that the faults pass quickly); the
 * collector is a child on a free port with a certificate made for this run. Timing claims
 * (Retry-After honoured, pauses without retries, stop within its bound) are measured on the
 * sender's own attempt log (CLOCK_MONOTONIC). */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sender.h"
#include "sender_support.h"

static struct sup_run R;
static int data_seq;

#define MAX_ATTEMPTS 20000

struct env {
    char jdir[256];
    char cdata[256];
    struct stint_journal *j;
    struct sup_collector c;
    struct stint_sender *s;
    pthread_mutex_t mu;
    struct stint_sender_attempt *att;
    size_t n_att;
};

static void on_attempt(void *ctx, const struct stint_sender_attempt *a)
{
    struct env *e = ctx;
    pthread_mutex_lock(&e->mu);
    if (e->n_att < MAX_ATTEMPTS)
        e->att[e->n_att++] = *a;
    pthread_mutex_unlock(&e->mu);
}

static void on_log(void *ctx, enum stint_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    if (getenv("STINT_SENDER_TEST_LOG"))
        fprintf(stderr, "  %s\n", line); /* "sender: ...": the logger's name */
}

static const struct stint_log sender_log = {
    .fn = on_log, .level = STINT_LOG_DEBUG, .name = "sender"};

static int group_setup(void **state)
{
    (void)state;
    return sup_run_init(&R, "faults", NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    sup_run_cleanup(&R);
    return 0;
}

/* A journal with n records and a collector with the extra arguments. */
static void env_begin(struct env *e, uint64_t n, const char *const *extra)
{
    memset(e, 0, sizeof(*e));
    pthread_mutex_init(&e->mu, NULL);
    e->att = calloc(MAX_ATTEMPTS, sizeof(*e->att));
    assert_non_null(e->att);
    data_seq++;
    snprintf(e->jdir, sizeof(e->jdir), "%s/journal%d", R.base, data_seq);
    snprintf(e->cdata, sizeof(e->cdata), "%s/data%d", R.base, data_seq);
    e->j = sup_journal_open(e->jdir);
    assert_non_null(e->j);
    if (n)
        assert_int_equal(sup_append(e->j, n, NULL), 0);
    assert_int_equal(sup_collector_start(&e->c, &R, "127.0.0.1:0", e->cdata, extra, NULL), 0);
}

static void default_opts(struct env *e, struct stint_sender_opts *o, char *url, size_t cap)
{
    snprintf(url, cap, "https://127.0.0.1:%d", e->c.port);
    memset(o, 0, sizeof(*o));
    o->url = url;
    o->token = SUP_TOKEN;
    o->token_len = strlen(SUP_TOKEN);
    o->ca_file = R.cert;
    o->batch_max_records = 100;
    o->backoff_base_ms = 20;
    o->backoff_cap_ms = 500;
    o->linger_ms = STINT_SENDER_NO_LINGER;
    o->rng_seed = 42;
    o->on_attempt = on_attempt;
    o->log = &sender_log;
    o->cb_ctx = e;
    o->stop_grace_ms = 500;
    /* network changes made by other tests running beside this one (namespaces, veth pairs) must
     * not cut requests here: the fault tests count attempts; tests/integration/sender_netns.c
     * tests the watch */
    o->no_netwatch = true;
}

static void env_sender(struct env *e, const struct stint_sender_opts *o)
{
    struct stint_error err;
    stint_error_clear(&err);
    if (stint_sender_create(o, e->j, &e->s, &err) != STINT_OK)
        fail_msg("sender: %s", err.msg);
    assert_int_equal(stint_sender_start(e->s), STINT_OK);
    stint_sender_wake(e->s);
}

static void status(struct env *e, struct stint_sender_status *st)
{
    stint_sender_status(e->s, st);
}

/* Stops the sender, then reads its final counters (the journal is trimmed a moment before the
 * counters of that attempt are updated). */
static void final_status(struct env *e, struct stint_sender_status *st)
{
    stint_sender_stop(e->s);
    stint_sender_status(e->s, st);
}

/* Waits until the journal is empty; fails after timeout seconds. */
static void wait_drained(struct env *e, double timeout)
{
    struct stint_sender_status st;
    double t0 = sup_now();
    for (;;) {
        status(e, &st);
        if (st.backlog == 0)
            return;
        if (sup_now() - t0 > timeout)
            fail_msg("not drained after %.0f s: backlog %" PRIu64 ", last: %s", timeout, st.backlog,
                     st.last_error);
        sup_sleep(0.02);
    }
}

static void env_end(struct env *e)
{
    stint_sender_destroy(e->s);
    e->s = NULL;
    stint_journal_close(e->j);
    e->j = NULL;
    assert_int_equal(sup_collector_stop(&e->c, SIGTERM), 0);
    free(e->att);
    pthread_mutex_destroy(&e->mu);
}

static size_t count_status(struct env *e, long status)
{
    size_t i, n = 0;
    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_att; i++)
        n += e->att[i].status == status;
    pthread_mutex_unlock(&e->mu);
    return n;
}

static size_t count_curl_errors(struct env *e)
{
    size_t i, n = 0;
    pthread_mutex_lock(&e->mu);
    for (i = 0; i < e->n_att; i++)
        n += e->att[i].curl_code != 0;
    pthread_mutex_unlock(&e->mu);
    return n;
}

/* Every attempt of one batch carries the same key: checked through first/last being stable,
 * and the key is derived from them only. Here: no two different ranges share a first seq while
 * unacked, i.e. retries repeat the same range. */
static void check_retries_repeat_range(struct env *e)
{
    size_t i;
    pthread_mutex_lock(&e->mu);
    for (i = 1; i < e->n_att; i++) {
        const struct stint_sender_attempt *p = &e->att[i - 1], *a = &e->att[i];
        if (p->cls == STINT_SEND_RETRY && a->first_seq == p->first_seq)
            assert_int_equal(a->last_seq, p->last_seq);
    }
    pthread_mutex_unlock(&e->mu);
}

/* ---- the tests ---------------------------------------------------------------------------- */

/* No fault: protobuf + gzip, one connection, exactly once, counters right. */
static void test_drain_pb(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    (void)state;
    env_begin(&e, 2000, NULL);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_int_equal(st.records_sent, 2000);
    assert_int_equal(st.batches_acked, 20);
    assert_int_equal(st.attempts, 20);
    assert_int_equal(st.records_dead, 0);
    assert_int_equal(st.last_class, STINT_SEND_OK);
    assert_true(st.bytes_sent > 0);
    assert_true(e.att[0].gzip);
    assert_int_equal(e.att[0].first_seq, 1);
    assert_int_equal(e.att[0].last_seq, 100);
    assert_int_equal(sup_check_once(&e.c, 2000, NULL, 0), 0);
    env_end(&e);
}

static void test_drain_json(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    (void)state;
    env_begin(&e, 700, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.encoding = STINT_SENDER_JSON;
    o.gzip_min_bytes = STINT_SENDER_NO_GZIP;
    env_sender(&e, &o);
    wait_drained(&e, 60);
    assert_false(e.att[0].gzip);
    assert_int_equal(sup_check_once(&e.c, 700, NULL, 0), 0);
    env_end(&e);
}

/* The legacy form payload to /v1/legacy: the collector numbers legacy records by start time,
 * so the check is the count of stored lines. */
static void test_drain_legacy_form(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    uint32_t counts[2];
    uint64_t extra = 0;
    char url[128];
    (void)state;
    env_begin(&e, 300, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.encoding = STINT_SENDER_LEGACY_FORM;
    o.batch_max_records = 1000; /* cut to 166 for PHP's max_input_vars */
    env_sender(&e, &o);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_int_equal(st.records_sent, 300);
    assert_int_equal(e.att[0].records, 166);
    assert_int_equal(sup_dump(&e.c, 1, counts, &extra), 300);
    env_end(&e);
}

/* The legacy payload as JSON (application/json to /v1/legacy): no 166-record cap. */
static void test_drain_legacy_json(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    uint32_t counts[2];
    uint64_t extra = 0;
    char url[128];
    (void)state;
    env_begin(&e, 300, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.encoding = STINT_SENDER_LEGACY_JSON;
    o.batch_max_records = 200;
    env_sender(&e, &o);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_int_equal(st.records_sent, 300);
    assert_int_equal(e.att[0].records, 200);
    assert_int_equal(sup_dump(&e.c, 1, counts, &extra), 300);
    env_end(&e);
}

/* A legacy batch with nothing the mapping writes (idle records only) is done without a request
 * (spec/PROTOCOL.md §6.10, rule 6): no empty payload reaches the server, the records around it
 * are stored under the agent's own seqs, and the journal empties. */
static void test_legacy_idle_only_batch(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    struct stint_record *idle = calloc(10, sizeof(*idle));
    uint32_t counts[31];
    uint64_t extra = 0, first = 0;
    char url[128];
    size_t i, requests = 0;
    (void)state;
    assert_non_null(idle);
    env_begin(&e, 10, NULL);
    for (i = 0; i < 10; i++) {
        stint_record_clear(&idle[i]);
        idle[i].start_ms = 1700000100000 + (int64_t)i * 1000;
        idle[i].end_ms = idle[i].start_ms + 999;
        idle[i].kind = STINT_KIND_IDLE;
    }
    assert_int_equal(stint_journal_append(e.j, idle, 10, NULL, &first), STINT_OK);
    assert_int_equal(first, 11);
    assert_int_equal(sup_append(e.j, 10, NULL), 0);
    default_opts(&e, &o, url, sizeof(url));
    o.encoding = STINT_SENDER_LEGACY_JSON;
    o.batch_max_records = 10;
    env_sender(&e, &o);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_int_equal(st.records_sent, 30);
    assert_int_equal(st.records_dead, 0);
    pthread_mutex_lock(&e.mu);
    for (i = 0; i < e.n_att; i++) {
        if (e.att[i].first_seq == 11) {
            assert_int_equal(e.att[i].status, 0); /* no request */
            assert_int_equal(e.att[i].body_bytes, 0);
            assert_int_equal(e.att[i].cls, STINT_SEND_OK);
        } else if (e.att[i].status == 200) {
            requests++;
        }
    }
    pthread_mutex_unlock(&e.mu);
    assert_int_equal(requests, 2);
    /* the active records, under their own seqs 1-10 and 21-30 */
    assert_int_equal(sup_dump(&e.c, 30, counts, &extra), 20);
    assert_int_equal(extra, 0);
    for (i = 1; i <= 30; i++)
        assert_int_equal(counts[i], i <= 10 || i > 20 ? 1 : 0);
    env_end(&e);
    free(idle);
}

/* 30 % of requests answered 503: retried until every record is in, once. */
static void test_503_30_percent(void **state)
{
    static const char *const f[] = {"--fault", "status=503,rate=0.3", NULL};
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    (void)state;
    env_begin(&e, 2000, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 90);
    assert_true(count_status(&e, 503) >= 3);
    check_retries_repeat_range(&e);
    assert_int_equal(sup_check_once(&e.c, 2000, NULL, 0), 0);
    env_end(&e);
}

/* Every other retryable status: 408, 500, 502, 504. */
static void test_other_retryable_statuses(void **state)
{
    static const char *const f[] = {
        "--fault", "status=408,rate=0.1", "--fault", "status=500,rate=0.1",
        "--fault", "status=502,rate=0.1", "--fault", "status=504,rate=0.1",
        NULL};
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    (void)state;
    env_begin(&e, 3000, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 90);
    assert_true(count_status(&e, 408) + count_status(&e, 500) + count_status(&e, 502) +
                    count_status(&e, 504) >=
                4);
    assert_int_equal(sup_check_once(&e.c, 3000, NULL, 0), 0);
    env_end(&e);
}

/* The wait after the attempt answered with status; returns seconds between that attempt's
 * end and the next attempt's start, and its recorded wait. */
static double gap_after(struct env *e, long status, uint64_t *wait_ms, bool *ra)
{
    size_t i;
    double gap = -1;
    pthread_mutex_lock(&e->mu);
    for (i = 0; i + 1 < e->n_att; i++) {
        if (e->att[i].status == status) {
            gap = (double)(e->att[i + 1].mono_start_us - e->att[i].mono_end_us) / 1e6;
            *wait_ms = e->att[i].wait_ms;
            *ra = e->att[i].retry_after;
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return gap;
}

/* 429 with Retry-After: 2: the next attempt comes no sooner than 2 s later (the backoff alone
 * would have waited at most 20 ms). */
static void test_429_retry_after_seconds(void **state)
{
    static const char *const f[] = {"--fault", "status=429,retry-after=2,count=1,skip=2", NULL};
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    uint64_t w = 0;
    bool ra = false;
    double gap;
    (void)state;
    env_begin(&e, 500, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 60);
    gap = gap_after(&e, 429, &w, &ra);
    print_message("    429 Retry-After 2: next attempt after %.3f s (wait %" PRIu64 " ms)\n", gap,
                  w);
    assert_true(ra);
    assert_int_equal(w, 2000);
    assert_true(gap >= 2.0);
    assert_true(gap < 3.0);
    assert_int_equal(sup_check_once(&e.c, 500, NULL, 0), 0);
    env_end(&e);
}

/* 503 with Retry-After as an HTTP-date 3 s ahead (whole seconds: 2..3 s from now). */
static void test_503_retry_after_date(void **state)
{
    static const char *const f[] = {"--fault", "status=503,retry-after-date=3,count=1", NULL};
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    uint64_t w = 0;
    bool ra = false;
    double gap;
    (void)state;
    env_begin(&e, 300, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 60);
    gap = gap_after(&e, 503, &w, &ra);
    print_message(
        "    503 Retry-After date +3 s: next attempt after %.3f s (wait %" PRIu64 " ms)\n", gap, w);
    assert_true(ra);
    assert_true(w >= 1900 && w <= 3000);
    assert_true(gap >= (double)w / 1000.0 - 0.001);
    assert_int_equal(sup_check_once(&e.c, 300, NULL, 0), 0);
    env_end(&e);
}

/* The lost Ack: the server stores, then drops the connection. The replay is recognised
 * (same Idempotency-Key, same seqs) and nothing is stored twice. */
static void test_lost_ack(void **state)
{
    static const char *const f[] = {"--fault", "drop-after-store,rate=0.3", NULL};
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    (void)state;
    env_begin(&e, 2000, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 90);
    assert_true(count_curl_errors(&e) >= 2);
    check_retries_repeat_range(&e);
    assert_int_equal(sup_check_once(&e.c, 2000, NULL, 0), 0);
    env_end(&e);
}

/* Connection reset before the body is read. */
static void test_reset(void **state)
{
    static const char *const f[] = {"--fault", "reset,rate=0.3", NULL};
    struct env e;
    struct stint_sender_opts o;
    char url[128];
    (void)state;
    env_begin(&e, 2000, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 90);
    assert_true(count_curl_errors(&e) >= 2);
    assert_int_equal(sup_check_once(&e.c, 2000, NULL, 0), 0);
    env_end(&e);
}

/* The server is killed (-9) in the middle of the drain, stays away 1.5 s, and comes back on the
 * same port with the same data; then it refuses every connection for 2 s once more. */
static void test_server_down_then_up(void **state)
{
    static const char *const f[] = {"--fault", "stop-accepting=2,count=1,skip=40", NULL};
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128], listen[64];
    int port;
    (void)state;
    env_begin(&e, 6000, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.batch_max_records = 50;
    env_sender(&e, &o);
    do {
        status(&e, &st);
    } while (st.records_sent < 500);
    port = e.c.port;
    assert_int_equal(sup_collector_stop(&e.c, SIGKILL), 0);
    sup_sleep(1.5);
    /* a loaded machine (sanitizers, CI) may take longer to see the failed attempt: wait for it */
    for (int i = 0; i < 150; i++) {
        status(&e, &st);
        if (st.last_class == STINT_SEND_RETRY && st.next_retry_ms > 0)
            break;
        sup_sleep(0.1);
    }
    assert_true(st.backlog > 0);
    assert_true(st.last_class == STINT_SEND_RETRY);
    assert_true(st.next_retry_ms > 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    assert_int_equal(sup_collector_start(&e.c, &R, listen, e.cdata, f, NULL), 0);
    wait_drained(&e, 90);
    assert_int_equal(sup_check_once(&e.c, 6000, NULL, 0), 0);
    env_end(&e);
}

/* 413 (the server takes at most 16 records a batch): the batch halves until it fits. */
static void test_413_splits(void **state)
{
    static const char *const f[] = {"--max-records", "16", NULL};
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    (void)state;
    env_begin(&e, 1000, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_true(st.splits >= 3); /* 100 -> 50 -> 25 -> 12 */
    assert_int_equal(st.records_dead, 0);
    assert_int_equal(count_status(&e, 413) >= 3, 1);
    assert_int_equal(sup_check_once(&e.c, 1000, NULL, 0), 0);
    env_end(&e);
}

struct dead_seen {
    uint64_t seq[16];
    char reason[16][STINT_REASON_MAX + 1];
    size_t n;
};

static enum stint_err on_dead(void *ctx, const struct stint_journal_dead *d)
{
    struct dead_seen *ds = ctx;
    if (ds->n < 16) {
        ds->seq[ds->n] = d->seq;
        snprintf(ds->reason[ds->n], sizeof(ds->reason[0]), "%.*s", (int)d->reason_len, d->reason);
        ds->n++;
    }
    return STINT_OK;
}

/* One record too large for the server even alone: it is dead-lettered, the rest goes in. */
static void test_413_single_record_dead_lettered(void **state)
{
    static const char *const f[] = {"--max-body", "1500", NULL};
    struct env e;
    struct stint_sender_opts o;
    struct stint_record big;
    struct dead_seen ds;
    char url[128], title[2001];
    uint64_t seq = 0, skip[1];
    (void)state;
    env_begin(&e, 200, f);
    stint_record_clear(&big);
    big.start_ms = 1800000000000;
    big.end_ms = big.start_ms + 5;
    big.kind = STINT_KIND_ACTIVE;
    memset(title, 'x', 2000);
    stint_record_set(&big, STINT_FIELD_TITLE, title, 2000);
    assert_int_equal(stint_journal_append(e.j, &big, 1, NULL, &seq), STINT_OK);
    assert_int_equal(seq, 201);
    assert_int_equal(sup_append(e.j, 100, NULL), 0);
    default_opts(&e, &o, url, sizeof(url));
    o.gzip_min_bytes = STINT_SENDER_NO_GZIP;
    env_sender(&e, &o);
    wait_drained(&e, 60);
    memset(&ds, 0, sizeof(ds));
    assert_int_equal(stint_journal_dead_list(e.j, 0, 0, on_dead, &ds), STINT_OK);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.seq[0], 201);
    assert_non_null(strstr(ds.reason[0], "413"));
    skip[0] = 201;
    assert_int_equal(sup_check_once(&e.c, 301, skip, 1), 0);
    env_end(&e);
}

/* A poison record (ends before it starts) among good ones: the server rejects it in the Ack; it
 * goes to the dead letters with the server's reason, the others are stored once. */
static void test_poison_record(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    struct stint_record bad;
    struct dead_seen ds;
    char url[128];
    uint64_t seq = 0, skip[1];
    (void)state;
    env_begin(&e, 150, NULL);
    stint_record_clear(&bad);
    bad.start_ms = 1800000000000;
    bad.end_ms = bad.start_ms - 1000;
    bad.kind = STINT_KIND_ACTIVE;
    stint_record_set(&bad, STINT_FIELD_APP, "poison", 6);
    assert_int_equal(stint_journal_append(e.j, &bad, 1, NULL, &seq), STINT_OK);
    assert_int_equal(sup_append(e.j, 149, NULL), 0);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_int_equal(st.records_dead, 1);
    assert_int_equal(st.records_sent, 299);
    memset(&ds, 0, sizeof(ds));
    assert_int_equal(stint_journal_dead_list(e.j, 0, 0, on_dead, &ds), STINT_OK);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.seq[0], seq);
    print_message("    poison record's dead-letter reason: %s\n", ds.reason[0]);
    assert_non_null(strstr(ds.reason[0], "server rejected"));
    skip[0] = seq;
    assert_int_equal(sup_check_once(&e.c, 300, skip, 1), 0);
    env_end(&e);
}

/* Another 4xx (400 here): the batch is split down to the record at fault, which alone is
 * dead-lettered; sending goes on. */
static void test_4xx_dead_letters_batch(void **state)
{
    /* 400 for the first 8 requests: 100 records are halved down to seq 1 alone (100, 50, 25, 12,
     * 6, 3, 1), which is dead-lettered, then seq 2 alone is refused too; everything else goes */
    static const char *const f[] = {"--fault", "status=400,count=8", NULL};
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    uint64_t skip[2] = {1, 2};
    (void)state;
    env_begin(&e, 1000, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    wait_drained(&e, 120);
    final_status(&e, &st);
    assert_int_equal(st.records_dead, 2);
    assert_int_equal(st.records_sent, 998);
    assert_int_equal(sup_check_once(&e.c, 1000, skip, 2), 0);
    env_end(&e);
}

/* 401: sending pauses (one attempt, no retries), status says so; flush tries once more; a new
 * token resumes and everything goes in once. */
static void test_401_then_fixed_token(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    double t0;
    (void)state;
    env_begin(&e, 500, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.token = SUP_BAD_TOKEN;
    o.token_len = strlen(SUP_BAD_TOKEN);
    env_sender(&e, &o);
    t0 = sup_now();
    do {
        status(&e, &st);
        assert_true(sup_now() - t0 < 10);
    } while (!st.auth_paused);
    assert_int_equal(st.last_status, 401);
    sup_sleep(1.0);
    status(&e, &st);
    assert_int_equal(st.attempts, 1);
    assert_true(st.auth_paused);
    assert_int_equal(st.next_retry_ms, 0);
    stint_sender_flush(e.s); /* still the wrong token: one more attempt, paused again */
    t0 = sup_now();
    do {
        status(&e, &st);
        assert_true(sup_now() - t0 < 10);
    } while (st.attempts < 2 || !st.auth_paused);
    sup_sleep(0.5);
    status(&e, &st);
    assert_int_equal(st.attempts, 2);
    assert_int_equal(stint_sender_set_token(e.s, SUP_TOKEN, strlen(SUP_TOKEN)), STINT_OK);
    wait_drained(&e, 60);
    final_status(&e, &st);
    assert_false(st.auth_paused);
    assert_int_equal(sup_check_once(&e.c, 500, NULL, 0), 0);
    env_end(&e);
}

/* A certificate the agent must refuse (signed by nobody it trusts): a clear error, blocked,
 * no retry storm, nothing sent. */
static void test_refused_certificate(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    uint32_t counts[2];
    uint64_t extra;
    char url[128];
    double t0;
    (void)state;
    env_begin(&e, 100, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.ca_file = R.other;
    o.backoff_cap_ms = 60000;
    env_sender(&e, &o);
    t0 = sup_now();
    do {
        status(&e, &st);
        assert_true(sup_now() - t0 < 10);
    } while (st.attempts < 1);
    sup_sleep(1.5);
    status(&e, &st);
    print_message("    refused certificate: %s\n", st.last_error);
    assert_true(st.blocked);
    assert_int_equal(st.last_class, STINT_SEND_BLOCKED);
    assert_int_equal(st.attempts, 1);
    assert_true(strstr(st.last_error, "certificate") || strstr(st.last_error, "SSL"));
    assert_int_equal(st.backlog, 100);
    assert_int_equal(sup_dump(&e.c, 1, counts, &extra), 0);
    env_end(&e);
}

/* A pinned key that does not match: blocked with the pin named; the right pin works. */
static void test_pinned_key(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    double t0;
    (void)state;
    env_begin(&e, 300, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.pinned_pubkey = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    o.backoff_cap_ms = 60000;
    env_sender(&e, &o);
    t0 = sup_now();
    do {
        status(&e, &st);
        assert_true(sup_now() - t0 < 10);
    } while (st.attempts < 1);
    sup_sleep(1.0);
    status(&e, &st);
    print_message("    pin mismatch: %s\n", st.last_error);
    assert_true(st.blocked);
    assert_int_equal(st.attempts, 1);
    assert_true(strstr(st.last_error, "pinned") || strstr(st.last_error, "public key"));
    stint_sender_destroy(e.s);
    e.n_att = 0;
    o.pinned_pubkey = R.pin;
    env_sender(&e, &o);
    wait_drained(&e, 60);
    assert_int_equal(sup_check_once(&e.c, 300, NULL, 0), 0);
    env_end(&e);
}

/* stop with a request in flight (the server delays its answer 5 s) returns within the grace
 * period plus the progress callback's tick, and the journal keeps the batch. */
static void test_stop_is_bounded(void **state)
{
    static const char *const f[] = {"--fault", "delay=5000", NULL};
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    double t0, took;
    (void)state;
    env_begin(&e, 100, f);
    default_opts(&e, &o, url, sizeof(url));
    env_sender(&e, &o);
    sup_sleep(0.5);
    t0 = sup_now();
    stint_sender_stop(e.s);
    took = sup_now() - t0;
    print_message("    stop with a request in flight took %.3f s (grace 0.5 s)\n", took);
    assert_true(took < 2.0);
    status(&e, &st);
    assert_false(st.running);
    assert_int_equal(st.backlog, 100);
    env_end(&e);
}

/* Idle: no attempts without records; a wake sends after the linger, not before. */
static void test_wake_and_linger(void **state)
{
    struct env e;
    struct stint_sender_opts o;
    struct stint_sender_status st;
    char url[128];
    double t_wake, t_first;
    (void)state;
    env_begin(&e, 0, NULL);
    default_opts(&e, &o, url, sizeof(url));
    o.linger_ms = 300;
    env_sender(&e, &o);
    sup_sleep(0.5);
    status(&e, &st);
    assert_int_equal(st.attempts, 0);
    assert_int_equal(sup_append(e.j, 10, NULL), 0);
    t_wake = sup_now();
    stint_sender_wake(e.s);
    wait_drained(&e, 10);
    t_first = (double)e.att[0].mono_start_us / 1e6;
    print_message("    first attempt %.3f s after the wake (linger 0.3 s)\n", t_first - t_wake);
    assert_true(t_first - t_wake >= 0.29);
    assert_true(t_first - t_wake < 1.0);
    /* flush skips the linger */
    assert_int_equal(sup_append(e.j, 10, NULL), 0);
    sup_sleep(0.6); /* the sender is idle again */
    t_wake = sup_now();
    stint_sender_wake(e.s);
    stint_sender_flush(e.s);
    wait_drained(&e, 10);
    t_first = (double)e.att[1].mono_start_us / 1e6;
    assert_true(t_first - t_wake < 0.25);
    assert_int_equal(sup_check_once(&e.c, 20, NULL, 0), 0);
    env_end(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_pb),
        cmocka_unit_test(test_drain_json),
        cmocka_unit_test(test_drain_legacy_form),
        cmocka_unit_test(test_drain_legacy_json),
        cmocka_unit_test(test_legacy_idle_only_batch),
        cmocka_unit_test(test_503_30_percent),
        cmocka_unit_test(test_other_retryable_statuses),
        cmocka_unit_test(test_429_retry_after_seconds),
        cmocka_unit_test(test_503_retry_after_date),
        cmocka_unit_test(test_lost_ack),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_server_down_then_up),
        cmocka_unit_test(test_413_splits),
        cmocka_unit_test(test_413_single_record_dead_lettered),
        cmocka_unit_test(test_poison_record),
        cmocka_unit_test(test_4xx_dead_letters_batch),
        cmocka_unit_test(test_401_then_fixed_token),
        cmocka_unit_test(test_refused_certificate),
        cmocka_unit_test(test_pinned_key),
        cmocka_unit_test(test_stop_is_bounded),
        cmocka_unit_test(test_wake_and_linger),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
