/* A list of short commands (`ip ...`) run one after another on the loop. */
#include <event2/event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sim.h"
#include "spawn.h"

struct sim_step {
	char **argv;
	unsigned flags;
};

struct sim_steps {
	struct event_base *base;
	char *what;
	struct sim_step *steps;
	size_t nsteps;
	size_t next;
	int nomem;
	struct spawn_run *running;
	struct event *start;
	lt_done_fn done;
	void *arg;
};

struct sim_steps *sim_steps_new(struct event_base *base, const char *what)
{
	struct sim_steps *steps = calloc(1, sizeof(*steps));

	if (!steps)
		return NULL;
	steps->base = base;
	steps->what = strdup(what);
	if (!steps->what) {
		free(steps);
		return NULL;
	}
	return steps;
}

static void free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

void sim_steps_add(struct sim_steps *steps, unsigned flags, const char *arg0,
		   ...)
{
	va_list ap;
	size_t argc = 1;

	va_start(ap, arg0);
	while (va_arg(ap, const char *))
		argc++;
	va_end(ap);

	char **argv = calloc(argc + 1, sizeof(*argv));
	struct sim_step *grown =
	    reallocarray(steps->steps, steps->nsteps + 1, sizeof(*grown));
	if (grown)
		steps->steps = grown;
	if (!argv || !grown)
		goto nomem;
	va_start(ap, arg0);
	const char *a = arg0;
	for (size_t i = 0; i < argc; i++, a = va_arg(ap, const char *))
		if (!(argv[i] = strdup(a)))
			break;
	va_end(ap);
	if (!argv[argc - 1])
		goto nomem;
	steps->steps[steps->nsteps++] = (struct sim_step){argv, flags};
	return;
nomem:
	free_argv(argv);
	steps->nomem = 1;
}

static void steps_free(struct sim_steps *steps)
{
	for (size_t i = 0; i < steps->nsteps; i++)
		free_argv(steps->steps[i].argv);
	free(steps->steps);
	free(steps->what);
	if (steps->start)
		event_free(steps->start);
	free(steps);
}

static void steps_finish(struct sim_steps *steps, int err, const char *msg)
{
	lt_done_fn done = steps->done;
	void *arg = steps->arg;
	char *copy = msg ? strdup(msg) : NULL;

	steps_free(steps);
	done(arg, err, err ? (copy ? copy : "out of memory") : NULL);
	free(copy);
}

static void steps_next(struct sim_steps *steps);

static void step_done(void *arg, int wstatus, const char *out,
		      const char *errtext)
{
	struct sim_steps *steps = arg;
	struct sim_step *step = &steps->steps[steps->next++];

	(void)out;
	steps->running = NULL;
	if ((WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) ||
	    (step->flags & SIM_STEP_MAY_FAIL)) {
		steps_next(steps);
		return;
	}
	char status[96];
	spawn_describe_status(wstatus, status, sizeof(status));
	char *cmd = spawn_format_argv(step->argv);
	size_t len = strlen(errtext);
	while (len && (errtext[len - 1] == '\n' || errtext[len - 1] == ' '))
		len--;
	char *msg = lt_strdupf("%s: %s failed (%s)%s%.*s", steps->what,
			       cmd ? cmd : step->argv[0], status,
			       len ? ": " : "", (int)len, errtext);
	steps_finish(steps, -1, msg);
	free(msg);
	free(cmd);
}

static void steps_next(struct sim_steps *steps)
{
	if (steps->next == steps->nsteps) {
		steps_finish(steps, 0, NULL);
		return;
	}
	struct spawn_opts opts = {.argv = steps->steps[steps->next].argv};
	char *err = NULL;
	steps->running = spawn_run(steps->base, &opts, SIM_TOOL_TIMEOUT_MS,
				   step_done, steps, &err);
	if (!steps->running) {
		char *msg = lt_strdupf("%s: %s", steps->what, err);
		steps_finish(steps, -1, msg);
		free(msg);
	}
	free(err);
}

static void steps_start(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	steps_next(arg);
}

int sim_steps_run(struct sim_steps *steps, lt_done_fn done, void *arg,
		  char **err)
{
	static const struct timeval now = {0, 0};

	steps->done = done;
	steps->arg = arg;
	if (steps->nomem)
		goto fail;
	/* Starting from the loop keeps done from firing inside this call. */
	steps->start = evtimer_new(steps->base, steps_start, steps);
	if (!steps->start || evtimer_add(steps->start, &now) < 0)
		goto fail;
	return 0;
fail:
	*err = lt_strdupf("%s: out of memory", steps->what);
	steps_free(steps);
	return -1;
}

void sim_steps_cancel(struct sim_steps *steps)
{
	if (!steps)
		return;
	if (steps->running)
		spawn_run_cancel(steps->running);
	steps_free(steps);
}
