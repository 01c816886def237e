/* log.h — one logging facility: levels, a printf-like call, one sink shape.
 *
 * A module that logs holds a `struct stint_log` (borrowed from whoever configured it) and calls
 * stint_log(lg, STINT_LOG_WARN, "...", ...). The logger drops lines above its level before
 * formatting them, formats the rest into one line (no newline, cut at STINT_LOG_LINE_MAX - 1
 * bytes) and hands it to its sink. Sinks share one shape, stint_log_fn; stint_log_stderr is the
 * sink the programs use (plain, timestamped, or with journald's <N> priority prefix).
 *
 * Conventions: a NULL logger, or one whose fn is NULL, writes to stderr as "stint: LINE"; a sink
 * is called from whichever thread logs and must be thread-safe (stderr writes are). Levels are
 * append-only: they appear in config files and over the control socket. */
#ifndef STINT_COMMON_LOG_H
#define STINT_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#define STINT_LOG_LINE_MAX 1024

enum stint_log_level {
    STINT_LOG_ERROR = 0,
    STINT_LOG_WARN = 1,
    STINT_LOG_INFO = 2,
    STINT_LOG_DEBUG = 3,
};

/* A sink: takes one line (no newline) at a level. ctx is the logger's. */
typedef void (*stint_log_fn)(void *ctx, enum stint_log_level level, const char *line);

struct stint_log {
    stint_log_fn fn;            /* NULL: stderr, "stint: LINE" */
    void *ctx;                  /* handed to fn */
    enum stint_log_level level; /* lines above it are not even formatted */
    const char *name;           /* a module's name, put before each line as "NAME: "; NULL: none */
};

/* A logger that drops every line: for a module whose caller gave it none (a NULL logger means
 * stderr, see above). */
extern const struct stint_log stint_log_none;

/* Context of stint_log_stderr. */
struct stint_log_stderr {
    const char *prog; /* "stintd"; NULL: "stint" */
    bool timestamps; /* "2026-01-02T03:04:05.678Z PROG[PID] LEVEL: LINE" rather than "PROG: LINE" */
    bool journald;   /* "<PRIO>LINE" (sd-daemon(3) prefixes), for a unit whose stderr is the
                        journal; wins over timestamps */
};

/* Formats and hands on one line ("NAME: " first when lg names a module) when level is within lg's
 * level. lg may be NULL (see above). */
void stint_log(const struct stint_log *lg, enum stint_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* stint_log with a va_list. */
void stint_logv(const struct stint_log *lg, enum stint_log_level level, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 0)))
#endif
    ;

/* True when a line at level would reach lg's sink: for callers that must work to build one. */
bool stint_log_enabled(const struct stint_log *lg, enum stint_log_level level);

/* "error", "warn", "info", "debug"; "debug" for any level above STINT_LOG_DEBUG. Never NULL. */
const char *stint_log_level_str(enum stint_log_level level);

/* The stderr sink. ctx is a struct stint_log_stderr * (borrowed) or NULL for its defaults. */
void stint_log_stderr(void *ctx, enum stint_log_level level, const char *line);

#endif
