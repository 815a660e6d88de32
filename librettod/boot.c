/*
 * Waiting for a domain to come up: a domain counts as running only once its
 * guest says so in xenstore (guest/state = ready), as a Xen toolstack waits
 * for a frontend to connect, so that a deploy whose app cannot start fails
 * and is undone instead of reporting success.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "engine.h"
#include "log.h"

static void boot_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct domain *d = arg;

	(void)fd;
	(void)what;
	domain_boot_resolve(d, ETIMEDOUT,
			    "the guest did not report ready in time");
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
	if (d->boot_timer != NULL) {
		event_free(d->boot_timer);
		d->boot_timer = NULL;
	}
	done(d->boot_arg, err, err ? msg : NULL);
}

void domain_boot_wait(struct domain *d, unsigned timeout_ms, lt_done_fn done,
		      void *arg)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	d->boot_done = done;
	d->boot_arg = arg;
	d->boot_timer = evtimer_new(d->dep->engine->base, boot_timed_out, d);
	if (d->boot_timer == NULL || evtimer_add(d->boot_timer, &tv) < 0) {
		domain_boot_resolve(d, ENOMEM, "cannot arm the boot timer");
		return;
	}
	log_debug("domain %u (%s): waiting for the guest to report ready",
		  d->domid, d->be.name);
}
