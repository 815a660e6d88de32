#include "xs_layout.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "guest_input.h"
#include "log.h"
#include "mac.h"
#include "ports.h"
#include "xs.h"
#include "xs_perms.h"
#include <libretto/protocol.h>
#include <libretto/version.h>
#include <libretto/xs_paths.h>

#define PATH_LEN 256

/*
 * xenstore path elements allow only [A-Za-z0-9_@-]: an address becomes
 * 10_77_0_100 below pool/ip (docs/xenstore.md).
 */
static void addr_element(struct in_addr a, char out[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
	for (char *p = out; *p; p++)
		if (*p == '.')
			*p = '_';
}

static int fail(char **err, const char *what)
{
	if (asprintf(err, "xenstore: %s: %s", what, strerror(errno)) < 0)
		*err = NULL;
	return -1;
}

int xs_layout_daemon_write(struct lt_xs *xs, const char *backend, char **err)
{
	if (lt_xs_printf(xs, XBT_NULL, LT_XS_DAEMON_PID, "%d", getpid()) < 0 ||
	    lt_xs_printf(xs, XBT_NULL, LT_XS_DAEMON_VERSION, "%s",
			 LIBRETTO_VERSION) < 0 ||
	    lt_xs_printf(xs, XBT_NULL, LT_XS_DAEMON_BACKEND, "%s", backend) <
		0 ||
	    xs_perms_root(xs, XBT_NULL) < 0)
		return fail(err, LT_XS_DAEMON);
	/* xenstored leaves dom0's own directory to the toolstack. */
	if (lt_xs_printf(xs, XBT_NULL, "/local/domain/0/name", "Domain-0") <
		0 ||
	    lt_xs_printf(xs, XBT_NULL, "/local/domain/0/domid", "0") < 0)
		return fail(err, "/local/domain/0");
	return 0;
}

void xs_layout_daemon_remove(struct lt_xs *xs)
{
	lt_xs_rm(xs, XBT_NULL, LT_XS_DAEMON);
}

struct domain_writer {
	struct domain *d;
	const char *what; /* the node that failed, for the error */
};

static int guest_write(struct lt_xs *xs, xs_transaction_t t,
		       struct domain_writer *w, const char *leaf,
		       const char *fmt, const char *value)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/%s", w->d->domid, leaf);
	w->what = leaf;
	return lt_xs_printf(xs, t, path, fmt, value);
}

static int server_app_write(struct lt_xs *xs, xs_transaction_t t,
			    struct domain_writer *w, unsigned server,
			    const char *leaf, const char *value)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS "/%u/%s", server,
		 w->d->domid, leaf);
	w->what = "server/apps";
	if (lt_xs_printf(xs, t, path, "%s", value) < 0)
		return -1;
	/* Written in a directory the server owns: it may read it only. */
	return xs_perms_app_entry_leaf(xs, t, server, w->d->domid, leaf);
}

/*
 * What the agent and the network server need to move an app's frames
 * (docs/datapath.md): the app learns its backend, its ephemeral range or
 * its VF; the server learns the app.
 */
static int datapath_write(struct lt_xs *xs, xs_transaction_t t,
			  struct domain_writer *w)
{
	struct domain *d = w->d, *s = deployment_server(d->dep);
	char ip[INET_ADDRSTRLEN], mac[18], num[16], eph[24] = "";

