/*
 * The VF of a direct app, or of a dynamic app switched to direct.  In the
 * sim, librettod moves a macvlan with the app's MAC into the namespace
 * under its final name.  Under Xen the VF is a PCI function hot-plugged
 * into the domain (or given at its create): the guest's VF driver names
 * it like any NIC (eth1, ...), so it is found by the MAC that dom0 set
 * from the PF before the attach, and renamed.  Its MAC is right already;
 * MTU, link, address and route are ours.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/* How long a direct app waits at boot for its VF's driver. */
#define VF_BOOT_WAIT_MS 20000

int vf_find(const char *name, const uint8_t mac[6])
{
	struct if_nameindex *all, *i;
	uint8_t have[6];
	int r = -ENOENT;

	if (if_nametoindex(name) != 0)
		return 0;
	all = if_nameindex();
	if (all == NULL)
		return -errno;
	for (i = all; i->if_index != 0; i++) {
		if (strcmp(i->if_name, AGENT_TAP_NAME) == 0 ||
		    strcmp(i->if_name, "lo") == 0 ||
		    netcfg_mac(i->if_name, have) < 0 ||
		    memcmp(have, mac, sizeof(have)) != 0)
			continue;
		/* A fresh VF is down; renaming needs it so. */
		r = netcfg_link_down(i->if_name);
		if (r == 0)
			r = netcfg_rename(i->if_name, name);
		if (r == 0)
			agent_log("the VF %s is now %s\n", i->if_name, name);
		break;
	}
	if_freenameindex(all);
	return r;
}

/* A socket told of every link that appears or changes in this namespace
 * (RTMGRP_LINK), so that the boot wait for the VF ends on its arrival. */
static int link_events_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_LINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000L +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

/* Until the VF with the app's MAC is here (renamed), up to
 * VF_BOOT_WAIT_MS: each link event looks again. Without the event socket
 * it looks every 50 ms. */
static int vf_wait(const struct agent_net *net)
{
	struct timespec deadline;
	char buf[8192];
	int ev = link_events_open(), r;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VF_BOOT_WAIT_MS / 1000;
	/* Subscribed before the first look: a VF that comes in between is
	 * an event, not a miss. */
	while ((r = vf_find(net->vf, net->mac)) == -ENOENT &&
	       (left = ms_left(&deadline)) > 0) {
		struct pollfd p = {.fd = ev, .events = POLLIN};
		struct timespec pause = {0, 50 * 1000 * 1000};

		if (ev < 0) {
			nanosleep(&pause, NULL);
			continue;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			nanosleep(&pause, NULL);
		while (recv(ev, buf, sizeof(buf), 0) > 0)
			; /* which link it was does not matter: look again */
	}
	if (ev >= 0)
		close(ev);
	return r;
}

int vf_setup(const struct agent_net *net)
{
	int r;

	if (net->have_mac)
		r = vf_wait(net);
	else
		r = if_nametoindex(net->vf) != 0 ? 0 : -ENOENT;
	if (r < 0) {
		agent_log("the VF %s is not in this domain (waited %d s): %s\n",
			  net->vf, net->have_mac ? VF_BOOT_WAIT_MS / 1000 : 0,
			  r == -ENOENT ? "no link with the app's MAC"
				       : strerror(-r));
		return -1;
	}
	return netcfg_iface(net->vf, net, false);
}
