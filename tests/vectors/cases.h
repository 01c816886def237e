/* cases.h — the golden vector cases of spec/vectors/, built from the model.
 *
 * Each case is a Batch: a header, records made one at a time by index (so the 10,000-record case
 * needs no array), and optionally raw bytes of fields from a later v1.x that the golden .pb
 * carries but that v1 does not know. gen_vectors writes the files and checks them. */
#ifndef STINT_TEST_VECTOR_CASES_H
#define STINT_TEST_VECTOR_CASES_H

#include "stint/stint.h"

struct vector_case {
    const char *name;
    const char *shows; /* what the case demonstrates, for the manifest */
    void (*head)(struct stint_batch *b);
    size_t n_records;
    void (*record)(size_t i, struct stint_record *r);
    /* Appends the golden .pb when it is not the plain encoding (unknown fields); NULL otherwise.
     * *unknown receives the number of unknown fields it carries. */
    enum stint_err (*raw_pb)(const struct vector_case *c, struct stint_buf *out, uint64_t *unknown);
};

extern const struct vector_case stint_vector_cases[];
extern const size_t stint_vector_case_count;

/* An iterator over a case's records; `pos` must outlive the iterator. */
struct vector_iter_state {
    const struct vector_case *c;
    size_t pos;
};
struct stint_record_iter vector_case_iter(struct vector_iter_state *st);

#endif
