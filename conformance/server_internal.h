/* server_internal.h — what the server-mode cases of stint-conformance share: the requests they
 * make, the answers they expect, and the case table's row. Internal to conformance/.
 *
 * Each group file (server_accept.c, server_refuse.c, server_read.c, server_accounts.c) holds its
 * cases and their table of rows: id, level, section, requirement and function in one line, so a
 * case's description and its code cannot drift apart; server_cases.c runs the groups in order.
 * Conventions: every helper writes what it found into the detail d (capacity cap) when it returns
 * false or STINT_CONF_FAIL; requests and buffers are the caller's to free. */
#ifndef STINT_CONF_SERVER_INTERNAL_H
#define STINT_CONF_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "server_cases.h"
#include "stint/record.h"

/* Writes the detail of a case: d and cap are the case function's own parameters. */
#define D(...) snprintf(d, cap, __VA_ARGS__)

#define STINT_CASE_CT_PB "application/x-protobuf"
#define STINT_CASE_CT_JSON "application/json"

/* A case: checks one requirement against o's server and says what it saw in d. */
typedef enum stint_conf_result (*stint_case_fn)(const struct stint_conf_server_opts *o, char *d,
                                                size_t cap);

/* A row of the case table. */
struct stint_case {
    struct stint_conf_case_info info;
    stint_case_fn fn;
};

/* The groups' tables, in run order (S01-S13, S14-S25, S26-S37, S38-S48). */
extern const struct stint_case stint_case_accept[];
extern const size_t stint_case_accept_n;
extern const struct stint_case stint_case_refuse[];
extern const size_t stint_case_refuse_n;
extern const struct stint_case stint_case_read[];
extern const size_t stint_case_read_n;
extern const struct stint_case stint_case_accounts[];
extern const size_t stint_case_accounts_n;

/* 429 and 503 met so far in the run, for S36/S37 (every request is observed). */
struct stint_case_throttled {
    int seen;
    char status_and_value[200]; /* of the first malformed one */
    int malformed;
    int missing;
    char first[200]; /* the first Retry-After seen, for the detail */
};
extern struct stint_case_throttled stint_case_throttled;

/* One request. auth is a whole Authorization value ("Bearer T") or NULL; extra (may be NULL)
 * is a NULL-terminated list of more header lines. */
enum stint_err stint_case_request_x(const struct stint_conf_server_opts *o, const char *method,
                                    const char *path, const char *auth, const char *ctype,
                                    const char *cenc, const char *key, const char *const *extra,
                                    const void *body, size_t len, struct stint_conf_resp *r);

/* stint_case_request_x without extra header lines. */
enum stint_err stint_case_request(const struct stint_conf_server_opts *o, const char *method,
                                  const char *path, const char *auth, const char *ctype,
                                  const char *cenc, const char *key, const void *body, size_t len,
                                  struct stint_conf_resp *r);

/* "Bearer TOKEN" into out. */
void stint_case_bearer(const char *token, char *out, size_t cap);

/* POSTs a body to /v1/batches as account token. */
enum stint_err stint_case_post(const struct stint_conf_server_opts *o, const char *token,
                               const char *ctype, const char *cenc, const char *key,
                               const struct stint_buf *body, struct stint_conf_resp *r);

/* Encodes b (gzipped when asked) into out, emptied first. */
enum stint_err stint_case_encode(const struct stint_conf_batch *b, bool gzip,
                                 struct stint_buf *out);

/* What to say when no HTTP answer came. */
enum stint_conf_result stint_case_no_answer(const struct stint_conf_resp *r, char *d, size_t cap);

/* Expects 200 and an Ack (read in either encoding). */
bool stint_case_want_ack(const struct stint_conf_resp *r, struct stint_ack *ack, const char *what,
                         char *d, size_t cap);

/* Expects `want`; the body is not looked at (S31 does that). */
bool stint_case_want_status(const struct stint_conf_resp *r, long want, const char *what, char *d,
                            size_t cap);

/* Expects an Ack with these acked_seq and counts; says what differs in d. */
bool stint_case_ack_is(const struct stint_ack *a, uint64_t acked, uint64_t stored, uint64_t dup,
                       size_t rejected, const char *what, char *d, size_t cap);

/* stint_case_ack_is without acked_seq (legacy content seqs are the server's own). */
bool stint_case_counts_are(const struct stint_ack *a, uint64_t stored, uint64_t dup,
                           size_t rejected, const char *what, char *d, size_t cap);

/* Sends records first..first+n-1 of agent (protobuf) as token with a fresh key and expects an
 * Ack with these counts. */
enum stint_conf_result stint_case_send_expect(const struct stint_conf_server_opts *o,
                                              const char *token, const uint8_t *agent,
                                              uint64_t first, size_t n, const char *suffix,
                                              uint64_t stored, uint64_t dup, const char *what,
                                              char *d, size_t cap);

/* A batch mutator (struct stint_conf_batch): record 1 ends before it starts. */
void stint_case_bad_second(size_t i, struct stint_record *r, void *arg);

/* The spec's name of a rejection code ("REJECT_BAD_SEQ"). */
const char *stint_case_code_name(int c);

/* A valid 3-record protobuf batch of a new agent into body. */
enum stint_err stint_case_good_body(struct stint_buf *body, enum stint_conf_enc enc);

/* Encodes b (gzipped when asked) into body and POSTs it to /v1/batches as token with Content-Type
 * ctype and Idempotency-Key key (NULL: none); true when an HTTP answer came into *r. False with
 * d saying why (it could not encode, or no answer). body and r are the caller's to free. */
bool stint_case_send(const struct stint_conf_server_opts *o, const char *token, const char *ctype,
                     bool gzip, const char *key, const struct stint_conf_batch *b,
                     struct stint_buf *body, struct stint_conf_resp *r, char *d, size_t cap);

#endif
