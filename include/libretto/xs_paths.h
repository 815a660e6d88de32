/*
 * The xenstore layout shared by librettod, librettoctl and the guests
 * (docs/xenstore.md).  Every path of the contract is spelled here and
 * nowhere else.
 */
#ifndef LIBRETTO_XS_PATHS_H
#define LIBRETTO_XS_PATHS_H

/* dom0-only tree */
#define LT_XS_ROOT	     "/libretto"
#define LT_XS_DAEMON	     LT_XS_ROOT "/daemon"
#define LT_XS_DAEMON_PID     LT_XS_DAEMON "/pid"
#define LT_XS_DAEMON_VERSION LT_XS_DAEMON "/version"
#define LT_XS_DAEMON_BACKEND LT_XS_DAEMON "/backend"
/*
 * Per deployment (docs/xenstore.md says why the contract gained the
 * <deployment> level): each deployment has its own PF, shared IP and pool.
 */
#define LT_XS_PORTMAP_FMT LT_XS_ROOT "/portmap/%s" /* /tcp/<port> = <domid> */
#define LT_XS_POOL_FMT	  LT_XS_ROOT "/pool/%s"
#define LT_XS_POOL_IP_FMT LT_XS_POOL_FMT "/ip" /* /<addr> = <app> */
#define LT_XS_POOL_VF_FMT LT_XS_POOL_FMT "/vf" /* /<vf-id> = <app> | "" */

/* per guest, relative to /local/domain/<domid> */
#define LT_XS_DOMAIN_FMT "/local/domain/%u"
#define LT_XS_GUEST_FMT	 "/local/domain/%u/libretto"

/* leaves below LT_XS_GUEST_FMT */
#define LT_XS_ROLE	  "role"
#define LT_XS_NAME	  "name"
#define LT_XS_DEPLOYMENT  "deployment"
#define LT_XS_MODE	  "mode"
#define LT_XS_NET_IP	  "net/ip"
#define LT_XS_NET_PREFIX  "net/prefix"
#define LT_XS_NET_GATEWAY "net/gateway"
#define LT_XS_NET_MAC	  "net/mac"
/* The directory of switch/{target,vf,seq}: the agent watches it whole, so
 * that one event covers a request however librettod writes it. */
#define LT_XS_SWITCH	    "switch"
#define LT_XS_SWITCH_TARGET "switch/target"
#define LT_XS_SWITCH_VF	    "switch/vf"
#define LT_XS_SWITCH_SEQ    "switch/seq"
#define LT_XS_GUEST_STATE   "guest/state"
/* Why, in a line, when guest/state says error. */
#define LT_XS_GUEST_ERROR "guest/error"
#define LT_XS_GUEST_SEQ	  "guest/seq"
#define LT_XS_GUEST_PORTS "guest/ports"
#define LT_XS_GUEST_VIF	  "guest/vif"
/* The agent's link counters, one node per counter as the netserver's
 * server/apps/<domid>/stats/: the VF's while it is up, the TAP's while the
 * app has one. */
#define LT_XS_GUEST_VF_STATS  "guest/vf-stats"
#define LT_XS_GUEST_VIF_STATS "guest/vif-stats"
/* The agent's VIF across new network servers (docs/datapath.md, "A new
 * network server"): how many reconnects, the last outage in ms, the frames
 * the app sent while there was no connection. */
#define LT_XS_GUEST_VIF_RECONNECTS   "guest/vif-reconnects"
#define LT_XS_GUEST_VIF_RECONNECT_MS "guest/vif-reconnect-ms"
#define LT_XS_GUEST_VIF_OUTAGE_DROPS "guest/vif-outage-drops"
#define LT_XS_SERVER_STATE	     "server/state"
#define LT_XS_SERVER_APPS	     "server/apps"

/* The data path (docs/datapath.md). */
#define LT_XS_NET_BACKEND   "net/backend"   /* the server's domid */
#define LT_XS_NET_EPHEMERAL "net/ephemeral" /* "lo-hi", server-mode apps */
#define LT_XS_NET_VF	    "net/vf"	    /* direct: the VF's netdev */
/* The VF's name inside a direct app (what LT_XS_NET_VF holds in sim). */
#define LT_VF_NETDEV "vf0"
/* Server-mode apps' ephemeral ranges: LT_EPHEMERAL_SLOTS disjoint ranges of
 * LT_EPHEMERAL_SPAN ports from LT_EPHEMERAL_BASE. */
#define LT_EPHEMERAL_BASE    32768
#define LT_EPHEMERAL_SPAN    2048
#define LT_EPHEMERAL_SLOTS   14
#define LT_XS_SERVER_PORTMAP "server/portmap" /* /{tcp,udp}/<port> = domid */
#define LT_XS_SERVER_STATS   "server/stats"
/* leaves below server/apps/<domid> */
#define LT_XS_APP_NAME	 "name"
#define LT_XS_APP_MODE	 "mode"
#define LT_XS_APP_IP	 "ip"
#define LT_XS_APP_MAC	 "mac"
#define LT_XS_APP_ACTIVE "active"
/* The value of active the server has applied (docs/datapath.md). */
#define LT_XS_APP_ACKED	    "acked"
#define LT_XS_APP_EPHEMERAL "ephemeral"
#define LT_XS_APP_VIF_STATE "vif-state"
#define LT_XS_APP_STATS	    "stats"

/* xen: how the guest image's /init learns what to run (docs/xen.md):
 * boot/argv/<i> and boot/env/<i> ("K=V"), i = 0, 1, ... with no gap; and
 * what it leaves behind when the program ends, the exit code in decimal,
 * before it powers the domain off. */
#define LT_XS_BOOT_ARGV		"boot/argv"
#define LT_XS_BOOT_ENV		"boot/env"
#define LT_XS_BOOT		"boot"
#define LT_XS_GUEST_EXIT_STATUS "guest/exit-status"

/* values */
/* switch/target: the path the app is asked to take. */
#define LT_SWITCH_TO_DIRECT "direct"
#define LT_SWITCH_TO_SERVER "server"
#define LT_ROLE_SERVER	    "server"
#define LT_ROLE_APP	    "app"

#define LT_GUEST_BOOTING   "booting"
#define LT_GUEST_READY	   "ready"
#define LT_GUEST_SWITCHING "switching"
#define LT_GUEST_DIRECT	   "direct"
#define LT_GUEST_ERROR	   "error"

#define LT_SERVER_STARTING "starting"
#define LT_SERVER_RUNNING  "running"

/* environment handed to every guest process in the sim backend */
#define LT_ENV_DOMID   "LIBRETTO_DOMID"
#define LT_ENV_XS_PATH "XENSTORED_PATH"

#endif
