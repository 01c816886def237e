/* format.c — the journal's byte layout: keys, the state value, stored record values
 * (CRC + v1 encoding), dead-letter bodies and meta keys; the write of one batch.
 *
 * The design of the journal is written atop journal_int.h; the byte layout is spec/JOURNAL.md.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "journal_int.h"
#include "stint/pb.h"
#include "stint/pb_ref.h"

/* ---- small helpers ---- */

void make_key(uint8_t k[KEY_LEN], char prefix, uint64_t seq)
{
    k[0] = (uint8_t)prefix;
    stint_be64_put(k + 1, seq);
}

int64_t wall_ms(struct stint_journal *j)
{
    if (j->o.clock_ms) {
        return j->o.clock_ms(j->o.clock_ctx);
    }
    return stint_clock_wall_ms();
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
enum stint_err
fail(struct stint_journal *j, enum stint_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->errmsg, sizeof(j->errmsg), fmt, ap);
    va_end(ap);
    return e;
}

/* Turns a LevelDB error string into STINT_EIO with a message; frees it. */
enum stint_err ldb_fail(struct stint_journal *j, char *lerr, const char *what)
{
    fail(j, STINT_EIO, "journal %s: %s: %s", j->path, what, lerr ? lerr : "unknown error");
    leveldb_free(lerr);
    return STINT_EIO;
}

/* Disk conditions that repair cannot help and must never be taken for damage. */
bool transient_error(const char *m)
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

/* CRC-32 (zlib's crc32()) of a stored value's body. LevelDB checksums its own blocks, but
 * leveldb_repair_db copies log records without checking theirs, so a value carries its own.
 * (Measured: zlib's CRC of a 150-byte record costs about as much as decoding it; a CRC-32C with
 * the SSE4.2 instruction would be ~20x cheaper, but the format and the fuzz harness say CRC-32.) */
uint32_t crc_of(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0L, p, (uInt)n);
}

/* Checks the be32 CRC in front of a stored value; on success body and bl hold what follows it. */
bool unseal(const uint8_t *v, size_t vl, const uint8_t **body, size_t *bl)
{
    if (vl < CRC_LEN || stint_be32_get(v) != crc_of(v + CRC_LEN, vl - CRC_LEN)) {
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
        stint_be64_put(out + 1 + 8 * i, v[i]);
    }
    stint_be32_put(out + STATE_LEN - CRC_LEN, crc_of(out, STATE_LEN - CRC_LEN));
}

bool state_decode(const uint8_t *p, size_t len, struct jstate *s)
{
    uint64_t v[10];
    if (len != STATE_LEN || p[0] != 1 ||
        stint_be32_get(p + STATE_LEN - CRC_LEN) != crc_of(p, STATE_LEN - CRC_LEN)) {
        return false;
    }
    for (int i = 0; i < 10; i++) {
        v[i] = stint_be64_get(p + 1 + 8 * i);
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

void put_state(struct stint_journal *j, const struct jstate *s)
{
    uint8_t v[STATE_LEN];
    state_encode(s, v);
    leveldb_writebatch_put(j->wb, K_STATE, sizeof(K_STATE) - 1, (const char *)v, sizeof(v));
}

/* Decodes a stored record and checks that it carries the seq of its key. */
bool decode_stored(const uint8_t *v, size_t len, uint64_t seq, struct stint_record *r)
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
enum stint_err seal_record(const struct stint_record *r, struct stint_buf *b)
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
        stint_be32_put(b->data + off, crc_of(b->data + off + CRC_LEN, b->len - off - CRC_LEN));
    }
    return err;
}

/* The part of a stored record value kept in a dead letter: the encoding without the CRC when
 * the CRC holds, else every byte as found. */
void dead_body(const uint8_t *v, size_t vl, const uint8_t **body, size_t *bl)
{
    if (!unseal(v, vl, body, bl)) {
        *body = v;
        *bl = vl;
    }
}

bool meta_key_ok(const char *key)
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

size_t user_key(char *out, const char *key)
{
    size_t n = strlen(key);
    memcpy(out, K_USER, sizeof(K_USER) - 1);
    memcpy(out + sizeof(K_USER) - 1, key, n);
    return sizeof(K_USER) - 1 + n;
}

enum stint_err write_batch(struct stint_journal *j, bool sync, const char *what)
{
    char *lerr = NULL;
    leveldb_write(j->db, sync ? j->wsync : j->wopt, j->wb, &lerr);
    if (lerr) {
        j->broken = true; /* LevelDB's log may end in a torn record: reopen before writing again */
        return ldb_fail(j, lerr, what);
    }
    if (sync || j->o.sync == STINT_SYNC_ALWAYS) {
        j->durable = j->st.next_seq - 1;
        j->last_sync_mono = stint_clock_mono_ms();
    }
    return STINT_OK;
}

/* Positions `it` at the oldest stored record. Seeking past the acked seq, not to the prefix,
 * matters: LevelDB keeps the tombstones of acked records until compaction, and an iterator
 * started at the prefix would step over every one of them on each call. */
void seek_first_record(struct stint_journal *j, leveldb_iterator_t *it)
{
    uint8_t k[KEY_LEN];
    make_key(k, P_REC, j->st.acked + 1);
    leveldb_iter_seek(it, (const char *)k, sizeof(k));
}

enum stint_err stint_journal_value_decode(const uint8_t *value, size_t len, uint64_t seq,
                                          struct stint_record *r)
{
    return decode_stored(value, len, seq, r) ? STINT_OK : STINT_EWIRE;
}
