/*
 * Unit tests of the network server's source checks (docs/datapath.md,
 * "What an app may send"): a frame from an app leaves only with the app's
 * own MAC and IP (and, on the shared server IP, a source port the app
 * owns), ARP only with its own addresses, IPv4 and ARP only; ARP replies
 * go to the app that asked; ARP from the wire may not claim our
 * addresses; every refusal is counted under its reason.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netserver.h"

static const uint8_t SMAC[6] = {2, 0x4c, 0x54, 0, 0, 2};    /* server */
static const uint8_t AMAC[6] = {2, 0x4c, 0x54, 0, 0, 0x64}; /* dyn 3 */
static const uint8_t VMAC[6] = {2, 0x4c, 0x54, 0, 0, 0x65}; /* dyn 5 */
static const uint8_t PEER[6] = {2, 0, 0, 0, 0, 1};	    /* the gateway */
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO[6];

#define SERVER_IP "10.0.0.2"
#define GATEWAY	  "10.0.0.1"
#define DYN_IP	  "10.0.0.100" /* app 3, the hostile one */
#define VICTIM_IP "10.0.0.101" /* app 5 */

static uint32_t ip4(const char *s)
{
	uint32_t v;
	inet_pton(AF_INET, s, &v);
	return v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void eth(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		uint16_t type)
{
	memset(f, 0, 128);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

/* Ethernet + IPv4 (20 bytes) + the ports of a TCP/UDP header: 60 bytes. */
static size_t ipv4(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		   const char *sip, const char *dip, uint8_t proto,
		   uint16_t sport, uint16_t dport)
{
	uint32_t s = ip4(sip), d = ip4(dip);

	eth(f, src, dst, 0x0800);
	f[14] = 0x45;
	put16(f + 16, 46);
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, &s, 4);
	memcpy(f + 30, &d, 4);
	put16(f + 34, sport);
	put16(f + 36, dport);
	return 60;
}

/* An ICMP error from sip about a datagram (proto) from qsrc:qsport to
 * qdst:qdport, quoted whole (header + 8 bytes). */
static size_t icmp_error(uint8_t *f, const uint8_t *src, const char *sip,
			 uint8_t type, uint8_t proto, const char *qsrc,
			 uint16_t qsport, const char *qdst, uint16_t qdport)
{
	uint32_t qs = ip4(qsrc), qd = ip4(qdst);

	ipv4(f, src, PEER, sip, GATEWAY, 1, 0, 0);
	uint8_t *icmp = f + 34, *q = icmp + 8;
	icmp[0] = type;
	icmp[1] = 3;
	q[0] = 0x45;
	q[9] = proto;
	memcpy(q + 12, &qs, 4);
	memcpy(q + 16, &qd, 4);
	put16(q + 20, qsport);
	put16(q + 22, qdport);
	return 14 + 20 + 8 + 28;
}

static size_t arp(uint8_t *f, const uint8_t *src, const uint8_t *dst,
		  uint16_t op, const uint8_t *sha, const char *spa,
		  const char *tpa)
{
	uint32_t s = ip4(spa), t = ip4(tpa);
	uint8_t *a = f + 14;

	eth(f, src, dst, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &s, 4);
	memcpy(a + 24, &t, 4);
	return 60;
}

struct setup {
	struct portmap *pm;
	struct ns_apps *apps;
	struct fw_ctx c;
	struct ns_app *srv2, *srv4, *dyn3, *dyn5;
};

static struct ns_app *app(struct setup *s, unsigned domid, enum ns_mode mode,
			  const uint8_t *mac, const char *ip)
{
	struct ns_app *a = apps_get(s->apps, domid);

	a->mode = mode;
	a->active = true;
	a->vif.connected = true;
	a->ip = ip4(ip);
	memcpy(a->mac, mac, 6);
	a->has_mac = true;
	return a;
}

static void setup(struct setup *s)
{
	s->pm = calloc(1, sizeof(*s->pm));
	s->apps = calloc(1, sizeof(*s->apps));
	s->c = (struct fw_ctx){
	    .server_ip = ip4(SERVER_IP), .pm = s->pm, .apps = s->apps};
	memcpy(s->c.server_mac, SMAC, 6);
	s->srv2 = app(s, 2, NS_MODE_SERVER, SMAC, SERVER_IP);
	s->srv2->eph_lo = 32768;
	s->srv2->eph_hi = 34815;
	s->srv4 = app(s, 4, NS_MODE_SERVER, SMAC, SERVER_IP);
	s->srv4->eph_lo = 34816;
	s->srv4->eph_hi = 36863;
	s->dyn3 = app(s, 3, NS_MODE_DYNAMIC, AMAC, DYN_IP);
	s->dyn5 = app(s, 5, NS_MODE_DYNAMIC, VMAC, VICTIM_IP);
	pm_clear_explicit(s->pm);
	pm_set_explicit(s->pm, PM_TCP, 80, 2);
	pm_set_explicit(s->pm, PM_TCP, 6379, 4);
	pm_rebuild(s->pm, s->apps);
}

static void teardown(struct setup *s)
{
	while (s->apps->n > 0)
		apps_remove(s->apps, s->apps->v[0]->domid);
	free(s->apps);
	free(s->pm);
}

static enum fw_drop why(struct setup *s, uint16_t src, const uint8_t *f,
			size_t len)
{
	struct fw_dec d = fw_from_app(&s->c, src, f, len);
	return d.to == 0 ? d.drop : FW_DROP_NONE;
}

/* A server-mode app: the server's MAC and IP, and its own ports. */
static void test_server_mode(struct setup *s)
{
	uint8_t f[128];
	size_t n;

	/* what it may send: its declared port, its ephemeral range */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 6, 80, 40000);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 32800, 53);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	/* to another server-mode app's port, from its own: delivered */
	n = ipv4(f, SMAC, SMAC, SERVER_IP, SERVER_IP, 6, 33000, 6379);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_APP);
	/* another app's port (declared or ephemeral), nobody's port */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 6, 6379, 40000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 6, 34900, 40000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 9999, 53);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	/* UDP on a TCP-only claim */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 80, 53);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	/* a later fragment (no ports) of nothing it sent, another
	 * protocol */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 6, 80, 40000);
	put16(f + 20, 0x20);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 47, 0, 0);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	/* a forged source MAC, a forged source IP */
	n = ipv4(f, AMAC, PEER, SERVER_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_MAC);
	n = ipv4(f, PEER, PEER, SERVER_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_MAC);
	n = ipv4(f, SMAC, PEER, GATEWAY, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_IP);
	n = ipv4(f, SMAC, PEER, VICTIM_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_IP);
	/* ICMP: errors about its own datagrams only, no echo */
	n = icmp_error(f, SMAC, SERVER_IP, 3, 17, GATEWAY, 5000, SERVER_IP,
		       32800);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	n = icmp_error(f, SMAC, SERVER_IP, 3, 6, GATEWAY, 5000, SERVER_IP,
		       6379);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	n = icmp_error(f, SMAC, SERVER_IP, 3, 17, GATEWAY, 5000, GATEWAY,
		       32800);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	CHECK(why(s, 2, f, 14 + 20 + 8 + 20) == FW_DROP_SPOOF_PORT);
	/* quoted ports past what the server copies before deciding (68
	 * bytes of options on the two headers): refused, not read */
	n = icmp_error(f, SMAC, SERVER_IP, 3, 17, GATEWAY, 5000, SERVER_IP,
		       32800);
	f[42] = 0x4f; /* the quoted header: 60 bytes, its ports at 102 */
	put16(f + 104, 32800); /* a port of the app's, out of reach */
	CHECK(why(s, 2, f, 128) == FW_DROP_SPOOF_PORT);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 1, 0, 0);
	f[34] = 8; /* echo request */
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
}

