/* test_json.c — canonical JSON: output form, the proto3 mapping's leniencies on input, and a
 * table of malformed documents each refused with the expected error. */
#include "cmocka_all.h"

#include <stdlib.h>
#include <string.h>

#include "stint/stint.h"

static void typical(struct stint_record *r)
{
    stint_record_clear(r);
    r->seq = 7;
    r->start_ms = 1314172181000;
    r->end_ms = 1314172183000;
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(r, STINT_FIELD_URL, "http://a/b", 10);
}

static void test_canonical_record(void **state)
{
    struct stint_record *r = malloc(sizeof(*r));
    struct stint_buf b = {0};

    (void)state;
    typical(r);
    assert_int_equal(stint_json_encode_record(r, &b), STINT_OK);
    stint_buf_append(&b, "", 1);
    /* 64-bit as strings, enum by name, defaults omitted, '/' not escaped */
    assert_string_equal((char *)b.data,
                        "{\"seq\":\"7\",\"startMs\":\"1314172181000\",\"endMs\":\"1314172183000\","
                        "\"kind\":\"KIND_ACTIVE\",\"app\":\"firefox\",\"url\":\"http://a/b\"}");
    stint_buf_free(&b);
    free(r);
}

/* Everything the mapping lets a producer write differently decodes to the same record. */
static void test_lenient_input(void **state)
{
    static const char *const forms[] = {
        "{\"seq\":\"7\",\"startMs\":\"1314172181000\",\"endMs\":\"1314172183000\","
        "\"kind\":\"KIND_ACTIVE\",\"app\":\"firefox\",\"url\":\"http://a/b\"}",
        "{\"seq\":7,\"start_ms\":1314172181000,\"end_ms\":1314172183000,\"kind\":1,"
        "\"app\":\"firefox\",\"url\":\"http:\\/\\/a\\/b\"}",
        "{\"url\":\"http://a/b\",\"app\":\"fire\\u0066ox\",\"kind\":\"KIND_ACTIVE\","
        "\"endMs\":1.314172183e12,\"startMs\":\"1314172181000\",\"seq\":7.0,\"title\":null,"
        "\"futureField\":{\"x\":[1,2]}}",
    };
    struct stint_record *want = malloc(sizeof(*want)), *got = malloc(sizeof(*got));
    struct stint_decode_info info;
    struct stint_error err;
    size_t i;

    (void)state;
    typical(want);
    for (i = 0; i < 3; i++) {
        enum stint_err e = stint_json_decode_record(forms[i], strlen(forms[i]), got, &info, &err);
        if (e != STINT_OK)
            fail_msg("form %zu: %s", i, err.msg);
        assert_true(stint_record_equal(want, got));
    }
    assert_int_equal(info.unknown_fields, 1);
    free(want);
    free(got);
}

static void test_batch_roundtrip_with_base64url(void **state)
{
    static const char in[] = "{\"agent_id\":\"XhsMekQPS46dITpgwhHwBw\",\"clientVersion\":\"1.0\","
                             "\"records\":[{\"seq\":\"1\",\"startMs\":\"5\",\"endMs\":\"6\"}],"
                             "\"current\":{\"startMs\":\"6\",\"title\":\"a\\u0000b\"}}";
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_spool sp = {{0}, 0, 0};
    struct stint_record_iter it;
    struct stint_buf out = {0};

    (void)state;
    assert_int_equal(
        stint_json_decode_batch(in, sizeof(in) - 1, h, stint_spool_fn, &sp, NULL, NULL), STINT_OK);
    assert_int_equal(h->agent_id_len, 16);
    assert_int_equal(h->agent_id[0], 0x5e);
    assert_int_equal(h->current.title_len, 3);
    assert_int_equal(sp.count, 1);
    it = stint_spool_iter(&sp);
    assert_int_equal(stint_json_encode_batch(h, &it, &out), STINT_OK);
    stint_buf_append(&out, "", 1);
    assert_string_equal((char *)out.data,
                        "{\"agentId\":\"XhsMekQPS46dITpgwhHwBw==\",\"clientVersion\":\"1.0\","
                        "\"records\":[{\"seq\":\"1\",\"startMs\":\"5\",\"endMs\":\"6\"}],"
                        "\"current\":{\"startMs\":\"6\",\"title\":\"a\\u0000b\"}}");
    stint_buf_free(&out);
    stint_spool_free(&sp);
    free(h);
}

struct bad {
    const char *name;
    const char *json;
    enum stint_err want;
    const char *in_msg; /* a part of the message that names the place */
};

