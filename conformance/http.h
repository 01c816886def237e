/* http.h — the kit's HTTP client for server mode: one libcurl handle, one request at a time,
 * the answer's status, the headers the cases look at, and the body.
 *
 * TLS peer verification is always on (a private CA comes with --ca-file). Plain http:// is
 * accepted only for a loopback host (127.0.0.0/8, ::1, localhost), for tests. */
#ifndef STINT_CONF_HTTP_H
#define STINT_CONF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"
#include "common/media_type.h"

struct stint_conf_http; /* opaque */

struct stint_conf_resp {
    long status;            /* 0 when no answer came */
    char content_type[128]; /* empty when absent */
    char retry_after[128];
    int has_retry_after;
    char www_authenticate[256];
    int has_www_authenticate;
    char allow[128];
    char legacy_identity[64]; /* Stint-Legacy-Identity, empty when absent */
    struct stint_buf body;    /* owned: stint_conf_resp_free() */
    char error[256];          /* libcurl's message when no answer came */
};

/* Checks url (scheme, loopback rule) and makes the client. On failure writes why into msg.
 * On success *out is the caller's: stint_conf_http_destroy(). */
enum stint_err stint_conf_http_create(const char *url, const char *ca_file,
                                      struct stint_conf_http **out, char *msg, size_t cap);
void stint_conf_http_destroy(struct stint_conf_http *h); /* NULL is fine */

/* Sends METHOD base+path with the given header lines ("Name: value", NULL-terminated; may be
 * NULL) and body (may be NULL). *resp is reset first and must be freed by the caller even on
 * failure. STINT_EIO (resp->error says why) when no HTTP answer came; STINT_ENOMEM. */
enum stint_err stint_conf_http_request(struct stint_conf_http *h, const char *method,
                                       const char *path, const char *const *headers,
                                       const void *body, size_t len, struct stint_conf_resp *resp);

void stint_conf_resp_free(struct stint_conf_resp *r); /* NULL is fine */

#endif
