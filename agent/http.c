/* http.c — libcurl glue and the retry classification (see http.h).
 *
 * One easy handle lives as long as the sender: libcurl keeps the connection (and the TLS
 * session) in it, so a drain pays one handshake, not one per batch. Options are set once, when
 * the first post needs the handle; each post only sets the body, the header list and the
 * per-attempt state.
 *
 * libcurl is set up lazily: stint_http_create only checks the URL, and curl_global_init, the easy
 * and the multi handle come with the first post. curl_global_init initialises the TLS and SSH
 * libraries under libcurl (about 1.5 MiB of RSS on Debian 12, bench/bench_idle.sh), which an
 * agent with nothing to send yet (an idle laptop, a fresh start with an empty journal) does not
 * need to pay.
 *
 * The classification is a pure function of (CURLcode, status), written as a table so the unit
 * test can walk the same table. Network-level failures (connect, resolve, send, receive, reset,
 * timeout, TLS handshake cut short, HTTP/2 stream errors, an empty reply) are RETRY: they say
 * nothing about the batch. A TLS *verification* failure (bad chain, wrong host, pin mismatch,
 * unreadable CA file) is BLOCKED: retrying at full speed would only hammer a server we must not
 * talk to, so the sender waits the backoff cap between tries and shows the reason. */
#define _POSIX_C_SOURCE 200809L
#include "http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/clock.h"
#include "common/loopback.h"

struct stint_http {
    CURL *curl;   /* NULL until the first post */
    CURLM *multi; /* one easy handle in it: the multi interface only so that a wait can be cut
                     short from another thread (curl_multi_wakeup); set under wake_mu */
    pthread_mutex_t wake_mu;
    bool global; /* curl_global_init done by this handle (undone at destroy) */
    const char *protocols;
    char *url, *ca_file, *pinned_pubkey; /* copies: libcurl is set up after create returns */
    struct stint_http_opts o;
    char errbuf[CURL_ERROR_SIZE];
    struct stint_buf body;
    struct stint_http_response *resp; /* of the post in progress */
    uint64_t header_out;              /* request header bytes of the post in progress */
    bool fresh;
};

enum stint_send_class stint_http_classify(int curl_code, long status)
{
    switch (curl_code) {
    case CURLE_OK:
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CIPHER:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_FAILED_INIT:
        return STINT_SEND_BLOCKED;
    default:
        /* connect/resolve/send/recv errors, timeouts, resets, handshake failures, HTTP/2 stream
         * errors, an aborted transfer, out of memory: nothing is known about the batch */
        return STINT_SEND_RETRY;
    }
    if (status >= 200 && status <= 299)
        return STINT_SEND_OK;
    switch (status) {
    case 408:
    case 429:
        return STINT_SEND_RETRY;
    case 413:
        return STINT_SEND_SPLIT;
    case 401:
    case 403:
        return STINT_SEND_AUTH;
    case 404: /* no such path: the base URL is wrong (a prefix too many or missing) */
    case 405: /* the path exists but takes no POST: not a Stint server there */
    case 415: /* the encoding is not one the server takes */
    case 501: /* the server does not implement the request at all */
        return STINT_SEND_MISCONFIG;
    default:
        break;
    }
    if (status >= 400 && status <= 499)
        return STINT_SEND_REJECT;
    /* 5xx (500, 502, 503, 504 and the rest), 3xx (redirects are not followed: a POST must not be
     * replayed elsewhere silently), 1xx as final, or nonsense: try again later */
    return STINT_SEND_RETRY;
}

bool stint_http_unreachable(int curl_code)
{
    switch (curl_code) {
    case CURLE_COULDNT_RESOLVE_HOST: /* offline laptop, no DNS: nothing asked the server */
    case CURLE_COULDNT_CONNECT:      /* refused (nothing listening), no route, host unreachable */
    case CURLE_SSL_CONNECT_ERROR:    /* the handshake never completed: no request was sent */
        return true;
    default:
        /* timeouts, resets and empty replies may come from a server too busy to answer: those
         * keep the full-jitter backoff */
        return false;
    }
}

