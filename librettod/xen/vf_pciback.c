#include "vf_pciback.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vf_sysfs_io.h"

/* Writes the VF's address to <root>/<fmt...>. */
static int write_bdf(const char *root, const char *bdf, char **err,
		     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int write_bdf(const char *root, const char *bdf, char **err,
		     const char *fmt, ...)
{
	char rel[PATH_MAX], path[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel)) {
		*err = lt_strdupf("VF %s: %s/%s...: %s", bdf, root, rel,
				  strerror(ENAMETOOLONG));
		return -1;
	}
	if (xen_vf_io_path(path, sizeof(path), root, "%s", rel) < 0 ||
	    xen_vf_io_write(path, bdf) < 0) {
		*err = lt_strdupf("VF %s: writing it to %s: %s", bdf, path,
				  strerror(errno));
		return -1;
	}
	return 0;
}

/* The VF's canonical address, and that the device is there. */
static int vf_check(const char *root, const char *vf_bdf,
		    char bdf[XEN_VF_BDF_SIZE], char **err)
{
	char path[PATH_MAX];
	int found;

	if (!xen_vf_bdf_parse(vf_bdf, bdf)) {
		*err = lt_strdupf("VF '%s': not a PCI address (dddd:bb:dd.f)",
				  vf_bdf);
		return -1;
	}
	if (xen_vf_io_path(path, sizeof(path), root, "bus/pci/devices/%s",
			   bdf) < 0 ||
	    (found = xen_vf_io_exists(path)) < 0) {
		*err = lt_strdupf("VF %s: %s: %s", bdf, path, strerror(errno));
		return -1;
	}
	if (!found) {
		*err = lt_strdupf("VF %s: no such PCI device: %s: %s", bdf,
				  path, strerror(ENOENT));
		return -1;
	}
	return 0;
}

/* The driver the VF is bound to, "" for none. */
static int vf_driver(const char *root, const char *bdf,
		     char driver[XEN_VF_DRIVER_SIZE], char **err)
{
	char path[PATH_MAX];

	driver[0] = '\0';
	if (xen_vf_io_path(path, sizeof(path), root,
			   "bus/pci/devices/%s/driver", bdf) < 0 ||
	    xen_vf_io_link_basename(path, driver, XEN_VF_DRIVER_SIZE) < 0) {
		if (errno == ENOENT) {
			driver[0] = '\0';
			return 0;
		}
		*err = lt_strdupf("VF %s: %s: %s", bdf, path,
				  errno == EINVAL ? "not a symlink"
						  : strerror(errno));
		return -1;
	}
	return 0;
}

static int pciback_check(const char *root, const char *bdf, char **err)
{
	char path[PATH_MAX];
	int found;

	if (xen_vf_io_path(path, sizeof(path), root, XEN_VF_PCIBACK_DIR) < 0 ||
	    (found = xen_vf_io_exists(path)) < 0) {
		*err = lt_strdupf("VF %s: %s: %s", bdf, path, strerror(errno));
		return -1;
	}
	if (!found) {
		*err = lt_strdupf("VF %s: xen-pciback is not loaded (%s: %s); "
				  "load it with 'modprobe xen-pciback'",
				  bdf, path, strerror(ENOENT));
		return -1;
	}
	return 0;
}

/* Whether pciback/slots lists the VF: writing new_slot twice lists it
 * twice, so libxl looks first and so do we.  1, 0, or -1 with *err. */
static int pciback_has_slot(const char *root, const char *bdf, char **err)
{
	char path[PATH_MAX], line[64], slot[XEN_VF_BDF_SIZE];
	FILE *f = NULL;
	int rc = -1;

	if (xen_vf_io_path(path, sizeof(path), root,
			   XEN_VF_PCIBACK_DIR "/slots") < 0 ||
	    (f = fopen(path, "re")) == NULL) {
		*err = lt_strdupf("VF %s: %s: %s", bdf, path, strerror(errno));
		goto out;
	}
	rc = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (xen_vf_bdf_parse(line, slot) && strcmp(slot, bdf) == 0) {
			rc = 1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		*err = lt_strdupf("VF %s: reading %s: %s", bdf, path,
				  strerror(errno));
		rc = -1;
	}
out:
	if (f)
		fclose(f);
	return rc;
}

/*
 * The VF's driver_override: while it names a driver, the kernel binds the
 * device to that driver only, and a VF of a PF whose
 * sriov_drivers_autoprobe is 0 can be bound at all only then
 * (pci_device_can_probe); the run under QEMU's igb (issue 6) set it to
 * pciback before making a VF assignable.  Setting it first also keeps any
 * other driver from probing the device between the unbind and pciback's
 * bind.  A kernel without the attribute (older than 3.16) goes by the
 * slots alone.  value "\n" clears it.  1 written, 0 no attribute, -1
 * with *err.
 */
static int override_write(const char *root, const char *bdf, const char *value,
			  char **err)
{
	char path[PATH_MAX];
	int found;

	if (xen_vf_io_path(path, sizeof(path), root,
			   "bus/pci/devices/%s/driver_override", bdf) < 0 ||
	    (found = xen_vf_io_exists(path)) < 0) {
		*err = lt_strdupf("VF %s: %s: %s", bdf, path, strerror(errno));
		return -1;
	}
	if (!found)
		return 0;
	if (xen_vf_io_write(path, value) < 0) {
		*err = lt_strdupf("VF %s: writing '%s' to %s: %s", bdf,
				  value[0] == '\n' ? "\\n" : value, path,
				  strerror(errno));
		return -1;
	}
	return 1;
}

/* The override cleared after a failed add that changed nothing else;
 * *err says so if that fails too. */
