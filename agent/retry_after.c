/* retry_after.c — Retry-After parsing (see retry_after.h).
 *
 * A hand-written scanner over a bounded byte range: no sscanf, no strptime (locale-dependent
 * names), no timegm (not C11, not POSIX): the date becomes Unix seconds by the days-from-civil
 * formula. Every numeric field has a fixed digit count, so nothing overflows; delay-seconds is
 * accumulated with a saturation check, because "99999999999999999999999" is valid syntax that
 * must end up clamped to the 24 h ceiling, not wrapped to a short wait.
 *
 * Decisions (recorded in spec/PROTOCOL.md, "Sending"): the day name must be a real one but is not
 * checked against the date (RFC 9110 lets recipients ignore it); a second of 60 is accepted (leap
 * second); the zone must be "GMT" (case-sensitive, as the grammar says); a day past the end of its
 * month is garbage. */
#include "retry_after.h"

#include <string.h>

struct scan {
    const char *p;
    const char *end;
};

static const char *const days_short[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const days_long[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int lit(struct scan *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return 0;
    s->p += n;
    return 1;
}

/* Exactly n digits. */
static int digits(struct scan *s, int n, int *out)
{
    int v = 0, i;
    if (s->end - s->p < n)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s->p[i];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (c - '0');
    }
    s->p += n;
    *out = v;
    return 1;
}

static int word(struct scan *s, const char *const *names, int n)
{
    int i;
    for (i = 0; i < n; i++)
        if (lit(s, names[i]))
            return i;
    return -1;
}

/* "HH:MM:SS" */
static int time_of_day(struct scan *s, int *h, int *m, int *sec)
{
    return digits(s, 2, h) && lit(s, ":") && digits(s, 2, m) && lit(s, ":") && digits(s, 2, sec) &&
           *h <= 23 && *m <= 59 && *sec <= 60;
}

static int days_in_month(int64_t year, int month)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : d[month - 1];
}

int64_t stint_retry_after_civil(int64_t year, int month, int day, int hour, int min, int sec)
{
    /* Howard Hinnant's days_from_civil */
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

/* The three HTTP-date forms; *unix_s on success. */
static int http_date(struct scan *s, int64_t now_ms, int64_t *unix_s)
{
    const char *start = s->p;
    int day = 0, mon, year = 0, h = 0, m = 0, sec = 0, wd;
    int64_t y;

    /* IMF-fixdate: day-name "," SP date1 SP time-of-day SP GMT, date1 = 2DIGIT SP month SP 4DIGIT
     */
    if ((wd = word(s, days_short, 7)) >= 0 && lit(s, ", ")) {
        if (!digits(s, 2, &day) || !lit(s, " ") || (mon = word(s, months, 12)) < 0 ||
            !lit(s, " ") || !digits(s, 4, &year) || !lit(s, " ") || !time_of_day(s, &h, &m, &sec) ||
            !lit(s, " GMT"))
            return 0;
        y = year;
        goto done;
    }
    s->p = start;
    /* rfc850-date: day-name-l "," SP date2 SP time-of-day SP GMT, date2 = 2DIGIT "-" month "-"
     * 2DIGIT */
    if ((wd = word(s, days_long, 7)) >= 0 && lit(s, ", ")) {
        int64_t now_year, century;
        if (!digits(s, 2, &day) || !lit(s, "-") || (mon = word(s, months, 12)) < 0 ||
            !lit(s, "-") || !digits(s, 2, &year) || !lit(s, " ") || !time_of_day(s, &h, &m, &sec) ||
            !lit(s, " GMT"))
            return 0;
        /* RFC 9110: a two-digit year more than 50 years in the future is the most recent past
         * year with the same last two digits */
        /* the mean Gregorian year is close enough here; the clock is clamped to years
         * 1970..9999 first so that a wild clock cannot push the year out of range */
        now_year = 1970 + ((now_ms < 0                 ? 0
                            : now_ms > 253402300799000 ? 253402300799000
                                                       : now_ms) /
                           1000) /
                              31556952;
        century = now_year - now_year % 100;
        y = century + year;
        if (y > now_year + 50)
            y -= 100;
        goto done;
    }
    s->p = start;
    /* asctime-date: day-name SP date3 SP time-of-day SP year, date3 = month SP (2DIGIT / SP DIGIT)
     */
    if ((wd = word(s, days_short, 7)) >= 0 && lit(s, " ")) {
        if ((mon = word(s, months, 12)) < 0 || !lit(s, " "))
            return 0;
        if (lit(s, " ")) {
            if (!digits(s, 1, &day))
                return 0;
        } else if (!digits(s, 2, &day)) {
            return 0;
        }
        if (!lit(s, " ") || !time_of_day(s, &h, &m, &sec) || !lit(s, " ") || !digits(s, 4, &year))
            return 0;
        y = year;
        goto done;
    }
    return 0;
done:
    (void)wd;
    if (day < 1 || day > days_in_month(y, mon + 1))
        return 0;
    *unix_s = stint_retry_after_civil(y, mon + 1, day, h, m, sec);
    return 1;
}

enum stint_err stint_retry_after_parse(const char *value, size_t len, int64_t now_ms,
                                       uint64_t *delay_ms)
{
    struct scan s;
    int64_t when_s = 0;

    *delay_ms = 0;
    if (!value)
        return STINT_ESYNTAX;
    s.p = value;
    s.end = value + len;
    while (s.p < s.end && is_blank(*s.p))
        s.p++;
    while (s.end > s.p && is_blank(s.end[-1]))
        s.end--;
    if (s.p == s.end)
        return STINT_ESYNTAX;

    if (*s.p >= '0' && *s.p <= '9') {
        uint64_t secs = 0;
        const char *q;
        for (q = s.p; q < s.end; q++) {
            if (*q < '0' || *q > '9')
                return STINT_ESYNTAX;
            if (secs <= STINT_RETRY_AFTER_MAX_MS / 1000)
                secs = secs * 10 + (uint64_t)(*q - '0'); /* stops growing once over the clamp */
        }
        *delay_ms =
            secs >= STINT_RETRY_AFTER_MAX_MS / 1000 ? STINT_RETRY_AFTER_MAX_MS : secs * 1000;
        return STINT_OK;
    }
    if (!http_date(&s, now_ms, &when_s) || s.p != s.end)
        return STINT_ESYNTAX;
    /* when_s is within years 0..9999, so the millisecond product cannot overflow; now_ms is
     * compared, never subtracted from, so any clock value is safe */
    {
        int64_t when_ms = when_s * 1000;
        if (when_ms <= now_ms)
            *delay_ms = 0;
        else if (now_ms < when_ms - (int64_t)STINT_RETRY_AFTER_MAX_MS)
            *delay_ms = STINT_RETRY_AFTER_MAX_MS;
        else
            *delay_ms = (uint64_t)(when_ms - now_ms);
    }
    return STINT_OK;
}
