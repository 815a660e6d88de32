/*
 * libretto-netserver internals (docs/datapath.md).  One header for the
 * small modules so that each stays one concern: pf (the NIC), arp_icmp
 * (what the server answers itself), portmap, apps (the table read from
 * xenstore), vif (the backend of one VIF), forward (the decisions),
 * stats, and main (the poll loop).
 */
#ifndef NETSERVER_H
#define NETSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_xs.h"
#include "platform.h"
#include "ring.h"
#include "vif.h"

/* Domain ids are below 0x7ff0 (DOMID_FIRST_RESERVED), so a uint16_t
 * names one and a table indexed by domid stays small. */
#define NS_DOMID_MAX 0x7ff0u

/* ---- stats ---- */

struct ns_app_stats {
	uint64_t to_app_packets, to_app_bytes;
	uint64_t from_app_packets, from_app_bytes;
	uint64_t drops, malformed;
	/* Of drops: frames for the app that found its rx ring and backlog
	 * full, or the app stalled; rx_stalled is 0 or 1 (vif.c). */
	uint64_t rx_ring_full_drops, rx_stalled, rx_stalls;
	/* Frames from the app refused by the source checks (forward.c). */
	uint64_t spoof_mac, spoof_ip, spoof_port, spoof_arp, bad_ethertype;
};

struct ns_pf_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t no_owner, foreign;
	uint64_t spoof_arp; /* ARP from the wire claiming an address of ours */
};

/* ---- portmap: who owns a port of the server IP ---- */

enum { PM_TCP = 0, PM_UDP = 1 };

/*
 * Two lookup arrays (TCP, UDP) of 65536 owners each, so a dispatch is one
 * load.  They are rebuilt whole from the explicit entries (the mirror of
 * server/portmap) and the server-mode apps' ephemeral ranges whenever
 * either changes: changes are rare (deploys), lookups are per frame.
 */
struct portmap {
	uint16_t owner[2][65536];    /* what dispatch reads; 0 = none */
	uint16_t explicit[2][65536]; /* server/portmap/{tcp,udp}/<port> */
};

void pm_clear_explicit(struct portmap *pm);
void pm_set_explicit(struct portmap *pm, int proto, uint16_t port,
		     uint16_t domid);
/* Rebuilds owner[] from explicit[] plus the ranges; an ephemeral range
 * wins over an explicit entry: replies to an app's own connections are
 * its own whatever the portmap says (no declared port is in a range). */
struct ns_apps;
void pm_rebuild(struct portmap *pm, const struct ns_apps *apps);
static inline uint16_t pm_lookup(const struct portmap *pm, int proto,
				 uint16_t port)
{
	return pm->owner[proto][port];
}
/* Reads server/portmap/{tcp,udp}/ into explicit[].  0 or -errno. */
int pm_read_xs(struct portmap *pm, struct guest_xs *gx);

/* ---- the VIF backend ---- */

struct ns_vif {
	bool connected;
	/* The references we connected with, or last failed on: a failed
	 * reference is not retried until the frontend publishes another. */
	char ring_ref[PLAT_REF_MAX];
	char chan_ref[PLAT_REF_MAX];
	bool failed;
	struct plat_shared *share;
	struct plat_chan *chan;
	struct ring tx;	       /* app -> server: we consume */
	struct ring rx;	       /* server -> app: we produce */
	bool rx_dirty;	       /* enqueued since the last notify check */
	uint32_t rx_unflushed; /* bytes enqueued since then */
	/* Frames that found rx full wait in rxq, in order, until the app
	 * makes room (a ring of our own, allocated on first use); after
	 * NS_RX_STALL_MS without room the app is stalled (vif.c). */
	void *rxq_mem;
	struct ring rxq_in, rxq_out;
	uint32_t rxq_n;		/* frames waiting in rxq */
	uint32_t rx_wait_len;	/* the frame rx had no room for */
	uint64_t rx_full_since; /* ms; 0: rx took the last frame offered */
	bool rx_stalled;
};

/* The rx backlog's data area, and how long rx may take nothing while
 * frames wait before the app is stalled (docs/datapath.md). */
#define NS_RXQ_DATA    (512u * 1024u)
#define NS_RX_STALL_MS 1000u

/* ---- apps ---- */

enum ns_mode { NS_MODE_NONE, NS_MODE_SERVER, NS_MODE_DYNAMIC, NS_MODE_DIRECT };

#define NS_ARP_ASKED 4 /* ARP requests in flight per server-mode app */
/* Datagrams a server-mode app sent fragmented, per app: the later
 * fragments carry no port, so they pass only as the rest of a first
 * fragment that passed the port check (forward.c). */
#define NS_FRAGS_SENT 8

