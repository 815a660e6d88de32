#include "platform_xs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Transactions that keep losing to other writers are given up on after
 * this many tries rather than spinning: a guest's own guest/vif has no
 * other writer, so a conflict that lasts means something else is wrong. */
#define XS_TRIES 16

int plat_xs_vif_path(char *buf, size_t size, unsigned domid, const char *leaf)
{
	int n = snprintf(buf, size, LT_XS_GUEST_FMT "/%s", domid, leaf);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int tx_write(struct guest_xs *gx, xs_transaction_t t, const char *leaf,
		    const char *value)
{
	char path[192];

	if (plat_xs_vif_path(path, sizeof(path), gx->domid, leaf) < 0)
		return -ENAMETOOLONG;
	return xs_write(gx->h, t, path, value, strlen(value)) ? 0 : -errno;
}

static int tx_rm(struct guest_xs *gx, xs_transaction_t t, const char *leaf)
{
	char path[192];

	if (plat_xs_vif_path(path, sizeof(path), gx->domid, leaf) < 0)
		return -ENAMETOOLONG;
	/* Gone already is what we want. */
	return xs_rm(gx->h, t, path) || errno == ENOENT ? 0 : -errno;
}

/* Ends t: 0 on commit, -EAGAIN to retry, or the error. */
static int tx_end(struct xs_handle *h, xs_transaction_t t, int r)
{
	if (r < 0) {
		xs_transaction_end(h, t, true);
		return r;
	}
	return xs_transaction_end(h, t, false) ? 0 : -errno;
}

int plat_xs_ref_split(const char *ref, size_t max, struct plat_xs_piece *pieces,
		      size_t npieces)
{
	size_t len = strlen(ref), pos = 0, n = 0, cut;

	if (len == 0)
		return -EINVAL;
	if (len <= max) {
		if (npieces == 0)
			return -EINVAL;
		pieces[0] = (struct plat_xs_piece){0, len};
		return 1;
	}
	/* Cut texts are lists: an empty item would make an empty piece,
	 * or one that begins or ends with a comma. */
	if (ref[0] == ',' || ref[len - 1] == ',' || strstr(ref, ",,") != NULL)
		return -EINVAL;
	while (pos < len) {
		if (n == npieces)
			return -EINVAL;
		if (len - pos <= max) {
			cut = len;
		} else {
			/* The last comma that leaves at most max bytes before
			 * it: ref[pos + max] itself may be that comma. */
			cut = pos + max;
			while (cut > pos && ref[cut] != ',')
				cut--;
		}
		if (cut == pos)
			return -EINVAL; /* an item longer than max */
		pieces[n++] = (struct plat_xs_piece){pos, cut - pos};
		pos = cut < len ? cut + 1 : len; /* past the comma */
	}
	return (int)n;
}

/* The leaf of ring-ref piece i: ring-ref<i>. */
static void piece_leaf(char *buf, size_t size, size_t i)
{
	snprintf(buf, size, PLAT_XS_VIF_RING_REF "%zu", i);
}

/* Writes ref as ring-ref, or as pieces ring-ref0.. when it is longer than
 * a node may be, and removes whatever the other form or a longer earlier
 * publish left. */
static int tx_write_ref(struct guest_xs *gx, xs_transaction_t t,
			const char *ref)
{
	struct plat_xs_piece pieces[PLAT_XS_REF_NODES_MAX];
	char leaf[64], value[PLAT_XS_REF_NODE_MAX + 1];
	int n, r = 0;
	size_t i;

	n = plat_xs_ref_split(ref, PLAT_XS_REF_NODE_MAX, pieces,
			      PLAT_XS_REF_NODES_MAX);
	if (n < 0)
		return n;
	if (n == 1)
		r = tx_write(gx, t, PLAT_XS_VIF_RING_REF, ref);
	else
		r = tx_rm(gx, t, PLAT_XS_VIF_RING_REF);
	for (i = 0; i < PLAT_XS_REF_NODES_MAX && r == 0; i++) {
		piece_leaf(leaf, sizeof(leaf), i);
		if (n == 1 || i >= (size_t)n) {
			r = tx_rm(gx, t, leaf);
			continue;
		}
		memcpy(value, ref + pieces[i].off, pieces[i].len);
		value[pieces[i].len] = '\0';
		r = tx_write(gx, t, leaf, value);
	}
	return r;
}

int plat_xs_vif_publish(struct guest_xs *gx, const struct plat_shared *ring,
			const struct plat_chan *chan)
{
	return plat_xs_vif_publish_refs(gx, plat_shared_ref(ring),
					plat_shared_npages(ring),
					plat_chan_ref(chan));
}

int plat_xs_vif_publish_refs(struct guest_xs *gx, const char *ring_ref,
			     size_t ring_pages, const char *event_channel)
{
	char pages[24], state[8];
	int tries, r = -EAGAIN;

	snprintf(pages, sizeof(pages), "%zu", ring_pages);
	snprintf(state, sizeof(state), "%d", XenbusStateInitialised);
	for (tries = 0; tries < XS_TRIES && r == -EAGAIN; tries++) {
		xs_transaction_t t = xs_transaction_start(gx->h);

		if (t == XBT_NULL)
			return -errno;
		/* Anew, not over what a withdraw left: new nodes take
		 * guest/'s access list, which dom0 has given the present
		 * backend (an earlier one's read access goes with the old
		 * nodes; docs/xenstore.md, "Permissions"). */
		r = tx_rm(gx, t, LT_XS_GUEST_VIF);
		if (r == 0)
			r = tx_write(gx, t, PLAT_XS_VIF_PLATFORM, plat_name());
		if (r == 0)
			r = tx_write_ref(gx, t, ring_ref);
		if (r == 0)
			r = tx_write(gx, t, PLAT_XS_VIF_RING_PAGES, pages);
		if (r == 0)
			r = tx_write(gx, t, PLAT_XS_VIF_EVTCHN, event_channel);
		/* Last: a reader watching state sees the rest with it. */
		if (r == 0)
			r = tx_write(gx, t, PLAT_XS_VIF_STATE, state);
		r = tx_end(gx->h, t, r);
	}
	return r;
}

int plat_xs_vif_set_state(struct guest_xs *gx, XenbusState st)
{
	char state[8];

	snprintf(state, sizeof(state), "%d", (int)st);
	return tx_write(gx, XBT_NULL, PLAT_XS_VIF_STATE, state);
}

int plat_xs_vif_withdraw(struct guest_xs *gx)
{
	static const char *const leaves[] = {
	    PLAT_XS_VIF_RING_REF,
	    PLAT_XS_VIF_RING_PAGES,
	    PLAT_XS_VIF_EVTCHN,
	    PLAT_XS_VIF_PLATFORM,
	};
	char state[8];
	int tries, r = -EAGAIN;
	size_t i;

	snprintf(state, sizeof(state), "%d", XenbusStateClosed);
	for (tries = 0; tries < XS_TRIES && r == -EAGAIN; tries++) {
		xs_transaction_t t = xs_transaction_start(gx->h);

		if (t == XBT_NULL)
			return -errno;
		r = 0;
		for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]) && r == 0;
		     i++)
			r = tx_rm(gx, t, leaves[i]);
		for (i = 0; i < PLAT_XS_REF_NODES_MAX && r == 0; i++) {
			char leaf[64];

			piece_leaf(leaf, sizeof(leaf), i);
			r = tx_rm(gx, t, leaf);
		}
		if (r == 0)
			r = tx_write(gx, t, PLAT_XS_VIF_STATE, state);
		r = tx_end(gx->h, t, r);
	}
	return r;
}

