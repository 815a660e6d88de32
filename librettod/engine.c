#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "control.h"
#include "ippool.h"
#include "log.h"
#include "mac.h"
#include "op.h"
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

static const char *const state_names[] = {
    [DOM_DEFINED] = "defined",	     [DOM_CREATING] = LT_DOM_STARTING,
    [DOM_CREATED] = LT_DOM_STARTING, [DOM_STARTING] = LT_DOM_STARTING,
    [DOM_RUNNING] = LT_DOM_RUNNING,  [DOM_EXITED] = LT_DOM_EXITED,
    [DOM_FAILED] = LT_DOM_FAILED,    [DOM_STOPPING] = LT_DOM_STOPPING,
    [DOM_GONE] = "destroyed",
};

const char *domain_state_name(enum domain_state s)
{
	return state_names[s];
}

void engine_emit(struct engine *e, const char *event, struct json_object *data)
{
	if (e->control != NULL)
		control_emit(e->control, event, data);
	else
		json_object_put(data);
}

void domain_set_state(struct domain *d, enum domain_state s)
{
	const char *from = state_names[d->state];

	if (d->state == s)
		return;
	d->state = s;
	/* Internal steps of starting one domain look alike from outside. */
	if (strcmp(from, state_names[s]) == 0)
		return;
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "deployment",
			       json_object_new_string(d->dep->name));
	json_object_object_add(data, "domain",
			       json_object_new_string(d->be.name));
	json_object_object_add(data, "domid", json_object_new_int64(d->domid));
	json_object_object_add(data, "state",
			       json_object_new_string(state_names[s]));
	json_object_object_add(data, "from", json_object_new_string(from));
	engine_emit(d->dep->engine, LT_EV_DOMAIN_STATE, data);
}

/* --- domains ------------------------------------------------------------ */

