/* test_sender_script.c — the sender's state machine against a scripted HTTP server on loopback
 * (plain http://, which the sender allows to loopback only): batch splitting on 413 down to one
 * record and back up, the Idempotency-Key stable across retries while now_ms is fresh on each,
 * and the dead-lettering of a single record still too large. The server is a thread of this
 * test: it reads each request, decodes the protobuf Batch, and answers as the script says. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "sender.h"
#include "stint/pb.h"

#define MAX_SEEN 256

struct seen {
    size_t records;
    uint64_t first, last;
    int64_t now_ms;
    char key[128];
    int status;
};

struct server {
    int fd, port;
    pthread_t thread;
    int max_records;      /* answer 413 above this many records */
    int fail_first;       /* answer 503 to the first N requests */
    uint64_t too_big_seq; /* 413 whenever this seq is in the batch */
    pthread_mutex_t mu;
    struct seen seen[MAX_SEEN];
    size_t n_seen;
    uint64_t acked;
};

struct count_ctx {
    size_t n;
    uint64_t first, last;
};

static enum stint_err count_rec(void *ctx, const struct stint_record *r)
{
    struct count_ctx *c = ctx;
    if (c->n++ == 0)
        c->first = r->seq;
    c->last = r->seq;
    return STINT_OK;
}

static void serve_conn(struct server *sv, int c)
{
    static char buf[4 << 20];
    for (;;) {
        size_t len = 0, hdr_end = 0, clen = 0;
        char *p, key[128] = "", resp[512];
        struct stint_batch head;
        struct count_ctx cc = {0, 0, 0};
        struct stint_buf ack_out = {0};
        struct stint_ack ack;
        struct seen *s;
        int status;
        ssize_t r;

        while (!hdr_end) {
            r = read(c, buf + len, sizeof(buf) - 1 - len);
            if (r <= 0)
                return;
            len += (size_t)r;
            buf[len] = '\0';
            p = strstr(buf, "\r\n\r\n");
            if (p)
                hdr_end = (size_t)(p - buf) + 4;
        }
        p = strcasestr(buf, "\r\nContent-Length:");
        if (p)
            clen = strtoul(p + 17, NULL, 10);
        p = strcasestr(buf, "\r\nIdempotency-Key:");
        if (p && p < buf + hdr_end)
            sscanf(p + 18, " %127[^\r\n]", key);
        while (len < hdr_end + clen) {
            r = read(c, buf + len, sizeof(buf) - 1 - len);
            if (r <= 0)
                return;
            len += (size_t)r;
        }
        stint_batch_clear(&head);
        assert_int_equal(stint_pb_decode_batch((const uint8_t *)buf + hdr_end, clen, &head,
                                               count_rec, &cc, NULL, NULL),
                         STINT_OK);
        pthread_mutex_lock(&sv->mu);
        if (sv->fail_first > 0) {
            sv->fail_first--;
            status = 503;
            usleep(5000); /* attempts are apart in time whatever the backoff draws */
        } else if ((sv->max_records && cc.n > (size_t)sv->max_records) ||
                   (sv->too_big_seq && sv->too_big_seq >= cc.first && sv->too_big_seq <= cc.last)) {
            status = 413;
        } else {
            status = 200;
            sv->acked = cc.last;
        }
        if (sv->n_seen < MAX_SEEN) {
            s = &sv->seen[sv->n_seen++];
            s->records = cc.n;
            s->first = cc.first;
            s->last = cc.last;
            s->now_ms = head.now_ms;
            snprintf(s->key, sizeof(s->key), "%s", key);
            s->status = status;
        }
        pthread_mutex_unlock(&sv->mu);
        if (status == 200) {
            memset(&ack, 0, sizeof(ack));
            ack.acked_seq = cc.last;
            ack.stored = cc.n;
            assert_int_equal(stint_pb_encode_ack(&ack, &ack_out), STINT_OK);
        }
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 %d X\r\nContent-Type: application/x-protobuf\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 status, ack_out.len);
        if (write(c, resp, strlen(resp)) < 0 ||
            (ack_out.len && write(c, ack_out.data, ack_out.len) < 0)) {
            stint_buf_free(&ack_out);
            return;
        }
        stint_buf_free(&ack_out);
    }
}