/* A dedicated-IP app: its own MAC and IP, any port. */
/* A fragmented datagram: the later fragments have no port, and pass only
 * after a first fragment of the same app (destination, id, protocol)
 * passed the port check. */
static void test_fragments(struct setup *s)
{
	uint8_t f[128];
	size_t n;

	/* app 2's first fragment from its own port, id 0x1234, MF set */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 80, 53);
	put16(f + 18, 0x1234);
	put16(f + 20, 0x2000);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT); /* udp/80 is not 2's */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 32800, 53);
	put16(f + 18, 0x1234);
	put16(f + 20, 0x2000);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	/* its later fragments pass, the last one too (MF clear) */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 0, 0);
	put16(f + 18, 0x1234);
	put16(f + 20, 0x2000 | 185);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	put16(f + 20, 370);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	/* another id, another protocol, another destination: refused */
	put16(f + 18, 0x1235);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 6, 0, 0);
	put16(f + 18, 0x1234);
	put16(f + 20, 185);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	n = ipv4(f, SMAC, PEER, SERVER_IP, "10.0.0.9", 17, 0, 0);
	put16(f + 18, 0x1234);
	put16(f + 20, 185);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	/* another server-mode app cannot send the rest of 2's datagram */
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 0, 0);
	put16(f + 18, 0x1234);
	put16(f + 20, 185);
	CHECK(why(s, 4, f, n) == FW_DROP_SPOOF_PORT);
	/* the table keeps the last NS_FRAGS_SENT datagrams only */
	for (unsigned i = 0; i < NS_FRAGS_SENT; i++) {
		n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 32800, 53);
		put16(f + 18, (uint16_t)(0x2000 + i));
		put16(f + 20, 0x2000);
		CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
	}
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 17, 0, 0);
	put16(f + 18, 0x1234);
	put16(f + 20, 185);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_PORT);
	put16(f + 18, 0x2000 + NS_FRAGS_SENT - 1);
	CHECK(fw_from_app(&s->c, 2, f, n).to == FW_PF);
}

