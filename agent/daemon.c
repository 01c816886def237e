/* daemon.c — stintd's wiring and the tracker thread's poll loop (daemon.h).
 *
 * Design. Everything the agent does on its own thread happens in one poll() call: the source's
 * fds (X connection, inotify, a FIFO), the tracker's clock fd (wall-clock set, resume), the
 * control socket's listening and client fds, and a signalfd. The timeout is the earliest of the
 * tracker's, the source's and the control socket's timers, so an idle agent sleeps until a timer
 * is really due. The sender runs on its own thread and is told about new records with
 * stint_sender_wake, which this loop calls whenever the journal's next seq moved.
 *
 * The control socket's callbacks (status, private, flush, pending, purge: commands.c) run on this
 * thread, so they may touch the tracker without locks; the journal and the sender are
 * thread-safe. The only slow operation, `purge --server` (an HTTPS DELETE), runs on a short-lived
 * thread of its own and the control socket polls it, so the loop never waits for the network.
 *
 * Signals are blocked by the caller before any thread exists, so every thread inherits the mask
 * and only the signalfd here sees SIGTERM, SIGINT and SIGHUP.
 */
#define _GNU_SOURCE
#include "daemon_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "control.h"
#include "stint/pb.h"
#include "journal.h"
#include "sender.h"
#include "source.h"
#include "browser_merge.h"
#include "tracker.h"
#include "version.h"

#define FDS_MAX (2 + 16 + STINT_CONTROL_FDS_MAX)

/* ---- the sender ---- */

/* Makes the sender of config c (none without a server); its lines go to the daemon's sink as
 * "sender: ..." at info, dropped above level (the one c brings in on SIGHUP). */
static enum stint_err sender_make(struct stint_daemon *d, const struct stint_config *c,
                                  enum stint_log_level level, struct stint_sender **out,
                                  struct stint_error *e)
{
    struct stint_log slg = d->lg;
    struct stint_sender_opts so;
    char token[STINT_CONFIG_TOKEN_MAX + 1];
    size_t token_len = 0;
    enum stint_err err;

    *out = NULL;
    if (!c->server[0])
        return STINT_OK;
    err = stint_config_read_token(c, token, sizeof(token), &token_len, e);
    if (err != STINT_OK)
        return err;
    memset(&so, 0, sizeof(so));
    so.url = c->server;
    so.token = token;
    so.token_len = token_len;
    so.ca_file = c->ca_file[0] ? c->ca_file : NULL;
    so.pinned_pubkey = c->pinned_key[0] ? c->pinned_key : NULL;
    switch (c->encoding) {
    case STINT_ENCODING_JSON:
        so.encoding = STINT_SENDER_JSON;
        break;
    case STINT_ENCODING_LEGACY_FORM:
        so.encoding = STINT_SENDER_LEGACY_FORM;
        break;
    case STINT_ENCODING_LEGACY_JSON:
        so.encoding = STINT_SENDER_LEGACY_JSON;
        break;
    case STINT_ENCODING_PROTOBUF:
    default:
        so.encoding = STINT_SENDER_PB;
        break;
    }
    so.gzip_min_bytes = c->gzip ? 0 : STINT_SENDER_NO_GZIP;
    so.batch_max_records = c->batch_records;
    so.batch_max_bytes = (size_t)c->batch_bytes;
    so.backoff_base_ms = (uint32_t)c->backoff_base_ms;
    so.backoff_cap_ms = (uint32_t)c->backoff_cap_ms;
    so.probe_ms = (uint32_t)c->probe_ms;
    so.timeout_ms = (uint32_t)c->timeout_ms;
    so.stop_grace_ms = d->stop_grace_ms;
    slg.name = "sender";
    slg.level = level;
    so.log = &slg;
    so.cb_ctx = d;
    err = stint_sender_create(&so, d->journal, out, e);
    memset(token, 0, sizeof(token));
    if (err == STINT_OK) {
        err = stint_sender_start(*out);
        if (err != STINT_OK) {
            stint_error_set(e, err, 0, "cannot start the sender thread");
            stint_sender_destroy(*out);
            *out = NULL;
        }
    }
    return err;
}

