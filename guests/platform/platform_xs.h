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

struct plat_vif_info {
	char platform[16];
	char ring_ref[PLAT_REF_MAX];
	unsigned ring_pages;
	char event_channel[PLAT_REF_MAX];
	XenbusState state;
};

/* Writes platform, ring-ref, ring-pages, event-channel and
 * state = XenbusStateInitialised below gx's own directory, in one
 * transaction (retried on EAGAIN), so that a reader woken by the state
 * never sees half of them.  Returns 0 or a negative errno. */
int plat_xs_vif_publish(struct guest_xs *gx, const struct plat_shared *ring,
			const struct plat_chan *chan);

/* Writes guest/vif/state (Connected, Closing, Closed, ...). */
int plat_xs_vif_set_state(struct guest_xs *gx, XenbusState state);

/* Removes the references and sets state = XenbusStateClosed, in one
 * transaction: a peer must not map a reference that is about to be
 * freed.  Call it before plat_shared_free / plat_chan_close. */
int plat_xs_vif_withdraw(struct guest_xs *gx);

/* Reads domain domid's guest/vif/ in one transaction.  -ENOENT: nothing
 * published (yet, or any more); -EPROTONOSUPPORT: references of another
 * platform than plat_name; -EINVAL: a malformed node. */
int plat_xs_vif_read(struct xs_handle *h, unsigned domid,
		     struct plat_vif_info *out);

/* Reads only the state; a missing node reads as XenbusStateUnknown. */
int plat_xs_vif_read_state(struct xs_handle *h, unsigned domid,
			   XenbusState *out);

/* The full path of leaf (one of the PLAT_XS_VIF_*) of domain domid, for a
 * watch.  Returns 0, or -ENAMETOOLONG. */
int plat_xs_vif_path(char *buf, size_t size, unsigned domid, const char *leaf);

#endif
