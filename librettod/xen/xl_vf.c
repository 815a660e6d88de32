/*
 * The VFs of a deployment's pool in its domains (docs/xen-vf.md): the
 * dynamic switch's four steps (backend.h), and what a domain holds of the
 * pool around its create, destroy, adoption and status.
 *
 *   vf_prepare   the app's MAC on the VF, set through the PF (xl_vf_mac.c)
 *   vf_attach    libxl_device_pci_add: the VF hot-plugged into the domain,
 *                whose pcifront hands it to the guest's VF driver
 *   vf_detach    libxl_device_pci_remove
 *   vf_release   the VF's parked MAC
 *
 * Each is done already when Xen says so (the VF listed, or not, in the
 * domain's PCI backend: libxl_device_pci_list), so that a rollback may
 * undo a step that failed half-way and a restarted daemon may finish a
 * switch from where xenstore says it was.  The VFs stay on pciback all
 * along: the pool made them assignable at the deployment's setup
 * (xl_pf.c), and libxl's unplug and destroy leave them there.
 *
 * A direct app is created with its VF in its pcidevs (xl_domain.c), the
 * MAC set first.  Destroying a domain unplugs whatever it had (libxl's
 * destroy removes every device of its PCI backend, hot-plugged ones too),
 * and the VF it held gets its parked MAC back.
 *
 * libxl is called from the loop only; its completions come through
 * xl_async.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mac.h"
#include "util.h"
#include "vf_sysfs_io.h"
#include "xl_backend.h"

/* "VF 2 (0000:03:10.4) of enp3s0f1" */
#define WHAT_SIZE 96

static const char *libxl_error_name(int rc)
{
	const char *s = libxl_error_to_string((libxl_error)rc);

	return s != NULL ? s : "unknown libxl error";
}

static void vf_what(const struct xl_vf_pool *pool, unsigned vf,
		    char what[WHAT_SIZE])
{
	snprintf(what, WHAT_SIZE, "VF %u (%s) of %s", vf, pool->slots[vf].bdf,
		 pool->pf_netdev);
}

/* VF vf of dom's deployment, or NULL with *err. */
static struct xl_vf_slot *slot_of(struct xl_backend *xb,
				  const struct be_domain *dom, int vf,
				  struct xl_vf_pool **pool, char **err)
{
	const struct lt_network *net = dom->deployment->net;

	*pool = xl_pool_of(xb, dom->deployment);
	if (*pool == NULL) {
		*err = lt_strdupf("deployment %s has no VF pool on the xen "
				  "backend (network.vfs %u, network.vf_pf "
				  "'%s')",
				  dom->deployment->name, net->vfs, net->vf_pf);
		return NULL;
	}
	if (vf < 0 || (unsigned)vf >= (*pool)->count) {
		*err = lt_strdupf("deployment %s: no VF %d in its pool of %u",
				  dom->deployment->name, vf, (*pool)->count);
		return NULL;
	}
	return &(*pool)->slots[vf];
}

/* Whether Xen's PCI backend of domid lists pci: 1, 0 (also when the
 * domain is gone or has none). */
static int pci_listed(libxl_ctx *ctx, uint32_t domid,
		      const libxl_device_pci *pci)
{
	libxl_device_pci *list;
	int n = 0, found = 0;

	list = libxl_device_pci_list(ctx, domid, &n);
	for (int i = 0; i < n && !found; i++)
		found = list[i].domain == pci->domain &&
			list[i].bus == pci->bus && list[i].dev == pci->dev &&
			list[i].func == pci->func;
	if (list != NULL)
		libxl_device_pci_list_free(list, n);
	return found;
}

static int vf_listed(struct xl_backend *xb, uint32_t domid, const char *bdf)
{
	libxl_device_pci pci;
	int found;

	if (domid == 0 || xl_pci_fill(&pci, bdf) < 0)
		return 0;
	found = pci_listed(xb->ctx, domid, &pci);
	libxl_device_pci_dispose(&pci);
	return found;
}

uint32_t xl_vf_pool_holder(struct xl_backend *xb, struct xl_vf_pool *pool,
			   unsigned *vf)
{
	for (unsigned i = 0; i < pool->count; i++) {
		struct xl_vf_slot *s = &pool->slots[i];

		if (s->domid == 0)
			continue;
		if (vf_listed(xb, s->domid, s->bdf)) {
			*vf = i;
			return s->domid;
		}
		s->domid = 0; /* gone with its domain */
	}
	return 0;
}

const char *xl_vf_create_bdf(struct xl_backend *xb, const struct be_domain *dom,
			     char **err)
{
	struct xl_vf_pool *pool;
	struct xl_vf_slot *s = slot_of(xb, dom, dom->vf, &pool, err);

	return s != NULL ? s->bdf : NULL;
}

