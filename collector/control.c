/* control.c — stats and dump, served on DIR/control.sock while the collector runs, and the same
 * text made directly from a database that nobody holds (see control.h).
 *
 * The server side is one thread: accept, read one command line (5 s receive timeout, 512 bytes),
 * answer, close. Commands are rare and short, and a dump streams straight from a LevelDB
 * iterator to the socket, so one at a time is enough. poll() on the listening socket and a pipe
 * lets stint_control_stop() end the thread at once. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stint/json.h"

struct stats_acc {
    struct stint_buf *out;
    uint64_t agents, records, accounts;
    char last_account[STINT_ACCOUNT_MAX + 1];
};

static void hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static enum stint_err stats_line(void *ctx, const char *account, const uint8_t *agent_id,
                                 uint64_t records, uint64_t max_seq)
{
    struct stats_acc *a = ctx;
    char id[2 * STINT_AGENT_ID_LEN + 1];

    hex(agent_id, STINT_AGENT_ID_LEN, id);
    if (a->accounts == 0 || strcmp(a->last_account, account) != 0) {
        a->accounts++;
        snprintf(a->last_account, sizeof(a->last_account), "%s", account);
    }
    a->agents++;
    a->records += records;
    return stint_buf_printf(
        a->out, "agent account=%s agent_id=%s records=%" PRIu64 " max_seq=%" PRIu64 "\n", account,
        id, records, max_seq);
}

enum stint_err stint_control_stats(struct stint_store *store, struct stint_handler *handler,
                                   struct stint_faults *faults, struct stint_buf *out,
                                   struct stint_error *err)
{
    struct stats_acc a;
    enum stint_err rc;

    memset(&a, 0, sizeof(a));
    a.out = out;
    rc = stint_store_stats(store, stats_line, &a, err);
    if (rc == STINT_OK)
        rc = stint_buf_printf(out,
                              "total accounts=%" PRIu64 " agents=%" PRIu64 " records=%" PRIu64 "\n",
                              a.accounts, a.agents, a.records);
    if (rc == STINT_OK) {
        struct stint_store_counters sc;
        stint_store_counters(store, &sc);
        rc = stint_buf_printf(out,
                              "storage broken=%d write_failures=%" PRIu64 " reopens=%" PRIu64
                              " dropped_bytes=%" PRIu64 "\n",
                              sc.broken ? 1 : 0, sc.write_failures, sc.reopens, sc.dropped_bytes);
    }
    if (rc == STINT_OK && handler)
        rc = stint_handler_report(handler, out);
    if (rc == STINT_OK && faults)
        rc = stint_faults_report(faults, out);
    if (rc != STINT_OK && err && err->code == STINT_OK)
        stint_error_set(err, rc, 0, "stats: %s", stint_strerror(rc));
    return rc;
}

struct dump_ctx {
    FILE *out;
    const char *account;
    struct stint_buf line;
};

static enum stint_err dump_line(void *ctx, const struct stint_stored *st)
{
    struct dump_ctx *d = ctx;
    char id[2 * STINT_AGENT_ID_LEN + 1];
    int64_t skew = st->client_now_ms ? st->received_ms - st->client_now_ms : 0;
    enum stint_err rc;

    hex(st->agent_id, STINT_AGENT_ID_LEN, id);
    stint_buf_reset(&d->line);
    rc = stint_buf_printf(
        &d->line,
        "{\"account\":\"%s\",\"agentId\":\"%s\",\"seq\":\"%" PRIu64 "\",\"receivedMs\":\"%" PRId64
        "\",\"clientNowMs\":\"%" PRId64 "\",\"skewMs\":\"%" PRId64 "\",\"startMs\":\"%" PRId64
        "\",\"endMs\":\"%" PRId64 "\",\"correctedStartMs\":\"%" PRId64
        "\",\"correctedEndMs\":\"%" PRId64 "\",\"record\":",
        d->account, id, st->rec.seq, st->received_ms, st->client_now_ms, skew, st->rec.start_ms,
        st->rec.end_ms, st->rec.start_ms + skew, st->rec.end_ms ? st->rec.end_ms + skew : 0);
    if (rc == STINT_OK)
        rc = stint_json_encode_record(&st->rec, &d->line);
    if (rc == STINT_OK)
        rc = stint_buf_append(&d->line, "}\n", 2);
    if (rc != STINT_OK)
        return rc;
    if (fwrite(d->line.data, 1, d->line.len, d->out) != d->line.len)
        return STINT_EIO;
    return STINT_OK;
}

enum stint_err stint_control_dump(struct stint_store *store, const char *account, uint64_t since,
                                  FILE *out, struct stint_error *err)
{
    struct dump_ctx d;
    enum stint_err rc;

    memset(&d, 0, sizeof(d));
    d.out = out;
    d.account = account;
    rc = stint_store_dump(store, account, since, dump_line, &d, err);
    stint_buf_free(&d.line);
    if (rc != STINT_OK && err && err->code == STINT_OK)
        stint_error_set(err, rc, 0, "dump: %s", stint_strerror(rc));
    return rc;
}

struct stint_control {
    int fd;
    int wake[2];
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pthread_t thread;
    bool started;
    struct stint_store *store;
    struct stint_handler *handler;
    struct stint_faults *faults;
};

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void serve_client(struct stint_control *c, int fd)
{
    char line[512];
    size_t n = 0;
    struct stint_error err;
    struct timeval tv = {5, 0};

    stint_error_clear(&err);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (n < sizeof(line) - 1) {
        ssize_t r = recv(fd, line + n, sizeof(line) - 1 - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(line, '\n', n))
            break;
    }
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "stats") == 0) {
        struct stint_buf out = {0};
        if (stint_control_stats(c->store, c->handler, c->faults, &out, &err) == STINT_OK) {
            write_all(fd, "ok\n", 3);
            write_all(fd, out.data, out.len);
        } else {
            dprintf(fd, "error %s\n", err.msg);
        }
        stint_buf_free(&out);
    } else if (strncmp(line, "dump ", 5) == 0) {
        char account[STINT_ACCOUNT_MAX + 1];
        const char *sp = strchr(line + 5, ' ');
        char *end = NULL;
        unsigned long long since;
        size_t alen = sp ? (size_t)(sp - (line + 5)) : 0;
        FILE *f;

        errno = 0;
        since = sp ? strtoull(sp + 1, &end, 10) : 0;
        if (!sp || !stint_account_valid(line + 5, alen) || errno || !end || *end || end == sp + 1) {
            dprintf(fd, "error usage: dump ACCOUNT SINCE\n");
            return;
        }
        memcpy(account, line + 5, alen);
        account[alen] = '\0';
        write_all(fd, "ok\n", 3);
        f = fdopen(dup(fd), "w");
        if (!f)
            return;
        if (stint_control_dump(c->store, account, since, f, &err) != STINT_OK)
            fprintf(f, "error %s\n", err.msg);
        fclose(f);
    } else {
        dprintf(fd, "error unknown command (want: stats | dump ACCOUNT SINCE)\n");
    }
}

static void *control_main(void *arg)
{
    struct stint_control *c = arg;

    for (;;) {
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->wake[0], POLLIN, 0}};
        int fd;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        serve_client(c, fd);
        close(fd);
    }
    return NULL;
}

enum stint_err stint_control_start(const char *dir, struct stint_store *store,
                                   struct stint_handler *handler, struct stint_faults *faults,
                                   struct stint_control **out, struct stint_error *err)
{
    struct stint_control *c = NULL;
    struct sockaddr_un sa;
    enum stint_err rc = STINT_OK;
    int n;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    c->fd = -1;
    c->wake[0] = c->wake[1] = -1;
    c->store = store;
    c->handler = handler;
    c->faults = faults;
    n = snprintf(c->path, sizeof(c->path), "%s/%s", dir, STINT_CONTROL_SOCKET);
    if (n < 0 || (size_t)n >= sizeof(c->path)) {
        rc = stint_error_set(err, STINT_EINVAL, 0, "control socket path %s/%s is too long", dir,
                             STINT_CONTROL_SOCKET);
        goto cleanup;
    }
    if (pipe2(c->wake, O_CLOEXEC) != 0) {
        rc = stint_error_set(err, STINT_EIO, 0, "pipe: %s", strerror(errno));
        goto cleanup;
    }
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        rc = stint_error_set(err, STINT_EIO, 0, "socket: %s", strerror(errno));
        goto cleanup;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    /* the database lock is ours, so a socket left here is a dead server's */
    unlink(c->path);
    {
        mode_t old = umask(077);
        int br = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (br != 0 || listen(c->fd, 8) != 0) {
            rc = stint_error_set(err, STINT_EIO, 0, "control socket %s: %s", c->path,
                                 strerror(errno));
            goto cleanup;
        }
    }
    if (pthread_create(&c->thread, NULL, control_main, c) != 0) {
        rc = stint_error_set(err, STINT_EIO, 0, "cannot start the control thread");
        goto cleanup;
    }
    c->started = true;
    *out = c;
    c = NULL;
