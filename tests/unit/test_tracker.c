/* test_tracker.c — the tracker with a scripted source and a fake clock, on a real journal:
 * focus changes, URL cut, idle, suspend, wall-clock jumps, private on/off (and across restarts),
 * checkpoint and recovery after a crash, event-timed determinism and positions, and a random
 * walk over all of it that checks that no record is ever empty, negative or overlapping. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "source.h"
#include "tracker.h"

#define T0 1700000000000LL
#define SEC 1000LL

/* ---- fake clock, scripted source ---- */

struct fake_src {
    struct stint_source base;
    bool idle_supported;
    int64_t last_input_mono; /* idle = mono - this */
    bool capture;
    int resamples;
    const char *app, *title, *url;
    struct fixture *f;
};

struct fixture {
    char dir[256], path[300];
    struct stint_journal_opts jo;
    struct stint_journal *j;
    int64_t wall, mono, boot;
    struct stint_clock clock;
    struct fake_src src;
    struct stint_tracker *t;
    struct stint_record *recs;
    size_t n, cap;
};

static int64_t c_wall(void *ctx)
{
    return ((struct fixture *)ctx)->wall;
}
static int64_t c_mono(void *ctx)
{
    return ((struct fixture *)ctx)->mono;
}
static int64_t c_boot(void *ctx)
{
    return ((struct fixture *)ctx)->boot;
}

static void advance(struct fixture *f, int64_t ms)
{
    f->wall += ms;
    f->mono += ms;
    f->boot += ms;
}

static void sleep_machine(struct fixture *f, int64_t ms)
{
    f->wall += ms;
    f->boot += ms;
}

static enum stint_err src_idle(struct stint_source *s, int64_t *ms)
{
    struct fake_src *fs = (struct fake_src *)s;
    if (!fs->idle_supported) {
        return STINT_EUNSUPPORTED;
    }
    *ms = fs->f->mono - fs->last_input_mono;
    return STINT_OK;
}

static enum stint_err deliver(struct fake_src *fs)
{
    struct stint_sample s = {0};
    s.app = fs->app;
    s.app_len = strlen(fs->app);
    s.title = fs->title;
    s.title_len = strlen(fs->title);
    s.path = "/usr/bin/x";
    s.path_len = 10;
    if (fs->url) {
        s.url = fs->url;
        s.url_len = strlen(fs->url);
    }
    return fs->base.sink.sample(fs->base.sink.ctx, &s, NULL);
}

static enum stint_err src_resample(struct stint_source *s)
{
    struct fake_src *fs = (struct fake_src *)s;
    fs->resamples++;
    return deliver(fs);
}

static void src_capture(struct stint_source *s, bool on)
{
    ((struct fake_src *)s)->capture = on;
}

static void src_destroy(struct stint_source *s)
{
    (void)s;
}

static const struct stint_source_ops fake_ops = {
    .name = "fake",
    .flags = STINT_SOURCE_LIVE,
    .idle_ms = src_idle,
    .resample = src_resample,
    .set_capture = src_capture,
    .destroy = src_destroy,
};

/* focus moves to app/title (the source tells the tracker) */
static void focus(struct fixture *f, const char *app, const char *title)
{
    f->src.app = app;
    f->src.title = title;
    f->src.last_input_mono = f->mono; /* switching windows is input */
    assert_int_equal(deliver(&f->src), STINT_OK);
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-tracker-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
    f->jo.path = f->path;
    f->jo.sync = STINT_SYNC_NONE;
    f->jo.clock_ms = c_wall;
    f->jo.clock_ctx = f;
    f->wall = T0;
    f->mono = 5 * SEC;
    f->boot = 7 * SEC;
    f->clock = (struct stint_clock){c_wall, c_mono, c_boot, f};
    f->src.base.ops = &fake_ops;
    f->src.idle_supported = true;
    f->src.f = f;
    f->src.app = "firefox";
    f->src.title = "Start";
    f->src.capture = true;
    if (stint_journal_open(&f->jo, &f->j, NULL, NULL) != STINT_OK) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    stint_tracker_destroy(f->t);
    stint_journal_close(f->j);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f->recs);
    free(f);
    return 0;
}

