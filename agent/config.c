/* config.c — stintd's settings (see config.h for the format).
 *
 * A table of keys drives everything: section, name, type, where the value goes and its range,
 * so that the file, the command line (stint_config_set) and the example file cannot drift apart
 * (tests/unit/test_config.c checks that packaging/agent.ini.example names exactly these keys).
 *
 * libinih does the INI syntax. Its handler is not told the line number (Debian builds it without
 * INI_HANDLER_LINENO), so the text goes through ini_parse_stream with a reader of our own that
 * counts lines: inih asks for one line, parses it and calls the handler before asking for the
 * next, so the reader's count is the handler's line. The reader also catches a line longer than
 * inih's buffer (inih would silently split it into two lines). A file is read whole (at most
 * CONFIG_FILE_MAX bytes) first, so there is one code path for files and strings.
 *
 * The token is not a setting: it stays in its file until the sender asks for it.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"

#define CONFIG_FILE_MAX (1u << 20)

enum type { T_PATH, T_SOURCE, T_STRING, T_DURATION, T_SIZE, T_U32, T_BOOL, T_ENUM };

struct enum_name {
    const char *name;
    int value;
};

static const struct enum_name log_levels[] = {{"error", STINT_LOG_ERROR},
                                              {"warn", STINT_LOG_WARN},
                                              {"info", STINT_LOG_INFO},
                                              {"debug", STINT_LOG_DEBUG},
                                              {NULL, 0}};
static const struct enum_name url_modes[] = {
    {"host", STINT_URL_HOST}, {"full", STINT_URL_FULL}, {NULL, 0}};
static const struct enum_name encodings[] = {{"protobuf", STINT_ENCODING_PROTOBUF},
                                             {"json", STINT_ENCODING_JSON},
                                             {"legacy-form", STINT_ENCODING_LEGACY_FORM},
                                             {"legacy-json", STINT_ENCODING_LEGACY_JSON},
                                             {NULL, 0}};
static const struct enum_name syncs[] = {{"always", STINT_SYNC_ALWAYS},
                                         {"interval", STINT_SYNC_INTERVAL},
                                         {"none", STINT_SYNC_NONE},
                                         {NULL, 0}};
static const struct enum_name fulls[] = {
    {"drop_oldest", STINT_FULL_DROP_OLDEST}, {"drop_newest", STINT_FULL_DROP_NEWEST}, {NULL, 0}};

struct key {
    const char *section, *name;
    enum type type;
    size_t off;
    int64_t min, max;              /* durations (ms), sizes, counts */
    const struct enum_name *names; /* T_ENUM */
    bool empty_ok;                 /* T_PATH, T_STRING */
    /* The default, as written in the file (it is parsed like a value from the file, so this is
     * where every default comes from), or NULL for one made from the environment (XDG paths),
     * which `def_doc` describes. `arg` and `help` are for --help; the example file and
     * spec/AGENT.md's table show the same default, and tests/integration/defaults_agree.py
     * checks that all three agree. */
    const char *def, *def_doc, *arg, *help;
};

