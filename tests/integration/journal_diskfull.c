/* journal_diskfull.c — a journal fills its disk: appends fail cleanly, nothing stored is
 * damaged, and appends resume when space returns.
 *
 *   journal_diskfull tmpfs|fsize [always|interval]   (policy: always when not given)
 *
 *   tmpfs   a 1 MiB tmpfs mounted for the test (needs root; exit 77 = skipped
 *                            when mounting is not allowed); space returns by remounting larger
 *   fsize   RLIMIT_FSIZE (any user): writes past 256 KiB fail with EFBIG;
 *                            space returns by raising the limit again
 *
 * Checks: the first failure is STINT_EIO with a message; further appends keep failing cleanly;
 * when space returns the very next append succeeds and takes the next seq; every record ever
 * acknowledged is there exactly once and intact, in the same handle and after a reopen, and the
 * reopen reports no repair and no loss.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static struct stint_record rec;

static enum stint_err append_one(struct stint_journal *j, uint64_t want, uint64_t *got)
{
    char title[1100];
    int n = snprintf(title, sizeof(title), "disk-full record %" PRIu64 " ", want);
    memset(title + n, 'x', sizeof(title) - 1 - (size_t)n); /* ~1 KiB: the disk fills sooner */
    title[sizeof(title) - 1] = '\0';
    stint_record_clear(&rec);
    rec.kind = STINT_KIND_ACTIVE;
    rec.start_ms = (int64_t)time(NULL) * 1000;
    rec.end_ms = rec.start_ms + 1000;
    stint_record_set(&rec, STINT_FIELD_APP, "gimp", 4);
    stint_record_set(&rec, STINT_FIELD_TITLE, title, strlen(title));
    return stint_journal_append(j, &rec, 1, NULL, got);
}

struct check {
    uint64_t expect;
    int bad;
};

static enum stint_err check_entry(void *ctx, const struct stint_journal_entry *e)
{
    struct check *c = ctx;
    char head[64];
    int n = snprintf(head, sizeof(head), "disk-full record %" PRIu64 " ", e->seq);
    if (e->seq != c->expect || e->record->title_len != 1099 ||
        memcmp(e->record->title, head, (size_t)n) != 0) {
        c->bad++;
    }
    c->expect = e->seq + 1;
    return STINT_OK;
}

