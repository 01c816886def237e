/* collector_hostile.c — stint-collector against hostile clients, and the promises of DELETE and
 * of its data folder, tried as an attacker would.
 *
 *   - malformed heads: a table of raw requests, each answered 400 (and controls answered 200);
 *   - TLS: `openssl s_client` for each refused version and suite (must fail) and each allowed
 *     one (must succeed);
 *   - memory before authentication: 200 unauthenticated uploads of 8 MiB at once; the server's
 *     RSS grows by less than 64 MiB and comes back within 16 MiB of where it started;
 *   - slowloris and floods: 600 slow-header connections from one address, 600 over
 *     127.0.0.2-127.0.0.250, 2,000 idle connections, and a slow body; meanwhile a legitimate
 *     agent on 127.0.0.1 gets each batch acknowledged within the head deadline plus 2 s;
 *   - DELETE: no byte of the deleted account's records (titles and URLs of random letters)
 *     is found in any file under --data, before and after a restart; the other account's
 *     records are all there;
 *   - --data readable by group or others is refused; every file made in it is 0600.
 * Plain HTTP (--insecure-http, loopback) for the raw-socket tests (malformed heads, slow
 * headers and bodies), where a socket-level client is simpler; the deadlines count from the
 * connection's start, TLS handshake included, and the idle flood runs on HTTPS. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "stint/pb.h"

#define ALICE_TOKEN "alice-token-0123456789"
#define BOB_TOKEN "bob-token-abcdefghijkl"
#define ADMIN_TOKEN "admin-token-zyxwvutsrq"
#define HEAD_TIMEOUT 3 /* --head-timeout of the fairness tests */

static char base[64], cert[128], key[128], tokens[128], admin_tokens[128];
static int data_seq;

