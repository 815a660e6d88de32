/*
 * The dynamic switch (ARCHITECTURE section 5, docs/switch.md): moving a
 * dynamic app's traffic from the network server to its own VF and back,
 * while its TCP connections stay up.
 *
 * A switch is a list of steps, each an action taken towards the VF (+1) or
 * towards the server (-1); server -> direct runs
 *     check(claim +) prepare(+) attach(+) guest(+) server(+) done
 * and direct -> server the same actions backwards
 *     check server(-) guest(-) detach(attach -) release(prepare -)
 *     done(claim -).
 * Every step has a timeout.  When one fails or times out, the actions of
 * the steps begun so far -- the failing one included, since it may have
 * half-happened -- are taken again in the other direction, newest first,
 * so the app ends on the path it started on and its VF back where it was.
 * Each action is safe to take in either direction from any state.
 */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "engine_internal.h"
#include "guest_input.h"
#include "log.h"
#include "op.h"
#include "state.h"
#include "timing.h"
#include "util.h"
#include "xs.h"
#include "xs_index.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

#define SWITCH_STEP_TIMEOUT_MS 5000
#define SWITCH_STEPS_MAX       6
#define PATH_LEN	       256

enum sw_action {
	ACT_NONE,    /* check / done with nothing to do */
	ACT_CLAIM,   /* +: reserve a VF; -: return it to the pool */
	ACT_PREPARE, /* +: vf_prepare; -: vf_release */
	ACT_ATTACH,  /* +: vf_attach; -: vf_detach */
	ACT_GUEST,   /* +: the agent to the VF; -: back to the VIF */
	ACT_SERVER,  /* +: the server stops forwarding; -: forwards again */
};

struct sw_step {
	const char *name;
	enum sw_action action;
};

static const struct sw_step to_direct_steps[] = {
    {"check", ACT_CLAIM}, {"prepare", ACT_PREPARE}, {"attach", ACT_ATTACH},
    {"guest", ACT_GUEST}, {"server", ACT_SERVER},   {"done", ACT_NONE},
};

static const struct sw_step to_server_steps[] = {
    {"check", ACT_NONE},    {"server", ACT_SERVER},   {"guest", ACT_GUEST},
    {"detach", ACT_ATTACH}, {"release", ACT_PREPARE}, {"done", ACT_CLAIM},
};

enum sw_fault { FAULT_NONE, FAULT_FAIL, FAULT_STALL };

struct switch_op {
	struct domain *d; /* NULL once abandoned */
	unsigned id;
	int dir; /* +1: to direct, -1: to server */
	const struct sw_step *steps;
	size_t next;		   /* forward: the next step to begin */
	size_t begun;		   /* steps begun, for the undo */
	const struct sw_step *cur; /* the step (or undo) in flight */
	int cur_dir;		   /* the direction cur's action is taken in */
	int rolling_back;
	unsigned timeout_ms;
	struct event *tick, *timer;
	struct lt_xs_watch *watch;
	int backend_busy; /* a backend call is out: wait for it */
	int timed_out;
	unsigned want_seq;	/* ACT_GUEST: the seq the agent must ack */
	const char *fault_step; /* a static step name */
	enum sw_fault fault;
	int stalled; /* the fault step is done but ignored: await the timer */
	/* The outcome. */
	int failed, undo_failed;
	char failed_step[16];
	struct lt_error err;
	struct timespec started, step_started;
	struct json_object *times; /* [{step, ms}] */
};

static const char *target_name(int dir)
{
	return dir > 0 ? LT_PATH_DIRECT : LT_PATH_SERVER;
}

static struct json_object *switch_event_data(struct switch_op *sw)
{
	struct json_object *data = domain_event_data(sw->d);

	json_object_object_add(data, "op", json_object_new_int64(sw->id));
	json_object_object_add(data, "to",
			       json_object_new_string(target_name(sw->dir)));
	return data;
}