#define OFF(f) offsetof(struct stint_config, f)
#define SEC 1000LL
#define MIB (1024LL * 1024)
static const struct key keys[] = {
    {"agent", "source", T_SOURCE, OFF(source), 0, 0, NULL, false, "auto", NULL,
     "auto|wayland|gnome|x11|stdin|jsonl:PATH[, browser]", "what to watch; add browser for URLs"},
    {"agent", "socket", T_PATH, OFF(socket), 0, 0, NULL, false, NULL,
     "$XDG_RUNTIME_DIR/stint/control", "PATH", "the control socket for stintctl"},
    {"agent", "log_level", T_ENUM, OFF(log_level), 0, 0, log_levels, false, "info", NULL,
     "error|warn|info|debug", "how much to log (-v raises it)"},
    {"tracker", "idle_after", T_DURATION, OFF(idle_after_ms), 5 * SEC, 24 * 3600 * SEC, NULL, false,
     "180s", NULL, "DURATION", "no input this long is idle"},
    {"tracker", "checkpoint_every", T_DURATION, OFF(checkpoint_every_ms), 1 * SEC, 3600 * SEC, NULL,
     false, "30s", NULL, "DURATION", "save the open record this often"},
    {"tracker", "private_records", T_BOOL, OFF(private_records), 0, 0, NULL, false, "on", NULL,
     "on|off", "mark private spans with a record of times only"},
    {"tracker", "url_mode", T_ENUM, OFF(url_mode), 0, 0, url_modes, false, "host", NULL,
     "host|full", "how much of a URL is kept"},
    {"sender", "server", T_STRING, OFF(server), 0, 0, NULL, true, "", NULL, "URL",
     "https:// base URL; empty: journal only, send nothing"},
    {"sender", "token_file", T_PATH, OFF(token_file), 0, 0, NULL, false, NULL,
     "$XDG_CONFIG_HOME/stint/token", "FILE", "the bearer token, mode 0600 or stricter"},
    {"sender", "ca_file", T_PATH, OFF(ca_file), 0, 0, NULL, true, "", NULL, "FILE",
     "CA bundle for the server; empty: the system's CAs"},
    {"sender", "pinned_key", T_STRING, OFF(pinned_key), 0, 0, NULL, true, "", NULL,
     "sha256//BASE64[;...]", "pin the server's public key; empty: no pin"},
    {"sender", "encoding", T_ENUM, OFF(encoding), 0, 0, encodings, false, "protobuf", NULL,
     "protobuf|json|legacy-form|legacy-json", "the body format"},
    {"sender", "gzip", T_BOOL, OFF(gzip), 0, 0, NULL, false, "on", NULL, "on|off",
     "compress request bodies"},
    {"sender", "batch_records", T_U32, OFF(batch_records), 1, 10000, NULL, false, "1000", NULL, "N",
     "records per request at most"},
    {"sender", "batch_bytes", T_SIZE, OFF(batch_bytes), 4096, 16 * MIB, NULL, false, "1MiB", NULL,
     "SIZE", "record bytes per request at most (before gzip)"},
    {"sender", "backoff_base", T_DURATION, OFF(backoff_base_ms), 10, 3600 * SEC, NULL, false, "1s",
     NULL, "DURATION", "the first retry waits up to this"},
    {"sender", "backoff_cap", T_DURATION, OFF(backoff_cap_ms), 10, 24 * 3600 * SEC, NULL, false,
     "300s", NULL, "DURATION", "no retry waits longer"},
    {"sender", "probe_interval", T_DURATION, OFF(probe_ms), 100, 60 * SEC, NULL, false, "1s", NULL,
     "DURATION", "server away (refused, unreachable): try again after about this (0.5x-1.5x)"},
    {"sender", "timeout", T_DURATION, OFF(timeout_ms), 1 * SEC, 600 * SEC, NULL, false, "60s", NULL,
     "DURATION", "one request may take this long"},
    {"journal", "path", T_PATH, OFF(journal), 0, 0, NULL, false, NULL,
     "$XDG_STATE_HOME/stint/journal", "DIR", "the journal folder (yours, mode 0700)"},
    {"journal", "sync", T_ENUM, OFF(sync), 0, 0, syncs, false, "interval", NULL,
     "always|interval|none", "when records reach the disk"},
    {"journal", "sync_interval", T_DURATION, OFF(sync_interval_ms), 1, 60 * SEC, NULL, false, "1s",
     NULL, "DURATION", "group commit period"},
    {"journal", "max_bytes", T_SIZE, OFF(max_bytes), 64 * 1024, INT64_MAX, NULL, false, "512MiB",
     NULL, "SIZE", "bound on unsent records"},
    /* 0 = keep forever; otherwise at least an hour */
    {"journal", "max_age", T_DURATION, OFF(max_age_ms), 0, 36500LL * 24 * 3600 * SEC, NULL, false,
     "90d", NULL, "DURATION", "unsent records older than this are dropped; 0: keep"},
    {"journal", "full", T_ENUM, OFF(full), 0, 0, fulls, false, "drop_oldest", NULL,
     "drop_oldest|drop_newest", "what a full journal drops"},
    /* 0 = keep none; otherwise at least an hour */
    {"journal", "history", T_DURATION, OFF(history_ms), 0, 36500LL * 24 * 3600 * SEC, NULL, false,
     "14d", NULL, "DURATION", "sent records kept for `stintctl report`; 0: keep none"},
    {"journal", "history_max", T_SIZE, OFF(history_max_bytes), 64 * 1024, INT64_MAX, NULL, false,
     "64MiB", NULL, "SIZE", "bound on the history (the oldest go first)"},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* T_ENUM values are stored as int */
_Static_assert(sizeof(enum stint_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum stint_url_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum stint_encoding) == sizeof(int), "enum size");
_Static_assert(sizeof(enum stint_sync) == sizeof(int), "enum size");
_Static_assert(sizeof(enum stint_full) == sizeof(int), "enum size");

static const char *const sections[] = {"agent", "tracker", "sender", "journal"};

/* ---- paths ---- */

/* dir from $var, else $HOME/fallback; then "/stint/" leaf. */
static bool xdg_path(char *buf, size_t cap, const char *var, const char *fallback, const char *leaf)
{
    const char *v = getenv(var);
    int n;
    if (v && v[0] == '/') {
        n = snprintf(buf, cap, "%s/stint/%s", v, leaf);
    } else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
            return false;
        }
        n = snprintf(buf, cap, "%s/%s/stint/%s", home, fallback, leaf);
    }
    return n > 0 && (size_t)n < cap;
}

