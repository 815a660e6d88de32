/*
 * A deployment's share of the sim: the peer namespace lt-<dep>-peer, which
 * stands for the outside network and its clients, and the PF, a veth pair
 * made inside it.  The PF end (named network.nic) waits in the peer
 * namespace until the server's domain_create moves it into the server's
 * namespace, and returns there when the server is destroyed, as a PCI device
 * returns to dom0.  The peer end, wire0, carries the gateway address.
 * Nothing is ever made in, or moved through, the host's namespace.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mac.h"
#include "sim.h"

struct sim_deployment {
	LIST_ENTRY(sim_deployment) entry;
	struct sim_backend *sim;
	struct be_deployment *dep;
	struct sim_netns peer;
	int made_peer; /* by the setup in flight: undone if it fails */
	struct sim_steps *steps;
	struct sim_reaper *reaper;
	lt_done_fn done;
	void *arg;
};

void sim_deployment_peer(const struct be_deployment *dep,
			 struct sim_netns *peer)
{
	sim_netns_init(peer, dep->name, "peer");
}

static struct sim_deployment *sim_deployment_get(struct sim_backend *sim,
						 struct be_deployment *dep)
{
	struct sim_deployment *sd = dep->priv;

	if (sd)
		return sd;
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return NULL;
	sd->sim = sim;
	sd->dep = dep;
	sim_deployment_peer(dep, &sd->peer);
	LIST_INSERT_HEAD(&sim->deployments, sd, entry);
	dep->priv = sd;
	return sd;
}

static void sim_deployment_free(struct sim_deployment *sd)
{
	sim_steps_cancel(sd->steps);
	sim_reaper_cancel(sd->reaper);
	LIST_REMOVE(sd, entry);
	sd->dep->priv = NULL;
	free(sd);
}

static int busy(struct sim_deployment *sd, char **err)
{
	if (!sd->steps && !sd->reaper)
		return 0;
	*err = lt_strdupf("deployment %s: the sim backend is still working "
			  "on it",
			  sd->dep->name);
	return 1;
}

static void setup_done(void *arg, int err, const char *msg)
{
	struct sim_deployment *sd = arg;
	char *undo_err = NULL;

	lt_done_fn done = sd->done;
	void *done_arg = sd->arg;

	sd->steps = NULL;
	if (err && sd->made_peer && sim_netns_delete(&sd->peer, &undo_err) < 0)
		msg = undo_err; /* the worse news: something is left behind */
	sd->made_peer = 0;
	/* Nothing of it is left: the engine may free the deployment, and
	 * must find no handle of ours pointing at it. */
	if (err && !undo_err)
		sim_deployment_free(sd);
	done(done_arg, err, msg);
	free(undo_err);
}

