/* config.h — stintd's settings: defaults, the INI file, command-line overrides, the token file.
 *
 * One struct holds every setting (stintd's flags, README.md "Configuration", plus the tracker's,
 * the sender's and the journal's). packaging/agent.ini.example lists every key with its default
 * and why.
 *
 *   [agent]    source, socket, log_level
 *   [tracker]  idle_after, checkpoint_every, private_records, url_mode
 *   [sender]   server, token_file, ca_file, pinned_key, encoding, gzip, batch_records,
 *              batch_bytes, backoff_base, backoff_cap, timeout
 *   [journal]  path, sync, sync_interval, max_bytes, max_age, full, history, history_max
 *   [filters]  rule (repeatable, in order: "rule = ACTION MATCH PATTERN", filters.h)
 *
 * Values: durations are a number with an optional unit (ms, s, m, h, d; no unit means seconds),
 * sizes a number with an optional unit (B, K/KiB, M/MiB, G/GiB; no unit means bytes), booleans
 * on/off, true/false, yes/no, 1/0. Paths may start with "~/". Unknown sections and keys are
 * errors, as is a key given twice ([filters] rule excepted: each one adds a rule, checked as it
 * comes, so a bad pattern is an error naming its line). Every error message names the file, the
 * line and the key: "agent.ini:12: [tracker] idle_after: not a duration: \"soon\"".
 *
 * Parsing is streaming (wireguard-tools' init/line/finish, over libinih): stint_config_defaults()
 * fills the defaults (XDG paths), stint_config_load() feeds a file through libinih, and
 * stint_config_set() applies one "section.key" = value from elsewhere (stintd's flags, named
 * "command line"), so flags override the file and go through the same checks.
 * stint_config_finish() checks what depends on several keys.
 *
 * The token is never part of this struct and never logged: stint_config_read_token() reads it
 * from token_file on demand, refusing a file that group or others can access.
 */
#ifndef STINT_AGENT_CONFIG_H
#define STINT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filters.h"
#include "journal.h"
#include "error.h" /* the agent's error convention */
#include "url.h"
#include "common/log.h" /* enum stint_log_level */

#define STINT_CONFIG_PATH_MAX 4096
#define STINT_CONFIG_TOKEN_MAX 1024

enum stint_encoding {
    STINT_ENCODING_PROTOBUF = 0,    /* application/x-protobuf (the default) */
    STINT_ENCODING_JSON = 1,        /* application/json, the proto3 JSON mapping */
    STINT_ENCODING_LEGACY_FORM = 2, /* the legacy payload, form-encoded, to /v1/legacy */
    STINT_ENCODING_LEGACY_JSON = 3, /* the legacy payload as JSON, to /v1/legacy */
};

struct stint_config {
    /* [agent] */
    char source[STINT_CONFIG_PATH_MAX]; /* auto, wayland, gnome, x11, stdin, jsonl:PATH */
    bool browser; /* `source` also named browser: merge stint-browser-host's reports */
    char socket[STINT_CONFIG_PATH_MAX]; /* "" when $XDG_RUNTIME_DIR is unset and none given */
    enum stint_log_level log_level;
    /* [tracker] */
    int64_t idle_after_ms;       /* 180 s */
    int64_t checkpoint_every_ms; /* 30 s */
    bool private_records;        /* on: a private record (times only) marks private spans */
    enum stint_url_mode url_mode;
    /* [sender] */
    char server[STINT_CONFIG_PATH_MAX]; /* base URL; "" means: journal only, send nothing */
    char token_file[STINT_CONFIG_PATH_MAX];
    char ca_file[STINT_CONFIG_PATH_MAX];    /* "" : the system's CAs */
    char pinned_key[STINT_CONFIG_PATH_MAX]; /* "" or curl's "sha256//...;sha256//..." */
    enum stint_encoding encoding;
    bool gzip;
    uint32_t batch_records;  /* 1000 */
    uint64_t batch_bytes;    /* 1 MiB */
    int64_t backoff_base_ms; /* 1 s */
    int64_t backoff_cap_ms;  /* 300 s */
    int64_t probe_ms;        /* 1 s: the retry interval while the server is away */
    int64_t timeout_ms;      /* 60 s per request */
    /* [journal] */
    char journal[STINT_CONFIG_PATH_MAX];
    enum stint_sync sync;
    int64_t sync_interval_ms; /* 1 s */
    uint64_t max_bytes;       /* 512 MiB */
    int64_t max_age_ms;       /* 90 d; 0 in the file means "keep forever" (stored as -1) */
    enum stint_full full;
    int64_t history_ms;         /* 14 d: acked records kept for the report; 0: none */
    uint64_t history_max_bytes; /* 64 MiB */
    /* [filters]: the rules' text in order, each checked (stint_filters_check); where[i] names
     * its origin ("agent.ini:12") for later messages. Turn them into a list with
     * stint_config_filters(). */
    char filters[STINT_FILTERS_MAX][STINT_FILTER_RULE_MAX];
    char filter_where[STINT_FILTERS_MAX][80];
    size_t n_filters;
};

