/* stint-tray.c — the tray icon of stintd: shows what the agent does and switches private mode.
 *
 * Design. A separate program: stintd never links a GUI or D-Bus library, and the tray talks to
 * it only through the control socket (spec/CONTROL.md), with the same peer check as stintctl.
 * It keeps one `watch` connection open, so its loop (sd-event) sleeps in epoll until stintd
 * sends a state line, the desktop calls over D-Bus, or the socket's folder changes; it never
 * polls stintd. The pieces:
 *
 *   link.c   the control socket: the watch stream, one-shot requests
 *   item.c   the StatusNotifierItem and its dbusmenu (why not libayatana-appindicator3: there)
 *   view.c   a state line as icon, tooltip and menu (a pure mapping, tested as a table)
 *   here     options, the loop, and the actions a click asks for
 *
 * When stintd is not running (no socket, refused, or the watch ended) the icon is
 * stint-stopped, the tooltip says why, and the menu offers only Quit. To notice stintd coming
 * back without polling, the socket's folder is watched with inotify: a new socket file is
 * retried a few times (it exists from bind() on, a moment before stintd listens), and a
 * fallback attempt once a minute covers what inotify cannot see (the folder replaced).
 *
 * Exit status: 0 after Quit or SIGTERM/SIGINT; 1 when the session bus cannot be used; 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "item.h"
#include "link.h"
#include "view.h"

#ifndef STINT_TRAY_VERSION
#define STINT_TRAY_VERSION "0"
#endif

#define RETRY_FIRST_US (50 * 1000ULL)     /* a new socket file: first try after 50 ms */
#define RETRY_MAX_US (2 * 1000 * 1000ULL) /* then doubling up to 2 s */
#define RETRY_TRIES 12                    /* about 15 s in all, then wait for inotify */
#define FALLBACK_US (60 * 1000 * 1000ULL) /* while stintd is down: one attempt a minute */

extern char **environ;

struct tray {
    sd_event *ev;
    sd_bus *bus;
    struct stint_tray_item *item;
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char sockdir[PATH_MAX], sockname[256];
    const char *report_open;
    bool verbose;

    int watch_fd;
    struct stint_link_reader reader;
    sd_event_source *watch_src, *retry_src, *dir_src, *parent_src, *fallback_src;
    int tries;
    uint64_t retry_us;

    bool running, private_mode, can_flush;
    char why_down[256]; /* why the agent counts as not running */
};

/* ---- the view (view.c) ---- */

static void show(struct tray *t, const struct stint_tray_view *v)
{
    if (t->verbose)
        fprintf(stderr, "stint-tray: %s | %s | %s\n", v->icon, v->tip_title, v->tip_text);
    if (t->item && stint_tray_item_update(t->item, v) != STINT_OK)
        fprintf(stderr, "stint-tray: out of memory updating the icon\n");
}

static void show_stopped(struct tray *t)
{
    struct stint_tray_view_text vt;

    stint_tray_view_stopped(t->why_down, &vt);
    t->running = false;
    show(t, &vt.view);
}

static void show_state(struct tray *t, const json_t *st)
{
    struct stint_tray_view_text vt;

    stint_tray_view_of_state(st, time(NULL), &vt);
    t->running = true;
    t->private_mode = vt.view.private_mode;
    t->can_flush = vt.view.can_flush;
    show(t, &vt.view);
}

/* ---- the watch connection ---- */

static void arm_retry(struct tray *t, bool fresh);

/* While stintd is down: one attempt a minute, whatever inotify sees. */
static void on_fallback_arm(struct tray *t)
{
    uint64_t now = 0;
    sd_event_now(t->ev, CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(t->fallback_src, now + FALLBACK_US);
    sd_event_source_set_enabled(t->fallback_src, SD_EVENT_ONESHOT);
}

static void watch_close(struct tray *t, const char *why)
{
    t->watch_src = sd_event_source_disable_unref(t->watch_src);
    if (t->watch_fd >= 0)
        close(t->watch_fd);
    t->watch_fd = -1;
    t->reader.len = 0;
    snprintf(t->why_down, sizeof(t->why_down), "%s", why);
    show_stopped(t);
    on_fallback_arm(t);
}

static void on_line(void *ctx, json_t *line)
{
    struct tray *t = ctx;
    json_t *st = json_object_get(line, "state");

    if (json_is_object(st)) {
        show_state(t, st);
    } else if (json_object_get(line, "ok")) {
        const char *m = json_string_value(json_object_get(line, "message"));
        if (!m)
            m = "";
        if (strstr(m, "shutting down"))
            snprintf(t->why_down, sizeof(t->why_down), "stintd stopped");
        else
            snprintf(t->why_down, sizeof(t->why_down), "stintd: %s", *m ? m : "the watch ended");
    }
}

static int on_watch_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct tray *t = userdata;
    struct stint_error e;
    (void)s;
    (void)revents;
    t->why_down[0] = '\0';
    if (stint_link_read_lines(fd, &t->reader, on_line, t, &e) != STINT_OK) {
        char why[256];
        snprintf(why, sizeof(why), "%s", t->why_down[0] ? t->why_down : "stintd stopped");
        watch_close(t, why);
        arm_retry(t, true); /* a restart (SIGHUP, systemd) brings the socket back soon */
    }
    return 0;
}

