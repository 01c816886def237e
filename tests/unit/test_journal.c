/* test_journal.c — the journal on real LevelDB in temporary folders: every operation and error
 * of agent/journal.h. The key layout the tests reach into directly is spec/JOURNAL.md. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "journal.h"
#include "stint/buf.h"
#include "stint/pb.h"

#define T0 1700000000000LL

struct fixture {
    char dir[256];  /* temporary parent */
    char path[300]; /* the journal folder inside it */
    struct stint_journal_opts opts;
    int64_t now; /* the injected clock */
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

static void rm_rf(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f) {
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-journal-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
    f->opts.path = f->path;
    f->opts.sync = STINT_SYNC_NONE; /* speed; durability has its own tests */
    f->opts.clock_ms = fake_clock;
    f->opts.clock_ctx = f;
    f->now = T0 + 3600 * 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_rf(f->dir);
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

static void append_n(struct stint_journal *j, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        assert_int_equal(stint_journal_append(j, rec_make(i), 1, NULL, NULL), STINT_OK);
    }
}

/* Collects what stint_journal_read hands out. */
struct got {
    size_t n;
    uint64_t seq[4096];
    char title[4096][16];
    int kinds[4096];
    uint64_t gap_count[4096];
    int raw_ok;
};

static enum stint_err collect(void *ctx, const struct stint_journal_entry *e)
{
    struct got *g = ctx;
    struct stint_record r;
    if (g->n >= 4096) {
        return STINT_ELIMIT;
    }
    g->seq[g->n] = e->seq;
    if (e->record) {
        snprintf(g->title[g->n], sizeof(g->title[0]), "%.15s", e->record->title);
        g->kinds[g->n] = e->record->kind;
        g->gap_count[g->n] = e->record->gap_count;
    }
    /* the raw bytes are the record's own encoding, seq included */
    if (stint_pb_decode_record(e->raw, e->raw_len, &r, NULL, NULL) == STINT_OK && r.seq == e->seq &&
        (!e->record || stint_record_equal(&r, e->record))) {
        g->raw_ok++;
    }
    g->n++;
    return STINT_OK;
}

static struct got *read_all(struct stint_journal *j)
{
    static struct got g;
    uint64_t next = 0;
    memset(&g, 0, sizeof(g));
    assert_int_equal(stint_journal_read(j, 0, 4096, SIZE_MAX, 0, collect, &g, &next, NULL),
                     STINT_OK);
    return &g;
}

/* Raw LevelDB access for planting damage and checking layout. */
static leveldb_t *raw_open(const char *path)
{
    leveldb_options_t *o = leveldb_options_create();
    char *err = NULL;
    leveldb_t *db = leveldb_open(o, path, &err);
    leveldb_options_destroy(o);
    if (err) {
        fprintf(stderr, "raw open: %s\n", err);
        leveldb_free(err);
    }
    assert_non_null(db);
    return db;
}

static void raw_put(leveldb_t *db, const void *k, size_t kl, const void *v, size_t vl)
{
    leveldb_writeoptions_t *w = leveldb_writeoptions_create();
    char *err = NULL;
    leveldb_put(db, w, k, kl, v, vl, &err);
    leveldb_writeoptions_destroy(w);
    assert_null(err);
}

static void raw_delete(leveldb_t *db, const void *k, size_t kl)
{
    leveldb_writeoptions_t *w = leveldb_writeoptions_create();
    char *err = NULL;
    leveldb_delete(db, w, k, kl, &err);
    leveldb_writeoptions_destroy(w);
    assert_null(err);
}

static void rec_key(uint8_t k[9], uint64_t seq)
{
    k[0] = 'r';
    for (int i = 8; i >= 1; i--) {
        k[i] = (uint8_t)(seq & 0xff);
        seq >>= 8;
    }
}

/* ---- tests ---- */

static void test_create_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    uint8_t id1[16], id2[16], zero[16] = {0};
    struct stint_journal *j = jopen(f, &info);
    struct stint_journal_stats s;

    assert_true(info.created);
    stint_journal_agent_id(j, id1);
    assert_memory_not_equal(id1, zero, 16);
    stint_journal_stats(j, &s);
    assert_int_equal(s.next_seq, 1);
    assert_int_equal(s.backlog, 0);
    stint_journal_close(j);
    j = jopen(f, &info);
    assert_false(info.created);
    assert_false(info.repaired);
    assert_int_equal(info.lost, 0);
    stint_journal_agent_id(j, id2);
    assert_memory_equal(id1, id2, 16);
    stint_journal_close(j);
    stint_journal_close(NULL);
}

static void test_append_read_reopen(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    uint64_t seq = 0;
    struct got *g;

    assert_int_equal(stint_journal_append(j, rec_make(0), 1, NULL, &seq), STINT_OK);
    assert_int_equal(seq, 1);
    append_n(j, 1, 9);
    stint_journal_close(j);
    j = jopen(f, NULL);
    g = read_all(j);
    assert_int_equal(g->n, 10);
    assert_int_equal(g->raw_ok, 10);
    for (size_t i = 0; i < 10; i++) {
        char want[16];
        snprintf(want, sizeof(want), "title %zu", i);
        assert_int_equal(g->seq[i], i + 1);
        assert_string_equal(g->title[i], want);
    }
    stint_journal_close(j);
}

