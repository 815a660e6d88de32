/* The daemon's own configuration (configs/librettod.yaml,
 * docs/librettod-config.md). */
#ifndef LIBRETTOD_CONFIG_H
#define LIBRETTOD_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#include "deployment.h"

/* Xen keeps a PV guest's command line in 1024 bytes (MAX_GUEST_CMDLINE),
 * its NUL included. */
#define XEN_CMDLINE_SIZE 1024

struct daemon_config {
	char socket_path[108];	/* -s; default LT_DEFAULT_SOCKET */
	char state_dir[256];	/* --state-dir; default /var/lib/libretto */
	char run_dir[256];	/* sockets, xenstored; default /run/libretto */
	char backend[16];	/* --backend; default "sim" */
	char control_group[64]; /* may change things besides root; "" none */
	gid_t control_gid;	/* resolved from control_group, or -1 */
	size_t client_buffer_max; /* bytes queued for one client, then cut */
	/* The control socket's clients (docs/librettod.md, "Control socket
	 * limits"). */
	unsigned clients_max;	      /* connected at once, every peer */
	unsigned clients_per_uid;     /* connected at once, one uid but 0 */
	unsigned client_idle_timeout; /* s without a request; 0 never */
	unsigned fd_reserve;	      /* descriptors clients never take */
	int destroy_on_shutdown;      /* SIGTERM destroys the deployments */
	char libexec_dir[256];	      /* netserver, agent, preload library */
	char xenstored[256];	      /* sim: xenstored binary */
	/* xen: what every PV domain boots (docs/xen.md); the files are
	 * checked when the backend starts, not at load. */
	char xen_kernel[256];
	char xen_ramdisk[256];
	char xen_cmdline[XEN_CMDLINE_SIZE];
	/* Where a deployment's relative kernel and ramdisk paths are
	 * (docs/deployment.md, "Images"); every backend checks them. */
	char images_dir[256];
	/* How long a domain may take from its start to its guest's ready,
	 * in seconds; 0: the backend's default (backend_ops). */
	unsigned boot_timeout;
	int test_faults; /* --test-faults: switch may be told to fail */
};

void daemon_config_defaults(struct daemon_config *cfg);
/* Reads a YAML config file over the defaults. Errors as file:line:col. */
int daemon_config_load(const char *path, struct daemon_config *cfg,
		       struct lt_load_error *err);

#endif
