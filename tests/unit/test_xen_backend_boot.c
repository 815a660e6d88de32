/*
 * The xen backend's boot nodes (librettod/xen/xl_boot.c) in a real
 * xenstored: Debian's C xenstored under the project's preload, in a
 * private directory, as test_platform_xs runs it.  Checks every node the
 * guest image's /init reads, their permissions (dom0 owns, the guest
 * reads), and that a second write leaves nothing of the first.
 *
 * What a guest sees of them under Xen (a read allowed, a write refused)
 * needs a real domain: tests/xen/run.
 *
 * usage: test_xen_backend_boot <libretto-xsd-preload.so> <xenstored>
 * Exits 77 (skip) when either is missing or we are not root.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "check.h"
#include "xl_backend.h"
#include "xs.h"
#include "xsd_util.h"

#define DOMID 7

static struct test_xsd xsd = {.pid = -1};

static char *node(struct xs_handle *h, const char *leaf)
{
	char path[128];
	unsigned len;

	snprintf(path, sizeof(path), "/local/domain/%d/libretto/boot/%s", DOMID,
		 leaf);
	return xs_read(h, XBT_NULL, path, &len);
}

static int node_is(struct xs_handle *h, const char *leaf, const char *want)
{
	char *v = node(h, leaf);
	int ok = v != NULL && strcmp(v, want) == 0;

	if (!ok)
		fprintf(stderr, "boot/%s: \"%s\", not \"%s\"\n", leaf,
			v ? v : "(absent)", want);
	free(v);
	return ok;
}

static int node_absent(struct xs_handle *h, const char *leaf)
{
	char *v = node(h, leaf);

	free(v);
	return v == NULL && errno == ENOENT;
}

/* Owner dom0 (everyone else: nothing), the guest may read. */
static int perms_ok(struct xs_handle *h, const char *leaf)
{
	char path[128];
	struct xs_permissions *p;
	unsigned n = 0;
	int ok;

	snprintf(path, sizeof(path), "/local/domain/%d/libretto/boot%s%s",
		 DOMID, leaf[0] ? "/" : "", leaf);
	p = xs_get_permissions(h, XBT_NULL, path, &n);
	ok = p != NULL && n == 2 && p[0].id == 0 &&
	     p[0].perms == XS_PERM_NONE && p[1].id == DOMID &&
	     p[1].perms == XS_PERM_READ;
	if (!ok)
		fprintf(stderr, "%s: %u permissions, not n0 r%d\n", path, n,
			DOMID);
	free(p);
	return ok;
}

static void test_boot(struct lt_xs *xs, struct xs_handle *h)
{
	char *const argv[] = {"/usr/local/libexec/libretto/libretto-agent",
			      "--",
			      "redis-server",
			      "--save",
			      "",
			      NULL};
	char *const envp[] = {"A=1", "LIBRETTO_DOMID=99", NULL};
	char *const argv2[] = {"/x/libretto-netserver", NULL};
	char *err = NULL;

	CHECK(lt_xs_mkdir(xs, XBT_NULL, "/local/domain/7/libretto") == 0);
	if (!CHECK(xl_boot_write(xs, DOMID, argv, envp, &err) == 0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	CHECK(node_is(h, "argv/0", "libretto-agent"));
	CHECK(node_is(h, "argv/1", "--"));
	CHECK(node_is(h, "argv/2", "redis-server"));
	CHECK(node_is(h, "argv/3", "--save"));
	CHECK(node_is(h, "argv/4", ""));
	CHECK(node_absent(h, "argv/5"));
	/* the domid first; the engine's entries after it win */
	CHECK(node_is(h, "env/0", "LIBRETTO_DOMID=7"));
	CHECK(node_is(h, "env/1", "A=1"));
	CHECK(node_is(h, "env/2", "LIBRETTO_DOMID=99"));
	CHECK(node_absent(h, "env/3"));
	CHECK(perms_ok(h, ""));
	CHECK(perms_ok(h, "argv"));
	CHECK(perms_ok(h, "argv/0"));
	CHECK(perms_ok(h, "env/1"));

	/* again, shorter, no env: nothing of the first write is left */
	CHECK(xl_boot_write(xs, DOMID, argv2, NULL, &err) == 0);
	CHECK(node_is(h, "argv/0", "libretto-netserver"));
	CHECK(node_absent(h, "argv/1"));
	CHECK(node_is(h, "env/0", "LIBRETTO_DOMID=7"));
	CHECK(node_absent(h, "env/1"));

	char *const none[] = {NULL};
	CHECK(xl_boot_write(xs, DOMID, none, NULL, &err) < 0);
	CHECK(err && strcmp(err, "domain 7: nothing to run") == 0);
	free(err);
}

int main(int argc, char **argv)
{
	struct event_base *base = NULL;
	struct lt_xs *xs = NULL;
	struct xs_handle *h = NULL;
	char *err = NULL;
	int status = test_xsd_args(argc, argv);

	if (status >= 0)
		return status;
	if (!CHECK(test_xsd_start(&xsd, "xen-boot", argv[1], argv[2]) == 0))
		goto out;
	base = event_base_new();
	xs = base ? lt_xs_open(base, xsd.socket, &err) : NULL;
	h = xs_open(0);
	if (CHECK(xs != NULL && h != NULL))
		test_boot(xs, h);
	else
		fprintf(stderr, "%s\n", err ? err : "no connection");
out:
	free(err);
	if (h != NULL)
		xs_close(h);
	if (xs != NULL)
		lt_xs_close(xs);
	if (base != NULL)
		event_base_free(base);
	test_xsd_stop(&xsd);
	return check_summary("test_xen_backend_boot");
}
