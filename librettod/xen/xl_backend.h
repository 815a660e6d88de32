/*
 * The xen backend's internals, shared by its files (docs/xen.md):
 *   backend_xen.c  the ops table, init, describe, shutdown; libxl's events
 *   xl_log.c       libxl's messages in the daemon's log
 *   xl_thread.c    the libxl thread: every libxl call, results to the loop
 *   xl_loop.c      libxl's fds and timeouts on the libxl thread's base
 *   xl_async.c     our done callbacks, from the loop
 *   xl_config.c    the libxl_domain_config of a domain (pure)
 *   xl_boot.c      the boot nodes the guest image's /init reads
 *   xl_exit.c      how a domain's end becomes a wait status (pure)
 *   xl_domain.c    a domain: create, run, destroy, recreate, death, adoption
 *   xl_pf.c        the deployment's NIC, made assignable for the server,
 *                  and its VF pool set up and torn down with it
 *   xl_vf_pool.c   the VF pool: which VFs, made assignable and given back
 *   xl_vf_mac.c    a VF's MAC set through its PF, on the loop
 *   xl_vf.c        the switch's VF steps, and the VF a domain holds
 *                  around its create, destroy, adoption and status
 */
#ifndef LIBRETTOD_XEN_XL_BACKEND_H
#define LIBRETTOD_XEN_XL_BACKEND_H

#include <libxl.h>
#include <libxl_utils.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include "backend.h"
#include "vf_sysfs.h"

struct event;
struct lt_xs;
struct xl_loop;
struct xl_thread;
struct xl_domain;
struct xl_deployment;
struct xl_deferred;
struct xl_vf_mac_op;

struct xl_backend {
	struct backend *be;
	xentoollog_logger *logger;
	/* Called on the libxl thread only (xl_thread.h), past the init. */
	libxl_ctx *ctx;
	struct xl_thread *thread;
	/* the libxl thread's watch of libxl's fds and timeouts */
	struct xl_loop *loop;
	/* SIGCHLD, relayed to the libxl thread */
	struct event *sigchld_ev;
	/* boot nodes and exit statuses: a connection of the backend's own */
	struct lt_xs *xs;
	char xen_version[64]; /* "4.17.3" */
	const char *sysfs_root;
	LIST_HEAD(, xl_domain) domains;
	LIST_HEAD(, xl_deployment) deployments;
	/* done callbacks not yet called */
	LIST_HEAD(, xl_deferred) deferred;
	/* VF MACs being set over rtnetlink (xl_vf_mac.c) */
	LIST_HEAD(, xl_vf_mac_op) mac_ops;
};

/* xl_log.c: NULL when out of memory. */
xentoollog_logger *xl_log_new(void);

/* xl_async.c */
/* done(arg, err, msg) from the loop; msg is copied. 0, or -1 with *err
 * when out of memory (done is then never called). */
int xl_defer_done(struct xl_backend *xb, lt_done_fn done, void *arg, int err,
		  const char *msg, char **errp);
/* Shutdown: frees what never ran. */
void xl_async_release(struct xl_backend *xb);

/* xl_config.c */
/* "<deployment>-<domain>": the server is "<deployment>-server". */
#define XL_NAME_SIZE (2 * LT_NAME_MAX + 2)
/* A domain whose deployment names no vcpus or memory (an app may leave
 * both to the backend: docs/deployment.md). */
#define XL_DEFAULT_VCPUS  1u
#define XL_DEFAULT_MEMORY (256ull << 20)
void xl_domain_name(const struct be_domain *dom, char buf[XL_NAME_SIZE]);
/* Whether the domain may be handed a PCI function while it runs. */
int xl_domain_may_get_vf(const struct be_domain *dom);
/*
 * Initialises and fills *pci for the PCI function at bdf ("dddd:bb:dd.f"),
 * one pciback holds already (seize off).  -1 when bdf is not a PCI
 * address.  The caller disposes it (libxl_device_pci_dispose).
 */
int xl_pci_fill(libxl_device_pci *pci, const char *bdf);
/*
 * Initialises and fills *dc for dom: a PV guest booting cfg's kernel,
 * ramdisk and command line, with pci_bdf (NULL: none) passed through: the
 * network server's NIC, or a direct app's VF.
 * -1 with *err, *dc disposed. On success the caller disposes it.
 */
