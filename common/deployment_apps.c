/*
 * The apps sequence: each app's fields, then the checks across apps
 * (unique names, unique ports, enough VFs and pool addresses), made while
 * the nodes are at hand so that each error points at the app at fault.
 */
#include "deployment_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libretto/xs_paths.h>

/* Who took each port so far: app index + 1, 0 when free. */
struct port_owners {
	unsigned char owner[2][65536];
};

struct apps_state {
	struct lt_yaml *y;
	struct lt_deployment *d;
	struct port_owners *ports;
	unsigned direct, dedicated; /* counts so far */
};

static int load_mode(struct lt_yaml *y, yaml_node_t *node, const char *where,
		     enum lt_mode *mode)
{
	static const enum lt_mode modes[] = {LT_MODE_SERVER, LT_MODE_DYNAMIC,
					     LT_MODE_DIRECT};
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0,
				       "a mode (server, dynamic or direct)");

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, lt_mode_name(modes[i])) == 0) {
			*mode = modes[i];
			return 0;
		}
	}
	lt_yaml_describe(node, found, sizeof(found));
	return lt_yaml_fail(y, node, where,
			    "%s is not a mode (expected server, dynamic or "
			    "direct)",
			    found);
}

/* The first word is the program and must not be empty; later arguments
 * may be ("redis-server --save ''" is a real idiom). */
static int load_command(struct lt_yaml *y, yaml_node_t *node, const char *where,
			struct lt_app *app)
{
	char found[64], path[96];
	size_t n;

	if (node->type != YAML_SEQUENCE_NODE) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(y, node, where,
				    "expected a sequence of strings such as "
				    "[nginx, -g, \"daemon off;\"], found %s",
				    found);
	}
	n = (size_t)(node->data.sequence.items.top -
		     node->data.sequence.items.start);
	if (n == 0)
		return lt_yaml_fail(y, node, where,
				    "the sequence is empty (expected the "
				    "program and its arguments)");
	app->argv = calloc(n + 1, sizeof(*app->argv));
	if (!app->argv)
		return lt_yaml_fail(y, node, where, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item =
		    lt_yaml_item(y, node->data.sequence.items.start[i]);
		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		const char *s =
		    lt_yaml_string(y, item, path, i > 0,
				   i == 0 ? "the program name" : "a string");
		if (!s)
			return -1;
		app->argv[i] = strdup(s);
		if (!app->argv[i])
			return lt_yaml_fail(y, item, path, "out of memory");
		app->argc = i + 1;
	}
	return 0;
}

static int parse_port(const char *s, struct lt_port *port)
{
	unsigned long long n;

	if (strncmp(s, "tcp/", 4) == 0)
		port->proto = LT_PROTO_TCP;
	else if (strncmp(s, "udp/", 4) == 0)
		port->proto = LT_PROTO_UDP;
	else
		return -1;
	if (lt_parse_uint(s + 4, 65535, &n) < 0 || n == 0)
		return -1;
	port->port = (uint16_t)n;
	return 0;
}

/* Each port once across all server-mode apps: the server dispatches
 * inbound traffic by destination port alone. */
static int claim_port(struct apps_state *st, size_t app_index,
		      yaml_node_t *node, const char *where,
		      const struct lt_port *port)
{
	unsigned char *owner = &st->ports->owner[port->proto][port->port];
	const struct lt_app *other;

	if (*owner == 0) {
		*owner = (unsigned char)(app_index + 1);
		return 0;
	}
	other = &st->d->apps[*owner - 1];
	for (size_t i = 0; i < other->nports; i++) {
		const struct lt_port *p = &other->ports[i];
		if (p->proto == port->proto && p->port == port->port)
			return lt_yaml_fail(
			    st->y, node, where,
			    "%s/%u is already taken by apps[%u] (%s) at "
			    "line %d, column %d",
			    lt_proto_name(port->proto), port->port, *owner - 1,
			    other->name, p->pos.line, p->pos.column);
	}
	return lt_yaml_fail(st->y, node, where, "%s/%u is already taken",
			    lt_proto_name(port->proto), port->port);
}

