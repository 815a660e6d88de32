/*
 * A deployment's VF pool on xen (docs/xen-vf.md, "The pool"): the first
 * network.vfs VFs of network.vf_pf, VF i being the PF's virtfn<i>, so
 * that the engine's VF numbers, the PF's own (IFLA_VF_MAC) and the pool's
 * agree.  vf_pf is a second PF that stays in dom0: network.nic is passed
 * through whole to the network server, and a PF a guest has loses its VFs
 * with its dom0 driver, their MACs with them.
 *
 * Choosing the pool only reads sysfs, on the loop (a few small files).
 * Making its VFs assignable and giving them back runs their drivers'
 * remove and probe: xl_pf.c calls these on its worker thread, with the
 * NIC's, and never touches libxl there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vf_pciback.h"
#include "xl_backend.h"

int xl_vf_pool_select(const char *root, const struct lt_network *net,
		      const char *nic_bdf, struct xl_vf_pool *pool, char **err)
{
	struct xen_vf_pf pf;
	char *why = NULL;

	memset(pool, 0, sizeof(*pool));
	if (net->vfs == 0)
		return 0;
	if (net->vf_pf[0] == '\0') {
		*err = lt_strdupf(
		    "network.vfs is %u but network.vf_pf is not set: the xen "
		    "backend passes network.nic (%s) through to the network "
		    "server whole, and a PF a guest has loses its VFs; name a "
		    "second SR-IOV PF that stays in dom0 (another port of the "
		    "card) as network.vf_pf",
		    net->vfs, net->nic);
		return -1;
	}
	/* Located first: a PF passed through has no VFs to discover, and
	 * "it is the NIC" says more than "no VFs enabled". */
	if (xen_vf_pf_locate(root, net->vf_pf, &pf, &why) < 0)
		goto discover_failed;
	if (strcmp(pf.bdf, nic_bdf) == 0) {
		*err = lt_strdupf(
		    "network.vf_pf %s (%s) is network.nic: the NIC is passed "
		    "through to the network server, and its VFs would vanish "
		    "with its dom0 driver; name another SR-IOV PF",
		    net->vf_pf, pf.bdf);
		return -1;
	}
	if (xen_vf_pf_discover(root, net->vf_pf, &pf, &why) < 0)
		goto discover_failed;
	if (pf.nvfs < net->vfs) {
		*err = lt_strdupf(
		    "network.vf_pf %s (%s) has %u VFs enabled and network.vfs "
		    "asks for %u: enable more with echo %u > "
		    "%s/bus/pci/devices/%s/sriov_numvfs (the device has up to "
		    "%u)",
		    net->vf_pf, pf.bdf, pf.num_vfs, net->vfs, net->vfs, root,
		    pf.bdf, pf.total_vfs);
		return -1;
	}
	if (pf.netdev[0] == '\0') {
		*err = lt_strdupf("network.vf_pf %s (%s) has no network "
				  "interface in dom0 (is its driver bound?): "
				  "the VFs' MACs are set through it",
				  net->vf_pf, pf.bdf);
		return -1;
	}
	memcpy(pool->pf_bdf, pf.bdf, sizeof(pool->pf_bdf));
	memcpy(pool->pf_netdev, pf.netdev, sizeof(pool->pf_netdev));
	pool->count = net->vfs;
	for (unsigned i = 0; i < pool->count; i++) {
		memcpy(pool->slots[i].bdf, pf.vfs[i].bdf, XEN_VF_BDF_SIZE);
		memcpy(pool->slots[i].driver, pf.vfs[i].driver,
		       XEN_VF_DRIVER_SIZE);
	}
	return 0;
discover_failed:
	*err = lt_strdupf("network.vf_pf %s: %s", net->vf_pf,
			  why ? why : "not found");
	free(why);
	return -1;
}

/* Gives back the first n VFs; failures are listed in *failures (each
 * "; VF i: why"), allocated.  The number that failed. */
static unsigned give_back(const char *root, struct xl_vf_pool *pool, unsigned n,
			  char **failures)
{
	unsigned failed = 0;

	*failures = NULL;
	for (unsigned i = 0; i < n; i++) {
		struct xl_vf_slot *s = &pool->slots[i];
		char *why = NULL, *more;

		if (s->was_assignable)
			continue;
		if (xen_vf_assignable_remove(root, s->bdf,
					     s->driver_known ? s->driver : NULL,
					     &why) >= 0)
			continue;
		failed++;
		more = lt_strdupf("%s; VF %u: %s", *failures ? *failures : "",
				  i, why ? why : "failed");
		if (more != NULL) {
			free(*failures);
			*failures = more;
		}
		free(why);
	}
	return failed;
}

int xl_vf_pool_assign(const char *root, struct xl_vf_pool *pool, char **err)
{
	for (unsigned i = 0; i < pool->count; i++) {
		struct xl_vf_slot *s = &pool->slots[i];
		char *why = NULL, *undo = NULL;
		int rc = xen_vf_assignable_add(root, s->bdf, s->driver, &why);

		if (rc >= 0) {
			s->driver_known = 1;
			s->was_assignable = rc == 1;
			continue;
		}
		/* The ones before it go back: setup holds nothing when it
		 * fails. */
		if (give_back(root, pool, i, &undo) > 0)
			*err = lt_strdupf("VF %u of %s: %s; giving back the "
					  "VFs before it failed too%s",
					  i, pool->pf_netdev,
					  why ? why : "failed", undo);
		else
			*err = lt_strdupf("VF %u of %s: %s%s", i,
					  pool->pf_netdev, why ? why : "failed",
					  i > 0 ? "; the VFs before it were "
						  "given back"
						: "");
		free(why);
		free(undo);
		return -1;
	}
	return 0;
}

int xl_vf_pool_give_back(const char *root, struct xl_vf_pool *pool, char **err)
{
	char *failures = NULL;
	unsigned failed = give_back(root, pool, pool->count, &failures);

	if (failed == 0)
		return 0;
	/* failures starts with "; " */
	*err = lt_strdupf("%u of the %u VFs of %s could not be given back: %s",
			  failed, pool->count, pool->pf_netdev,
			  failures ? failures + 2 : "out of memory");
	free(failures);
	return -1;
}
