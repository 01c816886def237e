/* client_mode.h — `stint-conformance client`: a scripted HTTPS server that holds a client (an
 * agent's sender) to the retry rules, case by case.
 *
 * The client under test is pointed at the kit's URL with a backlog of at least five batches of
 * two or more records and a short backoff base (100 ms or less keeps a run under 20 s). The
 * script answers, in order:
 *   batch X:  503 + Retry-After: 2; 429 + Retry-After as an HTTP-date 3 s ahead; then 503, 500,
 *             502, 504, 503, 500, 502 without Retry-After (the backoff is measured); then 200;
 *   batch Y:  413; then 200 to every part of it until all its records are acknowledged;
 *   batch Z:  400 (a permanent refusal);
 *   the next: 401, after which the client must pause; the run ends when no request came for
 *             --quiet seconds.
 * Every request is decoded and checked; the cases are judged from what was observed. */
#ifndef STINT_CONF_CLIENT_MODE_H
#define STINT_CONF_CLIENT_MODE_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

struct stint_conf_client_opts {
    const char *listen;   /* "HOST:PORT"; port 0 picks a free one */
    const char *tls_cert; /* PEM files; both NULL with insecure_http */
    const char *tls_key;
    bool insecure_http;    /* plain HTTP (loopback only) */
    const char *port_file; /* written once listening; may be NULL */
    const char *token;     /* expected bearer token; NULL: any */
    double timeout_s;      /* the whole run; 0: 120 */
    double quiet_s;        /* the end: no request for this long after the script; 0: 3 */
};

size_t stint_conf_client_count(void);
const struct stint_conf_case_info *stint_conf_client_info(size_t i);

/* Serves the script until it ends or times out, then judges every case into rep (all of them;
 * the caller filters). Returns STINT_OK, or STINT_EIO / STINT_EINVAL with msg when it could not
 * serve at all. */
enum stint_err stint_conf_client_run(const struct stint_conf_client_opts *o,
                                     struct stint_conf_report *rep, char *msg, size_t cap);

#endif