static const struct bad bads[] = {
    {"empty input", "", STINT_EJSON, "line 1"},
    {"trailing garbage", "{} x", STINT_EJSON, "column"},
    {"unclosed", "{\"records\":[{}", STINT_EJSON, "byte"},
    {"single quotes", "{'nowMs':1}", STINT_EJSON, "line 1"},
    {"invalid UTF-8", "{\"clientVersion\":\"\xff\"}", STINT_EJSON, "line 1"},
    {"lone surrogate escape", "{\"clientVersion\":\"\\ud800\"}", STINT_EJSON, "line 1"},
    {"top-level array", "[]", STINT_ETYPE, "batch"},
    {"top-level string", "\"x\"", STINT_ETYPE, "batch"},
    {"records not array", "{\"records\":{}}", STINT_ETYPE, "records"},
    {"record not object", "{\"records\":[1]}", STINT_ETYPE, "records[0]"},
    {"startMs bool", "{\"records\":[{\"startMs\":true}]}", STINT_ETYPE, "records[0].startMs"},
    {"seq negative", "{\"records\":[{\"seq\":-1}]}", STINT_ETYPE, "seq"},
    {"seq negative string", "{\"records\":[{\"seq\":\"-1\"}]}", STINT_ETYPE, "seq"},
    {"seq fraction", "{\"records\":[{\"seq\":1.5}]}", STINT_ETYPE, "seq"},
    {"seq exponent string", "{\"records\":[{\"seq\":\"1e3\"}]}", STINT_ETYPE, "seq"},
    {"seq 2^64", "{\"records\":[{\"seq\":\"18446744073709551616\"}]}", STINT_ETYPE, "seq"},
    {"nowMs 2^63", "{\"nowMs\":\"9223372036854775808\"}", STINT_ETYPE, "nowMs"},
    {"nowMs with space", "{\"nowMs\":\" 5\"}", STINT_ETYPE, "nowMs"},
    {"truncated 2^32", "{\"records\":[{\"truncated\":4294967296}]}", STINT_ETYPE, "truncated"},
    {"kind unknown name", "{\"records\":[{\"kind\":\"KIND_NAP\"}]}", STINT_ETYPE, "kind"},
    {"kind object", "{\"records\":[{\"kind\":{}}]}", STINT_ETYPE, "kind"},
    {"app number", "{\"records\":[{\"app\":5}]}", STINT_ETYPE, "app"},
    {"agentId not base64", "{\"agentId\":\"!!!!\"}", STINT_ETYPE, "agentId"},
    {"agentId 15 bytes", "{\"agentId\":\"MTIzNDU2Nzg5MDEyMzQ1\"}", STINT_ETYPE, "agentId"},
    {"agentId 18 bytes", "{\"agentId\":\"MTIzNDU2Nzg5MDEyMzQ1Njc4\"}", STINT_ELIMIT, "agentId"},
    {"clientVersion too long",
     "{\"clientVersion\":\"12345678901234567890123456789012345678901234567890123456789012345\"}",
     STINT_ELIMIT, "clientVersion"},
    {"current not object", "{\"current\":[]}", STINT_ETYPE, "current"},
    /* the JSON corners of spec/PROTOCOL.md §4 */
    {"a member twice", "{\"nowMs\":\"1\",\"nowMs\":\"2\"}", STINT_ETYPE, "twice"},
    {"a field under both names", "{\"nowMs\":\"1\",\"now_ms\":\"2\"}", STINT_ETYPE, "now_ms"},
    {"a record field under both names", "{\"records\":[{\"endMs\":\"2\",\"end_ms\":\"2\"}]}",
     STINT_ETYPE, "records[0].end_ms"},
    {"a repeated name in an unknown member", "{\"x\":{\"a\":1,\"a\":2}}", STINT_ETYPE, "twice"},
    {"a repeated name, then not JSON", "{\"a\":1,\"a\":2,}", STINT_EJSON, "byte"},
    {"records: [null]", "{\"records\":[null]}", STINT_ETYPE, "records[0]"},
    {"uint64 \"-0\"", "{\"records\":[{\"seq\":\"-0\"}]}", STINT_ETYPE, "seq"},
    {"uint64 \"+1\"", "{\"records\":[{\"seq\":\"+1\"}]}", STINT_ETYPE, "seq"},
    {"base64 padding in the middle", "{\"agentId\":\"XhsMekQPS46dITpgwhHwB=w=\"}", STINT_ETYPE,
     "agentId"},
    {"base64 with three pads", "{\"agentId\":\"XhsMekQPS46dITpgwhHwB===\"}", STINT_ETYPE,
     "agentId"},
    {"kind name of a later version", "{\"records\":[{\"kind\":\"KIND_MEETING\"}]}", STINT_ETYPE,
     "kind"},
};

