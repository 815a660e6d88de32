/*
 * Hands a VF to xen-pciback, so that libxl_device_pci_add can pass it to a
 * guest, and gives it back to a dom0 driver: what `xl pci-assignable-add`
 * and `xl pci-assignable-remove -r` do (libxl_pci.c: sysfs_dev_unbind,
 * pciback_dev_assign, pciback_dev_unassign), as plain writes of the VF's
 * address to sysfs attributes under <root> ("/sys" on a host).
 *
 * libxl keeps the driver a device left in xenstore; here the caller keeps
 * it (the VF pool records it with the VF) and hands it back to remove.
 */
#ifndef LIBRETTOD_XEN_VF_PCIBACK_H
#define LIBRETTOD_XEN_VF_PCIBACK_H

#include "vf_sysfs.h"

/* pciback's directory under <root>: xen-pciback registers as "pciback". */
#define XEN_VF_PCIBACK_DIR "bus/pci/drivers/pciback"

/*
 * Sets the VF's driver_override to pciback (where the kernel has the
 * attribute), unbinds the VF from its driver
 * (bus/pci/devices/<bdf>/driver/unbind), gives it a pciback slot unless
 * pciback/slots lists it already (pciback/new_slot), and binds it to
 * pciback (pciback/bind).
 *
 * 0: done, and orig_driver holds the driver it left ("" for none);
 * 1: it was on pciback already, nothing written, orig_driver "";
 * -1 with *err: a failure first puts the VF back where it was
 * (remove_slot, the override cleared, <driver>/bind) and *err says
 * whether that worked.
 */
int xen_vf_assignable_add(const char *root, const char *vf_bdf,
			  char orig_driver[XEN_VF_DRIVER_SIZE], char **err);

/*
 * Takes the VF off pciback (bus/pci/devices/<bdf>/driver/unbind, then
 * pciback/remove_slot when slots lists it) and gives it to a dom0 driver:
 * orig_driver's bind when it names one (with driver_override naming it
 * for the bind, cleared after), the kernel's choice
 * (bus/pci/drivers_probe, the override cleared) when it is NULL, none
 * when it is "" (the override cleared).
 *
 * Only for a VF no guest has: pciback lets go of a device in use by a
 * domain with no more than a warning, so libxl_device_pci_remove first.
 *
 * 0: done; 1: it was on another driver, nothing written; -1 with *err.
 */
int xen_vf_assignable_remove(const char *root, const char *vf_bdf,
			     const char *orig_driver, char **err);

#endif
