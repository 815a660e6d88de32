/*
 * The portmap arbiter: which server-mode app owns which TCP/UDP port of the
 * shared server IP. First owner wins; a conflicting claim is refused,
 * reported as an event and in status, and nothing is misrouted. Entries
 * live in /libretto/portmap/<dep>/ and, for the network server to read
 * under Xen's permissions, in its own server/portmap/ (docs/datapath.md).
 *
 * What a guest lists under guest/ports is untrusted: a name that is not
 * exactly tcp/<1-65535> or udp/<1-65535> is refused and counted; a port
 * in an ephemeral range, or declared by another app, is refused whoever
 * holds it in the portmap; and at most PORTS_RUN_TIME_MAX claims per
 * domain are considered (docs/xenstore.md, "Port claims").
 */
#ifndef LIBRETTOD_PORTS_H
#define LIBRETTOD_PORTS_H

#include <json-c/json.h>
#include <stdint.h>
#include <xenstore.h>

#include "deployment.h"

struct lt_xs;
struct domain;

/* Run-time claims (guest/ports) one domain may have considered at once,
 * granted or refused; declared ports do not count. Bounds the daemon's
 * memory and work per guest; a real app listens on a handful of ports. */
#define PORTS_RUN_TIME_MAX 64

/* Refused claims of one domain reported (log line and port-conflict
 * event) per window; the rest are counted into the next report. */
#define PORTS_CONFLICT_REPORTS	 16
#define PORTS_CONFLICT_WINDOW_MS 10000

/* Why a claim is refused (owner != the claimer's domid). */
enum port_refusal {
	PORT_HELD,	/* another app holds it in the portmap */
	PORT_DECLARED,	/* another app declares it in the deployment file */
	PORT_EPHEMERAL, /* inside an ephemeral range not the claimer's own */
};

struct port_claim {
	enum lt_proto proto;
	uint16_t port;
	int declared;	/* from the deployment file, not found at run time */
	unsigned owner; /* the domid holding it; the claimer's own when won;
			   0 when refused for an app with no domain now */
	int listed;	/* seen in the guest's list at the last re-read */
	/* Refused: why, and the app it belongs to ("" when none). */
	enum port_refusal refusal;
	char owner_name[LT_NAME_MAX + 1];
	/* Granted in the claimer's own ephemeral range: it routes there by
	 * the range already, so no portmap entry is written. */
	int by_range;
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
/* "ports", "port_conflicts" and "port_claims" of d's status object. */
void ports_describe(const struct domain *d, struct json_object *o);
void ports_free(struct domain *d);

/* The grammar of a port's name under guest/ports/<proto>/: 1-65535 in
 * decimal, no sign, blank or leading zero. The port, or 0 when the name
 * is anything else. */
unsigned ports_parse_name(const char *name);

#endif
