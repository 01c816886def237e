/* chromium_id.h — the id Chromium gives an extension loaded unpacked from a folder.
 *
 * Chromium names an unpacked extension after the folder it was loaded from: the SHA-256 of the
 * folder's absolute path (its bytes, symlinks resolved), the first 32 hex digits, each digit
 * 0-f written as a letter a-p. The native messaging host manifest must name that id in
 * allowed_origins, so `stintctl browser install --chromium` computes it. */
#ifndef STINT_CTL_CHROMIUM_ID_H
#define STINT_CTL_CHROMIUM_ID_H

#include <stdbool.h>
#include <stddef.h>

/* Characters of an id (without the terminating NUL). */
#define STINT_CHROMIUM_ID_LEN 32

/* Writes the id for an extension folder at the absolute path `dir` (as given: the caller
 * resolves symlinks first if it wants Chromium's exact view) into out (at least
 * STINT_CHROMIUM_ID_LEN + 1 bytes, NUL-terminated). Returns false, with out empty, when dir is
 * NULL or not absolute. */
bool stint_chromium_id(const char *dir, char *out, size_t cap);

/* True when id is 32 letters a-p. */
bool stint_chromium_id_valid(const char *id);

#endif
