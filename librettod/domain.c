/* Domains: the objects the engine keeps for the network server and each
 * app, their reservations (address, MAC, VF) and their state. */
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
#include "ippool.h"
#include "log.h"
#include "mac.h"
#include "op.h"
#include "state.h"
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

static const char *const state_names[] = {
    [DOM_DEFINED] = "defined",	     [DOM_CREATING] = LT_DOM_STARTING,
    [DOM_CREATED] = LT_DOM_STARTING, [DOM_STARTING] = LT_DOM_STARTING,
    [DOM_RUNNING] = LT_DOM_RUNNING,  [DOM_EXITED] = LT_DOM_EXITED,
    [DOM_FAILED] = LT_DOM_FAILED,    [DOM_STOPPING] = LT_DOM_STOPPING,
    [DOM_GONE] = "destroyed",
};

const char *domain_state_name(enum domain_state s)
{
	return state_names[s];
}

struct json_object *domain_event_data(const struct domain *d)
{
	struct json_object *data = json_object_new_object();

	json_object_object_add(data, "deployment",
			       json_object_new_string(d->dep->name));
	json_object_object_add(data, "domain",
			       json_object_new_string(d->be.name));
	json_object_object_add(data, "domid", json_object_new_int64(d->domid));
	return data;
}

void domain_set_state(struct domain *d, enum domain_state s)
{
	const char *from = state_names[d->state];

	if (d->state == s)
		return;
	d->state = s;
	state_changed(d->dep->engine);
	/* Internal steps of starting one domain look alike from outside. */
	if (strcmp(from, state_names[s]) == 0)
		return;
	struct json_object *data = domain_event_data(d);
	json_object_object_add(data, "state",
			       json_object_new_string(state_names[s]));
	json_object_object_add(data, "from", json_object_new_string(from));
	engine_emit(d->dep->engine, LT_EV_DOMAIN_STATE, data);
}

/* --- domains ------------------------------------------------------------ */

static char **argv_build(const char *first, const char *second,
			 char *const *rest, size_t nrest)
{
	size_t n = (first != NULL) + (second != NULL) + nrest;
	char **argv = calloc(n + 1, sizeof(*argv));
	size_t i = 0;

	if (argv == NULL)
		return NULL;
	if (first != NULL && (argv[i++] = strdup(first)) == NULL)
		goto fail;
	if (second != NULL && (argv[i++] = strdup(second)) == NULL)
		goto fail;
	for (size_t k = 0; k < nrest; k++)
		if ((argv[i++] = strdup(rest[k])) == NULL)
			goto fail;
	return argv;
fail:
	for (size_t k = 0; k < n; k++)
		free(argv[k]);
	free(argv);
	return NULL;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* On failure dst holds nothing to free (domain_new's nomem path frees
 * its fields). */
static int app_copy(struct lt_app *dst, const struct lt_app *src)
{
	*dst = *src;
	dst->ports = NULL;
	memset(&dst->image, 0, sizeof(dst->image));
	dst->argv = argv_build(NULL, NULL, src->argv, src->argc);
	if (dst->argv == NULL)
		return -1;
	if (lt_image_copy(&dst->image, &src->image) < 0)
		goto fail;
	if (src->nports > 0) {
		dst->ports = calloc(src->nports, sizeof(*dst->ports));
		if (dst->ports == NULL)
			goto fail;
		memcpy(dst->ports, src->ports,
		       src->nports * sizeof(*dst->ports));
	}
	return 0;
fail:
	argv_free(dst->argv);
	dst->argv = NULL;
	lt_image_free(&dst->image);
	return -1;
}

/*
 * Claims one of n numbered slots (VFs, ephemeral ranges) for owner. Claims
 * are by name, so a restarted app gets the slot it had. -1 when all are
 * taken.
 */
static int slot_claim(char (*owners)[LT_NAME_MAX + 1], unsigned n,
		      const char *owner)
{
	int free_slot = -1;

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(owners[i], owner) == 0)
			return (int)i;
		if (free_slot < 0 && owners[i][0] == '\0')
			free_slot = (int)i;
	}
	if (free_slot >= 0)
		snprintf(owners[free_slot], sizeof(owners[0]), "%s", owner);
	return free_slot;
}

static int domain_name_in_use(struct deployment *dep, struct domain *except,
			      const char *name)
{
	struct domain *d;

	TAILQ_FOREACH(d, &dep->domains, entry)
	if (d != except && d->state != DOM_GONE &&
	    strcmp(d->be.name, name) == 0)
		return 1;
	return 0;
}

void domain_free(struct domain *d)
{
	struct deployment *dep = d->dep;

	switch_abandon(d);
	restart_forget(d);
	TAILQ_REMOVE(&dep->domains, d, entry);
	if (d->guest_watch != NULL)
		lt_xs_unwatch(dep->engine->xs, d->guest_watch);
	ports_unwatch(dep->engine->xs, d);
	ports_free(d);
	/* The same app may live on in a domain that replaced this one. */
	/* A dynamic app's VF came from a switch of this domain: the one
	 * replacing it starts on the server path. */
	if (d->vf >= 0 && d->spec.mode == LT_MODE_DYNAMIC)
		dep->vf_owner[d->vf][0] = '\0';
	if (!domain_name_in_use(dep, d, d->be.name)) {
		if (d->pool_ip && d->pool != NULL)
			lt_ippool_release(d->pool, d->be.name);
		if (d->vf >= 0)
			dep->vf_owner[d->vf][0] = '\0';
		if (d->ephemeral >= 0)
			dep->ephemeral_owner[d->ephemeral][0] = '\0';
	}
	domain_boot_resolve(d, ECANCELED, "domain freed");
	argv_free(d->argv);
	argv_free(d->envp);
	argv_free(d->spec.argv);
	free(d->spec.ports);
	lt_image_free(&d->spec.image);
	free(d->guest_state);
	free(d);
}

