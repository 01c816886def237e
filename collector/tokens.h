/* tokens.h — the collector's bearer tokens: which token belongs to which account.
 *
 * The tokens file holds one `TOKEN ACCOUNT` pair a line; blank lines and lines starting with `#`
 * are ignored. A token is 16..256 visible ASCII characters; an account is 1..64 characters of
 * [A-Za-z0-9._-]. The file must not be readable by group or others. Lookups compare in constant
 * time with respect to the token's bytes. */
#ifndef STINT_COLLECTOR_TOKENS_H
#define STINT_COLLECTOR_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include "stint/error.h"

#define STINT_TOKEN_MIN 16
#define STINT_TOKEN_MAX 256
#define STINT_ACCOUNT_MAX 64

struct stint_tokens; /* opaque */

/* Parses tokens from text. On success *out is the caller's: release with stint_tokens_destroy().
 * STINT_ESYNTAX (with the line number in err) for a malformed line or a duplicate token. */
enum stint_err stint_tokens_parse(const char *text, size_t len, struct stint_tokens **out,
                                  struct stint_error *err);

/* Reads and parses the file at path; STINT_EIO when it cannot be read, STINT_EINVAL when group or
 * others may read it (the message says the mode). */
enum stint_err stint_tokens_load(const char *path, struct stint_tokens **out,
                                 struct stint_error *err);

/* The account of token (len bytes), or NULL. Every stored token is compared, each in time that
 * does not depend on where the bytes differ. The string belongs to t. */
const char *stint_tokens_lookup(const struct stint_tokens *t, const char *token, size_t len);

/* Number of tokens held. */
size_t stint_tokens_count(const struct stint_tokens *t);

/* True when s (len bytes) is a valid account name. */
bool stint_account_valid(const char *s, size_t len);

void stint_tokens_destroy(struct stint_tokens *t); /* NULL is fine */

#endif