	inet_ntop(AF_INET, &d->ip, ip, sizeof(ip));
	lt_mac_format(d->mac, mac);
	if (d->ephemeral >= 0) {
		unsigned lo = LT_EPHEMERAL_BASE +
			      (unsigned)d->ephemeral * LT_EPHEMERAL_SPAN;

		snprintf(eph, sizeof(eph), "%u-%u", lo,
			 lo + LT_EPHEMERAL_SPAN - 1);
		if (guest_write(xs, t, w, LT_XS_NET_EPHEMERAL, "%s", eph) < 0)
			return -1;
	}
	/* A dynamic app's VF comes by a switch, through switch/vf. */
	if (d->vf >= 0 && d->spec.mode == LT_MODE_DIRECT &&
	    guest_write(xs, t, w, LT_XS_NET_VF, "%s", LT_VF_NETDEV) < 0)
		return -1;
	if (s == NULL)
		return 0; /* no server yet: it learns of the app on start */
	snprintf(num, sizeof(num), "%u", s->domid);
	if (d->spec.mode != LT_MODE_DIRECT &&
	    guest_write(xs, t, w, LT_XS_NET_BACKEND, "%s", num) < 0)
		return -1;
	w->what = "server/apps permissions";
	if (xs_perms_app_entry(xs, t, s->domid, d->domid) < 0)
		return -1;
	if (server_app_write(xs, t, w, s->domid, LT_XS_APP_NAME, d->be.name) <
		0 ||
	    server_app_write(xs, t, w, s->domid, LT_XS_APP_MODE,
			     lt_mode_name(d->spec.mode)) < 0 ||
	    server_app_write(xs, t, w, s->domid, LT_XS_APP_IP, ip) < 0 ||
	    server_app_write(xs, t, w, s->domid, LT_XS_APP_MAC, mac) < 0 ||
	    server_app_write(xs, t, w, s->domid, LT_XS_APP_EPHEMERAL, eph) <
		0 ||
	    server_app_write(xs, t, w, s->domid, LT_XS_APP_ACTIVE,
			     d->spec.mode == LT_MODE_DIRECT ? "0" : "1") < 0)
		return -1;
	return 0;
}

static int domain_write_body(struct lt_xs *xs, xs_transaction_t t, void *arg)
{
	struct domain_writer *w = arg;
	struct domain *d = w->d;
	/* The network being set up, which during a redeploy that changes
	 * it is not yet the one of the deployment's file in force. */
	const struct lt_network *net = d->dep->be.net;
	char path[PATH_LEN], ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	char mac[18], prefix[8], fullname[2 * LT_NAME_MAX + 2];
	struct domain *s = deployment_server(d->dep);

	inet_ntop(AF_INET, &d->ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &net->gateway, gw, sizeof(gw));
	lt_mac_format(d->mac, mac);
	snprintf(prefix, sizeof(prefix), "%u", net->prefix);
	snprintf(fullname, sizeof(fullname), "%s-%s", d->dep->name, d->be.name);

	/* As xl does for every domain. */
	snprintf(path, sizeof(path), LT_XS_DOMAIN_FMT "/name", d->domid);
	w->what = "name";
	if (lt_xs_printf(xs, t, path, "%s", fullname) < 0)
		return -1;
	snprintf(path, sizeof(path), LT_XS_DOMAIN_FMT "/domid", d->domid);
	w->what = "domid";
	if (lt_xs_printf(xs, t, path, "%u", d->domid) < 0)
		return -1;

	/* Before anything below it, which inherits its list. */
	w->what = "libretto permissions";
	if (xs_perms_domain_dir(xs, t, d->domid) < 0)
		return -1;
	if (guest_write(xs, t, w, LT_XS_ROLE, "%s",
			d->be.is_server ? LT_ROLE_SERVER : LT_ROLE_APP) < 0 ||
	    guest_write(xs, t, w, LT_XS_NAME, "%s", d->be.name) < 0 ||
	    guest_write(xs, t, w, LT_XS_DEPLOYMENT, "%s", d->dep->name) < 0 ||
	    guest_write(xs, t, w, LT_XS_MODE, "%s",
			lt_mode_name(d->spec.mode)) < 0 ||
	    guest_write(xs, t, w, LT_XS_NET_IP, "%s", ip) < 0 ||
	    guest_write(xs, t, w, LT_XS_NET_PREFIX, "%s", prefix) < 0 ||
	    guest_write(xs, t, w, LT_XS_NET_GATEWAY, "%s", gw) < 0 ||
	    guest_write(xs, t, w, LT_XS_NET_MAC, "%s", mac) < 0)
		return -1;
	/* The guest's own subtree exists before it boots, as the toolstack
	 * makes a frontend's directory before the frontend connects. */
	w->what = "guest";
	if (xs_perms_guest_dir(
		xs, t, d->domid,
		d->be.is_server || s == NULL ? -1 : (int)s->domid) < 0)
		return -1;
	w->what = "server";
	if (d->be.is_server && xs_perms_server_dirs(xs, t, d->domid) < 0)
		return -1;

	w->what = "portmap";
	if (ports_claim_declared(xs, t, d) < 0)
		return -1;
	if (!d->be.is_server && datapath_write(xs, t, w) < 0)
		return -1;
	if (d->pool_ip) {
		char elem[INET_ADDRSTRLEN];

		addr_element(d->ip, elem);
		snprintf(path, sizeof(path), LT_XS_POOL_IP_FMT "/%s",
			 d->dep->name, elem);
		w->what = "pool/ip";
		if (lt_xs_printf(xs, t, path, "%s", d->be.name) < 0)
			return -1;
	}
	if (d->vf >= 0) {
		snprintf(path, sizeof(path), LT_XS_POOL_VF_FMT "/%d",
			 d->dep->name, d->vf);
		w->what = "pool/vf";
		if (lt_xs_printf(xs, t, path, "%s", d->be.name) < 0)
			return -1;
	}
	return 0;
}

