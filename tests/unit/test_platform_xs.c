/*
 * The platform layer's xenstore helpers (guests/platform/platform_xs.h)
 * against a real xenstored: Debian's C xenstored under the project's
 * preload, started in a private directory as
 * tests/integration/xenstored_preload.sh does.  A frontend (domain 5)
 * publishes a ring and a channel; a backend process (domain 6) reads them
 * from xenstore, maps, binds and notifies; then the frontend withdraws.
 *
 * usage: test_platform_xs <libretto-xsd-preload.so> <xenstored>
 * Exits 77 (skip) when either is missing or we are not root.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "check.h"
#include "xsd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"
#include "platform_xs.h"

#define DOM_FRONT 5
#define DOM_BACK  6
#define NPAGES	  4
#define WAIT_MS	  10000

static struct test_xsd xsd = {.pid = -1};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 37u + 1u);
}

/* The backend: finds everything through xenstore alone. */
static int run_backend(void)
{
	struct plat_vif_info info;
	struct plat_shared *m = NULL;
	struct plat_chan *b = NULL;
	struct xs_handle *h;
	uint8_t *p;
	size_t i;

	check_failures = 0;
	h = xs_open(0);
	if (!CHECK(h != NULL))
		return 1;
	if (!CHECK(plat_xs_vif_read(h, DOM_FRONT, &info) == 0))
		return 1;
	CHECK(strcmp(info.platform, "posix") == 0);
	CHECK(info.ring_pages == NPAGES);
	CHECK(info.state == XenbusStateInitialised);
	if (CHECK(plat_share_map(DOM_FRONT, info.ring_ref, info.ring_pages,
				 &m) == 0) &&
	    CHECK(plat_chan_bind(DOM_FRONT, info.event_channel, &b) == 0)) {
		p = plat_shared_addr(m);
		for (i = 0; i < NPAGES * plat_page_size(); i++)
			p[i] = pattern(i);
		CHECK(plat_chan_notify(b) == 0);
		/* the frontend's answer, once it is Connected */
		CHECK(plat_chan_wait(b, WAIT_MS) == 1);
	}
	plat_shared_free(m);
	plat_chan_close(b);
	xs_close(h);
	return check_failures;
}

static void write_raw(struct guest_xs *gx, const char *leaf, const char *v)
{
	char path[192];

	CHECK(plat_xs_vif_path(path, sizeof(path), gx->domid, leaf) == 0);
	CHECK(xs_write(gx->h, XBT_NULL, path, v, strlen(v)));
}

static void test_vif(void)
{
	struct plat_vif_info info;
	struct plat_shared *s;
	struct plat_chan *c;
	struct guest_xs gx;
	XenbusState st;
	char path[192];
	size_t i, bad = 0;
	uint8_t *p;
	pid_t pid;
	int status;

	setenv("LIBRETTO_DOMID", "5", 1);
	if (!CHECK(guest_xs_open(&gx, "test_platform_xs") == 0))
		return;
	CHECK(plat_xs_vif_path(path, sizeof(path), DOM_FRONT,
			       PLAT_XS_VIF_RING_REF) == 0);
	CHECK(strcmp(path, "/local/domain/5/libretto/guest/vif/ring-ref") == 0);
	CHECK(plat_xs_vif_path(path, 8, DOM_FRONT, PLAT_XS_VIF_RING_REF) ==
	      -ENAMETOOLONG);

	/* nothing published yet */
	CHECK(plat_xs_vif_read(gx.h, DOM_FRONT, &info) == -ENOENT);
	CHECK(plat_xs_vif_read_state(gx.h, DOM_FRONT, &st) == 0);
	CHECK(st == XenbusStateUnknown);

	if (!CHECK(plat_share_alloc(DOM_BACK, NPAGES, &s) == 0))
		goto out;
	if (!CHECK(plat_chan_alloc_unbound(DOM_BACK, &c) == 0)) {
		plat_shared_free(s);
		goto out;
	}
	CHECK(plat_xs_vif_publish(&gx, s, c) == 0);
	CHECK(plat_xs_vif_read(gx.h, DOM_FRONT, &info) == 0);
	CHECK(strcmp(info.ring_ref, plat_shared_ref(s)) == 0);
	CHECK(strcmp(info.event_channel, plat_chan_ref(c)) == 0);

	pid = fork();
	if (pid == 0)
		_exit(run_backend());
	CHECK(plat_chan_wait(c, WAIT_MS) == 1);
	p = plat_shared_addr(s);
	for (i = 0; i < NPAGES * plat_page_size(); i++)
		bad += p[i] != pattern(i);
	CHECK(bad == 0);
	CHECK(plat_xs_vif_set_state(&gx, XenbusStateConnected) == 0);
	CHECK(plat_xs_vif_read_state(gx.h, DOM_FRONT, &st) == 0);
	CHECK(st == XenbusStateConnected);
	CHECK(plat_chan_notify(c) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Malformed or foreign nodes are refused, not misread. */
	write_raw(&gx, PLAT_XS_VIF_RING_PAGES, "4x");
	CHECK(plat_xs_vif_read(gx.h, DOM_FRONT, &info) == -EINVAL);
	write_raw(&gx, PLAT_XS_VIF_RING_PAGES, "100000");
	CHECK(plat_xs_vif_read(gx.h, DOM_FRONT, &info) == -EINVAL);
	write_raw(&gx, PLAT_XS_VIF_RING_PAGES, "4");
	write_raw(&gx, PLAT_XS_VIF_PLATFORM, "xen");
	CHECK(plat_xs_vif_read(gx.h, DOM_FRONT, &info) == -EPROTONOSUPPORT);

	/* Withdrawn before freeing: a reader finds nothing to map. */
	CHECK(plat_xs_vif_withdraw(&gx) == 0);
	CHECK(plat_xs_vif_withdraw(&gx) == 0); /* twice is harmless */
	CHECK(plat_xs_vif_read(gx.h, DOM_FRONT, &info) == -ENOENT);
	CHECK(plat_xs_vif_read_state(gx.h, DOM_FRONT, &st) == 0);
	CHECK(st == XenbusStateClosed);
	plat_shared_free(s);
	plat_chan_close(c);
out:
	guest_xs_close(&gx);
}

int main(int argc, char **argv)
{
	int status = test_xsd_args(argc, argv);

	if (status >= 0)
		return status;
	if (!CHECK(test_xsd_start(&xsd, "plat-xs", argv[1], argv[2]) == 0)) {
		test_xsd_stop(&xsd);
		return check_summary("platform_xs");
	}
	test_vif();
	test_xsd_stop(&xsd);
	return check_summary("platform_xs");
}
