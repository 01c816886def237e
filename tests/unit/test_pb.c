/* test_pb.c — the v1 protobuf codec: both implementations, round trips, unknown fields,
 * streaming, and a table of malformed inputs each refused with the expected error. */
#include "cmocka_all.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/stint.h"

#define S(x) (const uint8_t *)(x), sizeof(x) - 1

static struct stint_record *new_record(void)
{
    struct stint_record *r = malloc(sizeof(*r));
    assert_non_null(r);
    stint_record_clear(r);
    return r;
}

static void typical(struct stint_record *r, uint64_t seq)
{
    stint_record_clear(r);
    r->seq = seq;
    r->start_ms = 1314172181000;
    r->end_ms = 1314172183000;
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(r, STINT_FIELD_PATH, "/usr/lib/firefox/firefox.bin", 28);
    stint_record_set(r, STINT_FIELD_TITLE, "jQuery UI - Datepicker Demos & Documentation", 44);
    stint_record_set(r, STINT_FIELD_URL, "jqueryui.com", 12);
}

/* A record survives encode/decode through every pairing of the two implementations. */
static void test_record_roundtrip_both_ways(void **state)
{
    struct stint_record *a = new_record(), *b = new_record();
    struct stint_buf n = {0}, c = {0};
    struct stint_decode_info info;

    (void)state;
    typical(a, 42);
    stint_record_set(a, STINT_FIELD_TITLE, "nul\0inside", 10);
    assert_int_equal(stint_pb_encode_record(a, &n), STINT_OK);
    assert_int_equal(stint_pbc_encode_record(a, &c), STINT_OK);
    assert_int_equal(n.len, c.len);
    assert_memory_equal(n.data, c.data, n.len);
    assert_int_equal(stint_pb_decode_record(n.data, n.len, b, &info, NULL), STINT_OK);
    assert_true(stint_record_equal(a, b));
    assert_int_equal(info.unknown_fields, 0);
    assert_int_equal(stint_pbc_decode_record(n.data, n.len, b, &info, NULL), STINT_OK);
    assert_true(stint_record_equal(a, b));
    assert_int_equal(b->title_len, 10);
    stint_buf_free(&n);
    stint_buf_free(&c);
    free(a);
    free(b);
}

/* The worst-case record is exactly STINT_PB_RECORD_MAX bytes, with either encoder. */
static void test_record_max_size(void **state)
{
    struct stint_record *r = new_record();
    struct stint_buf b = {0};
    char big[STINT_URL_MAX];

    (void)state;
    memset(big, 'x', sizeof(big));
    r->seq = UINT64_MAX;
    r->start_ms = -1;
    r->end_ms = -1;
    r->kind = INT32_MAX;
    r->truncated = UINT32_MAX;
    r->repaired = UINT32_MAX;
    r->gap_count = UINT64_MAX;
    stint_record_set(r, STINT_FIELD_APP, big, STINT_APP_MAX);
    stint_record_set(r, STINT_FIELD_PATH, big, STINT_PATH_MAX);
    stint_record_set(r, STINT_FIELD_TITLE, big, STINT_TITLE_MAX);
    stint_record_set(r, STINT_FIELD_URL, big, STINT_URL_MAX);
    r->truncated = UINT32_MAX; /* set() cleared the bits it owns */
    assert_int_equal(stint_pb_encode_record(r, &b), STINT_OK);
    assert_int_equal(b.len, STINT_PB_RECORD_MAX);
    stint_buf_reset(&b);
    assert_int_equal(stint_pbc_encode_record(r, &b), STINT_OK);
    assert_int_equal(b.len, STINT_PB_RECORD_MAX);
    stint_buf_free(&b);
    free(r);
}

struct counter {
    uint64_t n;
    uint64_t last_seq;
    bool ordered;
};

static enum stint_err count_fn(void *ctx, const struct stint_record *r)
{
    struct counter *c = ctx;
    if (r->seq <= c->last_seq)
        c->ordered = false;
    c->last_seq = r->seq;
    c->n++;
    return STINT_OK;
}

struct gen {
    uint64_t n, i;
};

static enum stint_err gen_next(void *ctx, struct stint_record *scratch,
                               const struct stint_record **out)
{
    struct gen *g = ctx;
    if (g->i == g->n) {
        *out = NULL;
        return STINT_OK;
    }
    typical(scratch, ++g->i);
    *out = scratch;
    return STINT_OK;
}