struct server {
    pid_t pid;
    int port, admin_port;
    bool http;
    char data[128];
    char out[160];
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

static int group_setup(void **state)
{
    char cmd[1024];
    FILE *f;
    struct rlimit rl;

    (void)state;
    snprintf(base, sizeof(base), "/tmp/stint-coll-hostile-XXXXXX");
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
    fprintf(f, "%s alice\n%s bob\n", ALICE_TOKEN, BOB_TOKEN);
    fclose(f);
    chmod(tokens, 0600);
    f = fopen(admin_tokens, "w");
    if (!f)
        return -1;
    fprintf(f, "%s operator\n", ADMIN_TOKEN);
    fclose(f);
    chmod(admin_tokens, 0600);
    /* the floods open a few thousand sockets */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
        rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
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

/* Starts the collector (admin endpoint on, extra args NULL-terminated); the exit status when it
 * exits at once and want_fail, else asserts it came up. */
static int start(struct server *s, bool want_fail, const char *const *extra)
{
    char portfile[200], line[256];
    const char *argv[64];
    int n = 0, i, status = 0;
    double t0;
    pid_t pid, parent = getpid();
    FILE *f;

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
    argv[n++] = "--admin";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--admin-tokens";
    argv[n++] = admin_tokens;
    if (s->http) {
        argv[n++] = "--insecure-http";
    } else {
        argv[n++] = "--tls-cert";
        argv[n++] = cert;
        argv[n++] = "--tls-key";
        argv[n++] = key;
    }
    for (i = 0; extra && extra[i]; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(s->out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    s->pid = pid;
    s->port = 0;
    t0 = now_s();
    while (now_s() - t0 < 30) {
        f = fopen(portfile, "r");
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
    s->admin_port = 0;
    while (s->admin_port == 0 && now_s() - t0 < 30) {
        f = fopen(s->out, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
            char *p = strstr(line, "admin endpoint on ");
            if (p && (p = strstr(p, "port ")))
                s->admin_port = (int)strtol(p + 5, NULL, 10);
        }
        fclose(f);
        if (!s->admin_port)
            sleep_s(0.02);
    }
    assert_true(s->admin_port > 0);
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
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct resp *r = ctx;
    stint_buf_append(&r->body, p, size * n);
    return size * n;
}

/* One request on a new connection; headers NULL-terminated. */
static void req_port(int port, bool http, const char *method, const char *path,
                     const char *const *headers, const void *body, size_t len, long timeout,
                     struct resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[256];
    int i;

    stint_buf_free(&r->body);
    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", http ? "http" : "https", port, path);
    for (i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    r->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    stint_buf_append(&r->body, "", 1); /* NUL for strstr; not counted */
    r->body.len--;
}

static void admin_stats(const struct server *s, struct resp *r)
{
    static const char *const adm[] = {"Authorization: Bearer " ADMIN_TOKEN, NULL};
    req_port(s->admin_port, true, "GET", "/admin/stats", adm, NULL, 0, 20, r);
    assert_int_equal(r->status, 200);
}

/* The value of `name=` in the admin stats text. */
static unsigned long long stat_value(const struct server *s, const char *name)
{
    struct resp r = {0};
    char pat[64];
    const char *p;
    unsigned long long v = 0;

    admin_stats(s, &r);
    snprintf(pat, sizeof(pat), " %s=", name);
    p = strstr((const char *)r.body.data, pat);
    if (p)
        v = strtoull(p + strlen(pat), NULL, 10);
    stint_buf_free(&r.body);
    return v;
}

/* A protobuf batch of n records from seq first, agent byte `agent`, each with the title and
 * URL titles[i] and urls[i] (NULL: fixed ones). */
static void batch(uint8_t agent, uint64_t first, size_t n, char (*titles)[40], char (*urls)[64],
                  struct stint_buf *out)
{
    struct stint_record *r = calloc(n ? n : 1, sizeof(*r));
    struct stint_batch head;
    struct stint_record_array arr = {r, n, 0};
    struct stint_record_iter it = stint_record_array_iter(&arr);
    size_t i;

    assert_non_null(r);
    for (i = 0; i < n; i++) {
        stint_record_clear(&r[i]);
        r[i].seq = first + i;
        r[i].start_ms = 1700000000000 + (int64_t)(first + i) * 1000;
        r[i].end_ms = r[i].start_ms + 999;
        r[i].kind = STINT_KIND_ACTIVE;
        stint_record_set(&r[i], STINT_FIELD_APP, "firefox", 7);
        if (titles)
            stint_record_set(&r[i], STINT_FIELD_TITLE, titles[i], strlen(titles[i]));
        else
            stint_record_set(&r[i], STINT_FIELD_TITLE, "make test", 9);
        if (urls)
            stint_record_set(&r[i], STINT_FIELD_URL, urls[i], strlen(urls[i]));
    }
    stint_batch_clear(&head);
    memset(head.agent_id, agent, STINT_AGENT_ID_LEN);
    head.agent_id_len = STINT_AGENT_ID_LEN;
    head.now_ms = 1700000000000;
    stint_buf_reset(out);
    assert_int_equal(stint_pb_encode_batch(&head, &it, out), STINT_OK);
    free(r);
}

static const char *const alice_pb[] = {"Authorization: Bearer " ALICE_TOKEN,
                                       "Content-Type: application/x-protobuf", NULL};
static const char *const bob_pb[] = {"Authorization: Bearer " BOB_TOKEN,
                                     "Content-Type: application/x-protobuf", NULL};

/* Lines of `stint-collector dump` for account. */
static int dump_count(const struct server *s, const char *account)
{
    char cmd[512], line[8192];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "%s dump --data %s --account %s", STINT_COLLECTOR_BIN, s->data,
             account);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p))
        n++;
    assert_int_equal(pclose(p), 0);
    return n;
}

/* ---- malformed heads ---- */

/* Sends raw bytes on a new connection and returns the status of the answer (0: none). */
static int raw_status(int port, const char *bytes, size_t len, char *body, size_t cap)
{
    struct sockaddr_in sa;
    char buf[4096];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
    struct timeval tv = {10, 0};
    char *p;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(send(fd, bytes, len, 0), (ssize_t)len);
    while (got < sizeof(buf) - 1) {
        ssize_t r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = '\0';
        if ((p = strstr(buf, "\r\n\r\n")) && strstr(buf, "Content-Length: ")) {
            size_t cl = strtoul(strstr(buf, "Content-Length: ") + 16, NULL, 10);
            if (got >= (size_t)(p + 4 - buf) + cl)
                break;
        }
    }
    close(fd);
    buf[got] = '\0';
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        status = (int)strtol(buf + 9, NULL, 10);
    p = strstr(buf, "\r\n\r\n");
    snprintf(body, cap, "%s", p ? p + 4 : "");
    return status;
}

/* Each listed malformation gets 400 with the error body; the same requests made well-formed
 * get their normal answers, so the table cannot pass by refusing everything. */
static void test_malformed_heads(void **state)
{
#define R(s) s, sizeof(s) - 1
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
        int want;
    } cases[] = {
        {"Content-Length and Transfer-Encoding",
         R("POST /v1/batches HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " ALICE_TOKEN
           "\r\nContent-Type: application/x-protobuf\r\nContent-Length: 5\r\n"
           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
         400},
        {"two Content-Lengths",
         R("POST /v1/batches HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " ALICE_TOKEN
           "\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n"
           "Content-Length: 0\r\n\r\n"),
         400},
        {"two Content-Lengths that agree on nothing",
         R("POST /v1/batches HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 7\r\n"
           "\r\n"),
         400},
        {"a NUL inside a header value",
         R("GET /v1/health HTTP/1.1\r\nHost: a\r\nX-Note: a\0b\r\n\r\n"), 400},
        {"a NUL inside the Authorization value",
         R("DELETE /v1/data HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " BOB_TOKEN "\0x\r\n\r\n"),
         400},
        {"%00 in the path", R("GET /v1/health%00.html HTTP/1.1\r\nHost: a\r\n\r\n"), 400},
        {"%00 in a routed path",
         R("DELETE /v1/data%00 HTTP/1.1\r\nHost: a\r\nAuthorization: "
           "Bearer " BOB_TOKEN "\r\n\r\n"),
         400},
        {"HTTP/1.1 without Host", R("GET /v1/health HTTP/1.1\r\n\r\n"), 400},
        {"two Hosts", R("GET /v1/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400},
        /* controls: well-formed */
        {"control: health", R("GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n"), 200},
        {"control: HTTP/1.0 without Host", R("GET /v1/health HTTP/1.0\r\n\r\n"), 200},
        {"control: an escaped path", R("GET /v1/heal%74h HTTP/1.1\r\nHost: a\r\n\r\n"), 200},
        {"control: one Content-Length",
         R("POST /v1/batches HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " ALICE_TOKEN
           "\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"),
         400 /* an empty body is no Batch: 400 bad_batch, from the handler */},
        {"control: chunked alone",
         R("POST /v1/batches HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " ALICE_TOKEN
           "\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n"
           "0\r\n\r\n"),
         400},
    };
#undef R
    struct server s = {0};
    char body[2048];
    size_t i;

    (void)state;
    new_data(&s);
    s.http = true;
    start(&s, false, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = raw_status(s.port, cases[i].bytes, cases[i].len, body, sizeof(body));
        if (got != cases[i].want)
            fail_msg("%s: got %d, want %d (%s)", cases[i].name, got, cases[i].want, body);
        if (strncmp(cases[i].name, "control", 7) != 0)
            assert_non_null(strstr(body, "\"bad_request\""));
        else if (got == 400)
            assert_null(strstr(body, "\"bad_request\"")); /* the handler's 400, not the head's */
    }
    assert_int_equal(stat_value(&s, "malformed"), 9);
    assert_int_equal(dump_count(&s, "bob"), 0);
    stop(&s, SIGTERM);
}

/* ---- TLS ---- */

static void test_tls_versions_and_suites(void **state)
{
    static const struct {
        const char *args;
        bool ok;
    } cases[] = {
        {"-tls1 -cipher DEFAULT:@SECLEVEL=0", false},
        {"-tls1_1 -cipher DEFAULT:@SECLEVEL=0", false},
        {"-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0", false}, /* CBC, SHA-1 */
        {"-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0", false}, /* CBC, SHA-1 */
        {"-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256", false},          /* CBC */
        {"-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384", false},          /* CBC */
        {"-tls1_2 -cipher AES128-GCM-SHA256", false},                  /* RSA key exchange */
        {"-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256", true},
        {"-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384", true},
        {"-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305", true},
        {"-tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256", true},
        {"-tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384", true},
        {"-tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256", true},
    };
    struct server s = {0};
    char cmd[512];
    size_t i;

    (void)state;
    new_data(&s);
    start(&s, false, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        snprintf(cmd, sizeof(cmd),
                 "openssl s_client -connect 127.0.0.1:%d -servername localhost %s "
                 "</dev/null >/dev/null 2>&1",
                 s.port, cases[i].args);
        rc = system(cmd);
        if ((rc == 0) != cases[i].ok)
            fail_msg("openssl s_client %s: %s, want %s", cases[i].args,
                     rc == 0 ? "handshake done" : "refused", cases[i].ok ? "done" : "refused");
    }
    stop(&s, SIGTERM);
}

/* ---- memory before authentication ---- */

static long proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t n = strlen(field);
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

struct upload {
    size_t sent, total;
};

static size_t zeros(char *buf, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t m = size * n;
    if (m > u->total - u->sent)
        m = u->total - u->sent;
    memset(buf, 'z', m);
    u->sent += m;
    return m;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

#define UPLOADS 200
#define UPLOAD_BYTES ((size_t)8 << 20)

/* 200 connections at once, each sending an 8 MiB body without a token: each is answered 401,
 * and none of the bodies is kept. */
static void test_preauth_memory(void **state)
{
    static struct upload up[UPLOADS];
    CURL *e[UPLOADS];
    CURLM *m = curl_multi_init();
    struct curl_slist *h = NULL;
    struct server s = {0};
    struct resp r = {0};
    long base_kb, peak_kb = 0, hwm_kb, after_kb = 0;
    char url[128];
    int running = 0, i, n401 = 0;
    double t0;

    static const char *const no_ip_limit[] = {"--per-ip-limit", "0", NULL};

    (void)state;
    new_data(&s);
    start(&s, false, no_ip_limit); /* all 200 come from 127.0.0.1 */
    req_port(s.port, false, "GET", "/v1/health", NULL, NULL, 0, 20, &r);
    assert_int_equal(r.status, 200);
    sleep_s(0.5);
    base_kb = proc_kb(s.pid, "VmRSS");
    assert_true(base_kb > 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/batches", s.port);
    h = curl_slist_append(h, "Content-Type: application/x-protobuf");
    h = curl_slist_append(h, "Expect:");
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)UPLOADS);
    for (i = 0; i < UPLOADS; i++) {
        up[i].sent = 0;
        up[i].total = UPLOAD_BYTES;
        e[i] = curl_easy_init();
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        curl_easy_setopt(e[i], CURLOPT_CAINFO, cert);
        curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 240L);
        curl_easy_setopt(e[i], CURLOPT_POST, 1L);
        curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e[i], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)UPLOAD_BYTES);
        curl_easy_setopt(e[i], CURLOPT_READFUNCTION, zeros);
        curl_easy_setopt(e[i], CURLOPT_READDATA, &up[i]);
        curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
        curl_multi_add_handle(m, e[i]);
    }
    do {
        long rss;
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 50, NULL);
        rss = proc_kb(s.pid, "VmRSS");
        if (rss > peak_kb)
            peak_kb = rss;
    } while (running);
    for (i = 0; i < UPLOADS; i++) {
        long st = 0;
        curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &st);
        n401 += st == 401;
        curl_multi_remove_handle(m, e[i]);
        curl_easy_cleanup(e[i]);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(h);
    hwm_kb = proc_kb(s.pid, "VmHWM");
    if (hwm_kb > peak_kb)
        peak_kb = hwm_kb;
    /* the connections end; their memory goes back */
    t0 = now_s();
    while (now_s() - t0 < 30) {
        after_kb = proc_kb(s.pid, "VmRSS");
        if (after_kb <= base_kb + (16 << 10) && stat_value(&s, "open") <= 1)
            break;
        sleep_s(0.1);
    }
    print_message("RSS %ld kB at start, %ld kB at the peak (+%ld), %ld kB after; %d/%d "
                  "answered 401\n",
                  base_kb, peak_kb, peak_kb - base_kb, after_kb, n401, UPLOADS);
    assert_int_equal(n401, UPLOADS);
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer's allocator (quarantine, size-class caches) and shadow memory are in the
     * RSS too, and they are not the collector's: the bounds hold for the plain build. */
    print_message("RSS bounds not checked under AddressSanitizer\n");
#else
    assert_in_range(peak_kb - base_kb, 0, 64 << 10);
    assert_in_range(after_kb, 0, base_kb + (16 << 10));
#endif
    stop(&s, SIGTERM);
    stint_buf_free(&r.body);
}

/* ---- connection fairness ---- */

enum attack { SLOW_HEADERS, IDLE };

/* The attacker, in a child process: `conns` connections from the source addresses
 * 127.0.0.first..last in turn, each sending a header line every second (SLOW_HEADERS) or
 * nothing (IDLE); every connection the server closes is opened again. Runs until killed. */
static void attacker(int port, enum attack kind, int conns, int first, int last)
{
    int *fd = calloc((size_t)conns, sizeof(int));
    struct pollfd *pf = calloc((size_t)conns, sizeof(*pf));
    int i, next = first;

    if (!fd || !pf)
        _exit(1);
    for (i = 0; i < conns; i++)
        fd[i] = -1;
    for (;;) {
        for (i = 0; i < conns; i++) {
            if (fd[i] < 0) {
                struct sockaddr_in src, dst;
                int one = 1;
                fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (fd[i] < 0)
                    continue;
                setsockopt(fd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                memset(&src, 0, sizeof(src));
                src.sin_family = AF_INET;
                src.sin_addr.s_addr = htonl((127u << 24) | (unsigned)next);
                next = next == last ? first : next + 1;
                memset(&dst, 0, sizeof(dst));
                dst.sin_family = AF_INET;
                dst.sin_port = htons((uint16_t)port);
                dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                if (bind(fd[i], (struct sockaddr *)&src, sizeof(src)) != 0 ||
                    (connect(fd[i], (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
                     errno != EINPROGRESS)) {
                    close(fd[i]);
                    fd[i] = -1;
                    continue;
                }
                if (kind == SLOW_HEADERS)
                    (void)send(fd[i], "POST /v1/batches HTTP/1.1\r\n", 27, MSG_NOSIGNAL);
            }
        }
        /* a second of watching for closed connections, then one more header line each */
        {
            double t0 = now_s();
            while (now_s() - t0 < 1.0) {
                int n = 0;
                for (i = 0; i < conns; i++) {
                    pf[i].fd = fd[i];
                    pf[i].events = POLLIN;
                    pf[i].revents = 0;
                }
                n = poll(pf, (nfds_t)conns, 100);
                for (i = 0; n > 0 && i < conns; i++) {
                    char junk[512];
                    if (fd[i] >= 0 && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
                        recv(fd[i], junk, sizeof(junk), MSG_DONTWAIT) <= 0) {
                        close(fd[i]);
                        fd[i] = -1;
                    }
                }
            }
        }
        if (kind == SLOW_HEADERS)
            for (i = 0; i < conns; i++)
                if (fd[i] >= 0 && send(fd[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL) < 0) {
                    close(fd[i]);
                    fd[i] = -1;
                }
    }
}

/* The legitimate agent: `batches` batches in turn, each retried (new connection each time)
 * until acknowledged; returns the longest time one batch took from first try to its Ack. */
static double legit_agent(const struct server *s, int batches, uint8_t agent)
{
    struct stint_buf b = {0};
    struct resp r = {0};
    double worst = 0;
    int i;

    for (i = 0; i < batches; i++) {
        double t0 = now_s(), took;
        batch(agent, (uint64_t)i * 10 + 1, 10, NULL, NULL, &b);
        for (;;) {
            req_port(s->port, s->http, "POST", "/v1/batches", alice_pb, b.data, b.len, 30, &r);
            if (r.status == 200)
                break;
            if (now_s() - t0 > 60)
                fail_msg("batch %d not acknowledged in 60 s (last: status %ld, curl %d)", i,
                         r.status, (int)r.cc);
            sleep_s(0.05);
        }
        took = now_s() - t0;
        if (took > worst)
            worst = took;
        sleep_s(0.5);
    }
    stint_buf_free(&b);
    stint_buf_free(&r.body);
    return worst;
}

static pid_t spawn_attacker(int port, enum attack kind, int conns, int first, int last)
{
    pid_t parent = getpid(), pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        attacker(port, kind, conns, first, last);
        _exit(0);
    }
    return pid;
}

static void end_attacker(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Waits until the server holds at least n connections (the attack is in place). */
static void wait_open(const struct server *s, unsigned long long n)
{
    double t0 = now_s();
    while (stat_value(s, "open") < n) {
        if (now_s() - t0 > 60)
            fail_msg("the attack never held %llu connections", n);
        sleep_s(0.1);
    }
}

static const char *const fair_args[] = {"--head-timeout", "3", NULL};

/* 600 slow-header connections from one address: the per-address limit keeps them to 64. */
static void test_slowloris_one_address(void **state)
{
    struct server s = {0};
    pid_t att;
    double worst;

    (void)state;
    new_data(&s);
    s.http = true;
    start(&s, false, fair_args);
    att = spawn_attacker(s.port, SLOW_HEADERS, 600, 2, 2);
    wait_open(&s, 60);
    worst = legit_agent(&s, 10, 21);
    print_message("600 slow-header connections from 127.0.0.2: open %llu, worst batch %.2f s\n",
                  stat_value(&s, "open"), worst);
    assert_true(stat_value(&s, "open") <= 64 + 4);
    end_attacker(att);
    assert_true(worst <= HEAD_TIMEOUT + 2);
    assert_int_equal(dump_count(&s, "alice"), 100);
    stop(&s, SIGTERM);
}

/* 600 slow-header connections over 249 addresses (under the per-address limit each), and a slow
 * body: the head deadline cuts the slow heads whatever they send, the minimum rate cuts the
 * slow body. */
static void test_slowloris_spread(void **state)
{
    struct server s = {0};
    pid_t att;
    double worst, t0;
    int fd;
    struct sockaddr_in sa;
    char hdr[512];

    (void)state;
    new_data(&s);
    s.http = true;
    start(&s, false, fair_args);
    att = spawn_attacker(s.port, SLOW_HEADERS, 600, 2, 250);
    wait_open(&s, 400);
    /* a slow body: an accepted head, then 10 bytes a second */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)s.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(hdr, sizeof(hdr),
             "POST /v1/batches HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/x-protobuf\r\nContent-Length: 100000\r\n\r\n",
             ALICE_TOKEN);
    assert_int_equal(send(fd, hdr, strlen(hdr), MSG_NOSIGNAL), (ssize_t)strlen(hdr));
    worst = legit_agent(&s, 10, 22);
    t0 = now_s();
    for (;;) {
        if (send(fd, "0123456789", 10, MSG_NOSIGNAL) < 0)
            break;
        if (now_s() - t0 > 30)
            fail_msg("a body at 10 bytes/s was not cut off");
        sleep_s(1);
    }
    close(fd);
    print_message("600 slow-header connections over 127.0.0.2-250: head timeouts %llu, worst "
                  "batch %.2f s; slow bodies cut %llu\n",
                  stat_value(&s, "head_timeouts"), worst, stat_value(&s, "slow_bodies"));
    end_attacker(att);
    assert_true(stat_value(&s, "head_timeouts") >= 500);
    assert_true(stat_value(&s, "slow_bodies") >= 1);
    assert_true(worst <= HEAD_TIMEOUT + 2);
    assert_int_equal(dump_count(&s, "alice"), 100);
    stop(&s, SIGTERM);
}

/* 2,000 idle connections over 249 addresses, on HTTPS: more than the server's 1,024 slots; new
 * connections evict the oldest idle ones, so the agent always finds a slot. */
static void test_idle_flood(void **state)
{
    struct server s = {0};
    pid_t att;
    double worst;

    (void)state;
    new_data(&s);
    start(&s, false, fair_args); /* HTTPS: the idle ones never start their TLS handshake */
    att = spawn_attacker(s.port, IDLE, 2000, 2, 250);
    wait_open(&s, 900);
    worst = legit_agent(&s, 10, 23);
    print_message("2,000 idle connections: open %llu, evictions %llu, head timeouts %llu, worst "
                  "batch %.2f s\n",
                  stat_value(&s, "open"), stat_value(&s, "evictions"),
                  stat_value(&s, "head_timeouts"), worst);
    end_attacker(att);
    assert_true(stat_value(&s, "evictions") > 0);
    assert_true(worst <= HEAD_TIMEOUT + 2);
    assert_int_equal(dump_count(&s, "alice"), 100);
    stop(&s, SIGTERM);
}

/* ---- delete means gone ---- */

#define DEL_N 300

/* Reads every file under dir (recursively) and marks which needles occur in any. LevelDB
 * compresses its tables with snappy, which may replace any 4 bytes seen earlier in the same
 * 4 KiB block by a back-reference; a needle is 30 random letters and digits, and counts as found
 * when any of its thirds (10 bytes) is there as is: a chance repeat cuts one third, not all. */
static void scan_files(const char *dir, char (*needles)[40], size_t n, bool *found)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[512];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            scan_files(path, needles, n, found);
        } else if (S_ISREG(st.st_mode) && st.st_size > 0) {
            FILE *f = fopen(path, "rb");
            char *buf = malloc((size_t)st.st_size);
            size_t i, len, t;
            assert_non_null(f);
            assert_non_null(buf);
            len = fread(buf, 1, (size_t)st.st_size, f);
            fclose(f);
            for (i = 0; i < n; i++)
                for (t = 0; t < 3 && !found[i]; t++)
                    if (memmem(buf, len, needles[i] + 10 * t, 10))
                        found[i] = true;
            free(buf);
        }
    }
    closedir(d);
}

static size_t count_found(const struct server *s, char (*needles)[40], size_t n)
{
    bool *found = calloc(n, sizeof(bool));
    size_t i, k = 0;
    assert_non_null(found);
    scan_files(s->data, needles, n, found);
    for (i = 0; i < n; i++)
        k += found[i];
    free(found);
    return k;
}

static void random_letters(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = set[(unsigned)rand() % (sizeof(set) - 1)];
    out[n] = '\0';
}

/* Bob's records sit in a table file (written before a restart) and in the log and memtable
 * (after it); alice's beside them. After DELETE, none of bob's titles or URLs (random letters:
 * no compression can hide one) is in any file under --data, before and after a restart. */
static void test_delete_gone(void **state)
{
    static char titles[2 * DEL_N][40], urls[2 * DEL_N][64], needles[4 * DEL_N][40];
    static char alice_titles[DEL_N][40], alice_needles[DEL_N][40];
    struct server s = {0};
    struct stint_buf b = {0};
    struct resp r = {0};
    size_t i;
    char expect[64];

    (void)state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (i = 0; i < 2 * DEL_N; i++) {
        titles[i][0] = 'T';
        random_letters(titles[i] + 1, 30);
        snprintf(urls[i], sizeof(urls[i]), "https://");
        random_letters(urls[i] + 8, 30);
        snprintf(needles[2 * i], sizeof(needles[0]), "%s", titles[i] + 1);
        snprintf(needles[2 * i + 1], sizeof(needles[0]), "%s", urls[i] + 8);
    }
    for (i = 0; i < DEL_N; i++) {
        alice_titles[i][0] = 'A';
        random_letters(alice_titles[i] + 1, 30);
        snprintf(alice_needles[i], sizeof(alice_needles[0]), "%s", alice_titles[i] + 1);
    }
    new_data(&s);
    start(&s, false, NULL);
    /* bob's first half, then a restart: LevelDB writes it into a table file */
    for (i = 0; i < DEL_N; i += 100) {
        batch(31, i + 1, 100, titles + i, urls + i, &b);
        req_port(s.port, false, "POST", "/v1/batches", bob_pb, b.data, b.len, 30, &r);
        assert_int_equal(r.status, 200);
    }
    stop(&s, SIGTERM);
    start(&s, false, NULL);
    /* bob's second half (in the log and the memtable), alice's beside it */
    for (i = DEL_N; i < 2 * DEL_N; i += 100) {
        batch(32, i + 1, 100, titles + i, urls + i, &b);
        req_port(s.port, false, "POST", "/v1/batches", bob_pb, b.data, b.len, 30, &r);
        assert_int_equal(r.status, 200);
    }
    for (i = 0; i < DEL_N; i += 100) {
        batch(33, i + 1, 100, alice_titles + i, NULL, &b);
        req_port(s.port, false, "POST", "/v1/batches", alice_pb, b.data, b.len, 30, &r);
        assert_int_equal(r.status, 200);
    }
    /* the scan sees what is there: bob's strings, alice's (all but the rare one that snappy
     * happened to cut in all three thirds) */
    assert_in_range(count_found(&s, needles, 4 * DEL_N), 4 * DEL_N - 3, 4 * DEL_N);
    assert_in_range(count_found(&s, alice_needles, DEL_N), DEL_N - 3, DEL_N);

    {
        static const char *const bob_auth[] = {"Authorization: Bearer " BOB_TOKEN, NULL};
        req_port(s.port, false, "DELETE", "/v1/data", bob_auth, NULL, 0, 120, &r);
        assert_int_equal(r.status, 200);
        snprintf(expect, sizeof(expect), "{\"deletedRecords\":\"%d\"}", 2 * DEL_N);
        assert_string_equal((const char *)r.body.data, expect);
    }
    assert_int_equal(count_found(&s, needles, 4 * DEL_N), 0);
    assert_int_equal(dump_count(&s, "bob"), 0);
    assert_int_equal(dump_count(&s, "alice"), DEL_N);
    print_message("after DELETE: %zu of bob's %d strings in the files, %zu of alice's %d\n",
                  count_found(&s, needles, 4 * DEL_N), 4 * DEL_N,
                  count_found(&s, alice_needles, DEL_N), DEL_N);
    stop(&s, SIGTERM);
    start(&s, false, NULL);
    assert_int_equal(count_found(&s, needles, 4 * DEL_N), 0);
    assert_int_equal(dump_count(&s, "bob"), 0);
    assert_int_equal(dump_count(&s, "alice"), DEL_N);
    stop(&s, SIGKILL);
    start(&s, false, NULL);
    assert_int_equal(count_found(&s, needles, 4 * DEL_N), 0);
    assert_int_equal(dump_count(&s, "alice"), DEL_N);
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&r.body);
}

