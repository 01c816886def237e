/* store.c — the storage interface (store.h): picks LevelDB or PostgreSQL when the store is
 * opened and forwards every call to it, so the handler never knows which one it talks to. The
 * stored value of a record (version, receive time, client clock, protobuf) is the same bytes in
 * both stores and is built and read here, once. */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "stint/pb.h"
#include "stint/pb_ref.h"
#include "common/byteorder.h"

struct stint_store {
    struct ldb_store *ldb; /* exactly one of the two is set */
    struct pg_store *pg;
};

bool stint_store_is_pg(const char *where)
{
    return where &&
           (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0);
}

/* Where a store logs when its caller names no logger: every line, on stderr. */
static struct stint_log_stderr collector_stderr = {.prog = "stint-collector"};
static const struct stint_log default_log = {
    .fn = stint_log_stderr, .ctx = &collector_stderr, .level = STINT_LOG_DEBUG};

enum stint_err stint_store_open(const struct stint_store_opts *opts, struct stint_store **out,
                                struct stint_error *err)
{
    struct stint_store *s = calloc(1, sizeof(*s));
    struct stint_store_opts o = *opts;
    enum stint_err rc;

    *out = NULL;
    if (!s)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    if (!o.log)
        o.log = &default_log;
    if (stint_store_is_pg(o.dir))
        rc = stint_pg_open(&o, &s->pg, err);
    else
        rc = stint_ldb_open(&o, &s->ldb, err);
    if (rc != STINT_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return STINT_OK;
}

void stint_store_close(struct stint_store *s)
{
    if (!s)
        return;
    stint_ldb_close(s->ldb);
    stint_pg_close(s->pg);
    free(s);
}

enum stint_err stint_store_commit(struct stint_store *s, struct stint_store_put *p,
                                  struct stint_ack *ack, enum stint_store_outcome *outcome,
                                  struct stint_error *err)
{
    return s->pg ? stint_pg_commit(s->pg, p, ack, outcome, err)
                 : stint_ldb_commit(s->ldb, p, ack, outcome, err);
}

enum stint_err stint_store_dump(struct stint_store *s, const char *account, uint64_t since,
                                stint_store_dump_fn fn, void *ctx, struct stint_error *err)
{
    return s->pg ? stint_pg_dump(s->pg, account, since, fn, ctx, err)
                 : stint_ldb_dump(s->ldb, account, since, fn, ctx, err);
}

enum stint_err stint_store_stats(struct stint_store *s, stint_store_stats_fn fn, void *ctx,
                                 struct stint_error *err)
{
    return s->pg ? stint_pg_stats(s->pg, fn, ctx, err) : stint_ldb_stats(s->ldb, fn, ctx, err);
}

bool stint_store_broken(struct stint_store *s)
{
    return s->pg ? stint_pg_broken(s->pg) : stint_ldb_broken(s->ldb);
}

void stint_store_counters(struct stint_store *s, struct stint_store_counters *c)
{
    memset(c, 0, sizeof(*c));
    if (s->pg) {
        stint_pg_counters(s->pg, c);
        c->kind = "postgresql";
    } else {
        stint_ldb_counters(s->ldb, c);
        c->kind = "leveldb";
    }
}

enum stint_err stint_store_delete_account(struct stint_store *s, const char *account,
                                          uint64_t *deleted, struct stint_error *err)
{
    return s->pg ? stint_pg_delete_account(s->pg, account, deleted, err)
                 : stint_ldb_delete_account(s->ldb, account, deleted, err);
}

enum stint_err stint_store_value_encode(int64_t received_ms, int64_t client_now_ms,
                                        const struct stint_record *r, struct stint_buf *out)
{
    uint8_t head[17];
    enum stint_err rc;

    head[0] = 1;
    stint_be64_put(head + 1, (uint64_t)received_ms);
    stint_be64_put(head + 9, (uint64_t)client_now_ms);
    rc = stint_buf_append(out, head, sizeof(head));
    /* protobuf-c: the same v1 bytes as nanopb's encoder at about a third of its cost
     * (bench/bench_codec.c), and this runs once per stored record */
    if (rc == STINT_OK)
        rc = stint_pbc_encode_record(r, out);
    return rc;
}

enum stint_err stint_store_value_decode(const uint8_t *v, size_t len, struct stint_stored *st,
                                        struct stint_error *err)
{
    if (len < 17 || v[0] != 1)
        return stint_error_set(err, STINT_EIO, 0, "data: malformed stored record");
    st->received_ms = (int64_t)stint_be64_get(v + 1);
    st->client_now_ms = (int64_t)stint_be64_get(v + 9);
    return stint_pb_decode_record(v + 17, len - 17, &st->rec, NULL, err);
}
