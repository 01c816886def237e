/* journal.c — the durable, bounded FIFO of records, on LevelDB (see journal.h).
 *
 * Layout (spec/JOURNAL.md): one-byte key prefixes keep the spaces apart and in a fixed
 * order: 'c' the checkpoint, 'd' + be64 seq the dead letters, 'm' + name the meta keys, 'r' + be64
 * seq the records, stored as their v1 protobuf encoding with the seq inside, so the sender frames
 * them into a Batch byte for byte. Big-endian seqs make LevelDB's byte order the send order.
 *
 * State: everything the handle counts (next seq, acked seq, backlog count and bytes, drop, dead
 * and loss counters) is one fixed-size value under "mstate", rewritten in the SAME WriteBatch as
 * every change it describes except a plain append (half the bytes per append): what appends
 * change (next seq, count, bytes) is recounted from the records on open, so the counters can
 * never disagree with the records after a crash. The handle keeps the state in memory; a change
 * is computed on a copy and only committed when LevelDB has accepted the write, so a failed write
 * (disk full) leaves both sides as they were. Every stored value carries a CRC-32 of its own:
 * leveldb_repair_db copies log records without checking LevelDB's checksums.
 *
 * Durability: `always` writes with sync; `interval` writes without and the journal's own thread
 * issues an empty synced write at most every interval (LevelDB syncs its log in order, so that
 * one fsync covers everything written before it); `none` syncs only on close and on request.
 * durable_seq is the last seq known to be covered by an fsync. With `interval`, plain appends
 * (no meta key, no checkpoint change, no bound hit) are also coalesced in a pending WriteBatch
 * handed to LevelDB after 256 records or 2 ms (by the thread when no append follows) or before
 * any other call: one write syscall per group instead of one per record. Every other call sees
 * them (ensure_db hands them over first); a failed hand-over keeps them pending and counted.
 *
 * Memory: the open scan and reads touch LevelDB's mmap'd tables; release_table_pages() drops
 * those clean pages from the RSS after the scan and every 4 MiB read, so memory does not grow
 * with the backlog.
 *
 * Failure handling: a write error (ENOSPC, EFBIG) can leave a torn record at the end of LevelDB's
 * log and LevelDB may refuse further writes, so the handle is marked broken and the next call
 * closes and reopens the database (LevelDB stops reading a log at a torn tail record; what was
 * written before is intact). Corruption found on open, or by a read later, is met by
 * leveldb_repair_db; if the database still does not open and read cleanly, the folder is moved
 * aside as <path>.corrupt-<UTC time> and a new journal started. Disk errors (no space, no
 * permission) never trigger repair or move-aside: they are reported as STINT_EIO.
 *
 * Counting losses: on open every record is scanned (iterated, never loaded together) and counted.
 * The expected count is the one the clean-close mark (stint.closed, written at close, removed at
 * open) states, or else the one "mstate" states; what is missing is reported as lost. A seq is
 * never given out twice: next seq is the highest of every witness (state, mark, keys present).
 *
 * Bounds: max_bytes counts key + value bytes of stored records. Dropping the oldest replaces the
 * dropped run (and any gap record it swallows) with one gap record at the seq of the last record
 * dropped, so seq order stays time order and an ack past it retires it; dropping the newest keeps
 * one gap record at the tail, updated in place until the sender has read it. max_age always
 * drops from the head (dropping the newest would never free an old record).
 *
 * Threads: `mu` guards the handle and is held for the whole of every call, LevelDB calls
 * included (appends and acks must not interleave their read-modify-write of the state).
 * The maintenance thread compacts acked ranges outside `mu`, holding `dblock` for reading;
 * whatever replaces j->db (reopen, purge, move-aside) holds `mu` and then `dblock` for writing.
 */
#define _GNU_SOURCE
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <leveldb/c.h>
#include <zlib.h>

#include "journal_lock.h"
#include "stint/buf.h"
#include "stint/pb.h"
#include "stint/pb_ref.h"

#define K_CHECKPOINT "c"
#define K_VERSION "mversion"
#define K_AGENT "magent_id"
#define K_STATE "mstate"
#define K_PRIVATE "mprivate"
#define K_USER "mu/"
#define P_DEAD 'd'
#define P_REC 'r'
#define KEY_LEN 9
#define STATE_LEN 85 /* u8 format, 10 x be64, be32 CRC */
#define CRC_LEN 4
#define DEAD_HDR 11 /* u8 format, be64 moved_ms, be16 reason_len */
#define MARK_FILE "stint.closed"
#define ACK_CHUNK 10000
#define COMPACT_BYTES ((uint64_t)4 << 20)
#define COMPACT_EMPTY_BYTES ((uint64_t)256 << 10)
#define PEND_MAX 256 /* `interval`: appends coalesced into one LevelDB write at most ... */
#define PEND_MS 2    /* ... and for at most this long */
#define RELEASE_BYTES ((uint64_t)4 << 20)
#define RELEASE_MS 100 /* appending: the table pages are released this often at least */
#define RC_MAX 65536   /* read-cache entries; reading further ahead unacked falls back */

struct jstate {
    uint64_t next_seq, acked, count, bytes, dropped, gaps, dead, dead_total, dead_dropped, lost;
};

/* The clean-close mark: what the journal held when it was last closed cleanly. */
struct mark {
    bool present;
    bool has_agent;
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    uint64_t next_seq, acked, count;
};

/* What a scan of the whole database found. */
struct scan {
    bool corrupt;   /* the iterator reported an error ... */
    bool transient; /* ... that is a disk condition, not damage */
    char msg[256];
    uint32_t version;
    bool has_version, has_agent, has_state, has_checkpoint, private_mode;
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    struct jstate st;
    uint64_t count, bytes, last_rec, dead;
    uint64_t *bad; /* seqs whose value does not decode (owned) */
    size_t n_bad, cap_bad;
    uint64_t acked_floor; /* records at or below it were acked: a lost delete brought them back */
    uint64_t *stale;      /* such seqs (owned) */
    size_t n_stale, cap_stale;
    /* keys in the record or dead-letter space that are not a prefix + be64 seq: made by damage
     * (a flipped length inside a log record that leveldb_repair_db copied unchecked); they are
     * no witness of anything, and left in place they would end every walk of their space */
    leveldb_writebatch_t *junk; /* their deletes (owned) */
    size_t n_junk;
    bool any_key;
};

struct stint_journal {
    char *path;
    struct stint_journal_opts o;
    struct stint_journal_lock lock;
    leveldb_t *db;
    leveldb_options_t *lopt;
    leveldb_cache_t *cache;
    leveldb_readoptions_t *ropt;
    leveldb_readoptions_t *rscan;
    leveldb_writeoptions_t *wopt;
    leveldb_writeoptions_t *wsync;
    leveldb_writebatch_t *wb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_rwlock_t dblock;
    pthread_t thread;
    bool thread_started, stop;
    struct jstate st;
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    bool private_mode;
    int64_t oldest_ms;
    bool oldest_valid;
    uint64_t durable;
    int64_t last_sync_mono;
    uint64_t read_hwm;
    bool broken;
    bool compact_wanted;
    uint64_t compact_upto;
    uint64_t acked_bytes_since;
    uint64_t compactions;
    struct stint_record enc_rec;
    struct stint_record dec_rec;
    struct stint_buf enc;
    size_t *offs;
    size_t offs_cap;
    /* `interval` only: appends waiting to be handed to LevelDB in one write (see the design
     * block); counted in st already */
    leveldb_writebatch_t *pend;
    uint64_t pend_n, pend_bytes, pend_last;
    int64_t pend_since_mono;
    /* What reads handed out since the acked seq (seqs and stored sizes, contiguous in the record
     * space), so that acking them needs no second iteration. Dropped whenever records in that
     * range change other than by an ack (drops, dead letters, purge, reopen). */
    uint64_t *rc_seq;
    uint32_t *rc_size;
    size_t rc_head, rc_n, rc_cap;
    bool rc_valid;
    uint64_t rc_base;       /* the acked seq the cache starts after */
    char *abspath;          /* realpath of the folder, to find LevelDB's mappings */
    uint64_t touched_bytes; /* read since the mapped table pages were last released */
    int64_t released_ms;    /* CLOCK_MONOTONIC ms of that release */
    char errmsg[512];
};

/* ---- small helpers ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void make_key(uint8_t k[KEY_LEN], char prefix, uint64_t seq)
{
    k[0] = (uint8_t)prefix;
    put_be64(k + 1, seq);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(struct stint_journal *j)
{
    struct timespec ts;
    if (j->o.clock_ms) {
        return j->o.clock_ms(j->o.clock_ctx);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static enum stint_err
fail(struct stint_journal *j, enum stint_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof(j->errmsg), fmt, ap);
    va_end(ap);
    return e;
}

/* Turns a LevelDB error string into STINT_EIO with a message; frees it. */
static enum stint_err ldb_fail(struct stint_journal *j, char *lerr, const char *what)
{
    fail(j, STINT_EIO, "journal %s: %s: %s", j->path, what, lerr ? lerr : "unknown error");
    leveldb_free(lerr);
    return STINT_EIO;
}

/* Disk conditions that repair cannot help and must never be taken for damage. */
static bool transient_error(const char *m)
{
    static const char *const words[] = {
        "No space left",  "Permission denied", "Read-only file system",  "Too many open files",
        "File too large", "Disk quota",        "Cannot allocate memory", "Resource temporarily"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strstr(m, words[i])) {
            return true;
        }
    }
    return false;
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* CRC-32 (zlib's crc32()) of a stored value's body. LevelDB checksums its own blocks, but
 * leveldb_repair_db copies log records without checking theirs, so a value carries its own.
 * (Measured: zlib's CRC of a 150-byte record costs about as much as decoding it; a CRC-32C with
 * the SSE4.2 instruction would be ~20x cheaper, but the format and the fuzz harness say CRC-32.) */
static uint32_t crc_of(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0L, p, (uInt)n);
}

/* Checks the be32 CRC in front of a stored value; on success body and bl hold what follows it. */
static bool unseal(const uint8_t *v, size_t vl, const uint8_t **body, size_t *bl)
{
    if (vl < CRC_LEN || get_be32(v) != crc_of(v + CRC_LEN, vl - CRC_LEN)) {
        return false;
    }
    *body = v + CRC_LEN;
    *bl = vl - CRC_LEN;
    return true;
}

