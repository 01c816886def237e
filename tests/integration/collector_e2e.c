/* collector_e2e.c — stint-collector end to end: the real executable on a free loopback port,
 * with a certificate made by the openssl CLI for this run, driven with libcurl.
 *
 * Each test starts its own server (fork/exec, `--listen 127.0.0.1:0 --port-file`) on a data
 * folder of its own and stops it with SIGTERM (or SIGKILL where a crash is the point). */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <zlib.h>

#include "stint/json.h"
#include "stint/pb.h"

#define ALICE_TOKEN "alice-token-0123456789"
#define BOB_TOKEN "bob-token-abcdefghijkl"
#define ADMIN_TOKEN "admin-token-zyxwvutsrq"

static char base[64]; /* the run's folder: cert, key, tokens */
static char cert[128], key[128], tokens[128], admin_tokens[128];
static int data_seq;

struct server {
    pid_t pid;
    int port;
    int admin_port;
    bool http;
    char data[128];
    char out[160]; /* the server's stdout+stderr */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static int group_setup(void **state)
{
    char cmd[1024];
    FILE *f;

    (void)state;
    snprintf(base, sizeof(base), "/tmp/stint-coll-e2e-XXXXXX");
    if (!mkdtemp(base))
        return -1;
    snprintf(cert, sizeof(cert), "%s/cert.pem", base);
    snprintf(key, sizeof(key), "%s/key.pem", base);
    snprintf(tokens, sizeof(tokens), "%s/tokens", base);
    snprintf(admin_tokens, sizeof(admin_tokens), "%s/admin-tokens", base);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
             "-keyout %s -out %s 2>/dev/null",
             key, cert);
    if (system(cmd) != 0)
        return -1;
    f = fopen(tokens, "w");
    if (!f)
        return -1;
    fprintf(f, "# test tokens\n%s alice\n%s bob\n", ALICE_TOKEN, BOB_TOKEN);
    fclose(f);
    chmod(tokens, 0600);
    f = fopen(admin_tokens, "w");
    if (!f)
        return -1;
    fprintf(f, "%s operator\n", ADMIN_TOKEN);
    fclose(f);
    chmod(admin_tokens, 0600);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[128];
    (void)state;
    curl_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void new_data(struct server *s)
{
    snprintf(s->data, sizeof(s->data), "%s/data%d", base, ++data_seq);
}

/* Starts the collector with extra arguments (NULL-terminated); returns its exit status instead
 * when it exits within the wait (want_fail), else asserts it came up. */
static int start(struct server *s, bool want_fail, const char *const *extra)
{
    char portfile[200];
    const char *argv[64];
    int n = 0, i, status = 0;
    double t0;
    pid_t pid, parent;

    snprintf(portfile, sizeof(portfile), "%s.port", s->data);
    snprintf(s->out, sizeof(s->out), "%s.out", s->data);
    unlink(portfile);
    argv[n++] = STINT_COLLECTOR_BIN;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--data";
    argv[n++] = s->data;
    argv[n++] = "--tokens";
    argv[n++] = tokens;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    if (!s->http) {
        argv[n++] = "--tls-cert";
        argv[n++] = cert;
        argv[n++] = "--tls-key";
        argv[n++] = key;
    }
    for (i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    parent = getpid();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(s->out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        /* a failed assertion leaves the test without stopping its server: it goes with us */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    s->pid = pid;
    t0 = now_s();
    while (now_s() - t0 < 20) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port);
            fclose(f);
            if (ok == 1 && s->port > 0)
                break;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            if (want_fail)
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
            fail_msg("collector exited early (status %d); see %s", status, s->out);
        }
        sleep_s(0.02);
    }
    if (want_fail)
        fail_msg("collector started although it should have refused");
    assert_true(s->port > 0);
    /* the admin port, when asked for, is on the server's stdout */
    s->admin_port = 0;
    for (i = 0; extra && extra[i]; i++) {
        if (strcmp(extra[i], "--admin") == 0) {
            char line[256];
            FILE *f = fopen(s->out, "r");
            assert_non_null(f);
            while (fgets(line, sizeof(line), f)) {
                char *p = strstr(line, "admin endpoint on ");
                if (p && (p = strstr(p, "port ")))
                    s->admin_port = (int)strtol(p + 5, NULL, 10);
            }
            fclose(f);
            assert_true(s->admin_port > 0);
        }
    }
    return 0;
}

