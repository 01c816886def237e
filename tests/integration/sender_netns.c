/* sender_netns.c — the network comes back: the first batch leaves within 1 s of the link's return,
 * not on the next backoff tick.
 *
 * As root, the test makes a network namespace and a veth pair of its own (names carry the pid),
 * 10.213.N.1/30 outside and 10.213.N.2/30 inside (plus an `unreachable` route for the prefix
 * with a high metric, so that with the link down a connect fails at once), runs stint-collector
 * inside the namespace (ip netns exec) and stint-send-test outside with the default backoff (1 s
 * base, 300 s cap) and a record source appending 5 records every 50 ms. Once batches flow, the
 * outer end of the link goes down for 8 s (connects fail at once: the route is gone, records pile
 * up, the backoff grows to several seconds), then comes back up. From the sender's attempt log: the
 * first attempt that starts after the link's return, and the first that succeeds, must both come
 * within 1 s of it. Then the record source stops, the sender drains, and `dump` must show every
 * record once.
 *
 * Skips (exit 77, ctest SKIP_RETURN_CODE) when not root or when `ip netns add` is refused.
 * usage: sender_netns STINT-SEND-TEST [--no-netwatch]  (the second form shows the test fail). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sender_support.h"

#define SKIP 77

static char ns[64], va[32], vb[32];
static bool ns_made, link_made, route_made;
static int net_n;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    int rc;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "sender_netns: failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

static void teardown(void)
{
    if (route_made)
        sh("ip route del unreachable 10.213.%d.0/30 metric 4000 2>/dev/null || true", net_n);
    if (link_made)
        sh("ip link del %s 2>/dev/null || true", va);
    if (ns_made)
        sh("ip netns del %s", ns);
}

struct att {
    int64_t start, end;
    char cls[16];
};

int main(int argc, char **argv)
{
    struct sup_run r;
    struct sup_collector c;
    char journal[256], data[256], url[128], att[300], stop[300], ip_in[32], ip_out[32];
    const char *wrapper[5];
    int n = (int)(getpid() % 250) + 1, rc = 1, status = 0;
    bool netwatch = !(argc > 2 && strcmp(argv[2], "--no-netwatch") == 0);
    int64_t t_down = 0, t_up = 0, first_start = -1, first_ok = -1, last_wait = 0;
    uint64_t appended = 0, failed_down = 0;
    pid_t pid;
    FILE *f;

    if (argc < 2) {
        fprintf(stderr, "usage: sender_netns STINT-SEND-TEST [--no-netwatch]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    if (geteuid() != 0) {
        printf("sender_netns: SKIPPED: needs root to make a network namespace\n");
        return SKIP;
    }
    snprintf(ns, sizeof(ns), "stint-send-%d", (int)getpid());
    snprintf(va, sizeof(va), "sts%da", (int)getpid() % 100000);
    snprintf(vb, sizeof(vb), "sts%db", (int)getpid() % 100000);
    net_n = n;
    snprintf(ip_out, sizeof(ip_out), "10.213.%d.1", n);
    snprintf(ip_in, sizeof(ip_in), "10.213.%d.2", n);
    if (system(
            "ip netns add stint-send-probe-$$ 2>/dev/null && ip netns del stint-send-probe-$$") !=
        0) {
        printf("sender_netns: SKIPPED: `ip netns add` is not possible here\n");
        return SKIP;
    }
    if (sh("ip netns add %s", ns) != 0)
        goto cleanup;
    ns_made = true;
    if (sh("ip link add %s type veth peer name %s", va, vb) != 0)
        goto cleanup;
    link_made = true;
    if (sh("ip link set %s netns %s", vb, ns) != 0 ||
        sh("ip addr add %s/30 dev %s && ip link set %s up", ip_out, va, va) != 0 ||
        sh("ip netns exec %s sh -c 'ip addr add %s/30 dev %s && ip link set %s up && "
           "ip link set lo up'",
           ns, ip_in, vb, vb) != 0)
        goto cleanup;
    /* with the link down, the inside address must be unreachable at once (as on a machine with
     * no network at all), not routed to the default gateway where SYNs vanish until the connect
     * timeout: so failures come fast and the backoff grows, which is the case to beat */
    if (sh("ip route add unreachable 10.213.%d.0/30 metric 4000", n) != 0)
        goto cleanup;
    route_made = true;
    if (sup_run_init(&r, "netns", ip_in) != 0)
        goto cleanup;
    snprintf(journal, sizeof(journal), "%s/journal", r.base);
    snprintf(data, sizeof(data), "%s/data", r.base);
    snprintf(att, sizeof(att), "%s/attempts", r.base);
    snprintf(stop, sizeof(stop), "%s/stop", r.base);
    {
        char listen[64];
        wrapper[0] = "ip";
        wrapper[1] = "netns";
        wrapper[2] = "exec";
        wrapper[3] = ns;
        wrapper[4] = NULL;
        snprintf(listen, sizeof(listen), "%s:0", ip_in);
        if (sup_collector_start(&c, &r, listen, data, NULL, wrapper) != 0)
            goto cleanup;
    }
    snprintf(url, sizeof(url), "https://%s:%d", ip_in, c.port);
    {
        const char *args[] = {argv[1],
                              "run",
                              "--journal",
                              journal,
                              "--url",
                              url,
                              "--ca",
                              r.cert,
                              "--token",
                              SUP_TOKEN,
                              "--append-every-ms",
                              "50",
                              "--append-n",
                              "5",
                              "--linger-ms",
                              "100",
                              "--stop-file",
                              stop,
                              "--attempts",
                              att,
                              "--timeout",
                              "120",
                              netwatch ? NULL : "--no-netwatch",
                              NULL};
        int pfd[2];
        char line[1024];

        if (pipe(pfd) != 0)
            goto cleanup;
        pid = fork();
        if (pid == 0) {
            dup2(pfd[1], 1);
            close(pfd[0]);
            execv(args[0], (char *const *)(uintptr_t)args);
            _exit(127);
        }
        close(pfd[1]);
        sup_sleep(2.0); /* batches flow */
        t_down = sup_wall_ms();
        if (sh("ip link set %s down", va) != 0)
            goto cleanup;
        /* the connection the sender keeps is closed too (as a long outage, a NAT or a server
         * restart would), so that even without the netlink watch the sender does not ride on
         * TCP's own retransmissions but fails and backs off: the case the watch is for */
        sup_sleep(0.05);
        if (system("ss -K dst 10.213.0.0/16 >/dev/null 2>&1") != 0)
            printf("sender_netns: ss -K is not available; the kept connection stays\n");
        sup_sleep(7.95);
        t_up = sup_wall_ms();
        if (sh("ip link set %s up", va) != 0)
            goto cleanup;
        sup_sleep(3.0);
        f = fopen(stop, "w");
        if (f)
            fclose(f);
        f = fdopen(pfd[0], "r");
        while (f && fgets(line, sizeof(line), f)) {
            char *p = strstr(line, "appended=");
            printf("sender_netns: driver: %s", line);
            if (p)
                appended = strtoull(p + 9, NULL, 10);
        }
        if (f)
            fclose(f);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "sender_netns: the driver failed (status %d)\n", status);
            goto cleanup;
        }
    }
    f = fopen(att, "r");
    if (!f)
        goto cleanup;
    {
        struct att a;
        long status_code;
        int curl;
        uint64_t first, last, wait_ms;
        size_t recs, body;
        int gz;
        while (fscanf(f,
                      "%" SCNd64 " %" SCNd64 " %15s %ld %d %" SCNu64 " %" SCNu64
                      " %zu %zu %d %" SCNu64,
                      &a.start, &a.end, a.cls, &status_code, &curl, &first, &last, &recs, &body,
                      &gz, &wait_ms) == 11) {
            if (a.start >= t_down && a.start < t_up) {
                failed_down += strcmp(a.cls, "ok") != 0;
                last_wait = (int64_t)wait_ms;
            }
            if (a.start >= t_up && first_start < 0)
                first_start = a.start - t_up;
            if (a.start >= t_up && first_ok < 0 && strcmp(a.cls, "ok") == 0)
                first_ok = a.start - t_up;
        }
        fclose(f);
    }
    printf("sender_netns: link down %.1f s: %" PRIu64 " failed attempts, the last one chose a wait "
           "of %" PRId64 " ms; after the link's return: first attempt at +%" PRId64
           " ms, first acked batch sent at +%" PRId64 " ms%s\n",
           (double)(t_up - t_down) / 1000.0, failed_down, last_wait, first_start, first_ok,
           netwatch ? "" : " (netlink watching off)");
    if (failed_down < 2) {
        fprintf(stderr, "sender_netns: the link going down did not show in the attempts\n");
        goto cleanup;
    }
    if (first_start < 0 || first_start > 1000 || first_ok < 0 || first_ok > 1000) {
        fprintf(stderr, "sender_netns: FAILED: the first batch did not leave within 1 s of the "
                        "link's return\n");
        goto cleanup;
    }
    if (sup_check_once(&c, appended, NULL, 0) != 0)
        goto cleanup;
    printf("sender_netns: %" PRIu64 " records stored exactly once\n", appended);
    rc = 0;
cleanup:
    if (c.pid)
        sup_collector_stop(&c, SIGTERM);
    teardown();
    if (rc == 0)
        sup_run_cleanup(&r);
    else if (r.base[0])
        fprintf(stderr, "sender_netns: kept %s for a look\n", r.base);
    return rc;
}
