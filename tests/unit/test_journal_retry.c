/* test_journal_retry.c — stint_journal_dead_retry on real LevelDB in temporary folders: dead
 * letters back in the queue under new seqs, in order, counted, after a reopen too; all or
 * nothing (a seq that is not a dead letter, one that does not decode); a full journal refuses
 * the retry whole and drops nothing; coalesced appends (`interval`) come first; a failed write
 * changes nothing. And stint_journal_dead_drop, all or nothing. The kill -9 test of the retry
 * is tests/integration/journal_crash_retry.c. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <leveldb/c.h>

#include "journal.h"
#include "stint/pb.h"

#define T0 1700000000000LL
#define MAX_GOT 2048

struct fixture {
    char dir[256];
    char path[300];
    struct stint_journal_opts opts;
    int64_t now;
};

static int64_t fake_clock(void *ctx)
{
    return ((struct fixture *)ctx)->now;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-journal-retry-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
    f->opts.path = f->path;
    f->opts.sync = STINT_SYNC_NONE; /* speed; the kill -9 driver covers `always` */
    f->opts.clock_ms = fake_clock;
    f->opts.clock_ctx = f;
    f->now = T0 + 3600 * 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct stint_record *rec_make(int i)
{
    static struct stint_record r;
    char title[64];
    int n = snprintf(title, sizeof(title), "title %d", i);
    stint_record_clear(&r);
    r.kind = STINT_KIND_ACTIVE;
    r.start_ms = T0 + (int64_t)i * 1000;
    r.end_ms = r.start_ms + 500;
    stint_record_set(&r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(&r, STINT_FIELD_PATH, "/usr/lib/firefox/firefox", 24);
    stint_record_set(&r, STINT_FIELD_TITLE, title, (size_t)n);
    stint_record_set(&r, STINT_FIELD_URL, "stint.example", 13);
    return &r;
}

static struct stint_journal *jopen(struct fixture *f, struct stint_journal_open_info *info)
{
    struct stint_journal *j = NULL;
    struct stint_error e;
    enum stint_err err = stint_journal_open(&f->opts, &j, info, &e);
    if (err != STINT_OK) {
        fprintf(stderr, "open: %s\n", e.msg);
    }
    assert_int_equal(err, STINT_OK);
    return j;
}

/* Appends records titled "title from" .. "title from+n-1", one write each. */
static void append_n(struct stint_journal *j, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        assert_int_equal(stint_journal_append(j, rec_make(i), 1, NULL, NULL), STINT_OK);
    }
}

/* What the queue or the dead letters hold: seqs and titles. */
struct got {
    size_t n;
    uint64_t seq[MAX_GOT];
    char title[MAX_GOT][16];
};

static enum stint_err collect(void *ctx, const struct stint_journal_entry *e)
{
    struct got *g = ctx;
    if (g->n >= MAX_GOT) {
        return STINT_ELIMIT;
    }
    g->seq[g->n] = e->seq;
    snprintf(g->title[g->n], sizeof(g->title[0]), "%.15s", e->record->title);
    g->n++;
    return STINT_OK;
}

static enum stint_err collect_dead(void *ctx, const struct stint_journal_dead *d)
{
    struct got *g = ctx;
    struct stint_record r;
    if (g->n >= MAX_GOT) {
        return STINT_ELIMIT;
    }
    g->seq[g->n] = d->seq;
    if (stint_pb_decode_record(d->raw, d->raw_len, &r, NULL, NULL) == STINT_OK) {
        snprintf(g->title[g->n], sizeof(g->title[0]), "%.15s", r.title);
    } else {
        snprintf(g->title[g->n], sizeof(g->title[0]), "?");
    }
    g->n++;
    return STINT_OK;
}

static void queued(struct stint_journal *j, struct got *g)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 0, MAX_GOT, SIZE_MAX, 0, collect, g, NULL, NULL),
                     STINT_OK);
}

static void dead(struct stint_journal *j, struct got *g)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_dead_list(j, 0, 0, collect_dead, g), STINT_OK);
}

