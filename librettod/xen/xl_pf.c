/*
 * The deployment's NIC on xen: network.nic names the physical NIC the
 * network server owns (a PCI address, or the netdev of one).  Setting the
 * deployment up makes it assignable -- handed from its dom0 driver to
 * xen-pciback, as `xl pci-assignable-add` does -- so that the server's
 * create passes it through (xl_config.c); tearing down gives it back to
 * the driver it had.  The sysfs writes run a driver's remove and probe,
 * which can take a while for a NIC: they run on a worker thread
 * (thread_job.c), through the VF pool's own functions (vf_pciback.h),
 * never through libxl, which the backend only ever calls from the loop.
 *
 * The deployment's VF pool (xl_vf_pool.c: network.vfs VFs of
 * network.vf_pf) is set up and torn down in the same job: its VFs made
 * assignable after the NIC, given back before it.  A setup that fails
 * half-way gives back what it took.
 *
 * After a daemon restart the driver the NIC or a VF had is not known:
 * teardown then lets the kernel choose (drivers_probe), which binds the
 * same driver for a device that had one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "thread_job.h"
#include "util.h"
#include "vf_pciback.h"
#include "vf_sysfs_io.h"
#include "xl_backend.h"

struct xl_deployment {
	LIST_ENTRY(xl_deployment) entry;
	struct be_deployment *dep;
	char bdf[XEN_VF_BDF_SIZE];
	/* The driver it had before setup, when driver_known. */
	char driver[XEN_VF_DRIVER_SIZE];
	int driver_known;
	/* On pciback before setup: the host's choice, left as it is. */
	int was_assignable;
	int busy; /* a setup or teardown on a worker thread */
	struct xl_vf_pool pool;
};

/* One sysfs job: the worker sees only this, never the backend. */
struct pf_job {
	struct xl_backend *xb;
	struct xl_deployment *xd;
	int add; /* 1: make assignable; 0: give back */
	char root[64];
	char bdf[XEN_VF_BDF_SIZE];
	char driver[XEN_VF_DRIVER_SIZE];
	int driver_known;
	int was_assignable;	/* give back: the NIC stays on pciback */
	struct xl_vf_pool pool; /* a copy, the loop's comes back at the end */
	int rc;
	char *err;
	lt_done_fn done;
	void *arg;
};

int xl_pf_resolve(const char *root, const char *nic, char bdf[XEN_VF_BDF_SIZE],
		  char **err)
{
	struct xen_vf_pf pf;
	char *why = NULL;

	if (xen_vf_pf_locate(root, nic, &pf, &why) < 0) {
		*err = lt_strdupf("network.nic %s: the xen backend passes the "
				  "NIC through to the network server, so it "
				  "must be a PCI device (its address "
				  "dddd:bb:dd.f, or its netdev): %s",
				  nic, why ? why : "not found");
		free(why);
		return -1;
	}
	memcpy(bdf, pf.bdf, XEN_VF_BDF_SIZE);
	return 0;
}

static struct xl_deployment *xdep_find(struct xl_backend *xb,
				       const struct be_deployment *dep)
{
	struct xl_deployment *x;

	LIST_FOREACH(x, &xb->deployments, entry)
	if (x->dep == dep)
		return x;
	return NULL;
}

/* The deployment that has bdf already, as its NIC or its VFs' PF. */
static struct xl_deployment *xdep_by_bdf(struct xl_backend *xb, const char *bdf)
{
	struct xl_deployment *x;

	LIST_FOREACH(x, &xb->deployments, entry)
	if (strcmp(x->bdf, bdf) == 0 || strcmp(x->pool.pf_bdf, bdf) == 0)
		return x;
	return NULL;
}

/* "network.nic enp3s0f0 (0000:03:00.0) is the NIC of deployment demo
 * already" */
static char *taken(const char *key, const char *name, const char *bdf,
		   const struct xl_deployment *other)
{
	return lt_strdupf(
	    "%s %s (%s) is the %s of deployment %s already", key, name, bdf,
	    strcmp(other->bdf, bdf) == 0 ? "NIC" : "VF PF (network.vf_pf)",
	    other->dep->name);
}

