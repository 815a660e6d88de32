/*
 * The xen platform (docs/platform.md): grant tables and event channels,
 * through Xen's own user-space libraries and the Linux drivers behind
 * them (/dev/xen/gntalloc, /dev/xen/gntdev, /dev/xen/evtchn).
 *
 *   - the allocator shares pages with libxengntshr (gntalloc): zeroed
 *     kernel pages, one grant ref each, mapped here; the reference is the
 *     refs, comma-separated (xen_refs.h);
 *   - the peer maps them with libxengnttab (gntdev);
 *   - a channel is an interdomain event channel (libxenevtchn), one handle
 *     per channel so that each has its own descriptor to poll.
 *
 * Every object owns its own library handle, so that freeing one closes
 * exactly what it opened, and no handle outlives its objects.  The
 * libraries are given a logger that drops everything: this layer prints
 * nothing, and returns what went wrong as an errno instead.
 */
#include "platform_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xen/xen.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "xen_refs.h"

struct plat_shared {
	void *addr; /* NULL until shared or mapped */
	size_t npages;
	xengntshr_handle *gs; /* allocating side, else NULL */
	xengnttab_handle *gt; /* mapping side, else NULL */
	char ref[PLAT_REF_MAX];
};

struct plat_chan {
	xenevtchn_handle *h;
	evtchn_port_t port; /* ours; valid while bound */
	bool bound;
	char ref[16]; /* the port in decimal; "" on the binding side */
};

/* ---- helpers ---------------------------------------------------------- */

static void quiet_vmessage(struct xentoollog_logger *logger,
			   xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	(void)logger;
	(void)level;
	(void)errnoval;
	(void)context;
	(void)format;
	(void)al;
}

static void quiet_destroy(struct xentoollog_logger *logger)
{
	(void)logger;
}

static struct xentoollog_logger quiet_logger = {
    .vmessage = quiet_vmessage,
    .destroy = quiet_destroy,
};

/* The failed call's errno, negated; never 0, so that a library that
 * failed without setting errno is still a failure. */
static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* A peer must be an ordinary domain: the ids from DOMID_FIRST_RESERVED
 * up name Xen itself, DOMID_SELF and the like, and the drivers carry a
 * domid in 16 bits. */
static int peer_ok(unsigned peer)
{
	return peer < DOMID_FIRST_RESERVED;
}

/* ---- shared pages ----------------------------------------------------- */

static void xen_shared_free(struct plat_shared *s)
{
	int saved = errno;

	if (s == NULL)
		return;
	/* The allocator's unshare is a munmap: gntalloc ends the grants with
	 * the mapping, and the kernel keeps a page a peer still maps until
	 * that peer unmaps it (gnttab_end_foreign_access defers). */
	if (s->gs != NULL) {
		if (s->addr != NULL)
			xengntshr_unshare(s->gs, s->addr, (uint32_t)s->npages);
		xengntshr_close(s->gs);
	}
	if (s->gt != NULL) {
		if (s->addr != NULL)
			xengnttab_unmap(s->gt, s->addr, (uint32_t)s->npages);
		xengnttab_close(s->gt);
	}
	free(s);
	errno = saved;
}

static int xen_share_alloc(unsigned peer, size_t npages,
			   struct plat_shared **out)
{
	struct plat_shared *s = NULL;
	uint32_t *refs = NULL;
	int r = 0;

