/* For tests that drive a libevent loop until callbacks have run. */
#ifndef LIBRETTO_TESTS_LOOP_UTIL_H
#define LIBRETTO_TESTS_LOOP_UTIL_H

#include <event2/event.h>

/* Runs base until *count reaches want.  There is no timeout: the test's
 * alarm() (and ctest's TIMEOUT) catches a hang. */
static inline void loop_until(struct event_base *base, int *count, int want)
{
	while (*count < want)
		event_base_loop(base, EVLOOP_ONCE);
}

#endif