static void make_tracker(struct fixture *f, bool private_records, enum stint_url_mode mode)
{
    struct stint_tracker_opts o = {0};
    struct stint_error e;
    stint_tracker_destroy(f->t);
    f->t = NULL;
    o.journal = f->j;
    o.source = &f->src.base;
    o.idle_after_ms = 60 * SEC;
    o.checkpoint_every_ms = 30 * SEC;
    o.idle_poll_ms = 1 * SEC;
    o.private_records = private_records;
    o.url_mode = mode;
    o.clock = &f->clock;
    f->src.last_input_mono = f->mono;
    if (stint_tracker_create(&o, &f->t, &e) != STINT_OK) {
        fail_msg("%s", e.msg);
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
    f->recs[f->n].seq = en->seq;
    f->n++;
    return STINT_OK;
}

static void read_all(struct fixture *f)
{
    f->n = 0;
    assert_int_equal(stint_journal_read(f->j, 0, 100000, SIZE_MAX, 0, collect, f, NULL, NULL),
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
        fail_msg("record %zu: kind %d \"%s\" [%lld, %lld], want kind %d \"%s\" [%lld, %lld]", i,
                 r->kind, r->title, (long long)(r->start_ms - T0), (long long)(r->end_ms - T0),
                 kind, title, (long long)(start - T0), (long long)(end - T0));
    }
}

/* No record is empty or negative, none overlaps the one before it. */
static void check_timeline(struct fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->recs[i].end_ms <= f->recs[i].start_ms) {
            fail_msg("record %zu: [%lld, %lld] is empty or negative", i,
                     (long long)f->recs[i].start_ms, (long long)f->recs[i].end_ms);
        }
        if (i && f->recs[i].start_ms < f->recs[i - 1].end_ms) {
            fail_msg("record %zu starts at %lld, before %zu ended (%lld)", i,
                     (long long)f->recs[i].start_ms, i - 1, (long long)f->recs[i - 1].end_ms);
        }
    }
}

/* ---- tests ---- */

static void test_focus_changes(void **state)
{
    struct fixture *f = *state;
    make_tracker(f, true, STINT_URL_HOST);
    assert_int_equal(f->src.resamples, 1); /* the first sample is asked for */
    advance(f, 5 * SEC);
    focus(f, "xterm", "vim");
    advance(f, 3 * SEC);
    focus(f, "xterm", "vim"); /* the same again: nothing new */
    advance(f, 2 * SEC);
    focus(f, "xterm", "make");
    advance(f, 1 * SEC);
    struct stint_tracker_status st;
    stint_tracker_status(f->t, &st);
    assert_true(st.has_open);
    assert_string_equal(st.open.title, "make");
    assert_int_equal(st.open.start_ms, T0 + 10 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 5 * SEC);
    expect(f, 1, STINT_KIND_ACTIVE, "vim", T0 + 5 * SEC, T0 + 10 * SEC);
    expect(f, 2, STINT_KIND_ACTIVE, "make", T0 + 10 * SEC, T0 + 11 * SEC);
    assert_string_equal(f->recs[1].app, "xterm");
    assert_string_equal(f->recs[1].path, "/usr/bin/x");
    check_timeline(f);
}

/* Purge: the open record's past is forgotten; what is in focus is tracked again from the purge. */
static void test_discard_open_for_purge(void **state)
{
    struct fixture *f = *state;
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 5 * SEC);
    focus(f, "xterm", "secret plans");
    advance(f, 7 * SEC);
    stint_tracker_discard_open(f->t);
    assert_int_equal(stint_journal_purge(f->j), STINT_OK);
    advance(f, 3 * SEC);
    focus(f, "xterm", "after");
    advance(f, 1 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 2);
    /* "Start" and most of "secret plans" went with the purge */
    expect(f, 0, STINT_KIND_ACTIVE, "secret plans", T0 + 12 * SEC, T0 + 15 * SEC);
    expect(f, 1, STINT_KIND_ACTIVE, "after", T0 + 15 * SEC, T0 + 16 * SEC);
    check_timeline(f);
}

