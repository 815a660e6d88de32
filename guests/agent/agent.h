/*
 * libretto-agent internals: one header for the agent's parts, one source
 * file per concern (docs/datapath.md describes what the agent does).
 *
 *   agent.c      main: the poll() loop tying everything together
 *   supervise.c  starting the app, its exit status
 *   conf.c       what librettod wrote for this domain (mode, net/...)
 *   netcfg.c     links, addresses, routes, sysctls of the namespace
 *   tap.c        the TAP device the app's TCP/IP talks to
 *   vif.c        the VIF frontend: share, channel, handshake
 *   backend.c    following net/backend to a new server; outage reports
 *   bridge.c     frames between the TAP and the VIF rings
 *   ports.c      listening sockets -> guest/ports claims
 *   vf.c         direct apps: the VF
 *   switch.c     the dynamic switch: tap0 <-> VF on librettod's request
 *   rtnl.c       rtnetlink: what the switch and the counters need
 *   counters.c   link counters -> guest/vf-stats, guest/vif-stats
 */
#ifndef LIBRETTO_AGENT_H
#define LIBRETTO_AGENT_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "guest_xs.h"
#include "platform.h"
#include "ring.h"

/* Everything goes to stderr: in a domain that is its console log. */
#define agent_log(...) fprintf(stderr, "libretto-agent: " __VA_ARGS__)

#define AGENT_TAP_NAME "tap0"
#define AGENT_MTU      9000

/* ---- conf.c ---------------------------------------------------------- */

enum agent_net_kind {
	AGENT_NET_NONE, /* no data-path nodes (older daemon): app only */
	AGENT_NET_VIF,	/* dynamic, server: TAP bridged to the server */
	AGENT_NET_VF,	/* direct: the VF librettod moved in */
};

struct agent_net {
	enum agent_net_kind kind;
	char mode[16];
	struct in_addr ip, gateway;
	unsigned prefix;
	uint8_t mac[6];
	bool have_mac;
	unsigned backend; /* VIF: the server's domid */
	char vf[IF_NAMESIZE];
	bool have_ephemeral; /* server mode: the app's ephemeral ports */
	unsigned eph_lo, eph_hi;
};

/* Reads mode and the net/ nodes of this domain.  0: *net filled (kind NONE when
 * the daemon wrote no data-path nodes, said in the log); -1: the nodes
 * are there but unusable, reason in the log. */
int conf_read(struct guest_xs *gx, struct agent_net *net);

/* Pure parsers, unit-tested.  0 or -1. */
int conf_parse_mac(const char *s, uint8_t mac[6]);
int conf_parse_prefix(const char *s, unsigned *prefix);
int conf_parse_ephemeral(const char *s, unsigned *lo, unsigned *hi);
int conf_parse_domid(const char *s, unsigned *domid);
/* A net/backend value: a domid that is not self.  0 or -1. */
int conf_parse_backend(const char *s, unsigned self, unsigned *domid);

/* ---- netcfg.c -------------------------------------------------------- */

/* Sets what is given of a link: mac (NULL: keep), mtu (0: keep), then up.
 * Returns 0 or -errno. */
int netcfg_link(const char *ifname, const uint8_t *mac, int mtu, bool up);
/* Takes a link down (already down: done).  0 or -errno. */
int netcfg_link_down(const char *ifname);
/* A link's Ethernet address.  0 or -errno. */
int netcfg_mac(const char *ifname, uint8_t mac[6]);
/* Renames a link (it must be down). */
int netcfg_rename(const char *ifname, const char *newname);
/* ip/prefix on ifname (its primary IPv4 address). */
int netcfg_addr(const char *ifname, struct in_addr ip, unsigned prefix);
/* The default route via gw (EEXIST counts as done). */
int netcfg_default_route(struct in_addr gw);
/* "lo hi\n" for net.ipv4.ip_local_port_range; -1 if it does not fit or
 * the range is not a usable one. Pure. */
