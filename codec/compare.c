/* compare.c — decode one input with both protobuf implementations and compare (pb_ref.h).
 *
 * Design. Holding every decoded record of a large batch in the model would cost 7.5 KB a record,
 * so nanopb's records go into a spool (their canonical encodings, about the size of the input);
 * then protobuf-c's records are compared field by field, in order, with the spool read back.
 *
 * Known differences between the two libraries (spec/PROTOCOL.md, "Decoder differences") are
 * recognised and counted as agreement:
 *   - nanopb refuses a 64-bit varint whose tenth byte is over 1 ("varint overflow") and a
 *     32-bit field whose varint does not fit ("integer too large" / "varint overflow");
 *     protobuf-c keeps the low bits;
 *   - protobuf-c refuses field tags and length prefixes longer than 5 bytes; nanopb reads them;
 *   - a message field (`current`) sent twice: nanopb merges the two, as protobuf specifies;
 *     protobuf-c keeps the last one, so only nanopb refuses a malformed earlier occurrence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/pb_ref.h"
#include "stint/spool.h"
#include "wire.h"

struct collected {
    struct stint_spool spool; /* nanopb's records, canonical encodings */
    uint64_t index;
    bool differs;
    bool more; /* protobuf-c had records after nanopb's last */
    char what[200];
};

static const char *field_diff(const struct stint_record *a, const struct stint_record *b)
{
    if (a->seq != b->seq)
        return "seq";
    if (a->start_ms != b->start_ms)
        return "start_ms";
    if (a->end_ms != b->end_ms)
        return "end_ms";
    if (a->kind != b->kind)
        return "kind";
    if (a->app_len != b->app_len || memcmp(a->app, b->app, a->app_len))
        return "app";
    if (a->path_len != b->path_len || memcmp(a->path, b->path, a->path_len))
        return "path";
    if (a->title_len != b->title_len || memcmp(a->title, b->title, a->title_len))
        return "title";
    if (a->url_len != b->url_len || memcmp(a->url, b->url, a->url_len))
        return "url";
    if (a->truncated != b->truncated)
        return "truncated";
    if (a->repaired != b->repaired)
        return "repaired";
    if (a->gap_count != b->gap_count)
        return "gap_count";
    return NULL;
}

/* protobuf-c's records, one by one, against nanopb's in the spool */
static enum stint_err check(void *ctx, const struct stint_record *r)
{
    struct collected *c = ctx;
    struct stint_record *a;
    enum stint_err e;
    bool done = false;
    const char *f;

    if (c->differs)
        return STINT_OK;
    a = malloc(sizeof(*a));
    if (!a)
        return STINT_ENOMEM;
    e = stint_spool_next(&c->spool, a, &done);
    if (e == STINT_OK && done) {
        c->differs = c->more = true;
        snprintf(c->what, sizeof(c->what), "protobuf-c has more records: %" PRIu64 " and up",
                 c->index);
    } else if (e == STINT_OK && (f = field_diff(a, r)) != NULL) {
        c->differs = true;
        snprintf(c->what, sizeof(c->what), "records[%" PRIu64 "].%s differs", c->index, f);
    }
    c->index++;
    free(a);
    return e;
}

static bool head_equal(const struct stint_batch *a, const struct stint_batch *b, const char **f)
{
    *f = NULL;
    if (a->agent_id_len != b->agent_id_len || memcmp(a->agent_id, b->agent_id, a->agent_id_len))
        *f = "agent_id";
    else if (a->client_version_len != b->client_version_len ||
             memcmp(a->client_version, b->client_version, a->client_version_len))
        *f = "client_version";
    else if (a->now_ms != b->now_ms)
        *f = "now_ms";
    else if (a->has_current != b->has_current)
        *f = "current (presence)";
    else if (a->has_current && !stint_record_equal(&a->current, &b->current))
        *f = "current";
    return *f == NULL;
}

/* True when buf holds, at this message level or in a nested record, a field tag longer than 5
 * bytes (which protobuf-c refuses and nanopb reads). Walks only well-formed structure. */
