#include "timing.h"

#include <stdio.h>

double lt_ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

double lt_ms_since(const struct timespec *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return lt_ms_between(a, &now);
}

int lt_interval_due(struct timespec *last, double interval_ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((last->tv_sec != 0 || last->tv_nsec != 0) &&
	    lt_ms_between(last, &now) < interval_ms)
		return 0;
	*last = now;
	return 1;
}

struct json_object *lt_ms_json(double ms)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.3f", ms);
	return json_object_new_double_s(ms, buf);
}
