/* The status command's result (docs/protocol.md, "status result"). */
#include <arpa/inet.h>
#include <inttypes.h>
#include <libretto/xs_paths.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "engine.h"
#include "fairness.h"
#include "guest_input.h"
#include "mac.h"
#include "op.h"
#include "xs.h"
#include <libretto/protocol.h>

static const char *const deployment_state_names[] = {
    [DEP_DEPLOYING] = "deploying",
    [DEP_RUNNING] = "running",
    [DEP_DESTROYING] = "destroying",
    [DEP_FAILED] = "failed",
};

static struct json_object *addr_json(struct in_addr a)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/*
 * The counters under dir, as numbers; NULL when there are none (no server,
 * or not yet written). writer (the network server, or the app for its VF)
 * wrote them: names outside the grammar, values that are not bounded
 * decimals and entries past GUEST_COUNTERS_MAX are refused, reported
 * against it, and left out.
 */
static struct json_object *counters_json(struct domain *writer, const char *dir)
{
	char **names = lt_xs_list(writer->dep->engine->xs, XBT_NULL, dir);
	struct json_object *o = NULL;
	char path[320];

	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		enum guest_fault f = guest_name(names[i]);
		uint64_t n;

		if (i == GUEST_COUNTERS_MAX) {
			guest_refused(writer, dir, NULL, GUEST_TOO_MANY);
			break;
		}
		if (f != GUEST_OK) {
			guest_refused(writer, dir, names[i], f);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (guest_read_u64(writer, path, INT64_MAX, &n) < 0)
			continue;
		if (o == NULL)
			o = json_object_new_object();
		json_object_object_add(o, names[i],
				       json_object_new_int64((int64_t)n));
	}
	free(names);
	return o;
}

static void counters_describe(struct domain *d, struct json_object *o)
{
	struct domain *s = deployment_server(d->dep);
	char dir[256];

	if (s == NULL || !d->created) {
		json_object_object_add(o, "counters", NULL);
		return;
	}
	if (d == s)
		snprintf(dir, sizeof(dir),
			 LT_XS_GUEST_FMT "/" LT_XS_SERVER_STATS, s->domid);
	else
		snprintf(dir, sizeof(dir),
			 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS
					 "/%u/" LT_XS_APP_STATS,
			 s->domid, d->domid);
	json_object_object_add(o, "counters", counters_json(s, dir));
}

/* Where the domain's frames go: the server's PF, the server path, or the
 * app's own VF (a dynamic app holds one from the start of a switch to
 * the VF until the end of the switch back). */
static const char *path_name(const struct domain *d)
{
	if (d->be.is_server)
		return "pf";
	if (d->spec.mode == LT_MODE_DIRECT ||
	    (d->spec.mode == LT_MODE_DYNAMIC && d->on_vf))
		return LT_PATH_DIRECT;
	return LT_PATH_SERVER;
}

/* The VF's counters, as the agent publishes them. */
static void vf_counters_describe(struct domain *d, struct json_object *o)
{
	char dir[256];

	if (d->be.is_server || d->vf < 0 || !d->created) {
		json_object_object_add(o, "vf_counters", NULL);
		return;
	}
	snprintf(dir, sizeof(dir), LT_XS_GUEST_FMT "/" LT_XS_GUEST_VF_STATS,
		 d->domid);
	json_object_object_add(o, "vf_counters", counters_json(d, dir));
}

/*
 * What the domain boots, each part as it is used: its file's own (a path
 * resolved against images_dir) or the daemon config's default, which
 * image_default lists. The sim boots none of them and shows the same.
 */
static void image_describe(struct engine *e, struct domain *d,
			   struct json_object *o)
{
	const struct lt_image *own = &d->spec.image;
	struct json_object *defaults = json_object_new_array();
	const struct {
		const char *key, *own, *fallback;
	} parts[] = {
	    {"kernel", own->kernel, e->cfg->xen_kernel},
	    {"ramdisk", own->ramdisk, e->cfg->xen_ramdisk},
	    {"cmdline", own->cmdline, e->cfg->xen_cmdline},
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_object_object_add(
		    o, parts[i].key,
		    json_object_new_string(parts[i].own ? parts[i].own
							: parts[i].fallback));
		if (parts[i].own == NULL)
			json_object_array_add(
			    defaults, json_object_new_string(parts[i].key));
	}
	json_object_object_add(o, "image_default", defaults);
}

static struct json_object *domain_json(struct engine *e, struct domain *d)
{
	struct json_object *o = json_object_new_object();
	char mac[18];