/* Tries once; true when the watch runs. */
static bool watch_open(struct tray *t)
{
    static const char req[] = "{\"cmd\":\"watch\"}\n";
    struct stint_error e;
    bool refused = false;
    int fd = -1, r;

    if (t->watch_fd >= 0)
        return true;
    if (stint_link_connect(t->socket, &fd, &refused, &e) != STINT_OK) {
        /* the usual case in words that stay the same from one attempt to the next */
        if (refused)
            snprintf(t->why_down, sizeof(t->why_down), "stintd is not running (no one at %.200s)",
                     t->socket);
        else
            snprintf(t->why_down, sizeof(t->why_down), "%s", e.msg);
        return false;
    }
    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        snprintf(t->why_down, sizeof(t->why_down), "cannot ask stintd to watch: %s",
                 strerror(errno));
        close(fd);
        return false;
    }
    r = sd_event_add_io(t->ev, &t->watch_src, fd, EPOLLIN, on_watch_io, t);
    if (r < 0) {
        close(fd);
        return false;
    }
    t->watch_fd = fd;
    t->reader.len = 0;
    t->tries = 0;
    sd_event_source_set_enabled(t->retry_src, SD_EVENT_OFF);
    sd_event_source_set_enabled(t->fallback_src, SD_EVENT_OFF);
    return true;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct tray *t = userdata;
    (void)s;
    (void)usec;
    if (watch_open(t))
        return 0;
    if (!t->running)
        show_stopped(t); /* the reason may be new (another uid's socket, say) */
    if (++t->tries < RETRY_TRIES) {
        t->retry_us = t->retry_us * 2 > RETRY_MAX_US ? RETRY_MAX_US : t->retry_us * 2;
        arm_retry(t, false);
    }
    return 0;
}

/* Schedules an attempt: fresh starts the short series over. */
static void arm_retry(struct tray *t, bool fresh)
{
    uint64_t now = 0;

    if (fresh) {
        t->tries = 0;
        t->retry_us = RETRY_FIRST_US;
    }
    sd_event_now(t->ev, CLOCK_MONOTONIC, &now);
    sd_event_source_set_time(t->retry_src, now + t->retry_us);
    sd_event_source_set_enabled(t->retry_src, SD_EVENT_ONESHOT);
}

static int on_fallback(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct tray *t = userdata;
    uint64_t now = usec;
    if (!watch_open(t)) {
        sd_event_now(t->ev, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(s, now + FALLBACK_US);
        sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    }
    return 0;
}

static void watch_dirs(struct tray *t);

static int on_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
    struct tray *t = userdata;
    (void)s;
    if (ev->len && strcmp(ev->name, t->sockname) == 0 && t->watch_fd < 0 &&
        (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_ATTRIB)))
        arm_retry(t, true);
    return 0;
}

static int on_parent(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
    struct tray *t = userdata;
    (void)s;
    (void)ev;
    if (!t->dir_src)
        watch_dirs(t); /* the socket's folder may exist now */
    return 0;
}

/* inotify on the socket's folder, or on its parent until the folder exists. */
static void watch_dirs(struct tray *t)
{
    char parent[PATH_MAX];
    char *slash;

    if (!t->dir_src &&
        sd_event_add_inotify(t->ev, &t->dir_src, t->sockdir,
                             IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR, on_dir, t) >= 0) {
        t->parent_src = sd_event_source_disable_unref(t->parent_src);
        if (t->watch_fd < 0)
            arm_retry(t, true);
        return;
    }
    snprintf(parent, sizeof(parent), "%s", t->sockdir);
    slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return; /* the fallback timer covers it */
    *slash = '\0';
    if (!t->parent_src)
        sd_event_add_inotify(t->ev, &t->parent_src, parent, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR,
                             on_parent, t);
}

