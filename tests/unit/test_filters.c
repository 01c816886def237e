/* test_filters.c — [filters] rules (agent/filters.c): every match kind and action, table-driven;
 * rule errors; first match wins; the config's [filters] section with file:line errors. */
#include <stdio.h>
#include <string.h>

#include "cmocka_all.h"
#include "config.h"
#include "filters.h"

struct apply_case {
    const char *rule;
    const char *app, *path, *title, *url; /* the sample; url as the source gave it */
    int matched;                          /* 0: the rule applies, -1: it does not */
    /* what the record holds afterwards */
    int32_t kind;
    const char *e_app, *e_path, *e_title, *e_url;
};

#define MAIL "Inbox (3) - alice@example.com - Gmail"
static const struct apply_case cases[] = {
    /* app glob, case ignored */
    {"drop app keepass*", "KeePassXC", "/usr/bin/keepassxc", "db.kdbx", "", 0, STINT_KIND_PRIVATE,
     "", "", "", ""},
    {"drop app keepass*", "firefox", "/usr/bin/firefox", "x", "", -1, STINT_KIND_ACTIVE, "firefox",
     "/usr/bin/firefox", "x", ""},
    /* path glob: * crosses '/', case counts */
    {"no-url path /opt/*", "tool", "/opt/corp/bin/tool", "t", "https://a.example", 0,
     STINT_KIND_ACTIVE, "tool", "/opt/corp/bin/tool", "t", ""},
    {"no-url path /opt/*", "tool", "/OPT/x", "t", "https://a.example", -1, STINT_KIND_ACTIVE,
     "tool", "/OPT/x", "t", "https://a.example"},
    /* title regex (PCRE2) */
    {"redact-title title (?i)gmail$", "firefox", "/usr/bin/firefox", MAIL,
     "https://mail.google.com", 0, STINT_KIND_ACTIVE, "firefox", "/usr/bin/firefox", "firefox",
     "https://mail.google.com"},
    {"redact-title:Mail title @\\w+\\.com", "firefox", "/p", MAIL, "", 0, STINT_KIND_ACTIVE,
     "firefox", "/p", "Mail", ""},
    {"redact-title title ^Gmail", "firefox", "/p", MAIL, "", -1, STINT_KIND_ACTIVE, "firefox", "/p",
     MAIL, ""},
    {"drop title ^Bank statement", "evince", "/usr/bin/evince", "Bank statement 2026.pdf", "", 0,
     STINT_KIND_PRIVATE, "", "", "", ""},
    /* a title that is not UTF-8 still matches by its valid parts */
    {"drop title secret", "vim", "/usr/bin/vim", "\xff\xfe secret", "", 0, STINT_KIND_PRIVATE, "",
     "", "", ""},
    /* host glob, case ignored, userinfo and port are not part of the host */
    {"drop host *.bank.example", "firefox", "/p", "Account",
     "https://u:pw@WWW.Bank.Example:8443/acct", 0, STINT_KIND_PRIVATE, "", "", "", ""},
    {"drop host *.bank.example", "firefox", "/p", "Account", "https://bank.example.evil.test/", -1,
     STINT_KIND_ACTIVE, "firefox", "/p", "Account", "https://bank.example.evil.test"},
    {"drop host *.bank.example", "firefox", "/p", "Account", "", -1, STINT_KIND_ACTIVE, "firefox",
     "/p", "Account", ""},
    {"no-url host localhost", "firefox", "/p", "Dev", "localhost:8080/app", 0, STINT_KIND_ACTIVE,
     "firefox", "/p", "Dev", ""},
    {"drop host about", "firefox", "/p", "New tab", "about:blank", -1, STINT_KIND_ACTIVE, "firefox",
     "/p", "New tab", "about:"},
};

