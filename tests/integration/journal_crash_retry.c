/* journal_crash_retry.c — kill -9 a process that moves records between the queue and the dead
 * letters, and check that every record is in exactly one of the two places.
 *
 *   journal_crash_retry [--two-writes] POLICY CYCLES [SEED]      POLICY: always | interval
 *
 * The journal starts with RECORDS records, each titled with a number of its own. Each cycle
 * starts a child (this program again, exec'ed, so LevelDB starts clean in it) that opens the
 * journal and, as fast as it can, dead-letters a random run of the queued records and then
 * retries the dead letters (all of them, or a random few by seq) with stint_journal_dead_retry.
 * The parent kills it with SIGKILL at a random moment (one cycle in eight early, while it opens
 * the journal or LevelDB recovers; else after its first round), opens the journal itself and
 * checks: open needed no repair and lost nothing; every number is either queued or a dead letter,
 * never both and never neither; the counters (backlog, dead) agree with what is there.
 *
 * --two-writes makes the child retry as stintctl once did: stint_journal_append of the records,
 * then stint_journal_dead_delete of each seq. That leaves records in both places when the kill
 * falls between the writes, and this mode checks that the check sees it: it exits 0 as soon as
 * a cycle finds a record in both places, 1 if no cycle did (or anything else went wrong).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "stint/pb.h"

#define RECORDS 200
#define INTERVAL_MS 20
#define TITLE_FMT "crash-retry record %d"

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static enum stint_sync policy_of(const char *s)
{
    return strcmp(s, "interval") == 0 ? STINT_SYNC_INTERVAL : STINT_SYNC_ALWAYS;
}

/* A whole decimal count in [lo, hi] from a command-line argument, or -1. */
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

/* The number in a title made by TITLE_FMT, or -1. */
static int number_of(const char *title, size_t len)
{
    static const char prefix[] = "crash-retry record ";
    char buf[64];
    if (len >= sizeof(buf) || len <= sizeof(prefix) - 1 ||
        memcmp(title, prefix, sizeof(prefix) - 1) != 0) {
        return -1;
    }
    memcpy(buf, title + sizeof(prefix) - 1, len - (sizeof(prefix) - 1));
    buf[len - (sizeof(prefix) - 1)] = '\0';
    return (int)arg_count(buf, 0, RECORDS - 1);
}

/* ---- the child ---- */

struct seqs {
    uint64_t v[RECORDS * 2];
    struct stint_record rec[RECORDS * 2]; /* --two-writes: the dead letters' records */
    size_t n;
};

static enum stint_err take_queued(void *ctx, const struct stint_journal_entry *e)
{
    struct seqs *s = ctx;
    if (s->n >= RECORDS * 2) {
        return STINT_ELIMIT;
    }
    s->v[s->n++] = e->seq;
    return STINT_OK;
}

static enum stint_err take_dead(void *ctx, const struct stint_journal_dead *d)
{
    struct seqs *s = ctx;
    if (s->n >= RECORDS * 2 ||
        stint_pb_decode_record(d->raw, d->raw_len, &s->rec[s->n], NULL, NULL) != STINT_OK) {
        return STINT_ELIMIT;
    }
    s->rec[s->n].seq = 0;
    s->v[s->n++] = d->seq;
    return STINT_OK;
}

/* The retry as it was before it was one write: append, then delete each dead letter. */
static enum stint_err retry_two_writes(struct stint_journal *j, struct seqs *d)
{
    enum stint_err err = stint_journal_append(j, d->rec, d->n, NULL, NULL);
    for (size_t i = 0; err == STINT_OK && i < d->n; i++) {
        err = stint_journal_dead_delete(j, d->v[i], d->v[i]);
    }
    return err;
}

static int child_main(const char *path, const char *policy, int fd, bool two_writes)
{
    struct stint_journal_opts o = {
        .path = path, .sync = policy_of(policy), .sync_interval_ms = INTERVAL_MS};
    struct stint_journal *j = NULL;
    struct seqs *q = malloc(sizeof(*q)), *d = malloc(sizeof(*d));
    struct stint_error e;

    srand((unsigned)getpid());
    if (!q || !d || stint_journal_open(&o, &j, NULL, &e) != STINT_OK) {
        fprintf(stderr, "child: open: %s\n", q && d ? e.msg : "out of memory");
        return 3;
    }
    for (;;) {
        struct stint_journal_retry r;
        enum stint_err err;
        size_t a, b, w = 0;

        q->n = 0;
        if (stint_journal_read(j, 0, SIZE_MAX, SIZE_MAX, STINT_JOURNAL_RAW, take_queued, q, NULL,
                               NULL) != STINT_OK) {
            return 4;
        }
        if (q->n) {
            a = (size_t)rand() % q->n;
            b = a + (size_t)rand() % (q->n - a);
            if (stint_journal_dead_letter(j, q->v[a], q->v[b], "crash-retry") != STINT_OK) {
                return 5;
            }
        }
        d->n = 0;
        if (stint_journal_dead_list(j, 0, 0, take_dead, d) != STINT_OK) {
            return 6;
        }
        if (rand() % 2 == 0) { /* a random few by seq, else all */
            for (size_t i = 0; i < d->n; i++) {
                if (rand() % 2 == 0) {
                    d->v[w] = d->v[i];
                    d->rec[w++] = d->rec[i];
                }
            }
            d->n = w;
        }
        if (two_writes) {
            err = retry_two_writes(j, d);
        } else {
            err = stint_journal_dead_retry(j, w ? d->v : NULL, w, &r);
        }
        if (err != STINT_OK) {
            char m[512];
            stint_journal_last_error(j, m, sizeof(m));
            fprintf(stderr, "child: retry: %s\n", m);
            return 7;
        }
        if (write(fd, "x", 1) != 1) { /* a round done: the parent may kill now */
            return 8;
        }
    }
}

