#include "xs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xs_internal.h"

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
	return xs;
}

void lt_xs_close(struct lt_xs *xs)
{
	if (xs == NULL)
		return;
	xs_watches_free(xs);
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
