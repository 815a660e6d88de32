/*
 * The sim backend's internals, shared by its files (docs/sim.md):
 *   sim_backend.c    the ops table, init, describe, shutdown, domids
 *   sim_xenstored.c  the private xenstored: start or adopt, readiness, death
 *   sim_steps.c      a sequence of `ip` commands run one after the other
 *   sim_netns.c      named network namespaces: names, paths, deletion
 *   sim_reaper.c     ending every process of a namespace, TERM then KILL
 *   sim_deployment.c the peer namespace and the PF veth pair
 *   sim_domain.c     a domain: its namespace, its process tree
 *   sim_vf.c         VFs: macvlans on the PF with an app's MAC
 */
#ifndef LIBRETTOD_SIM_H
#define LIBRETTOD_SIM_H

#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/un.h>

#include "backend.h"
#include "util.h"
#include <libretto/xs_paths.h>

/* Every link of the sim's data path (docs/datapath.md). */
#define SIM_MTU	      "9000"
#define SIM_MTU_VALUE 9000
/* What a direct app's VF is called inside its namespace. */
#define SIM_VF_NAME LT_VF_NETDEV

struct spawn_child;
struct sim_steps;
struct sim_reaper;

/* Xen's domids for guests are 1 .. DOMID_FIRST_RESERVED - 1. */
#define SIM_DOMID_LIMIT 0x7FF0U

/* The peer end of the PF veth pair, in the peer namespace. */
#define SIM_PEER_LINK "wire0"

/* How long `ip` may take before it is killed. */
#define SIM_TOOL_TIMEOUT_MS 10000

/* An ns name: "lt-" + deployment + "-" + domain. */
#define SIM_NETNS_NAME_MAX (3 + LT_NAME_MAX + 1 + LT_NAME_MAX)

struct sim_xenstored;
struct sim_domain;
struct sim_deployment;

/* A released VF, parked down in the namespace of the app that had it last
 * (sim_vf.c). */
struct sim_parked_vf {
	LIST_ENTRY(sim_parked_vf) entry;
	char deployment[LT_NAME_MAX + 1];
	int vf;
	char app[LT_NAME_MAX + 1];
};

struct sim_backend {
	struct backend *be;
	struct sim_xenstored *xsd;
	unsigned next_domid;
	uint8_t domid_used[SIM_DOMID_LIMIT / 8];
	LIST_HEAD(, sim_domain) domains;
	LIST_HEAD(, sim_deployment) deployments;
	LIST_HEAD(, sim_parked_vf) parked;
};

/* sim_xenstored.c */
int sim_xenstored_start(struct sim_backend *sim, lt_done_fn done, void *arg,
			char **err);
const char *sim_xenstored_socket(const struct sim_xenstored *xsd);
pid_t sim_xenstored_pid(const struct sim_xenstored *xsd);
/* Stops watching; xenstored keeps running. */
void sim_xenstored_release(struct sim_xenstored *xsd);

/* sim_netns.c */
struct sim_netns {
	char name[SIM_NETNS_NAME_MAX + 1];
	char path[sizeof("/run/netns/") + SIM_NETNS_NAME_MAX];
};
void sim_netns_init(struct sim_netns *ns, const char *deployment,
		    const char *suffix);
int sim_netns_exists(const struct sim_netns *ns);
/* Appends `ip netns add NAME` and `ip -n NAME link set lo up`. */
void sim_netns_add_create_steps(struct sim_steps *steps,
				const struct sim_netns *ns);
/* umount2(MNT_DETACH) + unlink, as `ip netns delete` does; the kernel frees
 * the namespace, and the links in it, once nothing holds it. Quick. */
int sim_netns_delete(const struct sim_netns *ns, char **err);

/* sim_steps.c */
enum { SIM_STEP_MAY_FAIL = 1 };
/* what prefixes every error message, e.g. "namespace lt-demo-web". */
struct sim_steps *sim_steps_new(struct event_base *base, const char *what);
/* Appends a command (NULL-terminated argument list, copied). An allocation
 * failure is remembered and reported by sim_steps_run. */