static void test_append_several_with_meta_atomic(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_record *rs = calloc(3, sizeof(*rs));
    struct stint_journal_append_opts ao = {
        .meta_key = "jsonl.offset", .meta_val = "12345", .meta_len = 5};
    uint64_t first = 0;
    char buf[16] = {0};
    size_t len = 0;
    bool found = false;

    for (int i = 0; i < 3; i++) {
        stint_record_copy(&rs[i], rec_make(i));
    }
    assert_int_equal(stint_journal_append(j, rs, 3, &ao, &first), STINT_OK);
    assert_int_equal(first, 1);
    stint_journal_close(j);
    j = jopen(f, NULL);
    assert_int_equal(stint_journal_meta_get(j, "jsonl.offset", buf, sizeof(buf), &len, &found),
                     STINT_OK);
    assert_true(found);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "12345", 5);
    assert_int_equal(read_all(j)->n, 3);
    /* a bad meta key refuses the whole append: nothing is written */
    ao.meta_key = "bad key!";
    assert_int_equal(stint_journal_append(j, rs, 3, &ao, &first), STINT_EINVAL);
    assert_int_equal(read_all(j)->n, 3);
    /* n = 0 writes just the meta */
    ao.meta_key = "jsonl.offset";
    ao.meta_val = "9";
    ao.meta_len = 1;
    assert_int_equal(stint_journal_append(j, NULL, 0, &ao, &first), STINT_OK);
    assert_int_equal(first, 0);
    assert_int_equal(stint_journal_meta_get(j, "jsonl.offset", buf, sizeof(buf), &len, &found),
                     STINT_OK);
    assert_int_equal(len, 1);
    stint_journal_close(j);
    free(rs);
}

static void test_read_bounds_and_continue(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct got *g = calloc(1, sizeof(*g));
    uint64_t next = 0;
    size_t n = 0;

    append_n(j, 0, 20);
    assert_int_equal(stint_journal_read(j, 0, 7, SIZE_MAX, 0, collect, g, &next, &n), STINT_OK);
    assert_int_equal(n, 7);
    assert_int_equal(next, 8);
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, next, 100, SIZE_MAX, 0, collect, g, &next, &n),
                     STINT_OK);
    assert_int_equal(n, 13);
    assert_int_equal(g->seq[0], 8);
    assert_int_equal(next, 21);
    /* a byte bound smaller than one record still delivers one */
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 0, 100, 1, 0, collect, g, &next, &n), STINT_OK);
    assert_int_equal(n, 1);
    /* a byte bound of about three records */
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 0, 100, 200, STINT_JOURNAL_RAW, collect, g, &next, &n),
                     STINT_OK);
    assert_in_range(n, 2, 5);
    assert_int_equal(g->raw_ok, n);
    /* nothing past the end */
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 21, 100, SIZE_MAX, 0, collect, g, &next, &n), STINT_OK);
    assert_int_equal(n, 0);
    assert_int_equal(next, 21);
    assert_int_equal(stint_journal_read(j, 0, 1, 1, 0, NULL, NULL, NULL, NULL), STINT_EINVAL);
    stint_journal_close(j);
    free(g);
}

static enum stint_err stop_at_3(void *ctx, const struct stint_journal_entry *e)
{
    (void)ctx;
    return e->seq == 3 ? STINT_ELIMIT : STINT_OK;
}

static void test_read_callback_stops(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    append_n(j, 0, 5);
    assert_int_equal(stint_journal_read(j, 0, 10, SIZE_MAX, 0, stop_at_3, NULL, NULL, NULL),
                     STINT_ELIMIT);
    stint_journal_close(j);
}

static void test_ack(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_stats s;
    struct got *g;
    char msg[256];

    append_n(j, 0, 10);
    assert_int_equal(stint_journal_ack(j, 4), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 6);
    assert_int_equal(s.acked_seq, 4);
    assert_int_equal(s.oldest_ms, rec_make(4)->start_ms);
    g = read_all(j);
    assert_int_equal(g->n, 6);
    assert_int_equal(g->seq[0], 5);
    /* reading from below the acked point starts after it */
    assert_int_equal(stint_journal_ack(j, 2), STINT_OK); /* at or below: nothing */
    assert_int_equal(stint_journal_ack(j, 11), STINT_EINVAL);
    stint_journal_last_error(j, msg, sizeof(msg));
    assert_non_null(strstr(msg, "11"));
    stint_journal_close(j);
    j = jopen(f, NULL);
    stint_journal_stats(j, &s);
    assert_int_equal(s.acked_seq, 4);
    assert_int_equal(s.backlog, 6);
    assert_int_equal(stint_journal_ack(j, 10), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 0);
    assert_int_equal(s.backlog_bytes, 0);
    assert_int_equal(s.oldest_ms, 0);
    assert_int_equal(read_all(j)->n, 0);
    /* seqs go on after a full drain and a reopen */
    stint_journal_close(j);
    j = jopen(f, NULL);
    {
        uint64_t seq = 0;
        assert_int_equal(stint_journal_append(j, rec_make(99), 1, NULL, &seq), STINT_OK);
        assert_int_equal(seq, 11);
    }
    stint_journal_close(j);
}

static void test_durable_policies(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;

    f->opts.sync = STINT_SYNC_ALWAYS;
    j = jopen(f, NULL);
    append_n(j, 0, 3);
    assert_int_equal(stint_journal_durable_seq(j), 3);
    stint_journal_close(j);

    f->opts.sync = STINT_SYNC_NONE;
    j = jopen(f, NULL);
    assert_int_equal(stint_journal_durable_seq(j), 3); /* what was there at open is on disk */
    append_n(j, 3, 2);
    usleep(50 * 1000);
    assert_int_equal(stint_journal_durable_seq(j), 3);
    assert_int_equal(stint_journal_sync(j), STINT_OK);
    assert_int_equal(stint_journal_durable_seq(j), 5);
    stint_journal_close(j);

    f->opts.sync = STINT_SYNC_INTERVAL;
    f->opts.sync_interval_ms = 50;
    j = jopen(f, NULL);
    append_n(j, 5, 2);
    {
        int waited = 0;
        while (stint_journal_durable_seq(j) < 7 && waited < 2000) {
            usleep(10 * 1000);
            waited += 10;
        }
        assert_int_equal(stint_journal_durable_seq(j), 7);
    }
    stint_journal_close(j);
}

