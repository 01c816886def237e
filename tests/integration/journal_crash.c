/* journal_crash.c — kill -9 a journal writer at random moments and check what survives.
 *
 *   journal_crash POLICY[:N] CYCLES [SEED]      POLICY: always | interval
 *
 * With :N the writer appends N records at a time with a position in the same write (the group
 * commit the tracker makes of a burst: stint_journal_append of N records and a meta key), and
 * the reopened journal must hold whole groups only, with the position of the last one stored.
 *
 * Each cycle starts a child (this program again, exec'ed, so LevelDB starts clean in it) that
 * opens the journal and appends records as fast as it can, each titled with the seq it must get,
 * and after every append writes {appended seq, durable seq} to a pipe. The parent kills it with
 * SIGKILL after a random delay (sometimes before it has opened the journal, sometimes while
 * LevelDB recovers), reads what was reported, opens the journal itself and checks:
 *   - open needed no repair, lost nothing, found no undecodable value;
 *   - the stored seqs are contiguous after the acked point, each value decodes and holds the
 *     title of its own seq (so every record is there exactly once);
 *   - every seq reported durable is there; with `interval`, what is missing was appended after
 *     the last durable report (the loss is bounded by one interval);
 * then acks everything, so each cycle starts from a small journal. Exit 0 when all cycles pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

#define INTERVAL_MS 20

/* Slack over the interval for an fsync on a busy machine (sanitizer builds, two cores). */
#define SLACK_US 2000000

struct report {
    uint64_t appended;
    uint64_t durable;
    int64_t t_us; /* CLOCK_MONOTONIC when the append returned */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void title_of(uint64_t seq, char *buf, size_t cap, size_t *len)
{
    int n = snprintf(buf, cap, "crash-test record %" PRIu64, seq);
    *len = (size_t)n;
}

#define POS_KEY "crash.pos"
#define GROUP_MAX 1024

static enum stint_sync policy_of(const char *s)
{
    return strncmp(s, "interval", 8) == 0 ? STINT_SYNC_INTERVAL : STINT_SYNC_ALWAYS;
}

/* N of "POLICY:N", 1 without it. */
static size_t group_of(const char *s)
{
    const char *colon = strchr(s, ':');
    unsigned long n = colon ? strtoul(colon + 1, NULL, 10) : 1;
    return n >= 1 && n <= GROUP_MAX ? (size_t)n : 1;
}

/* The position stored with the last group (0 when none was). */
static uint64_t stored_pos(struct stint_journal *j)
{
    uint8_t v[8];
    size_t len = 0;
    bool found = false;
    uint64_t pos = 0;
    if (stint_journal_meta_get(j, POS_KEY, v, sizeof(v), &len, &found) != STINT_OK || !found ||
        len != sizeof(v)) {
        return 0;
    }
    memcpy(&pos, v, sizeof(pos));
    return pos;
}

static int child_main(const char *path, const char *policy, int fd)
{
    struct stint_journal_opts o = {
        .path = path, .sync = policy_of(policy), .sync_interval_ms = INTERVAL_MS};
    struct stint_journal *j = NULL;
    struct stint_journal_stats s;
    size_t group = group_of(policy);
    struct stint_record *r = calloc(group, sizeof(*r));
    struct stint_error e;
    uint64_t want;

    if (!r || stint_journal_open(&o, &j, NULL, &e) != STINT_OK) {
        fprintf(stderr, "child: open: %s\n", e.msg);
        return 3;
    }
    stint_journal_stats(j, &s);
    want = s.next_seq;
    for (size_t k = 0; k < group; k++) {
        stint_record_clear(&r[k]);
        r[k].kind = STINT_KIND_ACTIVE;
        stint_record_set(&r[k], STINT_FIELD_APP, "xterm", 5);
        stint_record_set(&r[k], STINT_FIELD_PATH, "/usr/bin/xterm", 14);
        stint_record_set(&r[k], STINT_FIELD_URL, "", 0);
    }
    for (;;) {
        char title[64];
        size_t tl;
        uint64_t seq = 0, last = want + group - 1;
        struct report rep;
        struct stint_journal_append_opts ao = {
            .meta_key = POS_KEY, .meta_val = &last, .meta_len = sizeof(last)};
        for (size_t k = 0; k < group; k++) {
            title_of(want + k, title, sizeof(title), &tl);
            stint_record_set(&r[k], STINT_FIELD_TITLE, title, tl);
            r[k].start_ms = (int64_t)time(NULL) * 1000; /* now: older ones would age out */
            r[k].end_ms = r[k].start_ms + 5;
        }
        if (stint_journal_append(j, r, group, group > 1 ? &ao : NULL, &seq) != STINT_OK ||
            seq != want) {
            fprintf(stderr, "child: append of %" PRIu64 " failed (got %" PRIu64 ")\n", want, seq);
            return 4;
        }
        rep.appended = last;
        rep.durable = stint_journal_durable_seq(j);
        rep.t_us = now_us();
        if (write(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep)) {
            return 5;
        }
        want = last + 1;
    }
}

struct check {
    uint64_t expect;
    int bad;
    char why[200];
};

static enum stint_err check_entry(void *ctx, const struct stint_journal_entry *e)
{
    struct check *c = ctx;
    char title[64];
    size_t tl;
    title_of(e->seq, title, sizeof(title), &tl);
    if (e->seq != c->expect) {
        snprintf(c->why, sizeof(c->why), "seq %" PRIu64 " where %" PRIu64 " was due", e->seq,
                 c->expect);
        c->bad++;
    } else if (!e->record || e->record->title_len != tl ||
               memcmp(e->record->title, title, tl) != 0) {
        snprintf(c->why, sizeof(c->why), "seq %" PRIu64 " holds another record (%.40s)", e->seq,
                 e->record ? e->record->title : "?");
        c->bad++;
    }
    c->expect = e->seq + 1;
    return c->bad ? STINT_EDIFF : STINT_OK;
}

/* A whole decimal count in [lo, hi] from a command-line argument, or -1 (strtol with its end
 * pointer and errno: a typo must not read as 0). */
static long arg_count(const char *s, long lo, long hi)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    return v;
}