void sim_steps_add(struct sim_steps *steps, unsigned flags, const char *arg0,
		   ...) __attribute__((sentinel));
/* Runs the commands in order; stops at the first failure that is not
 * SIM_STEP_MAY_FAIL. done fires once, from the loop, after steps is freed.
 * -1 with *err (steps freed, done never called) when it cannot start. */
int sim_steps_run(struct sim_steps *steps, lt_done_fn done, void *arg,
		  char **err);
/* Frees it, running or not; done is never called. */
void sim_steps_cancel(struct sim_steps *steps);

/* sim_reaper.c */
/* Ends every process whose network namespace is ns: SIGTERM, then SIGKILL
 * after grace_ms, until none is left (done(0)) or give_up_ms passed.
 * done fires from the loop, never from within this call. */
struct sim_reaper *sim_reaper_start(struct event_base *base,
				    const struct sim_netns *ns,
				    unsigned grace_ms, unsigned give_up_ms,
				    lt_done_fn done, void *arg);
void sim_reaper_cancel(struct sim_reaper *reaper);
/* The number of processes in ns now (0 when ns does not exist). */
int sim_netns_count_processes(const struct sim_netns *ns);

#define SIM_GRACE_MS   2000
#define SIM_GIVE_UP_MS 10000

/* sim_deployment.c */
int sim_deployment_setup(struct backend *be, struct be_deployment *dep,
			 lt_done_fn done, void *arg, char **err);
int sim_deployment_teardown(struct backend *be, struct be_deployment *dep,
			    lt_done_fn done, void *arg, char **err);
void sim_deployment_describe(struct backend *be, struct be_deployment *dep,
			     struct json_object *obj);
void sim_deployment_peer(const struct be_deployment *dep,
			 struct sim_netns *peer);
void sim_deployment_release_all(struct sim_backend *sim);

/* sim_domain.c */
int sim_domain_create(struct backend *be, struct be_domain *dom,
		      lt_done_fn done, void *arg, char **err);
int sim_domain_run(struct backend *be, struct be_domain *dom, lt_done_fn done,
		   void *arg, char **err);
int sim_domain_destroy(struct backend *be, struct be_domain *dom,
		       lt_done_fn done, void *arg, char **err);
int sim_domain_recreate(struct backend *be, struct be_domain *dom,
			lt_done_fn done, void *arg, char **err);
int sim_domain_adopt(struct backend *be, struct be_domain *dom,
		     struct json_object *described, int *running, char **err);
int sim_deployment_adopt(struct backend *be, struct be_deployment *dep,
			 char **err);
void sim_domain_describe(struct backend *be, struct be_domain *dom,
			 struct json_object *obj);
void sim_domain_release_all(struct sim_backend *sim);

/* sim_vf.c: the backend's vf_* operations, and the steps a direct app's
 * create shares with them. */
void sim_vf_add_prepare_steps(struct sim_steps *steps,
			      const struct be_domain *dom, int vf,
			      const struct sim_netns *ns);
void sim_vf_add_attach_steps(struct sim_steps *steps, int vf,
			     const struct sim_netns *ns);
int sim_vf_prepare(struct backend *be, struct be_domain *dom, int vf,
		   lt_done_fn done, void *arg, char **err);
int sim_vf_attach(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err);
int sim_vf_detach(struct backend *be, struct be_domain *dom, int vf,
		  lt_done_fn done, void *arg, char **err);
int sim_vf_release(struct backend *be, struct be_domain *dom, int vf,
		   lt_done_fn done, void *arg, char **err);
/* A domain's (app NULL: every domain's of the deployment) namespace goes,
 * and its parked VFs with it. */
void sim_vf_forget(struct sim_backend *sim, const char *deployment,
		   const char *app);

/* sim_backend.c */
/* 0 when all SIM_DOMID_LIMIT - 1 are in use. */
unsigned sim_domid_alloc(struct sim_backend *sim);
void sim_domid_release(struct sim_backend *sim, unsigned domid);
/* Marks domid used (adoption); 0 when it is taken or out of range. */
int sim_domid_claim(struct sim_backend *sim, unsigned domid);

#endif