static void state_encode(const struct jstate *s, uint8_t out[STATE_LEN])
{
    const uint64_t v[10] = {s->next_seq, s->acked, s->count,      s->bytes,        s->dropped,
                            s->gaps,     s->dead,  s->dead_total, s->dead_dropped, s->lost};
    out[0] = 1;
    for (int i = 0; i < 10; i++) {
        put_be64(out + 1 + 8 * i, v[i]);
    }
    put_be32(out + STATE_LEN - CRC_LEN, crc_of(out, STATE_LEN - CRC_LEN));
}

static bool state_decode(const uint8_t *p, size_t len, struct jstate *s)
{
    uint64_t v[10];
    if (len != STATE_LEN || p[0] != 1 ||
        get_be32(p + STATE_LEN - CRC_LEN) != crc_of(p, STATE_LEN - CRC_LEN)) {
        return false;
    }
    for (int i = 0; i < 10; i++) {
        v[i] = get_be64(p + 1 + 8 * i);
    }
    s->next_seq = v[0];
    s->acked = v[1];
    s->count = v[2];
    s->bytes = v[3];
    s->dropped = v[4];
    s->gaps = v[5];
    s->dead = v[6];
    s->dead_total = v[7];
    s->dead_dropped = v[8];
    s->lost = v[9];
    return true;
}

static void put_state(struct stint_journal *j, const struct jstate *s)
{
    uint8_t v[STATE_LEN];
    state_encode(s, v);
    leveldb_writebatch_put(j->wb, K_STATE, sizeof(K_STATE) - 1, (const char *)v, sizeof(v));
}

/* Decodes a stored record and checks that it carries the seq of its key. */
static bool decode_stored(const uint8_t *v, size_t len, uint64_t seq, struct stint_record *r)
{
    const uint8_t *body;
    size_t bl;
    if (!unseal(v, len, &body, &bl) ||
        stint_pb_decode_record(body, bl, r, NULL, NULL) != STINT_OK) {
        return false;
    }
    return r->seq == seq;
}

/* Appends CRC + v1 encoding of r to b (a stored record value). */
static enum stint_err seal_record(const struct stint_record *r, struct stint_buf *b)
{
    static const uint8_t zero[CRC_LEN] = {0};
    size_t off = b->len;
    enum stint_err err = stint_buf_append(b, zero, CRC_LEN);
    if (err == STINT_OK) {
        /* protobuf-c's packer: the same bytes as nanopb's encoder (test_pb compares them) at a
         * third of the instructions, on the path of every record appended */
        err = stint_pbc_encode_record(r, b);
    }
    if (err == STINT_OK) {
        put_be32(b->data + off, crc_of(b->data + off + CRC_LEN, b->len - off - CRC_LEN));
    }
    return err;
}

/* The part of a stored record value kept in a dead letter: the encoding without the CRC when
 * the CRC holds, else every byte as found. */
static void dead_body(const uint8_t *v, size_t vl, const uint8_t **body, size_t *bl)
{
    if (!unseal(v, vl, body, bl)) {
        *body = v;
        *bl = vl;
    }
}

static bool meta_key_ok(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > STINT_JOURNAL_META_KEY_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

static size_t user_key(char *out, const char *key)
{
    size_t n = strlen(key);
    memcpy(out, K_USER, sizeof(K_USER) - 1);
    memcpy(out + sizeof(K_USER) - 1, key, n);
    return sizeof(K_USER) - 1 + n;
}

static enum stint_err write_batch(struct stint_journal *j, bool sync, const char *what)
{
    char *lerr = NULL;
    leveldb_write(j->db, sync ? j->wsync : j->wopt, j->wb, &lerr);
    if (lerr) {
        j->broken = true; /* LevelDB's log may end in a torn record: reopen before writing again */
        return ldb_fail(j, lerr, what);
    }
    if (sync || j->o.sync == STINT_SYNC_ALWAYS) {
        j->durable = j->st.next_seq - 1;
        j->last_sync_mono = mono_ms();
    }
    return STINT_OK;
}

/* Positions `it` at the oldest stored record. Seeking past the acked seq, not to the prefix,
 * matters: LevelDB keeps the tombstones of acked records until compaction, and an iterator
 * started at the prefix would step over every one of them on each call. */
static void seek_first_record(struct stint_journal *j, leveldb_iterator_t *it)
{
    uint8_t k[KEY_LEN];
    make_key(k, P_REC, j->st.acked + 1);
    leveldb_iter_seek(it, (const char *)k, sizeof(k));
}

/* LevelDB 1.23 reads tables through read-only shared mmaps (up to 1000 of them), so every page
 * of a table that a scan or a read touches stays in this process's RSS until the table is
 * deleted. Those are clean page-cache pages, but an agent that replays a large backlog must not
 * look like it holds it: after a full scan, and every few MiB read, the pages of our table
 * mappings are dropped with MADV_DONTNEED (they fault back in from the page cache if needed;
 * the files are immutable, so this never changes what is read). */
static void release_table_pages(struct stint_journal *j)
{
    FILE *f;
    char line[4600];
    size_t pl;

    j->touched_bytes = 0;
    j->released_ms = mono_ms();
    if (!j->abspath || !(f = fopen("/proc/self/maps", "re"))) {
        return;
    }
    pl = strlen(j->abspath);
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
        if (strncmp(name, j->abspath, pl) == 0 && name[pl] == '/' && nl > 4 &&
            strcmp(name + nl - 4, ".ldb") == 0) {
            madvise((void *)(uintptr_t)lo, hi - lo, MADV_DONTNEED);
        }
    }
    fclose(f);
}

/* ---- the clean-close mark ---- */

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static uint64_t parse_u64(const char *s)
{
    char *end = NULL;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    return (errno || end == s) ? 0 : (uint64_t)v;
}

