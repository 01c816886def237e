/* test_source_jsonl.c — the JSONL source with the tracker on a real journal: the event format,
 * bad lines (reported with their line, counted, skipped), determinism, following a file like
 * tail -F (appends, a half-written line, rotation, truncation), a FIFO whose writers come and
 * go, stdin's end, and kill -9 at random moments: a restart neither repeats nor skips an event. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <fcntl.h>
#include <ftw.h>
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
#include "source.h"
#include "tracker.h"

#define T0 1314172181000LL

struct fixture {
    char dir[256], jpath[300], file[300];
    struct stint_journal_opts jo;
    struct stint_journal *j;
    struct stint_source *src;
    struct stint_tracker *t;
    struct stint_record *recs;
    size_t n, cap;
    char bad_msgs[8][256];
    uint64_t bad_lines[8];
    size_t n_bad;
    bool batched; /* turn() wraps each dispatch in a tracker batch, as stintd does */
};

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
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-jsonl-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->jpath, sizeof(f->jpath), "%s/j", f->dir);
    snprintf(f->file, sizeof(f->file), "%s/events.jsonl", f->dir);
    f->jo.path = f->jpath;
    f->jo.sync = STINT_SYNC_NONE;
    f->jo.max_age_ms = -1; /* the events are from 2011 */
    *state = f;
    return 0;
}

static void stop(struct fixture *f)
{
    stint_tracker_destroy(f->t);
    stint_source_destroy(f->src);
    stint_journal_close(f->j);
    f->t = NULL;
    f->src = NULL;
    f->j = NULL;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    stop(f);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f->recs);
    free(f);
    return 0;
}

static void write_text(const char *path, const char *text, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void on_bad(void *ctx, uint64_t line, const char *msg)
{
    struct fixture *f = ctx;
    if (f->n_bad < 8) {
        f->bad_lines[f->n_bad] = line;
        snprintf(f->bad_msgs[f->n_bad], sizeof(f->bad_msgs[0]), "%s", msg);
    }
    f->n_bad++;
}

/* journal + source on `spec` + tracker, as stintd wires them */
static void start(struct fixture *f, const char *path)
{
    struct stint_tracker_opts o = {0};
    struct stint_error e;
    if (!f->j) {
        assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
    }
    if (stint_source_jsonl_open(path, &f->src, &e) != STINT_OK) {
        fail_msg("%s", e.msg);
    }
    o.journal = f->j;
    o.source = f->src;
    o.private_records = true;
    o.idle_after_ms = 180000;
    o.on_bad_input = on_bad;
    o.on_bad_input_ctx = f;
    if (stint_tracker_create(&o, &f->t, &e) != STINT_OK) {
        fail_msg("%s", e.msg);
    }
}

/* one turn of stintd's loop: poll the source's fds (or not, with wait_ms 0), dispatch */
static void turn(struct fixture *f, int wait_ms)
{
    struct pollfd p[4];
    int n = stint_source_fds(f->src, p, 4);
    int64_t to = stint_source_timeout(f->src);
    if (to >= 0 && to < wait_ms) {
        wait_ms = (int)to;
    }
    if (n > 0 || wait_ms > 0) {
        poll(p, (nfds_t)n, wait_ms);
    }
    if (f->batched) {
        stint_tracker_batch_begin(f->t);
    }
    assert_int_equal(stint_source_dispatch(f->src, p, n), STINT_OK);
    if (f->batched) {
        assert_int_equal(stint_tracker_batch_end(f->t), STINT_OK);
    }
}

/* dispatches until nothing more comes */
static void settle(struct fixture *f)
{
    for (int i = 0; i < 5; i++) {
        turn(f, 50);
    }
}

static enum stint_err collect(void *ctx, const struct stint_journal_entry *en)
{
    struct fixture *f = ctx;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct stint_record *p = realloc(f->recs, cap * sizeof(*p));
        if (!p) {
            return STINT_ENOMEM;
        }
        f->recs = p;
        f->cap = cap;
    }
    stint_record_copy(&f->recs[f->n], en->record);
    f->n++;
    return STINT_OK;
}

static void read_all(struct fixture *f)
{
    f->n = 0;
    assert_int_equal(stint_journal_read(f->j, 0, 1000000, SIZE_MAX, 0, collect, f, NULL, NULL),
                     STINT_OK);
}