cleanup:
    stint_control_stop(c);
    return rc;
}

void stint_control_stop(struct stint_control *c)
{
    if (!c)
        return;
    if (c->started) {
        while (write(c->wake[1], "x", 1) < 0 && errno == EINTR) {
        }
        pthread_join(c->thread, NULL);
    }
    if (c->fd >= 0) {
        close(c->fd);
        unlink(c->path);
    }
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    free(c);
}

enum stint_err stint_control_ask(const char *dir, const char *line, FILE *out,
                                 struct stint_error *err)
{
    struct sockaddr_un sa;
    char buf[8192], status[600];
    size_t sn = 0;
    bool in_status = true;
    enum stint_err rc = STINT_OK;
    int fd = -1, n;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, STINT_CONTROL_SOCKET);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return stint_error_set(err, STINT_EIO, 0, "control socket path too long");
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        rc = stint_error_set(err, STINT_EIO, 0, "no collector answers on %s", sa.sun_path);
        goto cleanup;
    }
    write_all(fd, line, strlen(line));
    write_all(fd, "\n", 1);
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        size_t off = 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        while (in_status && off < (size_t)r) {
            char ch = buf[off++];
            if (ch == '\n') {
                status[sn] = '\0';
                in_status = false;
                if (strcmp(status, "ok") != 0) {
                    rc = stint_error_set(err, STINT_EINVAL, 0, "collector: %s",
                                         strncmp(status, "error ", 6) == 0 ? status + 6 : status);
                    goto cleanup;
                }
            } else if (sn < sizeof(status) - 1) {
                status[sn++] = ch;
            }
        }
        if (off < (size_t)r && fwrite(buf + off, 1, (size_t)r - off, out) != (size_t)r - off) {
            rc = stint_error_set(err, STINT_EIO, 0, "writing the output failed");
            goto cleanup;
        }
    }
    if (in_status)
        rc = stint_error_set(err, STINT_EIO, 0, "the collector closed without answering");
cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}