const char *stint_send_class_name(enum stint_send_class c)
{
    switch (c) {
    case STINT_SEND_OK:
        return "ok";
    case STINT_SEND_RETRY:
        return "retry";
    case STINT_SEND_SPLIT:
        return "split";
    case STINT_SEND_AUTH:
        return "auth";
    case STINT_SEND_REJECT:
        return "reject";
    case STINT_SEND_BLOCKED:
        return "blocked";
    case STINT_SEND_MISCONFIG:
        return "misconfig";
    }
    return "unknown";
}

void stint_http_blocked_fix(int curl_code, char *out, size_t cap)
{
    switch (curl_code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
        snprintf(out, cap,
                 "the server's certificate does not verify: set [sender] ca_file to the CA that "
                 "signed it (or pinned_key to its public key), then reload stintd");
        break;
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        snprintf(
            out, cap,
            "the server's public key is not the one in [sender] pinned_key: fix the pin (or the "
            "URL), then reload stintd");
        break;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        snprintf(out, cap,
                 "[sender] ca_file cannot be used as a CA bundle: fix it, then reload stintd");
        break;
    default:
        snprintf(out, cap, "check [sender] server, ca_file and pinned_key, then reload stintd");
        break;
    }
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct stint_http *h = ctx;
    size_t len = size * n;

    if (h->body.len + len > STINT_HTTP_MAX_ANSWER)
        return 0; /* CURLE_WRITE_ERROR: an answer that large is not an Ack */
    if (stint_buf_append(&h->body, p, len) != STINT_OK)
        return 0;
    return len;
}

/* Copies the value of header `name` (with its colon) if line is that header. */
static bool header_value(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name), m;

    if (len < nl || strncasecmp(line, name, nl) != 0)
        return false;
    line += nl;
    len -= nl;
    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' ' ||
                   line[len - 1] == '\t'))
        len--;
    m = len < cap - 1 ? len : cap - 1;
    memcpy(dst, line, m);
    dst[m] = '\0';
    return true;
}

/* Keeps the headers of interest of one header line in r. */
static void take_header(struct stint_http_response *r, const char *p, size_t len)
{
    /* a new status line (e.g. after a 100 Continue) starts a new set of headers */
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        r->has_retry_after = false;
        r->retry_after[0] = '\0';
        r->content_type[0] = '\0';
        r->legacy_identity[0] = '\0';
    } else if (header_value(p, len, "Retry-After:", r->retry_after, sizeof(r->retry_after))) {
        r->has_retry_after = true;
    } else if (!header_value(p, len, "Content-Type:", r->content_type, sizeof(r->content_type))) {
        header_value(p, len, "Stint-Legacy-Identity:", r->legacy_identity,
                     sizeof(r->legacy_identity));
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct stint_http *h = ctx;

    take_header(h->resp, p, size * n);
    return size * n;
}

/* Counts the request header bytes libcurl sends (CURLINFO_REQUEST_SIZE is no help: it includes
 * the body when libcurl sent a small body in the same buffer). Only lengths are looked at: the
 * header block holds the token and is never copied or logged. */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ctx)
{
    struct stint_http *h = ctx;
    (void)c, (void)data;
    if (type == CURLINFO_HEADER_OUT)
        h->header_out += size;
    return 0;
}

#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* True when libcurl's TLS library is OpenSSL (Debian has libcurl with OpenSSL and GnuTLS). */
static bool openssl_backend(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v && v->ssl_version && strncmp(v->ssl_version, "OpenSSL", 7) == 0;
}

/* The system's CA bundle: the first of the usual places that is a readable file. */
static const char *system_ca_bundle(void)
{
    static const char *const places[] = {
        "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine, Arch */
        "/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL */
        "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL, extracted */
        "/etc/ssl/cert.pem",                                 /* BSDs, macOS */
    };
    size_t i;
    for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
        if (access(places[i], R_OK) == 0)
            return places[i];
    }
    return NULL;
}

