/* store_pg.c — records in PostgreSQL (libpq), shared by any number of collectors (see store.h
 * and spec/COLLECTOR.md, "PostgreSQL store").
 *
 * Schema (version 2, made by stint_pg_open with opts->migrate; `stint-collector migrate`):
 *
 *   stint_schema  (version)                                   one row: the schema's version
 *   stint_records (account, agent_id, seq, value)             PRIMARY KEY (account, agent_id, seq)
 *   stint_acks    (account, agent_id, idem, fingerprint, ack, created)
 *                                                             PRIMARY KEY (account, agent_id, idem)
 *
 * Both tables are PARTITION BY HASH (account) into PARTITIONS partitions (stint_records_p0 ...,
 * stint_acks_p0 ...): every statement names one account, so it touches one partition, and a
 * DELETE of an account leaves its dead tuples, and the VACUUM that clears them, in one partition
 * (version 1 had flat tables; migration 1 -> 2 copies their rows over).
 *
 * account is text COLLATE "C" (byte order, as LevelDB's keys); agent_id and idem are bytea; seq
 * is the record's u64 seq XOR 2^63 stored in a bigint, which keeps u64 order in the signed
 * column (content seqs of legacy payloads use all 64 bits); value is the same bytes as the
 * LevelDB store's (stint_store_value_encode).
 *
 * A commit is one transaction on one connection of the pool:
 *   BEGIN; pg_advisory_xact_lock(hash of account, agent) — commits of one agent queue, across
 *   every collector on the database, as the LevelDB store's stripe lock does within one;
 *   look up the kept Ack (same fingerprint -> replay, another -> conflict);
 *   insert the records with ON CONFLICT DO NOTHING (the unique key does the de-duplication:
 *   inserted rows are stored, the rest duplicates); insert the Ack; COMMIT.
 * The Ack is built only after COMMIT has returned success: nothing is acknowledged that is not
 * committed (and with synchronous_commit = on, which each session sets, flushed).
 *
 * How the records get in (opts->ingest), each ending in ON CONFLICT DO NOTHING: "unnest" (the
 * default) sends the seqs and values as two binary arrays to one INSERT ... SELECT FROM unnest;
 * "values" is one INSERT ... VALUES ($..),($..) with two binary parameters per record; "copy" is
 * COPY (binary) into a temporary staging table and an INSERT ... SELECT from it.
 * bench_collector measures the three; the default is the fastest it found (spec/COLLECTOR.md
 * has the table).
 *
 * Faults: a connection that fails (the server went away, was restarted, the network dropped), a
 * statement cancelled by statement_timeout (STATEMENT_TIMEOUT_MS, set per session) and the
 * server shutting down mark the store broken: stint_pg_broken is true, the handler answers 503
 * with Retry-After, and the next use at least HEAL_EVERY_MS later tries a fresh connection;
 * when one works, the store is whole again and every older pooled connection is replaced. A
 * COMMIT whose answer is lost leaves the outcome unknown: the client gets a 503, retries, and the
 * unique key and the kept Ack make the retry safe either way. */
#include "store_impl.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "stint/pb.h"
#include "common/clock.h"
#include "common/byteorder.h"
#include "common/log.h"

#define POOL 16                    /* connections per collector, at most */
#define STATEMENT_TIMEOUT_MS 30000 /* any statement of the collector's */
#define CONNECT_TIMEOUT_S "5"
#define HEAL_EVERY_MS 500
#define SCHEMA_VERSION 2
#define PARTITIONS "16" /* schema 2: hash partitions of each table (a string: it goes in SQL) */
#define SEQ_FLIP 0x8000000000000000ull
#define MIGRATE_LOCK 0x5374696e74L /* "Stint": the advisory lock migrations hold */

enum ingest { INGEST_UNNEST = 0, INGEST_VALUES = 1, INGEST_COPY = 2 };

struct conn {
    PGconn *pg;
    unsigned gen; /* the store's generation when it connected */
    bool busy;
};

struct pg_store {
    char *url;
    enum ingest ingest;
    const struct stint_log *log; /* borrowed: store.c's default or the caller's */
    pthread_mutex_t mu;          /* guards pool, gen, last_heal_ms, broken_msg */
    pthread_cond_t cv;
    struct conn pool[POOL];
    unsigned gen;
    int64_t last_heal_ms;
    char broken_msg[200];
    atomic_bool broken;
    atomic_uint_fast64_t write_failures, reopens;
};

/* libpq's message of the last failure, on one line. */
static void pg_message(PGconn *c, const PGresult *r, char *out, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    size_t i;

    if (!m || !*m)
        m = c ? PQerrorMessage(c) : "no connection";
    snprintf(out, cap, "%s", m);
    for (i = 0; out[i]; i++)
        if (out[i] == '\n' || out[i] == '\r')
            out[i] = ' ';
    while (i > 0 && out[i - 1] == ' ')
        out[--i] = '\0';
}

/* Whether a failure means "the database is not there right now" (broken: 503, retry) rather
 * than a fault of this statement: a bad connection, class 08 (connection exception), 57014
 * (query cancelled: statement_timeout), 57P0x (the server is shutting down or restarting),
 * 53xxx (out of resources). */
static bool transient(PGconn *c, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    if (!c || PQstatus(c) != CONNECTION_OK)
        return true;
    if (!state)
        return r == NULL || PQresultStatus(r) == PGRES_FATAL_ERROR;
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57014") == 0 ||
           strncmp(state, "57P0", 4) == 0 || strncmp(state, "53", 2) == 0;
}