static void test_checkpoint_restored_on_open(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_record *open = malloc(sizeof(*open));
    struct got *g;

    stint_record_copy(open, rec_make(5));
    open->end_ms = 0;
    append_n(j, 0, 2);
    f->now = open->start_ms + 10000;
    assert_int_equal(stint_journal_checkpoint(j, open), STINT_OK);
    f->now = open->start_ms + 20000;
    assert_int_equal(stint_journal_checkpoint(j, open), STINT_OK); /* replaces */
    stint_journal_close(j); /* as good as a crash for the checkpoint */
    f->now += 99999;
    j = jopen(f, &info);
    assert_true(info.checkpoint_restored);
    assert_int_equal(info.checkpoint_seq, 3);
    g = read_all(j);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->title[2], "title 5");
    stint_journal_close(j);
    /* restored once only */
    j = jopen(f, &info);
    assert_false(info.checkpoint_restored);
    assert_int_equal(read_all(j)->n, 3);
    stint_journal_close(j);
    free(open);
}

static enum stint_err grab_end(void *ctx, const struct stint_journal_entry *e)
{
    *(int64_t *)ctx = e->record->end_ms;
    return STINT_OK;
}

static void test_checkpoint_end_time_and_clear(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_record *open = rec_make(1);
    struct stint_journal_append_opts ao = {.clear_checkpoint = true};
    struct stint_journal_open_info info;
    int64_t end = 0;

    open->end_ms = 0;
    f->now = open->start_ms + 7777;
    assert_int_equal(stint_journal_checkpoint(j, open), STINT_OK);
    stint_journal_close(j);
    f->now += 1000000;
    j = jopen(f, &info);
    assert_true(info.checkpoint_restored);
    assert_int_equal(stint_journal_read(j, 0, 1, SIZE_MAX, 0, grab_end, &end, NULL, NULL),
                     STINT_OK);
    assert_int_equal(end, open->start_ms + 7777);
    /* a checkpoint cleared by the append of the closed record is not restored */
    assert_int_equal(stint_journal_checkpoint(j, open), STINT_OK);
    open->end_ms = open->start_ms + 1;
    assert_int_equal(stint_journal_append(j, open, 1, &ao, NULL), STINT_OK);
    stint_journal_close(j);
    j = jopen(f, &info);
    assert_false(info.checkpoint_restored);
    /* and checkpoint(NULL) deletes it */
    open->end_ms = 0;
    assert_int_equal(stint_journal_checkpoint(j, open), STINT_OK);
    assert_int_equal(stint_journal_checkpoint(j, NULL), STINT_OK);
    stint_journal_close(j);
    j = jopen(f, &info);
    assert_false(info.checkpoint_restored);
    stint_journal_close(j);
}

static void check_gap_accounting(struct stint_journal *j, int appended)
{
    struct stint_journal_stats s;
    struct got *g = read_all(j);
    uint64_t represented = 0;
    size_t gaps = 0;
    stint_journal_stats(j, &s);
    assert_true(s.backlog_bytes <= STINT_JOURNAL_MIN_MAX_BYTES + 64);
    assert_int_equal(g->n, s.backlog);
    for (size_t i = 0; i < g->n; i++) {
        if (g->kinds[i] == STINT_KIND_GAP) {
            represented += g->gap_count[i];
            gaps++;
        } else {
            represented++;
        }
        if (i) {
            assert_true(g->seq[i] > g->seq[i - 1]);
        }
    }
    assert_true(s.dropped > 0);
    assert_true(gaps >= 1);
    /* every record appended is either stored or counted in a gap */
    assert_int_equal(represented, (uint64_t)appended);
    assert_int_equal(s.dropped + g->n - gaps, (uint64_t)appended);
}

static void test_bound_drop_oldest(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct got *g;

    f->opts.max_bytes = STINT_JOURNAL_MIN_MAX_BYTES;
    j = jopen(f, NULL);
    append_n(j, 0, 1500); /* ~95 bytes each: about twice the bound */
    check_gap_accounting(j, 1500);
    g = read_all(j);
    assert_int_equal(g->kinds[0], STINT_KIND_GAP); /* the gap stands where the dropped were */
    assert_int_equal(g->kinds[g->n - 1], STINT_KIND_ACTIVE);
    assert_string_equal(g->title[g->n - 1], "title 1499");
    stint_journal_close(j);
    j = jopen(f, NULL); /* the counters are on disk */
    check_gap_accounting(j, 1500);
    stint_journal_close(j);
}

static void test_bound_drop_newest(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct got *g;
    struct stint_journal_stats s;

    f->opts.max_bytes = STINT_JOURNAL_MIN_MAX_BYTES;
    f->opts.full = STINT_FULL_DROP_NEWEST;
    j = jopen(f, NULL);
    append_n(j, 0, 1500);
    check_gap_accounting(j, 1500);
    g = read_all(j); /* the sender has now read the tail gap */
    assert_int_equal(g->kinds[0], STINT_KIND_ACTIVE);
    assert_string_equal(g->title[0], "title 0");
    assert_int_equal(g->kinds[g->n - 1], STINT_KIND_GAP);
    assert_int_equal(g->n, 1 + (size_t)(1500 - g->gap_count[g->n - 1]));
    /* so the next drop makes a new gap rather than changing one the server may have */
    append_n(j, 1500, 3);
    stint_journal_stats(j, &s);
    g = read_all(j);
    assert_int_equal(g->kinds[g->n - 1], STINT_KIND_GAP);
    assert_int_equal(g->gap_count[g->n - 1], 3);
    assert_int_equal(g->kinds[g->n - 2], STINT_KIND_GAP);
    stint_journal_close(j);
}

