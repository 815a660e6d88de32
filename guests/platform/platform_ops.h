/*
 * Inside the platform layer: what a realisation gives the dispatcher
 * (platform.c).  Not for callers, who see platform.h only.
 *
 * Each realisation defines struct plat_shared and struct plat_chan for
 * itself, in its own file.  A handle never reaches the other
 * realisation's functions, because a process uses one realisation, chosen
 * once (platform.c), for all its handles.
 */
#ifndef LIBRETTO_PLATFORM_OPS_H
#define LIBRETTO_PLATFORM_OPS_H

#include "platform.h"

/* One entry per call of platform.h, same contract. */
struct plat_ops {
	const char *name;
	int (*share_alloc)(unsigned peer, size_t npages,
			   struct plat_shared **out);
	int (*share_map)(unsigned peer, const char *ref, size_t npages,
			 struct plat_shared **out);
	void *(*shared_addr)(const struct plat_shared *s);
	size_t (*shared_npages)(const struct plat_shared *s);
	const char *(*shared_ref)(const struct plat_shared *s);
	void (*shared_free)(struct plat_shared *s);
	int (*chan_alloc_unbound)(unsigned peer, struct plat_chan **out);
	int (*chan_bind)(unsigned peer, const char *ref,
			 struct plat_chan **out);
	const char *(*chan_ref)(const struct plat_chan *c);
	int (*chan_notify)(struct plat_chan *c);
	int (*chan_fd)(const struct plat_chan *c);
	int (*chan_ack)(struct plat_chan *c);
	int (*chan_wait)(struct plat_chan *c, int timeout_ms);
	void (*chan_close)(struct plat_chan *c);
};

extern const struct plat_ops plat_posix_ops;
extern const struct plat_ops plat_xen_ops;

#endif
