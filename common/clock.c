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
