#include "ports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "guest_value.h"
#include "log.h"
#include "timing.h"
#include "xs.h"
#include "xs_index.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

#define PATH_LEN 256
/*
 * The ports the ephemeral ranges cover, assigned now or not: a range free
 * today is the next server-mode app's, and the network server dispatches
 * a port of a range to the range's app whatever the portmap says. The
 * loader refuses a declared port there too. (The network server itself
 * answers only ARP and ICMP echo: no TCP or UDP port is its own.)
 */
#define EPHEMERAL_FIRST LT_EPHEMERAL_BASE
#define EPHEMERAL_END                                                          \
	(LT_EPHEMERAL_BASE + LT_EPHEMERAL_SLOTS * LT_EPHEMERAL_SPAN)

/* ports_reported: what was reported once for the domain's life. */
#define REPORTED_MALFORMED 0x1u
#define REPORTED_OVER_CAP  0x2u

/* The ports one re-read found listed, a bit each. */
struct listed_set {
	uint64_t bits[2][65536 / 64];
};

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

unsigned ports_parse_name(const char *name)
{
	uint64_t port;

	/* guest_u64 refuses signs, blanks, leading zeros and any length
	 * past a number's; "0" is no port either. */
	if (guest_u64(name, 65535, &port) != GUEST_OK)
		return 0;
	return (unsigned)port;
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

/* Names d as the port's owner in the portmap and the server's mirror. */
static int claim_write(struct lt_xs *xs, xs_transaction_t t, struct domain *d,
		       struct port_claim *c)
{
	char path[PATH_LEN];

	c->owner = d->domid;
	global_path(path, d, c->proto, c->port);
	if (lt_xs_printf(xs, t, path, "%u", d->domid) < 0)
		return -1;
	if (mirror_path(path, d, c->proto, c->port) &&
	    lt_xs_printf(xs, t, path, "%u", d->domid) < 0)
		return -1;
	return 0;
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
		/* dom0's own node; a value that is not a domid holds it for
		 * nobody we know (0), as a corrupted entry should */
		if (xs_uint_parse(owner, &c->owner) < 0)
			c->owner = 0;
		free(owner);
		if (c->owner != d->domid)
			return 0; /* first owner wins */
	}
	return claim_write(xs, t, d, c);
}

static int claim_release(struct lt_xs *xs, xs_transaction_t t, struct domain *d,
			 const struct port_claim *c)
{
	char path[PATH_LEN];
	char *owner;
	unsigned holder;
	int mine;

	if (c->owner != d->domid)
		return 0;
	global_path(path, d, c->proto, c->port);
	owner = lt_xs_read(xs, t, path);
	/* Only what still names this domain: a successor may hold it. */
	mine = owner != NULL && xs_uint_parse(owner, &holder) == 0 &&
	       holder == d->domid;
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

static struct port_claim *claim_find(struct domain *d, enum lt_proto proto,
				     uint16_t port)
{
	for (size_t i = 0; i < d->nports; i++)
		if (d->ports[i].proto == proto && d->ports[i].port == port)
			return &d->ports[i];
	return NULL;
}

static struct domain *domain_by_domid(struct deployment *dep, unsigned domid)
{
	struct domain *o;

	TAILQ_FOREACH(o, &dep->domains, entry)
	if (o->state != DOM_GONE && o->domid == domid)
		return o;
	return NULL;
}

static void conflict_event(struct domain *d, const struct port_claim *c);

/*
 * A port d declares is held by another app's run-time claim, granted
 * before a deployment file declared the port: the declaration wins, or an
 * app could squat the ports the next file will declare and make its
 * deploy fail. The holder's claim becomes a refused one, reported. A port
 * the holder declares itself stays its own: EADDRINUSE.
 */
static int take_from_run_time(struct lt_xs *xs, xs_transaction_t t,
			      struct domain *d, struct port_claim *c)
{
	struct domain *h = domain_by_domid(d->dep, c->owner);
	struct port_claim *hc =
	    h != NULL ? claim_find(h, c->proto, c->port) : NULL;

	if (hc == NULL || hc->declared) {
		errno = EADDRINUSE;
		return -1;
	}
	if (claim_write(xs, t, d, c) < 0)
		return -1;
	hc->owner = d->domid;
	hc->refusal = PORT_DECLARED;
	snprintf(hc->owner_name, sizeof(hc->owner_name), "%s", d->be.name);
	conflict_event(h, hc);
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
		if (c->owner != d->domid && take_from_run_time(xs, t, d, c) < 0)
			return -1;
	}
	return 0;
}

