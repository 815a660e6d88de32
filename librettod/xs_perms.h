/*
 * Who may read and write what in xenstore (docs/xenstore.md,
 * "Permissions"). Under Xen, xenstored enforces these lists against the
 * guests; in the sim every client is dom0 and they are only recorded, so
 * the sim's tests see the same lists a Xen host gets.
 */
#ifndef LIBRETTOD_XS_PERMS_H
#define LIBRETTOD_XS_PERMS_H

#include <xenstore.h>

struct lt_xs;

/* /libretto: dom0 only. */
int xs_perms_root(struct lt_xs *xs, xs_transaction_t t);

/* A domain's own libretto directory, before anything is written below
 * it: dom0's, readable by the domain. Its guest/ directory: the domain's,
 * readable by its network server (server < 0: none yet). */
int xs_perms_domain_dir(struct lt_xs *xs, xs_transaction_t t, unsigned domid);
int xs_perms_guest_dir(struct lt_xs *xs, xs_transaction_t t, unsigned domid,
		       int server);

/* The network server's server/ directory (its own, for server/state and
 * server/stats) and the two directories only dom0 writes in it:
 * server/apps and server/portmap. */
int xs_perms_server_dirs(struct lt_xs *xs, xs_transaction_t t, unsigned server);

/* server/apps/<app>: the server's (it writes vif-state, acked, stats
 * there) and readable by the app (it watches vif-state). leaf: one node
 * dom0 writes in it, which the server may only read. */
int xs_perms_app_entry(struct lt_xs *xs, xs_transaction_t t, unsigned server,
		       unsigned app);
int xs_perms_app_entry_leaf(struct lt_xs *xs, xs_transaction_t t,
			    unsigned server, unsigned app, const char *leaf);

#endif
