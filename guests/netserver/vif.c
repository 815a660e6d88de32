/*
 * The backend side of one VIF (docs/datapath.md, "The VIF"): map the
 * frontend's share, bind its channel, attach tx, format rx, and say
 * Connected in server/apps/<domid>/vif-state; tear down when the frontend
 * closes or republishes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libretto/xs_paths.h>

#include "netserver.h"
#include "platform_xs.h"

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

int ns_vif_put(struct ns_app *app, const void *frame, uint32_t len)
{
	struct ns_vif *v = &app->vif;
	int r;

	if (!v->connected)
		return -ENOTCONN;
	r = ring_enqueue(&v->rx, frame, len);
	if (r == 0) {
		v->rx_dirty = true;
		v->rx_unflushed += len;
		/* The ring holds only a few super-frames: hand each 1/8 of
		 * it over at once, so that the app drains it while we copy
		 * the next, rather than after a whole batch. */
		if (v->rx_unflushed >= VIF_RING_DATA / 8)
			ns_vif_flush(app);
	}
	return r;
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
