/*
 * Unit tests of the network server's rule for an app that does not drain
 * (docs/datapath.md, "An app that does not drain"; guests/netserver/
 * vif.c): frames for a full rx ring wait in the app's backlog, in order,
 * and are dropped and counted once that is full; after NS_RX_STALL_MS
 * without progress the app is stalled (backlog dropped, every frame
 * dropped, even one that would fit), and it is resumed once its ring has
 * room for the frame it had none for.  The app's side of the ring is
 * played here with the ring library; the channel is a real one.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netserver.h"

#define BIG 8000u

struct rig {
	struct ns_app app;
	void *region;
	struct ring cons; /* the app's end of rx */
};

static void rig_up(struct rig *g)
{
	struct ns_vif *v = &g->app.vif;

	memset(g, 0, sizeof(*g));
	g->app.domid = 7;
	CHECK(posix_memalign(&g->region, 4096, VIF_RING_REGION) == 0);
	CHECK(ring_init(&v->rx, g->region, VIF_RING_REGION, VIF_RING_DATA,
			VIF_FRAME_MAX) == 0);
	CHECK(ring_attach(&g->cons, g->region, VIF_RING_REGION) == 0);
	CHECK(plat_chan_alloc_unbound(7, &v->chan) == 0);
	v->connected = true;
}

static void rig_down(struct rig *g)
{
	ns_vif_disconnect(NULL, &g->app, -1); /* frees the backlog too */
	CHECK(g->app.vif.rxq_mem == NULL && g->app.vif.rxq_n == 0);
	free(g->region);
}

/* A frame of len bytes whose first 4 payload bytes say seq. */
static int put(struct rig *g, uint32_t seq, uint32_t len)
{
	static uint8_t f[BIG];

	memset(f, 0, sizeof(f));
	memcpy(f + VIF_VNET_HDR_LEN + VIF_ETH_HLEN, &seq, sizeof(seq));
	return ns_vif_put(&g->app, f, len);
}

/* The app takes one frame: its seq, or -1 if the ring is empty. */
static long take(struct rig *g)
{
	static uint8_t buf[VIF_FRAME_MAX];
	uint32_t seq;
	int n = ring_dequeue(&g->cons, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	memcpy(&seq, buf + VIF_VNET_HDR_LEN + VIF_ETH_HLEN, sizeof(seq));
	return seq;
}

/* Fills ring and backlog with BIG frames until one is dropped; returns
 * how many were taken (ring + backlog). */
static uint32_t fill(struct rig *g)
{
	uint32_t n = 0;

	while (put(g, n, BIG) == 0)
		n++;
	return n;
}

static void test_backlog_in_order(void)
{
	struct rig g;
	uint32_t taken, got = 0;
	long seq;

	rig_up(&g);
	taken = fill(&g);
	/* The ring's 1 MiB and the backlog's 512 KiB: about 190 frames. */
	CHECK(taken > VIF_RING_DATA / (BIG + 8) + 20);
	CHECK(g.app.vif.rxq_n > 20);
	CHECK(g.app.st.to_app_packets + g.app.vif.rxq_n == taken);
	CHECK(g.app.st.rx_ring_full_drops == 1 && g.app.st.drops == 1);
	/* The app drains, the server moves the backlog in at each round:
	 * every frame taken arrives once, in order. */
	for (int round = 0; round < 1000 && got < taken; round++) {
		while ((seq = take(&g)) >= 0) {
			CHECK(seq == (long)got);
			got++;
		}
		ns_vif_rx_poll(&g.app, 1000 + (uint64_t)round);
	}
	CHECK(got == taken);
	CHECK(g.app.vif.rxq_n == 0 && !g.app.vif.rx_stalled);
	CHECK(g.app.st.to_app_packets == taken);
	/* A frame now goes straight in. */
	CHECK(put(&g, 99999, 100) == 0 && take(&g) == 99999);
	rig_down(&g);
}

static void test_stall_and_resume(void)
{
	struct rig g;
	uint64_t t0 = 50000, drops;
	uint32_t waiting;

	rig_up(&g);
	fill(&g);
	waiting = g.app.vif.rxq_n;
	/* The deadline runs from the first round that finds frames
	 * waiting, and only progress resets it. */
	CHECK(ns_vif_rx_poll(&g.app, t0) == (int)NS_RX_STALL_MS);
	CHECK(ns_vif_rx_poll(&g.app, t0 + NS_RX_STALL_MS - 1) == 1);
	CHECK(!g.app.vif.rx_stalled && g.app.st.rx_stalled == 0);
	drops = g.app.st.rx_ring_full_drops;
	CHECK(ns_vif_rx_poll(&g.app, t0 + NS_RX_STALL_MS) == -1);
	CHECK(g.app.vif.rx_stalled && g.app.st.rx_stalled == 1);
	CHECK(g.app.st.rx_stalls == 1);
	/* The backlog is dropped, counted, and its memory given back. */
	CHECK(g.app.vif.rxq_n == 0 && g.app.vif.rxq_mem == NULL);
	CHECK(g.app.st.rx_ring_full_drops == drops + waiting);
	CHECK(g.app.st.drops == g.app.st.rx_ring_full_drops);
	/* Stalled: even a frame that fits what is left is dropped. */
	CHECK(put(&g, 1, 60) == -ENOBUFS);
	CHECK(g.app.st.rx_ring_full_drops == drops + waiting + 1);
	CHECK(ns_vif_rx_poll(&g.app, t0 + 5 * NS_RX_STALL_MS) == -1);
	CHECK(g.app.vif.rx_stalled);
	/* The app drains: resumed at the next round, frames flow again. */
	CHECK(take(&g) == 0);
	CHECK(ns_vif_rx_poll(&g.app, t0 + 6 * NS_RX_STALL_MS) == -1);
	CHECK(!g.app.vif.rx_stalled && g.app.st.rx_stalled == 0);
	CHECK(g.app.st.rx_stalls == 1);
	CHECK(put(&g, 2, BIG) == 0);
	CHECK(g.app.vif.rxq_n == 0);
	rig_down(&g);
}

static void test_progress_is_not_a_stall(void)
{
	struct rig g;
	uint64_t t = 90000;

	rig_up(&g);
	fill(&g);
	/* A slow reader: one frame per 900 ms, 5 s long.  It is never
	 * stalled, and nothing it was sent is dropped but the first
	 * frame fill() could not place. */
	CHECK(ns_vif_rx_poll(&g.app, t) > 0);
	for (int i = 0; i < 6; i++) {
		t += 900;
		CHECK(take(&g) >= 0);
		CHECK(ns_vif_rx_poll(&g.app, t) > 0);
		CHECK(!g.app.vif.rx_stalled);
	}
	CHECK(g.app.st.rx_stalls == 0 && g.app.st.rx_ring_full_drops == 1);
	rig_down(&g);
}

static void test_gone_vif(void)
{
	struct rig g;

	rig_up(&g);
	ns_vif_disconnect(NULL, &g.app, -1);
	CHECK(put(&g, 1, 100) == -ENOTCONN && g.app.st.drops == 1);
	CHECK(g.app.st.rx_ring_full_drops == 0);
	CHECK(ns_vif_rx_poll(&g.app, 1) == -1);
	free(g.region);
}

int main(void)
{
	test_backlog_in_order();
	test_stall_and_resume();
	test_progress_is_not_a_stall();
	test_gone_vif();
	return check_summary("rx_stall_unit");
}
