#include "op_follow.h"

#include <libretto/protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "interrupt.h"
#include "jget.h"
#include "op_print.h"
#include "output.h"
#include "report.h"

struct op_state {
	const struct ctl_invocation *inv;
	struct ctl_client *client;
	const char *cmd;
	char name[256];		/* the deployment, for messages */
	struct json_object *op; /* our op id, from the reply; NULL before */
	int64_t started_ms;
	/* Events read before our reply: they may be ours, we cannot tell
	 * until the reply names the op. */
	struct json_object **early;
	char **early_lines;
	size_t nearly;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void keep_early(struct op_state *s, struct json_object *ev,
		       const char *line)
{
	s->early = realloc(s->early, (s->nearly + 1) * sizeof(*s->early));
	s->early_lines =
	    realloc(s->early_lines, (s->nearly + 1) * sizeof(*s->early_lines));
	if (s->early == NULL || s->early_lines == NULL)
		abort();
	s->early[s->nearly] = ev;
	s->early_lines[s->nearly] = strdup(line);
	s->nearly++;
}

static void free_early(struct op_state *s)
{
	for (size_t i = 0; i < s->nearly; i++) {
		json_object_put(s->early[i]);
		free(s->early_lines[i]);
	}
	free(s->early);
	free(s->early_lines);
}

/* -1: not ours or not finished; otherwise the exit status (op-done). */
static int handle_event(struct op_state *s, struct json_object *ev,
			const char *line)
{
	const char *event = jget_str(ev, "event");
	struct json_object *data = jget_object(ev, "data");
	bool ok = false;

	if (event == NULL || !json_object_equal(jget(data, "op"), s->op))
		return -1;
	if (s->inv->json)
		out_raw_line(line);
	if (strcmp(event, LT_EV_OP_PROGRESS) == 0 && !s->inv->json)
		op_print_progress(data, now_ms() - s->started_ms);
	if (strcmp(event, LT_EV_SWITCH_STEP) == 0 && !s->inv->json)
		op_print_switch_step(data);
	if (strcmp(event, LT_EV_SWITCH_DONE) == 0 ||
	    strcmp(event, LT_EV_SWITCH_FAILED) == 0) {
		ok = strcmp(event, LT_EV_SWITCH_DONE) == 0;
		if (!s->inv->json)
			op_print_switch_end(data, ok);
		if (ok)
			return LT_EXIT_OK;
		ctl_fail_remote(jget_object(data, "error"));
		return LT_EXIT_FAILED;
	}
	if (strcmp(event, LT_EV_OP_DONE) != 0)
		return -1;
	if (!s->inv->json)
		op_print_done(s->cmd, s->name, data, now_ms() - s->started_ms);
	if (jget_bool(data, "ok", &ok) && ok)
		return LT_EXIT_OK;
	ctl_fail_remote(jget_object(data, "error"));
	/* Whatever the class, the operation was accepted and then failed:
	 * that is exit status 1, not a usage error. */
	return LT_EXIT_FAILED;
}

/*
 * Our reply.  Returns -1 to keep following the op, or the exit status.
 */
static int handle_reply(struct op_state *s, struct json_object *reply,
			const char *line)
{
	struct json_object *result = jget_object(reply, "result");
	const char *name = jget_str(result, "deployment");
	bool ok = false;

	if (s->inv->json)
		out_raw_line(line);
	if (!jget_bool(reply, "ok", &ok) || !ok)
		return ctl_fail_remote(jget_object(reply, "error"));
	if (name != NULL)
		snprintf(s->name, sizeof(s->name), "%s", name);
	s->op = jget(result, "op");
	if (s->op != NULL)
		json_object_get(s->op);
	if (!s->inv->json && strcmp(s->cmd, LT_CMD_SWITCH) == 0)
		op_print_switch_started(result);
	else if (!s->inv->json)
		op_print_plan(s->cmd, s->name, result, s->inv->dry_run);
	/* destroy has no plan: say that it started, so a slow first step
	 * does not look like a hang. */
	if (!s->inv->json && s->op != NULL && jget(result, "changes") == NULL &&
	    strcmp(s->cmd, LT_CMD_SWITCH) != 0) {
		printf("%s ", s->cmd);
		out_text(stdout, s->name);
		printf(": started (operation %s)\n", out_json_text(s->op));
		fflush(stdout);
	}
	if (s->op == NULL) {
		/* Nothing was started (no change, dry run): nothing to wait
		 * for. */
		if (!s->inv->json && strcmp(s->cmd, LT_CMD_DESTROY) == 0) {
			printf("%s ", s->cmd);
			out_text(stdout, s->name);
			printf(": nothing to do\n");
		}
		return LT_EXIT_OK;
	}
	for (size_t i = 0; i < s->nearly; i++) {
		int status = handle_event(s, s->early[i], s->early_lines[i]);
		if (status >= 0)
			return status;
	}
	return -1;
}

static int interrupted(struct op_state *s)
{
	fflush(stdout);
	if (s->op == NULL)
		fprintf(stderr,
			"librettoctl: %s: before the daemon answered; "
			"the %s may still happen\n",
			CTL_ERR_INTERRUPTED, s->cmd);
	else
		fprintf(stderr,
			"librettoctl: %s: operation %s keeps running "
			"in librettod; 'librettoctl status --watch' "
			"follows it\n",
			CTL_ERR_INTERRUPTED, out_json_text(s->op));
	interrupt_exit();
}

static int follow(struct op_state *s, struct json_object *args)
{
	struct json_object *reply;
	struct ctl_msg msg;
	int64_t id;
	int status;

	/* Subscribe first, so no event of our operation can be missed. */
	status = client_call(s->client, LT_CMD_SUBSCRIBE, NULL, &reply);
	if (status != LT_EXIT_OK) {
		json_object_put(args);
		return status;
	}
	json_object_put(reply);
	s->started_ms = now_ms();
	status = client_send(s->client, s->cmd, args, &id);
	if (status != LT_EXIT_OK)
		return status;
	bool replied = false;
	for (;;) {
		client_next(s->client, -1, &msg);
		if (msg.kind == CTL_MSG_INTERRUPTED)
			return interrupted(s);
		if (msg.kind == CTL_MSG_LOST && replied) {
			fflush(stdout);
			return ctl_fail(LT_EXIT_UNREACHABLE,
					CTL_ERR_UNREACHABLE,
					"connection lost (%s); operation %s "
					"may still be running",
					client_lost_reason(s->client),
					out_json_text(s->op));
		}
		if (msg.kind != CTL_MSG_REPLY && msg.kind != CTL_MSG_EVENT)
			return client_fail(s->client, &msg);
		if (msg.kind == CTL_MSG_EVENT && !replied) {
			keep_early(s, msg.obj, msg.line);
			continue;
		}
		if (msg.kind == CTL_MSG_EVENT)
			status = handle_event(s, msg.obj, msg.line);
		else if (!replied && client_reply_matches(msg.obj, id)) {
			replied = true;
			status = handle_reply(s, msg.obj, msg.line);
		} else
			status = -1; /* not ours: ignore */
		json_object_put(msg.obj);
		if (status >= 0)
			return status;
	}
}

int op_follow(const struct ctl_invocation *inv, const char *cmd,
	      struct json_object *args, const char *name)
{
	struct op_state s = {.inv = inv, .cmd = cmd};
	int status;

	snprintf(s.name, sizeof(s.name), "%s", name);
	status = client_open(inv->socket_path, &s.client);
	if (status != LT_EXIT_OK) {
		json_object_put(args);
		return status;
	}
	status = follow(&s, args);
	json_object_put(s.op);
	free_early(&s);
	client_close(s.client);
	return status;
}
