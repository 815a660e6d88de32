/*
 * The engine's side of the xenstore watches' fairness (xs_watch.c): a
 * throttled domain reported as an event and a log line, and its watch
 * traffic in status.
 */
#ifndef LIBRETTOD_FAIRNESS_H
#define LIBRETTOD_FAIRNESS_H

#include <json-c/json.h>

struct engine;
struct domain;

/* After the xenstore connection is open. */
void fairness_attach(struct engine *e);
/* Adds "watches" to a domain's status object. */
void fairness_describe(struct engine *e, const struct domain *d,
		       struct json_object *o);

#endif
