/* invariants.h — what every fuzz harness checks of the codec's output, whatever the input.
 *
 * The codec's documented contracts (codec/include/stint/), as checks that abort() with a
 * message on the first violation, so that libFuzzer (or the replay main) reports the input:
 *   - every string of a decoded record, batch or ack is within its STINT_*_MAX, NUL-terminated at
 *     its length and valid UTF-8 (stint_utf8_valid, the one validator);
 *   - agent_id is 0 or 16 bytes; an ack holds at most STINT_ACK_REJECTED_MAX rejections;
 *   - a refusal carries its code in the error record, an offset inside the input (<= its length)
 *     and a non-empty message; a success leaves the error record clear;
 *   - the nanopb path allocates nothing while decoding a record or a batch (pb.h: "No heap
 *     allocation per record"), checked where the sanitizer's allocator hooks exist.
 */
#ifndef STINT_FUZZ_INVARIANTS_H
#define STINT_FUZZ_INVARIANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/stint.h"

/* libFuzzer's entry point, defined by each fuzz_<name>.c; replay_main.c calls it too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz invariant broken: <message>" with the place, and aborts. */
void stint_fuzz_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

#define STINT_FUZZ_CHECK(cond, ...)                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            stint_fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                                      \
    } while (0)

/* The string limits and UTF-8 of one record; `where` names it in the message. */
void stint_fuzz_check_record(const struct stint_record *r, const char *where);

/* A batch header: agent_id length, client_version, and the open record when present. */
void stint_fuzz_check_batch(const struct stint_batch *b);

/* An ack: rejection count and every reason. */
void stint_fuzz_check_ack(const struct stint_ack *a);

/* The result of decoding `len` bytes: on failure, e->code == ret, e->offset <= len, a message;
 * on success, e is clear. `what` names the decoder in the message. */
void stint_fuzz_check_result(enum stint_err ret, const struct stint_error *e, size_t len,
                             const char *what);

/* A stint_record_fn that checks each record (ctx: a uint64_t counter, or NULL). Allocates
 * nothing, so that it can stand beside the nanopb decoder's no-allocation check. */
enum stint_err stint_fuzz_record_fn(void *ctx, const struct stint_record *r);

/* True when two batch headers hold the same values (the open record included). */
bool stint_fuzz_batch_equal(const struct stint_batch *a, const struct stint_batch *b);

/* True when two acks hold the same values and rejections. */
bool stint_fuzz_ack_equal(const struct stint_ack *a, const struct stint_ack *b);

/* Checks that two spools hold equal records, in order, as many of each; `what` names the
 * comparison. Rewinds both spools first. */
void stint_fuzz_check_same_records(struct stint_spool *a, struct stint_spool *b, const char *what);

/* Allocation counting (allocator hooks of ASan builds). stint_fuzz_alloc_begin() starts a count;
 * stint_fuzz_alloc_end() returns the number of allocations since, or -1 where this build cannot
 * count (then checks based on it are skipped). */
void stint_fuzz_alloc_begin(void);
long stint_fuzz_alloc_end(void);

#endif
