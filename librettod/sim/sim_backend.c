/* The sim backend's operations table and its backend-wide state. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

/* As Xen does: counting up and wrapping, so that a domid just freed is not
 * handed out again at once, and never one still in use. */
unsigned sim_domid_alloc(struct sim_backend *sim)
{
	for (unsigned tries = 1; tries < SIM_DOMID_LIMIT; tries++) {
		unsigned domid = sim->next_domid;
		sim->next_domid = domid + 1 < SIM_DOMID_LIMIT ? domid + 1 : 1;
		if (sim->domid_used[domid / 8] & (1U << (domid % 8)))
			continue;
		sim->domid_used[domid / 8] |= (uint8_t)(1U << (domid % 8));
		return domid;
	}
	return 0;
}

int sim_domid_claim(struct sim_backend *sim, unsigned domid)
{
	if (!domid || domid >= SIM_DOMID_LIMIT ||
	    (sim->domid_used[domid / 8] & (1U << (domid % 8))))
		return 0;
	sim->domid_used[domid / 8] |= (uint8_t)(1U << (domid % 8));
	/* New domids come after the adopted ones, as Xen's would. */
	if (domid >= sim->next_domid)
		sim->next_domid = domid + 1 < SIM_DOMID_LIMIT ? domid + 1 : 1;
	return 1;
}

void sim_domid_release(struct sim_backend *sim, unsigned domid)
{
	if (domid && domid < SIM_DOMID_LIMIT)
		sim->domid_used[domid / 8] &= (uint8_t) ~(1U << (domid % 8));
}

static int sim_init(struct backend *be, lt_done_fn done, void *arg, char **err)
{
	struct sim_backend *sim = calloc(1, sizeof(*sim));

	if (!sim) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	sim->be = be;
	sim->next_domid = 1;
	LIST_INIT(&sim->domains);
	LIST_INIT(&sim->deployments);
	be->priv = sim;
	if (sim_xenstored_start(sim, done, arg, err) < 0) {
		be->priv = NULL;
		free(sim);
		return -1;
	}
	return 0;
}

static const char *sim_xenstore_path(struct backend *be)
{
	struct sim_backend *sim = be->priv;

	return sim && sim->xsd ? sim_xenstored_socket(sim->xsd) : NULL;
}

static void sim_describe(struct backend *be, struct json_object *obj)
{
	struct sim_backend *sim = be->priv;

	if (!sim || !sim->xsd)
		return;
	pid_t pid = sim_xenstored_pid(sim->xsd);
	json_object_object_add(
	    obj, "xenstored_socket",
	    json_object_new_string(sim_xenstored_socket(sim->xsd)));
	json_object_object_add(obj, "xenstored_pid",
			       pid ? json_object_new_int(pid) : NULL);
}

/* Domains and xenstored keep running: only the handles go. */
static void sim_shutdown(struct backend *be)
{
	struct sim_backend *sim = be->priv;

	if (!sim)
		return;
	sim_domain_release_all(sim);
	sim_deployment_release_all(sim);
	while (!LIST_EMPTY(&sim->parked)) {
		struct sim_parked_vf *p = LIST_FIRST(&sim->parked);

		LIST_REMOVE(p, entry);
		free(p);
	}
	sim_xenstored_release(sim->xsd);
	free(sim);
	be->priv = NULL;
}

const struct backend_ops sim_backend_ops = {
    .name = "sim",
    /* The agent reports ready in well under a second on an idle host
     * (docs/sim.md); a minute leaves room for a host shared with other
     * work, where processes wait for a CPU, without hiding a guest that
     * never comes up. */
    .boot_timeout_ms = 60000,
    .init = sim_init,
    .xenstore_path = sim_xenstore_path,
    .describe = sim_describe,
    .deployment_setup = sim_deployment_setup,
    .deployment_teardown = sim_deployment_teardown,
    .deployment_describe = sim_deployment_describe,
    .domain_create = sim_domain_create,
    .domain_run = sim_domain_run,
    .domain_destroy = sim_domain_destroy,
    .domain_recreate = sim_domain_recreate,
    .deployment_adopt = sim_deployment_adopt,
    .domain_adopt = sim_domain_adopt,
    .domain_describe = sim_domain_describe,
    .vf_prepare = sim_vf_prepare,
    .vf_attach = sim_vf_attach,
    .vf_detach = sim_vf_detach,
    .vf_release = sim_vf_release,
    .shutdown = sim_shutdown,
};
