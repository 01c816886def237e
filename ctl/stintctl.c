/* stintctl.c — the command-line client of stintd's control socket.
 *
 * Design. One request, one answer: stintctl connects to the socket, writes one JSON line
 * (spec/CONTROL.md), and reads lines until the final one (the line holding "ok"),
 * printing intermediate lines as they come (pending records, flush progress). Everything the
 * user sees is made here from the daemon's JSON; `--json` prints that JSON instead, for scripts.
 * No state, no config file: the socket path is the only thing it needs to know, and it uses
 * the same default as stintd ($XDG_RUNTIME_DIR/stint/control).
 *
 * Exit status (also in --help): 0 done; 1 the daemon answered with an error; 2 usage; 3 stintd
 * cannot be reached; 4 refused (another uid); 5 timed out; 6 not confirmed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_filters.h"
#include "ctl_report.h"
#include "browser.h"
#include "common/clock.h"
#include "common/number.h"
#include "stint/error.h"

#define EXIT_DAEMON_ERROR 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3
#define EXIT_REFUSED 4
#define EXIT_TIMEOUT 5
#define EXIT_NOT_CONFIRMED 6

#define ANSWER_LINE_MAX ((size_t)1 << 20)
#define STINT_CTL_SEQS_MAX 256 /* as the control socket's STINT_CONTROL_SEQS_MAX */

static const char *prog = "stintctl";