static bool journal_failing(struct stint_daemon *d)
{
    struct stint_tracker_status ts;

    stint_tracker_status(d->tracker, &ts);
    return ts.failing;
}

/* Logs the start and the end of a spell of journal failure, once each, with what it cost. */
static void journal_spell(struct stint_daemon *d)
{
    struct stint_tracker_status ts;

    stint_tracker_status(d->tracker, &ts);
    if (ts.failing && !d->journal_spell) {
        d->journal_spell = true;
        d->spell_dropped0 = ts.dropped;
        d->spell_errors0 = ts.append_errors ? ts.append_errors - 1 : 0;
        stint_log(&d->lg, STINT_LOG_ERROR,
                  "journal %s cannot take records (%s): %s; retrying every few seconds",
                  d->cfg.journal, ts.last_error,
                  ts.source_paused ? "the source is paused and will be read again from the last "
                                     "journaled event, nothing is lost"
                                   : "records are held in memory (the oldest are dropped past 256, "
                                     "and a gap record will say how many)");
    } else if (!ts.failing && d->journal_spell) {
        d->journal_spell = false;
        stint_log(&d->lg, ts.dropped > d->spell_dropped0 ? STINT_LOG_WARN : STINT_LOG_INFO,
                  "journal %s takes records again after %" PRIu64 " failed writes; %" PRIu64
                  " records dropped (in a gap record)",
                  d->cfg.journal, ts.append_errors - d->spell_errors0,
                  ts.dropped - d->spell_dropped0);
    }
}

void wake_if_new(struct stint_daemon *d)
{
    struct stint_journal_stats js;

    stint_journal_stats(d->journal, &js);
    if (js.next_seq != d->seen_next_seq) {
        d->seen_next_seq = js.next_seq;
        if (d->sender)
            stint_sender_wake(d->sender);
    }
}

/* ---- create / run / destroy ---- */

/* mkdir -p of the folders above path (0700: activity data is private), not path itself. */
static enum stint_err make_parents(const char *path, struct stint_error *e)
{
    char buf[STINT_CONFIG_PATH_MAX];
    size_t i, len = strlen(path);

    if (len >= sizeof(buf))
        return stint_error_set(e, STINT_EINVAL, 0, "path too long: %s", path);
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    for (i = 1; i < len; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return stint_error_set(e, STINT_EIO, 0, "cannot make folder %s: %s", buf,
                                   strerror(errno));
        buf[i] = '/';
    }
    return STINT_OK;
}

/* A folder that holds activity data: a real folder (not a link), ours, 0700. Missing is fine
 * (it is made 0700). */
static enum stint_err check_private_dir(const char *what, const char *path, struct stint_error *e)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return STINT_OK;
        return stint_error_set(e, STINT_EINVAL, 0, "%s %s: %s", what, path, strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s %s is a symbolic link: give the real folder (it must be yours, "
                               "mode 0700)",
                               what, path);
    if (!S_ISDIR(st.st_mode))
        return stint_error_set(e, STINT_EINVAL, 0, "%s %s is not a folder", what, path);
    if (st.st_uid != geteuid())
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s %s belongs to uid %u, not to you (uid %u): use a folder of "
                               "your own",
                               what, path, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 077)
        return stint_error_set(e, STINT_EINVAL, 0,
                               "%s %s has mode %04o: others could read it; run: chmod 700 %s", what,
                               path, (unsigned)(st.st_mode & 07777), path);
    return STINT_OK;
}

enum stint_err stint_daemon_preflight(const struct stint_config *c, struct stint_error *e)
{
    enum stint_err err;
    struct stat st;