/* Acks of what was read take a short cut (no second iteration); a drop between the read and the
 * ack must not let it delete or count the wrong records. */
static void test_ack_after_read_and_drop(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct stint_journal_stats s;
    struct got *g = calloc(1, sizeof(*g));
    uint64_t next = 0;

    f->opts.max_bytes = STINT_JOURNAL_MIN_MAX_BYTES;
    j = jopen(f, NULL);
    append_n(j, 0, 300);
    assert_int_equal(stint_journal_read(j, 0, 100, SIZE_MAX, 0, collect, g, &next, NULL), STINT_OK);
    assert_int_equal(next, 101);
    append_n(j, 300, 900); /* over the bound: the oldest, read ones included, become a gap */
    assert_int_equal(stint_journal_ack(j, 100), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, read_all(j)->n);
    /* and the short cut itself: read, ack part, read on, ack the rest */
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 0, 50, SIZE_MAX, 0, collect, g, &next, NULL), STINT_OK);
    assert_int_equal(stint_journal_ack(j, g->seq[19]), STINT_OK);
    assert_int_equal(stint_journal_read(j, next, 50, SIZE_MAX, 0, collect, g, &next, NULL),
                     STINT_OK);
    assert_int_equal(stint_journal_ack(j, next - 1), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.acked_seq, next - 1);
    assert_int_equal(s.backlog, read_all(j)->n);
    stint_journal_close(j);
    j = jopen(f, NULL); /* and the state on disk agrees */
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, read_all(j)->n);
    assert_int_equal(s.acked_seq, next - 1);
    stint_journal_close(j);
    free(g);
}

static void test_bound_max_age(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct got *g;
    struct stint_journal_stats s;

    f->opts.max_age_ms = 3600 * 1000;
    f->now = T0 + 100 * 1000;
    j = jopen(f, NULL);
    append_n(j, 0, 10);               /* records at T0 .. T0 + 9 s */
    f->now = T0 + 3600 * 1000 + 5500; /* records ending before T0 + 5.5 s are too old */
    append_n(j, 100, 1);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dropped, 5);
    g = read_all(j);
    assert_int_equal(g->kinds[0], STINT_KIND_GAP);
    assert_int_equal(g->gap_count[0], 5);
    assert_int_equal(g->seq[0], 5);
    assert_int_equal(g->n, 1 + 5 + 1);
    /* the gap itself does not age away on its own */
    f->now += 1000;
    append_n(j, 101, 1);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dropped, 6);
    g = read_all(j);
    assert_int_equal(g->gap_count[0], 6);
    assert_int_equal(g->seq[0], 6);
    stint_journal_close(j);
}

struct deadlist {
    size_t n;
    uint64_t seq[64];
    char reason[64][32];
    int decodes;
};

static enum stint_err collect_dead(void *ctx, const struct stint_journal_dead *d)
{
    struct deadlist *l = ctx;
    struct stint_record r;
    if (l->n >= 64) {
        return STINT_ELIMIT;
    }
    l->seq[l->n] = d->seq;
    snprintf(l->reason[l->n], sizeof(l->reason[0]), "%.*s", (int)d->reason_len, d->reason);
    if (stint_pb_decode_record(d->raw, d->raw_len, &r, NULL, NULL) == STINT_OK && r.seq == d->seq) {
        l->decodes++;
    }
    l->n++;
    return STINT_OK;
}

static void test_dead_letters(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct stint_journal_stats s;
    struct deadlist l;
    struct got *g;

    f->opts.max_dead = 5;
    j = jopen(f, NULL);
    append_n(j, 0, 10);
    assert_int_equal(stint_journal_dead_letter(j, 3, 5, "HTTP 422: bad time"), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 7);
    assert_int_equal(s.dead, 3);
    g = read_all(j);
    assert_int_equal(g->seq[2], 6); /* the queue is not blocked */
    memset(&l, 0, sizeof(l));
    assert_int_equal(stint_journal_dead_list(j, 0, 0, collect_dead, &l), STINT_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.seq[0], 3);
    assert_string_equal(l.reason[0], "HTTP 422: bad time");
    assert_int_equal(l.decodes, 3);
    /* bounded: the oldest go */
    assert_int_equal(stint_journal_dead_letter(j, 7, 9, "refused"), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 5);
    assert_int_equal(s.dead_total, 6);
    assert_int_equal(s.dead_dropped, 1);
    memset(&l, 0, sizeof(l));
    assert_int_equal(stint_journal_dead_list(j, 0, 0, collect_dead, &l), STINT_OK);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.seq[0], 4);
    /* deletable */
    assert_int_equal(stint_journal_dead_delete(j, 4, 7), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 2);
    memset(&l, 0, sizeof(l));
    assert_int_equal(stint_journal_dead_list(j, 0, 1, collect_dead, &l), STINT_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.seq[0], 8);
    assert_int_equal(stint_journal_dead_letter(j, 5, 4, "x"), STINT_EINVAL);
    stint_journal_close(j);
    j = jopen(f, NULL);
    stint_journal_stats(j, &s);
    assert_int_equal(s.dead, 2);
    assert_int_equal(s.backlog, 4);
    stint_journal_close(j);
}

static void test_undecodable_value_dead_lettered(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_stats s;
    struct deadlist l;
    leveldb_t *db;
    uint8_t k[9];

    append_n(j, 0, 5);
    stint_journal_close(j);
    db = raw_open(f->path);
    rec_key(k, 3);
    raw_put(db, k, sizeof(k), "\xff\xff\xff", 3); /* not protobuf */
    leveldb_close(db);
    j = jopen(f, &info);
    assert_int_equal(info.dead_lettered, 1);
    assert_int_equal(info.lost, 0);
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 4);
    assert_int_equal(s.dead, 1);
    memset(&l, 0, sizeof(l));
    assert_int_equal(stint_journal_dead_list(j, 0, 0, collect_dead, &l), STINT_OK);
    assert_int_equal(l.seq[0], 3);
    assert_string_equal(l.reason[0], "undecodable");
    assert_int_equal(read_all(j)->n, 4);
    stint_journal_close(j);
}

