/* test_legacy.c — the legacy shapes (codec/legacy*.c): the documented sample against the
 * vectors PHP printed, exact bytes of the escapes PHP uses, the mapping of kinds and times,
 * round trips of seeded random batches, the variants the readers accept, repair and cut of
 * strings, malformed inputs with their error codes and offsets, limits, and allocation
 * failures. The comparison with PHP itself on 2,000 random batches is tests/legacy/. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "random_batch.h"
#include "stint/format.h"
#include "stint/legacy.h"

#define S(x) x, sizeof(x) - 1

static const enum stint_legacy_shape readable[] = {STINT_LEGACY_PHP, STINT_LEGACY_JSON,
                                                   STINT_LEGACY_FORM};
static const enum stint_legacy_shape all_shapes[] = {STINT_LEGACY_PHP, STINT_LEGACY_SERIALIZE,
                                                     STINT_LEGACY_JSON, STINT_LEGACY_FORM};

/* --- helpers ------------------------------------------------------------------------------ */

struct collect {
    struct stint_record *recs;
    size_t n, cap;
};

static enum stint_err collect_fn(void *ctx, const struct stint_record *r)
{
    struct collect *c = ctx;

    if (c->n == c->cap)
        return STINT_ELIMIT;
    stint_record_copy(&c->recs[c->n++], r);
    return STINT_OK;
}

struct fixture {
    struct stint_batch head, got;
    struct stint_record recs[RB_MAX_RECORDS + 1];
    struct stint_record want[RB_MAX_RECORDS + 1];
    struct stint_record col_recs[RB_MAX_RECORDS + 1];
    struct collect col;
    struct stint_buf out;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->col.recs = f->col_recs;
    f->col.cap = RB_MAX_RECORDS + 1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    stint_buf_free(&f->out);
    free(f);
    return 0;
}

static enum stint_err encode(struct fixture *f, enum stint_legacy_shape shape, size_t n)
{
    struct stint_record_array arr = {f->recs, n, 0};
    struct stint_record_iter it = stint_record_array_iter(&arr);

    stint_buf_reset(&f->out);
    return stint_legacy_encode(shape, &f->head, &it, &f->out);
}

static enum stint_err decode(struct fixture *f, enum stint_legacy_shape shape, const char *text,
                             size_t len, struct stint_error *err)
{
    f->col.n = 0;
    return stint_legacy_decode(shape, text, len, &f->got, collect_fn, &f->col, NULL, err);
}

static void set_text(struct stint_record *r, enum stint_field bit, const char *s)
{
    assert_int_equal(stint_record_set(r, bit, s, strlen(s)), STINT_OK);
}

/* The documented sample: one open record (the v1 vector desktime-sample.json holds the same). */
static void make_sample(struct stint_batch *h)
{
    stint_batch_clear(h);
    h->now_ms = 1314172183000;
    stint_batch_set_version(h, S("1.0.4289"));
    h->has_current = true;
    h->current.kind = STINT_KIND_ACTIVE;
    h->current.start_ms = 1314172181000;
    set_text(&h->current, STINT_FIELD_APP, "firefox");
    set_text(&h->current, STINT_FIELD_PATH, "\\Mozilla Firefox\\firefox.exe");
    set_text(&h->current, STINT_FIELD_TITLE, "jQuery UI - Datepicker Demos & Documentation");
    set_text(&h->current, STINT_FIELD_URL, "jqueryui.com");
}

