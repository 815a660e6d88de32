/*
 * Waiting for a domain to come up: a domain counts as running only once its
 * guest says so in xenstore (guest/state = ready), as a Xen toolstack waits
 * for a frontend to connect, so that a deploy whose app cannot start fails
 * and is undone instead of reporting success.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <libretto/xs_paths.h>

#include "engine.h"
#include "guest_input.h"
#include "log.h"
#include "timing.h"

#define PATH_LEN 256

/* Says what was awaited, for how long, and what the guest said last: a
 * timeout on a loaded host and a guest stuck in "booting" must read
 * differently from one that never wrote anything. */
static void boot_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct domain *d = arg;
	char msg[512];

	(void)fd;
	(void)what;
	snprintf(msg, sizeof(msg),
		 "the guest did not report ready in time: " LT_XS_GUEST_FMT
		 "/" LT_XS_GUEST_STATE " was %s%s%s, not \"" LT_GUEST_READY
		 "\", %.1f s after the domain's start (boot_timeout %.1f s)",
		 d->domid, d->guest_state ? "\"" : "never written",
		 d->guest_state ? d->guest_state : "",
		 d->guest_state ? "\"" : "",
		 lt_ms_since(&d->boot_started) / 1e3, d->boot_timeout_ms / 1e3);
	domain_boot_resolve(d, ETIMEDOUT, msg);
}

/*
 * The last line the domain's program wrote to its console log, which is
 * usually why it failed ("cannot run X: No such file or directory").
 */
static void last_log_line(struct domain *d, char *out, size_t size)
{
	struct backend *be = d->dep->engine->backend;
	struct json_object *desc = json_object_new_object(), *log;
	char buf[1024];
	ssize_t n = 0;
	FILE *f = NULL;

	out[0] = '\0';
	be->ops->domain_describe(be, &d->be, desc);
	if (json_object_object_get_ex(desc, "log", &log) &&
	    (f = fopen(json_object_get_string(log), "re")) != NULL &&
	    fseek(f, -(long)sizeof(buf) + 1, SEEK_END) < 0)
		rewind(f); /* shorter than buf */
	if (f != NULL) {
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n > 0 ? n : 0] = '\0';
	const char *line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	size_t len = strnlen(line, size - 1);
	memcpy(out, line, len);
	out[len] = '\0';
	json_object_put(desc);
}

void domain_boot_resolve(struct domain *d, int err, const char *msg)
{
	lt_done_fn done = d->boot_done;
	char why[1024], tail[256];

	if (done == NULL)
		return;
	if (err != 0 && err != ECANCELED) {
		last_log_line(d, tail, sizeof(tail));
		if (tail[0] != '\0') {
			snprintf(why, sizeof(why), "%s (its log ends: %s)", msg,
				 tail);
			msg = why;
		}
	}
	d->boot_done = NULL;
	if (err == 0)
		log_info(
		    "domain %u (%s): the guest reported ready after %.0f ms",
		    d->domid, d->be.name, lt_ms_since(&d->boot_started));
	if (d->boot_timer != NULL) {
		event_free(d->boot_timer);
		d->boot_timer = NULL;
	}
	done(d->boot_arg, err, err ? msg : NULL);
}

/* The guest said error: fail its boot with the reason it gave, if any. */
static void boot_failed(struct domain *d)
{
	char node[PATH_LEN], msg[64 + GUEST_TEXT_MAX];
	char *why;

	snprintf(node, sizeof(node), LT_XS_GUEST_FMT "/" LT_XS_GUEST_ERROR,
		 d->domid);
	/* The guest's words, printable ASCII of bounded length or none. */
	why = guest_read_text(d, node);
	snprintf(msg, sizeof(msg), "the guest reported an error%s%s",
		 why && *why ? ": " : "", why ? why : "");
	free(why);
	domain_boot_resolve(d, EIO, msg);
}

void domain_boot_exited(struct domain *d, const char *how)
{
	char node[PATH_LEN];
	char *said;

	if (d->boot_done == NULL)
		return;
	/* An agent whose app cannot start writes why, then ends as the app
	 * did: its end may be seen before the watch on its state is handled,
	 * and its reason says more than its exit status. */
	snprintf(node, sizeof(node), LT_XS_GUEST_FMT "/" LT_XS_GUEST_ERROR,
		 d->domid);
	said = guest_read_text(d, node);
	if (said != NULL && *said != '\0') {
		free(said);
		boot_failed(d);
		return;
	}
	free(said);
	domain_boot_resolve(d, ECHILD, how);
}

void domain_boot_guest_state(struct domain *d)
{
	if (d->guest_state == NULL)
		return;
	if (strcmp(d->guest_state, LT_GUEST_READY) == 0)
		domain_boot_resolve(d, 0, NULL);
	else if (strcmp(d->guest_state, LT_GUEST_ERROR) == 0)
		boot_failed(d);
}

void domain_boot_wait(struct domain *d, unsigned timeout_ms, lt_done_fn done,
		      void *arg)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	d->boot_done = done;
	d->boot_arg = arg;
	d->boot_timeout_ms = timeout_ms;
	clock_gettime(CLOCK_MONOTONIC, &d->boot_started);
	d->boot_timer = evtimer_new(d->dep->engine->base, boot_timed_out, d);
	if (d->boot_timer == NULL || evtimer_add(d->boot_timer, &tv) < 0) {
		domain_boot_resolve(d, ENOMEM, "cannot arm the boot timer");
		return;
	}
	log_debug("domain %u (%s): waiting up to %u ms for the guest to report "
		  "ready",
		  d->domid, d->be.name, timeout_ms);
	/* The guest may have said it before the wait began: the backend's
	 * run reports from the loop, and a quick guest's ready can be handled
	 * first. Its watch fires on changes only, so the wait would then
	 * wait for nothing until its bound. */
	domain_boot_guest_state(d);
}