static char **argv_build(const char *first, const char *second,
			 char *const *rest, size_t nrest)
{
	size_t n = (first != NULL) + (second != NULL) + nrest;
	char **argv = calloc(n + 1, sizeof(*argv));
	size_t i = 0;

	if (argv == NULL)
		return NULL;
	if (first != NULL && (argv[i++] = strdup(first)) == NULL)
		goto fail;
	if (second != NULL && (argv[i++] = strdup(second)) == NULL)
		goto fail;
	for (size_t k = 0; k < nrest; k++)
		if ((argv[i++] = strdup(rest[k])) == NULL)
			goto fail;
	return argv;
fail:
	for (size_t k = 0; k < n; k++)
		free(argv[k]);
	free(argv);
	return NULL;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static int app_copy(struct lt_app *dst, const struct lt_app *src)
{
	*dst = *src;
	dst->argv = argv_build(NULL, NULL, src->argv, src->argc);
	dst->ports = NULL;
	if (dst->argv == NULL)
		return -1;
	if (src->nports > 0) {
		dst->ports = calloc(src->nports, sizeof(*dst->ports));
		if (dst->ports == NULL) {
			argv_free(dst->argv);
			return -1;
		}
		memcpy(dst->ports, src->ports,
		       src->nports * sizeof(*dst->ports));
	}
	return 0;
}

static int vf_claim(struct deployment *dep, const struct lt_network *net,
		    const char *owner)
{
	int free_vf = -1;

	/* A restarted app keeps its VF: claims are by name. */
	for (unsigned i = 0; i < net->vfs && i < LT_MAX_VFS; i++) {
		if (strcmp(dep->vf_owner[i], owner) == 0)
			return (int)i;
		if (free_vf < 0 && dep->vf_owner[i][0] == '\0')
			free_vf = (int)i;
	}
	if (free_vf >= 0)
		snprintf(dep->vf_owner[free_vf], sizeof(dep->vf_owner[0]), "%s",
			 owner);
	return free_vf;
}

static int domain_name_in_use(struct deployment *dep, struct domain *except,
			      const char *name)
{
	struct domain *d;

	TAILQ_FOREACH(d, &dep->domains, entry)
	if (d != except && d->state != DOM_GONE &&
	    strcmp(d->be.name, name) == 0)
		return 1;
	return 0;
}

static void domain_free(struct domain *d)
{
	struct deployment *dep = d->dep;

	TAILQ_REMOVE(&dep->domains, d, entry);
	if (d->guest_watch != NULL)
		lt_xs_unwatch(dep->engine->xs, d->guest_watch);
	/* The same app may live on in a domain that replaced this one. */
	if (!domain_name_in_use(dep, d, d->be.name)) {
		if (d->pool_ip && d->pool != NULL)
			lt_ippool_release(d->pool, d->be.name);
		if (d->vf >= 0)
			dep->vf_owner[d->vf][0] = '\0';
	}
	domain_boot_resolve(d, ECANCELED, "domain freed");
	argv_free(d->argv);
	argv_free(d->envp);
	argv_free(d->spec.argv);
	free(d->spec.ports);
	free(d->guest_state);
	free(d);
}

/*
 * Makes a domain object for app (NULL: the network server) of spec, with
 * its address, MAC and VF reserved. Nothing is started.
 */
static struct domain *domain_new(struct deployment *dep,
				 const struct lt_deployment *spec,
				 struct lt_ippool *pool,
				 const struct lt_app *app, struct lt_error *err)
{
	const struct daemon_config *cfg = dep->engine->cfg;
	struct domain *d = calloc(1, sizeof(*d));
	char path[512];

	if (d == NULL)
		goto nomem;
	d->dep = dep;
	d->vf = -1;
	d->op_new = 1;
	d->be.deployment = &dep->be;
	if (app == NULL) {
		snprintf(d->spec.name, sizeof(d->spec.name), "server");
		d->spec.mode = LT_MODE_SERVER;
		d->spec.memory_bytes = spec->server.memory_bytes;
		d->spec.vcpus = spec->server.vcpus;
		d->be.is_server = 1;
		snprintf(path, sizeof(path), "%s/libretto-netserver",
			 cfg->libexec_dir);
		d->argv = argv_build(path, NULL, NULL, 0);
		if (d->argv == NULL)
			goto nomem;
	} else {
		if (app_copy(&d->spec, app) < 0)
			goto nomem;
		snprintf(path, sizeof(path), "%s/libretto-agent",
			 cfg->libexec_dir);
		d->argv = argv_build(path, "--", d->spec.argv, d->spec.argc);
		if (d->argv == NULL)
			goto nomem;
	}
	snprintf(d->be.name, sizeof(d->be.name), "%s", d->spec.name);
	d->be.argv = d->argv;
	d->be.memory_bytes = d->spec.memory_bytes;
	d->be.vcpus = d->spec.vcpus;
	lt_mac_for(dep->name, d->be.name, d->mac);
	TAILQ_INSERT_TAIL(&dep->domains, d, entry);

	if (d->spec.mode == LT_MODE_SERVER) {
		d->ip = spec->net.server_ip;
	} else {
		if (lt_ippool_reserve(pool, d->be.name, &d->ip) < 0) {
			lt_error_set(err, LT_ERR_RESOURCE,
				     "no free address in the pool of %s for %s",
				     dep->name, d->be.name);
			goto fail;
		}
		d->pool_ip = 1;
		d->pool = pool;
	}
	if (d->spec.mode == LT_MODE_DIRECT) {
		d->vf = vf_claim(dep, &spec->net, d->be.name);
		if (d->vf < 0) {
			lt_error_set(err, LT_ERR_RESOURCE,
				     "no free VF in %s for %s", dep->name,
				     d->be.name);
			goto fail;
		}
	}
	return d;
nomem:
	lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
	if (d != NULL && d->dep != NULL && d->be.name[0] == '\0') {
		argv_free(d->argv);
		argv_free(d->spec.argv);
		free(d->spec.ports);
		free(d);
		return NULL;
	}
fail:
	if (d != NULL)
		domain_free(d);
	return NULL;
}

/* --- deployments ---------------------------------------------------------- */

struct deployment *engine_find(struct engine *e, const char *name)
{
	struct deployment *dep;

	TAILQ_FOREACH(dep, &e->deployments, entry)
	if (strcmp(dep->name, name) == 0)
		return dep;
	return NULL;
}

static struct deployment *deployment_new(struct engine *e,
					 struct lt_deployment *spec)
{
	struct deployment *dep = calloc(1, sizeof(*dep));

	if (dep == NULL)
		return NULL;
	dep->pool = lt_ippool_new(spec->net.pool_first, spec->net.pool_last);
	if (dep->pool == NULL) {
		free(dep);
		return NULL;
	}
	dep->engine = e;
	snprintf(dep->name, sizeof(dep->name), "%s", spec->name);
	snprintf(dep->be.name, sizeof(dep->be.name), "%s", spec->name);
	dep->spec = spec;
	dep->be.net = &spec->net;
	dep->state = DEP_DEPLOYING;
	TAILQ_INIT(&dep->domains);
	TAILQ_INSERT_TAIL(&e->deployments, dep, entry);
	return dep;
}

static void deployment_free(struct deployment *dep)
{
	struct domain *d;

	while ((d = TAILQ_FIRST(&dep->domains)) != NULL)
		domain_free(d);
	TAILQ_REMOVE(&dep->engine->deployments, dep, entry);
	lt_deployment_free(dep->spec);
	lt_deployment_free(dep->pending_spec);
	lt_ippool_free(dep->pool);
	lt_ippool_free(dep->pending_pool);
	free(dep);
}

static struct domain *domain_find(struct deployment *dep, const char *name)
{
	struct domain *d;

	TAILQ_FOREACH(d, &dep->domains, entry)
	if (d->state != DOM_GONE && strcmp(d->be.name, name) == 0)
		return d;
	return NULL;
}

static const struct lt_app *app_find(const struct lt_deployment *spec,
				     const char *name)
{
	for (size_t i = 0; i < spec->napps; i++)
		if (strcmp(spec->apps[i].name, name) == 0)
			return &spec->apps[i];
	return NULL;
}

static int dep_owns_spec(const struct deployment *dep,
			 const struct lt_deployment *spec)
{
	return dep != NULL && (dep->spec == spec || dep->pending_spec == spec);
}

static void change_add(struct json_object *changes, const char *domain,
		       const char *action)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "domain", json_object_new_string(domain));
	json_object_object_add(c, "action", json_object_new_string(action));
	json_object_array_add(changes, c);
}

