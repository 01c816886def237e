/* test_config.c — stintd's config: defaults, every error path (file, line and key named),
 * command-line overrides, cross-key checks, the token file, and the example file. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmocka_all.h"
#include "config.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/stint-config-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        return -1;
    }
    setenv("HOME", "/home/tester", 1);
    setenv("XDG_CONFIG_HOME", "/cfg", 1);
    setenv("XDG_STATE_HOME", "/state", 1);
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_defaults(void **state)
{
    struct stint_config c;
    char path[256];
    (void)state;
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    assert_string_equal(c.source, "auto");
    assert_string_equal(c.journal, "/state/stint/journal");
    assert_string_equal(c.socket, "/run/user/1000/stint/control");
    assert_string_equal(c.token_file, "/cfg/stint/token");
    assert_int_equal(c.idle_after_ms, 180000);
    assert_int_equal(c.checkpoint_every_ms, 30000);
    assert_true(c.private_records);
    assert_int_equal(c.url_mode, STINT_URL_HOST);
    assert_int_equal(c.sync, STINT_SYNC_INTERVAL);
    assert_int_equal(c.full, STINT_FULL_DROP_OLDEST);
    assert_true(stint_config_default_path(path, sizeof(path)));
    assert_string_equal(path, "/cfg/stint/agent.ini");

    /* XDG unset: ~ based; no runtime dir: no socket, which finish reports */
    unsetenv("XDG_STATE_HOME");
    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    assert_string_equal(c.journal, "/home/tester/.local/state/stint/journal");
    assert_string_equal(c.socket, "");
    struct stint_error e;
    assert_int_equal(stint_config_finish(&c, &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "[agent] socket"));
    setenv("XDG_STATE_HOME", "/state", 1);
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
}

static void test_full_file(void **state)
{
    struct stint_config c;
    struct stint_error e;
    const char *text = "; comment\n"
                       "# another\n"
                       "[agent]\n"
                       "source = jsonl:~/events.jsonl\n"
                       "socket = /tmp/s\n"
                       "log_level = debug\n"
                       "\n"
                       "[tracker]\n"
                       "idle_after = 5m ; five minutes\n"
                       "checkpoint_every = 1500ms\n"
                       "private_records = off\n"
                       "url_mode = full\n"
                       "[sender]\n"
                       "server = https://stint.example/\n"
                       "token_file = ~/tok\n"
                       "ca_file = /etc/ca.pem\n"
                       "pinned_key = sha256//AAAA\n"
                       "encoding = json\n"
                       "gzip = no\n"
                       "batch_records = 42\n"
                       "batch_bytes = 64K\n"
                       "backoff_base = 250ms\n"
                       "backoff_cap = 1h\n"
                       "timeout = 10\n"
                       "[journal]\n"
                       "path = /var/j\n"
                       "sync = always\n"
                       "sync_interval = 2s\n"
                       "max_bytes = 1G\n"
                       "max_age = 0\n"
                       "full = drop_newest\n";
    (void)state;
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    assert_int_equal(stint_config_load_string(&c, text, "t.ini", &e), STINT_OK);
    assert_int_equal(stint_config_finish(&c, &e), STINT_OK);
    assert_string_equal(c.source, "jsonl:/home/tester/events.jsonl");
    assert_string_equal(c.socket, "/tmp/s");
    assert_int_equal(c.log_level, STINT_LOG_DEBUG);
    assert_int_equal(c.idle_after_ms, 300000);
    assert_int_equal(c.checkpoint_every_ms, 1500);
    assert_false(c.private_records);
    assert_int_equal(c.url_mode, STINT_URL_FULL);
    assert_string_equal(c.server, "https://stint.example/");
    assert_string_equal(c.token_file, "/home/tester/tok");
    assert_string_equal(c.ca_file, "/etc/ca.pem");
    assert_string_equal(c.pinned_key, "sha256//AAAA");
    assert_int_equal(c.encoding, STINT_ENCODING_JSON);
    assert_false(c.gzip);
    assert_int_equal(c.batch_records, 42);
    assert_int_equal(c.batch_bytes, 65536);
    assert_int_equal(c.backoff_base_ms, 250);
    assert_int_equal(c.backoff_cap_ms, 3600000);
    assert_int_equal(c.timeout_ms, 10000);
    assert_string_equal(c.journal, "/var/j");
    assert_int_equal(c.sync, STINT_SYNC_ALWAYS);
    assert_int_equal(c.sync_interval_ms, 2000);
    assert_int_equal(c.max_bytes, 1u << 30);
    assert_int_equal(c.max_age_ms, -1);
    assert_int_equal(c.full, STINT_FULL_DROP_NEWEST);
}