static void step_event(struct switch_op *sw, const char *msg)
{
	struct json_object *data = switch_event_data(sw);
	double ms = lt_ms_since(&sw->step_started);

	json_object_object_add(data, "step",
			       json_object_new_string(sw->cur->name));
	json_object_object_add(data, "undo",
			       json_object_new_boolean(sw->rolling_back));
	json_object_object_add(data, "ms", lt_ms_json(ms));
	json_object_object_add(data, "message", json_object_new_string(msg));
	if (!sw->rolling_back) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "step",
				       json_object_new_string(sw->cur->name));
		json_object_object_add(t, "ms", lt_ms_json(ms));
		json_object_array_add(sw->times, t);
	}
	log_info("switch %s/%s to %s: %s%s: %s (%.3f ms)", sw->d->dep->name,
		 sw->d->be.name, target_name(sw->dir),
		 sw->rolling_back ? "undo " : "", sw->cur->name, msg, ms);
	engine_emit(sw->d->dep->engine, LT_EV_SWITCH_STEP, data);
}

/* --- xenstore ------------------------------------------------------------ */

static void guest_path(const struct domain *d, const char *leaf, char *buf)
{
	snprintf(buf, PATH_LEN, LT_XS_GUEST_FMT "/%s", d->domid, leaf);
}

static void server_app_path(const struct domain *d, const char *leaf, char *buf)
{
	struct domain *s = deployment_server(d->dep);

	snprintf(buf, PATH_LEN, LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS "/%u/%s",
		 s != NULL ? s->domid : 0, d->domid, leaf);
}

static int vf_owner_write(struct domain *d, int vf, const char *owner)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_POOL_VF_FMT "/%d", d->dep->name, vf);
	return lt_xs_printf(d->dep->engine->xs, XBT_NULL, path, "%s", owner);
}

struct guest_request {
	struct domain *d;
	const char *target;
	unsigned seq;
};

/* Past every seq written so far: the daemon's count may lag xenstore's
 * after a crash, and an agent ignores a seq it has answered. */
static unsigned next_seq(struct domain *d)
{
	char path[PATH_LEN];
	char *v;
	unsigned seq = d->switch_seq, written;

	guest_path(d, LT_XS_SWITCH_SEQ, path);
	v = lt_xs_read(d->dep->engine->xs, XBT_NULL, path);
	if (v != NULL && xs_uint_parse(v, &written) == 0 && written > seq &&
	    written < UINT_MAX)
		seq = written;
	free(v);
	return seq + 1;
}

static int guest_request_body(struct lt_xs *xs, xs_transaction_t t, void *arg)
{
	struct guest_request *r = arg;
	char path[PATH_LEN];

	guest_path(r->d, LT_XS_SWITCH_VF, path);
	if (lt_xs_printf(xs, t, path, "%s", LT_VF_NETDEV) < 0)
		return -1;
	guest_path(r->d, LT_XS_SWITCH_TARGET, path);
	if (lt_xs_printf(xs, t, path, "%s", r->target) < 0)
		return -1;
	guest_path(r->d, LT_XS_SWITCH_SEQ, path);
	return lt_xs_printf(xs, t, path, "%u", r->seq);
}

/* --- running the steps --------------------------------------------------- */

static void sw_schedule(struct switch_op *sw)
{
	event_active(sw->tick, 0, 0);
}

static void sw_stop_waiting(struct switch_op *sw)
{
	evtimer_del(sw->timer);
	if (sw->watch != NULL) {
		lt_xs_unwatch(sw->d->dep->engine->xs, sw->watch);
		sw->watch = NULL;
	}
}

/* The current step (or undo) ended: why is NULL or the reason it failed. */
static void sw_step_end(struct switch_op *sw, const char *why)
{
	char msg[320];

	if (why == NULL && !sw->rolling_back && !sw->timed_out &&
	    sw->fault != FAULT_NONE &&
	    strcmp(sw->fault_step, sw->cur->name) == 0) {
		if (sw->fault == FAULT_STALL) {
			/* Done, but as if its acknowledgement were lost: the
			 * step's timer, still running, decides. */
			sw->stalled = 1;
			if (sw->watch != NULL) {
				lt_xs_unwatch(sw->d->dep->engine->xs,
					      sw->watch);
				sw->watch = NULL;
			}
			return;
		}
		why = "injected fault (librettod --test-faults)";
	}
	sw_stop_waiting(sw);
	if (why == NULL && sw->timed_out)
		why = "timed out";
	if (why == NULL) {
		step_event(sw, sw->rolling_back ? "undone" : "done");
		sw->cur = NULL;
		sw_schedule(sw);
		return;
	}
	snprintf(msg, sizeof(msg), "failed: %s", why);
	step_event(sw, msg);
	if (sw->rolling_back) {
		sw->undo_failed = 1;
		log_err("switch %u: undo of %s failed: %s; going on", sw->id,
			sw->cur->name, why);
	} else {
		sw->failed = 1;
		snprintf(sw->failed_step, sizeof(sw->failed_step), "%s",
			 sw->cur->name);
		lt_error_set(&sw->err, LT_ERR_BACKEND, "step %s: %s",
			     sw->cur->name, why);
		sw->rolling_back = 1;
	}
	sw->cur = NULL;
	sw_schedule(sw);
}

