#include "vf_sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "vf_sysfs_io.h"

/* sysfs names a PCI function dddd:bb:dd.f: device 0-1f, function 0-7. */
bool xen_vf_bdf_parse(const char *s, char out[XEN_VF_BDF_SIZE])
{
	static const char shape[] = "xxxx:xx:xx.x";
	char bdf[XEN_VF_BDF_SIZE];
	unsigned dev, fn;

	for (size_t i = 0; i < sizeof(shape); i++) {
		if (shape[i] == 'x') {
			if (!isxdigit((unsigned char)s[i]))
				return false;
			bdf[i] = (char)tolower((unsigned char)s[i]);
		} else if (s[i] != shape[i]) {
			return false; /* also the NUL: no trailing text */
		} else {
			bdf[i] = s[i];
		}
	}
	if (sscanf(bdf + 8, "%2x.%1x", &dev, &fn) != 2 || dev > 0x1f || fn > 7)
		return false;
	if (out)
		memcpy(out, bdf, sizeof(bdf));
	return true;
}

bool xen_vf_driver_is_pciback(const char *driver)
{
	return strcmp(driver, "pciback") == 0 ||
	       strcmp(driver, "xen-pciback") == 0;
}

bool xen_vf_name_ok(const char *name, size_t size)
{
	size_t len = strnlen(name, size);

	return len > 0 && len < size && strchr(name, '/') == NULL &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The PF's netdev when it was named by address: the one entry of its
 * net/ directory (the smallest name, should a driver make several). */
static int pf_find_netdev(const char *root, const char *dev_rel,
			  struct xen_vf_pf *pf, char **err)
{
	char path[PATH_MAX];
	DIR *dir = NULL;
	struct dirent *de;
	int rc = -1;

	pf->netdev[0] = '\0';
	if (xen_vf_io_path(path, sizeof(path), root, "%s/net", dev_rel) < 0 ||
	    (dir = opendir(path)) == NULL) {
		if (errno == ENOENT)
			rc = 0; /* no driver, so no netdev */
		else
			*err = lt_strdupf("PF %s: %s: %s", pf->bdf, path,
					  strerror(errno));
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		if (!xen_vf_name_ok(de->d_name, sizeof(pf->netdev)))
			continue; /* ".", ".." */
		if (pf->netdev[0] == '\0' || strcmp(de->d_name, pf->netdev) < 0)
			strcpy(pf->netdev, de->d_name);
	}
	rc = 0;
out:
	if (dir)
		closedir(dir);
	return rc;
}

static int pf_resolve_bdf(const char *root, const char *name,
			  struct xen_vf_pf *pf, char *dev_rel, size_t rel_size,
			  char **err)
{
	char path[PATH_MAX];
	int found;

	xen_vf_bdf_parse(name, pf->bdf);
	snprintf(dev_rel, rel_size, "bus/pci/devices/%s", pf->bdf);
	if (xen_vf_io_path(path, sizeof(path), root, "%s", dev_rel) < 0 ||
	    (found = xen_vf_io_exists(path)) < 0) {
		*err = lt_strdupf("PF %s: %s: %s", name, path, strerror(errno));
		return -1;
	}
	if (!found) {
		*err = lt_strdupf("PF %s: no such PCI device: %s: %s", name,
				  path, strerror(ENOENT));
		return -1;
	}
	return pf_find_netdev(root, dev_rel, pf, err);
}

static int pf_resolve_netdev(const char *root, const char *name,
			     struct xen_vf_pf *pf, char *dev_rel,
			     size_t rel_size, char **err)
{
	char path[PATH_MAX], target[NAME_MAX + 1];
	int found;

	if (!xen_vf_name_ok(name, sizeof(pf->netdev))) {
		*err = lt_strdupf("PF '%s': neither a PCI address "
				  "(dddd:bb:dd.f) nor a network interface name",
				  name);
		return -1;
	}
	if (xen_vf_io_path(path, sizeof(path), root, "class/net/%s", name) <
		0 ||
	    (found = xen_vf_io_exists(path)) < 0) {
		*err = lt_strdupf("PF %s: %s: %s", name, path, strerror(errno));
		return -1;
	}
	if (!found) {
		*err = lt_strdupf("PF %s: no such network interface: %s: %s",
				  name, path, strerror(ENOENT));
		return -1;
	}
	snprintf(dev_rel, rel_size, "class/net/%s/device", name);
	if (xen_vf_io_path(path, sizeof(path), root, "%s", dev_rel) < 0 ||
	    xen_vf_io_link_basename(path, target, sizeof(target)) < 0) {
		*err =
		    lt_strdupf("PF %s: %s: %s%s", name, path, strerror(errno),
			       errno == ENOENT ? " (a virtual interface, not "
						 "a PCI device?)"
					       : "");
		return -1;
	}
	if (!xen_vf_bdf_parse(target, pf->bdf)) {
		*err = lt_strdupf("PF %s: %s links to %s, not a PCI device",
				  name, path, target);
		return -1;
	}
	if ((found = xen_vf_io_exists(path)) <= 0) {
		*err =
		    lt_strdupf("PF %s: %s: dangling link to %s: %s", name, path,
			       target, strerror(found == 0 ? ENOENT : errno));
		return -1;
	}
	snprintf(pf->netdev, sizeof(pf->netdev), "%s", name);
	return 0;
}

/* Why a number could not be read from an attribute. */
static const char *attr_error(int error)
{
	return error == EINVAL ? "not a number" : strerror(error);
}

/* sriov_totalvfs, then sriov_numvfs; only SR-IOV devices have them. */
static int pf_read_sriov(const char *root, const char *label,
			 const char *dev_rel, struct xen_vf_pf *pf, char **err)
{
	char total[PATH_MAX], num[PATH_MAX];

	if (xen_vf_io_path(total, sizeof(total), root, "%s/sriov_totalvfs",
			   dev_rel) < 0 ||
	    xen_vf_io_path(num, sizeof(num), root, "%s/sriov_numvfs", dev_rel) <
		0) {
		*err = lt_strdupf("PF %s: %s/%s: %s", label, root, dev_rel,
				  strerror(errno));
		return -1;
	}
	if (xen_vf_io_read_uint(total, &pf->total_vfs) < 0) {
		*err = lt_strdupf("PF %s: %s%s: %s", label,
				  errno == ENOENT ? "not SR-IOV capable: " : "",
				  total, attr_error(errno));
		return -1;
	}
	if (xen_vf_io_read_uint(num, &pf->num_vfs) < 0) {
		*err =
		    lt_strdupf("PF %s: %s: %s", label, num, attr_error(errno));
		return -1;
	}
	if (pf->num_vfs == 0) {
		*err = lt_strdupf("PF %s: no VFs enabled (%s is 0, the device "
				  "has up to %u); enable them first: echo "
				  "COUNT > %s",
				  label, num, pf->total_vfs, num);
		return -1;
	}
	if (pf->num_vfs > pf->total_vfs) {
		*err = lt_strdupf("PF %s: %s is %u, more than sriov_totalvfs "
				  "(%u)",
				  label, num, pf->num_vfs, pf->total_vfs);
		return -1;
	}
	pf->nvfs = pf->num_vfs < LT_MAX_VFS ? pf->num_vfs : LT_MAX_VFS;
	return 0;
}

/* N of "virtfn<N>", in decimal without leading zeros; -1 if malformed. */
static long virtfn_index(const char *name)
{
	const char *digits = name + strlen("virtfn");
	long index = 0;

	if (digits[0] == '\0' || (digits[0] == '0' && digits[1] != '\0'))
		return -1;
	for (const char *p = digits; *p; p++) {
		if (*p < '0' || *p > '9' || index > 65535)
			return -1;
		index = index * 10 + (*p - '0');
	}
	return index;
}

/* Every virtfn<N> link is well named and below sriov_numvfs, and every N
 * below it that the pool lists is there. */
static int pf_check_virtfns(const char *root, const char *label,
			    const char *dev_rel, struct xen_vf_pf *pf,
			    char **err)
{
	char path[PATH_MAX];
	bool seen[LT_MAX_VFS] = {false};
	DIR *dir = NULL;
	struct dirent *de;
	long index;
	int rc = -1;

	if (xen_vf_io_path(path, sizeof(path), root, "%s", dev_rel) < 0 ||
	    (dir = opendir(path)) == NULL) {
		*err =
		    lt_strdupf("PF %s: %s: %s", label, path, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "virtfn", strlen("virtfn")) != 0)
			continue;
		index = virtfn_index(de->d_name);
		if (index < 0) {
			*err = lt_strdupf("PF %s: %s/%s: not a virtfn<N> name",
					  label, path, de->d_name);
			goto out;
		}
		if (index >= (long)pf->num_vfs) {
			*err = lt_strdupf("PF %s: %s/%s: beyond sriov_numvfs "
					  "(%u)",
					  label, path, de->d_name, pf->num_vfs);
			goto out;
		}
		if (index < LT_MAX_VFS)
			seen[index] = true;
	}
	for (size_t i = 0; i < pf->nvfs; i++) {
		if (!seen[i]) {
			*err = lt_strdupf("PF %s: %s/virtfn%zu: missing "
					  "(sriov_numvfs is %u)",
					  label, path, i, pf->num_vfs);
			goto out;
		}
	}
	rc = 0;
out:
	if (dir)
		closedir(dir);
	return rc;
}