/* 20,000 records stream through both encoders and decoders, in order, with one scratch record. */
static void test_batch_streams(void **state)
{
    struct gen g = {20000, 0};
    struct stint_record_iter it = {gen_next, &g};
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_buf b = {0}, c = {0};
    struct counter k = {0, 0, true};
    struct stint_decode_info info;

    (void)state;
    assert_non_null(h);
    stint_batch_clear(h);
    h->now_ms = 5;
    assert_int_equal(stint_pb_encode_batch(h, &it, &b), STINT_OK);
    g.i = 0;
    assert_int_equal(stint_pbc_encode_batch(h, &it, &c), STINT_OK);
    assert_int_equal(b.len, c.len);
    assert_memory_equal(b.data, c.data, b.len);
    assert_int_equal(stint_pb_decode_batch(b.data, b.len, h, count_fn, &k, &info, NULL), STINT_OK);
    assert_int_equal(k.n, 20000);
    assert_true(k.ordered);
    assert_int_equal(info.records, 20000);
    assert_int_equal(h->now_ms, 5);
    k = (struct counter){0, 0, true};
    assert_int_equal(stint_pbc_decode_batch(b.data, b.len, h, count_fn, &k, &info, NULL), STINT_OK);
    assert_int_equal(k.n, 20000);
    stint_buf_free(&b);
    stint_buf_free(&c);
    free(h);
}

/* A spool holds its records as a Batch's field-4 frames: a Batch header followed by the spool's
 * bytes is byte for byte the Batch the encoder writes, whether the records went in as records
 * (stint_spool_add) or as their encodings (stint_spool_add_raw, the sender's path); reading the
 * spool back gives the records, and a frame cut short is refused. Records of 1, 127 and 128+
 * bytes' lengths cover one- and two-byte varints. */
static void test_spool_frames_a_batch(void **state)
{
    struct stint_record_iter it;
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_record *r = new_record(), *back = new_record();
    struct stint_spool a = {{0}, 0, 0}, raw = {{0}, 0, 0};
    struct stint_buf want = {0}, got = {0}, enc = {0};
    bool done = false;

    (void)state;
    assert_non_null(h);
    stint_batch_clear(h);
    h->now_ms = 7;
    for (uint64_t i = 1; i <= 300; i++) {
        typical(r, i);
        if (i % 3 == 0)
            stint_record_set(r, STINT_FIELD_TITLE, "t", 1); /* a short one: a 1-byte varint */
        else if (i % 3 == 1)
            stint_record_set(r, STINT_FIELD_URL, "", 0);
        assert_int_equal(stint_spool_add(&a, r), STINT_OK);
        stint_buf_reset(&enc);
        assert_int_equal(stint_pb_encode_record(r, &enc), STINT_OK);
        assert_int_equal(stint_spool_add_raw(&raw, enc.data, enc.len), STINT_OK);
    }
    assert_int_equal(a.count, 300);
    assert_int_equal(a.buf.len, raw.buf.len);
    assert_memory_equal(a.buf.data, raw.buf.data, a.buf.len);
    /* the Batch the encoder writes of the same records (pulled from the spool, decoded) */
    it = stint_spool_iter(&a);
    assert_int_equal(stint_pb_encode_batch(h, &it, &want), STINT_OK);
    assert_int_equal(stint_pb_encode_batch(h, NULL, &got), STINT_OK);
    assert_int_equal(stint_buf_append(&got, raw.buf.data, raw.buf.len), STINT_OK);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, got.len);
    raw.read_pos = 0;
    for (uint64_t i = 1; i <= 300; i++) {
        assert_int_equal(stint_spool_next(&raw, back, &done), STINT_OK);
        assert_false(done);
        assert_int_equal(back->seq, i);
    }
    assert_int_equal(stint_spool_next(&raw, back, &done), STINT_OK);
    assert_true(done);
    raw.buf.len--; /* the last frame runs past the end now */
    raw.read_pos = 0;
    for (int i = 1; i < 300; i++)
        assert_int_equal(stint_spool_next(&raw, back, &done), STINT_OK);
    assert_int_equal(stint_spool_next(&raw, back, &done), STINT_EINVAL);
    raw.buf.data[0] = 0x2a; /* not field 4, wire type 2 */
    raw.read_pos = 0;
    assert_int_equal(stint_spool_next(&raw, back, &done), STINT_EINVAL);
    stint_spool_reset(&a);
    assert_int_equal(a.count, 0);
    assert_int_equal(stint_spool_next(&a, back, &done), STINT_OK);
    assert_true(done);
    stint_spool_free(&a);
    stint_spool_free(&raw);
    stint_buf_free(&want);
    stint_buf_free(&got);
    stint_buf_free(&enc);
    free(r);
    free(back);
    free(h);
}

