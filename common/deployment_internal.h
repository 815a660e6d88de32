/* Parts of the deployment loader, shared between its source files. */
#ifndef LIBRETTO_DEPLOYMENT_INTERNAL_H
#define LIBRETTO_DEPLOYMENT_INTERNAL_H

#include "deployment.h"
#include "yaml_util.h"

/* The network section; fills d->net. */
int lt_load_network(struct lt_yaml *y, yaml_node_t *node,
		    struct lt_network *net);
/* The apps sequence with its cross checks; needs d->net filled. */
int lt_load_apps(struct lt_yaml *y, yaml_node_t *node, struct lt_deployment *d);
/* Checks a name (deployment or app) and copies it into out. */
int lt_load_name(struct lt_yaml *y, yaml_node_t *node, const char *where,
		 char out[LT_NAME_MAX + 1]);

/* An app's optional memory and vcpus (either node may be NULL). */
/* restart, restart_limit, restart_window of the server or an app (any may
 * be NULL: absent). */
int lt_load_restart(struct lt_yaml *y, yaml_node_t *restart, yaml_node_t *limit,
		    yaml_node_t *window, const char *where,
		    struct lt_restart_policy *policy);
int lt_load_app_resources(struct lt_yaml *y, yaml_node_t *memory,
			  yaml_node_t *vcpus, const char *where,
			  struct lt_app *app);

/* kernel, ramdisk and cmdline of the server or an app (any may be NULL:
 * absent). */
int lt_load_image(struct lt_yaml *y, yaml_node_t *kernel, yaml_node_t *ramdisk,
		  yaml_node_t *cmdline, const char *where,
		  struct lt_image *image);

/* Number of addresses in the pool, first and last included. */
uint32_t lt_pool_size(const struct lt_network *net);

#endif
