/* error.h — how the agent reports errors: one convention for every module of agent/.
 *
 * The agent uses the codec's one error enum (stint/error.h: enum stint_err, append-only, with
 * stint_strerror) and its one message record (struct stint_error). Modules follow these rules:
 *
 *   1. What a function returns. Every function that can fail returns enum stint_err; STINT_OK is
 *      0. A function that cannot fail returns void or its value. Predicates return bool and never
 *      carry a message.
 *   2. How the message is carried. A function that can fail for a reason a person must read takes
 *      `struct stint_error *e` as its last parameter; NULL is fine. On failure it fills e with
 *      stint_error_set() (the same code it returns, and a message naming what failed and where:
 *      the file, key, path, seq or peer), and returns that code: `return stint_error_set(e, ...)`.
 *      The message is a fixed buffer inside the record (256 bytes, cut if longer).
 *   3. Who frees. Nobody: a struct stint_error is the caller's (usually on its stack), holds no
 *      pointer, and needs no cleanup. Foreign conventions are translated inside the one module that
 *      calls them and never leave it: LevelDB's malloc'd errptr (freed with leveldb_free in
 *      agent/journal/), CURLcode and libcurl's error buffer (agent/http.c, which hands out only
 *      numbers and copied text), errno (turned into strerror text where the call fails).
 *   4. Errors that surface later. A handle that works on its own thread or keeps going past a
 *      failure keeps the message of its last failure for whoever asks: the journal
 *      (stint_journal_last_error, for the calls that take no struct stint_error), and the status
 *      structs of the sender, tracker and source (a `last_error` member, empty once things work
 *      again). That is the only other form; a new function takes rule 2, not a char buffer and its
 *      size.
 *   5. Codes. The control socket carries the code and stint_strerror's name (spec/CONTROL.md,
 *      "Errors"), so what the agent answers with is part of the protocol. The agent uses the
 *      codec's codes where they fit: STINT_EINVAL for a request refused, STINT_EIO for the disk,
 *      the journal or the network, STINT_EUNSUPPORTED for a command the configuration turns off,
 *      STINT_ELIMIT for a cap, STINT_ENOMEM. Where none fits, the agent has a code of its own,
 *      appended to enum stint_err (never renumbered) together with spec/CONTROL.md's table and its
 *      tests: STINT_EPERM for a peer of another uid, STINT_EBUSY for a second purge at once. An old
 *      client that knows neither still reads the message, which starts as it did before.
 */
#ifndef STINT_AGENT_ERROR_H
#define STINT_AGENT_ERROR_H

#include "stint/error.h"

#endif