static void help(FILE *f)
{
    fprintf(
        f,
        "NAME\n"
        "    stintctl - control a running stintd (the Stint activity agent)\n"
        "\n"
        "SYNOPSIS\n"
        "    stintctl [--socket PATH] [--timeout SECONDS] COMMAND [OPTIONS]\n"
        "\n"
        "    stintctl status [--json]\n"
        "    stintctl private on|off\n"
        "    stintctl flush [--wait]\n"
        "    stintctl pending [--json] [--limit N]\n"
        "    stintctl purge [--server] [--yes]\n"
        "    stintctl dead-letters [--json]\n"
        "    stintctl dead-letters retry [SEQ...]\n"
        "    stintctl dead-letters drop [SEQ...]\n"
        "    stintctl filters test [--config FILE] [--app A] [--path P] [--title T] [--url U]\n"
        "                          [--json]\n"
        "    stintctl report [--records FILE] [--day DATE | --week | --from DATE --to DATE]\n"
        "                    [--by app|site|title|hour] [--json | --csv | --html FILE]\n"
        "    stintctl browser install [--firefox] [--chromium] [--chromium-extension-dir DIR |\n"
        "                             --chromium-id ID] [--host PATH] [--system [--destdir D]]\n"
        "    stintctl browser status\n"
        "\n"
        "DESCRIPTION\n"
        "    stintctl talks to stintd over its control socket, a Unix socket that only the user\n"
        "    stintd runs as may use. It shows what the agent is doing and what it holds, and lets\n"
        "    that user pause recording, send now, or delete what was recorded.\n"
        "\n"
        "COMMANDS\n"
        "    status [--json]\n"
        "        Private mode, the source, the open record, the backlog (records journaled and\n"
        "        not yet acknowledged by the server), the sender's state (last attempt, next "
        "retry,\n"
        "        last error), dead letters and records dropped by the journal's bounds.\n"
        "\n"
        "    private on|off\n"
        "        Private mode on: from this moment nothing about the focused window is captured\n"
        "        or kept; the open record ends now. Private mode is stored in the journal and "
        "stays\n"
        "        on across restarts until turned off.\n"
        "\n"
        "    flush [--wait]\n"
        "        Send the backlog now, skipping any backoff wait and lifting a pause after the\n"
        "        server refused the token. With --wait, stay until every record journaled before\n"
        "        the flush has been acknowledged, with a progress bar when stderr is a terminal;\n"
        "        --timeout bounds the wait (exit 5 when it passes; sending goes on).\n"
        "\n"
        "    pending [--json] [--limit N]\n"
        "        List the records not yet sent, oldest first: exactly what will leave this\n"
        "        machine. --json prints one record a line in Stint's canonical JSON.\n"
        "        --limit N lists at most N records (default: all).\n"
        "\n"
        "    purge [--server] [--yes]\n"
        "        Delete every record stintd holds locally: the backlog, the open record, the\n"
        "        dead letters and the history (their disk blocks are overwritten). With\n"
        "        --server, also ask the server to delete everything stored for this account\n"
        "        (DELETE /v1/data). Asks for confirmation on the terminal unless --yes is given;\n"
        "        refuses without --yes when stdin is not a terminal. The server's count of\n"
        "        deleted records is printed.\n"
        "\n"
        "    dead-letters [--json]\n"
        "        List the records the server refused for good (seq, when, the server's reason).\n"
        "    dead-letters retry [SEQ...]\n"
        "        Put them (all, or the seqs given) back in the queue, as new records, and send;\n"
        "        all or none, in one write of the journal (none when one is not a dead letter,\n"
        "        or when they would pass the journal's max_bytes).\n"
        "    dead-letters drop [SEQ...]\n"
        "        Forget them (all, or the seqs given).\n"
        "\n"
        "    filters test [--config FILE] [--app A] [--path P] [--title T] [--url U] [--json]\n"
        "        Which [filters] rule of agent.ini (default: stintd's) matches a window with\n"
        "        this app, executable path, title and URL, and what would be recorded. Reads\n"
        "        the file itself, no stintd needed; exit 1 when the file is bad.\n"
        "\n"
        "    report [--records FILE] [--day DATE | --week | --from DATE --to DATE]\n"
        "           [--by app|site|title|hour] [--json | --csv | --html FILE]\n"
        "        Time per app (site, title or hour of the day) in the local time zone, with\n"
        "        bars and the active, idle and private totals. Records come from stintd: the\n"
        "        ones not sent yet and the history of those sent ([journal] history, 14 days\n"
        "        by default); stintd must run (exit 3 otherwise). With --records, from FILE\n"
        "        (- for stdin), one JSON object a line, as `pending --json` and\n"
        "        `stint-collector dump` print them. --day (default today), --week (Monday to\n"
        "        Sunday of that day), --from/--to (inclusive dates); --json and --csv for\n"
        "        scripts; --html FILE: one self-contained page with a timeline (a lane per app).\n"
        "\n"
        "    browser install [--firefox] [--chromium] [--chromium-extension-dir DIR |\n"
        "                    --chromium-id ID] [--host PATH] [--system [--destdir D]]\n"
        "        Write the manifests that let Firefox and Chromium start stint-browser-host for\n"
        "        the Stint extension, for this user (both when neither is named). Chromium's id\n"
        "        is computed from the folder it loads the extension from (default: the installed\n"
        "        one); --chromium-id gives another. --host names the host binary (default: the\n"
        "        one beside stintctl). --system writes them for every user (root only) in\n"
        "        /usr/lib/mozilla/native-messaging-hosts and\n"
        "        /etc/chromium/native-messaging-hosts, under D with --destdir. stintd needs\n"
        "        source = WINDOW, browser.\n"
        "    browser status\n"
        "        Which manifests are installed, and which browsers have reported to stintd.\n"
        "\n"
        "OPTIONS\n"
        "    --socket PATH\n"
        "        The control socket (default: $XDG_RUNTIME_DIR/stint/control).\n"
        "    --timeout SECONDS\n"
        "        How long to wait for an answer (default 30; for flush --wait: no limit).\n"
        "    -h, --help\n"
        "        This text.\n"
        "\n"
        "EXIT STATUS\n"
        "    0  done\n"
        "    1  stintd answered with an error (the message says what)\n"
        "    2  usage error\n"
        "    3  stintd cannot be reached (not running, or another socket)\n"
        "    4  refused: the socket belongs to another user, or is served by another uid\n"
        "    5  timed out\n"
        "    6  purge not confirmed\n"
        "\n"
        "ENVIRONMENT\n"
        "    XDG_RUNTIME_DIR   where the default socket lives\n"
        "\n"
        "EXAMPLES\n"
        "    stintctl status\n"
        "    stintctl private on\n"
        "    stintctl pending --limit 20\n"
        "    stintctl flush --wait --timeout 60\n"
        "    stintctl purge --server --yes\n"
        "    stintctl filters test --app firefox --title 'Inbox (3) - Gmail'\n"
        "    stintctl report --week --by site\n"
        "    stintctl report --records dump.jsonl --day 2026-01-15 --html day.html\n"
        "\n"
        "SEE ALSO\n"
        "    stintd(1); the protocol: spec/CONTROL.md\n");
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return EXIT_USAGE;
}

/* ---- the connection ---- */

struct conn {
    int fd;
    char *buf;
    size_t len, cap;
    int64_t deadline; /* monotonic ms; 0: none */
    const char *path;
    bool quiet_timeout; /* the caller explains a timeout itself */
};