static void sw_backend_done(void *arg, int err, const char *msg)
{
	struct switch_op *sw = arg;

	sw->backend_busy = 0;
	if (sw->d == NULL) { /* abandoned while the call was out */
		free(sw);
		return;
	}
	sw_step_end(sw, err ? (msg ? msg : strerror(err)) : NULL);
}

static void sw_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct switch_op *sw = arg;
	char why[80];

	(void)fd;
	(void)what;
	sw->timed_out = 1;
	if (sw->backend_busy)
		return; /* its undo must not race it: wait for its end */
	snprintf(why, sizeof(why), "timed out after %u ms%s", sw->timeout_ms,
		 sw->stalled ? " (stalled by librettod --test-faults)" : "");
	sw_step_end(sw, why);
}

/* ACT_GUEST: has the agent acted on our seq? */
static void guest_check(void *arg, const char *path)
{
	struct switch_op *sw = arg;
	char node[PATH_LEN], why[64 + GUEST_TEXT_MAX];
	const char *want = sw->cur_dir > 0 ? LT_GUEST_DIRECT : LT_GUEST_READY;
	const char *state;
	char *error;
	uint64_t seq;

	(void)path; /* no ordering is promised: re-read */
	/* The agent's nodes, through their grammar (guest_input.h). */
	guest_path(sw->d, LT_XS_GUEST_SEQ, node);
	if (guest_read_u64(sw->d, node, UINT_MAX, &seq) < 0 ||
	    seq != sw->want_seq)
		return;
	guest_path(sw->d, LT_XS_GUEST_STATE, node);
	state = guest_read_token(sw->d, node, guest_states);
	if (state != NULL && strcmp(state, want) == 0) {
		sw_step_end(sw, NULL);
		return;
	}
	guest_path(sw->d, LT_XS_GUEST_ERROR, node);
	error = guest_read_text(sw->d, node);
	snprintf(why, sizeof(why), "the agent stayed %s: %s",
		 state ? state : "(no state)",
		 error && *error ? error : "no reason given");
	free(error);
	sw_step_end(sw, why);
}

/* What the network server may write in server/apps/<domid>/acked. */
static const char *const acked_values[] = {"0", "1", NULL};

/* ACT_SERVER: has the server applied our active? */
static void server_check(void *arg, const char *path)
{
	struct switch_op *sw = arg;
	struct domain *s = deployment_server(sw->d->dep);
	char node[PATH_LEN];
	const char *acked;

	(void)path;
	if (s == NULL)
		return;
	/* The server wrote it: through its grammar (guest_input.h). */
	server_app_path(sw->d, LT_XS_APP_ACKED, node);
	acked = guest_read_token(s, node, acked_values);
	if (acked != NULL && strcmp(acked, sw->cur_dir > 0 ? "0" : "1") == 0)
		sw_step_end(sw, NULL);
}

static int claim_vf(struct switch_op *sw, char **why)
{
	struct domain *d = sw->d;
	struct deployment *dep = d->dep;
	unsigned n =
	    dep->be.net->vfs < LT_MAX_VFS ? dep->be.net->vfs : LT_MAX_VFS;

	if (d->vf >= 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		if (dep->vf_owner[i][0] != '\0')
			continue;
		if (vf_owner_write(d, (int)i, d->be.name) < 0) {
			*why = lt_strdupf("xenstore: pool/vf/%u: %s", i,
					  strerror(errno));
			return -1;
		}
		snprintf(dep->vf_owner[i], sizeof(dep->vf_owner[i]), "%s",
			 d->be.name);
		d->vf = (int)i;
		return 0;
	}
	*why = lt_strdupf("no free VF in %s (%u in use)", dep->name, n);
	return -1;
}

