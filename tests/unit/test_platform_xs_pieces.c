/*
 * A xen share's reference in xenstore (platform_xs.h): a VIF's 514 grant
 * refs are too long for one node of an unprivileged domain, so they go
 * into ring-ref0, ring-ref1, ... and come back joined.  Run against a
 * real xenstored by tests/integration/platform_xs_pieces.sh, which
 * exports XENSTORED_PATH, LIBRETTO_DOMID=5 and LIBRETTO_PLATFORM=xen
 * (the texts are the xen realisation's; no share is made, so no Xen is
 * needed).
 *
 * What this host cannot show: the ENOSPC that xenstored gives an
 * unprivileged domain for a node over its quota, since every socket
 * client is dom0 here.  That part runs in tests/xen/plat_pingpong.
 */
#include "check.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "platform_xs.h"
#include "vif.h"
#include "xen_refs.h"

static struct guest_xs gx;

/* The value of leaf below our guest/vif, or NULL (free it). */
static char *read_leaf(const char *leaf)
{
	char path[192];
	unsigned len;

	if (plat_xs_vif_path(path, sizeof(path), gx.domid, leaf) < 0)
		return NULL;
	return xs_read(gx.h, XBT_NULL, path, &len);
}

static void write_leaf(const char *leaf, const char *value)
{
	char path[192];

	CHECK(plat_xs_vif_path(path, sizeof(path), gx.domid, leaf) == 0);
	CHECK(xs_write(gx.h, XBT_NULL, path, value, strlen(value)));
}

static int leaf_exists(const char *leaf)
{
	char *v = read_leaf(leaf);

	free(v);
	return v != NULL;
}

static const char *piece(unsigned i)
{
	static char leaf[64];

	snprintf(leaf, sizeof(leaf), PLAT_XS_VIF_RING_REF "%u", i);
	return leaf;
}

/* A VIF's refs as Xen's default grant table gives them: 5 digits. */
static void vif_text(char *buf, size_t size)
{
	uint32_t refs[VIF_PAGES];
	size_t i;

	for (i = 0; i < VIF_PAGES; i++)
		refs[i] = 10000 + (uint32_t)(i * 37 % 20000);
	CHECK(xen_refs_format(refs, VIF_PAGES, buf, size) == 0);
}

static void test_long(const char *text)
{
	struct plat_vif_info info;
	unsigned i;
	char *v;

	CHECK(plat_xs_vif_publish_refs(&gx, text, VIF_PAGES, "17") == 0);
	CHECK(!leaf_exists(PLAT_XS_VIF_RING_REF));
	for (i = 0; i < 4; i++) {
		v = read_leaf(piece(i));
		if (CHECK(v != NULL))
			CHECK(strlen(v) <= PLAT_XS_REF_NODE_MAX);
		free(v);
	}
	CHECK(!leaf_exists(piece(4)));
	if (CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == 0)) {
		CHECK(strcmp(info.platform, "xen") == 0);
		CHECK(strcmp(info.ring_ref, text) == 0);
		CHECK(info.ring_pages == VIF_PAGES);
		CHECK(strcmp(info.event_channel, "17") == 0);
		CHECK(info.state == XenbusStateInitialised);
	}
}

static void test_forms(void)
{
	static char text[PLAT_REF_MAX];
	struct plat_vif_info info;
	unsigned i;
	char *v;

	vif_text(text, sizeof(text));
	test_long(text);

	/* a short reference replaces the pieces with one node */
	CHECK(plat_xs_vif_publish_refs(&gx, "8,9", 2, "18") == 0);
	v = read_leaf(PLAT_XS_VIF_RING_REF);
	CHECK(v != NULL && strcmp(v, "8,9") == 0);
	free(v);
	for (i = 0; i < PLAT_XS_REF_NODES_MAX; i++)
		CHECK(!leaf_exists(piece(i)));
	if (CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == 0))
		CHECK(strcmp(info.ring_ref, "8,9") == 0);

	/* and back; then withdraw takes everything */
	test_long(text);
	CHECK(plat_xs_vif_withdraw(&gx) == 0);
	CHECK(!leaf_exists(PLAT_XS_VIF_RING_REF));
	for (i = 0; i < PLAT_XS_REF_NODES_MAX; i++)
		CHECK(!leaf_exists(piece(i)));
	CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == -ENOENT);

	/* a text that cannot be cut is refused, and nothing is written */
	CHECK(plat_xs_vif_publish_refs(&gx, "1,,2", 2, "19") == 0);
	memset(text, '7', 1500);
	text[1500] = '\0';
	CHECK(plat_xs_vif_publish_refs(&gx, text, 1, "19") == -EINVAL);
	v = read_leaf(PLAT_XS_VIF_RING_REF);
	CHECK(v != NULL && strcmp(v, "1,,2") == 0);
	free(v);
	CHECK(plat_xs_vif_withdraw(&gx) == 0);
}

/* Pieces written by hand, as a faulty or hostile frontend might. */
static void test_malformed(void)
{
	struct plat_vif_info info;
	char big[PLAT_XS_REF_NODE_MAX + 2], path[192];
	unsigned i;

	CHECK(plat_xs_vif_publish_refs(&gx, "8", 1, "20") == 0);
	CHECK(plat_xs_vif_path(path, sizeof(path), gx.domid,
			       PLAT_XS_VIF_RING_REF) == 0);
	CHECK(xs_rm(gx.h, XBT_NULL, path));
	/* a gap: ring-ref1 without ring-ref0 is nothing published */
	write_leaf(piece(1), "9");
	CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == -ENOENT);
	/* an empty piece */
	write_leaf(piece(0), "8");
	write_leaf(piece(1), "");
	CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == -EINVAL);
	/* a piece longer than a node may be */
	memset(big, '1', PLAT_XS_REF_NODE_MAX + 1);
	big[PLAT_XS_REF_NODE_MAX + 1] = '\0';
	write_leaf(piece(1), big);
	CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == -EINVAL);
	/* pieces of a node's length each that join to more than a
	 * reference can be: 4 * 1024 + 3 commas > PLAT_REF_MAX - 1 */
	big[PLAT_XS_REF_NODE_MAX] = '\0';
	for (i = 0; i < 4; i++)
		write_leaf(piece(i), big);
	CHECK(plat_xs_vif_read(gx.h, gx.domid, &info) == -EINVAL);
	/* posix's reader refuses xen's references by name: see
	 * test_platform_xs; here the platform is xen throughout */
	CHECK(plat_xs_vif_withdraw(&gx) == 0);
	for (i = 0; i < PLAT_XS_REF_NODES_MAX; i++)
		CHECK(!leaf_exists(piece(i)));
}

int main(void)
{
	if (strcmp(plat_name(), "xen") != 0) {
		fprintf(stderr, "run me with %s=xen\n", PLAT_ENV);
		return 2;
	}
	if (guest_xs_open(&gx, "test_platform_xs_pieces") < 0)
		return 1;
	test_forms();
	test_malformed();
	guest_xs_close(&gx);
	return check_summary("platform_xs_pieces");
}
