/* sender_support.c — see sender_support.h. */
#define _GNU_SOURCE
#include "sender_support.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

double sup_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t sup_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sup_sleep(double s)
{
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "sender test: command failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

int sup_run_init(struct sup_run *r, const char *tag, const char *extra_ip)
{
    char cmd[2048];
    FILE *f;

    memset(r, 0, sizeof(*r));
    snprintf(r->base, sizeof(r->base), "/tmp/stint-send-%s-XXXXXX", tag);
    if (!mkdtemp(r->base))
        return -1;
    snprintf(r->cert, sizeof(r->cert), "%s/cert.pem", r->base);
    snprintf(r->key, sizeof(r->key), "%s/key.pem", r->base);
    snprintf(r->other, sizeof(r->other), "%s/other.pem", r->base);
    snprintf(r->tokens, sizeof(r->tokens), "%s/tokens", r->base);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1%s%s "
             "-keyout %s -out %s 2>/dev/null && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
             "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
             "-keyout %s/otherkey.pem -out %s 2>/dev/null",
             extra_ip ? ",IP:" : "", extra_ip ? extra_ip : "", r->key, r->cert, r->base, r->other);
    if (sh(cmd) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform der | "
             "openssl dgst -sha256 -binary | openssl base64 -A",
             r->cert);
    f = popen(cmd, "r");
    if (!f)
        return -1;
    memcpy(r->pin, "sha256//", 8);
    if (!fgets(r->pin + 8, (int)sizeof(r->pin) - 8, f)) {
        pclose(f);
        return -1;
    }
    pclose(f);
    r->pin[strcspn(r->pin, "\r\n")] = '\0';
    f = fopen(r->tokens, "w");
    if (!f)
        return -1;
    fprintf(f, "# sender tests\n%s alice\n", SUP_TOKEN);
    fclose(f);
    chmod(r->tokens, 0600);
    return 0;
}

void sup_run_cleanup(struct sup_run *r)
{
    char cmd[256];
    if (!r->base[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->base);
    sh(cmd);
    r->base[0] = '\0';
}

int sup_collector_start(struct sup_collector *c, const struct sup_run *r, const char *listen,
                        const char *data, const char *const *extra, const char *const *wrapper)
{
    char portfile[300];
    const char *argv[96];
    int n = 0, i, status = 0;
    double t0;
    pid_t pid, parent;

    snprintf(c->data, sizeof(c->data), "%s", data);
    snprintf(portfile, sizeof(portfile), "%s.port", data);
    snprintf(c->out, sizeof(c->out), "%s.out", data);
    unlink(portfile);
    for (i = 0; wrapper && wrapper[i]; i++)
        argv[n++] = wrapper[i];
    argv[n++] = STINT_COLLECTOR_BIN;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--tokens";
    argv[n++] = r->tokens;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    argv[n++] = "--tls-cert";
    argv[n++] = r->cert;
    argv[n++] = "--tls-key";
    argv[n++] = r->key;
    for (i = 0; extra && extra[i] && n < 94; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    parent = getpid();
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(c->out, O_WRONLY | O_CREAT | O_APPEND, 0600);
        /* a test that fails half-way never stops its collector: it goes with the test */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    c->pid = pid;
    c->port = 0;
    t0 = sup_now();
    while (sup_now() - t0 < 20) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &c->port);
            fclose(f);
            if (ok == 1 && c->port > 0)
                return 0;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            c->pid = 0;
            fprintf(stderr, "sender test: collector exited early (status %d); see %s\n", status,
                    c->out);
            return -1;
        }
        sup_sleep(0.01);
    }
    fprintf(stderr, "sender test: collector did not come up; see %s\n", c->out);
    return -1;
}