int ports_mirror_all(struct lt_xs *xs, xs_transaction_t t, struct domain *d)
{
	char path[PATH_LEN];

	for (size_t i = 0; i < d->nports; i++) {
		const struct port_claim *c = &d->ports[i];

		if (c->owner == d->domid && !c->by_range &&
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

/* The domain app `name` of dep has now, or NULL. */
static struct domain *domain_named(struct deployment *dep, const char *name)
{
	struct domain *o;

	TAILQ_FOREACH(o, &dep->domains, entry)
	if (o->state != DOM_GONE && strcmp(o->be.name, name) == 0)
		return o;
	return NULL;
}

/* The name of the app another of d's deployment declares proto/port for,
 * in the file in force or in the one being deployed; NULL when none. */
static const char *declared_by_other(const struct domain *d,
				     enum lt_proto proto, uint16_t port)
{
	const struct lt_deployment *specs[] = {d->dep->spec,
					       d->dep->pending_spec};

	for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
		for (size_t i = 0; specs[s] != NULL && i < specs[s]->napps;
		     i++) {
			const struct lt_app *a = &specs[s]->apps[i];

			if (strcmp(a->name, d->be.name) == 0)
				continue;
			for (size_t j = 0; j < a->nports; j++)
				if (a->ports[j].proto == proto &&
				    a->ports[j].port == port)
					return a->name;
		}
	}
	return NULL;
}

static void refuse(struct domain *d, struct port_claim *c,
		   enum port_refusal why, const char *owner_name)
{
	struct domain *o = domain_named(d->dep, owner_name);

	c->refusal = why;
	snprintf(c->owner_name, sizeof(c->owner_name), "%s", owner_name);
	c->owner = o != NULL ? o->domid : 0;
}

enum rule { RULE_PORTMAP, RULE_REFUSED, RULE_OWN_RANGE };

/*
 * The deployment's rules, before first-owner-wins: another app's declared
 * port and the ephemeral ranges are never a run-time claim's. A port of
 * d's own range is granted without an entry: the network server sends it
 * to d by the range already, and an entry would only be a copy that
 * could outlive the range.
 */
static enum rule claim_rule(struct domain *d, struct port_claim *c)
{
	const char *declarer = declared_by_other(d, c->proto, c->port);
	int slot;

	c->by_range = 0;
	if (declarer != NULL) {
		refuse(d, c, PORT_DECLARED, declarer);
		return RULE_REFUSED;
	}
	if (c->port < EPHEMERAL_FIRST || c->port >= EPHEMERAL_END)
		return RULE_PORTMAP;
	slot = (c->port - EPHEMERAL_FIRST) / LT_EPHEMERAL_SPAN;
	if (slot == d->ephemeral) {
		c->by_range = 1;
		c->owner = d->domid;
		return RULE_OWN_RANGE;
	}
	refuse(d, c, PORT_EPHEMERAL, d->dep->ephemeral_owner[slot]);
	return RULE_REFUSED;
}

static const char *refusal_reason(enum port_refusal r)
{
	switch (r) {
	case PORT_DECLARED:
		return "declared";
	case PORT_EPHEMERAL:
		return "ephemeral";
	case PORT_HELD:
		break;
	}
	return "held";
}

static const char *refusal_error(const struct port_claim *c)
{
	switch (c->refusal) {
	case PORT_DECLARED:
		return "declared by another app";
	case PORT_EPHEMERAL:
		return c->owner_name[0] != '\0'
			   ? "in another app's ephemeral range"
			   : "in an ephemeral range (none assigned yet)";
	case PORT_HELD:
		break;
	}
	return "held by another domain";
}

static void port_name(char *buf, size_t len, const struct port_claim *c)
{
	snprintf(buf, len, "%s/%u", lt_proto_name(c->proto), c->port);
}

/* "owner" and "owner_domid" of a refused claim, null when unknown. */
static void owner_json(struct json_object *o, const struct port_claim *c)
{
	json_object_object_add(o, "owner",
			       c->owner_name[0] != '\0'
				   ? json_object_new_string(c->owner_name)
				   : NULL);
	json_object_object_add(o, "owner_domid",
			       c->owner != 0 ? json_object_new_int64(c->owner)
					     : NULL);
	json_object_object_add(
	    o, "reason", json_object_new_string(refusal_reason(c->refusal)));
	json_object_object_add(o, "error",
			       json_object_new_string(refusal_error(c)));
}

/*
 * Whether a refusal of d's is reported now: at most PORTS_CONFLICT_REPORTS
 * a domain every PORTS_CONFLICT_WINDOW_MS, so that a guest listing and
 * withdrawing claims in a loop cannot fill the log and the subscribers'
 * buffers. What is not reported is counted, and the next report says how
 * many; status lists every refused claim whatever was reported.
 */
static int conflict_report_due(struct domain *d, unsigned *unreported)
{
	if (lt_interval_due(&d->conflicts_window, PORTS_CONFLICT_WINDOW_MS))
		d->conflicts_reported = 0; /* a new window */
	if (d->conflicts_reported >= PORTS_CONFLICT_REPORTS) {
		d->conflicts_unreported++;
		return 0;
	}
	d->conflicts_reported++;
	*unreported = d->conflicts_unreported;
	d->conflicts_unreported = 0;
	return 1;
}

static void conflict_event(struct domain *d, const struct port_claim *c)
{
	struct json_object *data;
	unsigned unreported;
	char port[16];

	if (!conflict_report_due(d, &unreported))
		return;
	data = domain_event_data(d);
	port_name(port, sizeof(port), c);
	log_warn("%s/%s claims %s: refused, %s (%s, domain %u); %u refusals "
		 "unreported before it",
		 d->dep->name, d->be.name, port, refusal_error(c),
		 c->owner_name[0] != '\0' ? c->owner_name : "no app", c->owner,
		 unreported);
	json_object_object_add(data, "port", json_object_new_string(port));
	owner_json(data, c);
	json_object_object_add(data, "unreported",
			       json_object_new_int64(unreported));
	engine_emit(d->dep->engine, LT_EV_PORT_CONFLICT, data);
}

/* The name of a held port's holder, for the reports. */
static void held_by(struct domain *d, struct port_claim *c)
{
	struct domain *o;

	c->refusal = PORT_HELD;
	c->owner_name[0] = '\0';
	TAILQ_FOREACH(o, &d->dep->domains, entry)
	if (o->domid == c->owner && o->state != DOM_GONE)
		snprintf(c->owner_name, sizeof(c->owner_name), "%s",
			 o->be.name);
}

/*
 * Decides claim c, new or refused before (the port may be free now), and
 * reports a refusal that is new or has changed. A claim the rules refuse
 * is written nowhere; an entry naming d that a daemon before these rules
 * wrote is removed.
 */
static void claim_decide(struct lt_xs *xs, struct domain *d,
			 struct port_claim *c, int is_new)
{
	unsigned prev_owner = c->owner;
	enum port_refusal prev = c->refusal;
	enum rule rule = c->declared ? RULE_PORTMAP : claim_rule(d, c);

	if (rule == RULE_OWN_RANGE)
		return;
	if (rule == RULE_REFUSED && is_new) {
		struct port_claim stale = *c;

		stale.owner = d->domid;
		if (claim_release(xs, XBT_NULL, d, &stale) < 0)
			log_warn("xenstore: removing a refused port: %s",
				 strerror(errno));
	}
	if (rule == RULE_PORTMAP) {
		if (claim_try(xs, XBT_NULL, d, c) < 0) {
			log_warn("xenstore: claiming a port: %s",
				 strerror(errno));
			return;
		}
		if (c->owner != d->domid)
			held_by(d, c);
	}
	if (c->owner != d->domid &&
	    (is_new || prev_owner != c->owner || prev != c->refusal))
		conflict_event(d, c);
}

/* Adds the ports listed under guest/ports/<proto> to set; counts the
 * names that are not a port. 0, or -1 with errno. */
static int read_proto(struct lt_xs *xs, struct domain *d, enum lt_proto proto,
		      struct listed_set *set, unsigned *malformed)
{
	char path[PATH_LEN];
	char **names;

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_GUEST_PORTS "/%s", d->domid,
		 lt_proto_name(proto));
	names = lt_xs_list(xs, XBT_NULL, path);
	if (names == NULL)
		return errno == ENOENT ? 0 : -1;
	for (size_t i = 0; names[i] != NULL; i++) {
		unsigned port = ports_parse_name(names[i]);

		if (port == 0)
			(*malformed)++;
		else
			set->bits[proto][port / 64] |= 1ull << (port % 64);
	}
	free(names);
	return 0;
}

/* Reads guest/ports/ whole into set: tcp/ and udp/, and anything else
 * there counted as one malformed entry. 0, or -1 with errno. */
static int read_listed(struct lt_xs *xs, struct domain *d,
		       struct listed_set *set, unsigned *malformed)
{
	char path[PATH_LEN];
	char **names;
	int r = 0;

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" LT_XS_GUEST_PORTS,
		 d->domid);
	names = lt_xs_list(xs, XBT_NULL, path);
	if (names == NULL)
		return errno == ENOENT ? 0 : -1;
	for (size_t i = 0; r == 0 && names[i] != NULL; i++) {
		if (strcmp(names[i], lt_proto_name(LT_PROTO_TCP)) == 0)
			r = read_proto(xs, d, LT_PROTO_TCP, set, malformed);
		else if (strcmp(names[i], lt_proto_name(LT_PROTO_UDP)) == 0)
			r = read_proto(xs, d, LT_PROTO_UDP, set, malformed);
		else
			(*malformed)++;
	}
	free(names);
	return r;
}