static void *server_main(void *arg)
{
    struct server *sv = arg;
    for (;;) {
        int c = accept(sv->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        serve_conn(sv, c);
        close(c);
    }
}

/* Listens on loopback: on sv->port when it is set (a server coming back), else on a free port. */
static void server_start(struct server *sv)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int one = 1;

    pthread_mutex_init(&sv->mu, NULL);
    sv->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sv->fd >= 0);
    assert_int_equal(setsockopt(sv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)sv->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(sv->fd, 4), 0);
    assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &al), 0);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

static void server_stop(struct server *sv)
{
    shutdown(sv->fd, SHUT_RDWR);
    close(sv->fd);
    pthread_join(sv->thread, NULL);
    pthread_mutex_destroy(&sv->mu);
}

struct fixture {
    char dir[64];
    struct stint_journal *j;
    struct stint_sender *s;
    struct server sv;
    char url[64];
};

static void fill(struct stint_journal *j, uint64_t n)
{
    struct stint_record r;
    uint64_t i;
    for (i = 0; i < n; i++) {
        stint_record_clear(&r);
        r.start_ms = 1700000000000 + (int64_t)i * 1000;
        r.end_ms = r.start_ms + 500;
        r.kind = STINT_KIND_ACTIVE;
        stint_record_set(&r, STINT_FIELD_APP, "xterm", 5);
        assert_int_equal(stint_journal_append(j, &r, 1, NULL, NULL), STINT_OK);
    }
}

static void begin(struct fixture *f, uint64_t n)
{
    struct stint_journal_opts jo;
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-send-script-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    memset(&jo, 0, sizeof(jo));
    jo.path = f->dir;
    jo.sync = STINT_SYNC_NONE;
    jo.max_age_ms = -1; /* the records are from 2023: the default 90-day bound would drop them */
    assert_int_equal(stint_journal_open(&jo, &f->j, NULL, NULL), STINT_OK);
    fill(f->j, n);
}

static void run_sender(struct fixture *f, size_t max_records)
{
    struct stint_sender_opts o;
    struct stint_sender_status st;
    int i;

    server_start(&f->sv);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->sv.port);
    memset(&o, 0, sizeof(o));
    o.url = f->url;
    o.token = "script-token";
    o.token_len = 12;
    o.batch_max_records = max_records;
    o.gzip_min_bytes = STINT_SENDER_NO_GZIP;
    o.backoff_base_ms = 5;
    o.backoff_cap_ms = 50;
    o.linger_ms = STINT_SENDER_NO_LINGER;
    o.no_netwatch = true;
    o.rng_seed = 1;
    assert_int_equal(stint_sender_create(&o, f->j, &f->s, NULL), STINT_OK);
    assert_int_equal(stint_sender_start(f->s), STINT_OK);
    stint_sender_wake(f->s);
    for (i = 0; i < 2000; i++) {
        stint_sender_status(f->s, &st);
        if (st.backlog == 0)
            break;
        usleep(5000);
    }
    assert_int_equal(st.backlog, 0);
    stint_sender_stop(f->s);
    if (getenv("STINT_SCRIPT_DEBUG")) {
        size_t k;
        for (k = 0; k < f->sv.n_seen; k++)
            fprintf(stderr, "req %zu: %zu records %llu-%llu status %d key %s\n", k,
                    f->sv.seen[k].records, (unsigned long long)f->sv.seen[k].first,
                    (unsigned long long)f->sv.seen[k].last, f->sv.seen[k].status,
                    f->sv.seen[k].key);
    }
}