static void mark_read(const char *dir, struct mark *m)
{
    char file[4200], buf[512];
    FILE *f;
    size_t n;

    memset(m, 0, sizeof(*m));
    if (path_join(file, sizeof(file), dir, MARK_FILE) != 0 || !(f = fopen(file, "re"))) {
        return;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (strncmp(buf, "stint-journal-closed 1\n", 23) != 0) {
        return;
    }
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        if (strncmp(line, "next_seq ", 9) == 0) {
            m->next_seq = parse_u64(line + 9);
        } else if (strncmp(line, "acked_seq ", 10) == 0) {
            m->acked = parse_u64(line + 10);
        } else if (strncmp(line, "count ", 6) == 0) {
            m->count = parse_u64(line + 6);
            m->present = true;
        } else if (strncmp(line, "agent_id ", 9) == 0 && strlen(line + 9) == 32) {
            m->has_agent = true;
            for (int i = 0; i < STINT_AGENT_ID_LEN; i++) {
                char hex[3] = {line[9 + 2 * i], line[10 + 2 * i], 0};
                char *end = NULL;
                m->agent_id[i] = (uint8_t)strtoul(hex, &end, 16);
                if (end != hex + 2) {
                    m->has_agent = false;
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
}

static void mark_remove(const char *dir)
{
    char file[4200];
    if (path_join(file, sizeof(file), dir, MARK_FILE) == 0) {
        unlink(file);
    }
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static void mark_write(struct stint_journal *j)
{
    char file[4200], tmp[4200], text[512];
    int fd, n;
    char hex[2 * STINT_AGENT_ID_LEN + 1];

    for (int i = 0; i < STINT_AGENT_ID_LEN; i++) {
        snprintf(hex + 2 * i, 3, "%02x", j->agent_id[i]);
    }
    if (path_join(file, sizeof(file), j->path, MARK_FILE) != 0 ||
        path_join(tmp, sizeof(tmp), j->path, MARK_FILE ".tmp") != 0) {
        return;
    }
    n = snprintf(text, sizeof(text),
                 "stint-journal-closed 1\nagent_id %s\nnext_seq %" PRIu64 "\nacked_seq %" PRIu64
                 "\ncount %" PRIu64 "\n",
                 hex, j->st.next_seq, j->st.acked, j->st.count);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    if (n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0) {
        close(fd);
        if (rename(tmp, file) == 0) {
            fsync_dir(j->path);
        }
        return;
    }
    close(fd);
    unlink(tmp);
}

/* ---- opening, scanning, repairing ---- */

static void scan_free(struct scan *s)
{
    free(s->bad);
    free(s->stale);
    if (s->junk) {
        leveldb_writebatch_destroy(s->junk);
    }
    s->bad = NULL;
    s->stale = NULL;
    s->junk = NULL;
}

static bool seq_push(uint64_t **v, size_t *n, size_t *cap, uint64_t seq)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        uint64_t *p = realloc(*v, ncap * sizeof(*p));
        if (!p) {
            return false;
        }
        *v = p;
        *cap = ncap;
    }
    (*v)[(*n)++] = seq;
    return true;
}

/* Iterates the whole database once (never holding more than one value), checksums verified. */
static enum stint_err scan_db(struct stint_journal *j, struct scan *s)
{
    leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->rscan);
    char *lerr = NULL;
    enum stint_err err = STINT_OK;

    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        s->any_key = true;
        /* the pages this scan touches would otherwise stay in the RSS until it ends: a
         * backlog of a million records would peak at its table size (see release_table_pages) */
        j->touched_bytes += kl + vl;
        if (j->touched_bytes >= RELEASE_BYTES) {
            release_table_pages(j);
        }
        if (kl != KEY_LEN && kl > 0 && (k[0] == P_REC || k[0] == P_DEAD)) {
            if (!s->junk) {
                s->junk = leveldb_writebatch_create();
            }
            leveldb_writebatch_delete(s->junk, (const char *)k, kl);
            s->n_junk++;
            continue;
        }
        if (kl == KEY_LEN && k[0] == P_REC) {
            uint64_t seq = get_be64(k + 1);
            if (seq <= s->acked_floor) {
                if (!seq_push(&s->stale, &s->n_stale, &s->cap_stale, seq)) {
                    err = fail(j, STINT_ENOMEM, "journal %s: out of memory scanning", j->path);
                    goto cleanup;
                }
                continue;
            }
            if (!decode_stored(v, vl, seq, &j->dec_rec)) {
                if (!seq_push(&s->bad, &s->n_bad, &s->cap_bad, seq)) {
                    err = fail(j, STINT_ENOMEM, "journal %s: out of memory scanning", j->path);
                    goto cleanup;
                }
                continue; /* not a witness of the next seq: its key may be what was damaged */
            }
            s->count++;
            s->bytes += kl + vl;
            s->last_rec = seq;
        } else if (kl == KEY_LEN && k[0] == P_DEAD) {
            s->dead++;
        } else if (kl == 1 && k[0] == 'c') {
            s->has_checkpoint = true;
        } else if (kl == sizeof(K_VERSION) - 1 && memcmp(k, K_VERSION, kl) == 0 && vl == 4) {
            s->has_version = true;
            s->version = (uint32_t)(((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) |
                                    ((uint32_t)v[2] << 8) | v[3]);
        } else if (kl == sizeof(K_AGENT) - 1 && memcmp(k, K_AGENT, kl) == 0 &&
                   vl == STINT_AGENT_ID_LEN) {
            s->has_agent = true;
            memcpy(s->agent_id, v, STINT_AGENT_ID_LEN);
        } else if (kl == sizeof(K_STATE) - 1 && memcmp(k, K_STATE, kl) == 0) {
            s->has_state = state_decode(v, vl, &s->st);
            if (s->has_state && s->st.acked > s->acked_floor) {
                s->acked_floor = s->st.acked;
            }
        } else if (kl == sizeof(K_PRIVATE) - 1 && memcmp(k, K_PRIVATE, kl) == 0 && vl == 1) {
            s->private_mode = v[0] != 0;
        }
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        s->corrupt = true;
        s->transient = transient_error(lerr);
        snprintf(s->msg, sizeof(s->msg), "%s", lerr);
        leveldb_free(lerr);
    }
cleanup:
    leveldb_iter_destroy(it);
    return err;
}

static void db_close(struct stint_journal *j)
{
    if (j->db) {
        leveldb_close(j->db);
        j->db = NULL;
    }
}

static enum stint_err db_repair(struct stint_journal *j)
{
    char *lerr = NULL;
    leveldb_repair_db(j->lopt, j->path, &lerr);
    if (lerr) {
        return ldb_fail(j, lerr, "repair failed");
    }
    return STINT_OK;
}

/* Moves the damaged folder aside and makes an empty one in its place, locked by us. */
static enum stint_err move_aside(struct stint_journal *j, struct stint_journal_open_info *info)
{
    char to[4096];
    char stamp[32];
    struct tm tm;
    time_t now = time(NULL);
    struct stint_journal_lock fresh;
    int n;

    db_close(j);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    for (int i = 1;; i++) {
        struct stat st;
        n = i == 1 ? snprintf(to, sizeof(to), "%s.corrupt-%s", j->path, stamp)
                   : snprintf(to, sizeof(to), "%s.corrupt-%s-%d", j->path, stamp, i);
        if (n < 0 || (size_t)n >= sizeof(to)) {
            return fail(j, STINT_EINVAL, "journal %s: path too long to move aside", j->path);
        }
        if (stat(to, &st) != 0) {
            break;
        }
    }
    if (rename(j->path, to) != 0) {
        return fail(j, STINT_EIO, "journal %s: cannot move the damaged journal to %s: %s", j->path,
                    to, strerror(errno));
    }
    if (mkdir(j->path, 0700) != 0) {
        return fail(j, STINT_EIO, "journal %s: cannot create: %s", j->path, strerror(errno));
    }
    if (stint_journal_lock_take(j->path, &fresh, j->errmsg, sizeof(j->errmsg)) != STINT_OK) {
        return STINT_EIO;
    }
    stint_journal_lock_release(&j->lock);
    j->lock = fresh;
    if (info) {
        info->moved_aside = true;
        snprintf(info->moved_to, sizeof(info->moved_to), "%s", to);
    }
    return STINT_OK;
}

/* Opens LevelDB and scans it, repairing or moving aside on damage. On success j->db is open and
 * *s describes it. */
static enum stint_err db_attach(struct stint_journal *j, struct stint_journal_open_info *info,
                                struct scan *s, uint64_t acked_floor, bool *moved)
{
    bool repaired = false;
    enum stint_err err;

    *moved = false;
    for (;;) {
        char *lerr = NULL;
        scan_free(s);
        memset(s, 0, sizeof(*s));
        s->acked_floor = *moved ? 0 : acked_floor;
        j->db = leveldb_open(j->lopt, j->path, &lerr);
        if (!j->db) {
            if (transient_error(lerr) || *moved) {
                return ldb_fail(j, lerr, "cannot open");
            }
            leveldb_free(lerr);
        } else {
            err = scan_db(j, s);
            if (err != STINT_OK) {
                return err;
            }
            if (!s->corrupt) {
                if (info) {
                    info->repaired = info->repaired || repaired;
                }
                return STINT_OK;
            }
            db_close(j);
            if (s->transient || *moved) {
                return fail(j, STINT_EIO, "journal %s: read failed: %s", j->path, s->msg);
            }
        }
        if (!repaired) {
            repaired = true;
            err = db_repair(j);
            if (err != STINT_OK && transient_error(j->errmsg)) {
                return err;
            }
            continue;
        }
        err = move_aside(j, info);
        if (err != STINT_OK) {
            return err;
        }
        *moved = true;
    }
}

/* Brings the state in line with what the scan found, writes it (with the undecodable records
 * moved to the dead letters) in one synced batch. */
static enum stint_err settle(struct stint_journal *j, struct scan *s, const struct mark *mk,
                             bool moved, struct stint_journal_open_info *info)
{
    struct jstate st = s->has_state ? s->st : (struct jstate){0};
    uint64_t expected = 0, present;
    bool expected_known = false;
    uint8_t ver[4] = {0, 0, 0, STINT_JOURNAL_FORMAT};
    int64_t now = wall_ms(j);
    enum stint_err err;

    if (s->has_version && s->version > STINT_JOURNAL_FORMAT) {
        return fail(j, STINT_EUNSUPPORTED,
                    "journal %s was written by journal format %u; this Stint reads formats up "
                    "to %d: refusing to touch it",
                    j->path, s->version, STINT_JOURNAL_FORMAT);
    }
    if (info && !s->any_key && !moved) {
        info->created = true;
    }
    if (s->has_agent) {
        memcpy(j->agent_id, s->agent_id, STINT_AGENT_ID_LEN);
    } else if (mk->has_agent && !moved) {
        memcpy(j->agent_id, mk->agent_id, STINT_AGENT_ID_LEN);
    } else if (getrandom(j->agent_id, STINT_AGENT_ID_LEN, 0) != STINT_AGENT_ID_LEN) {
        return fail(j, STINT_EIO, "journal %s: getrandom: %s", j->path, strerror(errno));
    }
    if (mk->present) {
        expected = mk->count;
        expected_known = true;
    } else if (s->has_state) {
        /* plain appends do not rewrite the state: those after it are the seqs from its next_seq
         * to the last record found (contiguous, since anything else rewrites it) */
        expected = s->st.count;
        if (s->count && s->last_rec >= s->st.next_seq) {
            expected += s->last_rec - s->st.next_seq + 1;
        }
        expected_known = true;
    }
    present = s->count + s->n_bad;
    if (moved) {
        st = (struct jstate){0};
        st.lost = expected;
        if (info) {
            info->lost = expected;
            info->lost_known = expected_known;
        }
    } else {
        uint64_t lost = expected > present ? expected - present : 0;
        st.lost += lost;
        if (info) {
            info->lost = lost;
            info->lost_known = expected_known || !s->any_key;
        }
        if (!mk->present && !s->has_state && s->any_key) {
            /* no witness at all of how much there was: say so rather than claim zero */
            if (info) {
                info->lost_known = false;
            }
        }
    }
    /* never give a seq out twice: the highest of every witness */
    if (!moved && mk->next_seq > st.next_seq) {
        st.next_seq = mk->next_seq;
    }
    if (!moved && mk->acked > st.acked) {
        st.acked = mk->acked;
    }
    if (s->last_rec + 1 > st.next_seq) {
        st.next_seq = s->last_rec + 1;
    }
    if (st.acked + 1 > st.next_seq) {
        st.next_seq = st.acked + 1;
    }
    st.count = s->count;
    st.bytes = s->bytes;
    st.dead = s->dead + s->n_bad;
    st.dead_total += s->n_bad;
    if (info) {
        info->dead_lettered = s->n_bad;
    }

    leveldb_writebatch_clear(j->wb);
    if (s->junk) {
        leveldb_writebatch_append(j->wb, s->junk);
    }
    for (size_t i = 0; i < s->n_stale; i++) {
        uint8_t k[KEY_LEN];
        make_key(k, P_REC, s->stale[i]);
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
    }
    for (size_t i = 0; i < s->n_bad; i++) {
        uint8_t k[KEY_LEN], dk[KEY_LEN];
        size_t vl = 0;
        char *lerr = NULL;
        char *v;
        static const char reason[] = "undecodable";
        make_key(k, P_REC, s->bad[i]);
        v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            return ldb_fail(j, lerr, "reading a damaged record");
        }
        {
            const uint8_t *body;
            size_t bl;
            uint8_t *dv;
            dead_body((const uint8_t *)v, v ? vl : 0, &body, &bl);
            vl = bl;
            dv = malloc(DEAD_HDR + sizeof(reason) - 1 + vl + 1);
            if (!dv) {
                leveldb_free(v);
                return fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            }
            dv[0] = 1;
            put_be64(dv + 1, (uint64_t)now);
            dv[9] = 0;
            dv[10] = sizeof(reason) - 1;
            memcpy(dv + DEAD_HDR, reason, sizeof(reason) - 1);
            if (vl) {
                memcpy(dv + DEAD_HDR + sizeof(reason) - 1, body, vl);
            }
            make_key(dk, P_DEAD, s->bad[i]);
            leveldb_writebatch_put(j->wb, (const char *)dk, sizeof(dk), (const char *)dv,
                                   DEAD_HDR + sizeof(reason) - 1 + vl);
            free(dv);
        }
        leveldb_free(v);
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
    }
    leveldb_writebatch_put(j->wb, K_VERSION, sizeof(K_VERSION) - 1, (const char *)ver, 4);
    leveldb_writebatch_put(j->wb, K_AGENT, sizeof(K_AGENT) - 1, (const char *)j->agent_id,
                           STINT_AGENT_ID_LEN);
    j->st = st;
    put_state(j, &st);
    err = write_batch(j, true, "cannot write the journal state");
    if (err != STINT_OK) {
        return err;
    }
    j->private_mode = s->private_mode;
    j->oldest_ms = 0;
    j->oldest_valid = false; /* found on the first append that needs it */
    j->durable = st.next_seq - 1;
    j->read_hwm = st.acked;
    j->broken = false;
    return STINT_OK;
}

/* Opens the database at j->path and settles its state. */
static enum stint_err db_bring_up(struct stint_journal *j, struct stint_journal_open_info *info)
{
    struct scan s;
    struct mark mk;
    bool moved = false;
    enum stint_err err;

    memset(&s, 0, sizeof(s));
    mark_read(j->path, &mk);
    err = db_attach(j, info, &s, mk.acked, &moved);
    if (err == STINT_OK) {
        err = settle(j, &s, &mk, moved, info);
    }
    if (err == STINT_OK) {
        mark_remove(j->path);   /* from now on the state in LevelDB is the witness */
        release_table_pages(j); /* the scan touched every table */
    } else {
        db_close(j);
    }
    scan_free(&s);
    return err;
}

/* The next call after a failed write reopens LevelDB (see the design block). */
static void rc_drop(struct stint_journal *j)
{
    j->rc_valid = false;
    j->rc_head = j->rc_n = 0;
}

static void rc_push(struct stint_journal *j, uint64_t seq, size_t size)
{
    if (!j->rc_valid) {
        return;
    }
    if (j->rc_n == j->rc_cap) {
        size_t ncap = j->rc_cap ? j->rc_cap * 2 : 1024;
        uint64_t *a;
        uint32_t *b;
        if (ncap > RC_MAX) {
            rc_drop(j);
            return;
        }
        a = realloc(j->rc_seq, ncap * sizeof(*a));
        if (a) {
            j->rc_seq = a;
        }
        b = a ? realloc(j->rc_size, ncap * sizeof(*b)) : NULL;
        if (!a || !b) {
            rc_drop(j);
            return;
        }
        j->rc_size = b;
        j->rc_cap = ncap;
    }
    j->rc_seq[j->rc_n] = seq;
    j->rc_size[j->rc_n] = (uint32_t)size;
    j->rc_n++;
}

/* Hands the coalesced appends to LevelDB. On failure they stay pending (and counted): the
 * handle is marked broken and the next call reopens and tries again. */
static enum stint_err flush_pending(struct stint_journal *j)
{
    char *lerr = NULL;

    if (!j->pend_n) {
        return STINT_OK;
    }
    leveldb_write(j->db, j->wopt, j->pend, &lerr);
    if (lerr) {
        j->broken = true;
        return ldb_fail(j, lerr, "append failed");
    }
    leveldb_writebatch_clear(j->pend);
    j->pend_n = 0;
    j->pend_bytes = 0;
    return STINT_OK;
}

/* Every call that touches LevelDB starts here: reopen after a failed write, then hand over the
 * coalesced appends, so that what the call sees is everything appended. */
static enum stint_err ensure_db(struct stint_journal *j)
{
    struct stint_journal_open_info info;
    enum stint_err err;

    if (!j->broken && j->db) {
        return flush_pending(j);
    }
    memset(&info, 0, sizeof(info));
    rc_drop(j);
    pthread_rwlock_wrlock(&j->dblock);
    db_close(j);
    err = db_bring_up(j, &info);
    pthread_rwlock_unlock(&j->dblock);
    if (err == STINT_OK && j->pend_n) {
        /* the reopen counted what is on disk; the pending appends come on top */
        if (j->pend_last + 1 > j->st.next_seq) {
            j->st.next_seq = j->pend_last + 1;
        }
        j->st.count += j->pend_n;
        j->st.bytes += j->pend_bytes;
        err = flush_pending(j);
    }
    return err;
}

/* ---- dropping, gaps ---- */

/* Time of the head of the queue. for_age: the end of the first record that is not a gap (a gap
 * does not age away by itself; see drop_oldest), 0 when there is none close to the head;
 * else the start of the first record. One seek. */
static int64_t head_time(struct stint_journal *j, bool for_age)
{
    leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
    int64_t t = 0;
    int gaps = 0;

    for (seek_first_record(j, it); leveldb_iter_valid(it) && gaps < 16; leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        if (kl != KEY_LEN || k[0] != P_REC) {
            break;
        }
        if (!decode_stored(v, vl, get_be64(k + 1), &j->dec_rec)) {
            continue; /* a damaged value is found and moved by the next read */
        }
        if (!for_age) {
            t = j->dec_rec.start_ms;
            break;
        }
        if (j->dec_rec.kind == STINT_KIND_GAP) {
            gaps++;
            continue;
        }
        t = j->dec_rec.end_ms ? j->dec_rec.end_ms : j->dec_rec.start_ms;
        break;
    }
    leveldb_iter_destroy(it);
    return t;
}

static enum stint_err encode_into(struct stint_journal *j, const struct stint_record *r,
                                  uint64_t seq, size_t *off, size_t *len)
{
    stint_record_copy(&j->enc_rec, r);
    j->enc_rec.seq = seq;
    *off = j->enc.len;
    if (seal_record(&j->enc_rec, &j->enc) != STINT_OK) {
        return fail(j, STINT_EINVAL, "journal %s: record does not encode", j->path);
    }
    *len = j->enc.len - *off;
    return STINT_OK;
}

struct gapacc {
    uint64_t count; /* records the gap stands for */
    uint64_t last;  /* seq of the last record dropped: where the gap goes */
    int64_t start_ms, end_ms;
    uint64_t removed; /* stored entries deleted */
};

static void gap_merge(struct gapacc *g, const struct stint_record *r, uint64_t seq)
{
    uint64_t c = r->kind == STINT_KIND_GAP ? r->gap_count : 1;
    g->count += c;
    if (r->start_ms && (g->start_ms == 0 || r->start_ms < g->start_ms)) {
        g->start_ms = r->start_ms;
    }
    if (r->end_ms > g->end_ms) {
        g->end_ms = r->end_ms;
    }
    if (seq > g->last) {
        g->last = seq;
    }
}

/* Puts a gap record for g at seq g->last into the batch and accounts for it in *st. */
static enum stint_err put_gap(struct stint_journal *j, const struct gapacc *g, struct jstate *st)
{
    struct stint_record *r = &j->enc_rec;
    uint8_t k[KEY_LEN];
    size_t off, len;
    struct stint_buf tmp = {0};
    enum stint_err err;

    stint_record_clear(r);
    r->seq = g->last;
    r->kind = STINT_KIND_GAP;
    r->gap_count = g->count;
    r->start_ms = g->start_ms ? g->start_ms : 1;
    r->end_ms = g->end_ms >= r->start_ms ? g->end_ms : r->start_ms;
    err = seal_record(r, &tmp);
    if (err != STINT_OK) {
        stint_buf_free(&tmp);
        return fail(j, err, "journal %s: gap record does not encode", j->path);
    }
    off = 0;
    len = tmp.len;
    make_key(k, P_REC, g->last);
    leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k), (const char *)tmp.data + off, len);
    stint_buf_free(&tmp);
    st->bytes += KEY_LEN + len;
    st->count++;
    st->gaps++;
    return STINT_OK;
}

