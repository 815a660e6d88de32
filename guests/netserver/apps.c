/* The app table, read from server/apps/<domid>/ (written by librettod). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libretto/xs_paths.h>

#include "netserver.h"

struct ns_app *apps_find(const struct ns_apps *a, unsigned domid)
{
	return domid < NS_DOMID_MAX ? a->by_domid[domid] : NULL;
}

struct ns_app *apps_get(struct ns_apps *a, unsigned domid)
{
	struct ns_app *app;

	if (domid == 0 || domid >= NS_DOMID_MAX)
		return NULL;
	if (a->by_domid[domid] != NULL)
		return a->by_domid[domid];
	if (a->n == NS_APPS_MAX)
		return NULL;
	app = calloc(1, sizeof(*app));
	if (app == NULL)
		return NULL;
	app->domid = (uint16_t)domid;
	app->acked = ACKED_NONE;
	/* Nothing written yet: the first flush writes every counter, zeros
	 * included, so that readers find them all. */
	memset(&app->st_written, 0xff, sizeof(app->st_written));
	a->v[a->n++] = app;
	a->by_domid[domid] = app;
	return app;
}

void apps_remove(struct ns_apps *a, unsigned domid)
{
	struct ns_app *app = apps_find(a, domid);

	if (app == NULL)
		return;
	for (unsigned i = 0; i < a->n; i++) {
		if (a->v[i] == app) {
			a->v[i] = a->v[--a->n];
			break;
		}
	}
	a->by_domid[domid] = NULL;
	free(app);
}

bool app_is_dedicated(const struct ns_app *app)
{
	return (app->mode == NS_MODE_DYNAMIC || app->mode == NS_MODE_DIRECT) &&
	       app->active && app->has_mac;
}

struct ns_app *apps_by_mac(const struct ns_apps *a, const uint8_t mac[6])
{
	/* Linear: a server carries a handful of dedicated-IP apps, and the
	 * scan is of a few cache lines. */
	for (unsigned i = 0; i < a->n; i++)
		if (app_is_dedicated(a->v[i]) &&
		    memcmp(a->v[i]->mac, mac, 6) == 0)
			return a->v[i];
	return NULL;
}

int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	int n = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &n) != 6 ||
	    s[n] != '\0' || n != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = a.s_addr;
	return 0;
}

int parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned l, h;
	int n = 0;

	if (sscanf(s, "%5u-%5u%n", &l, &h, &n) != 2 || s[n] != '\0' || l == 0 ||
	    l > h || h > 65535)
		return -EINVAL;
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

int parse_acked(const char *s)
{
	if (strcmp(s, "0") == 0)
		return 0;
	if (strcmp(s, "1") == 0)
		return 1;
	return ACKED_NONE;
}

bool app_needs_ack(const struct ns_app *app)
{
	return app->acked != (app->active ? 1 : 0);
}

enum ns_mode parse_mode(const char *s)
{
	if (strcmp(s, "server") == 0)
		return NS_MODE_SERVER;
	if (strcmp(s, "dynamic") == 0)
		return NS_MODE_DYNAMIC;
	if (strcmp(s, "direct") == 0)
		return NS_MODE_DIRECT;
	return NS_MODE_NONE;
}

/* server/apps/<domid>/<leaf>, or NULL when missing (caller frees). */
static char *read_leaf(struct guest_xs *gx, unsigned domid, const char *leaf)
{
	char path[224];
	unsigned len;

	snprintf(path, sizeof(path), "%s/" LT_XS_SERVER_APPS "/%u/%s", gx->base,
		 domid, leaf);
	return xs_read(gx->h, XBT_NULL, path, &len);
}

