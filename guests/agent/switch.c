/*
 * The dynamic switch, guest side (docs/datapath.md, "The switch, guest
 * side").  librettod asks with switch/{target,vf,seq}; the agent moves the
 * app's address and default route between tap0 and the VF, and answers
 * with guest/seq and guest/state (or guest/error) in one transaction.
 *
 * What keeps the app's TCP connections: the address and MAC never change,
 * and the address is on some link of the namespace at every instant (it
 * is added to the new link before it is removed from the old one), so no
 * segment arrives while the address is not local and no socket is reset.
 * Sockets are never touched: their cached routes go stale with the route
 * change and are looked up again.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libretto/xs_paths.h>

#include "agent.h"

int switch_parse_seq(const char *s, unsigned long long *seq)
{
	unsigned long long v;
	char *end;

	/* strtoull would take a sign or blanks. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*seq = v;
	return 0;
}

/* What the kernel accepts as a link's name (dev_valid_name). */
static bool vf_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			return false;
	return true;
}

/* guest/error is one line of text: whatever a request quoted into it
 * (an unknown target, say) must not break that. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			*s = '?';
}

enum switch_act switch_decide(const struct agent_switch *sw,
			      const struct switch_req *req,
			      unsigned long long *seq, char *why, size_t size)
{
	why[0] = '\0';
	/* Nothing asked, or asked and answered: a watch event says only
	 * that something below switch/ changed, perhaps our own guess. */
	if (req->seq == NULL || switch_parse_seq(req->seq, seq) < 0 ||
	    *seq == sw->last_seq)
		return SWITCH_IGNORE;
	if (req->target == NULL) {
		snprintf(why, size, "no %s", LT_XS_SWITCH_TARGET);
		return SWITCH_REFUSE;
	}
	if (strcmp(req->target, LT_SWITCH_TO_DIRECT) != 0 &&
	    strcmp(req->target, LT_SWITCH_TO_SERVER) != 0) {
		snprintf(why, size, "unknown %s '%.32s'", LT_XS_SWITCH_TARGET,
			 req->target);
		return SWITCH_REFUSE;
	}
	if (!sw->can_switch) {
		snprintf(why, size, "a %s app does not switch",
			 sw->net->mode[0] ? sw->net->mode : "networkless");
		return SWITCH_REFUSE;
	}
	if (strcmp(req->target, LT_SWITCH_TO_SERVER) == 0)
		return sw->path == AGENT_PATH_VIF ? SWITCH_ACK
						  : SWITCH_TO_SERVER;
	if (req->vf == NULL || !vf_name_ok(req->vf)) {
		snprintf(why, size, "%s is not an interface name",
			 LT_XS_SWITCH_VF);
		return SWITCH_REFUSE;
	}
	if (sw->path == AGENT_PATH_VF) {
		if (strcmp(sw->vf, req->vf) == 0)
			return SWITCH_ACK;
		snprintf(why, size, "direct on %s already, not %s", sw->vf,
			 req->vf);
		return SWITCH_REFUSE;
	}
	return SWITCH_TO_DIRECT;
}

int switch_init(struct agent_switch *sw, struct guest_xs *gx,
		const struct agent_net *net)
{
	char path[160];
	unsigned len;
	char *v;

	memset(sw, 0, sizeof(*sw));
	sw->gx = gx;
	v = getenv("LIBRETTO_VF_WAIT_MS");
	if (v != NULL) {
		char *end;
		unsigned long ms = strtoul(v, &end, 10);

		if (*v != '\0' && *end == '\0' && ms <= 600000)
			sw->vf_wait_ms = (unsigned)ms;
		else
			agent_log("LIBRETTO_VF_WAIT_MS=%s: not a number of "
				  "ms up to 600000; not waiting for VFs\n",
				  v);
	}
	sw->net = net;
	sw->path = net->kind == AGENT_NET_VIF  ? AGENT_PATH_VIF
		   : net->kind == AGENT_NET_VF ? AGENT_PATH_VF
					       : AGENT_PATH_NONE;
	if (sw->path == AGENT_PATH_VF)
		snprintf(sw->vf, sizeof(sw->vf), "%s", net->vf);
	/* Server-mode apps share the server's address: it cannot move to
	 * a VF of their own. */
	sw->can_switch =
	    net->kind == AGENT_NET_VIF && strcmp(net->mode, "dynamic") == 0;
	/* A request answered before (by an agent that ran in this domain
	 * before us) is not acted on again. */
	snprintf(path, sizeof(path), "%s/%s", gx->base, LT_XS_GUEST_SEQ);
	v = xs_read(gx->h, XBT_NULL, path, &len);
	if (v == NULL || switch_parse_seq(v, &sw->last_seq) < 0)
		sw->last_seq = 0;
	free(v);
	if (sw->path == AGENT_PATH_NONE)
		return 0;
	/* The watch fires once at once: a request written before we
	 * started is seen by the first event. */
	snprintf(path, sizeof(path), "%s/%s", gx->base, LT_XS_SWITCH);
	return xs_watch(gx->h, path, AGENT_SWITCH_TOKEN) ? 0 : -errno;
}