static void release_vf(struct switch_op *sw)
{
	struct domain *d = sw->d;

	if (d->vf < 0)
		return;
	if (vf_owner_write(d, d->vf, "") < 0)
		log_warn("xenstore: pool/vf/%d: %s", d->vf, strerror(errno));
	d->dep->vf_owner[d->vf][0] = '\0';
	d->vf = -1;
}

/* Takes action a in direction dir; 0 when it is under way (or done, with
 * sw_step_end scheduled), -1 with *why when it could not begin. */
static int action_begin(struct switch_op *sw, enum sw_action a, int dir,
			char **why)
{
	struct domain *d = sw->d;
	struct engine *e = d->dep->engine;
	struct backend *be = e->backend;
	char node[PATH_LEN];
	int (*vf_op)(struct backend *, struct be_domain *, int, lt_done_fn,
		     void *, char **) = NULL;

	switch (a) {
	case ACT_NONE:
		sw_step_end(sw, NULL);
		return 0;
	case ACT_CLAIM:
		if (dir > 0 && claim_vf(sw, why) < 0)
			return -1;
		if (dir < 0)
			release_vf(sw);
		sw_step_end(sw, NULL);
		return 0;
	case ACT_PREPARE:
		vf_op = dir > 0 ? be->ops->vf_prepare : be->ops->vf_release;
		break;
	case ACT_ATTACH:
		vf_op = dir > 0 ? be->ops->vf_attach : be->ops->vf_detach;
		break;
	case ACT_GUEST: {
		struct guest_request r = {
		    d, dir > 0 ? LT_SWITCH_TO_DIRECT : LT_SWITCH_TO_SERVER,
		    next_seq(d)};

		if (lt_xs_transact(e->xs, guest_request_body, &r) < 0) {
			*why = lt_strdupf("xenstore: switch/: %s",
					  strerror(errno));
			return -1;
		}
		d->switch_seq = sw->want_seq = r.seq;
		guest_path(d, LT_XS_GUEST_SEQ, node);
		sw->watch = lt_xs_watch(e->xs, node, guest_check, sw);
		break;
	}
	case ACT_SERVER:
		if (deployment_server(d->dep) == NULL) {
			*why = lt_strdupf("the network server is gone");
			return -1;
		}
		server_app_path(d, LT_XS_APP_ACTIVE, node);
		if (lt_xs_printf(e->xs, XBT_NULL, node, "%s",
				 dir > 0 ? "0" : "1") < 0) {
			*why = lt_strdupf("xenstore: %s: %s", node,
					  strerror(errno));
			return -1;
		}
		server_app_path(d, LT_XS_APP_ACKED, node);
		sw->watch = lt_xs_watch(e->xs, node, server_check, sw);
		break;
	}
	if (a == ACT_GUEST || a == ACT_SERVER) {
		/* The watch fires once at once: the check runs then too. */
		if (sw->watch == NULL) {
			*why = lt_strdupf("xenstore: watch %s: %s", node,
					  strerror(errno));
			return -1;
		}
		return 0;
	}
	if (vf_op == NULL) {
		*why =
		    lt_strdupf("the %s backend cannot switch", be->ops->name);
		return -1;
	}
	sw->backend_busy = 1;
	if (vf_op(be, &d->be, d->vf, sw_backend_done, sw, why) < 0) {
		sw->backend_busy = 0;
		return -1;
	}
	return 0;
}

static void sw_finish(struct switch_op *sw);

