/* json.h — canonical JSON of Batch, Record and Ack: the proto3 JSON mapping of stint.v1
 * (spec/PROTOCOL.md, "JSON mapping").
 *
 * Output is canonical: compact, members in field-number order, lowerCamelCase names, fields at
 * their default value omitted, 64-bit integers as decimal strings, 32-bit integers as numbers,
 * enums by name (a value v1 does not name, as a number), bytes as padded standard base64, strings
 * as UTF-8 with only the escapes JSON requires.
 *
 * Input follows the mapping's leniencies: either the lowerCamelCase or the proto field name; 64-
 * and 32-bit integers as numbers or decimal strings (an integral number written with a fraction or
 * exponent is accepted); enums by name or number; base64 standard or URL-safe, padded or not;
 * `null` for the default; members this version does not know are skipped and counted. Syntax is
 * checked by jansson (strict: RFC 8259). Limits and UTF-8 as for protobuf (pb.h). jansson gives
 * positions only for syntax errors; a type error names the member's path ("records[2].startMs")
 * and carries offset 0.
 */
#ifndef STINT_JSON_H
#define STINT_JSON_H

#include "stint/pb.h"

#ifdef __cplusplus
extern "C" {
#endif

enum stint_err stint_json_encode_record(const struct stint_record *r, struct stint_buf *out);
enum stint_err stint_json_decode_record(const char *text, size_t len, struct stint_record *r,
                                        struct stint_decode_info *info, struct stint_error *err);

/* Appends {"agentId":…,"clientVersion":…,"nowMs":…,"records":[…],"current":{…}}; records are
 * written one at a time as `it` yields them. */
enum stint_err stint_json_encode_batch(const struct stint_batch *head, struct stint_record_iter *it,
                                       struct stint_buf *out);
/* Decodes a Batch; fn (may be NULL) receives each record of "records" in order. */
enum stint_err stint_json_decode_batch(const char *text, size_t len, struct stint_batch *head,
                                       stint_record_fn fn, void *ctx,
                                       struct stint_decode_info *info, struct stint_error *err);

enum stint_err stint_json_encode_ack(const struct stint_ack *a, struct stint_buf *out);
/* On success a->rejected is the caller's: release with stint_ack_free(). */
enum stint_err stint_json_decode_ack(const char *text, size_t len, struct stint_ack *a,
                                     struct stint_decode_info *info, struct stint_error *err);

/* Checks only that text is one JSON value (any type at the top), as the decoders' first step
 * does. STINT_EJSON with jansson's position and message when it is not. */
enum stint_err stint_json_check_syntax(const char *text, size_t len, struct stint_error *err);

#ifdef __cplusplus
}
#endif
#endif
