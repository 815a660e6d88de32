/*
 * The backend side of one VIF (docs/datapath.md, "The VIF"): map the
 * frontend's share, bind its channel, attach tx, format rx, and say
 * Connected in server/apps/<domid>/vif-state; tear down when the frontend
 * closes or republishes.
 *
 * Frames for an app whose rx ring is full never wait on the NIC (one app
 * that stops reading would hold everyone's frames): they wait in a small
 * backlog of the app's own, and are dropped once that is full.  An app
 * whose ring takes nothing for NS_RX_STALL_MS is stalled, as netback
 * stalls a frontend that provides no rx slots: its backlog is dropped,
 * and so is every frame for it until its ring has room again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libretto/xs_paths.h>

#include "netserver.h"
#include "platform_xs.h"

static void rx_reset(struct ns_app *app);

static void write_state(struct guest_xs *gx, unsigned domid, int state)
{
	char leaf[96], v[12];

	snprintf(leaf, sizeof(leaf),
		 LT_XS_SERVER_APPS "/%u/" LT_XS_APP_VIF_STATE, domid);
	snprintf(v, sizeof(v), "%d", state);
	if (guest_xs_write(gx, leaf, v) < 0)
		fprintf(stderr, "libretto-netserver: app %u: writing %s: %s\n",
			domid, leaf, strerror(errno));
}

void ns_vif_disconnect(struct guest_xs *gx, struct ns_app *app, int state)
{
	struct ns_vif *v = &app->vif;

	if (v->connected) {
		plat_chan_close(v->chan);
		plat_shared_free(v->share);
		v->chan = NULL;
		v->share = NULL;
		v->connected = false;
		rx_reset(app);
		fprintf(stderr, "libretto-netserver: app %u: VIF down\n",
			app->domid);
	}
	if (state >= 0)
		write_state(gx, app->domid, state);
}

static int connect_vif(struct guest_xs *gx, struct ns_app *app,
		       const struct plat_vif_info *info)
{
	struct ns_vif *v = &app->vif;
	void *base;
	int r;

	snprintf(v->ring_ref, sizeof(v->ring_ref), "%s", info->ring_ref);
	snprintf(v->chan_ref, sizeof(v->chan_ref), "%s", info->event_channel);
	v->failed = true; /* until proven otherwise */
	if (info->ring_pages != VIF_PAGES)
		return -EMSGSIZE;
	r = plat_share_map(app->domid, info->ring_ref, VIF_PAGES, &v->share);
	if (r < 0)
		return r;
	r = plat_chan_bind(app->domid, info->event_channel, &v->chan);
	if (r < 0)
		goto fail_share;
	base = plat_shared_addr(v->share);
	r = ring_attach(&v->tx, vif_tx_region(base), VIF_RING_REGION);
	if (r < 0)
		goto fail_chan;
	r = ring_init(&v->rx, vif_rx_region(base), VIF_RING_REGION,
		      VIF_RING_DATA, VIF_FRAME_MAX);
	if (r < 0)
		goto fail_chan;
	v->connected = true;
	v->failed = false;
	v->rx_dirty = false;
	v->rx_unflushed = 0;
	rx_reset(app);
	(void)gx;
	return 0;
fail_chan:
	plat_chan_close(v->chan);
	v->chan = NULL;
fail_share:
	plat_shared_free(v->share);
	v->share = NULL;
	return r;
}