/* Drops from the head: while the store is over `target` bytes (with `need` more to come), or the
 * head record ended before `cutoff` (0: no age bound). A gap record met on the way is merged
 * into the new gap only when something after it is dropped too. */
static enum stint_err drop_oldest(struct stint_journal *j, struct jstate *st, uint64_t need,
                                  uint64_t target, int64_t cutoff)
{
    leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
    struct gapacc g = {0};
    char *lerr = NULL;
    bool pending = false;
    uint64_t pend_seq = 0, pend_size = 0;
    struct stint_record pend; /* the held gap: small, so the copy is cheap */
    enum stint_err err = STINT_OK;

    for (seek_first_record(j, it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        uint64_t seq;
        bool ok, drop;
        if (kl != KEY_LEN || k[0] != P_REC) {
            break;
        }
        seq = get_be64(k + 1);
        ok = decode_stored(v, vl, seq, &j->dec_rec);
        if (ok && j->dec_rec.kind == STINT_KIND_GAP) {
            if (pending) { /* two gaps in a row: the first is merged */
                uint8_t pk[KEY_LEN];
                make_key(pk, P_REC, pend_seq);
                leveldb_writebatch_delete(j->wb, (const char *)pk, sizeof(pk));
                gap_merge(&g, &pend, pend_seq);
                st->bytes -= pend_size;
                st->count--;
                g.removed++;
            }
            stint_record_clear(&pend);
            pend.kind = j->dec_rec.kind;
            pend.gap_count = j->dec_rec.gap_count;
            pend.start_ms = j->dec_rec.start_ms;
            pend.end_ms = j->dec_rec.end_ms;
            pending = true;
            pend_seq = seq;
            pend_size = kl + vl;
            continue;
        }
        drop = st->bytes + need > target;
        if (!drop && cutoff && ok) {
            int64_t t = j->dec_rec.end_ms ? j->dec_rec.end_ms : j->dec_rec.start_ms;
            drop = t < cutoff;
        }
        if (!drop) {
            break;
        }
        if (pending) {
            uint8_t pk[KEY_LEN];
            make_key(pk, P_REC, pend_seq);
            leveldb_writebatch_delete(j->wb, (const char *)pk, sizeof(pk));
            gap_merge(&g, &pend, pend_seq);
            st->bytes -= pend_size;
            st->count--;
            g.removed++;
            pending = false;
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, kl);
        if (ok) {
            gap_merge(&g, &j->dec_rec, seq);
        } else {
            g.count++; /* a value that does not decode is dropped like any other */
            g.last = seq;
        }
        st->bytes -= kl + vl;
        st->count--;
        st->dropped++;
        g.removed++;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "reading the oldest records");
        goto cleanup;
    }
    if (g.removed) {
        err = put_gap(j, &g, st);
        j->oldest_valid = false;
        rc_drop(j);
    }
cleanup:
    leveldb_iter_destroy(it);
    return err;
}

/* DROP_NEWEST: the n records are not stored; one gap at the tail says so. The tail gap is
 * updated in place while the sender has not read it, else a new gap takes the next seq. */
static enum stint_err drop_newest(struct stint_journal *j, struct jstate *st,
                                  const struct stint_record *records, size_t n)
{
    struct gapacc g = {0};
    uint64_t tail = st->next_seq - 1;

    for (size_t i = 0; i < n; i++) {
        gap_merge(&g, &records[i], 0);
        g.count = g.count - (records[i].kind == STINT_KIND_GAP ? records[i].gap_count : 1) + 1;
    }
    st->dropped += n;
    if (tail > st->acked && tail > j->read_hwm) {
        uint8_t k[KEY_LEN];
        size_t vl = 0;
        char *lerr = NULL;
        char *v;
        make_key(k, P_REC, tail);
        v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            j->broken = true;
            return ldb_fail(j, lerr, "reading the newest record");
        }
        if (v && decode_stored((const uint8_t *)v, vl, tail, &j->dec_rec) &&
            j->dec_rec.kind == STINT_KIND_GAP) {
            gap_merge(&g, &j->dec_rec, tail);
            st->bytes -= KEY_LEN + vl;
            st->count--;
            st->gaps--; /* put_gap counts it again */
            leveldb_free(v);
            return put_gap(j, &g, st);
        }
        leveldb_free(v);
    }
    g.last = st->next_seq++;
    return put_gap(j, &g, st);
}

