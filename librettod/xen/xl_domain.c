/*
 * A domain in Xen, made and watched through libxl (docs/xen.md).
 *
 * create   libxl_domain_create_new: the domain is built paused; its end is
 *          watched from then on (libxl_evenable_domain_death)
 * run      the boot nodes (xl_boot.c), then libxl_domain_unpause
 * destroy  libxl_domain_destroy, its watch dropped first: no end is
 *          reported for a domain the engine destroys
 * recreate destroy, then create again, the PF with it (the server's)
 *
 * A domain that shuts down by itself is destroyed here (xl's on_poweroff
 * = destroy; libxl only records the actions, the toolstack carries them
 * out), and its end reported once it is gone, as a wait status
 * (xl_exit.c).  An engine's destroy that comes meanwhile joins that
 * destroy, and then no end is reported.
 *
 * Every libxl call is made on the libxl thread (xl_thread.h), its result
 * handled on the loop: the fields a call reads or writes there (marked
 * "thread" below) are the loop's again once its result came.  A struct
 * xl_domain exists while the domain holds something in Xen or a request
 * is in flight, and goes with the last of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_value.h"
#include "log.h"
#include "util.h"
#include "xl_backend.h"
#include "xl_thread.h"
#include "xs.h"
#include <libretto/xs_paths.h>

enum xl_request { REQ_NONE, REQ_CREATE, REQ_RUN, REQ_DESTROY, REQ_RECREATE };

struct xl_domain {
	LIST_ENTRY(xl_domain) entry;
	struct xl_backend *xb;
	struct be_domain *dom;
	char name[XL_NAME_SIZE];
	uint32_t domid;			 /* 0: nothing of it in Xen */
	int paused;			 /* created, not yet run */
	libxl_evgen_domain_death *death; /* NULL: its end is not watched */
	/* thread: a create's config, and what it made */
	libxl_domain_config config;
	int config_live;
	uint32_t new_domid;
	uint32_t other; /* the domid of a domain that has its name */
	libxl_evgen_domain_death *new_death;
	int watch_rc;
	/* thread: the domid an unpause, a destroy is for */
	uint32_t run_domid, destroy_domid;
	unsigned aos; /* libxl calls in flight on it */
	/* The engine's request in flight. */
	enum xl_request req;
	lt_done_fn done;
	void *arg;
	char *failure; /* a create being undone: why it failed */
	int destroying;
	/* It shut down by itself: the destroy is ours, its end is reported
	 * as wstatus when the destroy is over. */
	int reaping;
	int wstatus;
};

static const char *libxl_error_name(int rc)
{
	const char *s = libxl_error_to_string((libxl_error)rc);

	return s != NULL ? s : "unknown libxl error";
}

static struct xl_domain *xd_get(struct xl_backend *xb, struct be_domain *dom)
{
	struct xl_domain *xd = dom->priv;

	if (xd != NULL)
		return xd;
	xd = calloc(1, sizeof(*xd));
	if (xd == NULL)
		return NULL;
	xd->xb = xb;
	xd->dom = dom;
	xl_domain_name(dom, xd->name);
	LIST_INSERT_HEAD(&xb->domains, xd, entry);
	dom->priv = xd;
	return xd;
}

static int death_off(libxl_ctx *ctx, void *arg, const libxl_asyncop_how *how)
{
	(void)how;
	libxl_evdisable_domain_death(ctx, arg);
	return 0;
}

/* Events the watch made before the thread drops it still come: they are
 * ignored, as xd->death is NULL from now on (xd_watched). */
static void death_disable(struct xl_domain *xd)
{
	if (xd->death == NULL)
		return;
	if (xl_thread_call(xd->xb->thread, death_off, NULL, NULL, xd->death) <
	    0)
		log_err("domain %s: its end stays watched: out of memory",
			xd->name);
	xd->death = NULL;
}

/* On the libxl thread. The event names the domid; a pointer as the user
 * value could outlive xd, since events queued before a disable still
 * come. */
static int death_watch(libxl_ctx *ctx, uint32_t domid,
		       libxl_evgen_domain_death **death)
{
	int rc = libxl_evenable_domain_death(ctx, domid, (libxl_ev_user)domid,
					     death);

	if (rc != 0)
		*death = NULL;
	return rc;
}

