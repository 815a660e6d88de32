/*
 * libretto-agent: runs inside each application domain next to the app.
 *
 * It sets up the domain's network (docs/datapath.md: tap0 bridged to a
 * VIF for dynamic and server apps, the VF for direct ones), starts the
 * app, reports the guest's state in xenstore (guest/state: booting,
 * ready, error), claims the app's listening ports in guest/ports, moves a
 * dynamic app between tap0 and a VF when librettod asks (switch/), follows
 * the VIF's backend to a new network server (net/backend), publishes
 * the links' counters, and ends as the app ends, with the same status, so
 * the domain dies with its app as a Xen domain would.
 *
 * One poll() loop does all of it: signals (signalfd), xenstore watches,
 * the port-scan timer, the TAP and the VIF's channel.  One thread, so
 * the rings have exactly one producer and one consumer on our side.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libretto/xs_paths.h>

#include "agent.h"

/* Port scans: often enough that a claim follows a bind within a second
 * (the test wants 2 s), rare enough to cost nothing; the first one soon
 * after the app starts. */
#define SCAN_FIRST_NS (100 * 1000 * 1000L)
#define SCAN_EVERY_NS (500 * 1000 * 1000L)
/* Link counters once a second, as the netserver's: every SCAN_EVERY_NS
 * tick that many times. */
#define COUNTERS_EVERY_TICKS 2

static void usage(void)
{
	fprintf(stderr, "usage: libretto-agent -- COMMAND [ARG...]\n"
			"Runs COMMAND as the application of a libretto domain "
			"(LIBRETTO_DOMID\nand XENSTORED_PATH come from "
			"librettod).\n");
}

struct agent {
	struct guest_xs gx;
	struct agent_net net;
	int tap, sfd, tfd;
	struct vif vif;
	struct bridge bridge;
	struct port_set claimed, foreign;
	struct agent_switch sw;
	struct counters_pub vf_stats, vif_stats;
	unsigned ticks;
	pid_t app;
};

/* Setup failed before the app started: say so and end. */
static _Noreturn void fail_early(struct agent *a)
{
	vif_stop(&a->vif);
	guest_xs_write(&a->gx, LT_XS_GUEST_STATE, LT_GUEST_ERROR);
	guest_xs_close(&a->gx);
	exit(1);
}

static int setup_vif_path(struct agent *a)
{
	int r;

	a->tap = tap_open(AGENT_TAP_NAME);
	if (a->tap < 0) {
		agent_log("cannot create %s: %s\n", AGENT_TAP_NAME,
			  strerror(-a->tap));
		return -1;
	}
	if (netcfg_iface(AGENT_TAP_NAME, &a->net, true) < 0)
		return -1;
	if (a->net.have_ephemeral) {
		r = netcfg_port_range(a->net.eph_lo, a->net.eph_hi);
		if (r < 0) {
			agent_log("cannot set ip_local_port_range %u-%u: %s\n",
				  a->net.eph_lo, a->net.eph_hi, strerror(-r));
			return -1;
		}
		agent_log("ephemeral ports %u-%u\n", a->net.eph_lo,
			  a->net.eph_hi);
	}
	r = vif_init(&a->vif, &a->gx, a->net.backend);
	if (r < 0) {
		agent_log("cannot watch the backend's state: %s\n",
			  strerror(-r));
		return -1;
	}
	/* The backend may be replaced by a new domain (docs/datapath.md, "A
	 * new network server"): without the watch we would not follow. */
	r = backend_init(&a->gx);
	if (r < 0) {
		agent_log("cannot watch %s/%s: %s\n", a->gx.base,
			  LT_XS_NET_BACKEND, strerror(-r));
		return -1;
	}
	if (bridge_init(&a->bridge, a->tap, &a->vif) < 0)
		return -1;
	/* Publishing does not wait for the backend: it may be restarting,
	 * and the app must not wait for it to start. */
	return vif_start(&a->vif) < 0 ? -1 : 0;
}

static void scan_ports(struct agent *a)
{
	struct port_set cur;
	int r = ports_scan(&cur);

	if (r < 0) {
		agent_log("port scan failed: %s\n", strerror(-r));
		return;
	}
	ports_mask(&cur, &a->foreign);
	r = ports_sync(&a->gx, &a->claimed, &cur);
	if (r < 0)
		agent_log("cannot write port claims: %s\n", strerror(-r));
}

