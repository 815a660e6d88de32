/*
 * The few file operations the VF pool does under sysfs, each reporting
 * through errno so that the caller names the path and the step in its
 * message.  Paths are always "<root>/<relative>" so that the unit test can
 * point root at a recorded tree.
 */
#ifndef LIBRETTOD_XEN_VF_SYSFS_IO_H
#define LIBRETTOD_XEN_VF_SYSFS_IO_H

#include <stddef.h>

/* "<root>/<fmt...>" into buf; -1 with ENAMETOOLONG when it does not fit. */
int xen_vf_io_path(char *buf, size_t size, const char *root, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* A one-line attribute without its newline; -1 with errno (EFBIG when it
 * does not fit buf). */
int xen_vf_io_read_line(const char *path, char *buf, size_t size);

/* A decimal attribute such as sriov_numvfs; -1 with errno (EINVAL when it
 * is not a number). */
int xen_vf_io_read_uint(const char *path, unsigned *value);

/* The last element of a symlink's target (a driver's or a device's name);
 * -1 with errno: ENOENT no link, EINVAL not a link, ENAMETOOLONG too long
 * for buf, EBADMSG a target with no last element. */
int xen_vf_io_link_basename(const char *path, char *buf, size_t size);

/* Writes s to a sysfs attribute in one write(2), without a newline, as
 * libxl does: sysfs takes a store as one call. */
int xen_vf_io_write(const char *path, const char *s);

/* Whether path exists, following links: 1, 0 (ENOENT), -1 with errno. */
int xen_vf_io_exists(const char *path);

#endif