int main(int argc, char **argv)
{
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    char path[600];
    char fdtxt[16];
    const char *policy;
    int cycles;
    unsigned seed;
    uint64_t total_appended = 0, total_lost = 0, max_lost = 0;
    int killed_running = 0;

    if (argc == 5 && strcmp(argv[1], "--child") == 0) {
        long fd = arg_count(argv[4], 0, 1 << 20);
        if (fd < 0) {
            fprintf(stderr, "journal_crash: --child FD must be a descriptor, not '%s'\n", argv[4]);
            return 2;
        }
        return child_main(argv[2], argv[3], (int)fd);
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s always|interval[:N] CYCLES [SEED]\n", argv[0]);
        return 2;
    }
    policy = argv[1];
    cycles = (int)arg_count(argv[2], 1, 1000000);
    if (cycles < 0) {
        fprintf(stderr, "journal_crash: CYCLES must be a count from 1, not '%s'\n", argv[2]);
        return 2;
    }
    seed =
        argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("journal_crash: policy %s, %d cycles, seed %u\n", policy, cycles, seed);
    snprintf(dir, sizeof(dir), "%s/stint-journal-crash-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/j", dir);

    for (int c = 0; c < cycles; c++) {
        int p[2];
        pid_t pid;
        struct report rep, last = {0, 0, 0};
        struct report *reps = NULL;
        size_t n_reps = 0, cap_reps = 0;
        int64_t t_kill;
        ssize_t n;
        int status;
        struct stint_journal_opts o = {.path = path, .sync = STINT_SYNC_NONE};
        struct stint_journal *j = NULL;
        struct stint_journal_open_info info;
        struct stint_journal_stats s;
        struct stint_error e;
        struct check chk;
        useconds_t delay;

        if (pipe(p) != 0) {
            perror("pipe");
            return 2;
        }
        pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            close(p[0]);
            snprintf(fdtxt, sizeof(fdtxt), "%d", p[1]);
            execl("/proc/self/exe", argv[0], "--child", path, policy, fdtxt, (char *)NULL);
            _exit(127);
        }
        close(p[1]);
        if (rand() % 8 == 0) {
            /* one cycle in eight: early, while the child opens or LevelDB recovers */
            delay = (useconds_t)(rand() % 30000);
        } else {
            /* else while appending: after its first report, at a random moment */
            struct pollfd pf = {.fd = p[0], .events = POLLIN};
            if (poll(&pf, 1, 20000) != 1) {
                fprintf(stderr, "cycle %d: the writer did not start\n", c);
                kill(pid, SIGKILL);
                return 1;
            }
            delay = (useconds_t)(rand() % 20000);
        }
        usleep(delay);
        t_kill = now_us();
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        while ((n = read(p[0], &rep, sizeof(rep))) == (ssize_t)sizeof(rep)) {
            if (n_reps == cap_reps) {
                cap_reps = cap_reps ? cap_reps * 2 : 1024;
                reps = realloc(reps, cap_reps * sizeof(*reps));
                if (!reps) {
                    return 2;
                }
            }
            reps[n_reps++] = rep;
            last = rep;
        }
        close(p[0]);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
            fprintf(stderr, "cycle %d: the writer ended by itself (status %d)\n", c, status);
            return 1;
        }
        if (last.appended) {
            killed_running++;
        }

        if (stint_journal_open(&o, &j, &info, &e) != STINT_OK) {
            fprintf(stderr, "cycle %d: reopen failed: %s\n", c, e.msg);
            return 1;
        }
        if (info.repaired || info.moved_aside || info.lost || info.dead_lettered) {
            fprintf(stderr,
                    "cycle %d: reopen after kill -9 repaired=%d moved=%d lost=%" PRIu64
                    " dead=%" PRIu64 "\n",
                    c, info.repaired, info.moved_aside, info.lost, info.dead_lettered);
            return 1;
        }
        stint_journal_stats(j, &s);
        memset(&chk, 0, sizeof(chk));
        chk.expect = s.acked_seq + 1;
        if (stint_journal_read(j, 0, SIZE_MAX, SIZE_MAX, 0, check_entry, &chk, NULL, NULL) !=
                STINT_OK ||
            chk.bad) {
            fprintf(stderr, "cycle %d: %s\n", c, chk.bad ? chk.why : "read failed");
            return 1;
        }
        /* a group is there whole or not at all, and the position came with it */
        if (group_of(policy) > 1 &&
            ((chk.expect - 1) % group_of(policy) != 0 || stored_pos(j) != chk.expect - 1)) {
            fprintf(stderr,
                    "cycle %d: last stored seq %" PRIu64 ", position %" PRIu64 ", groups of %zu\n",
                    c, chk.expect - 1, stored_pos(j), group_of(policy));
            return 1;
        }
        stint_journal_stats(j, &s);
        if (s.dead || s.backlog != chk.expect - 1 - s.acked_seq) {
            fprintf(stderr, "cycle %d: backlog %" PRIu64 " dead %" PRIu64 " do not match\n", c,
                    s.backlog, s.dead);
            return 1;
        }
        /* every seq reported durable is there */
        if (last.durable > chk.expect - 1) {
            fprintf(stderr,
                    "cycle %d: seq %" PRIu64 " was reported durable, last stored %" PRIu64 "\n", c,
                    last.durable, chk.expect - 1);
            return 1;
        }
        if (last.appended > chk.expect - 1) {
            uint64_t lost = last.appended - (chk.expect - 1);
            /* only records appended after the last durable report may be missing */
            if (chk.expect - 1 < last.durable) {
                fprintf(stderr, "cycle %d: lost durable records\n", c);
                return 1;
            }
            if (policy_of(policy) == STINT_SYNC_ALWAYS) {
                fprintf(stderr, "cycle %d: always lost %" PRIu64 " appended records\n", c, lost);
                return 1;
            }
            /* the first missing record was appended at most one interval before the kill */
            for (size_t i = 0; i < n_reps; i++) {
                if (reps[i].appended == chk.expect &&
                    reps[i].t_us < t_kill - (INTERVAL_MS * 1000 + SLACK_US)) {
                    fprintf(stderr,
                            "cycle %d: lost a record appended %" PRId64 " us before the "
                            "kill\n",
                            c, t_kill - reps[i].t_us);
                    return 1;
                }
            }
            total_lost += lost;
            if (lost > max_lost) {
                max_lost = lost;
            }
        }
        /* group commit keeps its promise: whatever was appended more than an interval before a
         * report is durable by that report */
        if (policy_of(policy) == STINT_SYNC_INTERVAL) {
            size_t k = 0;
            for (size_t i = 0; i < n_reps; i++) {
                while (k < n_reps &&
                       reps[k].t_us <= reps[i].t_us - (INTERVAL_MS * 1000 + SLACK_US)) {
                    k++;
                }
                if (k > 0 && reps[k - 1].appended > reps[i].durable) {
                    fprintf(stderr,
                            "cycle %d: seq %" PRIu64 " not durable %" PRId64
                            " us after its append\n",
                            c, reps[k - 1].appended, reps[i].t_us - reps[k - 1].t_us);
                    return 1;
                }
            }
        }
        free(reps);
        total_appended += chk.expect - 1 - s.acked_seq;
        if (chk.expect - 1 > s.acked_seq && stint_journal_ack(j, chk.expect - 1) != STINT_OK) {
            fprintf(stderr, "cycle %d: ack failed\n", c);
            return 1;
        }
        stint_journal_close(j);
    }
    printf("journal_crash: %d kill -9 cycles passed (%d while appending), %" PRIu64
           " records checked, %" PRIu64 " appended-not-durable lost (at most %" PRIu64
           " in one cycle)\n",
           cycles, killed_running, total_appended, total_lost, max_lost);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