/* Frees what the op made and the spec it brought; keeps what it undid. */
static void deploy_finished(struct op *op)
{
	struct deployment *dep = op->dep;
	struct domain *d, *next;

	for (d = TAILQ_FIRST(&dep->domains); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->state == DOM_GONE ||
		    (d->state == DOM_DEFINED && !d->created))
			domain_free(d);
		else
			d->op_new = 0;
	}
	if (!op->failed) {
		if (dep->pending_spec != NULL) {
			lt_deployment_free(dep->spec);
			dep->spec = dep->pending_spec;
			dep->pending_spec = NULL;
		}
		if (dep->pending_pool != NULL) {
			lt_ippool_free(dep->pool);
			dep->pool = dep->pending_pool;
			dep->pending_pool = NULL;
		}
		dep->be.net = &dep->spec->net;
		dep->state = DEP_RUNNING;
		return;
	}
	lt_deployment_free(dep->pending_spec);
	dep->pending_spec = NULL;
	lt_ippool_free(dep->pending_pool);
	dep->pending_pool = NULL;
	dep->be.net = &dep->spec->net;
	if (TAILQ_EMPTY(&dep->domains) && !dep->set_up) {
		/* A first deploy that was fully undone leaves nothing. */
		deployment_free(dep);
		return;
	}
	/* Fully undone, it is as it was; otherwise say so until fixed. */
	dep->state = op->undo_failed ? DEP_FAILED : DEP_RUNNING;
}