/* Builds the record the tracker would (url cut by url_mode) and applies one rule to it. */
static int run(const char *rule, const char *app, const char *path, const char *title,
               const char *url, enum stint_url_mode mode, struct stint_record *r)
{
    struct stint_filters *f = NULL;
    struct stint_error e;
    char cut[STINT_URL_MAX + 1];
    int rc;

    assert_int_equal(stint_filters_create(&f), STINT_OK);
    if (stint_filters_add(f, rule, "test", &e) != STINT_OK) {
        fail_msg("rule \"%s\": %s", rule, e.msg);
    }
    stint_record_clear(r);
    r->kind = STINT_KIND_ACTIVE;
    r->start_ms = 1000;
    r->end_ms = 2000;
    stint_record_set(r, STINT_FIELD_APP, app, strlen(app));
    stint_record_set(r, STINT_FIELD_PATH, path, strlen(path));
    stint_record_set(r, STINT_FIELD_TITLE, title, strlen(title));
    size_t n = stint_url_cut(url, strlen(url), mode, cut, sizeof(cut));
    stint_record_set(r, STINT_FIELD_URL, cut, n);
    rc = stint_filters_apply(f, r, url, strlen(url));
    stint_filters_destroy(f);
    return rc;
}

static void test_cases(void **state)
{
    (void)state;
    static struct stint_record r;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct apply_case *c = &cases[i];
        int rc = run(c->rule, c->app, c->path, c->title, c->url, STINT_URL_HOST, &r);
        if (rc != c->matched || r.kind != c->kind || strcmp(r.app, c->e_app) != 0 ||
            strcmp(r.path, c->e_path) != 0 || strcmp(r.title, c->e_title) != 0 ||
            strcmp(r.url, c->e_url) != 0) {
            fail_msg("case %zu (%s): rc %d kind %d app \"%s\" path \"%s\" title \"%s\" url \"%s\"",
                     i, c->rule, rc, r.kind, r.app, r.path, r.title, r.url);
        }
        /* times are never changed */
        assert_int_equal(r.start_ms, 1000);
        assert_int_equal(r.end_ms, 2000);
    }
}

static void test_host_only(void **state)
{
    (void)state;
    static struct stint_record r;
    /* url_mode = full keeps the path, host-only cuts it back for the matching sites */
    assert_int_equal(run("host-only host *.corp.example", "firefox", "/p", "Wiki",
                         "https://wiki.corp.example/secret/page?id=7", STINT_URL_FULL, &r),
                     0);
    assert_string_equal(r.url, "https://wiki.corp.example");
    assert_int_equal(run("host-only host *.corp.example", "firefox", "/p", "Wiki",
                         "https://other.example/page?id=7", STINT_URL_FULL, &r),
                     -1);
    assert_string_equal(r.url, "https://other.example/page?id=7");
}

static void test_first_match_wins(void **state)
{
    (void)state;
    static struct stint_record r;
    struct stint_filters *f = NULL;
    struct stint_error e;
    assert_int_equal(stint_filters_create(&f), STINT_OK);
    assert_int_equal(stint_filters_add(f, "redact-title app firefox", "a", &e), STINT_OK);
    assert_int_equal(stint_filters_add(f, "drop title Gmail", "b", &e), STINT_OK);
    assert_int_equal(stint_filters_count(f), 2);
    stint_record_clear(&r);
    r.kind = STINT_KIND_ACTIVE;
    stint_record_set(&r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(&r, STINT_FIELD_TITLE, MAIL, strlen(MAIL));
    assert_int_equal(stint_filters_apply(f, &r, NULL, 0), 0);
    assert_int_equal(r.kind, STINT_KIND_ACTIVE);
    assert_string_equal(r.title, "firefox");
    /* idle and private records are left alone */
    stint_record_clear(&r);
    r.kind = STINT_KIND_IDLE;
    assert_int_equal(stint_filters_apply(f, &r, NULL, 0), -1);
    assert_int_equal(stint_filters_apply(NULL, &r, NULL, 0), -1);
    stint_filters_destroy(f);
}

/* Regression: rules kept pointers into their own text, and the list is realloc'd as it grows,
 * so the first rules of a long list matched on freed memory (found by agent_filters). */
static void test_many_rules(void **state)
{
    (void)state;
    static struct stint_record r;
    struct stint_filters *f = NULL;
    struct stint_error e;
    char rule[64];
    assert_int_equal(stint_filters_create(&f), STINT_OK);
    assert_int_equal(stint_filters_add(f, "redact-title:FIRST app keepass*", "a", &e), STINT_OK);
    for (int i = 0; i < STINT_FILTERS_MAX - 1; i++) {
        snprintf(rule, sizeof(rule), "drop app other-app-%d", i);
        assert_int_equal(stint_filters_add(f, rule, "b", &e), STINT_OK);
    }
    assert_int_equal(stint_filters_add(f, "drop app one-too-many", "c", &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "more than 64 rules"));
    stint_record_clear(&r);
    r.kind = STINT_KIND_ACTIVE;
    stint_record_set(&r, STINT_FIELD_APP, "KeePassXC", 9);
    stint_record_set(&r, STINT_FIELD_TITLE, "vault", 5);
    assert_int_equal(stint_filters_apply(f, &r, NULL, 0), 0);
    assert_string_equal(r.title, "FIRST");
    stint_record_set(&r, STINT_FIELD_APP, "other-app-62", 12);
    assert_int_equal(stint_filters_apply(f, &r, NULL, 0), 63);
    assert_int_equal(r.kind, STINT_KIND_PRIVATE);
    stint_filters_destroy(f);
}

static void test_bad_rules(void **state)
{
    (void)state;
    static const struct {
        const char *rule, *msg;
    } bad[] = {
        {"", "empty"},
        {"hide app x", "unknown action \"hide\""},
        {"drop", "no match kind"},
        {"drop window x", "unknown match \"window\""},
        {"drop app", "no pattern after \"app\""},
        {"drop title (unclosed", "title regex at byte 9"},
        {"drop title a{2,1}", "title regex"},
    };
    struct stint_error e;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(stint_filters_check(bad[i].rule, "agent.ini:7", &e), STINT_EINVAL);
        if (strncmp(e.msg, "agent.ini:7: [filters] rule: ", 29) != 0 ||
            !strstr(e.msg, bad[i].msg)) {
            fail_msg("\"%s\": message \"%s\"", bad[i].rule, e.msg);
        }
    }
    char longrule[STINT_FILTER_RULE_MAX + 8];
    memset(longrule, 'a', sizeof(longrule) - 1);
    memcpy(longrule, "drop app ", 9);
    longrule[sizeof(longrule) - 1] = '\0';
    assert_int_equal(stint_filters_check(longrule, "x", &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "longer than"));
}

