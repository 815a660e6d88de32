/* A flat array of owners, one per address: pools are small (a deployment
 * gives ~100 addresses, at most LT_POOL_MAX) and a linear scan is simpler
 * than any index. */
#include "ippool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deployment.h"

struct lt_ippool {
	uint32_t first; /* host byte order, for arithmetic */
	size_t size;
	size_t used;
	char **owner; /* owner[i] holds first + i; NULL when free */
};

struct lt_ippool *lt_ippool_new(struct in_addr first, struct in_addr last)
{
	uint32_t lo = ntohl(first.s_addr), hi = ntohl(last.s_addr);
	struct lt_ippool *p;

	if (lo > hi || (uint64_t)hi - lo + 1 > LT_POOL_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->first = lo;
	p->size = (size_t)(hi - lo) + 1;
	p->owner = calloc(p->size, sizeof(*p->owner));
	if (!p->owner) {
		free(p);
		return NULL;
	}
	return p;
}

static struct in_addr addr_at(const struct lt_ippool *p, size_t i)
{
	return (struct in_addr){htonl(p->first + (uint32_t)i)};
}

/* Index of the owner's address, or -1. */
static long find_owner(const struct lt_ippool *p, const char *owner)
{
	for (size_t i = 0; i < p->size; i++)
		if (p->owner[i] && strcmp(p->owner[i], owner) == 0)
			return (long)i;
	return -1;
}

static int take(struct lt_ippool *p, size_t i, const char *owner)
{
	p->owner[i] = strdup(owner);
	if (!p->owner[i])
		return -1;
	p->used++;
	return 0;
}

int lt_ippool_reserve(struct lt_ippool *p, const char *owner,
		      struct in_addr *out)
{
	long held = find_owner(p, owner);

	if (held >= 0) {
		*out = addr_at(p, (size_t)held);
		return 0;
	}
	for (size_t i = 0; i < p->size; i++) {
		if (p->owner[i])
			continue;
		if (take(p, i, owner) < 0)
			return -1;
		*out = addr_at(p, i);
		return 0;
	}
	errno = ENOSPC;
	return -1;
}

int lt_ippool_reserve_addr(struct lt_ippool *p, const char *owner,
			   struct in_addr addr)
{
	uint32_t h = ntohl(addr.s_addr);
	size_t i;
	long held;

	if (h < p->first || h - p->first >= p->size) {
		errno = ERANGE;
		return -1;
	}
	i = h - p->first;
	if (p->owner[i]) {
		if (strcmp(p->owner[i], owner) == 0)
			return 0;
		errno = EEXIST;
		return -1;
	}
	held = find_owner(p, owner);
	if (held >= 0) {
		/* one address per owner, or reserve's idempotence breaks */
		errno = EBUSY;
		return -1;
	}
	return take(p, i, owner);
}

int lt_ippool_release(struct lt_ippool *p, const char *owner)
{
	long held = find_owner(p, owner);

	if (held < 0) {
		errno = ENOENT;
		return -1;
	}
	free(p->owner[held]);
	p->owner[held] = NULL;
	p->used--;
	return 0;
}

const char *lt_ippool_owner(const struct lt_ippool *p, struct in_addr addr)
{
	uint32_t h = ntohl(addr.s_addr);

	if (h < p->first || h - p->first >= p->size)
		return NULL;
	return p->owner[h - p->first];
}

size_t lt_ippool_free_count(const struct lt_ippool *p)
{
	return p->size - p->used;
}

void lt_ippool_free(struct lt_ippool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->size; i++)
		free(p->owner[i]);
	free(p->owner);
	free(p);
}
