#include "xen_refs.h"

#include <errno.h>
#include <stdio.h>

int xen_refs_format(const uint32_t *refs, size_t n, char *buf, size_t size)
{
	size_t used = 0, i;
	int len;

	if (size == 0)
		return -E2BIG;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		len = snprintf(buf + used, size - used, i == 0 ? "%u" : ",%u",
			       (unsigned)refs[i]);
		if (len < 0 || (size_t)len >= size - used) {
			buf[0] = '\0';
			return -E2BIG;
		}
		used += (size_t)len;
	}
	return 0;
}

/* Reads one decimal uint32 at *p, as xen_refs_format writes it, and moves
 * *p past it.  0 or -EINVAL. */
static int read_u32(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	if (*s == '0' && s[1] >= '0' && s[1] <= '9')
		return -EINVAL; /* a leading zero: not what we write */
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	*p = s;
	return 0;
}

int xen_refs_parse(const char *text, uint32_t *refs, size_t max)
{
	const char *p = text;
	size_t n = 0;

	for (;;) {
		if (n == max || read_u32(&p, &refs[n]) < 0)
			return -EINVAL;
		n++;
		if (*p == '\0')
			return (int)n;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

int xen_port_parse(const char *text, uint32_t *port)
{
	const char *p = text;
	uint32_t v;

	if (read_u32(&p, &v) < 0 || *p != '\0' || v == 0)
		return -EINVAL;
	*port = v;
	return 0;
}