static void mark_broken(struct pg_store *s, const char *why)
{
    bool was = atomic_exchange(&s->broken, true);

    atomic_fetch_add(&s->write_failures, 1);
    pthread_mutex_lock(&s->mu);
    if (snprintf(s->broken_msg, sizeof(s->broken_msg), "%s", why) >= (int)sizeof(s->broken_msg))
        s->broken_msg[sizeof(s->broken_msg) - 2] = '~'; /* cut: say so */
    s->last_heal_ms = stint_clock_mono_ms();
    s->gen++; /* every pooled connection may be dead: replace them as they come back */
    pthread_mutex_unlock(&s->mu);
    if (!was)
        stint_log(s->log, STINT_LOG_ERROR,
                  "database failed (%s): answering 503 to writes until it answers again", why);
}

/* Fails a statement: sets err (STINT_EIO, what: libpq's message) and marks the store broken
 * when the failure is the database's, not the statement's. */
static enum stint_err failed(struct pg_store *s, PGconn *c, PGresult *r, const char *what,
                             struct stint_error *err)
{
    char msg[400];
    char why[480];

    pg_message(c, r, msg, sizeof(msg));
    snprintf(why, sizeof(why), "%s: %s", what, msg);
    if (transient(c, r))
        mark_broken(s, why);
    return stint_error_set(err, STINT_EIO, 0, "PostgreSQL: %s", why);
}

/* Checks the result r of one statement (r may be NULL: libpq ran out of memory) against the
 * status it should have. On success r goes to *out (the caller PQclears it) or, out NULL, is
 * cleared here. Otherwise r is cleared, *out is NULL and err says what failed (STINT_EIO
 * through failed(), which marks the store broken when the database is at fault). Every
 * statement of this file goes through here. */
static enum stint_err check(struct pg_store *s, PGconn *c, PGresult *r, ExecStatusType want,
                            const char *what, PGresult **out, struct stint_error *err)
{
    enum stint_err rc = STINT_OK;

    if (out)
        *out = NULL;
    if (PQresultStatus(r) != want) {
        rc = failed(s, c, r, what, err);
        PQclear(r);
    } else if (out) {
        *out = r;
    } else {
        PQclear(r);
    }
    return rc;
}

/* Runs sql (no parameters, several statements allowed), expecting status ok. */
static enum stint_err run(struct pg_store *s, PGconn *c, const char *sql, ExecStatusType ok,
                          const char *what, struct stint_error *err)
{
    return check(s, c, PQexec(c, sql), ok, what, NULL, err);
}

/* A result that must have exactly one row (an aggregate's): else failed(), as check(). */
static enum stint_err one_row(struct pg_store *s, PGconn *c, PGresult *r, const char *what,
                              struct stint_error *err)
{
    return PQntuples(r) == 1 ? STINT_OK : failed(s, c, r, what, err);
}

/* The rows an INSERT or DELETE touched. */
static uint64_t rows_of(PGresult *r)
{
    return strtoull(PQcmdTuples(r), NULL, 10);
}

/* Opens one connection and sets up its session: statement_timeout, synchronous_commit = on (an
 * Ack waits for the flush of its COMMIT, whatever the database's default), and for COPY ingest
 * the staging table. */
static enum stint_err connect_one(struct pg_store *s, PGconn **out, struct stint_error *err)
{
    /* the URL comes last: what it sets wins over these defaults */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {CONNECT_TIMEOUT_S, "stint-collector", s->url, NULL};
    char setup[256];
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    enum stint_err rc = STINT_OK;

    *out = NULL;
    if (!c)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[400];
        pg_message(c, NULL, msg, sizeof(msg));
        rc = stint_error_set(err, STINT_EIO, 0, "PostgreSQL: cannot connect: %s", msg);
        goto cleanup;
    }
    /* a URL may set its own statement_timeout (options=-c statement_timeout=MS); without one
     * (0: none) the collector's applies */
    snprintf(setup, sizeof(setup),
             "SELECT set_config('statement_timeout', '%d', false) WHERE "
             "current_setting('statement_timeout') = '0'; SET synchronous_commit = on; "
             "SET client_min_messages = warning",
             STATEMENT_TIMEOUT_MS);
    rc = run(s, c, setup, PGRES_COMMAND_OK, "setting up the session", err);
    if (rc == STINT_OK && s->ingest == INGEST_COPY)
        rc = run(s, c,
                 "CREATE TEMPORARY TABLE IF NOT EXISTS stint_stage (seq bigint, value bytea) "
                 "ON COMMIT DELETE ROWS",
                 PGRES_COMMAND_OK, "making the staging table", err);
    if (rc != STINT_OK)
        goto cleanup;
    *out = c;
    c = NULL;
cleanup:
    PQfinish(c);
    return rc;
}

