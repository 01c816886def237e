/* journal_corrupt.c — byte flips and truncations at random offsets of every file LevelDB writes.
 *
 *   journal_corrupt CASES [SEED|- [GROUP]]
 *
 * With GROUP, the base journal is written GROUP records per append, each append with a position
 * in the same write, as the tracker's group commit writes a burst; the checks are the same.
 *
 * A base journal is written in two sessions (so it has a table, a log, a manifest, CURRENT,
 * LOCK and the info logs LOG and LOG.old), with 50 records acked, and closed cleanly: 550
 * records are stored. Each case copies it, damages one file (the files taken in turn, flips and
 * truncations alternating, offsets and bytes random) and opens it. The open must succeed, and the
 * loss must be reported, never hidden:
 *   - moved aside: the report says 550 lost, and the new journal is empty;
 *   - otherwise: records read + reported lost + reported dead-lettered = 550, every record read
 *     decodes and holds the title of its own seq, none of the acked ones came back, and the next
 *     seq given out is above every seq given out before.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

#define SESSION 300
#define ACKED 50
#define STORED (2 * SESSION - ACKED)

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

static void title_of(uint64_t seq, char *buf, size_t cap, size_t *len)
{
    *len =
        (size_t)snprintf(buf, cap, "corruption-test record %" PRIu64 " of the base journal", seq);
}

static size_t group = 1; /* records per append */

static int append_range(struct stint_journal *j, uint64_t from, uint64_t to)
{
    static struct stint_record r[SESSION];
    for (uint64_t seq = from; seq <= to;) {
        size_t n = 0;
        uint64_t got = 0, last;
        for (; n < group && seq + n <= to; n++) {
            char title[96];
            size_t tl;
            stint_record_clear(&r[n]);
            r[n].kind = STINT_KIND_ACTIVE;
            r[n].start_ms = (int64_t)time(NULL) * 1000;
            r[n].end_ms = r[n].start_ms + 1000;
            title_of(seq + n, title, sizeof(title), &tl);
            stint_record_set(&r[n], STINT_FIELD_APP, "code", 4);
            stint_record_set(&r[n], STINT_FIELD_PATH, "/usr/share/code/code", 20);
            stint_record_set(&r[n], STINT_FIELD_TITLE, title, tl);
        }
        last = seq + n - 1;
        struct stint_journal_append_opts ao = {
            .meta_key = "corrupt.pos", .meta_val = &last, .meta_len = sizeof(last)};
        if (stint_journal_append(j, r, n, group > 1 ? &ao : NULL, &got) != STINT_OK || got != seq) {
            return -1;
        }
        seq += n;
    }
    return 0;
}

