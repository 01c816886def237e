/* clock.h — the process's clocks in whole units.
 *
 * Conventions: every function reads the clock now and cannot fail (clock_gettime on a clock the
 * kernel always has). Monotonic readings only make sense as differences within one boot; wall
 * readings are Unix time and may jump. Thread-safe. */
#ifndef STINT_COMMON_CLOCK_H
#define STINT_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and intervals. */
int64_t stint_clock_mono_ms(void);

/* Unix milliseconds (CLOCK_REALTIME): for record times and anything compared with a server. */
int64_t stint_clock_wall_ms(void);

/* Milliseconds of CLOCK_BOOTTIME: monotonic, and counts the time the machine was asleep. */
int64_t stint_clock_boot_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC: for measuring short intervals. */
int64_t stint_clock_mono_ns(void);

/* Microseconds of CLOCK_MONOTONIC. */
int64_t stint_clock_mono_us(void);

/* The clocks a condition variable can wait on (pthread_condattr_setclock). */
enum stint_clock_id {
    STINT_CLOCK_REALTIME = 0, /* the default of pthread_cond_init */
    STINT_CLOCK_MONOTONIC = 1,
};

/* The absolute time wait_ms (>= 0) from now on clock id, tv_nsec normalised: the deadline that
 * pthread_cond_timedwait takes. id is the clock the condition variable waits on. */
struct timespec stint_clock_deadline(enum stint_clock_id id, int64_t wait_ms);

#endif
