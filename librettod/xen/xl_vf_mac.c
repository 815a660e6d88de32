/*
 * A VF's MAC, set through its PF over rtnetlink (IFLA_VF_MAC, as `ip link
 * set <pf> vf N mac M`) and read back to make sure the PF driver took it,
 * on the daemon's loop: the socket is non-blocking (vf_netlink.c), and
 * each answer is waited for as the socket's readability, with a timeout.
 * rtnetlink answers within the send, so the timeout only guards against
 * a lost answer (ENOBUFS), which would otherwise leave a switch step
 * waiting forever.
 *
 * A MAC set from the PF is one the guest's VF driver cannot change, and
 * with spoof checking on the VF sends from no other: so an app's VF gets
 * its MAC before it is handed over, and a VF no app has gets its parked
 * MAC (docs/xen-vf.md).
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mac.h"
#include "util.h"
#include "vf_netlink.h"
#include "xl_backend.h"

struct xl_vf_mac_op {
	LIST_ENTRY(xl_vf_mac_op) entry;
	struct xen_vf_nl nl;
	struct event *ev; /* nl.fd readable, or the timeout */
	int pf_ifindex;
	unsigned vf;
	uint8_t mac[6];
	int reading_back; /* the set was acknowledged */
	char what[192];
	lt_done_fn done;
	void *arg;
};

void xl_vf_mac_parked(const char *deployment, unsigned vf, uint8_t mac[6])
{
	char name[32];

	/* '#' is in no app's name ([a-z][a-z0-9-]*), so no app has it. */
	snprintf(name, sizeof(name), "vf#%u", vf);
	lt_mac_for(deployment, name, mac);
}

int xl_vf_mac_check(const char *what, const uint8_t want[6],
		    const uint8_t got[6], char **err)
{
	char w[18], g[18];

	if (memcmp(want, got, 6) == 0)
		return 0;
	lt_mac_format(want, w);
	lt_mac_format(got, g);
	*err = lt_strdupf("%s: the PF reports MAC %s after it was set to %s "
			  "(its driver did not take it)",
			  what, g, w);
	return -1;
}

static void op_free(struct xl_vf_mac_op *op)
{
	if (op->ev != NULL)
		event_free(op->ev);
	xen_vf_nl_close(&op->nl);
	free(op);
}

/* The op's end: done once, from the loop. */
static void op_end(struct xl_vf_mac_op *op, int err, const char *msg)
{
	lt_done_fn done = op->done;
	void *arg = op->arg;

	LIST_REMOVE(op, entry);
	op_free(op);
	done(arg, err, msg);
}

static int op_wait(struct xl_vf_mac_op *op)
{
	struct timeval tv = {XL_VF_MAC_TIMEOUT_MS / 1000,
			     (XL_VF_MAC_TIMEOUT_MS % 1000) * 1000};

	return event_add(op->ev, &tv);
}

/* One step per answer: the set's ack, then the read-back. */
static int op_step(struct xl_vf_mac_op *op, short what, char **why)
{
	uint8_t got[6];
	int rc;

	if (what & EV_TIMEOUT) {
		*why = lt_strdupf("no answer from rtnetlink in %d ms",
				  XL_VF_MAC_TIMEOUT_MS);
		return -1;
	}
	if (!op->reading_back) {
		rc = xen_vf_nl_recv_ack(&op->nl, why);
		if (rc <= 0)
			return rc;
		if (xen_vf_nl_send_get_link(&op->nl, op->pf_ifindex, why) < 0)
			return -1;
		op->reading_back = 1;
		return 0;
	}
	rc = xen_vf_nl_recv_vf_mac(&op->nl, op->vf, got, why);
	if (rc <= 0)
		return rc;
	return xl_vf_mac_check(op->what, op->mac, got, why) < 0 ? -1 : 1;
}

static void on_answer(evutil_socket_t fd, short what, void *p)
{
	struct xl_vf_mac_op *op = p;
	char *why = NULL, *msg;
	int rc = op_step(op, what, &why);

	(void)fd;
	if (rc == 0 && op_wait(op) < 0) {
		why = lt_strdupf("cannot wait for rtnetlink: %s",
				 strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		return;
	if (rc == 1) {
		op_end(op, 0, NULL);
		return;
	}
	/* The check names the VF already; the rest do not. */
	msg = why != NULL && strncmp(why, op->what, strlen(op->what)) == 0
		  ? why
		  : lt_strdupf("%s: %s", op->what, why ? why : "failed");
	op_end(op, EIO, msg ? msg : "setting a VF's MAC failed");
	if (msg != why)
		free(msg);
	free(why);
}

int xl_vf_mac_set(struct xl_backend *xb, const char *pf_netdev, unsigned vf,
		  const uint8_t mac[6], const char *what, lt_done_fn done,
		  void *arg, char **err)
{
	struct xl_vf_mac_op *op = calloc(1, sizeof(*op));
	char *why = NULL;

	if (op == NULL) {
		*err = lt_strdupf("%s: out of memory", what);
		return -1;
	}
	op->nl.fd = -1;
	op->vf = vf;
	memcpy(op->mac, mac, sizeof(op->mac));
	snprintf(op->what, sizeof(op->what), "%s", what);
	op->done = done;
	op->arg = arg;
	/* By name each time: the PF's ifindex changes if its driver is
	 * reloaded. */
	op->pf_ifindex = (int)if_nametoindex(pf_netdev);
	if (op->pf_ifindex == 0) {
		why = lt_strdupf("PF %s: %s", pf_netdev, strerror(errno));
		goto fail;
	}
	if (xen_vf_nl_open(&op->nl, &why) < 0)
		goto fail;
	op->ev = event_new(xb->be->base, op->nl.fd, EV_READ, on_answer, op);
	if (op->ev == NULL) {
		why = lt_strdupf("out of memory");
		goto fail;
	}
	if (xen_vf_nl_send_set_mac(&op->nl, op->pf_ifindex, vf, mac, &why) < 0)
		goto fail;
	if (op_wait(op) < 0) {
		why = lt_strdupf("cannot wait for rtnetlink: %s",
				 strerror(errno));
		goto fail;
	}
	LIST_INSERT_HEAD(&xb->mac_ops, op, entry);
	return 0;
fail:
	*err = lt_strdupf("%s: %s", what, why ? why : "out of memory");
	free(why);
	op_free(op);
	return -1;
}

void xl_vf_mac_release_all(struct xl_backend *xb)
{
	while (!LIST_EMPTY(&xb->mac_ops)) {
		struct xl_vf_mac_op *op = LIST_FIRST(&xb->mac_ops);

		LIST_REMOVE(op, entry);
		op_free(op);
	}
}