int sim_deployment_setup(struct backend *be, struct be_deployment *dep,
			 lt_done_fn done, void *arg, char **err)
{
	struct sim_backend *sim = be->priv;
	const struct lt_network *net = dep->net;
	int fresh = dep->priv == NULL;
	struct sim_deployment *sd = sim_deployment_get(sim, dep);
	char what[64], addr[INET_ADDRSTRLEN + 8], mac[18];

	if (!sd) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (busy(sd, err))
		return -1;
	if (!strcmp(net->nic, SIM_PEER_LINK) || !strcmp(net->nic, "lo")) {
		*err = lt_strdupf("deployment %s: network.nic '%s' is a name "
				  "the sim uses for itself; choose another",
				  dep->name, net->nic);
		goto refused;
	}
	/* Not ours to reuse: it is left by an earlier daemon (domains are
	 * not adopted across restarts yet) or it is another deployment's
	 * whose names collide with ours. Taking it, and removing it on an
	 * undo, would break whatever still uses it. */
	if (sim_netns_exists(&sd->peer)) {
		*err =
		    lt_strdupf("peer namespace %s already exists (left by an "
			       "earlier librettod, or another deployment's; "
			       "see docs/librettod.md, \"Restarting the "
			       "daemon\")",
			       sd->peer.name);
		goto refused;
	}
	inet_ntop(AF_INET, &net->gateway, addr, INET_ADDRSTRLEN);
	snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "/%u",
		 net->prefix);
	snprintf(what, sizeof(what), "peer namespace %s", sd->peer.name);
	sd->steps = sim_steps_new(be->base, what);
	if (!sd->steps) {
		*err = lt_strdupf("out of memory");
		goto refused;
	}
	sd->made_peer = 1;
	sim_netns_add_create_steps(sd->steps, &sd->peer);
	/* MTU 9000 end to end (docs/datapath.md); the PF carries the
	 * network server's MAC, which the server IP resolves to. */
	lt_mac_format(dep->pf_mac, mac);
	sim_steps_add(sd->steps, 0, "ip", "-n", sd->peer.name, "link", "add",
		      net->nic, "address", mac, "mtu", SIM_MTU, "type", "veth",
		      "peer", "name", SIM_PEER_LINK, "mtu", SIM_MTU, NULL);
	sim_steps_add(sd->steps, 0, "ip", "-n", sd->peer.name, "addr",
		      "replace", addr, "dev", SIM_PEER_LINK, NULL);
	sim_steps_add(sd->steps, 0, "ip", "-n", sd->peer.name, "link", "set",
		      SIM_PEER_LINK, "up", NULL);
	sd->done = done;
	sd->arg = arg;
	if (sim_steps_run(sd->steps, setup_done, sd, err) < 0) {
		sd->steps = NULL;
		sd->made_peer = 0;
		goto refused;
	}
	return 0;
refused:
	/* A refusal leaves nothing: no handle on a deployment the engine
	 * may free. */
	if (fresh)
		sim_deployment_free(sd);
	return -1;
}

static void teardown_reaped(void *arg, int err, const char *msg)
{
	struct sim_deployment *sd = arg;
	lt_done_fn done = sd->done;
	void *done_arg = sd->arg;
	char *delete_err = NULL;

	sd->reaper = NULL;
	if (err) {
		/* Kept: a second teardown tries again. */
		done(done_arg, err, msg);
		return;
	}
	/* The veth pair goes with the namespace that holds either end. */
	err = sim_netns_delete(&sd->peer, &delete_err);
	sim_deployment_free(sd);
	done(done_arg, err, delete_err);
	free(delete_err);
}

int sim_deployment_teardown(struct backend *be, struct be_deployment *dep,
			    lt_done_fn done, void *arg, char **err)
{
	struct sim_deployment *sd = sim_deployment_get(be->priv, dep);

	if (!sd) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (busy(sd, err))
		return -1;
	sim_vf_forget(be->priv, dep->name, NULL);
	sd->done = done;
	sd->arg = arg;
	/* Clients run in the peer namespace (ip netns exec) hold it. */
	sd->reaper = sim_reaper_start(be->base, &sd->peer, SIM_GRACE_MS,
				      SIM_GIVE_UP_MS, teardown_reaped, sd);
	if (!sd->reaper) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	return 0;
}

void sim_deployment_describe(struct backend *be, struct be_deployment *dep,
			     struct json_object *obj)
{
	struct sim_netns peer;

	(void)be;
	sim_deployment_peer(dep, &peer);
	json_object_object_add(obj, "peer_namespace",
			       json_object_new_string(peer.name));
	json_object_object_add(obj, "peer_link",
			       json_object_new_string(SIM_PEER_LINK));
}

void sim_deployment_release_all(struct sim_backend *sim)
{
	while (!LIST_EMPTY(&sim->deployments))
		sim_deployment_free(LIST_FIRST(&sim->deployments));
}

int sim_deployment_adopt(struct backend *be, struct be_deployment *dep,
			 char **err)
{
	struct sim_netns peer;

	sim_deployment_peer(dep, &peer);
	if (!sim_netns_exists(&peer))
		return 0;
	if (!sim_deployment_get(be->priv, dep)) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	return 1;
}
