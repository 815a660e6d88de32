/*
 * The xenstore layout the daemon keeps (docs/xenstore.md): what a domain,
 * a deployment and the daemon itself look like in the store.
 */
#ifndef LIBRETTOD_XS_LAYOUT_H
#define LIBRETTOD_XS_LAYOUT_H

struct lt_xs;
struct domain;
struct deployment;

/* /libretto/daemon and /local/domain/0, as a toolstack does. */
int xs_layout_daemon_write(struct lt_xs *xs, const char *backend, char **err);
void xs_layout_daemon_remove(struct lt_xs *xs);

/* /local/domain/<domid>/{name,domid,libretto/...}, the domain's portmap and
 * pool entries; then watches guest/state. */
int xs_layout_domain_write(struct lt_xs *xs, struct domain *d, char **err);
void xs_layout_domain_unwatch(struct lt_xs *xs, struct domain *d);
void xs_layout_domain_remove(struct lt_xs *xs, struct domain *d);

/* /libretto/pool/<dep>/vf/<i> = "" and the empty portmap. */
int xs_layout_deployment_write(struct lt_xs *xs, struct deployment *dep,
			       char **err);
void xs_layout_deployment_remove(struct lt_xs *xs, struct deployment *dep);

/* A domain adopted from an earlier daemon (adopt.c): its nodes are there;
 * its port claims are taken back and its watches set. */
int xs_layout_domain_adopt(struct lt_xs *xs, struct domain *d, char **err);
/* The deployment's network server was (re)created: write, for every live
 * app, what datapath_write wrote at the app's own create (its net/backend,
 * the server's server/apps/<domid>/, the portmap mirror). An app that
 * cannot be rebound is logged and left unbound: the recovery's report
 * names it. */
void xs_layout_apps_rebind(struct lt_xs *xs, struct deployment *dep);

#endif