void ns_vif_sync(struct guest_xs *gx, struct ns_app *app)
{
	struct plat_vif_info info;
	struct ns_vif *v = &app->vif;
	int r;

	/* A direct app has no VIF; nor has an app in no known mode. */
	if (app->mode != NS_MODE_SERVER && app->mode != NS_MODE_DYNAMIC) {
		if (v->connected)
			ns_vif_disconnect(gx, app, VIF_STATE_CLOSED);
		return;
	}
	r = plat_xs_vif_read(gx->h, app->domid, &info);
	if (r < 0 || (info.state != XenbusStateInitialised &&
		      info.state != XenbusStateConnected)) {
		/* Withdrawn, closing, or not yet published. */
		if (v->connected)
			ns_vif_disconnect(gx, app, VIF_STATE_CLOSED);
		if (r == 0 || r == -ENOENT)
			v->failed = false;
		return;
	}
	if (strcmp(info.ring_ref, v->ring_ref) == 0 &&
	    strcmp(info.event_channel, v->chan_ref) == 0 &&
	    (v->connected || v->failed))
		return;	  /* nothing new */
	if (v->connected) /* republished: a restarted frontend */
		ns_vif_disconnect(gx, app, -1);
	r = connect_vif(gx, app, &info);
	if (r < 0) {
		fprintf(stderr, "libretto-netserver: app %u: VIF: %s\n",
			app->domid, strerror(-r));
		write_state(gx, app->domid, VIF_STATE_CLOSED);
		return;
	}
	write_state(gx, app->domid, VIF_STATE_CONNECTED);
	fprintf(stderr, "libretto-netserver: app %u: VIF connected\n",
		app->domid);
}

/* ---- rx: frames for the app ---- */

uint64_t ns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void rxq_free(struct ns_vif *v)
{
	free(v->rxq_mem);
	v->rxq_mem = NULL;
	v->rxq_n = 0;
}

/* Forgets every rx wait: the VIF goes down, or up afresh. */
static void rx_reset(struct ns_app *app)
{
	struct ns_vif *v = &app->vif;

	rxq_free(v);
	v->rx_wait_len = 0;
	v->rx_full_since = 0;
	v->rx_stalled = false;
	app->st.rx_stalled = 0;
}

static void rx_resume(struct ns_app *app)
{
	app->vif.rx_stalled = false;
	app->vif.rx_full_since = 0;
	app->st.rx_stalled = 0;
	fprintf(stderr,
		"libretto-netserver: app %u: rx ring drained: resumed\n",
		app->domid);
}

/* The ring took a frame: counted, and the app is making progress. */
static void rx_taken(struct ns_app *app, uint32_t len)
{
	struct ns_vif *v = &app->vif;

	app->st.to_app_packets++;
	app->st.to_app_bytes += len - VIF_VNET_HDR_LEN;
	v->rx_dirty = true;
	v->rx_unflushed += len;
	v->rx_full_since = 0;
	if (v->rx_stalled)
		rx_resume(app);
	/* The ring holds only a few super-frames: hand each 1/8 of it over
	 * at once, so that the app drains it while we copy the next,
	 * rather than after a whole batch. */
	if (v->rx_unflushed >= VIF_RING_DATA / 8)
		ns_vif_flush(app);
}

static void rx_dropped(struct ns_app *app, uint64_t n)
{
	app->st.drops += n;
	app->st.rx_ring_full_drops += n;
}

/* Appends a frame to the backlog.  0, or -ENOBUFS when it is full (or
 * cannot be had). */
static int rxq_push(struct ns_vif *v, const void *frame, uint32_t len)
{
	if (v->rxq_mem == NULL) {
		size_t sz = ring_region_size(NS_RXQ_DATA);

		if (posix_memalign(&v->rxq_mem, RING_HDR_SIZE, sz) != 0) {
			v->rxq_mem = NULL;
			return -ENOBUFS;
		}
		if (ring_init(&v->rxq_in, v->rxq_mem, sz, NS_RXQ_DATA,
			      VIF_FRAME_MAX) < 0 ||
		    ring_attach(&v->rxq_out, v->rxq_mem, sz) < 0) {
			rxq_free(v);
			return -ENOBUFS;
		}
	}
	if (ring_enqueue(&v->rxq_in, frame, len) < 0)
		return -ENOBUFS;
	v->rxq_n++;
	return 0;
}

