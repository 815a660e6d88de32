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
 *   bridge.c     frames between the TAP and the VIF rings
 *   ports.c      listening sockets -> guest/ports claims
 *   vf.c         direct apps: the VF
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

/* ---- netcfg.c -------------------------------------------------------- */

/* Sets what is given of a link: mac (NULL: keep), mtu (0: keep), then up.
 * Returns 0 or -errno. */
int netcfg_link(const char *ifname, const uint8_t *mac, int mtu, bool up);
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
	unsigned backend;
	enum vif_phase phase;
	struct plat_shared *share;
	struct plat_chan *chan;
	struct ring tx, rx;
	char state_path[128]; /* the backend's server/apps/<self>/vif-state */
	unsigned connects;    /* times we reached VIF_UP, for the log */
	bool kick;	      /* the bridge should look at rx now */
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
/* Withdraws and frees for good. */
void vif_stop(struct vif *v);
/* The channel's fd, or -1. */
int vif_chan_fd(const struct vif *v);

/* ---- bridge.c -------------------------------------------------------- */

struct bridge {
	int tap;
	struct vif *vif;
	bool tx_blocked; /* tx ring full: wait for the backend's notify */
	bool rx_more;	 /* rx has frames left after a batch: poll at once */
	uint64_t to_tap, from_tap, malformed, tap_errors;
};

int bridge_init(struct bridge *b, int tap, struct vif *v);
/* TAP readable: frames into the tx ring. */
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

#endif