	*out = NULL;
	if (npages == 0 || npages > PLAT_SHARE_MAX_PAGES || !peer_ok(peer))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	refs = calloc(npages, sizeof(*refs));
	if (s == NULL || refs == NULL) {
		r = -ENOMEM;
		goto out;
	}
	s->npages = npages;
	s->gs = xengntshr_open(&quiet_logger, 0);
	if (s->gs == NULL) {
		r = neg_errno(); /* ENOENT: no gntalloc (not under Xen) */
		goto out;
	}
	/* libxengntshr opens gntalloc without O_CLOEXEC; an app the agent
	 * execs must not inherit it. */
	if (fcntl(xengntshr_fd(s->gs), F_SETFD, FD_CLOEXEC) < 0) {
		r = neg_errno();
		goto out;
	}
	/* ENOSPC: gntalloc's limit (all its users together) is reached. */
	s->addr = xengntshr_share_pages(s->gs, peer, (int)npages, refs, 1);
	if (s->addr == NULL) {
		r = neg_errno();
		goto out;
	}
	r = xen_refs_format(refs, npages, s->ref, sizeof(s->ref));
out:
	free(refs);
	if (r < 0) {
		xen_shared_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/*
 * gntdev fails a mapping with EINVAL whatever Xen's reason was.  A grant
 * copy reports Xen's status per grant without mapping anything, so one
 * byte copied from each ref tells the reasons apart:
 *   GNTST_bad_domain: the domain is gone                     -> -ESRCH
 *   any other failure: the ref is not granted to us (any more) -> -ESTALE
 *   every copy works: the refs are fine, Xen refused the mapping for
 *   another reason (its maptrack table full, say)             -> -EIO
 */
static int why_map_failed(xengnttab_handle *gt, unsigned peer,
			  const uint32_t *refs, size_t n)
{
	xengnttab_grant_copy_segment_t *seg = NULL;
	unsigned char sink = 0;
	int r = -ESTALE; /* the likeliest, when the copy cannot tell */
	size_t i;

	seg = calloc(n, sizeof(*seg));
	if (seg == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		seg[i].source.foreign.ref = refs[i];
		seg[i].source.foreign.domid = (uint16_t)peer;
		seg[i].dest.virt = &sink;
		seg[i].len = 1;
		seg[i].flags = GNTCOPY_source_gref;
	}
	if (xengnttab_grant_copy(gt, (uint32_t)n, seg) < 0)
		goto out;
	r = -EIO;
	for (i = 0; i < n && r == -EIO; i++)
		if (seg[i].status == GNTST_bad_domain)
			r = -ESRCH;
		else if (seg[i].status != GNTST_okay)
			r = -ESTALE;
out:
	free(seg);
	return r;
}

static int xen_share_map(unsigned peer, const char *ref, size_t npages,
			 struct plat_shared **out)
{
	struct plat_shared *s = NULL;
	uint32_t *refs = NULL;
	int n, r = 0;

	*out = NULL;
	if (npages == 0 || npages > PLAT_SHARE_MAX_PAGES || !peer_ok(peer))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	refs = calloc(PLAT_SHARE_MAX_PAGES, sizeof(*refs));
	if (s == NULL || refs == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* The reference is checked before any device is opened, so that a
	 * malformed one reads as such on any host. */
	n = xen_refs_parse(ref, refs, PLAT_SHARE_MAX_PAGES);
	if (n < 0) {
		r = n;
		goto out;
	}
	if ((size_t)n != npages) {
		r = -EMSGSIZE;
		goto out;
	}
	s->npages = npages;
	s->gt = xengnttab_open(&quiet_logger, 0);
	if (s->gt == NULL) {
		r = neg_errno(); /* ENOENT: no gntdev (not under Xen) */
		goto out;
	}
	/* The classic XenLinux gntdev capped the grants of an open file and
	 * this raised it; later kernels cap only one request (at 65536 by
	 * default, module parameter "limit"), answer ENOTTY, and the
	 * library ignores that. */
	if (xengnttab_set_max_grants(s->gt, (uint32_t)npages) < 0) {
		r = neg_errno();
		goto out;
	}
	s->addr = xengnttab_map_domain_grant_refs(s->gt, (uint32_t)npages, peer,
						  refs, PROT_READ | PROT_WRITE);
	if (s->addr == NULL) {
		r = neg_errno();
		if (r == -EINVAL)
			r = why_map_failed(s->gt, peer, refs, npages);
	}
out:
	free(refs);
	if (r < 0) {
		xen_shared_free(s);
		return r;
	}
	*out = s;
	return 0;
}

static void *xen_shared_addr(const struct plat_shared *s)
{
	return s->addr;
}

static size_t xen_shared_npages(const struct plat_shared *s)
{
	return s->npages;
}

static const char *xen_shared_ref(const struct plat_shared *s)
{
	return s->ref;
}

/* ---- notification channels -------------------------------------------- */

static void xen_chan_close(struct plat_chan *c)
{
	int saved = errno;

	if (c == NULL)
		return;
	if (c->h != NULL) {
		/* Closing the handle would unbind too; unbinding first says
		 * what we mean.  The peer's end becomes unbound, and Xen
		 * drops what it sends there. */
		if (c->bound)
			xenevtchn_unbind(c->h, c->port);
		xenevtchn_close(c->h);
	}
	free(c);
	errno = saved;
}

/* A channel with its own open handle, whose descriptor is non-blocking:
 * plat_chan_ack must return 0 when nothing is pending, not wait. */
static int chan_open(struct plat_chan **out)
{
	struct plat_chan *c = NULL;
	int fl, r = 0;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->h = xenevtchn_open(&quiet_logger, 0); /* close-on-exec */
	if (c->h == NULL) {
		r = neg_errno(); /* ENOENT: no evtchn device (not under Xen) */
		goto out;
	}
	fl = fcntl(xenevtchn_fd(c->h), F_GETFL);
	if (fl < 0 || fcntl(xenevtchn_fd(c->h), F_SETFL, fl | O_NONBLOCK) < 0)
		r = neg_errno();
out:
	if (r < 0) {
		xen_chan_close(c);
		return r;
	}
	*out = c;
	return 0;
}

static int xen_chan_alloc_unbound(unsigned peer, struct plat_chan **out)
{
	struct plat_chan *c = NULL;
	xenevtchn_port_or_error_t port;
	int r;

	*out = NULL;
	if (!peer_ok(peer))
		return -EINVAL;
	r = chan_open(&c);
	if (r < 0)
		return r;
	/* Xen does not check that peer exists: a port for a domain that
	 * never comes is only never bound. */
	port = xenevtchn_bind_unbound_port(c->h, peer);
	if (port < 0) {
		r = neg_errno();
		xen_chan_close(c);
		return r;
	}
	c->port = (evtchn_port_t)port;
	c->bound = true;
	snprintf(c->ref, sizeof(c->ref), "%u", (unsigned)c->port);
	*out = c;
	return 0;
}

static int xen_chan_bind(unsigned peer, const char *ref, struct plat_chan **out)
{
	struct plat_chan *c = NULL;
	xenevtchn_port_or_error_t port;
	uint32_t remote;
	int r;

	*out = NULL;
	if (!peer_ok(peer) || xen_port_parse(ref, &remote) < 0)
		return -EINVAL;
	r = chan_open(&c);
	if (r < 0)
		return r;
	port = xenevtchn_bind_interdomain(c->h, peer, remote);
	if (port < 0) {
		/* Xen: ESRCH when the domain does not exist; EINVAL when the
		 * port is not one left unbound for us: closed, bound by
		 * someone already, or never allocated. */
		r = errno == EINVAL ? -ESTALE : neg_errno();
		xen_chan_close(c);
		return r;
	}
	c->port = (evtchn_port_t)port;
	c->bound = true;
	*out = c;
	return 0;
}

static const char *xen_chan_ref(const struct plat_chan *c)
{
	return c->ref;
}

static int xen_chan_notify(struct plat_chan *c)
{
	/* A port whose peer closed is unbound again, and Xen drops a send
	 * on it without an error: the contract's "not an error". */
	return xenevtchn_notify(c->h, c->port) < 0 ? neg_errno() : 0;
}

static int xen_chan_fd(const struct plat_chan *c)
{
	return xenevtchn_fd(c->h);
}

static int xen_chan_ack(struct plat_chan *c)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(c->h);

	if (port < 0)
		return errno == EAGAIN ? 0 : neg_errno();
	/* The driver masked the port when it queued it; unmasking re-arms
	 * it, and a notify that came since is delivered again at once. One
	 * port per handle, so port is ours. */
	if (xenevtchn_unmask(c->h, (evtchn_port_t)port) < 0)
		return neg_errno();
	return 1;
}

static int xen_chan_wait(struct plat_chan *c, int timeout_ms)
{
	struct pollfd p = {.fd = xenevtchn_fd(c->h), .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);

	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	return xen_chan_ack(c);
}

const struct plat_ops plat_xen_ops = {
    .name = "xen",
    .share_alloc = xen_share_alloc,
    .share_map = xen_share_map,
    .shared_addr = xen_shared_addr,
    .shared_npages = xen_shared_npages,
    .shared_ref = xen_shared_ref,
    .shared_free = xen_shared_free,
    .chan_alloc_unbound = xen_chan_alloc_unbound,
    .chan_bind = xen_chan_bind,
    .chan_ref = xen_chan_ref,
    .chan_notify = xen_chan_notify,
    .chan_fd = xen_chan_fd,
    .chan_ack = xen_chan_ack,
    .chan_wait = xen_chan_wait,
    .chan_close = xen_chan_close,
};
