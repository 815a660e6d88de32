/*
 * The VIF frontend (docs/datapath.md, "The VIF"): the agent allocates the
 * share and the channel, formats tx, publishes; the backend maps, formats
 * rx and says Connected in server/apps/<self>/vif-state; then we attach
 * rx.  A backend that goes away (Closed, or anything but Connected once
 * connected) is dropped and the handshake starts again from allocation,
 * so that a restarted network server finds a fresh, published VIF.
 *
 * The backend is a domain, and a crashed domain is not restarted in place:
 * librettod makes a new network server with a new domid and names it in
 * net/backend (backend.c follows that node).  Then the connection with
 * the old one is dropped without waiting for it (it is dead) and the same
 * handshake is done with the new one, as netfront reconnects to a new
 * netback.  The time from the connection's loss to Connected again is
 * kept for backend.c to report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libretto/xs_paths.h>

#include "agent.h"
#include "platform_xs.h"
#include "vif.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Watches the backend's vif-state for us (token "vif").  Watches fire
 * once on registration too, which is harmless: every event is "re-read
 * the node".  The node need not exist: a new server's tree may come
 * after net/backend names it. */
static int watch_backend(struct vif *v)
{
	int n = snprintf(v->state_path, sizeof(v->state_path),
			 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS "/%u/%s",
			 v->backend, v->gx->domid, LT_XS_APP_VIF_STATE);

	if (n < 0 || (size_t)n >= sizeof(v->state_path)) {
		v->state_path[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!xs_watch(v->gx->h, v->state_path, "vif"))
		return -errno;
	return 0;
}

static void unwatch_backend(struct vif *v)
{
	/* Events of the old path still queued only make us re-read the
	 * new one. */
	if (v->state_path[0] != '\0')
		xs_unwatch(v->gx->h, v->state_path, "vif");
	v->state_path[0] = '\0';
}

int vif_init(struct vif *v, struct guest_xs *gx, unsigned backend)
{
	memset(v, 0, sizeof(*v));
	v->gx = gx;
	v->backend = backend;
	v->have_backend = true;
	v->phase = VIF_DOWN;
	return watch_backend(v);
}

int vif_chan_fd(const struct vif *v)
{
	return v->chan != NULL ? plat_chan_fd(v->chan) : -1;
}

static void vif_free(struct vif *v)
{
	/* Whatever ends a connection starts an outage: a backend that
	 * closed, vanished or was replaced, or a ring it broke. */
	if (v->phase == VIF_UP && v->lost_ns == 0)
		v->lost_ns = now_ns();
	/* Withdraw first: a reference must not stay published once the
	 * descriptor behind it may be reused (docs/platform.md). */
	if (v->share != NULL || v->chan != NULL) {
		int r = plat_xs_vif_withdraw(v->gx);

		if (r < 0)
			agent_log("vif: withdraw failed: %s\n", strerror(-r));
	}
	plat_shared_free(v->share);
	plat_chan_close(v->chan);
	v->share = NULL;
	v->chan = NULL;
	memset(&v->tx, 0, sizeof(v->tx));
	memset(&v->rx, 0, sizeof(v->rx));
	v->phase = VIF_DOWN;
}

int vif_start(struct vif *v)
{
	int r;

	if (v->phase == VIF_STOPPED || !v->have_backend)
		return 0; /* no one to share with yet: net/backend will say */
	r = plat_share_alloc(v->backend, VIF_PAGES, &v->share);
	if (r < 0) {
		agent_log("vif: cannot allocate %u pages for domain %u: %s\n",
			  VIF_PAGES, v->backend, strerror(-r));
		goto fail;
	}
	r = ring_init(&v->tx, vif_tx_region(plat_shared_addr(v->share)),
		      VIF_RING_REGION, VIF_RING_DATA, VIF_FRAME_MAX);
	if (r < 0) {
		agent_log("vif: ring_init: %s\n", strerror(-r));
		goto fail;
	}
	r = plat_chan_alloc_unbound(v->backend, &v->chan);
	if (r < 0) {
		agent_log("vif: cannot allocate a channel: %s\n", strerror(-r));
		goto fail;
	}
	r = plat_xs_vif_publish(v->gx, v->share, v->chan);
	if (r < 0) {
		agent_log("vif: cannot publish: %s\n", strerror(-r));
		goto fail;
	}
	v->phase = VIF_WAIT;
	agent_log("vif: published for backend domain %u, waiting for it\n",
		  v->backend);
	/* The backend may have said Connected before we looked. */
	vif_backend_changed(v);
	return 0;
fail:
	vif_free(v);
	return r;
}

/* The backend's state, Unknown when absent or garbled. */
static int backend_state(struct vif *v)
{
	unsigned len;
	char *s, *end;
	long st;

	if (v->state_path[0] == '\0')
		return VIF_STATE_UNKNOWN;
	s = xs_read(v->gx->h, XBT_NULL, v->state_path, &len);
	if (s == NULL)
		return VIF_STATE_UNKNOWN;
	st = strtol(s, &end, 10);
	if (end == s || *end != '\0' || st < 0 || st > VIF_STATE_CLOSED)
		st = VIF_STATE_UNKNOWN;
	free(s);
	return (int)st;
}

void vif_backend_changed(struct vif *v)
{
	int st = backend_state(v), r;

	switch (v->phase) {
	case VIF_WAIT:
		if (st != VIF_STATE_CONNECTED)
			return;
		/* Connected is written after rx is formatted; an rx not
		 * formatted yet (-EAGAIN) is a stale Connected of an earlier
		 * share, and the backend's next write wakes us again. */
		r = ring_attach(&v->rx,
				vif_rx_region(plat_shared_addr(v->share)),
				VIF_RING_REGION);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			vif_restart(v, "the backend formatted rx wrongly");
			return;
		}
		v->phase = VIF_UP;
		v->connects++;
		/* As netfront does once the backend is Connected. */
		plat_xs_vif_set_state(v->gx, XenbusStateConnected);
		agent_log("vif: connected to domain %u\n", v->backend);
		if (v->lost_ns != 0) {
			uint64_t now = now_ns();

			v->outage_ns = now - v->lost_ns;
			v->named_to_up_ns =
			    v->named_ns > v->lost_ns ? now - v->named_ns : 0;
			v->lost_ns = 0;
			v->reconnects++;
			v->report = true;
		}
		return;
	case VIF_UP:
		if (st != VIF_STATE_CONNECTED) {
			vif_restart(v, "the backend closed");
			return;
		}
		/* Connected written again: possibly a restarted server that
		 * mapped our live share and formatted rx afresh, which
		 * resets the event index we sleep on.  Look at rx now: a
		 * reset ring reads as broken (we restart the handshake), an
		 * intact one just gets our event index back. */
		v->kick = true;
		return;
	case VIF_DOWN:
		/* An earlier start failed: any sign of the backend is a
		 * reason to try again. */
		vif_start(v);
		return;
	case VIF_STOPPED:
		return;
	}
}