static void test_dedicated(struct setup *s)
{
	uint8_t f[128];
	size_t n;

	n = ipv4(f, AMAC, PEER, DYN_IP, GATEWAY, 6, 6379, 40000);
	CHECK(fw_from_app(&s->c, 3, f, n).to == FW_PF);
	n = ipv4(f, AMAC, VMAC, DYN_IP, VICTIM_IP, 17, 9999, 53);
	CHECK(fw_from_app(&s->c, 3, f, n).to == FW_APP);
	/* the victim's MAC or IP, the server's, the gateway's */
	n = ipv4(f, VMAC, PEER, VICTIM_IP, GATEWAY, 6, 6379, 40000);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_MAC);
	n = ipv4(f, SMAC, PEER, SERVER_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_MAC);
	n = ipv4(f, AMAC, PEER, VICTIM_IP, GATEWAY, 6, 6379, 40000);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_IP);
	n = ipv4(f, AMAC, PEER, SERVER_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_IP);
	n = ipv4(f, AMAC, PEER, GATEWAY, VICTIM_IP, 6, 80, 40000);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_IP);
	/* a multicast source MAC is not its MAC either */
	n = ipv4(f, BCAST, PEER, DYN_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_MAC);
	/* a header that is not IPv4, or cut short */
	n = ipv4(f, AMAC, PEER, DYN_IP, GATEWAY, 6, 80, 40000);
	f[14] = 0x65;
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_IP);
	f[14] = 0x4f; /* 60-byte header past the frame */
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_IP);
	f[14] = 0x45;
	CHECK(why(s, 3, f, 30) == FW_DROP_SPOOF_IP);
	/* other ethertypes: IPv6, a VLAN tag around IPv4, anything */
	eth(f, AMAC, PEER, 0x86dd);
	CHECK(why(s, 3, f, 60) == FW_DROP_BAD_ETHERTYPE);
	eth(f, AMAC, PEER, 0x8100);
	CHECK(why(s, 3, f, 60) == FW_DROP_BAD_ETHERTYPE);
	eth(f, AMAC, BCAST, 0x88b5);
	CHECK(why(s, 3, f, 60) == FW_DROP_BAD_ETHERTYPE);
	/* the MAC check comes first: a forged MAC counts as that */
	eth(f, VMAC, PEER, 0x86dd);
	CHECK(why(s, 3, f, 60) == FW_DROP_SPOOF_MAC);
	/* an app the table does not describe, or describes without a MAC */
	n = ipv4(f, AMAC, PEER, DYN_IP, GATEWAY, 6, 80, 40000);
	CHECK(why(s, 9, f, n) == FW_DROP_SPOOF_MAC);
	s->dyn3->has_mac = false;
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_MAC);
	s->dyn3->has_mac = true;
	s->dyn3->ip = 0;
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_IP);
	s->dyn3->ip = ip4(DYN_IP);
}

