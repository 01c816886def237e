/* format.h — every encoding of a Batch behind one table, for tools and servers that choose the
 * format at run time (stint-codec --from/--to, the collector's Content-Type dispatch).
 *
 * Each entry decodes (when the format can be read back) and encodes a Batch with the streaming
 * signatures of pb.h. Names are those of the command line: "pb", "json", and the legacy shapes
 * (legacy.h) "php", "php-serialize", "legacy-json", "form". */
#ifndef STINT_FORMAT_H
#define STINT_FORMAT_H

#include "stint/pb.h"

#ifdef __cplusplus
extern "C" {
#endif

struct stint_format {
    const char *name;
    const char *summary; /* one line for --help */
    const char *example; /* a short sample of the format, for --help */
    bool binary;         /* output is not text */
    /* NULL when the format is emit-only */
    enum stint_err (*decode_batch)(const uint8_t *buf, size_t len, struct stint_batch *head,
                                   stint_record_fn fn, void *ctx, struct stint_decode_info *info,
                                   struct stint_error *err);
    enum stint_err (*encode_batch)(const struct stint_batch *head, struct stint_record_iter *it,
                                   struct stint_buf *out);
};

/* The format called `name`, or NULL. */
const struct stint_format *stint_format_find(const char *name);

/* The i-th format (0..), or NULL past the last: for listing them. */
const struct stint_format *stint_format_at(size_t i);

#ifdef __cplusplus
}
#endif
#endif
