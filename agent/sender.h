/* sender.h — the resilient sender: replays the journal to the server over HTTPS, exactly once
 * (spec/PROTOCOL.md, "Sending" is the normative text; this header is the contract of the C API).
 *
 * One thread of its own reads the journal in seq order in batches (bounded by records and raw
 * bytes), encodes each batch (protobuf by default, canonical JSON, or the legacy form payload),
 * gzips it above a threshold, and POSTs it with one reused libcurl handle. On an Ack it
 * dead-letters the records the server rejected (with the server's reason) and trims the journal
 * to the acked seq; only then the next batch. Failures follow the retry table (http.h,
 * stint_http_classify): retried forever with full-jitter backoff and Retry-After, 413 and other
 * 4xx (400, 422, ...) split the batch down to the record at fault, which alone is dead-lettered;
 * 401/403 pause, and so do 404/405/415/501 (the URL or the encoding is wrong, not the records).
 * Nothing leaves the journal without an Ack or a permanent refusal of that one record, and the
 * sender never gives up while the journal holds records.
 *
 * Every attempt of a batch carries the same Idempotency-Key, "<agent_id hex>:<first>-<last>"
 * (lowercase hex of the 16 bytes, the first and last seq in decimal), and a fresh now_ms.
 *
 * The thread sleeps on a condition variable (CLOCK_MONOTONIC) until: new records
 * (stint_sender_wake, then up to linger_ms to fill the batch), flush, the retry time, stop, or a
 * network change (a netlink socket, RTMGRP_LINK / IPV4_IFADDR / IPV4_ROUTE / IPV6_IFADDR, watched
 * by a small helper thread) — no polling. Memory is bounded by the batch size (about four times
 * batch_max_bytes at most), whatever the backlog.
 *
 * Threads: every function may be called from any thread, except that destroy must not race
 * with the others. */
#ifndef STINT_AGENT_SENDER_H
#define STINT_AGENT_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "http.h"
#include "journal.h"
#include "error.h" /* the agent's error convention */

enum stint_sender_encoding {
    STINT_SENDER_PB = 0,          /* application/x-protobuf to URL/v1/batches (the default) */
    STINT_SENDER_JSON = 1,        /* application/json (canonical JSON) to URL/v1/batches */
    STINT_SENDER_LEGACY_FORM = 2, /* the legacy form payload to URL/v1/legacy: only ACTIVE
                                     records travel (legacy.h); any 2xx acks the whole batch */
    STINT_SENDER_LEGACY_JSON = 3, /* the legacy payload as JSON (PHP json_encode) to
                                     URL/v1/legacy, application/json; as the form otherwise */
};

#define STINT_SENDER_DEFAULT_MAX_RECORDS 1000u /* spec/PROTOCOL.md 7.1; config.c's default */
#define STINT_SENDER_DEFAULT_TIMEOUT_MS 60000u /* whole request; spec/PROTOCOL.md 7.3 */
/* Form batches carry at most 166 records: 2 + 6 x 166 = 998 variables, under PHP's default
 * max_input_vars of 1000, past which a PHP server drops variables silently. */
#define STINT_SENDER_LEGACY_FORM_MAX_RECORDS 166u
#define STINT_SENDER_DEFAULT_MAX_BYTES ((size_t)1 << 20)
#define STINT_SENDER_DEFAULT_GZIP_MIN 1024u
#define STINT_SENDER_DEFAULT_LINGER_MS 200u
#define STINT_SENDER_NO_GZIP SIZE_MAX     /* gzip_min_bytes: never compress */
#define STINT_SENDER_NO_LINGER UINT32_MAX /* linger_ms: send at once */

/* One attempt, as seen by opts.on_attempt (tests, the driver, logs). */
struct stint_sender_attempt {
    int64_t started_ms;                 /* wall clock (opts.wall_ms) when the request left */
    int64_t mono_start_us, mono_end_us; /* CLOCK_MONOTONIC, microseconds */
    uint64_t first_seq, last_seq;
    size_t records;
    size_t body_bytes; /* as sent (after gzip) */
    bool gzip;
    enum stint_send_class cls;
    int curl_code;
    long status;
    uint64_t wait_ms; /* the wait chosen after this attempt (0 after a success) */
    bool retry_after; /* the wait came from Retry-After */
};

struct stint_sender_opts {
    const char *url;   /* server base URL: "https://host[:port][/prefix]" (no trailing /
                          needed); http:// only to a loopback host */
    const void *token; /* bearer token bytes (never logged); NULL: no Authorization */
    size_t token_len;
    const char *ca_file;       /* NULL: system CAs */
    const char *pinned_pubkey; /* NULL, or "sha256//BASE64[;sha256//...]" */
    enum stint_sender_encoding encoding;
    size_t gzip_min_bytes;       /* bodies this large or larger are gzipped; 0: 1024 */
    int gzip_level;              /* zlib level 1..9; 0: 1 (fast; records compress well anyway) */
    size_t batch_max_records;    /* 0: 1000 (legacy form: at most 166) */
    size_t batch_max_bytes;      /* raw record bytes per batch; 0: 1 MiB */
    uint32_t backoff_base_ms;    /* 0: 1000 */
    uint32_t backoff_cap_ms;     /* 0: 300000 */
    uint32_t probe_ms;           /* server away: next try after 0.5x..1.5x this; 0: 1000 */
    uint32_t linger_ms;          /* after a wake with less than a batch: 0 = 200 ms */
    uint32_t connect_timeout_ms; /* 0: 10 s */
    uint32_t timeout_ms;         /* whole request; 0: 60 s */
    uint32_t low_speed_bytes;    /* 0: 1 byte/s ... */
    uint32_t low_speed_time_s;   /* ... for 0: 30 s */
    uint32_t stop_grace_ms;      /* stop lets an in-flight request run this long; 0: 2000 */
    bool no_netwatch;            /* do not watch netlink for network changes */
    const char *client_version;  /* NULL: stint_agent_version() */
    /* Wall clock in Unix ms for now_ms, HTTP-date Retry-After and status; NULL: CLOCK_REALTIME. */
    int64_t (*wall_ms)(void *ctx);
    void *clock_ctx;
    uint64_t rng_seed; /* backoff jitter; 0: seeded from the clock and pid */
    /* Called from the sender thread after each attempt (must not call back into the sender). */
    void (*on_attempt)(void *ctx, const struct stint_sender_attempt *a);
    /* The logger (common/log.h), copied at create: lines at info, with no token and no record
     * content, from the sender thread. NULL: silent. */
    const struct stint_log *log;
    void *cb_ctx; /* on_attempt's */
};