const char *stint_http_system_trust(bool *is_dir)
{
    *is_dir = openssl_backend() && access(SYSTEM_CA_DIR "/.", R_OK) == 0;
    return *is_dir ? SYSTEM_CA_DIR : system_ca_bundle();
}

/* Trust, read as little as it can be (bench/bench_idle.sh measures the RSS): the CA file alone
 * when one is given; else, with OpenSSL, the system's hashed CA folder, which OpenSSL looks up
 * lazily (only the issuers a chain names are read); else (GnuTLS) the system's CA bundle, one
 * file: GnuTLS reads a CA folder whole, and Debian's holds each CA three times over (its .pem,
 * its hash link, the bundle: about 7 MiB of RSS for as long as the handle lives).
 * CURLSSLOPT_NATIVE_CA would say "the system's" directly, but libcurl supports it with GnuTLS
 * only from 8.5 (Debian 12 has 7.88). With neither folder nor bundle, libcurl's built-in default
 * stays. */
static int set_trust(CURL *curl, const char *ca_file)
{
    bool is_dir = false;
    const char *sys = ca_file ? ca_file : stint_http_system_trust(&is_dir);
    CURLcode rc;

    if (!sys)
        return CURLE_OK;
    rc = curl_easy_setopt(curl, CURLOPT_CAINFO, is_dir ? (const char *)NULL : sys);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(curl, CURLOPT_CAPATH, is_dir ? sys : (const char *)NULL);
    return (int)rc;
}

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt(curl, opt, val);                                           \
        if (rc_ != CURLE_OK) {                                                                     \
            snprintf(why, cap, "libcurl refused %s: %s", #opt, curl_easy_strerror(rc_));           \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Sets libcurl up for the first post: global init, the handles, every option. false with the
 * reason in why when libcurl could not be set up (out of memory, an option refused). */
static bool ensure_curl(struct stint_http *h, char *why, size_t cap)
{
    const struct stint_http_opts *opts = &h->o;
    CURL *curl;
    CURLM *multi;
    CURLcode rc_trust;

    if (h->curl)
        return true;
    if (!h->global) {
        CURLcode gc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (gc != CURLE_OK) {
            snprintf(why, cap, "curl_global_init failed: %s", curl_easy_strerror(gc));
            return false;
        }
        h->global = true;
    }
    curl = curl_easy_init();
    multi = curl_multi_init();
    if (!curl || !multi) {
        snprintf(why, cap, "libcurl: out of memory making its handles");
        goto fail;
    }
    SETOPT(CURLOPT_URL, h->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, h->protocols);
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if ((rc_trust = (CURLcode)set_trust(curl, h->ca_file)) != CURLE_OK) {
        snprintf(why, cap, "libcurl refused the trust options: %s", curl_easy_strerror(rc_trust));
        goto fail;
    }
    if (h->pinned_pubkey)
        SETOPT(CURLOPT_PINNEDPUBLICKEY, h->pinned_pubkey);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
           (long)(opts->connect_timeout_ms ? opts->connect_timeout_ms : 10000));
    SETOPT(CURLOPT_TIMEOUT_MS, (long)(opts->timeout_ms ? opts->timeout_ms : 60000));
    SETOPT(CURLOPT_LOW_SPEED_LIMIT, (long)(opts->low_speed_bytes ? opts->low_speed_bytes : 1));
    SETOPT(CURLOPT_LOW_SPEED_TIME, (long)(opts->low_speed_time_s ? opts->low_speed_time_s : 30));
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, h->errbuf);
    SETOPT(CURLOPT_DEBUGFUNCTION, on_debug);
    SETOPT(CURLOPT_DEBUGDATA, h);
    SETOPT(CURLOPT_VERBOSE, 1L); /* only so that on_debug sees the header bytes; nothing printed */
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, h);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, h);
    /* never send request bodies compressed by libcurl or ask for compressed answers: Acks are
     * small, and the request body is gzipped by the sender itself */
    h->curl = curl;
    pthread_mutex_lock(&h->wake_mu);
    h->multi = multi;
    pthread_mutex_unlock(&h->wake_mu);
    return true;
