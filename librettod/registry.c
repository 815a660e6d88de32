/* The registry of deployments. */
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
#include "xs.h"
#include "xs_layout.h"
#include <libretto/protocol.h>
#include <libretto/xs_paths.h>

struct deployment *engine_find(struct engine *e, const char *name)
{
	struct deployment *dep;

	TAILQ_FOREACH(dep, &e->deployments, entry)
	if (strcmp(dep->name, name) == 0)
		return dep;
	return NULL;
}

struct deployment *deployment_new(struct engine *e, struct lt_deployment *spec)
{
	struct deployment *dep = calloc(1, sizeof(*dep));

	if (dep == NULL)
		return NULL;
	dep->pool = lt_ippool_new(spec->net.pool_first, spec->net.pool_last);
	if (dep->pool == NULL) {
		free(dep);
		return NULL;
	}
	dep->engine = e;
	snprintf(dep->name, sizeof(dep->name), "%s", spec->name);
	snprintf(dep->be.name, sizeof(dep->be.name), "%s", spec->name);
	dep->spec = spec;
	dep->be.net = &spec->net;
	lt_mac_for(dep->name, "server", dep->be.pf_mac);
	dep->state = DEP_DEPLOYING;
	TAILQ_INIT(&dep->domains);
	TAILQ_INSERT_TAIL(&e->deployments, dep, entry);
	return dep;
}

void deployment_free(struct deployment *dep)
{
	struct domain *d;

	recovery_free(dep);
	while ((d = TAILQ_FIRST(&dep->domains)) != NULL)
		domain_free(d);
	TAILQ_REMOVE(&dep->engine->deployments, dep, entry);
	lt_deployment_free(dep->spec);
	lt_deployment_free(dep->pending_spec);
	lt_ippool_free(dep->pool);
	lt_ippool_free(dep->pending_pool);
	free(dep->source_text);
	free(dep->source_file);
	free(dep->pending_text);
	free(dep->pending_file);
	free(dep);
}
