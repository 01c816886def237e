/* server_cases.h — `stint-conformance server`: the numbered cases a server is held to, run over
 * HTTP(S) against its URL with two tokens of two different accounts.
 *
 * Cases are independent: each makes its own random agent_id, so they run in any order, one by
 * one (--case), and again against the same server. The deletion cases delete everything stored
 * for the two accounts: give the kit tokens of test accounts. */
#ifndef STINT_CONF_SERVER_CASES_H
#define STINT_CONF_SERVER_CASES_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "report.h"

struct stint_conf_server_opts {
    struct stint_conf_http *http; /* borrowed */
    const char *token;            /* account A */
    const char *token_b;          /* account B, another account */
    size_t max_body;              /* the server's limit on a body as sent (default 8 MiB) */
    size_t max_decoded;           /* ... after gzip (default 32 MiB) */
    size_t max_records;           /* ... records in a batch (default 10,000) */
    const char *throttle_cmd;     /* shell command: from now on answer 429 or 503; or NULL */
    const char *unthrottle_cmd;   /* shell command: stop that; or NULL */
};

#define STINT_CONF_DEFAULT_MAX_BODY ((size_t)8 << 20)
#define STINT_CONF_DEFAULT_MAX_DECODED ((size_t)32 << 20)
#define STINT_CONF_DEFAULT_MAX_RECORDS ((size_t)10000)

/* The cases, in run order. */
size_t stint_conf_server_count(void);
const struct stint_conf_case_info *stint_conf_server_info(size_t i);

/* Runs case i into *out. */
void stint_conf_server_run(const struct stint_conf_server_opts *o, size_t i,
                           struct stint_conf_outcome *out);

#endif