struct bad {
    const char *text;
    enum stint_err code;
    int line;
    const char *msg; /* expected message, after "bad.ini:LINE: " */
};

static const struct bad bads[] = {
    {"[tracker]\nidle_afterr = 3m\n", STINT_EINVAL, 2, "[tracker] idle_afterr: unknown key"},
    {"[agent]\nsource = x11\n[trackr]\nidle_after = 1\n", STINT_EINVAL, 4,
     "[trackr] idle_after: unknown section"},
    {"idle_after = 3m\n", STINT_EINVAL, 1, "idle_after: key outside any [section]"},
    {"[tracker]\n\nidle_after = soon\n", STINT_EINVAL, 3,
     "[tracker] idle_after: not a duration (like 30s, 5m, 500ms): \"soon\""},
    {"[tracker]\nidle_after = 1s\n", STINT_EINVAL, 2,
     "[tracker] idle_after: must be between 5000 ms and 86400000 ms"},
    {"[tracker]\nidle_after = 99999999999999999999999\n", STINT_EINVAL, 2,
     "[tracker] idle_after: not a duration (like 30s, 5m, 500ms): \"99999999999999999999999\""},
    {"[tracker]\nidle_after = -5\n", STINT_EINVAL, 2,
     "[tracker] idle_after: not a duration (like 30s, 5m, 500ms): \"-5\""},
    {"[tracker]\nprivate_records = maybe\n", STINT_EINVAL, 2,
     "[tracker] private_records: not on/off (or true/false, yes/no, 1/0): \"maybe\""},
    {"[tracker]\nurl_mode = path\n", STINT_EINVAL, 2,
     "[tracker] url_mode: \"path\" is not one of host full"},
    {"[tracker]\nidle_after = 3m\nidle_after = 4m\n", STINT_EINVAL, 3,
     "[tracker] idle_after: given twice (first on line 2)"},
    {"[tracker]\nthis line has no equals sign\n", STINT_ESYNTAX, 2,
     "not a [section], key = value or comment"},
    {"[tracker\n", STINT_ESYNTAX, 1, "not a [section], key = value or comment"},
    {"[agent]\nsource = mir\n", STINT_EINVAL, 2,
     "[agent] source: not auto, wayland, gnome, x11, stdin or jsonl:PATH: \"mir\""},
    {"[agent]\nsource = jsonl:\n", STINT_EINVAL, 2,
     "[agent] source: not auto, wayland, gnome, x11, stdin or jsonl:PATH: \"jsonl:\""},
    {"[journal]\npath =\n", STINT_EINVAL, 2, "[journal] path: must not be empty"},
    {"[journal]\nmax_bytes = 12 parsecs\n", STINT_EINVAL, 2,
     "[journal] max_bytes: not a size (like 512M, 64KiB): \"12 parsecs\""},
    {"[journal]\nmax_bytes = 1K\n", STINT_EINVAL, 2,
     "[journal] max_bytes: must be between 65536 and 9223372036854775807"},
    {"[journal]\nmax_age = 5m\n", STINT_EINVAL, 2,
     "[journal] max_age: must be 0 (keep forever) or at least 1h"},
    {"[journal]\nsync = sometimes\n", STINT_EINVAL, 2,
     "[journal] sync: \"sometimes\" is not one of always interval none"},
    {"[journal]\nfull = panic\n", STINT_EINVAL, 2,
     "[journal] full: \"panic\" is not one of drop_oldest drop_newest"},
    {"[sender]\nbatch_records = 0\n", STINT_EINVAL, 2,
     "[sender] batch_records: must be between 1 and 10000"},
    {"[sender]\nbatch_records = 12x\n", STINT_EINVAL, 2,
     "[sender] batch_records: not a whole number: \"12x\""},
    {"[sender]\nencoding = xml\n", STINT_EINVAL, 2,
     "[sender] encoding: \"xml\" is not one of protobuf json legacy-form legacy-json"},
    {"[agent]\nlog_level = loud\n", STINT_EINVAL, 2,
     "[agent] log_level: \"loud\" is not one of error warn info debug"},
    /* the first error is the one reported, later ones do not replace it */
    {"[tracker]\nbogus = 1\n[nope]\nx = 1\n", STINT_EINVAL, 2, "[tracker] bogus: unknown key"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct stint_config c;
        struct stint_error e;
        char want[300];
        assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
        enum stint_err rc = stint_config_load_string(&c, bads[i].text, "bad.ini", &e);
        snprintf(want, sizeof(want), "bad.ini:%d: %s", bads[i].line, bads[i].msg);
        if (rc != bads[i].code || strcmp(e.msg, want) != 0 || e.offset != (size_t)bads[i].line) {
            fail_msg("case %zu: rc %d, msg \"%s\" (offset %zu), want %d \"%s\"", i, rc, e.msg,
                     e.offset, bads[i].code, want);
        }
    }
}