/* Clears and returns proto/port's bit. */
static int listed_take(struct listed_set *set, enum lt_proto proto,
		       uint16_t port)
{
	uint64_t bit = 1ull << (port % 64), *w = &set->bits[proto][port / 64];
	int was = (*w & bit) != 0;

	*w &= ~bit;
	return was;
}

/* The entries refused in bulk, counted in status; reported once each for
 * the domain's life, not at every write of the guest's. */
static void bulk_report(struct domain *d, const char *reason, unsigned count,
			unsigned flag)
{
	struct json_object *data;

	if (count == 0 || (d->ports_reported & flag))
		return;
	d->ports_reported |= flag;
	log_warn("%s/%s: %u guest/ports entr%s refused: %s", d->dep->name,
		 d->be.name, count, count == 1 ? "y" : "ies", reason);
	data = domain_event_data(d);
	json_object_object_add(data, "reason", json_object_new_string(reason));
	json_object_object_add(data, "count", json_object_new_int64(count));
	json_object_object_add(data, "cap",
			       json_object_new_int(PORTS_RUN_TIME_MAX));
	engine_emit(d->dep->engine, LT_EV_PORT_REFUSED, data);
}

/* Claims what is listed and not yet considered, up to the cap. */
static void claim_new(struct lt_xs *xs, struct domain *d,
		      const struct listed_set *set, size_t run_time,
		      unsigned *over_cap)
{
	for (int proto = LT_PROTO_TCP; proto <= LT_PROTO_UDP; proto++) {
		for (unsigned w = 0; w < 65536 / 64; w++) {
			for (uint64_t b = set->bits[proto][w]; b; b &= b - 1) {
				uint16_t port =
				    (uint16_t)(w * 64 +
					       (unsigned)__builtin_ctzll(b));
				struct port_claim *c = NULL;

				if (run_time < PORTS_RUN_TIME_MAX)
					c = claim_add(d, proto, port, 0);
				if (c == NULL) {
					(*over_cap)++;
					continue;
				}
				c->listed = 1;
				run_time++;
				claim_decide(xs, d, c, 1);
			}
		}
	}
}