bool stint_config_default_path(char *buf, size_t cap)
{
    return xdg_path(buf, cap, "XDG_CONFIG_HOME", ".config", "agent.ini");
}

static bool apply(struct stint_config *c, const struct key *k, const char *value, char *why,
                  size_t cap);

enum stint_err stint_config_defaults(struct stint_config *c, struct stint_error *e)
{
    const char *run = getenv("XDG_RUNTIME_DIR");
    char why[200];

    memset(c, 0, sizeof(*c));
    stint_error_clear(e);
    /* every default comes from the key table, through the same parser as the file */
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (keys[i].def && !apply(c, &keys[i], keys[i].def, why, sizeof(why))) {
            return stint_error_set(e, STINT_EINVAL, 0, "[%s] %s: bad default \"%s\": %s",
                                   keys[i].section, keys[i].name, keys[i].def, why);
        }
    }
    if (run && run[0] == '/') {
        int n = snprintf(c->socket, sizeof(c->socket), "%s/stint/control", run);
        if (n < 0 || (size_t)n >= sizeof(c->socket)) {
            c->socket[0] = '\0';
        }
    }
    if (!xdg_path(c->journal, sizeof(c->journal), "XDG_STATE_HOME", ".local/state", "journal")) {
        return stint_error_set(e, STINT_EINVAL, 0,
                               "journal path: neither $XDG_STATE_HOME nor $HOME is set");
    }
    if (!xdg_path(c->token_file, sizeof(c->token_file), "XDG_CONFIG_HOME", ".config", "token")) {
        return stint_error_set(e, STINT_EINVAL, 0,
                               "token_file: neither $XDG_CONFIG_HOME nor $HOME is set");
    }
    return STINT_OK;
}

/* ---- values ---- */

/* Parses a non-negative decimal integer prefix; returns chars used, 0 on none or overflow. */
static size_t parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
    }
    *out = v;
    return i;
}

static bool parse_scaled(const char *s, const char *const *units, const uint64_t *mult,
                         uint64_t *out)
{
    uint64_t v = 0;
    size_t n = parse_uint(s, &v);
    if (n == 0) {
        return false;
    }
    s += n;
    while (*s == ' ') {
        s++;
    }
    for (size_t i = 0; units[i]; i++) {
        if (strcmp(s, units[i]) == 0) {
            if (mult[i] && v > UINT64_MAX / mult[i]) {
                return false;
            }
            *out = v * mult[i];
            return true;
        }
    }
    return false;
}

static bool parse_duration_ms(const char *s, int64_t *out)
{
    static const char *const units[] = {"", "ms", "s", "m", "min", "h", "d", NULL};
    static const uint64_t mult[] = {1000, 1, 1000, 60000, 60000, 3600000, 86400000};
    uint64_t v = 0;
    if (!parse_scaled(s, units, mult, &v) || v > (uint64_t)INT64_MAX) {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

static bool parse_size(const char *s, uint64_t *out)
{
    static const char *const units[] = {"", "B", "K", "KiB", "M", "MiB", "G", "GiB", NULL};
    static const uint64_t mult[] = {1, 1, 1024, 1024, 1024 * 1024, 1024 * 1024, 1u << 30, 1u << 30};
    return parse_scaled(s, units, mult, out);
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return true;
        }
    }
    return false;
}