static void test_long_line(void **state)
{
    struct stint_config c;
    struct stint_error e;
    char text[600];
    (void)state;
    (void)snprintf(text, sizeof(text), "[journal]\npath = /%0300d\n", 0);
    memset(strchr(text, '/') + 1, 'a', 300); /* 300 zeros become a 300-byte name */
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    assert_int_equal(stint_config_load_string(&c, text, "long.ini", &e), STINT_ESYNTAX);
    assert_non_null(strstr(e.msg, "long.ini:2: line longer than"));
    assert_string_equal(c.journal, "/state/stint/journal"); /* not half a path */
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_files(void **state)
{
    struct stint_config c;
    struct stint_error e;
    char path[300];
    (void)state;
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    snprintf(path, sizeof(path), "%s/missing.ini", tmpdir);
    assert_int_equal(stint_config_load(&c, path, &e), STINT_EIO);
    assert_non_null(strstr(e.msg, "missing.ini: cannot open"));

    snprintf(path, sizeof(path), "%s/a.ini", tmpdir);
    write_file(path, "[tracker]\r\nidle_after = 10m\r\n\r\n[journal]\nsync = none", 0644);
    assert_int_equal(stint_config_load(&c, path, &e), STINT_OK);
    assert_int_equal(c.idle_after_ms, 600000);
    assert_int_equal(c.sync, STINT_SYNC_NONE);

    write_file(path, "[tracker]\nurl_mode = host\nidle_after = 2\n", 0644);
    assert_int_equal(stint_config_load(&c, path, &e), STINT_EINVAL);
    char want[400];
    snprintf(want, sizeof(want), "%s:3: [tracker] idle_after: must be between", path);
    assert_non_null(strstr(e.msg, want));

    /* a NUL byte is refused with its line */
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "[tracker]\nurl_mode = h\0st\n", 26), 26);
    close(fd);
    assert_int_equal(stint_config_load(&c, path, &e), STINT_ESYNTAX);
    snprintf(want, sizeof(want), "%s:2: holds a NUL byte", path);
    assert_string_equal(e.msg, want);
}

static void test_command_line(void **state)
{
    struct stint_config c;
    struct stint_error e;
    (void)state;
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    assert_int_equal(stint_config_load_string(&c, "[tracker]\nidle_after = 10m\n", "f", &e),
                     STINT_OK);
    assert_int_equal(stint_config_set(&c, "tracker", "idle_after", "1m", "command line", &e),
                     STINT_OK);
    assert_int_equal(c.idle_after_ms, 60000);
    assert_int_equal(stint_config_set(&c, "journal", "path", "~/j", "--journal", &e), STINT_OK);
    assert_string_equal(c.journal, "/home/tester/j");
    assert_int_equal(stint_config_set(&c, "tracker", "idle", "1m", "command line", &e),
                     STINT_EINVAL);
    assert_string_equal(e.msg, "command line: [tracker] idle: unknown key");
    assert_int_equal(stint_config_set(&c, "agent", "source", "jsonl", "--source", &e),
                     STINT_EINVAL);
    assert_string_equal(
        e.msg,
        "--source: [agent] source: not auto, wayland, gnome, x11, stdin or jsonl:PATH: \"jsonl\"");
}

