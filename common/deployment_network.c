/*
 * The network section: the NIC, the subnet, the gateway and server
 * addresses, the pool of dedicated addresses and the VF count.
 */
#include "deployment_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_MIN 8  /* a /8 is already more than any pool may hold */
#define PREFIX_MAX 30 /* a /31 or /32 leaves no room for gateway + server */

uint32_t lt_pool_size(const struct lt_network *net)
{
	return ntohl(net->pool_last.s_addr) - ntohl(net->pool_first.s_addr) + 1;
}

/* A netdev name (IFNAMSIZ - 1 characters, no '/' or blanks) or a PCI
 * address such as 0000:03:00.0 for the xen backend. */
static int nic_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > LT_NAME_MAX || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

static int load_nic(struct lt_yaml *y, yaml_node_t *node, const char *where,
		    char *out)
{
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0, "a NIC name");

	if (!s)
		return -1;
	if (!nic_valid(s)) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(y, node, where,
				    "%s is not a NIC name (expected 1 to %d "
				    "characters of a-z, A-Z, 0-9, '_', '.', "
				    "':' and '-')",
				    found, LT_NAME_MAX);
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static uint32_t prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static int load_subnet(struct lt_yaml *y, yaml_node_t *node,
		       struct lt_network *net)
{
	const char *where = "network.subnet";
	char found[64], addr[20], want[INET_ADDRSTRLEN];
	const char *s = lt_yaml_string(y, node, where, 0, "a CIDR subnet");
	const char *slash;
	unsigned long long prefix;

	if (!s)
		return -1;
	lt_yaml_describe(node, found, sizeof(found));
	slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &net->subnet) != 1 ||
	    lt_parse_uint(slash + 1, PREFIX_MAX, &prefix) < 0 ||
	    prefix < PREFIX_MIN)
		goto bad;
	net->prefix = (unsigned)prefix;
	uint32_t host = ntohl(net->subnet.s_addr);
	if (host & ~prefix_mask(net->prefix)) {
		struct in_addr base = {htonl(host & prefix_mask(net->prefix))};
		inet_ntop(AF_INET, &base, want, sizeof(want));
		return lt_yaml_fail(y, node, where,
				    "%s has host bits set (expected %s/%u)",
				    found, want, net->prefix);
	}
	return 0;
bad:
	return lt_yaml_fail(y, node, where,
			    "%s is not a CIDR subnet (expected a.b.c.d/N with "
			    "N from %d to %d)",
			    found, PREFIX_MIN, PREFIX_MAX);
}

/* Fails unless `a` is a usable host address of the subnet. */
static int check_host(struct lt_yaml *y, yaml_node_t *node, const char *where,
		      const struct lt_network *net, struct in_addr a)
{
	char addr[INET_ADDRSTRLEN], subnet[INET_ADDRSTRLEN];
	uint32_t mask = prefix_mask(net->prefix);
	uint32_t h = ntohl(a.s_addr), base = ntohl(net->subnet.s_addr);

	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	inet_ntop(AF_INET, &net->subnet, subnet, sizeof(subnet));
	if ((h & mask) != base)
		return lt_yaml_fail(y, node, where,
				    "%s is outside the subnet %s/%u", addr,
				    subnet, net->prefix);
	if (h == base)
		return lt_yaml_fail(y, node, where,
				    "%s is the network address of %s/%u "
				    "(expected a host address)",
				    addr, subnet, net->prefix);
	if (h == (base | ~mask))
		return lt_yaml_fail(y, node, where,
				    "%s is the broadcast address of %s/%u "
				    "(expected a host address)",
				    addr, subnet, net->prefix);
	return 0;
}

static int load_host(struct lt_yaml *y, yaml_node_t *node, const char *where,
		     const struct lt_network *net, struct in_addr *out)
{
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0, "an IPv4 address");

	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, out) != 1) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(y, node, where,
				    "%s is not an IPv4 address (expected "
				    "a.b.c.d)",
				    found);
	}
	return check_host(y, node, where, net, *out);
}