/*
 * Makes a domain object for app (NULL: the network server) of spec, with
 * its address, MAC and VF reserved. Nothing is started.
 */
struct domain *domain_new(struct deployment *dep,
			  const struct lt_deployment *spec,
			  struct lt_ippool *pool, const struct lt_app *app,
			  struct lt_error *err)
{
	const struct daemon_config *cfg = dep->engine->cfg;
	struct domain *d = calloc(1, sizeof(*d));
	char path[512];

	if (d == NULL)
		goto nomem;
	d->dep = dep;
	d->vf = -1;
	d->ephemeral = -1;
	d->op_new = 1;
	d->be.deployment = &dep->be;
	if (app == NULL) {
		snprintf(d->spec.name, sizeof(d->spec.name), "server");
		d->spec.mode = LT_MODE_SERVER;
		d->spec.memory_bytes = spec->server.memory_bytes;
		d->spec.vcpus = spec->server.vcpus;
		d->spec.restart = spec->server.restart;
		if (lt_image_copy(&d->spec.image, &spec->server.image) < 0)
			goto nomem;
		d->be.is_server = 1;
		snprintf(path, sizeof(path), "%s/libretto-netserver",
			 cfg->libexec_dir);
		d->argv = argv_build(path, NULL, NULL, 0);
		if (d->argv == NULL)
			goto nomem;
	} else {
		if (app_copy(&d->spec, app) < 0)
			goto nomem;
		snprintf(path, sizeof(path), "%s/libretto-agent",
			 cfg->libexec_dir);
		d->argv = argv_build(path, "--", d->spec.argv, d->spec.argc);
		if (d->argv == NULL)
			goto nomem;
	}
	snprintf(d->be.name, sizeof(d->be.name), "%s", d->spec.name);
	d->be.argv = d->argv;
	d->be.memory_bytes = d->spec.memory_bytes;
	d->be.vcpus = d->spec.vcpus;
	d->be.kernel = d->spec.image.kernel;
	d->be.ramdisk = d->spec.image.ramdisk;
	d->be.cmdline = d->spec.image.cmdline;
	/* Server-mode apps share the server's IP and so its MAC too
	 * (docs/datapath.md). */
	lt_mac_for(dep->name,
		   d->spec.mode == LT_MODE_SERVER ? "server" : d->be.name,
		   d->mac);
	memcpy(d->be.mac, d->mac, sizeof(d->mac));
	d->be.vf = -1;
	d->be.vf_capable = app != NULL && d->spec.mode != LT_MODE_SERVER;
	TAILQ_INSERT_TAIL(&dep->domains, d, entry);

	if (d->spec.mode == LT_MODE_SERVER) {
		d->ip = spec->net.server_ip;
		if (app != NULL) {
			d->ephemeral =
			    slot_claim(dep->ephemeral_owner, LT_EPHEMERAL_SLOTS,
				       d->be.name);
			if (d->ephemeral < 0) {
				lt_error_set(err, LT_ERR_RESOURCE,
					     "%s: more than %d server-mode "
					     "apps: no ephemeral port range "
					     "left for %s",
					     dep->name, LT_EPHEMERAL_SLOTS,
					     d->be.name);
				goto fail;
			}
		}
	} else {
		if (lt_ippool_reserve(pool, d->be.name, &d->ip) < 0) {
			lt_error_set(err, LT_ERR_RESOURCE,
				     "no free address in the pool of %s for %s",
				     dep->name, d->be.name);
			goto fail;
		}
		d->pool_ip = 1;
		d->pool = pool;
	}
	if (d->spec.mode == LT_MODE_DIRECT) {
		d->vf = slot_claim(dep->vf_owner,
				   spec->net.vfs < LT_MAX_VFS ? spec->net.vfs
							      : LT_MAX_VFS,
				   d->be.name);
		d->be.vf = d->vf;
		if (d->vf < 0) {
			lt_error_set(err, LT_ERR_RESOURCE,
				     "no free VF in %s for %s", dep->name,
				     d->be.name);
			goto fail;
		}
	}
	return d;
nomem:
	lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
	if (d != NULL && d->dep != NULL && d->be.name[0] == '\0') {
		argv_free(d->argv);
		argv_free(d->spec.argv);
		free(d->spec.ports);
		lt_image_free(&d->spec.image);
		free(d);
		return NULL;
	}
fail:
	if (d != NULL)
		domain_free(d);
	return NULL;
}

struct domain *deployment_server(struct deployment *dep)
{
	struct domain *s;

	TAILQ_FOREACH(s, &dep->domains, entry)
	if (s->be.is_server && s->created && s->state != DOM_GONE)
		return s;
	return NULL;
}

struct domain *domain_find(struct deployment *dep, const char *name)
{
	struct domain *d;

	TAILQ_FOREACH(d, &dep->domains, entry)
	if (d->state != DOM_GONE && strcmp(d->be.name, name) == 0)
		return d;
	return NULL;
}

void wstatus_to_json(struct json_object *o, int wstatus)
{
	char name[16];

	if (WIFEXITED(wstatus)) {
		json_object_object_add(
		    o, "exit_code", json_object_new_int(WEXITSTATUS(wstatus)));
	} else if (WIFSIGNALED(wstatus)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(wstatus));

		snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
		json_object_object_add(o, "signal",
				       json_object_new_int(WTERMSIG(wstatus)));
		json_object_object_add(o, "signal_name",
				       json_object_new_string(name));
	}
}
