/* faults.c — rules of misbehaviour and the seeded dice behind them (see faults.h).
 *
 * Grammar of a SPEC (spaces not allowed):
 *
 *   spec    = action *("," option)
 *   action  = "status=" 3DIGIT | "delay=" MS | "reset" | "drop-after-store" | "slow=" BPS
 *           | "stop-accepting=" SECONDS
 *   option  = "rate=" DECIMAL | "count=" N | "skip=" N | "path=" PREFIX | "method=" TOKEN
 *           | "retry-after=" SECONDS | "retry-after-date=" SECONDS     ; status only
 *
 * status takes 400..599; MS, BPS and SECONDS are 1..3600000, 1..10000000 and 1..3600.
 *
 * One mutex guards the rules, the generator (xorshift64*) and the counters: a pick is a handful
 * of comparisons, far cheaper than the request around it. */
#include "faults.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/clock.h"

struct rule {
    char spec[256];
    struct stint_fault action;
    double rate;
    uint64_t count; /* 0: unlimited */
    uint64_t skip;
    char path[128]; /* empty: every path but /v1/health */
    char method[16];
    uint64_t matched;
    uint64_t injected;
};

struct stint_faults {
    pthread_mutex_t mu;
    uint64_t rng;
    struct rule rules[STINT_FAULT_RULES_MAX];
    size_t n;
    uint64_t by_kind[7];
    uint64_t refused;
    int64_t refuse_until_ms;
};

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

enum stint_err stint_faults_create(uint64_t seed, struct stint_faults **out)
{
    struct stint_faults *f = calloc(1, sizeof(*f));

    *out = NULL;
    if (!f)
        return STINT_ENOMEM;
    pthread_mutex_init(&f->mu, NULL);
    f->rng = seed ? seed : 0x9e3779b97f4a7c15ull; /* xorshift must not start at 0 */
    *out = f;
    return STINT_OK;
}