/* ---- public API ---- */

/* LevelDB's C destructors do not all accept NULL (leveldb_cache_destroy does not). */
static void free_ldb_objects(struct stint_journal *j)
{
    if (j->wb) {
        leveldb_writebatch_destroy(j->wb);
    }
    if (j->pend) {
        leveldb_writebatch_destroy(j->pend);
    }
    if (j->wopt) {
        leveldb_writeoptions_destroy(j->wopt);
    }
    if (j->wsync) {
        leveldb_writeoptions_destroy(j->wsync);
    }
    if (j->ropt) {
        leveldb_readoptions_destroy(j->ropt);
    }
    if (j->rscan) {
        leveldb_readoptions_destroy(j->rscan);
    }
    if (j->lopt) {
        leveldb_options_destroy(j->lopt);
    }
    if (j->cache) {
        leveldb_cache_destroy(j->cache);
    }
}

static void *maint_main(void *arg);

enum stint_err stint_journal_open(const struct stint_journal_opts *opts, struct stint_journal **out,
                                  struct stint_journal_open_info *info, struct stint_error *e)
{
    struct stint_journal *j = NULL;
    enum stint_err err = STINT_OK;
    struct stint_journal_open_info scratch;
    bool mu_ok = false, cv_ok = false, rw_ok = false;
    struct stat st;

    *out = NULL;
    if (!info) {
        info = &scratch;
    }
    memset(info, 0, sizeof(*info));
    if (!opts || !opts->path || !*opts->path || opts->sync > STINT_SYNC_NONE ||
        opts->full > STINT_FULL_DROP_NEWEST ||
        (opts->max_bytes && opts->max_bytes < STINT_JOURNAL_MIN_MAX_BYTES)) {
        return stint_error_set(e, STINT_EINVAL, 0, "journal: invalid options");
    }
    j = calloc(1, sizeof(*j));
    if (!j || !(j->path = strdup(opts->path))) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "journal: out of memory");
        goto cleanup;
    }
    j->lock.fd = -1;
    j->o = *opts;
    j->o.path = j->path;
    if (!j->o.sync_interval_ms) {
        j->o.sync_interval_ms = STINT_JOURNAL_DEFAULT_INTERVAL_MS;
    }
    if (!j->o.max_bytes) {
        j->o.max_bytes = STINT_JOURNAL_DEFAULT_MAX_BYTES;
    }
    if (!j->o.max_age_ms) {
        j->o.max_age_ms = STINT_JOURNAL_DEFAULT_MAX_AGE_MS;
    }
    if (!j->o.max_dead) {
        j->o.max_dead = STINT_JOURNAL_DEFAULT_MAX_DEAD;
    }
    if (!j->o.cache_bytes) {
        j->o.cache_bytes = (size_t)1 << 20;
    }
    if (!j->o.max_open_files) {
        j->o.max_open_files = 64;
    }
    j->enc.max = (size_t)64 << 20;
    mu_ok = pthread_mutex_init(&j->mu, NULL) == 0;
    cv_ok = mu_ok && pthread_cond_init(&j->cv, NULL) == 0;
    rw_ok = cv_ok && pthread_rwlock_init(&j->dblock, NULL) == 0;
    if (!rw_ok) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "journal: cannot make locks");
        goto cleanup;
    }
    if (mkdir(j->path, 0700) != 0 && errno != EEXIST) {
        err = stint_error_set(e, STINT_EIO, 0, "journal %s: cannot create: %s", j->path,
                              strerror(errno));
        goto cleanup;
    }
    if (stat(j->path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        err = stint_error_set(e, STINT_EIO, 0, "journal %s: not a folder", j->path);
        goto cleanup;
    }
    j->abspath = realpath(j->path, NULL); /* NULL only costs the RSS trimming */
    err = stint_journal_lock_take(j->path, &j->lock, j->errmsg, sizeof(j->errmsg));
    if (err != STINT_OK) {
        stint_error_set(e, err, 0, "%s", j->errmsg);
        goto cleanup;
    }
    j->cache = leveldb_cache_create_lru(j->o.cache_bytes);
    j->lopt = leveldb_options_create();
    leveldb_options_set_create_if_missing(j->lopt, 1);
    leveldb_options_set_paranoid_checks(j->lopt, 1);
    leveldb_options_set_cache(j->lopt, j->cache);
    leveldb_options_set_max_open_files(j->lopt, j->o.max_open_files);
    /* 1 MiB memtables (LevelDB's default is 4): a memtable and the one being flushed are most of
     * the journal's anonymous memory, and the agent's write rate is small */
    leveldb_options_set_write_buffer_size(j->lopt, (size_t)1 << 20);
    j->ropt = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(j->ropt, 1);
    j->rscan = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(j->rscan, 1);
    leveldb_readoptions_set_fill_cache(j->rscan, 0);
    j->wopt = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(j->wopt, j->o.sync == STINT_SYNC_ALWAYS);
    j->wsync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(j->wsync, 1);
    j->wb = leveldb_writebatch_create();
    if (j->o.sync == STINT_SYNC_INTERVAL) {
        j->pend = leveldb_writebatch_create();
    }

    err = db_bring_up(j, info);
    if (err != STINT_OK) {
        stint_error_set(e, err, 0, "%s", j->errmsg);
        goto cleanup;
    }
    {
        /* a left-over open record is closed at its last checkpoint time */
        size_t vl = 0;
        char *lerr = NULL;
        char *v = leveldb_get(j->db, j->ropt, K_CHECKPOINT, 1, &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            err = ldb_fail(j, lerr, "reading the checkpoint");
            stint_error_set(e, err, 0, "%s", j->errmsg);
            goto cleanup;
        }
        if (v) {
            struct stint_record *r = malloc(sizeof(*r));
            struct stint_journal_append_opts ao = {.clear_checkpoint = true};
            const uint8_t *body = NULL;
            size_t bl = 0;
            bool ok = r && unseal((const uint8_t *)v, vl, &body, &bl) && bl >= 8 &&
                      stint_pb_decode_record(body + 8, bl - 8, r, NULL, NULL) == STINT_OK;
            if (ok) {
                int64_t t = (int64_t)get_be64(body);
                r->end_ms = t > r->start_ms ? t : r->start_ms;
                err = stint_journal_append(j, r, 1, &ao, &info->checkpoint_seq);
                info->checkpoint_restored = err == STINT_OK;
            } else {
                /* not a record any more: count it lost rather than crash-loop on it */
                j->st.lost++;
                info->lost++;
                err = stint_journal_append(j, NULL, 0, &ao, NULL);
            }
            free(r);
            leveldb_free(v);
            if (err != STINT_OK) {
                stint_error_set(e, err, 0, "%s", j->errmsg);
                goto cleanup;
            }
        }
    }
    if (pthread_create(&j->thread, NULL, maint_main, j) != 0) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "journal: cannot start its thread");
        goto cleanup;
    }
    j->thread_started = true;
    *out = j;
    j = NULL;
cleanup:
    if (j) {
        db_close(j);
        free_ldb_objects(j);
        stint_journal_lock_release(&j->lock);
        if (rw_ok) {
            pthread_rwlock_destroy(&j->dblock);
        }
        if (cv_ok) {
            pthread_cond_destroy(&j->cv);
        }
        if (mu_ok) {
            pthread_mutex_destroy(&j->mu);
        }
        free(j->abspath);
        free(j->path);
        free(j);
    }
    return err;
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