int netcfg_format_port_range(char *buf, size_t size, unsigned lo, unsigned hi);
/* Writes net.ipv4.ip_local_port_range of the namespace we run in. */
int netcfg_port_range(unsigned lo, unsigned hi);
/* The whole of an interface: mac (optional), MTU 9000, up, address,
 * default route.  Logs what failed; 0 or -1. */
int netcfg_iface(const char *ifname, const struct agent_net *net, bool set_mac);

/* ---- tap.c ----------------------------------------------------------- */

/* Creates tap0 (vnet header, TSO/csum offloads) and returns its
 * non-blocking fd, or -errno.  It goes away with the fd. */
int tap_open(const char *name);

/* ---- supervise.c ----------------------------------------------------- */

/* Forks and execs argv with the signal mask sigmask_child and default
 * dispositions.  Returns the pid (or -1 when fork failed), and in
 * *exec_errno 0 when exec succeeded or its errno. */
pid_t supervise_start(char **argv, const void *sigmask_child, int *exec_errno);
/* Ends the agent as the app ended (same exit code, or the same signal). */
_Noreturn void supervise_exit_like(int status);

/* ---- vif.c ----------------------------------------------------------- */

enum vif_phase {
	VIF_DOWN,    /* nothing allocated */
	VIF_WAIT,    /* published, waiting for the backend's Connected */
	VIF_UP,	     /* both rings attached: frames flow */
	VIF_STOPPED, /* withdrawn for good (the agent is ending) */
};

struct vif {
	struct guest_xs *gx;
	unsigned backend;  /* valid while have_backend */
	bool have_backend; /* net/backend names a domain */
	enum vif_phase phase;
	struct plat_shared *share;
	struct plat_chan *chan;
	struct ring tx, rx;
	char state_path[128]; /* the backend's server/apps/<self>/vif-state */
	unsigned connects;    /* times we reached VIF_UP, for the log */
	bool kick;	      /* the bridge should look at rx now */
	/* Outages: lost_ns is when the last connection ended (monotonic),
	 * 0 while connected or never yet; on Connected again it becomes
	 * outage_ns, reconnects counts, and report asks backend.c to tell. */
	uint64_t lost_ns, outage_ns;
	unsigned reconnects;
	bool report;
	/* When net/backend last named a new domain, and from then to
	 * Connected (0: named before the loss, or never): the part of an
	 * outage after librettod named the new server, for the log. */
	uint64_t named_ns, named_to_up_ns;
};

/* Watches the backend's vif-state (token "vif"). 0 or -errno. */
int vif_init(struct vif *v, struct guest_xs *gx, unsigned backend);
/* Allocates, formats tx and publishes (state Initialised). 0 or -errno. */
int vif_start(struct vif *v);
/* Re-reads the backend's vif-state and acts on it. */
void vif_backend_changed(struct vif *v);
/* Drops the connection (withdraw, free) and starts over from allocation:
 * for a backend that left or a ring it broke. */
void vif_restart(struct vif *v, const char *why);
/* Moves the VIF to backend (have) or to none (!have): the connection with
 * the old one is dropped at once and the handshake done with the new
 * one.  The same backend again does nothing. */
void vif_set_backend(struct vif *v, bool have, unsigned backend);
/* True while what the app sends is to be dropped rather than queued: no
 * connection after one was lost, or no backend at all. */
bool vif_dropping(const struct vif *v);
/* Withdraws and frees for good. */
void vif_stop(struct vif *v);
/* The channel's fd, or -1. */
int vif_chan_fd(const struct vif *v);

/* ---- backend.c ------------------------------------------------------- */

/* The token of the watch on net/backend. */
#define AGENT_BACKEND_TOKEN "backend"

/* Watches net/backend (AGENT_BACKEND_TOKEN) and publishes the reconnect
 * counter at 0.  0 or -errno. */
