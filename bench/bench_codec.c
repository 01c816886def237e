/* bench_codec — what a record costs to encode and decode, per implementation, and what the
 * libraries themselves cost for the same message, so that our layer's share is visible.
 *
 * The typical record: app 7 bytes, path 28, title 44, url 12, two timestamps,
 * kind and seq. Each figure is the median of 9 runs of N operations, in ns per record. A table
 * is printed; nothing passes or fails on time.
 *
 * Library baselines: nanopb's pb_encode/pb_decode of the generated struct with callbacks that
 * copy the same strings from and to static buffers (no model); protobuf-c's pack of a filled
 * struct and unpack + free_unpacked.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "stint/stint.h"
#include "stint/v1/stint.pb-c.h"
#include "stint/v1/stint.pb.h"

#ifndef STINT_CFLAGS
#define STINT_CFLAGS "?"
#endif
#ifndef STINT_COMPILER
#define STINT_COMPILER "?"
#endif

/* Operations per run and runs per figure: argv[1] sets N (e.g. a small N under callgrind, whose
 * instruction counts per op are repeatable where a shared machine's ns are not). */
static long N = 200000;
static int RUNS = 9;
#define RUNS_MAX 9

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static volatile size_t sink;

static struct stint_record rec, out_rec;
static struct stint_buf buf;
static uint8_t wire[8192];
static size_t wire_len;
static struct stint_buf json_wire;

static void typical(struct stint_record *r)
{
    stint_record_clear(r);
    r->seq = 123456;
    r->start_ms = 1314172181000;
    r->end_ms = 1314172183000;
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, "firefox", 7);
    stint_record_set(r, STINT_FIELD_PATH, "/usr/lib/firefox/firefox.bin", 28);
    stint_record_set(r, STINT_FIELD_TITLE, "jQuery UI - Datepicker Demos & Documentation", 44);
    stint_record_set(r, STINT_FIELD_URL, "jqueryui.com", 12);
}

/* --- operations: each does one record --------------------------------------------------- */

static void op_pb_encode(void)
{
    stint_buf_reset(&buf);
    stint_pb_encode_record(&rec, &buf);
    sink += buf.len;
}

static void op_pb_decode(void)
{
    stint_pb_decode_record(wire, wire_len, &out_rec, NULL, NULL);
    sink += out_rec.app_len;
}

static void op_pbc_encode(void)
{
    stint_buf_reset(&buf);
    stint_pbc_encode_record(&rec, &buf);
    sink += buf.len;
}

static void op_pbc_decode(void)
{
    stint_pbc_decode_record(wire, wire_len, &out_rec, NULL, NULL);
    sink += out_rec.app_len;
}

static void op_json_encode(void)
{
    stint_buf_reset(&buf);
    stint_json_encode_record(&rec, &buf);
    sink += buf.len;
}

static void op_json_decode(void)
{
    stint_json_decode_record((const char *)json_wire.data, json_wire.len, &out_rec, NULL, NULL);
    sink += out_rec.app_len;
}

/* nanopb alone: the generated struct, strings from static buffers */
struct raw_str {
    const char *p;
    size_t n;
};
static struct raw_str raw_strs[4];
static char raw_out[4][STINT_URL_MAX + 1];

static bool raw_enc_str(pb_ostream_t *s, const pb_field_t *f, void *const *arg)
{
    const struct raw_str *r = *arg;
    return pb_encode_tag_for_field(s, f) && pb_encode_string(s, (const pb_byte_t *)r->p, r->n);
}

static bool raw_dec_str(pb_istream_t *s, const pb_field_t *f, void **arg)
{
    char *dst = *arg;
    size_t n = s->bytes_left;
    (void)f;
    if (n > STINT_URL_MAX)
        return false;
    dst[n] = 0;
    return pb_read(s, (pb_byte_t *)dst, n);
}

static uint8_t raw_buf[8192];

