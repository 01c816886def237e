/* fuzz_legacy_seqs.c — the legacy identity headers a server reads from any client:
 * Stint-Seqs (stint_legacy_seqs_parse) and Stint-Agent-Id (stint_legacy_agent_parse), see
 * spec/PROTOCOL.md §6.10.
 *
 * Checked: an accepted value gives at most the limit of seqs, every one above 0 and above the
 * one before it; writing them again (stint_legacy_seqs_format) and parsing that gives the same
 * list (the format is the parser's own language); a refusal carries an offset inside the input
 * and a message; the agent id parser accepts exactly 32 hex digits with blanks around, and its
 * bytes print back to those digits.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "invariants.h"
#include "stint/legacy.h"

#define MAX_SEQS 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct stint_error err;
    struct stint_buf out = {0};
    uint64_t *seqs = NULL, *again = NULL;
    size_t n = 0, m = 0, i;
    enum stint_err rc;
    char *z;
    uint8_t id[STINT_AGENT_ID_LEN];

    stint_error_clear(&err);
    rc = stint_legacy_seqs_parse(text, size, MAX_SEQS, &seqs, &n, &err);
    stint_fuzz_check_result(rc, &err, size, "stint_legacy_seqs_parse");
    if (rc == STINT_OK) {
        STINT_FUZZ_CHECK(n <= MAX_SEQS, "%zu seqs over the limit", n);
        STINT_FUZZ_CHECK((n == 0) == (seqs == NULL), "n %zu with seqs %p", n, (void *)seqs);
        for (i = 0; i < n; i++)
            STINT_FUZZ_CHECK(seqs[i] > 0 && (i == 0 || seqs[i] > seqs[i - 1]),
                             "seq %zu (%llu) not above the one before", i,
                             (unsigned long long)seqs[i]);
        STINT_FUZZ_CHECK(stint_legacy_seqs_format(seqs, n, &out) == STINT_OK, "format failed");
        rc = stint_legacy_seqs_parse((const char *)(out.data ? out.data : (uint8_t *)""), out.len,
                                     MAX_SEQS, &again, &m, &err);
        STINT_FUZZ_CHECK(rc == STINT_OK && m == n &&
                             (n == 0 || memcmp(seqs, again, n * sizeof(*seqs)) == 0),
                         "the written list does not read back (%s)", err.msg);
    } else {
        STINT_FUZZ_CHECK(seqs == NULL && n == 0, "refused, but seqs handed over");
    }
    free(seqs);
    free(again);
    stint_buf_free(&out);

    /* the agent id, as a C string (a header value has no NUL) */
    z = malloc(size + 1);
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    if (!memchr(data, 0, size) && stint_legacy_agent_parse(z, id)) {
        const char *p = z;
        char hex[3];
        while (*p == ' ' || *p == '\t')
            p++;
        for (i = 0; i < STINT_AGENT_ID_LEN; i++) {
            snprintf(hex, sizeof(hex), "%02x", id[i]);
            STINT_FUZZ_CHECK(strncasecmp(p + 2 * i, hex, 2) == 0, "byte %zu is not its digits", i);
        }
        for (p += 2 * STINT_AGENT_ID_LEN; *p; p++)
            STINT_FUZZ_CHECK(*p == ' ' || *p == '\t', "accepted trailing text");
    }
    free(z);
    return 0;
}