/* --- prepare and release: the MAC ------------------------------------- */

static int mac_start(struct backend *be, struct be_domain *dom, int vf,
		     const uint8_t mac[6], lt_done_fn done, void *arg,
		     char **err)
{
	struct xl_backend *xb = be->priv;
	struct xl_vf_pool *pool;
	char what[WHAT_SIZE + 32], m[18];

	if (slot_of(xb, dom, vf, &pool, err) == NULL)
		return -1;
	vf_what(pool, (unsigned)vf, what);
	lt_mac_format(mac, m);
	snprintf(what + strlen(what), sizeof(what) - strlen(what), ", MAC %s",
		 m);
	return xl_vf_mac_set(xb, pool->pf_netdev, (unsigned)vf, mac, what, done,
			     arg, err);
}

int xl_vf_prepare(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err)
{
	return mac_start(be, dom, vf, dom->mac, done, arg, err);
}

/*
 * A VF no app has carries a MAC of its own, not the last app's: the
 * PF's switch then steers no frame of that app to an idle VF, and the
 * next prepare replaces it anyway.  Not all zeros: igb of older kernels
 * refuses it (EINVAL), and newer ones take it as "no MAC set by the PF",
 * letting the guest's driver choose its own.
 */
int xl_vf_release(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err)
{
	uint8_t parked[6];

	xl_vf_mac_parked(dom->deployment->name, vf < 0 ? 0 : (unsigned)vf,
			 parked);
	return mac_start(be, dom, vf, parked, done, arg, err);
}

/* --- attach and detach: the hot-plug ------------------------------------ */

struct pci_op {
	struct xl_backend *xb;
	struct xl_vf_slot *slot;
	uint32_t domid;
	int attach; /* 1: libxl_device_pci_add; 0: _remove */
	libxl_device_pci pci;
	char what[WHAT_SIZE];
	char domain[XL_NAME_SIZE];
	lt_done_fn done;
	void *arg;
};

static void pci_op_free(struct pci_op *op)
{
	libxl_device_pci_dispose(&op->pci);
	free(op);
}

static void pci_op_finished(void *arg, int rc)
{
	struct pci_op *op = arg;
	int listed = vf_listed(op->xb, op->domid, op->slot->bdf);
	int failed = listed != op->attach;
	lt_done_fn done = op->done;
	void *done_arg = op->arg;
	const char *reason;
	char *why = NULL;

	op->slot->busy = 0;
	/* What counts is where the VF is now: a detach whose domain went
	 * meanwhile is done all the same. */
	if (!failed) {
		op->slot->domid = op->attach ? op->domid : 0;
		log_info("%s %s domain %s (domid %" PRIu32 ")", op->what,
			 op->attach ? "hot-plugged into" : "unplugged from",
			 op->domain, op->domid);
	} else {
		if (rc != 0)
			reason = libxl_error_name(rc);
		else if (op->attach)
			reason = "libxl reported success, yet the domain's "
				 "PCI backend does not list it";
		else
			reason = "libxl reported success, yet the domain's "
				 "PCI backend still lists it";
		why = lt_strdupf(
		    "%s: could not %s domain %s (domid %" PRIu32 "): %s%s",
		    op->what,
		    op->attach ? "hot-plug it into" : "unplug it from",
		    op->domain, op->domid, reason,
		    rc != 0 ? " (libxl's reason is in the "
			      "daemon's log)"
			    : "");
		log_err("%s", why ? why : op->what);
	}
	pci_op_free(op);
	done(done_arg, failed ? EIO : 0,
	     failed ? (why ? why : "VF hot-plug failed") : NULL);
	free(why);
}

/* libxl hot-plugs only a device pciback holds; says which driver has it
 * instead, before libxl fails with less to say.  0, or -1 with *err. */
static int on_pciback(struct xl_backend *xb, const char *what, const char *bdf,
		      char **err)
{
	char path[256], driver[XEN_VF_DRIVER_SIZE];

	if (xen_vf_io_path(path, sizeof(path), xb->sysfs_root,
			   "bus/pci/devices/%s/driver", bdf) < 0 ||
	    xen_vf_io_link_basename(path, driver, sizeof(driver)) < 0) {
		if (errno != ENOENT) {
			*err = lt_strdupf("%s: %s: %s", what, path,
					  strerror(errno));
			return -1;
		}
		driver[0] = '\0';
	}
	if (xen_vf_driver_is_pciback(driver))
		return 0;
	*err = lt_strdupf("%s is on %s, not pciback, so it cannot be "
			  "hot-plugged (the deployment's setup made it "
			  "assignable; was it taken back since?)",
			  what, driver[0] ? driver : "no driver");
	return -1;
}

