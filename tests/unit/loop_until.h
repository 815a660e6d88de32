/*
 * Turning a libevent loop until a condition holds, for the unit tests of
 * code that completes through the loop: bounded, and saying what it
 * waited for when the bound is hit.
 */
#ifndef LIBRETTO_TESTS_LOOP_UNTIL_H
#define LIBRETTO_TESTS_LOOP_UNTIL_H

#include <event2/event.h>
#include <stdio.h>
#include <time.h>

static inline long loop_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Runs base until cond, or for at most limit_ms. */
#define LOOP_UNTIL(base, cond, limit_ms)                                       \
	do {                                                                   \
		struct timespec t0_;                                           \
		clock_gettime(CLOCK_MONOTONIC, &t0_);                          \
		while (!(cond) && loop_ms_since(&t0_) < (limit_ms))            \
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);  \
		if (!(cond))                                                   \
			fprintf(stderr, "waited %d ms for %s\n",               \
				(int)(limit_ms), #cond);                       \
	} while (0)

#endif
