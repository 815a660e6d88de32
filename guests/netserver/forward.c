/*
 * The forwarding decisions of the server (docs/datapath.md), as pure
 * functions of a frame and the tables: main.c carries them out.
 */
#include <string.h>

#include "netserver.h"

#define ETHERTYPE_IP  0x0800
#define ETHERTYPE_ARP 0x0806

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Multicast bit: broadcast is a multicast too. */
static bool is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static bool arp_request_for(const uint8_t *eth, size_t len, uint32_t ip)
{
	return len >= 14 + 28 && get16(eth + 20) == 1 &&
	       memcmp(eth + 14 + 24, &ip, 4) == 0;
}

/* A unicast frame to the server's MAC: the server itself, or the portmap. */
static struct fw_dec to_server(const struct fw_ctx *c, const uint8_t *eth,
			       size_t len)
{
	struct fw_dec d = {0};
	uint16_t type = get16(eth + 12);

	if (type == ETHERTYPE_ARP) {
		/* Requests for the server IP are the server's to answer;
		 * replies (to the shared IP) are for whichever server-mode
		 * app asked, so every one gets them. */
		if (arp_request_for(eth, len, c->server_ip))
			d.to |= FW_SELF;
		else if (len >= 14 + 28 && get16(eth + 20) == 2)
			d.to |= FW_FLOOD_SRV;
		if (d.to == 0)
			d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	if (type != ETHERTYPE_IP || len < 14 + 20) {
		d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	const uint8_t *ip = eth + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl ||
	    memcmp(ip + 16, &c->server_ip, 4) != 0) {
		d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	uint8_t proto = ip[9];
	if (proto == 1) {
		/* Echo requests are answered here; the rest (replies, errors)
		 * has no port to dispatch by. */
		if (len >= 14 + ihl + 8 && ip[ihl] == 8)
			d.to = FW_SELF;
		else
			d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	/* Only a first fragment carries the ports; later ones cannot be
	 * dispatched without reassembly, which the server does not do. */
	if ((proto != 6 && proto != 17) || (get16(ip + 6) & 0x1fff) != 0 ||
	    len < 14 + ihl + 4) {
		d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	uint16_t port = get16(ip + ihl + 2);
	uint16_t dom = pm_lookup(c->pm, proto == 6 ? PM_TCP : PM_UDP, port);
	const struct ns_app *app = apps_find(c->apps, dom);
	if (app == NULL || !app->vif.connected) {
		d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	d.to = FW_APP;
	d.domid = dom;
	return d;
}

/* Broadcast and multicast: every active dedicated-IP app; ARP also to the
 * server-mode apps, and to the server itself if it asks for the server
 * IP. */
static struct fw_dec flood(const struct fw_ctx *c, const uint8_t *eth,
			   size_t len)
{
	struct fw_dec d = {.to = FW_FLOOD_DED};

	if (get16(eth + 12) == ETHERTYPE_ARP) {
		d.to |= FW_FLOOD_SRV;
		if (arp_request_for(eth, len, c->server_ip))
			d.to |= FW_SELF;
	}
	return d;
}

struct fw_dec fw_from_pf(const struct fw_ctx *c, const uint8_t *eth, size_t len)
{
	struct fw_dec d = {0};
	const struct ns_app *app;

	if (len < 14) {
		d.drop = FW_DROP_FOREIGN;
		return d;
	}
	if (is_group(eth))
		return flood(c, eth, len);
	if (memcmp(eth, c->server_mac, 6) == 0)
		return to_server(c, eth, len);
	app = apps_by_mac(c->apps, eth);
	if (app != NULL && app->vif.connected) {
		d.to = FW_APP;
		d.domid = app->domid;
		return d;
	}
	/* A direct app's VF, an inactive app, another host: not ours. */
	d.drop = FW_DROP_FOREIGN;
	return d;
}

struct fw_dec fw_from_app(const struct fw_ctx *c, uint16_t src,
			  const uint8_t *eth, size_t len)
{
	struct fw_dec d = {0};
	const struct ns_app *app;

	if (is_group(eth)) {
		/* Out to the wire, and to the other apps as a switch
		 * would (the executor skips src). */
		d = flood(c, eth, len);
		d.to |= FW_PF;
		return d;
	}
	if (memcmp(eth, c->server_mac, 6) == 0) {
		const struct ns_app *s = apps_find(c->apps, src);

		/* A server-mode app shares the server MAC as its source, so
		 * a frame it addresses to that MAC is for the server IP
		 * only if it is not also the sender's own: delivered
		 * locally through the portmap, never sent out. */
		d = to_server(c, eth, len);
		if (d.to == FW_APP && d.domid == src && s != NULL)
			d.to = 0, d.drop = FW_DROP_NO_OWNER;
		return d;
	}
	app = apps_by_mac(c->apps, eth);
	if (app != NULL && app->domid != src && app->vif.connected) {
		d.to = FW_APP;
		d.domid = app->domid;
		return d;
	}
	d.to = FW_PF;
	return d;
}
