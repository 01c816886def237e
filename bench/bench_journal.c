/* bench_journal.c — the journal's figures: append rate per durability policy, drain
 * rate, bytes per record on disk, disk given back after a full drain, RSS with 1,000,000 records
 * stored, and this disk's own fsync rate to hold `always` against.
 *
 *   bench_journal [--records N] [--runs R] [--dir DIR]
 *
 * Journals are made under DIR (default: the current folder, i.e. the build folder on the same
 * disk as the sources). Every rate is the median of R runs (default 3). The RSS figure comes from
 * a fresh process (this program exec'ed with --rss-child) that opens the big journal, which scans
 * every record, then drains it: so it is the journal's memory, not what appending it cost here.
 * Figures vary with the machine and its load: quote them with the command and the date.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "stint/buf.h"
#include "stint/pb.h"

#ifndef STINT_COMPILER
#define STINT_COMPILER "unknown"
#endif
#ifndef STINT_CFLAGS
#define STINT_CFLAGS ""
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process, every thread (LevelDB's compaction thread included). On a shared,
 * loaded machine wall-clock rates sink with the load; records per CPU-second say what the work
 * costs. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double last_cpu_rate; /* records per CPU-second of the last measured phase */
static long status_kib(const char *field);
static int sample_rss; /* drain_rate samples RssAnon/RssFile every 100 batches */
static long max_anon, max_file;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_rf(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t sum = 0;
    while (d && (de = readdir(d)) != NULL) {
        char p[1400];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            sum += (uint64_t)st.st_blocks * 512; /* what the disk holds, not the file length */
        }
    }
    if (d) {
        closedir(d);
    }
    return sum;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A typical record: a browser tab, ~150 bytes encoded. */
static void typical(struct stint_record *r, uint64_t i)
{
    char title[128];
    int n = snprintf(
        title, sizeof(title),
        "Stint: offline-first activity agent - Pull Request #%" PRIu64 " - stint/stint", i % 1000);
    int64_t t = (int64_t)time(NULL) * 1000;
    stint_record_clear(r);
    r->kind = STINT_KIND_ACTIVE;
    r->start_ms = t;
    r->end_ms = t + 4200;
    stint_record_set(r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(r, STINT_FIELD_PATH, "/usr/lib/firefox/firefox", 24);
    stint_record_set(r, STINT_FIELD_TITLE, title, (size_t)n);
    stint_record_set(r, STINT_FIELD_URL, "github.com/stint/stint/pull/42", 30);
}

static int64_t bench_history_ms; /* jopen's history; 0: none (the drains below measure both) */
static struct stint_journal *jopen(const char *path, enum stint_sync sync)
{
    struct stint_journal_opts o = {.path = path, .sync = sync, .history_ms = bench_history_ms};
    struct stint_journal *j = NULL;
    struct stint_error e;
    if (stint_journal_open(&o, &j, NULL, &e) != STINT_OK) {
        fprintf(stderr, "bench_journal: open %s: %s\n", path, e.msg);
        exit(1);
    }
    return j;
}

/* Appends n typical records one call each; returns records/s. */
static double append_rate(const char *path, enum stint_sync sync, uint64_t n)
{
    static struct stint_record r;
    struct stint_journal *j = jopen(path, sync);
    double t0 = now_s(), c0 = cpu_s(), dt;
    for (uint64_t i = 0; i < n; i++) {
        typical(&r, i);
        if (stint_journal_append(j, &r, 1, NULL, NULL) != STINT_OK) {
            fprintf(stderr, "bench_journal: append failed\n");
            exit(1);
        }
    }
    dt = now_s() - t0;
    last_cpu_rate = (double)n / (cpu_s() - c0);
    stint_journal_close(j);
    return (double)n / dt;
}

struct drain {
    uint64_t n;
    uint64_t last;
};

static enum stint_err take(void *ctx, const struct stint_journal_entry *e)
{
    struct drain *d = ctx;
    d->n++;
    d->last = e->seq;
    return STINT_OK;
}

/* Reads batches of up to 1000 records / 1 MiB and acks each: decoded (flags 0), or the raw
 * bytes only (STINT_JOURNAL_RAW, what a sender framing protobuf needs). */
static unsigned drain_flags;
static double drain_rate(struct stint_journal *j, uint64_t *drained)
{
    struct drain d = {0, 0};
    double t0 = now_s(), c0 = cpu_s(), dt;
    for (;;) {
        size_t got = 0;
        if (stint_journal_read(j, 0, 1000, (size_t)1 << 20, drain_flags, take, &d, NULL, &got) !=
            STINT_OK) {
            fprintf(stderr, "bench_journal: read failed\n");
            exit(1);
        }
        if (got == 0) {
            break;
        }
        if (stint_journal_ack(j, d.last) != STINT_OK) {
            fprintf(stderr, "bench_journal: ack failed\n");
            exit(1);
        }
        if (sample_rss && (d.n / 1000) % 100 == 0) {
            long a = status_kib("RssAnon"), f = status_kib("RssFile");
            max_anon = a > max_anon ? a : max_anon;
            max_file = f > max_file ? f : max_file;
        }
    }
    dt = now_s() - t0;
    last_cpu_rate = (double)d.n / (cpu_s() - c0);
    *drained = d.n;
    return (double)d.n / dt;
}

/* The disk's own rate of small appends each followed by fdatasync (what one `always` append
 * costs at least). */
static double fsync_rate(const char *dir, int n)
{
    char p[1100];
    char buf[200];
    int fd;
    double t0, dt;
    snprintf(p, sizeof(p), "%s/fsync-probe", dir);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (fd < 0) {
        perror("fsync probe");
        exit(1);
    }
    memset(buf, 'x', sizeof(buf));
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd) != 0) {
            perror("fsync probe");
            exit(1);
        }
    }
    dt = now_s() - t0;
    close(fd);
    unlink(p);
    return n / dt;
}