void stint_journal_close(struct stint_journal *j)
{
    if (!j) {
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (j->thread_started) {
        pthread_join(j->thread, NULL);
    }
    if (j->pend_n) {
        (void)ensure_db(j); /* hand over the coalesced appends (reopening if need be) */
    }
    if (j->db && !j->broken) {
        /* the exact state and one fsync, then the mark that vouches for them */
        leveldb_writebatch_clear(j->wb);
        put_state(j, &j->st);
        if (write_batch(j, true, "close: sync failed") == STINT_OK) {
            mark_write(j);
        }
    }
    db_close(j);
    free_ldb_objects(j);
    stint_journal_lock_release(&j->lock);
    pthread_rwlock_destroy(&j->dblock);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    stint_buf_free(&j->enc);
    free(j->offs);
    free(j->rc_seq);
    free(j->rc_size);
    free(j->abspath);
    free(j->path);
    free(j);
}

void stint_journal_last_error(struct stint_journal *j, char *buf, size_t cap)
{
    if (!cap) {
        return;
    }
    pthread_mutex_lock(&j->mu);
    snprintf(buf, cap, "%s", j->errmsg);
    pthread_mutex_unlock(&j->mu);
}

static enum stint_err append_locked(struct stint_journal *j, const struct stint_record *records,
                                    size_t n, const struct stint_journal_append_opts *ao,
                                    uint64_t *first_seq)
{
    struct jstate st;
    uint64_t need = 0;
    int64_t now;
    bool newest_dropped = false, was_synced, coalesce;
    enum stint_err err;
    char ukey[sizeof(K_USER) + STINT_JOURNAL_META_KEY_MAX];

    if (first_seq) {
        *first_seq = 0;
    }
    if ((n && !records) ||
        (ao && ao->meta_key &&
         (!meta_key_ok(ao->meta_key) || ao->meta_len > STINT_JOURNAL_META_VAL_MAX))) {
        return fail(j, STINT_EINVAL, "journal %s: append: invalid argument", j->path);
    }
    coalesce = j->pend && n && !(ao && (ao->meta_key || ao->clear_checkpoint));
    err = coalesce && !j->broken && j->db ? STINT_OK : ensure_db(j);
    if (err != STINT_OK) {
        return err;
    }
    if (n + 1 > j->offs_cap) {
        size_t *p = realloc(j->offs, (n + 1) * sizeof(*p));
        if (!p) {
            return fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
        }
        j->offs = p;
        j->offs_cap = n + 1;
    }
    st = j->st;
    stint_buf_reset(&j->enc);
    for (size_t i = 0; i < n; i++) {
        size_t off = 0, len = 0;
        err = encode_into(j, &records[i], st.next_seq + i, &off, &len);
        if (err != STINT_OK) {
            return err;
        }
        j->offs[i] = off;
        need += KEY_LEN + len;
    }
    j->offs[n] = j->enc.len;
    leveldb_writebatch_clear(j->wb);
    now = wall_ms(j);
    if (coalesce &&
        (st.bytes + need > j->o.max_bytes || !j->oldest_valid ||
         (j->o.max_age_ms > 0 && j->oldest_ms && j->oldest_ms < now - j->o.max_age_ms))) {
        coalesce = false; /* a bound may drop records: that works on what LevelDB holds */
        err = flush_pending(j);
        if (err != STINT_OK) {
            return err;
        }
    }
    if (coalesce) {
        for (size_t i = 0; i < n; i++) {
            uint8_t k[KEY_LEN];
            make_key(k, P_REC, st.next_seq + i);
            leveldb_writebatch_put(j->pend, (const char *)k, sizeof(k),
                                   (const char *)j->enc.data + j->offs[i],
                                   j->offs[i + 1] - j->offs[i]);
        }
        if (first_seq) {
            *first_seq = st.next_seq;
        }
        if (!j->pend_n) {
            j->pend_since_mono = mono_ms();
            pthread_cond_broadcast(&j->cv); /* the thread hands them over if nothing follows */
        }
        j->pend_n += n;
        j->pend_bytes += need;
        j->pend_last = st.next_seq + n - 1;
        j->st.next_seq += n;
        j->st.count += n;
        j->st.bytes += need;
        if (j->oldest_ms == 0) {
            j->oldest_ms = records[0].end_ms ? records[0].end_ms : now;
        }
        if (j->pend_n >= PEND_MAX || mono_ms() - j->pend_since_mono >= PEND_MS) {
            /* these records are accepted either way: on failure they stay pending, the handle
             * reopens on the next call, and that call reports the disk's error */
            (void)flush_pending(j);
        }
        return STINT_OK;
    }
    if (n && j->o.max_age_ms > 0) {
        if (!j->oldest_valid) {
            j->oldest_ms = head_time(j, true); /* found again lazily after acks and drops */
            j->oldest_valid = true;
        }
        if (j->oldest_ms && j->oldest_ms < now - j->o.max_age_ms) {
            err = drop_oldest(j, &st, 0, UINT64_MAX, now - j->o.max_age_ms);
            if (err != STINT_OK) {
                return err;
            }
        }
    }
    if (n && st.bytes + need > j->o.max_bytes) {
        if (j->o.full == STINT_FULL_DROP_OLDEST) {
            err = drop_oldest(j, &st, need, j->o.max_bytes - j->o.max_bytes / 64, 0);
        } else {
            err = drop_newest(j, &st, records, n);
            newest_dropped = true;
        }
        if (err != STINT_OK) {
            return err;
        }
    }
    if (!newest_dropped) {
        for (size_t i = 0; i < n; i++) {
            uint8_t k[KEY_LEN];
            make_key(k, P_REC, st.next_seq + i);
            leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k),
                                   (const char *)j->enc.data + j->offs[i],
                                   j->offs[i + 1] - j->offs[i]);
        }
        if (n && first_seq) {
            *first_seq = st.next_seq;
        }
        st.next_seq += n;
        st.count += n;
        st.bytes += need;
    }
    if (ao && ao->meta_key) {
        size_t kl = user_key(ukey, ao->meta_key);
        if (ao->meta_val) {
            leveldb_writebatch_put(j->wb, ukey, kl, ao->meta_val, ao->meta_len);
        } else {
            leveldb_writebatch_delete(j->wb, ukey, kl);
        }
    }
    if (ao && ao->clear_checkpoint) {
        leveldb_writebatch_delete(j->wb, K_CHECKPOINT, 1);
    }
    if (st.dropped != j->st.dropped || st.gaps != j->st.gaps || st.lost != j->st.lost) {
        /* a plain append leaves "mstate" alone (half the bytes per append): next seq, count and
         * bytes are recounted on open; anything else that changes is written with it */
        put_state(j, &st);
    }
    {
        struct jstate before = j->st;
        was_synced = j->durable == before.next_seq - 1;
        j->st = st; /* write_batch reads next_seq for durable_seq */
        err = write_batch(j, false, "append failed");
        if (err != STINT_OK) {
            j->st = before;
            if (first_seq) {
                *first_seq = 0;
            }
            return err;
        }
    }
    if (n && !newest_dropped && j->oldest_valid && j->oldest_ms == 0) {
        j->oldest_ms = records[0].end_ms ? records[0].end_ms : now;
    }
    if (was_synced && j->o.sync == STINT_SYNC_INTERVAL) {
        pthread_cond_broadcast(&j->cv); /* the thread sleeps without a timeout when all is synced */
    }
    /* LevelDB's compactions read what is appended, several times over, through the same table
     * mmaps: without this a backlog ingested offline keeps its tables in the RSS (30 of 39 MiB
     * at a million records). A compaction reads faster than appends come: so also by time. */
    j->touched_bytes += need;
    if (j->touched_bytes >= RELEASE_BYTES || mono_ms() - j->released_ms >= RELEASE_MS) {
        release_table_pages(j);
    }
    return STINT_OK;
}

enum stint_err stint_journal_append(struct stint_journal *j, const struct stint_record *records,
                                    size_t n, const struct stint_journal_append_opts *ao,
                                    uint64_t *first_seq)
{
    enum stint_err err;
    pthread_mutex_lock(&j->mu);
    err = append_locked(j, records, n, ao, first_seq);
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_checkpoint(struct stint_journal *j, const struct stint_record *open)
{
    enum stint_err err;
    uint8_t t[8];

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    leveldb_writebatch_clear(j->wb);
    if (open) {
        /* CRC, be64 checkpoint time, then the record (seq 0): the CRC covers time and record */
        static const uint8_t zero[CRC_LEN] = {0};
        stint_buf_reset(&j->enc);
        stint_record_copy(&j->enc_rec, open);
        j->enc_rec.seq = 0;
        j->enc_rec.end_ms = 0;
        put_be64(t, (uint64_t)wall_ms(j));
        if (stint_buf_append(&j->enc, zero, CRC_LEN) != STINT_OK ||
            stint_buf_append(&j->enc, t, sizeof(t)) != STINT_OK ||
            stint_pb_encode_record(&j->enc_rec, &j->enc) != STINT_OK) {
            err = fail(j, STINT_EINVAL, "journal %s: checkpoint does not encode", j->path);
            goto cleanup;
        }
        put_be32(j->enc.data, crc_of(j->enc.data + CRC_LEN, j->enc.len - CRC_LEN));
        leveldb_writebatch_put(j->wb, K_CHECKPOINT, 1, (const char *)j->enc.data, j->enc.len);
    } else {
        leveldb_writebatch_delete(j->wb, K_CHECKPOINT, 1);
    }
    err = write_batch(j, false, "checkpoint failed");
cleanup:
    pthread_mutex_unlock(&j->mu);
    return err;
}

/* Moves the listed records (ascending seqs) to the dead letters; one batch, counted in *st. */
static enum stint_err dead_move(struct stint_journal *j, const uint64_t *seqs, size_t n,
                                const char *reason, struct jstate *st)
{
    size_t rl = reason ? strlen(reason) : 0;
    int64_t now = wall_ms(j);
    uint64_t over;
    struct stint_buf dv = {0};
    enum stint_err err = STINT_OK;
    size_t skip = 0;

    if (rl > STINT_REASON_MAX) {
        rl = STINT_REASON_MAX;
    }
    over = st->dead + n > j->o.max_dead ? st->dead + n - j->o.max_dead : 0;
    if (over) {
        /* the dead-letter space is bounded: the oldest dead letters go first */
        leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
        const char pfx = P_DEAD;
        for (leveldb_iter_seek(it, &pfx, 1); over && leveldb_iter_valid(it);
             leveldb_iter_next(it)) {
            size_t kl;
            const char *k = leveldb_iter_key(it, &kl);
            if (kl != KEY_LEN || k[0] != P_DEAD) {
                break;
            }
            leveldb_writebatch_delete(j->wb, k, kl);
            st->dead--;
            st->dead_dropped++;
            over--;
        }
        leveldb_iter_destroy(it);
        skip = over < n ? (size_t)over : n; /* still over: the lowest of the new ones go too */
        st->dead_dropped += skip;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t k[KEY_LEN], hdr[DEAD_HDR];
        const uint8_t *body;
        size_t vl = 0, bl;
        char *lerr = NULL;
        char *v;
        make_key(k, P_REC, seqs[i]);
        v = leveldb_get(j->db, j->ropt, (const char *)k, sizeof(k), &vl, &lerr);
        if (lerr) {
            leveldb_free(v);
            err = ldb_fail(j, lerr, "reading a record to dead-letter");
            goto cleanup;
        }
        if (!v) {
            continue;
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
        st->count--;
        st->bytes -= KEY_LEN + vl;
        st->dead_total++;
        if (i < skip) {
            leveldb_free(v);
            continue;
        }
        dead_body((const uint8_t *)v, vl, &body, &bl);
        hdr[0] = 1;
        put_be64(hdr + 1, (uint64_t)now);
        hdr[9] = (uint8_t)(rl >> 8);
        hdr[10] = (uint8_t)rl;
        stint_buf_reset(&dv);
        if (stint_buf_append(&dv, hdr, sizeof(hdr)) != STINT_OK ||
            stint_buf_append(&dv, reason, rl) != STINT_OK ||
            stint_buf_append(&dv, body, bl) != STINT_OK) {
            leveldb_free(v);
            err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            goto cleanup;
        }
        leveldb_free(v);
        make_key(k, P_DEAD, seqs[i]);
        leveldb_writebatch_put(j->wb, (const char *)k, sizeof(k), (const char *)dv.data, dv.len);
        st->dead++;
    }
cleanup:
    stint_buf_free(&dv);
    return err;
}

struct seqlist {
    uint64_t *v;
    size_t n, cap;
};

static bool seqlist_add(struct seqlist *l, uint64_t seq)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        uint64_t *p = realloc(l->v, ncap * sizeof(*p));
        if (!p) {
            return false;
        }
        l->v = p;
        l->cap = ncap;
    }
    l->v[l->n++] = seq;
    return true;
}

/* Commits a dead-letter move of `bad` with the state, in one batch. */
static enum stint_err dead_commit(struct stint_journal *j, const struct seqlist *bad,
                                  const char *reason)
{
    struct jstate st = j->st;
    enum stint_err err;

    leveldb_writebatch_clear(j->wb);
    err = dead_move(j, bad->v, bad->n, reason, &st);
    if (err != STINT_OK) {
        return err;
    }
    put_state(j, &st);
    err = write_batch(j, false, "moving records to the dead letters failed");
    if (err == STINT_OK) {
        j->st = st;
        j->oldest_valid = false;
    }
    return err;
}