static void sw_tick(evutil_socket_t fd, short what, void *arg)
{
	struct switch_op *sw = arg;
	struct timeval tv = {sw->timeout_ms / 1000,
			     (sw->timeout_ms % 1000) * 1000};
	char *why = NULL;

	(void)fd;
	(void)what;
	if (sw->cur != NULL)
		return;
	for (;;) {
		const struct sw_step *s;
		int dir;

		if (sw->rolling_back) {
			if (sw->begun == 0)
				break;
			s = &sw->steps[--sw->begun];
			dir = -sw->dir;
		} else {
			if (sw->next == SWITCH_STEPS_MAX)
				break;
			s = &sw->steps[sw->next++];
			sw->begun = sw->next;
			dir = sw->dir;
		}
		if (s->action == ACT_NONE && sw->rolling_back)
			continue;
		sw->cur = s;
		sw->cur_dir = dir;
		sw->timed_out = 0;
		sw->stalled = 0;
		clock_gettime(CLOCK_MONOTONIC, &sw->step_started);
		evtimer_add(sw->timer, &tv);
		if (action_begin(sw, s->action, dir, &why) == 0)
			return;
		sw_step_end(sw, why ? why : "could not begin");
		free(why);
		why = NULL;
		return;
	}
	sw_finish(sw);
}

static void sw_free(struct switch_op *sw)
{
	event_free(sw->tick);
	event_free(sw->timer);
	json_object_put(sw->times);
	lt_error_clear(&sw->err);
	if (sw->backend_busy)
		sw->d = NULL; /* sw_backend_done frees it */
	else
		free(sw);
}

static void sw_finish(struct switch_op *sw)
{
	struct domain *d = sw->d;
	struct json_object *data = switch_event_data(sw);
	double ms = lt_ms_since(&sw->started);

	d->sw = NULL;
	d->dep->switching--;
	if (!sw->failed)
		d->on_vf = sw->dir > 0;
	state_changed(d->dep->engine);
	json_object_object_add(
	    data, "path",
	    json_object_new_string(d->on_vf ? LT_PATH_DIRECT : LT_PATH_SERVER));
	json_object_object_add(data, "vf",
			       d->vf >= 0 ? json_object_new_int(d->vf) : NULL);
	json_object_object_add(data, "elapsed_ms", lt_ms_json(ms));
	json_object_object_add(data, "steps", json_object_get(sw->times));
	if (sw->failed) {
		struct json_object *err = json_object_new_object();

		json_object_object_add(err, "class",
				       json_object_new_string(sw->err.class));
		json_object_object_add(err, "message",
				       json_object_new_string(sw->err.message));
		json_object_object_add(data, "step",
				       json_object_new_string(sw->failed_step));
		json_object_object_add(data, "error", err);
		json_object_object_add(
		    data, "rolled_back",
		    json_object_new_boolean(!sw->undo_failed));
		log_warn("switch %s/%s to %s failed after %.3f ms: %s%s",
			 d->dep->name, d->be.name, target_name(sw->dir), ms,
			 sw->err.message,
			 sw->undo_failed ? "; the undo failed too" : "");
		engine_emit(d->dep->engine, LT_EV_SWITCH_FAILED, data);
	} else {
		log_info("switch %s/%s to %s done in %.3f ms", d->dep->name,
			 d->be.name, target_name(sw->dir), ms);
		engine_emit(d->dep->engine, LT_EV_SWITCH_DONE, data);
	}
	sw_free(sw);
}

void switch_abandon(struct domain *d)
{
	struct switch_op *sw = d->sw;

	if (sw == NULL)
		return;
	sw_stop_waiting(sw);
	d->sw = NULL;
	d->dep->switching--;
	sw_free(sw);
}

unsigned switch_op_id(const struct domain *d)
{
	return d->sw->id;
}

/* --- the request --------------------------------------------------------- */

static struct domain *find_app(struct engine *e, const char *dep_name,
			       const char *name, struct lt_error *err)
{
	struct deployment *dep;
	struct domain *found = NULL, *d;

	TAILQ_FOREACH(dep, &e->deployments, entry)
	{
		if (dep_name != NULL && strcmp(dep->name, dep_name) != 0)
			continue;
		if ((d = domain_find(dep, name)) == NULL || d->be.is_server)
			continue;
		if (found != NULL) {
			lt_error_set(err, LT_ERR_BAD_ARGUMENT,
				     "deployments %s and %s both have an app "
				     "'%s': name the deployment",
				     found->dep->name, dep->name, name);
			lt_error_set_field(err, "args.deployment");
			return NULL;
		}
		found = d;
	}
	if (found == NULL) {
		if (dep_name != NULL && engine_find(e, dep_name) == NULL)
			lt_error_set(err, LT_ERR_NOT_FOUND,
				     "no deployment '%s'", dep_name);
		else
			lt_error_set(err, LT_ERR_NOT_FOUND, "no app '%s'%s%s",
				     name, dep_name ? " in deployment " : "",
				     dep_name ? dep_name : "");
	}
	return found;
}