struct ns_app {
	uint16_t domid;
	bool seen; /* mark for the re-read sweep */
	enum ns_mode mode;
	uint32_t ip; /* network order; 0 = none */
	uint8_t mac[6];
	bool has_mac;
	bool active;
	/* The acked node as last read or written: ACKED_NONE, 0 or 1.  It
	 * follows active once the change is applied (apps_ack). */
	int acked;
	uint16_t eph_lo, eph_hi; /* 0-0: none */
	/* Server-mode apps: the IPs this app asked for by ARP and has had
	 * no reply for yet, so that a reply to the shared IP goes to the
	 * app that asked (forward.c).  0 = free. */
	uint32_t arp_asked[NS_ARP_ASKED];
	unsigned arp_asked_next;
	/* Server-mode apps: (destination, IP id, protocol) of the last
	 * NS_FRAGS_SENT first fragments it sent; proto 0 = free. */
	struct ns_frag_sent {
		uint32_t dst;
		uint16_t id;
		uint8_t proto;
	} frags_sent[NS_FRAGS_SENT];
	unsigned frags_sent_next;
	struct ns_vif vif;
	struct ns_app_stats st, st_written;
};

#define NS_APPS_MAX 256

struct ns_apps {
	unsigned n;
	struct ns_app *v[NS_APPS_MAX];
	struct ns_app *by_domid[NS_DOMID_MAX];
};

struct ns_app *apps_find(const struct ns_apps *a, unsigned domid);
/* Adds (zeroed, with domid) or returns the existing one; NULL if full. */
struct ns_app *apps_get(struct ns_apps *a, unsigned domid);
void apps_remove(struct ns_apps *a, unsigned domid);
/* The active dedicated-IP app (dynamic/direct) with this MAC, or NULL. */
struct ns_app *apps_by_mac(const struct ns_apps *a, const uint8_t mac[6]);
/* True for apps that take frames for their own MAC: dedicated-IP, active. */
bool app_is_dedicated(const struct ns_app *app);
/* Parsers for the xenstore values (pure, tested). */
int parse_mac(const char *s, uint8_t mac[6]);
int parse_ip(const char *s, uint32_t *ip);
int parse_range(const char *s, uint16_t *lo, uint16_t *hi);
enum ns_mode parse_mode(const char *s);
/*
 * Re-reads server/apps/: adds new apps, updates fields, and calls gone()
 * for each app that disappeared before freeing it.  Returns 0 or -errno.
 */
int apps_read_xs(struct ns_apps *a, struct guest_xs *gx,
		 void (*gone)(struct ns_app *, void *), void *arg);
#define ACKED_NONE (-1) /* no acked node, or not "0"/"1" */
/* The acked node's value: 0, 1 or ACKED_NONE.  Pure. */
int parse_acked(const char *s);
/* True when app's acked node must be (re)written: it does not say the
 * active value applied.  Pure. */
bool app_needs_ack(const struct ns_app *app);
/* Writes server/apps/<domid>/acked = "0" or "1" for every app whose
 * applied active it does not say yet (docs/datapath.md); to be called
 * once the change is in force (forwarding and the PF filter). */
void apps_ack(struct ns_apps *a, struct guest_xs *gx);

/* ---- forwarding decisions (pure) ---- */

struct fw_ctx {
	uint32_t server_ip; /* network order */
	uint8_t server_mac[6];
	const struct portmap *pm;
	const struct ns_apps *apps;
};

enum fw_drop {
	FW_DROP_NONE = 0,
	FW_DROP_NO_OWNER, /* for the server IP/MAC, but nobody owns it */
	FW_DROP_FOREIGN,  /* a MAC we do not serve */
	/* Refused by the source checks (docs/datapath.md, "What an app may
	 * send"); counted per app, FW_DROP_SPOOF_ARP from the wire on the
	 * PF. */
	FW_DROP_SPOOF_MAC,     /* Ethernet source not the app's MAC */
	FW_DROP_SPOOF_IP,      /* IPv4 source not the app's IP */
	FW_DROP_SPOOF_PORT,    /* server mode: a port the app does not own */
	FW_DROP_SPOOF_ARP,     /* ARP with addresses not the sender's */
	FW_DROP_BAD_ETHERTYPE, /* neither IPv4 nor ARP */
};

#define FW_SELF	     0x1u  /* the server itself answers (ARP / ICMP echo) */
#define FW_PF	     0x2u  /* out of pf0 */
#define FW_APP	     0x4u  /* to app `domid` */
#define FW_FLOOD_DED 0x8u  /* to every active dedicated-IP app */
#define FW_FLOOD_SRV 0x10u /* to every server-mode app */

struct fw_dec {
	unsigned to;	/* FW_* bits; 0 = dropped for `drop` */
	uint16_t domid; /* FW_APP */
	enum fw_drop drop;
};

/* A frame (Ethernet, no vnet header) from pf0. */
struct fw_dec fw_from_pf(const struct fw_ctx *c, const uint8_t *eth,
			 size_t len);
/* A frame (already checked with vif_frame_check) from app src: refused
 * unless it carries src's own addresses (docs/datapath.md).  Records the
 * IPs a server-mode app asks for by ARP; fw_from_pf hands the reply to
 * that app and forgets the question. */