    stint_error_clear(e);
    err = check_private_dir("journal", c->journal, e);
    if (err != STINT_OK)
        return err;
    if (c->socket[0]) {
        char dir[STINT_CONFIG_PATH_MAX];
        const char *slash = strrchr(c->socket, '/');
        if (slash && slash != c->socket) {
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - c->socket), c->socket);
            if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
                return stint_error_set(e, STINT_EINVAL, 0,
                                       "control socket folder %s is a symbolic link: give "
                                       "--socket a path in a real folder of your own",
                                       dir);
        }
    }
    if (c->server[0]) {
        char token[STINT_CONFIG_TOKEN_MAX + 1];
        size_t len = 0;
        err = stint_config_read_token(c, token, sizeof(token), &len, e);
        memset(token, 0, sizeof(token));
        if (err != STINT_OK) {
            char msg[sizeof(e->msg)];
            snprintf(msg, sizeof(msg), "%s", e->msg);
            return stint_error_set(e, STINT_EINVAL, 0, "%s", msg);
        }
        if (c->ca_file[0]) {
            int fd = open(c->ca_file, O_RDONLY | O_CLOEXEC);
            bool ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
            int saved = errno;
            if (fd >= 0)
                close(fd);
            if (!ok)
                return stint_error_set(e, STINT_EINVAL, 0,
                                       "[sender] ca_file %s: %s: give the PEM file of the CA that "
                                       "signed the server's certificate",
                                       c->ca_file, fd < 0 ? strerror(saved) : "not a regular file");
        }
    }
    if (strcmp(c->source, "x11") == 0) {
        const char *disp = getenv("DISPLAY");
        if (!disp || !*disp)
            return stint_error_set(e, STINT_EINVAL, 0,
                                   "source x11: DISPLAY is not set; as a user service run "
                                   "`systemctl --user import-environment DISPLAY XAUTHORITY` "
                                   "(or start it from the session)");
    } else if (strncmp(c->source, "jsonl:", 6) == 0) {
        const char *path = c->source + 6;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
            return stint_error_set(e, STINT_EINVAL, 0, "source %s: not a regular file or a FIFO",
                                   c->source);
    }
    return STINT_OK;
}

/* Every file the journal folder holds is the user's alone (a journal made by an older stintd,
 * or under a loose umask, may have 0644 files). Returns how many files could not be tightened
 * (the folder itself is 0700, so they are still out of other users' reach). */
static size_t tighten_files(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *de;
    size_t failed = 0;

    if (!dir)
        return 0;
    while ((de = readdir(dir)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & 077) && fchmodat(dirfd(dir), de->d_name, st.st_mode & 0700, 0) != 0)
            failed++;
    }
    closedir(dir);
    return failed;
}

static enum stint_err open_journal(struct stint_daemon *d, struct stint_error *e)
{
    struct stint_journal_opts jo;
    struct stint_journal_open_info info;
    enum stint_err err;

    err = check_private_dir("journal", d->cfg.journal, e);
    if (err != STINT_OK)
        return err;
    err = make_parents(d->cfg.journal, e);
    if (err != STINT_OK)
        return err;