/* ---- the parent ---- */

struct census {
    int queued[RECORDS], dead[RECORDS];
    uint64_t qseq[RECORDS], dseq[RECORDS];
    uint64_t n_queued, n_dead;
    int bad;
};

static enum stint_err count_queued(void *ctx, const struct stint_journal_entry *e)
{
    struct census *c = ctx;
    int k = number_of(e->record->title, e->record->title_len);
    if (k < 0) {
        c->bad++;
        return STINT_OK;
    }
    c->queued[k]++;
    c->qseq[k] = e->seq;
    c->n_queued++;
    return STINT_OK;
}

static enum stint_err count_dead(void *ctx, const struct stint_journal_dead *d)
{
    struct census *c = ctx;
    struct stint_record r;
    int k = -1;
    if (stint_pb_decode_record(d->raw, d->raw_len, &r, NULL, NULL) == STINT_OK && r.seq == d->seq) {
        k = number_of(r.title, r.title_len);
    }
    if (k < 0) {
        c->bad++;
        return STINT_OK;
    }
    c->dead[k]++;
    c->dseq[k] = d->seq;
    c->n_dead++;
    return STINT_OK;
}

/* Makes the journal of RECORDS records. */
static int seed_journal(const char *path)
{
    struct stint_journal_opts o = {.path = path};
    struct stint_journal *j = NULL;
    struct stint_record r;
    struct stint_error e;

    if (stint_journal_open(&o, &j, NULL, &e) != STINT_OK) {
        fprintf(stderr, "open: %s\n", e.msg);
        return 1;
    }
    for (int k = 0; k < RECORDS; k++) {
        char title[64];
        int n = snprintf(title, sizeof(title), TITLE_FMT, k);
        stint_record_clear(&r);
        r.kind = STINT_KIND_ACTIVE;
        r.start_ms = (int64_t)time(NULL) * 1000; /* now: older ones would age out */
        r.end_ms = r.start_ms + 5;
        stint_record_set(&r, STINT_FIELD_APP, "xterm", 5);
        stint_record_set(&r, STINT_FIELD_PATH, "/usr/bin/xterm", 14);
        stint_record_set(&r, STINT_FIELD_TITLE, title, (size_t)n);
        stint_record_set(&r, STINT_FIELD_URL, "", 0);
        if (stint_journal_append(j, &r, 1, NULL, NULL) != STINT_OK) {
            fprintf(stderr, "append of record %d failed\n", k);
            stint_journal_close(j);
            return 1;
        }
    }
    stint_journal_close(j);
    return 0;
}

/* Opens the journal after a kill and checks it. 0: every record in one place; 1: a record in
 * both places (*both set); 2: anything else wrong. */
static int check_cycle(const char *path, int c, bool *both)
{
    struct stint_journal_opts o = {.path = path, .sync = STINT_SYNC_NONE};
    struct stint_journal_open_info info;
    struct stint_journal_stats s;
    struct stint_journal *j = NULL;
    struct census *cs = calloc(1, sizeof(*cs));
    struct stint_error e;
    int rc = 0;

    *both = false;
    if (!cs || stint_journal_open(&o, &j, &info, &e) != STINT_OK) {
        fprintf(stderr, "cycle %d: reopen failed: %s\n", c, cs ? e.msg : "out of memory");
        free(cs);
        return 2;
    }
    if (info.repaired || info.moved_aside || info.lost || info.dead_lettered) {
        fprintf(stderr,
                "cycle %d: reopen after kill -9: repaired=%d moved=%d lost=%" PRIu64
                " dead=%" PRIu64 "\n",
                c, info.repaired, info.moved_aside, info.lost, info.dead_lettered);
        rc = 2;
        goto cleanup;
    }
    if (stint_journal_read(j, 0, SIZE_MAX, SIZE_MAX, 0, count_queued, cs, NULL, NULL) != STINT_OK ||
        stint_journal_dead_list(j, 0, 0, count_dead, cs) != STINT_OK || cs->bad) {
        fprintf(stderr, "cycle %d: reading failed or found %d foreign records\n", c, cs->bad);
        rc = 2;
        goto cleanup;
    }
    for (int k = 0; k < RECORDS; k++) {
        if (cs->queued[k] + cs->dead[k] == 1) {
            continue;
        }
        if (cs->queued[k] == 1 && cs->dead[k] == 1) {
            fprintf(stderr,
                    "cycle %d: record %d is both queued (seq %" PRIu64 ") and a dead "
                    "letter (seq %" PRIu64 ")\n",
                    c, k, cs->qseq[k], cs->dseq[k]);
            *both = true;
            rc = rc ? rc : 1;
        } else {
            fprintf(stderr, "cycle %d: record %d is queued %d times, a dead letter %d times\n", c,
                    k, cs->queued[k], cs->dead[k]);
            rc = 2;
        }
    }
    stint_journal_stats(j, &s);
    if (s.backlog != cs->n_queued || s.dead != cs->n_dead) {
        fprintf(stderr,
                "cycle %d: backlog %" PRIu64 " and dead %" PRIu64 " counted, %" PRIu64
                " and %" PRIu64 " there\n",
                c, s.backlog, s.dead, cs->n_queued, cs->n_dead);
        rc = 2;
    }
cleanup:
    stint_journal_close(j);
    free(cs);
    return rc;
}

