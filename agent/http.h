/* http.h — the agent's libcurl glue, the only file that sees libcurl: the sender's easy handle
 * reused for every POST (keep-alive, HTTP/2 when the server offers it over TLS), one-off requests
 * (stint_http_request: purge's DELETE), the loopback rule for http:// and the retry
 * classification of every outcome (spec/PROTOCOL.md, "Sending", "Retry table").
 *
 * TLS: peer and host verification always on, TLS >= 1.2, an optional CA file and pinned public
 * key. Protocols: https only; http as well only when the URL's host is a loopback address
 * (127.0.0.0/8, ::1, localhost). Proxies come from the environment, as libcurl does. Signals are
 * never used (NOSIGNAL). The handle is not thread-safe: one thread uses it. */
#ifndef STINT_AGENT_HTTP_H
#define STINT_AGENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"
#include "error.h" /* the agent's error convention */

/* What the sender does after one attempt. Values are append-only (they appear in status). */
enum stint_send_class {
    STINT_SEND_OK = 0,        /* 2xx: read the Ack, trim the journal */
    STINT_SEND_RETRY = 1,     /* network error, 408, 429, 5xx, 3xx, other 1xx/2xx oddities: back
                                 off and send the same batch again, forever */
    STINT_SEND_SPLIT = 2,     /* 413: halve the batch (one record still too large: dead-letter) */
    STINT_SEND_AUTH = 3,      /* 401, 403: pause until the token changes or flush is asked */
    STINT_SEND_REJECT = 4,    /* any other 4xx (400, 409, 422, ...): split the batch down to the
                                 record at fault; one record still refused is dead-lettered */
    STINT_SEND_BLOCKED = 5,   /* TLS verification failed or the local setup is wrong (bad CA file,
                                 unsupported protocol): needs an operator, retried at the cap */
    STINT_SEND_MISCONFIG = 6, /* 404, 405, 415, 501: the URL or the encoding is wrong, not the
                                 records: pause (as AUTH) until reload or flush */
};

/* The class of an attempt that ended with libcurl code curl_code (a CURLcode) and, when
 * curl_code is 0, HTTP status http_status. Pure function: the table in spec/PROTOCOL.md,
 * "Sending". */
enum stint_send_class stint_http_classify(int curl_code, long http_status);

/* True when a failure of class RETRY means the server is away rather than busy: the name did
 * not resolve, the connection was refused or had no route, or TLS never started. Nothing reached
 * the server, so trying again soon costs it nothing (spec/PROTOCOL.md §7: the probe). */
bool stint_http_unreachable(int curl_code);

/* "ok", "retry", "split", "auth", "reject", "blocked", "misconfig". */
const char *stint_send_class_name(enum stint_send_class c);

/* What an operator should do about an attempt of class BLOCKED that ended with curl_code: one
 * sentence into out[cap] (shown in status as "fix"). */
void stint_http_blocked_fix(int curl_code, char *out, size_t cap);

/* True when url may name the server: an https:// URL, or an http:// URL whose host is loopback
 * (127.0.0.0/8, ::1, localhost). The URL is parsed (libcurl's URL API) and its host checked by
 * common/loopback.h, never compared by its first bytes: http://127.example.com and
 * http://localhost.evil.com are not loopback. The one check the config and the sender share. */
bool stint_http_url_allowed(const char *url);

struct stint_http_opts {
    const char *url;           /* the full URL to POST to */
    const char *ca_file;       /* NULL: the system's CAs */
    const char *pinned_pubkey; /* NULL, or as CURLOPT_PINNEDPUBLICKEY ("sha256//...;...") */
    uint32_t connect_timeout_ms;
    uint32_t timeout_ms;       /* whole request */
    uint32_t low_speed_bytes;  /* abort below this many bytes/s ... */
    uint32_t low_speed_time_s; /* ... for this long */
    /* Asked during a transfer (at every socket event, at least once a second, and at once after
     * stint_http_wakeup); a true return aborts it. NULL: never. */
    bool (*abort_fn)(void *ctx);
    void *abort_ctx;
};

