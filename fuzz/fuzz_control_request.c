/* fuzz_control_request.c — a request line on stintd's control socket (spec/CONTROL.md).
 *
 * The control socket is the one input stintd takes from another process. Any line must be
 * refused with a well-formed error (its code in the error record, an offset inside the line, a
 * message) or parsed into a request whose values are in range; a parsed request, written back
 * as the canonical request line, parses to the same request (so no member is half-read), and
 * the parser allocates nothing that outlives it (LeakSanitizer in the replay build).
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 * STINT_FUZZ_DICT: control.dict
 */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stint_control_request rq, again;
    struct stint_error err;
    enum stint_err ret;
    char line[256 + STINT_CONTROL_SEQS_MAX * 22];
    int n = 0;
    static const char *const actions[] = {"list", "retry", "drop"};

    ret = stint_control_parse_request((const char *)data, size, &rq, &err);
    stint_fuzz_check_result(ret, &err, size, "control request");
    if (ret != STINT_OK)
        return 0;
    STINT_FUZZ_CHECK(size < STINT_CONTROL_LINE_MAX, "a %zu-byte request was accepted", size);
    STINT_FUZZ_CHECK(memchr(data, '{', size) != NULL, "a request without an object was accepted");
    switch (rq.cmd) {
    case STINT_CONTROL_STATUS:
        n = snprintf(line, sizeof(line), "{\"cmd\":\"status\"}");
        break;
    case STINT_CONTROL_PRIVATE:
        n = snprintf(line, sizeof(line), "{\"cmd\":\"private\",\"on\":%s}",
                     rq.on ? "true" : "false");
        break;
    case STINT_CONTROL_FLUSH:
        n = snprintf(line, sizeof(line), "{\"cmd\":\"flush\",\"wait\":%s}",
                     rq.wait ? "true" : "false");
        break;
    case STINT_CONTROL_PENDING:
        n = snprintf(line, sizeof(line), "{\"cmd\":\"pending\",\"limit\":%llu}",
                     (unsigned long long)rq.limit);
        break;
    case STINT_CONTROL_HISTORY:
        STINT_FUZZ_CHECK(rq.since_ms >= 0, "since_ms %lld", (long long)rq.since_ms);
        n = snprintf(line, sizeof(line), "{\"cmd\":\"history\",\"limit\":%llu,\"since_ms\":%lld}",
                     (unsigned long long)rq.limit, (long long)rq.since_ms);
        break;
    case STINT_CONTROL_BROWSER:
        /* its values are checked here; the host's side has fuzz_browser_message */
        STINT_FUZZ_CHECK(rq.pid > 0 && rq.btype[0] && rq.time_ms >= 0,
                         "browser request out of range");
        return 0;
    case STINT_CONTROL_PURGE:
        n = snprintf(line, sizeof(line), "{\"cmd\":\"purge\",\"server\":%s}",
                     rq.server ? "true" : "false");
        break;
    case STINT_CONTROL_WATCH:
        n = snprintf(line, sizeof(line), "{\"cmd\":\"watch\"}");
        break;
    case STINT_CONTROL_DEAD_LETTERS:
        STINT_FUZZ_CHECK(rq.action <= STINT_CONTROL_DL_DROP, "dead_letters action %d",
                         (int)rq.action);
        STINT_FUZZ_CHECK(rq.n_seqs <= STINT_CONTROL_SEQS_MAX, "%zu seqs", rq.n_seqs);
        n = snprintf(line, sizeof(line), "{\"cmd\":\"dead_letters\",\"action\":\"%s\"",
                     actions[rq.action]);
        if (rq.action == STINT_CONTROL_DL_LIST || rq.limit)
            n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"limit\":%llu",
                          (unsigned long long)rq.limit);
        if (rq.n_seqs) {
            n += snprintf(line + n, sizeof(line) - (size_t)n, ",\"seqs\":[");
            for (size_t i = 0; i < rq.n_seqs; i++)
                n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%llu", i ? "," : "",
                              (unsigned long long)rq.seqs[i]);
            n += snprintf(line + n, sizeof(line) - (size_t)n, "]");
        }
        n += snprintf(line + n, sizeof(line) - (size_t)n, "}");
        break;
    default:
        STINT_FUZZ_CHECK(0, "parsed into an unknown command %d", (int)rq.cmd);
    }
    STINT_FUZZ_CHECK(rq.limit <= (uint64_t)INT64_MAX, "limit %llu out of range",
                     (unsigned long long)rq.limit);
    /* the canonical line names every member, so it can outgrow a short-spelled request */
    if ((size_t)n >= STINT_CONTROL_LINE_MAX)
        return 0;
    ret = stint_control_parse_request(line, (size_t)n, &again, &err);
    STINT_FUZZ_CHECK(ret == STINT_OK, "canonical line %s refused: %s", line, err.msg);
    STINT_FUZZ_CHECK(again.cmd == rq.cmd && again.on == rq.on && again.wait == rq.wait &&
                         again.server == rq.server && again.limit == rq.limit &&
                         again.since_ms == rq.since_ms &&
                         (rq.cmd != STINT_CONTROL_DEAD_LETTERS ||
                          (again.action == rq.action && again.n_seqs == rq.n_seqs &&
                           memcmp(again.seqs, rq.seqs, rq.n_seqs * sizeof(rq.seqs[0])) == 0)),
                     "canonical line %s reads back otherwise", line);
    return 0;
}