static int verify(struct stint_journal *j, uint64_t last, const char *when)
{
    struct check c = {.expect = 1};
    struct stint_journal_stats s;
    enum stint_err err =
        stint_journal_read(j, 0, SIZE_MAX, SIZE_MAX, 0, check_entry, &c, NULL, NULL);
    stint_journal_stats(j, &s);
    if (err != STINT_OK || c.bad || c.expect != last + 1 || s.backlog != last || s.lost) {
        fprintf(stderr,
                "%s: read %s, %d bad, last %" PRIu64 " (want %" PRIu64 "), backlog %" PRIu64
                ", lost %" PRIu64 "\n",
                when, stint_strerror(err), c.bad, c.expect - 1, last, s.backlog, s.lost);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/stint-journal-full-XXXXXX";
    char path[128], msg[512];
    struct stint_journal_opts o = {.sync = STINT_SYNC_ALWAYS};
    struct stint_journal *j = NULL;
    struct stint_journal_open_info info;
    struct stint_error e;
    struct rlimit orig;
    bool tmpfs;
    uint64_t last = 0, seq = 0;
    enum stint_err err = STINT_OK;
    int rc = 1;

    if (argc < 2 || (strcmp(argv[1], "tmpfs") != 0 && strcmp(argv[1], "fsize") != 0)) {
        fprintf(stderr, "usage: %s tmpfs|fsize [always|interval]\n", argv[0]);
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "interval") == 0) {
        /* appends are coalesced: a failed write surfaces on the next call, and what was
         * accepted stays pending until space returns */
        o.sync = STINT_SYNC_INTERVAL;
        o.sync_interval_ms = 50;
    }
    tmpfs = strcmp(argv[1], "tmpfs") == 0;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    if (tmpfs && mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700") != 0) {
        printf("journal_diskfull: SKIP: cannot mount a tmpfs here (%s)\n", strerror(errno));
        rmdir(dir);
        return 77;
    }
    snprintf(path, sizeof(path), "%s/j", dir);
    o.path = path;
    if (stint_journal_open(&o, &j, NULL, &e) != STINT_OK) {
        fprintf(stderr, "open: %s\n", e.msg);
        goto cleanup;
    }
    getrlimit(RLIMIT_FSIZE, &orig);
    if (!tmpfs) {
        struct rlimit lim = {.rlim_cur = 256 << 10, .rlim_max = orig.rlim_max};
        signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of being killed */
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) {
            perror("setrlimit");
            goto cleanup;
        }
    }
    /* fill up */
    for (int i = 0; i < 100000; i++) {
        err = append_one(j, last + 1, &seq);
        if (err != STINT_OK) {
            break;
        }
        if (seq != last + 1) {
            fprintf(stderr, "append gave seq %" PRIu64 " after %" PRIu64 "\n", seq, last);
            goto cleanup;
        }
        last = seq;
    }
    stint_journal_last_error(j, msg, sizeof(msg));
    printf("journal_diskfull (%s): full after %" PRIu64 " records: %s: %s\n", argv[1], last,
           stint_strerror(err), msg);
    if (err != STINT_EIO || !*msg || last < 10) {
        fprintf(stderr, "expected STINT_EIO with a message after some records\n");
        goto cleanup;
    }
    /* still full: every try fails cleanly and gives out no seq. (Under RLIMIT_FSIZE the reopen
     * that follows a failure starts new, small files, so a try may also succeed: then it must
     * have taken the next seq.) */
    for (int i = 0; i < 5; i++) {
        err = append_one(j, last + 1, &seq);
        if (err == STINT_OK && !tmpfs && seq == last + 1) {
            last = seq;
            continue;
        }
        if (err != STINT_EIO || seq != 0) {
            fprintf(stderr, "an append on a full disk did not fail cleanly (%s, seq %" PRIu64 ")\n",
                    stint_strerror(err), seq);
            goto cleanup;
        }
    }
    /* space returns */
    if (tmpfs) {
        if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT, "size=16m,mode=0700") != 0) {
            perror("remount");
            goto cleanup;
        }
    } else if (setrlimit(RLIMIT_FSIZE, &orig) != 0) {
        perror("setrlimit");
        goto cleanup;
    }
    for (int i = 0; i < 50; i++) {
        err = append_one(j, last + 1, &seq);
        if (err != STINT_OK || seq != last + 1) {
            stint_journal_last_error(j, msg, sizeof(msg));
            fprintf(stderr, "append %d after space returned: %s (%s), seq %" PRIu64 "\n", i,
                    stint_strerror(err), msg, seq);
            goto cleanup;
        }
        last = seq;
    }
    if (verify(j, last, "same handle") != 0) {
        goto cleanup;
    }
    stint_journal_close(j);
    j = NULL;
    if (stint_journal_open(&o, &j, &info, &e) != STINT_OK) {
        fprintf(stderr, "reopen: %s\n", e.msg);
        goto cleanup;
    }
    if (info.repaired || info.moved_aside || info.lost || info.dead_lettered) {
        fprintf(stderr, "reopen: repaired %d moved %d lost %" PRIu64 "\n", info.repaired,
                info.moved_aside, info.lost);
        goto cleanup;
    }
    if (verify(j, last, "after reopen") != 0) {
        goto cleanup;
    }
    printf("journal_diskfull (%s): appends resumed; %" PRIu64 " records intact\n", argv[1], last);
    rc = 0;
cleanup:
    stint_journal_close(j);
    if (tmpfs) {
        umount(dir);
    }
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
