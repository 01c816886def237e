/* legacy_check.c — the legacy mapping, checked (see legacy_check.h).
 *
 * Design. The projection of a model (legacy.md, sections 2 and 3) is computed here independently
 * of codec/legacy*.c: keep records of kind ACTIVE or UNSPECIFIED (the batch's, then the open
 * one), floor times to whole seconds, renumber seq by position, kind ACTIVE, flags and gap_count
 * cleared; then the last kept entry, when it has no end, is the open record (seq 0). Records are
 * held as spools, so a batch of any size is compared in order.
 */
#include "legacy_check.h"

#include <string.h>

static const enum stint_legacy_shape shapes[] = {STINT_LEGACY_PHP, STINT_LEGACY_SERIALIZE,
                                                 STINT_LEGACY_JSON, STINT_LEGACY_FORM};
static const char *const shape_names[] = {"?", "php", "php-serialize", "legacy-json", "form"};

/* Readers take |seconds| <= 9223372036854775, so that milliseconds fit int64 (legacy.md,
 * section 3); floor(INT64_MIN / 1000) is one below, so the writers can write a time the readers
 * refuse. Set when the model holds one. */
static bool out_of_range;

static int64_t floor_seconds_ms(int64_t ms)
{
    int64_t s = ms / 1000;

    if (ms % 1000 < 0)
        s--;
    if (s < -(INT64_MAX / 1000)) {
        out_of_range = true;
        return 0;
    }
    return s * 1000;
}

static bool kept(const struct stint_record *r)
{
    return r->kind == STINT_KIND_ACTIVE || r->kind == STINT_KIND_UNSPECIFIED;
}

static void project_record(struct stint_record *dst, const struct stint_record *src, uint64_t seq)
{
    stint_record_copy(dst, src);
    dst->seq = seq;
    dst->kind = STINT_KIND_ACTIVE;
    dst->start_ms = floor_seconds_ms(src->start_ms);
    dst->end_ms = floor_seconds_ms(src->end_ms);
    dst->truncated = 0;
    dst->repaired = 0;
    dst->gap_count = 0;
}

/* The projection of head + records into *ph and *ps (empty, zeroed). */
static void project(const struct stint_batch *head, struct stint_spool *records,
                    struct stint_batch *ph, struct stint_spool *ps)
{
    static struct stint_record r, pending;
    bool have_pending = false, done = false;
    uint64_t pos = 0;
    enum stint_err e;

    out_of_range = false;
    stint_batch_clear(ph);
    ph->now_ms = floor_seconds_ms(head->now_ms);
    ph->client_version_len = head->client_version_len;
    memcpy(ph->client_version, head->client_version, (size_t)head->client_version_len + 1);
    records->read_pos = 0;
    for (;;) {
        const struct stint_record *src = NULL;

        e = stint_spool_next(records, &r, &done);
        STINT_FUZZ_CHECK(e == STINT_OK, "legacy: spool unreadable");
        if (!done)
            src = &r;
        else if (head->has_current)
            src = &head->current;
        if (src && kept(src)) {
            if (have_pending)
                STINT_FUZZ_CHECK(stint_spool_add(ps, &pending) == STINT_OK, "spool: no memory");
            project_record(&pending, src, ++pos);
            have_pending = true;
        }
        if (done)
            break;
    }
    if (have_pending && pending.end_ms == 0) {
        project_record(&ph->current, &pending, 0);
        ph->has_current = true;
    } else if (have_pending) {
        STINT_FUZZ_CHECK(stint_spool_add(ps, &pending) == STINT_OK, "spool: no memory");
    }
}

static void encode(enum stint_legacy_shape shape, const struct stint_batch *head,
                   struct stint_spool *records, struct stint_buf *out)
{
    struct stint_record_iter it = stint_spool_iter(records);
    enum stint_err e = stint_legacy_encode(shape, head, &it, out);

    STINT_FUZZ_CHECK(e == STINT_OK, "%s: encoding a valid model failed: %d (%s)",
                     shape_names[shape], e, stint_strerror(e));
}

