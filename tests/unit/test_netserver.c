/*
 * Unit tests of libretto-netserver's pure parts (docs/datapath.md): the
 * portmap, the frame checks of the VIF, the forwarding decisions, the
 * ARP and ICMP replies, and the xenstore value parsers.
 */
#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netserver.h"
#include "vif.h"

static const uint8_t SMAC[6] = {2, 0x4c, 0x54, 0, 0, 2};
static const uint8_t BMAC[6] = {2, 0x4c, 0x54, 0, 0, 0x64};
static const uint8_t PEER[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t ip4(const char *s)
{
	uint32_t v;
	inet_pton(AF_INET, s, &v);
	return v;
}

/* Zeroes the first clear bytes of f, then writes an Ethernet header from
 * PEER to dmac with the given ethertype. */
static void eth_frame(uint8_t *f, size_t clear, const uint8_t *dmac,
		      uint16_t ethertype)
{
	memset(f, 0, clear);
	memcpy(f, dmac, 6);
	memcpy(f + 6, PEER, 6);
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
}

/* Ethernet header + IPv4 header (+ 8 bytes of L4) to dst. */
static size_t ipv4_frame(uint8_t *f, const uint8_t *dmac, const char *dst,
			 uint8_t proto, uint16_t dport, uint16_t frag)
{
	uint32_t d = ip4(dst), src = ip4("10.0.0.1");
	eth_frame(f, 64, dmac, 0x0800);
	f[14] = 0x45;
	f[16] = 0;
	f[17] = 28;
	f[20] = (uint8_t)(frag >> 8);
	f[21] = (uint8_t)frag;
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, &src, 4);
	memcpy(f + 30, &d, 4);
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	if (proto == 1)
		f[34] = 8; /* echo request */
	return 60;
}

static size_t arp_frame(uint8_t *f, const uint8_t *dmac, uint16_t op,
			const char *tpa)
{
	uint32_t t = ip4(tpa), s = ip4("10.0.0.1");
	eth_frame(f, 60, dmac, 0x0806);
	uint8_t *a = f + 14;
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = (uint8_t)op;
	memcpy(a + 8, PEER, 6);
	memcpy(a + 14, &s, 4);
	memcpy(a + 24, &t, 4);
	return 60;
}

/* Makes the frame f (ipv4_frame or arp_frame, 60 bytes) come from mac and
 * ip (and the source port, for IPv4), as an app's own frames must. */
static size_t sent_by(uint8_t *f, const uint8_t *mac, const char *ip,
		      uint16_t sport)
{
	uint32_t s = ip4(ip);

	memcpy(f + 6, mac, 6);
	if (f[12] == 0x08 && f[13] == 0x06) {
		memcpy(f + 22, mac, 6);
		memcpy(f + 28, &s, 4);
		return 60;
	}
	memcpy(f + 26, &s, 4);
	if (f[23] == 6 || f[23] == 17) {
		f[34] = (uint8_t)(sport >> 8);
		f[35] = (uint8_t)sport;
	}
	return 60;
}

static void test_parsers(void)
{
	uint8_t m[6];
	uint32_t ip;
	uint16_t lo, hi;

	CHECK(parse_mac("02:4c:54:00:00:64", m) == 0 && m[5] == 0x64);
	CHECK(parse_mac("02:4c:54:00:00", m) < 0);
	CHECK(parse_mac("02:4c:54:00:00:64:", m) < 0);
	CHECK(parse_ip("10.0.0.2", &ip) == 0 && ip == ip4("10.0.0.2"));
	CHECK(parse_ip("10.0.0", &ip) < 0);
	CHECK(parse_range("32768-34815", &lo, &hi) == 0 && lo == 32768 &&
	      hi == 34815);
	CHECK(parse_range("5-4", &lo, &hi) < 0);
	CHECK(parse_range("1-70000", &lo, &hi) < 0);
	CHECK(parse_range("1-2x", &lo, &hi) < 0);
	CHECK(parse_mode("server") == NS_MODE_SERVER);
	CHECK(parse_mode("direct") == NS_MODE_DIRECT);
	CHECK(parse_mode("bogus") == NS_MODE_NONE);
}

/* acked follows active: written while it does not say the value applied
 * (a new app, a change, a node librettod removed or garbled). */
static void test_acked(void)
{
	struct ns_app app = {.acked = ACKED_NONE, .active = true};

	CHECK(parse_acked("0") == 0);
	CHECK(parse_acked("1") == 1);
	CHECK(parse_acked("") == ACKED_NONE);
	CHECK(parse_acked("01") == ACKED_NONE);
	CHECK(parse_acked("yes") == ACKED_NONE);
	CHECK(app_needs_ack(&app));
	app.acked = 1;
	CHECK(!app_needs_ack(&app));
	app.active = false;
	CHECK(app_needs_ack(&app));
	app.acked = 0;
	CHECK(!app_needs_ack(&app));
	app.acked = ACKED_NONE;
	CHECK(app_needs_ack(&app));
}

