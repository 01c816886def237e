/* test_jsonl_event.c — the JSONL event-line parser (agent/jsonl_event.c, on yajl).
 *
 * The parser must accept exactly the lines jansson accepts (JSON_REJECT_DUPLICATES, no
 * JSON_ALLOW_NUL), and refuse a raw NUL byte, where jansson stops reading: every JSONTestSuite
 * parsing case is tried as a whole line and as the value
 * of an unknown member, and the verdicts are compared with jansson's. A table then checks the
 * events handed back and the messages of spec/AGENT.md section 1, including the places where
 * yajl alone is laxer (lone surrogates, overlong UTF-8, "\u0000", duplicate members).
 */
#include "cmocka_all.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl_event.h"

static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* Whether jansson takes `s` as JSON (an object or array, duplicates refused). */
static bool jansson_ok(const char *s, size_t n)
{
    json_error_t e;
    json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, &e);

    json_decref(v);
    return v != NULL;
}

/* The valid documents the event format refuses on purpose. */
static bool jansson_refuses_too(const char *name)
{
    static const char *const refused[] = {
        "y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json",
        "y_string_null_escape.json", "y_object_escaped_null_in_key.json"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (strcmp(name, refused[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void test_json_test_suite_agrees_with_jansson(void **state)
{
    static char doc[1 << 16], line[(1 << 16) + 64];
    struct stint_jsonl_parser *p = NULL;
    struct stint_jsonl_event ev;
    struct dirent *de;
    char msg[200];
    int compared = 0;
    DIR *d = opendir(STINT_JSON_TEST_SUITE);

    (void)state;
    if (!d) {
        fail_msg("JSONTestSuite not found at %s", STINT_JSON_TEST_SUITE);
    }
    assert_int_equal(stint_jsonl_parser_create(&p), STINT_OK);
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        size_t n;
        char kind = de->d_name[0];
        if ((kind != 'y' && kind != 'n' && kind != 'i') || de->d_name[1] != '_') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", STINT_JSON_TEST_SUITE, de->d_name);
        n = slurp(path, doc, sizeof(doc));
        while (n && (doc[n - 1] == '\n' || doc[n - 1] == '\r')) {
            n--;
        }
        if (memchr(doc, '\n', n) || memchr(doc, '\r', n) || n > 60000) {
            continue; /* a line holds no line break; the big nesting cases are over the cap */
        }
        /* the file as a whole line: JSON or not, as jansson says */
        enum stint_err err = stint_jsonl_parse(p, doc, n, &ev, msg, sizeof(msg));
        assert_int_not_equal(err, STINT_ENOMEM);
        if ((err != STINT_EJSON) != (jansson_ok(doc, n) && !memchr(doc, 0, n))) {
            fail_msg("%s as a line: jsonl_event says %s (%s), jansson the opposite", de->d_name,
                     err == STINT_EJSON ? "not JSON" : "JSON", msg);
        }
        /* the file as the value of an unknown member of a valid event */
        static const char head[] = "{\"time\": 1, \"x\": ";
        size_t len = sizeof(head) - 1;
        memcpy(line, head, len);
        memcpy(line + len, doc, n); /* memcpy: a case may hold a NUL byte */
        len += n;
        line[len++] = '}';
        err = stint_jsonl_parse(p, line, len, &ev, msg, sizeof(msg));
        /* jansson ends the text at a raw NUL byte and ignores the rest: such a line is not
         * JSON (RFC 8259 has no raw control characters), and the parser says so */
        bool ok = jansson_ok(line, len) && !memchr(doc, 0, n);
        if ((err == STINT_OK) != ok) {
            fail_msg("%s as a member: jsonl_event says %s (%s), jansson %s", de->d_name,
                     err == STINT_OK ? "OK" : "refused", msg, ok ? "OK" : "refused");
        }
        /* spec/AGENT.md refuses duplicate members (RFC 8259 only discourages them) and "\u0000"
         * (a NUL cannot reach a record), as jansson does above */
        if (kind == 'y' && err != STINT_OK && !jansson_refuses_too(de->d_name)) {
            fail_msg("%s: a valid document refused as a member: %s", de->d_name, msg);
        }
        if (kind == 'n' && err == STINT_OK) {
            fail_msg("%s: an invalid document accepted as a member", de->d_name);
        }
        compared++;
    }
    closedir(d);
    stint_jsonl_parser_destroy(p);
    assert_true(compared > 250); /* the suite has 318 cases; a few hold line breaks */
}

struct row {
    const char *line;
    enum stint_err err;
    const char *msg; /* the message starts so */
    enum stint_jsonl_kind kind;
    const char *title; /* OK rows: the title handed back */
};

static const struct row rows[] = {
    {"{\"time\": 5, \"app\": \"a\", \"title\": \"T\\u00fc\", \"url\": null}", STINT_OK, "",
     STINT_JSONL_FOCUS, "T\xc3\xbc"},
    {"{\"time\": 5, \"idle\": true, \"title\": \"x\"}", STINT_OK, "", STINT_JSONL_IDLE, "x"},
    {"{\"time\": 5, \"idle\": false, \"title\": \"y\"}", STINT_OK, "", STINT_JSONL_FOCUS, "y"},
    /* the first line a parser sees holds only empty strings (found by UBSan under libFuzzer) */
    {"{\"time\": 5, \"title\": \"\"}", STINT_OK, "", STINT_JSONL_FOCUS, ""},
    {"{\"time\": 5, \"private\": false}", STINT_OK, "", STINT_JSONL_PRIVATE, ""},
    {"{\"x\": {\"time\": \"no\"}, \"time\": 253402300799999}", STINT_OK, "", STINT_JSONL_FOCUS, ""},
    {"{\"time\": 5, \"title\": \"\\ud83d\\ude00\"}", STINT_OK, "", STINT_JSONL_FOCUS,
     "\xf0\x9f\x98\x80"},
    {"{\"time\": 5, \"title\": \"a\\\\ud800\"}", STINT_OK, "", STINT_JSONL_FOCUS, "a\\ud800"},
    {"{\"time\": 5,}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"time\": 6}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"a\": {\"b\": 1, \"b\": 2}}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"a\": 1, \"\\u0061\": 2}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"a\": [{\"b\": 1}, {\"b\": 2}]}", STINT_OK, "", STINT_JSONL_FOCUS, ""},
    {"{\"time\": 5, \"title\": \"\\ud800\"}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"title\": \"\\udc00x\"}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"title\": \"\\ud800\\u0041\"}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"title\": \"a\\u0000b\"}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"title\": \"\xc0\xaf\"}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"title\": \"\xed\xa0\x80\"}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"\xf4\x90\x80\x80\": 1}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5} x", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5}{}", STINT_EJSON, "not JSON (column", 0, NULL},
    /* yajl alone takes these: an unfinished token after the object is never finished */
    {"{\"time\": 5} \"x", STINT_EJSON, "not JSON (column 13): trailing garbage", 0, NULL},
    {"{\"time\": 5}\n\":", STINT_EJSON, "not JSON (column 13): trailing garbage", 0, NULL},
    {"{\"time\": 5} tr", STINT_EJSON, "not JSON (column 15): ", 0, NULL},
    {"{\"time\": 5, \"a\": x}", STINT_EJSON, "not JSON (column 19): ", 0, NULL},
    {"{\"time\": 5} \r\n", STINT_OK, "", STINT_JSONL_FOCUS, ""},
    {"{\"time\": 99999999999999999999}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"x\": [-9223372036854775808, 9223372036854775807, 1e-400]}", STINT_OK, "",
     STINT_JSONL_FOCUS, ""},
    {"{\"time\": 5, \"x\": -9223372036854775809}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"{\"time\": 5, \"x\": 1e400}", STINT_EJSON, "not JSON (column", 0, NULL},
    {"7", STINT_EJSON, "not JSON (column", 0, NULL},
    {"[1, 2]", STINT_ETYPE, "not a JSON object", 0, NULL},
    {"{\"app\": \"a\"}", STINT_ETYPE, "no \"time\"", 0, NULL},
    {"{\"time\": 1.0}", STINT_ETYPE, "\"time\" is not a whole number", 0, NULL},
    {"{\"time\": 0}", STINT_ETYPE, "\"time\" is not a whole number", 0, NULL},
    {"{\"time\": 253402300800000}", STINT_ETYPE, "\"time\" is not a whole number", 0, NULL},
    {"{\"time\": \"5\"}", STINT_ETYPE, "\"time\" is not a whole number", 0, NULL},
    {"{\"time\": 5, \"idle\": 1}", STINT_ETYPE, "\"idle\" is not true or false", 0, NULL},
    {"{\"time\": 5, \"private\": null}", STINT_ETYPE, "\"private\" is not true or false", 0, NULL},
    {"{\"time\": 5, \"idle\": true, \"private\": false}", STINT_ETYPE,
     "\"idle\" and \"private\" in one event", 0, NULL},
    {"{\"time\": 5, \"url\": [\"u\"]}", STINT_ETYPE, "\"url\" is not a string", 0, NULL},
    {"{\"time\": 5, \"app\": {}}", STINT_ETYPE, "\"app\" is not a string", 0, NULL},
};

static void test_events_and_messages(void **state)
{
    struct stint_jsonl_parser *p = NULL;
    struct stint_jsonl_event ev;
    char msg[200];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        /* a new parser for each row: a first line finds the scratch buffers empty */
        stint_jsonl_parser_destroy(p);
        assert_int_equal(stint_jsonl_parser_create(&p), STINT_OK);
        enum stint_err err = stint_jsonl_parse(p, r->line, strlen(r->line), &ev, msg, sizeof(msg));
        if (err != r->err || strncmp(msg, r->msg, strlen(r->msg)) != 0) {
            fail_msg("row %zu (%s): error %d \"%s\", want %d \"%s...\"", i, r->line, err, msg,
                     r->err, r->msg);
        }
        if (err == STINT_OK) {
            assert_int_equal(ev.kind, r->kind);
            assert_int_equal(ev.title_len, strlen(r->title));
            assert_memory_equal(ev.title, r->title, ev.title_len);
        }
    }
    stint_jsonl_parser_destroy(p);
}

/* Thousands of members: the sorted duplicate check finds the one repeated key, and a line of
 * unique ones passes (the pairwise check would be quadratic here). */
static void test_many_members(void **state)
{
    static char line[1 << 16];
    struct stint_jsonl_parser *p = NULL;
    struct stint_jsonl_event ev;
    char msg[200];
    size_t n = 0;

    (void)state;
    assert_int_equal(stint_jsonl_parser_create(&p), STINT_OK);
    n += (size_t)snprintf(line + n, sizeof(line) - n, "{\"time\": 7");
    for (int k = 0; k < 2000; k++) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, ", \"k%d\": %d", k, k);
    }
    snprintf(line + n, sizeof(line) - n, "}");
    assert_int_equal(stint_jsonl_parse(p, line, n + 1, &ev, msg, sizeof(msg)), STINT_OK);
    assert_int_equal(ev.time_ms, 7);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ", \"k1234\": 0}");
    assert_int_equal(stint_jsonl_parse(p, line, n, &ev, msg, sizeof(msg)), STINT_EJSON);
    assert_non_null(strstr(msg, "duplicate"));
    stint_jsonl_parser_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_test_suite_agrees_with_jansson),
        cmocka_unit_test(test_events_and_messages),
        cmocka_unit_test(test_many_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