/* The migrations, in order: migrations[i] takes the schema from version i to i + 1. Append
 * only: a released step is never edited. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE stint_records ("
    " account text COLLATE \"C\" NOT NULL,"
    " agent_id bytea NOT NULL,"
    " seq bigint NOT NULL," /* u64 seq XOR 2^63 */
    " value bytea NOT NULL,"
    " PRIMARY KEY (account, agent_id, seq));"
    "CREATE TABLE stint_acks ("
    " account text COLLATE \"C\" NOT NULL,"
    " agent_id bytea NOT NULL,"
    " idem bytea NOT NULL,"
    " fingerprint bigint NOT NULL,"
    " ack bytea NOT NULL,"
    " created timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (account, agent_id, idem));",
    /* 1 -> 2: both tables hashed by account into PARTITIONS partitions (stint_records_p0 ...):
     * an account's rows, their dead tuples after a DELETE and the VACUUM (FULL) that clears
     * them stay in one partition (spec/COLLECTOR.md §6.1.1 has the measurements). The primary
     * keys start with account, so they stay enforceable. The rows are copied over in this
     * transaction; the old tables go. */
    "ALTER TABLE stint_records RENAME TO stint_records_v1;"
    "ALTER TABLE stint_records_v1 RENAME CONSTRAINT stint_records_pkey TO stint_records_v1_pkey;"
    "ALTER TABLE stint_acks RENAME TO stint_acks_v1;"
    "ALTER TABLE stint_acks_v1 RENAME CONSTRAINT stint_acks_pkey TO stint_acks_v1_pkey;"
    "CREATE TABLE stint_records ("
    " account text COLLATE \"C\" NOT NULL,"
    " agent_id bytea NOT NULL,"
    " seq bigint NOT NULL,"
    " value bytea NOT NULL,"
    " PRIMARY KEY (account, agent_id, seq)) PARTITION BY HASH (account);"
    "CREATE TABLE stint_acks ("
    " account text COLLATE \"C\" NOT NULL,"
    " agent_id bytea NOT NULL,"
    " idem bytea NOT NULL,"
    " fingerprint bigint NOT NULL,"
    " ack bytea NOT NULL,"
    " created timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (account, agent_id, idem)) PARTITION BY HASH (account);"
    "DO $$ BEGIN FOR i IN 0.." PARTITIONS " - 1 LOOP"
    " EXECUTE format('CREATE TABLE stint_records_p%s PARTITION OF stint_records"
    " FOR VALUES WITH (MODULUS " PARTITIONS ", REMAINDER %s)', i, i);"
    " EXECUTE format('CREATE TABLE stint_acks_p%s PARTITION OF stint_acks"
    " FOR VALUES WITH (MODULUS " PARTITIONS ", REMAINDER %s)', i, i);"
    " END LOOP; END $$;"
    "INSERT INTO stint_records (account, agent_id, seq, value)"
    " SELECT account, agent_id, seq, value FROM stint_records_v1;"
    "INSERT INTO stint_acks (account, agent_id, idem, fingerprint, ack, created)"
    " SELECT account, agent_id, idem, fingerprint, ack, created FROM stint_acks_v1;"
    "DROP TABLE stint_records_v1, stint_acks_v1;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The schema's version: 0 when there is no stint_schema table, -1 on failure (err set). */
static int schema_version(struct pg_store *s, PGconn *c, struct stint_error *err)
{
    static const char *const what = "reading the schema version";
    PGresult *r = NULL;
    int v = -1;

    if (check(s, c, PQexec(c, "SELECT to_regclass('stint_schema') IS NOT NULL"), PGRES_TUPLES_OK,
              what, &r, err) != STINT_OK ||
        one_row(s, c, r, what, err) != STINT_OK)
        goto cleanup;
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        v = 0;
        goto cleanup;
    }
    PQclear(r);
    if (check(s, c, PQexec(c, "SELECT max(version) FROM stint_schema"), PGRES_TUPLES_OK, what, &r,
              err) != STINT_OK ||
        one_row(s, c, r, what, err) != STINT_OK)
        goto cleanup;
    v = PQgetisnull(r, 0, 0) ? 0 : (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
cleanup:
    PQclear(r);
    return v;
}

/* Brings the schema to SCHEMA_VERSION in one transaction, under an advisory lock so that two
 * collectors migrating at once do it once. Running it again does nothing. */
static enum stint_err migrate(struct pg_store *s, PGconn *c, struct stint_error *err)
{
    char sql[128];
    enum stint_err rc;
    int v, i;

    rc = run(s, c, "BEGIN", PGRES_COMMAND_OK, "migrate: BEGIN", err);
    if (rc != STINT_OK)
        return rc;
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%ld)", MIGRATE_LOCK);
    rc = run(s, c, sql, PGRES_TUPLES_OK, "migrate: locking", err);
    if (rc == STINT_OK)
        rc = run(s, c, "CREATE TABLE IF NOT EXISTS stint_schema (version integer NOT NULL)",
                 PGRES_COMMAND_OK, "migrate: stint_schema", err);
    if (rc != STINT_OK)
        goto cleanup;
    v = schema_version(s, c, err);
    if (v < 0) {
        rc = STINT_EIO;
        goto cleanup;
    }
    if (v > SCHEMA_VERSION) {
        rc = stint_error_set(err, STINT_EINVAL, 0,
                             "PostgreSQL: the schema is at version %d, newer than this "
                             "collector's %d: upgrade stint-collector",
                             v, SCHEMA_VERSION);
        goto cleanup;
    }
    for (i = v; i < N_MIGRATIONS && rc == STINT_OK; i++) {
        rc = run(s, c, migrations[i], PGRES_COMMAND_OK, "migrate: applying a step", err);
        if (rc == STINT_OK) {
            snprintf(sql, sizeof(sql),
                     "DELETE FROM stint_schema; INSERT INTO stint_schema VALUES (%d)", i + 1);
            rc = run(s, c, sql, PGRES_COMMAND_OK, "migrate: recording the version", err);
        }
        if (rc == STINT_OK)
            stint_log(s->log, STINT_LOG_INFO, "migrated the schema from version %d to %d", i,
                      i + 1);
    }
    if (rc == STINT_OK)
        rc = run(s, c, "COMMIT", PGRES_COMMAND_OK, "migrate: COMMIT", err);