static void op_nanopb_lib_encode(void)
{
    stint_v1_Record m;
    pb_ostream_t s = pb_ostream_from_buffer(raw_buf, sizeof(raw_buf));
    int i;

    memset(&m, 0, sizeof(m));
    m.seq = 123456;
    m.start_ms = 1314172181000;
    m.end_ms = 1314172183000;
    m.kind = stint_v1_Kind_KIND_ACTIVE;
    for (i = 0; i < 4; i++) {
        pb_callback_t *cb = i == 0 ? &m.app : i == 1 ? &m.path : i == 2 ? &m.title : &m.url;
        cb->funcs.encode = raw_enc_str;
        cb->arg = &raw_strs[i];
    }
    pb_encode(&s, stint_v1_Record_fields, &m);
    sink += s.bytes_written;
}

static void op_nanopb_lib_decode(void)
{
    stint_v1_Record m;
    pb_istream_t s = pb_istream_from_buffer(wire, wire_len);

    m.app.funcs.decode = raw_dec_str;
    m.app.arg = raw_out[0];
    m.path.funcs.decode = raw_dec_str;
    m.path.arg = raw_out[1];
    m.title.funcs.decode = raw_dec_str;
    m.title.arg = raw_out[2];
    m.url.funcs.decode = raw_dec_str;
    m.url.arg = raw_out[3];
    pb_decode(&s, stint_v1_Record_fields, &m);
    sink += (size_t)m.seq;
}

static Stint__V1__Record pbc_msg;

static void op_pbc_lib_encode(void)
{
    sink += protobuf_c_message_pack(&pbc_msg.base, raw_buf);
}

static void op_pbc_lib_decode(void)
{
    Stint__V1__Record *m = stint__v1__record__unpack(NULL, wire_len, wire);
    sink += m->app.len;
    stint__v1__record__free_unpacked(m, NULL);
}

/* batch level: per record, through the streaming API */
#define BATCH 1000
static struct stint_buf batch_pb;

static enum stint_err typical_next(void *ctx, struct stint_record *scratch,
                                   const struct stint_record **out)
{
    size_t *left = ctx;
    (void)scratch;
    *out = *left ? &rec : NULL;
    if (*left)
        (*left)--;
    return STINT_OK;
}

static void op_pb_batch_encode(void)
{
    static struct stint_batch head;
    size_t left = BATCH;
    struct stint_record_iter it = {typical_next, &left};

    stint_buf_reset(&buf);
    stint_pb_encode_batch(&head, &it, &buf);
    sink += buf.len;
}

static enum stint_err count_fn(void *ctx, const struct stint_record *r)
{
    (void)ctx;
    sink += r->app_len;
    return STINT_OK;
}

static void op_pb_batch_decode(void)
{
    static struct stint_batch head;
    stint_pb_decode_batch(batch_pb.data, batch_pb.len, &head, count_fn, NULL, NULL, NULL);
}

static void op_pbc_batch_decode(void)
{
    static struct stint_batch head;
    stint_pbc_decode_batch(batch_pb.data, batch_pb.len, &head, count_fn, NULL, NULL, NULL);
}

static double measure(void (*op)(void), long n, long per_op)
{
    double runs[RUNS_MAX];
    long i;
    int r;

    for (i = 0; i < n / 10; i++) /* warm up */
        op();
    for (r = 0; r < RUNS; r++) {
        double t0 = now_ns();
        for (i = 0; i < n; i++)
            op();
        runs[r] = (now_ns() - t0) / (double)(n * per_op);
    }
    qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
    return runs[RUNS / 2];
}

