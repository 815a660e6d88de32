/*
 * The xen backend: PV domains on a real Xen through libxenlight
 * (docs/xen.md).  One libxl context, owned by the libxl thread
 * (xl_thread.h), whose own libevent base watches libxl's fds and timeouts
 * (xl_loop.c); libxl's child processes reaped on the SIGCHLD the daemon's
 * loop relays; every result back on the loop.  This file holds the
 * context's life and libxl's domain events; xl_*.c the rest.
 */
#include <errno.h>
#include <event2/event.h>
#include <libxl_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"
#include "xl_backend.h"
#include "xl_loop.h"
#include "xl_thread.h"
#include "xs.h"

/* The device of Xen's hypercalls, present in dom0 only. */
#define XL_PRIVCMD "/dev/xen/privcmd"

/* A domain event, copied out of libxl to be handled from the loop. */
struct xl_event {
	struct xl_backend *xb;
	int type;
	uint32_t domid;
	int shutdown_reason;
};

/* How long a stopping daemon waits for the libxl thread to leave libxl:
 * longer than an unplug's polling of its backend. */
#define XL_THREAD_STOP_MS 10000

/* --- what the libxl thread's base tells libxl (xl_loop.h) -------------- */

static void sink_fd(void *arg, void *for_libxl, int fd, short events,
		    short revents)
{
	struct xl_backend *xb = arg;

	libxl_osevent_occurred_fd(xb->ctx, for_libxl, fd, events, revents);
}

static void sink_timeout(void *arg, void *for_libxl)
{
	struct xl_backend *xb = arg;

	libxl_osevent_occurred_timeout(xb->ctx, for_libxl);
}

/*
 * The loop owns SIGCHLD (libxl_sigchld_owner_mainloop) and relays it to
 * the libxl thread, and libxl reaps only its own children (waitpid on
 * each of their pids): a waitpid(-1) here would take the status of a
 * child watched through its pidfd (spawn.h). Under this backend the
 * daemon starts no child of its own (spawn.c serves the sim), so libxl's
 * are the only ones.
 */
static int sigchld_start(libxl_ctx *ctx, void *arg,
			 const libxl_asyncop_how *how)
{
	(void)arg, (void)how;
	libxl_childproc_sigchld_occurred(ctx);
	return 0;
}

static void sigchld_caught(evutil_socket_t sig, short what, void *arg)
{
	struct xl_backend *xb = arg;

	(void)sig, (void)what;
	if (xl_thread_call(xb->thread, sigchld_start, NULL, NULL, xb) < 0)
		log_err("libxl's children: SIGCHLD not relayed: out of memory");
}

static const libxl_childproc_hooks childproc_hooks = {
    .chldowner = libxl_sigchld_owner_mainloop,
};

/* --- libxl's domain events, from the libxl thread ---------------------- */

static void event_deliver(void *arg, int rc)
{
	struct xl_event *ev = arg;

	(void)rc;
	xl_domain_event(ev->xb, ev->type, ev->domid, ev->shutdown_reason);
	free(ev);
}

/* Called from inside libxl, on its thread: only copies the event out. */
static void event_occurs(void *user, libxl_event *event)
{
	struct xl_backend *xb = user;
	struct xl_event *ev = calloc(1, sizeof(*ev));

	if (ev != NULL) {
		ev->xb = xb;
		ev->type = event->type;
		ev->domid = event->domid;
		if (event->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN)
			ev->shutdown_reason =
			    event->u.domain_shutdown.shutdown_reason;
	}
	if (ev == NULL ||
	    xl_thread_to_loop(xb->thread, event_deliver, ev, 0) < 0) {
		log_err("libxl event %s of domain %u lost: out of memory",
			libxl_event_type_to_string(event->type),
			(unsigned)event->domid);
		free(ev);
	}
	libxl_event_free(xb->ctx, event);
}

struct xl_disaster {
	struct xl_backend *xb;
	char why[512];
};

static void disaster_deliver(void *arg, int rc)
{
	struct xl_disaster *d = arg;

	(void)rc;
	d->xb->be->events.backend_failed(d->xb->be->events.arg, d->why);
	free(d);
}

/* libxl could not deliver events (out of memory, xenstore broken): ends
 * of domains may go unseen, so nothing can be trusted to change. */