cleanup:
    if (rc != STINT_OK)
        PQclear(PQexec(c, "ROLLBACK"));
    return rc;
}

enum stint_err stint_pg_open(const struct stint_store_opts *opts, struct pg_store **out,
                             struct stint_error *err)
{
    struct pg_store *s = calloc(1, sizeof(*s));
    PGconn *c = NULL;
    enum stint_err rc = STINT_OK;
    int v;

    *out = NULL;
    if (!s || !(s->url = strdup(opts->dir))) {
        free(s);
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    }
    s->log = opts->log;
    if (!opts->ingest || strcmp(opts->ingest, "unnest") == 0) {
        s->ingest = INGEST_UNNEST;
    } else if (strcmp(opts->ingest, "values") == 0) {
        s->ingest = INGEST_VALUES;
    } else if (strcmp(opts->ingest, "copy") == 0) {
        s->ingest = INGEST_COPY;
    } else {
        free(s->url);
        free(s);
        return stint_error_set(err, STINT_EINVAL, 0,
                               "unknown ingest method %s (unnest, values, copy)", opts->ingest);
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->broken, false);
    atomic_init(&s->write_failures, 0);
    atomic_init(&s->reopens, 0);
    rc = connect_one(s, &c, err);
    if (rc != STINT_OK)
        goto cleanup;
    if (opts->migrate) {
        rc = migrate(s, c, err);
        if (rc != STINT_OK)
            goto cleanup;
    }
    v = schema_version(s, c, err);
    if (v < 0) {
        rc = STINT_EIO;
        goto cleanup;
    }
    if (v != SCHEMA_VERSION) {
        rc = stint_error_set(
            err, STINT_EINVAL, 0,
            v == 0 ? "PostgreSQL: the database has no Stint schema (version %d, this collector "
                     "needs %d): run `stint-collector migrate --store URL` first"
            : v < SCHEMA_VERSION ? "PostgreSQL: the schema is at version %d, this collector "
                                   "needs %d: run `stint-collector migrate --store URL`"
                                 : "PostgreSQL: the schema is at version %d, newer than this "
                                   "collector's %d: upgrade stint-collector",
            v, SCHEMA_VERSION);
        goto cleanup;
    }
    s->pool[0].pg = c;
    c = NULL;
    *out = s;
    s = NULL;
cleanup:
    PQfinish(c);
    stint_pg_close(s);
    return rc;
}

void stint_pg_close(struct pg_store *s)
{
    int i;

    if (!s)
        return;
    for (i = 0; i < POOL; i++)
        PQfinish(s->pool[i].pg);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->url);
    free(s);
}

/* Takes a connection of the pool (waits while all are busy), connecting it when needed. While
 * the store is broken, fails at once (STINT_EIO) unless HEAL_EVERY_MS have passed since the
 * last try: then this call tries, and a connection that works makes the store whole. */
static enum stint_err acquire(struct pg_store *s, struct conn **out, struct stint_error *err)
{
    struct conn *c = NULL;
    enum stint_err rc = STINT_OK;
    bool heal = false;
    unsigned gen;
    int i;