static void test_config_section(void **state)
{
    (void)state;
    static struct stint_config c;
    struct stint_error e;
    struct stint_filters *f = NULL;

    assert_int_equal(stint_config_defaults(&c, &e), STINT_OK);
    assert_int_equal(stint_config_load_string(&c,
                                              "[tracker]\nurl_mode = full\n[filters]\n"
                                              "rule = drop app keepassxc\n"
                                              "rule = redact-title title (?i)inbox \\(\\d+\\)\n",
                                              "agent.ini", &e),
                     STINT_OK);
    assert_int_equal(c.n_filters, 2);
    assert_string_equal(c.filters[1], "redact-title title (?i)inbox \\(\\d+\\)");
    assert_string_equal(c.filter_where[1], "agent.ini:5");
    assert_int_equal(
        stint_config_set(&c, "filters", "rule", "no-url host *.example", "command line", &e),
        STINT_OK);
    assert_int_equal(stint_config_filters(&c, &f, &e), STINT_OK);
    assert_int_equal(stint_filters_count(f), 3);
    stint_filters_destroy(f);

    /* a bad rule: the file, its line, the section and what is wrong */
    assert_int_equal(stint_config_defaults(&c, &e), STINT_OK);
    assert_int_equal(
        stint_config_load_string(&c, "[filters]\nrule = drop app x\n\nrule = drop title ([a-z]\n",
                                 "agent.ini", &e),
        STINT_EINVAL);
    assert_int_equal(e.offset, 4);
    if (strncmp(e.msg, "agent.ini:4: [filters] rule: title regex at byte ", 48) != 0) {
        fail_msg("message \"%s\"", e.msg);
    }
    assert_int_equal(stint_config_defaults(&c, &e), STINT_OK);
    assert_int_equal(stint_config_load_string(&c, "[filters]\nexclude = x\n", "agent.ini", &e),
                     STINT_EINVAL);
    assert_string_equal(e.msg, "agent.ini:2: [filters] exclude: unknown key (rule)");
    assert_int_equal(stint_config_set(&c, "filters", "rule", "drop nothing", "command line", &e),
                     STINT_EINVAL);
    assert_non_null(strstr(e.msg, "command line: [filters] rule: unknown match"));
    /* no rules: no list */
    assert_int_equal(stint_config_defaults(&c, &e), STINT_OK);
    f = (struct stint_filters *)1;
    assert_int_equal(stint_config_filters(&c, &f, &e), STINT_OK);
    assert_null(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_host_only),
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_many_rules),
        cmocka_unit_test(test_config_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
