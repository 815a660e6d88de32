/*
 * Direct apps: the VF (a macvlan in the sim) that librettod created with
 * the app's MAC and moved into this namespace before starting us.  Its MAC
 * is right already, so only MTU, link, address and route are ours.
 */
#include <net/if.h>
#include <string.h>

#include "agent.h"

int vf_setup(const struct agent_net *net)
{
	if (if_nametoindex(net->vf) == 0) {
		agent_log("the VF %s is not in this domain's namespace\n",
			  net->vf);
		return -1;
	}
	return netcfg_iface(net->vf, net, false);
}
