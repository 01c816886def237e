/* legacy.h — the legacy DeskTime payload: the PHP array documented by the old client, in four
 * shapes, each byte-identical to what PHP 8.2 itself produces for the same array
 * (spec/PROTOCOL.md, "Legacy payload"):
 *
 *   STINT_LEGACY_PHP        var_export($a)
 *   STINT_LEGACY_SERIALIZE  serialize($a)                 (emit only)
 *   STINT_LEGACY_JSON       json_encode($a), default flags
 *   STINT_LEGACY_FORM       http_build_query($a)
 *
 * The array: 'now' and 'version', then 'log', a list of records keyed 'app', 'path', 'win'
 * (title), 'url', 'start', and 'end' once closed; every value a string, times in Unix seconds
 * (floor of the milliseconds). The mapping of record kinds is in the spec.
 */
#ifndef STINT_LEGACY_H
#define STINT_LEGACY_H

#include "stint/pb.h"

#ifdef __cplusplus
extern "C" {
#endif

enum stint_legacy_shape {
    STINT_LEGACY_PHP = 1,
    STINT_LEGACY_SERIALIZE = 2,
    STINT_LEGACY_JSON = 3,
    STINT_LEGACY_FORM = 4,
};

/* Appends the legacy array of head and the records of `it` (may be NULL) in `shape`. */
enum stint_err stint_legacy_encode(enum stint_legacy_shape shape, const struct stint_batch *head,
                                   struct stint_record_iter *it, struct stint_buf *out);

/* Decodes a legacy payload (PHP, JSON or form; not serialize) back to the model: head gets
 * 'now' and 'version', fn (may be NULL) each record of 'log' in order. Bounded in memory and
 * nesting depth; errors carry the codec's code and the byte offset. */
enum stint_err stint_legacy_decode(enum stint_legacy_shape shape, const char *text, size_t len,
                                   struct stint_batch *head, stint_record_fn fn, void *ctx,
                                   struct stint_decode_info *info, struct stint_error *err);

#ifdef __cplusplus
}
#endif
#endif
