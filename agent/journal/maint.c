/* maint.c — maintenance: the journal's own thread (group commit for `interval`,
 * compaction of acked ranges), sync on request, and giving back the clean pages of LevelDB's
 * mmap'd tables.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "journal_int.h"

/* LevelDB 1.23 reads tables through read-only shared mmaps (up to 1000 of them), so every page
 * of a table that a scan or a read touches stays in this process's RSS until the table is
 * deleted. Those are clean page-cache pages, but an agent that replays a large backlog must not
 * look like it holds it: after a full scan, and every few MiB read, the pages of our table
 * mappings are dropped with MADV_DONTNEED (they fault back in from the page cache if needed;
 * the files are immutable, so this never changes what is read).
 *
 * A limit, known: the ranges come from /proc/self/maps, and LevelDB's thread may unmap a table
 * between the read of its line and the madvise (microseconds). Were an anonymous mapping made
 * at that very address in that window and written to, the madvise would zero it. glibc maps
 * anonymous memory only for allocations over its mmap threshold, which rises to the size of
 * the first such block freed, so after start-up it hardly does; MADV_PAGEOUT, which can never
 * lose data, made a live run of a million records 10 % slower (it evicts the pages from
 * the page cache too). */
static void drop_table_pages(const char *abspath);

void release_table_pages(struct stint_journal *j)
{
    j->touched_bytes = 0;
    j->released_ms = stint_clock_mono_ms();
    drop_table_pages(j->abspath);
}

/* The work of release_table_pages, on the tables of the folder at abspath (NULL: none). */
static void drop_table_pages(const char *abspath)
{
    FILE *f;
    char line[4600];
    size_t pl;

    if (!abspath || !(f = fopen("/proc/self/maps", "re"))) {
        return;
    }
    pl = strlen(abspath);
    while (fgets(line, sizeof(line), f)) {
        char *end = NULL, *name;
        unsigned long lo, hi;
        size_t nl;
        lo = strtoul(line, &end, 16);
        if (!end || *end != '-') {
            continue;
        }
        hi = strtoul(end + 1, &end, 16);
        name = strchr(line, '/');
        if (!name || hi <= lo) {
            continue;
        }
        name[strcspn(name, "\n")] = '\0';
        nl = strlen(name);
        if (strncmp(name, abspath, pl) == 0 && name[pl] == '/' && nl > 4 &&
            strcmp(name + nl - 4, ".ldb") == 0) {
            madvise((void *)(uintptr_t)lo, hi - lo, MADV_DONTNEED);
        }
    }
    fclose(f);
}

void release_maybe(struct stint_journal *j, uint64_t touched)
{
    int64_t now = stint_clock_mono_ms();

    j->touched_bytes += touched;
    if (j->touched_bytes >= RELEASE_BYTES || now - j->released_ms >= RELEASE_MS) {
        release_table_pages(j);
    }
    pthread_mutex_lock(&j->rel_mu);
    if (now - j->rel_active_ms >= ACTIVE_MS) {
        pthread_cond_signal(&j->rel_cv); /* it sleeps while the journal is idle */
    }
    j->rel_active_ms = now;
    pthread_mutex_unlock(&j->rel_mu);
}

/* The releaser. LevelDB's own thread goes on compacting, reading its inputs through the table
 * mmaps at tens of MB/s, after the calls that made the work have returned, and while a call
 * holds mu waiting for LevelDB (a trim's memtable flush waits for a running compaction): so
 * the pages also go back on a timer, from a thread that never takes mu. Idle, it sleeps. */
static void *release_main(void *arg)
{
    struct stint_journal *j = arg;

    pthread_mutex_lock(&j->rel_mu);
    while (!j->rel_stop) {
        int64_t now = stint_clock_mono_ms();
        if (j->rel_active_ms && now - j->rel_active_ms < ACTIVE_MS) {
            struct timespec ts = stint_clock_deadline(STINT_CLOCK_REALTIME, RELEASE_MS);
            pthread_mutex_unlock(&j->rel_mu);
            drop_table_pages(j->abspath);
            pthread_mutex_lock(&j->rel_mu);
            if (!j->rel_stop) {
                pthread_cond_timedwait(&j->rel_cv, &j->rel_mu, &ts);
            }
        } else {
            pthread_cond_wait(&j->rel_cv, &j->rel_mu);
        }
    }
    pthread_mutex_unlock(&j->rel_mu);
    return NULL;
}

