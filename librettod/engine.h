/*
 * The deploy engine: the registry of deployments and their domains, the
 * plans that turn a deployment file into steps, and the operations that run
 * those steps on the backend, undoing what they did when a step fails.
 */
#ifndef LIBRETTOD_ENGINE_H
#define LIBRETTOD_ENGINE_H

#include <json-c/json.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "backend.h"
#include "deployment.h"
#include "guest_input.h"
#include "ports.h"
#include "proto.h"
#include <libretto/xs_paths.h>

struct control;
struct lt_xs;
struct lt_xs_watch;
struct lt_ippool;
struct op;
struct switch_op;
struct restart_log;
struct recovery;
struct state_writer;

enum domain_state {
	DOM_DEFINED,  /* planned, nothing made yet */
	DOM_CREATING, /* backend domain_create in flight */
	DOM_CREATED,  /* exists, not running */
	DOM_STARTING, /* domain_run in flight */
	DOM_RUNNING,
	DOM_EXITED, /* its processes ended with status 0 */
	DOM_FAILED, /* ended by a signal or a non-zero status */
	DOM_STOPPING,
	DOM_GONE, /* destroyed; kept only until its operation ends */
};

struct domain {
	TAILQ_ENTRY(domain) entry;
	struct deployment *dep;
	struct be_domain be;
	struct lt_app spec; /* deep copy; for the server, a made-up one */
	enum domain_state state;
	/* The domid it had, kept by the engine: the backend forgets it on
	 * destroy, and the xenstore clean-up and events still need it. */
	unsigned domid;
	int created; /* the backend holds something of it */
	struct in_addr ip;
	uint8_t mac[6];
	int vf;	       /* VF index, -1 when none */
	int ephemeral; /* server-mode: ephemeral slot, -1 when none */
	int pool_ip;   /* ip came from the pool */
	int exited;    /* wstatus is valid */
	int wstatus;
	char *guest_state; /* last guest/state read from xenstore */
	struct lt_xs_watch *guest_watch;
	/* Values refused from its tree (guest_input.c). */
	struct guest_refusals refused;
	/* Its port claims (ports.c): won when owner == domid, else refused. */
	struct port_claim *ports;
	size_t nports;
	struct lt_xs_watch *ports_watch;
	/* guest/ports entries refused at the last re-read: malformed names,
	 * and claims beyond PORTS_RUN_TIME_MAX (ports.c). */
	unsigned ports_malformed, ports_over_cap;
	unsigned ports_reported; /* which of those were reported (once) */
	/* Refused claims reported in the current window, and those left
	 * unreported past PORTS_CONFLICT_REPORTS (ports.c). */
	struct timespec conflicts_window;
	unsigned conflicts_reported, conflicts_unreported;
	/* A RUN step waits for the guest to say it is up (boot.c). */
	lt_done_fn boot_done;
	void *boot_arg;
	struct event *boot_timer;
	struct timespec boot_started; /* for the log and the timeout's text */
	unsigned boot_timeout_ms;
	char **argv;		/* owned; be.argv points here */
	char **envp;		/* owned; be.envp points here */
	struct lt_ippool *pool; /* the pool ip came from, when pool_ip */
	int op_new;		/* made by the op in flight */
	/* The dynamic switch (switch.c). vf is the VF the app holds, claimed
	 * from the switch's first step until its VF is released. */
	int on_vf;	      /* a dynamic app's traffic is on its VF */
	struct switch_op *sw; /* the switch in flight, or NULL */
	unsigned switch_seq;  /* the last switch/seq written */
	/* Restarts by policy (restart.c). */
	struct restart_log *restarts; /* when it was restarted lately */
	unsigned nrestarts;	      /* restarts since deploy */
	int gave_up;		      /* the policy's limit was reached */
	struct timespec ended_at;     /* when its end was noticed */
	struct event *restart_retry;  /* waiting for the deployment */
};

enum deployment_state {
	DEP_DEPLOYING,
	DEP_RUNNING,
	DEP_DESTROYING,
	DEP_FAILED, /* the last operation failed and could not undo all */
};

struct deployment {
	TAILQ_ENTRY(deployment) entry;
	struct engine *engine;
	char name[LT_NAME_MAX + 1];
	struct lt_deployment *spec; /* the file in force */
	struct be_deployment be;
	enum deployment_state state;
	int set_up; /* backend deployment_setup done */
	struct lt_ippool *pool;
	/* A redeploy that changes the network builds these and swaps them in
	 * when it succeeds. */
	struct lt_deployment *pending_spec;
	struct lt_ippool *pending_pool;
	char vf_owner[LT_MAX_VFS][LT_NAME_MAX + 1]; /* "" when free */
	char ephemeral_owner[LT_EPHEMERAL_SLOTS][LT_NAME_MAX + 1];
	TAILQ_HEAD(domain_list, domain) domains;
	struct op *op;	    /* in flight, at most one */
	unsigned switching; /* switches in flight (one per app at most) */
	struct recovery *recovery; /* a new network server's apps (restart.c) */
	/* The file in force as the client sent it, for the state file: a
	 * restarted daemon loads it again (state.c, adopt.c). */
	char *source_text, *source_file;
	char *pending_text, *pending_file;
};