static void test_finish(void **state)
{
    struct stint_config c;
    struct stint_error e;
    (void)state;
    static const struct {
        const char *section, *key, *value, *msg;
    } cases[] = {
        {"sender", "backoff_base", "10m", "[sender] backoff_base (600000 ms) is above backoff_cap"},
        {"sender", "server", "http://stint.example", "[sender] server: must be an https:// URL"},
        {"sender", "server", "ftp://x", "[sender] server: must be an https:// URL"},
        /* the host is parsed, not the URL's start compared: these are not loopback */
        {"sender", "server", "http://127.example.com", "[sender] server: must be an https:// URL"},
        {"sender", "server", "http://localhost.evil.com/", "[sender] server: must be an https://"},
        {"sender", "server", "http://127.0.0.1.evil.com:80", "[sender] server: must be an https"},
        {"sender", "server", "http://[::1]x/", "[sender] server: must be an https:// URL"},
        {"sender", "server", "http://localhost@evil.com/", "[sender] server: must be an https://"},
        {"sender", "pinned_key", "md5//x", "[sender] pinned_key: must be sha256//"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
        assert_int_equal(
            stint_config_set(&c, cases[i].section, cases[i].key, cases[i].value, "t", &e),
            STINT_OK);
        assert_int_equal(stint_config_finish(&c, &e), STINT_EINVAL);
        if (!strstr(e.msg, cases[i].msg)) {
            fail_msg("case %zu: \"%s\"", i, e.msg);
        }
    }
    /* loopback http is allowed (tests), https anywhere */
    static const char *const ok[] = {"http://127.0.0.1:8443", "http://localhost:1/",
                                     "http://[::1]:9/",       "https://stint.example",
                                     "http://127.1.2.3:80/v", "http://localhost",
                                     "http://LOCALHOST:8080", "http://[::1]"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
        assert_int_equal(stint_config_set(&c, "sender", "server", ok[i], "t", &e), STINT_OK);
        assert_int_equal(stint_config_finish(&c, &e), STINT_OK);
    }
}

static void test_token(void **state)
{
    struct stint_config c;
    struct stint_error e;
    char tok[STINT_CONFIG_TOKEN_MAX + 1];
    size_t len = 0;
    (void)state;
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    snprintf(c.token_file, sizeof(c.token_file), "%s/token", tmpdir);

    write_file(c.token_file, "s3cr3t-token-value\n", 0600);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_OK);
    assert_string_equal(tok, "s3cr3t-token-value");
    assert_int_equal(len, 18);

    static const mode_t bad_modes[] = {0640, 0604, 0620, 0644, 0660, 0601};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        assert_int_equal(chmod(c.token_file, bad_modes[i]), 0);
        assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_EINVAL);
        assert_non_null(strstr(e.msg, "lets group or others at it"));
        assert_null(strstr(e.msg, "s3cr3t")); /* never the token */
        assert_int_equal(len, 0);
        assert_string_equal(tok, "");
    }
    assert_int_equal(chmod(c.token_file, 0400), 0);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_OK);

    write_file(c.token_file, "  \n", 0600);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "empty"));
    write_file(c.token_file, "two words\n", 0600);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_EINVAL);
    assert_null(strstr(e.msg, "words"));
    char big[STINT_CONFIG_TOKEN_MAX + 10];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_file(c.token_file, big, 0600);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "longer than"));
    snprintf(c.token_file, sizeof(c.token_file), "%s", tmpdir);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_EINVAL);
    assert_non_null(strstr(e.msg, "not a regular file"));
    snprintf(c.token_file, sizeof(c.token_file), "%s/none", tmpdir);
    assert_int_equal(stint_config_read_token(&c, tok, sizeof(tok), &len, &e), STINT_EIO);
}

/* packaging/agent.ini.example loads cleanly, gives exactly the defaults, and names every key. */
static void test_example(void **state)
{
    struct stint_config def, c;
    struct stint_error e;
    const char *section = NULL, *name = NULL;
    char path[1024], text[16384];
    (void)state;
    snprintf(path, sizeof(path), "%s/packaging/agent.ini.example", STINT_SOURCE_DIR);
    assert_int_equal(stint_config_defaults(&def, NULL), STINT_OK);
    assert_int_equal(stint_config_defaults(&c, NULL), STINT_OK);
    if (stint_config_load(&c, path, &e) != STINT_OK) {
        fail_msg("%s", e.msg);
    }
    assert_memory_equal(&def, &c, sizeof(c));

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    for (size_t i = 0; stint_config_key(i, &section, &name); i++) {
        char sec[64], line[128];
        snprintf(sec, sizeof(sec), "[%s]", section);
        const char *s = strstr(text, sec);
        assert_non_null(s);
        snprintf(line, sizeof(line), "\n%s =", name);
        char line2[128];
        snprintf(line2, sizeof(line2), "\n;%s =", name);
        if (!strstr(s, line) && !strstr(s, line2)) {
            fail_msg("agent.ini.example does not name [%s] %s", section, name);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_files),    cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_finish),   cmocka_unit_test(test_token),
        cmocka_unit_test(test_example),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
