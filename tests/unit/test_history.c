/* test_history.c — the history (agent/history.h) through the journal that owns it, on real
 * LevelDB in temporary folders: acked records move there atomically, are never read as records
 * to send, survive a reopen, keep to their age and size bounds, and go with a purge, bytes and
 * all. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <leveldb/c.h>

#include "journal.h"

#define T0 1700000000000LL
#define DAY_MS (24LL * 3600 * 1000)

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
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-history-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
    f->opts.path = f->path;
    f->opts.sync = STINT_SYNC_NONE;
    f->opts.clock_ms = fake_clock;
    f->opts.clock_ctx = f;
    f->opts.history_ms = 14 * DAY_MS;
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

/* Record i: a title no other record has, so the raw files can be searched for it. */
static struct stint_record *rec_make(int i)
{
    static struct stint_record r;
    char title[64];
    int n = snprintf(title, sizeof(title), "history-secret-%06d", i);
    stint_record_clear(&r);
    r.kind = STINT_KIND_ACTIVE;
    r.start_ms = T0 + (int64_t)i * 1000;
    r.end_ms = r.start_ms + 500;
    stint_record_set(&r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(&r, STINT_FIELD_TITLE, title, (size_t)n);
    return &r;
}

static struct stint_journal *jopen(struct fixture *f)
{
    struct stint_journal *j = NULL;
    struct stint_error e;
    enum stint_err err = stint_journal_open(&f->opts, &j, NULL, &e);
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

struct got {
    size_t n;
    uint64_t seq[8192];
    char first_title[STINT_TITLE_MAX + 1];
};

static enum stint_err collect(void *ctx, const struct stint_journal_entry *e)
{
    struct got *g = ctx;
    if (g->n == 0 && e->record) {
        snprintf(g->first_title, sizeof(g->first_title), "%s", e->record->title);
    }
    if (g->n < sizeof(g->seq) / sizeof(g->seq[0])) {
        g->seq[g->n++] = e->seq;
    }
    return STINT_OK;
}

static void history_all(struct stint_journal *j, struct got *g)
{
    uint64_t from = 0;
    bool more = true;
    memset(g, 0, sizeof(*g));
    while (more) {
        uint64_t next = 0;
        assert_int_equal(stint_journal_history_read(j, from, 100, collect, g, &next, &more),
                         STINT_OK);
        from = next;
    }
}

static void pending_all(struct stint_journal *j, struct got *g)
{
    memset(g, 0, sizeof(*g));
    assert_int_equal(stint_journal_read(j, 0, 100000, SIZE_MAX, 0, collect, g, NULL, NULL),
                     STINT_OK);
}

/* Acked records are in the history, in seq order, and nowhere a read for sending looks. */
static void test_ack_moves_to_history(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct stint_journal_stats st;
    struct got *g = malloc(sizeof(*g));

    append_n(j, 1, 10);
    assert_int_equal(stint_journal_ack(j, 6), STINT_OK);
    history_all(j, g);
    assert_int_equal(g->n, 6);
    for (size_t i = 0; i < g->n; i++) {
        assert_int_equal(g->seq[i], i + 1);
    }
    assert_string_equal(g->first_title, "history-secret-000001");
    pending_all(j, g);
    assert_int_equal(g->n, 4);
    assert_int_equal(g->seq[0], 7);
    stint_journal_stats(j, &st);
    assert_int_equal(st.history, 6);
    assert_int_equal(st.backlog, 4);
    assert_true(st.history_bytes > 6 * 9);
    free(g);
    stint_journal_close(j);
}

/* The history survives a reopen, and the reopened journal counts none of it as backlog. */
static void test_survives_reopen(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct stint_journal_stats st;
    struct got *g = malloc(sizeof(*g));

    append_n(j, 1, 20);
    assert_int_equal(stint_journal_ack(j, 20), STINT_OK);
    stint_journal_close(j);
    j = jopen(f);
    stint_journal_stats(j, &st);
    assert_int_equal(st.backlog, 0);
    assert_int_equal(st.history, 20);
    history_all(j, g);
    assert_int_equal(g->n, 20);
    pending_all(j, g);
    assert_int_equal(g->n, 0);
    free(g);
    stint_journal_close(j);
}

/* history 0 keeps none; and turning it off drops what was kept before, at open. */
static void test_zero_keeps_none(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct got *g = malloc(sizeof(*g));

    f->opts.history_ms = 0;
    j = jopen(f);
    append_n(j, 1, 5);
    assert_int_equal(stint_journal_ack(j, 5), STINT_OK);
    history_all(j, g);
    assert_int_equal(g->n, 0);
    stint_journal_close(j);

    f->opts.history_ms = 14 * DAY_MS;
    j = jopen(f);
    append_n(j, 6, 5);
    assert_int_equal(stint_journal_ack(j, 10), STINT_OK);
    history_all(j, g);
    assert_int_equal(g->n, 5);
    stint_journal_close(j);

    f->opts.history_ms = 0;
    j = jopen(f);
    history_all(j, g);
    assert_int_equal(g->n, 0);
    free(g);
    stint_journal_close(j);
}

/* Records that ended more than history ago go; the newer stay. */
static void test_age_bound(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct got *g = malloc(sizeof(*g));

    append_n(j, 1, 5);
    assert_int_equal(stint_journal_ack(j, 5), STINT_OK);
    f->now += 10 * DAY_MS;
    append_n(j, (int)(10 * DAY_MS / 1000), 3); /* ten days later */
    assert_int_equal(stint_journal_ack(j, 8), STINT_OK);
    history_all(j, g);
    assert_int_equal(g->n, 8);
    f->now += 5 * DAY_MS; /* the first five ended 15 days ago, the others 5 */
    history_all(j, g);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->seq[0], 6);
    free(g);
    stint_journal_close(j);
}

/* history_max bounds the bytes kept; the oldest go first, the newest stay. */
static void test_size_bound(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j;
    struct stint_journal_stats st;
    struct got *g = malloc(sizeof(*g));

    f->opts.history_max_bytes = 64 * 1024;
    j = jopen(f);
    for (int i = 0; i < 40; i++) {
        append_n(j, 1 + i * 100, 100);
        assert_int_equal(stint_journal_ack(j, (uint64_t)(i + 1) * 100), STINT_OK);
        stint_journal_stats(j, &st);
        assert_true(st.history_bytes <= 64 * 1024);
    }
    history_all(j, g);
    assert_true(g->n > 100);
    assert_true(g->n < 4000);
    assert_int_equal(g->seq[g->n - 1], 4000);
    assert_int_equal(g->seq[0], 4000 - g->n + 1); /* a run ending at the newest */
    stint_journal_close(j);
    j = jopen(f);
    stint_journal_stats(j, &st);
    assert_int_equal(st.history, g->n);
    assert_true(st.history_bytes <= 64 * 1024);
    free(g);
    stint_journal_close(j);
}

/* Whether any regular file under dir holds needle. */
static bool any_file_holds(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool found = false;
    size_t nl = strlen(needle);

    assert_non_null(d);
    while (!found && (de = readdir(d)) != NULL) {
        char p[600], *buf;
        struct stat st;
        FILE *fp;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
            continue;
        }
        buf = malloc((size_t)st.st_size);
        fp = fopen(p, "rb");
        assert_non_null(buf);
        assert_non_null(fp);
        if (fread(buf, 1, (size_t)st.st_size, fp) == (size_t)st.st_size) {
            found = memmem(buf, (size_t)st.st_size, needle, nl) != NULL;
        }
        fclose(fp);
        free(buf);
    }
    closedir(d);
    return found;
}

