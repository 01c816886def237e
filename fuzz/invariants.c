/* invariants.c — the checks every harness applies (see invariants.h).
 *
 * Design. A check that fails prints what and where, then abort()s: libFuzzer turns that into a
 * crash report with the input saved, the replay main into a failed ctest test. The checks only
 * read what the codec handed back; they allocate nothing, so the allocation count around a
 * decoder is the decoder's own.
 *
 * Allocation counting uses the sanitizer allocator's hooks
 * (__sanitizer_install_malloc_and_free_hooks), which exist in ASan builds of gcc and clang;
 * libFuzzer's -malloc_limit_mb uses the same hooks (up to five may be installed). Without ASan the
 * count is unavailable and reported as -1.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include "invariants.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define STINT_FUZZ_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STINT_FUZZ_HOOKS 1
#endif
#endif

#ifdef STINT_FUZZ_HOOKS
/* From sanitizer/allocator_interface.h, which gcc does not install; the ASan runtime of both
 * compilers has it. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
#endif

void stint_fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz invariant broken (%s:%d): ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static void check_text(const char *where, const char *name, const char *s, uint32_t len,
                       uint32_t max)
{
    STINT_FUZZ_CHECK(len <= max, "%s.%s: %u bytes, over its limit %u", where, name, len, max);
    STINT_FUZZ_CHECK(s[len] == '\0', "%s.%s: not NUL-terminated at its length %u", where, name,
                     len);
    STINT_FUZZ_CHECK(stint_utf8_valid(s, len), "%s.%s: invalid UTF-8 at byte %zu of %u", where,
                     name, stint_utf8_valid_prefix(s, len), len);
}

void stint_fuzz_check_record(const struct stint_record *r, const char *where)
{
    check_text(where, "app", r->app, r->app_len, STINT_APP_MAX);
    check_text(where, "path", r->path, r->path_len, STINT_PATH_MAX);
    check_text(where, "title", r->title, r->title_len, STINT_TITLE_MAX);
    check_text(where, "url", r->url, r->url_len, STINT_URL_MAX);
}

void stint_fuzz_check_batch(const struct stint_batch *b)
{
    STINT_FUZZ_CHECK(b->agent_id_len == 0 || b->agent_id_len == STINT_AGENT_ID_LEN,
                     "batch.agent_id: %u bytes, must be 0 or %d", b->agent_id_len,
                     STINT_AGENT_ID_LEN);
    check_text("batch", "client_version", b->client_version, b->client_version_len,
               STINT_VERSION_MAX);
    if (b->has_current)
        stint_fuzz_check_record(&b->current, "batch.current");
}

void stint_fuzz_check_ack(const struct stint_ack *a)
{
    size_t i;
    char where[48];

    STINT_FUZZ_CHECK(a->n_rejected <= STINT_ACK_REJECTED_MAX, "ack: %zu rejections, limit %d",
                     a->n_rejected, STINT_ACK_REJECTED_MAX);
    STINT_FUZZ_CHECK(a->n_rejected == 0 || a->rejected != NULL, "ack: %zu rejections, no array",
                     a->n_rejected);
    for (i = 0; i < a->n_rejected; i++) {
        snprintf(where, sizeof(where), "ack.rejected[%zu]", i);
        check_text(where, "reason", a->rejected[i].reason, a->rejected[i].reason_len,
                   STINT_REASON_MAX);
    }
}

void stint_fuzz_check_result(enum stint_err ret, const struct stint_error *e, size_t len,
                             const char *what)
{
    size_t mlen = strnlen(e->msg, sizeof(e->msg));

    STINT_FUZZ_CHECK(mlen < sizeof(e->msg), "%s: error message not NUL-terminated", what);
    if (ret == STINT_OK) {
        STINT_FUZZ_CHECK(e->code == STINT_OK && mlen == 0,
                         "%s: success, but the error record says %d (%s)", what, e->code, e->msg);
        return;
    }
    STINT_FUZZ_CHECK(ret > STINT_OK && ret <= STINT_EDIFF, "%s: returned %d, not a stint_err", what,
                     ret);
    STINT_FUZZ_CHECK(e->code == ret, "%s: returned %d (%s) but the error record says %d (%s)", what,
                     ret, stint_strerror(ret), e->code, e->msg);
    STINT_FUZZ_CHECK(e->offset <= len, "%s: error offset %zu outside the input (%zu bytes): %s",
                     what, e->offset, len, e->msg);
    STINT_FUZZ_CHECK(mlen > 0, "%s: error %d (%s) without a message", what, ret,
                     stint_strerror(ret));
}

enum stint_err stint_fuzz_record_fn(void *ctx, const struct stint_record *r)
{
    stint_fuzz_check_record(r, "records[]");
    if (ctx)
        ++*(uint64_t *)ctx;
    return STINT_OK;
}

bool stint_fuzz_batch_equal(const struct stint_batch *a, const struct stint_batch *b)
{
    return a->agent_id_len == b->agent_id_len &&
           memcmp(a->agent_id, b->agent_id, a->agent_id_len) == 0 &&
           a->client_version_len == b->client_version_len &&
           memcmp(a->client_version, b->client_version, a->client_version_len) == 0 &&
           a->now_ms == b->now_ms && a->has_current == b->has_current &&
           (!a->has_current || stint_record_equal(&a->current, &b->current));
}

bool stint_fuzz_ack_equal(const struct stint_ack *a, const struct stint_ack *b)
{
    size_t i;

    if (a->acked_seq != b->acked_seq || a->server_time_ms != b->server_time_ms ||
        a->stored != b->stored || a->duplicates != b->duplicates || a->n_rejected != b->n_rejected)
        return false;
    for (i = 0; i < a->n_rejected; i++) {
        const struct stint_rejection *x = &a->rejected[i], *y = &b->rejected[i];

        if (x->seq != y->seq || x->code != y->code || x->reason_len != y->reason_len ||
            memcmp(x->reason, y->reason, x->reason_len) != 0)
            return false;
    }
    return true;
}

void stint_fuzz_check_same_records(struct stint_spool *a, struct stint_spool *b, const char *what)
{
    /* two records are 15 KB: off the stack, which libFuzzer keeps small */
    static struct stint_record ra, rb;
    size_t i;

    STINT_FUZZ_CHECK(a->count == b->count, "%s: %zu records, then %zu", what, a->count, b->count);
    a->read_pos = 0;
    b->read_pos = 0;
    for (i = 0;; i++) {
        bool da = false, db = false;
        enum stint_err ea = stint_spool_next(a, &ra, &da);
        enum stint_err eb = stint_spool_next(b, &rb, &db);

        STINT_FUZZ_CHECK(ea == STINT_OK && eb == STINT_OK, "%s: spool unreadable (%d, %d)", what,
                         ea, eb);
        STINT_FUZZ_CHECK(da == db, "%s: record counts differ at %zu", what, i);
        if (da)
            break;
        STINT_FUZZ_CHECK(stint_record_equal(&ra, &rb), "%s: records[%zu] differs", what, i);
    }
}

#ifdef STINT_FUZZ_HOOKS
static volatile long alloc_count;
static volatile int alloc_counting;
static int hooks_installed;

static void malloc_hook(const volatile void *p, size_t size)
{
    (void)p;
    (void)size;
    if (alloc_counting)
        alloc_count++;
}

static void free_hook(const volatile void *p)
{
    (void)p;
}

void stint_fuzz_alloc_begin(void)
{
    if (!hooks_installed)
        hooks_installed =
            __sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook) ? 1 : -1;
    alloc_count = 0;
    alloc_counting = 1;
}

long stint_fuzz_alloc_end(void)
{
    alloc_counting = 0;
    return hooks_installed > 0 ? alloc_count : -1;
}
#else
void stint_fuzz_alloc_begin(void)
{
}

long stint_fuzz_alloc_end(void)
{
    return -1;
}
#endif