/* The journal refuses every write (a file size limit: EFBIG, as a full disk gives ENOSPC) while
 * 400 records close: the tracker holds 256, drops the oldest, and once the journal takes records
 * again writes one gap record for the dropped span, with how many, in front of the held ones. */
static void test_held_records_become_a_gap(void **state)
{
    struct fixture *f = *state;
    struct stint_tracker_status st;
    struct rlimit old, tiny;
    char title[32];
    const int n = 400;

    make_tracker(f, true, STINT_URL_HOST);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    tiny = old;
    tiny.rlim_cur = 1; /* nothing can grow: every append fails */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    for (int i = 0; i < n; i++) {
        advance(f, 1 * SEC);
        snprintf(title, sizeof(title), "w%d", i);
        f->src.title = title;
        f->src.last_input_mono = f->mono;
        (void)deliver(&f->src); /* the journal's error comes back; the record is held */
        (void)stint_tracker_tick(f->t);
    }
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    stint_tracker_status(f->t, &st);
    assert_true(st.failing);
    assert_true(st.append_errors > 0);
    assert_int_equal(st.pending, 256);
    assert_int_equal(st.dropped, n - 256); /* "Start" and w0..w398 closed: 400 records */
    assert_int_equal(st.gap_pending, n - 256);
    advance(f, 6 * SEC); /* past the retry */
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_false(st.failing);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.gaps, 1);
    read_all(f);
    assert_int_equal(f->n, 257);
    assert_int_equal(f->recs[0].kind, STINT_KIND_GAP);
    assert_int_equal(f->recs[0].gap_count, n - 256);
    assert_int_equal(f->recs[0].start_ms, T0);                 /* "Start" began here */
    assert_int_equal(f->recs[0].end_ms, T0 + (n - 256) * SEC); /* the last dropped ended */
    expect(f, 1, STINT_KIND_ACTIVE, "w143", T0 + 144 * SEC, T0 + 145 * SEC);
    check_timeline(f);
}

static void test_url_and_strings(void **state)
{
    struct fixture *f = *state;
    f->src.url = "https://user:pw@Docs.Example.org/private/path?q=secret";
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 1 * SEC);
    f->src.url = "https://docs.example.org/other";
    focus(f, "firefox", "Other \xff page"); /* invalid UTF-8 is repaired */
    advance(f, 1 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 2);
    assert_string_equal(f->recs[0].url, "https://docs.example.org");
    assert_string_equal(f->recs[1].url, "https://docs.example.org");
    assert_string_equal(f->recs[1].title, "Other \xef\xbf\xbd page");
    assert_int_equal(f->recs[1].repaired, STINT_FIELD_TITLE);
    stint_tracker_destroy(f->t);
    f->t = NULL;

    f->src.url = "https://user:pw@docs.example.org/p?q";
    make_tracker(f, true, STINT_URL_FULL);
    advance(f, 1 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    assert_string_equal(f->recs[2].url, "https://docs.example.org/p?q");
}