static void test_portmap(struct portmap *pm, struct ns_apps *apps)
{
	struct ns_app *a = apps_get(apps, 2), *b = apps_get(apps, 4);

	a->mode = NS_MODE_SERVER;
	a->eph_lo = 32768;
	a->eph_hi = 34815;
	b->mode = NS_MODE_SERVER;
	b->eph_lo = 34816;
	b->eph_hi = 36863;
	pm_clear_explicit(pm);
	pm_set_explicit(pm, PM_TCP, 8080, 2);
	pm_set_explicit(pm, PM_UDP, 53, 4);
	pm_set_explicit(pm, PM_TCP, 33000, 4); /* ephemeral beats explicit */
	pm_rebuild(pm, apps);
	CHECK(pm_lookup(pm, PM_TCP, 8080) == 2);
	CHECK(pm_lookup(pm, PM_UDP, 8080) == 0);
	CHECK(pm_lookup(pm, PM_UDP, 53) == 4);
	CHECK(pm_lookup(pm, PM_TCP, 32768) == 2);
	CHECK(pm_lookup(pm, PM_UDP, 34815) == 2);
	CHECK(pm_lookup(pm, PM_TCP, 34816) == 4);
	CHECK(pm_lookup(pm, PM_TCP, 36864) == 0);
	CHECK(pm_lookup(pm, PM_TCP, 33000) == 2);
	CHECK(pm_lookup(pm, PM_TCP, 0) == 0);
	CHECK(pm_lookup(pm, PM_TCP, 65535) == 0);
	/* An app that leaves takes its range with it on the rebuild. */
	apps_remove(apps, 4);
	pm_set_explicit(pm, PM_UDP, 53, 0);
	pm_set_explicit(pm, PM_TCP, 33000, 0);
	pm_rebuild(pm, apps);
	CHECK(pm_lookup(pm, PM_TCP, 34816) == 0);
	CHECK(pm_lookup(pm, PM_TCP, 33000) == 2);
	CHECK(apps_find(apps, 4) == NULL && apps_find(apps, 2) == a);
}

static void test_frame_check(void)
{
	uint8_t f[VIF_FRAME_MAX + 16];
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)f;

	memset(f, 0, sizeof(f));
	CHECK(vif_frame_check(f, 10 + 60) == VIF_FRAME_OK);
	CHECK(vif_frame_check(f, 10 + 14) == VIF_FRAME_OK);
	CHECK(vif_frame_check(f, 10 + 13) == VIF_FRAME_SHORT);
	CHECK(vif_frame_check(f, 0) == VIF_FRAME_SHORT);
	CHECK(vif_frame_check(f, 10 + VIF_ETH_MAX_MTU) == VIF_FRAME_OK);
	CHECK(vif_frame_check(f, 10 + VIF_ETH_MAX_MTU + 1) == VIF_FRAME_LONG);
	CHECK(vif_frame_check(f, VIF_FRAME_MAX + 1) == VIF_FRAME_LONG);
	h->flags = 0x80;
	CHECK(vif_frame_check(f, 70) == VIF_FRAME_BAD_VNET);
	h->flags = 0;
	h->gso_type = 0x42;
	CHECK(vif_frame_check(f, 70) == VIF_FRAME_BAD_VNET);
	h->gso_type = VIRTIO_NET_HDR_GSO_ECN; /* ECN without a GSO type */
	CHECK(vif_frame_check(f, 70) == VIF_FRAME_BAD_VNET);
	/* checksum offload: the 2-byte field inside the frame */
	h->gso_type = 0;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 34;
	h->csum_offset = 16;
	CHECK(vif_frame_check(f, 10 + 52) == VIF_FRAME_OK);
	CHECK(vif_frame_check(f, 10 + 51) == VIF_FRAME_BAD_CSUM);
	h->csum_start = 4;
	CHECK(vif_frame_check(f, 10 + 60) == VIF_FRAME_BAD_CSUM);
	/* a TSO super-frame */
	h->csum_start = 34;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = 8948;
	h->hdr_len = 66;
	CHECK(vif_frame_check(f, VIF_FRAME_MAX) == VIF_FRAME_OK);
	h->gso_size = 0;
	CHECK(vif_frame_check(f, 10 + 20000) == VIF_FRAME_BAD_GSO);
	h->gso_size = 1448;
	h->hdr_len = 60000;
	CHECK(vif_frame_check(f, 10 + 20000) == VIF_FRAME_BAD_GSO);
	h->hdr_len = 66;
	h->flags = 0;
	CHECK(vif_frame_check(f, 10 + 20000) == VIF_FRAME_BAD_GSO);
	/* the share geometry both sides use */
	CHECK(VIF_PAGES * 4096u == 2u * ring_region_size(VIF_RING_DATA));
	CHECK((uint8_t *)vif_rx_region(f) - f == (long)VIF_RING_REGION);
}