static void override_undo(const char *root, const char *bdf, char **err)
{
	char *undo_err = NULL, *both;

	if (override_write(root, bdf, "\n", &undo_err) >= 0)
		return;
	both = lt_strdupf("%s; clearing driver_override failed too: %s",
			  *err ? *err : "", undo_err ? undo_err : "");
	if (both) {
		free(*err);
		*err = both;
	}
	free(undo_err);
}

/* After a failed add: take back the slot it added, clear the override
 * it set and rebind the driver it left (each tried, whatever the others
 * did), and say in *err how that went. */
static void add_undo(const char *root, const char *bdf, const char *driver,
		     bool overridden, bool slot_added, char **err)
{
	char *slot_err = NULL, *bind_err = NULL, *both;

	if (!overridden && !slot_added && driver[0] == '\0')
		return; /* nothing had changed */
	if (slot_added)
		write_bdf(root, bdf, &slot_err,
			  XEN_VF_PCIBACK_DIR "/remove_slot");
	/* Cleared first: while it names pciback, no other driver binds. */
	if (overridden && override_write(root, bdf, "\n", &bind_err) < 0)
		driver = ""; /* its bind would fail the same */
	if (driver[0] != '\0')
		write_bdf(root, bdf, &bind_err, "bus/pci/drivers/%s/bind",
			  driver);
	if (slot_err || bind_err)
		both = lt_strdupf("%s; undoing it failed too: %s%s%s",
				  *err ? *err : "", slot_err ? slot_err : "",
				  slot_err && bind_err ? "; " : "",
				  bind_err ? bind_err : "");
	else
		both = lt_strdupf("%s; put back on %s", *err ? *err : "",
				  driver[0] ? driver : "no driver");
	if (both) {
		free(*err);
		*err = both;
	}
	free(slot_err);
	free(bind_err);
}

int xen_vf_assignable_add(const char *root, const char *vf_bdf,
			  char orig_driver[XEN_VF_DRIVER_SIZE], char **err)
{
	char bdf[XEN_VF_BDF_SIZE], driver[XEN_VF_DRIVER_SIZE];
	bool slot_added = false, overridden;
	int slot, rc;

	orig_driver[0] = '\0';
	if (vf_check(root, vf_bdf, bdf, err) < 0 ||
	    pciback_check(root, bdf, err) < 0 ||
	    vf_driver(root, bdf, driver, err) < 0)
		return -1;
	if (xen_vf_driver_is_pciback(driver))
		return 1;

	/* Before the unbind, so that nothing else probes it meanwhile. */
	rc = override_write(root, bdf, "pciback", err);
	if (rc < 0)
		return -1;
	overridden = rc == 1;
	if (driver[0] != '\0' &&
	    write_bdf(root, bdf, err, "bus/pci/devices/%s/driver/unbind", bdf) <
		0) {
		/* Still on its driver: only the override to take back. */
		if (overridden)
			override_undo(root, bdf, err);
		return -1;
	}
	slot = pciback_has_slot(root, bdf, err);
	if (slot < 0)
		goto undo;
	if (slot == 0) {
		if (write_bdf(root, bdf, err, XEN_VF_PCIBACK_DIR "/new_slot") <
		    0)
			goto undo;
		slot_added = true;
	}
	if (write_bdf(root, bdf, err, XEN_VF_PCIBACK_DIR "/bind") < 0)
		goto undo;
	memcpy(orig_driver, driver, sizeof(driver));
	return 0;
undo:
	add_undo(root, bdf, driver, overridden, slot_added, err);
	return -1;
}

int xen_vf_assignable_remove(const char *root, const char *vf_bdf,
			     const char *orig_driver, char **err)
{
	char bdf[XEN_VF_BDF_SIZE], driver[XEN_VF_DRIVER_SIZE];
	int slot, overridden;

	if (orig_driver && orig_driver[0] != '\0' &&
	    (!xen_vf_name_ok(orig_driver, XEN_VF_DRIVER_SIZE) ||
	     xen_vf_driver_is_pciback(orig_driver))) {
		*err = lt_strdupf("VF %s: '%s' is not a dom0 driver to give "
				  "it back to",
				  vf_bdf, orig_driver);
		return -1;
	}
	if (vf_check(root, vf_bdf, bdf, err) < 0 ||
	    vf_driver(root, bdf, driver, err) < 0)
		return -1;
	if (driver[0] != '\0' && !xen_vf_driver_is_pciback(driver))
		return 1; /* dom0 has it already */

	if (driver[0] != '\0') {
		if (write_bdf(root, bdf, err,
			      "bus/pci/devices/%s/driver/unbind", bdf) < 0)
			return -1;
		slot = pciback_has_slot(root, bdf, err);
		if (slot < 0 || (slot == 1 && write_bdf(root, bdf, err,
							XEN_VF_PCIBACK_DIR
							"/remove_slot") < 0))
			return -1;
	}
	/* The override steers the bind: to the driver it goes back to,
	 * which a VF without autoprobe needs, and cleared once bound. */
	overridden = override_write(
	    root, bdf,
	    orig_driver && orig_driver[0] != '\0' ? orig_driver : "\n", err);
	if (overridden < 0)
		return -1;
	if (orig_driver == NULL)
		return write_bdf(root, bdf, err, "bus/pci/drivers_probe");
	if (orig_driver[0] == '\0')
		return 0;
	if (write_bdf(root, bdf, err, "bus/pci/drivers/%s/bind", orig_driver) <
	    0)
		return -1;
	if (overridden == 1 && override_write(root, bdf, "\n", err) < 0)
		return -1;
	return 0;
}
