/* What every guest program needs of xenstore: its own directory, found from
 * LIBRETTO_DOMID, and writes below it. */
#ifndef GUEST_XS_H
#define GUEST_XS_H

#include <stdbool.h>
#include <xenstore.h>

struct guest_xs {
	struct xs_handle *h;
	unsigned domid;
	char base[64]; /* /local/domain/<domid>/libretto */
};

/* Connects (XENSTORED_PATH picks the socket in sim). Returns 0, or -1 with a
 * message on stderr. */
int guest_xs_open(struct guest_xs *gx, const char *prog);
/* Writes <base>/<leaf> = value; returns 0 or -1. */
int guest_xs_write(struct guest_xs *gx, const char *leaf, const char *value);
/* Runs body in a transaction, again while the commit says EAGAIN (at most
 * 8 times); body returns false (errno set) to abort.  0 or -errno. */
int guest_xs_transact(struct guest_xs *gx,
		      bool (*body)(struct guest_xs *gx, xs_transaction_t t,
				   void *arg),
		      void *arg);
void guest_xs_close(struct guest_xs *gx);

#endif