int backend_init(struct guest_xs *gx);
/* A watch event: re-reads net/backend and moves the VIF to the domain it
 * names, or to none if it is gone or unusable. */
void backend_changed(struct guest_xs *gx, struct vif *v);
/* Logs and publishes an ended outage (v->report), with the frames the app
 * lost meanwhile; report stays set if xenstore refused, for a retry. */
void backend_report(struct guest_xs *gx, struct vif *v, uint64_t drops);

/* ---- bridge.c -------------------------------------------------------- */

struct bridge {
	int tap;
	struct vif *vif;
	bool tx_blocked; /* tx ring full: wait for the backend's notify */
	bool rx_more;	 /* rx has frames left after a batch: poll at once */
	uint64_t to_tap, from_tap, malformed, tap_errors;
	uint64_t outage_drops; /* sent by the app with no connection */
};

int bridge_init(struct bridge *b, int tap, struct vif *v);
/* TAP readable: frames into the tx ring, or dropped while
 * vif_dropping(). */
void bridge_tap_readable(struct bridge *b);
/* A notification (or a batch left over): rx frames to the TAP, and the tx
 * side unblocked. */
void bridge_chan_event(struct bridge *b);
/* Called when the VIF went up or down: resets the flags. */
void bridge_reset(struct bridge *b);

/* ---- ports.c --------------------------------------------------------- */

#define PORTS_WORDS (65536 / 64)

struct port_set {
	uint64_t tcp[PORTS_WORDS], udp[PORTS_WORDS];
};

static inline void port_set_add(uint64_t *w, unsigned port)
{
	w[port / 64] |= 1ull << (port % 64);
}

static inline bool port_set_has(const uint64_t *w, unsigned port)
{
	return (w[port / 64] >> (port % 64)) & 1;
}

/*
 * Adds the ports of a sock_diag dump chunk (buf, len) to set: TCP
 * listeners, UDP sockets bound and unconnected; sockets bound to a
 * loopback address are skipped (no one outside can reach them).  Returns
 * 1 when the dump's end was seen, 0 when more is to come, -errno on a
 * netlink error.  Pure.
 */
int ports_parse_diag(const void *buf, size_t len, bool udp, uint64_t *set);
/* Fills cur from the namespace's sockets. 0 or -errno. */
int ports_scan(struct port_set *cur);
/* Writes guest/ports/{tcp,udp}/<port> for what is in cur and not in
 * *claimed, removes what we claimed and is gone; *claimed becomes cur.
 * One transaction. 0 or -errno. */
int ports_sync(struct guest_xs *gx, struct port_set *claimed,
	       const struct port_set *cur);

/* The claims present before we wrote any (librettod's own, for the
 * declared ports): never ours to write or remove. */
int ports_read_existing(struct guest_xs *gx, struct port_set *out);
/* Removes foreign's ports from cur. Pure. */
void ports_mask(struct port_set *cur, const struct port_set *foreign);

/* ---- vf.c ------------------------------------------------------------ */

/* Configures the VF named in net->vf. 0 or -1 (logged). */
int vf_setup(const struct agent_net *net);
/* Makes the VF answer to name: present already (the sim moves it in under
 * that name), or the link with the app's MAC that a PCI hot-plug made
 * (xen: igbvf names it ethN), renamed.  0; -ENOENT while no link has the
 * MAC yet (a VF driver probes a while after the hot-plug); or -errno. */
int vf_find(const char *name, const uint8_t mac[6]);

/* ---- rtnl.c ---------------------------------------------------------- */

/* A link's counters, from the app's side of the link: rx is what the app
 * received. */
struct link_counters {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_dropped, tx_dropped;
};

/* Adds ip/prefix to the link (an identical address there already counts
 * as done), or deletes it (absent counts as done).  Other addresses of
 * the link are left alone.  0 or -errno. */
int rtnl_addr(int ifindex, struct in_addr ip, unsigned prefix, bool add);
/* Makes the default route go via gw on the link, replacing the one there
 * is in one step.  0 or -errno. */