static void test_lost_records_counted(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_stats s;
    leveldb_t *db;
    uint8_t k[9];

    append_n(j, 0, 10);
    stint_journal_close(j);
    db = raw_open(f->path);
    rec_key(k, 9);
    raw_delete(db, k, sizeof(k));
    rec_key(k, 10);
    raw_delete(db, k, sizeof(k)); /* the newest go: the state alone would not show it */
    leveldb_close(db);
    j = jopen(f, &info);
    assert_int_equal(info.lost, 2);
    assert_true(info.lost_known);
    stint_journal_stats(j, &s);
    assert_int_equal(s.lost, 2);
    assert_int_equal(s.backlog, 8);
    assert_int_equal(s.next_seq, 11); /* seqs 9 and 10 are never given out again */
    stint_journal_close(j);
}

/* After a crash there is no clean-close mark: the loss is counted from the state and the
 * appends after it. */
static void test_lost_records_counted_without_mark(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal *j = jopen(f, NULL);
    leveldb_t *db;
    uint8_t k[9];
    char p[400];

    pid_t child;
    int status = 0;

    append_n(j, 0, 10);
    stint_journal_close(j);
    child = fork(); /* a process that appends 5 more and dies without closing */
    assert_true(child >= 0);
    if (child == 0) {
        struct stint_journal *cj = NULL;
        if (stint_journal_open(&f->opts, &cj, NULL, NULL) != STINT_OK) {
            _exit(1);
        }
        for (int i = 10; i < 15; i++) {
            if (stint_journal_append(cj, rec_make(i), 1, NULL, NULL) != STINT_OK) {
                _exit(2);
            }
        }
        _exit(0);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(p, sizeof(p), "%s/stint.closed", f->path);
    assert_int_equal(access(p, F_OK), -1); /* no clean-close mark */
    db = raw_open(f->path);
    rec_key(k, 12);
    raw_delete(db, k, sizeof(k));
    leveldb_close(db);
    j = jopen(f, &info);
    assert_int_equal(info.lost, 1);
    assert_true(info.lost_known);
    assert_int_equal(read_all(j)->n, 14);
    stint_journal_close(j);
}

/* The bytes spec/JOURNAL.md shows, "Example", and the layout of the meta values. */
static void test_spec_examples(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    static const uint8_t want[] = {0x83, 0xc5, 0x13, 0x5f, 0x08, 0x01, 0x10, 0x80, 0xd0,
                                   0x95, 0xff, 0xbc, 0x31, 0x18, 0xe8, 0xf0, 0x95, 0xff,
                                   0xbc, 0x31, 0x20, 0x01, 0x2a, 0x03, 0x76, 0x69, 0x6d};
    struct stint_record *r = calloc(1, sizeof(*r));
    leveldb_t *db;
    leveldb_readoptions_t *ro;
    uint8_t k[9];
    char *err = NULL, *v;
    size_t vl = 0;

    stint_record_clear(r);
    r->start_ms = 1700000000000LL;
    r->end_ms = 1700000004200LL;
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, "vim", 3);
    f->now = r->end_ms; /* not aged out */
    assert_int_equal(stint_journal_append(j, r, 1, NULL, NULL), STINT_OK);
    stint_journal_close(j);
    db = raw_open(f->path);
    ro = leveldb_readoptions_create();
    rec_key(k, 1);
    assert_memory_equal(k, "\x72\0\0\0\0\0\0\0\x01", 9);
    v = leveldb_get(db, ro, (const char *)k, sizeof(k), &vl, &err);
    assert_null(err);
    assert_int_equal(vl, sizeof(want));
    assert_memory_equal(v, want, sizeof(want));
    assert_int_equal(stint_journal_value_decode((const uint8_t *)v, vl, 1, r), STINT_OK);
    assert_string_equal(r->app, "vim");
    assert_int_equal(stint_journal_value_decode((const uint8_t *)v, vl, 2, r), STINT_EWIRE);
    v[10] ^= 1;
    assert_int_equal(stint_journal_value_decode((const uint8_t *)v, vl, 1, r), STINT_EWIRE);
    leveldb_free(v);
    v = leveldb_get(db, ro, "mversion", 8, &vl, &err);
    assert_int_equal(vl, 4);
    assert_memory_equal(v, "\0\0\0\x02", 4);
    leveldb_free(v);
    v = leveldb_get(db, ro, "magent_id", 9, &vl, &err);
    assert_int_equal(vl, 16);
    leveldb_free(v);
    v = leveldb_get(db, ro, "s", 1, &vl, &err);
    assert_int_equal(vl, 85);
    assert_int_equal((uint8_t)v[0], 1);
    assert_int_equal((uint8_t)v[1 + 8 + 7], 0);  /* acked-seq = 0 */
    assert_int_equal((uint8_t)v[1 + 7], 2);      /* next-seq = 2 */
    assert_int_equal((uint8_t)v[1 + 16 + 7], 1); /* count = 1 */
    leveldb_free(v);
    assert_null(err);
    leveldb_readoptions_destroy(ro);
    leveldb_close(db);
    free(r);
}