static int conn_open(struct conn *c, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->path = path;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "%s: socket path too long: %s\n", prog, path);
        return EXIT_USAGE;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
        return EXIT_UNREACHABLE;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        if (e == EACCES || e == EPERM) {
            fprintf(stderr, "%s: %s: %s (the socket belongs to another user)\n", prog, path,
                    strerror(e));
            return EXIT_REFUSED;
        }
        fprintf(stderr, "%s: cannot reach stintd at %s: %s%s\n", prog, path, strerror(e),
                e == ENOENT || e == ECONNREFUSED ? " (is stintd running?)" : "");
        return EXIT_UNREACHABLE;
    }
    {
        /* Whatever answers here is believed ("private on", "purged") only if it runs as us:
         * another user may have put a socket of their own at this path. */
        struct ucred cr;
        socklen_t crl = sizeof(cr);
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0 || crl != sizeof(cr)) {
            fprintf(stderr, "%s: %s: cannot tell who serves the socket: %s\n", prog, path,
                    strerror(errno));
            return EXIT_REFUSED;
        }
        if (cr.uid != geteuid()) {
            fprintf(stderr,
                    "%s: %s is served by uid %u (pid %d), not by you (uid %u): not stintd of "
                    "yours; nothing was sent to it\n",
                    prog, path, (unsigned)cr.uid, (int)cr.pid, (unsigned)geteuid());
            return EXIT_REFUSED;
        }
    }
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    c->fd = -1;
    c->buf = NULL;
    c->len = c->cap = 0;
}

static int conn_send(struct conn *c, json_t *req)
{
    char *text = json_dumps(req, JSON_COMPACT);
    size_t len, off = 0;
    int rc = 0;

    if (!text) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return EXIT_DAEMON_ERROR;
    }
    len = strlen(text);
    text[len] = '\n'; /* json_dumps's NUL becomes the line end; len + 1 bytes go out */
    while (off < len + 1) {
        ssize_t w = send(c->fd, text + off, len + 1 - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            /* The daemon may have refused us and closed: its error line is still readable. */
            break;
        }
        off += (size_t)w;
    }
    free(text);
    return rc;
}

/* Reads the next answer line into a JSON value (*out, caller decrefs). Returns 0, or an exit
 * code after printing why. */
static int conn_line(struct conn *c, json_t **out)
{
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int timeout = -1;
        ssize_t r;

        if (nl) {
            json_error_t je;
            size_t n = (size_t)(nl - c->buf);
            *out = json_loadb(c->buf, n, 0, &je);
            c->len -= n + 1;
            memmove(c->buf, nl + 1, c->len);
            if (!*out || !json_is_object(*out)) {
                fprintf(stderr, "%s: stintd sent a line that is not a JSON object\n", prog);
                json_decref(*out);
                *out = NULL;
                return EXIT_DAEMON_ERROR;
            }
            return 0;
        }
        if (c->len == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 65536;
            char *nb;
            if (ncap > ANSWER_LINE_MAX * 2) {
                fprintf(stderr, "%s: answer line longer than %zu bytes\n", prog, ANSWER_LINE_MAX);
                return EXIT_DAEMON_ERROR;
            }
            nb = realloc(c->buf, ncap);
            if (!nb) {
                fprintf(stderr, "%s: out of memory\n", prog);
                return EXIT_DAEMON_ERROR;
            }
            c->buf = nb;
            c->cap = ncap;
        }
        if (c->deadline) {
            int64_t left = c->deadline - stint_clock_mono_ms();
            if (left <= 0) {
                if (!c->quiet_timeout)
                    fprintf(stderr, "%s: no answer from stintd in time\n", prog);
                return EXIT_TIMEOUT;
            }
            timeout = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        if (poll(&pfd, 1, timeout) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
            return EXIT_UNREACHABLE;
        }
        if (pfd.revents == 0)
            continue;
        r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "%s: stintd closed the connection before answering%s%s\n", prog,
                    r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
            return EXIT_UNREACHABLE;
        }
        c->len += (size_t)r;
    }
}

/* Prints a daemon error line and returns its exit code. */
static int daemon_error(json_t *ans)
{
    const char *msg = json_string_value(json_object_get(ans, "message"));
    const char *name = json_string_value(json_object_get(ans, "error"));
    json_int_t code = json_integer_value(json_object_get(ans, "code"));

    fprintf(stderr, "%s: stintd: %s\n", prog, msg ? msg : name ? name : "error");
    /* an older stintd answered a refused peer with code 2 and this message */
    if (code == STINT_EPERM || (msg && strncmp(msg, "permission denied", 17) == 0))
        return EXIT_REFUSED;
    return EXIT_DAEMON_ERROR;
}

/* Sends req and reads lines until the final one, which goes to *final (caller decrefs). Each
 * intermediate line goes to on_line. Returns 0 or an exit code. */
static int call(struct conn *c, json_t *req, int (*on_line)(void *ctx, json_t *line), void *ctx,
                json_t **final)
{
    int rc = conn_send(c, req);

    *final = NULL;
    while (rc == 0) {
        json_t *line = NULL;
        rc = conn_line(c, &line);
        if (rc != 0)
            break;
        if (json_object_get(line, "ok")) {
            if (!json_is_true(json_object_get(line, "ok"))) {
                rc = daemon_error(line);
                json_decref(line);
                break;
            }
            *final = line;
            break;
        }
        rc = on_line ? on_line(ctx, line) : 0;
        json_decref(line);
    }
    return rc;
}

