/*
 * A test VIF frontend for the netserver integration test: what the agent
 * does for the data path, and no more, so that the netserver can be
 * tested while the agent is written.  It allocates the share and the
 * channel, publishes them, waits for the backend's Connected, and bridges
 * a TAP device (IFF_VNET_HDR) to the rings.
 *
 * usage: netserver_front <backend domid> <tap name> [inject <mac>]
 *   inject: once connected, also put malformed frames (and one good
 *   marker frame: an ARP probe from mac, the app's, for 192.0.2.71; the
 *   bad ones ask for 192.0.2.66) on the tx ring, to check that the
 *   server drops and counts them.
 * Env: LIBRETTO_DOMID, XENSTORED_PATH, as for every guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libretto/xs_paths.h>

#include "guest_xs.h"
#include "platform.h"
#include "platform_xs.h"
#include "ring.h"
#include "vif.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int open_tap(const char *name)
{
	struct ifreq ifr = {0};
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	int hdr = VIF_VNET_HDR_LEN;

	if (fd < 0)
		return -1;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* Offloads on: the app's stack hands us 64 KiB super-frames,
	 * which is what the VIF is sized for. */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD,
		  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void inject(struct ring *tx, const uint8_t mac[6])
{
	static const uint8_t probe[8] = {0, 1, 8, 0, 6, 4, 0, 1};
	uint8_t f[10 + 9200];
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)f;

	/* An ARP probe (sender IP 0) from the app's own MAC: a frame the
	 * server's source checks let an app send, so that only the vnet
	 * header makes the bad ones bad. */
	memset(f, 0, sizeof(f));
	memset(f + 10, 0xff, 6); /* broadcast: would go out of pf0 */
	memcpy(f + 10 + 6, mac, 6);
	f[10 + 12] = 0x08;
	f[10 + 13] = 0x06;
	memcpy(f + 10 + 14, probe, sizeof(probe));
	memcpy(f + 10 + 22, mac, 6);
	f[10 + 38] = 192;
	f[10 + 40] = 2;
	f[10 + 41] = 'B'; /* bad */
	/* too short: vnet header and half an Ethernet header */
	ring_enqueue(tx, f, 10 + 7);
	/* a vnet header the kernel refuses: unknown gso type */
	h->gso_type = 0x42;
	ring_enqueue(tx, f, 10 + 60);
	h->gso_type = 0;
	/* a flag bit nobody knows */
	h->flags = 0x80;
	ring_enqueue(tx, f, 10 + 60);
	h->flags = 0;
	/* checksum offsets past the end */
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 50;
	h->csum_offset = 40;
	ring_enqueue(tx, f, 10 + 60);
	h->flags = 0;
	h->csum_start = h->csum_offset = 0;
	/* oversize: a non-GSO frame beyond MTU 9000 */
	ring_enqueue(tx, f, 10 + 9100);
	/* and one good marker, so the capture proves it sees them */
	f[10 + 41] = 'G';
	ring_enqueue(tx, f, 10 + 60);
}