static bool has_long_tag(const uint8_t *p, const uint8_t *end, int depth)
{
    while (p < end) {
        uint64_t key, v;
        size_t n = stint_wire_varint(p, end, &key);

        if (n == 0)
            return false;
        if (n > 5)
            return true;
        p += n;
        switch (key & 7) {
        case 0:
            n = stint_wire_varint(p, end, &v);
            if (n == 0)
                return false;
            p += n;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        case 2:
            n = stint_wire_varint(p, end, &v);
            if (n > 5)
                return true; /* protobuf-c refuses a length prefix longer than 5 bytes too */
            if (n == 0 || v > (uint64_t)(end - p - (ptrdiff_t)n))
                return false;
            p += n;
            if (depth == 0 && ((key >> 3) == 4 || (key >> 3) == 5) &&
                has_long_tag(p, p + v, depth + 1))
                return true;
            p += v;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* How many times the batch's top level carries field `number`. */
static unsigned count_top_field(const uint8_t *p, const uint8_t *end, uint64_t number)
{
    unsigned n = 0;

    while (p && p < end) {
        uint64_t key;
        size_t k = stint_wire_varint(p, end, &key);

        if (k == 0)
            break;
        if ((key >> 3) == number)
            n++;
        p = stint_wire_skip(p + k, end, (unsigned)(key & 7));
    }
    return n;
}

/* True when byte offset `at` lies inside the value of a top-level field `number` that is not the
 * last occurrence of that field: the part of a repeated singular message field that protobuf-c
 * never looks at. */
static bool in_earlier_occurrence(const uint8_t *p, const uint8_t *end, uint64_t number, size_t at)
{
    const uint8_t *start = p, *last_lo = NULL, *last_hi = NULL;
    bool inside = false;

    while (p && p < end) {
        uint64_t key;
        size_t k = stint_wire_varint(p, end, &key);
        const uint8_t *next;

        if (k == 0)
            break;
        next = stint_wire_skip(p + k, end, (unsigned)(key & 7));
        if ((key >> 3) == number) {
            /* a newer occurrence: an error inside the one before is in an earlier one */
            if (last_lo && (size_t)(last_lo - start) <= at && at < (size_t)(last_hi - start))
                inside = true;
            last_lo = p;
            last_hi = next ? next : end;
        }
        p = next;
    }
    return inside;
}

static bool nanopb_only_refusal(const char *msg)
{
    return strstr(msg, "varint overflow") || strstr(msg, "integer too large");
}

enum stint_err stint_pb_compare(const uint8_t *buf, size_t len, struct stint_error *report)
{
    struct stint_batch *ha = NULL, *hb = NULL;
    struct stint_decode_info ia = {0, 0}, ib = {0, 0};
    struct stint_error ea, eb;
    struct collected c;
    enum stint_err ra, rb, ret = STINT_OK;
    const char *f;

    static const uint8_t no_bytes[1];

    if (!buf)
        buf = no_bytes; /* an empty input may come as NULL: no arithmetic on NULL */
    memset(&c, 0, sizeof(c));
    stint_error_clear(report);
    ha = malloc(sizeof(*ha));
    hb = malloc(sizeof(*hb));
    if (!ha || !hb) {
        ret = STINT_ENOMEM;
        goto cleanup;
    }
    ra = stint_pb_decode_batch(buf, len, ha, stint_spool_fn, &c.spool, &ia, &ea);
    if (ra == STINT_ENOMEM) {
        ret = STINT_ENOMEM;
        goto cleanup;
    }
    rb = stint_pbc_decode_batch(buf, len, hb, ra == STINT_OK ? check : NULL, &c, &ib, &eb);
    if ((ra == STINT_OK) != (rb == STINT_OK)) {
        if (ra != STINT_OK && nanopb_only_refusal(ea.msg)) {
            stint_error_set(report, ra, ea.offset, "known difference: %s", ea.msg);
            goto cleanup;
        }
        /* protobuf-c keeps the last of a repeated `current` and never reads the earlier ones;
         * nanopb reads every occurrence and may refuse one (a zero tag, a limit, UTF-8) */
        if (ra != STINT_OK && rb == STINT_OK && count_top_field(buf, buf + len, 5) > 1 &&
            in_earlier_occurrence(buf, buf + len, 5, ea.offset)) {
            stint_error_set(report, ra, ea.offset,
                            "known difference: an earlier `current` of several refused by nanopb "
                            "only (%s)",
                            ea.msg);
            goto cleanup;
        }
        if (rb != STINT_OK && ra == STINT_OK && has_long_tag(buf, buf + len, 0)) {
            stint_error_set(report, rb, 0,
                            "known difference: tag or length prefix longer than 5 bytes");
            goto cleanup;
        }
        ret =
            stint_error_set(report, STINT_EDIFF, ra != STINT_OK ? ea.offset : 0,
                            "nanopb %s (%s), protobuf-c %s (%s)",
                            ra == STINT_OK ? "accepts" : "refuses", ra == STINT_OK ? "-" : ea.msg,
                            rb == STINT_OK ? "accepts" : "refuses", rb == STINT_OK ? "-" : eb.msg);
        goto cleanup;
    }
    if (ra != STINT_OK) {
        /* both refuse: agreement, whatever their reasons */
        stint_error_set(report, ra, ea.offset, "both refuse: %s", ea.msg);
        goto cleanup;
    }
    if (c.differs) {
        ret = stint_error_set(report, STINT_EDIFF, 0, "%s", c.what);
        goto cleanup;
    }
    if (c.spool.read_pos != c.spool.buf.len || ia.records != ib.records) {
        ret = stint_error_set(report, STINT_EDIFF, 0,
                              "record counts differ: nanopb %" PRIu64 ", protobuf-c %" PRIu64,
                              ia.records, ib.records);
        goto cleanup;
    }
    if (!head_equal(ha, hb, &f)) {
        /* protobuf merges a message field that occurs twice; protobuf-c keeps the last one */
        if (strcmp(f, "current") == 0 && count_top_field(buf, buf + len, 5) > 1) {
            stint_error_set(report, STINT_OK, 0,
                            "known difference: current sent twice (nanopb merges, protobuf-c "
                            "keeps the last)");
            goto cleanup;
        }
        ret = stint_error_set(report, STINT_EDIFF, 0, "batch.%s differs", f);
        goto cleanup;
    }
    if (ia.unknown_fields != ib.unknown_fields) {
        ret =
            stint_error_set(report, STINT_EDIFF, 0,
                            "unknown-field counts differ: nanopb %" PRIu64 ", protobuf-c %" PRIu64,
                            ia.unknown_fields, ib.unknown_fields);
        goto cleanup;
    }
cleanup:
    stint_spool_free(&c.spool);
    free(ha);
    free(hb);
    return ret;
}
