/*
 * A link's counters to xenstore (docs/datapath.md): guest/vf-stats/ for
 * the VF while the app uses it, guest/vif-stats/ for tap0.  One node per
 * counter, as the netserver writes server/apps/<domid>/stats/, and only
 * what changed: agent.c calls this once a second, and every write wakes
 * every watcher of the tree.
 */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"

void counters_init(struct counters_pub *p, const char *dir)
{
	p->dir = dir;
	counters_reset(p);
}

void counters_reset(struct counters_pub *p)
{
	/* Nothing written yet: the next publish writes every counter, zeros
	 * included, so that readers find them all. */
	memset(&p->written, 0xff, sizeof(p->written));
	p->warned = false;
}

static void put(struct guest_xs *gx, const char *dir, const char *name,
		uint64_t v, uint64_t *written)
{
	char leaf[96], val[24];

	if (v == *written)
		return;
	snprintf(leaf, sizeof(leaf), "%s/%s", dir, name);
	snprintf(val, sizeof(val), "%" PRIu64, v);
	if (guest_xs_write(gx, leaf, val) == 0)
		*written = v;
}

void counters_publish(struct guest_xs *gx, struct counters_pub *p,
		      const char *ifname)
{
	struct link_counters c, *w = &p->written;
	int idx = (int)if_nametoindex(ifname);
	int r = idx > 0 ? rtnl_link_counters(idx, &c) : -ENODEV;

	if (r < 0) {
		/* Once per link: this runs every second. */
		if (!p->warned)
			agent_log("%s: no counters: %s\n", ifname,
				  strerror(-r));
		p->warned = true;
		return;
	}
	put(gx, p->dir, "rx_packets", c.rx_packets, &w->rx_packets);
	put(gx, p->dir, "rx_bytes", c.rx_bytes, &w->rx_bytes);
	put(gx, p->dir, "tx_packets", c.tx_packets, &w->tx_packets);
	put(gx, p->dir, "tx_bytes", c.tx_bytes, &w->tx_bytes);
	put(gx, p->dir, "rx_dropped", c.rx_dropped, &w->rx_dropped);
	put(gx, p->dir, "tx_dropped", c.tx_dropped, &w->tx_dropped);
}

void counters_remove(struct guest_xs *gx, struct counters_pub *p)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", gx->base, p->dir);
	/* Absent already is fine: nothing to read stale counters from. */
	xs_rm(gx->h, XBT_NULL, path);
	counters_reset(p);
}