enum stint_err stint_journal_read(struct stint_journal *j, uint64_t from, size_t max_records,
                                  size_t max_bytes, unsigned flags, stint_journal_entry_fn fn,
                                  void *ctx, uint64_t *next_from, size_t *n_read)
{
    leveldb_iterator_t *it = NULL;
    struct seqlist bad = {0};
    enum stint_err err = STINT_OK;
    size_t n = 0, bytes = 0;
    uint64_t last = 0;
    char *lerr = NULL;
    uint8_t k0[KEY_LEN];

    if (n_read) {
        *n_read = 0;
    }
    pthread_mutex_lock(&j->mu);
    if (!fn) {
        err = fail(j, STINT_EINVAL, "journal %s: read: no callback", j->path);
        goto cleanup;
    }
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    if (from <= j->st.acked) {
        from = j->st.acked + 1;
    }
    if (from == j->st.acked + 1) {
        rc_drop(j); /* a read from the acked point starts the cache afresh */
        j->rc_valid = true;
        j->rc_base = j->st.acked;
    } else if (!(j->rc_valid && j->rc_base == j->st.acked &&
                 from == (j->rc_n > j->rc_head ? j->rc_seq[j->rc_n - 1] + 1 : from - 1))) {
        rc_drop(j); /* not a continuation of what the cache covers */
    }
    last = from - 1;
    make_key(k0, P_REC, from);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0));
         n < max_records && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        struct stint_journal_entry e;
        uint64_t seq;
        if (kl == 0 || k[0] != P_REC) {
            break;
        }
        if (kl != KEY_LEN) {
            continue; /* damage made after open (settle deletes those it finds): not a record */
        }
        seq = get_be64(k + 1);
        if (n > 0 && bytes + vl > max_bytes) {
            break;
        }
        e.seq = seq;
        e.record = NULL;
        if ((flags & STINT_JOURNAL_RAW) ? !unseal(v, vl, &e.raw, &e.raw_len)
                                        : !decode_stored(v, vl, seq, &j->dec_rec)) {
            if (!seqlist_add(&bad, seq)) {
                err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
                goto cleanup;
            }
            continue;
        }
        if (!(flags & STINT_JOURNAL_RAW)) {
            e.raw = v + CRC_LEN;
            e.raw_len = vl - CRC_LEN;
            e.record = &j->dec_rec;
        }
        err = fn(ctx, &e);
        if (err != STINT_OK) {
            goto cleanup;
        }
        rc_push(j, seq, vl);
        n++;
        bytes += vl;
        j->touched_bytes += vl;
        last = seq;
        if (seq > j->read_hwm) {
            j->read_hwm = seq;
        }
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        /* damage found while running: the next call reopens, which repairs */
        j->broken = true;
        err = ldb_fail(j, lerr, "read failed (the journal will be repaired)");
        goto cleanup;
    }
    if (next_from) {
        *next_from = last + 1;
    }
    if (j->touched_bytes >= RELEASE_BYTES) {
        release_table_pages(j);
    }
    if (n_read) {
        *n_read = n;
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    if (bad.n && j->db && !j->broken) {
        enum stint_err e2 = dead_commit(j, &bad, "undecodable");
        if (err == STINT_OK) {
            err = e2;
        }
    }
    free(bad.v);
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_ack(struct stint_journal *j, uint64_t seq)
{
    enum stint_err err = STINT_OK;
    uint64_t freed = 0;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    if (seq <= j->st.acked) {
        goto cleanup;
    }
    if (seq >= j->st.next_seq) {
        err = fail(j, STINT_EINVAL,
                   "journal %s: ack of seq %" PRIu64 " but the last seq given out is %" PRIu64,
                   j->path, seq, j->st.next_seq - 1);
        goto cleanup;
    }
    if (j->rc_valid && j->rc_base == j->st.acked && j->rc_n > j->rc_head &&
        seq <= j->rc_seq[j->rc_n - 1]) {
        /* everything stored up to seq was handed out by reads: delete by key */
        struct jstate st = j->st;
        size_t i = j->rc_head;
        leveldb_writebatch_clear(j->wb);
        for (; i < j->rc_n && j->rc_seq[i] <= seq; i++) {
            uint8_t k[KEY_LEN];
            make_key(k, P_REC, j->rc_seq[i]);
            leveldb_writebatch_delete(j->wb, (const char *)k, sizeof(k));
            st.count--;
            st.bytes -= KEY_LEN + j->rc_size[i];
            freed += KEY_LEN + j->rc_size[i];
        }
        st.acked = seq;
        put_state(j, &st);
        err = write_batch(j, false, "ack failed");
        if (err != STINT_OK) {
            rc_drop(j);
            goto cleanup;
        }
        j->st = st;
        j->rc_head = i;
        j->rc_base = seq;
        if (j->rc_head == j->rc_n) {
            j->rc_head = j->rc_n = 0;
        }
        goto acked;
    }
    rc_drop(j);
    for (;;) {
        /* chunks keep each WriteBatch small on a large ack; each chunk is a consistent state */
        leveldb_iterator_t *it = leveldb_create_iterator(j->db, j->ropt);
        struct jstate st = j->st;
        char *lerr = NULL;
        size_t n = 0;
        uint64_t chunk_freed = 0;
        bool more = false;
        leveldb_writebatch_clear(j->wb);
        for (seek_first_record(j, it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
            size_t kl, vl;
            const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
            uint64_t s;
            if (kl != KEY_LEN || k[0] != P_REC || (s = get_be64(k + 1)) > seq) {
                break;
            }
            if (n == ACK_CHUNK) {
                more = true;
                break;
            }
            (void)leveldb_iter_value(it, &vl);
            leveldb_writebatch_delete(j->wb, (const char *)k, kl);
            st.count--;
            st.bytes -= kl + vl;
            chunk_freed += kl + vl;
            st.acked = s;
            n++;
        }
        leveldb_iter_get_error(it, &lerr);
        leveldb_iter_destroy(it);
        if (lerr) {
            j->broken = true;
            err = ldb_fail(j, lerr, "ack failed");
            goto cleanup;
        }
        if (!more) {
            st.acked = seq;
        }
        put_state(j, &st);
        err = write_batch(j, false, "ack failed");
        if (err != STINT_OK) {
            goto cleanup;
        }
        j->st = st;
        freed += chunk_freed;
        if (!more) {
            break;
        }
    }
acked:
    j->oldest_valid = false;
    j->acked_bytes_since += freed;
    j->touched_bytes += freed;
    if (j->touched_bytes >= RELEASE_BYTES) {
        release_table_pages(j);
    }
    if (j->acked_bytes_since >= COMPACT_BYTES ||
        (j->st.count == 0 && j->acked_bytes_since >= COMPACT_EMPTY_BYTES)) {
        j->compact_wanted = true;
        j->compact_upto = j->st.acked;
        j->acked_bytes_since = 0;
        pthread_cond_broadcast(&j->cv);
    }
cleanup:
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_dead_letter(struct stint_journal *j, uint64_t first, uint64_t last,
                                         const char *reason)
{
    struct seqlist l = {0};
    enum stint_err err = STINT_OK;
    leveldb_iterator_t *it = NULL;
    uint8_t k0[KEY_LEN];
    char *lerr = NULL;

    pthread_mutex_lock(&j->mu);
    if (first > last || first == 0) {
        err = fail(j, STINT_EINVAL, "journal %s: dead_letter: bad range", j->path);
        goto cleanup;
    }
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    make_key(k0, P_REC, first);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0)); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t kl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        if (kl != KEY_LEN || k[0] != P_REC || get_be64(k + 1) > last) {
            break;
        }
        if (!seqlist_add(&l, get_be64(k + 1))) {
            err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            goto cleanup;
        }
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "dead_letter failed");
        goto cleanup;
    }
    if (l.n) {
        rc_drop(j);
        err = dead_commit(j, &l, reason ? reason : "");
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    free(l.v);
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_dead_list(struct stint_journal *j, uint64_t from, size_t max,
                                       stint_journal_dead_fn fn, void *ctx)
{
    leveldb_iterator_t *it = NULL;
    enum stint_err err = STINT_OK;
    uint8_t k0[KEY_LEN];
    char *lerr = NULL;
    size_t n = 0;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK || !fn) {
        err = err ? err : fail(j, STINT_EINVAL, "journal %s: no callback", j->path);
        goto cleanup;
    }
    make_key(k0, P_DEAD, from);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0));
         (max == 0 || n < max) && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        const uint8_t *v = (const uint8_t *)leveldb_iter_value(it, &vl);
        struct stint_journal_dead d;
        size_t rl;
        if (kl != KEY_LEN || k[0] != P_DEAD) {
            break;
        }
        memset(&d, 0, sizeof(d));
        d.seq = get_be64(k + 1);
        if (vl >= DEAD_HDR && v[0] == 1 && (rl = ((size_t)v[9] << 8) | v[10]) <= vl - DEAD_HDR) {
            d.moved_ms = (int64_t)get_be64(v + 1);
            d.reason = (const char *)v + DEAD_HDR;
            d.reason_len = rl;
            d.raw = v + DEAD_HDR + rl;
            d.raw_len = vl - DEAD_HDR - rl;
        } else {
            d.reason = "damaged dead letter";
            d.reason_len = strlen(d.reason);
            d.raw = v;
            d.raw_len = vl;
        }
        err = fn(ctx, &d);
        if (err != STINT_OK) {
            goto cleanup;
        }
        n++;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "listing dead letters failed");
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_dead_delete(struct stint_journal *j, uint64_t first, uint64_t last)
{
    leveldb_iterator_t *it = NULL;
    enum stint_err err = STINT_OK;
    uint8_t k0[KEY_LEN];
    char *lerr = NULL;
    struct jstate st;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    st = j->st;
    leveldb_writebatch_clear(j->wb);
    make_key(k0, P_DEAD, first);
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, (const char *)k0, sizeof(k0)); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t kl;
        const uint8_t *k = (const uint8_t *)leveldb_iter_key(it, &kl);
        if (kl != KEY_LEN || k[0] != P_DEAD || get_be64(k + 1) > last) {
            break;
        }
        leveldb_writebatch_delete(j->wb, (const char *)k, kl);
        st.dead--;
    }
    leveldb_iter_get_error(it, &lerr);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "deleting dead letters failed");
        goto cleanup;
    }
    put_state(j, &st);
    err = write_batch(j, false, "deleting dead letters failed");
    if (err == STINT_OK) {
        j->st = st;
    }