static void publish_counters(struct agent *a)
{
	if (a->sw.path == AGENT_PATH_VF)
		counters_publish(&a->gx, &a->vf_stats, a->sw.vf);
	if (a->net.kind == AGENT_NET_VIF)
		counters_publish(&a->gx, &a->vif_stats, AGENT_TAP_NAME);
}

static void on_switch(struct agent *a)
{
	enum agent_path before = a->sw.path;

	switch_changed(&a->sw);
	if (a->sw.path == before)
		return;
	/* The VF's counters are published while the app uses it, from
	 * the switch on (a new VF, perhaps, behind the same nodes); gone
	 * with it, they would only mislead. */
	if (a->sw.path == AGENT_PATH_VF) {
		counters_reset(&a->vf_stats);
		counters_publish(&a->gx, &a->vf_stats, a->sw.vf);
	} else {
		counters_remove(&a->gx, &a->vf_stats);
	}
}

static void on_watches(struct agent *a)
{
	char **w;

	while ((w = xs_check_watch(a->gx.h)) != NULL) {
		if (strcmp(w[XS_WATCH_TOKEN], "vif") == 0)
			vif_backend_changed(&a->vif);
		else if (strcmp(w[XS_WATCH_TOKEN], AGENT_BACKEND_TOKEN) == 0)
			backend_changed(&a->gx, &a->vif);
		else if (strcmp(w[XS_WATCH_TOKEN], AGENT_SWITCH_TOKEN) == 0)
			on_switch(a);
		free(w);
	}
}

