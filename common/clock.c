/* clock.c — clock_gettime in the units the rest of the tree counts in (see clock.h).
 *
 * One copy of the conversion, so that every module rounds the same way: towards zero, which for
 * the non-negative readings of these clocks means a reading never runs ahead of the clock. */
#include "common/clock.h"

#include <time.h>

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t stint_clock_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

int64_t stint_clock_wall_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}

int64_t stint_clock_boot_ms(void)
{
    return ms_of(CLOCK_BOOTTIME);
}

int64_t stint_clock_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t stint_clock_mono_us(void)
{
    return stint_clock_mono_ns() / 1000;
}

struct timespec stint_clock_deadline(enum stint_clock_id id, int64_t wait_ms)
{
    struct timespec ts;

    clock_gettime(id == STINT_CLOCK_MONOTONIC ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(wait_ms / 1000);
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}
