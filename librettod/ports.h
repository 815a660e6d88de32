/*
 * The portmap arbiter: which server-mode app owns which TCP/UDP port of the
 * shared server IP. First owner wins; a conflicting claim is refused,
 * reported as an event and in status, and nothing is misrouted. Entries
 * live in /libretto/portmap/<dep>/ and, for the network server to read
 * under Xen's permissions, in its own server/portmap/ (docs/datapath.md).
 */
#ifndef LIBRETTOD_PORTS_H
#define LIBRETTOD_PORTS_H

#include <json-c/json.h>
#include <stdint.h>
#include <xenstore.h>

#include "deployment.h"

struct lt_xs;
struct domain;

struct port_claim {
	enum lt_proto proto;
	uint16_t port;
	int declared;	/* from the deployment file, not found at run time */
	unsigned owner; /* the domid holding it; the claimer's own when won */
	int listed;	/* seen in the guest's list at the last re-read */
};

/* Claims the declared ports of d inside transaction t; -1 with errno. A
 * declared port held by another domain is an error (EADDRINUSE). */
int ports_claim_declared(struct lt_xs *xs, xs_transaction_t t,
			 struct domain *d);
/* Writes the server's mirror of every port d holds (a new server). */
int ports_mirror_all(struct lt_xs *xs, xs_transaction_t t, struct domain *d);
/* Removes every entry that still names d's domid (both trees). */
int ports_release_all(struct lt_xs *xs, xs_transaction_t t, struct domain *d);
/* Starts following d's guest/ports claims (server-mode apps). */
int ports_watch(struct lt_xs *xs, struct domain *d);
void ports_unwatch(struct lt_xs *xs, struct domain *d);
/* "ports" and "port_conflicts" of d's status object. */
void ports_describe(const struct domain *d, struct json_object *o);
void ports_free(struct domain *d);

#endif