/* An empty synced write: LevelDB fsyncs its log, which covers every earlier write. */
static enum stint_err sync_now(struct stint_journal *j)
{
    enum stint_err err = ensure_db(j);
    if (err != STINT_OK) {
        return err;
    }
    leveldb_writebatch_clear(j->wb);
    return write_batch(j, true, "sync failed");
}

enum stint_err stint_journal_sync(struct stint_journal *j)
{
    enum stint_err err;
    pthread_mutex_lock(&j->mu);
    err = sync_now(j);
    pthread_mutex_unlock(&j->mu);
    return err;
}

void want_compaction(struct stint_journal *j, uint64_t upto)
{
    j->compact_wanted = true;
    j->compact_upto = upto > j->compact_upto ? upto : j->compact_upto;
    j->acked_bytes_since = 0;
    j->trimmed_bytes_since = 0;
    j->trim_compact_mono = stint_clock_mono_ms();
    pthread_cond_broadcast(&j->cv);
}

/* Compacts the record space up to `upto`; the caller holds neither mu nor dblock. */
static void compact_records(struct stint_journal *j, uint64_t upto)
{
    uint8_t a[1] = {P_REC}, b[KEY_LEN];
    make_key(b, P_REC, upto);
    pthread_rwlock_rdlock(&j->dblock);
    if (j->db && upto) {
        leveldb_compact_range(j->db, (const char *)a, 1, (const char *)b, sizeof(b));
    }
    pthread_rwlock_unlock(&j->dblock);
    pthread_mutex_lock(&j->mu);
    release_table_pages(j); /* the compaction read its range through the table mmaps */
    pthread_mutex_unlock(&j->mu);
}

enum stint_err stint_journal_compact(struct stint_journal *j)
{
    uint64_t upto;
    pthread_mutex_lock(&j->mu);
    upto = j->st.acked;
    pthread_mutex_unlock(&j->mu);
    compact_records(j, upto);
    pthread_mutex_lock(&j->mu);
    j->compactions++;
    pthread_mutex_unlock(&j->mu);
    return STINT_OK;
}

/* The journal's own thread: group commit for `interval`, compaction of acked ranges. */
void *maint_main(void *arg)
{
    struct stint_journal *j = arg;
    bool rel = pthread_create(&j->rel_thread, NULL, release_main, j) == 0; /* else: by calls */

    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        if (j->compact_wanted) {
            uint64_t upto = j->compact_upto;
            j->compact_wanted = false;
            j->compact_upto = 0;
            pthread_mutex_unlock(&j->mu);
            compact_records(j, upto);
            pthread_mutex_lock(&j->mu);
            j->compactions++;
            continue;
        }
        if (j->o.sync == STINT_SYNC_INTERVAL && j->durable < j->st.next_seq - 1) {
            int64_t due = j->last_sync_mono + j->o.sync_interval_ms;
            int64_t now = stint_clock_mono_ms();
            if (j->pend_n && !j->broken) {
                int64_t due_pend = j->pend_since_mono + PEND_MS;
                if (now >= due_pend) {
                    (void)flush_pending(j); /* a failure marks the handle broken */
                    continue;
                }
                if (due_pend < due) {
                    due = due_pend;
                }
            }
            if (now >= due && (j->last_sync_mono + j->o.sync_interval_ms <= now)) {
                (void)sync_now(j); /* a failure marks the handle broken; appends report it */
                if (j->broken) {
                    j->last_sync_mono = now; /* try again next interval, not in a loop */
                }
                continue;
            }
            {
                struct timespec ts = stint_clock_deadline(STINT_CLOCK_REALTIME, due - now);
                pthread_cond_timedwait(&j->cv, &j->mu, &ts);
            }
            continue;
        }
        pthread_cond_wait(&j->cv, &j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    if (rel) {
        pthread_mutex_lock(&j->rel_mu);
        j->rel_stop = true;
        pthread_cond_signal(&j->rel_cv);
        pthread_mutex_unlock(&j->rel_mu);
        pthread_join(j->rel_thread, NULL);
    }
    return NULL;
}