static enum stint_err stop_at_3(void *ctx, const struct stint_record *r)
{
    (void)ctx;
    return r->seq == 3 ? STINT_EIO : STINT_OK;
}

/* A record function's error stops decoding and comes back unchanged. */
static void test_batch_callback_stops(void **state)
{
    struct gen g = {10, 0};
    struct stint_record_iter it = {gen_next, &g};
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_buf b = {0};
    struct stint_error err;

    (void)state;
    stint_batch_clear(h);
    assert_int_equal(stint_pb_encode_batch(h, &it, &b), STINT_OK);
    assert_int_equal(stint_pb_decode_batch(b.data, b.len, h, stop_at_3, NULL, NULL, &err),
                     STINT_EIO);
    assert_non_null(strstr(err.msg, "records[2]"));
    assert_int_equal(stint_pbc_decode_batch(b.data, b.len, h, stop_at_3, NULL, NULL, &err),
                     STINT_EIO);
    stint_buf_free(&b);
    free(h);
}

/* Unknown fields are skipped and counted identically, and the known ones still decode. */
static void test_unknown_fields_counted(void **state)
{
    /* record: seq=1, field 12 varint, app "x", field 13 string "zz" */
    static const uint8_t rec[] = {0x08, 0x01, 0x60, 0x05, 0x2a, 0x01, 'x', 0x6a, 0x02, 'z', 'z'};
    struct stint_record *r = new_record();
    struct stint_decode_info info;

    (void)state;
    assert_int_equal(stint_pb_decode_record(rec, sizeof(rec), r, &info, NULL), STINT_OK);
    assert_int_equal(info.unknown_fields, 2);
    assert_int_equal(r->seq, 1);
    assert_int_equal(r->app_len, 1);
    assert_int_equal(stint_pbc_decode_record(rec, sizeof(rec), r, &info, NULL), STINT_OK);
    assert_int_equal(info.unknown_fields, 2);
    /* non-canonical but known: seq encoded twice and an explicit zero: nothing unknown */
    {
        static const uint8_t dup[] = {0x08, 0x05, 0x08, 0x01, 0x10, 0x00};
        assert_int_equal(stint_pb_decode_record(dup, sizeof(dup), r, &info, NULL), STINT_OK);
        assert_int_equal(info.unknown_fields, 0);
        assert_int_equal(r->seq, 1);
    }
    free(r);
}

static void test_ack_roundtrip(void **state)
{
    struct stint_ack a, b;
    struct stint_buf n = {0}, c = {0};

    (void)state;
    memset(&a, 0, sizeof(a));
    a.acked_seq = 99;
    a.server_time_ms = 1700000000000;
    a.stored = 97;
    a.duplicates = 1;
    stint_ack_add_rejection(&a, 55, STINT_REJECT_BAD_TIME, "end_ms before start_ms", 22);
    assert_int_equal(stint_pb_encode_ack(&a, &n), STINT_OK);
    assert_int_equal(stint_pbc_encode_ack(&a, &c), STINT_OK);
    assert_int_equal(n.len, c.len);
    assert_memory_equal(n.data, c.data, n.len);
    assert_int_equal(stint_pb_decode_ack(n.data, n.len, &b, NULL, NULL), STINT_OK);
    assert_int_equal(b.acked_seq, 99);
    assert_int_equal(b.n_rejected, 1);
    assert_int_equal(b.rejected[0].seq, 55);
    assert_string_equal(b.rejected[0].reason, "end_ms before start_ms");
    stint_ack_free(&b);
    assert_int_equal(stint_pbc_decode_ack(n.data, n.len, &b, NULL, NULL), STINT_OK);
    assert_int_equal(b.stored, 97);
    assert_int_equal(b.rejected[0].code, STINT_REJECT_BAD_TIME);
    stint_ack_free(&b);
    stint_ack_free(&a);
    stint_buf_free(&n);
    stint_buf_free(&c);
}

