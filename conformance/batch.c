/* batch.c — building what the cases send, reading what comes back (see batch.h).
 *
 * Well-formed batches go through Stint's own encoders (they are held byte for byte to the
 * golden vectors by the codec's tests), so the kit speaks exactly the canonical encoding;
 * malformed and "future" inputs are written here field by field. Record times are placed an
 * hour before the kit's clock, so no server can refuse them as coming from the future. */
#define _POSIX_C_SOURCE 200809L
#include "batch.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "stint/json.h"
#include "stint/pb.h"

static int64_t time_base_ms;

void stint_conf_random(uint8_t *out, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = 0, i;

    if (f) {
        got = fread(out, 1, n, f);
        fclose(f);
    }
    if (got != n) {
        /* no /dev/urandom: the clock and the address of a local still make runs distinct */
        uint64_t x = (uint64_t)stint_clock_wall_ms() ^ (uint64_t)(uintptr_t)&got;
        for (i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out[i] = (uint8_t)x;
        }
    }
}

void stint_conf_record_typical(struct stint_record *r, uint64_t seq)
{
    static const char app[] = "stint-conformance", title[] = "Conformance run \xc2\xb7 case",
                      url[] = "https://example.org";
    if (!time_base_ms)
        time_base_ms = stint_clock_wall_ms() - 3600 * 1000;
    stint_record_clear(r);
    r->seq = seq;
    r->start_ms = time_base_ms + (int64_t)(seq % 1000000) * 1000;
    r->end_ms = r->start_ms + 900;
    r->kind = STINT_KIND_ACTIVE;
    stint_record_set(r, STINT_FIELD_APP, app, sizeof(app) - 1);
    stint_record_set(r, STINT_FIELD_PATH, "/usr/bin/stint-conformance", 26);
    stint_record_set(r, STINT_FIELD_TITLE, title, sizeof(title) - 1);
    stint_record_set(r, STINT_FIELD_URL, url, sizeof(url) - 1);
}

struct gen {
    const struct stint_conf_batch *b;
    size_t i;
};

static enum stint_err gen_next(void *ctx, struct stint_record *scratch,
                               const struct stint_record **out)
{
    struct gen *g = ctx;

    if (g->i >= g->b->n) {
        *out = NULL;
        return STINT_OK;
    }
    stint_conf_record_typical(scratch, g->b->first_seq + g->i);
    if (g->b->mutate)
        g->b->mutate(g->i, scratch, g->b->arg);
    g->i++;
    *out = scratch;
    return STINT_OK;
}

enum stint_err stint_conf_batch_encode(const struct stint_conf_batch *b, struct stint_buf *out)
{
    static struct stint_batch head; /* holds a whole open record: not on the stack */
    struct gen g = {b, 0};
    struct stint_record_iter it = {gen_next, &g};

    stint_batch_clear(&head);
    if (b->agent_id) {
        memcpy(head.agent_id, b->agent_id, STINT_AGENT_ID_LEN);
        head.agent_id_len = STINT_AGENT_ID_LEN;
    }
    stint_batch_set_version(&head, "stint-conformance/1", 19);
    head.now_ms = stint_clock_wall_ms();
    if (b->current) {
        head.has_current = true;
        stint_conf_record_typical(&head.current, 0);
        head.current.end_ms = 0;
        head.current.start_ms = head.now_ms - 1000;
    }
    return b->enc == STINT_CONF_PB ? stint_pb_encode_batch(&head, &it, out)
                                   : stint_json_encode_batch(&head, &it, out);
}

enum stint_err stint_conf_pb_varint(struct stint_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return stint_buf_append(out, tmp, n);
}

enum stint_err stint_conf_pb_tag(struct stint_buf *out, uint32_t field, uint32_t wire_type)
{
    return stint_conf_pb_varint(out, ((uint64_t)field << 3) | wire_type);
}

enum stint_err stint_conf_pb_bytes(struct stint_buf *out, uint32_t field, const void *p, size_t n)
{
    enum stint_err rc = stint_conf_pb_tag(out, field, 2);
    if (rc == STINT_OK)
        rc = stint_conf_pb_varint(out, n);
    if (rc == STINT_OK && n)
        rc = stint_buf_append(out, p, n);
    return rc;
}

enum stint_err stint_conf_gzip(const void *in, size_t n, struct stint_buf *out)
{
    z_stream z;
    enum stint_err rc = STINT_OK;
    int zr;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return STINT_ENOMEM;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    do {
        if ((rc = stint_buf_reserve(out, 65536)) != STINT_OK)
            break;
        z.next_out = out->data + out->len;
        z.avail_out = 65536;
        zr = deflate(&z, Z_FINISH);
        out->len += 65536 - z.avail_out;
        if (zr == Z_STREAM_ERROR) {
            rc = STINT_ENOMEM;
            break;
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&z);
    return rc;
}

void stint_conf_idem_key(const uint8_t *agent_id, uint64_t first, uint64_t last, const char *suffix,
                         char *out, size_t cap)
{
    char hex[33];
    size_t i;

    for (i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", agent_id[i]);
    snprintf(out, cap, "%s:%llu-%llu%s", hex, (unsigned long long)first, (unsigned long long)last,
             suffix ? suffix : "");
}

enum stint_err stint_conf_ack_read(const uint8_t *body, size_t len, struct stint_ack *ack,
                                   char *msg, size_t cap)
{
    struct stint_error err;
    enum stint_err rc;
    size_t i = 0;

    stint_error_clear(&err);
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i < len && body[i] == '{')
        rc = stint_json_decode_ack((const char *)body, len, ack, NULL, &err);
    else
        rc = stint_pb_decode_ack(body ? body : (const uint8_t *)"", len, ack, NULL, &err);
    if (rc != STINT_OK)
        snprintf(msg, cap, "the answer is not an Ack (%s: %s)", stint_strerror(rc), err.msg);
    return rc;
}