void stint_fuzz_legacy_roundtrip(const struct stint_batch *head, struct stint_spool *records)
{
    static struct stint_batch ph, dh;
    struct stint_spool ps, ds;
    struct stint_buf b1, b2;
    struct stint_error err;
    size_t i;

    memset(&ps, 0, sizeof(ps));
    project(head, records, &ph, &ps);
    for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        enum stint_legacy_shape shape = shapes[i];
        const char *name = shape_names[shape];
        enum stint_err e;

        memset(&b1, 0, sizeof(b1));
        memset(&b2, 0, sizeof(b2));
        memset(&ds, 0, sizeof(ds));
        encode(shape, head, records, &b1);
        if (!out_of_range) {
            encode(shape, &ph, &ps, &b2);
            STINT_FUZZ_CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
                             "%s: the projection is written otherwise than the model (%zu, %zu "
                             "bytes)",
                             name, b1.len, b2.len);
        }
        if (shape != STINT_LEGACY_SERIALIZE) {
            e = stint_legacy_decode(shape, (const char *)b1.data, b1.len, &dh, stint_spool_fn, &ds,
                                    NULL, &err);
            if (out_of_range) {
                STINT_FUZZ_CHECK(e == STINT_ETYPE,
                                 "%s: a time below -9223372036854775 s read back with %d (%s)",
                                 name, e, err.msg);
                goto next;
            }
            STINT_FUZZ_CHECK(e == STINT_OK, "%s: own output refused: %s", name, err.msg);
            STINT_FUZZ_CHECK(dh.now_ms == ph.now_ms, "%s: now %lld, projection %lld", name,
                             (long long)dh.now_ms, (long long)ph.now_ms);
            STINT_FUZZ_CHECK(stint_fuzz_batch_equal(&dh, &ph),
                             "%s: header (version or open record) differs from the projection",
                             name);
            stint_fuzz_check_same_records(&ds, &ps, name);
        }
    next:
        stint_spool_free(&ds);
        stint_buf_free(&b1);
        stint_buf_free(&b2);
    }
    stint_spool_free(&ps);
}

struct reader_state {
    struct stint_spool spool;
    uint64_t n;
};

static enum stint_err reader_fn(void *ctx, const struct stint_record *r)
{
    struct reader_state *st = ctx;

    stint_fuzz_check_record(r, "log[]");
    st->n++;
    STINT_FUZZ_CHECK(r->seq == st->n, "log[]: seq %llu at position %llu",
                     (unsigned long long)r->seq, (unsigned long long)st->n);
    STINT_FUZZ_CHECK(r->kind == STINT_KIND_ACTIVE && r->gap_count == 0,
                     "log[%llu]: kind %d, gap_count %llu", (unsigned long long)st->n, r->kind,
                     (unsigned long long)r->gap_count);
    return stint_spool_add(&st->spool, r);
}

void stint_fuzz_legacy_reader(enum stint_legacy_shape shape, const uint8_t *data, size_t size)
{
    static struct stint_batch head;
    struct stint_decode_info info = {0, 0};
    struct reader_state st;
    struct stint_error err;
    enum stint_err ret;

    memset(&st, 0, sizeof(st));
    ret = stint_legacy_decode(shape, (const char *)data, size, &head, reader_fn, &st, &info, &err);
    stint_fuzz_check_result(ret, &err, size, shape_names[shape]);
    if (ret == STINT_OK) {
        stint_fuzz_check_batch(&head);
        STINT_FUZZ_CHECK(info.records == st.n, "%s: info.records %llu, delivered %llu",
                         shape_names[shape], (unsigned long long)info.records,
                         (unsigned long long)st.n);
        if (head.has_current)
            STINT_FUZZ_CHECK(head.current.seq == 0 && head.current.end_ms == 0 &&
                                 head.current.kind == STINT_KIND_ACTIVE,
                             "%s: open record with seq %llu, end %lld, kind %d", shape_names[shape],
                             (unsigned long long)head.current.seq, (long long)head.current.end_ms,
                             head.current.kind);
        stint_fuzz_legacy_roundtrip(&head, &st.spool);
    }
    stint_spool_free(&st.spool);
}