/* The queue holds exactly these seqs with these titles ("title N"), in this order. */
static void expect_queue(struct stint_journal *j, const uint64_t *seqs, const int *titles, size_t n)
{
    struct got *g = malloc(sizeof(*g));
    assert_non_null(g);
    queued(j, g);
    if (g->n != n) {
        fail_msg("the queue holds %zu records, %zu expected", g->n, n);
    }
    for (size_t i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof(want), "title %d", titles[i]);
        if (g->seq[i] != seqs[i] || strcmp(g->title[i], want) != 0) {
            fail_msg("queue[%zu]: seq %" PRIu64 " \"%s\", expected seq %" PRIu64 " \"%s\"", i,
                     g->seq[i], g->title[i], seqs[i], want);
        }
    }
    free(g);
}

/* Retrying every dead letter: back at the tail under new seqs, in the order of their old ones,
 * the dead letters gone, the counters right; and all of it again after close and reopen. */
static void test_retry_moves_records(void **state)
{
    static const uint64_t seqs[] = {1, 2, 6, 7, 9, 10, 11, 12, 13, 14};
    static const int titles[] = {1, 2, 6, 7, 9, 10, 3, 4, 5, 8};
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal_retry r;
    struct stint_journal_stats s;
    struct stint_journal *j = jopen(f, NULL);
    struct got *g = malloc(sizeof(*g));

    assert_non_null(g);
    append_n(j, 1, 10);
    assert_int_equal(stint_journal_dead_letter(j, 3, 5, "HTTP 400: bad"), STINT_OK);
    assert_int_equal(stint_journal_dead_letter(j, 8, 8, "HTTP 400: bad"), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 4);
    assert_int_equal(s.backlog, 6);

    assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_OK);
    assert_int_equal(r.retried, 4);
    assert_int_equal(r.first_seq, 11);
    assert_int_equal(r.undecodable, 0);
    dead(j, g);
    assert_int_equal(g->n, 0);
    expect_queue(j, seqs, titles, 10);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 0);
    assert_int_equal(s.dead_total, 4); /* "ever": a retry does not undo it */
    assert_int_equal(s.backlog, 10);
    assert_int_equal(s.next_seq, 15);
    assert_int_equal(s.dropped, 0);
    stint_journal_close(j);

    memset(&info, 0, sizeof(info));
    j = jopen(f, &info);
    assert_int_equal(info.lost, 0);
    assert_int_equal(info.dead_lettered, 0);
    assert_false(info.repaired);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 0);
    assert_int_equal(s.backlog, 10);
    assert_int_equal(s.next_seq, 15);
    expect_queue(j, seqs, titles, 10);
    /* the retried records are sent and acked like any other */
    assert_int_equal(stint_journal_ack(j, 14), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 0);
    assert_int_equal(s.backlog_bytes, 0);
    stint_journal_close(j);
    free(g);
}

/* Named seqs: only those, in the order of the old seqs whatever the order given, a repeat once;
 * one that is not a dead letter refuses the whole retry and changes nothing. */