/* "~/x" -> "$HOME/x"; otherwise a copy. False when it does not fit or $HOME is missing. */
static bool expand_path(const char *v, char *dst, size_t cap)
{
    int n;
    if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
            return false;
        }
        n = snprintf(dst, cap, "%s%s", home, v + 1);
    } else {
        n = snprintf(dst, cap, "%s", v);
    }
    return n >= 0 && (size_t)n < cap;
}

/* Parses a source value ("x11", "jsonl:PATH", ...; "WINDOW, browser" in either order: the window
 * source and the browser's reports) into tmp (tcap bytes: the window source, ~ expanded) and
 * c->browser; on a bad value fills why (cap bytes) and returns false. */
static bool parse_source(struct stint_config *c, const char *v, char *tmp, size_t tcap, char *why,
                         size_t cap)
{
    char one[STINT_CONFIG_PATH_MAX];
    const char *comma = strchr(v, ',');
    c->browser = false;
    if (comma) {
        const char *a = v, *b = comma + 1, *ae = comma;
        while (*b == ' ' || *b == '\t')
            b++;
        while (ae > a && (ae[-1] == ' ' || ae[-1] == '\t'))
            ae--;
        size_t bl = strlen(b);
        while (bl && (b[bl - 1] == ' ' || b[bl - 1] == '\t'))
            bl--;
        if (bl == 7 && strncmp(b, "browser", 7) == 0) {
            snprintf(one, sizeof(one), "%.*s", (int)(ae - a), a);
        } else if (ae - a == 7 && strncmp(a, "browser", 7) == 0) {
            snprintf(one, sizeof(one), "%.*s", (int)bl, b);
        } else {
            snprintf(why, cap, "two sources may be given only as WINDOW, browser: \"%.64s\"", v);
            return false;
        }
        if (strchr(one, ',') || strcmp(one, "browser") == 0 || one[0] == '\0') {
            snprintf(why, cap, "browser goes with one window source: \"%.64s\"", v);
            return false;
        }
        c->browser = true;
        v = one;
    } else if (strcmp(v, "browser") == 0) {
        snprintf(why, cap,
                 "browser needs a window source beside it (x11, browser; jsonl:PATH, "
                 "browser)");
        return false;
    }
    if (strcmp(v, "x11") == 0 || strcmp(v, "stdin") == 0 || strcmp(v, "auto") == 0 ||
        strcmp(v, "wayland") == 0 || strcmp(v, "gnome") == 0) {
        snprintf(tmp, tcap, "%s", v);
    } else if (strncmp(v, "jsonl:", 6) == 0 && v[6] != '\0') {
        char p[STINT_CONFIG_PATH_MAX];
        if (!expand_path(v + 6, p, sizeof(p)) || snprintf(tmp, tcap, "jsonl:%s", p) >= (int)tcap) {
            snprintf(why, cap, "path too long, or ~ without $HOME");
            return false;
        }
    } else {
        snprintf(why, cap, "not auto, wayland, gnome, x11, stdin or jsonl:PATH: \"%.64s\"", v);
        return false;
    }
    return true;
}

