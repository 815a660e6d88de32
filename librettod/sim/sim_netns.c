/*
 * Named network namespaces, in iproute2's layout (/run/netns/NAME, a bind
 * mount of the namespace's nsfs file) so that `ip netns exec NAME` works.
 * Creation goes through `ip netns add` on the loop, which also sets up the
 * shared /run/netns mount the first time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

void sim_netns_init(struct sim_netns *ns, const char *deployment,
		    const char *suffix)
{
	snprintf(ns->name, sizeof(ns->name), "lt-%s-%s", deployment, suffix);
	snprintf(ns->path, sizeof(ns->path), "/run/netns/%s", ns->name);
}

int sim_netns_exists(const struct sim_netns *ns)
{
	struct stat st;

	return stat(ns->path, &st) == 0;
}

void sim_netns_add_create_steps(struct sim_steps *steps,
				const struct sim_netns *ns)
{
	sim_steps_add(steps, 0, "ip", "netns", "add", ns->name, NULL);
	sim_steps_add(steps, 0, "ip", "-n", ns->name, "link", "set", "lo", "up",
		      NULL);
}

int sim_netns_delete(const struct sim_netns *ns, char **err)
{
	/* EINVAL: not a mount point (a half-made namespace file). */
	if (umount2(ns->path, MNT_DETACH) < 0 && errno != EINVAL &&
	    errno != ENOENT) {
		*err = lt_strdupf("namespace %s: umount %s: %s", ns->name,
				  ns->path, strerror(errno));
		return -1;
	}
	if (unlink(ns->path) < 0 && errno != ENOENT) {
		*err = lt_strdupf("namespace %s: unlink %s: %s", ns->name,
				  ns->path, strerror(errno));
		return -1;
	}
	return 0;
}
