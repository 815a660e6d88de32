/*
 * The platform layer: what differs between the sim and Xen for a guest
 * that talks to another domain over shared memory (docs/platform.md).
 *
 *   - shared pages: one side allocates N pages shared with a peer domain
 *     and gets a textual reference to publish (xen: grant refs, as
 *     netfront's ring-ref); the peer maps them from that reference;
 *   - notification channels: one side allocates an unbound channel and
 *     publishes its reference (xen: an event-channel port); the peer binds
 *     to it; either side then notifies the other, waits, or polls an fd.
 *
 * Both realisations are in the library: platform_posix.c (the sim's) and
 * platform_xen.c (libxengntshr/gnttab + libxenevtchn).  A process uses one,
 * chosen at its first call by PLAT_ENV (platform.c); the handles are
 * opaque, so no caller knows which.
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure; nothing is printed: a guest decides itself
 * how to report (its log is the domain's console).
 */
#ifndef LIBRETTO_PLATFORM_H
#define LIBRETTO_PLATFORM_H

#include <stddef.h>

/* Longest reference text, NUL included.  Under Xen a share's text is its
 * grant refs, comma-separated: a VIF's 514 fit while the refs stay below
 * 1000000 (a grant table of up to 1953 frames; Xen's default is 64), and
 * plat_share_alloc fails with -E2BIG rather than truncate.  xenstore
 * takes the text in pieces (platform_xs.h). */
#define PLAT_REF_MAX 4096

/* The largest share, 1024 pages (4 MiB): a VIF's two rings of 1 MiB each
 * (docs/datapath.md) fit with room to spare.  A bound so that a corrupt
 * ring-pages in xenstore cannot make a peer map an absurd size. */
#define PLAT_SHARE_MAX_PAGES 1024

/* The environment variable that chooses the realisation: "posix" (the
 * default, also when unset or empty) or "xen".  Read once, at the first
 * call.  Any other value makes every call that would make a handle fail
 * with -EINVAL, and is the one thing this library prints (once, on
 * stderr), since no errno names a variable. */
#define PLAT_ENV "LIBRETTO_PLATFORM"

/* The realisation in use ("posix" or "xen"; "invalid" for an unknown
 * PLAT_ENV); published beside the references so that a peer refuses a
 * reference of a kind it cannot map instead of misparsing it. */
const char *plat_name(void);

/* The page size shared memory is counted in (4096 on x86, as on Xen). */
size_t plat_page_size(void);

/* ---- shared pages ---------------------------------------------------- */

struct plat_shared;

/* Allocates npages zeroed pages shared with domain peer.  Its reference
 * (plat_shared_ref) stays valid until plat_shared_free, or until this
 * process dies. */
int plat_share_alloc(unsigned peer, size_t npages, struct plat_shared **out);

/* Maps npages pages that domain peer allocated and published as ref.
 * -EINVAL: ref is not a reference of this platform; -ESRCH: its
 * allocator is gone; -ESTALE: the reference was withdrawn (freed);
 * -EMSGSIZE: npages is not the size that was shared. */
int plat_share_map(unsigned peer, const char *ref, size_t npages,
		   struct plat_shared **out);

void *plat_shared_addr(const struct plat_shared *s);
size_t plat_shared_npages(const struct plat_shared *s);
/* The reference to publish; "" on the mapping side. */
const char *plat_shared_ref(const struct plat_shared *s);

/* Unmaps, and on the allocating side withdraws the reference.  The pages
 * live on while the peer still maps them (as gntalloc pages do), and are
 * freed with the last mapping.  NULL is allowed. */
void plat_shared_free(struct plat_shared *s);

/* ---- notification channels ------------------------------------------- */

struct plat_chan;

/* Allocates a channel that domain peer may bind to (xen: an unbound port
 * for peer).  Its reference (plat_chan_ref) stays valid until
 * plat_chan_close or this process's death. */
int plat_chan_alloc_unbound(unsigned peer, struct plat_chan **out);

/* Binds to the channel that domain peer allocated and published as ref.
 * Errors as plat_share_map's. */
int plat_chan_bind(unsigned peer, const char *ref, struct plat_chan **out);

/* The reference to publish; "" on the binding side. */
const char *plat_chan_ref(const struct plat_chan *c);

/* Signals the peer.  Notifications coalesce, as a Xen event channel's
 * pending bit does: N notifies before the peer looks wake it once (under
 * xen once or twice: the kernel takes an event when it is delivered, and
 * those sent before the ack wake it again; docs/platform.md).
 * Notifying a peer that closed or died is not an error (it is dropped, as
 * Xen drops a send on a port whose remote end is closed). */
int plat_chan_notify(struct plat_chan *c);

/* A descriptor that polls readable (POLLIN) while a notification is
 * pending, for poll/epoll/libevent loops.  Owned by the channel: do not
 * close or read it; call plat_chan_ack when it is readable. */
int plat_chan_fd(const struct plat_chan *c);

/* Consumes a pending notification (xen: xenevtchn_pending + unmask).
 * Returns 1 if one was pending, 0 if none, or a negative errno.  Ack
 * before looking at the shared ring, so that a notify sent while the ring
 * is being read wakes the next wait instead of being lost. */
int plat_chan_ack(struct plat_chan *c);

/* Waits up to timeout_ms (-1: no limit) for a notification and consumes
 * it.  Returns 1 on a notification, 0 on timeout, -EINTR when a signal
 * arrived (so that a SIGTERM flag can be checked), or a negative errno. */
int plat_chan_wait(struct plat_chan *c, int timeout_ms);

/* Closes the channel.  NULL is allowed. */
void plat_chan_close(struct plat_chan *c);

#endif
