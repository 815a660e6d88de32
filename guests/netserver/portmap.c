/* The portmap of the server IP: port -> owning app, O(1) per frame. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libretto/xs_paths.h>

#include "netserver.h"

void pm_clear_explicit(struct portmap *pm)
{
	memset(pm->explicit, 0, sizeof(pm->explicit));
}

void pm_set_explicit(struct portmap *pm, int proto, uint16_t port,
		     uint16_t domid)
{
	pm->explicit[proto][port] = domid;
}

void pm_rebuild(struct portmap *pm, const struct ns_apps *apps)
{
	memcpy(pm->owner, pm->explicit, sizeof(pm->owner));
	for (unsigned i = 0; i < apps->n; i++) {
		const struct ns_app *a = apps->v[i];

		if (a->mode != NS_MODE_SERVER || a->eph_lo == 0)
			continue;
		/* Replies to an app's outgoing connections come back to its
		 * ephemeral ports, for TCP and UDP alike; the range wins
		 * over any entry, so that a claim in it (librettod refuses
		 * them) could never take another app's replies. */
		for (unsigned p = a->eph_lo; p <= a->eph_hi; p++) {
			pm->owner[PM_TCP][p] = a->domid;
			pm->owner[PM_UDP][p] = a->domid;
		}
	}
}

static int read_proto(struct portmap *pm, struct guest_xs *gx, int proto,
		      const char *name)
{
	char dir[192], path[224];
	unsigned n;
	char **ents;

	snprintf(dir, sizeof(dir), "%s/" LT_XS_SERVER_PORTMAP "/%s", gx->base,
		 name);
	ents = xs_directory(gx->h, XBT_NULL, dir, &n);
	if (ents == NULL)
		return errno == ENOENT ? 0 : -errno;
	for (unsigned i = 0; i < n; i++) {
		char *end, *val;
		unsigned len;
		unsigned long port = strtoul(ents[i], &end, 10), dom;

		if (*end != '\0' || port == 0 || port > 65535)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]);
		val = xs_read(gx->h, XBT_NULL, path, &len);
		if (val == NULL)
			continue; /* removed meanwhile: the next event says */
		dom = strtoul(val, &end, 10);
		if (*end == '\0' && dom > 0 && dom < NS_DOMID_MAX)
			pm->explicit[proto][port] = (uint16_t)dom;
		free(val);
	}
	free(ents);
	return 0;
}

int pm_read_xs(struct portmap *pm, struct guest_xs *gx)
{
	int r;

	pm_clear_explicit(pm);
	r = read_proto(pm, gx, PM_TCP, "tcp");
	if (r == 0)
		r = read_proto(pm, gx, PM_UDP, "udp");
	return r;
}