static void test_private_and_meta(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    char buf[8];
    size_t len = 0;
    bool found = true;
    struct stint_journal_stats s;

    assert_false(stint_journal_private_get(j));
    assert_int_equal(stint_journal_private_set(j, true), STINT_OK);
    assert_true(stint_journal_private_get(j));
    assert_int_equal(stint_journal_meta_get(j, "nothing", buf, sizeof(buf), &len, &found),
                     STINT_OK);
    assert_false(found);
    assert_int_equal(stint_journal_meta_set(j, "k", "value", 5), STINT_OK);
    assert_int_equal(stint_journal_meta_get(j, "k", buf, 2, &len, &found), STINT_OK);
    assert_true(found);
    assert_int_equal(len, 5); /* the full length, though only 2 bytes were copied */
    assert_memory_equal(buf, "va", 2);
    assert_int_equal(stint_journal_meta_set(j, "", "x", 1), STINT_EINVAL);
    assert_int_equal(stint_journal_meta_set(j, "a/b", "x", 1), STINT_EINVAL);
    assert_int_equal(stint_journal_meta_get(j, "a b", buf, 2, &len, &found), STINT_EINVAL);
    stint_journal_close(j);
    j = jopen(f, NULL);
    assert_true(stint_journal_private_get(j));
    stint_journal_stats(j, &s);
    assert_true(s.private_mode);
    assert_int_equal(stint_journal_meta_get(j, "k", buf, sizeof(buf), &len, &found), STINT_OK);
    assert_true(found);
    assert_int_equal(stint_journal_meta_set(j, "k", NULL, 0), STINT_OK);
    assert_int_equal(stint_journal_meta_get(j, "k", buf, sizeof(buf), &len, &found), STINT_OK);
    assert_false(found);
    assert_int_equal(stint_journal_private_set(j, false), STINT_OK);
    assert_false(stint_journal_private_get(j));
    stint_journal_close(j);
}

/* True when `needle` occurs in any file under dir. */
static bool dir_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool hit = false;
    size_t nl = strlen(needle);
    assert_non_null(d);
    while (!hit && (de = readdir(d)) != NULL) {
        char p[600];
        FILE *fp;
        char *buf;
        size_t n;
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode) || !(fp = fopen(p, "rb"))) {
            continue;
        }
        buf = malloc((size_t)st.st_size + 1);
        n = fread(buf, 1, (size_t)st.st_size, fp);
        fclose(fp);
        for (size_t i = 0; i + nl <= n; i++) {
            if (memcmp(buf + i, needle, nl) == 0) {
                hit = true;
                break;
            }
        }
        free(buf);
    }
    closedir(d);
    return hit;
}

static void test_purge(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_record *r = rec_make(0);
    struct stint_journal_stats s;
    uint8_t id1[16], id2[16];
    char buf[8];
    size_t len;
    bool found;
    uint64_t seq = 0;

    stint_journal_agent_id(j, id1);
    stint_record_set(r, STINT_FIELD_TITLE, "SECRET-TITLE-XYZZY", 18);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(stint_journal_append(j, r, 1, NULL, NULL), STINT_OK);
    }
    assert_int_equal(stint_journal_checkpoint(j, r), STINT_OK);
    assert_int_equal(stint_journal_dead_letter(j, 1, 3, "refused"), STINT_OK);
    assert_int_equal(stint_journal_meta_set(j, "keep", "yes", 3), STINT_OK);
    assert_int_equal(stint_journal_private_set(j, true), STINT_OK);
    assert_true(dir_contains(f->path, "SECRET-TITLE-XYZZY"));
    assert_int_equal(stint_journal_purge(j), STINT_OK);
    assert_false(dir_contains(f->path, "SECRET-TITLE-XYZZY"));
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 0);
    assert_int_equal(s.dead, 0);
    assert_int_equal(read_all(j)->n, 0);
    assert_true(s.private_mode);
    assert_int_equal(stint_journal_meta_get(j, "keep", buf, sizeof(buf), &len, &found), STINT_OK);
    assert_true(found);
    assert_int_equal(stint_journal_append(j, rec_make(1), 1, NULL, &seq), STINT_OK);
    assert_int_equal(seq, 201); /* seqs go on: the server may still hold the old ones */
    stint_journal_close(j);
    j = jopen(f, NULL);
    stint_journal_agent_id(j, id2);
    assert_memory_equal(id1, id2, 16);
    {
        struct stint_journal_open_info info;
        stint_journal_close(j);
        j = jopen(f, &info);
        assert_false(info.checkpoint_restored);
    }
    assert_int_equal(read_all(j)->n, 1);
    stint_journal_close(j);
}

static void test_second_open_same_process(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL), *j2 = NULL;
    struct stint_error e;
    char pid[32];

    assert_int_equal(stint_journal_open(&f->opts, &j2, NULL, &e), STINT_EIO);
    assert_null(j2);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    assert_non_null(strstr(e.msg, f->path));
    assert_non_null(strstr(e.msg, pid));
    /* the failed open did not drop the first handle's lock: it still works */
    append_n(j, 0, 1);
    stint_journal_close(j);
    j = jopen(f, NULL);
    stint_journal_close(j);
}

static void test_second_open_other_process(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j2 = NULL;
    struct stint_error e;
    int up[2], down[2];
    char pid[32], c;
    pid_t child;

    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct stint_journal *j = NULL;
        close(up[0]);
        close(down[1]);
        if (stint_journal_open(&f->opts, &j, NULL, NULL) != STINT_OK) {
            _exit(1);
        }
        if (write(up[1], "k", 1) != 1 || read(down[0], &c, 1) < 0) {
            _exit(2);
        }
        _exit(0); /* no close: as if killed */
    }
    close(up[1]);
    close(down[0]);
    assert_int_equal(read(up[0], &c, 1), 1);
    assert_int_equal(stint_journal_open(&f->opts, &j2, NULL, &e), STINT_EIO);
    snprintf(pid, sizeof(pid), "process %ld", (long)child);
    assert_non_null(strstr(e.msg, f->path));
    assert_non_null(strstr(e.msg, pid));
    close(down[1]);
    waitpid(child, NULL, 0);
    close(up[0]);
    /* the holder is gone: the journal opens */
    j2 = jopen(f, NULL);
    stint_journal_close(j2);
}