    memset(&jo, 0, sizeof(jo));
    jo.path = d->cfg.journal;
    jo.sync = d->cfg.sync;
    jo.sync_interval_ms = (uint32_t)d->cfg.sync_interval_ms;
    jo.max_bytes = d->cfg.max_bytes;
    jo.max_age_ms = d->cfg.max_age_ms;
    jo.full = d->cfg.full;
    jo.history_ms = d->cfg.history_ms;
    jo.history_max_bytes = d->cfg.history_max_bytes;
    err = stint_journal_open(&jo, &d->journal, &info, e);
    if (err != STINT_OK)
        return err;
    {
        size_t loose = tighten_files(d->cfg.journal);
        if (loose)
            stint_log(&d->lg, STINT_LOG_WARN,
                      "journal: %zu file(s) in %s could not be made 0600 (chmod 600 them by hand)",
                      loose, d->cfg.journal);
    }
    if (info.created)
        stint_log(&d->lg, STINT_LOG_INFO, "journal %s created", d->cfg.journal);
    if (info.repaired)
        stint_log(&d->lg, STINT_LOG_WARN,
                  "journal %s was damaged and repaired (%" PRIu64 " records lost%s)",
                  d->cfg.journal, info.lost, info.lost_known ? "" : ", at least");
    if (info.moved_aside)
        stint_log(&d->lg, STINT_LOG_ERROR,
                  "journal %s could not be repaired: moved to %s, a new one begun", d->cfg.journal,
                  info.moved_to);
    if (info.checkpoint_restored)
        stint_log(&d->lg, STINT_LOG_INFO,
                  "the record open at the last stop was closed (seq %" PRIu64 ")",
                  info.checkpoint_seq);
    return STINT_OK;
}

enum stint_err stint_daemon_create(const struct stint_daemon_opts *opts, struct stint_daemon **out,
                                   struct stint_error *e)
{
    struct stint_daemon *d = NULL;
    struct stint_tracker_opts to;
    struct stint_journal_stats js;
    sigset_t set;
    enum stint_err err = STINT_OK;

    stint_error_clear(e);
    *out = NULL;
    if (!opts || !opts->config)
        return stint_error_set(e, STINT_EINVAL, 0, "no config");
    d = calloc(1, sizeof(*d));
    if (!d)
        return stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
    d->sfd = -1;
    d->cfg = *opts->config;
    d->reload = opts->reload;
    d->reload_ctx = opts->reload_ctx;
    d->lg = opts->log ? *opts->log : stint_log_none;
    d->stop_grace_ms = opts->stop_grace_ms ? opts->stop_grace_ms : 250;
    d->started_ms = stint_clock_wall_ms();

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    d->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (d->sfd < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "signalfd: %s", strerror(errno));
        goto cleanup;
    }
    /* the source first: a source that cannot start (no X server) leaves nothing on disk */
    err = stint_source_open(d->cfg.source, &d->source, e);
    if (err != STINT_OK)
        goto cleanup;
    err = open_journal(d, e);
    if (err != STINT_OK)
        goto cleanup;
    stint_source_set_idle_after(d->source, d->cfg.idle_after_ms); /* wayland: its idle timeout */
    memset(&to, 0, sizeof(to));
    to.journal = d->journal;
    to.source = d->source;
    to.idle_after_ms = d->cfg.idle_after_ms;
    to.checkpoint_every_ms = d->cfg.checkpoint_every_ms;
    to.private_records = d->cfg.private_records;
    to.url_mode = d->cfg.url_mode;
    err = stint_config_filters(&d->cfg, &d->filters, e);
    if (err != STINT_OK)
        goto cleanup;
    to.filters = d->filters;
    to.event_time = (stint_source_flags(d->source) & STINT_SOURCE_EVENT_TIME) != 0;
    err = stint_tracker_create(&to, &d->tracker, e);
    if (err != STINT_OK)
        goto cleanup;
    if (d->cfg.browser) {
        /* the window source's samples go through the merger, which adds the browser's URL */
        err = stint_browser_merge_create(stint_tracker_sink(d->tracker), to.event_time, &d->browser,
                                         e);
        if (err != STINT_OK)
            goto cleanup;
        stint_source_set_sink(d->source, stint_browser_merge_sink(d->browser));
    }
    if (d->cfg.socket[0]) {
        struct stint_control_opts co = {
            .path = d->cfg.socket, .ops = &stint_commands_ops, .ctx = d, .log = &d->lg};
        err = stint_control_open(&co, &d->control, e);
        if (err != STINT_OK)
            goto cleanup;
    } else {
        stint_log(&d->lg, STINT_LOG_WARN,
                  "no control socket ($XDG_RUNTIME_DIR unset and no --socket)");
    }
    err = sender_make(d, &d->cfg, d->lg.level, &d->sender, e);
    if (err != STINT_OK)
        goto cleanup;
    stint_journal_stats(d->journal, &js);
    d->seen_next_seq = js.next_seq;
    if (d->sender && js.backlog)
        stint_sender_wake(d->sender);
    stint_log(&d->lg, STINT_LOG_INFO,
              "stintd %s started: source %s, journal %s (%" PRIu64 " records waiting), %s%s%s",
              stint_agent_version(), d->cfg.source, d->cfg.journal, js.backlog,
              d->sender ? "server " : "no server", d->sender ? d->cfg.server : "",
              js.private_mode ? ", private mode on" : "");
    *out = d;
    d = NULL;
