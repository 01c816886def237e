/* backoff.h — full-jitter exponential backoff with a seeded generator (spec/PROTOCOL.md, "Sending",
 * "Backoff").
 *
 * After the n-th consecutive failure (n = 0, 1, ...) the wait is drawn uniformly from
 * [0, min(cap, base * 2^n)] milliseconds ("full jitter": agents that failed together do not come
 * back together). A success resets n. The generator is splitmix64: a given seed always gives the
 * same waits, which is what the unit tests hold it to.
 *
 * A struct stint_backoff is a plain value (no resources): zero it or call stint_backoff_init. */
#ifndef STINT_AGENT_BACKOFF_H
#define STINT_AGENT_BACKOFF_H

#include <stdint.h>

#define STINT_BACKOFF_DEFAULT_BASE_MS 1000u
#define STINT_BACKOFF_DEFAULT_CAP_MS 300000u

struct stint_backoff {
    uint64_t base_ms; /* ceiling of the first wait */
    uint64_t cap_ms;  /* the ceiling never passes this */
    uint32_t attempt; /* consecutive failures so far */
    uint64_t rng;     /* splitmix64 state */
};

/* Sets base and cap (0 means the defaults, 1 s and 300 s; a cap below base is raised to base),
 * zero failures, and seeds the generator. */
void stint_backoff_init(struct stint_backoff *b, uint64_t base_ms, uint64_t cap_ms, uint64_t seed);

/* The upper bound of the next wait: min(cap, base * 2^attempt), without overflow. */
uint64_t stint_backoff_ceiling(const struct stint_backoff *b);

/* Draws the wait after one more failure (uniform in [0, ceiling]) and counts the failure. */
uint64_t stint_backoff_next(struct stint_backoff *b);

/* A success: the next failure starts again from base. */
void stint_backoff_reset(struct stint_backoff *b);

/* splitmix64: the next 64 random bits of *state (any seed, 0 included, is fine). */
uint64_t stint_rng_next(uint64_t *state);

/* Uniform in [0, bound] (inclusive) without modulo bias. */
uint64_t stint_rng_upto(uint64_t *state, uint64_t bound);

#endif
