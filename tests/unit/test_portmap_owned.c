/*
 * The portmap is owned, not grabbed (docs/datapath.md, "The portmap"):
 * in the network server an app's ephemeral range wins over any portmap
 * entry, so that a claim in it can never take the app's replies; and in
 * librettod a guest's port name is exactly 1-65535 in decimal.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netserver.h"
#include "ports.h"

static void test_range_wins(struct portmap *pm, struct ns_apps *apps)
{
	struct ns_app *victim = apps_get(apps, 3), *hostile = apps_get(apps, 5);
	struct ns_app *dyn = apps_get(apps, 7);

	victim->mode = NS_MODE_SERVER;
	victim->eph_lo = 34816;
	victim->eph_hi = 36863;
	hostile->mode = NS_MODE_SERVER;
	hostile->eph_lo = 32768;
	hostile->eph_hi = 34815;
	/* A dedicated-IP app's range is its own address's business. */
	dyn->mode = NS_MODE_DYNAMIC;
	dyn->eph_lo = 40960;
	dyn->eph_hi = 43007;

	pm_clear_explicit(pm);
	/* What a portmap that let the hostile app grab ports would say. */
	pm_set_explicit(pm, PM_TCP, 35001, 5);
	pm_set_explicit(pm, PM_UDP, 35001, 5);
	pm_set_explicit(pm, PM_TCP, 34816, 5);
	pm_set_explicit(pm, PM_TCP, 36863, 5);
	pm_set_explicit(pm, PM_TCP, 36864, 5); /* just past the range */
	pm_set_explicit(pm, PM_TCP, 8080, 5);
	pm_set_explicit(pm, PM_TCP, 41000, 5); /* in dyn's range */
	pm_rebuild(pm, apps);
	CHECK(pm_lookup(pm, PM_TCP, 35001) == 3);
	CHECK(pm_lookup(pm, PM_UDP, 35001) == 3);
	CHECK(pm_lookup(pm, PM_TCP, 34816) == 3);
	CHECK(pm_lookup(pm, PM_TCP, 36863) == 3);
	CHECK(pm_lookup(pm, PM_UDP, 36863) == 3);
	CHECK(pm_lookup(pm, PM_TCP, 34815) == 5);
	CHECK(pm_lookup(pm, PM_TCP, 36864) == 5);
	CHECK(pm_lookup(pm, PM_TCP, 8080) == 5);
	CHECK(pm_lookup(pm, PM_TCP, 41000) == 5);
	CHECK(pm_lookup(pm, PM_TCP, 41001) == 0);

	/* The victim leaves: its range goes, the entries apply again. */
	apps_remove(apps, 3);
	pm_rebuild(pm, apps);
	CHECK(pm_lookup(pm, PM_TCP, 35001) == 5);
	CHECK(pm_lookup(pm, PM_TCP, 35002) == 0);
	/* The hostile app loses its range: nothing of it lingers. */
	hostile->eph_lo = hostile->eph_hi = 0;
	pm_set_explicit(pm, PM_TCP, 35001, 0);
	pm_rebuild(pm, apps);
	CHECK(pm_lookup(pm, PM_TCP, 33000) == 0);
	CHECK(pm_lookup(pm, PM_TCP, 35001) == 0);
}

static void test_port_names(void)
{
	static const char *const bad[] = {
	    "",	      "0",   "00",  "080", "65536",  "99999",
	    "100000", "+80", "-80", " 80", "80 ",    "8x",
	    "0x50",   "1e3", "-0",  "tcp", "000080", "4294967376"};
	char *long_name = malloc(3001);

	CHECK(ports_parse_name("1") == 1);
	CHECK(ports_parse_name("80") == 80);
	CHECK(ports_parse_name("8080") == 8080);
	CHECK(ports_parse_name("65535") == 65535);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(ports_parse_name(bad[i]) == 0))
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
	if (long_name != NULL) {
		memset(long_name, '1', 3000);
		long_name[3000] = '\0';
		CHECK(ports_parse_name(long_name) == 0);
		free(long_name);
	}
}

int main(void)
{
	struct portmap *pm = calloc(1, sizeof(*pm));
	struct ns_apps *apps = calloc(1, sizeof(*apps));

	if (pm == NULL || apps == NULL)
		return 1;
	test_range_wins(pm, apps);
	test_port_names();
	while (apps->n > 0)
		apps_remove(apps, apps->v[0]->domid);
	free(apps);
	free(pm);
	return check_summary("portmap_owned");
}
