/*
 * The backend interface: what differs between the sim backend (processes in
 * network namespaces) and the xen backend (libxl PV domains).  The deploy
 * engine drives every backend through these operations only.
 *
 * Every operation that can take time is asynchronous: it returns at once
 * (0, or -1 with *err set when it could not even begin) and later calls its
 * lt_done_fn exactly once from the event loop.  None blocks the loop.
 */
#ifndef LIBRETTOD_BACKEND_H
#define LIBRETTOD_BACKEND_H

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

#include "deployment.h"

struct event_base;
struct daemon_config;

/* err is 0 on success; msg says what failed otherwise (NULL on success). */
typedef void (*lt_done_fn)(void *arg, int err, const char *msg);

/* One deployment as the backend sees it. */
struct be_deployment {
	char name[LT_NAME_MAX + 1];
	const struct lt_network *net; /* owned by the engine */
	uint8_t pf_mac[6];	      /* the PF's MAC: the network server's */
	void *priv;		      /* backend state */
};

/* One domain (the network server or an app) as the backend sees it. */
struct be_domain {
	struct be_deployment *deployment;
	char name[LT_NAME_MAX + 1]; /* "server" for the network server */
	int is_server;
	unsigned domid;	   /* set by domain_create before its callback */
	char *const *argv; /* the command to run (NULL-terminated) */
	char *const *envp; /* extra environment, "K=V", NULL-terminated */
	uint64_t memory_bytes;
	unsigned vcpus;
	/* What it boots, resolved to absolute paths (docs/deployment.md,
	 * "Images"); NULL: the daemon config's xen_kernel, xen_ramdisk,
	 * xen_cmdline. The sim runs no kernel and only shows them. */
	const char *kernel;
	const char *ramdisk;
	const char *cmdline;
	uint8_t mac[6]; /* the domain's MAC (a direct app's VF gets it) */
	int vf;		/* VF to attach at create (direct apps), or -1 */
	/* It may be handed a VF while it runs (a dynamic or direct app):
	 * the xen backend creates it with passthrough enabled. */
	int vf_capable;
	void *priv; /* backend state */
};

struct backend_events {
	/* A domain's processes ended (sim) or the domain died (xen).
	 * wstatus is as from waitpid. Called from the event loop. */
	void (*domain_exited)(void *arg, struct be_domain *dom, int wstatus);
	/* The backend lost something it cannot run without (sim: xenstored
	 * died). msg says what. */
	void (*backend_failed)(void *arg, const char *msg);
	void *arg;
};

struct backend;

struct backend_ops {
	const char *name;
	/* How long a domain's guest may take from domain_run to reporting
	 * ready: a process in a namespace starts in milliseconds, a PV
	 * kernel boots in seconds (tens under emulation). */
	unsigned boot_timeout_ms;
	/* Bring the backend up (sim: start xenstored). done fires once the
	 * xenstore socket answers. */
	int (*init)(struct backend *be, lt_done_fn done, void *arg, char **err);
	/* Path of the xenstored socket for xs_open, or NULL for the system
	 * default (xen). */
	const char *(*xenstore_path)(struct backend *be);
	/* Adds the backend's facts to the status "backend" object. */
	void (*describe)(struct backend *be, struct json_object *obj);

	/* sim: peer namespace, the PF veth pair. */
	int (*deployment_setup)(struct backend *be, struct be_deployment *dep,
				lt_done_fn done, void *arg, char **err);
	int (*deployment_teardown)(struct backend *be,
				   struct be_deployment *dep, lt_done_fn done,
				   void *arg, char **err);
	void (*deployment_describe)(struct backend *be,
				    struct be_deployment *dep,
				    struct json_object *obj);

