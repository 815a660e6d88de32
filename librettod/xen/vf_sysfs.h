/*
 * The xen backend's VF pool as sysfs shows it: an SR-IOV physical function
 * (PF), named by its netdev ("enp3s0f0") or its PCI address
 * ("0000:03:00.0"), and its enabled virtual functions (VFs) with the driver
 * each one is bound to.  Reads only; vf_pciback.h moves a VF to pciback
 * and back.  Every call takes the sysfs root ("/sys" on a host) so that the
 * unit test can run it on a recorded tree (tests/data/sysfs-sriov).
 * docs/xen-vf.md has the paths.
 */
#ifndef LIBRETTOD_XEN_VF_SYSFS_H
#define LIBRETTOD_XEN_VF_SYSFS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "deployment.h" /* LT_MAX_VFS */

/* "dddd:bb:dd.f", lower-case hex, with its NUL. */
#define XEN_VF_BDF_SIZE 13
/* A PCI driver's name as bus/pci/drivers/ lists it, with its NUL. */
#define XEN_VF_DRIVER_SIZE 64

struct xen_vf {
	unsigned index;			 /* N of the PF's virtfn<N> */
	char bdf[XEN_VF_BDF_SIZE];	 /* the VF's PCI address */
	char driver[XEN_VF_DRIVER_SIZE]; /* bound driver, "" for none */
	bool on_pciback;		 /* bound to pciback: assignable */
};

struct xen_vf_pf {
	char bdf[XEN_VF_BDF_SIZE];
	char netdev[IF_NAMESIZE]; /* "" when the PF has none (no driver) */
	unsigned total_vfs;	  /* sriov_totalvfs: the device's most */
	unsigned num_vfs;	  /* sriov_numvfs: enabled now */
	/* The VFs by index, vfs[i].index == i.  A deployment uses at most
	 * LT_MAX_VFS, so VFs past that are not listed (num_vfs says how many
	 * there are). */
	size_t nvfs;
	struct xen_vf vfs[LT_MAX_VFS];
};

/*
 * Fills *pf from <root>: the PF's PCI device (class/net/<netdev>/device or
 * bus/pci/devices/<bdf>), its sriov_totalvfs and sriov_numvfs, and each
 * virtfn<N> link with the VF's driver link.  -1 with *err (the PF, the
 * path and the errno) when the PF does not exist, is not SR-IOV capable,
 * has no VF enabled, or a link is malformed or dangling.
 */
int xen_vf_pf_discover(const char *root, const char *pf_name,
		       struct xen_vf_pf *pf, char **err);

/*
 * Only the first step of discover: pf->bdf and pf->netdev (the rest of *pf
 * zero) for a device that need not be SR-IOV capable, such as the NIC the
 * xen backend passes through to the network server.  -1 with *err when
 * pf_name is neither a PCI device nor the netdev of one.
 */
int xen_vf_pf_locate(const char *root, const char *pf_name,
		     struct xen_vf_pf *pf, char **err);

/* Whether s is a PCI address "dddd:bb:dd.f" (either case); out gets it in
 * lower case.  out may be NULL. */
bool xen_vf_bdf_parse(const char *s, char out[XEN_VF_BDF_SIZE]);

/* Whether a driver name is xen-pciback's ("pciback"; "xen-pciback" as
 * some kernels and tools spell it). */
bool xen_vf_driver_is_pciback(const char *driver);

/* Whether name can be one element of a sysfs path (a netdev or driver
 * name): not empty, no '/', not "." or "..", shorter than size. */
bool xen_vf_name_ok(const char *name, size_t size);

#endif