static void disaster(void *user, libxl_event_type type, const char *msg,
		     int errnoval)
{
	struct xl_backend *xb = user;
	struct xl_disaster *d = calloc(1, sizeof(*d));

	if (d == NULL) {
		log_err("libxl lost events, and the daemon could not say so: "
			"out of memory");
		return;
	}
	d->xb = xb;
	snprintf(d->why, sizeof(d->why), "libxl lost %s events: %s%s%s",
		 type ? libxl_event_type_to_string(type) : "domain", msg,
		 errnoval >= 0 ? ": " : "",
		 errnoval >= 0 ? strerror(errnoval) : "");
	log_err("%s", d->why);
	if (xl_thread_to_loop(xb->thread, disaster_deliver, d, 0) < 0)
		free(d);
}

static const libxl_event_hooks event_hooks = {
    .event_occurs_mask = (1UL << LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) |
			 (1UL << LIBXL_EVENT_TYPE_DOMAIN_DEATH),
    .event_occurs = event_occurs,
    .disaster = disaster,
};

/* --- life -------------------------------------------------------------- */

/* A boot image that cannot be read fails the start, not a create later. */
static int check_image(const char *key, const char *path, char **err)
{
	struct stat st;

	if (stat(path, &st) < 0 || access(path, R_OK) < 0) {
		*err = lt_strdupf("%s %s: %s (build the guest images, or point "
				  "%s in the daemon's config at them)",
				  key, path, strerror(errno), key);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = lt_strdupf("%s %s: not a regular file", key, path);
		return -1;
	}
	return 0;
}

/* On the libxl thread once it stops (or on the loop when it never ran):
 * libxl_ctx_free requires no operation in flight; those end with the
 * process, which exits next. */
static void ctx_release(void *arg, libxl_ctx *ctx, unsigned in_flight)
{
	struct xl_backend *xb = arg;

	if (in_flight > 0) {
		log_warn("leaving %u libxl operations in flight", in_flight);
		return;
	}
	/* libxl deregisters its fds through the hooks: the loop of its
	 * events goes after the context. */
	if (ctx != NULL)
		libxl_ctx_free(ctx);
	xl_loop_free(xb->loop);
	/* What xtl_logger_destroy does, without linking libxentoollog for
	 * one call. */
	if (xb->logger != NULL)
		xb->logger->destroy(xb->logger);
}

static void xb_free(struct xl_backend *xb)
{
	/* Posts the unwatching of every domain to the libxl thread, which
	 * makes it before it stops. */
	xl_domain_release_all(xb);
	xl_deployment_release_all(xb);
	xl_vf_mac_release_all(xb);
	xl_async_release(xb);
	if (xb->xs != NULL)
		lt_xs_close(xb->xs);
	if (xb->sigchld_ev != NULL)
		event_free(xb->sigchld_ev);
	if (xb->thread != NULL) {
		if (xl_thread_stop(xb->thread, ctx_release, xb,
				   XL_THREAD_STOP_MS) < 0) {
			/* It refers to xb: both are left to the exit. */
			log_warn("the libxl thread is still inside libxl after "
				 "%u ms: left to the daemon's exit",
				 XL_THREAD_STOP_MS);
			return;
		}
	} else {
		ctx_release(xb, xb->ctx, 0);
	}
	free(xb);
}