/* One attempt's outcome. body and the strings are the handle's: valid until the next post. */
struct stint_http_response {
    int curl_code;   /* CURLcode; 0 when an HTTP answer came */
    long status;     /* HTTP status, 0 when none */
    char error[256]; /* libcurl's message when curl_code != 0 */
    bool has_retry_after;
    char retry_after[128]; /* the Retry-After value, trimmed (cut at 127 bytes) */
    char content_type[96];
    char legacy_identity[32]; /* Stint-Legacy-Identity of the answer (spec §6.10), or empty */
    const uint8_t *body;      /* the answer's body (capped at STINT_HTTP_MAX_ANSWER) */
    size_t body_len;
    uint64_t wire_up;   /* request header + body bytes sent (TLS framing not counted) */
    uint64_t wire_down; /* answer header + body bytes received */
};

#define STINT_HTTP_MAX_ANSWER ((size_t)32 << 20)

struct stint_http;

/* The system trust used when no CA file is configured: with libcurl on OpenSSL the hashed CA
 * folder /etc/ssl/certs (*is_dir true; looked up lazily), else the first readable CA bundle of
 * the usual places (/etc/ssl/certs/ca-certificates.crt on Debian); NULL: libcurl's default. */
const char *stint_http_system_trust(bool *is_dir);

/* Makes the handle. STINT_EINVAL (message in err) for a URL that is not https, or http to a host
 * that is not loopback, or that libcurl cannot parse. On success *out is the caller's: release
 * with stint_http_destroy(). The strings of opts are copied. libcurl itself (curl_global_init,
 * its handles) is set up by the first post, so an agent with nothing to send does not load TLS;
 * a setup failure there is answered as curl code CURLE_FAILED_INIT (class BLOCKED). */
enum stint_err stint_http_create(const struct stint_http_opts *opts, struct stint_http **out,
                                 struct stint_error *err);
void stint_http_destroy(struct stint_http *h); /* NULL is fine */

/* POSTs body[0..len) with the given header lines (NULL-terminated; "Expect:" is added so no
 * 100-continue round trip is made). Always fills *resp; returns STINT_OK when a response was
 * classified (whatever it was), STINT_ENOMEM when the request could not even be built. */
enum stint_err stint_http_post(struct stint_http *h, const char *const *headers,
                               const uint8_t *body, size_t len, struct stint_http_response *resp);

/* One request outside the sender's handle (purge's DELETE): the same TLS rules (verification,
 * TLS >= 1.2, ca_file or the system trust, the pin), no kept connection. */
struct stint_http_request {
    const char *method;         /* "GET", "POST", "DELETE", ... */
    const char *url;            /* https://, or http:// to a loopback host */
    const char *const *headers; /* header lines, NULL-terminated; NULL: none */
    const uint8_t *body;        /* NULL: no body */
    size_t body_len;
    const char *ca_file;         /* NULL: the system's CAs */
    const char *pinned_pubkey;   /* NULL, or as in struct stint_http_opts */
    uint32_t connect_timeout_ms; /* 0: 10 s */
    uint32_t timeout_ms;         /* whole request; 0: 60 s */
    uint8_t *answer;             /* the caller's buffer for the answer's body ... */
    size_t answer_cap;           /* ... of this size; a longer body is cut (and read to its end) */
};

/* Performs rq and waits for it (blocking: call it from a thread that may wait timeout_ms). Fills
 * *resp: curl_code, status, error, the headers of interest (Retry-After, Content-Type,
 * Stint-Legacy-Identity), and body/body_len pointing into rq->answer (NUL-terminated there when
 * there is room). wire_up and wire_down stay 0. Returns STINT_OK when the request was made,
 * whatever its outcome (see resp->curl_code and resp->status); STINT_EINVAL (message in resp->error
 * and e) for a URL that is not https or not loopback http, or a request without method or url;
 * STINT_ENOMEM. Thread-safe once libcurl is initialised (curl_global_init runs on first use). */
enum stint_err stint_http_request(const struct stint_http_request *rq,
                                  struct stint_http_response *resp, struct stint_error *e);

/* Drops the kept connection (the next post connects anew). */
void stint_http_reset_connection(struct stint_http *h);

/* Makes a post in progress look at abort_fn now instead of at its next socket event or within
 * the second. The only function that may be called from another thread. */
void stint_http_wakeup(struct stint_http *h);

#endif