static void stop(struct server *s, int sig)
{
    int status = 0;
    if (!s->pid)
        return;
    kill(s->pid, sig);
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    if (sig == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fail_msg("collector did not exit cleanly on SIGTERM (status %d); see %s", status, s->out);
    s->pid = 0;
}

struct resp {
    long status;
    CURLcode cc;
    struct stint_buf body;
    char retry_after[64];
    char content_type[64];
    double seconds;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct resp *r = ctx;
    stint_buf_append(&r->body, p, size * n);
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct resp *r = ctx;
    size_t len = size * n;
    char *dst = NULL;
    size_t skip = 0;

    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        dst = r->retry_after;
        skip = 12;
    } else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
        dst = r->content_type;
        skip = 13;
    }
    if (dst) {
        size_t m = len - skip;
        while (m && (p[skip] == ' '))
            skip++, m--;
        while (m && (p[skip + m - 1] == '\r' || p[skip + m - 1] == '\n'))
            m--;
        if (m > 63)
            m = 63;
        memcpy(dst, p + skip, m);
        dst[m] = '\0';
    }
    return len;
}

/* One request on a new connection. headers: NULL-terminated. */
static void req_port(const struct server *s, int port, bool http, const char *method,
                     const char *path, const char *const *headers, const void *body, size_t len,
                     struct resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[256];
    int i;

    (void)s;
    stint_buf_free(&r->body);
    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", http ? "http" : "https", port, path);
    for (i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    r->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    stint_buf_append(&r->body, "", 1); /* NUL for strstr; not counted below */
    r->body.len--;
}

static void req(const struct server *s, const char *method, const char *path,
                const char *const *headers, const void *body, size_t len, struct resp *r)
{
    req_port(s, s->port, s->http, method, path, headers, body, len, r);
}

/* A batch of n records from seq first, agent byte `agent`. */
static void batch(bool json, uint8_t agent, uint64_t first, size_t n, struct stint_buf *out)
{
    struct stint_record *r = calloc(n ? n : 1, sizeof(*r));
    struct stint_batch head;
    struct stint_record_array arr = {r, n, 0};
    struct stint_record_iter it = stint_record_array_iter(&arr);
    size_t i;

    for (i = 0; i < n; i++) {
        stint_record_clear(&r[i]);
        r[i].seq = first + i;
        r[i].start_ms = 1700000000000 + (int64_t)(first + i) * 1000;
        r[i].end_ms = r[i].start_ms + 999;
        r[i].kind = STINT_KIND_ACTIVE;
        stint_record_set(&r[i], STINT_FIELD_APP, "xterm", 5);
        stint_record_set(&r[i], STINT_FIELD_TITLE, "make test", 9);
    }
    stint_batch_clear(&head);
    memset(head.agent_id, agent, STINT_AGENT_ID_LEN);
    head.agent_id_len = STINT_AGENT_ID_LEN;
    head.now_ms = 1700000000000;
    stint_buf_reset(out);
    if (json)
        assert_int_equal(stint_json_encode_batch(&head, &it, out), STINT_OK);
    else
        assert_int_equal(stint_pb_encode_batch(&head, &it, out), STINT_OK);
    free(r);
}

static const char *const alice_pb[] = {"Authorization: Bearer " ALICE_TOKEN,
                                       "Content-Type: application/x-protobuf", NULL};
static const char *const alice_json[] = {"Authorization: Bearer " ALICE_TOKEN,
                                         "Content-Type: application/json", NULL};
static const char *const alice_gz[] = {"Authorization: Bearer " ALICE_TOKEN,
                                       "Content-Type: application/x-protobuf",
                                       "Content-Encoding: gzip", NULL};
static const char *const bob_pb[] = {"Authorization: Bearer " BOB_TOKEN,
                                     "Content-Type: application/x-protobuf", NULL};

static void pb_ack(const struct resp *r, struct stint_ack *a)
{
    if (r->status != 200)
        fail_msg("status %ld (curl %d): %s", r->status, (int)r->cc, (const char *)r->body.data);
    assert_int_equal(stint_pb_decode_ack(r->body.data, r->body.len, a, NULL, NULL), STINT_OK);
}

/* Lines printed by `stint-collector ARGS` (dump or stats), into out (may be NULL). */
static int cli_lines(const char *args, struct stint_buf *out)
{
    char cmd[512], line[8192];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "%s %s", STINT_COLLECTOR_BIN, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p)) {
        n++;
        if (out)
            stint_buf_append_str(out, line);
    }
    assert_int_equal(pclose(p), 0);
    if (out)
        stint_buf_append(out, "", 1);
    return n;
}

