/*
 * Restarts by policy (docs/recovery.md): a domain that ended is started
 * again -- a new domain, as Xen's on_crash=restart makes one -- when its
 * policy (restart: always | on-failure | never) says so, at most `limit`
 * times within `window_s` seconds; past that the daemon gives up, reports
 * it, and releases what the domain held.
 *
 * A restart that follows a quick end waits: RESTART_BACKOFF_FIRST_MS,
 * doubling with every further quick end, up to RESTART_BACKOFF_MAX_MS; a
 * domain that stayed up RESTART_STABLE_MS is restarted at once again, and
 * so is a network server whose last recovery completed: every app's VIF
 * connected to it shows it works, however soon it is killed after.
 * Without it a domain that dies at start would be recreated back to back,
 * up to its restart_limit, as fast as the backend goes (systemd's
 * RestartSteps= spaces a unit's restarts the same way).
 *
 * A new network server is the recovery of issue 5: the apps keep their
 * TCP connections, their agents reconnect their VIFs to it, and the
 * downtime -- from the old server's end noticed to every VIF connected
 * again -- is measured from the new server's server/apps/<domid>/vif-state
 * nodes and reported as server-recovered.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "engine.h"
#include "engine_internal.h"
#include "guest_input.h"
#include "ippool.h"
#include "log.h"
#include "op.h"
#include "ports.h"
#include "timing.h"
#include "util.h"
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

#define RESTART_RETRY_MS    50
#define RECOVERY_TIMEOUT_MS 10000
#define VIF_STATE_CONNECTED "4"
#define PATH_LEN	    256

/* The back-off (docs/recovery.md): 50 ms, 100 ms, ... 30 s at most. */
#define RESTART_BACKOFF_FIRST_MS 50
#define RESTART_BACKOFF_MAX_MS	 30000
#define RESTART_STABLE_MS	 10000

/* The restarts within the policy's window, oldest first, and the
 * back-off: the quick ends in a row, and when the last restart ran. */
struct restart_log {
	unsigned streak;   /* restarts in a row that did not stay up */
	unsigned delay_ms; /* the wait before the restart in flight */
	int ran;	   /* running_since is valid */
	struct timespec running_since;
	size_t n, cap;
	struct timespec at[];
};

/* A new server's apps whose VIFs are not yet connected to it. */
struct recovery {
	struct deployment *dep;
	struct timespec ended_at, server_at;
	unsigned old_domid, new_domid;
	struct event *timeout;
	size_t napps, pending;
	struct recovery_app {
		struct recovery *r;
		struct domain *d;
		struct lt_xs_watch *watch;
		double ms; /* < 0 while not connected */
	} apps[];
};

const struct lt_restart_policy *restart_policy(const struct domain *d)
{
	const struct lt_deployment *spec = d->dep->spec;

	/* The file in force: a redeploy may have changed only the policy. */
	if (spec != NULL && d->be.is_server)
		return &spec->server.restart;
	for (size_t i = 0; spec != NULL && i < spec->napps; i++)
		if (strcmp(spec->apps[i].name, d->be.name) == 0)
			return &spec->apps[i].restart;
	return &d->spec.restart;
}

/* Counts now in d's log, dropping what is older than the window; 0 when
 * the limit is reached (nothing recorded then). */
static int restart_log_add(struct domain *d, const struct lt_restart_policy *p,
			   const struct timespec *now)
{
	struct restart_log *log = d->restarts;
	size_t keep = 0;

	for (size_t i = 0; log != NULL && i < log->n; i++)
		if (lt_ms_between(&log->at[i], now) < p->window_s * 1000.0)
			log->at[keep++] = log->at[i];
	if (log != NULL)
		log->n = keep;
	if (keep >= p->limit)
		return 0;
	if (log == NULL || log->n == log->cap) {
		size_t cap = log ? log->cap * 2 : 8;
		struct restart_log *nl =
		    realloc(log, sizeof(*nl) + cap * sizeof(nl->at[0]));

		if (nl == NULL)
			return 0;
		if (log == NULL)
			*nl = (struct restart_log){0};
		nl->cap = cap;
		d->restarts = log = nl;
	}
	log->at[log->n++] = *now;
	return 1;
}

/*
 * The wait before restarting d, which ended at now: 0 for the first end
 * in a row, then RESTART_BACKOFF_FIRST_MS doubling per quick end up to
 * RESTART_BACKOFF_MAX_MS. A domain that stayed up RESTART_STABLE_MS since
 * its last restart starts a new series. Called after restart_log_add.
 */