static char *read_file(const char *rel, size_t *len)
{
    char path[1024];
    FILE *fp;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", STINT_SOURCE_DIR, rel);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void assert_out(const struct stint_buf *b, const char *want, size_t len)
{
    if (b->len != len || memcmp(b->data, want, len) != 0) {
        print_error("got %zu bytes: %.*s\nwant %zu bytes: %.*s\n", b->len, (int)b->len,
                    (const char *)b->data, len, (int)len, want);
        fail();
    }
}

/* --- the documented sample ---------------------------------------------------------------- */

static const char *const vector_files[] = {
    "spec/vectors/desktime-sample.php", "spec/vectors/desktime-sample.ser",
    "spec/vectors/desktime-sample.legacy.json", "spec/vectors/desktime-sample.form"};

/* Our four outputs of the sample are the bytes PHP printed (tests/legacy/make_vectors.php). */
static void test_sample_vectors(void **state)
{
    struct fixture *f = *state;
    size_t i;

    make_sample(&f->head);
    for (i = 0; i < 4; i++) {
        size_t len;
        char *want = read_file(vector_files[i], &len);

        assert_int_equal(encode(f, all_shapes[i], 0), STINT_OK);
        assert_out(&f->out, want, len);
        free(want);
    }
}

/* The vectors decode back to the sample model (the open record as head->current). */
static void test_sample_decodes(void **state)
{
    struct fixture *f = *state;
    struct stint_decode_info info;
    struct stint_error err;
    size_t i;

    make_sample(&f->head);
    for (i = 0; i < 4; i++) {
        size_t len;
        char *text = read_file(vector_files[i], &len);

        f->col.n = 0;
        if (all_shapes[i] == STINT_LEGACY_SERIALIZE) {
            assert_int_equal(stint_legacy_decode(all_shapes[i], text, len, &f->got, collect_fn,
                                                 &f->col, &info, &err),
                             STINT_EUNSUPPORTED);
            free(text);
            continue;
        }
        assert_int_equal(stint_legacy_decode(all_shapes[i], text, len, &f->got, collect_fn, &f->col,
                                             &info, &err),
                         STINT_OK);
        free(text);
        assert_int_equal(f->col.n, 0);
        assert_int_equal(info.records, 0);
        assert_int_equal(info.unknown_fields, 0);
        assert_int_equal(f->got.now_ms, f->head.now_ms);
        assert_int_equal(f->got.client_version_len, 8);
        assert_memory_equal(f->got.client_version, "1.0.4289", 8);
        assert_true(f->got.has_current);
        assert_true(stint_record_equal(&f->got.current, &f->head.current));
    }
}

/* --- exact bytes: escapes, times, mapping ------------------------------------------------- */

/* The expected texts below are PHP 8.2's own output for the array of make_edge(), printed by
 * var_export/serialize/json_encode/http_build_query (hex-dumped, then written as C strings). */
static const char edge_php[] =
    "array (\n  'now' => '-1',\n  'version' => 'v\\'\\\\',\n  'log' => \n  array (\n    0 => \n"
    "    array (\n      'app' => 'a\\'b\\\\c' . \"\\0\" . 'd',\n      'path' => '/x?y#z&w=1+2%3 "
    "[ok]',\n      'win' => '\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8\t\r\n\x01\x7f\"',\n      'url' "
    "=> '',\n      'start' => '0',\n      'end' => '1',\n    ),\n  ),\n)";
static const char edge_ser[] =
    "a:3:{s:3:\"now\";s:2:\"-1\";s:7:\"version\";s:3:\"v'\\\";s:3:\"log\";a:1:{i:0;a:6:{s:3:\"app"
    "\";s:7:\"a'b\\c\x00"
    "d\";s:4:\"path\";s:19:\"/x?y#z&w=1+2%3 [ok]\";s:3:\"win\";s:15:\"\xc3\xa9\xf0\x9f\x98\x80\xe2"
    "\x80\xa8\t\r\n\x01\x7f\"\";s:3:\"url\";s:0:\"\";s:5:\"start\";s:1:\"0\";s:3:\"end\";s:1:\"1\";"
    "}}"
    "}";
static const char edge_json[] =
    "{\"now\":\"-1\",\"version\":\"v'\\\\\",\"log\":[{\"app\":\"a'b\\\\c\\u0000d\",\"path\":\"\\/"
    "x?y#z&"
    "w=1+2%3 [ok]\",\"win\":\"\\u00e9\\ud83d\\ude00\\u2028\\t\\r\\n\\u0001\x7f\\\"\",\"url\":\"\","
    "\"start\":\"0\",\"end\":\"1\"}]}";
static const char edge_form[] =
    "now=-1&version=v%27%5C&log%5B0%5D%5Bapp%5D=a%27b%5Cc%00d&log%5B0%5D%5Bpath%5D=%2Fx%3Fy%23z%26"
    "w%3D1%2B2%253+%5Bok%5D&log%5B0%5D%5Bwin%5D=%C3%A9%F0%9F%98%80%E2%80%A8%09%0D%0A%01%7F%22&log%"
    "5B0%5D%5Burl%5D=&log%5B0%5D%5Bstart%5D=0&log%5B0%5D%5Bend%5D=1";

static void make_edge(struct fixture *f)
{
    struct stint_record *r = &f->recs[0];

    stint_batch_clear(&f->head);
    f->head.now_ms = -1; /* floor: -1 s, not 0 */
    stint_batch_set_version(&f->head, S("v'\\"));
    stint_record_clear(r);
    r->seq = 7;
    r->kind = STINT_KIND_ACTIVE;
    r->start_ms = 999; /* 0 s */
    r->end_ms = 1000;  /* 1 s */
    assert_int_equal(stint_record_set(r, STINT_FIELD_APP, S("a'b\\c\0d")), STINT_OK);
    set_text(r, STINT_FIELD_PATH, "/x?y#z&w=1+2%3 [ok]");
    set_text(r, STINT_FIELD_TITLE, "\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8\t\r\n\x01\x7f\"");
}

static void test_edge_bytes(void **state)
{
    struct fixture *f = *state;

    make_edge(f);
    assert_int_equal(encode(f, STINT_LEGACY_PHP, 1), STINT_OK);
    assert_out(&f->out, edge_php, sizeof(edge_php) - 1);
    assert_int_equal(encode(f, STINT_LEGACY_SERIALIZE, 1), STINT_OK);
    assert_out(&f->out, edge_ser, sizeof(edge_ser) - 1);
    assert_int_equal(encode(f, STINT_LEGACY_JSON, 1), STINT_OK);
    assert_out(&f->out, edge_json, sizeof(edge_json) - 1);
    assert_int_equal(encode(f, STINT_LEGACY_FORM, 1), STINT_OK);
    assert_out(&f->out, edge_form, sizeof(edge_form) - 1);
}

/* An empty batch, as PHP prints ['now' => '1', 'version' => '', 'log' => []]. */
static void test_empty_batch(void **state)
{
    static const char *const want[] = {
        "array (\n  'now' => '1',\n  'version' => '',\n  'log' => \n  array (\n  ),\n)",
        "a:3:{s:3:\"now\";s:1:\"1\";s:7:\"version\";s:0:\"\";s:3:\"log\";a:0:{}}",
        "{\"now\":\"1\",\"version\":\"\",\"log\":[]}",
        "now=1&version=",
    };
    struct fixture *f = *state;
    struct stint_error err;
    size_t i;

    stint_batch_clear(&f->head);
    f->head.now_ms = 1999;
    for (i = 0; i < 4; i++) {
        assert_int_equal(encode(f, all_shapes[i], 0), STINT_OK);
        assert_out(&f->out, want[i], strlen(want[i]));
        if (all_shapes[i] == STINT_LEGACY_SERIALIZE)
            continue;
        assert_int_equal(decode(f, all_shapes[i], want[i], strlen(want[i]), &err), STINT_OK);
        assert_int_equal(f->got.now_ms, 1000);
        assert_int_equal(f->got.client_version_len, 0);
        assert_false(f->got.has_current);
        assert_int_equal(f->col.n, 0);
    }
}

/* Only active (and unspecified) records reach 'log'; idle, private, gap and unknown kinds do
 * not, nor an idle open record; 'end' only when closed; indexes count what is written. */
static void test_mapping_kinds(void **state)
{
    static const int32_t kinds[] = {
        STINT_KIND_IDLE,       STINT_KIND_ACTIVE, STINT_KIND_PRIVATE, STINT_KIND_GAP, 9,
        STINT_KIND_UNSPECIFIED};
    static const char want[] =
        "{\"now\":\"5\",\"version\":\"1\",\"log\":[{\"app\":\"r1\",\"path\":\"\",\"win\":\"\","
        "\"url\":\"\",\"start\":\"11\",\"end\":\"12\"},{\"app\":\"r5\",\"path\":\"\",\"win\":\"\","
        "\"url\":\"\",\"start\":\"15\",\"end\":\"16\"}]}";
    struct fixture *f = *state;
    size_t i;

    stint_batch_clear(&f->head);
    f->head.now_ms = 5000;
    stint_batch_set_version(&f->head, S("1"));
    for (i = 0; i < 6; i++) {
        char app[4];

        stint_record_clear(&f->recs[i]);
        f->recs[i].seq = i + 1;
        f->recs[i].kind = kinds[i];
        f->recs[i].start_ms = (int64_t)(10 + i) * 1000 + 999;
        f->recs[i].end_ms = (int64_t)(11 + i) * 1000;
        if (kinds[i] == STINT_KIND_GAP)
            f->recs[i].gap_count = 3;
        snprintf(app, sizeof(app), "r%zu", i);
        set_text(&f->recs[i], STINT_FIELD_APP, app);
    }
    f->head.has_current = true;
    f->head.current.kind = STINT_KIND_IDLE;
    f->head.current.start_ms = 20000;
    assert_int_equal(encode(f, STINT_LEGACY_JSON, 6), STINT_OK);
    assert_out(&f->out, want, sizeof(want) - 1);
}

/* A closed record whose end is 0 s (within the first second after the epoch) is written
 * without 'end', as its projection is: the array cannot tell 0 s from "open". Regression: found
 * by fuzz_roundtrip_legacy (end_ms 17 was written as 'end' => '0' and read back as open). */
static void test_end_in_first_second(void **state)
{
    static const char want[] = "now=0&version=&log%5B0%5D%5Bapp%5D=&log%5B0%5D%5Bpath%5D=&log%5B0%"
                               "5D%5Bwin%5D=&log%5B0%5D%5Burl%5D=&log%5B0%5D%5Bstart%5D=-1";
    struct fixture *f = *state;
    struct stint_error err;

    stint_batch_clear(&f->head);
    stint_record_clear(&f->recs[0]);
    f->recs[0].seq = 1;
    f->recs[0].kind = STINT_KIND_ACTIVE;
    f->recs[0].start_ms = -1;
    f->recs[0].end_ms = 17;
    assert_int_equal(encode(f, STINT_LEGACY_FORM, 1), STINT_OK);
    assert_out(&f->out, want, sizeof(want) - 1);
    /* and it reads back as the open record */
    assert_int_equal(decode(f, STINT_LEGACY_FORM, (const char *)f->out.data, f->out.len, &err),
                     STINT_OK);
    assert_int_equal(f->col.n, 0);
    assert_true(f->got.has_current);
    assert_int_equal(f->got.current.start_ms, -1000);
    assert_int_equal(f->got.current.end_ms, 0);
}

/* Times floor to seconds, also below zero and at the ends of int64. */
static void test_floor_times(void **state)
{
    static const struct {
        int64_t ms;
        const char *s;
    } cases[] = {{0, "0"},
                 {999, "0"},
                 {1000, "1"},
                 {-1, "-1"},
                 {-999, "-1"},
                 {-1000, "-1"},
                 {-1001, "-2"},
                 {1314172183999, "1314172183"},
                 {INT64_MAX, "9223372036854775"},
                 {INT64_MIN, "-9223372036854776"}};
    struct fixture *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[64];

        stint_batch_clear(&f->head);
        f->head.now_ms = cases[i].ms;
        assert_int_equal(encode(f, STINT_LEGACY_FORM, 0), STINT_OK);
        snprintf(want, sizeof(want), "now=%s&version=", cases[i].s);
        assert_out(&f->out, want, strlen(want));
    }
}