static void end(struct fixture *f)
{
    char cmd[128];
    stint_sender_destroy(f->s);
    server_stop(&f->sv);
    stint_journal_close(f->j);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* 100 records, batches of 40, the server takes at most 7: 40 -> 20 -> 10 -> 5 (accepted), and
 * once the first 40 are through the limit is 40 again (and halves again). */
static void test_split_halves_and_recovers(void **state)
{
    struct fixture f;
    struct stint_sender_status st;
    size_t i;
    static const size_t want[] = {40, 20, 10, 5, 5, 5, 5, 5, 5, 5, 5, 40, 20, 10, 5};
    (void)state;
    begin(&f, 100);
    f.sv.max_records = 7;
    run_sender(&f, 40);
    stint_sender_status(f.s, &st);
    assert_int_equal(st.records_dead, 0);
    assert_int_equal(st.records_sent, 100);
    assert_true(f.sv.n_seen >= sizeof(want) / sizeof(want[0]));
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (f.sv.seen[i].records != want[i])
            fail_msg("request %zu carried %zu records, want %zu", i, f.sv.seen[i].records, want[i]);
    }
    assert_int_equal(f.sv.seen[0].status, 413);
    assert_int_equal(f.sv.seen[3].status, 200);
    assert_int_equal(f.sv.seen[3].first, 1);
    assert_int_equal(f.sv.seen[4].first, 6);
    end(&f);
}

/* One record too large even alone: dead-lettered, the rest goes on. */
static void test_single_record_413_dead_letters(void **state)
{
    struct fixture f;
    struct stint_sender_status st;
    (void)state;
    begin(&f, 20);
    f.sv.too_big_seq = 13;
    run_sender(&f, 8);
    stint_sender_status(f.s, &st);
    assert_int_equal(st.records_dead, 1);
    assert_int_equal(st.records_sent, 19);
    end(&f);
}

/* Retries of one batch: the same Idempotency-Key, a fresh now_ms each time. */
static void test_retry_keeps_key_refreshes_now(void **state)
{
    struct fixture f;
    struct timespec ts = {0, 30 * 1000000};
    (void)state;
    begin(&f, 10);
    f.sv.fail_first = 3;
    run_sender(&f, 100);
    nanosleep(&ts, NULL);
    assert_int_equal(f.sv.n_seen, 4);
    assert_int_equal(f.sv.seen[0].status, 503);
    assert_int_equal(f.sv.seen[3].status, 200);
    assert_true(strlen(f.sv.seen[0].key) > 33);
    assert_non_null(strstr(f.sv.seen[0].key, ":1-10"));
    assert_string_equal(f.sv.seen[0].key, f.sv.seen[1].key);
    assert_string_equal(f.sv.seen[0].key, f.sv.seen[3].key);
    assert_true(f.sv.seen[3].now_ms > f.sv.seen[0].now_ms);
    end(&f);
}

/* What the sender chose after each attempt, from its on_attempt callback. */
struct attempts {
    pthread_mutex_t mu;
    size_t n;
    struct stint_sender_attempt a[MAX_SEEN];
};

static void on_attempt(void *ctx, const struct stint_sender_attempt *a)
{
    struct attempts *t = ctx;
    pthread_mutex_lock(&t->mu);
    if (t->n < MAX_SEEN)
        t->a[t->n++] = *a;
    pthread_mutex_unlock(&t->mu);
}

static size_t attempts_n(struct attempts *t)
{
    size_t n;
    pthread_mutex_lock(&t->mu);
    n = t->n;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* A port on loopback with nothing listening (a connect is refused), free to listen on later. */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void sender_go(struct fixture *f, struct attempts *t, uint32_t base, uint32_t cap,
                      uint32_t probe)
{
    struct stint_sender_opts o;
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->sv.port);
    memset(&o, 0, sizeof(o));
    o.url = f->url;
    o.token = "script-token";
    o.token_len = 12;
    o.gzip_min_bytes = STINT_SENDER_NO_GZIP;
    o.backoff_base_ms = base;
    o.backoff_cap_ms = cap;
    o.probe_ms = probe;
    o.linger_ms = STINT_SENDER_NO_LINGER;
    o.no_netwatch = true;
    o.rng_seed = 7;
    o.on_attempt = on_attempt;
    o.cb_ctx = t;
    assert_int_equal(stint_sender_create(&o, f->j, &f->s, NULL), STINT_OK);
    assert_int_equal(stint_sender_start(f->s), STINT_OK);
    stint_sender_wake(f->s);
}

