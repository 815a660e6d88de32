/*
 * A stand-in for the network server's side of one VIF, for the agent's
 * integration test (agent_datapath.sh): it maps the app's published
 * share, binds its channel, attaches tx, formats rx, says Connected, and
 * then plays the gateway: it answers ARP requests and ICMP echo requests
 * for one IPv4 address.  So a ping from the app's namespace crosses
 * tap0 -> agent -> tx ring -> here -> rx ring -> agent -> tap0, with the
 * notifications of docs/ring.md in both directions.
 *
 * usage: agent_fake_backend <app-domid> <backend-domid> <gateway-ip>
 *        (XENSTORED_PATH picks xenstored.)  It follows the app's
 *        guest/vif as the network server does: a re-published VIF is
 *        mapped again.  SIGTERM: says Closed, exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libretto/xs_paths.h>

#include "platform.h"
#include "platform_xs.h"
#include "ring.h"
#include "vif.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static const uint8_t gw_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Builds the answer to frame f (vnet header + Ethernet) in out; returns
 * its length or 0 when f asks for nothing we answer. */
static size_t answer(const uint8_t *f, size_t len, struct in_addr gw,
		     uint8_t *out)
{
	const uint8_t *e = f + VIF_VNET_HDR_LEN;
	uint8_t *o = out + VIF_VNET_HDR_LEN;
	size_t elen = len - VIF_VNET_HDR_LEN;
	uint16_t type = (uint16_t)(e[12] << 8 | e[13]);

	memset(out, 0, VIF_VNET_HDR_LEN); /* no offload on replies */
	if (type == 0x0806 && elen >= 14 + 28 && e[14 + 7] == 1 &&
	    memcmp(e + 14 + 24, &gw, 4) == 0) {
		memcpy(o, e + 6, 6); /* to the asker */
		memcpy(o + 6, gw_mac, 6);
		memcpy(o + 12, e + 12, 2);
		memcpy(o + 14, e + 14, 6); /* htype, ptype, hlen, plen */
		o[14 + 6] = 0;
		o[14 + 7] = 2; /* reply */
		memcpy(o + 14 + 8, gw_mac, 6);
		memcpy(o + 14 + 14, &gw, 4);
		memcpy(o + 14 + 18, e + 14 + 8, 10); /* sender mac + ip */
		return VIF_VNET_HDR_LEN + 14 + 28;
	}
	if (type == 0x0800 && elen >= 14 + 20 + 8) {
		const uint8_t *ip = e + 14;
		size_t ihl = (size_t)(ip[0] & 15) * 4;
		size_t tot = (size_t)(ip[2] << 8 | ip[3]);
		uint8_t *oip = o + 14;

		if (ip[9] != 1 || memcmp(ip + 16, &gw, 4) != 0 || ihl < 20 ||
		    tot > elen - 14 || tot < ihl + 8 || ip[ihl] != 8)
			return 0;
		memcpy(o, e + 6, 6);
		memcpy(o + 6, gw_mac, 6);
		memcpy(o + 12, e + 12, 2);
		memcpy(oip, ip, tot);
		/* Swapping the addresses leaves the header checksum. */
		memcpy(oip + 12, ip + 16, 4);
		memcpy(oip + 16, ip + 12, 4);
		oip[ihl] = 0; /* echo reply */
		oip[ihl + 2] = oip[ihl + 3] = 0;
		uint16_t c = csum(oip + ihl, tot - ihl);
		oip[ihl + 2] = (uint8_t)(c >> 8);
		oip[ihl + 3] = (uint8_t)c;
		return VIF_VNET_HDR_LEN + 14 + tot;
	}
	return 0;
}

static int set_state(struct xs_handle *h, unsigned be, unsigned app, int st)
{
	char path[160], v[8];

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS
				 "/%u/" LT_XS_APP_VIF_STATE,
		 be, app);
	snprintf(v, sizeof(v), "%d", st);
	return xs_write(h, XBT_NULL, path, v, strlen(v)) ? 0 : -1;
}

struct conn {
	struct plat_shared *sh;
	struct plat_chan *ch;
	struct ring tx, rx;
	char ref[PLAT_REF_MAX];
};

static void disconnect(struct conn *c)
{
	plat_chan_close(c->ch);
	plat_shared_free(c->sh);
	c->ch = NULL;
	c->sh = NULL;
	c->ref[0] = '\0';
}

