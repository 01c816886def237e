/* faults.h — fault injection: rules that make the collector misbehave on purpose.
 *
 * A rule is written as a SPEC (spec/PROTOCOL.md, "Fault injection"; grammar in faults.c):
 *
 *   status=503,retry-after=2,rate=0.5     answer 503 with `Retry-After: 2` to half the requests
 *   status=429,retry-after-date=3         answer 429 with an HTTP-date three seconds ahead
 *   delay=1500                            wait 1.5 s, then answer normally
 *   reset                                 reset the connection before reading the body
 *   drop-after-store                      store the batch, then close without answering
 *   slow=4                                send the answer's body at 4 bytes per second
 *   stop-accepting=3                      refuse every connection and request for 3 s
 *
 * Options on any rule: rate=P (0..1, default 1), count=N (fire at most N times), skip=N (let the
 * first N matching requests through), path=PREFIX (default: every path but /v1/health),
 * method=M. Rules are tried in order and the first that fires decides; random draws come from one
 * generator seeded at creation, so a run with the same seed and request order repeats itself.
 * All functions are thread-safe. */
#ifndef STINT_COLLECTOR_FAULTS_H
#define STINT_COLLECTOR_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"

enum stint_fault_kind {
    STINT_FAULT_NONE = 0,
    STINT_FAULT_STATUS = 1,
    STINT_FAULT_DELAY = 2,
    STINT_FAULT_RESET = 3,
    STINT_FAULT_DROP_AFTER_STORE = 4,
    STINT_FAULT_SLOW = 5,
    STINT_FAULT_STOP_ACCEPTING = 6,
};

#define STINT_FAULT_RULES_MAX 64

/* What to do with one request. */
struct stint_fault {
    enum stint_fault_kind kind;
    int status;            /* STATUS */
    int retry_after_s;     /* STATUS: -1 for no Retry-After */
    bool retry_after_date; /* STATUS: send Retry-After as an HTTP-date */
    uint32_t delay_ms;     /* DELAY */
    uint32_t slow_bps;     /* SLOW: bytes per second */
    uint32_t stop_s;       /* STOP_ACCEPTING */
    int rule;              /* index of the rule that fired (1-based) */
};

struct stint_faults; /* opaque */

/* On success *out is the caller's: release with stint_faults_destroy(). */
enum stint_err stint_faults_create(uint64_t seed, struct stint_faults **out);
void stint_faults_destroy(struct stint_faults *f); /* NULL is fine */

/* Parses spec and appends it as a rule. STINT_ESYNTAX with a message naming the bad part;
 * STINT_ELIMIT past STINT_FAULT_RULES_MAX rules. */
enum stint_err stint_faults_add(struct stint_faults *f, const char *spec, struct stint_error *err);

/* Removes every rule (the counters of removed rules stay in the totals). */
void stint_faults_clear(struct stint_faults *f);

/* Decides the fault for a request; returns false (and out->kind NONE) when none fires.
 * A firing stop-accepting rule also starts the refusal window (see stint_faults_refusing). */
bool stint_faults_pick(struct stint_faults *f, const char *method, const char *path,
                       struct stint_fault *out);

/* True while a stop-accepting window is open at Unix time now_ms. */
bool stint_faults_refusing(struct stint_faults *f, int64_t now_ms);

/* Counts a connection or request refused during a stop-accepting window. */
void stint_faults_count_refused(struct stint_faults *f);

/* Appends the rules and counters as text lines:
 *   fault rule=N spec="..." matched=M injected=I
 *   faults injected=TOTAL status=.. delay=.. reset=.. drop_after_store=.. slow=..
 *          stop_accepting=.. refused=.. */
enum stint_err stint_faults_report(struct stint_faults *f, struct stint_buf *out);

/* Formats the Retry-After value of a STATUS fault into out (cap bytes): delta-seconds or an
 * IMF-fixdate (RFC 9110) for now_s + retry_after_s. */
void stint_fault_retry_after(const struct stint_fault *ft, int64_t now_s, char *out, size_t cap);

#endif