/* Applies one key; on a bad value fills why (cap bytes) and returns false. */
static bool apply(struct stint_config *c, const struct key *k, const char *v, char *why, size_t cap)
{
    char *base = (char *)c;
    char tmp[STINT_CONFIG_PATH_MAX];

    switch (k->type) {
    case T_PATH:
    case T_STRING:
    case T_SOURCE:
        if (v[0] == '\0' && !k->empty_ok) {
            snprintf(why, cap, "must not be empty");
            return false;
        }
        if (has_control(v)) {
            snprintf(why, cap, "holds a control character");
            return false;
        }
        if (k->type == T_SOURCE) {
            if (!parse_source(c, v, tmp, sizeof(tmp), why, cap))
                return false;
        } else if (k->type == T_PATH) {
            if (!expand_path(v, tmp, sizeof(tmp))) {
                snprintf(why, cap, "path too long, or ~ without $HOME");
                return false;
            }
        } else if (snprintf(tmp, sizeof(tmp), "%s", v) >= (int)sizeof(tmp)) {
            snprintf(why, cap, "too long");
            return false;
        }
        memcpy(base + k->off, tmp, strlen(tmp) + 1);
        return true;
    case T_DURATION: {
        int64_t ms = 0;
        if (!parse_duration_ms(v, &ms)) {
            snprintf(why, cap, "not a duration (like 30s, 5m, 500ms): \"%.64s\"", v);
            return false;
        }
        if (k->off == OFF(max_age_ms) && ms == 0) {
            ms = -1; /* keep forever */
        } else if (k->off == OFF(max_age_ms) && ms < 3600 * SEC) {
            snprintf(why, cap, "must be 0 (keep forever) or at least 1h");
            return false;
        } else if (k->off == OFF(history_ms) && ms != 0 && ms < 3600 * SEC) {
            snprintf(why, cap, "must be 0 (keep none) or at least 1h");
            return false;
        } else if (ms < k->min || ms > k->max) {
            snprintf(why, cap, "must be between %lld ms and %lld ms", (long long)k->min,
                     (long long)k->max);
            return false;
        }
        memcpy(base + k->off, &ms, sizeof(ms));
        return true;
    }
    case T_SIZE:
    case T_U32: {
        uint64_t n = 0;
        bool ok = k->type == T_SIZE ? parse_size(v, &n) : parse_uint(v, &n) == strlen(v);
        if (!ok) {
            snprintf(why, cap,
                     k->type == T_SIZE ? "not a size (like 512M, 64KiB): \"%.64s\""
                                       : "not a whole number: \"%.64s\"",
                     v);
            return false;
        }
        if (n < (uint64_t)k->min || n > (uint64_t)k->max) {
            snprintf(why, cap, "must be between %lld and %lld", (long long)k->min,
                     (long long)k->max);
            return false;
        }
        if (k->type == T_SIZE) {
            memcpy(base + k->off, &n, sizeof(n));
        } else {
            uint32_t u = (uint32_t)n;
            memcpy(base + k->off, &u, sizeof(u));
        }
        return true;
    }
    case T_BOOL: {
        bool b = false;
        if (!parse_bool(v, &b)) {
            snprintf(why, cap, "not on/off (or true/false, yes/no, 1/0): \"%.64s\"", v);
            return false;
        }
        memcpy(base + k->off, &b, sizeof(b));
        return true;
    }
    case T_ENUM:
        for (const struct enum_name *n = k->names; n->name; n++) {
            if (strcmp(v, n->name) == 0) {
                int val = n->value;
                /* every enum of the struct is int-sized */
                memcpy(base + k->off, &val, sizeof(val));
                return true;
            }
        }
        {
            size_t used = (size_t)snprintf(why, cap, "\"%.64s\" is not one of", v);
            for (const struct enum_name *n = k->names; n->name && used < cap; n++) {
                used += (size_t)snprintf(why + used, cap - used, " %s", n->name);
            }
        }
        return false;
    }
    snprintf(why, cap, "internal: unknown type");
    return false;
}

static const struct key *find_key(const char *section, const char *name, bool *section_known)
{
    *section_known = false;
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        if (strcmp(section, sections[i]) == 0) {
            *section_known = true;
        }
    }
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

/* Checks a [filters] rule and appends its text; where names the origin ("agent.ini:12"). */
static enum stint_err add_filter(struct stint_config *c, const char *value, const char *where,
                                 struct stint_error *e)
{
    enum stint_err err;
    if (c->n_filters >= STINT_FILTERS_MAX) {
        return stint_error_set(e, STINT_EINVAL, 0, "%s%s[filters] rule: more than %d rules", where,
                               *where ? ": " : "", STINT_FILTERS_MAX);
    }
    err = stint_filters_check(value, where, e);
    if (err != STINT_OK) {
        return err;
    }
    snprintf(c->filters[c->n_filters], sizeof(c->filters[0]), "%s", value);
    snprintf(c->filter_where[c->n_filters], sizeof(c->filter_where[0]), "%s", where);
    c->n_filters++;
    return STINT_OK;
}

enum stint_err stint_config_filters(const struct stint_config *c, struct stint_filters **out,
                                    struct stint_error *e)
{
    struct stint_filters *f = NULL;
    enum stint_err err = STINT_OK;

    stint_error_clear(e);
    *out = NULL;
    if (c->n_filters == 0) {
        return STINT_OK;
    }
    err = stint_filters_create(&f);
    if (err != STINT_OK) {
        return stint_error_set(e, err, 0, "filters: out of memory");
    }
    for (size_t i = 0; i < c->n_filters; i++) {
        err = stint_filters_add(f, c->filters[i], c->filter_where[i], e);
        if (err != STINT_OK) {
            goto cleanup;
        }
    }
    *out = f;
    f = NULL;
cleanup:
    stint_filters_destroy(f);
    return err;
}