/* --- malformed inputs --------------------------------------------------------------------- */

struct bad {
    const char *name;
    const uint8_t *data;
    size_t len;
    enum stint_err nanopb; /* expected from stint_pb_decode_batch */
    enum stint_err pbc;    /* from stint_pbc_decode_batch; STINT_OK: protobuf-c accepts */
};

#define B(x) (const uint8_t *)(x), sizeof(x) - 1

static const struct bad bads[] = {
    {"truncated varint", B("\x18\x80"), STINT_ETRUNC, STINT_EWIRE},
    {"truncated tag", B("\x80"), STINT_ETRUNC, STINT_EWIRE},
    {"record length past end", B("\x22\x05\x08\x01"), STINT_ETRUNC, STINT_EWIRE},
    {"string length past end",
     B("\x12\x7f"
       "abc"),
     STINT_ETRUNC, STINT_EWIRE},
    {"huge length", B("\x12\xff\xff\xff\xff\x0f"), STINT_ETRUNC, STINT_EWIRE},
    {"string past record end",
     B("\x22\x04\x2a\x05"
       "ab"),
     STINT_ETRUNC, STINT_EWIRE},
    {"truncated fixed64 unknown", B("\x79\x01\x02"), STINT_ETRUNC, STINT_EWIRE},
    {"truncated fixed32 unknown", B("\x7d\x01"), STINT_ETRUNC, STINT_EWIRE},
    {"now_ms as string", B("\x1a\x01\x00"), STINT_EWIRE, STINT_EWIRE},
    {"records as varint", B("\x20\x01"), STINT_EWIRE, STINT_EWIRE},
    {"seq as string in record", B("\x22\x03\x0a\x01\x00"), STINT_EWIRE, STINT_EWIRE},
    {"kind as fixed64", B("\x22\x09\x21\x01\x02\x03\x04\x05\x06\x07\x08"), STINT_EWIRE,
     STINT_EWIRE},
    {"wire type 6", B("\x1e\x00"), STINT_EWIRE, STINT_EWIRE},
    {"wire type 7", B("\x0f\x00"), STINT_EWIRE, STINT_EWIRE},
    {"group start", B("\x7b\x7c"), STINT_EWIRE, STINT_EWIRE},
    {"varint of 11 bytes", B("\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), STINT_EWIRE,
     STINT_EWIRE},
    {"field number 0", B("\x02\x00"), STINT_EWIRE, STINT_EWIRE},
    {"bad UTF-8 in title", B("\x22\x05\x3a\x03\x61\xff\x62"), STINT_EUTF8, STINT_EUTF8},
    {"surrogate in app", B("\x22\x05\x2a\x03\xed\xa0\x80"), STINT_EUTF8, STINT_EUTF8},
    {"overlong in url", B("\x22\x04\x42\x02\xc0\xaf"), STINT_EUTF8, STINT_EUTF8},
    {"cut sequence in path", B("\x22\x04\x32\x02\xe4\xb8"), STINT_EUTF8, STINT_EUTF8},
    {"bad UTF-8 in client_version", B("\x12\x02\xc3\x28"), STINT_EUTF8, STINT_EUTF8},
    {"bad UTF-8 in current", B("\x2a\x03\x3a\x01\x80"), STINT_EUTF8, STINT_EUTF8},
    {"agent_id of 15 bytes",
     B("\x0a\x0f"
       "123456789012345"),
     STINT_ETYPE, STINT_ETYPE},
    {"agent_id of 17 bytes",
     B("\x0a\x11"
       "12345678901234567"),
     STINT_ELIMIT, STINT_ELIMIT},
    {"agent_id of 1 byte",
     B("\x0a\x01"
       "x"),
     STINT_ETYPE, STINT_ETYPE},
    {"app as varint", B("\x22\x02\x28\x41"), STINT_EWIRE, STINT_EWIRE},
    {"title as fixed32",
     B("\x22\x05\x3d"
       "abcd"),
     STINT_EWIRE, STINT_EWIRE},
    {"client_version as varint", B("\x10\x05"), STINT_EWIRE, STINT_EWIRE},
    {"records as fixed64",
     B("\x21"
       "12345678"),
     STINT_EWIRE, STINT_EWIRE},
    {"current as varint", B("\x28\x01"), STINT_EWIRE, STINT_EWIRE},
    {"field number 0 in a 2-byte key", B("\x80\x00\x2f"), STINT_EWIRE, STINT_EWIRE},
    {"unknown varint of 11 bytes", B("\x30\xd8\xc3\x9d\x9d\x9d\x9d\x9d\x90\xd2\x9f\x26"),
     STINT_EWIRE, STINT_EWIRE},
    {"unknown varint of 11 bytes in a record",
     B("\x22\x0c\x60\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), STINT_EWIRE, STINT_EWIRE},
    {"negative kind, 5 bytes", B("\x22\x06\x20\xf9\xff\xff\xff\x0f"), STINT_ETYPE, STINT_ETYPE},
    {"negative kind, 10 bytes", B("\x22\x0b\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
     STINT_EWIRE, STINT_ETYPE},
};

static void check_bad(const char *name, const uint8_t *d, size_t n, enum stint_err want_n,
                      enum stint_err want_c)
{
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_error err;
    enum stint_err got;

    assert_non_null(h);
    got = stint_pb_decode_batch(d, n, h, NULL, NULL, NULL, &err);
    if (got != want_n)
        fail_msg("%s: nanopb gave %s (%s), expected %s", name, stint_strerror(got), err.msg,
                 stint_strerror(want_n));
    if (got != STINT_OK) {
        assert_int_equal(err.code, got);
        assert_true(err.offset <= n);
        assert_true(strlen(err.msg) > 0);
    }
    got = stint_pbc_decode_batch(d, n, h, NULL, NULL, NULL, &err);
    if (got != want_c)
        fail_msg("%s: protobuf-c gave %s (%s), expected %s", name, stint_strerror(got), err.msg,
                 stint_strerror(want_c));
    /* whatever each says, the differential agrees or names a known difference */
    assert_int_equal(stint_pb_compare(d, n, &err), STINT_OK);
    free(h);
}

static void test_malformed_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
        check_bad(bads[i].name, bads[i].data, bads[i].len, bads[i].nanopb, bads[i].pbc);
}

/* Strings one byte over each limit, at every level. */
static void test_over_limit_strings(void **state)
{
    static const struct {
        const char *name;
        uint8_t tag;
        size_t max;
    } fields[] = {{"app", 0x2a, STINT_APP_MAX},
                  {"path", 0x32, STINT_PATH_MAX},
                  {"title", 0x3a, STINT_TITLE_MAX},
                  {"url", 0x42, STINT_URL_MAX}};
    struct stint_buf rec = {0}, batch = {0}, cur = {0};
    size_t i, at_limit;
    uint8_t hdr[8];

    (void)state;
    for (i = 0; i < 4; i++) {
        for (at_limit = 0; at_limit < 2; at_limit++) {
            size_t len = fields[i].max + (at_limit ? 0 : 1), k = 0;
            stint_buf_reset(&rec);
            stint_buf_reset(&batch);
            stint_buf_reset(&cur);
            hdr[k++] = fields[i].tag;
            hdr[k++] = (uint8_t)(0x80 | (len & 0x7f));
            hdr[k++] = (uint8_t)(len >> 7);
            stint_buf_append(&rec, hdr, k);
            while (len--)
                stint_buf_append(&rec, "x", 1);
            k = 0;
            hdr[k++] = 0x22;
            hdr[k++] = (uint8_t)(0x80 | (rec.len & 0x7f));
            hdr[k++] = (uint8_t)(rec.len >> 7);
            stint_buf_append(&batch, hdr, k);
            stint_buf_append(&batch, rec.data, rec.len);
            hdr[0] = 0x2a; /* the same as the open record */
            stint_buf_append(&cur, hdr, k);
            stint_buf_append(&cur, rec.data, rec.len);
            check_bad(fields[i].name, batch.data, batch.len, at_limit ? STINT_OK : STINT_ELIMIT,
                      at_limit ? STINT_OK : STINT_ELIMIT);
            check_bad(fields[i].name, cur.data, cur.len, at_limit ? STINT_OK : STINT_ELIMIT,
                      at_limit ? STINT_OK : STINT_ELIMIT);
        }
    }
    /* client_version: 65 bytes */
    stint_buf_reset(&batch);
    stint_buf_append(&batch, "\x12\x41", 2);
    for (i = 0; i < 65; i++)
        stint_buf_append(&batch, "v", 1);
    check_bad("client_version", batch.data, batch.len, STINT_ELIMIT, STINT_ELIMIT);
    stint_buf_free(&rec);
    stint_buf_free(&batch);
    stint_buf_free(&cur);
}

/* A 10-byte varint whose last byte is over 1: nanopb refuses, protobuf-c keeps the low bits;
 * the differential names it a known difference. */
static void test_known_difference_varint(void **state)
{
    static const uint8_t in[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    struct stint_error err;

    (void)state;
    check_bad("10-byte varint, last byte 0x7f", in, sizeof(in), STINT_EWIRE, STINT_OK);
    assert_int_equal(stint_pb_compare(in, sizeof(in), &err), STINT_OK);
    assert_non_null(strstr(err.msg, "known difference"));
}

/* `current` sent twice: nanopb merges (as protobuf specifies), protobuf-c keeps the last; the
 * differential names it a known difference. */
static void test_known_difference_repeated_current(void **state)
{
    static const uint8_t in[] = {0x2a, 0x02, 0x20, 0x04, 0x2a, 0x00};
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_error err;

    (void)state;
    assert_int_equal(stint_pb_decode_batch(in, sizeof(in), h, NULL, NULL, NULL, NULL), STINT_OK);
    assert_int_equal(h->current.kind, STINT_KIND_GAP);
    assert_int_equal(stint_pb_compare(in, sizeof(in), &err), STINT_OK);
    assert_non_null(strstr(err.msg, "known difference"));
    free(h);
}

/* The error names the field and the byte where the bad UTF-8 starts. */
static void test_error_offset_and_field(void **state)
{
    /* batch: client_version "ok", then records { title "ab\xff" } */
    static const uint8_t in[] = {0x12, 0x02, 'o', 'k', 0x22, 0x05, 0x3a, 0x03, 'a', 'b', 0xff};
    struct stint_batch *h = malloc(sizeof(*h));
    struct stint_error err;

    (void)state;
    assert_int_equal(stint_pb_decode_batch(in, sizeof(in), h, NULL, NULL, NULL, &err), STINT_EUTF8);
    assert_int_equal(err.offset, 10);
    assert_non_null(strstr(err.msg, "records[0].title"));
    free(h);
}

/* Input over STINT_DECODE_MAX_INPUT is refused before any work. */
static void test_input_cap(void **state)
{
    struct stint_batch *h = malloc(sizeof(*h));
    static const uint8_t one = 0;
    struct stint_error err;

    (void)state;
    assert_int_equal(
        stint_pb_decode_batch(&one, STINT_DECODE_MAX_INPUT + 1, h, NULL, NULL, NULL, &err),
        STINT_ELIMIT);
    assert_int_equal(
        stint_pbc_decode_batch(&one, STINT_DECODE_MAX_INPUT + 1, h, NULL, NULL, NULL, &err),
        STINT_ELIMIT);
    free(h);
}

/* An output buffer with a cap: encoding fails cleanly with ENOMEM, never writes past it. */
static void test_encode_respects_cap(void **state)
{
    struct gen g = {1000, 0};
    struct stint_record_iter it = {gen_next, &g};
    struct stint_batch h;
    struct stint_buf b = {0};

    (void)state;
    b.max = 4096;
    stint_batch_clear(&h);
    assert_int_equal(stint_pb_encode_batch(&h, &it, &b), STINT_ENOMEM);
    assert_true(b.len <= 4096);
    stint_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_roundtrip_both_ways),
        cmocka_unit_test(test_record_max_size),
        cmocka_unit_test(test_batch_streams),
        cmocka_unit_test(test_spool_frames_a_batch),
        cmocka_unit_test(test_batch_callback_stops),
        cmocka_unit_test(test_unknown_fields_counted),
        cmocka_unit_test(test_ack_roundtrip),
        cmocka_unit_test(test_malformed_table),
        cmocka_unit_test(test_over_limit_strings),
        cmocka_unit_test(test_known_difference_varint),
        cmocka_unit_test(test_known_difference_repeated_current),
        cmocka_unit_test(test_error_offset_and_field),
        cmocka_unit_test(test_input_cap),
        cmocka_unit_test(test_encode_respects_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
