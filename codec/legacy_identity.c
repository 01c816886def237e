/* legacy_identity.c — who a legacy record belongs to (see legacy.h, spec/PROTOCOL.md §6.8).
 *
 * The legacy array has no agent and no seq, so the v1.0 rule (zero agent, seq = start in ms)
 * merged every two records that started in the same second, and the records of two machines of
 * one account. The fix has two parts, both here so that the agent, the collector and the
 * conformance kit share one definition:
 *
 *   - a Stint agent names itself and its seqs beside the body (Stint-Agent-Id, Stint-Seqs):
 *     the server identifies the records exactly as those of a Batch;
 *   - any other legacy client gets the content identity: a fingerprint of the record's times and
 *     strings and of how many identical records came before it in the same payload. A replayed
 *     payload maps to the same seqs (nothing stored twice); two records differing in any legacy
 *     field, or identical but in one payload, map to different ones.
 *
 * Stint-Seqs is written as ranges because an agent's active records are mostly consecutive:
 * 1,000 records with idle stretches between them are a few dozen bytes, far under any header
 * limit; STINT_LEGACY_SEQS_MAX bounds the worst case (every other seq). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stint/legacy.h"

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

static uint64_t fnv_be(uint64_t h, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    unsigned i;

    for (i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return fnv_bytes(h, b, bytes);
}

uint64_t stint_legacy_content_seq(const struct stint_record *r, uint32_t occurrence)
{
    uint64_t h = FNV_OFFSET;

    h = fnv_be(h, (uint64_t)r->start_ms, 8);
    h = fnv_be(h, (uint64_t)r->end_ms, 8);
    h = fnv_be(h, r->app_len, 4);
    h = fnv_bytes(h, r->app, r->app_len);
    h = fnv_be(h, r->path_len, 4);
    h = fnv_bytes(h, r->path, r->path_len);
    h = fnv_be(h, r->title_len, 4);
    h = fnv_bytes(h, r->title, r->title_len);
    h = fnv_be(h, r->url_len, 4);
    h = fnv_bytes(h, r->url, r->url_len);
    h = fnv_be(h, occurrence, 4);
    h &= 0x7fffffffffffffffull;
    return h ? h : 1;
}

enum stint_err stint_legacy_seqs_format(const uint64_t *seqs, size_t n, struct stint_buf *out)
{
    size_t i = 0;
    enum stint_err rc = STINT_OK;

    while (i < n && rc == STINT_OK) {
        size_t j = i;
        char num[48];

        if (seqs[i] == 0 || (i > 0 && seqs[i] <= seqs[i - 1]))
            return STINT_EINVAL;
        while (j + 1 < n && seqs[j + 1] == seqs[j] + 1)
            j++;
        if (j > i)
            snprintf(num, sizeof(num), "%s%llu-%llu", i ? "," : "", (unsigned long long)seqs[i],
                     (unsigned long long)seqs[j]);
        else
            snprintf(num, sizeof(num), "%s%llu", i ? "," : "", (unsigned long long)seqs[i]);
        rc = stint_buf_append_str(out, num);
        i = j + 1;
    }
    return rc;
}

/* One decimal seq at text[*pos]: 1..UINT64_MAX, no leading zero. */
static bool read_seq(const char *text, size_t len, size_t *pos, uint64_t *out)
{
    size_t p = *pos;
    uint64_t v = 0;

    if (p >= len || text[p] < '1' || text[p] > '9')
        return false;
    while (p < len && text[p] >= '0' && text[p] <= '9') {
        unsigned d = (unsigned)(text[p] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        p++;
    }
    *pos = p;
    *out = v;
    return true;
}

static void skip_spaces(const char *text, size_t len, size_t *pos)
{
    while (*pos < len && (text[*pos] == ' ' || text[*pos] == '\t'))
        (*pos)++;
}

enum stint_err stint_legacy_seqs_parse(const char *text, size_t len, size_t max, uint64_t **seqs,
                                       size_t *n, struct stint_error *err)
{
    uint64_t *v = NULL, last = 0, a, b, s;
    size_t cap = 0, count = 0, pos = 0, at;
    enum stint_err rc = STINT_OK;

    *seqs = NULL;
    *n = 0;
    if (len > STINT_LEGACY_SEQS_MAX) {
        rc = stint_error_set(err, STINT_ELIMIT, STINT_LEGACY_SEQS_MAX,
                             "Stint-Seqs: longer than %u bytes", STINT_LEGACY_SEQS_MAX);
        goto cleanup;
    }
    skip_spaces(text, len, &pos);
    while (pos < len) {
        at = pos;
        if (!read_seq(text, len, &pos, &a)) {
            rc = stint_error_set(err, STINT_ESYNTAX, at, "Stint-Seqs: a seq expected at byte %zu",
                                 at);
            goto cleanup;
        }
        b = a;
        if (pos < len && text[pos] == '-') {
            pos++;
            at = pos;
            if (!read_seq(text, len, &pos, &b) || b < a) {
                rc = stint_error_set(err, STINT_ESYNTAX, at,
                                     "Stint-Seqs: a range end not below its start expected at "
                                     "byte %zu",
                                     at);
                goto cleanup;
            }
        }
        if (count && a <= last) {
            rc = stint_error_set(err, STINT_ESYNTAX, at,
                                 "Stint-Seqs: seqs must increase (%llu after %llu, byte %zu)",
                                 (unsigned long long)a, (unsigned long long)last, at);
            goto cleanup;
        }
        if (b - a >= max || count + (size_t)(b - a) + 1 > max) {
            rc = stint_error_set(err, STINT_ELIMIT, at, "Stint-Seqs: more than %zu seqs", max);
            goto cleanup;
        }
        for (s = a;; s++) {
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                uint64_t *nv = realloc(v, ncap * sizeof(*nv));
                if (!nv) {
                    rc = stint_error_set(err, STINT_ENOMEM, at, "out of memory");
                    goto cleanup;
                }
                v = nv;
                cap = ncap;
            }
            v[count++] = s;
            if (s == b)
                break;
        }
        last = b;
        skip_spaces(text, len, &pos);
        if (pos < len) {
            if (text[pos] != ',') {
                rc = stint_error_set(err, STINT_ESYNTAX, pos,
                                     "Stint-Seqs: ',' expected at byte %zu", pos);
                goto cleanup;
            }
            pos++;
            skip_spaces(text, len, &pos);
            if (pos == len) {
                rc = stint_error_set(err, STINT_ESYNTAX, pos,
                                     "Stint-Seqs: a seq expected after ',' at byte %zu", pos);
                goto cleanup;
            }
        }
    }
    *seqs = v;
    *n = count;
    v = NULL;
cleanup:
    free(v);
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool stint_legacy_agent_parse(const char *text, uint8_t out[STINT_AGENT_ID_LEN])
{
    size_t i;

    while (*text == ' ' || *text == '\t')
        text++;
    for (i = 0; i < 2 * STINT_AGENT_ID_LEN; i++)
        if (hexval(text[i]) < 0)
            return false;
    for (i = 0; text[2 * STINT_AGENT_ID_LEN + i]; i++)
        if (text[2 * STINT_AGENT_ID_LEN + i] != ' ' && text[2 * STINT_AGENT_ID_LEN + i] != '\t')
            return false;
    for (i = 0; i < STINT_AGENT_ID_LEN; i++)
        out[i] = (uint8_t)(hexval(text[2 * i]) << 4 | hexval(text[2 * i + 1]));
    return true;
}