static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return v;
}

/* In a fresh process: open the big journal, RSS, drain it, RSS, give disk back. Prints
 * "rss_open_kib rss_hwm_kib drain_rate drained" on stdout. */
static int rss_child(const char *path)
{
    struct stint_journal *j = jopen(path, STINT_SYNC_INTERVAL);
    struct stint_journal_stats s;
    long rss_open, hwm, anon, file;
    uint64_t drained = 0;
    double rate;
    stint_journal_stats(j, &s);
    rss_open = status_kib("VmRSS");
    anon = status_kib("RssAnon");
    file = status_kib("RssFile");
    sample_rss = 1;
    rate = drain_rate(j, &drained);
    hwm = status_kib("VmHWM");
    stint_journal_compact(j);
    stint_journal_close(j);
    printf("%ld %ld %.0f %" PRIu64 " %" PRIu64 " %ld %ld %ld %ld\n", rss_open, hwm, rate, drained,
           s.backlog, anon, file, max_anon, max_file);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t big = 1000000, small = 200000;
    int runs = 3;
    const char *base = ".";
    char root[1024], path[1200];
    double fs[16], always[16], interval[16], none[16], drains[16];
    double c_interval[16], c_none[16], c_drains[16], raw[16], c_raw[16], hist[16], c_hist[16];
    uint64_t always_n = 1000;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rss-child") == 0 && i + 1 < argc) {
            return rss_child(argv[i + 1]);
        } else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
            big = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (int)strtol(argv[++i], NULL, 10); /* out of range: the default below */
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            base = argv[++i];
        }
    }
    if (runs < 1 || runs > 16) {
        runs = 3;
    }
    if (small > big) {
        small = big;
    }
    snprintf(root, sizeof(root), "%s/bench-journal-XXXXXX", base);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    printf("\n## Journal (LevelDB %s; %s; %s)\n\n", "1.23", STINT_COMPILER, STINT_CFLAGS);
    printf("folder %s; median of %d runs; typical record ~150 bytes encoded\n\n", root, runs);
    fflush(stdout);

    for (int r = 0; r < runs; r++) {
        uint64_t drained;
        struct stint_journal *j;
        fs[r] = fsync_rate(root, 300);
        snprintf(path, sizeof(path), "%s/always-%d", root, r);
        always[r] = append_rate(path, STINT_SYNC_ALWAYS, always_n);
        rm_rf(path);
        snprintf(path, sizeof(path), "%s/none-%d", root, r);
        none[r] = append_rate(path, STINT_SYNC_NONE, small);
        c_none[r] = last_cpu_rate;
        rm_rf(path);
        snprintf(path, sizeof(path), "%s/interval-%d", root, r);
        interval[r] = append_rate(path, STINT_SYNC_INTERVAL, small);
        c_interval[r] = last_cpu_rate;
        j = jopen(path, STINT_SYNC_INTERVAL);
        drains[r] = drain_rate(j, &drained);
        c_drains[r] = last_cpu_rate;
        stint_journal_close(j);
        rm_rf(path);
        snprintf(path, sizeof(path), "%s/raw-%d", root, r);
        (void)append_rate(path, STINT_SYNC_INTERVAL, small);
        j = jopen(path, STINT_SYNC_INTERVAL);
        drain_flags = STINT_JOURNAL_RAW;
        raw[r] = drain_rate(j, &drained);
        c_raw[r] = last_cpu_rate;
        drain_flags = 0;
        stint_journal_close(j);
        rm_rf(path);
        /* the same drain keeping every acked record in the history (14 days, 64 MiB) */
        snprintf(path, sizeof(path), "%s/history-%d", root, r);
        (void)append_rate(path, STINT_SYNC_INTERVAL, small);
        bench_history_ms = (int64_t)14 * 24 * 3600 * 1000;
        j = jopen(path, STINT_SYNC_INTERVAL);
        hist[r] = drain_rate(j, &drained);
        c_hist[r] = last_cpu_rate;
        bench_history_ms = 0;
        stint_journal_close(j);
        rm_rf(path);
    }

    {
        double fsr = median(fs, runs), alw = median(always, runs);
        uint64_t before, after_close, after_drain;
        char cmd[4096];
        FILE *p;
        long rss_open = -1, hwm = -1, anon = -1, file = -1, manon = -1, mfile = -1;
        double big_drain = 0;
        uint64_t drained = 0, stored = 0;

        /* the big journal: appended with interval, closed, then measured in a fresh process */
        snprintf(path, sizeof(path), "%s/big", root);
        (void)append_rate(path, STINT_SYNC_INTERVAL, big);
        after_close = dir_bytes(path);
        before = after_close;
        snprintf(cmd, sizeof(cmd), "/proc/%ld/exe --rss-child '%s'", (long)getpid(), path);
        p = popen(cmd, "r");
        if (!p || fscanf(p, "%ld %ld %lf %" SCNu64 " %" SCNu64 " %ld %ld %ld %ld", &rss_open, &hwm,
                         &big_drain, &drained, &stored, &anon, &file, &manon, &mfile) != 9) {
            fprintf(stderr, "bench_journal: the RSS child failed\n");
            return 1;
        }
        pclose(p);
        after_drain = dir_bytes(path);

        printf("| what | figure |\n| --- | --- |\n");
        printf("| disk fsync rate (200-byte append + fdatasync) | %.0f /s (%.0f us each) |\n", fsr,
               1e6 / fsr);
        printf("| append, `always` (%" PRIu64 " records) | %.0f records/s = %.0f%% of the fsync "
               "rate |\n",
               always_n, alw, 100.0 * alw / fsr);
        printf("| append, `interval` 1000 ms (%" PRIu64 " records) | %.0f records/s (%.0f per "
               "CPU-second) |\n",
               small, median(interval, runs), median(c_interval, runs));
        printf("| append, `none` (%" PRIu64 " records) | %.0f records/s (%.0f per CPU-second) |\n",
               small, median(none, runs), median(c_none, runs));
        printf("| drain: read 1000-record batches (decoded) + ack each (%" PRIu64
               " records) | %.0f records/s (%.0f per CPU-second) |\n",
               small, median(drains, runs), median(c_drains, runs));
        printf("| drain, raw bytes only (`STINT_JOURNAL_RAW`, CRC checked) (%" PRIu64
               " records) | %.0f records/s (%.0f per CPU-second) |\n",
               small, median(raw, runs), median(c_raw, runs));
        printf("| drain, decoded, acked records kept in the history (`history = 14d`, 64 MiB cap) "
               "(%" PRIu64 " records) | %.0f records/s (%.0f per CPU-second) |\n",
               small, median(hist, runs), median(c_hist, runs));
        printf("| drain of the %" PRIu64 "-record journal, fresh process | %.0f records/s |\n",
               drained, big_drain);
        printf("| on disk with %" PRIu64 " records stored | %.1f MiB = %.1f bytes/record |\n",
               stored, (double)before / 1048576.0, (double)before / (double)(stored ? stored : 1));
        printf("| on disk after the full drain (+ compaction) | %.2f MiB: %.1f%% given back |\n",
               (double)after_drain / 1048576.0,
               before ? 100.0 * (double)(before - (after_drain < before ? after_drain : before)) /
                            (double)before
                      : 0.0);
        printf("| RSS after opening with %" PRIu64 " records stored (open scans them all) | %.1f "
               "MiB (anonymous %.1f, file-backed %.1f) |\n",
               stored, rss_open / 1024.0, anon / 1024.0, file / 1024.0);
        printf("| during the full drain, sampled every 100 batches: most anonymous / file-backed | "
               "%.1f / %.1f MiB |\n",
               manon / 1024.0, mfile / 1024.0);
        printf("| peak RSS (VmHWM) of that process through open + full drain | %.1f MiB |\n",
               hwm / 1024.0);
        {
            double la[3] = {0, 0, 0};
            FILE *f = fopen("/proc/loadavg", "r");
            if (f && fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) == 3) {
                printf("\nload average at the end: %.2f %.2f %.2f on %ld cores\n", la[0], la[1],
                       la[2], sysconf(_SC_NPROCESSORS_ONLN));
            }
            if (f) {
                fclose(f);
            }
        }
        printf("\nTargets: interval >= 200,000/s; always >= 80%% of the fsync rate; "
               "drain >= 500,000/s; RSS <= 16 MiB at 1M records; >= 90%% given back.\n");
    }
    rm_rf(root);
    return 0;
}