static void test_forward(struct portmap *pm, struct ns_apps *apps)
{
	struct fw_ctx c = {
	    .server_ip = ip4("10.0.0.2"), .pm = pm, .apps = apps};
	struct ns_app *a = apps_find(apps, 2), *b = apps_get(apps, 3);
	uint8_t f[64];
	struct fw_dec d;

	memcpy(c.server_mac, SMAC, 6);
	a->vif.connected = true;
	b->mode = NS_MODE_DYNAMIC;
	b->active = true;
	memcpy(b->mac, BMAC, 6);
	b->has_mac = true;
	b->vif.connected = true;

	/* ARP request for the server IP, broadcast: the server answers
	 * (not the server-mode apps, which share it), and it floods to the
	 * dedicated apps. */
	d = fw_from_pf(&c, f, arp_frame(f, BCAST, 1, "10.0.0.2"));
	CHECK(d.to == (FW_SELF | FW_FLOOD_DED));
	d = fw_from_pf(&c, f, arp_frame(f, BCAST, 1, "10.0.0.100"));
	CHECK(d.to == (FW_FLOOD_DED | FW_FLOOD_SRV));
	/* an ARP reply to the server MAC: only to the server-mode app that
	 * asked (test_antispoof.c); none did */
	d = fw_from_pf(&c, f, arp_frame(f, SMAC, 2, "10.0.0.2"));
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* other broadcast: dedicated apps only */
	d = fw_from_pf(&c, f, ipv4_frame(f, BCAST, "10.0.0.255", 17, 67, 0));
	CHECK(d.to == FW_FLOOD_DED);
	/* ICMP echo to the server: the server */
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.2", 1, 0, 0));
	CHECK(d.to == FW_SELF);
	/* TCP to a mapped port, to an ephemeral port, to nobody */
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.2", 6, 8080, 0));
	CHECK(d.to == FW_APP && d.domid == 2);
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.2", 17, 33333, 0));
	CHECK(d.to == FW_APP && d.domid == 2);
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.2", 6, 9999, 0));
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* a later fragment has no ports */
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.2", 6, 8080, 0x10));
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	/* to the server MAC but another IP; truncated IP header */
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.9", 6, 8080, 0));
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	ipv4_frame(f, SMAC, "10.0.0.2", 6, 8080, 0);
	CHECK(fw_from_pf(&c, f, 30).drop == FW_DROP_NO_OWNER);
	f[14] = 0x4f; /* ihl 60 past the frame */
	CHECK(fw_from_pf(&c, f, 60).drop == FW_DROP_NO_OWNER);
	/* owner without a connected VIF */
	a->vif.connected = false;
	d = fw_from_pf(&c, f, ipv4_frame(f, SMAC, "10.0.0.2", 6, 8080, 0));
	CHECK(d.to == 0 && d.drop == FW_DROP_NO_OWNER);
	a->vif.connected = true;
	/* a dedicated app's MAC, active and not */
	d = fw_from_pf(&c, f, ipv4_frame(f, BMAC, "10.0.0.100", 6, 80, 0));
	CHECK(d.to == FW_APP && d.domid == 3);
	b->active = false;
	d = fw_from_pf(&c, f, ipv4_frame(f, BMAC, "10.0.0.100", 6, 80, 0));
	CHECK(d.to == 0 && d.drop == FW_DROP_FOREIGN);
	b->active = true;
	/* an unknown MAC; a runt */
	d = fw_from_pf(&c, f, ipv4_frame(f, PEER, "10.0.0.7", 6, 80, 0));
	CHECK(d.to == 0 && d.drop == FW_DROP_FOREIGN);
	CHECK(fw_from_pf(&c, f, 10).to == 0);

	/* From apps, with their own addresses (the refusals are in
	 * test_antispoof.c): out of pf0, or local */
	b->ip = ip4("10.0.0.100");
	ipv4_frame(f, PEER, "10.0.0.1", 6, 80, 0);
	d = fw_from_app(&c, 2, f, sent_by(f, SMAC, "10.0.0.2", 8080));
	CHECK(d.to == FW_PF);
	ipv4_frame(f, BMAC, "10.0.0.100", 6, 80, 0);
	d = fw_from_app(&c, 2, f, sent_by(f, SMAC, "10.0.0.2", 8080));
	CHECK(d.to == FW_APP && d.domid == 3);
	ipv4_frame(f, SMAC, "10.0.0.2", 6, 8080, 0);
	d = fw_from_app(&c, 3, f, sent_by(f, BMAC, "10.0.0.100", 40000));
	CHECK(d.to == FW_APP && d.domid == 2);
	ipv4_frame(f, SMAC, "10.0.0.2", 1, 0, 0);
	d = fw_from_app(&c, 3, f, sent_by(f, BMAC, "10.0.0.100", 0));
	CHECK(d.to == FW_SELF);
	arp_frame(f, BCAST, 1, "10.0.0.2");
	d = fw_from_app(&c, 3, f, sent_by(f, BMAC, "10.0.0.100", 0));
	CHECK(d.to == (FW_PF | FW_SELF | FW_FLOOD_DED));
	/* never back to the sender through the portmap */
	ipv4_frame(f, SMAC, "10.0.0.2", 6, 8080, 0);
	d = fw_from_app(&c, 2, f, sent_by(f, SMAC, "10.0.0.2", 8080));
	CHECK(d.to == 0);
}