/* Moves backlog frames into rx, in order, while they fit. */
static void rxq_move(struct ns_app *app)
{
	struct ns_vif *v = &app->vif;
	bool released = false;

	while (v->rxq_n != 0) {
		const void *p;
		uint32_t len;
		int r;

		if (ring_peek(&v->rxq_out, &p, &len) <= 0) {
			rxq_free(v); /* our own ring: cannot happen */
			break;
		}
		r = ring_enqueue(&v->rx, p, len);
		if (r == -ENOBUFS) {
			v->rx_wait_len = len;
			break;
		}
		ring_release(&v->rxq_out);
		released = true;
		v->rxq_n--;
		if (r == 0)
			rx_taken(app, len);
		else
			app->st.drops++; /* the app broke its ring */
	}
	if (released && v->rxq_mem != NULL)
		ring_consumer_publish(&v->rxq_out);
	/* Drained: give the memory back, or every app that ever had a full
	 * ring would keep a backlog's worth of ours for its whole life. */
	if (v->rxq_n == 0 && v->rxq_mem != NULL)
		rxq_free(v);
}

int ns_vif_put(struct ns_app *app, const void *frame, uint32_t len)
{
	struct ns_vif *v = &app->vif;
	int r;

	if (!v->connected) {
		app->st.drops++;
		return -ENOTCONN;
	}
	/* Stalled: nothing is offered until the ring has room for the
	 * frame it had none for (ns_vif_rx_poll), not even a small frame
	 * that would fit in what is left of it. */
	if (v->rx_stalled) {
		rx_dropped(app, 1);
		return -ENOBUFS;
	}
	if (v->rxq_n != 0)
		rxq_move(app);
	if (v->rxq_n == 0) {
		r = ring_enqueue(&v->rx, frame, len);
		if (r == 0) {
			rx_taken(app, len);
			return 0;
		}
		if (r != -ENOBUFS) { /* refused, or the app broke the ring */
			app->st.drops++;
			return r;
		}
		v->rx_wait_len = len;
	}
	/* No room: the frame waits behind the others, never the NIC. */
	if (rxq_push(v, frame, len) < 0) {
		rx_dropped(app, 1);
		return -ENOBUFS;
	}
	return 0;
}

void ns_vif_flush(struct ns_app *app)
{
	struct ns_vif *v = &app->vif;

	if (!v->connected || !v->rx_dirty)
		return;
	v->rx_dirty = false;
	v->rx_unflushed = 0;
	if (ring_producer_needs_notify(&v->rx))
		plat_chan_notify(v->chan);
}

static void rx_stall(struct ns_app *app)
{
	struct ns_vif *v = &app->vif;

	/* What waits is stale by now, and an app that does not read must
	 * not hold memory of ours either. */
	rx_dropped(app, v->rxq_n);
	rxq_free(v);
	v->rx_stalled = true;
	app->st.rx_stalled = 1;
	app->st.rx_stalls++;
	fprintf(stderr,
		"libretto-netserver: app %u: rx ring full for %u ms: stalled, "
		"its frames dropped until it drains\n",
		app->domid, NS_RX_STALL_MS);
}

int ns_vif_rx_poll(struct ns_app *app, uint64_t now)
{
	struct ns_vif *v = &app->vif;

	if (!v->connected || (v->rxq_n == 0 && !v->rx_stalled))
		return -1;
	bool armed = false;

	/* Twice at most: once more if room appeared as we asked for it. */
	for (int i = 0; i < 2 && !armed; i++) {
		rxq_move(app);
		/* Publishes what moved: the app must see it before it is
		 * asked for room (and prepare_sleep insists). */
		ns_vif_flush(app);
		if (v->rxq_n == 0 && !v->rx_stalled)
			return -1;
		armed = ring_producer_prepare_sleep(&v->rx, v->rx_wait_len);
		if (armed)
			break; /* the app notifies us once there is room */
		if (v->rxq_n == 0) {
			/* Stalled, and room for the frame it had none for:
			 * it drains again, the next frame goes in. */
			rx_resume(app);
			return -1;
		}
	}
	if (v->rx_stalled)
		return -1;
	/* Room appeared both times we asked: the app may have passed the
	 * point where it would notify us, so look again at once. */
	if (!armed)
		return 0;
	if (v->rx_full_since == 0)
		v->rx_full_since = now;
	if (now - v->rx_full_since >= NS_RX_STALL_MS) {
		rx_stall(app);
		return -1;
	}
	return (int)(v->rx_full_since + NS_RX_STALL_MS - now);
}
