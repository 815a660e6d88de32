/*
 * What the test tools that time round trips share: a monotonic clock in
 * milliseconds and one summary line, so that every tool reports its
 * figures the same way and a test reads them with one jq filter:
 *   {"count":N,"errors":E,"p50_ms":X,"p99_ms":Y,"max_ms":Z,"last_error":"..."}
 * Header only: each tool is one C file and links nothing else.
 */
#ifndef PROBE_STATS_H
#define PROBE_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int probe_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0-100] of n sorted values; 0 for none. */
static inline double probe_percentile(const double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/*
 * Sorts the n round trips in ms and prints the summary line. last_error is
 * the tool's own text; quotes, backslashes and control characters become
 * ' so that the line stays one valid JSON object.
 */
static inline void probe_print_summary(double *ms, size_t n,
				       unsigned long errors, char *last_error)
{
	qsort(ms, n, sizeof(*ms), probe_cmp_double);
	for (char *p = last_error; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '\'';
	printf("{\"count\":%zu,\"errors\":%lu,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"last_error\":\"%s\"}\n",
	       n, errors, probe_percentile(ms, n, 50),
	       probe_percentile(ms, n, 99), n > 0 ? ms[n - 1] : 0.0,
	       last_error);
}

#endif