static void xdep_free(struct xl_deployment *x)
{
	LIST_REMOVE(x, entry);
	free(x);
}

const char *xl_pf_of(struct xl_backend *xb, const struct be_deployment *dep)
{
	struct xl_deployment *x = xdep_find(xb, dep);

	return x != NULL && !x->busy ? x->bdf : NULL;
}

struct xl_vf_pool *xl_pool_of(struct xl_backend *xb,
			      const struct be_deployment *dep)
{
	struct xl_deployment *x = xdep_find(xb, dep);

	return x != NULL && !x->busy && x->pool.count > 0 ? &x->pool : NULL;
}

/* The NIC, then the pool; the NIC goes back when the pool fails. */
static void setup_work(struct pf_job *job)
{
	char *why = NULL, *undo = NULL;

	job->rc =
	    xen_vf_assignable_add(job->root, job->bdf, job->driver, &job->err);
	if (job->rc < 0 || xl_vf_pool_assign(job->root, &job->pool, &why) == 0)
		return;
	if (job->rc == 1) /* on pciback before: stays */
		job->err = lt_strdupf("%s", why);
	else if (xen_vf_assignable_remove(job->root, job->bdf, job->driver,
					  &undo) < 0)
		job->err = lt_strdupf("%s; giving the NIC %s back failed too: "
				      "%s",
				      why, job->bdf, undo ? undo : "");
	else
		job->err =
		    lt_strdupf("%s; the NIC %s was given back", why, job->bdf);
	job->rc = -1;
	free(why);
	free(undo);
}

/* The pool, then the NIC; each tried whatever the other did. */
static void teardown_work(struct pf_job *job)
{
	char *pool_err = NULL, *nic_err = NULL;
	int pool_rc = xl_vf_pool_give_back(job->root, &job->pool, &pool_err);
	int nic_rc = 0;

	if (!job->was_assignable)
		nic_rc = xen_vf_assignable_remove(
		    job->root, job->bdf, job->driver_known ? job->driver : NULL,
		    &nic_err);
	job->rc = pool_rc < 0 || nic_rc < 0 ? -1 : 0;
	if (job->rc < 0)
		job->err = lt_strdupf("%s%s%s", nic_err ? nic_err : "",
				      nic_err && pool_err ? "; " : "",
				      pool_err ? pool_err : "");
	free(pool_err);
	free(nic_err);
}

static void pf_work(void *arg)
{
	struct pf_job *job = arg;

	if (job->add)
		setup_work(job);
	else
		teardown_work(job);
}

static void pf_finished(void *arg)
{
	struct pf_job *job = arg;
	struct xl_deployment *x = job->xd;
	int failed = job->rc < 0;

	x->busy = 0;
	if (job->add && !failed) {
		memcpy(x->driver, job->driver, sizeof(x->driver));
		x->driver_known = 1;
		x->was_assignable = job->rc == 1;
		x->pool = job->pool;
		log_info("deployment %s: PF %s assignable%s%s%s", x->dep->name,
			 x->bdf, job->rc == 1 ? " already" : "",
			 x->driver[0] ? ", was on " : "", x->driver);
		if (x->pool.count > 0)
			log_info("deployment %s: %u VFs of %s (%s) assignable, "
				 "from %s",
				 x->dep->name, x->pool.count, x->pool.pf_netdev,
				 x->pool.pf_bdf, x->pool.slots[0].bdf);
	} else if (!job->add && !failed) {
		log_info(
		    "deployment %s: PF %s%s given back to %s", x->dep->name,
		    x->bdf, x->pool.count > 0 ? " and its VF pool" : "",
		    job->driver_known && job->driver[0] ? job->driver : "dom0");
	}
	/* A failed setup holds nothing, a teardown done neither; a failed
	 * teardown keeps the record for the next try. */
	if ((job->add && failed) || (!job->add && !failed))
		xdep_free(x);
	job->done(job->arg, failed ? EIO : 0, failed ? job->err : NULL);
	free(job->err);
	free(job);
}

