/*
 * librettoctl status [DEPLOYMENT [DOMAIN]] [--watch]
 *
 * --watch subscribes to events and asks for a fresh status after each one,
 * at most every CTL_WATCH_INTERVAL_MS, so a burst of events costs one
 * redraw.  Output only happens when the status changed.
 */
#include <libretto/protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "interrupt.h"
#include "jget.h"
#include "output.h"
#include "report.h"
#include "status_format.h"

#define CTL_WATCH_INTERVAL_MS 200

static struct json_object *status_args(const struct ctl_invocation *inv)
{
	struct json_object *args;

	if (inv->argc == 0)
		return NULL;
	args = json_object_new_object();
	json_object_object_add(args, "deployment",
			       json_object_new_string(inv->argv[0]));
	if (inv->argc > 1)
		json_object_object_add(args, "domain",
				       json_object_new_string(inv->argv[1]));
	return args;
}

static int status_once(const struct ctl_invocation *inv)
{
	struct ctl_client *client;
	struct json_object *reply;
	char *text;
	int status;

	status = client_open(inv->socket_path, &client);
	if (status != LT_EXIT_OK)
		return status;
	status = client_call(client, LT_CMD_STATUS, status_args(inv), &reply);
	client_close(client);
	if (status != LT_EXIT_OK)
		return status;
	text = status_format(jget(reply, "result"), inv->json, inv->argc > 1);
	fputs(text, stdout);
	free(text);
	json_object_put(reply);
	return LT_EXIT_OK;
}

struct watch {
	const struct ctl_invocation *inv;
	struct ctl_client *client;
	bool tty;	 /* redraw in place with ANSI sequences */
	char *shown;	 /* the last output, to print only changes */
	bool dirty;	 /* an event came since the last status request */
	bool in_flight;	 /* a status request awaits its reply */
	int64_t id;	 /* of the request in flight */
	int64_t sent_ms; /* when the last request went out */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replaces the screen's content line by line rather than clearing it
 * first, so the table does not flicker. */
static void redraw(const char *text)
{
	fputs("\033[H", stdout);
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		fwrite(p, 1, n, stdout);
		fputs("\033[K\n", stdout); /* erase the rest of the old line */
		p += n + (nl != NULL);
	}
	fputs("\033[J", stdout); /* and the old lines below */
}

static void show(struct watch *w, char *text)
{
	if (w->shown != NULL && strcmp(w->shown, text) == 0) {
		free(text);
		return;
	}
	if (w->tty)
		redraw(text);
	else {
		if (w->shown != NULL && !w->inv->json)
			putchar('\n'); /* one blank line between snapshots */
		fputs(text, stdout);
	}
	fflush(stdout);
	free(w->shown);
	w->shown = text;
}

/* A not-found while watching is a state, not an error: the deployment may
 * be destroyed and deployed again while we watch. */
static int show_reply(struct watch *w, struct json_object *reply)
{
	struct json_object *error = jget_object(reply, "error");
	const char *class = jget_str(error, "class");
	bool ok = false;
	char *text = NULL;
	size_t len;

	if (jget_bool(reply, "ok", &ok) && ok) {
		show(w, status_format(jget(reply, "result"), w->inv->json,
				      w->inv->argc > 1));
		return -1;
	}
	if (class == NULL || strcmp(class, LT_ERR_NOT_FOUND) != 0)
		return ctl_fail_remote(error);
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		abort();
	if (w->inv->json) {
		fprintf(f, "{\"error\":%s}\n", out_json_text(error));
	} else {
		out_text(f, jget_str(error, "message") ?: "not found");
		fputs(" (watching)\n", f);
	}
	fclose(f);
	show(w, text);
	return -1;
}

static int watch_loop(struct watch *w)
{
	struct ctl_msg msg;
	int status;

	w->dirty = true;
	for (;;) {
		int timeout = -1;

		if (w->dirty && !w->in_flight) {
			int64_t wait =
			    w->sent_ms + CTL_WATCH_INTERVAL_MS - now_ms();
			if (wait <= 0 || w->sent_ms == 0) {
				status =
				    client_send(w->client, LT_CMD_STATUS,
						status_args(w->inv), &w->id);
				if (status != LT_EXIT_OK)
					return status;
				w->sent_ms = now_ms();
				w->in_flight = true;
				w->dirty = false;
			} else
				timeout = (int)wait;
		}
		client_next(w->client, timeout, &msg);
		switch (msg.kind) {
		case CTL_MSG_TIMEOUT:
			continue;
		case CTL_MSG_INTERRUPTED:
			return LT_EXIT_OK; /* Ctrl-C is how a watch ends */
		case CTL_MSG_EVENT:
			w->dirty = true;
			json_object_put(msg.obj);
			continue;
		case CTL_MSG_REPLY:
			status = -1;
			if (w->in_flight &&
			    client_reply_matches(msg.obj, w->id)) {
				w->in_flight = false;
				status = show_reply(w, msg.obj);
			}
			json_object_put(msg.obj);
			if (status >= 0)
				return status;
			continue;
		default:
			return client_fail(w->client, &msg);
		}
	}
}

static int status_watch(const struct ctl_invocation *inv)
{
	struct watch w = {.inv = inv};
	struct json_object *reply;
	int status;

	/* Only a terminal gets cursor movement; a pipe or file gets plain
	 * snapshots one after the other. */
	w.tty = !inv->json && isatty(STDOUT_FILENO);
	status = client_open(inv->socket_path, &w.client);
	if (status != LT_EXIT_OK)
		return status;
	status = client_call(w.client, LT_CMD_SUBSCRIBE, NULL, &reply);
	if (status == LT_EXIT_OK) {
		json_object_put(reply);
		if (w.tty)
			fputs("\033[H\033[2J", stdout);
		status = watch_loop(&w);
	}
	free(w.shown);
	client_close(w.client);
	return status;
}

int cmd_status(const struct ctl_invocation *inv)
{
	return inv->watch ? status_watch(inv) : status_once(inv);
}
