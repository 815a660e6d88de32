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
#include <net/if.h>
#include <string.h>
#include <time.h>

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

int vf_setup(const struct agent_net *net)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	int r = -ENOENT;

	for (int waited = 0; net->have_mac && waited < VF_BOOT_WAIT_MS;
	     waited += 50) {
		r = vf_find(net->vf, net->mac);
		if (r != -ENOENT)
			break;
		nanosleep(&pause, NULL);
	}
	if (!net->have_mac)
		r = if_nametoindex(net->vf) != 0 ? 0 : -ENOENT;
	if (r < 0) {
		agent_log("the VF %s is not in this domain: %s\n", net->vf,
			  r == -ENOENT ? "no link with the app's MAC"
				       : strerror(-r));
		return -1;
	}
	return netcfg_iface(net->vf, net, false);
}
