/* handler.h — one HTTP request in, one response out: the collector's protocol logic, without
 * sockets (server.c is the libmicrohttpd glue; the fuzz harness and unit tests call this
 * directly). Routes, status codes and bodies: spec/PROTOCOL.md, "Collector". */
#ifndef STINT_COLLECTOR_HANDLER_H
#define STINT_COLLECTOR_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"
#include "store.h"
#include "tokens.h"

#define STINT_COLLECTOR_MAX_BODY ((size_t)8 << 20)     /* request body as sent */
#define STINT_COLLECTOR_MAX_DECODED ((size_t)32 << 20) /* after gzip */
#define STINT_COLLECTOR_MAX_RECORDS 10000              /* records per batch */
#define STINT_COLLECTOR_RETRY_AFTER_S 2 /* Retry-After of a 503 while storage is being reopened */

struct stint_handler_opts {
    struct stint_store *store;         /* borrowed; must outlive the handler */
    const struct stint_tokens *tokens; /* borrowed */
    size_t max_body;                   /* 0: STINT_COLLECTOR_MAX_BODY */
    size_t max_decoded;                /* 0: STINT_COLLECTOR_MAX_DECODED */
    size_t max_records;                /* 0: STINT_COLLECTOR_MAX_RECORDS */
    bool ack_only; /* benchmarks of senders: validate and answer, store nothing */
};

/* A request as the server read it. Header values are NULL when absent. */
struct stint_request {
    const char *method;
    const char *path; /* without the query string */
    const char *content_type;
    const char *content_encoding;
    const char *authorization;
    const char *idempotency_key;
    const char *legacy_agent_id; /* Stint-Agent-Id (POST /v1/legacy), or NULL */
    const char *legacy_seqs;     /* Stint-Seqs (POST /v1/legacy), or NULL */
    const uint8_t *body;
    size_t body_len;
    bool body_over_limit; /* the server stopped keeping the body at max_body */
    int64_t now_ms;       /* the server's clock when the request arrived */
};

struct stint_response {
    int status;
    const char *content_type;    /* static string */
    struct stint_buf body;       /* owned: stint_response_free() */
    const char *allow;           /* 405: the Allow header */
    bool www_authenticate;       /* 401: send WWW-Authenticate: Bearer */
    char retry_after[40];        /* empty, or a Retry-After value */
    const char *legacy_identity; /* 200 on /v1/legacy: Stint-Legacy-Identity (static string) */
};

struct stint_handler; /* opaque */

/* On success *out is the caller's: release with stint_handler_destroy(). */
enum stint_err stint_handler_create(const struct stint_handler_opts *opts,
                                    struct stint_handler **out);
void stint_handler_destroy(struct stint_handler *h); /* NULL is fine */

/* Answers rq into *rs (zeroed first). Always produces a response: failures of storage are a 503
 * with Retry-After while the store is broken and being reopened, else a 500, with an error body.
 * Returns STINT_OK, or STINT_ENOMEM when not even the error body could be built (then rs->status is
 * 500 and the body may be empty). Thread-safe. */
enum stint_err stint_handler_serve(struct stint_handler *h, const struct stint_request *rq,
                                   struct stint_response *rs);

/* Checks what the request head alone decides, before any of its body is read: route and method
 * (404, 405), Authorization (401), Content-Encoding and Content-Type (415), an announced
 * Content-Length over max_body (413), and a broken store (503 with Retry-After) for requests
 * that would write. Returns true with *rs filled (and counted) when the request is refused: the
 * server answers it without reading the body. False: go on (rs is empty); the full checks run
 * again in stint_handler_serve. rq's body fields are ignored. Thread-safe. */
bool stint_handler_check_head(struct stint_handler *h, const struct stint_request *rq,
                              bool has_length, uint64_t content_length, struct stint_response *rs);

/* Fills rs with the error body {"error":{"code":CODE,"message":MESSAGE}} and status. */
enum stint_err stint_response_error(struct stint_response *rs, int status, const char *code,
                                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

void stint_response_free(struct stint_response *rs); /* NULL is fine */

/* Appends the handler's counters as one text line:
 *   requests total=.. batches=.. stored=.. duplicates=.. rejected=.. replays=.. status_4xx=..
 *            status_5xx=.. deleted=.. */
enum stint_err stint_handler_report(struct stint_handler *h, struct stint_buf *out);

/* Appends s as a JSON string literal (quotes included); bytes outside printable ASCII other
 * than valid escapes become '?'. */
enum stint_err stint_json_quote(struct stint_buf *out, const char *s, size_t len);

#endif