/* ---- the data folder ---- */

static void check_modes(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[512];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(lstat(path, &st), 0);
        if (st.st_mode & 077)
            fail_msg("%s has mode %04o", path, (unsigned)(st.st_mode & 07777));
        if (S_ISDIR(st.st_mode))
            check_modes(path);
    }
    closedir(d);
}

static void test_data_folder_modes(void **state)
{
    struct server s = {0};
    struct stint_buf b = {0};
    struct resp r = {0};
    struct stat st;
    char cmd[512];

    (void)state;
    new_data(&s);
    s.http = true;
    assert_int_equal(mkdir(s.data, 0755), 0);
    assert_int_equal(chmod(s.data, 0755), 0);
    assert_int_equal(start(&s, true, NULL), 1);
    snprintf(cmd, sizeof(cmd), "grep -q 'chmod 700' %s", s.out);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(s.data, 0750), 0);
    assert_int_equal(start(&s, true, NULL), 1);
    assert_int_equal(chmod(s.data, 0700), 0);
    umask(022); /* the collector's own files must not depend on the caller's umask */
    start(&s, false, NULL);
    batch(41, 1, 50, NULL, NULL, &b);
    req_port(s.port, true, "POST", "/v1/batches", alice_pb, b.data, b.len, 30, &r);
    assert_int_equal(r.status, 200);
    check_modes(s.data);
    stop(&s, SIGTERM);
    /* a new folder is made 0700 */
    new_data(&s);
    start(&s, false, NULL);
    assert_int_equal(stat(s.data, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    check_modes(s.data);
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&r.body);
}

