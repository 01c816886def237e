/* store.h — the collector's storage interface: records by (account, agent_id, seq), kept Acks
 * by idempotency key, per account. Two stores implement it, chosen when the store is opened:
 *
 *   a folder path          LevelDB, embedded, one process (store_leveldb.c; the default)
 *   postgresql://... URL   PostgreSQL through libpq, shared by any number of collectors
 *                          (store_pg.c; schema made by `stint-collector migrate`)
 *
 * The handler, control and main see only this header: both stores hold the same contract.
 *
 * A commit makes the new records and the Ack under its idempotency key durable together before
 * it returns (LevelDB: one synced WriteBatch; PostgreSQL: one transaction whose COMMIT has
 * returned), so an Ack is never sent for records that are not durable, and a replay through
 * any collector finds the Ack it got. All functions are thread-safe.
 *
 * Failing closed: after a failed write (LevelDB) or a lost connection (PostgreSQL) the store is
 * broken (stint_store_broken): writes fail with STINT_EIO, naming why, until the store has
 * reopened its database or reconnected (tried at most twice a second, by the calls
 * themselves). Nothing is acknowledged meanwhile; the handler answers 503 with Retry-After
 * (spec/COLLECTOR.md, "Storage faults"). */
#ifndef STINT_COLLECTOR_STORE_H
#define STINT_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "stint/buf.h"
#include "stint/error.h"
#include "stint/record.h"
#include "common/log.h"

struct stint_store; /* opaque */

struct stint_store_opts {
    const char *dir;    /* LevelDB folder, created if missing (unless must_exist); or a
                         * postgresql:// (postgres://) URL: PostgreSQL */
    bool sync;          /* fsync every commit (the default for serving) */
    bool must_exist;    /* refuse to create a new database (dump, stats) */
    bool migrate;       /* PostgreSQL: create or upgrade the schema on open (migrate) */
    const char *ingest; /* PostgreSQL: "unnest" (the default: arrays unnested by one
                         * INSERT), "values" (INSERT ... VALUES) or "copy" (COPY into a
                         * staging table); NULL: the default */
    /* Where the store says what it has to say (failures, reopens, data loss, migrations);
     * borrowed, must outlive the store. NULL: "stint-collector: LINE" on stderr. */
    const struct stint_log *log;
};

/* On success *out is the caller's: release with stint_store_close(). STINT_EIO with LevelDB's
 * message; when another process holds the database the message says so. The database is opened
 * with paranoid checks; when it does not open cleanly (a damaged log), the logs are copied to
 * DIR/damaged-UNIXTIME/, LevelDB recovers what it can read, and the bytes it skipped are logged
 * ("DATA LOSS: ... skipped N bytes") and counted (stint_store_counters).
 * PostgreSQL: connects (STINT_EIO with libpq's message), then checks the schema version: a
 * database without the schema, or with a version this collector does not know, is refused
 * (STINT_EINVAL naming both versions) unless opts->migrate, which creates or upgrades it in one
 * transaction first. */
enum stint_err stint_store_open(const struct stint_store_opts *opts, struct stint_store **out,
                                struct stint_error *err);
void stint_store_close(struct stint_store *s); /* NULL is fine */

/* A record of a batch, staged: its value is values[off..off+len). */
struct stint_store_item {
    uint64_t seq;
    uint32_t off;
    uint32_t len;
};

struct stint_store_put {
    const char *account;
    const uint8_t *agent_id; /* STINT_AGENT_ID_LEN bytes */
    const char *idem;        /* idempotency key (non-empty) */
    size_t idem_len;
    uint64_t fingerprint;           /* what the key must name again on a replay */
    struct stint_store_item *items; /* sorted in place by seq */
    size_t n;
    const uint8_t *values;
};

enum stint_store_outcome {
    STINT_STORE_STORED = 0,   /* new Ack: records stored or counted as duplicates */
    STINT_STORE_REPLAY = 1,   /* the key was seen: *ack is the Ack answered then */
    STINT_STORE_CONFLICT = 2, /* the key was seen with a different batch: nothing done */
};

/* Commits a staged batch. On entry *ack holds the handler's rejections, server_time_ms and an
 * acked_seq covering the rejected seqs; on STORED the store sets stored, duplicates and acked_seq
 * (the highest seq of the batch, or the agent's highest stored seq for an empty batch). On
 * REPLAY *ack is replaced by the stored Ack. A batch without any record (none staged, none
 * rejected) stores nothing and keeps no Ack: it only learns the agent's highest stored seq. */
enum stint_err stint_store_commit(struct stint_store *s, struct stint_store_put *p,
                                  struct stint_ack *ack, enum stint_store_outcome *outcome,
                                  struct stint_error *err);

/* True when where names a PostgreSQL database (postgresql:// or postgres://). */
bool stint_store_is_pg(const char *where);

/* Appends the stored value of a record: version 1, the server's receive time, the batch's
 * `now`, then the record's protobuf encoding. */
enum stint_err stint_store_value_encode(int64_t received_ms, int64_t client_now_ms,
                                        const struct stint_record *r, struct stint_buf *out);

/* A stored record as dump sees it. */
struct stint_stored {
    uint8_t agent_id[STINT_AGENT_ID_LEN];
    int64_t received_ms;   /* server clock when the batch arrived */
    int64_t client_now_ms; /* the batch's now_ms (0 when the client sent none) */
    struct stint_record rec;
};

/* Decodes a stored value (stint_store_value_encode) into *st (agent_id untouched). STINT_EIO
 * naming what is wrong. */
enum stint_err stint_store_value_decode(const uint8_t *v, size_t len, struct stint_stored *st,
                                        struct stint_error *err);

typedef enum stint_err (*stint_store_dump_fn)(void *ctx, const struct stint_stored *st);

/* Calls fn for every record of account with seq > since, ordered by agent_id then seq. */
enum stint_err stint_store_dump(struct stint_store *s, const char *account, uint64_t since,
                                stint_store_dump_fn fn, void *ctx, struct stint_error *err);

typedef enum stint_err (*stint_store_stats_fn)(void *ctx, const char *account,
                                               const uint8_t *agent_id, uint64_t records,
                                               uint64_t max_seq);

/* Calls fn for each (account, agent) that has records, in key order. */
enum stint_err stint_store_stats(struct stint_store *s, stint_store_stats_fn fn, void *ctx,
                                 struct stint_error *err);

/* True while the store is broken (a write failed and it could not be reopened yet). A broken
 * store first tries to reopen (at most twice a second), so asking is what heals it. */
bool stint_store_broken(struct stint_store *s);

struct stint_store_counters {
    uint64_t write_failures; /* failed writes or syncs */
    uint64_t reopens;        /* successful reopens after one */
    uint64_t dropped_bytes;  /* log bytes LevelDB skipped while recovering a damaged log */
    const char *kind;        /* "leveldb" or "postgresql" (static) */
    bool broken;
};

void stint_store_counters(struct stint_store *s, struct stint_store_counters *c);

/* Deletes every record, counter and Ack of account (durably), then compacts the account's key
 * ranges so that none of the deleted values is left in any file of the database (table, log or
 * memtable); *deleted gets the record count. Holds the whole store meanwhile: commits wait. On
 * any failure (STINT_EIO) the deletion may be partly done: calling again finishes it.
 * PostgreSQL: the records and Acks go in one transaction (all or nothing); what that means for
 * the dead tuples until VACUUM: spec/COLLECTOR.md, "PostgreSQL store". */
enum stint_err stint_store_delete_account(struct stint_store *s, const char *account,
                                          uint64_t *deleted, struct stint_error *err);

#endif
