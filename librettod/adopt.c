/*
 * A restarted librettod takes back what its predecessor left running
 * (docs/recovery.md): the deployments of the state file, loaded again from
 * the text that was in force, and their domains, as the backend still has
 * them.  What is half-made -- a deploy that was in flight, a domain the
 * state file does not know -- is destroyed; a switch that was in flight is
 * completed or rolled back (switch.c); a domain that ended meanwhile is
 * treated by its restart policy.  Nothing is destroyed because the state
 * file is unreadable: the daemon refuses to start instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "engine_internal.h"
#include "ippool.h"
#include "log.h"
#include "op.h"
#include "state.h"
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

static int jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	       json_object_get_boolean(v);
}

static struct json_object *saved_domain(struct json_object *doms,
					const char *name)
{
	size_t n = doms ? json_object_array_length(doms) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(doms, i);
		const char *s = jstr(o, "name");

		if (s != NULL && strcmp(s, name) == 0)
			return o;
	}
	return NULL;
}

/* Reserves what the saved domain held, before domain_new claims by name:
 * so every app gets its own address and slots back. */
static void reserve_saved(struct deployment *dep, struct json_object *o)
{
	const char *name = jstr(o, "name"), *ip = jstr(o, "ip");
	int64_t vf = jint(o, "vf", -1), eph = jint(o, "ephemeral", -1);
	struct in_addr a;

	if (name == NULL)
		return;
	if (ip != NULL && inet_pton(AF_INET, ip, &a) == 1 &&
	    lt_ippool_owner(dep->pool, a) == NULL)
		lt_ippool_reserve_addr(dep->pool, name, a);
	if (vf >= 0 && vf < LT_MAX_VFS)
		snprintf(dep->vf_owner[vf], sizeof(dep->vf_owner[vf]), "%s",
			 name);
	if (eph >= 0 && eph < LT_EPHEMERAL_SLOTS)
		snprintf(dep->ephemeral_owner[eph],
			 sizeof(dep->ephemeral_owner[eph]), "%s", name);
}

/* One domain of the file in force: adopted as the backend has it, or
 * marked for destruction (*half_made) when it was never finished. */
static struct domain *adopt_domain(struct deployment *dep,
				   const struct lt_app *app,
				   struct json_object *o, int op_in_flight,
				   int *half_made)
{
	struct engine *e = dep->engine;
	struct lt_error err = {0};
	struct domain *d = domain_new(dep, dep->spec, dep->pool, app, &err);
	const char *state = o ? jstr(o, "state") : NULL;
	struct json_object *described = NULL;
	char *why = NULL;
	int running = 0, r;

	if (d == NULL) {
		log_err("adopt %s/%s: %s", dep->name,
			app ? app->name : "server", err.message);
		lt_error_clear(&err);
		return NULL;
	}
	d->op_new = 0;
	if (o == NULL) {
		/* Made by a deploy the state file never saw finish. */
		*half_made = 1;
		d->created = 1; /* whatever carries its names goes */
		return d;
	}
	d->domid = d->be.domid = (unsigned)jint(o, "domid", 0);
	d->nrestarts = (unsigned)jint(o, "restarts", 0);
	d->gave_up = jbool(o, "gave_up");
	d->switch_seq = (unsigned)jint(o, "switch_seq", 0);
	if (d->spec.mode == LT_MODE_DYNAMIC && jint(o, "vf", -1) >= 0) {
		d->vf = (int)jint(o, "vf", -1);
		d->on_vf = jbool(o, "on_vf");
	}
	json_object_object_get_ex(o, "backend", &described);
	r = jbool(o, "created")
		? e->backend->ops->domain_adopt(e->backend, &d->be, described,
						&running, &why)
		: 0;
	if (r < 0) {
		log_err("adopt %s/%s: %s", dep->name, d->be.name,
			why ? why : "failed");
		free(why);
	}
	d->created = r > 0;
	if (!d->created) {
		domain_set_state(d, d->gave_up ? DOM_FAILED : DOM_DEFINED);
		if (!d->gave_up)
			*half_made = 1;
		return d;
	}
	/* A domain caught half-way by the crash goes; the rest stay. */
	if (op_in_flight && state != NULL &&
	    strcmp(state, LT_DOM_RUNNING) != 0 && running) {
		*half_made = 1;
		domain_set_state(d, DOM_FAILED);
		return d;
	}
	domain_set_state(d, running ? DOM_RUNNING : DOM_FAILED);
	if (xs_layout_domain_adopt(e->xs, d, &why) < 0) {
		log_warn("adopt %s/%s: %s", dep->name, d->be.name, why);
		free(why);
	}
	return d;
}