enum stint_err stint_config_set(struct stint_config *c, const char *section, const char *key,
                                const char *value, const char *where, struct stint_error *e)
{
    char why[200];
    bool known = false;
    const struct key *k = find_key(section, key, &known);

    stint_error_clear(e);
    if (strcmp(section, "filters") == 0) {
        if (strcmp(key, "rule") != 0) {
            return stint_error_set(e, STINT_EINVAL, 0, "%s: [filters] %s: unknown key (rule)",
                                   where, key);
        }
        return add_filter(c, value, where, e);
    }
    if (!k) {
        return stint_error_set(e, STINT_EINVAL, 0, "%s: [%s] %s: unknown %s", where, section, key,
                               known ? "key" : "section");
    }
    if (!apply(c, k, value, why, sizeof(why))) {
        return stint_error_set(e, STINT_EINVAL, 0, "%s: [%s] %s: %s", where, section, key, why);
    }
    return STINT_OK;
}

/* ---- the INI stream ---- */

struct parse {
    struct stint_config *c;
    const char *name; /* file name for messages */
    const char *text;
    size_t pos, len;
    int line;
    bool seen[N_KEYS];
    int seen_line[N_KEYS];
    struct stint_error *e;
    bool failed;
    enum stint_err code;
};

static void fail_at(struct parse *p, enum stint_err code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail_at(struct parse *p, enum stint_err code, const char *fmt, ...)
{
    char msg[220];
    va_list ap;
    if (p->failed) {
        return; /* the first error is the one reported */
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->failed = true;
    p->code = code;
    stint_error_set(p->e, code, (size_t)p->line, "%s:%d: %s", p->name, p->line, msg);
}

/* libinih's reader: one line per call, counted; an over-long line ends the parse. */
static char *reader(char *str, int num, void *stream)
{
    struct parse *p = stream;
    size_t n = 0, room = num > 1 ? (size_t)num - 1 : 0;

    if (p->pos >= p->len) {
        return NULL;
    }
    while (p->pos + n < p->len && p->text[p->pos + n] != '\n') {
        n++;
    }
    p->line++;
    /* inih needs room for the line, '\n' and its NUL (and a '\r') */
    if (n + 2 > room) {
        fail_at(p, STINT_ESYNTAX, "line longer than %zu bytes", room > 2 ? room - 2 : 0);
        p->pos = p->len;
        return NULL;
    }
    memcpy(str, p->text + p->pos, n);
    p->pos += n;
    if (p->pos < p->len) {
        str[n++] = '\n';
        p->pos++;
    }
    str[n] = '\0';
    if (memchr(str, '\0', n)) {
        fail_at(p, STINT_ESYNTAX, "holds a NUL byte");
        p->pos = p->len;
        return NULL;
    }
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    char why[200];
    bool known = false;
    const struct key *k = find_key(section, name, &known);

    if (strcmp(section, "filters") == 0) {
        char where[80];
        struct stint_error fe;
        if (strcmp(name, "rule") != 0) {
            fail_at(p, STINT_EINVAL, "[filters] %s: unknown key (rule)", name);
            return 0;
        }
        /* the message is "[filters] rule: ..."; fail_at puts FILE:LINE before it */
        snprintf(where, sizeof(where), "%s:%d", p->name, p->line);
        if (add_filter(p->c, value, "", &fe) != STINT_OK) {
            fail_at(p, fe.code, "%s", fe.msg);
            return 0;
        }
        snprintf(p->c->filter_where[p->c->n_filters - 1], sizeof(p->c->filter_where[0]), "%s",
                 where);
        return 1;
    }
    if (!k) {
        if (section[0] == '\0') {
            fail_at(p, STINT_EINVAL, "%s: key outside any [section]", name);
        } else {
            fail_at(p, STINT_EINVAL, "[%s] %s: unknown %s", section, name,
                    known ? "key" : "section");
        }
        return 0;
    }
    size_t i = (size_t)(k - keys);
    if (p->seen[i]) {
        fail_at(p, STINT_EINVAL, "[%s] %s: given twice (first on line %d)", section, name,
                p->seen_line[i]);
        return 0;
    }
    p->seen[i] = true;
    p->seen_line[i] = p->line;
    if (!apply(p->c, k, value, why, sizeof(why))) {
        fail_at(p, STINT_EINVAL, "[%s] %s: %s", section, name, why);
        return 0;
    }
    return 1;
}

enum stint_err stint_config_load_string(struct stint_config *c, const char *text, const char *name,
                                        struct stint_error *e)
{
    struct parse *p = calloc(1, sizeof(*p));
    enum stint_err err = STINT_OK;
    int rc;

    stint_error_clear(e);
    if (!p) {
        return stint_error_set(e, STINT_ENOMEM, 0, "%s: out of memory", name);
    }
    p->c = c;
    p->name = name;
    p->text = text;
    p->len = strlen(text);
    p->e = e;
    rc = ini_parse_stream(reader, p, handler, p);
    if (p->failed) {
        err = p->code;
    } else if (rc > 0) {
        /* a line the handler never saw: inih found no section, '=' or comment in it */
        p->line = rc;
        fail_at(p, STINT_ESYNTAX, "not a [section], key = value or comment");
        err = STINT_ESYNTAX;
    } else if (rc < 0) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "%s: libinih failed (%d)", name, rc);
    }
    free(p);
    return err;
}