struct stint_sender_status {
    uint64_t backlog;        /* records in the journal not acked */
    int64_t oldest_ms;       /* start of the oldest of them; 0 when none */
    int64_t oldest_age_ms;   /* now - oldest_ms; 0 when none */
    int64_t last_attempt_ms; /* wall clock of the last attempt; 0 when none yet */
    enum stint_send_class last_class;
    long last_status; /* HTTP status of the last attempt (0: none / network error) */
    int last_curl_code;
    char last_error[256]; /* human text of the last failure; empty after a success */
    int64_t last_success_ms;
    int64_t next_retry_ms; /* wall clock of the next retry; 0 when none is scheduled */
    uint64_t attempts;
    uint64_t batches_acked;
    uint64_t records_sent; /* acked by the server (stored or duplicate) */
    uint64_t bytes_sent;   /* request bytes (headers + bodies) of every attempt */
    uint64_t records_dead; /* dead-lettered by this sender */
    uint64_t splits;       /* 413 halvings */
    uint64_t net_wakes;    /* network changes that woke the sender */
    uint64_t probes;       /* attempts that found the server away (the probe path) */
    bool auth_paused;      /* 401/403: waiting for a new token or a flush */
    bool config_paused;    /* 404/405/415/501: waiting for a reload or a flush */
    char fix[256];         /* with config_paused or blocked: what the operator should change */
    bool blocked;          /* TLS verification or setup error (last_error says which) */
    bool running;
    bool in_flight;           /* a request is out now */
    uint64_t purges;          /* stint_sender_purge calls */
    uint64_t answers_ignored; /* answers to batches read before a purge, thrown away */
};

struct stint_sender;

/* Checks opts (URL scheme and host, libcurl's acceptance) and makes the sender; no thread yet.
 * The journal is borrowed and must outlive the sender. STINT_EINVAL with a message in err
 * (may be NULL) for bad options. On success *out is the caller's: release with
 * stint_sender_destroy(). */
enum stint_err stint_sender_create(const struct stint_sender_opts *opts, struct stint_journal *j,
                                   struct stint_sender **out, struct stint_error *err);

/* Starts the sender thread (and the network watcher). STINT_EINVAL when already started. */
enum stint_err stint_sender_start(struct stint_sender *s);

/* New records are in the journal: send them (after the linger, unless a batch is full). Cheap;
 * call it after every append. */
void stint_sender_wake(struct stint_sender *s);

/* Send now: skips the linger and any backoff wait, and lifts an auth or config pause. */
void stint_sender_flush(struct stint_sender *s);

/* The journal was purged (or is about to be): nothing read from it before this call may leave.
 * The batch held (in backoff, being split, being built) is dropped, and the answer to a request
 * in flight is ignored (neither acked nor dead-lettered). With abort_in_flight the request is
 * also cut at once and this call returns when it has ended; without, the request is left to end
 * by itself (so a server that stores before answering has stored it when its answer comes: see
 * stint_sender_settled). Never blocks longer than the abort takes (libcurl is woken). */
void stint_sender_purge(struct stint_sender *s, bool abort_in_flight);

/* True when no request of a batch read before the last stint_sender_purge is in flight. */
bool stint_sender_settled(struct stint_sender *s);

/* Replaces the token (the config changed); lifts an auth pause. STINT_ENOMEM. */
enum stint_err stint_sender_set_token(struct stint_sender *s, const void *token, size_t len);

/* A snapshot of the state, for `stintctl status`. */
void stint_sender_status(struct stint_sender *s, struct stint_sender_status *out);

/* Stops the thread: an in-flight request may finish within opts.stop_grace_ms, then it is
 * abandoned (the journal keeps its records; the next run sends them again with the same key).
 * Returns when the thread has ended. Fine to call when not started, or twice. */
void stint_sender_stop(struct stint_sender *s);

/* Stops (if needed) and releases everything. NULL is fine. */
void stint_sender_destroy(struct stint_sender *s);

/* The Idempotency-Key of a batch into out (cap >= 80): "<32 hex>:<first>-<last>". */
void stint_sender_idempotency_key(const uint8_t agent_id[STINT_AGENT_ID_LEN], uint64_t first,
                                  uint64_t last, char *out, size_t cap);

/* The wait after a retryable failure: the backoff draw, or Retry-After when the answer had a
 * valid one and it is longer (a Retry-After of 0 cannot make the sender hammer the server).
 * *from_retry_after says which one decided. Exposed for the unit tests. */
uint64_t stint_sender_retry_wait(uint64_t backoff_ms, bool has_retry_after, const char *retry_after,
                                 int64_t now_ms, bool *from_retry_after);

#endif
