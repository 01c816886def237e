/* store_damage.h — the LevelDB store's evidence of a damaged database (store_damage.c).
 *
 * Internal to the collector. Both functions are best effort and touch only the files of the
 * database folder dir; neither needs the database open. */
#ifndef STINT_COLLECTOR_STORE_DAMAGE_H
#define STINT_COLLECTOR_STORE_DAMAGE_H

#include <stdint.h>

#include "common/log.h"

/* Sums the "dropping N bytes" lines LevelDB wrote to DIR/LOG during the last open: the bytes of
 * a damaged log it skipped while recovering. 0 when there is no LOG to read. */
uint64_t stint_ldb_dropped_in_log(const char *dir);

/* Copies the write-ahead logs (*.log) of dir into dir/damaged-<unix time>/ before a recovery
 * that will skip some of their bytes, so an operator keeps the evidence. Says through log what
 * it kept and what it could not (log is borrowed; NULL: stderr). */
void stint_ldb_keep_damaged_logs(const char *dir, const struct stint_log *log);

#endif