/* ---- printing ---- */

static void fmt_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || !localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, cap, "-");
}

static void fmt_duration(int64_t ms, char *out, size_t cap)
{
    int64_t s = ms / 1000;
    if (ms < 0)
        snprintf(out, cap, "-");
    else if (s < 60)
        snprintf(out, cap, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(out, cap, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else
        snprintf(out, cap, "%" PRId64 "h%02" PRId64 "m", s / 3600, (s / 60) % 60);
}

/* A member's value as an int64 (canonical JSON writes 64-bit integers as strings). */
static int64_t num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

/* Keys whose value is Unix milliseconds: shown as local time. */
static bool is_time_key(const char *k)
{
    size_t n = strlen(k);
    return n > 3 && strcmp(k + n - 3, "_ms") == 0 && strstr(k, "age") == NULL &&
           strstr(k, "after") == NULL && strstr(k, "every") == NULL;
}

static void print_value(const char *key, json_t *v, int indent)
{
    const char *k;
    json_t *m;
    char t[64];

    if (json_is_object(v)) {
        printf("%*s%s:\n", indent, "", key);
        json_object_foreach (v, k, m) {
            print_value(k, m, indent + 2);
        }
        return;
    }
    printf("%*s%-*s ", indent, "", 24 - indent, key);
    if (json_is_string(v))
        printf("%s\n", json_string_value(v));
    else if (json_is_true(v))
        printf("yes\n");
    else if (json_is_false(v))
        printf("no\n");
    else if (json_is_null(v))
        printf("-\n");
    else if (json_is_integer(v) && is_time_key(key)) {
        fmt_time((int64_t)json_integer_value(v), t, sizeof(t));
        printf("%s\n", t);
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s\n", s ? s : "?");
        free(s);
    }
}

/* stintd's status answer for `browser status` (a new reference), or NULL when unreachable. */
static json_t *browser_status(const char *path)
{
    json_t *req = json_pack("{ss}", "cmd", "status"), *ans = NULL;
    struct conn c;

    if (conn_open(&c, path) == 0) {
        c.deadline = stint_clock_mono_ms() + 10000;
        if (call(&c, req, NULL, NULL, &ans) != 0)
            ans = NULL;
    }
    conn_close(&c);
    json_decref(req);
    return ans;
}

/* ---- report: the records stintd holds ---- */

struct report_feed {
    struct stint_report *r;
    struct stint_record *rec;
    uint64_t lo, hi; /* seqs read as pending: the history may hold them by now (skipped) */
    bool pending;
    int bad;
};

static int on_report_record(void *ctx, json_t *line)
{
    struct report_feed *rf = ctx;
    json_t *rj = json_object_get(line, "record");
    uint64_t seq = (uint64_t)num(rj, "seq");
    char msg[300];

    if (!rj)
        return 0;
    if (rf->pending) {
        rf->lo = rf->lo && rf->lo < seq ? rf->lo : seq;
        rf->hi = rf->hi > seq ? rf->hi : seq;
    } else if (rf->lo && seq >= rf->lo && seq <= rf->hi) {
        return 0; /* acked since it was read as pending: counted once already */
    }
    if (stint_ctl_report_add_json(rf->r, rj, rf->rec, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "%s: report: stintd sent a record that is %s\n", prog, msg);
        return EXIT_DAEMON_ERROR;
    }
    return 0;
}

/* stint_ctl_history_fn: the records not sent yet, then the history (the acked ones kept). */
static int report_history(void *ctx, struct stint_report *r)
{
    const char *path = *(const char **)ctx;
    struct report_feed rf = {.r = r};
    json_t *ans = NULL, *req = NULL;
    struct conn c;
    int rc;

    rc = conn_open(&c, path);
    if (rc != 0) {
        if (rc == EXIT_UNREACHABLE)
            fprintf(stderr,
                    "%s: report: the history is kept by stintd and read through it; start stintd, "
                    "or report on a file with --records FILE\n",
                    prog);
        conn_close(&c);
        return rc;
    }
    rf.rec = malloc(sizeof(*rf.rec));
    if (!rf.rec) {
        fprintf(stderr, "%s: out of memory\n", prog);
        rc = EXIT_DAEMON_ERROR;
        goto cleanup;
    }
    c.deadline = stint_clock_mono_ms() + 300000;
    rf.pending = true;
    req = json_pack("{sssI}", "cmd", "pending", "limit", (json_int_t)0);
    rc = call(&c, req, on_report_record, &rf, &ans);
    json_decref(req);
    json_decref(ans);
    ans = NULL;
    if (rc != 0)
        goto cleanup;
    rf.pending = false;
    {
        int64_t from = 0, to = 0;
        stint_report_range(r, &from, &to); /* what ended before the range adds nothing */
        (void)to;
        req = json_pack("{sssIsI}", "cmd", "history", "limit", (json_int_t)0, "since_ms",
                        (json_int_t)(from > 0 ? from : 0));
    }
    rc = call(&c, req, on_report_record, &rf, &ans);
    json_decref(req);
cleanup:
    json_decref(ans);
    free(rf.rec);
    conn_close(&c);
    return rc;
}

static int cmd_status(struct conn *c, bool as_json)
{
    json_t *req = json_pack("{ss}", "cmd", "status"), *ans = NULL;
    const char *k;
    json_t *v;
    int rc = call(c, req, NULL, NULL, &ans);

    json_decref(req);
    if (rc != 0)
        return rc;
    json_object_del(ans, "ok");
    if (as_json) {
        char *s = json_dumps(ans, JSON_INDENT(2));
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        json_object_foreach (ans, k, v) {
            print_value(k, v, 0);
        }
    }
    json_decref(ans);
    return 0;
}

static int cmd_private(struct conn *c, bool on)
{
    json_t *req = json_pack("{sssb}", "cmd", "private", "on", on), *ans = NULL;
    int rc = call(c, req, NULL, NULL, &ans);

    json_decref(req);
    if (rc == 0)
        printf("private mode %s\n",
               on ? "on: nothing is recorded until `stintctl private off`" : "off: recording");
    json_decref(ans);
    return rc;
}

struct flush_view {
    bool tty;
    bool drawn;
    int64_t start_acked;
    bool have_start;
    json_t *last; /* the last progress seen (for a timeout's message) */
};

static void draw_bar(struct flush_view *fv, json_t *p)
{
    int64_t acked = num(p, "acked"), target = num(p, "target"), total, done;
    const char *state = json_string_value(json_object_get(p, "state"));
    struct winsize ws;
    int width = 30, i, fill;

    if (!fv->have_start) {
        fv->start_acked = acked < target ? acked : target;
        fv->have_start = true;
    }
    total = target - fv->start_acked;
    done = acked - fv->start_acked;
    if (done < 0)
        done = 0;
    if (total <= 0)
        total = 1, done = 1;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 60)
        width = ws.ws_col - 50 > 50 ? 50 : ws.ws_col - 50;
    fill = (int)(done * width / total);
    fputs("\r\033[K[", stderr);
    for (i = 0; i < width; i++)
        fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%  %" PRId64 " to send", (int)(done * 100 / total), num(p, "backlog"));
    if (state && *state) {
        /* what is left of the line, cut at a word (never mid-word) */
        int room = (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80) -
                   width - 30;
        int len = (int)strlen(state);
        if (len > room) {
            int cut = room > 2 ? room - 2 : 0;
            while (cut > 0 && state[cut] != ' ')
                cut--;
            while (cut > 0 &&
                   (state[cut - 1] == ' ' || state[cut - 1] == ':' || state[cut - 1] == ','))
                cut--;
            if (cut > 0)
                fprintf(stderr, "  (%.*s...)", cut, state);
        } else {
            fprintf(stderr, "  (%s)", state);
        }
    }
    fflush(stderr);
    fv->drawn = true;
}

static int on_progress(void *ctx, json_t *line)
{
    struct flush_view *fv = ctx;
    json_t *p = json_object_get(line, "progress");

    if (p && fv->tty)
        draw_bar(fv, p);
    if (p) {
        json_decref(fv->last);
        fv->last = json_incref(p);
    }
    return 0;
}

static int cmd_flush(struct conn *c, bool wait)
{
    json_t *req = json_pack("{sssb}", "cmd", "flush", "wait", wait), *ans = NULL;
    struct flush_view fv = {.tty = isatty(STDERR_FILENO) == 1};
    int rc;

    c->quiet_timeout = wait;
    rc = call(c, req, on_progress, &fv, &ans);
    json_decref(req);
    if (fv.drawn) {
        if (rc == 0)
            draw_bar(&fv, ans);
        fputc('\n', stderr);
    }
    if (rc == EXIT_TIMEOUT && wait) {
        /* stintd did answer: say where sending stands, and why it is slow */
        const char *state = fv.last ? json_string_value(json_object_get(fv.last, "state")) : NULL;
        if (fv.last)
            fprintf(stderr,
                    "%s: flush not finished in time: %" PRId64 " records still to send; sender: "
                    "%s\n",
                    prog, num(fv.last, "backlog"), state && *state ? state : "sending");
        else
            fprintf(stderr, "%s: flush not finished in time (no progress reported yet)\n", prog);
        fprintf(stderr, "%s: sending goes on; `stintctl status` shows the sender's last error\n",
                prog);
    }
    json_decref(fv.last);
    if (rc == 0) {
        int64_t target = num(ans, "target");
        if (!wait)
            printf("flush asked: %s\n", target ? "sending now" : "nothing to send");
        else if (target == 0)
            printf("flushed: nothing was waiting to be sent\n");
        else
            printf("flushed: every record up to seq %" PRId64 " was acknowledged\n", target);
    }
    json_decref(ans);
    return rc;
}

struct pending_view {
    bool json;
    int width;
    uint64_t shown;
};

static int on_record(void *ctx, json_t *line)
{
    struct pending_view *pv = ctx;
    json_t *r = json_object_get(line, "record");
    char start[32], dur[32];
    const char *kind, *app, *title, *url;
    int64_t s, e;

    if (!r)
        return 0;
    pv->shown++;
    if (pv->json) {
        char *t = json_dumps(r, JSON_COMPACT);
        printf("%s\n", t ? t : "{}");
        free(t);
        return 0;
    }
    s = num(r, "startMs");
    e = num(r, "endMs");
    fmt_time(s, start, sizeof(start));
    fmt_duration(e ? e - s : -1, dur, sizeof(dur));
    kind = json_string_value(json_object_get(r, "kind"));
    app = json_string_value(json_object_get(r, "app"));
    title = json_string_value(json_object_get(r, "title"));
    url = json_string_value(json_object_get(r, "url"));
    if (kind && strncmp(kind, "KIND_", 5) == 0)
        kind += 5;
    printf("%8" PRId64 "  %s  %7s  %-7.7s  %-16.16s  %.*s%s%s\n", num(r, "seq"), start, dur,
           kind ? kind : "-", app ? app : "", pv->width, title ? title : "",
           url && *url ? "  " : "", url ? url : "");
    return 0;
}

static int cmd_pending(struct conn *c, bool as_json, uint64_t limit)
{
    json_t *req = json_pack("{sssI}", "cmd", "pending", "limit", (json_int_t)limit), *ans = NULL;
    struct pending_view pv = {.json = as_json, .width = 60};
    struct winsize ws;
    int rc;

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 80)
        pv.width = ws.ws_col - 70;
    if (!as_json)
        printf("%8s  %-19s  %7s  %-7s  %-16s  %s\n", "SEQ", "START", "LENGTH", "KIND", "APP",
               "TITLE  URL");
    rc = call(c, req, on_record, &pv, &ans);
    json_decref(req);
    if (rc == 0 && !as_json) {
        bool more = json_is_true(json_object_get(ans, "more"));
        if (more)
            printf("%" PRIu64 " record%s shown; more are waiting (raise --limit)\n", pv.shown,
                   pv.shown == 1 ? "" : "s");
        else
            printf("%" PRIu64 " record%s not sent yet\n", pv.shown, pv.shown == 1 ? "" : "s");
    }
    json_decref(ans);
    return rc;
}