struct engine {
	struct event_base *base;
	struct backend *backend;
	struct lt_xs *xs;
	struct control *control;
	const struct daemon_config *cfg;
	TAILQ_HEAD(, deployment) deployments;
	unsigned next_op;
	struct state_writer *state; /* state.c */
	int state_ok;		    /* the state file may be written */
	char *backend_failure;	    /* why the backend is unusable, or NULL */
};

struct engine *engine_new(struct event_base *base, struct backend *backend,
			  const struct daemon_config *cfg);
/* Called once the backend is up: connects to xenstore and writes the
 * daemon's own nodes. */
int engine_attach_xenstore(struct engine *e, char **err);
void engine_set_control(struct engine *e, struct control *c);
void engine_free(struct engine *e);
/* SIGTERM: with destroy, destroy every deployment first; done() when all
 * are gone. */
void engine_shutdown(struct engine *e, int destroy, void (*done)(void *),
		     void *arg);

struct deployment *engine_find(struct engine *e, const char *name);

/* Starts deploying spec (ownership passes). Fills *result with the reply
 * (op id, changes). */
int engine_deploy(struct engine *e, struct lt_deployment *spec,
		  const char *text, const char *file, int dry_run,
		  struct json_object **result, struct lt_error *err);
int engine_destroy(struct engine *e, const char *name,
		   struct json_object **result, struct lt_error *err);
/* Starts switching app dom_name of dep_name (NULL: the one deployment that
 * has such an app) to `to` (LT_PATH_SERVER or LT_PATH_DIRECT). timeout_ms
 * bounds each step; fault, for tests (librettod --test-faults), names a
 * step to fail or stall. Fills *result with the reply. */
struct switch_request {
	const char *deployment, *domain, *to;
	unsigned timeout_ms;
	const char *fault_step, *fault_kind; /* NULL: none */
};
int engine_switch(struct engine *e, const struct switch_request *req,
		  struct json_object **result, struct lt_error *err);
/* Ends a domain's switch in flight without undoing it (the domain is
 * being freed). */
void switch_abandon(struct domain *d);
/* restart.c: d ended (its state is exited or failed): start it again if
 * its restart policy says so and its limit allows, or give up. */
void restart_consider(struct domain *d);
/* Frees d's restart bookkeeping (domain_free). */
void restart_forget(struct domain *d);
void recovery_free(struct deployment *dep);
/* The policy in force for d. */
const struct lt_restart_policy *restart_policy(const struct domain *d);

/* adopt.c: takes back what the state file describes (0: no state file,
 * 1: adopted; -1 with *err: the file cannot be trusted, start nothing). */
int engine_adopt(struct engine *e, char **err);
/* switch.c: a dynamic app adopted after a crash: complete or roll back a
 * switch its xenstore nodes show half-done. */
void switch_resolve(struct domain *d);

/* The op id of d's switch in flight (d->sw != NULL). */
unsigned switch_op_id(const struct domain *d);

int engine_status(struct engine *e, const char *dep, const char *dom,
		  struct json_object **result, struct lt_error *err);

/* 0 with err set when the backend failed (sim: xenstored died): nothing
 * that changes things can run. */
int engine_backend_usable(struct engine *e, struct lt_error *err);

/* Emits an event to control subscribers (data owned). */
void engine_emit(struct engine *e, const char *event, struct json_object *data);

/* Calls done once the guest's guest/state says ready (0), says error, or
 * the domain exits, or timeout_ms passes (an errno and a message). */
void domain_boot_wait(struct domain *d, unsigned timeout_ms, lt_done_fn done,
		      void *arg);
/* Ends a boot wait, if one is pending, with err and msg. */
void domain_boot_resolve(struct domain *d, int err, const char *msg);
/* The domain ended (how: "exited with status N"): a pending boot wait
 * fails, with the guest's own reason when it wrote one. */
void domain_boot_exited(struct domain *d, const char *how);
/* The guest's guest/state (d->guest_state) changed or is to be looked at:
 * ready or error ends a pending boot wait. */
void domain_boot_guest_state(struct domain *d);

/* {"deployment", "domain", "domid"}: what every event about d starts
 * with. */
struct json_object *domain_event_data(const struct domain *d);

/* The deployment's network server while it exists, or NULL. */
struct domain *deployment_server(struct deployment *dep);

/* Adds "exit_code", or "signal" and "signal_name", for a waitpid status. */
void wstatus_to_json(struct json_object *o, int wstatus);

const char *domain_state_name(enum domain_state s);
void domain_set_state(struct domain *d, enum domain_state s);

#endif