static unsigned restart_backoff(struct domain *d, const struct timespec *now)
{
	struct restart_log *log = d->restarts;
	unsigned delay = RESTART_BACKOFF_FIRST_MS;

	if (log == NULL)
		return 0;
	if (!log->ran ||
	    lt_ms_between(&log->running_since, now) >= RESTART_STABLE_MS)
		log->streak = 0;
	for (unsigned i = 1; i < log->streak && delay < RESTART_BACKOFF_MAX_MS;
	     i++)
		delay *= 2;
	if (delay > RESTART_BACKOFF_MAX_MS)
		delay = RESTART_BACKOFF_MAX_MS;
	log->delay_ms = log->streak == 0 ? 0 : delay;
	log->streak++;
	log->ran = 0;
	return log->delay_ms;
}

/* Arms d's one timer (the back-off, or the wait for a busy deployment)
 * to call cb in ms; a timer left armed for another cb is replaced. */
static void retry_later(struct domain *d, event_callback_fn cb, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (d->restart_retry != NULL &&
	    event_get_callback(d->restart_retry) != cb) {
		event_free(d->restart_retry);
		d->restart_retry = NULL;
	}
	if (d->restart_retry == NULL)
		d->restart_retry = evtimer_new(d->dep->engine->base, cb, d);
	if (d->restart_retry != NULL)
		evtimer_add(d->restart_retry, &tv);
}

void restart_forget(struct domain *d)
{
	free(d->restarts);
	d->restarts = NULL;
	if (d->restart_retry != NULL) {
		event_free(d->restart_retry);
		d->restart_retry = NULL;
	}
}

/* --- the recovery of the apps' VIFs ------------------------------------- */

void recovery_free(struct deployment *dep)
{
	struct recovery *r = dep->recovery;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->napps; i++)
		if (r->apps[i].watch != NULL)
			lt_xs_unwatch(dep->engine->xs, r->apps[i].watch);
	event_free(r->timeout);
	free(r);
	dep->recovery = NULL;
}

/* The new server forwards for every app: its next end, however soon,
 * is not the crash loop the back-off is for. */
static void recovery_proven(struct recovery *r)
{
	struct domain *d;

	if (r->napps == 0)
		return; /* nothing shows it works: the stable time decides */
	TAILQ_FOREACH(d, &r->dep->domains, entry)
	{
		if (d->be.is_server && d->domid == r->new_domid &&
		    d->restarts != NULL)
			d->restarts->streak = 0;
	}
}

static void recovery_report(struct recovery *r, int complete)
{
	struct deployment *dep = r->dep;
	struct json_object *data = json_object_new_object();
	struct json_object *apps = json_object_new_object();
	struct timespec now;
	double downtime;

	clock_gettime(CLOCK_MONOTONIC, &now);
	downtime = lt_ms_between(&r->ended_at, &now);
	for (size_t i = 0; i < r->napps; i++)
		json_object_object_add(
		    apps, r->apps[i].d->be.name,
		    r->apps[i].ms >= 0 ? lt_ms_json(r->apps[i].ms) : NULL);
	json_object_object_add(data, "deployment",
			       json_object_new_string(dep->name));
	json_object_object_add(data, "old_domid",
			       json_object_new_int64(r->old_domid));
	json_object_object_add(data, "domid",
			       json_object_new_int64(r->new_domid));
	json_object_object_add(data, "complete",
			       json_object_new_boolean(complete));
	json_object_object_add(
	    data, "server_ms",
	    lt_ms_json(lt_ms_between(&r->ended_at, &r->server_at)));
	json_object_object_add(data, "downtime_ms", lt_ms_json(downtime));
	json_object_object_add(data, "apps", apps);
	if (complete) {
		log_info("%s: network server recovered: forwarding again %.3f "
			 "ms after the old one's end",
			 dep->name, downtime);
		recovery_proven(r);
	} else
		log_warn("%s: network server restarted, but %zu app(s) did "
			 "not reconnect within %d ms",
			 dep->name, r->pending, RECOVERY_TIMEOUT_MS);
	engine_emit(dep->engine, LT_EV_SERVER_RECOVERED, data);
	recovery_free(dep);
}

