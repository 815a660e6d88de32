/*
 * The forwarding decisions of the server (docs/datapath.md), as functions
 * of a frame and the tables: main.c carries them out.  Every frame from
 * an app is first checked to carry the app's own addresses (the anti-
 * spoofing rules of "What an app may send"), with a few compares on the
 * headers and no state but the ARP questions of server-mode apps.
 */
#include <string.h>

#include "netserver.h"

#define ETHERTYPE_IP  0x0800
#define ETHERTYPE_ARP 0x0806

/* What fw_from_app may read of a frame: Ethernet, IPv4 with options, the
 * ports.  main.c copies this much (TX_PREFIX) out of the shared ring
 * before deciding, and the decision must not read past the copy. */
#define APP_HDR_MAX (14 + 60 + 4)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Multicast bit: broadcast is a multicast too. */
static bool is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static uint32_t get_ip(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool arp_request_for(const uint8_t *eth, size_t len, uint32_t ip)
{
	return len >= 14 + 28 && get16(eth + 20) == 1 &&
	       memcmp(eth + 14 + 24, &ip, 4) == 0;
}

/* Ethernet/IPv4 ARP, whole: anything else (another hardware or address
 * length) would put the addresses elsewhere than where they are read. */
static bool arp_well_formed(const uint8_t *eth, size_t len)
{
	const uint8_t *a = eth + 14;

	return len >= 14 + 28 && get16(a) == 1 &&
	       get16(a + 2) == ETHERTYPE_IP && a[4] == 6 && a[5] == 4;
}

/* ---- ARP questions of server-mode apps ---- */

/* They share the server IP, so a reply to it says nothing of which one
 * asked: each remembers what it asked for, and a reply goes to one app
 * waiting for it (each request gets a reply of its own). */
static void arp_asked(struct ns_app *app, uint32_t ip)
{
	for (unsigned i = 0; i < NS_ARP_ASKED; i++)
		if (app->arp_asked[i] == ip)
			return; /* asked again: still one answer wanted */
	app->arp_asked[app->arp_asked_next] = ip;
	app->arp_asked_next = (app->arp_asked_next + 1) % NS_ARP_ASKED;
}

/* The server-mode app waiting for ip, which stops waiting; 0 if none. */
static uint16_t arp_take_asker(const struct ns_apps *apps, uint32_t ip)
{
	for (unsigned n = 0; n < apps->n; n++) {
		struct ns_app *a = apps->v[n];

		if (a->mode != NS_MODE_SERVER || !a->vif.connected)
			continue;
		for (unsigned i = 0; i < NS_ARP_ASKED; i++) {
			if (a->arp_asked[i] == ip) {
				a->arp_asked[i] = 0;
				return a->domid;
			}
		}
	}
	return 0;
}

/* An ARP reply (well formed) to the server IP: to the app that asked. */
static struct fw_dec arp_reply_to_asker(const struct fw_ctx *c,
					const uint8_t *eth)
{
	struct fw_dec d = {0};
	uint32_t spa = get_ip(eth + 14 + 14);

	d.domid = spa != 0 ? arp_take_asker(c->apps, spa) : 0;
	if (d.domid != 0)
		d.to = FW_APP;
	else
		d.drop = FW_DROP_NO_OWNER;
	return d;
}

/* A unicast frame to the server's MAC: the server itself, or the portmap. */
static struct fw_dec to_server(const struct fw_ctx *c, const uint8_t *eth,
			       size_t len)
{
	struct fw_dec d = {0};
	uint16_t type = get16(eth + 12);

	if (type == ETHERTYPE_ARP) {
		/* Requests for the server IP are the server's to answer;
		 * replies (to the shared IP) are for the server-mode app
		 * that asked. */
		if (arp_request_for(eth, len, c->server_ip))
			d.to |= FW_SELF;
		else if (arp_well_formed(eth, len) && get16(eth + 20) == 2 &&
			 get_ip(eth + 14 + 24) == c->server_ip)
			return arp_reply_to_asker(c, eth);
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
 * IP.  A request for the server IP is the server's alone to answer: the
 * server-mode apps, which share it, are not asked (they may not send
 * replies). */
static struct fw_dec flood(const struct fw_ctx *c, const uint8_t *eth,
			   size_t len)
{
	struct fw_dec d = {.to = FW_FLOOD_DED};

	if (get16(eth + 12) == ETHERTYPE_ARP) {
		if (arp_request_for(eth, len, c->server_ip))
			d.to |= FW_SELF;
		else
			d.to |= FW_FLOOD_SRV;
	}
	return d;
}

/* The MAC that owns ip among the server's addresses (the server IP, an
 * app's), or NULL when ip is none of them. */
static const uint8_t *owner_mac(const struct fw_ctx *c, uint32_t ip)
{
	if (ip == c->server_ip)
		return c->server_mac;
	for (unsigned i = 0; i < c->apps->n; i++) {
		const struct ns_app *a = c->apps->v[i];

		if (a->ip == ip && a->mode != NS_MODE_SERVER && a->has_mac)
			return a->mac;
	}
	return NULL;
}

/*
 * ARP from the wire.  A sender claiming an address of the server's or of
 * an app's from another MAC (a hostile direct app on its VF, say) is
 * refused: it would redirect that address in every app that hears it.  A
 * broadcast reply that is not an announcement (sender and target address
 * equal) goes where a unicast one would, to whoever the target address
 * is; announcements and requests are flooded.
 */
static struct fw_dec arp_from_pf(const struct fw_ctx *c, const uint8_t *eth,
				 size_t len)
{
	struct fw_dec d = {0};
	uint32_t spa, tpa;
	const uint8_t *mac;

	if (!arp_well_formed(eth, len))
		return d; /* the caller decides as for any frame */
	spa = get_ip(eth + 14 + 14);
	tpa = get_ip(eth + 14 + 24);
	mac = owner_mac(c, spa);
	if (spa != 0 && mac != NULL && memcmp(eth + 14 + 8, mac, 6) != 0) {
		d.drop = FW_DROP_SPOOF_ARP;
		return d;
	}
	if (!is_group(eth) || get16(eth + 20) != 2 || spa == tpa)
		return d; /* the caller decides as for any frame */
	if (tpa == c->server_ip)
		return arp_reply_to_asker(c, eth);
	mac = owner_mac(c, tpa);
	const struct ns_app *app =
	    mac != NULL ? apps_by_mac(c->apps, mac) : NULL;
	if (app != NULL && app->vif.connected) {
		d.to = FW_APP;
		d.domid = app->domid;
	} else {
		d.drop = FW_DROP_NO_OWNER;
	}
	return d;
}

/* ---- what an app may send ---- */

/* Whether ip is a later fragment of a datagram whose first fragment app
 * sent through the port check. */
static bool frag_sent(const struct ns_app *app, const uint8_t *ip)
{
	uint32_t dst = get_ip(ip + 16);
	uint16_t id = get16(ip + 4);

	for (unsigned i = 0; i < NS_FRAGS_SENT; i++) {
		const struct ns_frag_sent *f = &app->frags_sent[i];

		if (f->proto != 0 && f->proto == ip[9] && f->id == id &&
		    f->dst == dst)
			return true;
	}
	return false;
}

static void frag_note(struct ns_app *app, const uint8_t *ip)
{
	app->frags_sent[app->frags_sent_next] = (struct ns_frag_sent){
	    .dst = get_ip(ip + 16), .id = get16(ip + 4), .proto = ip[9]};
	app->frags_sent_next = (app->frags_sent_next + 1) % NS_FRAGS_SENT;
}

static enum fw_drop check_ipv4(const struct fw_ctx *c, struct ns_app *app,
			       uint32_t own_ip, const uint8_t *eth, size_t len)
{
	const uint8_t *ip = eth + 14;
	size_t ihl;
	int pm;

	if (len < 14 + 20 || (ip[0] >> 4) != 4)
		return FW_DROP_SPOOF_IP;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || len < 14 + ihl || get_ip(ip + 12) != own_ip)
		return FW_DROP_SPOOF_IP;
	if (app->mode != NS_MODE_SERVER)
		return FW_DROP_NONE;
	/* The shared IP: the source port says whose the frame is.  A later
	 * fragment has none: it passes only as the rest of a datagram whose
	 * first fragment passed (same destination, IP id and protocol), so
	 * that a large UDP datagram still leaves whole. Its offset is 8
	 * bytes at least: it cannot rewrite the ports. */
	uint16_t frag = get16(ip + 6);
	if ((frag & 0x1fff) != 0)
		return frag_sent(app, ip) ? FW_DROP_NONE : FW_DROP_SPOOF_PORT;
	const uint8_t *l4 = ip + ihl;
	switch (ip[9]) {
	case 6:
	case 17:
		pm = ip[9] == 6 ? PM_TCP : PM_UDP;
		if (len < 14 + ihl + 4 ||
		    pm_lookup(c->pm, pm, get16(l4)) != app->domid)
			return FW_DROP_SPOOF_PORT;
		if (frag & 0x2000) /* more fragments: the rest may follow */
			frag_note(app, ip);
		return FW_DROP_NONE;
	case 1:
		break;
	default:
		return FW_DROP_SPOOF_PORT;
	}
	/* ICMP: only an error (unreachable, time exceeded, parameter
	 * problem) about a datagram the app received, that is one to the
	 * server IP at a port it owns; echo requests would get replies the
	 * server cannot dispatch, and it answers echo requests itself. */
	if (len < 14 + ihl + 8 + 20 || 14 + ihl + 8 + 20 > APP_HDR_MAX ||
	    (l4[0] != 3 && l4[0] != 11 && l4[0] != 12))
		return FW_DROP_SPOOF_PORT;
	const uint8_t *q = l4 + 8;
	size_t qihl = (size_t)(q[0] & 0x0f) * 4;
	/* The quoted ports must lie in the checked copy too (options on
	 * both headers could push them past it: refused). */
	if ((q[0] >> 4) != 4 || qihl < 20 || len < 14 + ihl + 8 + qihl + 4 ||
	    14 + ihl + 8 + qihl + 4 > APP_HDR_MAX || get_ip(q + 16) != own_ip ||
	    (q[9] != 6 && q[9] != 17) ||
	    pm_lookup(c->pm, q[9] == 6 ? PM_TCP : PM_UDP,
		      get16(q + qihl + 2)) != app->domid)
		return FW_DROP_SPOOF_PORT;
	return FW_DROP_NONE;
}

/*
 * ARP from an app: its own MAC and IP as sender.  A server-mode app only
 * asks (requests): the server answers for the shared IP itself, so a
 * reply from an app could only misinform.  A dedicated-IP app may also
 * probe (sender IP 0, RFC 5227) and answer for its own IP.
 */
static enum fw_drop check_arp(struct ns_app *app, const uint8_t *own_mac,
			      uint32_t own_ip, const uint8_t *eth, size_t len)
{
	const uint8_t *a = eth + 14;
	uint32_t spa;
	uint16_t op;

	if (!arp_well_formed(eth, len) || memcmp(a + 8, own_mac, 6) != 0)
		return FW_DROP_SPOOF_ARP;
	spa = get_ip(a + 14);
	op = get16(a + 6);
	if (app->mode == NS_MODE_SERVER) {
		if (op != 1 || spa != own_ip)
			return FW_DROP_SPOOF_ARP;
		uint32_t tpa = get_ip(a + 24);
		if (tpa != 0 && tpa != own_ip)
			arp_asked(app, tpa);
		return FW_DROP_NONE;
	}
	if (op == 1 && (spa == own_ip || spa == 0))
		return FW_DROP_NONE;
	if (op == 2 && spa == own_ip)
		return FW_DROP_NONE;
	return FW_DROP_SPOOF_ARP;
}

/* FW_DROP_NONE if app may send this frame (docs/datapath.md, "What an app
 * may send"), else why not. */
static enum fw_drop check_source(const struct fw_ctx *c, struct ns_app *app,
				 const uint8_t *eth, size_t len)
{
	const uint8_t *own_mac;
	uint32_t own_ip;

	/* Server-mode apps share the server's MAC and IP; a dedicated-IP
	 * app has its own.  An app the table does not describe (yet) may
	 * send nothing. */
	if (app == NULL)
		return FW_DROP_SPOOF_MAC;
	if (app->mode == NS_MODE_SERVER) {
		own_mac = c->server_mac;
		own_ip = c->server_ip;
	} else if (app->mode != NS_MODE_NONE && app->has_mac) {
		own_mac = app->mac;
		own_ip = app->ip;
	} else {
		return FW_DROP_SPOOF_MAC;
	}
	if (memcmp(eth + 6, own_mac, 6) != 0)
		return FW_DROP_SPOOF_MAC;
	uint16_t type = get16(eth + 12);
	/* IPv6, VLAN tags, anything else: the design carries IPv4 and ARP
	 * only (docs/datapath.md). */
	if (type != ETHERTYPE_IP && type != ETHERTYPE_ARP)
		return FW_DROP_BAD_ETHERTYPE;
	if (own_ip == 0) /* no address yet: none to send from */
		return FW_DROP_SPOOF_IP;
	if (type == ETHERTYPE_IP)
		return check_ipv4(c, app, own_ip, eth, len);
	return check_arp(app, own_mac, own_ip, eth, len);
}

void fw_count_drop(enum fw_drop why, struct ns_app_stats *app,
		   struct ns_pf_stats *pf)
{
	/* An app's refused frame under its reason; the rest are the PF's:
	 * the wire's ARP claims, foreign frames, frames nobody owns. */
	uint64_t *n = &pf->no_owner;

	switch (why) {
	case FW_DROP_FOREIGN:
		n = &pf->foreign;
		break;
	case FW_DROP_SPOOF_MAC:
		n = app != NULL ? &app->spoof_mac : n;
		break;
	case FW_DROP_SPOOF_IP:
		n = app != NULL ? &app->spoof_ip : n;
		break;
	case FW_DROP_SPOOF_PORT:
		n = app != NULL ? &app->spoof_port : n;
		break;
	case FW_DROP_SPOOF_ARP:
		n = app != NULL ? &app->spoof_arp : &pf->spoof_arp;
		break;
	case FW_DROP_BAD_ETHERTYPE:
		n = app != NULL ? &app->bad_ethertype : n;
		break;
	case FW_DROP_NONE:
	case FW_DROP_NO_OWNER:
		break;
	}
	(*n)++;
}

struct fw_dec fw_from_pf(const struct fw_ctx *c, const uint8_t *eth, size_t len)
{
	struct fw_dec d = {0};
	const struct ns_app *app;

	if (len < 14) {
		d.drop = FW_DROP_FOREIGN;
		return d;
	}
	if (get16(eth + 12) == ETHERTYPE_ARP) {
		d = arp_from_pf(c, eth, len);
		if (d.to != 0 || d.drop != FW_DROP_NONE)
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

	d.drop = check_source(c, apps_find(c->apps, src), eth, len);
	if (d.drop != FW_DROP_NONE)
		return d;
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