/* Runs the child, kills it at a random moment; *rounds: the rounds it reported done. 0, or 1
 * when the child did not run. */
static int run_child(const char *self, const char *path, const char *policy, bool two_writes, int c,
                     long *rounds)
{
    char fdtxt[16], buf[4096];
    int p[2], status;
    ssize_t got;
    pid_t pid;

    *rounds = 0;
    if (pipe(p) != 0) {
        perror("pipe");
        return 1;
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(p[0]);
        snprintf(fdtxt, sizeof(fdtxt), "%d", p[1]);
        execl("/proc/self/exe", self, "--child", path, policy, fdtxt, two_writes ? "two" : "one",
              (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    if (rand() % 8 == 0) {
        usleep((useconds_t)(rand() % 30000)); /* early: while it opens or LevelDB recovers */
    } else {
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 60000) != 1) { /* generous: a loaded machine, a sanitizer build */
            fprintf(stderr, "cycle %d: the child did not start\n", c);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            close(p[0]);
            return 1;
        }
        usleep((useconds_t)(rand() % 20000));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    while ((got = read(p[0], buf, sizeof(buf))) > 0) {
        *rounds += got;
    }
    close(p[0]);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        fprintf(stderr, "cycle %d: the child ended by itself (status %d)\n", c, status);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR"), *self = argv[0];
    char dir[512], path[600];
    bool two_writes = false;
    const char *policy;
    unsigned seed;
    int cycles, rc = 1, c, mid_run = 0;
    long rounds, total_rounds = 0;

    if (argc == 6 && strcmp(argv[1], "--child") == 0) {
        long fd = arg_count(argv[4], 0, 1 << 20);
        if (fd < 0) {
            fprintf(stderr, "journal_crash_retry: --child FD must be a descriptor, not '%s'\n",
                    argv[4]);
            return 2;
        }
        return child_main(argv[2], argv[3], (int)fd, strcmp(argv[5], "two") == 0);
    }
    if (argc > 1 && strcmp(argv[1], "--two-writes") == 0) {
        two_writes = true;
        argv++;
        argc--;
    }
    if (argc < 3 || (strcmp(argv[1], "always") != 0 && strcmp(argv[1], "interval") != 0)) {
        fprintf(stderr,
                "usage: journal_crash_retry [--two-writes] always|interval CYCLES [SEED]\n");
        return 2;
    }
    policy = argv[1];
    cycles = (int)arg_count(argv[2], 1, 1000000);
    if (cycles < 0) {
        fprintf(stderr, "journal_crash_retry: CYCLES must be a count from 1, not '%s'\n", argv[2]);
        return 2;
    }
    seed =
        argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("journal_crash_retry: policy %s, %d cycles, seed %u%s\n", policy, cycles, seed,
           two_writes ? ", the two-write retry" : "");
    snprintf(dir, sizeof(dir), "%s/stint-journal-crash-retry-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/j", dir);
    if (seed_journal(path) != 0) {
        goto cleanup;
    }
    for (c = 0; c < cycles; c++) {
        bool both;
        int k;
        if (run_child(self, path, policy, two_writes, c, &rounds) != 0) {
            goto cleanup;
        }
        total_rounds += rounds;
        mid_run += rounds > 0;
        k = check_cycle(path, c, &both);
        if (two_writes && k == 1 && both) {
            printf("journal_crash_retry: the two-write retry left records in both places at "
                   "cycle %d: the check sees it\n",
                   c);
            rc = 0;
            goto cleanup;
        }
        if (k != 0) {
            goto cleanup;
        }
    }
    if (two_writes) {
        fprintf(stderr,
                "journal_crash_retry: %d cycles of the two-write retry and no record in "
                "both places: the check missed the defect\n",
                cycles);
        goto cleanup;
    }
    printf("journal_crash_retry: %d kill -9 cycles passed (%d after the child's first round; "
           "%ld rounds of dead-letter and retry in all), each of %d records in exactly one place "
           "every time\n",
           cycles, mid_run, total_rounds, RECORDS);
    rc = 0;
cleanup:
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