static int plan_start(struct op *op, struct deployment *dep,
		      const struct lt_deployment *spec, struct lt_ippool *pool,
		      const struct lt_app *app, struct lt_error *err)
{
	struct domain *d = domain_new(dep, spec, pool, app, err);

	if (d == NULL)
		return -1;
	if (op_add(op, STEP_CREATE, d, NULL) < 0 ||
	    op_add(op, STEP_RUN, d, NULL) < 0) {
		lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

/* Every domain of the deployment, apps first, then the server. */
static int plan_stop_all(struct op *op, struct deployment *dep,
			 struct json_object *changes, const char *action)
{
	struct domain *d;

	TAILQ_FOREACH_REVERSE(d, &dep->domains, domain_list, entry)
	{
		if (changes != NULL)
			change_add(changes, d->be.name, action);
		if (op != NULL && op_add(op, STEP_DESTROY, d, NULL) < 0)
			return -1;
	}
	return 0;
}

/* Undoes a plan that was never started. */
static void plan_abandon(struct op *op, struct deployment *dep, int is_new)
{
	struct domain *d, *next;

	for (d = TAILQ_FIRST(&dep->domains); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->op_new)
			domain_free(d);
	}
	if (op != NULL)
		op_discard(op);
	if (is_new) {
		dep->spec = NULL; /* the caller still owns it */
		deployment_free(dep);
	} else {
		dep->pending_spec = NULL;
		lt_ippool_free(dep->pending_pool);
		dep->pending_pool = NULL;
	}
}

int engine_deploy(struct engine *e, struct lt_deployment *spec, int dry_run,
		  struct json_object **result, struct lt_error *err)
{
	struct deployment *dep = engine_find(e, spec->name);
	struct json_object *changes = json_object_new_array();
	struct op *op = NULL;
	int is_new = dep == NULL, changed = 0;

	if (dep != NULL && dep->op != NULL) {
		lt_error_set(err, LT_ERR_BUSY,
			     "deployment %s: operation %u (%s) is in flight",
			     dep->name, dep->op->id,
			     op_kind_name(dep->op->kind));
		goto fail;
	}
	if (is_new) {
		change_add(changes, "server", "start");
		for (size_t i = 0; i < spec->napps; i++)
			change_add(changes, spec->apps[i].name, "start");
		changed = 1;
		if (dry_run)
			goto reply;
		dep = deployment_new(e, spec);
		if (dep == NULL || (op = op_new(dep, OP_DEPLOY)) == NULL) {
			lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
			if (dep != NULL) {
				dep->spec = NULL;
				deployment_free(dep);
			}
			goto fail;
		}
		if (op_add(op, STEP_SETUP, NULL, &spec->net) < 0 ||
		    plan_start(op, dep, spec, dep->pool, NULL, err) < 0)
			goto abandon;
		for (size_t i = 0; i < spec->napps; i++)
			if (plan_start(op, dep, spec, dep->pool, &spec->apps[i],
				       err) < 0)
				goto abandon;
	} else if (!lt_network_equal(&dep->spec->net, &spec->net) ||
		   !lt_server_equal(&dep->spec->server, &spec->server)) {
		/* The server and the network carry every app: restart all. */
		changed = 1;
		plan_stop_all(NULL, dep, changes, "restart");
		for (size_t i = 0; i < spec->napps; i++)
			if (app_find(dep->spec, spec->apps[i].name) == NULL)
				change_add(changes, spec->apps[i].name,
					   "start");
		if (dry_run)
			goto reply;
		if ((op = op_new(dep, OP_DEPLOY)) == NULL) {
			lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
			goto fail;
		}
		dep->pending_spec = spec;
		dep->pending_pool =
		    lt_ippool_new(spec->net.pool_first, spec->net.pool_last);
		if (dep->pending_pool == NULL ||
		    plan_stop_all(op, dep, NULL, NULL) < 0 ||
		    op_add(op, STEP_TEARDOWN, NULL, &dep->spec->net) < 0 ||
		    op_add(op, STEP_SETUP, NULL, &spec->net) < 0 ||
		    plan_start(op, dep, spec, dep->pending_pool, NULL, err) < 0)
			goto abandon;
		for (size_t i = 0; i < spec->napps; i++)
			if (plan_start(op, dep, spec, dep->pending_pool,
				       &spec->apps[i], err) < 0)
				goto abandon;
	} else {
		struct domain *d;

		if (!dry_run && (op = op_new(dep, OP_DEPLOY)) == NULL) {
			lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
			goto fail;
		}
		/* Stops first: a restarted app's new domain takes the old
		 * one's names. */
		TAILQ_FOREACH_REVERSE(d, &dep->domains, domain_list, entry)
		{
			const struct lt_app *app;

			if (d->be.is_server || d->state == DOM_GONE)
				continue;
			app = app_find(spec, d->be.name);
			if (app != NULL && lt_app_equal(app, &d->spec))
				continue;
			changed = 1;
			change_add(changes, d->be.name,
				   app ? "restart" : "stop");
			if (op != NULL && op_add(op, STEP_DESTROY, d, NULL) < 0)
				goto nomem;
		}
		change_add(changes, "server", "keep");
		for (size_t i = 0; i < spec->napps; i++) {
			const struct lt_app *app = &spec->apps[i];
			struct domain *old = domain_find(dep, app->name);

			if (old != NULL && lt_app_equal(app, &old->spec)) {
				change_add(changes, app->name, "keep");
				continue;
			}
			if (old == NULL) {
				changed = 1;
				change_add(changes, app->name, "start");
			}
			if (op != NULL &&
			    plan_start(op, dep, spec, dep->pool, app, err) < 0)
				goto abandon;
		}
		if (!changed && op != NULL) {
			op_discard(op);
			op = NULL;
		}
		if (op != NULL)
			dep->pending_spec = spec;
	}
reply:
	*result = json_object_new_object();
	json_object_object_add(*result, "deployment",
			       json_object_new_string(spec->name));
	json_object_object_add(*result, "dry_run",
			       json_object_new_boolean(dry_run));
	json_object_object_add(*result, "changed",
			       json_object_new_boolean(changed));
	json_object_object_add(*result, "changes", changes);
	if (op != NULL) {
		json_object_object_add(*result, "op",
				       json_object_new_int64(op->id));
		op->finish = deploy_finished;
		op_start(op);
	} else {
		json_object_object_add(*result, "op", NULL);
		if (!dep_owns_spec(dep, spec))
			lt_deployment_free(spec);
	}
	return 0;
nomem:
	lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
abandon:
	plan_abandon(op, dep, is_new);
	goto fail;
fail:
	json_object_put(changes);
	lt_deployment_free(spec);
	return -1;
}

static void destroy_finished(struct op *op)
{
	struct deployment *dep = op->dep;
	struct domain *d, *next;

	for (d = TAILQ_FIRST(&dep->domains); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->state == DOM_GONE || !d->created)
			domain_free(d);
	}
	if (TAILQ_EMPTY(&dep->domains) && !dep->set_up) {
		deployment_free(dep);
		return;
	}
	/* Something would not go: keep it visible, destroy may be retried. */
	dep->state = DEP_FAILED;
}

