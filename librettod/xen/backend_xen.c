/*
 * The xen backend (libxl PV domains) is issue 6.  Until then it is an honest
 * placeholder: every operation fails and says so, rather than pretending.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#define XEN_NOT_YET                                                            \
	"the xen backend is not implemented yet (issue 6); use --backend sim"

static int not_yet(char **err)
{
	*err = strdup(XEN_NOT_YET);
	return -1;
}

static int xen_init(struct backend *be, lt_done_fn done, void *arg, char **err)
{
	(void)be, (void)done, (void)arg;
	return not_yet(err);
}

static const char *xen_xenstore_path(struct backend *be)
{
	(void)be;
	return NULL; /* the system's xenstored */
}

static void xen_describe(struct backend *be, struct json_object *obj)
{
	(void)be, (void)obj;
}

static int xen_deployment_op(struct backend *be, struct be_deployment *dep,
			     lt_done_fn done, void *arg, char **err)
{
	(void)be, (void)dep, (void)done, (void)arg;
	return not_yet(err);
}

static void xen_deployment_describe(struct backend *be,
				    struct be_deployment *dep,
				    struct json_object *obj)
{
	(void)be, (void)dep, (void)obj;
}

static int xen_domain_op(struct backend *be, struct be_domain *dom,
			 lt_done_fn done, void *arg, char **err)
{
	(void)be, (void)dom, (void)done, (void)arg;
	return not_yet(err);
}

static void xen_domain_describe(struct backend *be, struct be_domain *dom,
				struct json_object *obj)
{
	(void)be, (void)dom, (void)obj;
}

static void xen_shutdown(struct backend *be)
{
	(void)be;
}

const struct backend_ops xen_backend_ops = {
    .name = "xen",
    .init = xen_init,
    .xenstore_path = xen_xenstore_path,
    .describe = xen_describe,
    .deployment_setup = xen_deployment_op,
    .deployment_teardown = xen_deployment_op,
    .deployment_describe = xen_deployment_describe,
    .domain_create = xen_domain_op,
    .domain_run = xen_domain_op,
    .domain_destroy = xen_domain_op,
    .domain_describe = xen_domain_describe,
    .shutdown = xen_shutdown,
};