static int dump_count(const struct server *s, const char *account)
{
    char args[256];
    snprintf(args, sizeof(args), "dump --data %s --account %s", s->data, account);
    return cli_lines(args, NULL);
}

static void gzip_buf(const struct stint_buf *in, struct stint_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    stint_buf_reset(out);
    stint_buf_reserve(out, deflateBound(&zs, (uLong)in->len) + 64);
    zs.next_in = in->data;
    zs.avail_in = (uInt)in->len;
    zs.next_out = out->data;
    zs.avail_out = (uInt)out->cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out->len = zs.total_out;
    deflateEnd(&zs);
}

/* TLS, both encodings, gzip, replays, partial rejection, dump and stats while serving. */
static void test_serve_batches(void **state)
{
    struct server s = {0};
    struct resp r = {0};
    struct stint_buf b = {0}, z = {0}, out = {0};
    struct stint_ack a, a2;

    (void)state;
    new_data(&s);
    start(&s, false, NULL);
    req(&s, "GET", "/v1/health", NULL, NULL, 0, &r);
    assert_int_equal(r.cc, CURLE_OK);
    assert_int_equal(r.status, 200);
    /* plain HTTP to the TLS port gets no answer */
    req_port(&s, s.port, true, "GET", "/v1/health", NULL, NULL, 0, &r);
    assert_true(r.status != 200);

    batch(false, 1, 1, 100, &b);
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    pb_ack(&r, &a);
    assert_string_equal(r.content_type, "application/x-protobuf");
    assert_int_equal(a.stored, 100);
    assert_int_equal(a.acked_seq, 100);
    /* the replay: nothing stored, the same Ack */
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    pb_ack(&r, &a2);
    assert_int_equal(a2.stored, a.stored);
    assert_int_equal(a2.server_time_ms, a.server_time_ms);
    stint_ack_free(&a);
    stint_ack_free(&a2);

    batch(true, 1, 101, 50, &b);
    req(&s, "POST", "/v1/batches", alice_json, b.data, b.len, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_non_null(strstr((char *)r.body.data, "\"ackedSeq\":\"150\""));
    assert_non_null(strstr((char *)r.body.data, "\"stored\":\"50\""));

    batch(false, 2, 1, 1000, &b);
    gzip_buf(&b, &z);
    assert_true(z.len < b.len);
    req(&s, "POST", "/v1/batches", alice_gz, z.data, z.len, &r);
    pb_ack(&r, &a);
    assert_int_equal(a.stored, 1000);
    stint_ack_free(&a);

    /* a partly bad batch: the good records stored, the bad one named in the Ack */
    {
        const char *bad =
            "{\"agentId\":\"AwMDAwMDAwMDAwMDAwMDAw==\",\"records\":["
            "{\"seq\":\"1\",\"startMs\":\"1700000000000\",\"endMs\":\"1700000001000\"},"
            "{\"seq\":\"2\",\"startMs\":\"1700000002000\",\"endMs\":\"5\"},"
            "{\"seq\":\"3\",\"startMs\":\"1700000003000\",\"endMs\":\"1700000004000\"}]}";
        req(&s, "POST", "/v1/batches", alice_json, bad, strlen(bad), &r);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr((char *)r.body.data, "\"stored\":\"2\""));
        assert_non_null(strstr((char *)r.body.data,
                               "\"rejected\":[{\"seq\":\"2\",\"code\":\"REJECT_BAD_TIME\""));
    }

    /* dump and stats work while the server holds the database */
    assert_int_equal(dump_count(&s, "alice"), 1152);
    {
        char args[256];
        snprintf(args, sizeof(args), "dump --data %s --account alice --since 990", s.data);
        assert_int_equal(cli_lines(args, &out), 10); /* agent 2's 991..1000 */
        assert_non_null(strstr((char *)out.data, "{\"account\":\"alice\",\"agentId\":"
                                                 "\"02020202020202020202020202020202\",\"seq\":"
                                                 "\"991\",\"receivedMs\":\""));
    }
    stint_buf_reset(&out);
    {
        char args[256];
        snprintf(args, sizeof(args), "stats --data %s", s.data);
        cli_lines(args, &out);
        assert_non_null(strstr((char *)out.data, "total accounts=1 agents=3 records=1152"));
        assert_non_null(strstr((char *)out.data,
                               "agent account=alice agent_id=01010101010101010101010101010101 "
                               "records=150 max_seq=150"));
        assert_non_null(strstr((char *)out.data, "replays=1"));
    }
    stop(&s, SIGTERM);
    /* and without a server, from the database itself */
    assert_int_equal(dump_count(&s, "alice"), 1152);
    stint_buf_free(&b);
    stint_buf_free(&z);
    stint_buf_free(&out);
    stint_buf_free(&r.body);
}