/* Arms sw and starts it on the loop; -1 (sw freed) out of memory. */
static int sw_start(struct engine *e, struct domain *d, struct switch_op *sw)
{
	sw->tick = event_new(e->base, -1, 0, sw_tick, sw);
	sw->timer = evtimer_new(e->base, sw_timeout, sw);
	sw->times = json_object_new_array();
	if (sw->tick == NULL || sw->timer == NULL || sw->times == NULL) {
		sw_free(sw);
		return -1;
	}
	sw->id = ++e->next_op;
	clock_gettime(CLOCK_MONOTONIC, &sw->started);
	d->sw = sw;
	d->dep->switching++;
	state_changed(e);
	sw_schedule(sw);
	return 0;
}

static const struct sw_step *find_step(const struct sw_step *steps,
				       const char *name)
{
	for (size_t i = 0; i < SWITCH_STEPS_MAX; i++)
		if (strcmp(steps[i].name, name) == 0)
			return &steps[i];
	return NULL;
}

static void reply(struct json_object **result, struct domain *d,
		  struct switch_op *sw, const char *to)
{
	*result = json_object_new_object();
	json_object_object_add(*result, "op",
			       sw ? json_object_new_int64(sw->id) : NULL);
	json_object_object_add(*result, "deployment",
			       json_object_new_string(d->dep->name));
	json_object_object_add(*result, "domain",
			       json_object_new_string(d->be.name));
	json_object_object_add(*result, "to", json_object_new_string(to));
	json_object_object_add(*result, "changed",
			       json_object_new_boolean(sw != NULL));
}

/* Why d cannot switch now, or NULL. */
static int refuse(struct domain *d, int dir, struct lt_error *err)
{
	struct deployment *dep = d->dep;

	if (d->spec.mode != LT_MODE_DYNAMIC) {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT,
			     "%s is a %s-mode app: only dynamic apps switch",
			     d->be.name, lt_mode_name(d->spec.mode));
		lt_error_set_field(err, "args.domain");
		return -1;
	}
	if (d->sw != NULL) {
		lt_error_set(err, LT_ERR_BUSY,
			     "%s: switch %u (to %s) is in flight", d->be.name,
			     d->sw->id, target_name(d->sw->dir));
		return -1;
	}
	if (dep->op != NULL) {
		lt_error_set(err, LT_ERR_BUSY,
			     "deployment %s: operation %u is in flight",
			     dep->name, dep->op->id);
		return -1;
	}
	if (d->state != DOM_RUNNING) {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT, "%s is %s, not running",
			     d->be.name, domain_state_name(d->state));
		lt_error_set_field(err, "args.domain");
		return -1;
	}
	if (deployment_server(dep) == NULL ||
	    deployment_server(dep)->state != DOM_RUNNING) {
		lt_error_set(err, LT_ERR_BACKEND,
			     "the network server of %s is not running",
			     dep->name);
		return -1;
	}
	if (dep->engine->backend->ops->vf_prepare == NULL) {
		lt_error_set(err, LT_ERR_BACKEND,
			     "the %s backend cannot switch",
			     dep->engine->backend->ops->name);
		return -1;
	}
	if (dir > 0 && d->vf < 0) {
		unsigned n = dep->be.net->vfs < LT_MAX_VFS ? dep->be.net->vfs
							   : LT_MAX_VFS;
		unsigned used = 0;

		for (unsigned i = 0; i < n; i++)
			used += dep->vf_owner[i][0] != '\0';
		if (used == n) {
			lt_error_set(err, LT_ERR_RESOURCE,
				     "no free VF in %s: %u of %u in use",
				     dep->name, used, n);
			return -1;
		}
	}
	return 0;
}