/* Reads <base>/<leaf> in t into buf; NULL when absent (or cut: a value
 * that does not fit is refused by the checks as an absent one is). */
static const char *rd(struct guest_xs *gx, xs_transaction_t t, const char *leaf,
		      char *buf, size_t size)
{
	char path[160];
	unsigned len;
	char *v;

	snprintf(path, sizeof(path), "%s/%s", gx->base, leaf);
	v = xs_read(gx->h, t, path, &len);
	if (v == NULL)
		return NULL;
	if (len >= size) {
		free(v);
		return NULL;
	}
	memcpy(buf, v, len + 1);
	free(v);
	return buf;
}

struct req_read {
	struct switch_req *req;
	char *seq, *target, *vf;
};

static bool read_body(struct guest_xs *gx, xs_transaction_t t, void *arg)
{
	struct req_read *r = arg;

	r->req->seq = rd(gx, t, LT_XS_SWITCH_SEQ, r->seq, 24);
	r->req->target = rd(gx, t, LT_XS_SWITCH_TARGET, r->target, 40);
	r->req->vf = rd(gx, t, LT_XS_SWITCH_VF, r->vf, IF_NAMESIZE);
	return true;
}

/* The three nodes as one snapshot: librettod may be writing the next
 * request meanwhile, and a seq must not be paired with another target. */
static int read_req(struct agent_switch *sw, struct switch_req *req,
		    char seq[24], char target[40], char vf[IF_NAMESIZE])
{
	struct req_read r = {req, seq, target, vf};

	return guest_xs_transact(sw->gx, read_body, &r);
}

struct answer {
	const char *seq, *state, *error;
};

static bool answer_body(struct guest_xs *gx, xs_transaction_t t, void *arg)
{
	const struct answer *a = arg;
	char p_seq[160], p_state[160], p_err[160];

	snprintf(p_seq, sizeof(p_seq), "%s/%s", gx->base, LT_XS_GUEST_SEQ);
	snprintf(p_state, sizeof(p_state), "%s/%s", gx->base,
		 LT_XS_GUEST_STATE);
	snprintf(p_err, sizeof(p_err), "%s/%s", gx->base, LT_XS_GUEST_ERROR);
	if (!xs_write(gx->h, t, p_seq, a->seq, strlen(a->seq)))
		return false;
	if (a->error != NULL)
		return xs_write(gx->h, t, p_err, a->error, strlen(a->error));
	return xs_write(gx->h, t, p_state, a->state, strlen(a->state)) &&
	       (xs_rm(gx->h, t, p_err) || errno == ENOENT);
}

/* The answer: guest/seq with either guest/state (and no guest/error, a
 * stale reason being worse than none) or guest/error with guest/state
 * left as it is.  One transaction, so librettod never sees the seq
 * without what goes with it. */
static int answer(struct agent_switch *sw, unsigned long long seq,
		  const char *state, const char *error)
{
	char v[24];
	struct answer a = {v, state, error};

	snprintf(v, sizeof(v), "%llu", seq);
	return guest_xs_transact(sw->gx, answer_body, &a);
}