static int app_rebind_body(struct lt_xs *xs, xs_transaction_t t, void *arg)
{
	struct domain_writer *w = arg;

	/* The new server reads what the app republishes for it: the agent
	 * withdraws its VIF's nodes and writes them anew for the new
	 * backend, and new nodes take guest/'s list. (Not the whole
	 * subtree: relisting every node fires every watch on it, and the
	 * agents' answers to that storm held the new server's start past
	 * its boot timeout now and then.) */
	w->what = "guest permissions";
	if (xs_perms_guest_dir(xs, t, w->d->domid,
			       (int)deployment_server(w->d->dep)->domid) < 0)
		return -1;
	/* A dynamic app on its VF stays there: the server must not take
	 * its frames back (switch.c wrote active=0 under the old server). */
	if (datapath_write(xs, t, w) < 0)
		return -1;
	if (w->d->spec.mode == LT_MODE_DYNAMIC && w->d->on_vf &&
	    server_app_write(xs, t, w, deployment_server(w->d->dep)->domid,
			     LT_XS_APP_ACTIVE, "0") < 0)
		return -1;
	w->what = "portmap";
	return ports_mirror_all(xs, t, w->d);
}

void xs_layout_apps_rebind(struct lt_xs *xs, struct deployment *dep)
{
	struct domain *d;

	TAILQ_FOREACH(d, &dep->domains, entry)
	{
		struct domain_writer w = {.d = d, .what = "?"};

		if (d->be.is_server || !d->created || d->state == DOM_GONE)
			continue;
		/* One app's failure does not fail the server's recovery for
		 * the others: an app whose domain is ending (its end not yet
		 * reported to the engine) can make xenstored refuse its
		 * nodes. That app then stays unbound, and the recovery's
		 * report names it as not reconnected. */
		if (lt_xs_transact(xs, app_rebind_body, &w) < 0)
			log_warn("xenstore: rebinding %s/%s to the new server: "
				 "%s: %s",
				 dep->name, d->be.name, w.what,
				 strerror(errno));
	}
}

static void guest_state_changed(void *arg, const char *path)
{
	struct domain *d = arg;
	struct engine *e = d->dep->engine;
	char node[PATH_LEN];
	const char *state;

	(void)path; /* no ordering is promised: re-read the node */
	snprintf(node, sizeof(node), LT_XS_GUEST_FMT "/" LT_XS_GUEST_STATE,
		 d->domid);
	/* A state outside the set is refused as if absent: the last one
	 * stands, and a boot waits on for ready. */
	state = guest_read_token(d, node, guest_states);
	if (state == NULL ||
	    (d->guest_state != NULL && strcmp(state, d->guest_state) == 0))
		return;
	free(d->guest_state);
	d->guest_state = strdup(state);
	domain_boot_guest_state(d);

	struct json_object *data = domain_event_data(d);
	json_object_object_add(data, "guest_state",
			       json_object_new_string(state));
	engine_emit(e, LT_EV_GUEST_STATE, data);
}

static int domain_watch(struct lt_xs *xs, struct domain *d, char **err)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" LT_XS_GUEST_STATE,
		 d->domid);
	d->guest_watch = lt_xs_watch(xs, path, guest_state_changed, d);
	if (d->guest_watch == NULL)
		return fail(err, "watch guest/state");
	/* Only the shared IP has a portmap: apps with their own address own
	 * all of their ports. */
	if (!d->be.is_server && d->spec.mode == LT_MODE_SERVER &&
	    ports_watch(xs, d) < 0)
		return fail(err, "watch guest/ports");
	return 0;
}