int main(int argc, char **argv)
{
    double pb_e, pb_d, pbc_e, pbc_d, j_e, j_d, nl_e, nl_d, cl_e, cl_d, bpe, bpd, bcd;
    size_t pb_bytes, json_bytes;

    if (argc > 1) {
        N = strtol(argv[1], NULL, 10);
        if (N < BATCH * 4)
            N = BATCH * 4;
        RUNS = 1;
    }
    typical(&rec);
    stint_pb_encode_record(&rec, &buf);
    memcpy(wire, buf.data, buf.len);
    wire_len = pb_bytes = buf.len;
    stint_json_encode_record(&rec, &json_wire);
    json_bytes = json_wire.len;
    raw_strs[0] = (struct raw_str){rec.app, rec.app_len};
    raw_strs[1] = (struct raw_str){rec.path, rec.path_len};
    raw_strs[2] = (struct raw_str){rec.title, rec.title_len};
    raw_strs[3] = (struct raw_str){rec.url, rec.url_len};
    stint__v1__record__init(&pbc_msg);
    pbc_msg.seq = rec.seq;
    pbc_msg.start_ms = rec.start_ms;
    pbc_msg.end_ms = rec.end_ms;
    pbc_msg.kind = STINT__V1__KIND__KIND_ACTIVE;
    pbc_msg.app = (ProtobufCBinaryData){rec.app_len, (uint8_t *)rec.app};
    pbc_msg.path = (ProtobufCBinaryData){rec.path_len, (uint8_t *)rec.path};
    pbc_msg.title = (ProtobufCBinaryData){rec.title_len, (uint8_t *)rec.title};
    pbc_msg.url = (ProtobufCBinaryData){rec.url_len, (uint8_t *)rec.url};
    op_pb_batch_encode();
    stint_buf_append(&batch_pb, buf.data, buf.len);

    nl_e = measure(op_nanopb_lib_encode, N, 1);
    pb_e = measure(op_pb_encode, N, 1);
    nl_d = measure(op_nanopb_lib_decode, N, 1);
    pb_d = measure(op_pb_decode, N, 1);
    cl_e = measure(op_pbc_lib_encode, N, 1);
    pbc_e = measure(op_pbc_encode, N, 1);
    cl_d = measure(op_pbc_lib_decode, N, 1);
    pbc_d = measure(op_pbc_decode, N, 1);
    j_e = measure(op_json_encode, N / 4, 1);
    j_d = measure(op_json_decode, N / 4, 1);
    bpe = measure(op_pb_batch_encode, N / BATCH, BATCH);
    bpd = measure(op_pb_batch_decode, N / BATCH, BATCH);
    bcd = measure(op_pbc_batch_decode, N / BATCH, BATCH);

    printf("\nStint codec benchmark: typical record (app 7, path 28, title 44, url 12 bytes)\n");
    printf("compiler: %s; flags: %s\n", STINT_COMPILER, STINT_CFLAGS);
    printf("median of %d runs of %ld records\n\n", RUNS, N);
    printf("| path | encode ns/record | decode ns/record | library alone enc/dec | "
           "our share enc/dec |\n");
    printf("| --- | ---: | ---: | ---: | ---: |\n");
    printf("| nanopb (zero allocation) | %.0f | %.0f | %.0f / %.0f | %+.0f%% / %+.0f%% |\n", pb_e,
           pb_d, nl_e, nl_d, (pb_e / nl_e - 1) * 100, (pb_d / nl_d - 1) * 100);
    printf("| protobuf-c | %.0f | %.0f | %.0f / %.0f | %+.0f%% / %+.0f%% |\n", pbc_e, pbc_d, cl_e,
           cl_d, (pbc_e / cl_e - 1) * 100, (pbc_d / cl_d - 1) * 100);
    printf("| canonical JSON (jansson) | %.0f | %.0f | - | - |\n", j_e, j_d);
    printf("| nanopb, batch of %d (streaming) | %.0f | %.0f | - | - |\n", BATCH, bpe, bpd);
    printf("| protobuf-c, batch of %d | - | %.0f | - | - |\n", BATCH, bcd);
    printf("\n| encoding | bytes/record |\n| --- | ---: |\n");
    printf("| v1 protobuf | %zu |\n| v1 protobuf in a batch (with framing) | %zu |\n", pb_bytes,
           batch_pb.len / BATCH);
    printf("| canonical JSON | %zu |\n", json_bytes);
    printf(
        "\ntargets (model <-> bytes): protobuf-c <= 150 / <= 250 ns, nanopb <= 300 / <= 400 ns\n");
    stint_buf_free(&buf);
    stint_buf_free(&json_wire);
    stint_buf_free(&batch_pb);
    return sink == 42 ? 1 : 0;
}