static void expect(struct fixture *f, size_t i, int32_t kind, const char *title, int64_t start,
                   int64_t end)
{
    if (i >= f->n) {
        fail_msg("record %zu missing (%zu records)", i, f->n);
    }
    struct stint_record *r = &f->recs[i];
    if (r->kind != kind || strcmp(r->title, title) != 0 || r->start_ms != start ||
        r->end_ms != end) {
        fail_msg("record %zu: kind %d \"%s\" [+%lld, +%lld], want kind %d \"%s\" [+%lld, +%lld]", i,
                 r->kind, r->title, (long long)(r->start_ms - T0), (long long)(r->end_ms - T0),
                 kind, title, (long long)(start - T0), (long long)(end - T0));
    }
}

static const char *const day =
    "{\"time\": 1314172181000, \"app\": \"firefox\", \"path\": \"/usr/lib/firefox/firefox\", "
    "\"title\": \"jQuery UI\", \"url\": \"https://jqueryui.com/demos/?x=1\"}\n"
    "\n"
    "{\"time\": 1314172182000, \"app\": \"firefox\", \"title\": \"jQuery UI\", "
    "\"path\": \"/usr/lib/firefox/firefox\", \"url\": \"https://jqueryui.com/other\", "
    "\"tab\": 3}\r\n"
    "{\"time\": 1314172185000, \"app\": \"xterm\", \"title\": \"Grüße — ☃\"}\n"
    "not json at all\n"
    "{\"app\": \"no time\"}\n"
    "{\"time\": \"1314172186000\", \"app\": \"time as a string\"}\n"
    "[1, 2]\n"
    "{\"time\": 1314172187000, \"app\": 7}\n"
    "{\"time\": 1314172188000, \"idle\": \"yes\"}\n"
    "{\"time\": 1314172189000, \"app\": \"a\", \"app\": \"b\"}\n"
    "{\"time\": 1314172190000, \"idle\": true}\n"
    "{\"time\": 1314172200000, \"app\": \"xterm\", \"title\": \"back\", \"url\": null}\n"
    "{\"time\": 1314172210000, \"private\": true}\n"
    "{\"time\": 1314172215000, \"app\": \"bank\", \"title\": \"secret\"}\n"
    "{\"time\": 1314172220000, \"private\": false}\n"
    "{\"time\": 1314172221000, \"app\": \"vim\", \"title\": \"notes\"}\n"
    "{\"time\": 1314172230000, \"app\": \"vim\", \"title\": \"end\"}\n";

static void check_day(struct fixture *f)
{
    read_all(f);
    assert_int_equal(f->n, 6);
    /* same app, title and host: one record (the URL is cut to the host) */
    expect(f, 0, STINT_KIND_ACTIVE, "jQuery UI", T0, T0 + 4000);
    assert_string_equal(f->recs[0].url, "https://jqueryui.com");
    assert_string_equal(f->recs[0].path, "/usr/lib/firefox/firefox");
    expect(f, 1, STINT_KIND_ACTIVE, "Grüße — ☃", T0 + 4000, T0 + 9000);
    expect(f, 2, STINT_KIND_IDLE, "", T0 + 9000, T0 + 19000);
    expect(f, 3, STINT_KIND_ACTIVE, "back", T0 + 19000, T0 + 29000);
    expect(f, 4, STINT_KIND_PRIVATE, "", T0 + 29000, T0 + 39000);
    expect(f, 5, STINT_KIND_ACTIVE, "notes", T0 + 40000, T0 + 49000);
}

static void test_events_and_bad_lines(void **state)
{
    struct fixture *f = *state;
    struct stint_source_stats st;
    write_text(f->file, day, O_TRUNC);
    start(f, f->file);
    settle(f);
    check_day(f);
    stint_source_stats(f->src, &st);
    assert_int_equal(st.bad, 7);
    assert_int_equal(st.last_bad_line, 11);
    static const uint64_t lines[] = {5, 6, 7, 8};
    static const char *const what[] = {"not JSON", "no \"time\"", "\"time\" is not a whole number",
                                       "not a JSON object"};
    for (size_t i = 0; i < 4; i++) {
        char want[400];
        assert_int_equal(f->bad_lines[i], lines[i]);
        snprintf(want, sizeof(want), "%s:%llu: %s", f->file, (unsigned long long)lines[i], what[i]);
        if (strncmp(f->bad_msgs[i], want, strlen(want)) != 0) {
            fail_msg("bad line %zu: \"%s\", want \"%s...\"", i, f->bad_msgs[i], want);
        }
    }
    assert_non_null(strstr(f->bad_msgs[4], ":9: \"app\" is not a string"));
    assert_non_null(strstr(f->bad_msgs[5], ":10: \"idle\" is not true or false"));
    assert_non_null(strstr(f->bad_msgs[6], ":11: not JSON")); /* duplicate member */
    struct stint_tracker_status ts;
    stint_tracker_status(f->t, &ts);
    assert_int_equal(ts.bad_input, 7);
    for (size_t i = 0; i < f->n; i++) {
        assert_null(strstr(f->recs[i].app, "bank"));
    }
}