/* Waits (generous deadline, not a timing assertion) until the journal is empty. */
static void wait_drained(struct fixture *f)
{
    struct stint_sender_status st;
    for (int i = 0; i < 24000; i++) {
        stint_sender_status(f->s, &st);
        if (st.backlog == 0)
            return;
        usleep(5000);
    }
    fail_msg("backlog %llu left after 120 s", (unsigned long long)st.backlog);
}

/* Nothing listening: every refused attempt is followed by a probe-interval wait (0.5x..1.5x),
 * never by the backoff (a minute here, which the test could not sit out); once the server
 * listens, the very next attempt delivers. */
static void test_refused_probes_then_sends(void **state)
{
    struct fixture f;
    struct attempts *t = calloc(1, sizeof(*t));
    struct stint_sender_status st;
    const uint32_t probe = 300;
    size_t i, n;
    (void)state;
    assert_non_null(t);
    pthread_mutex_init(&t->mu, NULL);
    begin(&f, 25);
    f.sv.port = free_port();
    sender_go(&f, t, 60000, 300000, probe);
    for (i = 0; i < 24000 && attempts_n(t) < 3; i++)
        usleep(5000);
    assert_true(attempts_n(t) >= 3);
    server_start(&f.sv);
    wait_drained(&f);
    stint_sender_stop(f.s);
    n = attempts_n(t);
    assert_true(n >= 4);
    for (i = 0; i + 1 < n; i++) {
        if (t->a[i].cls != STINT_SEND_RETRY || t->a[i].curl_code != 7 ||
            t->a[i].wait_ms < probe / 2 || t->a[i].wait_ms > probe + probe / 2)
            fail_msg("attempt %zu: class %d, curl %d, wait %llu ms (want a refused connect and "
                     "a wait of %u..%u ms)",
                     i, (int)t->a[i].cls, t->a[i].curl_code, (unsigned long long)t->a[i].wait_ms,
                     probe / 2, probe + probe / 2);
    }
    assert_int_equal(t->a[n - 1].cls, STINT_SEND_OK);
    assert_int_equal(t->a[n - 1].records, 25);
    stint_sender_status(f.s, &st);
    assert_int_equal(st.probes, n - 1);
    assert_int_equal(st.records_sent, 25);
    end(&f);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* A server that answers 503 is busy, not away: the waits are the full-jitter backoff's draws
 * (the same seed replayed here), not the probe interval, and no probe is counted. */
static void test_503_keeps_backoff(void **state)
{
    struct fixture f;
    struct attempts *t = calloc(1, sizeof(*t));
    struct stint_backoff replica;
    struct stint_sender_status st;
    size_t i;
    (void)state;
    assert_non_null(t);
    pthread_mutex_init(&t->mu, NULL);
    begin(&f, 10);
    f.sv.fail_first = 6;
    server_start(&f.sv);
    sender_go(&f, t, 40, 5000, 300);
    wait_drained(&f);
    stint_sender_stop(f.s);
    assert_int_equal(attempts_n(t), 7); /* six refusals and the success: bounded */
    stint_backoff_init(&replica, 40, 5000, 7);
    for (i = 0; i < 6; i++) {
        uint64_t want = stint_backoff_next(&replica);
        assert_int_equal(t->a[i].status, 503);
        if (t->a[i].wait_ms != want)
            fail_msg("attempt %zu: wait %llu ms, the backoff draws %llu", i,
                     (unsigned long long)t->a[i].wait_ms, (unsigned long long)want);
    }
    assert_int_equal(t->a[6].cls, STINT_SEND_OK);
    stint_sender_status(f.s, &st);
    assert_int_equal(st.probes, 0);
    end(&f);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_halves_and_recovers),
        cmocka_unit_test(test_single_record_413_dead_letters),
        cmocka_unit_test(test_retry_keeps_key_refreshes_now),
        cmocka_unit_test(test_refused_probes_then_sends),
        cmocka_unit_test(test_503_keeps_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
