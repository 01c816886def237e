/* random_batch.h — seeded random batches for the legacy tests, and the legacy projection (what
 * stint_legacy_decode gives back for a batch), written here a second time, apart from
 * codec/legacy.c, so that the tests do not check the mapping against itself. */
#ifndef STINT_TESTS_RANDOM_BATCH_H
#define STINT_TESTS_RANDOM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "stint/legacy.h"

/* Most records rb_batch() makes: with the open one, at most 2 + 6 * 151 = 908 form variables,
 * under PHP's default max_input_vars (1000), so parse_str() sees every record. */
#define RB_MAX_RECORDS 150

struct rb_rng {
    uint64_t s;
};

uint64_t rb_next(struct rb_rng *g);

/* Fills *head (with or without an open record) and recs[0..RB_MAX_RECORDS) with random content:
 * strings mixing quotes, backslashes, NUL, CR/LF, tabs, &=+%[]/?#, spaces, CJK, emoji, combining
 * marks and long values; kinds mostly active, some idle/private/gap/unknown; all times >= 1 s.
 * Returns the number of records. */
size_t rb_batch(struct rb_rng *g, struct stint_batch *head, struct stint_record *recs);

/* The projection of a batch: *phead gets now (floored to seconds), version and the open record;
 * out[] the records a decoder delivers, in order. Returns their number. */
size_t rb_project(const struct stint_batch *head, const struct stint_record *recs, size_t n,
                  struct stint_batch *phead, struct stint_record *out);

#endif