cleanup:
    stint_daemon_destroy(d);
    return err;
}

/* SIGHUP: read the config again and apply what can change while running. */
static void reload(struct stint_daemon *d)
{
    struct stint_config *nc = NULL;
    struct stint_sender *ns = NULL;
    struct stint_error e;
    enum stint_err err;

    if (!d->reload) {
        stint_log(&d->lg, STINT_LOG_INFO, "SIGHUP: nothing to reload (no config file)");
        return;
    }
    nc = malloc(sizeof(*nc));
    if (!nc)
        return;
    err = d->reload(d->reload_ctx, nc, &e);
    if (err != STINT_OK) {
        stint_log(&d->lg, STINT_LOG_ERROR, "SIGHUP: config not reloaded, the old one stays: %s",
                  e.msg);
        goto cleanup;
    }
    if (strcmp(nc->source, d->cfg.source) != 0 || strcmp(nc->journal, d->cfg.journal) != 0 ||
        strcmp(nc->socket, d->cfg.socket) != 0 || nc->idle_after_ms != d->cfg.idle_after_ms ||
        nc->checkpoint_every_ms != d->cfg.checkpoint_every_ms ||
        nc->private_records != d->cfg.private_records || nc->url_mode != d->cfg.url_mode ||
        nc->sync != d->cfg.sync || nc->max_bytes != d->cfg.max_bytes ||
        nc->max_age_ms != d->cfg.max_age_ms || nc->full != d->cfg.full ||
        nc->history_ms != d->cfg.history_ms || nc->history_max_bytes != d->cfg.history_max_bytes)
        stint_log(
            &d->lg, STINT_LOG_WARN,
            "SIGHUP: [agent] source/socket, [tracker] and [journal] changes take effect at the "
            "next start");
    if (nc->n_filters != d->cfg.n_filters ||
        memcmp(nc->filters, d->cfg.filters, sizeof(nc->filters)) != 0) {
        /* privacy rules apply at once: to the open record too (stint_tracker_set_filters) */
        struct stint_filters *nf = NULL;
        err = stint_config_filters(nc, &nf, &e);
        if (err != STINT_OK) {
            stint_log(&d->lg, STINT_LOG_ERROR,
                      "SIGHUP: [filters] not reloaded, the old rules stay: %s", e.msg);
            goto cleanup;
        }
        stint_tracker_set_filters(d->tracker, nf);
        stint_filters_destroy(d->filters);
        d->filters = nf;
        memcpy(d->cfg.filters, nc->filters, sizeof(nc->filters));
        memcpy(d->cfg.filter_where, nc->filter_where, sizeof(nc->filter_where));
        d->cfg.n_filters = nc->n_filters;
        stint_log(&d->lg, STINT_LOG_INFO, "SIGHUP: [filters] reloaded: %zu rule%s", nc->n_filters,
                  nc->n_filters == 1 ? "" : "s");
    }
    /* The sender is made anew from the new [sender] section and token (it may also be gone, or
     * new); the journal keeps every record meanwhile. */
    err = sender_make(d, nc, nc->log_level, &ns, &e);
    if (err != STINT_OK) {
        stint_log(&d->lg, STINT_LOG_ERROR, "SIGHUP: the sender keeps its old settings: %s", e.msg);
        goto cleanup;
    }
    stint_sender_destroy(d->sender);
    d->sender = ns;
    memcpy(d->cfg.server, nc->server, sizeof(nc->server));
    memcpy(d->cfg.token_file, nc->token_file, sizeof(nc->token_file));
    memcpy(d->cfg.ca_file, nc->ca_file, sizeof(nc->ca_file));
    memcpy(d->cfg.pinned_key, nc->pinned_key, sizeof(nc->pinned_key));
    d->cfg.encoding = nc->encoding;
    d->cfg.gzip = nc->gzip;
    d->cfg.batch_records = nc->batch_records;
    d->cfg.batch_bytes = nc->batch_bytes;
    d->cfg.backoff_base_ms = nc->backoff_base_ms;
    d->cfg.backoff_cap_ms = nc->backoff_cap_ms;
    d->cfg.probe_ms = nc->probe_ms;
    d->cfg.timeout_ms = nc->timeout_ms;
    d->cfg.log_level = nc->log_level;
    d->lg.level = nc->log_level; /* -v already applied by the reload function */
    if (d->sender)
        stint_sender_wake(d->sender);
    stint_log(&d->lg, STINT_LOG_INFO, "SIGHUP: config reloaded (%s%s)",
              d->sender ? "server " : "no server", d->sender ? d->cfg.server : "");
cleanup:
    free(nc);
}

