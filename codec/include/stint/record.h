/* record.h — Stint's record model (v1), independent of any protobuf generator.
 *
 * A record is one stretch of use of one thing (spec/PROTOCOL.md, "Wire format"). Strings live in
 * fixed buffers inside the record, so decoding a record allocates nothing; each buffer is
 * NUL-terminated at its length, and may also hold NUL bytes before it (the legacy PHP shapes are
 * binary-safe). Lengths are in bytes of UTF-8.
 *
 * The limits below are the wire-format limits; proto/stint/v1/stint.options states the same
 * numbers for nanopb, and a unit test checks that the two agree.
 */
#ifndef STINT_RECORD_H
#define STINT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STINT_APP_MAX 256
#define STINT_PATH_MAX 1024
#define STINT_TITLE_MAX 2048
#define STINT_URL_MAX 4096
#define STINT_VERSION_MAX 64
#define STINT_REASON_MAX 256
#define STINT_AGENT_ID_LEN 16

/* Values of stint.v1.Kind. A decoder keeps values it does not know (a later v1.x) as numbers. */
enum stint_kind {
    STINT_KIND_UNSPECIFIED = 0,
    STINT_KIND_ACTIVE = 1,
    STINT_KIND_IDLE = 2,
    STINT_KIND_PRIVATE = 3,
    STINT_KIND_GAP = 4,
};

/* Bits of stint_record.truncated and .repaired (stint.v1.FieldBit). */
enum stint_field {
    STINT_FIELD_APP = 1,
    STINT_FIELD_PATH = 2,
    STINT_FIELD_TITLE = 4,
    STINT_FIELD_URL = 8,
};
#define STINT_FIELD_ALL 15u

struct stint_record {
    uint64_t seq;       /* 1.. per agent; 0 in the open record */
    int64_t start_ms;   /* Unix milliseconds */
    int64_t end_ms;     /* Unix milliseconds; 0 while the record is open */
    int32_t kind;       /* enum stint_kind, or an unknown value kept as is */
    uint32_t truncated; /* enum stint_field bits: cut to the limit */
    uint32_t repaired;  /* enum stint_field bits: invalid UTF-8 replaced */
    uint64_t gap_count; /* STINT_KIND_GAP: records dropped */
    uint32_t app_len;
    uint32_t path_len;
    uint32_t title_len;
    uint32_t url_len;
    char app[STINT_APP_MAX + 1];
    char path[STINT_PATH_MAX + 1];
    char title[STINT_TITLE_MAX + 1];
    char url[STINT_URL_MAX + 1];
};

/* The header of a batch; its records are streamed (see pb.h, json.h), never held in an array. */
struct stint_batch {
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    uint32_t agent_id_len; /* 0 (absent) or STINT_AGENT_ID_LEN; a decoder refuses other lengths */
    uint32_t client_version_len;
    char client_version[STINT_VERSION_MAX + 1];
    int64_t now_ms;
    bool has_current;
    struct stint_record current; /* the open record, when has_current */
};

struct stint_rejection {
    uint64_t seq;
    int32_t code; /* stint.v1.RejectCode */
    uint32_t reason_len;
    char reason[STINT_REASON_MAX + 1];
};

#define STINT_REJECT_UNSPECIFIED 0
#define STINT_REJECT_BAD_TIME 1
#define STINT_REJECT_BAD_SEQ 2
#define STINT_REJECT_BAD_KIND 3
#define STINT_REJECT_BAD_STRING 4

/* Most rejections one Ack may carry; a decoder refuses more. */
#define STINT_ACK_REJECTED_MAX 100000

struct stint_ack {
    uint64_t acked_seq;
    int64_t server_time_ms;
    uint64_t stored;
    uint64_t duplicates;
    size_t n_rejected;
    struct stint_rejection *rejected; /* owned; release with stint_ack_free() */
};

/* One string field of a record, for code that treats the four alike. */
struct stint_text {
    const char *name; /* proto field name: "app", "path", "title", "url" */
    enum stint_field bit;
    char *buf;
    uint32_t *len;
    uint32_t max;
};

/* Empties a record: scalars 0, strings empty. Does not touch the string buffers past byte 0,
 * so it is cheap enough for a hot loop. */
void stint_record_clear(struct stint_record *r);

/* Empties a batch header (and its open record). */
void stint_batch_clear(struct stint_batch *b);

/* The string field `bit` of r (exactly one STINT_FIELD_* bit). Returns false for anything else. */
bool stint_record_text(struct stint_record *r, enum stint_field bit, struct stint_text *out);

/* Stores a string from a source into field `bit`: invalid UTF-8 is replaced by U+FFFD and the
 * field's bit set in r->repaired; a value longer than the limit is cut at a character boundary
 * and flagged in r->truncated. Never fails on content; STINT_EINVAL for a bad `bit`. */
enum stint_err stint_record_set(struct stint_record *r, enum stint_field bit, const char *s,
                                size_t len);

/* Sets the client version, cut to STINT_VERSION_MAX at a character boundary (repaired likewise). */
void stint_batch_set_version(struct stint_batch *b, const char *s, size_t len);

/* Semantic checks that a server applies per record (spec/PROTOCOL.md, "Per-record validation"):
 * seq > 0, start_ms > 0, end_ms >= start_ms, kind not negative, and for the kinds v1.0 defines
 * (0..4) gap_count only on gaps and no strings on idle, private and gap records; a kind above 4
 * (a later v1.x) is acceptable and kept by its number (§3.3). On failure
 * returns the STINT_REJECT_* code and writes a reason into `reason` (cap bytes, NUL-terminated);
 * returns 0 (STINT_REJECT_UNSPECIFIED) when the record is acceptable. `closed`: the record must
 * have an end (every record of Batch.records). */
int stint_record_check(const struct stint_record *r, bool closed, char *reason, size_t cap);

/* Name of a kind ("KIND_ACTIVE"), or NULL for a value v1 does not define. */
const char *stint_kind_name(int32_t kind);

/* Returns true when a and b hold the same values (strings compared by length and bytes). */
bool stint_record_equal(const struct stint_record *a, const struct stint_record *b);

/* Copies a record cheaply (only the used part of each string buffer). */
void stint_record_copy(struct stint_record *dst, const struct stint_record *src);

/* Releases the rejections of an ack and zeroes it. NULL is fine. */
void stint_ack_free(struct stint_ack *a);

/* Appends a rejection to a (growing a->rejected); the reason is cut/repaired like a source
 * string. STINT_ENOMEM or STINT_ELIMIT (over STINT_ACK_REJECTED_MAX) on failure. */
enum stint_err stint_ack_add_rejection(struct stint_ack *a, uint64_t seq, int32_t code,
                                       const char *reason, size_t len);

#ifdef __cplusplus
}
#endif
#endif