static char *watch_failed(struct xl_domain *xd, uint32_t domid, int rc)
{
	return lt_strdupf("domain %s (domid %" PRIu32 "): cannot watch for "
			  "its end: %s",
			  xd->name, domid, libxl_error_name(rc));
}

static void xd_free(struct xl_domain *xd)
{
	death_disable(xd);
	if (xd->config_live)
		libxl_domain_config_dispose(&xd->config);
	free(xd->failure);
	LIST_REMOVE(xd, entry);
	xd->dom->priv = NULL;
	free(xd);
}

/* Frees xd once nothing of it is left to track. */
static void xd_settle(struct xl_domain *xd)
{
	if (xd->domid == 0 && xd->req == REQ_NONE && xd->aos == 0)
		xd_free(xd);
}

/* Ends the engine's request. xd may be gone afterwards. */
static void request_done(struct xl_domain *xd, int err, const char *msg)
{
	lt_done_fn done = xd->done;
	void *arg = xd->arg;

	xd->req = REQ_NONE;
	xd->done = NULL;
	xd->arg = NULL;
	xd_settle(xd);
	done(arg, err, msg);
}

static void request_begin(struct xl_domain *xd, enum xl_request req,
			  lt_done_fn done, void *arg)
{
	xd->req = req;
	xd->done = done;
	xd->arg = arg;
}

/* A request that could not begin: as if it never came. */
static int request_refused(struct xl_domain *xd)
{
	xd->req = REQ_NONE;
	xd->done = NULL;
	xd->arg = NULL;
	xd_settle(xd);
	return -1;
}

static int busy(struct xl_domain *xd, char **err)
{
	*err = lt_strdupf("domain %s: another operation on it is in flight",
			  xd->name);
	return -1;
}

/* The engine's end report, from the loop. xd may be gone afterwards. */
static void report_end(struct xl_domain *xd, int wstatus)
{
	struct backend *be = xd->xb->be;
	struct be_domain *dom = xd->dom;

	xd_settle(xd);
	be->events.domain_exited(be->events.arg, dom, wstatus);
}

/* --- create ------------------------------------------------------------ */

static void destroy_finished(void *arg, int rc);
static int destroy_start(struct xl_domain *xd, char **err);

/* A start's result when Xen has a domain of that name already. */
#define XL_NAME_TAKEN (XL_PENDING + 1)

static void create_finished(void *arg, int rc)
{
	struct xl_domain *xd = arg;
	char *why = NULL, *also = NULL;

	xd->aos--;
	libxl_domain_config_dispose(&xd->config);
	xd->config_live = 0;
	if (rc == XL_NAME_TAKEN) {
		why = lt_strdupf("domain %s: Xen has a domain of that name "
				 "already (domid %" PRIu32 "), left by an "
				 "earlier run? `xl destroy %s` removes it",
				 xd->name, xd->other, xd->name);
		request_done(xd, EIO, why ? why : "name taken");
		free(why);
		return;
	}
	if (rc != 0) {
		/* libxl destroys what it had made of a failed create. */
		why = lt_strdupf("domain %s: libxl could not create it: %s "
				 "(libxl's reason is in the daemon's log)",
				 xd->name, libxl_error_name(rc));
		request_done(xd, EIO, why ? why : "libxl create failed");
		free(why);
		return;
	}
	xd->domid = xd->new_domid;
	xd->dom->domid = xd->domid;
	xd->paused = 1;
	xd->death = xd->new_death;
	if (xd->watch_rc != 0) {
		why = watch_failed(xd, xd->domid, xd->watch_rc);
		/* Unwatched, its end would never be told: undo the create
		 * and report why once it is gone. */
		xd->failure = why;
		if (destroy_start(xd, &also) < 0) {
			log_err("%s", also ? also : "destroy failed");
			free(also);
			xd->failure = NULL;
			request_done(xd, EIO, why ? why : "watch failed");
			free(why);
		}
		return;
	}
	log_info("domain %s created, paused: domid %" PRIu32, xd->name,
		 xd->domid);
	request_done(xd, 0, NULL);
}

/* On the libxl thread: a domain Xen has by its name already would make
 * libxl fail with less to say. */