static void test_retry_named_all_or_nothing(void **state)
{
    static const uint64_t seqs[] = {1, 3, 5, 7, 8, 9};
    static const int titles[] = {1, 3, 5, 2, 4, 6};
    struct fixture *f = *state;
    struct stint_journal_retry r;
    struct stint_journal_stats s0, s;
    struct stint_journal *j = jopen(f, NULL);
    struct got *g = malloc(sizeof(*g));
    const uint64_t bad[] = {4, 2, 99};
    const uint64_t named[] = {6, 2, 4, 2};

    assert_non_null(g);
    append_n(j, 1, 6);
    assert_int_equal(stint_journal_dead_letter(j, 2, 2, "x"), STINT_OK);
    assert_int_equal(stint_journal_dead_letter(j, 4, 4, "x"), STINT_OK);
    assert_int_equal(stint_journal_dead_letter(j, 6, 6, "x"), STINT_OK);
    stint_journal_stats(j, &s0);

    assert_int_equal(stint_journal_dead_retry(j, bad, 3, &r), STINT_EINVAL);
    assert_int_equal(r.refused_seq, 99);
    assert_int_equal(r.retried, 0);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 3);
    assert_int_equal(s.backlog, s0.backlog);
    assert_int_equal(s.backlog_bytes, s0.backlog_bytes);
    assert_int_equal(s.next_seq, s0.next_seq);
    dead(j, g);
    assert_int_equal(g->n, 3);
    /* a seq that is queued, not dead, is refused too */
    assert_int_equal(stint_journal_dead_retry(j, (const uint64_t[]){1}, 1, &r), STINT_EINVAL);
    assert_int_equal(stint_journal_dead_retry(j, NULL, 2, &r), STINT_EINVAL);

    assert_int_equal(stint_journal_dead_retry(j, named, 4, &r), STINT_OK);
    assert_int_equal(r.retried, 3);
    assert_int_equal(r.first_seq, 7);
    expect_queue(j, seqs, titles, 6);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 0);
    /* nothing left to retry: zero, not an error */
    assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_OK);
    assert_int_equal(r.retried, 0);
    assert_int_equal(r.first_seq, 0);
    stint_journal_close(j);
    free(g);
}

/* A dead letter whose bytes are no record (a value damaged on disk, dead-lettered at open):
 * retrying all leaves it, counted; naming it refuses the retry. */
static void test_retry_undecodable_stays(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal_retry r;
    struct stint_journal_stats s;
    struct stint_journal *j = jopen(f, NULL);
    struct got *g = malloc(sizeof(*g));
    leveldb_options_t *lo;
    leveldb_writeoptions_t *wo;
    leveldb_t *db;
    char *lerr = NULL;
    uint8_t k[9] = {'r', 0, 0, 0, 0, 0, 0, 0, 3};

    assert_non_null(g);
    append_n(j, 1, 5);
    stint_journal_close(j);
    lo = leveldb_options_create();
    wo = leveldb_writeoptions_create();
    db = leveldb_open(lo, f->path, &lerr);
    assert_null(lerr);
    leveldb_put(db, wo, (const char *)k, sizeof(k), "\xff\xff\xff", 3, &lerr);
    assert_null(lerr);
    leveldb_close(db);
    leveldb_writeoptions_destroy(wo);
    leveldb_options_destroy(lo);
    j = jopen(f, &info);
    assert_int_equal(info.dead_lettered, 1);
    assert_int_equal(stint_journal_dead_letter(j, 5, 5, "HTTP 400"), STINT_OK);

    assert_int_equal(stint_journal_dead_retry(j, (const uint64_t[]){5, 3}, 2, &r), STINT_EWIRE);
    assert_int_equal(r.refused_seq, 3);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 2);

    assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_OK);
    assert_int_equal(r.retried, 1);
    assert_int_equal(r.undecodable, 1);
    assert_int_equal(r.first_seq, 6);
    dead(j, g);
    assert_int_equal(g->n, 1);
    assert_int_equal(g->seq[0], 3);
    expect_queue(j, (const uint64_t[]){1, 2, 4, 6}, (const int[]){1, 2, 4, 5}, 4);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 1);
    stint_journal_close(j);
    free(g);
}

/* A retry that would pass max_bytes is refused whole, with either full policy: nothing queued
 * is dropped, no dead letter moves, no seq is given out; once the queue drains it goes. */