static void read_app(struct guest_xs *gx, struct ns_app *app)
{
	char *v;

	/* Every field is re-read on every event: a watch only says that
	 * something below changed, in no particular order.  A missing or
	 * malformed field reads as "none", which forwards nothing. */
	v = read_leaf(gx, app->domid, LT_XS_APP_MODE);
	app->mode = v ? parse_mode(v) : NS_MODE_NONE;
	free(v);
	v = read_leaf(gx, app->domid, LT_XS_APP_IP);
	if (v == NULL || parse_ip(v, &app->ip) < 0)
		app->ip = 0;
	free(v);
	v = read_leaf(gx, app->domid, LT_XS_APP_MAC);
	app->has_mac = v != NULL && parse_mac(v, app->mac) == 0;
	free(v);
	/* active defaults to on: a dedicated-IP app is forwarded from its
	 * connection until librettod switches it off (docs/datapath.md). */
	v = read_leaf(gx, app->domid, LT_XS_APP_ACTIVE);
	app->active = v == NULL || strcmp(v, "0") != 0;
	free(v);
	/* Re-read rather than remembered: librettod may remove it to wait
	 * for a fresh answer to the same value. */
	v = read_leaf(gx, app->domid, LT_XS_APP_ACKED);
	app->acked = v ? parse_acked(v) : ACKED_NONE;
	free(v);
	v = read_leaf(gx, app->domid, LT_XS_APP_EPHEMERAL);
	if (v == NULL || parse_range(v, &app->eph_lo, &app->eph_hi) < 0)
		app->eph_lo = app->eph_hi = 0;
	free(v);
}

int apps_read_xs(struct ns_apps *a, struct guest_xs *gx,
		 void (*gone)(struct ns_app *, void *), void *arg)
{
	char dir[192];
	unsigned n = 0;
	char **ents;

	snprintf(dir, sizeof(dir), "%s/" LT_XS_SERVER_APPS, gx->base);
	ents = xs_directory(gx->h, XBT_NULL, dir, &n);
	if (ents == NULL && errno != ENOENT)
		return -errno;
	for (unsigned i = 0; i < a->n; i++)
		a->v[i]->seen = false;
	for (unsigned i = 0; i < n; i++) {
		char *end;
		unsigned long d = strtoul(ents[i], &end, 10);
		struct ns_app *app;

		if (*end != '\0' || d == 0 || d >= NS_DOMID_MAX)
			continue;
		/* No mode: not (or no longer) an app librettod describes;
		 * perhaps only our own stats written after its removal. */
		char *mode = read_leaf(gx, (unsigned)d, LT_XS_APP_MODE);
		if (mode == NULL)
			continue;
		free(mode);
		app = apps_get(a, (unsigned)d);
		if (app == NULL)
			continue;
		app->seen = true;
		read_app(gx, app);
	}
	free(ents);
	for (unsigned i = 0; i < a->n;) {
		struct ns_app *app = a->v[i];

		if (app->seen) {
			i++;
			continue;
		}
		if (gone != NULL)
			gone(app, arg);
		apps_remove(a, app->domid); /* moves the last into slot i */
	}
	return 0;
}

void apps_ack(struct ns_apps *a, struct guest_xs *gx)
{
	for (unsigned i = 0; i < a->n; i++) {
		struct ns_app *app = a->v[i];
		const char *v = app->active ? "1" : "0";
		char leaf[96];

		if (!app_needs_ack(app))
			continue;
		snprintf(leaf, sizeof(leaf),
			 LT_XS_SERVER_APPS "/%u/" LT_XS_APP_ACKED, app->domid);
		/* A failed write is retried by the next refresh; librettod
		 * times the step out meanwhile. */
		if (guest_xs_write(gx, leaf, v) < 0) {
			fprintf(stderr,
				"libretto-netserver: app %u: writing %s: %s\n",
				app->domid, leaf, strerror(errno));
			continue;
		}
		app->acked = app->active ? 1 : 0;
		fprintf(stderr,
			"libretto-netserver: app %u: active=%s in force, "
			"acked\n",
			app->domid, v);
	}
}