static int min_timeout(int a, int64_t b)
{
    if (b < 0)
        return a;
    if (b > 0x7fffffff)
        b = 0x7fffffff;
    return a < 0 || b < a ? (int)b : a;
}

/* Drains the signalfd; sets *stop / *hup. */
static void read_signals(struct stint_daemon *d, bool *stop, bool *hup)
{
    struct signalfd_siginfo si;

    while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            *hup = true;
        } else {
            stint_log(&d->lg, STINT_LOG_INFO, "%s: stopping",
                      si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
            *stop = true;
        }
    }
}

enum stint_err stint_daemon_run(struct stint_daemon *d, struct stint_error *e)
{
    struct pollfd fds[FDS_MAX];
    enum stint_err err = STINT_OK;
    bool stop = false;

    stint_error_clear(e);
    while (!stop) {
        int n = 0, nsrc, timeout = -1, tfd, r, src_first, ctl_first, tfd_at = -1;
        size_t nctl = 0;
        bool hup = false, src_ready = false, tfd_ready = false, src_paused;
        struct stint_source_stats ss;
        int64_t tt, st;

        fds[n++] = (struct pollfd){.fd = d->sfd, .events = POLLIN};
        tfd = stint_tracker_fd(d->tracker);
        if (tfd >= 0) {
            tfd_at = n;
            fds[n++] = (struct pollfd){.fd = tfd, .events = POLLIN};
        }
        src_first = n;
        /* a resumable source waits while the journal fails (it is read again from the last
         * journaled event at the tracker's retry) */
        src_paused = stint_tracker_source_paused(d->tracker);
        nsrc = src_paused ? 0 : stint_source_fds(d->source, fds + n, 16);
        if (nsrc < 0)
            nsrc = 0;
        n += nsrc;
        ctl_first = n;
        if (d->control)
            nctl = stint_control_pollfds(d->control, fds + n, STINT_CONTROL_FDS_MAX);
        n += (int)nctl;

        tt = stint_tracker_timeout(d->tracker);
        st = src_paused ? -1 : stint_source_timeout(d->source);
        timeout = min_timeout(timeout, tt);
        timeout = min_timeout(timeout, st);
        if (d->control)
            timeout = min_timeout(timeout, stint_control_timeout_ms(d->control));
        if (d->browser) /* a browser window waiting for its browser's report */
            timeout = min_timeout(timeout, stint_browser_merge_timeout(d->browser));

        r = poll(fds, (nfds_t)n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            err = stint_error_set(e, STINT_EIO, 0, "poll: %s", strerror(errno));
            break;
        }
        if (fds[0].revents & POLLIN)
            read_signals(d, &stop, &hup);
        if (tfd_at >= 0 && fds[tfd_at].revents)
            tfd_ready = true;
        for (int i = src_first; i < src_first + nsrc; i++)
            if (fds[i].revents)
                src_ready = true;

        /* The source first: its items may close records before a timer would. */
        if (!src_paused && (src_ready || (st >= 0 && stint_source_timeout(d->source) <= 0))) {
            enum stint_err berr;
            stint_tracker_batch_begin(d->tracker);
            err = stint_source_dispatch(d->source, fds + src_first, nsrc);
            berr = stint_tracker_batch_end(d->tracker); /* one append for the burst */
            if (err == STINT_OK)
                err = berr;
            if (err != STINT_OK) {
                stint_source_stats(d->source, &ss);
                /* A journal error reaches us through the sink: the tracker holds the records (or
                 * rewinds the source) and retries; that is logged once per spell below. */
                if (!stint_tracker_source_paused(d->tracker) && !journal_failing(d))
                    stint_log(&d->lg, STINT_LOG_ERROR, "source %s: %s%s%s", d->cfg.source,
                              stint_strerror(err), ss.last_error[0] ? ": " : "", ss.last_error);
                err = STINT_OK;
            }
        }
        if (d->browser && stint_browser_merge_tick(d->browser) != STINT_OK)
            stint_log(&d->lg, STINT_LOG_WARN, "browser: a held window could not be recorded");
        if (tfd_ready || (tt >= 0 && stint_tracker_timeout(d->tracker) <= 0)) {
            err = stint_tracker_tick(d->tracker);
            if (err != STINT_OK) {
                struct stint_tracker_status ts;
                stint_tracker_status(d->tracker, &ts);
                if (!ts.failing)
                    stint_log(&d->lg, STINT_LOG_WARN, "tracker: %s (%s)", stint_strerror(err),
                              ts.last_error);
                err = STINT_OK;
            }
        }
        journal_spell(d);
        wake_if_new(d);
        if (d->control)
            stint_control_handle(d->control, fds + ctl_first, nctl);
        if (hup)
            reload(d);
        stint_source_stats(d->source, &ss);
        if (ss.ended && !stop) {
            stint_log(&d->lg, STINT_LOG_INFO, "source %s ended: stopping", d->cfg.source);
            stop = true;
        }
    }

