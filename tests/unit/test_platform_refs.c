/*
 * The reference texts of the xen platform (guests/platform/xen_refs.h)
 * and their cutting into xenstore nodes (plat_xs_ref_split,
 * platform_xs.h): pure functions, so tested here without Xen.
 */
#include "check.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "platform.h"
#include "platform_xs.h"
#include "vif.h"
#include "xen_refs.h"

static void test_format(void)
{
	uint32_t refs[] = {8, 9, 10, 0, UINT32_MAX};
	char buf[64];

	CHECK(xen_refs_format(refs, 3, buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "8,9,10") == 0);
	CHECK(xen_refs_format(refs + 3, 2, buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "0,4294967295") == 0);
	CHECK(xen_refs_format(refs, 0, buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "") == 0);
	/* "8,9,10" needs 7 bytes with its NUL */
	CHECK(xen_refs_format(refs, 3, buf, 7) == 0);
	CHECK(xen_refs_format(refs, 3, buf, 6) == -E2BIG);
	CHECK(strcmp(buf, "") == 0);
	CHECK(xen_refs_format(refs, 1, buf, 0) == -E2BIG);
}

static void test_parse(void)
{
	static const char *const bad[] = {
	    "",		  ",",	"1,",  ",1",	      "1,,2",	 "01",
	    "00",	  "-1", "+1",  " 1",	      "1 ",	 "1, 2",
	    "4294967296", "a",	"1;2", "99999999999", "1,2,3\n", "0x10",
	};
	uint32_t refs[4];
	size_t i;

	CHECK(xen_refs_parse("8,9,10", refs, 4) == 3);
	CHECK(refs[0] == 8 && refs[1] == 9 && refs[2] == 10);
	CHECK(xen_refs_parse("0", refs, 4) == 1 && refs[0] == 0);
	CHECK(xen_refs_parse("4294967295", refs, 4) == 1 &&
	      refs[0] == UINT32_MAX);
	CHECK(xen_refs_parse("1,2,3,4", refs, 4) == 4);
	CHECK(xen_refs_parse("1,2,3,4,5", refs, 4) == -EINVAL); /* > max */
	CHECK(xen_refs_parse("1", refs, 0) == -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(xen_refs_parse(bad[i], refs, 4) == -EINVAL))
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
	/* posix references are refused as malformed, not misread */
	CHECK(xen_refs_parse("posix-memfd:1:2:3:4", refs, 4) == -EINVAL);
}

static void test_port(void)
{
	uint32_t port = 0;

	CHECK(xen_port_parse("5", &port) == 0 && port == 5);
	CHECK(xen_port_parse("4294967295", &port) == 0 && port == UINT32_MAX);
	CHECK(xen_port_parse("0", &port) == -EINVAL); /* never allocated */
	CHECK(xen_port_parse("", &port) == -EINVAL);
	CHECK(xen_port_parse("05", &port) == -EINVAL);
	CHECK(xen_port_parse("5,6", &port) == -EINVAL);
	CHECK(xen_port_parse("4294967296", &port) == -EINVAL);
	CHECK(xen_port_parse("posix-eventfd:1:2:3:4:5:6", &port) == -EINVAL);
}

/* A VIF's refs, all of `digits` digits: the text's length is what decides
 * whether it fits PLAT_REF_MAX. */
static int vif_text(unsigned digits, char *buf, size_t size)
{
	uint32_t refs[VIF_PAGES], base = 1;
	size_t i;

	while (--digits > 0)
		base *= 10;
	for (i = 0; i < VIF_PAGES; i++)
		refs[i] = base + (uint32_t)i;
	return xen_refs_format(refs, VIF_PAGES, buf, size);
}

