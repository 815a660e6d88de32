/*
 * Publishing and reading a VIF's references in xenstore, as netfront and
 * netback do (docs/platform.md): the side that allocates the ring (the
 * app, the frontend) writes its own guest/vif/ nodes; the side that maps
 * (the network server, the backend) reads them below the app's domain.
 *
 * The same code serves both platforms: the references are opaque text
 * (platform.h), and guest/vif/platform says which kind they are.
 */
#ifndef LIBRETTO_PLATFORM_XS_H
#define LIBRETTO_PLATFORM_XS_H

#include <stddef.h>

#include <xen/io/xenbus.h>
#include <xenstore.h>

#include <libretto/xs_paths.h>

#include "guest_xs.h"
#include "platform.h"

/*
 * Leaves below LT_XS_GUEST_FMT.  New names: they belong in
 * include/libretto/xs_paths.h, where the lead will move them.
 */
#define PLAT_XS_VIF_PLATFORM   LT_XS_GUEST_VIF "/platform" /* posix | xen */
#define PLAT_XS_VIF_RING_REF   LT_XS_GUEST_VIF "/ring-ref"
#define PLAT_XS_VIF_RING_PAGES LT_XS_GUEST_VIF "/ring-pages" /* decimal */
#define PLAT_XS_VIF_EVTCHN     LT_XS_GUEST_VIF "/event-channel"
/* XenbusState as a decimal number, as xenbus writes "state" */
#define PLAT_XS_VIF_STATE LT_XS_GUEST_VIF "/state"

/*
 * A share's reference of up to PLAT_XS_REF_NODE_MAX bytes (posix's, a
 * small xen share's) is one node, ring-ref.  A longer one (a VIF's 514
 * grant refs) is cut after whole refs into ring-ref0, ring-ref1, ..., as
 * netfront spreads a multi-page ring, and read back joined with ','.
 *
 * Why cut: xenstored refuses (ENOSPC) a node of an unprivileged domain
 * whose record reaches 2048 bytes (quota_max_entry_size: a header of
 * about 24 bytes, 8 per permission, the value, the children's names);
 * 1024 leaves room for all of it.
 */
#define PLAT_XS_REF_NODE_MAX 1024
/* At most this many ring-ref<i> nodes.  Every piece but the last is at
 * least PLAT_XS_REF_NODE_MAX - 10 bytes long (a ref has at most 10
 * digits), so a PLAT_REF_MAX text needs 5 at most. */
#define PLAT_XS_REF_NODES_MAX 8

struct plat_vif_info {
	char platform[16];
	char ring_ref[PLAT_REF_MAX];
	unsigned ring_pages;
	char event_channel[PLAT_REF_MAX];
	XenbusState state;
};

/* Writes platform, ring-ref (or its pieces), ring-pages, event-channel
 * and state = XenbusStateInitialised below gx's own directory, in one
 * transaction (retried on EAGAIN), so that a reader woken by the state
 * never sees half of them; pieces of an earlier publish go in the same
 * transaction.  Returns 0 or a negative errno. */
int plat_xs_vif_publish(struct guest_xs *gx, const struct plat_shared *ring,
			const struct plat_chan *chan);

/* The same with the texts given: what plat_xs_vif_publish does with the
 * handles' references (the platform written is plat_name()'s). */
int plat_xs_vif_publish_refs(struct guest_xs *gx, const char *ring_ref,
			     size_t ring_pages, const char *event_channel);

/* Writes guest/vif/state (Connected, Closing, Closed, ...). */
int plat_xs_vif_set_state(struct guest_xs *gx, XenbusState state);

/* Removes the references and sets state = XenbusStateClosed, in one
 * transaction: a peer must not map a reference that is about to be
 * freed.  Call it before plat_shared_free / plat_chan_close. */
int plat_xs_vif_withdraw(struct guest_xs *gx);

/* Reads domain domid's guest/vif/ in one transaction, ring-ref joined
 * from its pieces.  -ENOENT: nothing published (yet, or any more);
 * -EPROTONOSUPPORT: references of another platform than plat_name();
 * -EINVAL: a malformed node. */
int plat_xs_vif_read(struct xs_handle *h, unsigned domid,
		     struct plat_vif_info *out);

/* Reads only the state; a missing node reads as XenbusStateUnknown. */
int plat_xs_vif_read_state(struct xs_handle *h, unsigned domid,
			   XenbusState *out);

/* Where the ring-ref pieces of ref start and how long they are.  A ref
 * of at most max bytes is one piece, as it is.  A longer one is cut at
 * commas into pieces of at most max bytes; the commas at the cuts belong
 * to no piece, so that the pieces joined with ',' are ref again.
 * Returns the count, or -EINVAL: ref is empty, or longer than max and
 * not a list of non-empty items of at most max bytes each, or needs more
 * than npieces pieces. */
struct plat_xs_piece {
	size_t off;
	size_t len;
};
int plat_xs_ref_split(const char *ref, size_t max, struct plat_xs_piece *pieces,
		      size_t npieces);

/* The full path of leaf (one of the PLAT_XS_VIF_*) of domain domid, for a
 * watch.  Returns 0, or -ENAMETOOLONG. */
int plat_xs_vif_path(char *buf, size_t size, unsigned domid, const char *leaf);

#endif