/* Fills every default. XDG paths come from the environment: journal $XDG_STATE_HOME/stint/journal
 * (else ~/.local/state/...), socket $XDG_RUNTIME_DIR/stint/control (else ""), token_file
 * $XDG_CONFIG_HOME/stint/token (else ~/.config/...). STINT_EINVAL when neither the XDG variable
 * nor $HOME gives a path (e->msg says which). */
enum stint_err stint_config_defaults(struct stint_config *c, struct stint_error *e);

/* The default config file: $XDG_CONFIG_HOME/stint/agent.ini, else ~/.config/stint/agent.ini.
 * Writes it into buf (cap bytes); false when no path can be made or it does not fit. */
bool stint_config_default_path(char *buf, size_t cap);

/* Reads an INI file over c (which holds the defaults or earlier values). Every key is checked as
 * it comes; the first error stops nothing (libinih reads on) but is the one reported, in e->msg as
 * "FILE:LINE: [section] key: what", e->offset = the line. STINT_EIO when the file cannot be read
 * (not found included), STINT_ESYNTAX for a line that is neither a section, a key = value, nor a
 * comment, or longer than libinih's limit, STINT_EINVAL for an unknown section or key, a key given
 * twice, or a bad value. c may be partly updated on error: load into a copy to keep the old one. */
enum stint_err stint_config_load(struct stint_config *c, const char *path, struct stint_error *e);

/* Same, from a string; `name` stands for the file name in messages. */
enum stint_err stint_config_load_string(struct stint_config *c, const char *text, const char *name,
                                        struct stint_error *e);

/* Applies one setting: section "tracker", key "idle_after", value "5m". `where` names the origin
 * in messages ("command line"). STINT_EINVAL as for stint_config_load. */
enum stint_err stint_config_set(struct stint_config *c, const char *section, const char *key,
                                const char *value, const char *where, struct stint_error *e);

/* Checks across keys: backoff_base <= backoff_cap, a source of a known form, server an https://
 * URL (http:// only to a loopback host, as stint_http_url_allowed says), a server without
 * token_file. STINT_EINVAL with a message.
 */
enum stint_err stint_config_finish(struct stint_config *c, struct stint_error *e);

/* Reads the token from c->token_file into buf (cap bytes, NUL-terminated; white space around it
 * dropped) and its length into *len. Refused (STINT_EINVAL) when the file is not a regular file,
 * when group or others have any access to it (it must be 0600 or stricter), when it is empty, or
 * when it holds a control character or more than STINT_CONFIG_TOKEN_MAX bytes; STINT_EIO when it
 * cannot be read. Messages name the file and never include the token. */
enum stint_err stint_config_read_token(const struct stint_config *c, char *buf, size_t cap,
                                       size_t *len, struct stint_error *e);

/* The i-th key of the table (0..): its section and name; false past the last. For help output,
 * a generic --set SECTION.KEY=VALUE flag, and the test that the example file names every key. */
bool stint_config_key(size_t i, const char **section, const char **name);

/* Everything the key table says about the i-th key; false past the last. def is the default as
 * written in the file ("" for an empty one), or NULL when it is made from the environment:
 * def_doc then says how ("$XDG_RUNTIME_DIR/stint/control"). arg names the value's form for
 * --help ("DURATION"), help says what the key does. */
struct stint_config_key_info {
    const char *section, *name, *def, *def_doc, *arg, *help;
};
bool stint_config_key_info(size_t i, struct stint_config_key_info *out);

/* Compiles c's [filters] rules into *out (NULL when there are none). On success *out belongs to
 * the caller: stint_filters_destroy(). Errors as stint_filters_add. */
enum stint_err stint_config_filters(const struct stint_config *c, struct stint_filters **out,
                                    struct stint_error *e);

/* Names of enum values, for status output and the example file (a log level's name is
 * stint_log_level_str, common/log.h). */
const char *stint_encoding_name(enum stint_encoding enc);
const char *stint_sync_name(enum stint_sync s);
const char *stint_full_name(enum stint_full f);

#endif