static int load_ports(struct apps_state *st, size_t app_index,
		      yaml_node_t *node, const char *where, struct lt_app *app)
{
	char found[64], path[96];
	size_t n;

	if (node->type != YAML_SEQUENCE_NODE) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(st->y, node, where,
				    "expected a sequence such as [tcp/80, "
				    "udp/53], found %s",
				    found);
	}
	n = (size_t)(node->data.sequence.items.top -
		     node->data.sequence.items.start);
	app->ports = calloc(n ? n : 1, sizeof(*app->ports));
	if (!app->ports)
		return lt_yaml_fail(st->y, node, where, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item =
		    lt_yaml_item(st->y, node->data.sequence.items.start[i]);
		struct lt_port *port = &app->ports[i];
		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		const char *s = lt_yaml_string(st->y, item, path, 0,
					       "a port such as tcp/80");
		if (!s)
			return -1;
		if (parse_port(s, port) < 0) {
			lt_yaml_describe(item, found, sizeof(found));
			return lt_yaml_fail(st->y, item, path,
					    "%s is not a port (expected tcp/N "
					    "or udp/N with N from 1 to 65535)",
					    found);
		}
		port->pos = lt_yaml_pos(item);
		/* The server dispatches a port of an ephemeral range to the
		 * range's app, whatever is declared. */
		if (port->port >= LT_EPHEMERAL_BASE &&
		    port->port < LT_EPHEMERAL_BASE +
				     LT_EPHEMERAL_SLOTS * LT_EPHEMERAL_SPAN)
			return lt_yaml_fail(
			    st->y, item, path,
			    "%s/%u is an ephemeral port (%u to %u are the "
			    "server-mode apps' outgoing ports): declare a "
			    "port outside them",
			    lt_proto_name(port->proto), port->port,
			    LT_EPHEMERAL_BASE,
			    LT_EPHEMERAL_BASE +
				LT_EPHEMERAL_SLOTS * LT_EPHEMERAL_SPAN - 1);
		if (claim_port(st, app_index, item, path, port) < 0)
			return -1;
		app->nports = i + 1;
	}
	return 0;
}

static int check_unique_name(struct apps_state *st, size_t index,
			     yaml_node_t *node, const char *where)
{
	for (size_t i = 0; i < index; i++) {
		const struct lt_app *other = &st->d->apps[i];
		if (strcmp(other->name, st->d->apps[index].name) == 0)
			return lt_yaml_fail(st->y, node, where,
					    "\"%s\" is already the name of "
					    "apps[%zu] at line %d, column %d",
					    other->name, i, other->pos.line,
					    other->pos.column);
	}
	return 0;
}

static int check_reserved_name(struct apps_state *st, yaml_node_t *node,
			       const char *where, const char *name)
{
	if (strcmp(name, "server") == 0)
		return lt_yaml_fail(st->y, node, where,
				    "\"server\" is reserved (it names the "
				    "network server domain)");
	if (strcmp(name, "peer") == 0)
		return lt_yaml_fail(st->y, node, where,
				    "\"peer\" is reserved (it names the "
				    "namespace of the outside network)");
	return 0;
}

/* Direct apps each hold a VF from boot; dynamic and direct apps each hold
 * a pool address. Counted in file order so the error names the first app
 * that does not fit. */
static int check_capacity(struct apps_state *st, const struct lt_app *app,
			  yaml_node_t *mode_node, const char *where)
{
	const struct lt_network *net = &st->d->net;

	if (app->mode == LT_MODE_SERVER)
		return 0;
	if (++st->dedicated > lt_pool_size(net))
		return lt_yaml_fail(
		    st->y, mode_node, where,
		    "app \"%s\" is dynamic or direct app number "
		    "%u, but network.pool has %u address%s "
		    "(expected one per dynamic or direct app)",
		    app->name, st->dedicated, lt_pool_size(net),
		    lt_pool_size(net) == 1 ? "" : "es");
	if (app->mode == LT_MODE_DIRECT && ++st->direct > net->vfs)
		return lt_yaml_fail(st->y, mode_node, where,
				    "app \"%s\" is direct app number %u, but "
				    "network.vfs is %u (expected one VF per "
				    "direct app)",
				    app->name, st->direct, net->vfs);
	return 0;
}

