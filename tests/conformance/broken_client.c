/* broken_client.c — test only: a small Stint client (libcurl, protobuf) that follows the retry
 * rules, or breaks exactly one of them, so that every client case of stint-conformance is shown
 * to fail alone:
 *
 *   broken_client --url URL --token T [--ca FILE] [--records N] [--batch N] [--base-ms MS]
 *                 [--break CASE-ID] [--timeout S] [--legacy]
 *
 * It sends records 1..N in batches of --batch: 200 acknowledges, 413 halves the batch until the
 * refused one is delivered, 429/5xx (and network errors) wait with full-jitter backoff or
 * Retry-After when longer, 401/403 stop it (a pause without a new token), any other 4xx drops
 * the batch. The breaks:
 *   C01 ignores Retry-After in delta-seconds     C02 ignores Retry-After as an HTTP-date
 *   C03 changes the Idempotency-Key per attempt  C04 keeps the first attempt's now_ms
 *   C05 waits shrink (with a fixed alternation)  C06 waits grow without jitter (base * 2^n)
 *   C07 resends the whole batch after 413        C08 sends a refused batch once more
 *   C09 sends the batch of seqs 16-20 as application/octet-stream
 *   C10 retries after 401 like after 503, three times (instead of pausing)
 *   C11 (--legacy) names one seq too few in Stint-Seqs for the batch of seqs 16-20
 *   C12 (--legacy) first sends a payload with an empty 'log'
 * --legacy sends the legacy JSON payload to /v1/legacy with Stint-Agent-Id and Stint-Seqs
 * (spec/PROTOCOL.md §6.10) instead of a protobuf Batch. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "stint/legacy.h"
#include "stint/pb.h"

static const char *brk;
static bool legacy;

static bool breaking(const char *id)
{
    return brk && strcasecmp(brk, id) == 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

struct answer {
    struct stint_buf body;
    char retry_after[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    return stint_buf_append(&a->body, p, size * n) == STINT_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    size_t len = size * n;

    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        size_t i = 12, j = len;
        while (i < len && p[i] == ' ')
            i++;
        while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' '))
            j--;
        if (j - i < sizeof(a->retry_after)) {
            memcpy(a->retry_after, p + i, j - i);
            a->retry_after[j - i] = '\0';
        }
    }
    return len;
}

/* Encodes records first..last of agent with now_ms into out. */
static int encode(const uint8_t *agent, uint64_t first, uint64_t last, int64_t now,
                  struct stint_buf *out)
{
    static struct stint_batch head;
    static struct stint_record recs[64];
    struct stint_record_array arr = {recs, 0, 0};
    struct stint_record_iter it;
    uint64_t s;

    stint_batch_clear(&head);
    memcpy(head.agent_id, agent, 16);
    head.agent_id_len = 16;
    stint_batch_set_version(&head, "broken-client", 13);
    head.now_ms = now;
    for (s = first; s <= last && arr.n < 64; s++) {
        struct stint_record *r = &recs[arr.n++];
        stint_record_clear(r);
        r->seq = s;
        r->start_ms = now - 3600000 + (int64_t)s * 1000;
        r->end_ms = r->start_ms + 500;
        r->kind = STINT_KIND_ACTIVE;
        stint_record_set(r, STINT_FIELD_APP, "broken-client", 13);
    }
    it = stint_record_array_iter(&arr);
    stint_buf_reset(out);
    if (legacy)
        return stint_legacy_encode(STINT_LEGACY_JSON, &head, &it, out) == STINT_OK ? 0 : -1;
    return stint_pb_encode_batch(&head, &it, out) == STINT_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *token = NULL, *ca = NULL;
    uint64_t records = 25, batch = 5, base = 10, next = 1, split_end = 0, half = 0;
    unsigned k = 0, attempt = 0, auth_retries = 0;
    double timeout = 120, t0;
    uint8_t agent[16];
    int64_t first_now = 0;
    bool retried_refusal = false;
    char full_url[2048], auth[512];
    CURL *curl;
    int i, status = 1;
    bool empty_sent = false;