int engine_destroy(struct engine *e, const char *name,
		   struct json_object **result, struct lt_error *err)
{
	struct deployment *dep = engine_find(e, name);
	struct op *op;

	if (dep == NULL) {
		lt_error_set(err, LT_ERR_NOT_FOUND, "no deployment '%s'", name);
		return -1;
	}
	if (dep->op != NULL) {
		lt_error_set(err, LT_ERR_BUSY,
			     "deployment %s: operation %u (%s) is in flight",
			     dep->name, dep->op->id,
			     op_kind_name(dep->op->kind));
		return -1;
	}
	op = op_new(dep, OP_DESTROY);
	if (op == NULL || plan_stop_all(op, dep, NULL, NULL) < 0 ||
	    op_add(op, STEP_TEARDOWN, NULL, dep->be.net) < 0) {
		if (op != NULL)
			op_discard(op);
		lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
		return -1;
	}
	op->finish = destroy_finished;
	dep->state = DEP_DESTROYING;
	*result = json_object_new_object();
	json_object_object_add(*result, "deployment",
			       json_object_new_string(dep->name));
	json_object_object_add(*result, "op", json_object_new_int64(op->id));
	op_start(op);
	return 0;
}

/* --- backend events ------------------------------------------------------- */

void wstatus_to_json(struct json_object *o, int wstatus)
{
	char name[16];

	if (WIFEXITED(wstatus)) {
		json_object_object_add(
		    o, "exit_code", json_object_new_int(WEXITSTATUS(wstatus)));
	} else if (WIFSIGNALED(wstatus)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(wstatus));

		snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
		json_object_object_add(o, "signal",
				       json_object_new_int(WTERMSIG(wstatus)));
		json_object_object_add(o, "signal_name",
				       json_object_new_string(name));
	}
}