static int vf_read(const char *root, const char *label, const char *dev_rel,
		   unsigned index, struct xen_vf *vf, char **err)
{
	char link[PATH_MAX], driver[PATH_MAX], target[NAME_MAX + 1];
	int found;

	vf->index = index;
	if (xen_vf_io_path(link, sizeof(link), root, "%s/virtfn%u", dev_rel,
			   index) < 0 ||
	    xen_vf_io_path(driver, sizeof(driver), root, "%s/virtfn%u/driver",
			   dev_rel, index) < 0) {
		*err = lt_strdupf("PF %s: virtfn%u: %s", label, index,
				  strerror(errno));
		return -1;
	}
	if (xen_vf_io_link_basename(link, target, sizeof(target)) < 0) {
		*err = lt_strdupf("PF %s: %s: %s", label, link,
				  errno == EINVAL ? "not a symlink"
						  : strerror(errno));
		return -1;
	}
	if (!xen_vf_bdf_parse(target, vf->bdf)) {
		*err = lt_strdupf("PF %s: %s links to %s, not a PCI device",
				  label, link, target);
		return -1;
	}
	if ((found = xen_vf_io_exists(link)) <= 0) {
		*err = lt_strdupf("PF %s: %s: dangling link to %s: %s", label,
				  link, vf->bdf,
				  strerror(found == 0 ? ENOENT : errno));
		return -1;
	}
	if (xen_vf_io_link_basename(driver, vf->driver, sizeof(vf->driver)) <
	    0) {
		if (errno != ENOENT) {
			*err = lt_strdupf("PF %s: VF %u (%s): %s: %s", label,
					  index, vf->bdf, driver,
					  errno == EINVAL ? "not a symlink"
							  : strerror(errno));
			return -1;
		}
		vf->driver[0] = '\0'; /* bound to no driver */
	}
	vf->on_pciback = xen_vf_driver_is_pciback(vf->driver);
	return 0;
}

