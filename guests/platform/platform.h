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
 * The handles are opaque so that platform_posix.c (this issue) and
 * platform_xen.c (later: libxengntshr/gnttab + libxenevtchn) can be
 * swapped without touching a caller, and so that a runtime dispatcher can
 * be put in front of both without an API change.
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure; nothing is printed: a guest decides itself
 * how to report (its log is the domain's console).
 */
#ifndef LIBRETTO_PLATFORM_H
#define LIBRETTO_PLATFORM_H

#include <stddef.h>

/* Longest reference text, NUL included.  Sized for the Xen drop-in: a
 * comma-separated list of one grant ref (up to 10 digits) per page of a
 * PLAT_SHARE_MAX_PAGES share, well under xenstore's 4096-byte value. */
#define PLAT_REF_MAX 4096

/* The largest share, 1024 pages (4 MiB): a VIF's two rings of 1 MiB each
 * (docs/datapath.md) fit with room to spare.  A bound so that a corrupt
 * ring-pages in xenstore cannot make a peer map an absurd size.  (Under
 * Xen a share this large needs its grant refs spread over several nodes,
 * as netfront's multi-page rings do: ring-ref0, ring-ref1, ...) */
#define PLAT_SHARE_MAX_PAGES 1024

/* Which realisation this library was built with ("posix" or, later,
 * "xen"); published beside the references so that a peer refuses a
 * reference of a kind it cannot map instead of misparsing it. */
extern const char plat_name[];

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
 * pending bit does: N notifies before the peer looks wake it once.
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