    *out = NULL;
    pthread_mutex_lock(&s->mu);
    if (atomic_load(&s->broken)) {
        int64_t now = stint_clock_mono_ms();
        if (now - s->last_heal_ms < HEAL_EVERY_MS) {
            rc = stint_error_set(err, STINT_EIO, 0, "PostgreSQL unavailable (%s)", s->broken_msg);
            pthread_mutex_unlock(&s->mu);
            return rc;
        }
        s->last_heal_ms = now;
        heal = true;
    }
    for (;;) {
        for (i = 0; i < POOL && !c; i++)
            if (!s->pool[i].busy)
                c = &s->pool[i];
        if (c)
            break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    c->busy = true;
    gen = s->gen;
    pthread_mutex_unlock(&s->mu);

    if (c->pg && (c->gen != gen || PQstatus(c->pg) != CONNECTION_OK)) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (!c->pg) {
        rc = connect_one(s, &c->pg, err);
        c->gen = gen;
        if (rc != STINT_OK) {
            if (rc == STINT_EIO)
                mark_broken(s, err->msg);
            pthread_mutex_lock(&s->mu);
            c->busy = false;
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return rc;
        }
    }
    if (heal && atomic_exchange(&s->broken, false)) {
        atomic_fetch_add(&s->reopens, 1);
        stint_log(s->log, STINT_LOG_INFO, "database answers again: serving writes");
    }
    *out = c;
    return STINT_OK;
}

/* Gives a connection back; a connection whose last use failed is dropped (a transaction it may
 * still hold dies with it). */
static void release(struct pg_store *s, struct conn *c, bool drop)
{
    if (!c)
        return;
    if (drop || PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    pthread_mutex_lock(&s->mu);
    c->busy = false;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

bool stint_pg_broken(struct pg_store *s)
{
    struct conn *c = NULL;
    struct stint_error err;

    if (!atomic_load(&s->broken))
        return false;
    stint_error_clear(&err);
    /* asking heals: acquire tries a connection when it is time */
    if (acquire(s, &c, &err) == STINT_OK)
        release(s, c, false);
    return atomic_load(&s->broken);
}

void stint_pg_counters(struct pg_store *s, struct stint_store_counters *c)
{
    c->write_failures = atomic_load(&s->write_failures);
    c->reopens = atomic_load(&s->reopens);
    c->broken = atomic_load(&s->broken);
}

static int cmp_item(const void *a, const void *b)
{
    const struct stint_store_item *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->off < y->off ? -1 : (x->off > y->off); /* stable: first in the batch wins */
}

static uint64_t lock_key(const char *account, const uint8_t *agent)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits */
    size_t i;
    for (i = 0; account[i]; i++)
        h = (h ^ (uint8_t)account[i]) * 1099511628211ull;
    h = (h ^ 0) * 1099511628211ull;
    for (i = 0; i < STINT_AGENT_ID_LEN; i++)
        h = (h ^ agent[i]) * 1099511628211ull;
    return h;
}

/* Runs a statement with binary parameters and results. */
static PGresult *exec_bin(PGconn *c, const char *sql, int n, const char *const *vals,
                          const int *lens)
{
    int fmts[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    return PQexecParams(c, sql, n, NULL, vals, lens, fmts, 1);
}

/* Runs sql with n binary parameters (binary results) and check()s its status. */
static enum stint_err query(struct pg_store *s, PGconn *c, const char *sql, int n,
                            const char *const *vals, const int *lens, ExecStatusType want,
                            const char *what, PGresult **out, struct stint_error *err)
{
    return check(s, c, exec_bin(c, sql, n, vals, lens), want, what, out, err);
}

/* Parameters $1 and $2 of the statements about one agent: its account and agent_id. */
static void agent_params(const struct stint_store_put *p, const char **vals, int *lens)
{
    vals[0] = p->account;
    lens[0] = (int)strlen(p->account);
    vals[1] = (const char *)p->agent_id;
    lens[1] = STINT_AGENT_ID_LEN;
}

/* The INSERT ... VALUES way: one statement, parameters $1 account, $2 agent_id, then seq and
 * value of each record, all binary. *inserted gets the rows the database took. */
static enum stint_err insert_values(struct pg_store *s, PGconn *c, const struct stint_store_put *p,
                                    uint64_t *inserted, struct stint_error *err)
{
    struct stint_buf sql = {0};
    const char **vals = NULL;
    int *lens = NULL, *fmts = NULL;
    uint8_t *seqs = NULL;
    PGresult *r = NULL;
    enum stint_err rc = STINT_OK;
    size_t i, np = 2 + 2 * p->n;

    if (np > 65535)
        return stint_error_set(err, STINT_ELIMIT, 0, "batch over %d records", 65533 / 2);
    vals = malloc(np * sizeof(*vals));
    lens = malloc(np * sizeof(*lens));
    fmts = malloc(np * sizeof(*fmts));
    seqs = malloc(p->n * 8 + 1);
    if (!vals || !lens || !fmts || !seqs) {
        rc = stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
        goto cleanup;
    }
    rc = stint_buf_printf(&sql, "INSERT INTO stint_records (account, agent_id, seq, value) "
                                "VALUES ");
    agent_params(p, vals, lens);
    for (i = 0; i < p->n && rc == STINT_OK; i++) {
        stint_be64_put(seqs + 8 * i, p->items[i].seq ^ SEQ_FLIP);
        vals[2 + 2 * i] = (const char *)seqs + 8 * i;
        lens[2 + 2 * i] = 8;
        vals[3 + 2 * i] = (const char *)p->values + p->items[i].off;
        lens[3 + 2 * i] = (int)p->items[i].len;
        rc = stint_buf_printf(&sql, "%s($1,$2,$%zu::int8,$%zu::bytea)", i ? "," : "", 3 + 2 * i,
                              4 + 2 * i);
    }
    if (rc == STINT_OK)
        rc = stint_buf_printf(&sql, " ON CONFLICT DO NOTHING");
    if (rc == STINT_OK)
        rc = stint_buf_append(&sql, (const uint8_t *)"", 1);
    if (rc != STINT_OK) {
        rc = stint_error_set(err, rc, 0, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < np; i++)
        fmts[i] = 1;
    rc = check(s, c, PQexecParams(c, (const char *)sql.data, (int)np, NULL, vals, lens, fmts, 1),
               PGRES_COMMAND_OK, "inserting records", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    *inserted = rows_of(r);
cleanup:
    PQclear(r);
    stint_buf_free(&sql);
    free(vals);
    free(lens);
    free(fmts);
    free(seqs);
    return rc;
}

/* Appends the binary form of a one-dimensional array without NULLs (PostgreSQL's array_send):
 * ndim, has-null, element type, length, lower bound, then each element as length and bytes. */
static enum stint_err array_head(struct stint_buf *b, uint32_t elem_oid, size_t n)
{
    uint8_t h[20];
    uint32_t v[5];
    int i;

    v[0] = 1;
    v[1] = 0;
    v[2] = elem_oid;
    v[3] = (uint32_t)n;
    v[4] = 1;
    for (i = 0; i < 5; i++) {
        h[4 * i] = (uint8_t)(v[i] >> 24);
        h[4 * i + 1] = (uint8_t)(v[i] >> 16);
        h[4 * i + 2] = (uint8_t)(v[i] >> 8);
        h[4 * i + 3] = (uint8_t)v[i];
    }
    return stint_buf_append(b, h, sizeof(h));
}

static enum stint_err array_elem(struct stint_buf *b, const uint8_t *data, uint32_t len)
{
    uint8_t h[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    enum stint_err rc = stint_buf_append(b, h, 4);
    return rc == STINT_OK ? stint_buf_append(b, data, len) : rc;
}

/* The unnest way: the seqs and values go as two binary arrays ($3 int8[], $4 bytea[]) of one
 * INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING: four parameters whatever the
 * batch's size, no statement text to parse per record. */
static enum stint_err insert_unnest(struct pg_store *s, PGconn *c, const struct stint_store_put *p,
                                    uint64_t *inserted, struct stint_error *err)
{
    struct stint_buf seqs = {0}, vals_arr = {0};
    const char *vals[4];
    int lens[4];
    PGresult *r = NULL;
    enum stint_err rc;
    size_t i;

    rc = array_head(&seqs, 20 /* int8 */, p->n);
    if (rc == STINT_OK)
        rc = array_head(&vals_arr, 17 /* bytea */, p->n);
    for (i = 0; i < p->n && rc == STINT_OK; i++) {
        uint8_t be[8];
        stint_be64_put(be, p->items[i].seq ^ SEQ_FLIP);
        rc = array_elem(&seqs, be, 8);
        if (rc == STINT_OK)
            rc = array_elem(&vals_arr, p->values + p->items[i].off, p->items[i].len);
    }
    if (rc != STINT_OK) {
        rc = stint_error_set(err, rc, 0, "out of memory");
        goto cleanup;
    }
    agent_params(p, vals, lens);
    vals[2] = (const char *)seqs.data;
    lens[2] = (int)seqs.len;
    vals[3] = (const char *)vals_arr.data;
    lens[3] = (int)vals_arr.len;
    rc = query(s, c,
               "INSERT INTO stint_records (account, agent_id, seq, value) "
               "SELECT $1::text, $2::bytea, u.seq, u.value "
               "FROM unnest($3::int8[], $4::bytea[]) AS u(seq, value) ON CONFLICT DO NOTHING",
               4, vals, lens, PGRES_COMMAND_OK, "inserting records", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    *inserted = rows_of(r);
cleanup:
    PQclear(r);
    stint_buf_free(&seqs);
    stint_buf_free(&vals_arr);
    return rc;
}

/* The COPY way: the batch goes into the session's staging table in PostgreSQL's binary COPY
 * format, then one INSERT ... SELECT moves it (ON COMMIT DELETE ROWS empties the stage). */
static enum stint_err insert_copy(struct pg_store *s, PGconn *c, const struct stint_store_put *p,
                                  uint64_t *inserted, struct stint_error *err)
{
    static const uint8_t head[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
    struct stint_buf buf = {0};
    const char *vals[2];
    int lens[2];
    PGresult *r = NULL;
    enum stint_err rc = STINT_OK;
    size_t i;

    rc = stint_buf_append(&buf, head, sizeof(head));
    for (i = 0; i < p->n && rc == STINT_OK; i++) {
        uint8_t t[2 + 4 + 8 + 4];
        uint32_t len = p->items[i].len;
        t[0] = 0;
        t[1] = 2; /* two fields */
        t[2] = t[3] = t[4] = 0;
        t[5] = 8;
        stint_be64_put(t + 6, p->items[i].seq ^ SEQ_FLIP);
        t[14] = (uint8_t)(len >> 24);
        t[15] = (uint8_t)(len >> 16);
        t[16] = (uint8_t)(len >> 8);
        t[17] = (uint8_t)len;
        rc = stint_buf_append(&buf, t, sizeof(t));
        if (rc == STINT_OK)
            rc = stint_buf_append(&buf, p->values + p->items[i].off, len);
    }
    if (rc == STINT_OK)
        rc = stint_buf_append(&buf, (const uint8_t *)"\xff\xff", 2);
    if (rc != STINT_OK) {
        rc = stint_error_set(err, rc, 0, "out of memory");
        goto cleanup;
    }
    rc = check(s, c, PQexec(c, "COPY stint_stage FROM STDIN (FORMAT binary)"), PGRES_COPY_IN,
               "COPY into the stage", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    PQclear(r);
    r = NULL;
    if (PQputCopyData(c, (const char *)buf.data, (int)buf.len) != 1 || PQputCopyEnd(c, NULL) != 1) {
        rc = failed(s, c, NULL, "COPY into the stage", err);
        goto cleanup;
    }
    rc = check(s, c, PQgetResult(c), PGRES_COMMAND_OK, "COPY into the stage", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    agent_params(p, vals, lens);
    rc = query(s, c,
               "INSERT INTO stint_records (account, agent_id, seq, value) "
               "SELECT $1::text, $2::bytea, seq, value FROM stint_stage ON CONFLICT DO NOTHING",
               2, vals, lens, PGRES_COMMAND_OK, "inserting records from the stage", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    *inserted = rows_of(r);
cleanup:
    PQclear(r);
    stint_buf_free(&buf);
    return rc;
}

enum stint_err stint_pg_commit(struct pg_store *s, struct stint_store_put *p, struct stint_ack *ack,
                               enum stint_store_outcome *outcome, struct stint_error *err)
{
    struct conn *cn = NULL;
    PGconn *c;
    PGresult *r = NULL;
    struct stint_buf ackbuf = {0};
    const char *vals[5];
    int lens[5];
    uint8_t lk[8], fp[8];
    uint64_t inserted = 0, max_seq = 0;
    enum stint_err rc;
    bool drop = false;

    *outcome = STINT_STORE_STORED;
    if (p->n > 1)
        qsort(p->items, p->n, sizeof(*p->items), cmp_item);
    rc = acquire(s, &cn, err);
    if (rc != STINT_OK)
        return rc;
    c = cn->pg;
    rc = run(s, c, "BEGIN", PGRES_COMMAND_OK, "BEGIN", err);
    if (rc != STINT_OK)
        goto cleanup;
    stint_be64_put(lk, lock_key(p->account, p->agent_id));
    vals[0] = (const char *)lk;
    lens[0] = 8;
    rc = query(s, c, "SELECT pg_advisory_xact_lock($1::int8)", 1, vals, lens, PGRES_TUPLES_OK,
               "locking the agent", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    PQclear(r);

    /* 1. the kept Ack */
    agent_params(p, vals, lens);
    vals[2] = p->idem;
    lens[2] = (int)p->idem_len;
    rc = query(s, c,
               "SELECT fingerprint, ack FROM stint_acks WHERE account = $1::text AND "
               "agent_id = $2::bytea AND idem = $3::bytea",
               3, vals, lens, PGRES_TUPLES_OK, "reading an Ack", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    if (PQntuples(r) == 1) {
        struct stint_ack stored;
        if (PQgetlength(r, 0, 0) != 8 ||
            stint_be64_get((const uint8_t *)PQgetvalue(r, 0, 0)) != p->fingerprint) {
            *outcome = STINT_STORE_CONFLICT;
            goto rollback;
        }
        rc = stint_pb_decode_ack((const uint8_t *)PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1),
                                 &stored, NULL, err);
        if (rc != STINT_OK)
            goto cleanup;
        stint_ack_free(ack);
        *ack = stored;
        *outcome = STINT_STORE_REPLAY;
        goto rollback;
    }
    PQclear(r);
    r = NULL;

    /* 2. a batch without records only learns the agent's highest stored seq */
    if (p->n == 0 && ack->n_rejected == 0) {
        rc = query(s, c,
                   "SELECT max(seq) FROM stint_records WHERE account = $1::text AND "
                   "agent_id = $2::bytea",
                   2, vals, lens, PGRES_TUPLES_OK, "reading the highest seq", &r, err);
        if (rc == STINT_OK)
            rc = one_row(s, c, r, "reading the highest seq", err);
        if (rc != STINT_OK)
            goto cleanup;
        if (!PQgetisnull(r, 0, 0) && PQgetlength(r, 0, 0) == 8)
            ack->acked_seq = stint_be64_get((const uint8_t *)PQgetvalue(r, 0, 0)) ^ SEQ_FLIP;
        else
            ack->acked_seq = 0;
        goto rollback;
    }

    /* 3. the records: the unique key tells new from held */
    if (p->n > 0) {
        rc = s->ingest == INGEST_COPY     ? insert_copy(s, c, p, &inserted, err)
             : s->ingest == INGEST_VALUES ? insert_values(s, c, p, &inserted, err)
                                          : insert_unnest(s, c, p, &inserted, err);
        if (rc != STINT_OK)
            goto cleanup;
        max_seq = p->items[p->n - 1].seq;
    }
    ack->stored = inserted;
    ack->duplicates = p->n - inserted;
    if (p->n > 0 && max_seq > ack->acked_seq)
        ack->acked_seq = max_seq;

    /* 4. the Ack, kept under its key, in the same transaction */
    stint_be64_put(fp, p->fingerprint);
    rc = stint_pb_encode_ack(ack, &ackbuf);
    if (rc != STINT_OK) {
        rc = stint_error_set(err, rc, 0, "encoding the Ack to keep");
        goto cleanup;
    }
    vals[3] = (const char *)fp;
    lens[3] = 8;
    vals[4] = ackbuf.len ? (const char *)ackbuf.data : "";
    lens[4] = (int)ackbuf.len;
    rc = query(s, c,
               "INSERT INTO stint_acks (account, agent_id, idem, fingerprint, ack) VALUES "
               "($1::text, $2::bytea, $3::bytea, $4::int8, $5::bytea)",
               5, vals, lens, PGRES_COMMAND_OK, "keeping the Ack", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    PQclear(r);
    r = NULL;
    /* a failed COMMIT has an unknown outcome: no Ack; the retry meets the unique key or the kept
     * Ack */
    rc = run(s, c, "COMMIT", PGRES_COMMAND_OK, "COMMIT", err);
    goto cleanup;
rollback:
    PQclear(r);
    r = NULL;
    rc = run(s, c, "ROLLBACK", PGRES_COMMAND_OK, "ROLLBACK", err);
cleanup:
    if (rc != STINT_OK)
        drop = true;
    PQclear(r);
    stint_buf_free(&ackbuf);
    release(s, cn, drop);
    return rc;
}

enum stint_err stint_pg_dump(struct pg_store *s, const char *account, uint64_t since,
                             stint_store_dump_fn fn, void *ctx, struct stint_error *err)
{
    struct conn *cn = NULL;
    PGconn *c;
    PGresult *r = NULL;
    struct stint_stored *st = malloc(sizeof(*st));
    const char *vals[2];
    int lens[2], fmts[2] = {1, 1};
    uint8_t sb[8];
    enum stint_err rc;
    bool drop = false;

    if (!st)
        return stint_error_set(err, STINT_ENOMEM, 0, "out of memory");
    rc = acquire(s, &cn, err);
    if (rc != STINT_OK) {
        free(st);
        return rc;
    }
    c = cn->pg;
    stint_be64_put(sb, since ^ SEQ_FLIP);
    vals[0] = account;
    lens[0] = (int)strlen(account);
    vals[1] = (const char *)sb;
    lens[1] = 8;
    if (!PQsendQueryParams(c,
                           "SELECT agent_id, seq, value FROM stint_records WHERE account = "
                           "$1::text AND seq > $2::int8 ORDER BY agent_id, seq",
                           2, NULL, vals, lens, fmts, 1) ||
        !PQsetSingleRowMode(c)) {
        rc = failed(s, c, NULL, "reading records", err);
        goto cleanup;
    }
    /* one row at a time: an account's records need not fit in memory */
    while ((r = PQgetResult(c))) {
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_SINGLE_TUPLE && rc == STINT_OK) {
            if (PQgetlength(r, 0, 0) != STINT_AGENT_ID_LEN) {
                rc = stint_error_set(err, STINT_EIO, 0, "data: malformed agent_id");
            } else {
                memcpy(st->agent_id, PQgetvalue(r, 0, 0), STINT_AGENT_ID_LEN);
                rc = stint_store_value_decode((const uint8_t *)PQgetvalue(r, 0, 2),
                                              (size_t)PQgetlength(r, 0, 2), st, err);
                if (rc == STINT_OK)
                    rc = fn(ctx, st);
            }
            if (rc != STINT_OK)
                drop = true; /* the rest of the rows still come: the connection goes */
        } else if (t != PGRES_SINGLE_TUPLE && t != PGRES_TUPLES_OK && rc == STINT_OK) {
            rc = failed(s, c, r, "reading records", err);
        }
        PQclear(r);
    }
    r = NULL;
cleanup:
    if (rc != STINT_OK)
        drop = true;
    PQclear(r);
    free(st);
    release(s, cn, drop);
    return rc;
}

enum stint_err stint_pg_stats(struct pg_store *s, stint_store_stats_fn fn, void *ctx,
                              struct stint_error *err)
{
    struct conn *cn = NULL;
    PGconn *c;
    PGresult *r = NULL;
    enum stint_err rc;
    int i;

    rc = acquire(s, &cn, err);
    if (rc != STINT_OK)
        return rc;
    c = cn->pg;
    rc = check(s, c,
               PQexecParams(c,
                            "SELECT account, agent_id, count(*)::int8, max(seq) FROM stint_records "
                            "GROUP BY account, agent_id ORDER BY account, agent_id",
                            0, NULL, NULL, NULL, NULL, 1),
               PGRES_TUPLES_OK, "reading counts", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    for (i = 0; i < PQntuples(r) && rc == STINT_OK; i++) {
        char account[65];
        int alen = PQgetlength(r, i, 0);
        if (alen <= 0 || alen >= (int)sizeof(account) ||
            PQgetlength(r, i, 1) != STINT_AGENT_ID_LEN || PQgetlength(r, i, 2) != 8 ||
            PQgetlength(r, i, 3) != 8)
            continue;
        memcpy(account, PQgetvalue(r, i, 0), (size_t)alen);
        account[alen] = '\0';
        rc = fn(ctx, account, (const uint8_t *)PQgetvalue(r, i, 1),
                stint_be64_get((const uint8_t *)PQgetvalue(r, i, 2)),
                stint_be64_get((const uint8_t *)PQgetvalue(r, i, 3)) ^ SEQ_FLIP);
    }
cleanup:
    PQclear(r);
    release(s, cn, rc != STINT_OK);
    return rc;
}

enum stint_err stint_pg_delete_account(struct pg_store *s, const char *account, uint64_t *deleted,
                                       struct stint_error *err)
{
    struct conn *cn = NULL;
    PGconn *c;
    PGresult *r = NULL;
    const char *vals[1];
    int lens[1];
    enum stint_err rc;

    *deleted = 0;
    if (strlen(account) > 64)
        return stint_error_set(err, STINT_EINVAL, 0, "bad account");
    rc = acquire(s, &cn, err);
    if (rc != STINT_OK)
        return rc;
    c = cn->pg;
    vals[0] = account;
    lens[0] = (int)strlen(account);
    rc = run(s, c, "BEGIN", PGRES_COMMAND_OK, "BEGIN", err);
    if (rc != STINT_OK)
        goto cleanup;
    rc = query(s, c, "DELETE FROM stint_records WHERE account = $1::text", 1, vals, lens,
               PGRES_COMMAND_OK, "deleting records", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    *deleted = rows_of(r);
    PQclear(r);
    rc = query(s, c, "DELETE FROM stint_acks WHERE account = $1::text", 1, vals, lens,
               PGRES_COMMAND_OK, "deleting Acks", &r, err);
    if (rc != STINT_OK)
        goto cleanup;
    PQclear(r);
    r = NULL;
    rc = run(s, c, "COMMIT", PGRES_COMMAND_OK, "COMMIT of a delete", err);
cleanup:
    if (rc != STINT_OK)
        *deleted = 0;
    PQclear(r);
    release(s, cn, rc != STINT_OK);
    return rc;
}