static void recovery_vif_changed(void *arg, const char *path)
{
	/* The XenbusState numbers the server may write. */
	static const char *const vif_states[] = {"0", "1", "2", "3", "4",
						 "5", "6", "7", "8", NULL};
	struct recovery_app *a = arg;
	struct recovery *r = a->r;
	struct domain *s = deployment_server(r->dep);
	char node[PATH_LEN];
	const char *state;
	struct timespec now;

	(void)path;
	if (a->ms >= 0 || s == NULL || s->domid != r->new_domid)
		return;
	snprintf(node, sizeof(node),
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS
				 "/%u/" LT_XS_APP_VIF_STATE,
		 r->new_domid, a->d->domid);
	/* The server wrote it: through its grammar (guest_input.h). */
	state = guest_read_token(s, node, vif_states);
	if (state != NULL && strcmp(state, VIF_STATE_CONNECTED) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		a->ms = lt_ms_between(&r->ended_at, &now);
		if (--r->pending == 0)
			recovery_report(r, 1);
	}
}

static void recovery_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	recovery_report(arg, 0);
}

/* The new server s runs: follow every app that has a VIF to it. */
static void recovery_start(struct domain *s, unsigned old_domid)
{
	struct deployment *dep = s->dep;
	struct recovery *r;
	struct domain *d;
	size_t n = 0;
	struct timeval tv = {RECOVERY_TIMEOUT_MS / 1000, 0};
	char node[PATH_LEN];

	recovery_free(dep);
	TAILQ_FOREACH(d, &dep->domains, entry)
	n++;
	r = calloc(1, sizeof(*r) + n * sizeof(r->apps[0]));
	if (r == NULL)
		return;
	r->dep = dep;
	r->ended_at = s->ended_at;
	clock_gettime(CLOCK_MONOTONIC, &r->server_at);
	r->old_domid = old_domid;
	r->new_domid = s->domid;
	dep->recovery = r;
	r->timeout = evtimer_new(dep->engine->base, recovery_timeout, r);
	TAILQ_FOREACH(d, &dep->domains, entry)
	{
		/* Direct apps have no VIF; the rest connect theirs, a
		 * dynamic app on its VF too (idle until it switches back). */
		if (d->be.is_server || !d->created || d->state == DOM_GONE ||
		    d->spec.mode == LT_MODE_DIRECT)
			continue;
		r->apps[r->napps] =
		    (struct recovery_app){.r = r, .d = d, .ms = -1};
		r->napps++;
		r->pending++;
	}
	if (r->pending == 0 || r->timeout == NULL) {
		recovery_report(r, 1);
		return;
	}
	evtimer_add(r->timeout, &tv);
	for (size_t i = 0; i < r->napps; i++) {
		struct recovery_app *a = &r->apps[i];

		snprintf(node, sizeof(node),
			 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS
					 "/%u/" LT_XS_APP_VIF_STATE,
			 s->domid, a->d->domid);
		/* Fires once at once: an app already connected counts. */
		a->watch =
		    lt_xs_watch(dep->engine->xs, node, recovery_vif_changed, a);
	}
}

/* --- restarting ---------------------------------------------------------- */

static void restart_finished(struct op *op)
{
	struct domain *d = op->steps[0].dom;
	struct json_object *data;
	struct timespec now;
	unsigned old_domid = (unsigned)(uintptr_t)op->steps[0].net;

	if (op->failed) {
		log_warn("restart of %s/%s failed: %s", op->dep->name,
			 d->be.name, op->err.message);
		return; /* op-done says why; the domain stays failed */
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (d->restarts != NULL) {
		d->restarts->running_since = now;
		d->restarts->ran = 1;
	}
	d->nrestarts++;
	data = domain_event_data(d);
	json_object_object_add(data, "old_domid",
			       json_object_new_int64(old_domid));
	json_object_object_add(data, "restarts",
			       json_object_new_int64(d->nrestarts));
	json_object_object_add(data, "downtime_ms",
			       lt_ms_json(lt_ms_between(&d->ended_at, &now)));
	json_object_object_add(
	    data, "backoff_ms",
	    json_object_new_int64(d->restarts ? d->restarts->delay_ms : 0));
	engine_emit(op->dep->engine, LT_EV_DOMAIN_RESTARTED, data);
	if (d->be.is_server)
		recovery_start(d, old_domid);
}

static void restart_start(struct domain *d);

static void restart_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	restart_start(arg);
}

