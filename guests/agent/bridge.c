/*
 * Frames between tap0 and the VIF's rings, driven by main.c's poll()
 * loop.  TAP -> tx is zero-copy (read() straight into a reservation);
 * rx -> TAP copies each frame out first, because the backend can still
 * write to shared memory and the frame must be checked and written as
 * one consistent thing.  Notifications follow docs/ring.md: signal only a
 * peer that asked, sleep only on an empty (or full) ring.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "vif.h"

/* Frames per batch: bounds the time one direction holds the loop (and
 * the other direction) and amortises one notification check. */
#define BATCH 64

int bridge_init(struct bridge *b, int tap, struct vif *v)
{
	memset(b, 0, sizeof(*b));
	b->tap = tap;
	b->vif = v;
	b->buf = malloc(RING_FRAME_MAX);
	return b->buf != NULL ? 0 : -ENOMEM;
}

void bridge_reset(struct bridge *b)
{
	b->tx_blocked = false;
	/* A fresh rx must be looked at once: the backend notifies only a
	 * consumer that asked (prepare_sleep), and we have not yet. */
	b->rx_more = b->vif->phase == VIF_UP;
}

void bridge_tap_readable(struct bridge *b)
{
	struct vif *v = b->vif;
	bool full = false;
	int i;

	if (v->phase != VIF_UP)
		return;
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
			return;
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
	}
	if (ring_producer_needs_notify(&v->tx))
		plat_chan_notify(v->chan);
	/* Full: stop reading the TAP (its queue holds or drops, as a NIC's
	 * would) until the backend frees room and says so. */
	if (full && ring_producer_prepare_sleep(&v->tx, VIF_FRAME_MAX))
		b->tx_blocked = true;
}

void bridge_chan_event(struct bridge *b)
{
	struct vif *v = b->vif;
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
		enum vif_frame_err e;

		r = ring_peek(&v->rx, &data, &len);
		if (r <= 0)
			break;
		memcpy(b->buf, data, len);
		ring_release(&v->rx);
		e = vif_frame_check(b->buf, len);
		if (e != VIF_FRAME_OK) {
			b->malformed++;
			continue;
		}
		if (write(b->tap, b->buf, len) < 0)
			b->tap_errors++;
		else
			b->to_tap++;
	}
	if (r < 0) {
		vif_restart(v, "rx ring broken");
		return;
	}
	if (ring_consumer_needs_notify(&v->rx))
		plat_chan_notify(v->chan);
	/* A full batch or a frame arriving during the re-check: come back
	 * without waiting for a notification that will not be sent. */
	if (i == BATCH || !ring_consumer_prepare_sleep(&v->rx))
		b->rx_more = true;
}