static int create_begin(libxl_ctx *ctx, void *arg, const libxl_asyncop_how *how)
{
	struct xl_domain *xd = arg;

	if (libxl_name_to_domid(ctx, xd->name, &xd->other) == 0)
		return XL_NAME_TAKEN;
	xd->new_domid = INVALID_DOMID;
	return XL_STARTED(libxl_domain_create_new(ctx, &xd->config,
						  &xd->new_domid, how, NULL));
}

/* On the libxl thread: its end watched at once, so that no end goes
 * unseen between the create and the loop's hearing of it. */
static int create_after(libxl_ctx *ctx, void *arg, int rc)
{
	struct xl_domain *xd = arg;

	xd->new_death = NULL;
	xd->watch_rc = 0;
	if (rc == 0)
		xd->watch_rc = death_watch(ctx, xd->new_domid, &xd->new_death);
	return rc;
}

/* The PF of its deployment goes to the server (xl_pf.c), its VF to a
 * direct app (xl_vf.c, which set the VF's MAC before). */
static int create_start(struct xl_domain *xd, char **err)
{
	struct xl_backend *xb = xd->xb;
	/* What is passed through: the server's NIC, or a direct app's VF. */
	const char *pci =
	    xd->dom->is_server ? xl_pf_of(xb, xd->dom->deployment) : NULL;

	if (xd->dom->is_server && pci == NULL) {
		*err = lt_strdupf("domain %s: the NIC of deployment %s is not "
				  "set up, so there is nothing to pass through "
				  "to its network server",
				  xd->name, xd->dom->deployment->name);
		return -1;
	}
	if (!xd->dom->is_server && xd->dom->vf >= 0 &&
	    (pci = xl_vf_create_bdf(xb, xd->dom, err)) == NULL)
		return -1;
	if (xl_config_build(xb->be->cfg, xd->dom, pci, &xd->config, err) < 0)
		return -1;
	xd->config_live = 1;
	if (xl_thread_call(xb->thread, create_begin, create_after,
			   create_finished, xd) < 0) {
		*err = lt_strdupf("domain %s: out of memory", xd->name);
		goto fail;
	}
	xd->aos++;
	return 0;
fail:
	libxl_domain_config_dispose(&xd->config);
	xd->config_live = 0;
	return -1;
}