static void test_arp_from_apps(struct setup *s)
{
	uint8_t f[128];
	size_t n;
	struct fw_dec d;

	/* a dedicated-IP app asks, probes, answers, announces: its own */
	n = arp(f, AMAC, BCAST, 1, AMAC, DYN_IP, GATEWAY);
	d = fw_from_app(&s->c, 3, f, n);
	CHECK(d.to == (FW_PF | FW_FLOOD_DED | FW_FLOOD_SRV));
	n = arp(f, AMAC, BCAST, 1, AMAC, "0.0.0.0", DYN_IP);
	CHECK(why(s, 3, f, n) == FW_DROP_NONE);
	n = arp(f, AMAC, PEER, 2, AMAC, DYN_IP, GATEWAY);
	CHECK(fw_from_app(&s->c, 3, f, n).to == FW_PF);
	n = arp(f, AMAC, BCAST, 2, AMAC, DYN_IP, DYN_IP);
	CHECK(why(s, 3, f, n) == FW_DROP_NONE);
	/* the poisonings: the gateway's IP, the victim's, the server's */
	n = arp(f, AMAC, BCAST, 2, AMAC, GATEWAY, GATEWAY);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, AMAC, BCAST, 1, AMAC, GATEWAY, GATEWAY);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, AMAC, PEER, 2, AMAC, VICTIM_IP, GATEWAY);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, AMAC, VMAC, 2, AMAC, GATEWAY, VICTIM_IP);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, AMAC, SMAC, 2, AMAC, GATEWAY, SERVER_IP);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	/* its own IP with another MAC inside; a reply without an IP */
	n = arp(f, AMAC, BCAST, 2, VMAC, DYN_IP, DYN_IP);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, AMAC, PEER, 2, AMAC, "0.0.0.0", GATEWAY);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	/* an operation other than request/reply; another address size */
	n = arp(f, AMAC, BCAST, 3, AMAC, DYN_IP, DYN_IP);
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, AMAC, BCAST, 1, AMAC, DYN_IP, GATEWAY);
	f[18] = 8;
	CHECK(why(s, 3, f, n) == FW_DROP_SPOOF_ARP);
	CHECK(why(s, 3, f, 14 + 27) == FW_DROP_SPOOF_ARP);

	/* a server-mode app may ask, with the shared addresses, and no
	 * more: the server answers for the shared IP itself */
	n = arp(f, SMAC, BCAST, 1, SMAC, SERVER_IP, GATEWAY);
	d = fw_from_app(&s->c, 2, f, n);
	CHECK(d.to == (FW_PF | FW_FLOOD_DED | FW_FLOOD_SRV));
	n = arp(f, SMAC, PEER, 2, SMAC, SERVER_IP, GATEWAY);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, SMAC, BCAST, 1, SMAC, GATEWAY, GATEWAY);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, SMAC, BCAST, 1, SMAC, "0.0.0.0", SERVER_IP);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_ARP);
	n = arp(f, SMAC, BCAST, 1, PEER, SERVER_IP, GATEWAY);
	CHECK(why(s, 2, f, n) == FW_DROP_SPOOF_ARP);
	memset(s->srv2->arp_asked, 0, sizeof(s->srv2->arp_asked));
}

