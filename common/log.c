/* log.c — the logging facility (see log.h).
 *
 * Why one facility: the agent, the collector's stores and the control socket each had their own
 * callback shape (with or without a level, int or enum), so a line could not move between modules
 * without an adapter. Now every module formats through stint_logv and every sink has one shape.
 *
 * Lines are formatted on the stack (STINT_LOG_LINE_MAX): logging allocates nothing, so it works
 * when memory has run out, which is when it is most needed. */
#include "common/log.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static void discard(void *ctx, enum stint_log_level level, const char *line);

bool stint_log_enabled(const struct stint_log *lg, enum stint_log_level level)
{
    return !lg || (level <= lg->level && lg->fn != discard);
}

static void discard(void *ctx, enum stint_log_level level, const char *line)
{
    (void)ctx;
    (void)level;
    (void)line;
}

const struct stint_log stint_log_none = {.fn = discard, .level = STINT_LOG_ERROR};

void stint_logv(const struct stint_log *lg, enum stint_log_level level, const char *fmt, va_list ap)
{
    char line[STINT_LOG_LINE_MAX];
    size_t at = 0;

    if (!stint_log_enabled(lg, level))
        return;
    if (lg && lg->name) {
        int n = snprintf(line, sizeof(line), "%s: ", lg->name);
        at = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    }
    vsnprintf(line + at, sizeof(line) - at, fmt, ap);
    if (lg && lg->fn)
        lg->fn(lg->ctx, level, line);
    else
        stint_log_stderr(NULL, level, line);
}

void stint_log(const struct stint_log *lg, enum stint_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    stint_logv(lg, level, fmt, ap);
    va_end(ap);
}

const char *stint_log_level_str(enum stint_log_level level)
{
    switch (level) {
    case STINT_LOG_ERROR:
        return "error";
    case STINT_LOG_WARN:
        return "warn";
    case STINT_LOG_INFO:
        return "info";
    case STINT_LOG_DEBUG:
        return "debug";
    }
    return "debug";
}

void stint_log_stderr(void *ctx, enum stint_log_level level, const char *line)
{
    /* syslog priorities (sd-daemon(3)): err, warning, info, debug */
    static const int prio[] = {3, 4, 6, 7};
    const struct stint_log_stderr *o = ctx;
    const char *prog = o && o->prog ? o->prog : "stint";
    unsigned l = (unsigned)level > 3 ? 3 : (unsigned)level;

    if (o && o->journald) {
        fprintf(stderr, "<%d>%s\n", prio[l], line);
    } else if (o && o->timestamps) {
        char ts[32];
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s\n", ts, now.tv_nsec / 1000000, prog, (int)getpid(),
                stint_log_level_str((enum stint_log_level)l), line);
    } else {
        fprintf(stderr, "%s: %s\n", prog, line);
    }
}