static void test_idle(void **state)
{
    struct fixture *f = *state;
    make_tracker(f, true, STINT_URL_HOST);
    /* the first idle check is due at once, then at last input + idle_after */
    assert_int_equal(stint_tracker_timeout(f->t), 0);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    assert_int_equal(stint_tracker_timeout(f->t), 30 * SEC); /* the checkpoint comes first */
    advance(f, 10 * SEC);
    f->src.last_input_mono = f->mono; /* typing at T0+10s, then nothing */
    advance(f, 20 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);    /* checkpoint at 30 s */
    assert_int_equal(stint_tracker_timeout(f->t), 30 * SEC); /* idle due at 10 + 60 = 70 s */
    advance(f, 30 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    assert_int_equal(stint_tracker_timeout(f->t), 10 * SEC);
    advance(f, 10 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    struct stint_tracker_status st;
    stint_tracker_status(f->t, &st);
    assert_true(st.idle);
    assert_int_equal(st.open.kind, STINT_KIND_IDLE);
    assert_int_equal(st.last_input_ms, T0 + 10 * SEC);
    assert_int_equal(stint_tracker_timeout(f->t), 1 * SEC); /* idle: polled */
    /* a window opening by itself while idle is not input: still idle */
    advance(f, 20 * SEC);
    f->src.title = "Popup";
    assert_int_equal(deliver(&f->src), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_true(st.idle);
    advance(f, 15 * SEC);
    f->src.last_input_mono = f->mono - 200; /* input came back 200 ms ago */
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_false(st.idle);
    assert_string_equal(st.open.title, "Popup");
    advance(f, 5 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 10 * SEC);
    expect(f, 1, STINT_KIND_IDLE, "", T0 + 10 * SEC, T0 + 105 * SEC - 200);
    expect(f, 2, STINT_KIND_ACTIVE, "Popup", T0 + 105 * SEC - 200, T0 + 110 * SEC);
    check_timeline(f);
}

static void test_suspend(void **state)
{
    struct fixture *f = *state;
    struct stint_tracker_status st;
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 10 * SEC);
    sleep_machine(f, 3600 * SEC);
    f->src.last_input_mono = f->mono; /* opening the lid */
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_int_equal(st.suspends, 1);
    assert_int_equal(st.clock_jumps, 0);
    assert_int_equal(st.open.start_ms, T0 + 3610 * SEC);
    advance(f, 5 * SEC);
    focus(f, "xterm", "after");
    advance(f, 1 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 10 * SEC); /* sleep is not counted */
    expect(f, 1, STINT_KIND_ACTIVE, "Start", T0 + 3610 * SEC, T0 + 3615 * SEC);
    expect(f, 2, STINT_KIND_ACTIVE, "after", T0 + 3615 * SEC, T0 + 3616 * SEC);
    check_timeline(f);
}

static void test_clock_jumps(void **state)
{
    struct fixture *f = *state;
    struct stint_tracker_status st;
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 10 * SEC);
    f->wall += 7200 * SEC; /* set forward two hours */
    focus(f, "a", "forward");
    stint_tracker_status(f->t, &st);
    assert_int_equal(st.clock_jumps, 1);
    advance(f, 10 * SEC);
    f->wall -= 3 * 3600 * SEC; /* set back three hours */
    focus(f, "a", "back");
    advance(f, 20 * SEC);
    focus(f, "a", "later"); /* the clock is still behind the last boundary */
    advance(f, 3 * 3600 * SEC);
    focus(f, "a", "caught up");
    advance(f, 1 * SEC);
    f->wall += 1500; /* under STINT_TRACKER_JUMP_MS: not a jump */
    focus(f, "a", "small step");
    advance(f, 1 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_int_equal(st.clock_jumps, 2);
    assert_int_equal(st.suspends, 0);
    read_all(f);
    check_timeline(f);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 10 * SEC);
    /* "Start" reopened at the new time, then "forward" at once (zero length: not written) */
    expect(f, 1, STINT_KIND_ACTIVE, "forward", T0 + 7210 * SEC, T0 + 7220 * SEC);
    /* set back: "back" waits at the last boundary; "later" starts there too, so "back" is empty;
     * "later" lasts until the clock has caught up with the boundary */
    expect(f, 2, STINT_KIND_ACTIVE, "later", T0 + 7220 * SEC, T0 + 7240 * SEC);
    expect(f, 3, STINT_KIND_ACTIVE, "caught up", T0 + 7240 * SEC, T0 + 7241 * SEC + 1500);
}

static void test_private(void **state)
{
    struct fixture *f = *state;
    struct stint_tracker_status st;
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 5 * SEC);
    assert_int_equal(stint_tracker_private_set(f->t, true), STINT_OK);
    assert_true(stint_journal_private_get(f->j));
    assert_false(f->src.capture);
    advance(f, 3 * SEC);
    focus(f, "secret", "Bank"); /* delivered anyway: dropped */
    stint_tracker_status(f->t, &st);
    assert_int_equal(st.open.kind, STINT_KIND_PRIVATE);
    assert_int_equal(st.open.title_len, 0);
    advance(f, 7 * SEC);
    f->src.app = "xterm";
    f->src.title = "back";
    assert_int_equal(stint_tracker_private_set(f->t, false), STINT_OK);
    assert_false(stint_journal_private_get(f->j));
    assert_true(f->src.capture);
    advance(f, 2 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 5 * SEC);
    expect(f, 1, STINT_KIND_PRIVATE, "", T0 + 5 * SEC, T0 + 15 * SEC);
    assert_int_equal(f->recs[1].app_len + f->recs[1].path_len + f->recs[1].url_len, 0);
    expect(f, 2, STINT_KIND_ACTIVE, "back", T0 + 15 * SEC, T0 + 17 * SEC);
    for (size_t i = 0; i < f->n; i++) {
        assert_null(strstr(f->recs[i].title, "Bank"));
        assert_null(strstr(f->recs[i].app, "secret"));
    }
}