/* ARP replies go to the app that asked, or whose IP it is. */
static void test_arp_replies(struct setup *s)
{
	uint8_t f[128];
	size_t n;
	struct fw_dec d;

	/* nobody asked: a reply to the shared IP goes nowhere */
	n = arp(f, PEER, SMAC, 2, PEER, GATEWAY, SERVER_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* app 2 asks for the gateway, app 4 too: one reply each */
	n = arp(f, SMAC, BCAST, 1, SMAC, SERVER_IP, GATEWAY);
	CHECK(fw_from_app(&s->c, 2, f, n).to != 0);
	CHECK(fw_from_app(&s->c, 2, f, n).to != 0); /* asked again */
	CHECK(fw_from_app(&s->c, 4, f, n).to != 0);
	n = arp(f, PEER, SMAC, 2, PEER, GATEWAY, SERVER_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == FW_APP && (d.domid == 2 || d.domid == 4));
	uint16_t first = d.domid;
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == FW_APP && d.domid == (first == 2 ? 4 : 2));
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* a reply from another app (the dedicated one it asked about) */
	n = arp(f, SMAC, BCAST, 1, SMAC, SERVER_IP, DYN_IP);
	CHECK(fw_from_app(&s->c, 2, f, n).to != 0);
	n = arp(f, AMAC, SMAC, 2, AMAC, DYN_IP, SERVER_IP);
	d = fw_from_app(&s->c, 3, f, n);
	CHECK(d.to == FW_APP && d.domid == 2);
	d = fw_from_app(&s->c, 3, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* more questions than remembered: the oldest is forgotten */
	const char *ips[] = {"10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14",
			     "10.0.0.15"};
	for (unsigned i = 0; i < 5; i++) {
		n = arp(f, SMAC, BCAST, 1, SMAC, SERVER_IP, ips[i]);
		CHECK(fw_from_app(&s->c, 2, f, n).to != 0);
	}
	n = arp(f, PEER, SMAC, 2, PEER, ips[0], SERVER_IP);
	CHECK(fw_from_pf(&s->c, f, n).to == 0);
	n = arp(f, PEER, SMAC, 2, PEER, ips[4], SERVER_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == FW_APP && d.domid == 2);
	memset(s->srv2->arp_asked, 0, sizeof(s->srv2->arp_asked));

	/* a unicast reply to a dedicated app's MAC: that app */
	n = arp(f, PEER, VMAC, 2, PEER, GATEWAY, VICTIM_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == FW_APP && d.domid == 5);
	/* a broadcast reply: whose target IP it is, not all */
	n = arp(f, PEER, BCAST, 2, PEER, GATEWAY, VICTIM_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == FW_APP && d.domid == 5);
	n = arp(f, PEER, BCAST, 2, PEER, GATEWAY, "10.0.0.77");
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* the gateway's announcement, a request for an app: flooded */
	n = arp(f, PEER, BCAST, 1, PEER, GATEWAY, GATEWAY);
	CHECK(fw_from_pf(&s->c, f, n).to == (FW_FLOOD_DED | FW_FLOOD_SRV));
	n = arp(f, PEER, BCAST, 1, PEER, GATEWAY, VICTIM_IP);
	CHECK(fw_from_pf(&s->c, f, n).to == (FW_FLOOD_DED | FW_FLOOD_SRV));
	/* a request for the server IP: the server's, not its apps' */
	n = arp(f, PEER, BCAST, 1, PEER, GATEWAY, SERVER_IP);
	CHECK(fw_from_pf(&s->c, f, n).to == (FW_SELF | FW_FLOOD_DED));

	/* from the wire, claiming our addresses with another MAC */
	n = arp(f, PEER, BCAST, 2, PEER, SERVER_IP, SERVER_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_SPOOF_ARP);
	n = arp(f, PEER, BCAST, 1, PEER, VICTIM_IP, GATEWAY);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_SPOOF_ARP);
	n = arp(f, PEER, VMAC, 2, PEER, DYN_IP, VICTIM_IP);
	d = fw_from_pf(&s->c, f, n);
	CHECK(d.to == 0 && d.drop == FW_DROP_SPOOF_ARP);
	/* ... but an app on its VF with its own MAC is itself */
	n = arp(f, VMAC, BCAST, 1, VMAC, VICTIM_IP, GATEWAY);
	CHECK(fw_from_pf(&s->c, f, n).to == (FW_FLOOD_DED | FW_FLOOD_SRV));
	(void)ZERO;
}

static void test_counting(void)
{
	struct ns_app_stats a = {0};
	struct ns_pf_stats pf = {0};

	fw_count_drop(FW_DROP_SPOOF_MAC, &a, &pf);
	fw_count_drop(FW_DROP_SPOOF_IP, &a, &pf);
	fw_count_drop(FW_DROP_SPOOF_IP, &a, &pf);
	fw_count_drop(FW_DROP_SPOOF_PORT, &a, &pf);
	fw_count_drop(FW_DROP_SPOOF_ARP, &a, &pf);
	fw_count_drop(FW_DROP_BAD_ETHERTYPE, &a, &pf);
	CHECK(a.spoof_mac == 1 && a.spoof_ip == 2 && a.spoof_port == 1 &&
	      a.spoof_arp == 1 && a.bad_ethertype == 1);
	CHECK(pf.no_owner == 0 && pf.foreign == 0 && pf.spoof_arp == 0);
	/* an app's frame with no owner is the PF's no_owner, as before */
	fw_count_drop(FW_DROP_NO_OWNER, &a, &pf);
	CHECK(pf.no_owner == 1);
	/* from the wire */
	fw_count_drop(FW_DROP_SPOOF_ARP, NULL, &pf);
	fw_count_drop(FW_DROP_FOREIGN, NULL, &pf);
	CHECK(pf.spoof_arp == 1 && pf.foreign == 1 && a.spoof_arp == 1);
}

int main(void)
{
	struct setup s;

	setup(&s);
	test_server_mode(&s);
	test_fragments(&s);
	test_dedicated(&s);
	test_arp_from_apps(&s);
	test_arp_replies(&s);
	test_counting();
	teardown(&s);
	return check_summary("antispoof");
}