void vif_restart(struct vif *v, const char *why)
{
	if (v->phase == VIF_STOPPED)
		return;
	agent_log("vif: %s: reconnecting\n", why);
	vif_free(v);
	/* On failure the VIF stays down; the next backend event (or the
	 * periodic retry of main.c) tries again. */
	vif_start(v);
}

void vif_set_backend(struct vif *v, bool have, unsigned backend)
{
	int r;

	if (v->gx == NULL || v->phase == VIF_STOPPED)
		return;
	if (have == v->have_backend && (!have || backend == v->backend)) {
		/* A re-read: nothing new, but a start that failed for want
		 * of resources is worth another try. */
		if (have && v->phase == VIF_DOWN)
			vif_start(v);
		return;
	}
	if (have && v->have_backend)
		agent_log("vif: backend domain %u -> %u: reconnecting\n",
			  v->backend, backend);
	else if (have)
		agent_log("vif: backend domain %u named: connecting\n",
			  backend);
	else
		agent_log("vif: no backend (was domain %u): dropping the app's "
			  "frames until there is one\n",
			  v->backend);
	/* The old backend is dead or leaving: withdraw at once, without
	 * the Closing handshake it could no longer answer.  Our Closed
	 * also tells a backend that still lives to let go. */
	vif_free(v);
	unwatch_backend(v);
	v->have_backend = have;
	if (!have)
		return;
	v->backend = backend;
	v->named_ns = now_ns();
	r = watch_backend(v);
	if (r < 0)
		/* Not fatal: agent.c's timer re-reads the state while we wait,
		 * only more slowly than a watch would. */
		agent_log("vif: cannot watch domain %u's vif-state: %s\n",
			  backend, strerror(-r));
	vif_start(v);
}

bool vif_dropping(const struct vif *v)
{
	/* At boot the backend is coming (librettod started it before us),
	 * so the app's first frames (ARP, SYN) wait in the TAP's queue and
	 * go at Connected.  After a loss the wait has no known end: what
	 * the app sends then is dropped and counted, as by a NIC without
	 * link, not queued (up to 500 super-frames of stale data, which TCP
	 * sends again anyway) for a burst into the new backend. */
	return v->phase != VIF_UP && v->phase != VIF_STOPPED &&
	       (v->lost_ns != 0 || !v->have_backend);
}

void vif_stop(struct vif *v)
{
	if (v->gx == NULL || v->phase == VIF_STOPPED)
		return;
	vif_free(v);
	unwatch_backend(v);
	v->phase = VIF_STOPPED;
}
