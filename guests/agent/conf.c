/* What librettod wrote for this domain: mode and the net/ nodes
 * (docs/datapath.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libretto/xs_paths.h>

#include "agent.h"

/* Reads <base>/<leaf> into buf; 1 if present, 0 if absent. A value that
 * does not fit counts as present but is cut, so the parser refuses it. */
static int rd(struct guest_xs *gx, const char *leaf, char *buf, size_t size)
{
	char path[160];
	unsigned len;
	char *v;

	snprintf(path, sizeof(path), "%s/%s", gx->base, leaf);
	v = xs_read(gx->h, XBT_NULL, path, &len);
	if (v == NULL) {
		buf[0] = '\0';
		return 0;
	}
	snprintf(buf, size, "%s", v);
	free(v);
	return 1;
}

static int parse_uint(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int conf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	int n = -1, i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &n) != 6 ||
	    n != 17 || s[n] != '\0')
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A multicast source address would be refused by every peer. */
	return mac[0] & 1 ? -1 : 0;
}

int conf_parse_prefix(const char *s, unsigned *prefix)
{
	unsigned p;

	/* /0 would make the whole Internet on-link; /32 leaves no room for
	 * the gateway on the link. */
	if (parse_uint(s, 31, &p) < 0 || p == 0)
		return -1;
	*prefix = p;
	return 0;
}

int conf_parse_ephemeral(const char *s, unsigned *lo, unsigned *hi)
{
	char a[8], b[8];
	const char *dash = strchr(s, '-');
	size_t la;

	if (dash == NULL)
		return -1;
	la = (size_t)(dash - s);
	if (la == 0 || la >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return -1;
	memcpy(a, s, la);
	a[la] = '\0';
	strcpy(b, dash + 1);
	/* The kernel wants lo < hi and lo >= 1. */
	if (parse_uint(a, 65535, lo) < 0 || parse_uint(b, 65535, hi) < 0 ||
	    *lo == 0 || *lo >= *hi)
		return -1;
	return 0;
}

int conf_parse_domid(const char *s, unsigned *domid)
{
	/* 0x7ff0 and up are Xen's special domids (DOMID_FIRST_RESERVED). */
	return parse_uint(s, 0x7fef, domid);
}

int conf_parse_backend(const char *s, unsigned self, unsigned *domid)
{
	unsigned d;

	/* Our own domid would be a VIF to ourselves. */
	if (conf_parse_domid(s, &d) < 0 || d == self)
		return -1;
	*domid = d;
	return 0;
}

/* The address nodes every networked mode needs. */
static int read_addr(struct guest_xs *gx, struct agent_net *net)
{
	char v[64];

	if (!rd(gx, LT_XS_NET_IP, v, sizeof(v)) ||
	    inet_pton(AF_INET, v, &net->ip) != 1) {
		agent_log("%s/%s is missing or not an IPv4 address: '%s'\n",
			  gx->base, LT_XS_NET_IP, v);
		return -1;
	}
	if (!rd(gx, LT_XS_NET_PREFIX, v, sizeof(v)) ||
	    conf_parse_prefix(v, &net->prefix) < 0) {
		agent_log("%s/%s is missing or not a prefix length: '%s'\n",
			  gx->base, LT_XS_NET_PREFIX, v);
		return -1;
	}
	if (!rd(gx, LT_XS_NET_GATEWAY, v, sizeof(v)) ||
	    inet_pton(AF_INET, v, &net->gateway) != 1) {
		agent_log("%s/%s is missing or not an IPv4 address: '%s'\n",
			  gx->base, LT_XS_NET_GATEWAY, v);
		return -1;
	}
	if (rd(gx, LT_XS_NET_MAC, v, sizeof(v))) {
		if (conf_parse_mac(v, net->mac) < 0) {
			agent_log("%s/%s is not a unicast MAC: '%s'\n",
				  gx->base, LT_XS_NET_MAC, v);
			return -1;
		}
		net->have_mac = true;
	}
	return 0;
}

int conf_read(struct guest_xs *gx, struct agent_net *net)
{
	char v[64];

	memset(net, 0, sizeof(*net));
	net->kind = AGENT_NET_NONE;
	if (!rd(gx, LT_XS_MODE, net->mode, sizeof(net->mode))) {
		agent_log("no %s/%s: running the app without networking\n",
			  gx->base, LT_XS_MODE);
		return 0;
	}
	if (strcmp(net->mode, "direct") == 0) {
		/* The VF is librettod's to attach; without the node it did not
		 * (a daemon without the data path), which is not our error. */
		if (!rd(gx, LT_XS_NET_VF, v, sizeof(v))) {
			agent_log("direct mode without %s/%s: running the app "
				  "without networking\n",
				  gx->base, LT_XS_NET_VF);
			return 0;
		}
		if (v[0] == '\0' || strlen(v) >= sizeof(net->vf) ||
		    strchr(v, '/') != NULL) {
			agent_log("%s/%s is not an interface name\n", gx->base,
				  LT_XS_NET_VF);
			return -1;
		}
		strcpy(net->vf, v);
		net->kind = AGENT_NET_VF;
		return read_addr(gx, net);
	}
	if (strcmp(net->mode, "dynamic") != 0 &&
	    strcmp(net->mode, "server") != 0) {
		agent_log("unknown mode '%s'\n", net->mode);
		return -1;
	}
	if (!rd(gx, LT_XS_NET_BACKEND, v, sizeof(v))) {
		agent_log("%s mode without %s/%s: running the app without "
			  "networking\n",
			  net->mode, gx->base, LT_XS_NET_BACKEND);
		return 0;
	}
	if (conf_parse_backend(v, gx->domid, &net->backend) < 0) {
		agent_log("%s/%s is not a backend domid: '%s'\n", gx->base,
			  LT_XS_NET_BACKEND, v);
		return -1;
	}
	net->kind = AGENT_NET_VIF;
	if (read_addr(gx, net) < 0)
		return -1;
	/* The TAP's own random MAC would not be the one the server and
	 * the peer know this app (or, server mode, the server) by. */
	if (!net->have_mac) {
		agent_log("%s mode without %s/%s\n", net->mode, gx->base,
			  LT_XS_NET_MAC);
		return -1;
	}
	if (strcmp(net->mode, "server") == 0) {
		/* Without its own range the app's outgoing connections could
		 * collide with another server-mode app's on the shared IP. */
		if (!rd(gx, LT_XS_NET_EPHEMERAL, v, sizeof(v)) ||
		    conf_parse_ephemeral(v, &net->eph_lo, &net->eph_hi) < 0) {
			agent_log("%s/%s is missing or not 'lo-hi': '%s'\n",
				  gx->base, LT_XS_NET_EPHEMERAL, v);
			return -1;
		}
		net->have_ephemeral = true;
	}
	return 0;
}