int engine_switch(struct engine *e, const struct switch_request *req,
		  struct json_object **result, struct lt_error *err)
{
	struct switch_op *sw;
	struct domain *d;
	int dir;

	if (strcmp(req->to, LT_PATH_DIRECT) == 0)
		dir = 1;
	else if (strcmp(req->to, LT_PATH_SERVER) == 0)
		dir = -1;
	else {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT,
			     "to must be \"%s\" or \"%s\"", LT_PATH_DIRECT,
			     LT_PATH_SERVER);
		lt_error_set_field(err, "args.to");
		return -1;
	}
	if (!engine_backend_usable(e, err) ||
	    (d = find_app(e, req->deployment, req->domain, err)) == NULL)
		return -1;
	if (refuse(d, dir, err) < 0)
		return -1;
	if ((dir > 0) == (d->on_vf != 0)) {
		reply(result, d, NULL, req->to); /* already there */
		return 0;
	}
	sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		goto nomem;
	sw->d = d;
	sw->dir = dir;
	sw->steps = dir > 0 ? to_direct_steps : to_server_steps;
	sw->timeout_ms =
	    req->timeout_ms ? req->timeout_ms : SWITCH_STEP_TIMEOUT_MS;
	if (req->fault_step != NULL) {
		if (find_step(sw->steps, req->fault_step) == NULL) {
			lt_error_set(err, LT_ERR_BAD_ARGUMENT,
				     "no step '%s' in a switch to %s",
				     req->fault_step, req->to);
			lt_error_set_field(err, "args.fault_step");
			free(sw);
			return -1;
		}
		sw->fault_step = find_step(sw->steps, req->fault_step)->name;
		sw->fault = req->fault_kind != NULL &&
				    strcmp(req->fault_kind, "stall") == 0
				? FAULT_STALL
				: FAULT_FAIL;
	}
	if (sw_start(e, d, sw) < 0)
		goto nomem;
	reply(result, d, sw, req->to);
	json_object_object_add(*result, "from",
			       json_object_new_string(target_name(-dir)));
	sw_schedule(sw);
	return 0;
nomem:
	lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
	return -1;
}

/* --- after a daemon restart ---------------------------------------------- */

/*
 * The VF the pool names d's, or -1 (xenstore is the truth after a crash).
 * Only dom0 writes the pool, but a corrupted or hand-edited store may
 * name anything: an id that is not one of the deployment's VFs (99999,
 * -1, abc, 07), or one the state file gives another app, is ignored.
 */
static int pool_vf_of(struct domain *d)
{
	struct deployment *dep = d->dep;
	struct lt_xs *xs = dep->engine->xs;
	unsigned limit = dep->spec != NULL && dep->spec->net.vfs < LT_MAX_VFS
			     ? dep->spec->net.vfs
			     : LT_MAX_VFS;
	char path[PATH_LEN];
	char **ids;
	int found = -1;

	snprintf(path, sizeof(path), LT_XS_POOL_VF_FMT, dep->name);
	ids = lt_xs_list(xs, XBT_NULL, path);
	for (size_t i = 0; ids != NULL && ids[i] != NULL && found < 0; i++) {
		char node[PATH_LEN];
		char *owner;
		int vf;

		snprintf(node, sizeof(node), "%.200s/%.40s", path, ids[i]);
		owner = lt_xs_read(xs, XBT_NULL, node);
		if (owner == NULL || strcmp(owner, d->be.name) != 0) {
			free(owner);
			continue;
		}
		free(owner);
		vf = xs_index_parse(ids[i], limit);
		if (vf < 0) {
			/* Never one the daemon wrote: it goes. */
			log_warn("switch of %s/%s: the pool names VF "
				 "\"%.40s\", not one of the deployment's %u: "
				 "removed",
				 dep->name, d->be.name, ids[i], limit);
			lt_xs_rm(xs, XBT_NULL, node);
			continue;
		}
		if (dep->vf_owner[vf][0] != '\0' &&
		    strcmp(dep->vf_owner[vf], d->be.name) != 0) {
			log_warn("switch of %s/%s: the pool names VF %d, which "
				 "the state file gives %s: ignored",
				 dep->name, d->be.name, vf, dep->vf_owner[vf]);
			continue;
		}
		found = vf;
	}
	free(ids);
	return found;
}