fail:
    if (curl)
        curl_easy_cleanup(curl);
    if (multi)
        curl_multi_cleanup(multi);
    return false;
}

static char *dup_or_null(const char *p, bool *ok)
{
    char *d;
    if (!p)
        return NULL;
    d = strdup(p);
    if (!d)
        *ok = false;
    return d;
}

/* Parses url into u and sets *protocols to what libcurl may speak for it: "https", or
 * "http,https" when it is http:// to a loopback host. STINT_EINVAL (message in e) for anything
 * else. */
static enum stint_err url_protocols(CURLU *u, const char *url, const char **protocols,
                                    struct stint_error *e)
{
    char *scheme = NULL, *host = NULL;
    enum stint_err err_rc = STINT_OK;

    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        err_rc = stint_error_set(e, STINT_EINVAL, 0, "server URL is not a valid URL");
        goto cleanup;
    }
    if (strcasecmp(scheme, "http") == 0) {
        if (!stint_loopback_host(host)) {
            err_rc = stint_error_set(e, STINT_EINVAL, 0,
                                     "plain http:// is allowed only to loopback, not to %s; "
                                     "use https://",
                                     host);
            goto cleanup;
        }
        *protocols = "http,https";
    } else if (strcasecmp(scheme, "https") != 0) {
        err_rc =
            stint_error_set(e, STINT_EINVAL, 0, "server URL must be https:// (not %s)", scheme);
        goto cleanup;
    }
cleanup:
    curl_free(scheme);
    curl_free(host);
    return err_rc;
}

bool stint_http_url_allowed(const char *url)
{
    CURLU *u = url ? curl_url() : NULL;
    const char *protocols = NULL;
    bool ok = u && url_protocols(u, url, &protocols, NULL) == STINT_OK;

    curl_url_cleanup(u);
    return ok;
}

enum stint_err stint_http_create(const struct stint_http_opts *opts, struct stint_http **out,
                                 struct stint_error *err)
{
    struct stint_http *h = NULL;
    CURLU *u = NULL;
    enum stint_err err_rc = STINT_OK;
    const char *protocols = "https";
    bool ok = true;