enum stint_err stint_config_load(struct stint_config *c, const char *path, struct stint_error *e)
{
    enum stint_err err = STINT_OK;
    char *text = NULL;
    size_t len = 0;
    ssize_t n;
    int fd = -1;

    stint_error_clear(e);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "%s: cannot open: %s", path, strerror(errno));
        goto cleanup;
    }
    text = malloc(CONFIG_FILE_MAX + 1);
    if (!text) {
        err = stint_error_set(e, STINT_ENOMEM, 0, "%s: out of memory", path);
        goto cleanup;
    }
    while ((n = read(fd, text + len, CONFIG_FILE_MAX + 1 - len)) > 0) {
        len += (size_t)n;
        if (len > CONFIG_FILE_MAX) {
            err = stint_error_set(e, STINT_ELIMIT, 0, "%s: larger than %u bytes", path,
                                  CONFIG_FILE_MAX);
            goto cleanup;
        }
    }
    if (n < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "%s: cannot read: %s", path, strerror(errno));
        goto cleanup;
    }
    if (memchr(text, '\0', len)) {
        /* find its line for the message */
        int line = 1;
        for (size_t i = 0; text[i]; i++) {
            line += text[i] == '\n';
        }
        err =
            stint_error_set(e, STINT_ESYNTAX, (size_t)line, "%s:%d: holds a NUL byte", path, line);
        goto cleanup;
    }
    text[len] = '\0';
    err = stint_config_load_string(c, text, path, e);
cleanup:
    if (fd >= 0) {
        close(fd);
    }
    free(text);
    return err;
}

/* ---- across keys ---- */

enum stint_err stint_config_finish(struct stint_config *c, struct stint_error *e)
{
    stint_error_clear(e);
    if (c->backoff_base_ms > c->backoff_cap_ms) {
        return stint_error_set(e, STINT_EINVAL, 0,
                               "[sender] backoff_base (%lld ms) is above backoff_cap (%lld ms)",
                               (long long)c->backoff_base_ms, (long long)c->backoff_cap_ms);
    }
    if (c->server[0]) {
        if (!stint_http_url_allowed(c->server)) {
            return stint_error_set(e, STINT_EINVAL, 0,
                                   "[sender] server: must be an https:// URL (http:// only to "
                                   "a loopback host): \"%.100s\"",
                                   c->server);
        }
        if (c->token_file[0] == '\0') {
            return stint_error_set(e, STINT_EINVAL, 0,
                                   "[sender] token_file: needed when server is set");
        }
    }
    if (c->pinned_key[0] && strncmp(c->pinned_key, "sha256//", 8) != 0) {
        return stint_error_set(e, STINT_EINVAL, 0,
                               "[sender] pinned_key: must be sha256//BASE64[;sha256//...]");
    }
    if (c->socket[0] == '\0') {
        return stint_error_set(e, STINT_EINVAL, 0,
                               "[agent] socket: $XDG_RUNTIME_DIR is not set; set a path");
    }
    return STINT_OK;
}

/* ---- the token ---- */

