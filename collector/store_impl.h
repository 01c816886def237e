/* store_impl.h — what the two stores behind store.h implement; only store.c calls these. Each
 * function has the contract of its stint_store_* namesake in store.h. */
#ifndef STINT_COLLECTOR_STORE_IMPL_H
#define STINT_COLLECTOR_STORE_IMPL_H

#include "store.h"

struct ldb_store; /* store_leveldb.c */
struct pg_store;  /* store_pg.c */

enum stint_err stint_ldb_open(const struct stint_store_opts *opts, struct ldb_store **out,
                              struct stint_error *err);
void stint_ldb_close(struct ldb_store *s);
enum stint_err stint_ldb_commit(struct ldb_store *s, struct stint_store_put *p,
                                struct stint_ack *ack, enum stint_store_outcome *outcome,
                                struct stint_error *err);
enum stint_err stint_ldb_dump(struct ldb_store *s, const char *account, uint64_t since,
                              stint_store_dump_fn fn, void *ctx, struct stint_error *err);
enum stint_err stint_ldb_stats(struct ldb_store *s, stint_store_stats_fn fn, void *ctx,
                               struct stint_error *err);
bool stint_ldb_broken(struct ldb_store *s);
void stint_ldb_counters(struct ldb_store *s, struct stint_store_counters *c);
enum stint_err stint_ldb_delete_account(struct ldb_store *s, const char *account, uint64_t *deleted,
                                        struct stint_error *err);

enum stint_err stint_pg_open(const struct stint_store_opts *opts, struct pg_store **out,
                             struct stint_error *err);
void stint_pg_close(struct pg_store *s);
enum stint_err stint_pg_commit(struct pg_store *s, struct stint_store_put *p, struct stint_ack *ack,
                               enum stint_store_outcome *outcome, struct stint_error *err);
enum stint_err stint_pg_dump(struct pg_store *s, const char *account, uint64_t since,
                             stint_store_dump_fn fn, void *ctx, struct stint_error *err);
enum stint_err stint_pg_stats(struct pg_store *s, stint_store_stats_fn fn, void *ctx,
                              struct stint_error *err);
bool stint_pg_broken(struct pg_store *s);
void stint_pg_counters(struct pg_store *s, struct stint_store_counters *c);
enum stint_err stint_pg_delete_account(struct pg_store *s, const char *account, uint64_t *deleted,
                                       struct stint_error *err);

#endif
