/*
 * Counters to xenstore (docs/datapath.md): server/apps/<domid>/stats/ and
 * server/stats/.  Only what changed is written, and main.c calls this at
 * most once a second: xenstore is a control channel, and every write
 * wakes every watcher.
 */
#include <inttypes.h>
#include <stddef.h>
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

/* The leaves written, one per counter: a new counter is one line here. */
struct counter {
	const char *name;
	size_t offset;
};

#define PF_COUNTER(f)                                                          \
	{                                                                      \
#f, offsetof(struct ns_pf_stats, f)                            \
	}
static const struct counter pf_counters[] = {
    PF_COUNTER(rx_packets), PF_COUNTER(rx_bytes), PF_COUNTER(tx_packets),
    PF_COUNTER(tx_bytes),   PF_COUNTER(no_owner), PF_COUNTER(foreign),
    PF_COUNTER(spoof_arp),
};

#define APP_COUNTER(f)                                                         \
	{                                                                      \
#f, offsetof(struct ns_app_stats, f)                           \
	}
static const struct counter app_counters[] = {
    APP_COUNTER(to_app_packets),
    APP_COUNTER(to_app_bytes),
    APP_COUNTER(from_app_packets),
    APP_COUNTER(from_app_bytes),
    APP_COUNTER(drops),
    APP_COUNTER(malformed),
    APP_COUNTER(rx_ring_full_drops),
    APP_COUNTER(rx_stalled),
    APP_COUNTER(rx_stalls),
    /* Refused by the source checks (forward.c). */
    APP_COUNTER(spoof_mac),
    APP_COUNTER(spoof_ip),
    APP_COUNTER(spoof_port),
    APP_COUNTER(spoof_arp),
    APP_COUNTER(bad_ethertype),
};

/* Every field of the structs is a counter, and every counter is written. */
_Static_assert(sizeof(pf_counters) / sizeof(pf_counters[0]) *
		       sizeof(uint64_t) ==
		   sizeof(struct ns_pf_stats),
	       "a PF counter without its leaf");
_Static_assert(sizeof(app_counters) / sizeof(app_counters[0]) *
		       sizeof(uint64_t) ==
		   sizeof(struct ns_app_stats),
	       "an app counter without its leaf");

static void put_all(struct guest_xs *gx, const char *dir,
		    const struct counter *c, size_t n, const void *now,
		    void *written)
{
	for (size_t i = 0; i < n; i++)
		put(gx, dir, c[i].name,
		    *(const uint64_t *)((const char *)now + c[i].offset),
		    (uint64_t *)((char *)written + c[i].offset));
}

bool stats_flush(struct guest_xs *gx, struct ns_apps *apps,
		 const struct ns_pf_stats *pf, struct ns_pf_stats *pf_written)
{
	if (!stats_dirty(apps, pf, pf_written))
		return false;
	put_all(gx, LT_XS_SERVER_STATS, pf_counters,
		sizeof(pf_counters) / sizeof(pf_counters[0]), pf, pf_written);
	for (unsigned i = 0; i < apps->n; i++) {
		struct ns_app *a = apps->v[i];
		char dir[96];

		snprintf(dir, sizeof(dir),
			 LT_XS_SERVER_APPS "/%u/" LT_XS_APP_STATS, a->domid);
		put_all(gx, dir, app_counters,
			sizeof(app_counters) / sizeof(app_counters[0]), &a->st,
			&a->st_written);
	}
	return true;
}