enum stint_err stint_config_read_token(const struct stint_config *c, char *buf, size_t cap,
                                       size_t *len, struct stint_error *e)
{
    enum stint_err err = STINT_OK;
    char tmp[STINT_CONFIG_TOKEN_MAX + 2];
    struct stat st;
    size_t n = 0, a = 0, b = 0;
    ssize_t r;
    int fd = -1;

    stint_error_clear(e);
    if (cap) {
        buf[0] = '\0';
    }
    *len = 0;
    fd = open(c->token_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP) {
        /* a symlink is fine (secret managers use them); check what it points to */
        fd = open(c->token_file, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0 && errno == ENOENT) {
        err = stint_error_set(e, STINT_EIO, 0,
                              "token_file %s: no such file: make it, readable by you only, with "
                              "(umask 077; echo 'YOUR-TOKEN' > %s) or set [sender] token_file "
                              "(--token-file)",
                              c->token_file, c->token_file);
        goto cleanup;
    }
    if (fd < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "token_file %s: cannot open: %s", c->token_file,
                              strerror(errno));
        goto cleanup;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err =
            stint_error_set(e, STINT_EINVAL, 0, "token_file %s: not a regular file", c->token_file);
        goto cleanup;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        err = stint_error_set(e, STINT_EINVAL, 0,
                              "token_file %s: mode %04o lets group or others at it; "
                              "chmod 600 it",
                              c->token_file, (unsigned)(st.st_mode & 07777));
        goto cleanup;
    }
    while ((r = read(fd, tmp + n, sizeof(tmp) - 1 - n)) > 0) {
        n += (size_t)r;
        if (n >= sizeof(tmp) - 1) {
            break;
        }
    }
    if (r < 0) {
        err = stint_error_set(e, STINT_EIO, 0, "token_file %s: cannot read: %s", c->token_file,
                              strerror(errno));
        goto cleanup;
    }
    b = n;
    while (a < b && (tmp[a] == ' ' || tmp[a] == '\t' || tmp[a] == '\n' || tmp[a] == '\r')) {
        a++;
    }
    while (b > a &&
           (tmp[b - 1] == ' ' || tmp[b - 1] == '\t' || tmp[b - 1] == '\n' || tmp[b - 1] == '\r')) {
        b--;
    }
    if (b - a > STINT_CONFIG_TOKEN_MAX || n >= sizeof(tmp) - 1) {
        err = stint_error_set(e, STINT_EINVAL, 0, "token_file %s: longer than %d bytes",
                              c->token_file, STINT_CONFIG_TOKEN_MAX);
        goto cleanup;
    }
    if (a == b) {
        err = stint_error_set(e, STINT_EINVAL, 0, "token_file %s: empty", c->token_file);
        goto cleanup;
    }
    for (size_t i = a; i < b; i++) {
        unsigned char ch = (unsigned char)tmp[i];
        if (ch < 0x21 || ch == 0x7f) {
            err = stint_error_set(e, STINT_EINVAL, 0,
                                  "token_file %s: holds white space or a control character "
                                  "inside the token",
                                  c->token_file);
            goto cleanup;
        }
    }
    if (b - a + 1 > cap) {
        err = stint_error_set(e, STINT_ELIMIT, 0, "token_file %s: buffer too small", c->token_file);
        goto cleanup;
    }
    memcpy(buf, tmp + a, b - a);
    buf[b - a] = '\0';
    *len = b - a;
cleanup:
    /* the token must not linger on the stack (volatile: the stores may not be optimised out) */
    for (volatile char *z = tmp; z < tmp + sizeof(tmp); z++) {
        *z = 0;
    }
    if (fd >= 0) {
        close(fd);
    }
    return err;
}

bool stint_config_key(size_t i, const char **section, const char **name)
{
    if (i >= N_KEYS) {
        return false;
    }
    *section = keys[i].section;
    *name = keys[i].name;
    return true;
}

bool stint_config_key_info(size_t i, struct stint_config_key_info *out)
{
    if (i >= N_KEYS) {
        return false;
    }
    out->section = keys[i].section;
    out->name = keys[i].name;
    out->def = keys[i].def;
    out->def_doc = keys[i].def_doc;
    out->arg = keys[i].arg;
    out->help = keys[i].help;
    return true;
}

static const char *enum_name(const struct enum_name *names, int v)
{
    for (; names->name; names++) {
        if (names->value == v) {
            return names->name;
        }
    }
    return "?";
}

const char *stint_encoding_name(enum stint_encoding enc)
{
    return enum_name(encodings, (int)enc);
}

const char *stint_sync_name(enum stint_sync s)
{
    return enum_name(syncs, (int)s);
}

const char *stint_full_name(enum stint_full f)
{
    return enum_name(fulls, (int)f);
}