/* Purge leaves no history record readable and none of its bytes in the folder. */
static void test_purge_erases_history(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct stint_journal_stats st;
    struct got *g = malloc(sizeof(*g));

    append_n(j, 1, 50);
    assert_int_equal(stint_journal_ack(j, 50), STINT_OK);
    assert_int_equal(stint_journal_sync(j), STINT_OK);
    assert_true(any_file_holds(f->path, "history-secret-000042")); /* the search can see it */
    assert_int_equal(stint_journal_purge(j), STINT_OK);
    history_all(j, g);
    assert_int_equal(g->n, 0);
    stint_journal_stats(j, &st);
    assert_int_equal(st.history, 0);
    assert_false(any_file_holds(f->path, "history-secret-0000"));
    stint_journal_close(j);
    assert_false(any_file_holds(f->path, "history-secret-0000"));
    j = jopen(f);
    history_all(j, g);
    assert_int_equal(g->n, 0);
    free(g);
    stint_journal_close(j);
}

/* kill -9 while acking: every seq given out is afterwards in exactly one of the two spaces. */
static void test_kill_keeps_each_record_once(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct got *p = malloc(sizeof(*p)), *h = malloc(sizeof(*h));
    struct stint_journal_stats st;
    int fds[2];
    pid_t pid;
    char c;
    unsigned char *seen;

    stint_journal_close(j);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct stint_error e;
        bool told = false;
        close(fds[0]);
        if (stint_journal_open(&f->opts, &j, NULL, &e) != STINT_OK) {
            _exit(2);
        }
        for (int i = 1;; i++) {
            uint64_t seq = 0;
            if (stint_journal_append(j, rec_make(i), 1, NULL, &seq) != STINT_OK) {
                _exit(3);
            }
            if (i % 3 == 0 && stint_journal_ack(j, seq - 1) != STINT_OK) {
                _exit(4);
            }
            if (i >= 300 && !told) {
                told = write(fds[1], "x", 1) == 1;
            }
            if (i == 6000) {
                for (;;) {
                    pause(); /* enough: seqs stay below the test's table */
                }
            }
        }
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1); /* it has acked a hundred times at least */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);

    j = jopen(f);
    stint_journal_stats(j, &st);
    pending_all(j, p);
    history_all(j, h);
    assert_true(h->n >= 200);
    assert_true(st.next_seq <= 8192);
    seen = calloc(st.next_seq, 1);
    for (size_t i = 0; i < p->n; i++) {
        seen[p->seq[i]]++;
    }
    for (size_t i = 0; i < h->n; i++) {
        seen[h->seq[i]]++;
    }
    for (uint64_t s = 1; s < st.next_seq; s++) {
        if (seen[s] != 1) {
            fail_msg("seq %" PRIu64 " is in %d spaces (pending %zu, history %zu, next %" PRIu64 ")",
                     s, seen[s], p->n, h->n, st.next_seq);
        }
    }
    free(seen);
    free(p);
    free(h);
    stint_journal_close(j);
}

