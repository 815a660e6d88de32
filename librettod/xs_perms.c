/*
 * The access lists of docs/xenstore.md. A list's first entry is the
 * owner, who may do anything, and says what every domain not listed gets;
 * dom0 may do anything anyway. Directories get theirs before their
 * children are written, since xenstored gives a new node its parent's
 * list (with the creator as owner when a guest creates it).
 */
#include "xs_perms.h"

#include <stdio.h>

#include "xs.h"
#include <libretto/xs_paths.h>

#define PATH_LEN 256

static int set(struct lt_xs *xs, xs_transaction_t t, const char *path,
	       const struct xs_permissions *p, unsigned n)
{
	return lt_xs_mkdir(xs, t, path) < 0 ? -1
					    : lt_xs_chmod(xs, t, path, p, n);
}

int xs_perms_root(struct lt_xs *xs, xs_transaction_t t)
{
	const struct xs_permissions p[] = {{0, XS_PERM_NONE}};

	return set(xs, t, LT_XS_ROOT, p, 1);
}

int xs_perms_domain_dir(struct lt_xs *xs, xs_transaction_t t, unsigned domid)
{
	const struct xs_permissions p[] = {{0, XS_PERM_NONE},
					   {domid, XS_PERM_READ}};
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT, domid);
	return set(xs, t, path, p, 2);
}

int xs_perms_guest_dir(struct lt_xs *xs, xs_transaction_t t, unsigned domid,
		       int server)
{
	const struct xs_permissions p[] = {{domid, XS_PERM_NONE},
					   {(unsigned)server, XS_PERM_READ}};
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/guest", domid);
	return set(xs, t, path, p, server >= 0 ? 2 : 1);
}

int xs_perms_server_dirs(struct lt_xs *xs, xs_transaction_t t, unsigned server)
{
	const struct xs_permissions own[] = {{server, XS_PERM_NONE}};
	const struct xs_permissions dom0s[] = {{0, XS_PERM_NONE},
					       {server, XS_PERM_READ}};
	char path[PATH_LEN];

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/server", server);
	if (set(xs, t, path, own, 1) < 0)
		return -1;
	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS,
		 server);
	if (set(xs, t, path, dom0s, 2) < 0)
		return -1;
	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" LT_XS_SERVER_PORTMAP,
		 server);
	return set(xs, t, path, dom0s, 2);
}

int xs_perms_app_entry(struct lt_xs *xs, xs_transaction_t t, unsigned server,
		       unsigned app)
{
	const struct xs_permissions p[] = {{server, XS_PERM_NONE},
					   {app, XS_PERM_READ}};
	char path[PATH_LEN];

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS "/%u", server, app);
	return set(xs, t, path, p, 2);
}

int xs_perms_app_entry_leaf(struct lt_xs *xs, xs_transaction_t t,
			    unsigned server, unsigned app, const char *leaf)
{
	const struct xs_permissions p[] = {
	    {0, XS_PERM_NONE}, {server, XS_PERM_READ}, {app, XS_PERM_READ}};
	char path[PATH_LEN];

	snprintf(path, sizeof(path),
		 LT_XS_GUEST_FMT "/" LT_XS_SERVER_APPS "/%u/%s", server, app,
		 leaf);
	return lt_xs_chmod(xs, t, path, p, 3);
}
