/*
 * Counters to xenstore (docs/datapath.md): server/apps/<domid>/stats/ and
 * server/stats/.  Only what changed is written, and main.c calls this at
 * most once a second: xenstore is a control channel, and every write
 * wakes every watcher.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libretto/xs_paths.h>

#include "netserver.h"

static void put(struct guest_xs *gx, const char *dir, const char *name,
		uint64_t v, uint64_t *written)
{
	char leaf[160], val[24];

	if (v == *written)
		return;
	snprintf(leaf, sizeof(leaf), "%s/%s", dir, name);
	snprintf(val, sizeof(val), "%" PRIu64, v);
	if (guest_xs_write(gx, leaf, val) == 0)
		*written = v;
}

bool stats_dirty(const struct ns_apps *apps, const struct ns_pf_stats *pf,
		 const struct ns_pf_stats *pf_written)
{
	if (memcmp(pf, pf_written, sizeof(*pf)) != 0)
		return true;
	for (unsigned i = 0; i < apps->n; i++)
		if (memcmp(&apps->v[i]->st, &apps->v[i]->st_written,
			   sizeof(apps->v[i]->st)) != 0)
			return true;
	return false;
}

bool stats_flush(struct guest_xs *gx, struct ns_apps *apps,
		 const struct ns_pf_stats *pf, struct ns_pf_stats *pf_written)
{
	bool any = stats_dirty(apps, pf, pf_written);
	const char *d = LT_XS_SERVER_STATS;

	if (!any)
		return false;
	put(gx, d, "rx_packets", pf->rx_packets, &pf_written->rx_packets);
	put(gx, d, "rx_bytes", pf->rx_bytes, &pf_written->rx_bytes);
	put(gx, d, "tx_packets", pf->tx_packets, &pf_written->tx_packets);
	put(gx, d, "tx_bytes", pf->tx_bytes, &pf_written->tx_bytes);
	put(gx, d, "no_owner", pf->no_owner, &pf_written->no_owner);
	put(gx, d, "foreign", pf->foreign, &pf_written->foreign);
	put(gx, d, "spoof_arp", pf->spoof_arp, &pf_written->spoof_arp);
	for (unsigned i = 0; i < apps->n; i++) {
		struct ns_app *a = apps->v[i];
		struct ns_app_stats *s = &a->st, *w = &a->st_written;
		char dir[96];

		snprintf(dir, sizeof(dir),
			 LT_XS_SERVER_APPS "/%u/" LT_XS_APP_STATS, a->domid);
		put(gx, dir, "to_app_packets", s->to_app_packets,
		    &w->to_app_packets);
		put(gx, dir, "to_app_bytes", s->to_app_bytes, &w->to_app_bytes);
		put(gx, dir, "from_app_packets", s->from_app_packets,
		    &w->from_app_packets);
		put(gx, dir, "from_app_bytes", s->from_app_bytes,
		    &w->from_app_bytes);
		put(gx, dir, "drops", s->drops, &w->drops);
		put(gx, dir, "malformed", s->malformed, &w->malformed);
		put(gx, dir, "rx_ring_full_drops", s->rx_ring_full_drops,
		    &w->rx_ring_full_drops);
		put(gx, dir, "rx_stalled", s->rx_stalled, &w->rx_stalled);
		put(gx, dir, "rx_stalls", s->rx_stalls, &w->rx_stalls);
		/* Refused by the source checks (forward.c). */
		put(gx, dir, "spoof_mac", s->spoof_mac, &w->spoof_mac);
		put(gx, dir, "spoof_ip", s->spoof_ip, &w->spoof_ip);
		put(gx, dir, "spoof_port", s->spoof_port, &w->spoof_port);
		put(gx, dir, "spoof_arp", s->spoof_arp, &w->spoof_arp);
		put(gx, dir, "bad_ethertype", s->bad_ethertype,
		    &w->bad_ethertype);
	}
	return true;
}