/* --- round trips -------------------------------------------------------------------------- */

/* Every output of the emitters decodes back to the projection of the batch, and encodes again
 * to the same bytes (500 seeded random batches, three readable shapes). */
static void test_random_round_trips(void **state)
{
    struct fixture *f = *state;
    struct rb_rng g = {42};
    struct stint_buf again = {0};
    struct stint_batch *want_head = calloc(1, sizeof(*want_head));
    size_t b, s;

    assert_non_null(want_head);
    for (b = 0; b < 500; b++) {
        size_t n = rb_batch(&g, &f->head, f->recs);
        size_t nwant = rb_project(&f->head, f->recs, n, want_head, f->want);

        for (s = 0; s < 3; s++) {
            struct stint_error err;
            struct stint_record_array arr;
            struct stint_record_iter it;
            size_t i;

            assert_int_equal(encode(f, readable[s], n), STINT_OK);
            if (decode(f, readable[s], (const char *)f->out.data, f->out.len, &err) != STINT_OK) {
                print_error("batch %zu shape %d: %s\n", b, (int)readable[s], err.msg);
                fail();
            }
            assert_int_equal(f->col.n, nwant);
            for (i = 0; i < nwant; i++)
                assert_true(stint_record_equal(&f->col.recs[i], &f->want[i]));
            assert_int_equal(f->got.now_ms, want_head->now_ms);
            assert_int_equal(f->got.has_current, want_head->has_current);
            if (want_head->has_current)
                assert_true(stint_record_equal(&f->got.current, &want_head->current));
            arr = (struct stint_record_array){f->col.recs, f->col.n, 0};
            it = stint_record_array_iter(&arr);
            stint_buf_reset(&again);
            assert_int_equal(stint_legacy_encode(readable[s], &f->got, &it, &again), STINT_OK);
            assert_int_equal(again.len, f->out.len);
            assert_memory_equal(again.data, f->out.data, f->out.len);
        }
    }
    stint_buf_free(&again);
    free(want_head);
}

/* --- what the readers accept -------------------------------------------------------------- */

struct variant {
    const char *name;
    const char *text;
    size_t len;
    uint64_t unknown;
};