/* Every auth case, and one account never touching another's data. */
static void test_auth_and_isolation(void **state)
{
    static const char *const no_auth[] = {"Content-Type: application/x-protobuf", NULL};
    static const char *const bad_token[] = {"Authorization: Bearer not-a-token-at-all-xx",
                                            "Content-Type: application/x-protobuf", NULL};
    static const char *const basic[] = {
        "Authorization: Basic YWxpY2U6eA==", "Content-Type: application/x-protobuf", NULL};
    static const char *const bob_del[] = {"Authorization: Bearer " BOB_TOKEN, NULL};
    static const char *const alice_del[] = {"Authorization: Bearer " ALICE_TOKEN, NULL};
    struct server s = {0};
    struct resp r = {0};
    struct stint_buf b = {0};

    (void)state;
    new_data(&s);
    start(&s, false, NULL);
    batch(false, 7, 1, 10, &b);
    req(&s, "POST", "/v1/batches", no_auth, b.data, b.len, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr((char *)r.body.data, "{\"error\":{\"code\":\"unauthorized\""));
    req(&s, "POST", "/v1/batches", bad_token, b.data, b.len, &r);
    assert_int_equal(r.status, 401);
    req(&s, "POST", "/v1/batches", basic, b.data, b.len, &r);
    assert_int_equal(r.status, 401);
    req(&s, "DELETE", "/v1/data", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    assert_int_equal(dump_count(&s, "alice"), 0);

    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    assert_int_equal(r.status, 200);
    /* bob's token: bob's space only (the same agent and seqs are new there) */
    assert_int_equal(dump_count(&s, "bob"), 0);
    req(&s, "POST", "/v1/batches", bob_pb, b.data, b.len, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.body.len);
    req(&s, "DELETE", "/v1/data", bob_del, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, "{\"deletedRecords\":\"10\"}");
    assert_int_equal(dump_count(&s, "bob"), 0);
    assert_int_equal(dump_count(&s, "alice"), 10);
    req(&s, "DELETE", "/v1/data", alice_del, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(dump_count(&s, "alice"), 0);
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&r.body);
}

/* Limits: body as sent, after gzip, records per batch, slow clients; odd methods and types. */
static void test_limits(void **state)
{
    static const char *const extra[] = {
        "--max-body", "15000", "--max-decoded", "300000", "--max-records", "500", "--timeout",
        "1",          NULL};
    static const char *const chunked[] = {"Authorization: Bearer " ALICE_TOKEN,
                                          "Content-Type: application/x-protobuf",
                                          "Transfer-Encoding: chunked", NULL};
    static const char *const text[] = {"Authorization: Bearer " ALICE_TOKEN,
                                       "Content-Type: text/plain", NULL};
    static const char *const brotli[] = {"Authorization: Bearer " ALICE_TOKEN,
                                         "Content-Type: application/x-protobuf",
                                         "Content-Encoding: br", NULL};
    struct server s = {0};
    struct resp r = {0};
    struct stint_buf b = {0}, z = {0}, zeros = {0};

    (void)state;
    new_data(&s);
    start(&s, false, extra);
    batch(false, 1, 1, 501, &b); /* ~ 19 KB: over the body limit as sent */
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    if (r.status != 413 || !strstr((char *)r.body.data, "\"code\":\"body_too_large\""))
        fail_msg("%ld curl %d len %zu: %s", r.status, (int)r.cc, b.len, (char *)r.body.data);
    req(&s, "POST", "/v1/batches", chunked, b.data, b.len, &r);
    assert_int_equal(r.status, 413);
    gzip_buf(&b, &z); /* small once gzipped: then the record limit speaks */
    assert_true(z.len < 15000);
    req(&s, "POST", "/v1/batches", alice_gz, z.data, z.len, &r);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr((char *)r.body.data, "\"code\":\"too_many_records\""));
    /* a decompression bomb: 8 MiB of zeros in ~8 KiB */
    stint_buf_reserve(&zeros, 8u << 20);
    memset(zeros.data, 0, 8u << 20);
    zeros.len = 8u << 20;
    gzip_buf(&zeros, &z);
    assert_true(z.len < 15000);
    req(&s, "POST", "/v1/batches", alice_gz, z.data, z.len, &r);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr((char *)r.body.data, "\"code\":\"decoded_too_large\""));
    req(&s, "POST", "/v1/batches", text, b.data, 10, &r);
    assert_int_equal(r.status, 415);
    req(&s, "POST", "/v1/batches", brotli, b.data, 10, &r);
    assert_int_equal(r.status, 415);
    req(&s, "POST", "/v1/batches", alice_pb, "\xff\xff\xff", 3, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr((char *)r.body.data, "\"code\":\"bad_batch\""));
    req(&s, "PUT", "/v1/batches", alice_pb, "", 0, &r);
    assert_int_equal(r.status, 405);
    req(&s, "GET", "/nothing", NULL, NULL, 0, &r);
    assert_int_equal(r.status, 404);
    /* a slow client (connects, says nothing) is cut off after --timeout */
    {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        char c;
        double t0 = now_s();
        struct timeval tv = {10, 0};

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)s.port);
        sa.sin_addr.s_addr = htonl(0x7f000001);
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        while (recv(fd, &c, 1, 0) > 0) {
            /* a TLS alert may come before the close */
        }
        assert_true(now_s() - t0 < 8); /* closed by the server, not our 10 s receive timeout */
        close(fd);
    }
    batch(false, 1, 1, 500, &b);
    gzip_buf(&b, &z);
    req(&s, "POST", "/v1/batches", alice_gz, z.data, z.len, &r);
    assert_int_equal(r.status, 200);
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&z);
    stint_buf_free(&zeros);
    stint_buf_free(&r.body);
}

