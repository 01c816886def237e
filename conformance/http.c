/* http.c — libcurl under the server-mode cases (see http.h).
 *
 * One easy handle is kept for the run, so the connection is reused like an agent's would be;
 * curl_easy_reset() between requests clears options but keeps the connection cache. Bodies are
 * sent as given (the cases build gzip themselves) with an empty "Expect:" so that large bodies
 * are not held back for a 100-continue. Header values are captured from the last response of
 * the exchange (a 100 Continue never reaches the cases). */
#define _POSIX_C_SOURCE 200809L
#include "http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/loopback.h"

struct stint_conf_http {
    CURL *curl;
    char base[2048];
    char *ca_file;
};

/* True when the URL's host is loopback (common/loopback.h); libcurl's URL API finds the host. */
static bool is_loopback_host(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool yes = false;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        yes = stint_loopback_host(host);
    curl_free(host);
    curl_url_cleanup(u);
    return yes;
}

enum stint_err stint_conf_http_create(const char *url, const char *ca_file,
                                      struct stint_conf_http **out, char *msg, size_t cap)
{
    struct stint_conf_http *h = NULL;
    size_t n = strlen(url);

    *out = NULL;
    if (strncasecmp(url, "https://", 8) != 0 &&
        !(strncasecmp(url, "http://", 7) == 0 && is_loopback_host(url))) {
        snprintf(msg, cap, "--url must be https:// (http:// only to a loopback host): %s", url);
        return STINT_EINVAL;
    }
    while (n && url[n - 1] == '/')
        n--;
    if (n >= sizeof(h->base)) {
        snprintf(msg, cap, "--url is too long");
        return STINT_EINVAL;
    }
    h = calloc(1, sizeof(*h));
    if (!h)
        return STINT_ENOMEM;
    memcpy(h->base, url, n);
    h->base[n] = '\0';
    if (ca_file && !(h->ca_file = strdup(ca_file))) {
        free(h);
        return STINT_ENOMEM;
    }
    h->curl = curl_easy_init();
    if (!h->curl) {
        stint_conf_http_destroy(h);
        snprintf(msg, cap, "libcurl could not make a handle");
        return STINT_ENOMEM;
    }
    *out = h;
    return STINT_OK;
}

void stint_conf_http_destroy(struct stint_conf_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->ca_file);
    free(h);
}

void stint_conf_resp_free(struct stint_conf_resp *r)
{
    if (r)
        stint_buf_free(&r->body);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct stint_conf_resp *r = ctx;
    if (stint_buf_append(&r->body, p, size * n) != STINT_OK)
        return 0;
    return size * n;
}

/* Copies the trimmed value of "Name: value" into out when the name matches. */
static bool take(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), i, j;

    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return false;
    i = nl + 1;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    j = len;
    while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' ' ||
                     line[j - 1] == '\t'))
        j--;
    if (j - i >= cap)
        j = i + cap - 1;
    memcpy(out, line + i, j - i);
    out[j - i] = '\0';
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct stint_conf_resp *r = ctx;
    size_t len = size * n;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after a 1xx): forget what the previous one said */
        r->content_type[0] = r->retry_after[0] = r->www_authenticate[0] = r->allow[0] = '\0';
        r->legacy_identity[0] = '\0';
        r->has_retry_after = r->has_www_authenticate = 0;
        return len;
    }
    take(p, len, "Content-Type", r->content_type, sizeof(r->content_type));
    take(p, len, "Stint-Legacy-Identity", r->legacy_identity, sizeof(r->legacy_identity));
    if (take(p, len, "Retry-After", r->retry_after, sizeof(r->retry_after)))
        r->has_retry_after = 1;
    if (take(p, len, "WWW-Authenticate", r->www_authenticate, sizeof(r->www_authenticate)))
        r->has_www_authenticate = 1;
    take(p, len, "Allow", r->allow, sizeof(r->allow));
    return len;
}

enum stint_err stint_conf_http_request(struct stint_conf_http *h, const char *method,
                                       const char *path, const char *const *headers,
                                       const void *body, size_t len, struct stint_conf_resp *resp)
{
    struct curl_slist *list = NULL, *nl;
    char url[4096], errbuf[CURL_ERROR_SIZE];
    enum stint_err rc = STINT_OK;
    CURLcode cc;
    size_t i;

    stint_buf_free(&resp->body);
    memset(resp, 0, sizeof(*resp));
    resp->body.max = (size_t)256 << 20;
    if ((size_t)snprintf(url, sizeof(url), "%s%s", h->base, path) >= sizeof(url)) {
        snprintf(resp->error, sizeof(resp->error), "URL too long");
        return STINT_EIO;
    }
    for (i = 0; headers && headers[i]; i++) {
        nl = curl_slist_append(list, headers[i]);
        if (!nl) {
            rc = STINT_ENOMEM;
            goto cleanup;
        }
        list = nl;
    }
    if (!(nl = curl_slist_append(list, "Expect:"))) {
        rc = STINT_ENOMEM;
        goto cleanup;
    }
    list = nl;
    errbuf[0] = '\0';
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (h->ca_file)
        curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->ca_file);
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, resp);
    /* bodies are compared as sent: no transparent decompression */
    curl_easy_setopt(h->curl, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
        if (body || strcmp(method, "POST") == 0) {
            curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
            curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        }
    }
    cc = curl_easy_perform(h->curl);
    if (cc != CURLE_OK) {
        snprintf(resp->error, sizeof(resp->error), "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
        /* a server may answer and close while the body is still going up (413 early) */
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (resp->status == 0)
            rc = STINT_EIO;
        goto cleanup;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
cleanup:
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(list);
    return rc;
}