struct fw_dec fw_from_app(const struct fw_ctx *c, uint16_t src,
			  const uint8_t *eth, size_t len);
/* Counts a refused frame (d.to == 0) under its reason: the app's
 * counters for frames from app (may be NULL: from the wire), the PF's
 * otherwise. */
void fw_count_drop(enum fw_drop why, struct ns_app_stats *app,
		   struct ns_pf_stats *pf);

/* ---- ARP / ICMP replies (pure) ---- */

/*
 * If eth is an ARP request for ip (or an ICMP echo request to ip),
 * writes the reply Ethernet frame into out (cap bytes) and returns its
 * length; returns 0 if it is not one, or does not fit.
 */
size_t arp_reply(const uint8_t *eth, size_t len, uint32_t ip,
		 const uint8_t mac[6], uint8_t *out, size_t cap);
size_t icmp_echo_reply(const uint8_t *eth, size_t len, uint32_t ip,
		       const uint8_t mac[6], uint8_t *out, size_t cap);
uint16_t inet_csum(const void *p, size_t len);
/* A gratuitous ARP (an announcement of ip at mac, broadcast) into out;
 * its length, or 0 if cap is too small. */
size_t arp_announce(uint32_t ip, const uint8_t mac[6], uint8_t *out,
		    size_t cap);

/* ---- the PF ---- */

struct pf {
	int fd;
	int ifindex;
	uint8_t mac[6];
	uint8_t *map;
	size_t map_len;
	unsigned nframes, frames_per_block, frame_size;
	unsigned cur; /* the next slot to look at */
};

int pf_open(struct pf *pf, const char *ifname);
void pf_close(struct pf *pf);
/* Calls cb for up to max_frames received frames, in order: frame is the
 * vnet header then the Ethernet frame, len their total; truncated is true
 * when the frame did not fit its slot.  cb returns false to stop at that
 * frame (it is offered again by the next call): back-pressure from a full
 * VIF.  Returns frames handled. */
typedef bool (*pf_rx_cb)(void *arg, const uint8_t *frame, uint32_t len,
			 bool truncated);
unsigned pf_rx(struct pf *pf, pf_rx_cb cb, void *arg, unsigned max_frames);
/* True if a received frame is waiting (more work without sleeping). */
bool pf_rx_ready(const struct pf *pf);
/* Sends one vnet header + Ethernet frame.  0, -EAGAIN (socket full: try
 * again on POLLOUT) or another -errno (the frame is lost). */
int pf_send(struct pf *pf, const void *frame, size_t len);
/* Sends up to n prepared messages (each a vnet header + Ethernet frame in
 * its iovecs) with one sendmmsg.  Returns how many were sent (>= 1), or,
 * when the first one fails, -EAGAIN (socket full: wait for POLLOUT) or
 * another -errno (that first frame is lost). */
struct mmsghdr;
int pf_send_batch(struct pf *pf, struct mmsghdr *m, unsigned n);
/* The most MACs pf_set_filter can list (its jumps are 8-bit). */
#define PF_FILTER_MACS 60
/* Keeps only multicast/broadcast and frames to these MACs on the ring. */
int pf_set_filter(struct pf *pf, const uint8_t (*macs)[6], unsigned n);
/* Removes the filter: every frame reaches the ring.  0 or -errno. */
int pf_clear_filter(struct pf *pf);

/* ---- stats ---- */

/* Writes what changed since the last write; returns true if anything
 * was written. */
bool stats_flush(struct guest_xs *gx, struct ns_apps *apps,
		 const struct ns_pf_stats *pf, struct ns_pf_stats *pf_written);
bool stats_dirty(const struct ns_apps *apps, const struct ns_pf_stats *pf,
		 const struct ns_pf_stats *pf_written);

/* ---- VIF backend (vif.c) ---- */

/* Brings the VIF of app in line with the frontend's guest/vif: connects,
 * reconnects on new references, disconnects on Closing/Closed. */
void ns_vif_sync(struct guest_xs *gx, struct ns_app *app);
/* Tears the VIF down; writes vif-state = state unless state < 0. */
void ns_vif_disconnect(struct guest_xs *gx, struct ns_app *app, int state);
/* Queues one frame (vnet + Ethernet) to the app: into its rx ring, or
 * its backlog while the ring is full.  0, or -errno when the frame is
 * dropped: counted here (drops, rx_ring_full_drops), never waited for. */
int ns_vif_put(struct ns_app *app, const void *frame, uint32_t len);
/* Notifies the app if frames queued since the last call need it. */
void ns_vif_flush(struct ns_app *app);
/* For an app with frames waiting (rxq_n) or stalled: moves what now
 * fits, asks the app to notify room for the rest, applies the stall
 * rule at now (ms).  Returns the ms until the app would be stalled, or
 * -1 when no deadline is running. */
int ns_vif_rx_poll(struct ns_app *app, uint64_t now);
uint64_t ns_now_ms(void);

#endif