    *out = NULL;
    if (!opts || !opts->url) {
        err_rc = stint_error_set(err, STINT_EINVAL, 0, "no server URL");
        goto cleanup;
    }
    u = curl_url();
    if (!u) {
        err_rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    err_rc = url_protocols(u, opts->url, &protocols, err);
    if (err_rc != STINT_OK)
        goto cleanup;
    h = calloc(1, sizeof(*h));
    if (!h || pthread_mutex_init(&h->wake_mu, NULL) != 0) {
        free(h);
        h = NULL;
        err_rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    h->o = *opts;
    h->o.url = h->o.ca_file = h->o.pinned_pubkey = NULL; /* borrowed: the copies below serve */
    h->protocols = protocols;
    h->body.max = STINT_HTTP_MAX_ANSWER + 1;
    h->url = dup_or_null(opts->url, &ok);
    h->ca_file = dup_or_null(opts->ca_file, &ok);
    h->pinned_pubkey = dup_or_null(opts->pinned_pubkey, &ok);
    if (!ok) {
        err_rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    *out = h;
    h = NULL;
cleanup:
    curl_url_cleanup(u);
    stint_http_destroy(h);
    return err_rc;
}

void stint_http_destroy(struct stint_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->global)
        curl_global_cleanup();
    pthread_mutex_destroy(&h->wake_mu);
    stint_buf_free(&h->body);
    free(h->url);
    free(h->ca_file);
    free(h->pinned_pubkey);
    free(h);
}

void stint_http_reset_connection(struct stint_http *h)
{
    h->fresh = true;
}

void stint_http_wakeup(struct stint_http *h)
{
    pthread_mutex_lock(&h->wake_mu);
    if (h->multi) /* none yet: no post has started, nothing to wake */
        curl_multi_wakeup(h->multi);
    pthread_mutex_unlock(&h->wake_mu);
}

/* curl_easy_perform, but through the multi interface: between socket events it asks abort_fn,
 * and stint_http_wakeup (from another thread) interrupts the wait at once. */
static CURLcode perform(struct stint_http *h)
{
    CURLcode cc = CURLE_OK;
    CURLMsg *msg;
    int running = 1, left = 0;
    bool done = false;

    int64_t t0;
    /* libcurl enforces CURLOPT_TIMEOUT_MS itself; this is a second bound of our own (the
     * timeout plus 5 s), so that no state of a connection can hold the sender longer */
    long limit_ms = (long)(h->o.timeout_ms ? h->o.timeout_ms : 60000) + 5000;

    t0 = stint_clock_mono_ms();
    if (curl_multi_add_handle(h->multi, h->curl) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    while (running) {
        if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
            cc = CURLE_OUT_OF_MEMORY;
            goto cleanup;
        }
        if (!running)
            break;
        if (stint_clock_mono_ms() - t0 > limit_ms) {
            cc = CURLE_OPERATION_TIMEDOUT;
            h->fresh = true;
            goto cleanup;
        }
        if (h->o.abort_fn && h->o.abort_fn(h->o.abort_ctx)) {
            cc = CURLE_ABORTED_BY_CALLBACK;
            /* an aborted transfer leaves its connection in an unknown state: do not reuse it */
            h->fresh = true;
            goto cleanup;
        }
        if (curl_multi_poll(h->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            cc = CURLE_OUT_OF_MEMORY;
            goto cleanup;
        }
    }
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h->curl) {
            cc = msg->data.result;
            done = true;
        }
    }
    if (!done)
        cc = CURLE_GOT_NOTHING;
cleanup:
    curl_multi_remove_handle(h->multi, h->curl);
    return cc;
}

enum stint_err stint_http_post(struct stint_http *h, const char *const *headers,
                               const uint8_t *body, size_t len, struct stint_http_response *resp)
{
    struct curl_slist *list = NULL, *nl;
    enum stint_err rc = STINT_OK;
    curl_off_t up = 0, down = 0;
    long hdr_size = 0;
    CURLcode cc;
    size_t i;

    memset(resp, 0, sizeof(*resp));
    if (!ensure_curl(h, resp->error, sizeof(resp->error))) {
        resp->curl_code = (int)CURLE_FAILED_INIT; /* BLOCKED: shown in status, tried again later */
        return STINT_OK;
    }
    for (i = 0; headers && headers[i]; i++) {
        nl = curl_slist_append(list, headers[i]);
        if (!nl) {
            rc = STINT_ENOMEM;
            goto cleanup;
        }
        list = nl;
    }
    nl = curl_slist_append(list, "Expect:");
    if (!nl) {
        rc = STINT_ENOMEM;
        goto cleanup;
    }
    list = nl;
    stint_buf_reset(&h->body);
    h->errbuf[0] = '\0';
    h->resp = resp;
    h->header_out = 0;
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h->curl, CURLOPT_FRESH_CONNECT, h->fresh ? 1L : 0L);
    h->fresh = false;
    cc = perform(h);
    h->resp = NULL;
    resp->curl_code = (int)cc;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    } else {
        resp->status = 0;
        /* the return value is looked at so that a cut message is not a warning */
        if (snprintf(resp->error, sizeof(resp->error), "%s%s%s", curl_easy_strerror(cc),
                     h->errbuf[0] ? ": " : "", h->errbuf) < 0)
            resp->error[0] = '\0';
    }
    curl_easy_getinfo(h->curl, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(h->curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(h->curl, CURLINFO_HEADER_SIZE, &hdr_size);
    resp->wire_up = (uint64_t)up + h->header_out;
    resp->wire_down = (uint64_t)down + (uint64_t)(hdr_size > 0 ? hdr_size : 0);
    resp->body = h->body.data;
    resp->body_len = h->body.len;
    /* the handle must not keep pointers into this call's memory */
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (const char *)NULL);
cleanup:
    curl_slist_free_all(list);
    return rc;
}

/* The answer's body of stint_http_request, into the caller's buffer. */
struct oneshot {
    struct stint_http_response *resp;
    uint8_t *buf;
    size_t cap, len;
};

