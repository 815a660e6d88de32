/*
 * What xs.c (the connection and its plain operations) and xs_watch.c (the
 * watches, delivered fairly between domains) share; nothing else includes
 * it.
 */
#ifndef LIBRETTOD_XS_INTERNAL_H
#define LIBRETTOD_XS_INTERNAL_H

#include <xenstore.h>

struct event_base;
struct xs_watches;

struct lt_xs {
	struct xs_handle *h;
	struct event_base *base;
	struct xs_watches *watches; /* created with the first watch */
};

/* Unwatches everything left and frees the watch machinery. */
void xs_watches_free(struct lt_xs *xs);

#endif
