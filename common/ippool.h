/*
 * The pool of dedicated addresses for dynamic and direct apps (network.pool
 * of a deployment). One slot per address: the deployment loader caps a pool
 * at LT_POOL_MAX addresses, and lt_ippool_new refuses larger ranges.
 * Addresses are network byte order throughout.
 */
#ifndef LIBRETTO_IPPOOL_H
#define LIBRETTO_IPPOOL_H

#include <netinet/in.h>
#include <stddef.h>

struct lt_ippool;

/* first..last inclusive. NULL with errno EINVAL (reversed or more than
 * LT_POOL_MAX addresses) or ENOMEM. */
struct lt_ippool *lt_ippool_new(struct in_addr first, struct in_addr last);

/* Idempotent: an owner that already holds an address gets it back;
 * otherwise the lowest free address. -1 with errno ENOSPC when full. */
int lt_ippool_reserve(struct lt_ippool *p, const char *owner,
		      struct in_addr *out);

/* For restoring saved state: -1 with errno ERANGE (outside the pool),
 * EEXIST (held by another owner) or EBUSY (the owner holds another
 * address). Reserving the same pair again succeeds. */
int lt_ippool_reserve_addr(struct lt_ippool *p, const char *owner,
			   struct in_addr addr);

/* -1 with errno ENOENT when the owner holds nothing. */
int lt_ippool_release(struct lt_ippool *p, const char *owner);

/* The owner of addr, or NULL (free or outside the pool). */
const char *lt_ippool_owner(const struct lt_ippool *p, struct in_addr addr);

size_t lt_ippool_free_count(const struct lt_ippool *p);

void lt_ippool_free(struct lt_ippool *p);

#endif
