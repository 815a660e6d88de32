#include "op.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "state.h"
#include "xs_layout.h"
#include <libretto/protocol.h>

/*
 * Each op owns one event that it activates to take its next step: backend
 * callbacks may arrive from inside the backend call itself, and deferring
 * keeps the op from re-entering itself or being freed under a caller.
 */
struct op_runtime {
	struct event *tick;
	const struct step *current;
};

static const char *const step_names[] = {
    [STEP_SETUP] = "setup",	[STEP_TEARDOWN] = "teardown",
    [STEP_CREATE] = "create",	[STEP_RUN] = "run",
    [STEP_DESTROY] = "destroy", [STEP_RECREATE] = "recreate",
};

const char *op_kind_name(enum op_kind kind)
{
	static const char *const names[] = {[OP_DEPLOY] = "deploy",
					    [OP_DESTROY] = "destroy",
					    [OP_RESTART] = "restart"};

	return names[kind];
}

static struct op_runtime *rt(struct op *op);
static void op_tick(evutil_socket_t fd, short what, void *arg);
static void op_release(struct op *op);

struct op *op_new(struct deployment *dep, enum op_kind kind)
{
	struct op *op = calloc(1, sizeof(*op) + sizeof(struct op_runtime));

	if (op == NULL)
		return NULL;
	op->id = ++dep->engine->next_op;
	op->kind = kind;
	op->dep = dep;
	op->best_effort = kind != OP_DEPLOY;
	rt(op)->tick = event_new(dep->engine->base, -1, 0, op_tick, op);
	if (rt(op)->tick == NULL) {
		free(op);
		return NULL;
	}
	return op;
}

static struct op_runtime *rt(struct op *op)
{
	return (struct op_runtime *)(op + 1);
}

static int step_push(struct step **v, size_t *n, size_t *cap,
		     enum step_kind kind, struct domain *dom,
		     const struct lt_network *net)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct step *nv = realloc(*v, ncap * sizeof(**v));

		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct step){.kind = kind, .dom = dom, .net = net};
	return 0;
}

int op_add(struct op *op, enum step_kind kind, struct domain *dom,
	   const struct lt_network *net)
{
	/* nsteps doubles as the capacity's lower bound: steps are only ever
	 * appended before op_start, so grow them exactly. */
	size_t cap = op->nsteps;

	return step_push(&op->steps, &op->nsteps, &cap, kind, dom, net);
}

static void undo_push(struct op *op, enum step_kind kind, struct domain *dom,
		      const struct lt_network *net)
{
	if (op->rolling_back || op->best_effort)
		return;
	if (step_push(&op->undo, &op->nundo, &op->undo_cap, kind, dom, net) < 0)
		log_err("op %u: out of memory recording an undo step", op->id);
}

static void op_schedule(struct op *op)
{
	event_active(rt(op)->tick, 0, 0);
}

