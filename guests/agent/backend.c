/*
 * Following the network server to a new domain (docs/datapath.md, "A new
 * network server").  A crashed server domain is not restarted in place:
 * librettod makes a new one, with a new domid, and writes it in each
 * app's net/backend.  We watch that node and move the VIF (vif.c) to
 * whatever it names; the TAP, the app's addresses and routes, and with
 * them its TCP connections, stay as they are.  Then we say how long the
 * app was cut off, in guest/vif-reconnect-ms, and count the outages in
 * guest/vif-reconnects, for librettod and the tests to read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libretto/xs_paths.h>

#include "agent.h"

static int watch_path(struct guest_xs *gx, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", gx->base, LT_XS_NET_BACKEND);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int backend_init(struct guest_xs *gx)
{
	char path[160];
	int r = watch_path(gx, path, sizeof(path));

	if (r < 0)
		return r;
	/* The first event, on registration, re-reads what conf.c read:
	 * the same backend, nothing to do. */
	if (!xs_watch(gx->h, path, AGENT_BACKEND_TOKEN))
		return -errno;
	/* "0" says that this agent follows and counts; absent, that it
	 * does not (an older one). */
	if (guest_xs_write(gx, LT_XS_GUEST_VIF_RECONNECTS, "0") < 0)
		agent_log("cannot write %s: %s\n", LT_XS_GUEST_VIF_RECONNECTS,
			  strerror(errno));
	return 0;
}

void backend_changed(struct guest_xs *gx, struct vif *v)
{
	char path[160];
	unsigned len, domid = 0;
	char *s;
	bool have;

	if (watch_path(gx, path, sizeof(path)) < 0)
		return;
	s = xs_read(gx->h, XBT_NULL, path, &len);
	have = s != NULL && conf_parse_backend(s, gx->domid, &domid) == 0;
	/* Garbage is no backend either: nothing to connect to, and the
	 * next write (librettod's) is read again. */
	if (s != NULL && !have)
		agent_log("%s is not a backend domid: '%s'\n", path, s);
	free(s);
	vif_set_backend(v, have, domid);
}

struct reconnect_counters {
	unsigned count;
	uint64_t ms, drops;
};

static bool publish_body(struct guest_xs *gx, xs_transaction_t t, void *arg)
{
	const struct reconnect_counters *c = arg;
	const struct {
		const char *leaf;
		uint64_t v;
	} n[] = {
	    {LT_XS_GUEST_VIF_RECONNECT_MS, c->ms},
	    {LT_XS_GUEST_VIF_OUTAGE_DROPS, c->drops},
	    {LT_XS_GUEST_VIF_RECONNECTS, c->count},
	};

	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		char path[160], val[24];

		snprintf(path, sizeof(path), "%s/%s", gx->base, n[i].leaf);
		snprintf(val, sizeof(val), "%" PRIu64, n[i].v);
		if (!xs_write(gx->h, t, path, val, strlen(val)))
			return false;
	}
	return true;
}

/* guest/vif-reconnects, -reconnect-ms, -outage-drops in one transaction,
 * so that a reader of the counter finds the time of that very outage. */
static int publish(struct guest_xs *gx, unsigned count, uint64_t ms,
		   uint64_t drops)
{
	struct reconnect_counters c = {count, ms, drops};

	return guest_xs_transact(gx, publish_body, &c);
}

void backend_report(struct guest_xs *gx, struct vif *v, uint64_t drops)
{
	/* Rounded up: an outage is never reported as none. */
	uint64_t ms = (v->outage_ns + 999999) / 1000000;
	char named[64] = "";
	int r;

	if (!v->report)
		return;
	r = publish(gx, v->reconnects, ms, drops);
	if (r < 0) {
		agent_log("cannot write %s: %s (trying again)\n",
			  LT_XS_GUEST_VIF_RECONNECT_MS, strerror(-r));
		return;
	}
	v->report = false;
	if (v->named_to_up_ns != 0)
		snprintf(named, sizeof(named),
			 " (%.1f ms after net/backend named it)",
			 (double)v->named_to_up_ns / 1e6);
	agent_log("vif: reconnect %u to domain %u after %.1f ms without a "
		  "backend%s; %" PRIu64 " frames from the app dropped so far\n",
		  v->reconnects, v->backend, (double)v->outage_ns / 1e6, named,
		  drops);
}
