/*
 * libretto-netserver: the network server of docs/datapath.md.
 *
 * One thread, one poll() over the PF socket, every connected VIF's
 * channel and the xenstore watch descriptor.  It sleeps in ppoll() with
 * SIGTERM unblocked only there, so a stop request cannot slip in between
 * the check and the sleep.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <libretto/xs_paths.h>

#include "netserver.h"
#include "platform_xs.h"

#define PF_NAME "pf0"
/* Work done per round before looking at the other sources again, so
 * that one busy VIF or a flood on the PF cannot starve the rest: per
 * app, so many frames or so many bytes (a ring's worth of super-frames
 * takes milliseconds to send), whichever comes first. */
#define TX_BUDGET	256
#define TX_BUDGET_BYTES (1024u * 1024u)
#define PF_RX_BATCH	256

/* Frames from the VIFs are sent out pf0 in batches of up to TX_BATCH with
 * one sendmmsg: fewer syscalls, and while a batch is out the frames stay
 * in the app's tx ring (read, not yet published as consumed), so the
 * kernel copies each payload straight from the ring. */
#define TX_BATCH 32
/* The private copy of a frame's start: the vnet header and every header
 * the forwarding decision reads (Ethernet, ARP, IPv4 with options, the
 * ports), so that what is checked is exactly what is sent.  The rest of
 * the frame is payload the kernel copies once from the ring; if the app
 * rewrites it meanwhile it only garbles its own data. */
#define TX_PREFIX 128
_Static_assert(TX_PREFIX >= VIF_VNET_HDR_LEN + VIF_ETH_HLEN + 60 + 4,
	       "the prefix covers what fw_from_app parses");

struct tx_slot {
	uint8_t hdr[TX_PREFIX];
	struct iovec iov[2];
	uint32_t len;
};