/* Destroys what is half-made; a first deploy with nothing running goes
 * whole. */
static void cleanup_finished(struct op *op)
{
	struct deployment *dep = op->dep;
	struct domain *d, *next;
	int running = 0;

	for (d = TAILQ_FIRST(&dep->domains); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->state == DOM_GONE)
			domain_free(d);
		else
			running += d->created;
	}
	dep->state = op->failed ? DEP_FAILED : DEP_RUNNING;
	state_changed(dep->engine);
	(void)running;
}

static void adopt_deployment(struct engine *e, struct json_object *o)
{
	const char *name = jstr(o, "name"), *text = jstr(o, "content");
	const char *file = jstr(o, "file"), *images_dir = jstr(o, "images_dir");
	struct json_object *doms = NULL;
	struct lt_deployment *spec = NULL;
	struct lt_load_error lerr = {0};
	struct deployment *dep;
	int op_in_flight = jstr(o, "op") != NULL, half_made = 0, net;
	char msg[1024], *why = NULL;
	struct op *op = NULL;
	struct domain *d;

	/* Resolved, not checked: its domains run already; a state file
	 * without images_dir is from before images could be named. */
	if (name == NULL || text == NULL ||
	    lt_deployment_load(text, strlen(text), file ? file : name, &spec,
			       &lerr) < 0 ||
	    lt_deployment_resolve_images(
		spec, images_dir ? images_dir : e->cfg->images_dir, 0,
		file ? file : name, &lerr) < 0) {
		lt_deployment_free(spec);
		lt_load_error_format(&lerr, msg, sizeof(msg));
		log_err("state file: deployment %s cannot be loaded again "
			"(%s); its domains are left as they are",
			name ? name : "?", name && text ? msg : "incomplete");
		return;
	}
	dep = deployment_new(e, spec);
	if (dep == NULL) {
		lt_deployment_free(spec);
		return;
	}
	dep->source_text = strdup(text);
	dep->source_file = strdup(file ? file : name);
	net =
	    e->backend->ops->deployment_adopt
		? e->backend->ops->deployment_adopt(e->backend, &dep->be, &why)
		: 0;
	if (net < 0) {
		log_err("adopt %s: %s", name, why ? why : "failed");
		free(why);
	}
	dep->set_up = net > 0;
	json_object_object_get_ex(o, "domains", &doms);
	for (size_t i = 0; doms && i < json_object_array_length(doms); i++)
		reserve_saved(dep, json_object_array_get_idx(doms, i));
	/* The server first, as at deploy: the apps' layout names it. */
	adopt_domain(dep, NULL, saved_domain(doms, "server"), op_in_flight,
		     &half_made);
	for (size_t i = 0; i < spec->napps; i++)
		adopt_domain(dep, &spec->apps[i],
			     saved_domain(doms, spec->apps[i].name),
			     op_in_flight, &half_made);
	dep->state = DEP_RUNNING;
	log_info("adopted deployment %s%s", name,
		 half_made ? "; destroying what was half-made" : "");
	TAILQ_FOREACH(d, &dep->domains, entry)
	{
		if (d->spec.mode == LT_MODE_DYNAMIC && d->created &&
		    d->state == DOM_RUNNING)
			switch_resolve(d);
		else if (d->created && d->state == DOM_FAILED && !d->gave_up &&
			 !half_made)
			restart_consider(d);
	}
	if (!half_made)
		return;
	op = op_new(dep, OP_DESTROY);
	if (op == NULL)
		return;
	TAILQ_FOREACH_REVERSE(d, &dep->domains, domain_list, entry)
	{
		int broken =
		    (d->created && d->state == DOM_FAILED && op_in_flight) ||
		    (!d->created && !d->gave_up);

		if (broken && op_add(op, STEP_DESTROY, d, NULL) < 0) {
			op_discard(op);
			return;
		}
	}
	op->finish = cleanup_finished;
	dep->state = DEP_FAILED;
	op_start(op);
}

int engine_adopt(struct engine *e, char **err)
{
	struct json_object *root = NULL, *deps;

	if (state_read(e->cfg->state_dir, &root, err) < 0)
		return -1;
	if (root == NULL)
		return 0;
	if (e->backend->ops->domain_adopt == NULL) {
		log_warn("state file: the %s backend cannot adopt domains; "
			 "they are left as they are",
			 e->backend->ops->name);
		json_object_put(root);
		return 0;
	}
	if (json_object_object_get_ex(root, "deployments", &deps) &&
	    json_object_is_type(deps, json_type_array))
		for (size_t i = 0; i < json_object_array_length(deps); i++)
			adopt_deployment(e, json_object_array_get_idx(deps, i));
	json_object_put(root);
	state_changed(e);
	return 1;
}