int main(int argc, char **argv)
{
	struct guest_xs gx;
	struct plat_shared *sh;
	struct plat_chan *ch;
	struct ring tx, rx;
	struct sigaction sa = {.sa_handler = on_signal};
	char path[192];
	unsigned backend;
	bool connected = false, tap_blocked = false, want_inject;
	uint8_t mac[6];
	int tap, r;

	if (argc < 3) {
		fprintf(stderr, "usage: %s <backend> <tap> [inject <mac>]\n",
			argv[0]);
		return 2;
	}
	backend = (unsigned)atoi(argv[1]);
	want_inject = argc > 3 && strcmp(argv[3], "inject") == 0;
	if (want_inject &&
	    (argc < 5 ||
	     sscanf(argv[4], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		    &mac[2], &mac[3], &mac[4], &mac[5]) != 6)) {
		fprintf(stderr, "%s: inject needs the app's MAC\n", argv[0]);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (guest_xs_open(&gx, "netserver_front") < 0)
		return 1;
	tap = open_tap(argv[2]);
	if (tap < 0) {
		perror("netserver_front: tap");
		return 1;
	}
	if ((r = plat_share_alloc(backend, VIF_PAGES, &sh)) < 0 ||
	    (r = ring_init(&tx, vif_tx_region(plat_shared_addr(sh)),
			   VIF_RING_REGION, VIF_RING_DATA, VIF_FRAME_MAX)) <
		0 ||
	    (r = plat_chan_alloc_unbound(backend, &ch)) < 0 ||
	    (r = plat_xs_vif_publish(&gx, sh, ch)) < 0) {
		fprintf(stderr, "netserver_front: setup: %s\n", strerror(-r));
		return 1;
	}
	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS
				 "/%u/" LT_XS_APP_VIF_STATE,
		 backend, gx.domid);
	xs_watch(gx.h, path, "be");

	while (!stop) {
		struct pollfd p[3] = {
		    {.fd = xs_fileno(gx.h), .events = POLLIN},
		    {.fd = plat_chan_fd(ch), .events = POLLIN},
		    {.fd = tap,
		     .events = connected && !tap_blocked ? POLLIN : 0},
		};
		bool busy = false;

		if (connected) {
			/* rx ring -> TAP */
			const void *d;
			uint32_t len;
			int n = 0;
			while (n < 256 && (r = ring_peek(&rx, &d, &len)) == 1) {
				if (write(tap, d, len) < 0 && errno != EAGAIN &&
				    errno != EINVAL && errno != EIO)
					perror("netserver_front: tap write");
				ring_release(&rx);
				n++;
			}
			if (ring_consumer_needs_notify(&rx))
				plat_chan_notify(ch);
			if (n == 256 || !ring_consumer_prepare_sleep(&rx))
				busy = true;
			/* TAP -> tx ring, straight into the ring */
			for (n = 0; n < 256 && !tap_blocked; n++) {
				void *w = ring_reserve(&tx, VIF_FRAME_MAX);
				if (w == NULL) {
					if (ring_producer_needs_notify(&tx))
						plat_chan_notify(ch);
					tap_blocked =
					    ring_producer_prepare_sleep(
						&tx, VIF_FRAME_MAX);
					break;
				}
				ssize_t got = read(tap, w, VIF_FRAME_MAX);
				if (got <= 0) {
					ring_commit(&tx, 0);
					break;
				}
				ring_commit(&tx, (uint32_t)got);
			}
			if (n == 256)
				busy = true;
			if (ring_producer_needs_notify(&tx))
				plat_chan_notify(ch);
		}
		p[2].events = connected && !tap_blocked ? POLLIN : 0;
		if (poll(p, 3, busy ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			plat_chan_ack(ch);
			tap_blocked = false;
		}
		if (p[0].revents & POLLIN) {
			char **w;
			while ((w = xs_check_watch(gx.h)) != NULL)
				free(w);
			unsigned len;
			char *v = xs_read(gx.h, XBT_NULL, path, &len);
			int st = v ? atoi(v) : 0;
			free(v);
			if (!connected && st == VIF_STATE_CONNECTED) {
				r = ring_attach(
				    &rx, vif_rx_region(plat_shared_addr(sh)),
				    VIF_RING_REGION);
				if (r < 0) {
					fprintf(stderr,
						"netserver_front: rx attach: "
						"%s\n",
						strerror(-r));
					break;
				}
				connected = true;
				plat_xs_vif_set_state(&gx,
						      XenbusStateConnected);
				fprintf(stderr, "netserver_front: connected\n");
				if (want_inject) {
					inject(&tx, mac);
					if (ring_producer_needs_notify(&tx))
						plat_chan_notify(ch);
				}
			} else if (connected && st == VIF_STATE_CLOSED) {
				fprintf(stderr, "netserver_front: backend "
						"closed\n");
				break;
			}
		}
	}
	plat_xs_vif_withdraw(&gx);
	plat_chan_close(ch);
	plat_shared_free(sh);
	close(tap);
	guest_xs_close(&gx);
	return 0;
}