    for (i = 1; i + 1 < argc || (i < argc && strcmp(argv[i], "--legacy") == 0); i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(o, "--legacy") == 0) {
            legacy = true;
            i--;
        } else if (strcmp(o, "--url") == 0)
            url = v;
        else if (strcmp(o, "--token") == 0)
            token = v;
        else if (strcmp(o, "--ca") == 0)
            ca = v;
        else if (strcmp(o, "--records") == 0)
            records = strtoull(v, NULL, 10);
        else if (strcmp(o, "--batch") == 0)
            batch = strtoull(v, NULL, 10);
        else if (strcmp(o, "--base-ms") == 0)
            base = strtoull(v, NULL, 10);
        else if (strcmp(o, "--break") == 0)
            brk = v;
        else if (strcmp(o, "--timeout") == 0)
            timeout = strtod(v, NULL);
        else
            break;
    }
    if (i != argc || !url || !token || batch == 0 || batch > 64 || records == 0) {
        fprintf(stderr, "usage: broken_client --url URL --token T [--ca FILE] [--records N] "
                        "[--batch N<=64] [--base-ms MS] [--break CASE-ID] [--timeout S] "
                        "[--legacy]\n");
        return 2;
    }
    for (i = 0; i < 16; i++)
        agent[i] = (uint8_t)(0xa0 + i);
    snprintf(full_url, sizeof(full_url), "%s/v1/%s", url, legacy ? "legacy" : "batches");
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    if (!curl)
        return 1;
    t0 = mono_s();
    while (next <= records && mono_s() - t0 < timeout) {
        struct stint_buf body = {0};
        struct answer ans;
        struct curl_slist *h = NULL;
        char key[200], ct[100];
        uint64_t size = split_end ? half : batch, first = next, last;
        uint64_t wait = 0;
        long code = 0;
        int64_t now = now_ms();

        if (split_end && first + size - 1 > split_end)
            size = split_end - first + 1;
        if (first + size - 1 > records)
            size = records - first + 1;
        last = first + size - 1;
        if (attempt == 0)
            first_now = now;
        if (breaking("C04") && attempt > 0)
            now = first_now;
        if (breaking("C12") && !empty_sent) {
            /* a payload with nothing in 'log' (what an idle-only batch would be) */
            empty_sent = true;
            last = first - 1;
        }
        if (encode(agent, first, last, now, &body) != 0)
            break;
        snprintf(key, sizeof(key), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf:%llu-%llu",
                 (unsigned long long)first, (unsigned long long)last);
        if (breaking("C03"))
            snprintf(key + strlen(key), sizeof(key) - strlen(key), ".%u", attempt);
        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 breaking("C09") && first > 15 && first <= 20 ? "application/octet-stream"
                 : legacy                                     ? "application/json"
                                                              : "application/x-protobuf");
        h = curl_slist_append(h, auth);
        h = curl_slist_append(h, ct);
        {
            char kh[260];
            snprintf(kh, sizeof(kh), "Idempotency-Key: %s", key);
            h = curl_slist_append(h, kh);
        }
        if (legacy && last >= first) {
            uint64_t seqs[64], s;
            size_t n = 0;
            struct stint_buf v = {0};
            for (s = first; s <= last && n < 64; s++)
                seqs[n++] = s;
            if (breaking("C11") && first > 15 && first <= 20 && n > 1)
                n--; /* one seq too few */
            stint_buf_append_str(&v, STINT_LEGACY_SEQS_HEADER ": ");
            stint_legacy_seqs_format(seqs, n, &v);
            stint_buf_append(&v, "", 1);
            h = curl_slist_append(h, (const char *)v.data);
            stint_buf_free(&v);
            h = curl_slist_append(h,
                                  STINT_LEGACY_AGENT_HEADER ": a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        }
        h = curl_slist_append(h, "Expect:");
        memset(&ans, 0, sizeof(ans));
        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, full_url);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        if (ca)
            curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ans);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ans);
        if (curl_easy_perform(curl) == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(h);
        stint_buf_free(&body);
        attempt++;
        if (code == 200 && last < first) {
            k = 0; /* the empty payload: nothing to move on from */
            attempt = 0;
        } else if (code == 200) {
            struct stint_ack ack;
            if (!legacy && stint_pb_decode_ack(ans.body.data ? ans.body.data : (const uint8_t *)"",
                                               ans.body.len, &ack, NULL, NULL) == STINT_OK) {
                next = ack.acked_seq >= first ? ack.acked_seq + 1 : last + 1;
                stint_ack_free(&ack);
            } else {
                next = last + 1;
            }
            if (split_end && next > split_end)
                split_end = 0;
            k = 0;
            attempt = 0;
        } else if (code == 413 && size > 1 && !breaking("C07")) {
            half = size / 2;
            split_end = last;
            attempt = 0;
        } else if ((code == 401 || code == 403) && (!breaking("C10") || auth_retries++ == 3)) {
            /* AUTH: pause until the token changes; this client has no other token: stop */
            stint_buf_free(&ans.body);
            status = 0;
            break;
        } else if (code == 413 || code == 429 || code == 0 || code >= 500 || code == 401) {
            double c;
            if (breaking("C05"))
                c = (double)base * (double)(1u << (k < 8 ? 8 - k : 0)) * (k % 2 ? 0.5 : 1.0);
            else if (breaking("C06"))
                c = (double)base * (double)(1u << (k < 12 ? k : 12));
            else
                c = (double)base * (double)(1u << (k < 12 ? k : 12)) * uniform();
            k++;
            wait = (uint64_t)c;
            if (ans.retry_after[0]) {
                char *end = NULL;
                unsigned long long d = strtoull(ans.retry_after, &end, 10);
                if (end && !*end) {
                    if (!breaking("C01") && d * 1000 > wait)
                        wait = d * 1000;
                } else {
                    time_t t = curl_getdate(ans.retry_after, NULL);
                    int64_t ms = (int64_t)t * 1000 - now_ms();
                    if (t > 0 && !breaking("C02") && ms > 0 && (uint64_t)ms > wait)
                        wait = (uint64_t)ms;
                }
            }
        } else {
            /* a permanent refusal: the batch is dropped (once more first, when broken) */
            if (breaking("C08") && !retried_refusal)
                retried_refusal = true;
            else
                next = last + 1;
            attempt = 0;
        }
        stint_buf_free(&ans.body);
        if (wait)
            sleep_ms(wait);
    }
    if (next > records)
        status = 0; /* or paused by a 401 (status set above) */
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return status;
}
