/* record.c — the record model: setters that repair and cut, comparison, and the per-record
 * semantic checks a server applies (spec/PROTOCOL.md, "Per-record validation"). */
#include "stint/record.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/utf8.h"

void stint_record_clear(struct stint_record *r)
{
    r->seq = 0;
    r->start_ms = 0;
    r->end_ms = 0;
    r->kind = 0;
    r->truncated = 0;
    r->repaired = 0;
    r->gap_count = 0;
    r->app_len = r->path_len = r->title_len = r->url_len = 0;
    r->app[0] = r->path[0] = r->title[0] = r->url[0] = '\0';
}

void stint_batch_clear(struct stint_batch *b)
{
    memset(b->agent_id, 0, sizeof(b->agent_id));
    b->agent_id_len = 0;
    b->client_version_len = 0;
    b->client_version[0] = '\0';
    b->now_ms = 0;
    b->has_current = false;
    stint_record_clear(&b->current);
}

bool stint_record_text(struct stint_record *r, enum stint_field bit, struct stint_text *out)
{
    switch (bit) {
    case STINT_FIELD_APP:
        *out = (struct stint_text){"app", bit, r->app, &r->app_len, STINT_APP_MAX};
        return true;
    case STINT_FIELD_PATH:
        *out = (struct stint_text){"path", bit, r->path, &r->path_len, STINT_PATH_MAX};
        return true;
    case STINT_FIELD_TITLE:
        *out = (struct stint_text){"title", bit, r->title, &r->title_len, STINT_TITLE_MAX};
        return true;
    case STINT_FIELD_URL:
        *out = (struct stint_text){"url", bit, r->url, &r->url_len, STINT_URL_MAX};
        return true;
    }
    return false;
}

enum stint_err stint_record_set(struct stint_record *r, enum stint_field bit, const char *s,
                                size_t len)
{
    struct stint_text t;
    bool rep = false, cut = false;

    if (!stint_record_text(r, bit, &t) || (!s && len))
        return STINT_EINVAL;
    *t.len = (uint32_t)stint_utf8_sanitize(t.buf, (size_t)t.max + 1, s ? s : "", len, &rep, &cut);
    r->repaired = rep ? (r->repaired | bit) : (r->repaired & ~(uint32_t)bit);
    r->truncated = cut ? (r->truncated | bit) : (r->truncated & ~(uint32_t)bit);
    return STINT_OK;
}

void stint_batch_set_version(struct stint_batch *b, const char *s, size_t len)
{
    b->client_version_len = (uint32_t)stint_utf8_sanitize(
        b->client_version, sizeof(b->client_version), s ? s : "", s ? len : 0, NULL, NULL);
}

const char *stint_kind_name(int32_t kind)
{
    switch (kind) {
    case STINT_KIND_UNSPECIFIED:
        return "KIND_UNSPECIFIED";
    case STINT_KIND_ACTIVE:
        return "KIND_ACTIVE";
    case STINT_KIND_IDLE:
        return "KIND_IDLE";
    case STINT_KIND_PRIVATE:
        return "KIND_PRIVATE";
    case STINT_KIND_GAP:
        return "KIND_GAP";
    default:
        return NULL;
    }
}

/* Unix milliseconds of 9999-12-31T23:59:59.999Z: beyond it a time is refused, since neither the
 * legacy shapes nor RFC 3339 can carry it. */
#define STINT_TIME_MAX_MS INT64_C(253402300799999)