/* ---- a damaged log at open ---- */

/* The largest *.log file of dir into path; its size. */
static off_t largest_log(const char *dir, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    off_t best = 0;

    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char p[512];
        struct stat st;
        if (n < 5 || strcmp(e->d_name + n - 4, ".log") != 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (stat(p, &st) == 0 && st.st_size > best) {
            best = st.st_size;
            snprintf(path, cap, "%s", p);
        }
    }
    closedir(d);
    return best;
}

/* Records written, the collector killed before LevelDB put them in a table, then bytes in the
 * middle of its log damaged: the next start must not drop them in silence. It says DATA LOSS
 * with the count, keeps a copy of the damaged log, counts the bytes in stats, and serves. */
static void test_damaged_log_reported(void **state)
{
    struct server s = {0};
    struct stint_buf b = {0};
    struct resp r = {0};
    char log[512], cmd[700];
    off_t size;
    int fd, i, left;
    unsigned long long dropped;

    (void)state;
    new_data(&s);
    s.http = true;
    start(&s, false, NULL);
    for (i = 0; i < 10; i++) {
        batch(51, (uint64_t)i * 100 + 1, 100, NULL, NULL, &b);
        req_port(s.port, true, "POST", "/v1/batches", alice_pb, b.data, b.len, 30, &r);
        assert_int_equal(r.status, 200);
    }
    stop(&s, SIGKILL);
    size = largest_log(s.data, log, sizeof(log));
    assert_true(size > 64 << 10);
    fd = open(log, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\xde\xad\xbe\xef\xde\xad\xbe\xef", 8, size / 2), 8);
    close(fd);

    start(&s, false, NULL);
    snprintf(cmd, sizeof(cmd), "grep -q 'DATA LOSS: recovering .* skipped [1-9][0-9]* bytes' %s",
             s.out);
    if (system(cmd) != 0)
        fail_msg("no DATA LOSS line with the bytes skipped in %s", s.out);
    snprintf(cmd, sizeof(cmd), "grep -q 'damaged logs are kept in' %s && ls %s/damaged-*/*.log",
             s.out, s.data);
    assert_int_equal(system(cmd), 0);
    dropped = stat_value(&s, "dropped_bytes");
    left = dump_count(&s, "alice");
    print_message("damaged log: %llu bytes skipped, %d of 1000 records left\n", dropped, left);
    assert_true(dropped > 0);
    assert_in_range(left, 1, 999);
    /* and it serves: the lost records sent again are stored */
    for (i = 0; i < 10; i++) {
        batch(51, (uint64_t)i * 100 + 1, 100, NULL, NULL, &b);
        req_port(s.port, true, "POST", "/v1/batches", alice_pb, b.data, b.len, 30, &r);
        assert_int_equal(r.status, 200);
    }
    assert_int_equal(dump_count(&s, "alice"), 1000);
    stop(&s, SIGTERM);
    stint_buf_free(&b);
    stint_buf_free(&r.body);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest all[] = {
        cmocka_unit_test(test_malformed_heads),      cmocka_unit_test(test_tls_versions_and_suites),
        cmocka_unit_test(test_data_folder_modes),    cmocka_unit_test(test_delete_gone),
        cmocka_unit_test(test_preauth_memory),       cmocka_unit_test(test_slowloris_one_address),
        cmocka_unit_test(test_slowloris_spread),     cmocka_unit_test(test_idle_flood),
        cmocka_unit_test(test_damaged_log_reported),
    };
    /* one test by name: collector_hostile NAME */
    if (argc == 2)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(all, group_setup, group_teardown);
}
