/* Deploy and destroy: the plan that turns a deployment file into steps, and
 * what is kept or freed when the operation ends. */
#include "engine.h"
#include "engine_internal.h"

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
#include "state.h"
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

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
		if (dep->pending_text != NULL) {
			free(dep->source_text);
			free(dep->source_file);
			dep->source_text = dep->pending_text;
			dep->source_file = dep->pending_file;
			dep->pending_text = dep->pending_file = NULL;
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
	free(dep->pending_text);
	free(dep->pending_file);
	dep->pending_text = dep->pending_file = NULL;
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

/* An operation or a switch is in flight: 1 with err set. */
static int deployment_busy(struct deployment *dep, struct lt_error *err)
{
	if (dep->op != NULL) {
		lt_error_set(err, LT_ERR_BUSY,
			     "deployment %s: operation %u (%s) is in flight",
			     dep->name, dep->op->id,
			     op_kind_name(dep->op->kind));
		return 1;
	}
	if (dep->switching > 0) {
		lt_error_set(err, LT_ERR_BUSY,
			     "deployment %s: %u switch%s in flight", dep->name,
			     dep->switching, dep->switching > 1 ? "es" : "");
		return 1;
	}
	return 0;
}

static int policy_equal(const struct lt_restart_policy *a,
			const struct lt_restart_policy *b)
{
	return a->when == b->when && a->limit == b->limit &&
	       a->window_s == b->window_s;
}

static int policies_equal(const struct lt_deployment *a,
			  const struct lt_deployment *b)
{
	if (!policy_equal(&a->server.restart, &b->server.restart))
		return 0;
	for (size_t i = 0; i < b->napps; i++) {
		const struct lt_app *old = app_find(a, b->apps[i].name);

		if (old != NULL &&
		    !policy_equal(&old->restart, &b->apps[i].restart))
			return 0;
	}
	return 1;
}

/* "update" for each domain whose restart policy changes. */
static void policy_changes(struct json_object *changes,
			   const struct lt_deployment *a,
			   const struct lt_deployment *b)
{
	size_t n = json_object_array_length(changes);

	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(changes, i);
		struct json_object *dom = NULL;
		const char *name;
		const struct lt_app *old, *new;
		int differs;

		json_object_object_get_ex(c, "domain", &dom);
		name = json_object_get_string(dom);
		if (strcmp(name, "server") == 0) {
			differs = !policy_equal(&a->server.restart,
						&b->server.restart);
		} else {
			old = app_find(a, name);
			new = app_find(b, name);
			differs = old != NULL && new != NULL &&
				  !policy_equal(&old->restart, &new->restart);
		}
		/* Only a kept domain's line says so: a restarted one takes
		 * the new policy anyway. */
		json_object_object_get_ex(c, "action", &dom);
		if (differs && strcmp(json_object_get_string(dom), "keep") == 0)
			json_object_object_add(
			    c, "action", json_object_new_string("update"));
	}
}

/* The file in force becomes spec, with nothing to run. */
static void spec_replace(struct deployment *dep, struct lt_deployment *spec,
			 const char *text, const char *file)
{
	lt_deployment_free(dep->spec);
	dep->spec = spec;
	dep->be.net = &spec->net;
	free(dep->source_text);
	free(dep->source_file);
	dep->source_text = strdup(text != NULL ? text : "");
	dep->source_file = strdup(file != NULL ? file : "<request>");
	state_changed(dep->engine);
}

int engine_deploy(struct engine *e, struct lt_deployment *spec,
		  const char *text, const char *file, int dry_run,
		  struct json_object **result, struct lt_error *err)
{
	struct deployment *dep = engine_find(e, spec->name);
	struct json_object *changes = json_object_new_array();
	struct op *op = NULL;
	int is_new = dep == NULL, changed = 0;

	if (!engine_backend_usable(e, err) ||
	    (dep != NULL && deployment_busy(dep, err)))
		goto fail;
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
			/* One given up on starts again with the file. */
			if (app != NULL && lt_app_equal(app, &d->spec) &&
			    !d->gave_up)
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

			if (old != NULL && lt_app_equal(app, &old->spec) &&
			    !old->gave_up) {
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
		/* A changed restart policy restarts nothing: restart.c reads
		 * the file in force, which the op installs, or, with no op,
		 * this. */
		if (!policies_equal(dep->spec, spec)) {
			policy_changes(changes, dep->spec, spec);
			changed = 1;
			if (op == NULL && !dry_run)
				spec_replace(dep, spec, text, file);
		}
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
		/* The text in force once the op succeeds (a first deploy's,
		 * at once: a failed one frees the deployment). */
		free(dep->pending_text);
		free(dep->pending_file);
		dep->pending_text = strdup(text != NULL ? text : "");
		dep->pending_file = strdup(file != NULL ? file : "<request>");
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
	if (!engine_backend_usable(e, err) || deployment_busy(dep, err))
		return -1;
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