struct ns {
	struct guest_xs gx;
	struct pf pf;
	struct ns_apps apps;
	struct portmap pm;
	struct fw_ctx fw;
	struct ns_pf_stats pfst, pfst_written;
	bool pf_blocked;   /* a send hit EAGAIN: wait for POLLOUT */
	unsigned tx_first; /* the app served first this round (rotates) */
	/* The batch being sent: frames of app txq_dom [txq_sent, txq_n)
	 * are not out yet; that app's ring is not published until they
	 * are, which keeps their payload in place. */
	struct tx_slot txq[TX_BATCH];
	struct mmsghdr txm[TX_BATCH];
	unsigned txq_n, txq_sent;
	uint16_t txq_dom;
	uint8_t buf[VIF_FRAME_MAX];
	uint8_t reply[VIF_VNET_HDR_LEN + VIF_ETH_MAX_MTU];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static char *read_own(struct ns *s, const char *leaf)
{
	char path[192];
	unsigned len;

	snprintf(path, sizeof(path), "%s/%s", s->gx.base, leaf);
	return xs_read(s->gx.h, XBT_NULL, path, &len);
}

/* ---- delivery ---- */

static void to_app(struct ns *s, struct ns_app *a, const uint8_t *frame,
		   uint32_t len)
{
	/* Queued, or dropped and counted (ring and backlog full, or the
	 * app gone), as a NIC would: TCP recovers. */
	(void)ns_vif_put(a, frame, len);
	(void)s;
}

static void flood(struct ns *s, unsigned to, uint16_t src, const uint8_t *frame,
		  uint32_t len)
{
	for (unsigned i = 0; i < s->apps.n; i++) {
		struct ns_app *a = s->apps.v[i];

		if (a->domid == src || !a->vif.connected)
			continue;
		if (((to & FW_FLOOD_DED) && app_is_dedicated(a)) ||
		    ((to & FW_FLOOD_SRV) && a->mode == NS_MODE_SERVER))
			to_app(s, a, frame, len);
	}
}

/* Sends a reply of the server itself back where the request came from:
 * the wire, or the app (src) that asked. */
static void self_reply(struct ns *s, const uint8_t *eth, size_t len,
		       uint16_t src)
{
	uint8_t *out = s->reply + VIF_VNET_HDR_LEN;
	size_t cap = sizeof(s->reply) - VIF_VNET_HDR_LEN, n;

	n = arp_reply(eth, len, s->fw.server_ip, s->fw.server_mac, out, cap);
	if (n == 0)
		n = icmp_echo_reply(eth, len, s->fw.server_ip, s->fw.server_mac,
				    out, cap);
	if (n == 0)
		return;
	memset(s->reply, 0, VIF_VNET_HDR_LEN); /* complete checksums */
	if (src != 0) {
		struct ns_app *a = apps_find(&s->apps, src);
		if (a != NULL)
			to_app(s, a, s->reply,
			       (uint32_t)(n + VIF_VNET_HDR_LEN));
		return;
	}
	if (pf_send(&s->pf, s->reply, n + VIF_VNET_HDR_LEN) == 0) {
		s->pfst.tx_packets++;
		s->pfst.tx_bytes += n;
	}
}

static void execute(struct ns *s, struct fw_dec d, uint16_t src,
		    const uint8_t *frame, uint32_t len)
{
	const uint8_t *eth = frame + VIF_VNET_HDR_LEN;
	size_t elen = len - VIF_VNET_HDR_LEN;

	if (d.to == 0) {
		/* Under its reason: the app's counters for its own frames
		 * (src), the PF's for the wire's. */
		struct ns_app *from = apps_find(&s->apps, src);
		fw_count_drop(d.drop, from != NULL ? &from->st : NULL,
			      &s->pfst);
		return;
	}
	if (d.to & FW_SELF)
		self_reply(s, eth, elen, src);
	if (d.to & FW_APP) {
		struct ns_app *a = apps_find(&s->apps, d.domid);
		if (a != NULL)
			to_app(s, a, frame, len);
	}
	if (d.to & (FW_FLOOD_DED | FW_FLOOD_SRV))
		flood(s, d.to, src, frame, len);
}

/* ---- the PF ---- */

static bool on_pf_frame(void *arg, const uint8_t *frame, uint32_t len,
			bool truncated)
{
	struct ns *s = arg;
	const uint8_t *eth = frame + VIF_VNET_HDR_LEN;
	struct fw_dec d;

	s->pfst.rx_packets++;
	if (len < VIF_VNET_HDR_LEN + VIF_ETH_HLEN || truncated) {
		s->pfst.no_owner++;
		return true;
	}
	s->pfst.rx_bytes += len - VIF_VNET_HDR_LEN;
	/* The ring is the kernel's, not a peer's: no copy needed before
	 * parsing.  A frame for an app whose rx ring is full waits in that
	 * app's backlog or is dropped (vif.c): the PF never waits for an
	 * app, so no app can hold the others' frames. */
	d = fw_from_pf(&s->fw, eth, len - VIF_VNET_HDR_LEN);
	if (d.to != 0 || d.drop != FW_DROP_NONE)
		execute(s, d, 0, frame, len);
	return true;
}

/* ---- the VIFs ---- */

/* Sends what is left of the batch.  True once it is all out (sent, or
 * lost and counted); false while pf0 pushes back (POLLOUT). */
static bool tx_flush(struct ns *s)
{
	struct ns_app *a = apps_find(&s->apps, s->txq_dom);

	while (s->txq_sent < s->txq_n) {
		int r = pf_send_batch(&s->pf, s->txm + s->txq_sent,
				      s->txq_n - s->txq_sent);
		if (r == -EAGAIN) {
			/* Keep the frames in the ring: the app's TCP should
			 * see back-pressure, not loss. */
			s->pf_blocked = true;
			return false;
		}
		if (r < 0) { /* that one frame is lost (ENOBUFS, say) */
			if (a != NULL)
				a->st.drops++;
			s->txq_sent++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			s->pfst.tx_packets++;
			s->pfst.tx_bytes +=
			    s->txq[s->txq_sent + (unsigned)i].len -
			    VIF_VNET_HDR_LEN;
		}
		s->txq_sent += (unsigned)r;
	}
	s->txq_n = s->txq_sent = 0;
	return true;
}

/* Forgets an unsent batch whose ring is about to go away (the VIF is
 * reconfigured): its frames are lost, as on a NIC reset. */
static void tx_drop(struct ns *s)
{
	struct ns_app *a = apps_find(&s->apps, s->txq_dom);

	if (s->txq_n > s->txq_sent && a != NULL)
		a->st.drops += s->txq_n - s->txq_sent;
	s->txq_n = s->txq_sent = 0;
}

/* Takes one frame of app a (p, len in its tx ring) into the batch, or
 * delivers it locally.  The ring's payload stays where it is. */
static void tx_take(struct ns *s, struct ns_app *a, const uint8_t *p,
		    uint32_t len)
{
	struct tx_slot *t = &s->txq[s->txq_n];
	uint32_t pre = len < TX_PREFIX ? len : TX_PREFIX;

	/* Copy before checking: the peer can rewrite shared memory
	 * between our check and our use; the check reads only the vnet
	 * header and len, the decision only the prefix. */
	memcpy(t->hdr, p, pre);
	if (len < VIF_VNET_HDR_LEN + VIF_ETH_HLEN ||
	    vif_frame_check(t->hdr, len) != VIF_FRAME_OK) {
		a->st.malformed++;
		return;
	}
	a->st.from_app_packets++;
	a->st.from_app_bytes += len - VIF_VNET_HDR_LEN;
	struct fw_dec d =
	    fw_from_app(&s->fw, a->domid, t->hdr + VIF_VNET_HDR_LEN,
			len - VIF_VNET_HDR_LEN);
	if (d.to & ~FW_PF) {
		/* Local delivery (another app, the server, a flood) is
		 * rare and copies the whole frame: the checked prefix, then
		 * the rest. */
		memcpy(s->buf, t->hdr, pre);
		memcpy(s->buf + pre, p + pre, len - pre);
		struct fw_dec local = d;
		local.to &= ~FW_PF;
		execute(s, local, a->domid, s->buf, len);
	} else if (d.to == 0) {
		execute(s, d, a->domid, t->hdr, len); /* counts the drop */
	}
	if (!(d.to & FW_PF))
		return;
	t->iov[0] = (struct iovec){.iov_base = t->hdr, .iov_len = pre};
	t->iov[1] =
	    (struct iovec){.iov_base = (void *)(p + pre), .iov_len = len - pre};
	t->len = len;
	s->txm[s->txq_n] = (struct mmsghdr){
	    .msg_hdr = {.msg_iov = t->iov, .msg_iovlen = pre < len ? 2 : 1}};
	s->txq_n++;
}

/* Moves up to TX_BUDGET frames (TX_BUDGET_BYTES) from app a's tx ring.
 * Returns true if frames may remain (call again without sleeping). */
static bool service_tx(struct ns *s, struct ns_app *a)
{
	struct ns_vif *v = &a->vif;
	unsigned n = 0;
	uint32_t bytes = 0;

	if (s->txq_n != 0 && !tx_flush(s))
		return false; /* still blocked; the batch is not a's */
	while (!s->pf_blocked) {
		const void *p;
		uint32_t len;
		int r = 0;

		s->txq_dom = a->domid;
		while (s->txq_n < TX_BATCH && n < TX_BUDGET &&
		       bytes < TX_BUDGET_BYTES) {
			r = ring_peek(&v->tx, &p, &len);
			if (r <= 0)
				break;
			/* Released privately only: the space is handed back
			 * to the app when the ring is published, after the
			 * batch is out. */
			ring_release(&v->tx);
			n++;
			bytes += len;
			tx_take(s, a, p, len);
		}
		if (r < 0) { /* the frontend broke the ring: tear down */
			fprintf(stderr,
				"libretto-netserver: app %u: tx ring broken\n",
				a->domid);
			s->txq_n = s->txq_sent = 0;
			ns_vif_disconnect(&s->gx, a, VIF_STATE_CLOSED);
			v->failed = true;
			return false;
		}
		if (!tx_flush(s))
			return false;
		/* Publishes the space of what is out, and wakes an app
		 * waiting for it. */
		if (ring_consumer_needs_notify(&v->tx))
			plat_chan_notify(v->chan);
		if (n == TX_BUDGET || bytes >= TX_BUDGET_BYTES)
			return true;
		if (r == 0 && ring_consumer_prepare_sleep(&v->tx))
			return false;
		/* A full batch, or something arrived meanwhile. */
	}
	return false;
}

/* ---- xenstore ---- */

static void app_gone(struct ns_app *a, void *arg)
{
	struct ns *s = arg;

	/* Its directory is gone with it: nothing to write. */
	ns_vif_disconnect(&s->gx, a, -1);
	fprintf(stderr, "libretto-netserver: app %u gone\n", a->domid);
}

static void watch_vif(struct ns *s, unsigned domid, bool on)
{
	char path[192];

	if (plat_xs_vif_path(path, sizeof(path), domid, LT_XS_GUEST_VIF) < 0)
		return;
	if (on)
		xs_watch(s->gx.h, path, "vif");
	else
		xs_unwatch(s->gx.h, path, "vif");
}

/* The PF filter follows the MACs served: the server's and every active
 * dedicated-IP app's (server-mode apps share the server's).  Returns
 * false if the kernel may still drop frames for a MAC now served. */
static bool filter_update(struct ns *s)
{
	uint8_t macs[PF_FILTER_MACS + 1][6];
	unsigned n = 0;
	int err;

	memcpy(macs[n++], s->fw.server_mac, 6);
	if (memcmp(s->pf.mac, s->fw.server_mac, 6) != 0)
		memcpy(macs[n++], s->pf.mac, 6);
	for (unsigned i = 0; i < s->apps.n && n <= PF_FILTER_MACS; i++)
		if (app_is_dedicated(s->apps.v[i]))
			memcpy(macs[n++], s->apps.v[i]->mac, 6);
	err = pf_set_filter(&s->pf, (const uint8_t(*)[6])macs, n);
	if (err == 0)
		return true;
	fprintf(stderr, "libretto-netserver: PF filter: %s\n", strerror(-err));
	/* The old filter may lack an app just switched back on: then
	 * none at all (the frames it would have dropped are ignored in
	 * user space, at a cost) rather than an app cut off. */
	err = pf_clear_filter(&s->pf);
	if (err == 0)
		return true;
	fprintf(stderr, "libretto-netserver: PF filter removal: %s\n",
		strerror(-err));
	return false;
}

static void refresh(struct ns *s)
{
	bool had[NS_APPS_MAX];
	uint16_t doms[NS_APPS_MAX];
	unsigned n0 = s->apps.n;
	char *v;

	/* Our own identity can change only across a redeploy, but it is
	 * cheap to re-read and then nothing is assumed about order. */
	v = read_own(s, LT_XS_NET_IP);
	if (v != NULL && parse_ip(v, &s->fw.server_ip) < 0)
		fprintf(stderr, "libretto-netserver: bad net/ip %s\n", v);
	free(v);
	v = read_own(s, LT_XS_NET_MAC);
	if (v == NULL || parse_mac(v, s->fw.server_mac) < 0)
		memcpy(s->fw.server_mac, s->pf.mac, 6);
	free(v);

	for (unsigned i = 0; i < n0; i++)
		doms[i] = s->apps.v[i]->domid;
	if (apps_read_xs(&s->apps, &s->gx, app_gone, s) < 0)
		fprintf(stderr, "libretto-netserver: reading apps: %s\n",
			strerror(errno));
	for (unsigned i = 0; i < n0; i++)
		if (apps_find(&s->apps, doms[i]) == NULL)
			watch_vif(s, doms[i], false);
	for (unsigned i = 0; i < s->apps.n; i++) {
		had[i] = false;
		for (unsigned j = 0; j < n0; j++)
			had[i] |= doms[j] == s->apps.v[i]->domid;
		if (!had[i])
			watch_vif(s, s->apps.v[i]->domid, true);
		ns_vif_sync(&s->gx, s->apps.v[i]);
	}
	if (pm_read_xs(&s->pm, &s->gx) < 0)
		fprintf(stderr, "libretto-netserver: reading portmap: %s\n",
			strerror(errno));
	pm_rebuild(&s->pm, &s->apps);
	/* acked says the change is in force: the table above decides what
	 * is forwarded, and the kernel's filter lets the frames through;
	 * with the filter in doubt, librettod is better left waiting. */
	if (filter_update(s))
		apps_ack(&s->apps, &s->gx);
}

/* Drains the pending watch events.  True if any concerns us: our own
 * stats, vif-state and acked writes fire our watch too and are skipped. */
static bool drain_watches(struct ns *s)
{
	bool relevant = false;
	char **w;

	while ((w = xs_check_watch(s->gx.h)) != NULL) {
		const char *p = w[XS_WATCH_PATH];
		if (strstr(p, "/" LT_XS_APP_STATS) == NULL &&
		    strstr(p, "/" LT_XS_APP_VIF_STATE) == NULL &&
		    strstr(p, "/" LT_XS_APP_ACKED) == NULL &&
		    strstr(p, "/" LT_XS_SERVER_STATS) == NULL)
			relevant = true;
		free(w);
	}
	return relevant;
}

/*
 * Says on the wire where the server IP is.  A new server domain (after a
 * crash: docs/datapath.md, "A new network server") comes up with the same
 * MAC on the same PF, but a peer that tried to reach the IP while there
 * was no server may hold a FAILED entry and wait seconds before asking
 * again; the announcement makes it usable at once.  At start only; a
 * lost one costs the peer one ARP round trip later, answered by
 * self_reply.
 */
static void announce(struct ns *s)
{
	uint8_t *out = s->reply + VIF_VNET_HDR_LEN;
	size_t n;
	int r;

	if (s->fw.server_ip == 0)
		return;
	n = arp_announce(s->fw.server_ip, s->fw.server_mac, out,
			 sizeof(s->reply) - VIF_VNET_HDR_LEN);
	if (n == 0)
		return;
	memset(s->reply, 0, VIF_VNET_HDR_LEN);
	r = pf_send(&s->pf, s->reply, n + VIF_VNET_HDR_LEN);
	if (r < 0) {
		fprintf(stderr, "libretto-netserver: gratuitous ARP: %s\n",
			strerror(-r));
		return;
	}
	s->pfst.tx_packets++;
	s->pfst.tx_bytes += n;
}

static int add_watches(struct ns *s)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/" LT_XS_SERVER_APPS, s->gx.base);
	if (!xs_watch(s->gx.h, path, "apps"))
		return -1;
	snprintf(path, sizeof(path), "%s/" LT_XS_SERVER_PORTMAP, s->gx.base);
	if (!xs_watch(s->gx.h, path, "portmap"))
		return -1;
	snprintf(path, sizeof(path), "%s/" LT_XS_NET_IP, s->gx.base);
	return xs_watch(s->gx.h, path, "ip") ? 0 : -1;
}