static void test_retry_full_refused(void **state)
{
    struct fixture *f = *state;

    for (int policy = 0; policy < 2; policy++) {
        struct stint_journal_retry r;
        struct stint_journal_stats s0, s;
        struct stint_journal *j;
        char msg[512];
        int i = 101;

        f->opts.max_bytes = STINT_JOURNAL_MIN_MAX_BYTES;
        f->opts.full = policy ? STINT_FULL_DROP_NEWEST : STINT_FULL_DROP_OLDEST;
        j = jopen(f, NULL);
        append_n(j, 1, 100);
        assert_int_equal(stint_journal_dead_letter(j, 1, 50, "HTTP 400"), STINT_OK);
        /* fill again to within two records of the bound, without passing it */
        stint_journal_stats(j, &s0);
        while (s0.backlog_bytes + 2 * (s0.backlog_bytes / s0.backlog) < f->opts.max_bytes) {
            append_n(j, i++, 1);
            stint_journal_stats(j, &s0);
        }
        assert_int_equal(s0.dropped, 0);
        assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_ELIMIT);
        assert_int_equal(r.retried, 0);
        assert_true(r.need_bytes > r.room_bytes);
        assert_int_equal(r.room_bytes, f->opts.max_bytes - s0.backlog_bytes);
        stint_journal_last_error(j, msg, sizeof(msg));
        assert_non_null(strstr(msg, "50 dead letters take"));
        stint_journal_stats(j, &s);
        assert_int_equal(s.dropped, 0);
        assert_int_equal(s.dead, 50);
        assert_int_equal(s.backlog, s0.backlog);
        assert_int_equal(s.backlog_bytes, s0.backlog_bytes);
        assert_int_equal(s.next_seq, s0.next_seq);
        /* the queue drains (the server acks): now they fit */
        assert_int_equal(stint_journal_ack(j, s0.next_seq - 1), STINT_OK);
        assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_OK);
        assert_int_equal(r.retried, 50);
        assert_int_equal(r.first_seq, s0.next_seq);
        stint_journal_stats(j, &s);
        assert_int_equal(s.dead, 0);
        assert_int_equal(s.backlog, 50);
        assert_int_equal(s.dropped, 0);
        stint_journal_close(j);
        nftw(f->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* `interval`: appends still coalesced in memory are handed to LevelDB first, so the retried
 * records follow them; after a close and reopen the order holds. */
static void test_retry_after_coalesced_appends(void **state)
{
    static const uint64_t seqs[] = {1, 3, 4, 5, 6};
    static const int titles[] = {1, 3, 4, 5, 2};
    struct fixture *f = *state;
    struct stint_journal_retry r;
    struct stint_journal *j;

    f->opts.sync = STINT_SYNC_INTERVAL;
    f->opts.sync_interval_ms = 60000; /* the thread does not hand them over by itself */
    j = jopen(f, NULL);
    append_n(j, 1, 3);
    assert_int_equal(stint_journal_dead_letter(j, 2, 2, "x"), STINT_OK);
    append_n(j, 4, 2); /* coalesced: still pending when the retry comes (or just handed over) */
    assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_OK);
    assert_int_equal(r.first_seq, 6);
    expect_queue(j, seqs, titles, 5);
    stint_journal_close(j);
    j = jopen(f, NULL);
    expect_queue(j, seqs, titles, 5);
    stint_journal_close(j);
}

/* The largest file in the folder: LevelDB's log, where the next write goes. */
static off_t largest_file(const char *dir)
{
    char p[1024];
    struct dirent *de;
    struct stat sb;
    off_t max = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        int n = snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (n > 0 && (size_t)n < sizeof(p) && stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
            sb.st_size > max) {
            max = sb.st_size;
        }
    }
    closedir(d);
    return max;
}

/* Which of the records titled "title 1 ..." to "title 10 ..." are where: counts[k] += 1. */
static void tally(const struct got *g, int counts[11])
{
    for (size_t i = 0; i < g->n; i++) {
        long k = strtol(g->title[i] + 6, NULL, 10);
        assert_true(strncmp(g->title[i], "title ", 6) == 0 && k >= 1 && k <= 10);
        counts[k]++;
    }
}

/* The write fails (RLIMIT_FSIZE: EFBIG, as a full disk would): STINT_EIO, and nothing changed,
 * in memory or on disk; the next retry, once writes work, moves them all, each record once. */