/* Each of these means the documented sample. */
static const struct variant php_variants[] = {
    {"no trailing commas",
     S("array ('now' => '1314172183', 'version' => '1.0.4289', 'log' => array (0 => array ("
       "'app' => 'firefox', 'path' => '\\\\Mozilla Firefox\\\\firefox.exe', 'win' => 'jQuery UI"
       " - Datepicker Demos & Documentation', 'url' => 'jqueryui.com', 'start' => '1314172181'"
       ")))"),
     0},
    {"array( and a closing );",
     S("array('now'=>'1314172183','version'=>'1.0.4289','log'=>array(0=>array('app'=>'firefox'"
       ",'path'=>'\\\\Mozilla Firefox\\\\firefox.exe','win'=>'jQuery UI - Datepicker Demos & Do"
       "cumentation','url'=>'jqueryui.com','start'=>'1314172181',),),);"),
     0},
    {"short arrays, keywords in capitals, CRLF and tabs",
     S("[\r\n\t'now' => '1314172183',\r\n\t'version' => '1.0.4289',\r\n\t'log' => ARRAY (\r\n"
       "\t\t0 => Array ('app' => 'firefox', 'path' => '\\Mozilla Firefox\\firefox.exe', 'win' "
       "=> 'jQuery UI - Datepicker Demos & Documentation', 'url' => 'jqueryui.com', 'start' => "
       "'1314172181'),\r\n\t),\r\n]\r\n;\r\n"),
     0},
    {"integers, double quotes, concatenation, no keys",
     S("array ('now' => 1314172183, 'version' => \"1.0.4289\", 'log' => array (array ('app' "
       "=> \"fire\" . 'fox', 'path' => \"\\\\Mozilla Firefox\\\\firefox.exe\", 'win' => 'jQuery "
       "UI - Datepicker Demos ' . \"\\x26 Documentation\", 'url' => \"jqueryui\\u{2E}com\", "
       "'start' => 1314172181)))"),
     0},
    {"unknown members are skipped and counted; NULL is absent",
     S("array ('x' => array (1, 2.5, -3, true, NULL, array ()), 'now' => '1314172183', "
       "'version' => '1.0.4289', 'log' => array (0 => array ('app' => 'firefox', 'path' => "
       "'\\\\Mozilla Firefox\\\\firefox.exe', 'win' => 'jQuery UI - Datepicker Demos & Documen"
       "tation', 'url' => 'jqueryui.com', 'start' => '1314172181', 'end' => NULL, 'pid' => "
       "'42')), 'a key longer than sixty-four bytes, which the reader keeps apart' => 1)"),
     3},
    {"a duplicate key replaces the value, as in PHP",
     S("array ('now' => '1', 'version' => '1.0.4289', 'log' => array (0 => array ('app' => "
       "'x', 'path' => '\\\\Mozilla Firefox\\\\firefox.exe', 'win' => 'jQuery UI - Datepicker "
       "Demos & Documentation', 'url' => 'jqueryui.com', 'start' => '1314172181', 'app' => "
       "'firefox')), 'now' => '1314172183')"),
     0},
};

static const struct variant json_variants[] = {
    {"log as an object, integer times, spaces",
     S(" { \"now\" : 1314172183 , \"version\" : \"1.0.4289\" , \"log\" : { \"0\" : { \"app\" : "
       "\"firefox\" , \"path\" : \"\\\\Mozilla Firefox\\\\firefox.exe\" , \"win\" : \"jQuery UI "
       "- Datepicker Demos \\u0026 Documentation\" , \"url\" : \"jqueryui.com\" , \"start\" : "
       "1314172181 } } } "),
     0},
    {"unescaped slashes and UTF-8 as is, unknown members, null end",
     S("{\"log\":[{\"app\":\"firefox\",\"path\":\"\\\\Mozilla Firefox\\\\firefox.exe\",\"win\":"
       "\"jQuery UI - Datepicker Demos & Documentation\",\"url\":\"jqueryui.com\",\"start\":"
       "\"1314172181\",\"end\":null,\"x\":[1,{}]}],\"now\":\"1314172183\",\"version\":\"1.0.42"
       "89\",\"y\":1}"),
     2},
};

static const struct variant form_variants[] = {
    {"raw brackets, pairs of a record in any order, %20 and +",
     S("log[0][start]=1314172181&log[0][url]=jqueryui.com&version=1.0.4289&log[0][win]=jQuery"
       "%20UI+-+Datepicker+Demos+%26+Documentation&log[0][path]=%5cMozilla+Firefox%5Cfirefox.e"
       "xe&log[0][app]=firefox&now=1314172183"),
     0},
    {"empty pieces, no '=', a later pair wins, lone %, unknown names",
     S("&&now=1&now=1314172183&version=1.0.4289&flag&a.b=%&log%5B0%5D%5Bapp%5D=x&log%5B0%5D%5Bap"
       "p%5D=firefox&log%5B0%5D%5Bpath%5D=%5CMozilla+Firefox%5Cfirefox.exe&log%5B0%5D%5Bwin%5D"
       "=jQuery+UI+-+Datepicker+Demos+%26+Documentation&log%5B0%5D%5Burl%5D=jqueryui.com&log%5"
       "B0%5D%5Bstart%5D=1314172181&"),
     2},
    {"leading spaces of a name are dropped, a scalar becomes an array",
     S("+now=1314172183&version=1.0.4289&log=x&log[0][app]=firefox&log[0][path]=%5CMozilla+Fi"
       "refox%5Cfirefox.exe&log[0][win]=jQuery+UI+-+Datepicker+Demos+%26+Documentation&log[0]"
       "[url]=jqueryui.com&log[0][start]=1314172181"),
     0},
};

static void check_variants(struct fixture *f, enum stint_legacy_shape shape,
                           const struct variant *v, size_t n)
{
    struct stint_decode_info info;
    struct stint_error err;
    size_t i;

    make_sample(&f->head);
    for (i = 0; i < n; i++) {
        f->col.n = 0;
        if (stint_legacy_decode(shape, v[i].text, v[i].len, &f->got, collect_fn, &f->col, &info,
                                &err) != STINT_OK) {
            print_error("%s: %s\n", v[i].name, err.msg);
            fail();
        }
        if (!f->got.has_current || !stint_record_equal(&f->got.current, &f->head.current) ||
            f->got.now_ms != f->head.now_ms || f->got.client_version_len != 8 ||
            info.unknown_fields != v[i].unknown || f->col.n != 0) {
            print_error("%s: decoded to another model (unknown %llu)\n", v[i].name,
                        (unsigned long long)info.unknown_fields);
            fail();
        }
    }
}