static void on_domain_exited(void *arg, struct be_domain *bd, int wstatus)
{
	struct domain *d =
	    (struct domain *)((char *)bd - offsetof(struct domain, be));
	struct json_object *data = json_object_new_object();
	int failed = !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0;

	(void)arg;
	d->exited = 1;
	d->wstatus = wstatus;
	json_object_object_add(data, "deployment",
			       json_object_new_string(d->dep->name));
	json_object_object_add(data, "domain",
			       json_object_new_string(d->be.name));
	json_object_object_add(data, "domid", json_object_new_int64(d->domid));
	wstatus_to_json(data, wstatus);
	log_warn("domain %u (%s/%s) exited: %s %d", d->domid, d->dep->name,
		 d->be.name, WIFEXITED(wstatus) ? "status" : "signal",
		 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
	engine_emit(d->dep->engine, LT_EV_DOMAIN_EXIT, data);
	if (d->boot_done != NULL) {
		char why[96];

		if (WIFEXITED(wstatus))
			snprintf(why, sizeof(why), "exited with status %d",
				 WEXITSTATUS(wstatus));
		else
			snprintf(why, sizeof(why), "killed by signal %d",
				 WTERMSIG(wstatus));
		domain_boot_resolve(d, ECHILD, why);
	}
	/* While stopping, the exit is the stop itself. */
	if (d->state != DOM_STOPPING && d->state != DOM_GONE)
		domain_set_state(d, failed ? DOM_FAILED : DOM_EXITED);
}

static void on_backend_failed(void *arg, const char *msg)
{
	struct engine *e = arg;
	struct json_object *data = json_object_new_object();

	log_err("backend %s failed: %s", e->backend->ops->name, msg);
	json_object_object_add(data, "backend",
			       json_object_new_string(e->backend->ops->name));
	json_object_object_add(data, "message", json_object_new_string(msg));
	engine_emit(e, LT_EV_BACKEND_FAILED, data);
}

/* --- life cycle ----------------------------------------------------------- */

struct engine *engine_new(struct event_base *base, struct backend *backend,
			  const struct daemon_config *cfg)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->base = base;
	e->backend = backend;
	e->cfg = cfg;
	TAILQ_INIT(&e->deployments);
	backend->events.domain_exited = on_domain_exited;
	backend->events.backend_failed = on_backend_failed;
	backend->events.arg = e;
	return e;
}

/*
 * An adopted xenstored may still describe domains that an earlier daemon
 * left running (on_shutdown: keep). This daemon does not manage them yet
 * (adoption is the state file's job, issue 5); say so rather than let a
 * later deploy stumble on their names.
 */
static void warn_leftover_domains(struct engine *e)
{
	char **names = lt_xs_list(e->xs, XBT_NULL, "/local/domain");
	size_t left = 0;

	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], "0") != 0)
			left++;
	if (left > 0)
		log_warn("xenstore lists %zu domains of an earlier librettod; "
			 "they keep running but this daemon does not manage "
			 "them (see docs/librettod.md, \"Restarting the "
			 "daemon\")",
			 left);
	free(names);
}

int engine_attach_xenstore(struct engine *e, char **err)
{
	e->xs = lt_xs_open(e->base, e->backend->ops->xenstore_path(e->backend),
			   err);
	if (e->xs == NULL)
		return -1;
	warn_leftover_domains(e);
	return xs_layout_daemon_write(e->xs, e->backend->ops->name, err);
}

void engine_set_control(struct engine *e, struct control *c)
{
	e->control = c;
}

void engine_free(struct engine *e)
{
	struct deployment *dep;

	if (e == NULL)
		return;
	/* Domains keep running: forget them without stopping anything. */
	while ((dep = TAILQ_FIRST(&e->deployments)) != NULL)
		deployment_free(dep);
	if (e->xs != NULL) {
		xs_layout_daemon_remove(e->xs);
		lt_xs_close(e->xs);
	}
	free(e);
}

struct shutdown_wait {
	struct engine *e;
	struct event *timer;
	void (*done)(void *);
	void *arg;
};

/* Done once no operation is in flight: what could be destroyed is. */
static void shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	struct shutdown_wait *w = arg;
	struct deployment *dep;
	struct timeval tick = {0, 50 * 1000};

	(void)fd;
	(void)what;
	TAILQ_FOREACH(dep, &w->e->deployments, entry)
	if (dep->op != NULL) {
		evtimer_add(w->timer, &tick);
		return;
	}
	event_free(w->timer);
	w->done(w->arg);
	free(w);
}

void engine_shutdown(struct engine *e, int destroy, void (*done)(void *),
		     void *arg)
{
	struct shutdown_wait *w = calloc(1, sizeof(*w));
	struct deployment *dep, *next;
	struct timeval now = {0, 0};

	if (w == NULL) {
		done(arg);
		return;
	}
	w->e = e;
	w->done = done;
	w->arg = arg;
	w->timer = evtimer_new(e->base, shutdown_poll, w);
	if (destroy) {
		for (dep = TAILQ_FIRST(&e->deployments); dep != NULL;
		     dep = next) {
			struct json_object *result = NULL;
			struct lt_error err = {0};

			next = TAILQ_NEXT(dep, entry);
			if (dep->op != NULL)
				continue; /* its op runs to its end first */
			if (engine_destroy(e, dep->name, &result, &err) < 0)
				log_warn("shutdown: destroy %s: %s", dep->name,
					 err.message);
			json_object_put(result);
			lt_error_clear(&err);
		}
	}
	evtimer_add(w->timer, &now);
}
