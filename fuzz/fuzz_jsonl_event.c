/* fuzz_jsonl_event.c — the JSONL source (agent/source_jsonl.c) on any byte stream.
 *
 * The input is written to a pipe and read by the source as standard input would be, to its end.
 * Invariants: every item handed on has a time in 1..9999-12-31 and strings that are valid UTF-8
 * (agent/jsonl_event.c's check) which the record model then stores within its limits; every
 * refused line is reported with a line number inside the input and a message naming it
 * ("stdin:LINE: ..."); items and refusals together are no more than the lines of the input; the
 * source ends at the end.
 *
 * STINT_FUZZ_LIBS: stint_agent_core
 * STINT_FUZZ_DICT: json.dict
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "invariants.h"
#include "source.h"

struct count {
    uint64_t lines, items, bad;
};

static void check_time(int64_t t)
{
    STINT_FUZZ_CHECK(t >= 1 && t <= 253402300799999LL, "jsonl: time %lld", (long long)t);
}

static enum stint_err on_sample(void *ctx, const struct stint_sample *s,
                                const struct stint_source_pos *pos)
{
    static struct stint_record r;
    struct count *c = ctx;
    c->items++;
    check_time(s->time_ms);
    STINT_FUZZ_CHECK(pos == NULL, "jsonl: a stream handed a position");
    STINT_FUZZ_CHECK(
        stint_utf8_valid(s->app, s->app_len) && stint_utf8_valid(s->path, s->path_len) &&
            stint_utf8_valid(s->title, s->title_len) && stint_utf8_valid(s->url, s->url_len),
        "jsonl: a string that is not UTF-8");
    stint_record_clear(&r);
    stint_record_set(&r, STINT_FIELD_APP, s->app, s->app_len);
    stint_record_set(&r, STINT_FIELD_PATH, s->path, s->path_len);
    stint_record_set(&r, STINT_FIELD_TITLE, s->title, s->title_len);
    stint_record_set(&r, STINT_FIELD_URL, s->url, s->url_len);
    STINT_FUZZ_CHECK(r.repaired == 0, "jsonl: valid strings needed repair");
    stint_fuzz_check_record(&r, "jsonl sample");
    return STINT_OK;
}

static enum stint_err on_idle(void *ctx, int64_t since, const struct stint_source_pos *pos)
{
    ((struct count *)ctx)->items++;
    (void)pos;
    check_time(since);
    return STINT_OK;
}

static enum stint_err on_private(void *ctx, bool on, int64_t t, const struct stint_source_pos *pos)
{
    ((struct count *)ctx)->items++;
    (void)on;
    (void)pos;
    check_time(t);
    return STINT_OK;
}

static void on_bad(void *ctx, uint64_t line, const char *msg)
{
    struct count *c = ctx;
    char prefix[64];
    c->bad++;
    STINT_FUZZ_CHECK(line >= 1 && line <= c->lines, "jsonl: bad line %llu of %llu",
                     (unsigned long long)line, (unsigned long long)c->lines);
    snprintf(prefix, sizeof(prefix), "stdin:%llu: ", (unsigned long long)line);
    STINT_FUZZ_CHECK(strncmp(msg, prefix, strlen(prefix)) == 0 && strlen(msg) > strlen(prefix),
                     "jsonl: message \"%s\"", msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stint_source *src = NULL;
    struct stint_source_stats st;
    struct count c = {0};
    struct stint_sink sink = {&c, on_sample, on_idle, on_private, on_bad};
    int p[2];

    if (size > 60000 || pipe(p) != 0) {
        return 0; /* a pipe holds 64 KiB: the whole input is written before reading */
    }
    c.lines = 1;
    for (size_t i = 0; i < size; i++) {
        c.lines += data[i] == '\n';
    }
    STINT_FUZZ_CHECK(write(p[1], data, size) == (ssize_t)size, "jsonl: pipe write");
    close(p[1]);
    STINT_FUZZ_CHECK(stint_source_jsonl_open_fd(p[0], &src, NULL) == STINT_OK, "jsonl: open");
    stint_source_set_sink(src, &sink);
    for (int turn = 0; turn < 1000; turn++) {
        struct pollfd pfd[2];
        int n = stint_source_fds(src, pfd, 2);
        stint_source_stats(src, &st);
        if (st.ended) {
            break;
        }
        STINT_FUZZ_CHECK(stint_source_dispatch(src, pfd, n) == STINT_OK, "jsonl: dispatch");
    }
    stint_source_stats(src, &st);
    STINT_FUZZ_CHECK(st.ended, "jsonl: did not end at the end of its input");
    STINT_FUZZ_CHECK(st.items == c.items && st.bad == c.bad, "jsonl: stats disagree");
    STINT_FUZZ_CHECK(
        c.items + c.bad <= c.lines, "jsonl: %llu items and %llu refusals from %llu lines",
        (unsigned long long)c.items, (unsigned long long)c.bad, (unsigned long long)c.lines);
    stint_source_destroy(src);
    close(p[0]);
    return 0;
}
