/* Names of the enums and the comparisons behind "apply changes only what
 * differs". Positions are not compared: moving a line changes nothing. */
#include "deployment.h"

#include <string.h>

const char *lt_mode_name(enum lt_mode mode)
{
	switch (mode) {
	case LT_MODE_SERVER:
		return "server";
	case LT_MODE_DYNAMIC:
		return "dynamic";
	case LT_MODE_DIRECT:
		return "direct";
	}
	return "unknown";
}

const char *lt_restart_name(enum lt_restart when)
{
	switch (when) {
	case LT_RESTART_NEVER:
		return "never";
	case LT_RESTART_ON_FAILURE:
		return "on-failure";
	case LT_RESTART_ALWAYS:
		return "always";
	}
	return "unknown";
}

const char *lt_proto_name(enum lt_proto proto)
{
	switch (proto) {
	case LT_PROTO_TCP:
		return "tcp";
	case LT_PROTO_UDP:
		return "udp";
	}
	return "unknown";
}

static int has_port(const struct lt_app *app, const struct lt_port *port)
{
	for (size_t i = 0; i < app->nports; i++)
		if (app->ports[i].proto == port->proto &&
		    app->ports[i].port == port->port)
			return 1;
	return 0;
}

/* Ports are a set (the loader refuses duplicates): order does not matter. */
static int same_ports(const struct lt_app *a, const struct lt_app *b)
{
	if (a->nports != b->nports)
		return 0;
	for (size_t i = 0; i < a->nports; i++)
		if (!has_port(b, &a->ports[i]))
			return 0;
	return 1;
}

/* The command is a sequence: order matters. */
static int same_argv(const struct lt_app *a, const struct lt_app *b)
{
	if (a->argc != b->argc)
		return 0;
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 0;
	return 1;
}

int lt_app_equal(const struct lt_app *a, const struct lt_app *b)
{
	return strcmp(a->name, b->name) == 0 && a->mode == b->mode &&
	       same_argv(a, b) && same_ports(a, b) &&
	       a->memory_bytes == b->memory_bytes && a->vcpus == b->vcpus &&
	       lt_image_equal(&a->image, &b->image);
}

int lt_network_equal(const struct lt_network *a, const struct lt_network *b)
{
	return strcmp(a->nic, b->nic) == 0 && strcmp(a->vf_pf, b->vf_pf) == 0 &&
	       a->subnet.s_addr == b->subnet.s_addr && a->prefix == b->prefix &&
	       a->gateway.s_addr == b->gateway.s_addr &&
	       a->server_ip.s_addr == b->server_ip.s_addr &&
	       a->pool_first.s_addr == b->pool_first.s_addr &&
	       a->pool_last.s_addr == b->pool_last.s_addr && a->vfs == b->vfs;
}

int lt_server_equal(const struct lt_server *a, const struct lt_server *b)
{
	return a->memory_bytes == b->memory_bytes && a->vcpus == b->vcpus &&
	       lt_image_equal(&a->image, &b->image);
}