void stint_faults_destroy(struct stint_faults *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* Parses a decimal in [lo, hi] from s[0..n). */
static bool parse_uint(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > 19)
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* A rate: "1", "0", "0.25", ".5" — at most 6 decimals. */
static bool parse_rate(const char *s, size_t n, double *out)
{
    uint64_t whole = 0, frac = 0, scale = 1;
    size_t i = 0;

    if (n == 0)
        return false;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        whole = whole * 10 + (uint64_t)(s[i++] - '0');
    if (i < n) {
        if (s[i++] != '.' || i == n || n - i > 6)
            return false;
        while (i < n) {
            if (s[i] < '0' || s[i] > '9')
                return false;
            frac = frac * 10 + (uint64_t)(s[i++] - '0');
            scale *= 10;
        }
    }
    *out = (double)whole + (double)frac / (double)scale;
    return *out <= 1.0;
}

static bool key_is(const char *k, size_t kn, const char *want)
{
    return strlen(want) == kn && memcmp(k, want, kn) == 0;
}

enum stint_err stint_faults_add(struct stint_faults *f, const char *spec, struct stint_error *err)
{
    struct rule r;
    const char *p = spec;
    bool first = true, has_retry = false;
    size_t len = strlen(spec);
    enum stint_err rc = STINT_OK;

    memset(&r, 0, sizeof(r));
    r.rate = 1.0;
    r.action.retry_after_s = -1;
    if (len == 0 || len >= sizeof(r.spec))
        return stint_error_set(err, STINT_ESYNTAX, 0, "fault spec: empty or over %zu bytes",
                               sizeof(r.spec) - 1);
    memcpy(r.spec, spec, len + 1);
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        const char *v = eq ? eq + 1 : NULL;
        size_t vn = eq ? n - kn - 1 : 0;
        uint64_t u = 0;
        bool ok = true;

        if (first) {
            if (key_is(p, kn, "status") && v) {
                ok = parse_uint(v, vn, 400, 599, &u);
                r.action.kind = STINT_FAULT_STATUS;
                r.action.status = (int)u;
            } else if (key_is(p, kn, "delay") && v) {
                ok = parse_uint(v, vn, 1, 3600000, &u);
                r.action.kind = STINT_FAULT_DELAY;
                r.action.delay_ms = (uint32_t)u;
            } else if (key_is(p, kn, "reset") && !v) {
                r.action.kind = STINT_FAULT_RESET;
            } else if (key_is(p, kn, "drop-after-store") && !v) {
                r.action.kind = STINT_FAULT_DROP_AFTER_STORE;
            } else if (key_is(p, kn, "slow") && v) {
                ok = parse_uint(v, vn, 1, 10000000, &u);
                r.action.kind = STINT_FAULT_SLOW;
                r.action.slow_bps = (uint32_t)u;
            } else if (key_is(p, kn, "stop-accepting") && v) {
                ok = parse_uint(v, vn, 1, 3600, &u);
                r.action.kind = STINT_FAULT_STOP_ACCEPTING;
                r.action.stop_s = (uint32_t)u;
            } else {
                ok = false;
            }
            first = false;
        } else if (key_is(p, kn, "rate") && v) {
            ok = parse_rate(v, vn, &r.rate);
        } else if (key_is(p, kn, "count") && v) {
            ok = parse_uint(v, vn, 1, UINT64_MAX / 2, &r.count);
        } else if (key_is(p, kn, "skip") && v) {
            ok = parse_uint(v, vn, 0, UINT64_MAX / 2, &r.skip);
        } else if (key_is(p, kn, "path") && v) {
            ok = vn > 0 && vn < sizeof(r.path) && v[0] == '/';
            if (ok)
                memcpy(r.path, v, vn);
        } else if (key_is(p, kn, "method") && v) {
            ok = vn > 0 && vn < sizeof(r.method);
            if (ok)
                memcpy(r.method, v, vn);
        } else if ((key_is(p, kn, "retry-after") || key_is(p, kn, "retry-after-date")) && v &&
                   !has_retry) {
            ok = r.action.kind == STINT_FAULT_STATUS && parse_uint(v, vn, 0, 86400, &u);
            r.action.retry_after_s = (int)u;
            r.action.retry_after_date = kn == strlen("retry-after-date");
            has_retry = true;
        } else {
            ok = false;
        }
        if (!ok)
            return stint_error_set(err, STINT_ESYNTAX, (size_t)(p - spec),
                                   "fault spec \"%s\": cannot use \"%.*s\" here "
                                   "(spec/PROTOCOL.md, \"Fault injection\")",
                                   spec, (int)n, p);
        p += n;
        if (*p == ',') {
            p++;
            if (!*p)
                return stint_error_set(err, STINT_ESYNTAX, len, "fault spec \"%s\": ends in ','",
                                       spec);
        }
    }
    pthread_mutex_lock(&f->mu);
    if (f->n == STINT_FAULT_RULES_MAX) {
        rc = stint_error_set(err, STINT_ELIMIT, 0, "at most %d fault rules", STINT_FAULT_RULES_MAX);
    } else {
        r.action.rule = (int)f->n + 1;
        f->rules[f->n++] = r;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void stint_faults_clear(struct stint_faults *f)
{
    pthread_mutex_lock(&f->mu);
    f->n = 0;
    f->refuse_until_ms = 0;
    pthread_mutex_unlock(&f->mu);
}

bool stint_faults_pick(struct stint_faults *f, const char *method, const char *path,
                       struct stint_fault *out)
{
    bool fired = false;
    size_t i;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&f->mu);
    for (i = 0; i < f->n && !fired; i++) {
        struct rule *r = &f->rules[i];
        double draw;

        if (r->path[0] ? strncmp(path, r->path, strlen(r->path)) != 0
                       : strcmp(path, "/v1/health") == 0)
            continue;
        if (r->method[0] && strcmp(method, r->method) != 0)
            continue;
        if (r->count && r->injected >= r->count)
            continue;
        r->matched++;
        /* one draw per match, whatever the rate, so sequences depend only on seed and order */
        draw = (double)(next_random(&f->rng) >> 11) / 9007199254740992.0;
        if (r->matched <= r->skip || draw >= r->rate)
            continue;
        r->injected++;
        f->by_kind[r->action.kind]++;
        *out = r->action;
        fired = true;
        if (r->action.kind == STINT_FAULT_STOP_ACCEPTING)
            f->refuse_until_ms = stint_clock_wall_ms() + (int64_t)r->action.stop_s * 1000;
    }
    pthread_mutex_unlock(&f->mu);
    return fired;
}

bool stint_faults_refusing(struct stint_faults *f, int64_t now)
{
    bool r;

    pthread_mutex_lock(&f->mu);
    r = now < f->refuse_until_ms;
    pthread_mutex_unlock(&f->mu);
    return r;
}

void stint_faults_count_refused(struct stint_faults *f)
{
    pthread_mutex_lock(&f->mu);
    f->refused++;
    pthread_mutex_unlock(&f->mu);
}

enum stint_err stint_faults_report(struct stint_faults *f, struct stint_buf *out)
{
    enum stint_err rc = STINT_OK;
    uint64_t total = 0;
    size_t i;

    pthread_mutex_lock(&f->mu);
    for (i = 0; i < f->n && rc == STINT_OK; i++)
        rc = stint_buf_printf(
            out, "fault rule=%zu spec=\"%s\" matched=%" PRIu64 " injected=%" PRIu64 "\n", i + 1,
            f->rules[i].spec, f->rules[i].matched, f->rules[i].injected);
    for (i = 1; i < 7; i++)
        total += f->by_kind[i];
    if (rc == STINT_OK)
        rc = stint_buf_printf(out,
                              "faults injected=%" PRIu64 " status=%" PRIu64 " delay=%" PRIu64
                              " reset=%" PRIu64 " drop_after_store=%" PRIu64 " slow=%" PRIu64
                              " stop_accepting=%" PRIu64 " refused=%" PRIu64 "\n",
                              total, f->by_kind[1], f->by_kind[2], f->by_kind[3], f->by_kind[4],
                              f->by_kind[5], f->by_kind[6], f->refused);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void stint_fault_retry_after(const struct stint_fault *ft, int64_t now_s, char *out, size_t cap)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t;
    struct tm tm;

    if (cap == 0)
        return;
    out[0] = '\0';
    if (ft->retry_after_s < 0)
        return;
    if (!ft->retry_after_date) {
        snprintf(out, cap, "%d", ft->retry_after_s);
        return;
    }
    t = (time_t)(now_s + ft->retry_after_s);
    if (!gmtime_r(&t, &tm))
        return;
    /* IMF-fixdate by hand: strftime's %a and %b follow the locale */
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