int xl_domain_create(struct backend *be, struct be_domain *dom, lt_done_fn done,
		     void *arg, char **err)
{
	struct xl_domain *xd = xd_get(be->priv, dom);

	if (xd == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (xd->req != REQ_NONE)
		return busy(xd, err);
	if (xd->domid != 0) {
		*err =
		    lt_strdupf("domain %s exists already (domid %" PRIu32 ")",
			       xd->name, xd->domid);
		return -1;
	}
	request_begin(xd, REQ_CREATE, done, arg);
	if (create_start(xd, err) < 0)
		return request_refused(xd);
	return 0;
}

/* --- run --------------------------------------------------------------- */

static int unpause_begin(libxl_ctx *ctx, void *arg,
			 const libxl_asyncop_how *how)
{
	struct xl_domain *xd = arg;

	return XL_STARTED(libxl_domain_unpause(ctx, xd->run_domid, how));
}

static void unpause_finished(void *arg, int rc)
{
	struct xl_domain *xd = arg;
	char *why;

	xd->aos--;
	if (rc != 0) {
		why = lt_strdupf("domain %s (domid %" PRIu32 "): libxl could "
				 "not unpause it: %s",
				 xd->name, xd->domid, libxl_error_name(rc));
		request_done(xd, EIO, why ? why : "unpause failed");
		free(why);
		return;
	}
	xd->paused = 0;
	log_info("domain %s (domid %" PRIu32 ") running", xd->name, xd->domid);
	request_done(xd, 0, NULL);
}

int xl_domain_run(struct backend *be, struct be_domain *dom, lt_done_fn done,
		  void *arg, char **err)
{
	struct xl_backend *xb = be->priv;
	struct xl_domain *xd = dom->priv;

	if (xd == NULL || xd->domid == 0 || !xd->paused) {
		*err = lt_strdupf("domain %s-%s: not created, or running "
				  "already",
				  dom->deployment->name, dom->name);
		return -1;
	}
	if (xd->req != REQ_NONE || xd->destroying)
		return busy(xd, err);
	if (xl_boot_write(xb->xs, xd->domid, dom->argv, dom->envp, err) < 0)
		return -1;
	xd->run_domid = xd->domid;
	if (xl_thread_call(xb->thread, unpause_begin, NULL, unpause_finished,
			   xd) < 0) {
		*err = lt_strdupf("domain %s: out of memory", xd->name);
		return -1;
	}
	xd->aos++;
	request_begin(xd, REQ_RUN, done, arg);
	return 0;
}

/* --- destroy ----------------------------------------------------------- */

static int destroy_begin(libxl_ctx *ctx, void *arg,
			 const libxl_asyncop_how *how)
{
	struct xl_domain *xd = arg;

	return XL_STARTED(libxl_domain_destroy(ctx, xd->destroy_domid, how));
}

/* A domain gone already (destroyed from outside meanwhile) is what was
 * asked for. */
static int destroy_after(libxl_ctx *ctx, void *arg, int rc)
{
	struct xl_domain *xd = arg;

	if (rc != 0 && libxl_domain_info(ctx, NULL, xd->destroy_domid) ==
			   ERROR_DOMAIN_NOTFOUND)
		return 0;
	return rc;
}

static int destroy_start(struct xl_domain *xd, char **err)
{
	struct xl_backend *xb = xd->xb;

	death_disable(xd);
	xd->destroy_domid = xd->domid;
	if (xl_thread_call(xb->thread, destroy_begin, destroy_after,
			   destroy_finished, xd) < 0) {
		*err = lt_strdupf("domain %s: out of memory", xd->name);
		return -1;
	}
	xd->aos++;
	xd->destroying = 1;
	return 0;
}

static void destroy_finished(void *arg, int rc)
{
	struct xl_domain *xd = arg;
	int reaped = xd->reaping, failed = 0;
	char *why = NULL;

	xd->aos--;
	xd->destroying = 0;
	xd->reaping = 0;
	if (rc != 0) {
		failed = 1;
		why = lt_strdupf("domain %s (domid %" PRIu32 "): libxl could "
				 "not destroy it: %s",
				 xd->name, xd->domid, libxl_error_name(rc));
		log_err("%s", why ? why : "destroy failed");
	} else {
		log_info("domain %s (domid %" PRIu32 ") destroyed", xd->name,
			 xd->domid);
		xd->domid = 0;
		xd->paused = 0;
	}

	if (xd->failure != NULL) { /* a create undone */
		char *f = xd->failure;

		xd->failure = NULL;
		request_done(xd, EIO, f);
		free(f);
	} else if (xd->req == REQ_DESTROY) {
		request_done(xd, failed ? EIO : 0, why);
	} else if (xd->req == REQ_RECREATE) {
		char *cwhy = NULL;

		if (failed)
			request_done(xd, EIO, why);
		else if (create_start(xd, &cwhy) < 0)
			request_done(xd, EIO, cwhy ? cwhy : "create failed");
		free(cwhy);
	} else if (reaped) {
		/* Even if it would not go: it ended. The engine's destroy
		 * tries again. */
		report_end(xd, xd->wstatus);
	} else {
		xd_settle(xd);
	}
	free(why);
}

int xl_domain_destroy(struct backend *be, struct be_domain *dom,
		      lt_done_fn done, void *arg, char **err)
{
	struct xl_domain *xd = dom->priv;

	/* Never created, failed to create, or gone and reported. */
	if (xd == NULL)
		return xl_defer_done(be->priv, done, arg, 0, NULL, err);
	if (xd->req != REQ_NONE)
		return busy(xd, err);
	request_begin(xd, REQ_DESTROY, done, arg);
	/* It shut down and is being destroyed: that destroy is this one
	 * now, and its end is not reported. */
	if (xd->destroying)
		return 0;
	if (xd->domid == 0) {
		request_refused(xd);
		return xl_defer_done(be->priv, done, arg, 0, NULL, err);
	}
	if (destroy_start(xd, err) < 0)
		return request_refused(xd);
	return 0;
}

int xl_domain_recreate(struct backend *be, struct be_domain *dom,
		       lt_done_fn done, void *arg, char **err)
{
	struct xl_domain *xd = xd_get(be->priv, dom);

	if (xd == NULL) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (xd->req != REQ_NONE)
		return busy(xd, err);
	request_begin(xd, REQ_RECREATE, done, arg);
	/* destroy_finished goes on with the create. */
	if (xd->destroying)
		return 0;
	if ((xd->domid != 0 ? destroy_start(xd, err) : create_start(xd, err)) <
	    0)
		return request_refused(xd);
	return 0;
}

/* --- its end ------------------------------------------------------------ */

static struct xl_domain *xd_watched(struct xl_backend *xb, uint32_t domid)
{
	struct xl_domain *xd;

	LIST_FOREACH(xd, &xb->domains, entry)
	if (xd->domid == domid && xd->death != NULL)
		return xd;
	return NULL;
}

/* What the guest's /init left, read before the destroy removes it. */
static char *exit_status_read(struct xl_backend *xb, uint32_t domid)
{
	char path[128];

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_GUEST_EXIT_STATUS, (unsigned)domid);
	return lt_xs_read(xb->xs, XBT_NULL, path);
}