/* Refusals at start: a readable tokens file, plain HTTP off loopback, admin off loopback. */
static void test_refuses_to_start(void **state)
{
    static const char *const off_loopback[] = {"--insecure-http", NULL};
    static const char *const admin_public[] = {"--admin", "0.0.0.0:0", "--admin-tokens",
                                               admin_tokens, NULL};
    static const char *const admin_no_token[] = {"--admin", "127.0.0.1:0", NULL};
    static const char *const bad_fault[] = {"--fault", "status=200", NULL};
    struct server s = {0};
    char cmd[512];

    (void)state;
    new_data(&s);
    chmod(tokens, 0644);
    assert_int_equal(start(&s, true, NULL), 1);
    chmod(tokens, 0600);
    snprintf(cmd, sizeof(cmd), "grep -q 'chmod 600' %s", s.out);
    run(cmd);
    assert_int_equal(start(&s, true, admin_public), 1);
    assert_int_equal(start(&s, true, admin_no_token), 2); /* the admin endpoint needs tokens */
    snprintf(cmd, sizeof(cmd), "grep -q 'needs --admin-tokens' %s", s.out);
    run(cmd);
    assert_int_equal(start(&s, true, bad_fault), 1);
    /* --insecure-http on a non-loopback address */
    {
        pid_t pid = fork();
        int status = 0;
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            dup2(fd, 2);
            execl(STINT_COLLECTOR_BIN, STINT_COLLECTOR_BIN, "serve", "--listen", "0.0.0.0:0",
                  "--data", s.data, "--tokens", tokens, "--insecure-http", (char *)NULL);
            _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    }
    (void)off_loopback;
    /* and plain HTTP on loopback works */
    s.http = true;
    start(&s, false, off_loopback);
    {
        struct resp r = {0};
        req(&s, "GET", "/v1/health", NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        stint_buf_free(&r.body);
    }
    stop(&s, SIGTERM);
}

/* Every fault kind, in order, each once; then the counters in stats. */
static void test_faults(void **state)
{
    static const char *const extra[] = {"--fault-seed",
                                        "1",
                                        "--fault",
                                        "status=503,retry-after=2,count=1",
                                        "--fault",
                                        "status=429,retry-after-date=3,count=1",
                                        "--fault",
                                        "reset,count=1",
                                        "--fault",
                                        "drop-after-store,count=1",
                                        "--fault",
                                        "delay=400,count=1",
                                        "--fault",
                                        "slow=10,count=1",
                                        "--fault",
                                        "stop-accepting=3,count=1",
                                        NULL};
    struct server s = {0};
    struct resp r = {0};
    struct stint_buf b = {0}, out = {0};
    struct stint_ack a;
    char args[256];

    (void)state;
    new_data(&s);
    start(&s, false, extra);
    batch(false, 4, 1, 10, &b);
    req(&s, "GET", "/v1/health", NULL, NULL, 0, &r); /* never faulted by default */
    assert_int_equal(r.status, 200);

    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.retry_after, "2");
    assert_non_null(strstr((char *)r.body.data, "\"code\":\"injected_fault\""));
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    assert_int_equal(r.status, 429);
    assert_int_equal(strlen(r.retry_after), 29); /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    assert_non_null(strstr(r.retry_after, " GMT"));
    {
        struct tm tm;
        char *end;
        memset(&tm, 0, sizeof(tm));
        end = strptime(r.retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        assert_non_null(end);
        assert_true(timegm(&tm) - time(NULL) >= 1 && timegm(&tm) - time(NULL) <= 4);
    }
    assert_int_equal(dump_count(&s, "alice"), 0);

    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r); /* reset before the body */
    assert_int_not_equal(r.cc, CURLE_OK);
    assert_int_equal(dump_count(&s, "alice"), 0);

    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r); /* the lost Ack */
    assert_int_not_equal(r.cc, CURLE_OK);
    assert_int_equal(dump_count(&s, "alice"), 10);

    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r); /* delayed replay */
    assert_true(r.seconds >= 0.35);
    pb_ack(&r, &a);
    assert_int_equal(a.stored, 10); /* the Ack the lost answer carried */
    assert_int_equal(a.acked_seq, 10);
    stint_ack_free(&a);
    assert_int_equal(dump_count(&s, "alice"), 10);

    batch(false, 4, 11, 5, &b);
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r); /* slow answer */
    pb_ack(&r, &a);
    assert_true(r.seconds >= 0.8); /* ~14 bytes at 10 bytes/s */
    stint_ack_free(&a);

    batch(false, 4, 16, 5, &b);
    {
        double t0 = now_s();
        req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r); /* stop accepting, 3 s */
        assert_int_not_equal(r.cc, CURLE_OK);
        req(&s, "GET", "/v1/health", NULL, NULL, 0, &r); /* refused too */
        if (now_s() - t0 < 2.5) /* a very loaded machine may take longer: then no claim */
            assert_int_not_equal(r.cc, CURLE_OK);
        sleep_s(3.2 - (now_s() - t0) > 0 ? 3.2 - (now_s() - t0) : 0);
    }
    {
        /* serving again after the window; on a loaded machine the listener may come back a
         * little late, so a refused attempt is tried again (the batch is the same: de-duplicated)
         */
        double t1 = now_s();
        for (;;) {
            req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
            if (r.status == 200 || now_s() - t1 > 10)
                break;
            sleep_s(0.2);
        }
    }
    assert_int_equal(r.status, 200);
    assert_int_equal(dump_count(&s, "alice"), 20);

    snprintf(args, sizeof(args), "stats --data %s", s.data);
    cli_lines(args, &out);
    if (!strstr((char *)out.data, "faults injected=7 status=2 delay=1 reset=1 drop_after_store=1 "
                                  "slow=1 stop_accepting=1 refused="))
        fail_msg("stats:\n%s", (char *)out.data);
    assert_non_null(strstr((char *)out.data, "spec=\"reset,count=1\" matched=1 injected=1"));
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&out);
    stint_buf_free(&r.body);
}

