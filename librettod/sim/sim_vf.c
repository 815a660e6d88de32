/*
 * The sim's VFs (docs/sim.md): a VF is a macvlan on the PF carrying the
 * app's MAC, as an SR-IOV VF carries the MAC the PF gave it.
 *
 * The macvlan is made directly inside the app's namespace (rtnetlink can
 * create a link in another namespace), under a name the agent ignores, and
 * "attached" by renaming it to LT_VF_NETDEV: the moment the guest can see
 * its new device, as after a PCI hot-plug.  Moving a link between
 * namespaces instead would cost a network-wide RCU grace period (20-30 ms
 * measured here) on every switch.  The switch's operations run on a
 * worker thread that talks to the kernel directly, since an `ip` process
 * costs ~10 ms; a direct app's create, which is not timed, uses `ip`.
 *
 * Deleting a link costs a grace period too (11-20 ms), so a released VF is
 * not deleted: it is parked, down and renamed back, where it was -- down,
 * a macvlan takes no frame -- as a real VF outlives its hot-unplug.  The
 * next prepare of that VF for the same app takes it up again; one for
 * another app deletes it first; a parked VF goes with its namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mac.h"
#include "sim.h"
#include "sim_rtnl.h"
#include "thread_job.h"

/* What a prepared, not yet attached, VF is called in the app's namespace. */
static void vf_parked_name(int vf, char name[IF_NAMESIZE])
{
	snprintf(name, IF_NAMESIZE, "ltvf%d", vf);
}

void sim_vf_add_prepare_steps(struct sim_steps *steps,
			      const struct be_domain *dom, int vf,
			      const struct sim_netns *ns)
{
	struct sim_netns server;
	char parked[IF_NAMESIZE], mac[18];

	sim_netns_init(&server, dom->deployment->name, "server");
	vf_parked_name(vf, parked);
	lt_mac_format(dom->mac, mac);
	sim_steps_add(steps, 0, "ip", "-n", server.name, "link", "add", parked,
		      "link", dom->deployment->net->nic, "address", mac, "mtu",
		      SIM_MTU, "netns", ns->name, "type", "macvlan", "mode",
		      "bridge", NULL);
}

void sim_vf_add_attach_steps(struct sim_steps *steps, int vf,
			     const struct sim_netns *ns)
{
	char parked[IF_NAMESIZE];

	vf_parked_name(vf, parked);
	sim_steps_add(steps, 0, "ip", "-n", ns->name, "link", "set", parked,
		      "name", SIM_VF_NAME, NULL);
}

/* --- the switch's VF operations, on a worker thread ------------------- */

enum vf_op { VF_PREPARE, VF_ATTACH, VF_DETACH, VF_RELEASE };

struct vf_job {
	enum vf_op op;
	struct sim_netns server, app;
	int reuse; /* prepare: the VF is parked in app's namespace */
	struct sim_netns stale; /* prepare: parked in another app's: delete */
	int have_stale;
	int parked_ok;		 /* release: parked, not deleted */
	struct sim_backend *sim; /* for vf_finished, on the loop */
	char deployment[LT_NAME_MAX + 1], app_name[LT_NAME_MAX + 1];
	int vf;
	char nic[IF_NAMESIZE];
	char parked[IF_NAMESIZE];
	uint8_t mac[6];
	lt_done_fn done;
	void *arg;
	int rc, err_no;
	char err[256];
};

/* Deleting a link that is not there is no failure for a release. */
static int del_if_present(struct vf_job *j, const char *name)
{
	if (sim_rtnl_link_del(name, j->err, sizeof(j->err)) < 0 &&
	    errno != ENODEV)
		return -1;
	return 0;
}