int xl_config_build(const struct daemon_config *cfg,
		    const struct be_domain *dom, const char *pci_bdf,
		    libxl_domain_config *dc, char **err);

/* xl_boot.c */
/* The program as the guest image knows it: argv[0]'s last element. */
const char *xl_boot_program(const char *argv0);
/* Writes the boot nodes of domid: owner dom0, readable by the guest. */
int xl_boot_write(struct lt_xs *xs, unsigned domid, char *const *argv,
		  char *const *envp, char **err);

/* xl_exit.c */
/* What the engine is told when a domain it did not destroy is gone. */
#define XL_WSTATUS_DESTROYED W_EXITCODE(0, SIGKILL)
/* exit_status: the guest's guest/exit-status node (NULL when absent);
 * *bad is set when it was absent or not a number from 0 to 255. */
int xl_exit_wstatus(int shutdown_reason, const char *exit_status, int *bad);
const char *xl_exit_reason_name(int shutdown_reason);

/* xl_domain.c */
int xl_domain_create(struct backend *be, struct be_domain *dom, lt_done_fn done,
		     void *arg, char **err);
int xl_domain_run(struct backend *be, struct be_domain *dom, lt_done_fn done,
		  void *arg, char **err);
int xl_domain_destroy(struct backend *be, struct be_domain *dom,
		      lt_done_fn done, void *arg, char **err);
int xl_domain_recreate(struct backend *be, struct be_domain *dom,
		       lt_done_fn done, void *arg, char **err);
int xl_domain_adopt(struct backend *be, struct be_domain *dom,
		    struct json_object *described, int *running, char **err);
void xl_domain_describe(struct backend *be, struct be_domain *dom,
			struct json_object *obj);
/* A DOMAIN_SHUTDOWN or DOMAIN_DEATH libxl reported, from the loop. */
void xl_domain_event(struct xl_backend *xb, int type, uint32_t domid,
		     int shutdown_reason);
/* Shutdown: stops watching every domain; they keep running. */
void xl_domain_release_all(struct xl_backend *xb);
/* Whether domid is one of the backend's domains, as far as the loop
 * knows (no libxl call). */
int xl_domain_known(struct xl_backend *xb, uint32_t domid);
/* The domid of dep's network server while Xen has it, else 0. */
uint32_t xl_domain_server_domid(struct xl_backend *xb,
				const struct be_deployment *dep);

/* xl_vf_pool.c */
/* One VF of a deployment's pool. */
struct xl_vf_slot {
	char bdf[XEN_VF_BDF_SIZE];
	/* The driver it had before setup, when driver_known (not after an
	 * adoption: it goes back to the kernel's choice then). */
	char driver[XEN_VF_DRIVER_SIZE];
	int driver_known;
	int was_assignable; /* on pciback before setup: left there */
	uint32_t domid;	    /* the domain it was attached to, 0: none */
	int busy;	    /* a hot-plug or unplug of it in flight */
};

/* The VFs of network.vf_pf a deployment uses: VF i is virtfn<i>. */
struct xl_vf_pool {
	char pf_bdf[XEN_VF_BDF_SIZE]; /* "" when there is no pool */
	char pf_netdev[IF_NAMESIZE];  /* the MACs are set through it */
	unsigned count;		      /* network.vfs */
	struct xl_vf_slot slots[LT_MAX_VFS];
};

/*
 * Chooses the pool of net under <root>: the first net->vfs VFs of
 * net->vf_pf, which must be given, must not be nic_bdf (the NIC passed
 * through to the server), must have a netdev in dom0 and at least vfs
 * VFs enabled.  A pool of 0 VFs when vfs is 0.  Each slot's driver is the
 * one it has now.  -1 with *err naming the key and the sysfs knob.
 */
int xl_vf_pool_select(const char *root, const struct lt_network *net,
		      const char *nic_bdf, struct xl_vf_pool *pool, char **err);
/* Makes every VF of the pool assignable (xen_vf_assignable_add),
 * recording the driver each left; on a failure, gives back those it made
 * and says so in *err.  Sysfs writes: for a worker thread. */