/* Makes the closed journal at f->path a format 1 journal, as after a crash: records 1..last
 * under 'h' (format 1's history), the state under "mstate" (state, else the current one), the
 * version 1, no clean-close mark. */
static void make_format1(struct fixture *f, uint64_t last, const char *state, size_t state_len)
{
    leveldb_options_t *o = leveldb_options_create();
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    leveldb_writebatch_t *wb = leveldb_writebatch_create();
    const uint8_t v1[4] = {0, 0, 0, 1};
    char *err = NULL, *v, mark[400];
    size_t vl = 0;
    leveldb_t *db = leveldb_open(o, f->path, &err);

    assert_null(err);
    for (uint64_t seq = 1; seq <= last; seq++) {
        char k[9];
        k[0] = 'r';
        for (int i = 0; i < 8; i++) {
            k[1 + i] = (char)(uint8_t)(seq >> (56 - 8 * i));
        }
        v = leveldb_get(db, ro, k, sizeof(k), &vl, &err);
        assert_null(err);
        assert_non_null(v);
        leveldb_writebatch_delete(wb, k, sizeof(k));
        k[0] = 'h';
        leveldb_writebatch_put(wb, k, sizeof(k), v, vl);
        leveldb_free(v);
    }
    v = leveldb_get(db, ro, "s", 1, &vl, &err);
    assert_null(err);
    assert_non_null(v);
    leveldb_writebatch_put(wb, "mstate", 6, state ? state : v, state ? state_len : vl);
    leveldb_writebatch_delete(wb, "s", 1);
    leveldb_free(v);
    leveldb_writebatch_put(wb, "mversion", 8, (const char *)v1, 4);
    leveldb_write(db, wo, wb, &err);
    assert_null(err);
    leveldb_close(db);
    snprintf(mark, sizeof(mark), "%s/stint.closed", f->path);
    assert_int_equal(unlink(mark), 0);
    leveldb_writebatch_destroy(wb);
    leveldb_writeoptions_destroy(wo);
    leveldb_readoptions_destroy(ro);
    leveldb_options_destroy(o);
}

/* Journal format 1 kept the history in an 'h' space of its own and the state under "mstate":
 * such a journal opens with its history back under the record keys (format 2), the state
 * read from where format 1 put it, nothing sent twice, and neither key space left. */