/* Starts the restart op, or waits while the deployment is busy. */
static void restart_start(struct domain *d)
{
	struct deployment *dep = d->dep;
	struct op *op;

	if (d->state != DOM_FAILED && d->state != DOM_EXITED)
		return; /* destroyed or restarted meanwhile */
	if (dep->op != NULL || dep->switching > 0) {
		retry_later(d, restart_retry, RESTART_RETRY_MS);
		return;
	}
	op = op_new(dep, OP_RESTART);
	/* The server keeps its PF across the restart (and so the time of
	 * moving it); an app starts from a clean slate. */
	if (op == NULL ||
	    (d->be.is_server && dep->engine->backend->ops->domain_recreate
		 ? op_add(op, STEP_RECREATE, d, NULL)
		 : op_add(op, STEP_DESTROY, d, NULL) < 0 ||
		       op_add(op, STEP_CREATE, d, NULL)) < 0 ||
	    op_add(op, STEP_RUN, d, NULL) < 0) {
		log_err("restart of %s/%s: out of memory", dep->name,
			d->be.name);
		if (op != NULL)
			op_discard(op);
		return;
	}
	/* The old domid rides in the first step's spare pointer, for the
	 * event: the domain object takes the new one. */
	op->steps[0].net = (const struct lt_network *)(uintptr_t)d->domid;
	/* A dynamic app starts again behind the server, as at deploy. */
	if (d->spec.mode == LT_MODE_DYNAMIC && d->vf >= 0) {
		dep->vf_owner[d->vf][0] = '\0';
		d->vf = -1;
	}
	d->on_vf = 0;
	d->switch_seq = 0;
	op->finish = restart_finished;
	log_info("restarting %s/%s (domain %u)", dep->name, d->be.name,
		 d->domid);
	op_start(op);
}

/* The give-up's destroy is over: the domain stays listed as failed, with
 * nothing held. */
static void give_up_finished(struct op *op)
{
	struct domain *d = op->steps[0].dom;

	if (d->pool_ip && d->pool != NULL)
		lt_ippool_release(d->pool, d->be.name);
	d->pool_ip = 0;
	if (d->vf >= 0)
		d->dep->vf_owner[d->vf][0] = '\0';
	d->vf = -1;
	if (d->ephemeral >= 0)
		d->dep->ephemeral_owner[d->ephemeral][0] = '\0';
	d->ephemeral = -1;
	ports_free(d);
	domain_set_state(d, DOM_FAILED);
}

static void give_up_start(struct domain *d);

static void give_up_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	give_up_start(arg);
}

static void give_up_start(struct domain *d)
{
	struct deployment *dep = d->dep;
	struct op *op;

	if (d->state != DOM_FAILED && d->state != DOM_EXITED)
		return;
	if (dep->op != NULL || dep->switching > 0) {
		retry_later(d, give_up_retry, RESTART_RETRY_MS);
		return;
	}
	op = op_new(dep, OP_RESTART);
	if (op == NULL || op_add(op, STEP_DESTROY, d, NULL) < 0) {
		if (op != NULL)
			op_discard(op);
		return;
	}
	op->finish = give_up_finished;
	op_start(op);
}

static void give_up(struct domain *d, const struct lt_restart_policy *p)
{
	struct json_object *data = domain_event_data(d);

	d->gave_up = 1;
	log_warn("%s/%s: %u restarts within %u s: giving up", d->dep->name,
		 d->be.name, p->limit, p->window_s);
	json_object_object_add(data, "restarts",
			       json_object_new_int64(d->nrestarts));
	json_object_object_add(data, "limit", json_object_new_int64(p->limit));
	json_object_object_add(data, "window_s",
			       json_object_new_int64(p->window_s));
	engine_emit(d->dep->engine, LT_EV_DOMAIN_GAVE_UP, data);
	/* Its address and ports go back: the domain is destroyed (it stays
	 * listed, failed, until the deployment changes). */
	give_up_start(d);
}

void restart_consider(struct domain *d)
{
	const struct lt_restart_policy *p = restart_policy(d);
	struct timespec now;
	int failed = !WIFEXITED(d->wstatus) || WEXITSTATUS(d->wstatus) != 0;
	unsigned delay;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d->ended_at = now;
	if (d->dep->state == DEP_DESTROYING || d->gave_up)
		return;
	if (p->when == LT_RESTART_NEVER ||
	    (p->when == LT_RESTART_ON_FAILURE && !failed))
		return;
	if (!restart_log_add(d, p, &now)) {
		give_up(d, p);
		return;
	}
	delay = restart_backoff(d, &now);
	if (delay == 0) {
		restart_start(d);
		return;
	}
	log_info("%s/%s ended %u times in a row within %u s of its restart: "
		 "restarting it in %u ms",
		 d->dep->name, d->be.name, d->restarts->streak,
		 RESTART_STABLE_MS / 1000, delay);
	retry_later(d, restart_retry, delay);
}