/* ---- the loop ---- */

static void run(struct ns *s, const sigset_t *unblocked)
{
	struct pollfd pfd[2 + NS_APPS_MAX];
	struct ns_app *who[2 + NS_APPS_MAX];
	uint64_t last_stats = 0;

	while (!stop) {
		unsigned n = 0;
		int timeout = -1;
		bool more = false;

		/* Work first, then sleep: whatever is pending (including what
		 * arrived before a channel was polled) is served. */
		/* A batch held back by pf0 goes first, before any other
		 * app's frames can take its place in the socket. */
		if (s->txq_n != 0 && !s->pf_blocked && tx_flush(s)) {
			struct ns_app *a = apps_find(&s->apps, s->txq_dom);
			if (a != NULL && a->vif.connected &&
			    ring_consumer_needs_notify(&a->vif.tx))
				plat_chan_notify(a->vif.chan);
		}
		/* Each app has its budget per round, and the first served
		 * changes every round: a flooding app delays the others by
		 * one budget at most, never by its whole ring. */
		for (unsigned k = 0, na = s->apps.n; k < na; k++) {
			struct ns_app *a = s->apps.v[(s->tx_first + k) % na];
			if (a->vif.connected && service_tx(s, a))
				more = true;
		}
		s->tx_first = s->apps.n ? (s->tx_first + 1) % s->apps.n : 0;
		if (pf_rx(&s->pf, on_pf_frame, s, PF_RX_BATCH) == PF_RX_BATCH &&
		    pf_rx_ready(&s->pf))
			more = true;

		uint64_t t = ns_now_ms();
		for (unsigned i = 0; i < s->apps.n; i++) {
			struct ns_app *a = s->apps.v[i];

			ns_vif_flush(a);
			/* Frames waiting for a full rx ring: moved as it
			 * drains, and the stall rule's deadline. */
			if (a->vif.rxq_n != 0 || a->vif.rx_stalled) {
				int w = ns_vif_rx_poll(a, t);
				if (w >= 0 && (timeout < 0 || w < timeout))
					timeout = w;
			}
		}

		if (stats_dirty(&s->apps, &s->pfst, &s->pfst_written)) {
			int w = 0;
			if (t >= last_stats + 1000) {
				stats_flush(&s->gx, &s->apps, &s->pfst,
					    &s->pfst_written);
				last_stats = t;
				w = -1;
			} else {
				w = (int)(last_stats + 1000 - t);
			}
			if (w >= 0 && (timeout < 0 || w < timeout))
				timeout = w;
		}
		if (more)
			timeout = 0;

		pfd[n] = (struct pollfd){.fd = s->pf.fd, .events = POLLIN};
		if (s->pf_blocked)
			pfd[n].events |= POLLOUT;
		who[n++] = NULL;
		pfd[n] =
		    (struct pollfd){.fd = xs_fileno(s->gx.h), .events = POLLIN};
		who[n++] = NULL;
		for (unsigned i = 0; i < s->apps.n; i++) {
			struct ns_app *a = s->apps.v[i];
			if (!a->vif.connected)
				continue;
			pfd[n] = (struct pollfd){
			    .fd = plat_chan_fd(a->vif.chan), .events = POLLIN};
			who[n++] = a;
		}
		struct timespec ts = {timeout / 1000,
				      (long)(timeout % 1000) * 1000000};
		int r = ppoll(pfd, n, timeout < 0 ? NULL : &ts, unblocked);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("libretto-netserver: ppoll");
			break;
		}
		if (pfd[0].revents & POLLOUT)
			s->pf_blocked = false;
		if ((pfd[1].revents & POLLIN) && drain_watches(s)) {
			/* A refresh may unmap the ring an unsent batch
			 * points into. */
			tx_drop(s);
			refresh(s);
		}
		for (unsigned i = 2; i < n; i++)
			if ((pfd[i].revents & POLLIN) && who[i]->vif.connected)
				/* Ack before reading the ring, so that a
				 * notify sent meanwhile wakes the next
				 * poll. */
				plat_chan_ack(who[i]->vif.chan);
	}
}