static int cmd_purge(struct conn *c, bool server, bool yes, int64_t timeout_ms)
{
    json_t *req = NULL, *ans = NULL;
    int rc;

    if (!yes) {
        char line[16];
        json_t *st = NULL, *sreq = json_pack("{ss}", "cmd", "status");
        int64_t backlog = -1;

        if (!isatty(STDIN_FILENO)) {
            json_decref(sreq);
            fprintf(stderr, "%s: purge deletes recorded data: give --yes when not on a terminal\n",
                    prog);
            return EXIT_USAGE;
        }
        if (call(c, sreq, NULL, NULL, &st) == 0)
            backlog = num(st, "backlog");
        json_decref(sreq);
        json_decref(st);
        fprintf(stderr, "This deletes every record stintd holds on this machine");
        if (backlog >= 0)
            fprintf(stderr, " (%" PRId64 " not sent yet)", backlog);
        if (server)
            fprintf(stderr, ",\nand asks the server to delete everything it stores for this "
                            "account");
        fprintf(stderr, ".\nIt cannot be undone. Type 'yes' to go on: ");
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin) || strcmp(line, "yes\n") != 0) {
            fprintf(stderr, "%s: not confirmed, nothing deleted\n", prog);
            return EXIT_NOT_CONFIRMED;
        }
        /* The user took their time: a fresh connection and a fresh deadline for the purge. */
        conn_close(c);
        rc = conn_open(c, c->path);
        if (rc != 0)
            return rc;
        c->deadline = timeout_ms > 0 ? stint_clock_mono_ms() + timeout_ms : 0;
    }
    req = json_pack("{sssb}", "cmd", "purge", "server", server);
    rc = call(c, req, NULL, NULL, &ans);
    json_decref(req);
    if (rc == 0) {
        printf("purged: %" PRId64 " local records deleted", num(ans, "deleted"));
        if (server && json_object_get(ans, "server_deleted"))
            printf("; the server deleted %" PRId64 " records of this account",
                   num(ans, "server_deleted"));
        else if (server)
            printf("; the server deleted this account's data");
        printf("\n");
    }
    json_decref(ans);
    return rc;
}

