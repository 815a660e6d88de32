/*
 * Frames between tap0 and the VIF's rings, driven by main.c's poll()
 * loop.  TAP -> tx is zero-copy (read() straight into a reservation).
 * rx -> TAP copies only the vnet header out of shared memory: that is
 * what is checked, and it is the copy the kernel gets (writev), so the
 * backend cannot change it between the check and the write; the rest is
 * payload the kernel copies once and validates itself, as for any user
 * buffer.  Copying whole 64 KiB super-frames first cost a memcpy per
 * frame for nothing.  Notifications follow docs/ring.md: signal only a
 * peer that asked, sleep only on an empty (or full) ring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"
#include "vif.h"

/* Frames per batch: bounds the time one direction holds the loop (and
 * the other direction) and amortises one notification check. */
#define BATCH 64

/* Bytes after which a batch in progress is published (and the peer woken
 * if it waits) instead of at the batch's end: a VIF ring holds only a few
 * super-frames, and handing over each 1/8 of it as soon as it is done lets
 * the other side work on it in parallel rather than in lockstep.  Freed rx
 * room is handed back by halves only: in bulk the backend sleeps waiting
 * for room, and waking it per super-frame made the two sides trade one
 * frame per wakeup (0.55 notifications per frame, 0.42 by halves). */
#define EARLY_BYTES    (VIF_RING_DATA / 8)
#define RX_EARLY_BYTES (VIF_RING_DATA / 2)

int bridge_init(struct bridge *b, int tap, struct vif *v)
{
	memset(b, 0, sizeof(*b));
	b->tap = tap;
	b->vif = v;
	return 0;
}

void bridge_reset(struct bridge *b)
{
	b->tx_blocked = false;
	/* A fresh rx must be looked at once: the backend notifies only a
	 * consumer that asked (prepare_sleep), and we have not yet. */
	b->rx_more = b->vif->phase == VIF_UP;
}

/* Reads the TAP into tx until EAGAIN, a full batch or a full ring.
 * Returns true if the backend waits for what was produced: the caller
 * notifies, possibly together with the rx side. */
static bool tap_pass(struct bridge *b)
{
	struct vif *v = b->vif;
	bool full = false, want;
	uint32_t unpub = 0;
	int i;

	for (i = 0; i < BATCH; i++) {
		/* Room for the largest frame: we learn the size only from
		 * read(), and TAP hands out one frame per read. */
		void *p = ring_reserve(&v->tx, VIF_FRAME_MAX);
		ssize_t n;

		if (p == NULL) {
			if (errno == ENOBUFS) {
				full = true;
				break;
			}
			vif_restart(v, "tx ring broken");
			return false;
		}
		n = read(b->tap, p, VIF_FRAME_MAX);
		if (n < 0) {
			/* The open reservation is simply never committed. */
			if (errno != EAGAIN && errno != EINTR)
				b->tap_errors++;
			break;
		}
		if ((size_t)n < VIF_VNET_HDR_LEN + VIF_ETH_HLEN) {
			b->malformed++;
			continue;
		}
		ring_commit(&v->tx, (uint32_t)n);
		b->from_tap++;
		unpub += (uint32_t)n;
		if (unpub >= EARLY_BYTES) {
			unpub = 0;
			if (ring_producer_needs_notify(&v->tx))
				plat_chan_notify(v->chan);
		}
	}
	want = ring_producer_needs_notify(&v->tx);
	/* Full: stop reading the TAP (its queue holds or drops, as a NIC's
	 * would) until the backend frees room and says so.  The notify
	 * decision is made above, as prepare_sleep requires. */
	if (full && ring_producer_prepare_sleep(&v->tx, VIF_FRAME_MAX))
		b->tx_blocked = true;
	return want;
}

/* No connection after a loss: reads a batch off the TAP and drops it
 * (vif_dropping says why).  One static sink: frames are read whole, so
 * each read takes exactly one. */
static void tap_drop(struct bridge *b)
{
	static uint8_t sink[VIF_FRAME_MAX];

	for (int i = 0; i < BATCH; i++) {
		if (read(b->tap, sink, sizeof(sink)) < 0) {
			if (errno != EAGAIN && errno != EINTR)
				b->tap_errors++;
			return;
		}
		b->outage_drops++;
	}
}

void bridge_tap_readable(struct bridge *b)
{
	struct vif *v = b->vif;

	if (vif_dropping(v)) {
		tap_drop(b);
		return;
	}
	if (v->phase != VIF_UP)
		return;
	if (tap_pass(b) && v->phase == VIF_UP)
		plat_chan_notify(v->chan);
}

void bridge_chan_event(struct bridge *b)
{
	struct vif *v = b->vif;
	uint64_t written = b->to_tap;
	uint32_t unpub = 0;
	bool want;
	int i, r = 0;

	if (v->chan == NULL)
		return;
	/* Ack before looking at the rings, so that a notify sent while we
	 * read wakes the next poll (docs/platform.md). */
	plat_chan_ack(v->chan);
	b->rx_more = false;
	if (v->phase != VIF_UP)
		return;
	/* Room may have appeared: let the TAP be polled again; if not, the
	 * next reservation fails and asks again. */
	b->tx_blocked = false;
	for (i = 0; i < BATCH; i++) {
		const void *data;
		uint32_t len;
		uint8_t hdr[VIF_VNET_HDR_LEN];
		struct iovec iov[2];

		r = ring_peek(&v->rx, &data, &len);
		if (r <= 0)
			break;
		/* The release is private until the ring is published below,
		 * so the payload stays ours through the writev. */
		ring_release(&v->rx);
		if (len < VIF_VNET_HDR_LEN + VIF_ETH_HLEN) {
			b->malformed++;
			continue;
		}
		/* vif_frame_check reads the vnet header and len only. */
		memcpy(hdr, data, sizeof(hdr));
		if (vif_frame_check(hdr, len) != VIF_FRAME_OK) {
			b->malformed++;
			continue;
		}
		iov[0] =
		    (struct iovec){.iov_base = hdr, .iov_len = sizeof(hdr)};
		iov[1] =
		    (struct iovec){.iov_base = (uint8_t *)data + sizeof(hdr),
				   .iov_len = len - sizeof(hdr)};
		if (writev(b->tap, iov, 2) < 0)
			b->tap_errors++;
		else
			b->to_tap++;
		unpub += len;
		if (unpub >= RX_EARLY_BYTES) {
			unpub = 0;
			if (ring_consumer_needs_notify(&v->rx))
				plat_chan_notify(v->chan);
		}
	}
	if (r < 0) {
		vif_restart(v, "rx ring broken");
		return;
	}
	want = ring_consumer_needs_notify(&v->rx);
	/* What we wrote to the TAP was processed by the stack during the
	 * writes, so its answers (ACKs, replies the kernel makes itself)
	 * are queued on the TAP now: take them in this pass, and wake the
	 * backend once for both directions rather than twice. */
	if (b->to_tap != written && !b->tx_blocked) {
		want |= tap_pass(b);
		if (v->phase != VIF_UP)
			return; /* tx broke: restarted */
	}
	if (want)
		plat_chan_notify(v->chan);
	/* A full batch or a frame arriving during the re-check: come back
	 * without waiting for a notification that will not be sent. */
	if (i == BATCH || !ring_consumer_prepare_sleep(&v->rx))
		b->rx_more = true;
}
