/* source_driver.c — any live source (stint_source_open's names: wayland, gnome, auto, ...) and
 * the tracker on a real journal, run the way stintd runs them (one poll loop), for the Wayland and
 * D-Bus source tests (wayland_test.sh, gnome_test.sh). Usage:
 *     source_driver SPEC JOURNAL_DIR IDLE_AFTER_MS OUT.tsv
 * Prints "ready <source name>" once the source is open, then on stdout, one line each with the
 * wall time in ms first: every sample the source hands the tracker ("sample APP<TAB>TITLE<TAB>
 * PATH"), every idle it reports ("idle SINCE_MS"), every failed dispatch ("error MESSAGE") and
 * every change of the source's status detail ("detail TEXT"). SIGUSR1 turns private mode on,
 * SIGUSR2 off ("private on", "private off"), as stintctl private does. On SIGTERM it shuts the
 * tracker down and writes every record of the journal to OUT.tsv, one a line: kind, app, path,
 * title, url, start_ms, end_ms (tab-separated). Exit 0 on success, 1 when the source cannot be
 * opened (the message on stderr), 2 on usage. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "source.h"
#include "tracker.h"

static volatile sig_atomic_t stop, private_req; /* private_req: 1 on, 2 off */

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void on_usr(int sig)
{
    private_req = sig == SIGUSR1 ? 1 : 2;
}

static struct stint_sink inner;

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum stint_err log_sample(void *ctx, const struct stint_sample *s,
                                 const struct stint_source_pos *pos)
{
    printf("%lld sample %.*s\t%.*s\t%.*s\n", wall_ms(), (int)s->app_len, s->app, (int)s->title_len,
           s->title, (int)s->path_len, s->path);
    fflush(stdout);
    return inner.sample(ctx, s, pos);
}

static enum stint_err log_idle(void *ctx, int64_t since, const struct stint_source_pos *pos)
{
    printf("%lld idle %lld\n", wall_ms(), (long long)since);
    fflush(stdout);
    return inner.idle(ctx, since, pos);
}

static enum stint_err dump(void *ctx, const struct stint_journal_entry *en)
{
    const struct stint_record *r = en->record;
    fprintf(ctx, "%d\t%s\t%s\t%s\t%s\t%lld\t%lld\n", r->kind, r->app, r->path, r->title, r->url,
            (long long)r->start_ms, (long long)r->end_ms);
    return STINT_OK;
}

int main(int argc, char **argv)
{
    struct stint_journal_opts jo = {0};
    struct stint_tracker_opts to = {0};
    struct stint_journal *j = NULL;
    struct stint_source *src = NULL;
    struct stint_tracker *t = NULL;
    struct stint_source_stats ss;
    struct stint_error e;
    struct sigaction sa;
    char detail[sizeof(ss.detail)] = "";
    FILE *out = NULL;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: source_driver SPEC JOURNAL_DIR IDLE_AFTER_MS OUT.tsv\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_usr;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    jo.path = argv[2];
    jo.sync = STINT_SYNC_NONE;
    if (stint_journal_open(&jo, &j, NULL, &e) != STINT_OK ||
        stint_source_open(argv[1], &src, &e) != STINT_OK) {
        fprintf(stderr, "source_driver: %s\n", e.msg);
        goto cleanup;
    }
    to.journal = j;
    to.source = src;
    to.idle_after_ms = strtoll(argv[3], NULL, 10);
    to.idle_poll_ms = 200;
    to.private_records = true;
    if (stint_tracker_create(&to, &t, &e) != STINT_OK) {
        fprintf(stderr, "source_driver: %s\n", e.msg);
        goto cleanup;
    }
    stint_source_set_idle_after(src, to.idle_after_ms);
    inner = *stint_tracker_sink(t);
    {
        struct stint_sink logged = inner;
        logged.sample = log_sample;
        logged.idle = log_idle;
        stint_source_set_sink(src, &logged);
    }
    printf("%lld ready %s\n", wall_ms(), stint_source_name(src));
    fflush(stdout);
    while (!stop) {
        struct pollfd p[8];
        int n = stint_source_fds(src, p, 6), tfd = stint_tracker_fd(t);
        int64_t a = stint_source_timeout(src), b = stint_tracker_timeout(t), to_ms = -1;
        if (tfd >= 0) {
            p[n++] = (struct pollfd){.fd = tfd, .events = POLLIN};
        }
        to_ms = a < 0 ? b : (b < 0 || a < b ? a : b);
        if (poll(p, (nfds_t)n, to_ms > 60000 || to_ms < 0 ? 60000 : (int)to_ms) < 0) {
            if (private_req) {
                bool on = private_req == 1;
                private_req = 0;
                printf("%lld private %s\n", wall_ms(), on ? "on" : "off");
                fflush(stdout);
                stint_tracker_private_set(t, on);
            }
            continue; /* EINTR: a signal */
        }
        if (stint_source_dispatch(src, p, n) != STINT_OK) {
            stint_source_stats(src, &ss);
            printf("%lld error %s\n", wall_ms(), ss.last_error);
        }
        if (stint_tracker_timeout(t) == 0 || (tfd >= 0 && (p[n - 1].revents & POLLIN))) {
            stint_tracker_tick(t);
        }
        stint_source_stats(src, &ss);
        if (strcmp(ss.detail, detail) != 0) {
            memcpy(detail, ss.detail, sizeof(detail));
            printf("%lld detail %s\n", wall_ms(), detail);
        }
        fflush(stdout);
    }
    if (stint_tracker_shutdown(t) != STINT_OK) {
        fprintf(stderr, "source_driver: shutdown failed\n");
        goto cleanup;
    }
    out = fopen(argv[4], "w");
    if (!out || stint_journal_read(j, 0, 100000, SIZE_MAX, 0, dump, out, NULL, NULL) != STINT_OK) {
        fprintf(stderr, "source_driver: cannot write %s\n", argv[4]);
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (out) {
        fclose(out);
    }
    stint_tracker_destroy(t);
    stint_source_destroy(src);
    stint_journal_close(j);
    return rc;
}
