/* legacy.h — the legacy DeskTime payload: the PHP array documented by the old client, in four
 * shapes, each byte-identical to what PHP 8.2 itself produces for the same array
 * (spec/PROTOCOL.md, "Legacy payload"; draft in spec/PROTOCOL.md, "Legacy payload"):
 *
 *   STINT_LEGACY_PHP        var_export($a)
 *   STINT_LEGACY_SERIALIZE  serialize($a)                 (emit only)
 *   STINT_LEGACY_JSON       json_encode($a), default flags
 *   STINT_LEGACY_FORM       http_build_query($a)
 *
 * The array: 'now' and 'version', then 'log', a list of records keyed 'app', 'path', 'win'
 * (title), 'url', 'start', and 'end' once closed; every value a string, times in Unix seconds
 * (floor of the milliseconds).
 *
 * The mapping, decided once for all four shapes:
 *   - 'log' holds the batch's records in order, then the open record (head->current) last;
 *   - only records of kind ACTIVE (or UNSPECIFIED) appear: IDLE, PRIVATE, GAP and kinds this
 *     version does not know are omitted (the legacy array has no kind; the old client simply
 *     sent nothing while idle, and a private stretch must not reach a legacy server at all);
 *   - 'end' is written only when the record is closed: floor(end_ms / 1000) != 0 (an end in
 *     the first second after the epoch is 0 s, which the array cannot tell from "open");
 *   - seq, kind, truncated, repaired, gap_count and agent_id have no place in the array.
 * So the array of a batch is that of its projection (below): writing what a reader gives back
 * gives the same bytes.
 *
 * Decoding gives back that projection: records of kind ACTIVE numbered by their position in
 * 'log' (seq 1, 2, ...), times as seconds * 1000; the last entry of 'log', when it has no
 * 'end', becomes head->current (seq 0). Strings from a legacy payload are bytes: invalid UTF-8
 * is replaced by U+FFFD and flagged in record->repaired, over-long values are cut at a
 * character boundary and flagged in record->truncated (stint_record_set), as for any source.
 * The JSON shape is the exception: JSON text that is not UTF-8 is refused with STINT_EUTF8.
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

/* Limits of the decoders (on top of STINT_DECODE_MAX_INPUT): arrays nested deeper than
 * STINT_LEGACY_MAX_DEPTH (the payload itself needs 3) and more than STINT_LEGACY_MAX_VALUES
 * values (strings, numbers and arrays, about 37,000 records) are refused with STINT_ELIMIT,
 * before the memory they would need is taken. */
#define STINT_LEGACY_MAX_DEPTH 16
#define STINT_LEGACY_MAX_VALUES 262144u

/* Appends the legacy array of head and the records of `it` (may be NULL) in `shape`, then
 * head->current when head->has_current (see the mapping above). Returns STINT_EINVAL for an
 * unknown shape or a string length over its limit, STINT_EUTF8 when a string of the model is not
 * valid UTF-8 (the model never holds any), STINT_ENOMEM when out cannot grow, or the iterator's
 * error. */
enum stint_err stint_legacy_encode(enum stint_legacy_shape shape, const struct stint_batch *head,
                                   struct stint_record_iter *it, struct stint_buf *out);

/* Decodes a legacy payload (PHP, JSON or form; not serialize: STINT_EUNSUPPORTED) back to the
 * model: head gets 'now' and 'version' (and the open record, see above), fn (may be NULL) each
 * closed record of 'log' in order. Members the mapping does not know are skipped and counted in
 * info->unknown_fields. Bounded in memory and nesting depth. Errors carry the code and the byte
 * offset: STINT_ESYNTAX (malformed PHP text or form), STINT_ETRUNC (input ended inside a value),
 * STINT_EJSON, STINT_EUTF8 (JSON only), STINT_ELIMIT, STINT_ETYPE (valid syntax, but e.g. 'log'
 * is not an array or 'start' is missing or not a decimal integer); a type error names the path
 * ("log[3].start") and the offset where the value begins. */
enum stint_err stint_legacy_decode(enum stint_legacy_shape shape, const char *text, size_t len,
                                   struct stint_batch *head, stint_record_fn fn, void *ctx,
                                   struct stint_decode_info *info, struct stint_error *err);

/* Whether the mapping writes record r into 'log': kind ACTIVE or UNSPECIFIED (rule 5 of
 * spec/PROTOCOL.md §5.1). A sender that names its seqs (Stint-Seqs) lists exactly these. */
bool stint_legacy_keeps(const struct stint_record *r);

/* ---- legacy identity (spec/PROTOCOL.md §6.8) ----
 *
 * The legacy array carries no agent and no seq. A Stint agent sends them beside the body, in
 * two request headers: STINT_LEGACY_AGENT_HEADER (its agent_id, 32 lowercase hex digits) and
 * STINT_LEGACY_SEQS_HEADER (the seq of each closed record of 'log', in 'log' order, as
 * ascending comma-separated ranges "5-9,12"); a server then identifies each record by
 * (account, agent_id, seq) as for batches. A payload without them gets the content identity:
 * agent_id of 16 zero bytes and seq = stint_legacy_content_seq(). The server says which it used
 * in the answer header STINT_LEGACY_IDENTITY_HEADER ("agent-seq" or "content"). */
#define STINT_LEGACY_AGENT_HEADER "Stint-Agent-Id"
#define STINT_LEGACY_SEQS_HEADER "Stint-Seqs"
#define STINT_LEGACY_IDENTITY_HEADER "Stint-Legacy-Identity"
/* Longest Stint-Seqs value a sender writes and a server must accept (bytes). */
#define STINT_LEGACY_SEQS_MAX 65536u

/* The content identity of a legacy record: FNV-1a 64 (offset basis 14695981039346656037, prime
 * 1099511628211) over start_ms and end_ms (8 bytes each, big-endian, two's complement), then
 * app, path, title and url, each as its length (4 bytes, big-endian) and its bytes, then
 * `occurrence` (4 bytes, big-endian: how many earlier records of the same payload have the same
 * start, end and strings); the result with its top bit cleared, and 1 when that is 0. */
uint64_t stint_legacy_content_seq(const struct stint_record *r, uint32_t occurrence);

/* Appends the Stint-Seqs value of seqs[0..n-1] (strictly increasing) to out: runs of consecutive
 * seqs as "a-b", single ones as "a", joined by ",". STINT_EINVAL when the seqs do not increase,
 * STINT_ENOMEM when out cannot grow. */
enum stint_err stint_legacy_seqs_format(const uint64_t *seqs, size_t n, struct stint_buf *out);

/* Parses a Stint-Seqs value (at most STINT_LEGACY_SEQS_MAX bytes) into *seqs (malloc'd, the
 * caller frees it; NULL when n is 0) and *n. Grammar: range *("," range), range = seq ["-" seq],
 * seq = "1".."18446744073709551615" without leading zeros; spaces around commas allowed; every
 * seq above the one before it. At most `max` seqs (STINT_ELIMIT beyond). STINT_ESYNTAX with the
 * byte offset for anything else. */
enum stint_err stint_legacy_seqs_parse(const char *text, size_t len, size_t max, uint64_t **seqs,
                                       size_t *n, struct stint_error *err);

/* Parses a Stint-Agent-Id value: 32 hex digits (either case), spaces around ignored. */
bool stint_legacy_agent_parse(const char *text, uint8_t out[STINT_AGENT_ID_LEN]);

/* The shape of a stint-codec format name ("php", "php-serialize", "legacy-json", "form"),
 * or 0 when the name is none of them. */
enum stint_legacy_shape stint_legacy_shape_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