static void test_php_variants(void **state)
{
    check_variants(*state, STINT_LEGACY_PHP, php_variants,
                   sizeof(php_variants) / sizeof(php_variants[0]));
}

static void test_json_variants(void **state)
{
    check_variants(*state, STINT_LEGACY_JSON, json_variants,
                   sizeof(json_variants) / sizeof(json_variants[0]));
}

static void test_form_variants(void **state)
{
    check_variants(*state, STINT_LEGACY_FORM, form_variants,
                   sizeof(form_variants) / sizeof(form_variants[0]));
}

/* Closed records are numbered by position in 'log'; an open record that is not the last stays
 * a record (end 0); keys of 'log' need not be 0..n-1. */
static void test_decode_numbering(void **state)
{
    static const char text[] =
        "array ('log' => array (5 => array ('start' => '1', 'end' => '2'), 'k' => array ('start' "
        "=> '3'), -1 => array ('start' => '4', 'end' => '5')))";
    struct fixture *f = *state;
    struct stint_error err;

    assert_int_equal(decode(f, STINT_LEGACY_PHP, S(text), &err), STINT_OK);
    assert_int_equal(f->col.n, 3);
    assert_int_equal(f->col.recs[0].seq, 1);
    assert_int_equal(f->col.recs[0].start_ms, 1000);
    assert_int_equal(f->col.recs[0].end_ms, 2000);
    assert_int_equal(f->col.recs[0].kind, STINT_KIND_ACTIVE);
    assert_int_equal(f->col.recs[1].seq, 2);
    assert_int_equal(f->col.recs[1].end_ms, 0);
    assert_int_equal(f->col.recs[2].seq, 3);
    assert_false(f->got.has_current);
}

/* Strings of a legacy payload are bytes: invalid UTF-8 is repaired and flagged, over-long values
 * cut and flagged; legacy JSON that is not UTF-8 is refused. */
static void test_repair_and_cut(void **state)
{
    struct fixture *f = *state;
    struct stint_error err;
    char *big;
    size_t n;

    assert_int_equal(decode(f, STINT_LEGACY_PHP,
                            S("array ('log' => array (array ('win' => 'a\xff"
                              "b', 'app' => "
                              "\"\\xc3\", 'start' => '1', 'end' => '1')))"),
                            &err),
                     STINT_OK);
    assert_int_equal(f->col.n, 1);
    assert_int_equal(f->col.recs[0].repaired, STINT_FIELD_TITLE | STINT_FIELD_APP);
    assert_int_equal(f->col.recs[0].title_len, 5);
    assert_memory_equal(f->col.recs[0].title,
                        "a\xef\xbf\xbd"
                        "b",
                        5);
    assert_int_equal(decode(f, STINT_LEGACY_FORM, S("log[0][url]=%FF&log[0][start]=1"), &err),
                     STINT_OK);
    assert_true(f->got.has_current);
    assert_int_equal(f->got.current.repaired, STINT_FIELD_URL);
    assert_int_equal(decode(f, STINT_LEGACY_JSON, S("{\"now\":\"1\",\"version\":\"a\xff\"}"), &err),
                     STINT_EUTF8);
    assert_int_equal(err.offset, 23);

    /* an app of 300 bytes: cut to 256 and flagged */
    big = malloc(400);
    assert_non_null(big);
    n = (size_t)snprintf(big, 400, "log[0][start]=1&log[0][app]=");
    memset(big + n, 'x', 300);
    assert_int_equal(decode(f, STINT_LEGACY_FORM, big, n + 300, &err), STINT_OK);
    assert_int_equal(f->got.current.app_len, STINT_APP_MAX);
    assert_int_equal(f->got.current.truncated, STINT_FIELD_APP);
    free(big);
}

/* --- malformed input ---------------------------------------------------------------------- */

struct bad {
    const char *text;
    size_t len;
    enum stint_err code;
    long offset; /* -1: not checked */
};

#define BAD(t, c, o)                                                                               \
    {                                                                                              \
        S(t), c, o                                                                                 \
    }

static const struct bad bad_php[] = {
    BAD("", STINT_ETRUNC, 0),
    BAD("   ", STINT_ETRUNC, 3),
    BAD("array (", STINT_ETRUNC, 7),
    BAD("array ('now' => '1'", STINT_ETRUNC, 19),
    BAD("array ('now' => '1", STINT_ETRUNC, 18),
    BAD("array ('now' => \"1", STINT_ETRUNC, 18),
    BAD("array", STINT_ETRUNC, 5),
    BAD("array ('now' => '1',, )", STINT_ESYNTAX, 20),
    BAD("array ('now' '1')", STINT_ESYNTAX, 13),
    BAD("array ('now' => )", STINT_ESYNTAX, 16),
    BAD("array ('now' => $x)", STINT_ESYNTAX, 16),
    BAD("array ('now' => \"a$x\")", STINT_ESYNTAX, 18),
    BAD("array ('now' => \"{$x}\")", STINT_ESYNTAX, 17),
    BAD("array ('now' => FOO)", STINT_ESYNTAX, 16),
    BAD("array ('now' => time())", STINT_ESYNTAX, 16),
    BAD("array ('now' => 0x10)", STINT_ESYNTAX, 16),
    BAD("array ('now' => 012)", STINT_ESYNTAX, 16),
    BAD("array ('now' => 1e)", STINT_ESYNTAX, 16),
    BAD("array ('now' => -)", STINT_ESYNTAX, 16),
    BAD("array (1.5 => 'x')", STINT_ESYNTAX, 7),
    BAD("array (NULL => 'x')", STINT_ESYNTAX, 7),
    BAD("array ('a' => 'b') junk", STINT_ESYNTAX, 19),
    BAD("array ('a' => 'b');;", STINT_ESYNTAX, 19),
    BAD("array ('a' . 5 => 'b')", STINT_ESYNTAX, 13),
    BAD("array ('now' => \"\\u{110000}\")", STINT_ESYNTAX, 17),
    BAD("array ('now' => \"\\u{41\")", STINT_ESYNTAX, 17),
    BAD("array ('now' => \"\\u{}\")", STINT_ESYNTAX, 17),
    BAD("array ('a' => 'b' \0)", STINT_ESYNTAX, 18),
    BAD("array ['a']", STINT_ESYNTAX, 6),
    BAD("'a string, not an array'", STINT_ETYPE, 0),
    BAD("array ('log' => 'x')", STINT_ETYPE, 16),
    BAD("array ('log' => array (0 => 'x'))", STINT_ETYPE, 28),
    BAD("array ('log' => array (0 => array ('app' => 'x')))", STINT_ETYPE, 28),
    BAD("array ('now' => 'abc')", STINT_ETYPE, 16),
    BAD("array ('now' => '9223372036854776')", STINT_ETYPE, 16),
    BAD("array ('now' => 1.5)", STINT_ETYPE, 16),
    BAD("array ('version' => array ())", STINT_ETYPE, 20),
    BAD("array ('log' => array (array ('start' => '1', 'app' => 5)))", STINT_ETYPE, 55),
    BAD("array ('log' => array (array ('start' => '1', 'end' => '')))", STINT_ETYPE, 55),
    BAD("array ('log' => array (array ('start' => '+1')))", STINT_ETYPE, 41),
};

