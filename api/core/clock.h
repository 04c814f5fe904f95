/*
 * clock — the one clock of the service: milliseconds on the monotonic clock (timeouts,
 * caches, rates: never moved by a change of the wall clock), the wall clock in milliseconds
 * (expiry of what carries a date), and the absolute deadline a condition variable waits
 * for (pthread_cond_timedwait counts on CLOCK_REALTIME).
 */
#ifndef LDA_CORE_CLOCK_H
#define LDA_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
long long clock_mono_ms(void);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t clock_wall_ms(void);

/* CLOCK_REALTIME now plus `ms` (≥ 0), normalised: a deadline for pthread_cond_timedwait. */
struct timespec clock_deadline_in(long long ms);

#endif