static int load_app(struct apps_state *st, size_t index, yaml_node_t *node)
{
	struct lt_yaml_field f[] = {
	    LT_FIELD("name", 1),	   LT_FIELD("mode", 1),
	    LT_FIELD("command", 1),	   LT_FIELD("ports", 0),
	    LT_FIELD("memory", 0),	   LT_FIELD("vcpus", 0),
	    LT_FIELD("restart", 0),	   LT_FIELD("restart_limit", 0),
	    LT_FIELD("restart_window", 0), LT_FIELD("kernel", 0),
	    LT_FIELD("ramdisk", 0),	   LT_FIELD("cmdline", 0)};
	struct lt_app *app = &st->d->apps[index];
	char where[32], path[64];

	snprintf(where, sizeof(where), "apps[%zu]", index);
	if (lt_yaml_fields(st->y, node, where, f, LT_NFIELDS(f)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.name", where);
	if (lt_load_name(st->y, f[0].value, path, app->name) < 0 ||
	    check_reserved_name(st, f[0].value, path, app->name) < 0 ||
	    check_unique_name(st, index, f[0].value, path) < 0)
		return -1;
	app->pos = lt_yaml_pos(f[0].value);
	snprintf(path, sizeof(path), "%s.mode", where);
	if (load_mode(st->y, f[1].value, path, &app->mode) < 0 ||
	    check_capacity(st, app, f[1].value, path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.command", where);
	if (load_command(st->y, f[2].value, path, app) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s.ports", where);
	if (f[3].value && app->mode != LT_MODE_SERVER)
		return lt_yaml_fail(st->y, f[3].key_node, path,
				    "a %s app has an address of its own and "
				    "takes no ports (ports are for mode "
				    "server)",
				    lt_mode_name(app->mode));
	if (f[3].value && load_ports(st, index, f[3].value, path, app) < 0)
		return -1;
	if (lt_load_restart(st->y, f[6].value, f[7].value, f[8].value, where,
			    &app->restart) < 0 ||
	    lt_load_image(st->y, f[9].value, f[10].value, f[11].value, where,
			  &app->image) < 0)
		return -1;
	return lt_load_app_resources(st->y, f[4].value, f[5].value, where, app);
}

int lt_load_apps(struct lt_yaml *y, yaml_node_t *node, struct lt_deployment *d)
{
	struct apps_state st = {.y = y, .d = d};
	char found[64];
	size_t n;
	int rc = -1;

	if (node->type != YAML_SEQUENCE_NODE) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(y, node, "apps",
				    "expected a sequence of apps, found %s",
				    found);
	}
	n = (size_t)(node->data.sequence.items.top -
		     node->data.sequence.items.start);
	if (n == 0)
		return lt_yaml_fail(y, node, "apps",
				    "the sequence is empty (expected at least "
				    "one app)");
	if (n > LT_MAX_APPS) {
		yaml_node_t *extra = lt_yaml_item(
		    y, node->data.sequence.items.start[LT_MAX_APPS]);
		return lt_yaml_fail(y, extra, "apps",
				    "%zu apps (expected at most %d)", n,
				    LT_MAX_APPS);
	}
	d->apps = calloc(n, sizeof(*d->apps));
	st.ports = calloc(1, sizeof(*st.ports));
	if (!d->apps || !st.ports) {
		lt_yaml_fail(y, node, "apps", "out of memory");
		goto out;
	}
	/* counted now so that lt_deployment_free frees partial apps */
	d->napps = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item =
		    lt_yaml_item(y, node->data.sequence.items.start[i]);
		if (load_app(&st, i, item) < 0)
			goto out;
	}
	rc = 0;
out:
	free(st.ports);
	return rc;
}