static void test_private_without_records(void **state)
{
    struct fixture *f = *state;
    make_tracker(f, false, STINT_URL_HOST);
    advance(f, 5 * SEC);
    assert_int_equal(stint_tracker_private_set(f->t, true), STINT_OK);
    advance(f, 100 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK); /* no idle while private */
    assert_int_equal(stint_tracker_private_set(f->t, false), STINT_OK);
    advance(f, 1 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 2);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 5 * SEC);
    expect(f, 1, STINT_KIND_ACTIVE, "Start", T0 + 105 * SEC, T0 + 106 * SEC);
}

/* Private mode is in the journal: a restart (even of the journal) keeps it on. */
static void test_private_survives_restart(void **state)
{
    struct fixture *f = *state;
    struct stint_tracker_status st;
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 5 * SEC);
    assert_int_equal(stint_tracker_private_set(f->t, true), STINT_OK);
    advance(f, 5 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    stint_tracker_destroy(f->t);
    f->t = NULL;
    stint_journal_close(f->j);
    assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
    advance(f, 60 * SEC);
    f->src.resamples = 0;
    f->src.capture = true;
    make_tracker(f, true, STINT_URL_HOST);
    stint_tracker_status(f->t, &st);
    assert_true(st.private_mode);
    assert_int_equal(st.open.kind, STINT_KIND_PRIVATE);
    assert_false(f->src.capture);          /* told to capture nothing */
    assert_int_equal(f->src.resamples, 0); /* and not asked for a sample */
    advance(f, 5 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    expect(f, 1, STINT_KIND_PRIVATE, "", T0 + 5 * SEC, T0 + 10 * SEC);
    expect(f, 2, STINT_KIND_PRIVATE, "", T0 + 70 * SEC, T0 + 75 * SEC);
}

/* The open record is checkpointed; after a crash the journal closes it at the checkpoint. */
static void test_checkpoint_crash_recovery(void **state)
{
    struct fixture *f = *state;
    struct stint_journal_open_info info;
    struct stint_tracker_status st;
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 10 * SEC);
    focus(f, "xterm", "editing");
    advance(f, 20 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_int_equal(st.checkpoints, 1);
    advance(f, 30 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    stint_tracker_status(f->t, &st);
    assert_int_equal(st.checkpoints, 2);
    advance(f, 20 * SEC);
    /* kill -9: nothing more is written */
    stint_tracker_destroy(f->t);
    f->t = NULL;
    stint_journal_close(f->j);
    advance(f, 5 * SEC);
    assert_int_equal(stint_journal_open(&f->jo, &f->j, &info, NULL), STINT_OK);
    assert_true(info.checkpoint_restored);
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 3 * SEC);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_int_equal(f->n, 3);
    expect(f, 0, STINT_KIND_ACTIVE, "Start", T0, T0 + 10 * SEC);
    /* ends at the last checkpoint (60 s): at most checkpoint_every is lost */
    expect(f, 1, STINT_KIND_ACTIVE, "editing", T0 + 10 * SEC, T0 + 60 * SEC);
    expect(f, 2, STINT_KIND_ACTIVE, "editing", T0 + 85 * SEC, T0 + 88 * SEC);
    /* a record that closed after the checkpoint is not restored twice */
    make_tracker(f, true, STINT_URL_HOST);
    advance(f, 31 * SEC);
    assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
    advance(f, 1 * SEC);
    focus(f, "xterm", "closed after checkpoint");
    stint_tracker_destroy(f->t);
    f->t = NULL;
    stint_journal_close(f->j);
    assert_int_equal(stint_journal_open(&f->jo, &f->j, &info, NULL), STINT_OK);
    assert_false(info.checkpoint_restored);
    read_all(f);
    assert_int_equal(f->n, 4);
    check_timeline(f);
}

/* ---- event-timed: the sink driven as the JSONL source does ---- */

struct ev {
    char what; /* s sample, i idle, p private on, o private off */
    int64_t t;
    const char *title;
};

static void feed(struct stint_tracker *t, const struct ev *evs, size_t n, size_t first)
{
    const struct stint_sink *k = stint_tracker_sink(t);
    for (size_t i = first; i < n; i++) {
        char pos[16];
        struct stint_source_pos p = {pos, (size_t)snprintf(pos, sizeof(pos), "L%zu", i)};
        struct stint_sample s = {0};
        s.time_ms = evs[i].t;
        s.app = "app";
        s.app_len = 3;
        s.title = evs[i].title ? evs[i].title : "";
        s.title_len = strlen(s.title);
        switch (evs[i].what) {
        case 's':
            assert_int_equal(k->sample(k->ctx, &s, &p), STINT_OK);
            break;
        case 'i':
            assert_int_equal(k->idle(k->ctx, evs[i].t, &p), STINT_OK);
            break;
        default:
            assert_int_equal(k->private_mode(k->ctx, evs[i].what == 'p', evs[i].t, &p), STINT_OK);
        }
    }
}

static const struct ev script[] = {
    {'s', T0, "one"},          {'s', T0 + 1000, "one"}, /* same: nothing */
    {'s', T0 + 5000, "two"},   {'i', T0 + 8000, NULL},
    {'s', T0 + 20000, "two"},  {'s', T0 + 19000, "back in time"}, /* clamped to the last boundary */
    {'p', T0 + 30000, NULL},   {'s', T0 + 31000, "hidden"},
    {'o', T0 + 40000, NULL},   {'s', T0 + 41000, "three"},
    {'s', T0 + 50000, "four"},
};
#define N_SCRIPT (sizeof(script) / sizeof(script[0]))

static void make_event_tracker(struct fixture *f)
{
    struct stint_tracker_opts o = {0};
    stint_tracker_destroy(f->t);
    f->t = NULL;
    o.journal = f->j;
    o.event_time = true;
    o.pos_key = "test.pos";
    o.private_records = true;
    o.idle_after_ms = 60 * SEC;
    assert_int_equal(stint_tracker_create(&o, &f->t, NULL), STINT_OK);
}

static void test_event_time(void **state)
{
    struct fixture *f = *state;
    char pos[64];
    size_t len = 0;
    bool found = false;
    f->wall = 42; /* no clock is read: a silly one changes nothing */
    make_event_tracker(f);
    feed(f->t, script, N_SCRIPT, 0);
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK); /* resumable: writes nothing */
    read_all(f);
    expect(f, 0, STINT_KIND_ACTIVE, "one", T0, T0 + 5000);
    expect(f, 1, STINT_KIND_ACTIVE, "two", T0 + 5000, T0 + 8000);
    expect(f, 2, STINT_KIND_IDLE, "", T0 + 8000, T0 + 20000);
    /* "back in time" is clamped to the moment "two" started, so "two" is empty (not written) */
    expect(f, 3, STINT_KIND_ACTIVE, "back in time", T0 + 20000, T0 + 30000);
    expect(f, 4, STINT_KIND_PRIVATE, "", T0 + 30000, T0 + 40000);
    expect(f, 5, STINT_KIND_ACTIVE, "three", T0 + 41000, T0 + 50000);
    assert_int_equal(f->n, 6);
    check_timeline(f);
    /* the stored position is the item that opened the open record ("four") */
    assert_int_equal(stint_journal_meta_get(f->j, "test.pos", pos, sizeof(pos), &len, &found),
                     STINT_OK);
    assert_true(found);
    assert_int_equal(len, 8 + 3);
    assert_memory_equal(pos + 8, "L10", 3);
}