int xs_layout_domain_write(struct lt_xs *xs, struct domain *d, char **err)
{
	struct domain_writer w = {.d = d, .what = "?"};

	if (lt_xs_transact(xs, domain_write_body, &w) < 0)
		return fail(err, w.what);
	return domain_watch(xs, d, err);
}

static int adopt_body(struct lt_xs *xs, xs_transaction_t t, void *arg)
{
	return ports_claim_declared(xs, t, arg);
}

int xs_layout_domain_adopt(struct lt_xs *xs, struct domain *d, char **err)
{
	/* Its declared claims are in the portmap already, under its domid:
	 * claiming them again finds them its own. */
	if (!d->be.is_server && lt_xs_transact(xs, adopt_body, d) < 0)
		return fail(err, "portmap");
	return domain_watch(xs, d, err);
}

void xs_layout_domain_unwatch(struct lt_xs *xs, struct domain *d)
{
	lt_xs_unwatch(xs, d->guest_watch);
	d->guest_watch = NULL;
	ports_unwatch(xs, d);
}

static int domain_remove_body(struct lt_xs *xs, xs_transaction_t t, void *arg)
{
	struct domain *d = arg, *s;
	char path[PATH_LEN], ip[INET_ADDRSTRLEN];

	snprintf(path, sizeof(path), LT_XS_DOMAIN_FMT, d->domid);
	if (lt_xs_rm(xs, t, path) < 0)
		return -1;
	if (ports_release_all(xs, t, d) < 0)
		return -1;
	if (!d->be.is_server && (s = deployment_server(d->dep)) != NULL) {
		snprintf(path, sizeof(path),
			 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS "/%u", s->domid,
			 d->domid);
		if (lt_xs_rm(xs, t, path) < 0)
			return -1;
	}
	if (d->pool_ip) {
		addr_element(d->ip, ip);
		snprintf(path, sizeof(path), LT_XS_POOL_IP_FMT "/%s",
			 d->dep->name, ip);
		if (lt_xs_rm(xs, t, path) < 0)
			return -1;
	}
	if (d->vf >= 0) {
		snprintf(path, sizeof(path), LT_XS_POOL_VF_FMT "/%d",
			 d->dep->name, d->vf);
		if (lt_xs_printf(xs, t, path, "%s", "") < 0)
			return -1;
	}
	return 0;
}

void xs_layout_domain_remove(struct lt_xs *xs, struct domain *d)
{
	xs_layout_domain_unwatch(xs, d);
	if (lt_xs_transact(xs, domain_remove_body, d) < 0)
		log_warn("xenstore: removing domain %u (%s): %s", d->domid,
			 d->be.name, strerror(errno));
}

static int deployment_write_body(struct lt_xs *xs, xs_transaction_t t,
				 void *arg)
{
	struct deployment *dep = arg;
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_PORTMAP_FMT, dep->name);
	if (lt_xs_mkdir(xs, t, path) < 0)
		return -1;
	snprintf(path, sizeof(path), LT_XS_POOL_IP_FMT, dep->name);
	if (lt_xs_mkdir(xs, t, path) < 0)
		return -1;
	for (unsigned i = 0; i < dep->be.net->vfs; i++) {
		snprintf(path, sizeof(path), LT_XS_POOL_VF_FMT "/%u", dep->name,
			 i);
		if (lt_xs_printf(xs, t, path, "%s", dep->vf_owner[i]) < 0)
			return -1;
	}
	return 0;
}

int xs_layout_deployment_write(struct lt_xs *xs, struct deployment *dep,
			       char **err)
{
	if (lt_xs_transact(xs, deployment_write_body, dep) < 0)
		return fail(err, "deployment pools");
	return 0;
}

static int deployment_remove_body(struct lt_xs *xs, xs_transaction_t t,
				  void *arg)
{
	struct deployment *dep = arg;
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_PORTMAP_FMT, dep->name);
	if (lt_xs_rm(xs, t, path) < 0)
		return -1;
	snprintf(path, sizeof(path), LT_XS_POOL_FMT, dep->name);
	return lt_xs_rm(xs, t, path);
}

void xs_layout_deployment_remove(struct lt_xs *xs, struct deployment *dep)
{
	if (lt_xs_transact(xs, deployment_remove_body, dep) < 0)
		log_warn("xenstore: removing deployment %s: %s", dep->name,
			 strerror(errno));
}