static void test_vif_sizes(void)
{
	char buf[PLAT_REF_MAX];

	/* Xen's default grant table (64 frames, 32768 v1 entries) has refs
	 * of at most 5 digits: 514 * 6 - 1 bytes. */
	CHECK(vif_text(5, buf, sizeof(buf)) == 0);
	CHECK(strlen(buf) == VIF_PAGES * 6 - 1);
	/* 6 digits still fit (refs < 1000000: up to 1953 frames) ... */
	CHECK(vif_text(6, buf, sizeof(buf)) == 0);
	CHECK(strlen(buf) == VIF_PAGES * 7 - 1);
	/* ... 7 do not, and say so rather than truncate. */
	CHECK(vif_text(7, buf, sizeof(buf)) == -E2BIG);
}

/* Splits text at max, checks every piece and that the pieces joined with
 * ',' are text again; returns the count. */
static int split_checked(const char *text, size_t max)
{
	struct plat_xs_piece p[PLAT_XS_REF_NODES_MAX];
	char joined[2 * PLAT_REF_MAX];
	size_t used = 0;
	int n, i;

	n = plat_xs_ref_split(text, max, p, PLAT_XS_REF_NODES_MAX);
	for (i = 0; i < n; i++) {
		CHECK(p[i].len > 0 && p[i].len <= max);
		if (n > 1)
			CHECK(text[p[i].off] != ',' &&
			      text[p[i].off + p[i].len - 1] != ',');
		if (i > 0)
			joined[used++] = ',';
		memcpy(joined + used, text + p[i].off, p[i].len);
		used += p[i].len;
	}
	joined[used] = '\0';
	if (n > 0)
		CHECK(strcmp(joined, text) == 0);
	return n;
}

static void test_split(void)
{
	struct plat_xs_piece p[2];
	char buf[PLAT_REF_MAX];
	size_t i;

	/* posix references and small shares: one node, as they are */
	CHECK(split_checked("posix-memfd:12:345:6:0123456789abcdef", 1024) ==
	      1);
	CHECK(split_checked("8,9,10", 6) == 1);
	/* cut at the last comma that fits */
	CHECK(split_checked("8,9,10", 5) == 2);
	CHECK(plat_xs_ref_split("8,9,10", 5, p, 2) == 2);
	CHECK(p[0].off == 0 && p[0].len == 3 && p[1].off == 4 && p[1].len == 2);
	/* a comma right at max: the piece is max long */
	CHECK(plat_xs_ref_split("12,34", 2, p, 2) == 2);
	CHECK(p[0].len == 2 && p[1].off == 3 && p[1].len == 2);
	/* what cannot be cut */
	CHECK(plat_xs_ref_split("", 8, p, 2) == -EINVAL);
	CHECK(plat_xs_ref_split("123456", 5, p, 2) == -EINVAL);
	CHECK(plat_xs_ref_split("1,,2345", 2, p, 2) == -EINVAL);
	CHECK(plat_xs_ref_split("1,2,", 3, p, 2) == -EINVAL);
	CHECK(plat_xs_ref_split("1,2,3", 1, p, 2) == -EINVAL); /* 3 > 2 */
	CHECK(plat_xs_ref_split("1", 1, p, 0) == -EINVAL);

	/* a VIF under the default grant table: 3083 bytes in 4 nodes */
	if (CHECK(vif_text(5, buf, sizeof(buf)) == 0))
		CHECK(split_checked(buf, PLAT_XS_REF_NODE_MAX) == 4);
	/* the longest text there can be, of 10-digit refs: 372 of them,
	 * 93 to a node */
	for (i = 0; i + 11 < sizeof(buf); i += 11)
		memcpy(buf + i, "4294967295,", 11);
	buf[i - 1] = '\0';
	CHECK(split_checked(buf, PLAT_XS_REF_NODE_MAX) == 4);
	/* cuts that waste the most: a 1-digit ref then 10-digit ones, so
	 * that each node ends 10 bytes short; still within the bound */
	for (i = 0; i + 13 < sizeof(buf); i += 13)
		memcpy(buf + i, "4294967295,1,", 13);
	buf[i - 1] = '\0';
	CHECK(split_checked(buf, PLAT_XS_REF_NODE_MAX) <=
	      PLAT_XS_REF_NODES_MAX);
}

int main(void)
{
	test_format();
	test_parse();
	test_port();
	test_vif_sizes();
	test_split();
	return check_summary("platform_refs");
}