static void on_timer(struct agent *a)
{
	uint64_t ticks;

	if (read(a->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	scan_ports(a);
	if (++a->ticks % COUNTERS_EVERY_TICKS == 0)
		publish_counters(a);
	if (a->net.kind != AGENT_NET_VIF)
		return;
	/* A report xenstore refused, again. */
	backend_report(&a->gx, &a->vif, a->bridge.outage_drops);
	/* Watches cover every state change; this covers what they cannot:
	 * a start that failed for want of resources, and a Connected seen
	 * before the backend's rx was visible. */
	if (a->vif.phase == VIF_DOWN)
		vif_start(&a->vif);
	else if (a->vif.phase == VIF_WAIT)
		vif_backend_changed(&a->vif);
}

/* Returns true once the app has ended (*status set). */
static bool on_signal(struct agent *a, int *status)
{
	struct signalfd_siginfo si;

	while (read(a->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			/* The domain is being stopped: the app decides how
			 * to end, and we end with it. */
			kill(a->app, (int)si.ssi_signo);
			continue;
		}
		if (waitpid(a->app, status, WNOHANG) == a->app)
			return true;
	}
	return false;
}

static int run(struct agent *a)
{
	int status = 0;

	for (;;) {
		struct pollfd p[5];
		enum vif_phase before = a->vif.phase;
		int n = 0, ip_tap = -1, ip_chan = -1, cfd;

		p[n++] = (struct pollfd){.fd = a->sfd, .events = POLLIN};
		p[n++] =
		    (struct pollfd){.fd = xs_fileno(a->gx.h), .events = POLLIN};
		p[n++] = (struct pollfd){.fd = a->tfd, .events = POLLIN};
		/* Connected: while the tx ring has room.  Not connected: only
		 * to drop what the app sends, after a loss (vif_dropping). */
		if ((a->vif.phase == VIF_UP && !a->bridge.tx_blocked) ||
		    vif_dropping(&a->vif)) {
			ip_tap = n;
			p[n++] =
			    (struct pollfd){.fd = a->tap, .events = POLLIN};
		}
		cfd = vif_chan_fd(&a->vif);
		if (cfd >= 0) {
			ip_chan = n;
			p[n++] = (struct pollfd){.fd = cfd, .events = POLLIN};
		}
		if (poll(p, (nfds_t)n,
			 a->bridge.rx_more ? 0 : switch_wait_ms(&a->sw)) < 0) {
			if (errno == EINTR)
				continue;
			agent_log("poll: %s\n", strerror(errno));
			/* Not fatal to the app: keep supervising it. */
			sleep(1);
			continue;
		}
		if ((p[0].revents & POLLIN) && on_signal(a, &status))
			return status;
		if (p[1].revents & POLLIN)
			on_watches(a);
		if (p[2].revents & POLLIN)
			on_timer(a);
		if (switch_wait_ms(&a->sw) >= 0)
			on_switch(a); /* is its VF there yet? */
		if (a->net.kind == AGENT_NET_VIF) {
			if (a->vif.kick && a->vif.phase == VIF_UP)
				a->bridge.rx_more = true;
			a->vif.kick = false;
			if (a->bridge.rx_more ||
			    (ip_chan >= 0 && (p[ip_chan].revents & POLLIN)))
				bridge_chan_event(&a->bridge);
			if (ip_tap >= 0 && (p[ip_tap].revents & POLLIN))
				bridge_tap_readable(&a->bridge);
			if (a->vif.phase != before) {
				bridge_reset(&a->bridge);
				backend_report(&a->gx, &a->vif,
					       a->bridge.outage_drops);
			}
		}
	}
}

int main(int argc, char **argv)
{
	static struct agent a = {.tap = -1, .sfd = -1, .tfd = -1};
	struct itimerspec its = {
	    .it_value = {.tv_nsec = SCAN_FIRST_NS},
	    .it_interval = {.tv_nsec = SCAN_EVERY_NS},
	};
	sigset_t block, child_mask;
	int first = 1, exec_errno, status, r;

	if (argc >= 2 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (first >= argc) {
		usage();
		return 2;
	}
	if (guest_xs_open(&a.gx, "libretto-agent") < 0)
		return 1;
	guest_xs_write(&a.gx, LT_XS_GUEST_STATE, LT_GUEST_BOOTING);
	/* A vanished xenstored must show as a failed write, not kill us
	 * (and with us the app's supervision). */
	signal(SIGPIPE, SIG_IGN);

	if (conf_read(&a.gx, &a.net) < 0)
		fail_early(&a);
	/* librettod brings lo up; a namespace made another way may not. */
	r = netcfg_link("lo", NULL, 0, true);
	if (r < 0)
		agent_log("cannot bring lo up: %s\n", strerror(-r));
	/* Networking before the app, so that it can bind at once. */
	if (a.net.kind == AGENT_NET_VIF && setup_vif_path(&a) < 0)
		fail_early(&a);
	if (a.net.kind == AGENT_NET_VF && vf_setup(&a.net) < 0)
		fail_early(&a);

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	/* Blocked before the fork: a SIGCHLD of an app that dies at once
	 * waits in the signalfd instead of being lost. */
	if (sigprocmask(SIG_BLOCK, &block, &child_mask) < 0 ||
	    (a.sfd = signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (a.tfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    timerfd_settime(a.tfd, 0, &its, NULL) < 0) {
		agent_log("signalfd/timerfd: %s\n", strerror(errno));
		fail_early(&a);
	}
	ports_read_existing(&a.gx, &a.foreign);

	a.app = supervise_start(argv + first, &child_mask, &exec_errno);
	if (a.app < 0) {
		agent_log("cannot start the app: %s\n", strerror(exec_errno));
		fail_early(&a);
	}
	if (exec_errno) {
		char why[256];

		/* librettod quotes it when it fails the deploy. */
		snprintf(why, sizeof(why), "cannot run %s: %s", argv[first],
			 strerror(exec_errno));
		guest_xs_write(&a.gx, LT_XS_GUEST_ERROR, why);
	}
	guest_xs_write(&a.gx, LT_XS_GUEST_STATE,
		       exec_errno ? LT_GUEST_ERROR : LT_GUEST_READY);
	/* After ready: a switch answers with a state, which must not be
	 * overwritten by the boot's. */
	counters_init(&a.vf_stats, LT_XS_GUEST_VF_STATS);
	counters_init(&a.vif_stats, LT_XS_GUEST_VIF_STATS);
	r = switch_init(&a.sw, &a.gx, &a.net);
	if (r < 0)
		agent_log("cannot watch %s/%s: the app cannot switch: %s\n",
			  a.gx.base, LT_XS_SWITCH, strerror(-r));

	status = run(&a);

	if (a.net.kind == AGENT_NET_VIF)
		agent_log("app ended; VIF: %u connection(s), %llu frames to "
			  "the app, %llu from it, %llu malformed, %llu TAP "
			  "errors, %llu dropped without a backend\n",
			  a.vif.connects, (unsigned long long)a.bridge.to_tap,
			  (unsigned long long)a.bridge.from_tap,
			  (unsigned long long)a.bridge.malformed,
			  (unsigned long long)a.bridge.tap_errors,
			  (unsigned long long)a.bridge.outage_drops);
	vif_stop(&a.vif);
	/* The app's sockets are gone with it. */
	memset(&a.foreign, 0, sizeof(a.foreign));
	{
		static struct port_set none;

		ports_sync(&a.gx, &a.claimed, &none);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		guest_xs_write(&a.gx, LT_XS_GUEST_STATE, LT_GUEST_ERROR);
	guest_xs_close(&a.gx);
	supervise_exit_like(status);
}