static void shut_down(struct xl_domain *xd, int reason)
{
	char *status = reason == LIBXL_SHUTDOWN_REASON_POWEROFF
			   ? exit_status_read(xd->xb, xd->domid)
			   : NULL;
	char *why = NULL, shown[GUEST_ESCAPED_SIZE];
	int bad;

	xd->wstatus = xl_exit_wstatus(reason, status, &bad);
	/* The guest wrote it: shown escaped and cut short, never raw. */
	if (bad)
		log_warn("domain %s (domid %" PRIu32 ") powered off without "
			 "a valid %s (\"%s\"): reported as exit code 255",
			 xd->name, xd->domid, LT_XS_GUEST_EXIT_STATUS,
			 guest_escape(status, shown));
	log_info("domain %s (domid %" PRIu32 ") shut down (%s): destroying "
		 "it",
		 xd->name, xd->domid, xl_exit_reason_name(reason));
	free(status);
	xd->reaping = 1;
	if (destroy_start(xd, &why) < 0) {
		/* It stays, shut down; the engine's destroy tries again. */
		log_err("%s", why ? why : "destroy failed");
		free(why);
		xd->reaping = 0;
		report_end(xd, xd->wstatus);
	}
}

void xl_domain_event(struct xl_backend *xb, int type, uint32_t domid,
		     int shutdown_reason)
{
	struct xl_domain *xd = xd_watched(xb, domid);

	if (xd == NULL)
		return; /* not ours, or no longer watched */
	if (type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
		shut_down(xd, shutdown_reason);
		return;
	}
	/* Gone without a shutdown: destroyed from outside (xl destroy). */
	log_warn("domain %s (domid %" PRIu32 ") is gone: destroyed from "
		 "outside librettod",
		 xd->name, domid);
	death_disable(xd);
	xd->domid = 0;
	xd->paused = 0;
	report_end(xd, XL_WSTATUS_DESTROYED);
}

/* --- adoption and status ------------------------------------------------ */

/* What the libxl thread finds of a domain to adopt. */
struct adopt_look {
	const char *name;
	uint32_t domid;
	int rc;	   /* libxl_domain_info's */
	int named; /* it still carries name */
	libxl_dominfo info;
	libxl_evgen_domain_death *death; /* running: its end watched */
	int watch_rc;
};

static int adopt_look(libxl_ctx *ctx, void *arg, const libxl_asyncop_how *how)
{
	struct adopt_look *a = arg;
	char *now;

	(void)how;
	a->rc = libxl_domain_info(ctx, &a->info, a->domid);
	if (a->rc != 0)
		return 0;
	now = libxl_domid_to_name(ctx, a->domid);
	a->named = now != NULL && strcmp(now, a->name) == 0;
	if (!a->named)
		log_warn("domid %u is %s now, not %s: nothing of %s is left",
			 a->domid, now ? now : "nameless", a->name, a->name);
	free(now);
	if (a->named && !a->info.dying && !a->info.shutdown && !a->info.paused)
		a->watch_rc = death_watch(ctx, a->domid, &a->death);
	return 0;
}

