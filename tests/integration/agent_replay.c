/* agent_replay.c — the reference for the end-to-end tests: the records a JSONL file implies.
 *
 *   agent_replay FILE.jsonl JOURNAL_DIR [idle_after] > records.jsonl
 *
 * Runs the same source and tracker stintd runs over FILE, in one go and without any fault,
 * into a fresh journal, then prints every record the journal holds, in seq order, as canonical
 * JSON (one a line). The end-to-end test compares what stint-collector holds after a run full of
 * kill -9s and server faults with this: the same records, each once, with the same times.
 * Records come from the events' own times, so the output depends on the file alone. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "source.h"
#include "stint/buf.h"
#include "stint/json.h"
#include "tracker.h"

static enum stint_err print_record(void *ctx, const struct stint_journal_entry *en)
{
    struct stint_buf *b = ctx;
    enum stint_err err;

    stint_buf_reset(b);
    err = stint_json_encode_record(en->record, b);
    if (err != STINT_OK)
        return err;
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
    return STINT_OK;
}

int main(int argc, char **argv)
{
    struct stint_journal_opts jo = {0};
    struct stint_tracker_opts to = {0};
    struct stint_journal *j = NULL;
    struct stint_source *src = NULL;
    struct stint_tracker *t = NULL;
    struct stint_source_stats st;
    struct stint_error e;
    struct stint_buf b = {0};
    uint64_t from = 0, last_items = UINT64_MAX;
    int quiet = 0, rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: agent_replay FILE.jsonl JOURNAL_DIR [idle_after_ms]\n");
        return 2;
    }
    jo.path = argv[2];
    jo.sync = STINT_SYNC_NONE;
    jo.max_age_ms = -1;
    if (stint_journal_open(&jo, &j, NULL, &e) != STINT_OK)
        goto fail;
    if (stint_source_jsonl_open(argv[1], &src, &e) != STINT_OK)
        goto fail;
    to.journal = j;
    to.source = src;
    to.event_time = true;
    to.private_records = true;
    to.idle_after_ms = argc > 3 ? strtoll(argv[3], NULL, 10) : 0;
    if (stint_tracker_create(&to, &t, &e) != STINT_OK)
        goto fail;
    /* Read until the source has been quiet for a while: the file is complete before we start. */
    while (quiet < 5) {
        struct pollfd fds[8];
        int n = stint_source_fds(src, fds, 8);
        poll(fds, (nfds_t)(n > 0 ? n : 0), 20);
        if (stint_source_dispatch(src, fds, n) != STINT_OK) {
            fprintf(stderr, "agent_replay: dispatch failed\n");
            goto out;
        }
        stint_source_stats(src, &st);
        if (st.items + st.bad == last_items)
            quiet++;
        else
            quiet = 0;
        last_items = st.items + st.bad;
    }
    for (;;) {
        size_t n = 0;
        if (stint_journal_read(j, from, 1000, SIZE_MAX, 0, print_record, &b, &from, &n) !=
            STINT_OK) {
            fprintf(stderr, "agent_replay: journal read failed\n");
            goto out;
        }
        if (n == 0)
            break;
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "agent_replay: %s\n", e.msg);
out:
    stint_buf_free(&b);
    stint_tracker_destroy(t);
    stint_source_destroy(src);
    stint_journal_close(j);
    return rc;
}