/* Maps what the app published (Initialised, or Connected: a restarted
 * backend finds a live VIF), as the network server does. */
static int connect_to(struct conn *c, struct xs_handle *h, unsigned app,
		      unsigned be, const struct plat_vif_info *info)
{
	int r = plat_share_map(app, info->ring_ref, info->ring_pages, &c->sh);

	if (r == 0)
		r = plat_chan_bind(app, info->event_channel, &c->ch);
	if (r == 0)
		r = ring_attach(&c->tx, vif_tx_region(plat_shared_addr(c->sh)),
				VIF_RING_REGION);
	if (r == 0)
		r = ring_init(&c->rx, vif_rx_region(plat_shared_addr(c->sh)),
			      VIF_RING_REGION, VIF_RING_DATA, VIF_FRAME_MAX);
	if (r == 0 && set_state(h, be, app, VIF_STATE_CONNECTED) < 0)
		r = -EIO;
	if (r < 0) {
		disconnect(c);
		return r;
	}
	snprintf(c->ref, sizeof(c->ref), "%s", info->ring_ref);
	printf("fake backend: connected to domain %u\n", app);
	fflush(stdout);
	return 0;
}

/* Follows the app's guest/vif: a new reference means a new VIF. */
static void follow(struct conn *c, struct xs_handle *h, unsigned app,
		   unsigned be)
{
	static struct plat_vif_info info;

	if (plat_xs_vif_read(h, app, &info) < 0 ||
	    (info.state != XenbusStateInitialised &&
	     info.state != XenbusStateConnected)) {
		if (c->sh != NULL)
			disconnect(c);
		return;
	}
	if (c->sh != NULL && strcmp(info.ring_ref, c->ref) == 0)
		return;
	if (c->sh != NULL)
		disconnect(c);
	if (connect_to(c, h, app, be, &info) < 0)
		fprintf(stderr, "fake backend: cannot connect\n");
}

int main(int argc, char **argv)
{
	static uint8_t in[RING_FRAME_MAX], out[RING_FRAME_MAX];
	static struct conn c;
	struct xs_handle *h;
	struct in_addr gw;
	unsigned app, be;
	unsigned long frames = 0, answers = 0, bad = 0;
	struct timespec last = {0}, now;

	if (argc != 4 || inet_pton(AF_INET, argv[3], &gw) != 1) {
		fprintf(stderr, "usage: %s APP-DOMID BACKEND-DOMID GW-IP\n",
			argv[0]);
		return 2;
	}
	app = (unsigned)atoi(argv[1]);
	be = (unsigned)atoi(argv[2]);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	h = xs_open(0);
	if (h == NULL) {
		perror("fake backend: xs_open");
		return 1;
	}
	while (!stop) {
		struct pollfd p = {.fd = -1, .events = POLLIN};
		bool sent = false;
		int n = 0;

		/* Polling xenstore every 100 ms is plenty for a test. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - last.tv_sec) * 1000 +
			(now.tv_nsec - last.tv_nsec) / 1000000 >=
		    100) {
			follow(&c, h, app, be);
			last = now;
		}
		if (c.sh == NULL) {
			usleep(50 * 1000);
			continue;
		}
		p.fd = plat_chan_fd(c.ch);
		plat_chan_ack(c.ch);
		while ((n = ring_dequeue(&c.tx, in, sizeof(in))) > 0) {
			size_t alen;

			frames++;
			if (vif_frame_check(in, (size_t)n) != VIF_FRAME_OK) {
				bad++;
				continue;
			}
			alen = answer(in, (size_t)n, gw, out);
			if (alen &&
			    ring_enqueue(&c.rx, out, (uint32_t)alen) == 0) {
				answers++;
				sent = true;
			}
		}
		if (n < 0) {
			fprintf(stderr, "fake backend: tx broken\n");
			disconnect(&c);
			continue;
		}
		if (ring_consumer_needs_notify(&c.tx))
			plat_chan_notify(c.ch);
		if (sent && ring_producer_needs_notify(&c.rx))
			plat_chan_notify(c.ch);
		if (!ring_consumer_prepare_sleep(&c.tx))
			continue;
		poll(&p, 1, 100);
	}
	set_state(h, be, app, VIF_STATE_CLOSED);
	printf("fake backend: %lu frames, %lu answers, %lu malformed\n", frames,
	       answers, bad);
	disconnect(&c);
	xs_close(h);
	return 0;
}