static int cmd_dead_letters(struct conn *c, const char *action, bool as_json, char **seqv, int seqc)
{
    json_t *req = json_pack("{ssss}", "cmd", "dead_letters", "action", action), *ans = NULL;
    json_t *seqs = json_array();
    int rc, i;

    for (i = 0; i < seqc; i++) {
        uint64_t v;
        if (stint_number_u64(NULL, seqv[i], 1, UINT64_MAX, &v, NULL) != STINT_OK) {
            json_decref(req);
            json_decref(seqs);
            return usage_error("not a seq: \"%s\"", seqv[i]);
        }
        json_array_append_new(seqs, json_integer((json_int_t)v));
    }
    if (seqc)
        json_object_set(req, "seqs", seqs);
    json_decref(seqs);
    rc = call(c, req, NULL, NULL, &ans);
    json_decref(req);
    if (rc != 0) {
        json_decref(ans);
        return rc;
    }
    if (strcmp(action, "list") == 0) {
        json_t *list = json_object_get(ans, "dead_letters"), *dl;
        size_t k;
        if (as_json) {
            json_array_foreach (list, k, dl) {
                char *t = json_dumps(dl, JSON_COMPACT);
                printf("%s\n", t ? t : "{}");
                free(t);
            }
        } else {
            printf("%8s  %-19s  %s\n", "SEQ", "WHEN", "REASON");
            json_array_foreach (list, k, dl) {
                char when[32];
                fmt_time(num(dl, "moved_ms"), when, sizeof(when));
                printf("%8" PRId64 "  %s  %s\n", num(dl, "seq"), when,
                       json_string_value(json_object_get(dl, "reason")));
            }
            printf("%" PRId64 " dead letter%s%s\n", num(ans, "total"),
                   num(ans, "total") == 1 ? "" : "s",
                   json_is_true(json_object_get(ans, "more")) ? " (the oldest shown)" : "");
        }
    } else if (strcmp(action, "retry") == 0) {
        printf("%" PRId64 " dead letters put back in the queue", num(ans, "retried"));
        if (num(ans, "undecodable") > 0)
            printf(" (%" PRId64 " left: they do not decode as records; drop them)",
                   num(ans, "undecodable"));
        printf("\n");
    } else {
        printf("%" PRId64 " dead letters dropped\n", num(ans, "dropped"));
    }
    json_decref(ans);
    return 0;
}

