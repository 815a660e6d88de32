/*
 * Done callbacks, always from the loop and never from inside the backend
 * operation that was asked: an operation done at once (nothing to do)
 * still answers from the next loop turn.  libxl's own completions come
 * through the libxl thread (xl_thread.c).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xl_backend.h"

struct xl_deferred {
	LIST_ENTRY(xl_deferred) entry;
	struct event *ev;
	lt_done_fn done;
	void *arg;
	int err;
	char *msg;
};

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

void xl_async_release(struct xl_backend *xb)
{
	while (!LIST_EMPTY(&xb->deferred)) {
		struct xl_deferred *d = LIST_FIRST(&xb->deferred);

		LIST_REMOVE(d, entry);
		event_free(d->ev);
		free(d->msg);
		free(d);
	}
}