static int pci_op_start(struct backend *be, struct be_domain *dom, int vf,
			int attach, lt_done_fn done, void *arg, char **err)
{
	struct xl_backend *xb = be->priv;
	struct xl_vf_pool *pool;
	struct xl_vf_slot *s = slot_of(xb, dom, vf, &pool, err);
	libxl_asyncop_how how;
	struct pci_op *op;
	struct xl_ao *ao;
	int rc;

	if (s == NULL)
		return -1;
	if (s->busy) {
		*err = lt_strdupf("VF %d (%s): another hot-plug or unplug of "
				  "it is in flight",
				  vf, s->bdf);
		return -1;
	}
	op = calloc(1, sizeof(*op));
	if (op == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	op->xb = xb;
	op->slot = s;
	op->domid = dom->domid;
	op->attach = attach;
	op->done = done;
	op->arg = arg;
	vf_what(pool, (unsigned)vf, op->what);
	xl_domain_name(dom, op->domain);
	if (xl_pci_fill(&op->pci, s->bdf) < 0) {
		*err = lt_strdupf("%s: not a PCI address", op->what);
		free(op);
		return -1;
	}
	if (attach && op->domid == 0) {
		*err = lt_strdupf("%s: domain %s is not created", op->what,
				  op->domain);
		goto fail;
	}
	/* Done already (or, for a detach, nothing to do): the switch
	 * repeats a step after a restart, and undoes one that failed. */
	if ((op->domid != 0 && pci_listed(xb->ctx, op->domid, &op->pci)) ==
	    attach) {
		if (attach)
			s->domid = op->domid;
		else if (s->domid == op->domid)
			s->domid = 0;
		pci_op_free(op);
		return xl_defer_done(xb, done, arg, 0, NULL, err);
	}
	if (attach && on_pciback(xb, op->what, s->bdf, err) < 0)
		goto fail;
	ao = xl_ao_new(xb, pci_op_finished, op, &how);
	if (ao == NULL) {
		*err = lt_strdupf("%s: out of memory", op->what);
		goto fail;
	}
	rc = attach
		 ? libxl_device_pci_add(xb->ctx, op->domid, &op->pci, &how)
		 : libxl_device_pci_remove(xb->ctx, op->domid, &op->pci, &how);
	if (rc != 0) {
		xl_ao_abandon(ao);
		*err = lt_strdupf(
		    "%s: libxl cannot %s domain %s (domid "
		    "%" PRIu32 "): %s",
		    op->what, attach ? "hot-plug it into" : "unplug it from",
		    op->domain, op->domid, libxl_error_name(rc));
		goto fail;
	}
	s->busy = 1;
	return 0;
fail:
	pci_op_free(op);
	return -1;
}

int xl_vf_attach(struct backend *be, struct be_domain *dom, int vf,
		 lt_done_fn done, void *arg, char **err)
{
	return pci_op_start(be, dom, vf, 1, done, arg, err);
}

int xl_vf_detach(struct backend *be, struct be_domain *dom, int vf,
		 lt_done_fn done, void *arg, char **err)
{
	return pci_op_start(be, dom, vf, 0, done, arg, err);
}

/* --- around the domain's own operations ------------------------------- */

/* An engine request held across a step of ours. */
struct around {
	struct backend *be;
	struct be_domain *dom;
	int vf; /* the VF it holds, or -1 */
	lt_done_fn done;
	void *arg;
};

static struct around *around_new(struct backend *be, struct be_domain *dom,
				 lt_done_fn done, void *arg, char **err)
{
	struct around *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		*err = lt_strdupf("out of memory");
		return NULL;
	}
	a->be = be;
	a->dom = dom;
	a->vf = -1;
	a->done = done;
	a->arg = arg;
	return a;
}

/* Tells the engine and frees a. */
static void around_end(struct around *a, int err, const char *msg)
{
	lt_done_fn done = a->done;
	void *arg = a->arg;

	free(a);
	done(arg, err, msg);
}

static void create_done(void *arg, int err, const char *msg)
{
	struct around *a = arg;
	struct xl_vf_pool *pool = xl_pool_of(a->be->priv, a->dom->deployment);

	if (err == 0 && pool != NULL && (unsigned)a->vf < pool->count)
		pool->slots[a->vf].domid = a->dom->domid;
	around_end(a, err, msg);
}

static void create_mac_done(void *arg, int err, const char *msg)
{
	struct around *a = arg;
	char *why = NULL;

	if (err != 0) {
		around_end(a, err, msg);
		return;
	}
	if (xl_domain_create(a->be, a->dom, create_done, a, &why) < 0) {
		around_end(a, EIO, why ? why : "create failed");
		free(why);
	}
}

