#include "ports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "xs.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

#define PATH_LEN 256

static void global_path(char *buf, const struct domain *d, enum lt_proto proto,
			uint16_t port)
{
	snprintf(buf, PATH_LEN, LT_XS_PORTMAP_FMT "/%s/%u", d->dep->name,
		 lt_proto_name(proto), port);
}

/* The mirror in the server's own directory; 0 when there is no server. */
static int mirror_path(char *buf, struct domain *d, enum lt_proto proto,
		       uint16_t port)
{
	struct domain *s = deployment_server(d->dep);

	if (s == NULL)
		return 0;
	snprintf(buf, PATH_LEN,
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_PORTMAP "/%s/%u", s->domid,
		 lt_proto_name(proto), port);
	return 1;
}

static struct port_claim *claim_find(struct domain *d, enum lt_proto proto,
				     uint16_t port)
{
	for (size_t i = 0; i < d->nports; i++)
		if (d->ports[i].proto == proto && d->ports[i].port == port)
			return &d->ports[i];
	return NULL;
}

static struct port_claim *claim_add(struct domain *d, enum lt_proto proto,
				    uint16_t port, int declared)
{
	struct port_claim *v = realloc(d->ports, (d->nports + 1) * sizeof(*v));

	if (v == NULL)
		return NULL;
	d->ports = v;
	v[d->nports] = (struct port_claim){
	    .proto = proto, .port = port, .declared = declared};
	return &v[d->nports++];
}

static void claim_remove(struct domain *d, struct port_claim *c)
{
	size_t i = (size_t)(c - d->ports);

	memmove(&d->ports[i], &d->ports[i + 1],
		(d->nports - i - 1) * sizeof(*c));
	d->nports--;
}

/*
 * Takes the port for d unless another domain holds it: sets c->owner to
 * whoever holds it after the call. Returns -1 only on a xenstore error.
 */
static int claim_try(struct lt_xs *xs, xs_transaction_t t, struct domain *d,
		     struct port_claim *c)
{
	char path[PATH_LEN];
	char *owner;

	global_path(path, d, c->proto, c->port);
	owner = lt_xs_read(xs, t, path);
	if (owner != NULL) {
		c->owner = (unsigned)strtoul(owner, NULL, 10);
		free(owner);
		if (c->owner != d->domid)
			return 0; /* first owner wins */
	}
	c->owner = d->domid;
	if (lt_xs_printf(xs, t, path, "%u", d->domid) < 0)
		return -1;
	if (mirror_path(path, d, c->proto, c->port) &&
	    lt_xs_printf(xs, t, path, "%u", d->domid) < 0)
		return -1;
	return 0;
}

static int claim_release(struct lt_xs *xs, xs_transaction_t t, struct domain *d,
			 const struct port_claim *c)
{
	char path[PATH_LEN];
	char *owner;
	int mine;

	if (c->owner != d->domid)
		return 0;
	global_path(path, d, c->proto, c->port);
	owner = lt_xs_read(xs, t, path);
	/* Only what still names this domain: a successor may hold it. */
	mine = owner != NULL && (unsigned)strtoul(owner, NULL, 10) == d->domid;
	free(owner);
	if (!mine)
		return 0;
	if (lt_xs_rm(xs, t, path) < 0)
		return -1;
	if (mirror_path(path, d, c->proto, c->port) &&
	    lt_xs_rm(xs, t, path) < 0)
		return -1;
	return 0;
}

int ports_claim_declared(struct lt_xs *xs, xs_transaction_t t, struct domain *d)
{
	/* The body of a transaction may run again: start from scratch. */
	free(d->ports);
	d->ports = NULL;
	d->nports = 0;
	for (size_t i = 0; i < d->spec.nports; i++) {
		const struct lt_port *p = &d->spec.ports[i];
		struct port_claim *c = claim_add(d, p->proto, p->port, 1);

		if (c == NULL || claim_try(xs, t, d, c) < 0)
			return -1;
		if (c->owner != d->domid) {
			errno = EADDRINUSE;
			return -1;
		}
	}
	return 0;
}

int ports_mirror_all(struct lt_xs *xs, xs_transaction_t t, struct domain *d)
{
	char path[PATH_LEN];

	for (size_t i = 0; i < d->nports; i++) {
		const struct port_claim *c = &d->ports[i];

		if (c->owner == d->domid &&
		    mirror_path(path, d, c->proto, c->port) &&
		    lt_xs_printf(xs, t, path, "%u", d->domid) < 0)
			return -1;
	}
	return 0;
}

int ports_release_all(struct lt_xs *xs, xs_transaction_t t, struct domain *d)
{
	for (size_t i = 0; i < d->nports; i++)
		if (claim_release(xs, t, d, &d->ports[i]) < 0)
			return -1;
	return 0;
}

