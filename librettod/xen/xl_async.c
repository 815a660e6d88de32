/*
 * Completions, always from the loop.  libxl may call an operation's
 * callback from inside the call that started it, or from inside any later
 * libxl call; the backend's done callbacks, in turn, must come from the
 * loop and exactly once.  So libxl's callback only records the result and
 * activates an event; the work it stands for runs from that event.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xl_backend.h"

struct xl_ao {
	LIST_ENTRY(xl_ao) entry;
	struct event *ev;
	void (*finish)(void *arg, int rc);
	void *arg;
	int rc;
	int completed; /* libxl is done with it: only our event is left */
};

struct xl_deferred {
	LIST_ENTRY(xl_deferred) entry;
	struct event *ev;
	lt_done_fn done;
	void *arg;
	int err;
	char *msg;
};

static void ao_fire(evutil_socket_t fd, short what, void *p)
{
	struct xl_ao *ao = p;
	void (*finish)(void *, int) = ao->finish;
	void *arg = ao->arg;
	int rc = ao->rc;

	(void)fd, (void)what;
	LIST_REMOVE(ao, entry);
	event_free(ao->ev);
	free(ao);
	finish(arg, rc);
}

/* libxl's ao callback: may run inside any libxl call. */
static void ao_callback(libxl_ctx *ctx, int rc, void *for_callback)
{
	struct xl_ao *ao = for_callback;

	(void)ctx;
	ao->rc = rc;
	ao->completed = 1;
	event_active(ao->ev, 0, 0);
}

struct xl_ao *xl_ao_new(struct xl_backend *xb,
			void (*finish)(void *arg, int rc), void *arg,
			libxl_asyncop_how *how)
{
	struct xl_ao *ao = calloc(1, sizeof(*ao));

	if (ao == NULL)
		return NULL;
	ao->ev = event_new(xb->be->base, -1, 0, ao_fire, ao);
	if (ao->ev == NULL) {
		free(ao);
		return NULL;
	}
	ao->finish = finish;
	ao->arg = arg;
	LIST_INSERT_HEAD(&xb->aos, ao, entry);
	memset(how, 0, sizeof(*how));
	how->callback = ao_callback;
	how->u.for_callback = ao;
	return ao;
}

void xl_ao_abandon(struct xl_ao *ao)
{
	LIST_REMOVE(ao, entry);
	event_free(ao->ev);
	free(ao);
}

static void deferred_fire(evutil_socket_t fd, short what, void *p)
{
	struct xl_deferred *d = p;

	(void)fd, (void)what;
	LIST_REMOVE(d, entry);
	event_free(d->ev);
	d->done(d->arg, d->err, d->msg);
	free(d->msg);
	free(d);
}

int xl_defer_done(struct xl_backend *xb, lt_done_fn done, void *arg, int err,
		  const char *msg, char **errp)
{
	struct xl_deferred *d = calloc(1, sizeof(*d));

	if (d == NULL || (msg != NULL && (d->msg = strdup(msg)) == NULL) ||
	    (d->ev = event_new(xb->be->base, -1, 0, deferred_fire, d)) ==
		NULL) {
		if (d != NULL)
			free(d->msg);
		free(d);
		*errp = lt_strdupf("out of memory");
		return -1;
	}
	d->done = done;
	d->arg = arg;
	d->err = err;
	LIST_INSERT_HEAD(&xb->deferred, d, entry);
	event_active(d->ev, 0, 0);
	return 0;
}

unsigned xl_async_release(struct xl_backend *xb)
{
	unsigned in_flight = 0;
	struct xl_ao *ao, *next;

	while (!LIST_EMPTY(&xb->deferred)) {
		struct xl_deferred *d = LIST_FIRST(&xb->deferred);

		LIST_REMOVE(d, entry);
		event_free(d->ev);
		free(d->msg);
		free(d);
	}
	for (ao = LIST_FIRST(&xb->aos); ao != NULL; ao = next) {
		next = LIST_NEXT(ao, entry);
		if (!ao->completed) {
			in_flight++;
			continue;
		}
		LIST_REMOVE(ao, entry);
		event_free(ao->ev);
		free(ao);
	}
	return in_flight;
}