static void test_replies(void)
{
	uint8_t f[128], out[128];
	uint32_t sip = ip4("10.0.0.2");
	size_t n;

	n = arp_reply(f, arp_frame(f, BCAST, 1, "10.0.0.2"), sip, SMAC, out,
		      sizeof(out));
	CHECK(n == 60);
	CHECK(memcmp(out, PEER, 6) == 0 && memcmp(out + 6, SMAC, 6) == 0);
	CHECK(out[12] == 0x08 && out[13] == 0x06 && out[21] == 2);
	CHECK(memcmp(out + 22, SMAC, 6) == 0 && memcmp(out + 28, &sip, 4) == 0);
	CHECK(memcmp(out + 32, PEER, 6) == 0);
	/* not for us, not a request, truncated */
	CHECK(arp_reply(f, arp_frame(f, BCAST, 1, "10.0.0.3"), sip, SMAC, out,
			sizeof(out)) == 0);
	CHECK(arp_reply(f, arp_frame(f, BCAST, 2, "10.0.0.2"), sip, SMAC, out,
			sizeof(out)) == 0);
	CHECK(arp_reply(f, 41, sip, SMAC, out, sizeof(out)) == 0);

	/* the announcement at start: a broadcast request, sender = target */
	n = arp_announce(sip, SMAC, out, sizeof(out));
	CHECK(n == 60);
	CHECK(memcmp(out, BCAST, 6) == 0 && memcmp(out + 6, SMAC, 6) == 0);
	CHECK(out[12] == 0x08 && out[13] == 0x06 && out[21] == 1);
	CHECK(memcmp(out + 22, SMAC, 6) == 0 && memcmp(out + 28, &sip, 4) == 0);
	CHECK(memcmp(out + 38, &sip, 4) == 0);
	CHECK(arp_announce(sip, SMAC, out, 59) == 0);

	/* ICMP echo: with a payload, checksums valid */
	n = ipv4_frame(f, SMAC, "10.0.0.2", 1, 0, 0);
	f[17] = 28 + 8; /* 8 bytes of payload */
	memcpy(f + 42, "payload!", 8);
	uint16_t c = inet_csum(f + 34, 16);
	memcpy(f + 36, &c, 2);
	c = inet_csum(f + 14, 20);
	memcpy(f + 24, &c, 2);
	n = icmp_echo_reply(f, 64, sip, SMAC, out, sizeof(out));
	CHECK(n == 60); /* 14 + 36, padded to the minimum */
	CHECK(memcmp(out, PEER, 6) == 0 && memcmp(out + 6, SMAC, 6) == 0);
	CHECK(inet_csum(out + 14, 20) == 0);
	CHECK(inet_csum(out + 34, 16) == 0);
	CHECK(out[34] == 0 && memcmp(out + 42, "payload!", 8) == 0);
	CHECK(memcmp(out + 26, &sip, 4) == 0);
	/* fragments, other IPs, a total length past the frame */
	f[20] = 0x20;
	CHECK(icmp_echo_reply(f, 64, sip, SMAC, out, sizeof(out)) == 0);
	f[20] = 0;
	f[17] = 200;
	CHECK(icmp_echo_reply(f, 64, sip, SMAC, out, sizeof(out)) == 0);
	f[17] = 36;
	CHECK(icmp_echo_reply(f, 64, ip4("10.0.0.3"), SMAC, out, sizeof(out)) ==
	      0);
	CHECK(icmp_echo_reply(f, 64, sip, SMAC, out, 40) == 0);
}

int main(void)
{
	struct portmap *pm = calloc(1, sizeof(*pm));
	struct ns_apps *apps = calloc(1, sizeof(*apps));

	test_parsers();
	test_acked();
	test_portmap(pm, apps);
	test_frame_check();
	test_forward(pm, apps);
	test_replies();
	while (apps->n > 0)
		apps_remove(apps, apps->v[0]->domid);
	free(apps);
	free(pm);
	return check_summary("netserver");
}