static void conflict_event(struct domain *d, const struct port_claim *c)
{
	struct json_object *data = domain_event_data(d);
	struct domain *o;
	const char *owner = "?";
	char port[16];

	TAILQ_FOREACH(o, &d->dep->domains, entry)
	if (o->domid == c->owner && o->state != DOM_GONE)
		owner = o->be.name;
	snprintf(port, sizeof(port), "%s/%u", lt_proto_name(c->proto), c->port);
	log_warn("%s/%s claims %s, held by %s (domain %u): refused",
		 d->dep->name, d->be.name, port, owner, c->owner);
	json_object_object_add(data, "port", json_object_new_string(port));
	json_object_object_add(data, "owner", json_object_new_string(owner));
	json_object_object_add(data, "owner_domid",
			       json_object_new_int64(c->owner));
	engine_emit(d->dep->engine, LT_EV_PORT_CONFLICT, data);
}

/* Marks the claims still listed under guest/ports/<proto>. */
static void mark_listed(struct lt_xs *xs, struct domain *d, enum lt_proto proto)
{
	char path[PATH_LEN];
	char **names;

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_GUEST_PORTS "/%s", d->domid,
		 lt_proto_name(proto));
	names = lt_xs_list(xs, XBT_NULL, path);
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		char *end;
		unsigned long port = strtoul(names[i], &end, 10);
		struct port_claim *c;

		if (*end != '\0' || port == 0 || port > 65535)
			continue; /* the guest's word is not trusted */
		c = claim_find(d, proto, (uint16_t)port);
		if (c == NULL)
			c = claim_add(d, proto, (uint16_t)port, 0);
		if (c != NULL)
			c->listed = 1;
	}
	free(names);
}

/*
 * guest/ports changed: claim what is new (or was refused and may be free
 * now), release what the app no longer listens on. No ordering is
 * promised, so the whole list is re-read every time.
 */
static void ports_changed(void *arg, const char *path)
{
	struct domain *d = arg;
	struct lt_xs *xs = d->dep->engine->xs;
	size_t before = d->nports;

	(void)path;
	for (size_t i = 0; i < d->nports; i++)
		d->ports[i].listed = 0;
	mark_listed(xs, d, LT_PROTO_TCP);
	mark_listed(xs, d, LT_PROTO_UDP);
	for (size_t i = 0; i < d->nports;) {
		struct port_claim *c = &d->ports[i];
		unsigned prev = c->owner;

		if (!c->listed && !c->declared) {
			if (claim_release(xs, XBT_NULL, d, c) < 0)
				log_warn("xenstore: releasing a port: %s",
					 strerror(errno));
			claim_remove(d, c);
			continue;
		}
		if (c->owner != d->domid) {
			if (claim_try(xs, XBT_NULL, d, c) < 0)
				log_warn("xenstore: claiming a port: %s",
					 strerror(errno));
			else if (c->owner != d->domid &&
				 (i >= before || prev != c->owner))
				conflict_event(d, c);
		}
		i++;
	}
}

int ports_watch(struct lt_xs *xs, struct domain *d)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" LT_XS_GUEST_PORTS,
		 d->domid);
	d->ports_watch = lt_xs_watch(xs, path, ports_changed, d);
	return d->ports_watch != NULL ? 0 : -1;
}

void ports_unwatch(struct lt_xs *xs, struct domain *d)
{
	lt_xs_unwatch(xs, d->ports_watch);
	d->ports_watch = NULL;
}

void ports_describe(const struct domain *d, struct json_object *o)
{
	struct json_object *won = json_object_new_array();
	struct json_object *refused = json_object_new_array();
	char port[16];

	for (size_t i = 0; i < d->nports; i++) {
		const struct port_claim *c = &d->ports[i];

		snprintf(port, sizeof(port), "%s/%u", lt_proto_name(c->proto),
			 c->port);
		if (c->owner == d->domid) {
			json_object_array_add(won,
					      json_object_new_string(port));
		} else {
			struct json_object *x = json_object_new_object();

			json_object_object_add(x, "port",
					       json_object_new_string(port));
			json_object_object_add(x, "owner_domid",
					       json_object_new_int64(c->owner));
			json_object_object_add(
			    x, "error",
			    json_object_new_string("held by another domain"));
			json_object_array_add(refused, x);
		}
	}
	json_object_object_add(o, "ports", won);
	json_object_object_add(o, "port_conflicts", refused);
}

void ports_free(struct domain *d)
{
	free(d->ports);
	d->ports = NULL;
	d->nports = 0;
}