/* A crash after any item, then a restart at the stored position, gives the same records. */
static void test_event_time_resume(void **state)
{
    struct fixture *f = *state;
    struct stint_record *want = NULL;
    size_t n_want = 0;

    make_event_tracker(f);
    feed(f->t, script, N_SCRIPT, 0);
    read_all(f);
    n_want = f->n;
    want = malloc(n_want * sizeof(*want));
    assert_non_null(want);
    memcpy(want, f->recs, n_want * sizeof(*want));
    stint_tracker_destroy(f->t);
    f->t = NULL;

    for (size_t crash = 0; crash < N_SCRIPT; crash++) {
        char pos[64];
        size_t len = 0, first = 0;
        bool found = false;
        stint_journal_close(f->j);
        nftw(f->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
        make_event_tracker(f);
        feed(f->t, script, crash + 1, 0);
        stint_tracker_destroy(f->t); /* kill -9 */
        f->t = NULL;
        stint_journal_close(f->j);
        assert_int_equal(stint_journal_open(&f->jo, &f->j, NULL, NULL), STINT_OK);
        assert_int_equal(stint_journal_meta_get(f->j, "test.pos", pos, sizeof(pos), &len, &found),
                         STINT_OK);
        if (found) {
            assert_true(len > 9 && pos[8] == 'L');
            pos[len] = '\0';
            first = (size_t)strtoul(pos + 9, NULL, 10);
        }
        make_event_tracker(f);
        feed(f->t, script, N_SCRIPT, first);
        read_all(f);
        if (f->n != n_want) {
            fail_msg("crash after item %zu, resumed at %zu: %zu records, want %zu", crash, first,
                     f->n, n_want);
        }
        for (size_t i = 0; i < n_want; i++) {
            want[i].seq = f->recs[i].seq;
            if (!stint_record_equal(&want[i], &f->recs[i])) {
                fail_msg("crash after item %zu: record %zu differs", crash, i);
            }
        }
        stint_tracker_destroy(f->t);
        f->t = NULL;
    }
    free(want);
}

/* A random walk over everything a live tracker meets; the records must always form a timeline. */
static void test_random_walk(void **state)
{
    struct fixture *f = *state;
    static const char *const titles[] = {"a", "b", "c"};
    unsigned seed = 12345;
    make_tracker(f, true, STINT_URL_HOST);
    for (int step = 0; step < 3000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 16) % 100;
        if (r < 30) {
            advance(f, (int64_t)((seed >> 8) % 20000));
        } else if (r < 55) {
            focus(f, "app", titles[(seed >> 4) % 3]);
        } else if (r < 60) {
            sleep_machine(f, (int64_t)((seed >> 8) % 100000) * 10);
        } else if (r < 65) {
            f->wall += (int64_t)((seed >> 8) % 200000) - 100000;
        } else if (r < 68) {
            assert_int_equal(stint_tracker_private_set(f->t, (seed >> 6) & 1), STINT_OK);
        } else if (r < 75) {
            f->src.last_input_mono = f->mono - (int64_t)((seed >> 8) % 100000);
        } else {
            assert_int_equal(stint_tracker_tick(f->t), STINT_OK);
        }
    }
    assert_int_equal(stint_tracker_shutdown(f->t), STINT_OK);
    read_all(f);
    assert_true(f->n > 100);
    check_timeline(f);
}

static void test_bad_options(void **state)
{
    struct stint_tracker_opts o = {0};
    struct stint_tracker *t = NULL;
    struct stint_error e;
    (void)state;
    assert_int_equal(stint_tracker_create(&o, &t, &e), STINT_EINVAL);
    assert_null(t);
    assert_string_equal(e.msg, "tracker: no journal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_focus_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discard_open_for_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_records_become_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_and_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_jumps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_without_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_crash_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_time_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_walk, setup, teardown),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