/* What §4 accepts at its corners: base64 without padding, "-0" for a signed field, the number
 * -0 for an unsigned one, a kind by a number v1.0 has no name for, nesting to 2048 levels in an
 * unknown member (and no deeper). */
static void test_json_corners_accepted(void **state)
{
    static const char ok[] =
        "{\"agentId\":\"XhsMekQPS46dITpgwhHwBw\",\"nowMs\":\"-0\",\"records\":[{\"seq\":-0,"
        "\"startMs\":\"1\",\"endMs\":\"2\",\"kind\":9}]}";
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_buf deep = {0};
    struct stint_error err;
    struct stint_decode_info info;
    int i;

    (void)state;
    assert_int_equal(stint_json_decode_batch(ok, strlen(ok), h, NULL, NULL, &info, &err), STINT_OK);
    assert_int_equal(h->agent_id_len, 16);
    assert_int_equal(h->now_ms, 0);
    assert_int_equal(info.records, 1);
    for (i = 0; i < 2; i++) {
        int depth = i ? 2049 : 2047, k;
        stint_buf_reset(&deep);
        stint_buf_append_str(&deep, "{\"x\":");
        for (k = 0; k < depth; k++)
            stint_buf_append_str(&deep, "[");
        for (k = 0; k < depth; k++)
            stint_buf_append_str(&deep, "]");
        stint_buf_append_str(&deep, "}");
        assert_int_equal(
            stint_json_decode_batch((const char *)deep.data, deep.len, h, NULL, NULL, NULL, &err),
            i ? STINT_EJSON : STINT_OK);
    }
    stint_buf_free(&deep);
    free(h);
}

static void test_malformed_table(void **state)
{
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_error err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        size_t n = strlen(bads[i].json);
        enum stint_err got = stint_json_decode_batch(bads[i].json, n, h, NULL, NULL, NULL, &err);
        if (got != bads[i].want)
            fail_msg("%s: got %s (%s), expected %s", bads[i].name, stint_strerror(got), err.msg,
                     stint_strerror(bads[i].want));
        if (!strstr(err.msg, bads[i].in_msg))
            fail_msg("%s: message '%s' does not name '%s'", bads[i].name, err.msg, bads[i].in_msg);
        assert_true(err.offset <= n);
    }
    free(h);
}

/* A title over its limit, in a record and in the open record. */
static void test_over_limit_title(void **state)
{
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_buf b = {0};
    struct stint_error err;
    size_t i;

    (void)state;
    stint_buf_append_str(&b, "{\"records\":[{\"title\":\"");
    for (i = 0; i < STINT_TITLE_MAX + 1; i++)
        stint_buf_append(&b, "t", 1);
    stint_buf_append_str(&b, "\"}]}");
    assert_int_equal(stint_json_decode_batch((char *)b.data, b.len, h, NULL, NULL, NULL, &err),
                     STINT_ELIMIT);
    assert_non_null(strstr(err.msg, "records[0].title"));
    stint_buf_free(&b);
    free(h);
}

static void test_ack_roundtrip(void **state)
{
    static const char in[] = "{\"ackedSeq\":\"10\",\"rejected\":[{\"seq\":\"4\","
                             "\"code\":\"REJECT_BAD_TIME\",\"reason\":\"end before start\"}],"
                             "\"serverTimeMs\":\"99\",\"stored\":\"9\"}";
    struct stint_ack a;
    struct stint_buf out = {0};

    (void)state;
    assert_int_equal(stint_json_decode_ack(in, sizeof(in) - 1, &a, NULL, NULL), STINT_OK);
    assert_int_equal(a.acked_seq, 10);
    assert_int_equal(a.n_rejected, 1);
    assert_int_equal(a.rejected[0].code, STINT_REJECT_BAD_TIME);
    assert_int_equal(stint_json_encode_ack(&a, &out), STINT_OK);
    assert_int_equal(out.len, sizeof(in) - 1);
    assert_memory_equal(out.data, in, out.len);
    stint_ack_free(&a);
    stint_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_record),
        cmocka_unit_test(test_lenient_input),
        cmocka_unit_test(test_batch_roundtrip_with_base64url),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_json_corners_accepted),
        cmocka_unit_test(test_over_limit_title),
        cmocka_unit_test(test_ack_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