int main(void)
{
	static struct ns s; /* large (portmap, buffers): not on the stack */
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, unblocked;
	char *v;
	int r;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (guest_xs_open(&s.gx, "libretto-netserver") < 0)
		return 1;
	if (guest_xs_write(&s.gx, LT_XS_SERVER_STATE, LT_SERVER_STARTING) < 0 ||
	    guest_xs_write(&s.gx, LT_XS_GUEST_STATE, LT_GUEST_BOOTING) < 0) {
		perror("libretto-netserver: xenstore write");
		return 1;
	}
	r = pf_open(&s.pf, PF_NAME);
	if (r < 0) {
		fprintf(stderr, "libretto-netserver: %s: %s\n", PF_NAME,
			strerror(-r));
		guest_xs_write(&s.gx, LT_XS_GUEST_STATE, LT_GUEST_ERROR);
		return 1;
	}
	memset(&s.pfst_written, 0xff, sizeof(s.pfst_written));
	s.fw.pm = &s.pm;
	s.fw.apps = &s.apps;
	v = read_own(&s, LT_XS_NET_IP);
	if (v == NULL || parse_ip(v, &s.fw.server_ip) < 0)
		fprintf(stderr, "libretto-netserver: no usable net/ip yet\n");
	free(v);
	if (add_watches(&s) < 0) {
		perror("libretto-netserver: xs_watch");
		return 1;
	}
	refresh(&s);
	announce(&s);
	guest_xs_write(&s.gx, LT_XS_SERVER_STATE, LT_SERVER_RUNNING);
	guest_xs_write(&s.gx, LT_XS_GUEST_STATE, LT_GUEST_READY);

	run(&s, &unblocked);

	/* Tell every frontend that its backend is gone (Closed), so that
	 * it stops producing and waits for a new server. */
	for (unsigned i = 0; i < s.apps.n; i++)
		if (s.apps.v[i]->vif.connected)
			ns_vif_disconnect(&s.gx, s.apps.v[i], VIF_STATE_CLOSED);
	stats_flush(&s.gx, &s.apps, &s.pfst, &s.pfst_written);
	pf_close(&s.pf);
	guest_xs_close(&s.gx);
	return 0;
}