static char *guest_read(struct domain *d, const char *leaf)
{
	char path[PATH_LEN];

	guest_path(d, leaf, path);
	return lt_xs_read(d->dep->engine->xs, XBT_NULL, path);
}

/*
 * What the nodes say of a switch the crash interrupted, and what to do:
 * when the step the guest acknowledges last is done, the switch is
 * completed from the step after it; otherwise every step it may have
 * begun is undone (each undo is safe whatever state it finds).
 */
void switch_resolve(struct domain *d)
{
	struct engine *e = d->dep->engine;
	struct domain *s = deployment_server(d->dep);
	char *target = guest_read(d, LT_XS_SWITCH_TARGET);
	char node[PATH_LEN];
	const char *state, *acked = NULL;
	int vf = pool_vf_of(d), dir, from, rollback;
	int on_direct, on_ready;
	struct switch_op *sw;

	/* What the guest and the server wrote, through their grammar. */
	guest_path(d, LT_XS_GUEST_STATE, node);
	state = guest_read_token(d, node, guest_states);
	on_direct = state != NULL && strcmp(state, LT_GUEST_DIRECT) == 0;
	on_ready = state != NULL && strcmp(state, LT_GUEST_READY) == 0;
	server_app_path(d, LT_XS_APP_ACKED, node);
	if (s != NULL)
		acked = guest_read_token(s, node, acked_values);
	if (vf >= 0 && vf < LT_MAX_VFS) {
		snprintf(d->dep->vf_owner[vf], sizeof(d->dep->vf_owner[vf]),
			 "%s", d->be.name);
		d->vf = vf;
	}
	if (target != NULL && strcmp(target, LT_SWITCH_TO_DIRECT) == 0) {
		dir = 1;
		if (on_direct && acked != NULL && strcmp(acked, "0") == 0 &&
		    vf >= 0)
			from = SWITCH_STEPS_MAX, rollback = 0; /* done */
		else if (on_direct && vf >= 0)
			from = 4, rollback = 0; /* the server step is left */
		else
			from = 4, rollback = 1;
	} else if (target != NULL && strcmp(target, LT_SWITCH_TO_SERVER) == 0) {
		dir = -1;
		if (on_ready && vf < 0)
			from = SWITCH_STEPS_MAX, rollback = 0; /* done */
		else if (on_ready)
			from = 3, rollback = 0; /* detach, release, done */
		else
			from = 3, rollback = 1;
	} else {
		/* Never asked of the guest: only a VF claimed before. */
		dir = 1;
		from = vf >= 0 ? 3 : SWITCH_STEPS_MAX;
		rollback = vf >= 0;
	}
	free(target);
	if (from == SWITCH_STEPS_MAX) {
		d->on_vf = dir > 0 && vf >= 0;
		log_info("switch of %s/%s: on %s after the restart, nothing in "
			 "flight",
			 d->dep->name, d->be.name,
			 d->on_vf ? LT_PATH_DIRECT : LT_PATH_SERVER);
		return;
	}
	sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		return;
	sw->d = d;
	sw->dir = dir;
	sw->steps = dir > 0 ? to_direct_steps : to_server_steps;
	sw->timeout_ms = SWITCH_STEP_TIMEOUT_MS;
	sw->next = sw->begun = (size_t)from;
	/* The path it left, until the switch says otherwise. */
	d->on_vf = dir < 0;
	if (rollback) {
		sw->rolling_back = 1;
		sw->failed = 1;
		snprintf(sw->failed_step, sizeof(sw->failed_step), "%s",
			 sw->steps[from - 1].name);
		lt_error_set(&sw->err, LT_ERR_BACKEND,
			     "interrupted by a restart of librettod: rolled "
			     "back");
	}
	log_info("switch of %s/%s to %s was in flight: %s", d->dep->name,
		 d->be.name, target_name(dir),
		 rollback ? "rolling it back" : "completing it");
	if (sw_start(e, d, sw) < 0)
		log_err("switch of %s/%s: out of memory", d->dep->name,
			d->be.name);
}
