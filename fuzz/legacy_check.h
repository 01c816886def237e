/* legacy_check.h — the checks of the legacy harnesses (fuzz_legacy_*.c, fuzz_roundtrip_legacy.c)
 * against the mapping of spec/PROTOCOL.md, "Legacy payload" (codec/include/stint/legacy.h).
 *
 *   - a reader's refusal is well-formed (invariants.h); what it accepts is a model within every
 *     limit and valid UTF-8, with `seq` the 1-based position in 'log', kind KIND_ACTIVE, and no
 *     gap_count; the open record (current) has seq 0 and no end;
 *   - "every output of the emitters reads back to the projection of the batch that made it ...
 *     and writing that projection again gives the same bytes" (legacy.md, section 3): checked for
 *     every model a harness reaches, in every shape.
 */
#ifndef STINT_FUZZ_LEGACY_CHECK_H
#define STINT_FUZZ_LEGACY_CHECK_H

#include "invariants.h"
#include "stint/legacy.h"

/* Decodes data with the reader of `shape` and checks it; when it accepts, checks that the model
 * it produced round-trips through every shape (stint_fuzz_legacy_roundtrip). */
void stint_fuzz_legacy_reader(enum stint_legacy_shape shape, const uint8_t *data, size_t size);

/* The model head + the records of `records` (a spool, rewound here): writes it in each of the
 * four shapes, reads back the three that have a reader, and compares with the projection
 * computed here; writes the projection again and compares the bytes. */
void stint_fuzz_legacy_roundtrip(const struct stint_batch *head, struct stint_spool *records);

#endif
