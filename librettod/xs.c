#include "xs.h"

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "log.h"

struct lt_xs_watch {
	LIST_ENTRY(lt_xs_watch) entry;
	char *path;
	char token[24];
	lt_xs_watch_fn fn;
	void *arg;
};

struct lt_xs {
	struct xs_handle *h;
	struct event *watch_ev; /* on xs_fileno, created with the first watch */
	struct event_base *base;
	LIST_HEAD(, lt_xs_watch) watches;
	unsigned next_token;
};

struct lt_xs *lt_xs_open(struct event_base *base, const char *socket_path,
			 char **err)
{
	struct lt_xs *xs = calloc(1, sizeof(*xs));

	if (xs == NULL) {
		*err = strdup("out of memory");
		return NULL;
	}
	/* libxenstore takes the socket path only from the environment. */
	if (socket_path != NULL)
		setenv("XENSTORED_PATH", socket_path, 1);
	xs->h = xs_open(0);
	if (xs->h == NULL) {
		if (asprintf(err, "cannot connect to xenstored at %s: %s",
			     socket_path ? socket_path : "(default)",
			     strerror(errno)) < 0)
			*err = NULL;
		free(xs);
		return NULL;
	}
	xs->base = base;
	LIST_INIT(&xs->watches);
	return xs;
}

void lt_xs_close(struct lt_xs *xs)
{
	struct lt_xs_watch *w;

	if (xs == NULL)
		return;
	while ((w = LIST_FIRST(&xs->watches)) != NULL)
		lt_xs_unwatch(xs, w);
	if (xs->watch_ev != NULL)
		event_free(xs->watch_ev);
	xs_close(xs->h);
	free(xs);
}

int lt_xs_printf(struct lt_xs *xs, xs_transaction_t t, const char *path,
		 const char *fmt, ...)
{
	char *value;
	va_list ap;
	int len;
	bool ok;

	va_start(ap, fmt);
	len = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	ok = xs_write(xs->h, t, path, value, (unsigned)len);
	free(value);
	return ok ? 0 : -1;
}

int lt_xs_mkdir(struct lt_xs *xs, xs_transaction_t t, const char *path)
{
	return xs_mkdir(xs->h, t, path) ? 0 : -1;
}

int lt_xs_rm(struct lt_xs *xs, xs_transaction_t t, const char *path)
{
	if (xs_rm(xs->h, t, path))
		return 0;
	return errno == ENOENT ? 0 : -1;
}

int lt_xs_chmod(struct lt_xs *xs, xs_transaction_t t, const char *path,
		const struct xs_permissions *perms, unsigned n)
{
	/* libxenstore's prototype is not const-correct; it only reads. */
	return xs_set_permissions(xs->h, t, path,
				  (struct xs_permissions *)perms, n)
		   ? 0
		   : -1;
}

char *lt_xs_read(struct lt_xs *xs, xs_transaction_t t, const char *path)
{
	unsigned len;

	return xs_read(xs->h, t, path, &len);
}

char **lt_xs_list(struct lt_xs *xs, xs_transaction_t t, const char *path)
{
	unsigned n, i;
	char **dir = xs_directory(xs->h, t, path, &n);
	char **out;
	size_t bytes = 0;

	if (dir == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		bytes += strlen(dir[i]) + 1;
	/* One block: the pointer array, then the strings. */
	out = malloc((n + 1) * sizeof(*out) + bytes);
	if (out != NULL) {
		char *p = (char *)(out + n + 1);

		for (i = 0; i < n; i++) {
			size_t len = strlen(dir[i]) + 1;

			memcpy(p, dir[i], len);
			out[i] = p;
			p += len;
		}
		out[n] = NULL;
	}
	free(dir);
	return out;
}

int lt_xs_transact(struct lt_xs *xs,
		   int (*body)(struct lt_xs *xs, xs_transaction_t t, void *arg),
		   void *arg)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		xs_transaction_t t = xs_transaction_start(xs->h);

		if (t == XBT_NULL)
			return -1;
		if (body(xs, t, arg) < 0) {
			int saved = errno;
			xs_transaction_end(xs->h, t, true);
			errno = saved;
			return -1;
		}
		if (xs_transaction_end(xs->h, t, false))
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
	log_warn("xenstore transaction still conflicting after 100 attempts");
	errno = EAGAIN;
	return -1;
}

static void lt_xs_watch_ready(evutil_socket_t fd, short what, void *arg)
{
	struct lt_xs *xs = arg;
	char **vec;

	(void)fd;
	(void)what;
	/* Drain every pending event: the fd may stop showing readable once
	 * xs_check_watch has been called, even with events still queued. */
	while ((vec = xs_check_watch(xs->h)) != NULL) {
		struct lt_xs_watch *w;

		LIST_FOREACH(w, &xs->watches, entry)
		{
			if (strcmp(w->token, vec[XS_WATCH_TOKEN]) == 0) {
				w->fn(w->arg, vec[XS_WATCH_PATH]);
				break;
			}
		}
		free(vec);
	}
}

struct lt_xs_watch *lt_xs_watch(struct lt_xs *xs, const char *path,
				lt_xs_watch_fn fn, void *arg)
{
	struct lt_xs_watch *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->path = strdup(path)) == NULL)
		goto fail;
	if (xs->watch_ev == NULL) {
		int fd = xs_fileno(xs->h);

		if (fd < 0)
			goto fail;
		xs->watch_ev = event_new(xs->base, fd, EV_READ | EV_PERSIST,
					 lt_xs_watch_ready, xs);
		if (xs->watch_ev == NULL || event_add(xs->watch_ev, NULL) < 0)
			goto fail;
	}
	snprintf(w->token, sizeof(w->token), "lt%u", xs->next_token++);
	w->fn = fn;
	w->arg = arg;
	if (!xs_watch(xs->h, path, w->token))
		goto fail;
	LIST_INSERT_HEAD(&xs->watches, w, entry);
	return w;
fail:
	if (w != NULL)
		free(w->path);
	free(w);
	return NULL;
}

void lt_xs_unwatch(struct lt_xs *xs, struct lt_xs_watch *w)
{
	if (w == NULL)
		return;
	xs_unwatch(xs->h, w->path, w->token);
	LIST_REMOVE(w, entry);
	free(w->path);
	free(w);
}
