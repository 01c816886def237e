/* backoff.c — full-jitter exponential backoff (see backoff.h).
 *
 * Why full jitter: after an outage every agent of a fleet fails at about the same moment; with a
 * plain exponential schedule they all come back at the same moments too, and the server that just
 * recovered falls over again. Drawing the whole wait uniformly in [0, ceiling] spreads them out
 * best for the total work done (the "Exponential Backoff And Jitter" comparison, also what Fluent
 * Bit's scheduler does). The ceiling doubles per failure up to the cap; the attempt counter stops
 * growing once the cap is reached, so it never overflows however long an outage lasts. */
#include "backoff.h"

void stint_backoff_init(struct stint_backoff *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed)
{
    b->base_ms = base_ms ? base_ms : STINT_BACKOFF_DEFAULT_BASE_MS;
    b->cap_ms = cap_ms ? cap_ms : STINT_BACKOFF_DEFAULT_CAP_MS;
    if (b->cap_ms < b->base_ms)
        b->cap_ms = b->base_ms;
    b->attempt = 0;
    b->rng = seed;
}

uint64_t stint_backoff_ceiling(const struct stint_backoff *b)
{
    uint64_t base = b->base_ms ? b->base_ms : STINT_BACKOFF_DEFAULT_BASE_MS;
    uint64_t cap = b->cap_ms ? b->cap_ms : STINT_BACKOFF_DEFAULT_CAP_MS;
    uint64_t c = base;
    uint32_t i;

    for (i = 0; i < b->attempt && c < cap; i++) {
        if (c > UINT64_MAX / 2)
            return cap;
        c *= 2;
    }
    return c < cap ? c : cap;
}

uint64_t stint_backoff_next(struct stint_backoff *b)
{
    uint64_t ceiling = stint_backoff_ceiling(b);
    uint64_t cap = b->cap_ms ? b->cap_ms : STINT_BACKOFF_DEFAULT_CAP_MS;

    /* stop counting once the ceiling is at the cap: the wait cannot grow any more */
    if (ceiling < cap && b->attempt < 64)
        b->attempt++;
    return stint_rng_upto(&b->rng, ceiling);
}

void stint_backoff_reset(struct stint_backoff *b)
{
    b->attempt = 0;
}

uint64_t stint_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t stint_rng_upto(uint64_t *state, uint64_t bound)
{
    uint64_t range, threshold, r;

    if (bound == UINT64_MAX)
        return stint_rng_next(state);
    range = bound + 1;
    /* as OpenBSD's arc4random_uniform: skip the values below 2^64 mod range, so the rest is a
     * whole number of copies of [0, range) and every value is equally likely */
    threshold = (0 - range) % range;
    do {
        r = stint_rng_next(state);
    } while (r < threshold);
    return r % range;
}
