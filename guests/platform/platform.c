/*
 * The dispatcher (docs/platform.md): platform.h's calls go to the
 * realisation that PLAT_ENV names, chosen at the first call.
 *
 * At run time rather than at build time, because one build serves both
 * backends: the sim runs guests on any Linux host (a Xen dom0 included)
 * and must use posix there, while the same binaries in a Xen guest image
 * use xen (its /init sets LIBRETTO_PLATFORM=xen).
 *
 * The choice is a pure function of the environment, stored once with an
 * atomic pointer: two threads racing on the first call compute the same
 * answer and store the same pointer, and the unknown-value message is
 * printed once.  Enough for the guests, which are single-threaded; a
 * process that changes PLAT_ENV after its first call is not served.
 */
#include "platform_ops.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Not a realisation: what an unknown PLAT_ENV selects, so that "chosen"
 * and "chosen wrongly" are both one pointer. */
static const struct plat_ops invalid_ops = {.name = "invalid"};

static const struct plat_ops *_Atomic selected;

static const struct plat_ops *ops_for(const char *value)
{
	if (value == NULL || value[0] == '\0' || strcmp(value, "posix") == 0)
		return &plat_posix_ops;
	if (strcmp(value, "xen") == 0)
		return &plat_xen_ops;
	return &invalid_ops;
}

static const struct plat_ops *ops(void)
{
	static atomic_bool told;
	const struct plat_ops *o = atomic_load(&selected);
	const char *value;

	if (o != NULL)
		return o;
	value = getenv(PLAT_ENV);
	o = ops_for(value);
	if (o == &invalid_ops && !atomic_exchange(&told, true))
		fprintf(stderr,
			"libretto platform: %s=%s is unknown: set it to posix "
			"or xen\n",
			PLAT_ENV, value);
	atomic_store(&selected, o);
	return o;
}

const char *plat_name(void)
{
	return ops()->name;
}

size_t plat_page_size(void)
{
	long v = sysconf(_SC_PAGESIZE);

	return v > 0 ? (size_t)v : 4096;
}

/* ---- calls that make handles: the choice is made here ----------------- */

int plat_share_alloc(unsigned peer, size_t npages, struct plat_shared **out)
{
	const struct plat_ops *o = ops();

	*out = NULL;
	return o->share_alloc ? o->share_alloc(peer, npages, out) : -EINVAL;
}

int plat_share_map(unsigned peer, const char *ref, size_t npages,
		   struct plat_shared **out)
{
	const struct plat_ops *o = ops();

	*out = NULL;
	return o->share_map ? o->share_map(peer, ref, npages, out) : -EINVAL;
}

int plat_chan_alloc_unbound(unsigned peer, struct plat_chan **out)
{
	const struct plat_ops *o = ops();

	*out = NULL;
	return o->chan_alloc_unbound ? o->chan_alloc_unbound(peer, out)
				     : -EINVAL;
}

int plat_chan_bind(unsigned peer, const char *ref, struct plat_chan **out)
{
	const struct plat_ops *o = ops();

	*out = NULL;
	return o->chan_bind ? o->chan_bind(peer, ref, out) : -EINVAL;
}

/* ---- calls on a handle: a handle exists only if a realisation made it,
 * so the choice is made and valid ----------------------------------------- */

void *plat_shared_addr(const struct plat_shared *s)
{
	return ops()->shared_addr(s);
}

size_t plat_shared_npages(const struct plat_shared *s)
{
	return ops()->shared_npages(s);
}

const char *plat_shared_ref(const struct plat_shared *s)
{
	return ops()->shared_ref(s);
}

void plat_shared_free(struct plat_shared *s)
{
	/* NULL is allowed even before any choice, and with an invalid one. */
	if (s != NULL)
		ops()->shared_free(s);
}

const char *plat_chan_ref(const struct plat_chan *c)
{
	return ops()->chan_ref(c);
}

int plat_chan_notify(struct plat_chan *c)
{
	return ops()->chan_notify(c);
}

int plat_chan_fd(const struct plat_chan *c)
{
	return ops()->chan_fd(c);
}

int plat_chan_ack(struct plat_chan *c)
{
	return ops()->chan_ack(c);
}

int plat_chan_wait(struct plat_chan *c, int timeout_ms)
{
	return ops()->chan_wait(c, timeout_ms);
}

void plat_chan_close(struct plat_chan *c)
{
	if (c != NULL)
		ops()->chan_close(c);
}
