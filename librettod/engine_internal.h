/* What the engine's own files share and nothing else uses. */
#ifndef LIBRETTOD_ENGINE_INTERNAL_H
#define LIBRETTOD_ENGINE_INTERNAL_H

#include "engine.h"
#include "proto.h"

struct lt_ippool;

/* domain.c */
/* A domain object for app (NULL: the network server) of spec, with its
 * address, MAC and VF reserved; nothing is started. NULL with err set. */
struct domain *domain_new(struct deployment *dep,
			  const struct lt_deployment *spec,
			  struct lt_ippool *pool, const struct lt_app *app,
			  struct lt_error *err);
/* Unlinks and frees it, releasing reservations no other domain of the
 * same name still holds. */
void domain_free(struct domain *d);
/* The live (not destroyed) domain of that name, or NULL. */
struct domain *domain_find(struct deployment *dep, const char *name);

/* registry.c */
struct deployment *deployment_new(struct engine *e, struct lt_deployment *spec);
void deployment_free(struct deployment *dep);

#endif
