/*
 * Small helpers shared by the frame ring's stress test
 * (tests/unit/test_ring_stress.c) and its benchmark
 * (tests/bench/ring_bench.c): a monotonic clock in seconds and the
 * spin-wait hint of the busy-poll loops.
 */
#ifndef LIBRETTO_TESTS_RING_TEST_UTIL_H
#define LIBRETTO_TESTS_RING_TEST_UTIL_H

#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Tells the core a busy-wait is going on (x86's pause; nothing elsewhere). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif
