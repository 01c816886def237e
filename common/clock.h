/* clock.h — the process's clocks in whole units.
 *
 * Conventions: every function reads the clock now and cannot fail (clock_gettime on a clock the
 * kernel always has). Monotonic readings only make sense as differences within one boot; wall
 * readings are Unix time and may jump. Thread-safe. */
#ifndef STINT_COMMON_CLOCK_H
#define STINT_COMMON_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and intervals. */
int64_t stint_clock_mono_ms(void);

/* Unix milliseconds (CLOCK_REALTIME): for record times and anything compared with a server. */
int64_t stint_clock_wall_ms(void);

/* Milliseconds of CLOCK_BOOTTIME: monotonic, and counts the time the machine was asleep. */
int64_t stint_clock_boot_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC: for measuring short intervals. */
int64_t stint_clock_mono_ns(void);

#endif