/* The same file always gives the same records, also through stdin. */
static void test_deterministic(void **state)
{
    struct fixture *f = *state;
    struct stint_record *first = NULL;
    size_t n_first;
    write_text(f->file, day, O_TRUNC);
    start(f, f->file);
    settle(f);
    read_all(f);
    n_first = f->n;
    first = malloc(n_first * sizeof(*first));
    assert_non_null(first);
    memcpy(first, f->recs, n_first * sizeof(*first));
    stop(f);

    /* again into a new journal, through a pipe as stdin would be */
    nftw(f->jpath, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(write(pfd[1], day, strlen(day)), (ssize_t)strlen(day));
    close(pfd[1]);
    struct stint_tracker_opts o = {0};
    struct stint_source_stats st;
    assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
    assert_int_equal(stint_source_jsonl_open_fd(pfd[0], &f->src, NULL), STINT_OK);
    o.journal = f->j;
    o.source = f->src;
    o.private_records = true;
    assert_int_equal(stint_tracker_create(&o, &f->t, NULL), STINT_OK);
    for (int i = 0; i < 20; i++) {
        stint_source_stats(f->src, &st);
        if (st.ended) {
            break;
        }
        turn(f, 100);
    }
    assert_true(st.ended);
    assert_int_equal(stint_source_fds(f->src, (struct pollfd[1]){{0}}, 1), 0);
    read_all(f);
    assert_int_equal(f->n, n_first);
    for (size_t i = 0; i < n_first; i++) {
        first[i].seq = f->recs[i].seq;
        assert_true(stint_record_equal(&first[i], &f->recs[i]));
    }
    /* stdin's end closes the open record, at most idle_after after its last event */
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, n_first + 1);
    expect(f, n_first, STINT_KIND_ACTIVE, "end", T0 + 49000, T0 + 49000 + 180000);
    close(pfd[0]);
    free(first);
}

/* tail -F: appends (and a line written in two halves), rotation, truncation. */
static void test_follow(void **state)
{
    struct fixture *f = *state;
    char old[320];
    write_text(f->file, "{\"time\": 1314172181000, \"app\": \"a\"}\n", O_TRUNC);
    start(f, f->file);
    settle(f);
    write_text(f->file, "{\"time\": 1314172182000, \"app\": \"b\"}\n{\"time\": 13141", O_APPEND);
    turn(f, 1000); /* woken by inotify */
    read_all(f);
    assert_int_equal(f->n, 1);
    expect(f, 0, STINT_KIND_ACTIVE, "", T0, T0 + 1000);
    assert_string_equal(f->recs[0].app, "a");
    write_text(f->file, "72183000, \"app\": \"c\"}\n", O_APPEND);
    turn(f, 1000);
    read_all(f);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->recs[1].app, "b");

    /* rotation: a last line written to the old file, then a new file at the path */
    snprintf(old, sizeof(old), "%s.1", f->file);
    write_text(f->file, "{\"time\": 1314172184000, \"app\": \"d\"}\n", O_APPEND);
    assert_int_equal(rename(f->file, old), 0);
    write_text(f->file, "{\"time\": 1314172185000, \"app\": \"e\"}\n", O_TRUNC);
    settle(f);
    read_all(f);
    assert_int_equal(f->n, 4);
    assert_string_equal(f->recs[2].app, "c");
    assert_string_equal(f->recs[3].app, "d");

    /* truncation (as logrotate's copytruncate does): read again from the start */
    assert_int_equal(truncate(f->file, 0), 0);
    turn(f, 1000);
    write_text(f->file, "{\"time\": 1314172186000, \"app\": \"f\"}\n", O_APPEND);
    settle(f);
    read_all(f);
    assert_int_equal(f->n, 5);
    assert_string_equal(f->recs[4].app, "e");
    write_text(f->file, "{\"time\": 1314172187000, \"app\": \"g\"}\n", O_APPEND);
    settle(f);
    read_all(f);
    assert_int_equal(f->n, 6);
    assert_string_equal(f->recs[5].app, "f");
    assert_int_equal(f->recs[5].end_ms, T0 + 6000);
}