int sup_collector_stop(struct sup_collector *c, int sig)
{
    int status = 0;
    if (!c->pid)
        return 0;
    kill(c->pid, sig);
    if (waitpid(c->pid, &status, 0) != c->pid)
        return -1;
    c->pid = 0;
    if (sig == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        return -1;
    return 0;
}

struct stint_journal *sup_journal_open(const char *path)
{
    struct stint_journal_opts jo;
    struct stint_journal *j = NULL;
    struct stint_error err;

    memset(&jo, 0, sizeof(jo));
    jo.path = path;
    jo.sync = STINT_SYNC_NONE;
    jo.max_bytes = (uint64_t)4 << 30;
    jo.max_age_ms = -1;
    stint_error_clear(&err);
    if (stint_journal_open(&jo, &j, NULL, &err) != STINT_OK) {
        fprintf(stderr, "sender test: journal %s: %s\n", path, err.msg);
        return NULL;
    }
    return j;
}

int sup_append(struct stint_journal *j, uint64_t n, uint64_t *first)
{
    struct stint_record *rs = NULL;
    const uint64_t chunk = 1000;
    uint64_t done = 0, f0 = 0;
    int rc = -1;
    struct stint_journal_stats st;

    rs = calloc(chunk, sizeof(*rs));
    if (!rs)
        goto cleanup;
    stint_journal_stats(j, &st);
    while (done < n) {
        uint64_t k = n - done < chunk ? n - done : chunk, i, fs = 0;
        for (i = 0; i < k; i++) {
            struct stint_record *r = &rs[i];
            uint64_t seq = st.next_seq + done + i;
            char title[96];
            int tl;
            stint_record_clear(r);
            r->start_ms = 1700000000000 + (int64_t)seq * 1000;
            r->end_ms = r->start_ms + 999;
            r->kind = STINT_KIND_ACTIVE;
            stint_record_set(r, STINT_FIELD_APP, "firefox", 7);
            stint_record_set(r, STINT_FIELD_PATH, "/usr/lib/firefox/firefox", 24);
            tl = snprintf(title, sizeof(title),
                          "Stint sender test page %" PRIu64 " - Mozilla Firefox", seq);
            stint_record_set(r, STINT_FIELD_TITLE, title, (size_t)tl);
            stint_record_set(r, STINT_FIELD_URL, "example.com", 11);
        }
        if (stint_journal_append(j, rs, k, NULL, &fs) != STINT_OK)
            goto cleanup;
        if (done == 0)
            f0 = fs;
        done += k;
    }
    if (first)
        *first = f0;
    rc = 0;
cleanup:
    free(rs);
    if (rc != 0)
        fprintf(stderr, "sender test: appending failed\n");
    return rc;
}

int sup_fill(const char *path, uint64_t n, uint64_t *first)
{
    struct stint_journal *j = sup_journal_open(path);
    int rc;

    if (!j)
        return -1;
    rc = sup_append(j, n, first);
    stint_journal_close(j);
    return rc;
}

long sup_dump(const struct sup_collector *c, uint64_t max, uint32_t *counts, uint64_t *extra)
{
    char cmd[600];
    static char line[65536];
    FILE *p;
    long n = 0;

    *extra = 0;
    memset(counts, 0, (size_t)(max + 1) * sizeof(*counts));
    snprintf(cmd, sizeof(cmd), "%s dump --data %s --account alice", STINT_COLLECTOR_BIN, c->data);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof(line), p)) {
        char *s = strstr(line, "\"seq\":\"");
        uint64_t seq;
        n++;
        if (!s) {
            (*extra)++;
            continue;
        }
        seq = strtoull(s + 7, NULL, 10);
        if (seq >= 1 && seq <= max)
            counts[seq]++;
        else
            (*extra)++;
    }
    if (pclose(p) != 0)
        return -1;
    return n;
}

int sup_check_once(const struct sup_collector *c, uint64_t max, const uint64_t *skip, size_t n_skip)
{
    uint32_t *counts = calloc((size_t)max + 1, sizeof(*counts));
    uint64_t extra = 0, seq, missing = 0, dup = 0, wrong = 0;
    size_t k = 0;
    long n;
    int rc = -1;

    if (!counts)
        return -1;
    n = sup_dump(c, max, counts, &extra);
    if (n < 0) {
        fprintf(stderr, "sender test: dump failed\n");
        goto cleanup;
    }
    for (seq = 1; seq <= max; seq++) {
        bool skipped = k < n_skip && skip[k] == seq;
        if (skipped)
            k++;
        if (skipped ? counts[seq] != 0 : counts[seq] != 1) {
            if (skipped)
                wrong++;
            else if (counts[seq] == 0)
                missing++;
            else
                dup++;
            if (missing + dup + wrong <= 5)
                fprintf(stderr, "sender test: seq %" PRIu64 " stored %u times%s\n", seq,
                        counts[seq], skipped ? " (should be dead-lettered)" : "");
        }
    }
    if (missing || dup || wrong || extra) {
        fprintf(stderr,
                "sender test: %ld lines: %" PRIu64 " missing, %" PRIu64 " duplicated, %" PRIu64
                " stored though refused, %" PRIu64 " unexpected\n",
                n, missing, dup, wrong, extra);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(counts);
    return rc;
}