static void test_format1_history_moved(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct stint_journal_stats st;
    struct got *g = malloc(sizeof(*g));
    leveldb_options_t *o = leveldb_options_create();
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t *it;
    char *err = NULL;
    leveldb_t *db;
    int left = 0;

    append_n(j, 1, 8);
    assert_int_equal(stint_journal_ack(j, 5), STINT_OK);
    stint_journal_close(j);
    make_format1(f, 5, NULL, 0);

    j = jopen(f);
    stint_journal_stats(j, &st);
    assert_int_equal(st.backlog, 3);
    assert_int_equal(st.history, 5);
    assert_int_equal(st.lost, 0);
    history_all(j, g);
    assert_int_equal(g->n, 5);
    assert_int_equal(g->seq[0], 1);
    assert_int_equal(g->seq[4], 5);
    pending_all(j, g);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->seq[0], 6);
    stint_journal_close(j);

    db = leveldb_open(o, f->path, &err);
    assert_null(err);
    it = leveldb_create_iterator(db, ro);
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl;
        const char *k = leveldb_iter_key(it, &kl);
        left += k[0] == 'h' || (kl == 6 && memcmp(k, "mstate", 6) == 0);
    }
    assert_int_equal(left, 0);
    leveldb_iter_destroy(it);
    leveldb_close(db);
    leveldb_readoptions_destroy(ro);
    leveldb_options_destroy(o);
    free(g);
}

/* A dead-letter range that starts at or below the acked seq takes only records still to send:
 * the history is never moved to the dead letters (nor counted out of the backlog twice). */
static void test_dead_letter_skips_history(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct stint_journal_stats st;
    struct got *g = malloc(sizeof(*g));

    append_n(j, 1, 10);
    pending_all(j, g);
    assert_int_equal(stint_journal_ack(j, 5), STINT_OK);
    assert_int_equal(stint_journal_dead_letter(j, 1, 6, "refused"), STINT_OK);
    stint_journal_stats(j, &st);
    assert_int_equal(st.backlog, 4);
    assert_int_equal(st.dead, 1);
    assert_int_equal(st.history, 5);
    history_all(j, g);
    assert_int_equal(g->n, 5);
    pending_all(j, g);
    assert_int_equal(g->n, 4);
    assert_int_equal(g->seq[0], 7);
    free(g);
    stint_journal_close(j);
}

/* A format 1 journal whose state is older than its history (acked 3 in "mstate", records 1..5
 * under 'h', no clean-close mark): every 'h' record was acked, so none is sent again and none
 * is counted lost. */
static void test_format1_state_older_than_history(void **state)
{
    struct fixture *f = *state;
    struct stint_journal *j = jopen(f);
    struct stint_journal_stats st;
    struct stint_journal_open_info info;
    struct stint_error e;
    struct got *g = malloc(sizeof(*g));
    leveldb_options_t *o = leveldb_options_create();
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    char *err = NULL, *old_state;
    size_t old_len = 0;
    leveldb_t *db;

    append_n(j, 1, 8);
    assert_int_equal(stint_journal_ack(j, 3), STINT_OK);
    stint_journal_close(j);
    db = leveldb_open(o, f->path, &err);
    assert_null(err);
    old_state = leveldb_get(db, ro, "s", 1, &old_len, &err); /* the state at acked 3 */
    assert_non_null(old_state);
    leveldb_close(db);
    j = jopen(f);
    assert_int_equal(stint_journal_ack(j, 5), STINT_OK);
    stint_journal_close(j);
    make_format1(f, 5, old_state, old_len);
    leveldb_free(old_state);

    j = NULL;
    assert_int_equal(stint_journal_open(&f->opts, &j, &info, &e), STINT_OK);
    assert_int_equal(info.lost, 0);
    stint_journal_stats(j, &st);
    assert_int_equal(st.backlog, 3);
    assert_int_equal(st.lost, 0);
    pending_all(j, g);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->seq[0], 6);
    history_all(j, g);
    assert_int_equal(g->n, 5);
    assert_int_equal(stint_journal_ack(j, 8), STINT_OK);
    stint_journal_stats(j, &st);
    assert_int_equal(st.backlog, 0);
    stint_journal_close(j);
    leveldb_readoptions_destroy(ro);
    leveldb_options_destroy(o);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ack_moves_to_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_keeps_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_erases_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_keeps_each_record_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format1_history_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter_skips_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format1_state_older_than_history, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