int xl_vf_pool_assign(const char *root, struct xl_vf_pool *pool, char **err);
/* Gives every VF that was not on pciback before back to its driver (the
 * kernel's choice when not known), going on past a failure; -1 with *err
 * naming each that failed.  For a worker thread. */
int xl_vf_pool_give_back(const char *root, struct xl_vf_pool *pool, char **err);

/* xl_vf_mac.c */
/* How long rtnetlink may take to answer (it answers within the send). */
#define XL_VF_MAC_TIMEOUT_MS 2000
/*
 * Sets VF vf of the PF pf_netdev to mac (IFLA_VF_MAC) and reads it back;
 * then done(arg, err, msg) from the loop, msg starting with what (the
 * VF in words).  0, or -1 with *err when it could not begin.
 */
int xl_vf_mac_set(struct xl_backend *xb, const char *pf_netdev, unsigned vf,
		  const uint8_t mac[6], const char *what, lt_done_fn done,
		  void *arg, char **err);
/* Shutdown: drops the MACs in flight, their done never called. */
void xl_vf_mac_release_all(struct xl_backend *xb);
/* The MAC a VF of deployment carries while no app has it: locally
 * administered, unicast, one per VF, no app's (lt_mac_for of a name no
 * app can have). */
void xl_vf_mac_parked(const char *deployment, unsigned vf, uint8_t mac[6]);
/* 0 when got is want; else -1 with *err saying both. */
int xl_vf_mac_check(const char *what, const uint8_t want[6],
		    const uint8_t got[6], char **err);

/* xl_vf.c */
int xl_vf_prepare(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err);
int xl_vf_attach(struct backend *be, struct be_domain *dom, int vf,
		 lt_done_fn done, void *arg, char **err);
int xl_vf_detach(struct backend *be, struct be_domain *dom, int vf,
		 lt_done_fn done, void *arg, char **err);
int xl_vf_release(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err);
/* The domain ops around xl_domain.c's, for what a domain holds of the
 * pool: a direct app's VF gets its MAC before the create; a destroyed
 * domain's VF is free again, with its parked MAC; an adopted domain's VF
 * is found in Xen; status names the VF's address. */
int xl_vf_domain_create(struct backend *be, struct be_domain *dom,
			lt_done_fn done, void *arg, char **err);
int xl_vf_domain_destroy(struct backend *be, struct be_domain *dom,
			 lt_done_fn done, void *arg, char **err);
int xl_vf_domain_adopt(struct backend *be, struct be_domain *dom,
		       struct json_object *described, int *running, char **err);
void xl_vf_domain_describe(struct backend *be, struct be_domain *dom,
			   struct json_object *obj);
/* The address of the VF a direct app is created with, or NULL with
 * *err. */
const char *xl_vf_create_bdf(struct xl_backend *xb, const struct be_domain *dom,
			     char **err);
/* The domid of a domain Xen says holds a VF of pool (its slot's domid
 * brought up to date), *vf that VF; 0 when none. */
uint32_t xl_vf_pool_holder(struct xl_backend *xb, struct xl_vf_pool *pool,
			   unsigned *vf);

/* xl_pf.c */
int xl_pf_resolve(const char *root, const char *nic, char bdf[XEN_VF_BDF_SIZE],
		  char **err);
/* The PF set up for dep (passed through to its server), or NULL. */
const char *xl_pf_of(struct xl_backend *xb, const struct be_deployment *dep);
/* dep's VF pool once set up, or NULL (none, or a setup in flight). */
struct xl_vf_pool *xl_pool_of(struct xl_backend *xb,
			      const struct be_deployment *dep);
int xl_deployment_setup(struct backend *be, struct be_deployment *dep,
			lt_done_fn done, void *arg, char **err);
int xl_deployment_teardown(struct backend *be, struct be_deployment *dep,
			   lt_done_fn done, void *arg, char **err);
int xl_deployment_adopt(struct backend *be, struct be_deployment *dep,
			char **err);
void xl_deployment_describe(struct backend *be, struct be_deployment *dep,
			    struct json_object *obj);
void xl_deployment_release_all(struct xl_backend *xb);

#endif