/* Reads leaf of domid into buf (NUL-terminated).  -ENOENT when absent,
 * -EINVAL when it does not fit: a reference longer than PLAT_REF_MAX is
 * not one this library wrote. */
static int tx_read(struct xs_handle *h, xs_transaction_t t, unsigned domid,
		   const char *leaf, char *buf, size_t size)
{
	char path[192];
	unsigned len;
	char *v;

	if (plat_xs_vif_path(path, sizeof(path), domid, leaf) < 0)
		return -ENAMETOOLONG;
	v = xs_read(h, t, path, &len);
	if (v == NULL)
		return -errno;
	if (len >= size) {
		free(v);
		return -EINVAL;
	}
	memcpy(buf, v, len);
	buf[len] = '\0';
	free(v);
	return 0;
}

/* Reads ring-ref, or joins its pieces ring-ref0.. (up to the first
 * missing one) with ','.  -ENOENT when neither form is there. */
static int tx_read_ref(struct xs_handle *h, xs_transaction_t t, unsigned domid,
		       char *buf, size_t size)
{
	char leaf[64], piece[PLAT_XS_REF_NODE_MAX + 1];
	size_t used = 0, len, i;
	int r;

	r = tx_read(h, t, domid, PLAT_XS_VIF_RING_REF, buf, size);
	if (r != -ENOENT)
		return r;
	for (i = 0; i < PLAT_XS_REF_NODES_MAX; i++) {
		piece_leaf(leaf, sizeof(leaf), i);
		r = tx_read(h, t, domid, leaf, piece, sizeof(piece));
		if (r == -ENOENT && i > 0)
			break;
		if (r < 0)
			return r;
		len = strlen(piece);
		/* an empty piece, or more than a reference can be */
		if (len == 0 || used + (i > 0) + len >= size)
			return -EINVAL;
		if (i > 0)
			buf[used++] = ',';
		memcpy(buf + used, piece, len + 1);
		used += len;
	}
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int plat_xs_vif_read(struct xs_handle *h, unsigned domid,
		     struct plat_vif_info *out)
{
	char pages[24], state[24];
	unsigned st = 0;
	int tries, r = -EAGAIN;

	memset(out, 0, sizeof(*out));
	for (tries = 0; tries < XS_TRIES && r == -EAGAIN; tries++) {
		xs_transaction_t t = xs_transaction_start(h);

		if (t == XBT_NULL)
			return -errno;
		r = tx_read(h, t, domid, PLAT_XS_VIF_PLATFORM, out->platform,
			    sizeof(out->platform));
		if (r == 0)
			r = tx_read_ref(h, t, domid, out->ring_ref,
					sizeof(out->ring_ref));
		if (r == 0)
			r = tx_read(h, t, domid, PLAT_XS_VIF_RING_PAGES, pages,
				    sizeof(pages));
		if (r == 0)
			r = tx_read(h, t, domid, PLAT_XS_VIF_EVTCHN,
				    out->event_channel,
				    sizeof(out->event_channel));
		if (r == 0)
			r = tx_read(h, t, domid, PLAT_XS_VIF_STATE, state,
				    sizeof(state));
		/* Committed, not aborted: the commit is what tells us that
		 * no writer changed the nodes between our reads. */
		r = tx_end(h, t, r);
	}
	if (r < 0)
		return r;
	if (strcmp(out->platform, plat_name()) != 0)
		return -EPROTONOSUPPORT;
	if (parse_uint(pages, PLAT_SHARE_MAX_PAGES, &out->ring_pages) < 0 ||
	    out->ring_pages == 0 ||
	    parse_uint(state, XenbusStateReconfigured, &st) < 0)
		return -EINVAL;
	out->state = (XenbusState)st;
	return 0;
}

int plat_xs_vif_read_state(struct xs_handle *h, unsigned domid,
			   XenbusState *out)
{
	char state[24];
	unsigned st;
	int r;

	*out = XenbusStateUnknown;
	r = tx_read(h, XBT_NULL, domid, PLAT_XS_VIF_STATE, state,
		    sizeof(state));
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (parse_uint(state, XenbusStateReconfigured, &st) < 0)
		return -EINVAL;
	*out = (XenbusState)st;
	return 0;
}