static void test_retry_write_fails_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal_retry r;
    struct stint_journal_stats s0, s;
    struct stint_journal *j;
    struct got *g = malloc(sizeof(*g));
    struct rlimit orig, lim;
    int counts[11] = {0};
    char msg[512];
    enum stint_err err;

    assert_non_null(g);
    j = jopen(f, NULL);
    for (int i = 1; i <= 10; i++) {
        struct stint_record *rec = rec_make(i);
        char title[1100];
        int n = snprintf(title, sizeof(title), "title %d ", i);
        memset(title + n, 'x', sizeof(title) - 1 - (size_t)n); /* a batch of ~11 KiB */
        stint_record_set(rec, STINT_FIELD_TITLE, title, sizeof(title) - 1);
        assert_int_equal(stint_journal_append(j, rec, 1, NULL, NULL), STINT_OK);
    }
    assert_int_equal(stint_journal_dead_letter(j, 1, 10, "HTTP 400"), STINT_OK);
    stint_journal_stats(j, &s0);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &orig), 0);
    lim = orig;
    lim.rlim_cur = (rlim_t)largest_file(f->path) + 2048;
    signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of being killed */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    err = stint_journal_dead_retry(j, NULL, 0, &r);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &orig), 0);
    signal(SIGXFSZ, SIG_DFL);
    stint_journal_last_error(j, msg, sizeof(msg));
    assert_int_equal(err, STINT_EIO);
    assert_non_null(strstr(msg, "putting dead letters back in the queue failed"));
    assert_int_equal(r.retried, 0);
    assert_int_equal(r.first_seq, 0);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 10);
    assert_int_equal(s.backlog, 0);
    assert_int_equal(s.next_seq, s0.next_seq);

    /* writes work again: the handle reopens LevelDB (the failed write may have left a torn
     * record at the end of its log) and the retry goes through whole */
    dead(j, g);
    assert_int_equal(g->n, 10);
    queued(j, g);
    assert_int_equal(g->n, 0);
    assert_int_equal(stint_journal_dead_retry(j, NULL, 0, &r), STINT_OK);
    assert_int_equal(r.retried, 10);
    assert_int_equal(r.first_seq, s0.next_seq);
    stint_journal_close(j);
    j = jopen(f, &info);
    assert_int_equal(info.lost, 0);
    assert_false(info.repaired);
    dead(j, g);
    tally(g, counts);
    queued(j, g);
    tally(g, counts);
    for (int k = 1; k <= 10; k++) {
        if (counts[k] != 1) {
            fail_msg("record %d is in %d places", k, counts[k]);
        }
    }
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 0);
    assert_int_equal(s.backlog, 10);
    stint_journal_close(j);
    free(g);
}

/* Dropping: named seqs all or nothing, every one at once, one write; counted after a reopen. */
static void test_drop_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_stats s;
    struct stint_journal *j = jopen(f, NULL);
    struct got *g = malloc(sizeof(*g));
    uint64_t refused = 0;
    size_t done = 9;

    assert_non_null(g);
    append_n(j, 1, 8);
    assert_int_equal(stint_journal_dead_letter(j, 2, 6, "HTTP 400"), STINT_OK);
    assert_int_equal(stint_journal_dead_drop(j, (const uint64_t[]){3, 7}, 2, &done, &refused),
                     STINT_EINVAL);
    assert_int_equal(refused, 7); /* queued, not dead */
    assert_int_equal(done, 0);
    dead(j, g);
    assert_int_equal(g->n, 5);
    assert_int_equal(stint_journal_dead_drop(j, (const uint64_t[]){5, 3, 5}, 3, &done, &refused),
                     STINT_OK);
    assert_int_equal(done, 2);
    dead(j, g);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->seq[0], 2);
    assert_int_equal(g->seq[1], 4);
    assert_int_equal(g->seq[2], 6);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 3);
    assert_int_equal(stint_journal_dead_drop(j, NULL, 0, &done, NULL), STINT_OK);
    assert_int_equal(done, 3);
    assert_int_equal(stint_journal_dead_drop(j, NULL, 0, &done, NULL), STINT_OK);
    assert_int_equal(done, 0);
    stint_journal_close(j);
    j = jopen(f, NULL);
    dead(j, g);
    assert_int_equal(g->n, 0);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 0);
    assert_int_equal(s.backlog, 3);
    stint_journal_close(j);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_moves_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_named_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_undecodable_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_full_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_coalesced_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_write_fails_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_all_or_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
