#include "vf_sysfs_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int xen_vf_io_path(char *buf, size_t size, const char *root, const char *fmt,
		   ...)
{
	va_list ap;
	int head, tail;

	head = snprintf(buf, size, "%s/", root);
	if (head < 0 || (size_t)head >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	va_start(ap, fmt);
	tail = vsnprintf(buf + head, size - head, fmt, ap);
	va_end(ap);
	if (tail < 0 || (size_t)tail >= size - head) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int xen_vf_io_read_line(const char *path, char *buf, size_t size)
{
	int fd = -1, rc = -1, saved;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	/* sysfs hands a whole attribute to the first read */
	n = read(fd, buf, size);
	if (n < 0)
		goto out;
	if ((size_t)n == size) {
		errno = EFBIG;
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	rc = 0;
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}

int xen_vf_io_read_uint(const char *path, unsigned *value)
{
	char line[32], *end;
	unsigned long v;

	if (xen_vf_io_read_line(path, line, sizeof(line)) < 0)
		return -1;
	if (line[0] < '0' || line[0] > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoul(line, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT_MAX) {
		errno = EINVAL;
		return -1;
	}
	*value = (unsigned)v;
	return 0;
}

int xen_vf_io_link_basename(const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;
	size_t len;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	while (n > 0 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		errno = EBADMSG;
		return -1;
	}
	len = strlen(base);
	if (len >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, base, len + 1);
	return 0;
}

int xen_vf_io_write(const char *path, const char *s)
{
	int fd = -1, rc = -1, saved;
	size_t len = strlen(s);
	ssize_t n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	n = write(fd, s, len);
	if (n < 0)
		goto out;
	if ((size_t)n != len) {
		errno = EIO; /* a store is all or nothing */
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	/* a write is only done once close says so */
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		saved = errno;
		rc = -1;
	}
	errno = saved;
	return rc;
}

int xen_vf_io_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}