/* A direct app: its VF's MAC first, as the switch's prepare does, so that
 * the guest's driver finds it when it probes. */
int xl_vf_domain_create(struct backend *be, struct be_domain *dom,
			lt_done_fn done, void *arg, char **err)
{
	struct around *a;

	if (dom->is_server || dom->vf < 0)
		return xl_domain_create(be, dom, done, arg, err);
	a = around_new(be, dom, done, arg, err);
	if (a == NULL)
		return -1;
	a->vf = dom->vf;
	if (xl_vf_prepare(be, dom, dom->vf, create_mac_done, a, err) < 0) {
		free(a);
		return -1;
	}
	return 0;
}

static void destroy_parked(void *arg, int err, const char *msg)
{
	struct around *a = arg;

	/* The domain is gone, which is what was asked: a MAC left behind
	 * is replaced by the VF's next prepare. */
	if (err != 0)
		log_warn("%s", msg ? msg : "parking a VF's MAC failed");
	around_end(a, 0, NULL);
}

static void destroy_done(void *arg, int err, const char *msg)
{
	struct around *a = arg;
	struct xl_vf_pool *pool = xl_pool_of(a->be->priv, a->dom->deployment);
	char *why = NULL;

	if (err != 0 || pool == NULL || a->vf < 0 ||
	    (unsigned)a->vf >= pool->count) {
		around_end(a, err, msg);
		return;
	}
	/* libxl's destroy unplugged it, pciback keeps it: free again. */
	pool->slots[a->vf].domid = 0;
	if (xl_vf_release(a->be, a->dom, a->vf, destroy_parked, a, &why) < 0) {
		log_warn("%s", why ? why : "parking a VF's MAC failed");
		free(why);
		around_end(a, 0, NULL);
	}
}

/* The VF dom holds: the one Xen gave it (hot-plugged, or at create), else
 * a direct app's. */
static int held_vf(struct xl_backend *xb, const struct be_domain *dom)
{
	struct xl_vf_pool *pool = xl_pool_of(xb, dom->deployment);

	if (pool == NULL)
		return -1;
	for (unsigned i = 0; dom->domid != 0 && i < pool->count; i++)
		if (pool->slots[i].domid == dom->domid)
			return (int)i;
	return dom->vf >= 0 && (unsigned)dom->vf < pool->count ? dom->vf : -1;
}

int xl_vf_domain_destroy(struct backend *be, struct be_domain *dom,
			 lt_done_fn done, void *arg, char **err)
{
	int vf = dom->is_server ? -1 : held_vf(be->priv, dom);
	struct around *a;

	if (vf < 0)
		return xl_domain_destroy(be, dom, done, arg, err);
	a = around_new(be, dom, done, arg, err);
	if (a == NULL)
		return -1;
	a->vf = vf;
	if (xl_domain_destroy(be, dom, destroy_done, a, err) < 0) {
		free(a);
		return -1;
	}
	return 0;
}

/* A domain found running keeps the VF Xen says it has; the engine knows
 * its number from its state file, the pool its address. */
int xl_vf_domain_adopt(struct backend *be, struct be_domain *dom,
		       struct json_object *described, int *running, char **err)
{
	struct xl_backend *xb = be->priv;
	int found = xl_domain_adopt(be, dom, described, running, err);
	struct xl_vf_pool *pool;

	if (found != 1 || dom->is_server || dom->domid == 0)
		return found;
	pool = xl_pool_of(xb, dom->deployment);
	for (unsigned i = 0; pool != NULL && i < pool->count; i++) {
		if (!vf_listed(xb, dom->domid, pool->slots[i].bdf))
			continue;
		pool->slots[i].domid = dom->domid;
		log_info("adopt %s/%s: domid %u has VF %u (%s)",
			 dom->deployment->name, dom->name, dom->domid, i,
			 pool->slots[i].bdf);
	}
	return found;
}

void xl_vf_domain_describe(struct backend *be, struct be_domain *dom,
			   struct json_object *obj)
{
	struct xl_vf_pool *pool = xl_pool_of(be->priv, dom->deployment);
	const char *bdf = NULL;

	xl_domain_describe(be, dom, obj);
	if (dom->is_server)
		return;
	for (unsigned i = 0; pool != NULL && dom->domid != 0 && i < pool->count;
	     i++)
		if (pool->slots[i].domid == dom->domid)
			bdf = pool->slots[i].bdf;
	json_object_object_add(obj, "vf_bdf",
			       bdf ? json_object_new_string(bdf) : NULL);
}
