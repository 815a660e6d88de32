/*
 * The boot nodes: what the guest image's /init runs (docs/xen.md, "The
 * boot contract").  Written by domain_run, before the unpause, once the
 * engine's own layout of the domain is in place, so nothing overwrites
 * them:
 *
 *   /local/domain/<domid>/libretto/boot/argv/<i>   i = 0 .. argc - 1
 *   /local/domain/<domid>/libretto/boot/env/<i>    "K=V"
 *
 * Owner dom0, readable by the guest, written by nobody else.  argv[0]
 * loses its directory: the engine names the helper by its path in dom0's
 * libexec dir, the image has it in its own (the /init looks a bare name up
 * in /usr/libexec/libretto, then in PATH).  env starts with the guest's
 * domid, as the sim gives it (LT_ENV_DOMID), then the engine's entries,
 * which win.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "xl_backend.h"
#include "xs.h"
#include <libretto/xs_paths.h>

#define BOOT_PATH_LEN 128

const char *xl_boot_program(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : argv0;
}

struct boot_write {
	unsigned domid;
	char *const *argv;
	char *const *envp;
	const char *what; /* the node that failed */
};

static int write_list(struct lt_xs *xs, xs_transaction_t t,
		      struct boot_write *w, const char *dir, const char *first,
		      char *const *list, int first_is_program)
{
	char path[BOOT_PATH_LEN];
	unsigned i = 0;

	w->what = dir;
	if (first != NULL) {
		snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/%s/%u", w->domid,
			 dir, i++);
		if (lt_xs_printf(xs, t, path, "%s", first) < 0)
			return -1;
	}
	for (size_t k = 0; list != NULL && list[k] != NULL; k++) {
		const char *v = k == 0 && first_is_program
				    ? xl_boot_program(list[k])
				    : list[k];

		snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/%s/%u", w->domid,
			 dir, i++);
		if (lt_xs_printf(xs, t, path, "%s", v) < 0)
			return -1;
	}
	return 0;
}

static int boot_body(struct lt_xs *xs, xs_transaction_t t, void *arg)
{
	struct boot_write *w = arg;
	char path[BOOT_PATH_LEN], domid_env[32];
	/* The owner (dom0) may do anything, every other domain nothing; the
	 * guest may read. */
	struct xs_permissions perms[2] = {
	    {.id = 0, .perms = XS_PERM_NONE},
	    {.id = w->domid, .perms = XS_PERM_READ},
	};

	/* A fresh directory: nothing of an earlier write is left, and the
	 * nodes below inherit its permissions (lt_xs_chmod). */
	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" LT_XS_BOOT, w->domid);
	w->what = LT_XS_BOOT;
	if ((lt_xs_rm(xs, t, path) < 0 && errno != ENOENT) ||
	    lt_xs_mkdir(xs, t, path) < 0 ||
	    lt_xs_chmod(xs, t, path, perms, 2) < 0)
		return -1;
	snprintf(domid_env, sizeof(domid_env), "%s=%u", LT_ENV_DOMID, w->domid);
	if (write_list(xs, t, w, LT_XS_BOOT_ARGV, NULL, w->argv, 1) < 0 ||
	    write_list(xs, t, w, LT_XS_BOOT_ENV, domid_env, w->envp, 0) < 0)
		return -1;
	return 0;
}

int xl_boot_write(struct lt_xs *xs, unsigned domid, char *const *argv,
		  char *const *envp, char **err)
{
	struct boot_write w = {
	    .domid = domid, .argv = argv, .envp = envp, .what = "?"};

	if (argv == NULL || argv[0] == NULL) {
		*err = lt_strdupf("domain %u: nothing to run", domid);
		return -1;
	}
	if (lt_xs_transact(xs, boot_body, &w) < 0) {
		*err = lt_strdupf("xenstore: domain %u: writing %s: %s", domid,
				  w.what, strerror(errno));
		return -1;
	}
	return 0;
}
