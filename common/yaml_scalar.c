/* Typed scalars (integers, sizes) and reading a config file whole. */
#include "yaml_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Digits only: "+5", "0x10", " 5" and "5.0" are all refused, so that a
 * file means one thing and not what strtoul happens to accept. */
int lt_parse_uint(const char *s, unsigned long long max,
		  unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int lt_parse_size(const char *s, uint64_t *out)
{
	char digits[24];
	size_t n = 0;
	unsigned shift = 0;
	unsigned long long v;

	while (s[n] >= '0' && s[n] <= '9' && n < sizeof(digits) - 1) {
		digits[n] = s[n];
		n++;
	}
	digits[n] = '\0';
	switch (s[n]) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (shift && s[n + 1] != '\0')
		return -1;
	if (lt_parse_uint(digits, UINT64_MAX >> shift, &v) < 0)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

void lt_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char suffix[] = "GMK";

	for (unsigned i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * i;
		if (bytes && bytes % ((uint64_t)1 << shift) == 0) {
			snprintf(buf, size, "%" PRIu64 "%c", bytes >> shift,
				 suffix[i]);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64, bytes);
}

int lt_yaml_uint(struct lt_yaml *y, yaml_node_t *node, const char *where,
		 unsigned long long min, unsigned long long max,
		 unsigned long long *out)
{
	char expected[96], found[64];
	const char *s;

	snprintf(expected, sizeof(expected), "an integer from %llu to %llu",
		 min, max);
	s = lt_yaml_string(y, node, where, 0, expected);
	if (!s)
		return -1;
	if (lt_parse_uint(s, max, out) < 0 || *out < min) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(y, node, where, "%s is not %s", found,
				    expected);
	}
	return 0;
}

int lt_yaml_size(struct lt_yaml *y, yaml_node_t *node, const char *where,
		 uint64_t min, uint64_t max, uint64_t *out)
{
	char expected[160], found[64], lo[24], hi[24];
	const char *s;

	lt_format_size(min, lo, sizeof(lo));
	lt_format_size(max, hi, sizeof(hi));
	snprintf(expected, sizeof(expected),
		 "a size from %s to %s: a number with an optional K, M or G "
		 "suffix",
		 lo, hi);
	s = lt_yaml_string(y, node, where, 0, expected);
	if (!s)
		return -1;
	if (lt_parse_size(s, out) < 0 || *out < min || *out > max) {
		lt_yaml_describe(node, found, sizeof(found));
		return lt_yaml_fail(y, node, where, "%s is not %s", found,
				    expected);
	}
	return 0;
}

int lt_read_file(const char *path, size_t max, char **text, size_t *len)
{
	int fd = -1, rc = -1, saved;
	char *buf = NULL;
	size_t used = 0;
	struct stat st;

	*text = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto out;
	}
	/* read up to max + 1 bytes so that "too large" is detected even for
	 * files whose st_size is 0 (pipes, /proc) */
	buf = malloc(max + 2);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			errno = EFBIG;
			goto out;
		}
	}
	buf[used] = '\0';
	*text = buf;
	*len = used;
	buf = NULL;
	rc = 0;
out:
	saved = errno;
	free(buf);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}