/* ---- main ---- */

static bool parse_u64(const char *s, uint64_t *out)
{
    return stint_number_u64(NULL, s, 0, UINT64_MAX, out, NULL) == STINT_OK;
}

int main(int argc, char **argv)
{
    const char *socket_path = NULL, *cmd = NULL;
    char def_path[4096];
    uint64_t timeout_s = 30, limit = 0;
    bool timeout_given = false, as_json = false, wait = false, server = false, yes = false;
    int on = -1, i, rc, seqc = 0;
    const char *dl_action = NULL;
    static char *seqv[STINT_CTL_SEQS_MAX]; /* dead-letters SEQ... */
    struct conn c;

    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "help") == 0) {
            help(stdout);
            return 0;
        } else if (strcmp(a, "--socket") == 0) {
            if (++i >= argc)
                return usage_error("%s needs a PATH", a);
            socket_path = argv[i];
        } else if (strncmp(a, "--socket=", 9) == 0) {
            socket_path = a + 9;
        } else if (strcmp(a, "--timeout") == 0) {
            if (++i >= argc || !parse_u64(argv[i], &timeout_s))
                return usage_error("%s needs a number of SECONDS", a);
            timeout_given = true;
        } else if (strcmp(a, "--json") == 0) {
            as_json = true;
        } else if (strcmp(a, "--wait") == 0) {
            wait = true;
        } else if (strcmp(a, "--server") == 0) {
            server = true;
        } else if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
            yes = true;
        } else if (strcmp(a, "--limit") == 0) {
            if (++i >= argc || !parse_u64(argv[i], &limit))
                return usage_error("%s needs a number", a);
        } else if (a[0] == '-') {
            return usage_error("unknown option %s", a);
        } else if (!cmd && strcmp(a, "filters") == 0) {
            /* reads agent.ini, needs no socket: its own arguments */
            return stint_ctl_filters(prog, argc - i - 1, argv + i + 1);
        } else if (!cmd && strcmp(a, "report") == 0) {
            /* its own arguments; the socket unless --records FILE is given */
            if (!socket_path) {
                const char *rt = getenv("XDG_RUNTIME_DIR");
                snprintf(def_path, sizeof(def_path), "%s/stint/control", rt ? rt : "");
                socket_path = def_path;
            }
            return stint_ctl_report(prog, argc - i - 1, argv + i + 1, report_history, &socket_path);
        } else if (!cmd && strcmp(a, "browser") == 0) {
            /* its own arguments; the socket only for status */
            if (!socket_path) {
                const char *rt = getenv("XDG_RUNTIME_DIR");
                snprintf(def_path, sizeof(def_path), "%s/stint/control", rt ? rt : "");
                socket_path = def_path;
            }
            return stintctl_browser(argc - i - 1, argv + i + 1, browser_status, socket_path);
        } else if (!cmd) {
            cmd = a;
        } else if (strcmp(cmd, "dead-letters") == 0 && !dl_action) {
            if (strcmp(a, "retry") == 0 || strcmp(a, "drop") == 0 || strcmp(a, "list") == 0)
                dl_action = a;
            else
                return usage_error("dead-letters takes list, retry or drop, not \"%s\"", a);
        } else if (strcmp(cmd, "dead-letters") == 0 && strcmp(dl_action, "list") != 0) {
            if (seqc == STINT_CTL_SEQS_MAX)
                return usage_error("at most %d seqs at once", STINT_CTL_SEQS_MAX);
            seqv[seqc++] = argv[i];
        } else if (strcmp(cmd, "private") == 0 && on < 0) {
            if (strcmp(a, "on") == 0)
                on = 1;
            else if (strcmp(a, "off") == 0)
                on = 0;
            else
                return usage_error("private takes on or off, not \"%s\"", a);
        } else {
            return usage_error("unexpected argument \"%s\"", a);
        }
    }
    if (!cmd)
        return usage_error("%s",
                           "no command (status, private, flush, pending, purge, dead-letters)");
    /* Options that belong to another command are mistakes worth saying. */
    if ((as_json && strcmp(cmd, "status") != 0 && strcmp(cmd, "pending") != 0 &&
         strcmp(cmd, "dead-letters") != 0) ||
        (wait && strcmp(cmd, "flush") != 0) || ((server || yes) && strcmp(cmd, "purge") != 0) ||
        (limit && strcmp(cmd, "pending") != 0))
        return usage_error("an option given does not belong to \"%s\"", cmd);
    if (strcmp(cmd, "private") == 0 && on < 0)
        return usage_error("%s", "private needs on or off");
    if (strcmp(cmd, "status") != 0 && strcmp(cmd, "private") != 0 && strcmp(cmd, "flush") != 0 &&
        strcmp(cmd, "pending") != 0 && strcmp(cmd, "purge") != 0 &&
        strcmp(cmd, "dead-letters") != 0)
        return usage_error("unknown command \"%s\"", cmd);

    for (i = 0; i < seqc; i++) {
        uint64_t v = 0;
        if (!parse_u64(seqv[i], &v) || v == 0)
            return usage_error("not a seq: \"%s\"", seqv[i]);
    }
    if (!socket_path) {
        const char *rt = getenv("XDG_RUNTIME_DIR");
        if (!rt || !*rt) {
            fprintf(stderr, "%s: XDG_RUNTIME_DIR is not set: give --socket PATH\n", prog);
            return EXIT_USAGE;
        }
        if ((size_t)snprintf(def_path, sizeof(def_path), "%s/stint/control", rt) >=
            sizeof(def_path))
            return usage_error("%s", "XDG_RUNTIME_DIR too long");
        socket_path = def_path;
    }
    rc = conn_open(&c, socket_path);
    if (rc != 0) {
        conn_close(&c);
        return rc;
    }
    if (strcmp(cmd, "flush") == 0 && wait && !timeout_given)
        c.deadline = 0;
    else if (timeout_s > 0)
        c.deadline =
            stint_clock_mono_ms() + (int64_t)(timeout_s > 86400000 ? 86400000 : timeout_s) * 1000;

    if (strcmp(cmd, "status") == 0)
        rc = cmd_status(&c, as_json);
    else if (strcmp(cmd, "private") == 0)
        rc = cmd_private(&c, on == 1);
    else if (strcmp(cmd, "flush") == 0)
        rc = cmd_flush(&c, wait);
    else if (strcmp(cmd, "pending") == 0)
        rc = cmd_pending(&c, as_json, limit);
    else if (strcmp(cmd, "dead-letters") == 0)
        rc = cmd_dead_letters(&c, dl_action ? dl_action : "list", as_json, seqv, seqc);
    else
        rc = cmd_purge(&c, server, yes,
                       (int64_t)(timeout_s > 86400000 ? 86400000 : timeout_s) * 1000);
    conn_close(&c);
    if (fflush(stdout) != 0 && rc == 0)
        rc = EXIT_DAEMON_ERROR;
    return rc;
}