static int pf_job_start(struct xl_backend *xb, struct xl_deployment *x, int add,
			lt_done_fn done, void *arg, char **err)
{
	struct pf_job *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	job->xb = xb;
	job->xd = x;
	job->add = add;
	snprintf(job->root, sizeof(job->root), "%s", xb->sysfs_root);
	memcpy(job->bdf, x->bdf, sizeof(job->bdf));
	memcpy(job->driver, x->driver, sizeof(job->driver));
	job->driver_known = x->driver_known;
	job->was_assignable = x->was_assignable;
	job->pool = x->pool;
	job->done = done;
	job->arg = arg;
	if (thread_job_run(xb->be->base, pf_work, pf_finished, job) < 0) {
		*err = lt_strdupf("PF %s: cannot start a worker thread: %s",
				  x->bdf, strerror(errno));
		free(job);
		return -1;
	}
	x->busy = 1;
	return 0;
}

int xl_deployment_setup(struct backend *be, struct be_deployment *dep,
			lt_done_fn done, void *arg, char **err)
{
	struct xl_backend *xb = be->priv;
	struct xl_deployment *x, *other;
	char bdf[XEN_VF_BDF_SIZE];

	if (xdep_find(xb, dep) != NULL) {
		*err = lt_strdupf("deployment %s: its NIC is set up already",
				  dep->name);
		return -1;
	}
	if (xl_pf_resolve(xb->sysfs_root, dep->net->nic, bdf, err) < 0)
		return -1;
	other = xdep_by_bdf(xb, bdf);
	if (other != NULL) {
		*err = taken("network.nic", dep->net->nic, bdf, other);
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (xl_vf_pool_select(xb->sysfs_root, dep->net, bdf, &x->pool, err) <
	    0) {
		free(x);
		return -1;
	}
	other = x->pool.count > 0 ? xdep_by_bdf(xb, x->pool.pf_bdf) : NULL;
	if (other != NULL) {
		*err = taken("network.vf_pf", dep->net->vf_pf, x->pool.pf_bdf,
			     other);
		free(x);
		return -1;
	}
	x->dep = dep;
	memcpy(x->bdf, bdf, sizeof(x->bdf));
	LIST_INSERT_HEAD(&xb->deployments, x, entry);
	if (pf_job_start(xb, x, 1, done, arg, err) < 0) {
		xdep_free(x);
		return -1;
	}
	return 0;
}

int xl_deployment_teardown(struct backend *be, struct be_deployment *dep,
			   lt_done_fn done, void *arg, char **err)
{
	struct xl_backend *xb = be->priv;
	struct xl_deployment *x = xdep_find(xb, dep);
	uint32_t holder;
	unsigned vf;

	if (x == NULL) /* never set up, or given back already */
		return xl_defer_done(xb, done, arg, 0, NULL, err);
	if (x->busy) {
		*err = lt_strdupf("deployment %s: its NIC is being set up",
				  dep->name);
		return -1;
	}
	/* pciback lets go of a device a domain has with no more than a
	 * warning (vf_pciback.h): never while the server holds it. */
	holder = xl_domain_server_domid(xb, dep);
	if (holder != 0) {
		*err = lt_strdupf("deployment %s: its network server (domid "
				  "%u) still has PF %s",
				  dep->name, (unsigned)holder, x->bdf);
		return -1;
	}
	/* Nor while a domain has one of its VFs. */
	for (vf = 0; vf < x->pool.count; vf++)
		if (x->pool.slots[vf].busy) {
			*err = lt_strdupf("deployment %s: VF %u (%s) is being "
					  "hot-plugged or unplugged",
					  dep->name, vf, x->pool.slots[vf].bdf);
			return -1;
		}
	holder = xl_vf_pool_holder(xb, &x->pool, &vf);
	if (holder != 0) {
		*err = lt_strdupf("deployment %s: domain %u still has VF %u "
				  "(%s)",
				  dep->name, (unsigned)holder, vf,
				  x->pool.slots[vf].bdf);
		return -1;
	}
	if (x->was_assignable && x->pool.count == 0) {
		xdep_free(x);
		return xl_defer_done(xb, done, arg, 0, NULL, err);
	}
	return pf_job_start(xb, x, 0, done, arg, err);
}

/* The pool of an adopted deployment: the same VFs as at its setup (VF i
 * is virtfn<i> of network.vf_pf), their drivers before it not known.  A
 * VF found off pciback is left as it is: a hot-plug of it fails, and
 * says why. */
static void pool_adopt(struct xl_backend *xb, struct xl_deployment *x)
{
	char *why = NULL;

	if (xl_vf_pool_select(xb->sysfs_root, x->dep->net, x->bdf, &x->pool,
			      &why) < 0) {
		log_warn("adopt %s: no VF pool, so no switch to direct and no "
			 "direct app: %s",
			 x->dep->name, why ? why : "failed");
		free(why);
		memset(&x->pool, 0, sizeof(x->pool));
		return;
	}
	for (unsigned i = 0; i < x->pool.count; i++) {
		struct xl_vf_slot *s = &x->pool.slots[i];

		if (!xen_vf_driver_is_pciback(s->driver))
			log_warn("adopt %s: VF %u (%s) is on %s, not pciback: "
				 "it cannot be hot-plugged",
				 x->dep->name, i, s->bdf,
				 s->driver[0] ? s->driver : "no driver");
		s->driver[0] = '\0';
		s->driver_known = 0;
	}
}

/* Set up: its NIC is on pciback. The driver it had is not known. */
int xl_deployment_adopt(struct backend *be, struct be_deployment *dep,
			char **err)
{
	struct xl_backend *xb = be->priv;
	char bdf[XEN_VF_BDF_SIZE], path[256], driver[XEN_VF_DRIVER_SIZE];
	struct xl_deployment *x;
	char *why = NULL;

	if (xl_pf_resolve(xb->sysfs_root, dep->net->nic, bdf, &why) < 0) {
		log_warn("adopt %s: %s", dep->name, why ? why : "no NIC");
		free(why);
		return 0;
	}
	if (xen_vf_io_path(path, sizeof(path), xb->sysfs_root,
			   "bus/pci/devices/%s/driver", bdf) < 0 ||
	    xen_vf_io_link_basename(path, driver, sizeof(driver)) < 0 ||
	    !xen_vf_driver_is_pciback(driver))
		return 0;
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	x->dep = dep;
	memcpy(x->bdf, bdf, sizeof(x->bdf));
	pool_adopt(xb, x);
	LIST_INSERT_HEAD(&xb->deployments, x, entry);
	return 1;
}

void xl_deployment_describe(struct backend *be, struct be_deployment *dep,
			    struct json_object *obj)
{
	struct xl_deployment *x = xdep_find(be->priv, dep);
	struct json_object *pool;

	json_object_object_add(obj, "pf",
			       x ? json_object_new_string(x->bdf) : NULL);
	if (x != NULL && x->driver_known)
		json_object_object_add(obj, "pf_driver",
				       json_object_new_string(x->driver));
	if (x == NULL || x->pool.count == 0)
		return;
	json_object_object_add(obj, "vf_pf",
			       json_object_new_string(x->pool.pf_bdf));
	json_object_object_add(obj, "vf_pf_netdev",
			       json_object_new_string(x->pool.pf_netdev));
	/* Index i is the engine's VF i. */
	pool = json_object_new_array();
	for (unsigned i = 0; i < x->pool.count; i++)
		json_object_array_add(
		    pool, json_object_new_string(x->pool.slots[i].bdf));
	json_object_object_add(obj, "vf_pool", pool);
}

void xl_deployment_release_all(struct xl_backend *xb)
{
	struct xl_deployment *x, *next;

	for (x = LIST_FIRST(&xb->deployments); x != NULL; x = next) {
		next = LIST_NEXT(x, entry);
		/* A worker still writing finishes on its own; its record
		 * goes with the process. */
		if (!x->busy)
			xdep_free(x);
	}
}
