/* legacy_internal.h — what the four legacy shape files share with the mapping in legacy.c.
 * Private to libstint-codec (not installed); the public API is stint/legacy.h.
 *
 * Emitting: legacy.c turns the model into the legacy array (head strings, then one entry per
 * record, each a list of key/value string pairs) and hands the pieces to the shape's emitter.
 * Decoding: the shape's parser turns text into a PHP-like value tree, held in jansson values
 * (objects keep insertion order and binary keys, which is what a PHP array is; every array is
 * an object keyed by the decimal text of its integer keys), and legacy.c maps the tree back.
 */
#ifndef STINT_LEGACY_INTERNAL_H
#define STINT_LEGACY_INTERNAL_H

#include <jansson.h>

#include "stint/legacy.h"

/* One key/value pair of the array; the value is borrowed. */
struct stint_legacy_pair {
    const char *key; /* a short ASCII literal: "app", "now", ... */
    const char *val;
    size_t len;
};

/* The header of the array ('now', 'version') and one entry of 'log' (5 or 6 pairs). */
struct stint_legacy_head {
    struct stint_legacy_pair now, version;
};
struct stint_legacy_entry {
    struct stint_legacy_pair f[6];
    size_t n;
};

/* Where each value of a parsed tree began in the input, so that a type error found while
 * mapping the tree can still name a byte offset. Appended in creation order. */
struct stint_legacy_where {
    const json_t *v;
    size_t off;
};

struct stint_legacy_tree {
    json_t *root;
    struct stint_legacy_where *where; /* NULL until locate() ran, for a JSON tree */
    size_t n_where, cap_where;
    size_t values; /* values created so far, against STINT_LEGACY_MAX_VALUES */
    /* A parser that keeps no positions (jansson) sets locate(), which fills `where` from the
     * text; it runs at most once, on the first offset asked for (the error path). */
    void (*locate)(struct stint_legacy_tree *t);
    bool located;
    const char *text;
    size_t len;
};

/* One shape: an emitter in three steps, and a parser (NULL: emit only).
 * open() writes everything up to the first entry of 'log' and may leave a mark in *mark;
 * entry() writes entry number `index` (0..); close() writes the rest, given the count. */
struct stint_legacy_ops {
    enum stint_err (*open)(struct stint_buf *out, const struct stint_legacy_head *h, size_t *mark);
    enum stint_err (*entry)(struct stint_buf *out, uint64_t index,
                            const struct stint_legacy_entry *e);
    enum stint_err (*close)(struct stint_buf *out, uint64_t count, size_t mark);
    /* Fills t->root with the parsed array (t is zeroed by the caller and released with
     * stint_legacy_tree_free whatever the result). */
    enum stint_err (*parse)(const char *text, size_t len, struct stint_legacy_tree *t,
                            struct stint_error *err);
};

extern const struct stint_legacy_ops stint_legacy_php_ops;
extern const struct stint_legacy_ops stint_legacy_serialize_ops;
extern const struct stint_legacy_ops stint_legacy_json_ops;
extern const struct stint_legacy_ops stint_legacy_form_ops;

/* Counts one more value against STINT_LEGACY_MAX_VALUES and remembers where it began (v may be
 * NULL: count only). STINT_ELIMIT or STINT_ENOMEM (with err set) on failure. */
enum stint_err stint_legacy_tree_note(struct stint_legacy_tree *t, const json_t *v, size_t off,
                                      struct stint_error *err);

/* The offset where v began, or 0 when unknown (runs t->locate first when there is one). */
size_t stint_legacy_tree_offset(struct stint_legacy_tree *t, const json_t *v);

/* Releases the tree and the offsets; t is zeroed. NULL is fine. */
void stint_legacy_tree_free(struct stint_legacy_tree *t);

/* Appends the decimal text of v (for keys and times). */
enum stint_err stint_legacy_put_int(struct stint_buf *out, int64_t v);

#endif