/* pf's address and netdev from its name; dev_rel gets its directory. */
static int pf_locate(const char *root, const char *pf_name,
		     struct xen_vf_pf *pf, char *dev_rel, size_t rel_size,
		     char **err)
{
	memset(pf, 0, sizeof(*pf));
	if (xen_vf_bdf_parse(pf_name, NULL))
		return pf_resolve_bdf(root, pf_name, pf, dev_rel, rel_size,
				      err);
	return pf_resolve_netdev(root, pf_name, pf, dev_rel, rel_size, err);
}

int xen_vf_pf_locate(const char *root, const char *pf_name,
		     struct xen_vf_pf *pf, char **err)
{
	char dev_rel[64 + IF_NAMESIZE];

	return pf_locate(root, pf_name, pf, dev_rel, sizeof(dev_rel), err);
}

int xen_vf_pf_discover(const char *root, const char *pf_name,
		       struct xen_vf_pf *pf, char **err)
{
	/* the PF's device directory, relative to root */
	char dev_rel[64 + IF_NAMESIZE],
	    label[IF_NAMESIZE + XEN_VF_BDF_SIZE + 4];

	if (pf_locate(root, pf_name, pf, dev_rel, sizeof(dev_rel), err) < 0)
		return -1;

	if (pf->netdev[0] != '\0')
		snprintf(label, sizeof(label), "%s (%s)", pf->netdev, pf->bdf);
	else
		snprintf(label, sizeof(label), "%s", pf->bdf);
	if (pf_read_sriov(root, label, dev_rel, pf, err) < 0 ||
	    pf_check_virtfns(root, label, dev_rel, pf, err) < 0)
		return -1;
	for (size_t i = 0; i < pf->nvfs; i++) {
		if (vf_read(root, label, dev_rel, (unsigned)i, &pf->vfs[i],
			    err) < 0)
			return -1;
	}
	return 0;
}