    /* Clean stop: no new requests, the open record closed or checkpointed, the sender stopped
     * (an in-flight request abandoned after the grace), the journal closed. */
    stint_control_close(d->control);
    d->control = NULL;
    {
        enum stint_err serr = stint_tracker_shutdown(d->tracker);
        if (serr != STINT_OK)
            stint_log(&d->lg, STINT_LOG_ERROR, "tracker shutdown: %s", stint_strerror(serr));
    }
    if (d->sender)
        stint_sender_stop(d->sender);
    stint_commands_purge_reap(d, true);
    stint_log(&d->lg, STINT_LOG_INFO, "stopped");
    return err;
}

void stint_daemon_destroy(struct stint_daemon *d)
{
    if (!d)
        return;
    stint_control_close(d->control);
    stint_sender_destroy(d->sender);
    stint_commands_purge_reap(d, true);
    stint_tracker_destroy(d->tracker);
    stint_filters_destroy(d->filters);
    stint_browser_merge_destroy(d->browser);
    stint_source_destroy(d->source);
    stint_journal_close(d->journal);
    if (d->sfd >= 0)
        close(d->sfd);
    free(d);
}

enum stint_log_level stint_daemon_log_level(struct stint_daemon *d)
{
    return d ? d->lg.level : STINT_LOG_INFO;
}