int stint_record_check(const struct stint_record *r, bool closed, char *reason, size_t cap)
{
    if (closed && r->seq == 0) {
        snprintf(reason, cap, "seq must be greater than 0");
        return STINT_REJECT_BAD_SEQ;
    }
    if (r->start_ms <= 0 || r->start_ms > STINT_TIME_MAX_MS) {
        snprintf(reason, cap, "start_ms %" PRId64 " out of range (1..%" PRId64 ")", r->start_ms,
                 STINT_TIME_MAX_MS);
        return STINT_REJECT_BAD_TIME;
    }
    if (closed && r->end_ms == 0) {
        snprintf(reason, cap, "closed record without end_ms");
        return STINT_REJECT_BAD_TIME;
    }
    if (r->end_ms != 0 && (r->end_ms < r->start_ms || r->end_ms > STINT_TIME_MAX_MS)) {
        snprintf(reason, cap, "end_ms %" PRId64 " before start_ms %" PRId64 " or out of range",
                 r->end_ms, r->start_ms);
        return STINT_REJECT_BAD_TIME;
    }
    if (r->kind < STINT_KIND_UNSPECIFIED) {
        snprintf(reason, cap, "negative kind %" PRId32, r->kind);
        return STINT_REJECT_BAD_KIND;
    }
    /* A kind above KIND_GAP comes from a later v1.x: it is kept and stored by its number, and
     * the kind-dependent rules below are that version's, not ours (spec/PROTOCOL.md §3.3). */
    if (r->kind <= STINT_KIND_GAP && r->kind != STINT_KIND_GAP && r->gap_count != 0) {
        snprintf(reason, cap, "gap_count on a record that is not a gap");
        return STINT_REJECT_BAD_KIND;
    }
    if ((r->kind == STINT_KIND_IDLE || r->kind == STINT_KIND_PRIVATE ||
         r->kind == STINT_KIND_GAP) &&
        (r->app_len | r->path_len | r->title_len | r->url_len)) {
        snprintf(reason, cap, "%s record carries window strings", stint_kind_name(r->kind));
        return STINT_REJECT_BAD_STRING;
    }
    if ((r->truncated | r->repaired) & ~STINT_FIELD_ALL) {
        snprintf(reason, cap, "unknown bits in truncated/repaired");
        return STINT_REJECT_BAD_STRING;
    }
    if (cap)
        reason[0] = '\0';
    return STINT_REJECT_UNSPECIFIED;
}

bool stint_record_equal(const struct stint_record *a, const struct stint_record *b)
{
    return a->seq == b->seq && a->start_ms == b->start_ms && a->end_ms == b->end_ms &&
           a->kind == b->kind && a->truncated == b->truncated && a->repaired == b->repaired &&
           a->gap_count == b->gap_count && a->app_len == b->app_len && a->path_len == b->path_len &&
           a->title_len == b->title_len && a->url_len == b->url_len &&
           memcmp(a->app, b->app, a->app_len) == 0 && memcmp(a->path, b->path, a->path_len) == 0 &&
           memcmp(a->title, b->title, a->title_len) == 0 && memcmp(a->url, b->url, a->url_len) == 0;
}

void stint_record_copy(struct stint_record *dst, const struct stint_record *src)
{
    dst->seq = src->seq;
    dst->start_ms = src->start_ms;
    dst->end_ms = src->end_ms;
    dst->kind = src->kind;
    dst->truncated = src->truncated;
    dst->repaired = src->repaired;
    dst->gap_count = src->gap_count;
    dst->app_len = src->app_len;
    dst->path_len = src->path_len;
    dst->title_len = src->title_len;
    dst->url_len = src->url_len;
    memcpy(dst->app, src->app, (size_t)src->app_len + 1);
    memcpy(dst->path, src->path, (size_t)src->path_len + 1);
    memcpy(dst->title, src->title, (size_t)src->title_len + 1);
    memcpy(dst->url, src->url, (size_t)src->url_len + 1);
}

void stint_ack_free(struct stint_ack *a)
{
    if (!a)
        return;
    free(a->rejected);
    memset(a, 0, sizeof(*a));
}

enum stint_err stint_ack_add_rejection(struct stint_ack *a, uint64_t seq, int32_t code,
                                       const char *reason, size_t len)
{
    struct stint_rejection *r;

    if (a->n_rejected >= STINT_ACK_REJECTED_MAX)
        return STINT_ELIMIT;
    /* grow at powers of two */
    if ((a->n_rejected & (a->n_rejected - 1)) == 0) {
        size_t ncap = a->n_rejected ? a->n_rejected * 2 : 1;
        struct stint_rejection *p = realloc(a->rejected, ncap * sizeof(*p));
        if (!p)
            return STINT_ENOMEM;
        a->rejected = p;
    }
    r = &a->rejected[a->n_rejected++];
    r->seq = seq;
    r->code = code;
    r->reason_len = (uint32_t)stint_utf8_sanitize(
        r->reason, sizeof(r->reason), reason ? reason : "", reason ? len : 0, NULL, NULL);
    return STINT_OK;
}