cleanup:
    if (it) {
        leveldb_iter_destroy(it);
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}

/* Overwrites every regular file of the folder except our lock with zeros and syncs it, so that
 * nothing of the records is left in the blocks once LevelDB removes the files. */
static enum stint_err zero_files(struct stint_journal *j)
{
    static const char zeros[65536];
    enum stint_err err = STINT_OK;
    DIR *d = opendir(j->path);
    struct dirent *de;

    if (!d) {
        return fail(j, STINT_EIO, "journal %s: purge: %s", j->path, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        char file[4200];
        struct stat st;
        int fd;
        if (strcmp(de->d_name, STINT_JOURNAL_LOCK_FILE) == 0 ||
            path_join(file, sizeof(file), j->path, de->d_name) != 0 || lstat(file, &st) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            err = fail(j, STINT_EIO, "journal %s: purge: %s: %s", j->path, de->d_name,
                       strerror(errno));
            continue;
        }
        for (off_t off = 0; off < st.st_size;) {
            size_t chunk = (size_t)(st.st_size - off) < sizeof(zeros) ? (size_t)(st.st_size - off)
                                                                      : sizeof(zeros);
            ssize_t w = pwrite(fd, zeros, chunk, off);
            if (w <= 0) {
                err = fail(j, STINT_EIO, "journal %s: purge: %s: %s", j->path, de->d_name,
                           strerror(errno));
                break;
            }
            off += w;
        }
        if (fdatasync(fd) != 0) {
            err = fail(j, STINT_EIO, "journal %s: purge: %s: %s", j->path, de->d_name,
                       strerror(errno));
        }
        close(fd);
    }
    closedir(d);
    return err;
}

/* One meta entry kept across a purge. */
struct kv {
    char *k, *v;
    size_t kl, vl;
};

enum stint_err stint_journal_purge(struct stint_journal *j)
{
    struct kv *keep = NULL;
    size_t n_keep = 0, cap_keep = 0;
    enum stint_err err = STINT_OK;
    leveldb_iterator_t *it;
    struct jstate st;
    char *lerr = NULL;
    const char pfx = 'm';

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    /* keep the meta space (agent_id, private mode, other modules' keys); state is rewritten */
    it = leveldb_create_iterator(j->db, j->ropt);
    for (leveldb_iter_seek(it, &pfx, 1); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *k = leveldb_iter_key(it, &kl);
        const char *v = leveldb_iter_value(it, &vl);
        if (kl < 1 || k[0] != 'm') {
            break;
        }
        if (n_keep == cap_keep) {
            size_t ncap = cap_keep ? cap_keep * 2 : 8;
            struct kv *p = realloc(keep, ncap * sizeof(*p));
            if (!p) {
                leveldb_iter_destroy(it);
                err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
                goto cleanup;
            }
            keep = p;
            cap_keep = ncap;
        }
        keep[n_keep].k = malloc(kl ? kl : 1);
        keep[n_keep].v = malloc(vl ? vl : 1);
        if (!keep[n_keep].k || !keep[n_keep].v) {
            free(keep[n_keep].k);
            free(keep[n_keep].v);
            leveldb_iter_destroy(it);
            err = fail(j, STINT_ENOMEM, "journal %s: out of memory", j->path);
            goto cleanup;
        }
        memcpy(keep[n_keep].k, k, kl);
        memcpy(keep[n_keep].v, v, vl);
        keep[n_keep].kl = kl;
        keep[n_keep].vl = vl;
        n_keep++;
    }
    leveldb_iter_get_error(it, &lerr);
    leveldb_iter_destroy(it);
    if (lerr) {
        j->broken = true;
        err = ldb_fail(j, lerr, "purge: reading meta failed");
        goto cleanup;
    }
    st = j->st;
    rc_drop(j);
    st.acked = st.next_seq - 1;
    st.count = 0;
    st.bytes = 0;
    st.dead = 0;

    pthread_rwlock_wrlock(&j->dblock);
    db_close(j);
    err = zero_files(j);
    if (err == STINT_OK) {
        leveldb_destroy_db(j->lopt, j->path, &lerr);
        if (lerr) {
            err = ldb_fail(j, lerr, "purge: removing the database failed");
        }
    }
    if (err == STINT_OK) {
        j->db = leveldb_open(j->lopt, j->path, &lerr);
        if (!j->db) {
            j->broken = true;
            err = ldb_fail(j, lerr, "purge: making the database anew failed");
        }
    }
    pthread_rwlock_unlock(&j->dblock);
    if (err != STINT_OK) {
        j->broken = true;
        goto cleanup;
    }
    leveldb_writebatch_clear(j->wb);
    for (size_t i = 0; i < n_keep; i++) {
        leveldb_writebatch_put(j->wb, keep[i].k, keep[i].kl, keep[i].v, keep[i].vl);
    }
    put_state(j, &st);
    j->st = st;
    err = write_batch(j, true, "purge: writing meta failed");
    j->oldest_valid = false;
    j->read_hwm = st.acked;
    j->acked_bytes_since = 0;
cleanup:
    for (size_t i = 0; i < n_keep; i++) {
        free(keep[i].k);
        free(keep[i].v);
    }
    free(keep);
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_sync(struct stint_journal *j)
{
    enum stint_err err;
    pthread_mutex_lock(&j->mu);
    err = sync_now(j);
    pthread_mutex_unlock(&j->mu);
    return err;
}

/* Compacts the record space up to `upto`; the caller holds neither mu nor dblock. */
static void compact_records(struct stint_journal *j, uint64_t upto)
{
    uint8_t a[1] = {P_REC}, b[KEY_LEN];
    make_key(b, P_REC, upto);
    pthread_rwlock_rdlock(&j->dblock);
    if (j->db) {
        leveldb_compact_range(j->db, (const char *)a, 1, (const char *)b, sizeof(b));
    }
    pthread_rwlock_unlock(&j->dblock);
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
static void *maint_main(void *arg)
{
    struct stint_journal *j = arg;

    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        if (j->compact_wanted) {
            uint64_t upto = j->compact_upto;
            j->compact_wanted = false;
            pthread_mutex_unlock(&j->mu);
            compact_records(j, upto);
            pthread_mutex_lock(&j->mu);
            j->compactions++;
            continue;
        }
        if (j->o.sync == STINT_SYNC_INTERVAL && j->durable < j->st.next_seq - 1) {
            int64_t due = j->last_sync_mono + j->o.sync_interval_ms;
            int64_t now = mono_ms();
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
                struct timespec ts;
                int64_t wait = due - now;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (wait % 1000) * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&j->cv, &j->mu, &ts);
            }
            continue;
        }
        pthread_cond_wait(&j->cv, &j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

uint64_t stint_journal_durable_seq(struct stint_journal *j)
{
    uint64_t d;
    pthread_mutex_lock(&j->mu);
    d = j->durable;
    pthread_mutex_unlock(&j->mu);
    return d;
}

void stint_journal_stats(struct stint_journal *j, struct stint_journal_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&j->mu);
    if (j->st.count && j->db && !j->broken && flush_pending(j) == STINT_OK) {
        out->oldest_ms = head_time(j, false); /* one seek: status is not a hot path */
    }
    out->backlog = j->st.count;
    out->backlog_bytes = j->st.bytes;
    out->next_seq = j->st.next_seq;
    out->acked_seq = j->st.acked;
    out->durable_seq = j->durable;
    out->dropped = j->st.dropped;
    out->gaps = j->st.gaps;
    out->dead = j->st.dead;
    out->dead_total = j->st.dead_total;
    out->dead_dropped = j->st.dead_dropped;
    out->lost = j->st.lost;
    out->compactions = j->compactions;
    out->private_mode = j->private_mode;
    pthread_mutex_unlock(&j->mu);
}

void stint_journal_agent_id(struct stint_journal *j, uint8_t out[STINT_AGENT_ID_LEN])
{
    pthread_mutex_lock(&j->mu);
    memcpy(out, j->agent_id, STINT_AGENT_ID_LEN);
    pthread_mutex_unlock(&j->mu);
}

bool stint_journal_private_get(struct stint_journal *j)
{
    bool on;
    pthread_mutex_lock(&j->mu);
    on = j->private_mode;
    pthread_mutex_unlock(&j->mu);
    return on;
}

enum stint_err stint_journal_private_set(struct stint_journal *j, bool on)
{
    enum stint_err err;
    const char v = on ? 1 : 0;

    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err == STINT_OK) {
        leveldb_writebatch_clear(j->wb);
        leveldb_writebatch_put(j->wb, K_PRIVATE, sizeof(K_PRIVATE) - 1, &v, 1);
        err = write_batch(j, false, "setting private mode failed");
    }
    if (err == STINT_OK) {
        j->private_mode = on;
    }
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_meta_get(struct stint_journal *j, const char *key, void *buf,
                                      size_t cap, size_t *len, bool *found)
{
    char ukey[sizeof(K_USER) + STINT_JOURNAL_META_KEY_MAX];
    enum stint_err err;
    char *lerr = NULL;
    char *v;
    size_t vl = 0;

    *found = false;
    *len = 0;
    if (!meta_key_ok(key)) {
        pthread_mutex_lock(&j->mu);
        err = fail(j, STINT_EINVAL, "journal %s: bad meta key", j->path);
        pthread_mutex_unlock(&j->mu);
        return err;
    }
    pthread_mutex_lock(&j->mu);
    err = ensure_db(j);
    if (err != STINT_OK) {
        goto cleanup;
    }
    v = leveldb_get(j->db, j->ropt, ukey, user_key(ukey, key), &vl, &lerr);
    if (lerr) {
        leveldb_free(v);
        j->broken = true;
        err = ldb_fail(j, lerr, "reading a meta key failed");
        goto cleanup;
    }
    if (v) {
        *found = true;
        *len = vl;
        if (buf && cap) {
            memcpy(buf, v, vl < cap ? vl : cap);
        }
        leveldb_free(v);
    }
cleanup:
    pthread_mutex_unlock(&j->mu);
    return err;
}

enum stint_err stint_journal_meta_set(struct stint_journal *j, const char *key, const void *val,
                                      size_t len)
{
    struct stint_journal_append_opts ao = {.meta_key = key, .meta_val = val, .meta_len = len};
    return stint_journal_append(j, NULL, 0, &ao, NULL);
}

enum stint_err stint_journal_value_decode(const uint8_t *value, size_t len, uint64_t seq,
                                          struct stint_record *r)
{
    return decode_stored(value, len, seq, r) ? STINT_OK : STINT_EWIRE;
}