static void test_newer_format_refused(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL), *j2 = NULL;
    struct stint_error e;
    leveldb_t *db;
    const uint8_t v2[4] = {0, 0, 0, 3};
    leveldb_readoptions_t *ro;
    char *err = NULL, *v;
    size_t vl = 0;

    append_n(j, 0, 3);
    stint_journal_close(j);
    db = raw_open(f->path);
    raw_put(db, "mversion", 8, v2, 4);
    leveldb_close(db);
    assert_int_equal(stint_journal_open(&f->opts, &j2, NULL, &e), STINT_EUNSUPPORTED);
    assert_null(j2);
    assert_non_null(strstr(e.msg, "format 3"));
    assert_non_null(strstr(e.msg, f->path));
    /* never silently rewritten */
    db = raw_open(f->path);
    ro = leveldb_readoptions_create();
    v = leveldb_get(db, ro, "mversion", 8, &vl, &err);
    assert_null(err);
    assert_int_equal(vl, 4);
    assert_memory_equal(v, v2, 4);
    leveldb_free(v);
    leveldb_readoptions_destroy(ro);
    leveldb_close(db);
}

/* Format 2 keeps the callers' keys after the records; format 1 kept them among the meta keys
 * ("mu/" + name). A format 1 journal opens as format 2 with its keys moved, its records intact,
 * a key already in the new space kept (the newer one), and no "mu/" key left. */
static void test_format1_user_keys_moved(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_append_opts ao = {
        .meta_key = "source.jsonl", .meta_val = "pos-A", .meta_len = 5};
    const uint8_t v1[4] = {0, 0, 0, 1};
    leveldb_readoptions_t *ro;
    leveldb_iterator_t *it;
    leveldb_t *db;
    char buf[16] = {0}, *err = NULL, *v;
    size_t len = 0, vl = 0, kl = 0;
    bool found = false;
    const char *k;
    int n_mu = 0;

    append_n(j, 0, 2);
    assert_int_equal(stint_journal_append(j, rec_make(2), 1, &ao, NULL), STINT_OK);
    assert_int_equal(stint_journal_meta_set(j, "both", "new", 3), STINT_OK);
    stint_journal_close(j);

    /* the layout: the last key of the database is a caller's key, after every record */
    db = raw_open(f->path);
    ro = leveldb_readoptions_create();
    it = leveldb_create_iterator(db, ro);
    leveldb_iter_seek_to_last(it);
    assert_true(leveldb_iter_valid(it));
    k = leveldb_iter_key(it, &kl);
    assert_true(kl > 2 && memcmp(k, "u/", 2) == 0);
    leveldb_iter_destroy(it);

    /* made format 1: the keys back among the meta keys, one name in both spaces */
    raw_delete(db, "u/source.jsonl", 14);
    raw_put(db, "mu/source.jsonl", 15, "pos-A", 5);
    raw_put(db, "mu/other", 8, "B", 1);
    raw_put(db, "mu/both", 7, "old", 3);
    raw_put(db, "mversion", 8, v1, 4);
    leveldb_close(db);

    j = jopen(f, NULL);
    assert_int_equal(stint_journal_meta_get(j, "source.jsonl", buf, sizeof(buf), &len, &found),
                     STINT_OK);
    assert_true(found);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "pos-A", 5);
    assert_int_equal(stint_journal_meta_get(j, "other", buf, sizeof(buf), &len, &found), STINT_OK);
    assert_true(found);
    assert_memory_equal(buf, "B", 1);
    assert_int_equal(stint_journal_meta_get(j, "both", buf, sizeof(buf), &len, &found), STINT_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "new", 3);
    assert_int_equal(read_all(j)->n, 3);
    append_n(j, 3, 1);
    assert_int_equal(read_all(j)->seq[3], 4);
    stint_journal_close(j);

    db = raw_open(f->path);
    v = leveldb_get(db, ro, "mversion", 8, &vl, &err);
    assert_null(err);
    assert_int_equal(vl, 4);
    assert_memory_equal(v, "\0\0\0\x02", 4);
    leveldb_free(v);
    it = leveldb_create_iterator(db, ro);
    for (leveldb_iter_seek(it, "mu/", 3); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        k = leveldb_iter_key(it, &kl);
        n_mu += kl >= 3 && memcmp(k, "mu/", 3) == 0;
    }
    assert_int_equal(n_mu, 0);
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    leveldb_close(db);
}

static void test_repair_of_truncated_current(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal *j = jopen(f, NULL);
    char p[400];

    append_n(j, 0, 50);
    stint_journal_close(j);
    snprintf(p, sizeof(p), "%s/CURRENT", f->path);
    assert_int_equal(truncate(p, 3), 0);
    j = jopen(f, &info);
    assert_true(info.repaired);
    assert_false(info.moved_aside);
    assert_int_equal(info.lost, 0);
    assert_int_equal(read_all(j)->n, 50);
    stint_journal_close(j);
}

/* Damage found while running (a read meets a bad table block) is repaired by the next call:
 * the sender sees one error, never a stall. */