/* The reason of a failed step, into why (switch_changed logs it). */
static void fail_step(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* An undo that failed leaves the app on a path of neither kind: said
 * loudly, since only the log can tell. */
static void undo(int r, const char *what)
{
	if (r < 0)
		agent_log("switch: undo failed, the app may be unreachable: "
			  "%s: %s\n",
			  what, strerror(-r));
}

static void fmt_mac(const uint8_t *m, char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

/* tap0 -> vf.  0, or -1 with the reason in why and every step undone. */
static int to_direct(struct agent_switch *sw, const char *vf, char *why,
		     size_t size)
{
	const struct agent_net *net = sw->net;
	int vfi = (int)if_nametoindex(vf);
	int tapi = (int)if_nametoindex(AGENT_TAP_NAME);
	char have[18], want[18];
	uint8_t mac[6];
	int r;

	if (vfi == 0) {
		fail_step(why, size, "the VF %s is not in the domain", vf);
		return -1;
	}
	if (tapi == 0) {
		fail_step(why, size, "no %s", AGENT_TAP_NAME);
		return -1;
	}
	/* The app's MAC is what the peers and the server know it by; a
	 * guest cannot set a VF's (the PF's owner does), only check it. */
	r = netcfg_mac(vf, mac);
	if (r < 0) {
		fail_step(why, size, "%s: cannot read its MAC: %s", vf,
			  strerror(-r));
		return -1;
	}
	if (net->have_mac && memcmp(mac, net->mac, 6) != 0) {
		fmt_mac(mac, have);
		fmt_mac(net->mac, want);
		fail_step(why, size, "the VF %s has MAC %s, not the app's %s",
			  vf, have, want);
		return -1;
	}
	r = netcfg_link(vf, NULL, AGENT_MTU, false);
	if (r < 0) {
		fail_step(why, size, "%s: cannot set MTU %d: %s", vf, AGENT_MTU,
			  strerror(-r));
		return -1;
	}
	r = netcfg_link(vf, NULL, 0, true);
	if (r < 0) {
		fail_step(why, size, "%s: cannot bring it up: %s", vf,
			  strerror(-r));
		goto down;
	}
	/* On the VF before off tap0: the address stays local throughout. */
	r = rtnl_addr(vfi, net->ip, net->prefix, true);
	if (r < 0) {
		fail_step(why, size, "%s: cannot add the address: %s", vf,
			  strerror(-r));
		goto down;
	}
	r = rtnl_default_route(vfi, net->gateway);
	if (r < 0) {
		fail_step(why, size, "%s: cannot move the default route: %s",
			  vf, strerror(-r));
		goto addr;
	}
	/* With it goes tap0's connected route: the subnet is reached
	 * through the VF alone from here. */
	r = rtnl_addr(tapi, net->ip, net->prefix, false);
	if (r < 0) {
		fail_step(why, size, "%s: cannot remove the address: %s",
			  AGENT_TAP_NAME, strerror(-r));
		goto route;
	}
	return 0;
route:
	undo(rtnl_default_route(tapi, net->gateway), "default route on tap0");
addr:
	undo(rtnl_addr(vfi, net->ip, net->prefix, false), "address off the VF");
down:
	undo(netcfg_link_down(vf), "VF down");
	return -1;
}

/* The VF -> tap0, the same steps mirrored.  A VF that is gone already
 * (detached by librettod undoing a switch) took its address and route
 * with it: then only tap0's part is left to do. */
static int to_server(struct agent_switch *sw, char *why, size_t size)
{
	const struct agent_net *net = sw->net;
	int vfi = (int)if_nametoindex(sw->vf);
	int tapi = (int)if_nametoindex(AGENT_TAP_NAME);
	int r;

	if (tapi == 0) {
		fail_step(why, size, "no %s", AGENT_TAP_NAME);
		return -1;
	}
	r = rtnl_addr(tapi, net->ip, net->prefix, true);
	if (r < 0) {
		fail_step(why, size, "%s: cannot add the address: %s",
			  AGENT_TAP_NAME, strerror(-r));
		return -1;
	}
	r = rtnl_default_route(tapi, net->gateway);
	if (r < 0) {
		fail_step(why, size, "%s: cannot move the default route: %s",
			  AGENT_TAP_NAME, strerror(-r));
		goto addr;
	}
	if (vfi == 0) {
		agent_log("switch: the VF %s is gone already\n", sw->vf);
		return 0;
	}
	r = rtnl_addr(vfi, net->ip, net->prefix, false);
	if (r < 0) {
		fail_step(why, size, "%s: cannot remove the address: %s",
			  sw->vf, strerror(-r));
		goto route;
	}
	/* Down: librettod moves it out next, and nothing must go out of it
	 * meanwhile. */
	r = netcfg_link_down(sw->vf);
	if (r < 0) {
		fail_step(why, size, "%s: cannot take it down: %s", sw->vf,
			  strerror(-r));
		goto vf_addr;
	}
	return 0;
vf_addr:
	undo(rtnl_addr(vfi, net->ip, net->prefix, true), "address on the VF");
route:
	undo(rtnl_default_route(vfi, net->gateway), "default route on the VF");
addr:
	/* Without a VF, tap0's address is the only one: kept. */
	if (vfi != 0)
		undo(rtnl_addr(tapi, net->ip, net->prefix, false),
		     "address off tap0");
	return -1;
}

/* How often a switch to direct looks for its VF's link while it waits
 * (sw->vf_wait_ms, from LIBRETTO_VF_WAIT_MS: 0 in the sim, where the VF
 * is there before the request; set by the Xen image, where a PCI
 * hot-plug is done for dom0 before the guest's driver has probed).
 * librettod's guest step times out on its own clock, and its rollback's
 * new request ends the wait. */
#define VF_POLL_MS 20

/* 0: the VF is there under vf; 1: not yet, keep waiting; -1: not there,
 * or not usable, with the reason in why. */
static int vf_ready(struct agent_switch *sw, unsigned long long seq,
		    const char *vf, char *why, size_t size)
{
	struct timespec now;
	int r;

	r = sw->net->have_mac	      ? vf_find(vf, sw->net->mac)
	    : if_nametoindex(vf) != 0 ? 0
				      : -ENOENT;
	if (r == 0) {
		sw->waiting_vf = false;
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (r == -ENOENT && sw->vf_wait_ms > 0 &&
	    (!sw->waiting_vf || sw->waiting_seq != seq)) {
		sw->waiting_vf = true;
		sw->waiting_seq = seq;
		sw->vf_deadline = now;
		sw->vf_deadline.tv_sec += sw->vf_wait_ms / 1000;
		sw->vf_deadline.tv_nsec +=
		    (long)(sw->vf_wait_ms % 1000) * 1000000;
		if (sw->vf_deadline.tv_nsec >= 1000000000L) {
			sw->vf_deadline.tv_sec++;
			sw->vf_deadline.tv_nsec -= 1000000000L;
		}
		return 1;
	}
	if (r == -ENOENT && (now.tv_sec < sw->vf_deadline.tv_sec ||
			     (now.tv_sec == sw->vf_deadline.tv_sec &&
			      now.tv_nsec < sw->vf_deadline.tv_nsec)))
		return 1;
	sw->waiting_vf = false;
	if (r == -ENOENT && sw->vf_wait_ms > 0)
		fail_step(why, size,
			  "the VF %s is not in the domain (no link with the "
			  "app's MAC after %u ms)",
			  vf, sw->vf_wait_ms);
	else if (r == -ENOENT)
		fail_step(why, size, "the VF %s is not in the domain", vf);
	else
		fail_step(why, size, "the VF %s: %s", vf, strerror(-r));
	return -1;
}

int switch_wait_ms(const struct agent_switch *sw)
{
	return sw->waiting_vf ? VF_POLL_MS : -1;
}

static long elapsed_us(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L +
	       (t1.tv_nsec - t0->tv_nsec) / 1000;
}

void switch_changed(struct agent_switch *sw)
{
	char seqv[24], target[40], vf[IF_NAMESIZE], why[160];
	struct switch_req req;
	unsigned long long seq = 0;
	enum switch_act act;
	struct timespec t0;
	bool ok = true;
	int r;

	r = read_req(sw, &req, seqv, target, vf);
	if (r < 0) {
		agent_log("switch: cannot read %s/%s: %s\n", sw->gx->base,
			  LT_XS_SWITCH, strerror(-r));
		return;
	}
	act = switch_decide(sw, &req, &seq, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (act != SWITCH_TO_DIRECT)
		sw->waiting_vf = false; /* a newer request replaced it */
	switch (act) {
	case SWITCH_IGNORE:
		return;
	case SWITCH_ACK:
		agent_log("switch %llu: on the %s path already\n", seq,
			  sw->path == AGENT_PATH_VF ? "VF" : "VIF");
		break;
	case SWITCH_REFUSE:
		ok = false;
		break;
	case SWITCH_TO_DIRECT:
		r = vf_ready(sw, seq, req.vf, why, sizeof(why));
		if (r > 0)
			return; /* answered when it appears, or gives up */
		ok = r == 0 && to_direct(sw, req.vf, why, sizeof(why)) == 0;
		if (ok) {
			sw->path = AGENT_PATH_VF;
			snprintf(sw->vf, sizeof(sw->vf), "%s", req.vf);
		}
		break;
	case SWITCH_TO_SERVER:
		ok = to_server(sw, why, sizeof(why)) == 0;
		if (ok)
			sw->path = AGENT_PATH_VIF;
		break;
	}
	one_line(why);
	if (!ok)
		agent_log("switch %llu: not done, still on %s: %s\n", seq,
			  sw->path == AGENT_PATH_VF ? sw->vf : AGENT_TAP_NAME,
			  why);
	if (ok && act != SWITCH_ACK) {
		sw->switches++;
		agent_log("switch %llu: on %s in %ld us (switch #%u)\n", seq,
			  sw->path == AGENT_PATH_VF ? sw->vf : AGENT_TAP_NAME,
			  elapsed_us(&t0), sw->switches);
	}
	r = answer(sw, seq,
		   sw->path == AGENT_PATH_VF ? LT_GUEST_DIRECT : LT_GUEST_READY,
		   ok ? NULL : why);
	if (r < 0) {
		/* Not marked answered: the next event tries again, and finds
		 * the path done already (SWITCH_ACK). */
		agent_log("switch %llu: cannot answer: %s\n", seq,
			  strerror(-r));
		return;
	}
	sw->last_seq = seq;
}
