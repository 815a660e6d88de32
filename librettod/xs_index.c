#include "xs_index.h"

#include <limits.h>
#include <stddef.h>

/* s's value when it is a canonical decimal of at most max, else -1. */
static long long canonical(const char *s, unsigned long long max)
{
	unsigned long long v = 0;

	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > max)
			return -1; /* stops before it can overflow */
	}
	return (long long)v;
}

int xs_index_parse(const char *s, unsigned limit)
{
	if (limit == 0)
		return -1;
	return (int)canonical(s, limit - 1 < INT_MAX ? limit - 1 : INT_MAX);
}

int xs_uint_parse(const char *s, unsigned *out)
{
	long long v = canonical(s, UINT_MAX);

	if (v < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}