static const struct bad bad_json[] = {
    BAD("", STINT_EJSON, -1),
    BAD("{", STINT_EJSON, -1),
    BAD("{\"now\":}", STINT_EJSON, -1),
    BAD("{\"now\":\"1\",}", STINT_EJSON, -1),
    BAD("{'now':'1'}", STINT_EJSON, -1),
    BAD("{\"now\":\"1\"} x", STINT_EJSON, -1),
    BAD("{\"now\":\"1\" \"version\":\"2\"}", STINT_EJSON, -1),
    BAD("{\"now\":\"\\ud800\"}", STINT_EJSON, -1),
    BAD("{\"now\":99999999999999999999}", STINT_EJSON, -1),
    BAD("{\"now\":\"1\"}\0", STINT_EJSON, -1),
    BAD("\xff", STINT_EUTF8, 0),
    BAD("{\"now\":\"\xc3\"}", STINT_EUTF8, 8),
    BAD("{\"now\":\"\xed\xa0\x80\"}", STINT_EUTF8, 8),
    BAD("[]", STINT_ETYPE, 0),
    BAD("\"str\"", STINT_ETYPE, 0),
    BAD("{\"log\":\"x\"}", STINT_ETYPE, 7),
    BAD("{\"log\":[1]}", STINT_ETYPE, 8),
    BAD("{\"log\":[{\"app\":\"x\"}]}", STINT_ETYPE, 8),
    BAD("{\"now\":1.5}", STINT_ETYPE, 7),
    BAD("{\"now\":\"1.5\"}", STINT_ETYPE, 7),
    BAD("{\"now\":true}", STINT_ETYPE, 7),
    BAD("{\"now\":\"-\"}", STINT_ETYPE, 7),
    BAD("{\"now\":\"\"}", STINT_ETYPE, 7),
    BAD("{\"now\":\"99999999999999999999\"}", STINT_ETYPE, 7),
    BAD("{\"version\":5}", STINT_ETYPE, 11),
    BAD("{\"log\":[{\"start\":\"1\",\"win\":[]}]}", STINT_ETYPE, 27),
    BAD("{\"log\":[{\"start\":\"1\",\"end\":\"x\"}]}", STINT_ETYPE, 27),
    BAD("{\"now\":\"1\", \"n\\u006fw\" : \"x\"}", STINT_ETYPE, 25),
    BAD("{\"log\":5,\"x\":{\"a\\\"]\":[\"}\"]},\"log\":\n [ {\"start\":\"1\"}, 7]}", STINT_ETYPE,
        53),
    BAD("[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]", STINT_ELIMIT, 16),
};

static const struct bad bad_form[] = {
    BAD("now=1&\0", STINT_ESYNTAX, 6),
    BAD("now=1&=2", STINT_ESYNTAX, 6),
    BAD("%20=1", STINT_ESYNTAX, 0),
    BAD("[a]=1", STINT_ESYNTAX, 0),
    BAD("now=1&log[0=1", STINT_ESYNTAX, 6),
    BAD("log[0]x=1", STINT_ESYNTAX, 0),
    BAD("log[a]b[c]=1", STINT_ESYNTAX, 0),
    BAD("log[]=1", STINT_ESYNTAX, 0),
    BAD("log%5B%5D%5Bapp%5D=x", STINT_ESYNTAX, 0),
    BAD("log[0][start]=1&log[0][start][]=2", STINT_ESYNTAX, 16),
    BAD("a%00b=1", STINT_ESYNTAX, 0),
    BAD("a[b%00]=1", STINT_ESYNTAX, 0),
    BAD("a[1][2][3][4][5][6][7][8][9][10][11][12][13][14][15][16]=1", STINT_ELIMIT, 0),
    BAD("log=x", STINT_ETYPE, 0),
    BAD("now=1&log[0]=x", STINT_ETYPE, 6),
    BAD("log[0][app]=x", STINT_ETYPE, 0),
    BAD("log[0][start]=abc", STINT_ETYPE, 0),
    BAD("log[0][start]=1&log[0][app][x]=y", STINT_ETYPE, 16),
    BAD("now=", STINT_ETYPE, 0),
    BAD("now", STINT_ETYPE, 0),
    BAD("now=1.5", STINT_ETYPE, 0),
    BAD("now=99999999999999999", STINT_ETYPE, 0),
    BAD("now=%2B1", STINT_ETYPE, 0),
    BAD("version[a]=1", STINT_ETYPE, 0),
    BAD("now[x]=1", STINT_ETYPE, 0),
    BAD("log[0][start]=1&log[0][end]=-", STINT_ETYPE, 16),
    BAD("log[0][start]=+1", STINT_ETYPE, 0),
};

