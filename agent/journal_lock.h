/* journal_lock.h — one agent per journal folder: a lock file that names its holder.
 * Used by the journal (agent/journal/) only. */
#ifndef STINT_AGENT_JOURNAL_LOCK_H
#define STINT_AGENT_JOURNAL_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Name of the lock file inside the journal folder, beside LevelDB's LOCK. */
#define STINT_JOURNAL_LOCK_FILE "stint.lock"

struct stint_journal_lock {
    int fd; /* -1 when not held */
    dev_t dev;
    ino_t ino;
};

/* Takes the lock of folder `dir` (which must exist). STINT_EIO when another process (or this one,
 * through another handle) holds it: e (may be NULL) then names the folder and the holder's pid.
 * Errors as agent/error.h says. */
enum stint_err stint_journal_lock_take(const char *dir, struct stint_journal_lock *out,
                                       struct stint_error *e);

/* Releases the lock (no-op when not held). */
void stint_journal_lock_release(struct stint_journal_lock *l);

#endif
