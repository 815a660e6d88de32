#include "xs_index.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_value.h"

/* One grammar of a canonical decimal for the daemon: guest_value's. */
static long long canonical(const char *s, unsigned long long max)
{
	uint64_t v;

	if (s == NULL || guest_u64(s, max, &v) != GUEST_OK)
		return -1;
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