	lt_mac_format(d->mac, mac);
	json_object_object_add(o, "name", json_object_new_string(d->be.name));
	json_object_object_add(
	    o, "domid", d->domid != 0 ? json_object_new_int64(d->domid) : NULL);
	json_object_object_add(
	    o, "role",
	    json_object_new_string(d->be.is_server ? "server" : "app"));
	json_object_object_add(
	    o, "mode", json_object_new_string(lt_mode_name(d->spec.mode)));
	json_object_object_add(
	    o, "state", json_object_new_string(domain_state_name(d->state)));
	json_object_object_add(o, "ip", addr_json(d->ip));
	json_object_object_add(o, "prefix",
			       json_object_new_int(d->dep->be.net->prefix));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "vf",
			       d->vf >= 0 ? json_object_new_int(d->vf) : NULL);
	json_object_object_add(o, "path", json_object_new_string(path_name(d)));
	json_object_object_add(o, "switching",
			       d->sw ? json_object_new_int64(switch_op_id(d))
				     : NULL);
	json_object_object_add(o, "restarts",
			       json_object_new_int64(d->nrestarts));
	json_object_object_add(o, "gave_up",
			       json_object_new_boolean(d->gave_up));
	image_describe(e, d, o);
	ports_describe(d, o);
	counters_describe(d, o);
	vf_counters_describe(d, o);
	fairness_describe(e, d, o);
	json_object_object_add(
	    o, "guest_state",
	    d->guest_state ? json_object_new_string(d->guest_state) : NULL);
	json_object_object_add(
	    o, "guest_input_refused",
	    json_object_new_int64((int64_t)d->refused.count));
	if (d->exited) {
		struct json_object *x = json_object_new_object();

		wstatus_to_json(x, d->wstatus);
		json_object_object_add(o, "exit", x);
	} else {
		json_object_object_add(o, "exit", NULL);
	}
	if (d->created)
		e->backend->ops->domain_describe(e->backend, &d->be, o);
	return o;
}

static struct json_object *network_json(const struct lt_network *net)
{
	struct json_object *o = json_object_new_object();
	char subnet[INET_ADDRSTRLEN + 4], pool[2 * INET_ADDRSTRLEN + 1];
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &net->subnet, a, sizeof(a));
	snprintf(subnet, sizeof(subnet), "%s/%u", a, net->prefix);
	inet_ntop(AF_INET, &net->pool_first, a, sizeof(a));
	inet_ntop(AF_INET, &net->pool_last, b, sizeof(b));
	snprintf(pool, sizeof(pool), "%s-%s", a, b);
	json_object_object_add(o, "nic", json_object_new_string(net->nic));
	json_object_object_add(o, "subnet", json_object_new_string(subnet));
	json_object_object_add(o, "gateway", addr_json(net->gateway));
	json_object_object_add(o, "server_ip", addr_json(net->server_ip));
	json_object_object_add(o, "pool", json_object_new_string(pool));
	json_object_object_add(o, "vfs", json_object_new_int(net->vfs));
	return o;
}

static struct json_object *deployment_json(struct engine *e,
					   struct deployment *dep)
{
	struct json_object *o = json_object_new_object();
	struct json_object *domains = json_object_new_array();
	struct domain *d;

	json_object_object_add(o, "name", json_object_new_string(dep->name));
	json_object_object_add(
	    o, "state",
	    json_object_new_string(deployment_state_names[dep->state]));
	json_object_object_add(
	    o, "op", dep->op ? json_object_new_int64(dep->op->id) : NULL);
	json_object_object_add(o, "network", network_json(dep->be.net));
	json_object_object_add(
	    o, "images_dir",
	    dep->spec != NULL && dep->spec->images_dir != NULL
		? json_object_new_string(dep->spec->images_dir)
		: NULL);
	e->backend->ops->deployment_describe(e->backend, &dep->be, o);
	TAILQ_FOREACH(d, &dep->domains, entry)
	{
		if (d->state != DOM_GONE)
			json_object_array_add(domains, domain_json(e, d));
	}
	json_object_object_add(o, "domains", domains);
	return o;
}

static struct json_object *backend_json(struct engine *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name",
			       json_object_new_string(e->backend->ops->name));
	e->backend->ops->describe(e->backend, o);
	if (e->backend_failure != NULL)
		json_object_object_add(
		    o, "failed", json_object_new_string(e->backend_failure));
	return o;
}

int engine_status(struct engine *e, const char *dep_name, const char *dom_name,
		  struct json_object **result, struct lt_error *err)
{
	struct json_object *deps;
	struct deployment *dep;

	if (dep_name != NULL) {
		dep = engine_find(e, dep_name);
		if (dep == NULL) {
			lt_error_set(err, LT_ERR_NOT_FOUND,
				     "no deployment '%s'", dep_name);
			return -1;
		}
		if (dom_name != NULL) {
			struct domain *d;

			TAILQ_FOREACH(d, &dep->domains, entry)
			if (d->state != DOM_GONE &&
			    strcmp(d->be.name, dom_name) == 0) {
				*result = domain_json(e, d);
				return 0;
			}
			lt_error_set(err, LT_ERR_NOT_FOUND,
				     "no domain '%s' in deployment '%s'",
				     dom_name, dep_name);
			return -1;
		}
	} else if (dom_name != NULL) {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT,
			     "args.domain needs args.deployment");
		return -1;
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "backend", backend_json(e));
	deps = json_object_new_array();
	TAILQ_FOREACH(dep, &e->deployments, entry)
	{
		if (dep_name == NULL || strcmp(dep->name, dep_name) == 0)
			json_object_array_add(deps, deployment_json(e, dep));
	}
	json_object_object_add(*result, "deployments", deps);
	return 0;
}