/* A seeded rate: about the rate, and the same statuses again with the same seed. */
static void test_fault_rate_seeded(void **state)
{
    static const char *const extra[] = {"--fault-seed", "7", "--fault", "status=503,rate=0.5",
                                        NULL};
    char pattern[2][41];
    struct resp r = {0};
    struct stint_buf b = {0};
    int run_i, i, fired = 0;

    (void)state;
    batch(false, 5, 1, 1, &b);
    for (run_i = 0; run_i < 2; run_i++) {
        struct server s = {0};
        new_data(&s);
        start(&s, false, extra);
        for (i = 0; i < 40; i++) {
            req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
            assert_true(r.status == 200 || r.status == 503);
            pattern[run_i][i] = r.status == 503 ? 'x' : '.';
            fired += run_i == 0 && r.status == 503;
        }
        pattern[run_i][40] = '\0';
        stop(&s, SIGTERM);
    }
    assert_string_equal(pattern[0], pattern[1]);
    assert_in_range(fired, 8, 32);
    stint_buf_free(&b);
    stint_buf_free(&r.body);
}

/* The admin endpoint: off by default, loopback only, its own tokens, sets and clears faults at
 * run time. */
static void test_admin_endpoint(void **state)
{
    static const char *const extra[] = {"--admin", "127.0.0.1:0", "--admin-tokens", admin_tokens,
                                        NULL};
    static const char *const adm[] = {"Authorization: Bearer " ADMIN_TOKEN, NULL};
    static const char *const not_adm[] = {"Authorization: Bearer " ALICE_TOKEN, NULL};
    struct server s = {0};
    struct resp r = {0};
    struct stint_buf b = {0};
    const char *rules = "# one rule\nstatus=500,count=1\n";

    (void)state;
    new_data(&s);
    start(&s, false, extra);
    batch(false, 6, 1, 3, &b);
    req(&s, "GET", "/admin/stats", NULL, NULL, 0, &r); /* not on the public port */
    assert_int_equal(r.status, 404);
    /* without the admin token, or with an agent's: refused, nothing changes */
    req_port(&s, s.admin_port, true, "POST", "/admin/faults", NULL, rules, strlen(rules), &r);
    assert_int_equal(r.status, 401);
    req_port(&s, s.admin_port, true, "POST", "/admin/faults", not_adm, rules, strlen(rules), &r);
    assert_int_equal(r.status, 401);
    req_port(&s, s.admin_port, true, "GET", "/admin/stats", not_adm, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    req_port(&s, s.admin_port, true, "POST", "/admin/faults", adm, rules, strlen(rules), &r);
    assert_int_equal(r.status, 204);
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    assert_int_equal(r.status, 500);
    req(&s, "POST", "/v1/batches", alice_pb, b.data, b.len, &r);
    assert_int_equal(r.status, 200);
    req_port(&s, s.admin_port, true, "GET", "/admin/stats", adm, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr((char *)r.body.data,
                           "fault rule=1 spec=\"status=500,count=1\" matched=1 injected=1"));
    assert_non_null(strstr((char *)r.body.data, "total accounts=1 agents=1 records=3"));
    req_port(&s, s.admin_port, true, "POST", "/admin/faults", adm, "bogus", 5, &r);
    assert_int_equal(r.status, 400);
    req_port(&s, s.admin_port, true, "DELETE", "/admin/faults", adm, NULL, 0, &r);
    assert_int_equal(r.status, 204);
    req_port(&s, s.admin_port, true, "GET", "/admin/faults", adm, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr((char *)r.body.data, "fault rule="));
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&r.body);
}