static void op_progress(struct op *op, const struct step *s, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

static void op_progress(struct op *op, const struct step *s, const char *fmt,
			...)
{
	struct json_object *data = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(data, "op", json_object_new_int64(op->id));
	json_object_object_add(data, "deployment",
			       json_object_new_string(op->dep->name));
	json_object_object_add(data, "step",
			       json_object_new_string(step_names[s->kind]));
	if (s->dom != NULL)
		json_object_object_add(data, "domain",
				       json_object_new_string(s->dom->be.name));
	json_object_object_add(data, "undo",
			       json_object_new_boolean(op->rolling_back));
	json_object_object_add(data, "message", json_object_new_string(msg));
	log_info("%s %s: %s%s", op_kind_name(op->kind), op->dep->name,
		 op->rolling_back ? "undo: " : "", msg);
	engine_emit(op->dep->engine, LT_EV_OP_PROGRESS, data);
}

static void op_failed(struct op *op, const struct step *s, const char *why)
{
	char where[64];

	snprintf(where, sizeof(where), "%s%s%s", step_names[s->kind],
		 s->dom ? " " : "", s->dom ? s->dom->be.name : "");
	op_progress(op, s, "failed: %s", why);
	if (op->rolling_back) {
		log_err("op %u: undo step %s failed: %s; going on", op->id,
			where, why);
		op->undo_failed = 1;
		return;
	}
	if (!op->failed) {
		op->failed = 1;
		lt_error_set(&op->err, LT_ERR_BACKEND, "%s: %s", where, why);
	}
	if (!op->best_effort) {
		op->rolling_back = 1;
		if (op->nundo > 0)
			op_progress(op, s, "undoing %zu completed steps",
				    op->nundo);
	}
}

/* A new domain's nodes. A new network server: every app learns of it and
 * it of every app, as at their own create (docs/recovery.md). */
static int layout_write(struct op *op, struct domain *d, char **xs_err)
{
	struct lt_xs *xs = op->dep->engine->xs;

	if (xs_layout_domain_write(xs, d, xs_err) < 0)
		return -1;
	if (d->be.is_server)
		xs_layout_apps_rebind(xs, op->dep);
	return 0;
}

/* A create that failed, at once or later, made no domain: as it was before
 * (so that a first deploy fully undone leaves nothing); a recreate that
 * failed lost the old one too. */
static void step_failed_state(const struct step *s)
{
	if (s->dom != NULL && s->kind == STEP_CREATE)
		domain_set_state(s->dom, DOM_DEFINED);
	if (s->dom != NULL && s->kind == STEP_RECREATE)
		domain_set_state(s->dom, DOM_FAILED);
}

/* Completion of the backend call for the current step. */
static void op_step_done(void *arg, int err, const char *msg)
{
	struct op *op = arg;
	const struct step *s = rt(op)->current;
	struct domain *d = s->dom;
	char *xs_err = NULL;

	rt(op)->current = NULL;
	if (err != 0) {
		step_failed_state(s);
		op_failed(op, s, msg ? msg : strerror(err));
		op_schedule(op);
		return;
	}
	switch (s->kind) {
	case STEP_SETUP:
		op->dep->set_up = 1;
		undo_push(op, STEP_TEARDOWN, NULL, s->net);
		if (xs_layout_deployment_write(op->dep->engine->xs, op->dep,
					       &xs_err) < 0) {
			op_failed(op, s, xs_err ? xs_err : "xenstore write");
			free(xs_err);
			break;
		}
		op_progress(op, s, "deployment network set up");
		break;
	case STEP_TEARDOWN:
		op->dep->set_up = 0;
		xs_layout_deployment_remove(op->dep->engine->xs, op->dep);
		undo_push(op, STEP_SETUP, NULL, s->net);
		op_progress(op, s, "deployment network removed");
		break;
	case STEP_CREATE:
		d->created = 1;
		d->domid = d->be.domid;
		undo_push(op, STEP_DESTROY, d, NULL);
		domain_set_state(d, DOM_CREATED);
		if (layout_write(op, d, &xs_err) < 0) {
			op_failed(op, s, xs_err ? xs_err : "xenstore write");
			free(xs_err);
			break;
		}
		op_progress(op, s, "domain %u created", d->domid);
		break;
	case STEP_RUN:
		domain_set_state(d, DOM_RUNNING);
		op_progress(op, s, "domain %u running", d->domid);
		break;
	case STEP_RECREATE: {
		unsigned old = d->domid;

		/* The old domain's nodes go, the new one's come, as a
		 * DESTROY and a CREATE would leave them. */
		xs_layout_domain_remove(op->dep->engine->xs, d);
		d->domid = d->be.domid;
		domain_set_state(d, DOM_CREATED);
		if (layout_write(op, d, &xs_err) < 0) {
			op_failed(op, s, xs_err ? xs_err : "xenstore write");
			free(xs_err);
			break;
		}
		op_progress(op, s, "domain %u replaces domain %u", d->domid,
			    old);
		break;
	}
	case STEP_DESTROY:
		d->created = 0;
		xs_layout_domain_remove(op->dep->engine->xs, d);
		domain_set_state(d, DOM_GONE);
		/* Re-creating it undoes a destroy: CREATE pops first. */
		undo_push(op, STEP_RUN, d, NULL);
		undo_push(op, STEP_CREATE, d, NULL);
		op_progress(op, s, "domain %u destroyed", d->domid);
		break;
	}
	op_schedule(op);
}

/* The domain's program started: now wait for its guest to be ready. */
static void op_run_started(void *arg, int err, const char *msg)
{
	struct op *op = arg;
	struct backend *be = op->dep->engine->backend;

	if (err != 0) {
		op_step_done(op, err, msg);
		return;
	}
	/* The operator's bound (a slow or shared host) over the backend's. */
	domain_boot_wait(rt(op)->current->dom,
			 be->cfg->boot_timeout ? be->cfg->boot_timeout * 1000u
					       : be->ops->boot_timeout_ms,
			 op_step_done, op);
}

/* Starts the backend call of step s; returns -1 with *why on a failure to
 * even begin. */
static int step_begin(struct op *op, const struct step *s, char **why)
{
	struct engine *e = op->dep->engine;
	struct backend *be = e->backend;
	struct domain *d = s->dom;

	rt(op)->current = s;
	switch (s->kind) {
	case STEP_SETUP:
		op->dep->be.net = s->net;
		return be->ops->deployment_setup(be, &op->dep->be, op_step_done,
						 op, why);
	case STEP_TEARDOWN:
		op->dep->be.net = s->net;
		return be->ops->deployment_teardown(be, &op->dep->be,
						    op_step_done, op, why);
	case STEP_CREATE:
		/* A domain re-created by an undo starts from a clean slate. */
		free(d->guest_state);
		d->guest_state = NULL;
		d->exited = 0;
		domain_set_state(d, DOM_CREATING);
		return be->ops->domain_create(be, &d->be, op_step_done, op,
					      why);
	case STEP_RUN:
		if (d->state != DOM_CREATED) {
			*why = strdup("domain was not created");
			return -1;
		}
		domain_set_state(d, DOM_STARTING);
		return be->ops->domain_run(be, &d->be, op_run_started, op, why);
	case STEP_DESTROY:
		domain_set_state(d, DOM_STOPPING);
		xs_layout_domain_unwatch(e->xs, d);
		return be->ops->domain_destroy(be, &d->be, op_step_done, op,
					       why);
	case STEP_RECREATE:
		free(d->guest_state);
		d->guest_state = NULL;
		d->exited = 0;
		xs_layout_domain_unwatch(e->xs, d);
		domain_set_state(d, DOM_CREATING);
		return be->ops->domain_recreate(be, &d->be, op_step_done, op,
						why);
	}
	*why = strdup("unknown step");
	return -1;
}

static void op_end(struct op *op)
{
	struct timespec now;
	struct json_object *data = json_object_new_object();
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - op->started.tv_sec) * 1000LL +
	     (now.tv_nsec - op->started.tv_nsec) / 1000000;
	json_object_object_add(data, "op", json_object_new_int64(op->id));
	json_object_object_add(data, "deployment",
			       json_object_new_string(op->dep->name));
	json_object_object_add(data, "kind",
			       json_object_new_string(op_kind_name(op->kind)));
	json_object_object_add(data, "ok",
			       json_object_new_boolean(!op->failed));
	json_object_object_add(data, "elapsed_ms", json_object_new_int64(ms));
	if (op->failed) {
		struct json_object *err = json_object_new_object();

		json_object_object_add(err, "class",
				       json_object_new_string(op->err.class));
		json_object_object_add(err, "message",
				       json_object_new_string(op->err.message));
		json_object_object_add(data, "error", err);
		log_warn("%s %s failed after %lld ms: %s",
			 op_kind_name(op->kind), op->dep->name, ms,
			 op->err.message);
	} else {
		log_info("%s %s done in %lld ms", op_kind_name(op->kind),
			 op->dep->name, ms);
	}
	/* finish() may free the deployment; emit first. */
	engine_emit(op->dep->engine, LT_EV_OP_DONE, data);
	op->dep->op = NULL;
	state_changed(op->dep->engine);
	if (op->finish != NULL)
		op->finish(op);
	op_release(op);
}

static void op_release(struct op *op)
{
	event_free(rt(op)->tick);
	lt_error_clear(&op->err);
	free(op->steps);
	free(op->undo);
	free(op);
}

void op_discard(struct op *op)
{
	op_release(op);
}

static void op_tick(evutil_socket_t fd, short what, void *arg)
{
	struct op *op = arg;
	const struct step *s;
	char *why = NULL;

	(void)fd;
	(void)what;
	for (;;) {
		if (op->rolling_back) {
			if (op->nundo == 0)
				break;
			s = &op->undo[--op->nundo];
		} else {
			if (op->next == op->nsteps)
				break;
			s = &op->steps[op->next++];
		}
		if (step_begin(op, s, &why) == 0)
			return; /* op_step_done schedules the next tick */
		rt(op)->current = NULL;
		step_failed_state(s);
		op_failed(op, s, why ? why : "could not start");
		free(why);
		why = NULL;
	}
	op_end(op);
}

void op_start(struct op *op)
{
	clock_gettime(CLOCK_MONOTONIC, &op->started);
	op->dep->op = op;
	state_changed(op->dep->engine);
	op_schedule(op);
}
