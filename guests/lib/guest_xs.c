#include "guest_xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libretto/xs_paths.h>

int guest_xs_open(struct guest_xs *gx, const char *prog)
{
	const char *domid = getenv(LT_ENV_DOMID);
	char *end;
	unsigned long v;

	memset(gx, 0, sizeof(*gx));
	if (domid == NULL || *domid == '\0') {
		fprintf(stderr,
			"%s: %s is not set: run me as a libretto "
			"domain\n",
			prog, LT_ENV_DOMID);
		return -1;
	}
	errno = 0;
	v = strtoul(domid, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 0x7fef) {
		fprintf(stderr, "%s: %s=%s is not a domain id\n", prog,
			LT_ENV_DOMID, domid);
		return -1;
	}
	gx->domid = (unsigned)v;
	snprintf(gx->base, sizeof(gx->base), LT_XS_GUEST_FMT, gx->domid);
	gx->h = xs_open(0);
	if (gx->h == NULL) {
		fprintf(stderr, "%s: cannot connect to xenstore: %s\n", prog,
			strerror(errno));
		return -1;
	}
	return 0;
}

int guest_xs_write(struct guest_xs *gx, const char *leaf, const char *value)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", gx->base, leaf);
	return xs_write(gx->h, XBT_NULL, path, value, strlen(value)) ? 0 : -1;
}

int guest_xs_transact(struct guest_xs *gx,
		      bool (*body)(struct guest_xs *gx, xs_transaction_t t,
				   void *arg),
		      void *arg)
{
	for (int tries = 0; tries < 8; tries++) {
		xs_transaction_t t = xs_transaction_start(gx->h);

		if (t == XBT_NULL)
			return -errno;
		if (!body(gx, t, arg)) {
			int e = errno;

			xs_transaction_end(gx->h, t, true);
			return -e;
		}
		if (xs_transaction_end(gx->h, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

void guest_xs_close(struct guest_xs *gx)
{
	if (gx->h != NULL)
		xs_close(gx->h);
	gx->h = NULL;
}
