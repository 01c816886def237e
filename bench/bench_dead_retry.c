/* bench_dead_retry.c — what putting dead letters back in the queue costs: the one-write retry
 * (stint_journal_dead_retry) against the sequence stintctl used before it (every dead letter
 * decoded into an array of records, stint_journal_append of them, then
 * stint_journal_dead_delete of each seq: 1 + N writes, each synced under `always`).
 *
 *   bench_dead_retry [--runs R] [--dir DIR]
 *
 * For N = 100, 1,000 and 10,000 dead letters (the default max_dead) with sync `always`: the
 * median time of R runs (default 3) of each way, and the memory the old way's record array
 * took. Journals are made under DIR (default: the current folder). Figures vary with the
 * machine and its load: quote them with the command and the date.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "stint/pb.h"

#ifndef STINT_COMPILER
#define STINT_COMPILER "unknown"
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A journal at path holding n dead letters (and nothing queued). */
static struct stint_journal *make(const char *path, size_t n)
{
    struct stint_journal_opts o = {.path = path, .sync = STINT_SYNC_ALWAYS, .max_dead = 100000};
    struct stint_journal *j = NULL;
    struct stint_record *r = calloc(n, sizeof(*r));
    struct stint_error e;
    uint64_t first = 0;

    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    if (!r || stint_journal_open(&o, &j, NULL, &e) != STINT_OK) {
        fprintf(stderr, "bench_dead_retry: open %s failed\n", path);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        char title[64];
        int tl = snprintf(title, sizeof(title), "Inbox (%zu) - Mozilla Thunderbird", i);
        r[i].kind = STINT_KIND_ACTIVE;
        r[i].start_ms = (int64_t)time(NULL) * 1000;
        r[i].end_ms = r[i].start_ms + 1000;
        stint_record_set(&r[i], STINT_FIELD_APP, "thunderbird", 11);
        stint_record_set(&r[i], STINT_FIELD_PATH, "/usr/lib/thunderbird/thunderbird", 32);
        stint_record_set(&r[i], STINT_FIELD_TITLE, title, (size_t)tl);
    }
    if (stint_journal_append(j, r, n, NULL, &first) != STINT_OK ||
        stint_journal_dead_letter(j, first, first + n - 1, "HTTP 400: bench") != STINT_OK) {
        fprintf(stderr, "bench_dead_retry: setting up %zu dead letters failed\n", n);
        exit(1);
    }
    free(r);
    return j;
}

struct old_way {
    struct stint_record *recs;
    uint64_t *seqs;
    size_t n, cap;
};

static enum stint_err take(void *ctx, const struct stint_journal_dead *d)
{
    struct old_way *w = ctx;
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        uint64_t *s = realloc(w->seqs, ncap * sizeof(*s));
        struct stint_record *r = s ? realloc(w->recs, ncap * sizeof(*r)) : NULL;
        if (s) {
            w->seqs = s;
        }
        if (!r) {
            return STINT_ENOMEM;
        }
        w->recs = r;
        w->cap = ncap;
    }
    if (stint_pb_decode_record(d->raw, d->raw_len, &w->recs[w->n], NULL, NULL) != STINT_OK) {
        return STINT_OK;
    }
    w->recs[w->n].seq = 0;
    w->seqs[w->n++] = d->seq;
    return STINT_OK;
}

/* The retry as stintctl did it before; *array_bytes: what its record array took. */
static int old_retry(struct stint_journal *j, size_t *array_bytes)
{
    struct old_way w = {0};
    int rc = stint_journal_dead_list(j, 0, 0, take, &w) != STINT_OK ||
             stint_journal_append(j, w.recs, w.n, NULL, NULL) != STINT_OK;
    for (size_t i = 0; rc == 0 && i < w.n; i++) {
        rc = stint_journal_dead_delete(j, w.seqs[i], w.seqs[i]) != STINT_OK;
    }
    *array_bytes = w.cap * (sizeof(*w.recs) + sizeof(*w.seqs));
    free(w.recs);
    free(w.seqs);
    return rc;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {100, 1000, 10000};
    const char *dir = ".";
    char path[4096];
    int runs = 3;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = (int)strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_dead_retry [--runs R] [--dir DIR]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 99) {
        fprintf(stderr, "bench_dead_retry: --runs takes 1 to 99\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/bench-dead-retry.%d", dir, (int)getpid());
    printf("\n## Dead letters back in the queue, sync `always` (%s; median of %d runs)\n\n",
           STINT_COMPILER, runs);
    printf("| dead letters | one write (stint_journal_dead_retry) | append + a delete per seq "
           "(before) | before / now | the record array before |\n| --- | --- | --- | --- | --- "
           "|\n");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        double t_new[99], t_old[99];
        size_t array_bytes = 0;
        for (int r = 0; r < runs; r++) {
            struct stint_journal_retry res;
            struct stint_journal *j = make(path, sizes[s]);
            double t0 = now_s();
            if (stint_journal_dead_retry(j, NULL, 0, &res) != STINT_OK || res.retried != sizes[s]) {
                fprintf(stderr, "bench_dead_retry: retry failed\n");
                return 1;
            }
            t_new[r] = now_s() - t0;
            stint_journal_close(j);
            j = make(path, sizes[s]);
            t0 = now_s();
            if (old_retry(j, &array_bytes) != 0) {
                fprintf(stderr, "bench_dead_retry: the old retry failed\n");
                return 1;
            }
            t_old[r] = now_s() - t0;
            stint_journal_close(j);
        }
        qsort(t_new, (size_t)runs, sizeof(double), cmp_double);
        qsort(t_old, (size_t)runs, sizeof(double), cmp_double);
        printf("| %zu | %.1f ms | %.1f ms | %.0fx | %.1f MiB |\n", sizes[s], t_new[runs / 2] * 1e3,
               t_old[runs / 2] * 1e3, t_old[runs / 2] / t_new[runs / 2],
               (double)array_bytes / (1 << 20));
    }
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