/* A run of 40 batches with a crash (SIGKILL) and a clean restart in the middle: the sender
 * retries what got no Ack; in the end every record is there exactly once. */
static void test_restart_mid_run(void **state)
{
    struct server s = {0};
    struct resp r = {0};
    struct stint_buf b = {0}, out = {0};
    char args[256];
    int i;

    (void)state;
    new_data(&s);
    start(&s, false, NULL);
    for (i = 0; i < 40; i++) {
        int tries = 0;
        batch(i % 2 == 0, 9, (uint64_t)i * 25 + 1, 25, &b);
        for (;;) {
            req(&s, "POST", "/v1/batches", i % 2 == 0 ? alice_json : alice_pb, b.data, b.len, &r);
            if (r.status == 200)
                break;
            assert_true(++tries < 50);
            if (!s.pid)
                start(&s, false, NULL); /* the operator brings it back */
            sleep_s(0.05);
        }
        if (i == 14)
            stop(&s, SIGKILL); /* a crash after an acknowledged batch */
        if (i == 29) {
            stop(&s, SIGTERM);
            start(&s, false, NULL);
        }
    }
    stop(&s, SIGTERM);
    assert_int_equal(dump_count(&s, "alice"), 1000);
    snprintf(args, sizeof(args), "stats --data %s", s.data);
    cli_lines(args, &out);
    assert_non_null(strstr((char *)out.data, "records=1000 max_seq=1000"));
    stint_buf_free(&b);
    stint_buf_free(&out);
    stint_buf_free(&r.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_batches),  cmocka_unit_test(test_auth_and_isolation),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_refuses_to_start),
        cmocka_unit_test(test_faults),         cmocka_unit_test(test_fault_rate_seeded),
        cmocka_unit_test(test_admin_endpoint), cmocka_unit_test(test_restart_mid_run),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