static int copy_dir(const char *from, const char *to)
{
    DIR *d = opendir(from);
    struct dirent *de;
    if (!d || mkdir(to, 0700) != 0) {
        if (d) {
            closedir(d);
        }
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char a[512], b[512], buf[65536];
        int in, out;
        ssize_t n;
        struct stat st;
        snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
        snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
        if (stat(a, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        in = open(a, O_RDONLY);
        out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0) {
            closedir(d);
            return -1;
        }
        while ((n = read(in, buf, sizeof(buf))) > 0) {
            if (write(out, buf, (size_t)n) != n) {
                closedir(d);
                return -1;
            }
        }
        close(in);
        close(out);
    }
    closedir(d);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct check {
    uint64_t n, last;
    int bad;
    char why[200];
};

static enum stint_err check_entry(void *ctx, const struct stint_journal_entry *e)
{
    struct check *c = ctx;
    char title[96];
    size_t tl;
    title_of(e->seq, title, sizeof(title), &tl);
    if (e->seq <= ACKED || e->seq <= c->last) {
        snprintf(c->why, sizeof(c->why), "seq %" PRIu64 " out of place", e->seq);
        c->bad++;
    } else if (!e->record || e->record->title_len != tl ||
               memcmp(e->record->title, title, tl) != 0) {
        snprintf(c->why, sizeof(c->why), "seq %" PRIu64 " holds another record (%.60s)", e->seq,
                 e->record ? e->record->title : "?");
        c->bad++;
    }
    c->last = e->seq;
    c->n++;
    return STINT_OK;
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
    char root[] = "/tmp/stint-journal-corrupt-XXXXXX";
    char base[128], work[128];
    struct stint_journal_opts o = {.sync = STINT_SYNC_NONE};
    struct stint_journal *j = NULL;
    struct stint_error e;
    char *names[64];
    size_t n_names = 0;
    int cases;
    unsigned seed;
    int intact = 0, repaired = 0, moved = 0, lossy = 0, dead = 0;
    DIR *d;
    struct dirent *de;
    static struct stint_record probe;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CASES [SEED [GROUP]]\n", argv[0]);
        return 2;
    }
    cases = (int)arg_count(argv[1], 1, 1000000);
    if (cases < 0) {
        fprintf(stderr, "journal_corrupt: CASES must be a count from 1, not '%s'\n", argv[1]);
        return 2;
    }
    /* SEED "-": a random one, as without it */
    seed = argc > 2 && strcmp(argv[2], "-") != 0 ? (unsigned)strtoul(argv[2], NULL, 10)
                                                 : (unsigned)time(NULL) ^ (unsigned)getpid();
    if (argc > 3) {
        unsigned long g = strtoul(argv[3], NULL, 10);
        group = g >= 1 && g <= SESSION ? (size_t)g : 1;
    }
    srand(seed);
    printf("journal_corrupt: %d cases, seed %u, %zu records per append\n", cases, seed, group);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(base, sizeof(base), "%s/base", root);
    snprintf(work, sizeof(work), "%s/work", root);
    o.path = base;
    if (stint_journal_open(&o, &j, NULL, &e) != STINT_OK || append_range(j, 1, SESSION) != 0) {
        fprintf(stderr, "base: %s\n", e.msg);
        return 2;
    }
    stint_journal_close(j);
    if (stint_journal_open(&o, &j, NULL, &e) != STINT_OK ||
        append_range(j, SESSION + 1, 2 * SESSION) != 0 || stint_journal_ack(j, ACKED) != 0) {
        fprintf(stderr, "base: second session failed\n");
        return 2;
    }
    stint_journal_close(j);

    d = opendir(base);
    while (d && (de = readdir(d)) != NULL && n_names < 64) {
        /* every file LevelDB writes; Stint's own lock and close mark are not LevelDB's */
        if (de->d_name[0] == '.' || strcmp(de->d_name, "stint.lock") == 0 ||
            strcmp(de->d_name, "stint.closed") == 0) {
            continue;
        }
        names[n_names++] = strdup(de->d_name);
    }
    if (d) {
        closedir(d);
    }
    stint_record_clear(&probe);
    probe.kind = STINT_KIND_ACTIVE;
    probe.start_ms = (int64_t)time(NULL) * 1000;
    probe.end_ms = probe.start_ms + 1;
    qsort(names, n_names, sizeof(names[0]), cmp_str);
    printf("journal_corrupt: files:");
    for (size_t i = 0; i < n_names; i++) {
        printf(" %s", names[i]);
    }
    printf("\n");

    for (int c = 0; c < cases; c++) {
        const char *name = names[(size_t)c % n_names];
        int flip = ((size_t)c / n_names) % 2 == 0;
        char file[300];
        struct stat st;
        struct stint_journal_open_info info;
        struct stint_journal_stats s;
        struct check chk;
        off_t off = 0;
        int fd;

        rm_rf(work);
        if (copy_dir(base, work) != 0) {
            fprintf(stderr, "case %d: copy failed\n", c);
            return 2;
        }
        snprintf(file, sizeof(file), "%s/%s", work, name);
        if (stat(file, &st) != 0) {
            return 2;
        }
        if (st.st_size > 0) {
            off = (off_t)((unsigned long)rand() % (unsigned long)st.st_size);
        }
        fd = open(file, O_RDWR);
        if (fd < 0) {
            return 2;
        }
        if (flip && st.st_size > 0) {
            unsigned char b;
            if (pread(fd, &b, 1, off) != 1) {
                return 2;
            }
            b ^= (unsigned char)(1 + rand() % 255);
            if (pwrite(fd, &b, 1, off) != 1) {
                return 2;
            }
        } else if (ftruncate(fd, off) != 0) {
            return 2;
        }
        close(fd);

        o.path = work;
        if (stint_journal_open(&o, &j, &info, &e) != STINT_OK) {
            fprintf(stderr, "case %d (%s %s at %lld): open failed: %s\n", c,
                    flip ? "flip" : "truncate", name, (long long)off, e.msg);
            return 1;
        }
        stint_journal_stats(j, &s);
        memset(&chk, 0, sizeof(chk));
        if (stint_journal_read(j, 0, SIZE_MAX, SIZE_MAX, 0, check_entry, &chk, NULL, NULL) !=
                STINT_OK ||
            chk.bad) {
            fprintf(stderr, "case %d (%s %s at %lld): %s\n", c, flip ? "flip" : "truncate", name,
                    (long long)off, chk.bad ? chk.why : "read failed");
            return 1;
        }
        if (info.moved_aside) {
            if (info.lost != STORED || !info.lost_known || s.backlog != 0) {
                fprintf(stderr, "case %d: moved aside, but lost %" PRIu64 "\n", c, info.lost);
                return 1;
            }
            rm_rf(info.moved_to);
            moved++;
        } else {
            uint64_t seq = 0;
            if (chk.n != s.backlog || chk.n + info.lost + info.dead_lettered != STORED) {
                fprintf(stderr,
                        "case %d (%s %s at %lld): read %" PRIu64 " + lost %" PRIu64
                        " + dead %" PRIu64 " != %d (backlog %" PRIu64 ", last seq read %" PRIu64
                        ")\n",
                        c, flip ? "flip" : "truncate", name, (long long)off, chk.n, info.lost,
                        info.dead_lettered, STORED, s.backlog, chk.last);
                return 1;
            }
            /* a damaged key may push the next seq up (harmless); it must never go back */
            if (stint_journal_append(j, &probe, 1, NULL, &seq) != STINT_OK || seq <= 2 * SESSION) {
                fprintf(stderr, "case %d: a seq would be given out twice (got %" PRIu64 ")\n", c,
                        seq);
                return 1;
            }
            repaired += info.repaired;
            lossy += info.lost > 0;
            dead += info.dead_lettered > 0;
            intact += !info.repaired && !info.lost && !info.dead_lettered;
        }
        stint_journal_close(j);
    }
    printf("journal_corrupt: %d cases passed: %d intact, %d repaired, %d with records lost "
           "(reported), %d with values dead-lettered, %d moved aside\n",
           cases, intact, repaired, lossy, dead, moved);
    rm_rf(root);
    for (size_t i = 0; i < n_names; i++) {
        free(names[i]);
    }
    return 0;
}