int rtnl_default_route(int ifindex, struct in_addr gw);
/* The link's counters (RTM_GETLINK, IFLA_STATS64).  0 or -errno. */
int rtnl_link_counters(int ifindex, struct link_counters *out);
/* The counters in an RTM_GETLINK answer (buf, len).  0, or -errno for
 * an error answer, -ENODATA without IFLA_STATS64, -EPROTO without a link
 * message.  Pure. */
int rtnl_parse_link(const void *buf, size_t len, struct link_counters *out);

/* ---- counters.c ------------------------------------------------------ */

struct counters_pub {
	const char *dir; /* below the guest's base: LT_XS_GUEST_VF_STATS ... */
	struct link_counters written;
	bool warned; /* a failure was logged already */
};

void counters_init(struct counters_pub *p, const char *dir);
/* Forgets what was written: the next publish writes every counter (a new
 * link behind the same nodes). */
void counters_reset(struct counters_pub *p);
/* Writes the counters of ifname that changed since the last write. */
void counters_publish(struct guest_xs *gx, struct counters_pub *p,
		      const char *ifname);
/* Removes the nodes: the link is no longer the app's. */
void counters_remove(struct guest_xs *gx, struct counters_pub *p);

/* ---- switch.c -------------------------------------------------------- */

enum agent_path {
	AGENT_PATH_NONE, /* no networking */
	AGENT_PATH_VIF,	 /* the address on tap0, frames through the server */
	AGENT_PATH_VF,	 /* the address on the VF (direct from boot, or
			    after a switch) */
};

struct agent_switch {
	struct guest_xs *gx;
	const struct agent_net *net;
	bool can_switch; /* a dynamic app: the only mode that switches */
	enum agent_path path;
	char vf[IF_NAMESIZE];	     /* the VF of AGENT_PATH_VF */
	unsigned long long last_seq; /* the last switch/seq answered */
	unsigned switches;	     /* done, for the log */
	/* A request to go direct whose VF has no link yet (xen: its driver
	 * is still probing): retried from the loop until vf_deadline. */
	unsigned vf_wait_ms; /* LIBRETTO_VF_WAIT_MS, 0: refuse at once */
	bool waiting_vf;
	unsigned long long waiting_seq;
	struct timespec vf_deadline;
};

/* A request as read from switch/: NULL for an absent node. */
struct switch_req {
	const char *seq, *target, *vf;
};

enum switch_act {
	SWITCH_IGNORE,	  /* no request, or one answered already */
	SWITCH_ACK,	  /* on the requested path already: just answer */
	SWITCH_REFUSE,	  /* answer with the reason, change nothing */
	SWITCH_TO_DIRECT, /* tap0 -> VF */
	SWITCH_TO_SERVER, /* VF -> tap0 */
};

/* The token of the watch on switch/. */
#define AGENT_SWITCH_TOKEN "switch"

/* Sets the path from net, the last seq from guest/seq (0 without), and
 * watches switch/ (AGENT_SWITCH_TOKEN) for a networked app.  0 or -errno. */
int switch_init(struct agent_switch *sw, struct guest_xs *gx,
		const struct agent_net *net);
/* A watch event: re-reads switch/, acts, answers (docs/datapath.md). */
void switch_changed(struct agent_switch *sw);
/* While a switch waits for its VF: how long the loop may sleep (ms)
 * before it calls switch_changed again; -1 otherwise. */
int switch_wait_ms(const struct agent_switch *sw);
/* What a request asks of sw; *seq gets its seq, why the reason of a
 * refusal.  Pure. */
enum switch_act switch_decide(const struct agent_switch *sw,
			      const struct switch_req *req,
			      unsigned long long *seq, char *why, size_t size);
/* A decimal switch/seq, digits only.  0 or -1.  Pure. */
int switch_parse_seq(const char *s, unsigned long long *seq);

#endif