	/* Make the domain exist, not yet running (sim: its namespace and,
	 * for the server, the PF moved in; for a direct app, its VF -- a
	 * macvlan on the PF with dom->mac -- moved in as "vf0", down; xen:
	 * created paused). Sets dom->domid before done. */
	int (*domain_create)(struct backend *be, struct be_domain *dom,
			     lt_done_fn done, void *arg, char **err);
	/* Start it (sim: run argv inside the namespace; xen: unpause). */
	int (*domain_run)(struct backend *be, struct be_domain *dom,
			  lt_done_fn done, void *arg, char **err);
	/* Stop and remove everything domain_create and domain_run made.
	 * Safe on a half-made domain. No domain_exited follows. */
	int (*domain_destroy)(struct backend *be, struct be_domain *dom,
			      lt_done_fn done, void *arg, char **err);
	/* A domain that ended, replaced by a new one under a new domid with
	 * what was passed through to it (the PF) kept: the network server's
	 * restart (sim: same namespace; xen: destroy and create, the PCI
	 * device re-assigned). Sets dom->domid before done. NULL: the engine
	 * destroys and creates. */
	int (*domain_recreate)(struct backend *be, struct be_domain *dom,
			       lt_done_fn done, void *arg, char **err);
	/*
	 * Adoption by a restarted daemon (docs/recovery.md). The deployment's
	 * network (sim: the peer namespace) is there: 1; gone: 0; -1 err.
	 * A domain, from what domain_describe said of it then: 1 with
	 * *running when its program still runs (its end is reported as
	 * domain_exited from now on), 1 with !*running when only its remains
	 * are (a destroy removes them), 0 when nothing of it is left. NULL:
	 * the backend cannot adopt.
	 */
	int (*deployment_adopt)(struct backend *be, struct be_deployment *dep,
				char **err);
	int (*domain_adopt)(struct backend *be, struct be_domain *dom,
			    struct json_object *described, int *running,
			    char **err);
	/* Adds e.g. "namespace" and "pid" to a domain's status object. */
	void (*domain_describe)(struct backend *be, struct be_domain *dom,
				struct json_object *obj);

	/*
	 * The dynamic switch's VF steps (ARCHITECTURE section 5), for VF
	 * number vf of dom's deployment. NULL when the backend cannot
	 * switch. Each pair undoes the other and is safe on a VF in either
	 * state, so a rollback may call the undo of a step that failed
	 * half-way.
	 *   vf_prepare  give the VF dom->mac (xen: IFLA_VF_MAC on the PF;
	 *               sim: create the macvlan on the PF, in dom's
	 *               namespace, under a name the agent does not use)
	 *   vf_attach   hand it to the domain, down and unconfigured, as
	 *               LT_VF_NETDEV (xen: PCI hot-plug; sim: rename)
	 *   vf_detach   take it back (the agent has brought it down)
	 *   vf_release  return it to the pool (sim: delete the macvlan)
	 */
	int (*vf_prepare)(struct backend *be, struct be_domain *dom, int vf,
			  lt_done_fn done, void *arg, char **err);
	int (*vf_attach)(struct backend *be, struct be_domain *dom, int vf,
			 lt_done_fn done, void *arg, char **err);
	int (*vf_detach)(struct backend *be, struct be_domain *dom, int vf,
			 lt_done_fn done, void *arg, char **err);
	int (*vf_release)(struct backend *be, struct be_domain *dom, int vf,
			  lt_done_fn done, void *arg, char **err);

	/* Daemon exit. Domains are left running; the backend releases only
	 * its own handles (sim: xenstored keeps running too, so running
	 * domains keep their store). */
	void (*shutdown)(struct backend *be);
};

struct backend {
	const struct backend_ops *ops;
	struct event_base *base;
	const struct daemon_config *cfg;
	struct backend_events events;
	void *priv;
};

/* Look a backend up by name ("sim", "xen"); NULL when unknown. */
const struct backend_ops *backend_find(const char *name);

extern const struct backend_ops sim_backend_ops;
extern const struct backend_ops xen_backend_ops;

#endif
