/* Durations for events: the switch's steps, recoveries. */
#ifndef LIBRETTOD_TIMING_H
#define LIBRETTOD_TIMING_H

#include <json-c/json.h>
#include <time.h>

/* b - a in milliseconds; lt_ms_since: from a to now (CLOCK_MONOTONIC). */
double lt_ms_between(const struct timespec *a, const struct timespec *b);
double lt_ms_since(const struct timespec *a);
/* Milliseconds as a JSON number to the microsecond, so that events stay
 * short. */
struct json_object *lt_ms_json(double ms);
/* Whether interval_ms has passed since *last (all zero: never), for the
 * rate limits of reports; when it has, *last becomes now. */
int lt_interval_due(struct timespec *last, double interval_ms);

#endif