static int ctx_start(struct xl_backend *xb, char **err)
{
	struct xl_loop_sink sink = {
	    .fd_occurred = sink_fd,
	    .timeout_occurred = sink_timeout,
	    .arg = xb,
	};
	struct xl_thread *thread;
	const libxl_version_info *v;

	xb->logger = xl_log_new();
	if (xb->logger == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (libxl_ctx_alloc(&xb->ctx, LIBXL_VERSION, 0, xb->logger) != 0) {
		xb->ctx = NULL;
		*err = lt_strdupf("no Xen hypervisor: libxl_ctx_alloc failed "
				  "(libxl's reason is logged above); use "
				  "--backend sim");
		return -1;
	}
	thread = xl_thread_new(xb->be->base, xb->ctx, err);
	if (thread == NULL)
		return -1;
	xb->loop = xl_loop_new(xl_thread_base(thread), &sink, err);
	if (xb->loop == NULL) {
		xl_thread_stop(thread, ctx_release, xb, 0); /* never ran */
		xb->ctx = NULL, xb->logger = NULL;
		return -1;
	}
	libxl_osevent_register_hooks(xb->ctx, &xl_loop_hooks, xb->loop);
	libxl_childproc_setmode(xb->ctx, &childproc_hooks, xb);
	libxl_event_register_callbacks(xb->ctx, &event_hooks, xb);
	v = libxl_get_version_info(xb->ctx);
	if (v != NULL)
		snprintf(xb->xen_version, sizeof(xb->xen_version), "%d.%d%s",
			 v->xen_version_major, v->xen_version_minor,
			 v->xen_version_extra ? v->xen_version_extra : "");
	/* From here on only the libxl thread calls libxl. */
	xb->sigchld_ev =
	    evsignal_new(xb->be->base, SIGCHLD, sigchld_caught, xb);
	if (xb->sigchld_ev == NULL || evsignal_add(xb->sigchld_ev, NULL) < 0) {
		*err = lt_strdupf("libxl's children: cannot watch SIGCHLD");
		xl_thread_stop(thread, ctx_release, xb, 0);
		xb->ctx = NULL, xb->logger = NULL, xb->loop = NULL;
		return -1;
	}
	if (xl_thread_start(thread, err) < 0) {
		xl_thread_stop(thread, ctx_release, xb, 0);
		xb->ctx = NULL, xb->logger = NULL, xb->loop = NULL;
		return -1;
	}
	xb->thread = thread;
	return 0;
}

static int xen_init(struct backend *be, lt_done_fn done, void *arg, char **err)
{
	const struct daemon_config *cfg = be->cfg;
	struct xl_backend *xb;

	/* Without a hypervisor libxl would fail with less to say. */
	if (access(XL_PRIVCMD, R_OK | W_OK) < 0) {
		*err = lt_strdupf("no Xen hypervisor: %s: %s (librettod must "
				  "run in dom0 of a Xen host, with "
				  "xen-privcmd loaded); use --backend sim",
				  XL_PRIVCMD, strerror(errno));
		return -1;
	}
	if (check_image("xen_kernel", cfg->xen_kernel, err) < 0 ||
	    check_image("xen_ramdisk", cfg->xen_ramdisk, err) < 0)
		return -1;
	xb = calloc(1, sizeof(*xb));
	if (xb == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	xb->be = be;
	xb->sysfs_root = "/sys";
	LIST_INIT(&xb->domains);
	LIST_INIT(&xb->deployments);
	LIST_INIT(&xb->deferred);
	LIST_INIT(&xb->mac_ops);
	if (ctx_start(xb, err) < 0)
		goto fail;
	xb->xs = lt_xs_open(be->base, NULL, err);
	if (xb->xs == NULL)
		goto fail;
	be->priv = xb;
	if (xl_defer_done(xb, done, arg, 0, NULL, err) < 0) {
		be->priv = NULL;
		goto fail;
	}
	log_info("xen backend: Xen %s, kernel %s, ramdisk %s",
		 xb->xen_version[0] ? xb->xen_version : "(version unknown)",
		 cfg->xen_kernel, cfg->xen_ramdisk);
	return 0;
fail:
	xb_free(xb);
	return -1;
}

static const char *xen_xenstore_path(struct backend *be)
{
	(void)be;
	return NULL; /* the system's xenstored */
}

static void xen_describe(struct backend *be, struct json_object *obj)
{
	struct xl_backend *xb = be->priv;

	if (xb == NULL)
		return;
	json_object_object_add(obj, "xen_version",
			       xb->xen_version[0]
				   ? json_object_new_string(xb->xen_version)
				   : NULL);
	json_object_object_add(obj, "kernel",
			       json_object_new_string(be->cfg->xen_kernel));
	json_object_object_add(obj, "ramdisk",
			       json_object_new_string(be->cfg->xen_ramdisk));
}

/* Domains keep running; only the handles go. */
static void xen_shutdown(struct backend *be)
{
	struct xl_backend *xb = be->priv;

	if (xb == NULL)
		return;
	xb_free(xb);
	be->priv = NULL;
}

/* The domain ops that concern a VF go through xl_vf.c, which hands the
 * rest to xl_domain.c. */
const struct backend_ops xen_backend_ops = {
    .name = "xen",
    /* A PV Linux with its initramfs: seconds on hardware, up to a minute
     * under QEMU's TCG (tests/xen). */
    .boot_timeout_ms = 120000,
    .init = xen_init,
    .xenstore_path = xen_xenstore_path,
    .describe = xen_describe,
    .deployment_setup = xl_deployment_setup,
    .deployment_teardown = xl_deployment_teardown,
    .deployment_describe = xl_deployment_describe,
    .domain_create = xl_vf_domain_create,
    .domain_run = xl_domain_run,
    .domain_destroy = xl_vf_domain_destroy,
    .domain_recreate = xl_domain_recreate,
    .deployment_adopt = xl_deployment_adopt,
    .domain_adopt = xl_vf_domain_adopt,
    .domain_describe = xl_vf_domain_describe,
    .vf_prepare = xl_vf_prepare,
    .vf_attach = xl_vf_attach,
    .vf_detach = xl_vf_detach,
    .vf_release = xl_vf_release,
    .shutdown = xen_shutdown,
};
