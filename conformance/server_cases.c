/* server_cases.c — the server-mode cases of stint-conformance (see server_cases.h).
 *
 * Each case checks one requirement and only that one: a case that needs other behaviour on the
 * way (storing a batch before replaying it) reads the answers leniently (an Ack is read in
 * whichever encoding it comes, an error's body is not looked at), so one broken requirement
 * makes one case fail. The error body has its own case (S31), so has WWW-Authenticate (S32).
 *
 * Refusals are sent as well-formed as possible except for the one thing under test: the
 * oversize body and the decompression bomb are valid Batches padded with an unknown field, so
 * the only reason left to refuse them is their size; a server that decodes as it reads cannot
 * pass them by stumbling on garbage. After a 413 the kit sends the same records again and
 * checks that the refused request stored nothing.
 *
 * 429 and 503 cannot be provoked by a client alone: --throttle-cmd names a command that makes
 * the server throttle (for stint-collector, a fault rule posted to its admin endpoint); any
 * 429 or 503 met during the run is checked too.
 *
 * The cases live in four group files, each with its table of rows (id, level, section,
 * requirement, function: see server_internal.h); this file runs the groups in order. */
#define _POSIX_C_SOURCE 200809L
#include "server_cases.h"

#include <string.h>

#include "server_internal.h"
#include "common/clock.h"

static const struct {
    const struct stint_case *rows;
    const size_t *n;
} groups[] = {
    {stint_case_accept, &stint_case_accept_n},
    {stint_case_refuse, &stint_case_refuse_n},
    {stint_case_read, &stint_case_read_n},
    {stint_case_accounts, &stint_case_accounts_n},
};

/* Row i of the groups' tables taken in order, or NULL past the last. */
static const struct stint_case *row(size_t i)
{
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (i < *groups[g].n)
            return &groups[g].rows[i];
        i -= *groups[g].n;
    }
    return NULL;
}

size_t stint_conf_server_count(void)
{
    size_t n = 0;

    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
        n += *groups[g].n;
    return n;
}

const struct stint_conf_case_info *stint_conf_server_info(size_t i)
{
    const struct stint_case *c = row(i);

    return c ? &c->info : NULL;
}

static double mono_s(void)
{
    return (double)stint_clock_mono_ns() / 1e9;
}

void stint_conf_server_run(const struct stint_conf_server_opts *o, size_t i,
                           struct stint_conf_outcome *out)
{
    double t0 = mono_s();

    memset(out, 0, sizeof(*out));
    out->info = &row(i)->info;
    out->result = row(i)->fn(o, out->detail, sizeof(out->detail));
    out->seconds = mono_s() - t0;
}
