/*
 * What the server answers itself, for the server IP: ARP requests and
 * ICMP echo requests (docs/datapath.md).  Pure functions over copies of
 * frames, so that they can be tested without a network.
 */
#include <arpa/inet.h>
#include <string.h>

#include "netserver.h"

#define ETH_MIN_FRAME 60 /* without FCS: shorter frames are padded */

uint16_t inet_csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (; len > 1; len -= 2, b += 2)
		sum += (uint32_t)b[0] << 8 | b[1];
	if (len)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

size_t arp_reply(const uint8_t *eth, size_t len, uint32_t ip,
		 const uint8_t mac[6], uint8_t *out, size_t cap)
{
	const uint8_t *a = eth + 14;

	/* Ethernet/IPv4 ARP request for ip, and nothing else. */
	if (len < 14 + 28 || cap < ETH_MIN_FRAME || get16(eth + 12) != 0x0806)
		return 0;
	if (get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 ||
	    get16(a + 6) != 1 || memcmp(a + 24, &ip, 4) != 0)
		return 0;
	memset(out, 0, ETH_MIN_FRAME);
	memcpy(out, a + 8, 6); /* to the sender's hardware address */
	memcpy(out + 6, mac, 6);
	out[12] = 0x08;
	out[13] = 0x06;
	uint8_t *r = out + 14;
	memcpy(r, a, 6); /* htype, ptype, hlen, plen */
	r[6] = 0;
	r[7] = 2; /* reply */
	memcpy(r + 8, mac, 6);
	memcpy(r + 14, &ip, 4);
	memcpy(r + 18, a + 8, 10); /* the requester's sha + spa */
	return ETH_MIN_FRAME;
}

size_t arp_announce(uint32_t ip, const uint8_t mac[6], uint8_t *out, size_t cap)
{
	static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};

	if (cap < ETH_MIN_FRAME)
		return 0;
	memset(out, 0, ETH_MIN_FRAME);
	memset(out, 0xff, 6); /* broadcast: everyone who knows ip */
	memcpy(out + 6, mac, 6);
	out[12] = 0x08;
	out[13] = 0x06;
	uint8_t *r = out + 14;
	/* A request (RFC 5227's announcement: sender and target address
	 * both ip, target hardware address zero): Linux updates an entry it
	 * has for ip from a request whatever arp_accept says, and a
	 * FAILED one becomes usable again. */
	memcpy(r, hdr, sizeof(hdr));
	memcpy(r + 8, mac, 6);
	memcpy(r + 14, &ip, 4);
	memcpy(r + 24, &ip, 4);
	return ETH_MIN_FRAME;
}

size_t icmp_echo_reply(const uint8_t *eth, size_t len, uint32_t ip,
		       const uint8_t mac[6], uint8_t *out, size_t cap)
{
	const uint8_t *iph = eth + 14;
	size_t ihl, tot;

	if (len < 14 + 20 + 8 || get16(eth + 12) != 0x0800)
		return 0;
	ihl = (size_t)(iph[0] & 0x0f) * 4;
	tot = get16(iph + 2);
	/* IPv4, a sane header, not a fragment (we do not reassemble), ICMP
	 * to ip, fully inside the frame. */
	if ((iph[0] >> 4) != 4 || ihl < 20 || tot < ihl + 8 || 14 + tot > len ||
	    (get16(iph + 6) & 0x3fff) != 0 || iph[9] != 1 ||
	    memcmp(iph + 16, &ip, 4) != 0)
		return 0;
	if (iph[ihl] != 8 || iph[ihl + 1] != 0) /* echo request */
		return 0;
	if (14 + tot > cap || cap < ETH_MIN_FRAME)
		return 0;
	memset(out, 0, 14 + tot < ETH_MIN_FRAME ? ETH_MIN_FRAME : 14 + tot);
	memcpy(out, eth + 6, 6);
	memcpy(out + 6, mac, 6);
	out[12] = 0x08;
	out[13] = 0x00;
	uint8_t *r = out + 14;
	/* A plain 20-byte header: options (record route, ...) are not
	 * echoed, as many stacks do. */
	r[0] = 0x45;
	r[1] = iph[1];
	size_t plen = tot - ihl, rtot = 20 + plen;
	r[2] = (uint8_t)(rtot >> 8);
	r[3] = (uint8_t)rtot;
	memcpy(r + 4, iph + 4, 2); /* id */
	r[6] = 0x40;		   /* DF */
	r[7] = 0;
	r[8] = 64;
	r[9] = 1;
	memcpy(r + 12, &ip, 4);
	memcpy(r + 16, iph + 12, 4);
	uint16_t c = inet_csum(r, 20);
	memcpy(r + 10, &c, 2);
	uint8_t *icmp = r + 20;
	memcpy(icmp, iph + ihl, plen);
	icmp[0] = 0;
	icmp[2] = icmp[3] = 0;
	c = inet_csum(icmp, plen);
	memcpy(icmp + 2, &c, 2);
	return 14 + rtot < ETH_MIN_FRAME ? ETH_MIN_FRAME : 14 + rtot;
}