static size_t oneshot_body(char *p, size_t size, size_t n, void *ctx)
{
    struct oneshot *o = ctx;
    size_t len = size * n, room = o->cap > o->len ? o->cap - o->len : 0;

    if (room) {
        memcpy(o->buf + o->len, p, len < room ? len : room);
        o->len += len < room ? len : room;
    }
    return len;
}

static size_t oneshot_header(char *p, size_t size, size_t n, void *ctx)
{
    struct oneshot *o = ctx;

    take_header(o->resp, p, size * n);
    return size * n;
}

#undef SETOPT
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        cc = curl_easy_setopt(curl, opt, val);                                                     \
        if (cc != CURLE_OK)                                                                        \
            goto done;                                                                             \
    } while (0)

enum stint_err stint_http_request(const struct stint_http_request *rq,
                                  struct stint_http_response *resp, struct stint_error *e)
{
    struct oneshot o = {.resp = resp};
    struct curl_slist *list = NULL, *nl;
    const char *protocols = "https";
    char errbuf[CURL_ERROR_SIZE] = "";
    enum stint_err rc = STINT_OK;
    CURLcode cc = CURLE_FAILED_INIT;
    CURLU *u = NULL;
    CURL *curl = NULL;
    struct stint_error scratch;

    if (!e)
        e = &scratch;
    memset(resp, 0, sizeof(*resp));
    if (!rq || !rq->method || !rq->url) {
        rc = stint_error_set(e, STINT_EINVAL, 0, "HTTP request without method or URL");
        goto cleanup;
    }
    u = curl_url();
    if (!u) {
        rc = stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    rc = url_protocols(u, rq->url, &protocols, e);
    if (rc != STINT_OK)
        goto cleanup;
    for (size_t i = 0; rq->headers && rq->headers[i]; i++) {
        nl = curl_slist_append(list, rq->headers[i]);
        if (!nl) {
            rc = stint_error_set(e, STINT_ENOMEM, 0, "out of memory");
            goto cleanup;
        }
        list = nl;
    }
    o.buf = rq->answer;
    o.cap = rq->answer ? rq->answer_cap : 0;
    curl = curl_easy_init();
    if (!curl)
        goto done; /* CURLE_FAILED_INIT */
    SETOPT(CURLOPT_URL, rq->url);
    SETOPT(CURLOPT_CUSTOMREQUEST, rq->method);
    if (rq->body) {
        SETOPT(CURLOPT_POSTFIELDS, (const char *)rq->body);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    SETOPT(CURLOPT_HTTPHEADER, list);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, oneshot_body);
    SETOPT(CURLOPT_WRITEDATA, &o);
    SETOPT(CURLOPT_HEADERFUNCTION, oneshot_header);
    SETOPT(CURLOPT_HEADERDATA, &o);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
           (long)(rq->connect_timeout_ms ? rq->connect_timeout_ms : 10000));
    SETOPT(CURLOPT_TIMEOUT_MS, (long)(rq->timeout_ms ? rq->timeout_ms : 60000));
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SETOPT(CURLOPT_PROTOCOLS_STR, protocols);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    cc = (CURLcode)set_trust(curl, rq->ca_file);
    if (cc != CURLE_OK)
        goto done;
    if (rq->pinned_pubkey)
        SETOPT(CURLOPT_PINNEDPUBLICKEY, rq->pinned_pubkey);
    cc = curl_easy_perform(curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
done:
    resp->curl_code = (int)cc;
    if (cc != CURLE_OK)
        snprintf(resp->error, sizeof(resp->error), "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
    if (o.buf) {
        if (o.len < o.cap)
            o.buf[o.len] = 0;
        resp->body = o.buf;
        resp->body_len = o.len;
    }
cleanup:
    if (rc != STINT_OK)
        snprintf(resp->error, sizeof(resp->error), "%s", e->msg);
    if (curl)
        curl_easy_cleanup(curl);
    curl_slist_free_all(list);
    curl_url_cleanup(u);
    return rc;
}