static void check_bad(struct fixture *f, enum stint_legacy_shape shape, const struct bad *b,
                      size_t n)
{
    size_t i;

    assert_true(n >= 20);
    for (i = 0; i < n; i++) {
        struct stint_error err;
        enum stint_err e = decode(f, shape, b[i].text, b[i].len, &err);

        if (e != b[i].code || err.code != b[i].code ||
            (b[i].offset >= 0 && err.offset != (size_t)b[i].offset) || !err.msg[0]) {
            print_error("case %zu %.*s: got %s at %zu (%s), want %s at %ld\n", i, (int)b[i].len,
                        b[i].text, stint_strerror(e), err.offset, err.msg,
                        stint_strerror(b[i].code), b[i].offset);
            fail();
        }
    }
}

static void test_bad_php(void **state)
{
    check_bad(*state, STINT_LEGACY_PHP, bad_php, sizeof(bad_php) / sizeof(bad_php[0]));
}

static void test_bad_json(void **state)
{
    check_bad(*state, STINT_LEGACY_JSON, bad_json, sizeof(bad_json) / sizeof(bad_json[0]));
}

static void test_bad_form(void **state)
{
    check_bad(*state, STINT_LEGACY_FORM, bad_form, sizeof(bad_form) / sizeof(bad_form[0]));
}

/* --- limits ------------------------------------------------------------------------------- */

/* STINT_LEGACY_MAX_DEPTH nested arrays are fine, one more is refused, in every reader. */
static void test_depth_limit(void **state)
{
    struct fixture *f = *state;
    struct stint_buf b = {0};
    struct stint_error err;
    int d, i;

    for (d = STINT_LEGACY_MAX_DEPTH; d <= STINT_LEGACY_MAX_DEPTH + 1; d++) {
        enum stint_err want = d > STINT_LEGACY_MAX_DEPTH ? STINT_ELIMIT : STINT_OK;

        stint_buf_reset(&b);
        for (i = 0; i < d; i++)
            assert_int_equal(stint_buf_append_str(&b, i ? "array(" : "array('x'=>"), STINT_OK);
        for (i = 0; i < d; i++)
            assert_int_equal(stint_buf_append_str(&b, ")"), STINT_OK);
        assert_int_equal(decode(f, STINT_LEGACY_PHP, (char *)b.data, b.len, &err), want);

        stint_buf_reset(&b);
        for (i = 0; i < d; i++)
            assert_int_equal(stint_buf_append_str(&b, i ? "[" : "{\"x\":"), STINT_OK);
        for (i = 0; i < d; i++)
            assert_int_equal(stint_buf_append_str(&b, i + 1 < d ? "]" : "}"), STINT_OK);
        assert_int_equal(decode(f, STINT_LEGACY_JSON, (char *)b.data, b.len, &err), want);

        stint_buf_reset(&b);
        assert_int_equal(stint_buf_append_str(&b, "x"), STINT_OK);
        for (i = 1; i < d; i++)
            assert_int_equal(stint_buf_append_str(&b, "[a]"), STINT_OK);
        assert_int_equal(stint_buf_append_str(&b, "=1"), STINT_OK);
        assert_int_equal(decode(f, STINT_LEGACY_FORM, (char *)b.data, b.len, &err), want);
    }
    stint_buf_free(&b);
}

/* More than STINT_LEGACY_MAX_VALUES values is refused by every reader. */
static void test_value_limit(void **state)
{
    struct fixture *f = *state;
    struct stint_buf b = {0};
    struct stint_error err;
    size_t i, n = STINT_LEGACY_MAX_VALUES + 1;

    assert_int_equal(stint_buf_append_str(&b, "array("), STINT_OK);
    for (i = 0; i < n; i++)
        assert_int_equal(stint_buf_append(&b, "1,", 2), STINT_OK);
    assert_int_equal(stint_buf_append_str(&b, ")"), STINT_OK);
    assert_int_equal(decode(f, STINT_LEGACY_PHP, (char *)b.data, b.len, &err), STINT_ELIMIT);

    stint_buf_reset(&b);
    assert_int_equal(stint_buf_append_str(&b, "{\"x\":[1"), STINT_OK);
    for (i = 0; i < n; i++)
        assert_int_equal(stint_buf_append(&b, ",1", 2), STINT_OK);
    assert_int_equal(stint_buf_append_str(&b, "]}"), STINT_OK);
    assert_int_equal(decode(f, STINT_LEGACY_JSON, (char *)b.data, b.len, &err), STINT_ELIMIT);

    stint_buf_reset(&b);
    for (i = 0; i < n; i++)
        assert_int_equal(stint_buf_append(&b, "a=&", 3), STINT_OK);
    assert_int_equal(decode(f, STINT_LEGACY_FORM, (char *)b.data, b.len, &err), STINT_ELIMIT);
    stint_buf_free(&b);
}

/* Input over STINT_DECODE_MAX_INPUT is refused before it is read. */
static void test_input_limit(void **state)
{
    struct fixture *f = *state;
    static const char small[] = "x";
    struct stint_error err;
    size_t i;

    for (i = 0; i < 3; i++) {
        assert_int_equal(decode(f, readable[i], small, STINT_DECODE_MAX_INPUT + 1, &err),
                         STINT_ELIMIT);
        assert_int_equal(err.code, STINT_ELIMIT);
    }
}

/* --- API edges, encoder failures ---------------------------------------------------------- */