static int pool_contains(const struct lt_network *net, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return h >= ntohl(net->pool_first.s_addr) &&
	       h <= ntohl(net->pool_last.s_addr);
}

static int load_pool(struct lt_yaml *y, yaml_node_t *node,
		     struct lt_network *net)
{
	const char *where = "network.pool";
	char found[64], first[20], gw[INET_ADDRSTRLEN];
	const char *s = lt_yaml_string(y, node, where, 0, "an address range");
	const char *dash;

	if (!s)
		return -1;
	lt_yaml_describe(node, found, sizeof(found));
	dash = strchr(s, '-');
	if (!dash || (size_t)(dash - s) >= sizeof(first))
		goto bad;
	memcpy(first, s, (size_t)(dash - s));
	first[dash - s] = '\0';
	if (inet_pton(AF_INET, first, &net->pool_first) != 1 ||
	    inet_pton(AF_INET, dash + 1, &net->pool_last) != 1)
		goto bad;
	if (ntohl(net->pool_first.s_addr) > ntohl(net->pool_last.s_addr))
		return lt_yaml_fail(y, node, where,
				    "%s is reversed (expected first-last with "
				    "first <= last)",
				    found);
	if (check_host(y, node, where, net, net->pool_first) < 0 ||
	    check_host(y, node, where, net, net->pool_last) < 0)
		return -1;
	if (pool_contains(net, net->gateway)) {
		inet_ntop(AF_INET, &net->gateway, gw, sizeof(gw));
		return lt_yaml_fail(y, node, where,
				    "%s contains the gateway %s", found, gw);
	}
	if (pool_contains(net, net->server_ip)) {
		inet_ntop(AF_INET, &net->server_ip, gw, sizeof(gw));
		return lt_yaml_fail(y, node, where,
				    "%s contains the server_ip %s", found, gw);
	}
	if (lt_pool_size(net) > LT_POOL_MAX)
		return lt_yaml_fail(y, node, where,
				    "%s has %u addresses (expected at most %d)",
				    found, lt_pool_size(net), LT_POOL_MAX);
	return 0;
bad:
	return lt_yaml_fail(y, node, where,
			    "%s is not an address range (expected "
			    "a.b.c.d-a.b.c.d)",
			    found);
}

int lt_load_network(struct lt_yaml *y, yaml_node_t *node,
		    struct lt_network *net)
{
	struct lt_yaml_field f[] = {
	    LT_FIELD("nic", 1),	    LT_FIELD("subnet", 1),
	    LT_FIELD("gateway", 1), LT_FIELD("server_ip", 1),
	    LT_FIELD("pool", 1),    LT_FIELD("vfs", 0),
	    LT_FIELD("vf_pf", 0)};
	unsigned long long vfs = 0;

	if (lt_yaml_fields(y, node, "network", f, LT_NFIELDS(f)) < 0)
		return -1;
	if (load_nic(y, f[0].value, "network.nic", net->nic) < 0 ||
	    (f[6].value &&
	     load_nic(y, f[6].value, "network.vf_pf", net->vf_pf) < 0) ||
	    load_subnet(y, f[1].value, net) < 0 ||
	    load_host(y, f[2].value, "network.gateway", net, &net->gateway) <
		0 ||
	    load_host(y, f[3].value, "network.server_ip", net,
		      &net->server_ip) < 0)
		return -1;
	if (net->server_ip.s_addr == net->gateway.s_addr)
		return lt_yaml_fail(
		    y, f[3].value, "network.server_ip",
		    "%s is also the gateway (expected a "
		    "distinct address)",
		    (const char *)f[3].value->data.scalar.value);
	if (load_pool(y, f[4].value, net) < 0)
		return -1;
	if (f[5].value &&
	    lt_yaml_uint(y, f[5].value, "network.vfs", 0, LT_MAX_VFS, &vfs) < 0)
		return -1;
	net->vfs = (unsigned)vfs;
	return 0;
}