static void test_corruption_found_while_running(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_stats s;
    struct got *g = calloc(1, sizeof(*g));
    char table[600] = "";
    DIR *d;
    struct dirent *de;
    enum stint_err err;
    int fd;
    struct stat st;
    char msg[512];

    append_n(j, 0, 2000);
    stint_journal_close(j);
    j = jopen(f, NULL); /* the reopen turned the log into a table */
    d = opendir(f->path);
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".ldb") == 0) {
            snprintf(table, sizeof(table), "%s/%s", f->path, de->d_name);
        }
    }
    closedir(d);
    assert_true(table[0] != '\0');
    fd = open(table, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    for (off_t off = 100; off < st.st_size / 2; off += 997) {
        char b = 0x5a;
        assert_int_equal(pwrite(fd, &b, 1, off), 1);
    }
    close(fd);
    err = stint_journal_read(j, 0, 4096, SIZE_MAX, 0, collect, g, NULL, NULL);
    assert_int_equal(err, STINT_EIO);
    stint_journal_last_error(j, msg, sizeof(msg));
    assert_non_null(strstr(msg, "repaired"));
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 0, 4096, SIZE_MAX, 0, collect, g, NULL, NULL), STINT_OK);
    stint_journal_stats(j, &s);
    assert_int_equal(g->n, s.backlog);
    assert_true(s.lost > 0);
    assert_int_equal(g->n + s.lost + s.dead, 2000);
    append_n(j, 5000, 1); /* and it goes on */
    stint_journal_close(j);
    free(g);
}

static void test_move_aside_when_repair_fails(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_stats s;
    uint8_t id1[16], id2[16];
    char p[400];
    struct stat st;

    append_n(j, 0, 20);
    stint_journal_agent_id(j, id1);
    stint_journal_close(j);
    /* CURRENT replaced by a non-empty folder: neither open nor repair can get past it */
    snprintf(p, sizeof(p), "%s/CURRENT", f->path);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/CURRENT/x", f->path);
    assert_int_equal(mkdir(p, 0700), 0);
    j = jopen(f, &info);
    assert_true(info.moved_aside);
    assert_int_equal(info.lost, 20);
    assert_true(info.lost_known);
    assert_non_null(strstr(info.moved_to, ".corrupt-"));
    assert_int_equal(stat(info.moved_to, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    stint_journal_stats(j, &s);
    assert_int_equal(s.backlog, 0);
    assert_int_equal(s.lost, 20);
    stint_journal_agent_id(j, id2);
    assert_memory_not_equal(id1, id2, 16); /* a new agent: its seqs start again */
    append_n(j, 0, 2);
    stint_journal_close(j);
    j = jopen(f, &info);
    assert_false(info.moved_aside);
    assert_int_equal(read_all(j)->n, 2);
    stint_journal_close(j);
    rm_rf(info.moved_to);
}

static void test_invalid_options(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_opts o = f->opts;
    struct stint_journal *j = NULL;
    struct stint_error e;

    o.max_bytes = 1000;
    assert_int_equal(stint_journal_open(&o, &j, NULL, &e), STINT_EINVAL);
    o = f->opts;
    o.path = NULL;
    assert_int_equal(stint_journal_open(&o, &j, NULL, &e), STINT_EINVAL);
    o = f->opts;
    o.sync = (enum stint_sync)7;
    assert_int_equal(stint_journal_open(&o, &j, NULL, &e), STINT_EINVAL);
    o = f->opts;
    o.path = "/proc/self/nope/j";
    assert_int_equal(stint_journal_open(&o, &j, NULL, &e), STINT_EIO);
    assert_null(j);
}

/* The tracker appends while the sender reads and acks: every record leaves once, in order. */
struct race {
    struct stint_journal *j;
    int n;
    uint64_t next_expected;
    int errors;
};

static void *tracker(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < r->n; i++) {
        if (stint_journal_append(r->j, rec_make(i), 1, NULL, NULL) != STINT_OK) {
            r->errors++;
        }
    }
    return NULL;
}

static enum stint_err check_order(void *ctx, const struct stint_journal_entry *e)
{
    struct race *r = ctx;
    if (e->seq != r->next_expected) {
        r->errors++;
    }
    r->next_expected = e->seq + 1;
    return STINT_OK;
}

static void test_threads_append_while_reading(void **state)
{
    struct fixture *f = *state;
    struct race r = {.n = 3000, .next_expected = 1};
    pthread_t t;
    struct stint_journal_stats s;

    r.j = jopen(f, NULL);
    assert_int_equal(pthread_create(&t, NULL, tracker, &r), 0);
    while (r.next_expected <= (uint64_t)r.n) {
        uint64_t next = 0;
        size_t n = 0;
        assert_int_equal(stint_journal_read(r.j, 0, 64, SIZE_MAX, 0, check_order, &r, &next, &n),
                         STINT_OK);
        if (n) {
            assert_int_equal(stint_journal_ack(r.j, next - 1), STINT_OK);
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(r.errors, 0);
    stint_journal_stats(r.j, &s);
    assert_int_equal(s.backlog, 0);
    assert_int_equal(s.acked_seq, (uint64_t)r.n);
    stint_journal_close(r.j);
}

static void test_compaction_gives_space_back(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f, NULL);
    struct stint_journal_stats s;
    struct stint_record *many = calloc(100, sizeof(*many));

    for (int i = 0; i < 100; i++) {
        stint_record_copy(&many[i], rec_make(i));
    }
    for (int b = 0; b < 200; b++) {
        assert_int_equal(stint_journal_append(j, many, 100, NULL, NULL), STINT_OK);
    }
    assert_int_equal(stint_journal_ack(j, 20000), STINT_OK);
    /* the journal's thread compacts the acked range by itself */
    for (int waited = 0; waited < 5000; waited += 10) {
        stint_journal_stats(j, &s);
        if (s.compactions) {
            break;
        }
        usleep(10 * 1000);
    }
    assert_true(s.compactions >= 1);
    assert_int_equal(stint_journal_compact(j), STINT_OK);
    stint_journal_close(j);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_read_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_several_with_meta_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_bounds_and_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_callback_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_restored_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_end_time_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_drop_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_drop_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_after_read_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_max_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undecodable_value_dead_lettered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_records_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_records_counted_without_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spec_examples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_and_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_same_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_open_other_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_format_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format1_user_keys_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair_of_truncated_current, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corruption_found_while_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_aside_when_repair_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_append_while_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_gives_space_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