/* ---- actions ---- */

static void warn_action(const char *what, const struct stint_error *e)
{
    fprintf(stderr, "stint-tray: %s: %s\n", what, e->msg);
}

static void write_report(struct tray *t)
{
    char path[PATH_MAX + 32], prog[PATH_MAX];
    struct stint_error e;
    json_t *ans = NULL;
    char *text = NULL;
    FILE *f = NULL;
    pid_t pid;
    int fd = -1;
    posix_spawnattr_t attr;
    sigset_t dflt;

    if (stint_link_ask(t->socket, "{\"cmd\":\"status\"}", &ans, &e) != STINT_OK) {
        warn_action("report", &e);
        goto cleanup;
    }
    /* Until `stintctl report --html` exists, today's report is the status text. */
    json_object_del(ans, "ok");
    text = json_dumps(ans, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    snprintf(path, sizeof(path), "%s/stint-tray-report.txt", t->sockdir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || !text) {
        fprintf(stderr, "stint-tray: report: cannot write %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    fd = -1;
    fprintf(f, "Stint: today's report\n\nThe agent's status (stintctl status --json):\n\n%s\n",
            text);
    if (fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "stint-tray: report: writing %s: %s\n", path, strerror(errno));
        goto cleanup;
    }
    f = NULL;
    if (!t->report_open || !*t->report_open)
        goto cleanup;
    /* The opener runs on its own; SIGCHLD is ignored (children are reaped by the kernel), but
     * not in the child, whose own waits must work. */
    posix_spawnattr_init(&attr);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGCHLD);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    sigemptyset(&dflt);
    posix_spawnattr_setsigmask(&attr, &dflt);
    {
        char *argv[] = {prog, path, NULL};
        int r;
        snprintf(prog, sizeof(prog), "%s", t->report_open);
        r = posix_spawnp(&pid, prog, NULL, &attr, argv, environ);
        if (r != 0)
            fprintf(stderr, "stint-tray: report: cannot run %s: %s (the report is in %s)\n",
                    t->report_open, strerror(r), path);
    }
    posix_spawnattr_destroy(&attr);
cleanup:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    free(text);
    json_decref(ans);
}

static void on_action(void *ctx, enum stint_tray_action a)
{
    struct tray *t = ctx;
    struct stint_error e;
    json_t *ans = NULL;

    switch (a) {
    case STINT_TRAY_PRIVATE:
        if (stint_link_ask(t->socket,
                           t->private_mode ? "{\"cmd\":\"private\",\"on\":false}"
                                           : "{\"cmd\":\"private\",\"on\":true}",
                           &ans, &e) != STINT_OK)
            warn_action("private mode", &e);
        /* the watch line that follows at once updates the icon */
        break;
    case STINT_TRAY_FLUSH:
        if (stint_link_ask(t->socket, "{\"cmd\":\"flush\"}", &ans, &e) != STINT_OK)
            warn_action("send now", &e);
        break;
    case STINT_TRAY_REPORT:
        write_report(t);
        break;
    case STINT_TRAY_QUIT:
        sd_event_exit(t->ev, 0);
        break;
    }
    json_decref(ans);
}

/* ---- options, autostart, main ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: stint-tray [OPTIONS]\n"
            "       stint-tray --autostart on|off\n"
            "\n"
            "Shows stintd's state as an icon in the desktop's tray (StatusNotifierItem on the\n"
            "session D-Bus) and switches private mode: a click on the icon toggles it; the menu\n"
            "has Private mode, Send now, Today's report and Quit tray. Icons: recording (with\n"
            "the current application), private, idle, offline (records waiting, since when),\n"
            "sending, blocked (the sender's status line), and stopped when stintd is not\n"
            "running (the menu then offers only Quit). It follows stintd through the control\n"
            "socket's watch request and never polls it.\n"
            "\n"
            "OPTIONS\n"
            "    --socket PATH\n"
            "        The control socket (default: $XDG_RUNTIME_DIR/stint/control).\n"
            "    --icons DIR\n"
            "        A folder of stint-*.svg icons handed to the tray host as IconThemePath\n"
            "        (default: none, the icons installed in the hicolor theme).\n"
            "    --report-open PROGRAM\n"
            "        What opens Today's report, given the report file (default: xdg-open; \"\"\n"
            "        only writes the file, stint-tray-report.txt beside the socket).\n"
            "    --autostart on|off\n"
            "        Add or remove $XDG_CONFIG_HOME/autostart/stint-tray.desktop (start with the\n"
            "        session for this user only; packages install /etc/xdg/autostart), then exit.\n"
            "    -v, --verbose\n"
            "        Print every state shown on standard error.\n"
            "    --version\n"
            "        Print the version.\n"
            "    -h, --help\n"
            "        This text.\n"
            "\n"
            "EXIT STATUS\n"
            "    0  quit from the menu, or SIGTERM/SIGINT\n"
            "    1  no session D-Bus, or the tray item could not be exported\n"
            "    2  usage error\n"
            "\n"
            "ENVIRONMENT\n"
            "    XDG_RUNTIME_DIR            where the default socket lives\n"
            "    DBUS_SESSION_BUS_ADDRESS   the session bus\n"
            "    XDG_CONFIG_HOME            for --autostart (default ~/.config)\n"
            "\n"
            "SEE ALSO\n"
            "    stintd(1), stintctl(1); the protocol: spec/CONTROL.md\n");
}

static int autostart(const char *how)
{
    char dir[PATH_MAX], path[PATH_MAX + 32], self[PATH_MAX];
    const char *cfg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    ssize_t n;
    FILE *f;

    if (cfg && *cfg)
        snprintf(dir, sizeof(dir), "%s/autostart", cfg);
    else if (home && *home)
        snprintf(dir, sizeof(dir), "%s/.config/autostart", home);
    else {
        fprintf(stderr, "stint-tray: neither XDG_CONFIG_HOME nor HOME is set\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/stint-tray.desktop", dir);
    if (strcmp(how, "off") == 0) {
        if (unlink(path) != 0 && errno != ENOENT) {
            fprintf(stderr, "stint-tray: cannot remove %s: %s\n", path, strerror(errno));
            return 1;
        }
        printf("removed %s\n", path);
        return 0;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        fprintf(stderr, "stint-tray: cannot find my own path: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "stint-tray: cannot make %s: %s\n", dir, strerror(errno));
        return 1;
    }
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "stint-tray: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f,
            "[Desktop Entry]\nType=Application\nName=Stint tray\n"
            "Comment=Shows what the Stint agent records and switches private mode\n"
            "Exec=%s\nIcon=stint-recording\nTerminal=false\nNoDisplay=true\n"
            "X-GNOME-Autostart-enabled=true\n",
            self);
    if (fclose(f) != 0) {
        fprintf(stderr, "stint-tray: writing %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    (void)si;
    (void)userdata;
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* Fills t's socket, sockdir and sockname from --socket (sock) or $XDG_RUNTIME_DIR; false with the
 * reason on stderr when neither gives a path that fits. */
static bool socket_paths(struct tray *t, const char *sock)
{
    char *slash;

    if (sock) {
        if (strlen(sock) >= sizeof(t->socket)) {
            fprintf(stderr, "stint-tray: --socket path too long: %s\n", sock);
            return false;
        }
        snprintf(t->socket, sizeof(t->socket), "%s", sock);
    } else {
        const char *rt = getenv("XDG_RUNTIME_DIR");
        if (!rt || !*rt) {
            fprintf(stderr, "stint-tray: XDG_RUNTIME_DIR is not set: give --socket PATH\n");
            return false;
        }
        if ((size_t)snprintf(t->socket, sizeof(t->socket), "%s/stint/control", rt) >=
            sizeof(t->socket)) {
            fprintf(stderr, "stint-tray: XDG_RUNTIME_DIR too long\n");
            return false;
        }
    }
    snprintf(t->sockdir, sizeof(t->sockdir), "%s", t->socket);
    slash = strrchr(t->sockdir, '/');
    if (!slash) {
        snprintf(t->sockname, sizeof(t->sockname), "%s", t->socket);
        snprintf(t->sockdir, sizeof(t->sockdir), ".");
    } else {
        snprintf(t->sockname, sizeof(t->sockname), "%s", slash + 1);
        *slash = '\0';
        if (slash == t->sockdir)
            snprintf(t->sockdir, sizeof(t->sockdir), "/");
    }
    return true;
}

int main(int argc, char **argv)
{
    enum { O_SOCKET = 256, O_ICONS, O_REPORT, O_AUTOSTART, O_VERSION };
    static const struct option longs[] = {{"socket", required_argument, NULL, O_SOCKET},
                                          {"icons", required_argument, NULL, O_ICONS},
                                          {"report-open", required_argument, NULL, O_REPORT},
                                          {"autostart", required_argument, NULL, O_AUTOSTART},
                                          {"verbose", no_argument, NULL, 'v'},
                                          {"version", no_argument, NULL, O_VERSION},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct tray t = {.watch_fd = -1, .report_open = "xdg-open"};
    struct stint_tray_item_opts io = {.action = on_action, .ctx = &t};
    struct stint_tray_view v0 = {.icon = "stint-stopped",
                                 .status = "Active",
                                 .tip_title = "Stint",
                                 .tip_text = "connecting to stintd",
                                 .label = "Connecting to stintd"};
    const char *sock = NULL, *icons = NULL;
    struct stint_error e;
    char icons_abs[PATH_MAX];
    sigset_t mask;
    int opt, r, rc = 1;

    while ((opt = getopt_long(argc, argv, "vh", longs, NULL)) != -1) {
        switch (opt) {
        case O_SOCKET:
            sock = optarg;
            break;
        case O_ICONS:
            icons = optarg;
            break;
        case O_REPORT:
            t.report_open = optarg;
            break;
        case O_AUTOSTART:
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                fprintf(stderr, "stint-tray: --autostart takes on or off, not \"%s\"\n", optarg);
                return 2;
            }
            return autostart(optarg);
        case 'v':
            t.verbose = true;
            break;
        case O_VERSION:
            printf("stint-tray %s\n", STINT_TRAY_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "Try 'stint-tray --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "stint-tray: unexpected argument \"%s\"; try 'stint-tray --help'\n",
                argv[optind]);
        return 2;
    }
    if (!socket_paths(&t, sock))
        return 2;
    if (icons) {
        if (!realpath(icons, icons_abs)) {
            fprintf(stderr, "stint-tray: --icons %s: %s\n", icons, strerror(errno));
            return 2;
        }
        io.icon_theme_path = icons_abs;
    }

    signal(SIGCHLD, SIG_IGN); /* report openers are reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    r = sd_event_default(&t.ev);
    if (r < 0) {
        fprintf(stderr, "stint-tray: sd-event: %s\n", strerror(-r));
        goto cleanup;
    }
    sd_event_add_signal(t.ev, NULL, SIGTERM, on_signal, NULL);
    sd_event_add_signal(t.ev, NULL, SIGINT, on_signal, NULL);
    r = sd_bus_open_user(&t.bus);
    if (r < 0) {
        fprintf(stderr, "stint-tray: cannot connect to the session D-Bus: %s\n", strerror(-r));
        goto cleanup;
    }
    r = sd_bus_attach_event(t.bus, t.ev, SD_EVENT_PRIORITY_NORMAL);
    if (r < 0) {
        fprintf(stderr, "stint-tray: sd-bus: %s\n", strerror(-r));
        goto cleanup;
    }
    if (stint_tray_item_create(t.bus, &io, &v0, &t.item, &e) != STINT_OK) {
        fprintf(stderr, "stint-tray: %s\n", e.msg);
        goto cleanup;
    }
    r = sd_event_add_time(t.ev, &t.retry_src, CLOCK_MONOTONIC, 0, 10 * 1000, on_retry, &t);
    if (r >= 0)
        r = sd_event_source_set_enabled(t.retry_src, SD_EVENT_OFF);
    if (r >= 0)
        r = sd_event_add_time_relative(t.ev, &t.fallback_src, CLOCK_MONOTONIC, FALLBACK_US,
                                       1000 * 1000, on_fallback, &t);
    if (r < 0) {
        fprintf(stderr, "stint-tray: timers: %s\n", strerror(-r));
        goto cleanup;
    }
    if (!watch_open(&t)) {
        show_stopped(&t);
    }
    watch_dirs(&t);
    r = sd_event_loop(t.ev);
    rc = r < 0 ? 1 : 0;
cleanup:
    if (t.watch_fd >= 0)
        close(t.watch_fd);
    sd_event_source_disable_unref(t.watch_src);
    sd_event_source_disable_unref(t.retry_src);
    sd_event_source_disable_unref(t.fallback_src);
    sd_event_source_disable_unref(t.dir_src);
    sd_event_source_disable_unref(t.parent_src);
    stint_tray_item_destroy(t.item);
    sd_bus_flush_close_unref(t.bus);
    sd_event_unref(t.ev);
    return rc;
}