/* A file that does not exist yet is waited for; a line over the limit is refused. */
static void test_missing_file_and_long_line(void **state)
{
    struct fixture *f = *state;
    struct stint_source_stats st;
    start(f, f->file);
    settle(f);
    static const char head[] = "{\"time\": 1314172181000, \"app\": \"", tail[] = "\"}\n";
    char *big = malloc(sizeof(head) - 1 + 70000 + sizeof(tail));
    assert_non_null(big);
    memcpy(big, head, sizeof(head) - 1);
    memset(big + sizeof(head) - 1, 'x', 70000);
    memcpy(big + sizeof(head) - 1 + 70000, tail, sizeof(tail)); /* with its NUL */
    write_text(f->file, big, O_TRUNC);
    free(big);
    write_text(
        f->file,
        "{\"time\": 1314172182000, \"app\": \"ok\"}\n{\"time\": 1314172183000, \"app\": \"z\"}\n",
        O_APPEND);
    settle(f);
    stint_source_stats(f->src, &st);
    assert_int_equal(st.bad, 1);
    assert_int_equal(st.last_bad_line, 1);
    assert_non_null(strstr(st.last_error, ":1: longer than 65536 bytes"));
    read_all(f);
    assert_int_equal(f->n, 1);
    assert_string_equal(f->recs[0].app, "ok");
}

/* A FIFO: writers come and go without ending the source. */
static void test_fifo(void **state)
{
    struct fixture *f = *state;
    struct stint_source_stats st;
    assert_int_equal(mkfifo(f->file, 0600), 0);
    start(f, f->file);
    assert_int_equal(stint_source_flags(f->src) & STINT_SOURCE_RESUMABLE, 0);
    for (int w = 0; w < 3; w++) {
        char line[128];
        int fd = open(f->file, O_WRONLY | O_NONBLOCK);
        assert_true(fd >= 0);
        int n = snprintf(line, sizeof(line), "{\"time\": %lld, \"app\": \"w%d\"}\n",
                         (long long)(T0 + w * 1000), w);
        assert_int_equal(write(fd, line, (size_t)n), n);
        close(fd);
        turn(f, 1000);
        turn(f, 10);
    }
    stint_source_stats(f->src, &st);
    assert_false(st.ended);
    assert_int_equal(st.items, 3);
    read_all(f);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->recs[1].app, "w1");
}

/* ---- kill -9 ---- */

#define N_EVENTS 4000
#define CHUNK 100

static void write_events(const char *path, int from, int to)
{
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    for (int i = from; i < to; i++) {
        if (i % 97 == 13) {
            fprintf(fp, "{\"time\": %lld, \"idle\": true}\n", (long long)(T0 + i * 1000LL));
        } else if (i % 211 == 50) {
            fprintf(fp, "{\"time\": %lld, \"private\": %s}\n", (long long)(T0 + i * 1000LL),
                    (i / 211) % 2 ? "false" : "true");
        } else if (i % 301 == 7) {
            fprintf(fp, "broken line %d\n", i);
        } else {
            fprintf(fp, "{\"time\": %lld, \"app\": \"app%d\", \"title\": \"t%d\"}\n",
                    (long long)(T0 + i * 1000LL), i % 7, i % 3);
        }
    }
    fclose(fp);
}

/* The child: stintd's loop until the whole file is read, then exit without shutdown. */
static void child_run(struct fixture *f, int lines)
{
    struct stint_source_stats st;
    start(f, f->file);
    do {
        turn(f, 100);
        stint_source_stats(f->src, &st);
    } while (st.lines < (uint64_t)lines);
    stop(f);
    _exit(0);
}