/*
 * The domain is found by the domid the state file kept, and must still
 * carry its name: Xen hands out domids again after a while.  Running: its
 * end is watched again. Paused (its deploy never ran it), shut down or
 * dying: only its remains are left, which a destroy removes.  Answered at
 * once (backend.h), so the loop waits for the libxl thread: adoption runs
 * at the daemon's start, before it serves anyone.
 */
int xl_domain_adopt(struct backend *be, struct be_domain *dom,
		    struct json_object *described, int *running, char **err)
{
	struct xl_backend *xb = be->priv;
	char name[XL_NAME_SIZE], *why;
	struct adopt_look a = {.name = name, .domid = dom->domid};
	struct xl_domain *xd;
	int rc, found = 0;

	(void)described; /* the domid is the engine's own */
	*running = 0;
	xl_domain_name(dom, name);
	if (dom->domid == 0)
		return 0;
	libxl_dominfo_init(&a.info);
	if (xl_thread_call_wait(xb->thread, adopt_look, &a, &rc) < 0) {
		*err = lt_strdupf("out of memory");
		found = -1;
		goto out;
	}
	if (a.rc == ERROR_DOMAIN_NOTFOUND || (a.rc == 0 && !a.named))
		goto out;
	if (a.rc != 0) {
		*err = lt_strdupf("domain %s (domid %u): libxl cannot look "
				  "it up: %s",
				  name, dom->domid, libxl_error_name(a.rc));
		found = -1;
		goto out;
	}
	xd = xd_get(xb, dom);
	if (xd == NULL) {
		*err = lt_strdupf("out of memory");
		found = -1;
		goto out;
	}
	found = 1;
	xd->domid = dom->domid;
	xd->paused = a.info.paused;
	xd->death = a.death;
	a.death = NULL;
	if (a.info.dying || a.info.shutdown || a.info.paused)
		goto out;
	if (xd->death == NULL) {
		/* Unwatched it cannot be managed: as the remains of one, the
		 * engine replaces it. */
		why = watch_failed(xd, xd->domid, a.watch_rc);
		log_err("%s", why ? why : "watch failed");
		free(why);
		goto out;
	}
	*running = 1;
out:
	if (a.death != NULL &&
	    xl_thread_call(xb->thread, death_off, NULL, NULL, a.death) < 0)
		log_err("domain %s: its end stays watched: out of memory",
			name);
	libxl_dominfo_dispose(&a.info);
	return found;
}

void xl_domain_describe(struct backend *be, struct be_domain *dom,
			struct json_object *obj)
{
	struct xl_domain *xd = dom->priv;
	char name[XL_NAME_SIZE];

	(void)be;
	xl_domain_name(dom, name);
	json_object_object_add(obj, "xen_name", json_object_new_string(name));
	json_object_object_add(
	    obj, "domid",
	    xd && xd->domid ? json_object_new_int64(xd->domid) : NULL);
	if (xd != NULL && xd->domid != 0)
		json_object_object_add(obj, "paused",
				       json_object_new_boolean(xd->paused));
}

uint32_t xl_domain_server_domid(struct xl_backend *xb,
				const struct be_deployment *dep)
{
	struct xl_domain *xd;

	LIST_FOREACH(xd, &xb->domains, entry)
	if (xd->dom->deployment == dep && xd->dom->is_server && xd->domid)
		return xd->domid;
	return 0;
}

void xl_domain_release_all(struct xl_backend *xb)
{
	while (!LIST_EMPTY(&xb->domains)) {
		struct xl_domain *xd = LIST_FIRST(&xb->domains);

		death_disable(xd);
		if (xd->aos == 0) {
			xd_free(xd);
			continue;
		}
		/* libxl still refers to it: it stays with libxl's context,
		 * which is left to the process's exit (backend_xen.c). */
		LIST_REMOVE(xd, entry);
		xd->dom->priv = NULL;
	}
}

int xl_domain_known(struct xl_backend *xb, uint32_t domid)
{
	struct xl_domain *xd;

	LIST_FOREACH(xd, &xb->domains, entry)
	if (xd->domid == domid)
		return 1;
	return 0;
}