/*
 * guest/ports changed: release what the app no longer lists, retry what
 * was refused (it may be free now), claim what is new. No ordering is
 * promised, so the whole list is re-read every time.
 */
static void ports_changed(void *arg, const char *path)
{
	struct domain *d = arg;
	struct lt_xs *xs = d->dep->engine->xs;
	struct listed_set *set = calloc(1, sizeof(*set));
	unsigned malformed = 0, over_cap = 0;
	size_t run_time = 0;

	(void)path;
	if (set == NULL || read_listed(xs, d, set, &malformed) < 0) {
		log_warn("%s/%s: reading guest/ports: %s", d->dep->name,
			 d->be.name, strerror(errno));
		free(set);
		return;
	}
	/* Released first, so that an app replacing its claims is not held
	 * to the cap by the ones it dropped. */
	for (size_t i = 0; i < d->nports;) {
		struct port_claim *c = &d->ports[i];

		c->listed = listed_take(set, c->proto, c->port);
		if (!c->listed && !c->declared) {
			if (claim_release(xs, XBT_NULL, d, c) < 0)
				log_warn("xenstore: releasing a port: %s",
					 strerror(errno));
			claim_remove(d, c);
			continue;
		}
		run_time += !c->declared;
		i++;
	}
	for (size_t i = 0; i < d->nports; i++)
		if (d->ports[i].owner != d->domid)
			claim_decide(xs, d, &d->ports[i], 0);
	claim_new(xs, d, set, run_time, &over_cap);
	free(set);
	d->ports_malformed = malformed;
	d->ports_over_cap = over_cap;
	bulk_report(d, "malformed", malformed, REPORTED_MALFORMED);
	bulk_report(d, "cap", over_cap, REPORTED_OVER_CAP);
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
	struct json_object *claims = json_object_new_object();
	size_t run_time = 0;
	char port[16];

	for (size_t i = 0; i < d->nports; i++) {
		const struct port_claim *c = &d->ports[i];

		run_time += !c->declared;
		port_name(port, sizeof(port), c);
		if (c->owner == d->domid) {
			json_object_array_add(won,
					      json_object_new_string(port));
		} else {
			struct json_object *x = json_object_new_object();

			json_object_object_add(x, "port",
					       json_object_new_string(port));
			owner_json(x, c);
			json_object_array_add(refused, x);
		}
	}
	json_object_object_add(o, "ports", won);
	json_object_object_add(o, "port_conflicts", refused);
	json_object_object_add(claims, "run_time",
			       json_object_new_int64((int64_t)run_time));
	json_object_object_add(claims, "cap",
			       json_object_new_int(PORTS_RUN_TIME_MAX));
	json_object_object_add(claims, "over_cap",
			       json_object_new_int64(d->ports_over_cap));
	json_object_object_add(claims, "malformed",
			       json_object_new_int64(d->ports_malformed));
	json_object_object_add(o, "port_claims", claims);
}

void ports_free(struct domain *d)
{
	free(d->ports);
	d->ports = NULL;
	d->nports = 0;
	d->ports_malformed = 0;
	d->ports_over_cap = 0;
	d->ports_reported = 0;
}