static void test_kill9(void **state)
{
    struct fixture *f = *state;
    struct stint_record *want = NULL;
    size_t n_want = 0;
    int kills = 0, runs = 0;
    char ref[320];

    /* the reference: one run without a crash, in its own journal */
    write_events(f->file, 0, N_EVENTS);
    snprintf(ref, sizeof(ref), "%s/ref", f->dir);
    f->jo.path = ref;
    start(f, f->file);
    settle(f);
    read_all(f);
    n_want = f->n;
    printf("reference: %zu records\n", n_want);
    assert_true(n_want > 1500);
    want = malloc(n_want * sizeof(*want));
    assert_non_null(want);
    memcpy(want, f->recs, n_want * sizeof(*want));
    stop(f);
    f->jo.path = f->jpath;

    /* Now the same events again, into a file that grows while the agent is killed at
     * random moments: the events are appended chunk by chunk, at most a few chunks per
     * run, so the first runs cannot finish whatever the machine's speed (a run ends only
     * when all N_EVENTS lines are read) and every one of them ends in a kill -9, some
     * mid-chunk (the reader sees a half-written line), some while the agent is idle. */
    assert_int_equal(truncate(f->file, 0), 0);
    srand((unsigned)time(NULL));
    int written = 0;
    for (;;) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            child_run(f, N_EVENTS);
        }
        runs++;
        /* a random moment; once every event is written the window widens, so that a
         * run finishes in the end */
        usleep((useconds_t)(rand() % 20000));
        if (written < N_EVENTS) {
            int to = written + CHUNK * (1 + rand() % 3);
            to = to > N_EVENTS ? N_EVENTS : to;
            write_events(f->file, written, to);
            written = to;
        }
        usleep((useconds_t)(rand() % (10000 + (written == N_EVENTS ? runs * 10000 : 0))));
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            kills++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            break;
        } else {
            fail_msg("the child failed (status %d)", status);
        }
        assert_true(runs < 400);
    }
    assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
    read_all(f);
    printf("kill -9: %d kills in %d runs; %zu records\n", kills, runs, f->n);
    assert_true(kills >= N_EVENTS / CHUNK / 3);
    if (f->n != n_want) {
        free(want);
        fail_msg("%zu records after kills, %zu without", f->n, n_want);
    }
    for (size_t i = 0; i < n_want; i++) {
        want[i].seq = f->recs[i].seq;
        if (!stint_record_equal(&want[i], &f->recs[i])) {
            free(want);
            fail_msg("record %zu differs after kills", i);
        }
    }
    free(want);
}

/* Focus changes (and idle now and then), no private mode: every item closes a record. */
static void write_focus_events(const char *path, int n)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < n; i++) {
        if (i % 97 == 13) {
            fprintf(fp, "{\"time\": %lld, \"idle\": true}\n", (long long)(T0 + i * 1000LL));
        } else {
            fprintf(fp, "{\"time\": %lld, \"app\": \"app%d\", \"title\": \"t%d\"}\n",
                    (long long)(T0 + i * 1000LL), i % 7, i % 3);
        }
    }
    fclose(fp);
}

static size_t journal_count(struct fixture *f)
{
    struct stint_journal_stats js;
    assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
    stint_journal_stats(f->j, &js);
    stint_journal_close(f->j);
    f->j = NULL;
    return (size_t)js.backlog;
}

/* Group commit and kill -9: a child reads the whole backlog in one dispatch inside one tracker
 * batch (the appends made at each half pending list are on disk, the rest only in memory) and
 * is killed before the batch ends. The restart resumes from the position stored with the last
 * append: the records are those of a run without a crash, none skipped, none twice. */
static void test_kill_mid_batch(void **state)
{
    struct fixture *f = *state;
    struct stint_record *want = NULL;
    size_t n_want, n_child;
    char ref[320];
    pid_t pid;
    int status = 0;

    write_focus_events(f->file, 3000);
    snprintf(ref, sizeof(ref), "%s/ref", f->dir);
    f->jo.path = ref;
    start(f, f->file);
    settle(f);
    read_all(f);
    n_want = f->n;
    assert_true(n_want > 2500);
    want = malloc(n_want * sizeof(*want));
    assert_non_null(want);
    memcpy(want, f->recs, n_want * sizeof(*want));
    stop(f);
    f->jo.path = f->jpath;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct pollfd p[4];
        int n;
        start(f, f->file);
        n = stint_source_fds(f->src, p, 4);
        stint_tracker_batch_begin(f->t);
        if (stint_source_dispatch(f->src, p, n) != STINT_OK) {
            _exit(3);
        }
        raise(SIGKILL); /* in the middle of the batch: its tail was never appended */
        _exit(4);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    n_child = journal_count(f);
    printf("killed mid-batch with %zu of %zu records appended\n", n_child, n_want);
    assert_true(n_child > 0);      /* the batch did append at its half-full marks ... */
    assert_true(n_child < n_want); /* ... and the kill lost its tail from memory */

    f->batched = true;
    start(f, f->file);
    settle(f);
    read_all(f);
    if (f->n != n_want) {
        free(want);
        fail_msg("%zu records after the kill, %zu without", f->n, n_want);
    }
    for (size_t i = 0; i < n_want; i++) {
        want[i].seq = f->recs[i].seq;
        if (!stint_record_equal(&want[i], &f->recs[i])) {
            free(want);
            fail_msg("record %zu differs after the kill", i);
        }
    }
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_and_bad_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_and_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_mid_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
