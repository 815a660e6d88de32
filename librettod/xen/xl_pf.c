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
 * After a daemon restart the driver the NIC had is not known: teardown
 * then lets the kernel choose (drivers_probe), which binds the same
 * driver for a NIC that had one.
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

static struct xl_deployment *xdep_by_bdf(struct xl_backend *xb, const char *bdf)
{
	struct xl_deployment *x;

	LIST_FOREACH(x, &xb->deployments, entry)
	if (strcmp(x->bdf, bdf) == 0)
		return x;
	return NULL;
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

static void pf_work(void *arg)
{
	struct pf_job *job = arg;

	if (job->add)
		job->rc = xen_vf_assignable_add(job->root, job->bdf,
						job->driver, &job->err);
	else
		job->rc = xen_vf_assignable_remove(
		    job->root, job->bdf, job->driver_known ? job->driver : NULL,
		    &job->err);
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
		log_info("deployment %s: PF %s assignable%s%s%s", x->dep->name,
			 x->bdf, job->rc == 1 ? " already" : "",
			 x->driver[0] ? ", was on " : "", x->driver);
	} else if (!job->add && !failed) {
		log_info("deployment %s: PF %s given back to %s", x->dep->name,
			 x->bdf,
			 job->driver_known && job->driver[0] ? job->driver
							     : "dom0");
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
		*err = lt_strdupf("network.nic %s (%s) is the NIC of "
				  "deployment %s already",
				  dep->net->nic, bdf, other->dep->name);
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		*err = lt_strdupf("out of memory");
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
	if (x->was_assignable) {
		xdep_free(x);
		return xl_defer_done(xb, done, arg, 0, NULL, err);
	}
	return pf_job_start(xb, x, 0, done, arg, err);
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
	LIST_INSERT_HEAD(&xb->deployments, x, entry);
	return 1;
}

void xl_deployment_describe(struct backend *be, struct be_deployment *dep,
			    struct json_object *obj)
{
	struct xl_deployment *x = xdep_find(be->priv, dep);

	json_object_object_add(obj, "pf",
			       x ? json_object_new_string(x->bdf) : NULL);
	if (x != NULL && x->driver_known)
		json_object_object_add(obj, "pf_driver",
				       json_object_new_string(x->driver));
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