static int vf_prepare_work(struct vf_job *j)
{
	char *e = j->err;
	size_t n = sizeof(j->err);

	if (j->reuse) {
		/* The threads's namespace is the app's (vf_work). */
		if (sim_rtnl_link_set_mac(j->parked, j->mac, SIM_MTU_VALUE, e,
					  n) == 0)
			return 0;
		if (errno != ENODEV)
			return -1;
		/* Gone meanwhile: make one. */
	}
	if (j->have_stale) {
		if (sim_rtnl_enter(j->stale.path, e, n) == 0) {
			if (del_if_present(j, j->parked) < 0)
				return -1;
		} else if (errno != ENOENT) {
			return -1; /* its namespace gone: so is it */
		}
	}
	if (sim_rtnl_enter(j->server.path, e, n) < 0)
		return -1;
	if (sim_rtnl_macvlan_add(j->parked, j->nic, j->mac, SIM_MTU_VALUE,
				 j->app.path, e, n) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	/* Made already (a prepare done again after a crash): take it. */
	if (sim_rtnl_enter(j->app.path, e, n) < 0)
		return -1;
	return sim_rtnl_link_set_mac(j->parked, j->mac, SIM_MTU_VALUE, e, n);
}

/*
 * Whichever name it has -- a rollback may come here after a detach that
 * failed -- the VF ends down and parked.  Only a dynamic app's switch
 * releases, and then the agent no longer uses the VF.
 */
static int vf_release_work(struct vf_job *j)
{
	char *e = j->err;
	size_t n = sizeof(j->err);

	if (sim_rtnl_link_down(SIM_VF_NAME, e, n) == 0) {
		if (sim_rtnl_link_rename(SIM_VF_NAME, j->parked, e, n) < 0)
			return del_if_present(j, SIM_VF_NAME);
	} else if (errno != ENODEV) {
		return -1;
	}
	if (sim_rtnl_link_down(j->parked, e, n) == 0) {
		j->parked_ok = 1;
		return 0;
	}
	return errno == ENODEV ? 0 : -1; /* never made: nothing to park */
}

static void vf_work(void *arg)
{
	struct vf_job *j = arg;
	char *e = j->err;
	size_t n = sizeof(j->err);
	int rc;

	/* Prepare enters the namespaces it needs itself. */
	if (sim_rtnl_enter(j->app.path, e, n) < 0) {
		j->rc = -1;
		j->err_no = errno;
		return;
	}
	switch (j->op) {
	case VF_PREPARE:
		rc = vf_prepare_work(j);
		break;
	/* Each done already counts as done: a daemon that died half-way
	 * through a switch completes it from where the nodes say it was. */
	case VF_ATTACH:
		rc = sim_rtnl_link_rename(j->parked, SIM_VF_NAME, e, n);
		if (rc < 0 && errno == ENODEV && if_nametoindex(SIM_VF_NAME))
			rc = 0;
		break;
	case VF_DETACH:
		/* Renamed only while down; the agent has brought it down
		 * already, unless this undoes an attach half-way. */
		rc = sim_rtnl_link_down(SIM_VF_NAME, e, n);
		if (rc == 0)
			rc = sim_rtnl_link_rename(SIM_VF_NAME, j->parked, e, n);
		else if (errno == ENODEV && if_nametoindex(j->parked))
			rc = 0;
		break;
	case VF_RELEASE:
	default:
		rc = vf_release_work(j);
		break;
	}
	j->rc = rc;
	j->err_no = rc < 0 ? errno : 0;
}

static struct sim_parked_vf *parked_find(struct sim_backend *sim,
					 const char *deployment, int vf)
{
	struct sim_parked_vf *p;

	LIST_FOREACH(p, &sim->parked, entry)
	if (p->vf == vf && strcmp(p->deployment, deployment) == 0)
		return p;
	return NULL;
}

void sim_vf_forget(struct sim_backend *sim, const char *deployment,
		   const char *app)
{
	struct sim_parked_vf *p, *next;

	for (p = LIST_FIRST(&sim->parked); p; p = next) {
		next = LIST_NEXT(p, entry);
		if (strcmp(p->deployment, deployment) == 0 &&
		    (!app || strcmp(p->app, app) == 0)) {
			LIST_REMOVE(p, entry);
			free(p);
		}
	}
}

static void vf_finished(void *arg)
{
	struct vf_job *j = arg;
	struct sim_parked_vf *p;

	if (j->op == VF_RELEASE && j->rc == 0 && j->parked_ok &&
	    (p = calloc(1, sizeof(*p)))) {
		snprintf(p->deployment, sizeof(p->deployment), "%s",
			 j->deployment);
		snprintf(p->app, sizeof(p->app), "%s", j->app_name);
		p->vf = j->vf;
		LIST_INSERT_HEAD(&j->sim->parked, p, entry);
	}

	j->done(j->arg, j->rc < 0 ? (j->err_no ? j->err_no : EIO) : 0,
		j->rc < 0 ? j->err : NULL);
	free(j);
}

static int vf_start(struct backend *be, struct be_domain *dom, int vf,
		    enum vf_op op, lt_done_fn done, void *arg, char **err)
{
	struct vf_job *j = calloc(1, sizeof(*j));

	if (!j) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	j->op = op;
	j->sim = be->priv;
	j->vf = vf;
	snprintf(j->deployment, sizeof(j->deployment), "%s",
		 dom->deployment->name);
	snprintf(j->app_name, sizeof(j->app_name), "%s", dom->name);
	if (op == VF_PREPARE || op == VF_RELEASE) {
		/* From here the VF is this op's: a parked one is taken
		 * (prepare) or replaced (release). */
		struct sim_parked_vf *p =
		    parked_find(be->priv, dom->deployment->name, vf);

		if (p && op == VF_PREPARE) {
			j->reuse = strcmp(p->app, dom->name) == 0;
			j->have_stale = !j->reuse;
			sim_netns_init(&j->stale, dom->deployment->name,
				       p->app);
		}
		if (p) {
			LIST_REMOVE(p, entry);
			free(p);
		}
	}
	sim_netns_init(&j->server, dom->deployment->name, "server");
	sim_netns_init(&j->app, dom->deployment->name, dom->name);
	snprintf(j->nic, sizeof(j->nic), "%s", dom->deployment->net->nic);
	vf_parked_name(vf, j->parked);
	memcpy(j->mac, dom->mac, sizeof(j->mac));
	j->done = done;
	j->arg = arg;
	if (thread_job_run(be->base, vf_work, vf_finished, j) < 0) {
		*err = lt_strdupf("VF %d of %s: cannot start a thread: %s", vf,
				  j->app.name, strerror(errno));
		free(j);
		return -1;
	}
	return 0;
}

int sim_vf_prepare(struct backend *be, struct be_domain *dom, int vf,
		   lt_done_fn done, void *arg, char **err)
{
	return vf_start(be, dom, vf, VF_PREPARE, done, arg, err);
}

int sim_vf_attach(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err)
{
	return vf_start(be, dom, vf, VF_ATTACH, done, arg, err);
}

int sim_vf_detach(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err)
{
	return vf_start(be, dom, vf, VF_DETACH, done, arg, err);
}

int sim_vf_release(struct backend *be, struct be_domain *dom, int vf,
		   lt_done_fn done, void *arg, char **err)
{
	return vf_start(be, dom, vf, VF_RELEASE, done, arg, err);
}
