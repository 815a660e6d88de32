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
#include "fairness.h"
#include "ippool.h"
#include "log.h"
#include "mac.h"
#include "op.h"
#include "state.h"
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

void engine_emit(struct engine *e, const char *event, struct json_object *data)
{
	if (e->control != NULL)
		control_emit(e->control, event, data);
	else
		json_object_put(data);
}

/* --- backend events ------------------------------------------------------- */

static void on_domain_exited(void *arg, struct be_domain *bd, int wstatus)
{
	struct domain *d =
	    (struct domain *)((char *)bd - offsetof(struct domain, be));
	struct json_object *data = domain_event_data(d);
	int failed = !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0;

	int was_running = d->state == DOM_RUNNING && d->boot_done == NULL;

	(void)arg;
	d->exited = 1;
	d->wstatus = wstatus;
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
		domain_boot_exited(d, why);
	}
	/* While stopping, the exit is the stop itself. */
	if (d->state != DOM_STOPPING && d->state != DOM_GONE)
		domain_set_state(d, failed ? DOM_FAILED : DOM_EXITED);
	/* One that never came up fails its operation instead. */
	if (was_running)
		restart_consider(d);
}

static void on_backend_failed(void *arg, const char *msg)
{
	struct engine *e = arg;
	struct json_object *data = json_object_new_object();

	log_err("backend %s failed: %s", e->backend->ops->name, msg);
	free(e->backend_failure);
	e->backend_failure = strdup(msg);
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
	fairness_attach(e);
	if (xs_layout_daemon_write(e->xs, e->backend->ops->name, err) < 0)
		return -1;
	switch (engine_adopt(e, err)) {
	case -1:
		return -1;
	case 0: /* no state file: whatever xenstore lists is not ours */
		warn_leftover_domains(e);
		break;
	}
	/* From now on the state file is ours to write; a file that could
	 * not be trusted was refused above and is left as it is. */
	e->state_ok = 1;
	state_changed(e);
	return 0;
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
	state_close(e);
	free(e->backend_failure);
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
	if (dep->op != NULL || dep->switching > 0) {
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
			if (dep->op != NULL || dep->switching > 0)
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

int engine_backend_usable(struct engine *e, struct lt_error *err)
{
	if (e->backend_failure == NULL)
		return 1;
	lt_error_set(err, LT_ERR_BACKEND,
		     "the %s backend failed: %s; nothing can change until "
		     "librettod is restarted",
		     e->backend->ops->name, e->backend_failure);
	return 0;
}
