/* test_browser_merge.c — several sources at once: window samples merged with the browser's
 * reports (agent/browser_merge.c), through a real tracker into a real journal, event-timed so the
 * records are exact: the URL attached by pid and by title, cut by url_mode, a split on tab
 * change, a private window as a private record with times only, another program without a URL,
 * and two browsers kept apart. */
#define _GNU_SOURCE
#include "cmocka_all.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "browser_merge.h"
#include "journal.h"
#include "tracker.h"

#define T0 1700000000000LL

struct fixture {
    char dir[64], path[80];
    struct stint_journal_opts jo;
    struct stint_journal *j;
    struct stint_tracker *t;
    struct stint_browser_merge *m;
    struct stint_record recs[32];
    size_t n;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* the journal's clock, for its age bound: just after the day below */
static int64_t j_clock(void *ctx)
{
    (void)ctx;
    return T0 + 60000;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-merge-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
    f->jo.path = f->path;
    f->jo.sync = STINT_SYNC_NONE;
    f->jo.clock_ms = j_clock;
    if (stint_journal_open(&f->jo, &f->j, NULL, NULL) != STINT_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    stint_browser_merge_destroy(f->m);
    stint_tracker_destroy(f->t);
    stint_journal_close(f->j);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void make(struct fixture *f, enum stint_url_mode mode)
{
    struct stint_tracker_opts o = {0};
    o.journal = f->j;
    o.event_time = true;
    o.private_records = true;
    o.idle_after_ms = 600000;
    o.url_mode = mode;
    assert_int_equal(stint_tracker_create(&o, &f->t, NULL), STINT_OK);
    assert_int_equal(stint_browser_merge_create(stint_tracker_sink(f->t), true, &f->m, NULL),
                     STINT_OK);
}

/* The window source says: this window is in focus from t. */
static void window(struct fixture *f, int64_t t, long pid, const char *app, const char *title)
{
    const struct stint_sink *k = stint_browser_merge_sink(f->m);
    struct stint_sample s = {0};
    s.time_ms = t;
    s.pid = pid;
    s.app = app;
    s.app_len = strlen(app);
    s.title = title;
    s.title_len = strlen(title);
    assert_int_equal(k->sample(k->ctx, &s, NULL), STINT_OK);
}

/* The browser with this pid says: this tab is in front (or, url NULL, none of my windows). */
static void tab(struct fixture *f, int64_t t, long pid, const char *url, const char *title,
                bool priv)
{
    struct stint_browser_event ev = {.pid = pid,
                                     .focus = url != NULL,
                                     .time_ms = t,
                                     .is_private = priv,
                                     .url = url ? url : "",
                                     .title = title ? title : ""};
    assert_int_equal(stint_browser_merge_event(f->m, &ev), STINT_OK);
}

static enum stint_err collect(void *ctx, const struct stint_journal_entry *en)
{
    struct fixture *f = ctx;
    if (f->n < 32)
        stint_record_copy(&f->recs[f->n++], en->record);
    return STINT_OK;
}

static void read_all(struct fixture *f)
{
    f->n = 0;
    assert_int_equal(stint_journal_read(f->j, 0, 100000, SIZE_MAX, 0, collect, f, NULL, NULL),
                     STINT_OK);
}

static void expect(struct fixture *f, size_t i, int32_t kind, const char *app, const char *title,
                   const char *url, int64_t start, int64_t end)
{
    struct stint_record *r;
    if (i >= f->n)
        fail_msg("record %zu missing (%zu records)", i, f->n);
    r = &f->recs[i];
    if (r->kind != kind || strcmp(r->app, app) != 0 || strcmp(r->title, title) != 0 ||
        strcmp(r->url, url) != 0 || r->start_ms != start || r->end_ms != end)
        fail_msg("record %zu: kind %d %s \"%s\" <%s> [%lld, %lld], want kind %d %s \"%s\" <%s> "
                 "[%lld, %lld]",
                 i, r->kind, r->app, r->title, r->url, (long long)(r->start_ms - T0),
                 (long long)(r->end_ms - T0), kind, app, title, url, (long long)(start - T0),
                 (long long)(end - T0));
}

/* The day of the real-browser test, scripted: two tabs, a switch, an xterm and back, a private
 * window; in full and in host mode. */
static void day(struct fixture *f)
{
    tab(f, T0, 100, "http://127.0.0.1:8099/plan.html?x=1", "Plan", false);
    window(f, T0 + 10, 100, "firefox-esr", "Plan — Mozilla Firefox");
    tab(f, T0 + 5000, 100, "http://127.0.0.1:8099/notes.html", "Notes", false); /* tab switch */
    window(f, T0 + 5010, 100, "firefox-esr", "Notes — Mozilla Firefox");        /* retitled */
    window(f, T0 + 9000, 200, "xterm", "xterm");
    tab(f, T0 + 9001, 100, NULL, NULL, false); /* the browser lost the focus */
    tab(f, T0 + 12000, 100, "http://127.0.0.1:8099/notes.html", "Notes", false);
    window(f, T0 + 12005, 100, "firefox-esr", "Notes — Mozilla Firefox");
    tab(f, T0 + 15000, 100, "", "", true); /* a private window in front */
    window(f, T0 + 15010, 100, "firefox-esr", "Private Browsing");
    window(f, T0 + 20000, 200, "xterm", "xterm"); /* closes the private spell */
    window(f, T0 + 21000, 200, "xterm", "end");
}

static void test_day_full(void **state)
{
    struct fixture *f = *state;
    struct stint_browser_merge_stats st;

    make(f, STINT_URL_FULL);
    day(f);
    read_all(f);
    expect(f, 0, STINT_KIND_ACTIVE, "firefox-esr", "Plan — Mozilla Firefox",
           "http://127.0.0.1:8099/plan.html?x=1", T0 + 10, T0 + 5000);
    /* the tab change splits at once, with the window's old title until it is retitled */
    expect(f, 1, STINT_KIND_ACTIVE, "firefox-esr", "Plan — Mozilla Firefox",
           "http://127.0.0.1:8099/notes.html", T0 + 5000, T0 + 5010);
    expect(f, 2, STINT_KIND_ACTIVE, "firefox-esr", "Notes — Mozilla Firefox",
           "http://127.0.0.1:8099/notes.html", T0 + 5010, T0 + 9000);
    expect(f, 3, STINT_KIND_ACTIVE, "xterm", "xterm", "", T0 + 9000, T0 + 12005);
    expect(f, 4, STINT_KIND_ACTIVE, "firefox-esr", "Notes — Mozilla Firefox",
           "http://127.0.0.1:8099/notes.html", T0 + 12005, T0 + 15000);
    expect(f, 5, STINT_KIND_PRIVATE, "", "", "", T0 + 15000, T0 + 20000);
    expect(f, 6, STINT_KIND_ACTIVE, "xterm", "xterm", "", T0 + 20000, T0 + 21000);
    assert_int_equal(f->n, 7);
    stint_browser_merge_stats(f->m, &st);
    assert_int_equal(st.browsers, 1);
    assert_int_equal(st.pids[0], 100);
    assert_int_equal(st.events, 5);
}

static void test_day_host(void **state)
{
    struct fixture *f = *state;

    make(f, STINT_URL_HOST);
    day(f);
    read_all(f);
    expect(f, 0, STINT_KIND_ACTIVE, "firefox-esr", "Plan — Mozilla Firefox",
           "http://127.0.0.1:8099", T0 + 10, T0 + 5010);
    /* same host: the tab change is no new content in host mode until the title changes */
    expect(f, 1, STINT_KIND_ACTIVE, "firefox-esr", "Notes — Mozilla Firefox",
           "http://127.0.0.1:8099", T0 + 5010, T0 + 9000);
    expect(f, 2, STINT_KIND_ACTIVE, "xterm", "xterm", "", T0 + 9000, T0 + 12005);
}

/* Without a pid the window title decides; a window of another pid never takes the URL. */
static void test_title_fallback_and_two_browsers(void **state)
{
    struct fixture *f = *state;

    make(f, STINT_URL_FULL);
    tab(f, T0, 100, "https://a.example/", "Alpha", false);
    tab(f, T0, 300, "https://b.example/", "Beta", false);
    window(f, T0 + 10, 0, "firefox", "Alpha — Mozilla Firefox"); /* no pid: by title */
    window(f, T0 + 20, 300, "chromium", "Beta - Chromium");      /* by pid */
    window(f, T0 + 30, 400, "gedit", "Alpha notes");             /* other pid: none */
    window(f, T0 + 40, 0, "other", "Gamma");                     /* no pid, no title: none */
    window(f, T0 + 50, 0, "other", "end");
    read_all(f);
    expect(f, 0, STINT_KIND_ACTIVE, "firefox", "Alpha — Mozilla Firefox", "https://a.example/",
           T0 + 10, T0 + 20);
    expect(f, 1, STINT_KIND_ACTIVE, "chromium", "Beta - Chromium", "https://b.example/", T0 + 20,
           T0 + 30);
    expect(f, 2, STINT_KIND_ACTIVE, "gedit", "Alpha notes", "", T0 + 30, T0 + 40);
    expect(f, 3, STINT_KIND_ACTIVE, "other", "Gamma", "", T0 + 40, T0 + 50);
}

/* Chromium does not show the extension an incognito window it is not allowed in: the window
 * source sees a window of the browser's pid whose title is not the reported tab's, and the
 * extension then says none of its windows has the focus. That spell is private, from the
 * window's own time, and its title never reaches the journal. */
static void test_incognito_unseen(void **state)
{
    struct fixture *f = *state;
    struct stint_browser_merge_stats st;

    make(f, STINT_URL_FULL);
    tab(f, T0, 100, "http://127.0.0.1:8099/plan.html", "Plan", false);
    window(f, T0 + 10, 100, "Chromium", "Plan - Chromium");
    window(f, T0 + 2000, 100, "Chromium", "Secret - Chromium");  /* the incognito window */
    tab(f, T0 + 2040, 100, NULL, NULL, false);                   /* the extension: blur */
    window(f, T0 + 2500, 100, "Chromium", "Secret2 - Chromium"); /* retitled in there */
    window(f, T0 + 6000, 200, "XTerm", "xterm");
    /* back to the normal window: the sample comes before the extension's report */
    window(f, T0 + 8000, 100, "Chromium", "Plan - Chromium");
    tab(f, T0 + 8030, 100, "http://127.0.0.1:8099/plan.html", "Plan", false);
    window(f, T0 + 9000, 200, "XTerm", "end");
    read_all(f);
    expect(f, 0, STINT_KIND_ACTIVE, "Chromium", "Plan - Chromium",
           "http://127.0.0.1:8099/plan.html", T0 + 10, T0 + 2000);
    expect(f, 1, STINT_KIND_PRIVATE, "", "", "", T0 + 2000, T0 + 6000);
    expect(f, 2, STINT_KIND_ACTIVE, "XTerm", "xterm", "", T0 + 6000, T0 + 8000);
    expect(f, 3, STINT_KIND_ACTIVE, "Chromium", "Plan - Chromium",
           "http://127.0.0.1:8099/plan.html", T0 + 8000, T0 + 9000);
    assert_int_equal(f->n, 4);
    stint_browser_merge_stats(f->m, &st);
    assert_true(st.unseen >= 1);
}

/* A blur of the browser whose window is in focus: moving to another program (its sample
 * follows within the wait) changes nothing; no sample at all means a window the extension
 * cannot see took the focus (an incognito window opened over the focused one, same title):
 * private from the blur. */
static void test_blur_then_nothing(void **state)
{
    struct fixture *f = *state;

    make(f, STINT_URL_FULL);
    tab(f, T0, 100, "http://127.0.0.1:8099/plan.html", "Plan", false);
    window(f, T0 + 10, 100, "Chromium", "Plan - Chromium");
    tab(f, T0 + 1000, 100, NULL, NULL, false); /* blur, then the xterm's sample */
    window(f, T0 + 1020, 200, "XTerm", "xterm");
    tab(f, T0 + 3000, 100, "http://127.0.0.1:8099/plan.html", "Plan", false);
    window(f, T0 + 3010, 100, "Chromium", "Plan - Chromium");
    tab(f, T0 + 5000, 100, NULL, NULL, false); /* blur, and no sample for 9 s */
    window(f, T0 + 14000, 200, "XTerm", "end");
    read_all(f);
    expect(f, 0, STINT_KIND_ACTIVE, "Chromium", "Plan - Chromium",
           "http://127.0.0.1:8099/plan.html", T0 + 10, T0 + 1020);
    expect(f, 1, STINT_KIND_ACTIVE, "XTerm", "xterm", "", T0 + 1020, T0 + 3010);
    expect(f, 2, STINT_KIND_ACTIVE, "Chromium", "Plan - Chromium",
           "http://127.0.0.1:8099/plan.html", T0 + 3010, T0 + 5000);
    expect(f, 3, STINT_KIND_PRIVATE, "", "", "", T0 + 5000, T0 + 14000);
    assert_int_equal(f->n, 4);
}

/* A window the source marks private (its title gave it away) is private whatever its browser
 * reports; and the titles that give it away. */
static void test_private_by_title(void **state)
{
    static const struct {
        const char *app, *title;
        bool priv;
    } cases[] = {
        {"firefox-esr", "Mozilla Firefox Private Browsing", true},
        {"Firefox-esr", "Plan — Mozilla Firefox Private Browsing", true},
        {"firefox", "Notes — Private Browsing", true},
        {"firefox-esr", "Plan — Mozilla Firefox", false},
        {"firefox-esr", "Private Browsing tips — Mozilla Firefox", false},
        {"XTerm", "Private Browsing", false},
        {"Chromium", "Plan - Chromium (Incognito)", true},
        {"Google-chrome", "Plan - Google Chrome (Incognito)", true},
        {"Chromium", "Plan - Chromium", false},
        {"", "", false},
    };
    struct fixture *f = *state;
    const struct stint_sink *k;
    struct stint_sample s = {0};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(stint_browser_private_title(cases[i].app, strlen(cases[i].app),
                                                     cases[i].title, strlen(cases[i].title)),
                         cases[i].priv);
    make(f, STINT_URL_FULL);
    tab(f, T0, 100, "http://127.0.0.1:8099/plan.html", "Plan", false);
    k = stint_browser_merge_sink(f->m);
    s.time_ms = T0 + 10;
    s.pid = 100;
    s.app = "firefox-esr";
    s.app_len = strlen(s.app);
    s.private_view = true;
    assert_int_equal(k->sample(k->ctx, &s, NULL), STINT_OK);
    window(f, T0 + 500, 200, "XTerm", "end");
    /* any source, with or without the merger: the tracker knows such a title too, and the
     * spell stays one record while the private window is retitled */
    k = stint_tracker_sink(f->t);
    s.time_ms = T0 + 1000;
    s.private_view = false;
    s.title = "Secret — Mozilla Firefox Private Browsing";
    s.title_len = strlen(s.title);
    assert_int_equal(k->sample(k->ctx, &s, NULL), STINT_OK);
    s.time_ms = T0 + 1500;
    s.title = "Other — Mozilla Firefox Private Browsing";
    s.title_len = strlen(s.title);
    assert_int_equal(k->sample(k->ctx, &s, NULL), STINT_OK);
    window(f, T0 + 2000, 200, "XTerm", "end2");
    read_all(f);
    expect(f, 0, STINT_KIND_PRIVATE, "", "", "", T0 + 10, T0 + 500);
    expect(f, 1, STINT_KIND_ACTIVE, "XTerm", "end", "", T0 + 500, T0 + 1000);
    expect(f, 2, STINT_KIND_PRIVATE, "", "", "", T0 + 1000, T0 + 2000);
    assert_int_equal(f->n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_day_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_title_fallback_and_two_browsers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incognito_unseen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blur_then_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_by_title, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