static void test_api_edges(void **state)
{
    struct fixture *f = *state;
    struct stint_error err;
    const struct stint_format *fmt;

    make_sample(&f->head);
    assert_int_equal(encode(f, (enum stint_legacy_shape)0, 0), STINT_EINVAL);
    assert_int_equal(encode(f, (enum stint_legacy_shape)99, 0), STINT_EINVAL);
    assert_int_equal(decode(f, (enum stint_legacy_shape)99, S("x"), &err), STINT_EINVAL);
    assert_int_equal(decode(f, STINT_LEGACY_SERIALIZE, S("a:0:{}"), &err), STINT_EUNSUPPORTED);
    assert_int_equal(stint_legacy_decode(STINT_LEGACY_JSON, NULL, 0, NULL, NULL, NULL, NULL, &err),
                     STINT_EINVAL);
    assert_int_equal(stint_legacy_shape_find("php"), STINT_LEGACY_PHP);
    assert_int_equal(stint_legacy_shape_find("php-serialize"), STINT_LEGACY_SERIALIZE);
    assert_int_equal(stint_legacy_shape_find("legacy-json"), STINT_LEGACY_JSON);
    assert_int_equal(stint_legacy_shape_find("form"), STINT_LEGACY_FORM);
    assert_int_equal(stint_legacy_shape_find("json"), 0);
    assert_int_equal(stint_legacy_shape_find(NULL), 0);
    /* the stint-codec table */
    fmt = stint_format_find("php-serialize");
    assert_non_null(fmt);
    assert_null(fmt->decode_batch);
    assert_non_null(fmt->encode_batch);
    assert_non_null(stint_format_find("php")->decode_batch);
    assert_non_null(stint_format_find("legacy-json")->decode_batch);
    assert_non_null(stint_format_find("form")->decode_batch);
    /* NULL fn: only the header and the counts */
    assert_int_equal(stint_legacy_decode(STINT_LEGACY_FORM,
                                         S("now=3&log[0][start]=1&log[0][end]"
                                           "=2"),
                                         &f->got, NULL, NULL, NULL, &err),
                     STINT_OK);
    assert_int_equal(f->got.now_ms, 3000);
}

static enum stint_err stop_fn(void *ctx, const struct stint_record *r)
{
    (void)ctx;
    (void)r;
    return STINT_EIO;
}

/* The record function can stop decoding; its code comes back. */
static void test_fn_stops(void **state)
{
    struct fixture *f = *state;
    struct stint_error err;

    assert_int_equal(stint_legacy_decode(STINT_LEGACY_FORM,
                                         S("log[0][start]=1&log[0][end]=2&log[1][start]=3"),
                                         &f->got, stop_fn, NULL, NULL, &err),
                     STINT_EIO);
    assert_int_equal(err.code, STINT_EIO);
}

/* A string of the model that is not UTF-8 is refused (the model never holds one), and a failed
 * encoding leaves the buffer as it was. */
static void test_encode_refuses_bad_utf8(void **state)
{
    struct fixture *f = *state;
    size_t s;

    for (s = 0; s < 4; s++) {
        make_sample(&f->head);
        f->head.current.title[3] = (char)0xff;
        stint_buf_reset(&f->out);
        assert_int_equal(stint_buf_append(&f->out, "keep", 4), STINT_OK);
        assert_int_equal(stint_legacy_encode(all_shapes[s], &f->head, NULL, &f->out), STINT_EUTF8);
        assert_int_equal(f->out.len, 4);
        make_sample(&f->head);
        f->head.client_version[0] = (char)0xc3;
        assert_int_equal(stint_legacy_encode(all_shapes[s], &f->head, NULL, &f->out), STINT_EUTF8);
        assert_int_equal(f->out.len, 4);
        /* lengths past the buffers: not a model */
        make_sample(&f->head);
        f->head.client_version_len = STINT_VERSION_MAX + 1;
        assert_int_equal(stint_legacy_encode(all_shapes[s], &f->head, NULL, &f->out), STINT_EINVAL);
        make_sample(&f->head);
        f->head.current.url_len = STINT_URL_MAX + 1;
        assert_int_equal(stint_legacy_encode(all_shapes[s], &f->head, NULL, &f->out), STINT_EINVAL);
        assert_int_equal(f->out.len, 4);
    }
}

/* Every cap below the size of the output fails with STINT_ENOMEM and leaves nothing behind. */
static void test_encode_buffer_cap(void **state)
{
    struct fixture *f = *state;
    struct stint_buf full = {0};
    size_t s, cap;

    make_edge(f);
    f->head.has_current = true;
    stint_record_copy(&f->head.current, &f->recs[0]);
    f->head.current.end_ms = 0;
    for (s = 0; s < 4; s++) {
        struct stint_record_array arr = {f->recs, 1, 0};
        struct stint_record_iter it = stint_record_array_iter(&arr);

        stint_buf_reset(&full);
        assert_int_equal(stint_legacy_encode(all_shapes[s], &f->head, &it, &full), STINT_OK);
        for (cap = 1; cap <= full.len; cap++) {
            struct stint_buf b = {NULL, 0, 0, cap};
            enum stint_err e;

            arr.pos = 0;
            e = stint_legacy_encode(all_shapes[s], &f->head, &it, &b);
            if (cap < full.len) {
                assert_int_equal(e, STINT_ENOMEM);
                assert_int_equal(b.len, 0);
            } else {
                assert_int_equal(e, STINT_OK);
                assert_memory_equal(b.data, full.data, full.len);
            }
            stint_buf_free(&b);
        }
    }
    stint_buf_free(&full);
}

/* --- allocation failures in the readers --------------------------------------------------- */

static long alloc_budget = -1; /* allocations left before failing; -1: never fail */

static void *failing_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

/* Every jansson allocation made while reading fails in turn: the reader returns an error (or
 * succeeds when the failing allocation came after the last one), and leaks nothing (the ASan
 * build checks). */
static void test_alloc_failures(void **state)
{
    struct fixture *f = *state;
    size_t s;

    json_set_alloc_funcs(failing_malloc, free);
    for (s = 0; s < 3; s++) {
        size_t len;
        char *text = read_file(s == 0   ? "spec/vectors/desktime-sample.php"
                               : s == 1 ? "spec/vectors/desktime-sample.legacy.json"
                                        : "spec/vectors/desktime-sample.form",
                               &len);
        long budget;
        bool succeeded = false;

        for (budget = 0; budget < 200 && !succeeded; budget++) {
            struct stint_error err;
            enum stint_err e;

            alloc_budget = budget;
            e = decode(f, readable[s], text, len, &err);
            if (e == STINT_OK) {
                succeeded = true;
                assert_true(f->got.has_current);
            } else {
                assert_true(e == STINT_ENOMEM || e == STINT_EJSON);
            }
        }
        assert_true(succeeded);
        free(text);
    }
    alloc_budget = -1;
    json_set_alloc_funcs(malloc, free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sample_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_decodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edge_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapping_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floor_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_in_first_second, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_php_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_form_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_numbering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair_and_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_php, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fn_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_refuses_bad_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encode_buffer_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
