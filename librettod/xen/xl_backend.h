/*
 * The xen backend's internals, shared by its files (docs/xen.md):
 *   backend_xen.c  the ops table, init, describe, shutdown; libxl's events
 *   xl_log.c       libxl's messages in the daemon's log
 *   xl_loop.c      libxl's fds, timeouts and SIGCHLD on the libevent loop
 *   xl_async.c     libxl's completions and our done callbacks, from the loop
 *   xl_config.c    the libxl_domain_config of a domain (pure)
 *   xl_boot.c      the boot nodes the guest image's /init reads
 *   xl_exit.c      how a domain's end becomes a wait status (pure)
 *   xl_domain.c    a domain: create, run, destroy, recreate, death, adoption
 *   xl_pf.c        the deployment's NIC, made assignable for the server
 */
#ifndef LIBRETTOD_XEN_XL_BACKEND_H
#define LIBRETTOD_XEN_XL_BACKEND_H

#include <libxl.h>
#include <libxl_utils.h>
#include <signal.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include "backend.h"
#include "vf_sysfs.h"

struct event;
struct lt_xs;
struct xl_loop;
struct xl_ao;
struct xl_domain;
struct xl_deployment;
struct xl_deferred;
struct xl_event;

struct xl_backend {
	struct backend *be;
	xentoollog_logger *logger;
	libxl_ctx *ctx;
	struct xl_loop *loop;
	/* boot nodes and exit statuses: a connection of the backend's own */
	struct lt_xs *xs;
	char xen_version[64]; /* "4.17.3" */
	const char *sysfs_root;
	LIST_HEAD(, xl_domain) domains;
	LIST_HEAD(, xl_deployment) deployments;
	/* libxl operations in flight and done callbacks not yet called */
	LIST_HEAD(, xl_ao) aos;
	LIST_HEAD(, xl_deferred) deferred;
	/* Domain events libxl reported, handled from the loop. */
	TAILQ_HEAD(, xl_event) events;
	struct event *events_ev;
};

/* xl_log.c: NULL when out of memory. */
xentoollog_logger *xl_log_new(void);

/* xl_async.c */
/*
 * Fills *how so that libxl's completion of the call it is passed to runs
 * finish(arg, rc) from the loop, never from inside libxl. NULL when out of
 * memory. When the libxl call returns an error (it did not start), the
 * caller hands the ao back with xl_ao_abandon.
 */
struct xl_ao *xl_ao_new(struct xl_backend *xb,
			void (*finish)(void *arg, int rc), void *arg,
			libxl_asyncop_how *how);
void xl_ao_abandon(struct xl_ao *ao);
/* done(arg, err, msg) from the loop; msg is copied. 0, or -1 with *err
 * when out of memory (done is then never called). */
int xl_defer_done(struct xl_backend *xb, lt_done_fn done, void *arg, int err,
		  const char *msg, char **errp);
/* Shutdown: frees what never ran. Aos still in flight are left (their
 * libxl operation still refers to them); returns how many. */
unsigned xl_async_release(struct xl_backend *xb);

/* xl_config.c */
/* "<deployment>-<domain>": the server is "<deployment>-server". */
#define XL_NAME_SIZE (2 * LT_NAME_MAX + 2)
void xl_domain_name(const struct be_domain *dom, char buf[XL_NAME_SIZE]);
/* Whether the domain may be handed a PCI function while it runs. */
int xl_domain_may_get_vf(const struct be_domain *dom);
/*
 * Initialises and fills *dc for dom: a PV guest booting cfg's kernel,
 * ramdisk and command line, with pci_bdf (NULL: none) passed through.
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
/* The domid of dep's network server while Xen has it, else 0. */
uint32_t xl_domain_server_domid(struct xl_backend *xb,
				const struct be_deployment *dep);

/* xl_pf.c */
int xl_pf_resolve(const char *root, const char *nic, char bdf[XEN_VF_BDF_SIZE],
		  char **err);
/* The PF set up for dep (passed through to its server), or NULL. */
const char *xl_pf_of(struct xl_backend *xb, const struct be_deployment *dep);
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
