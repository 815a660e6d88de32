/*
 * The xen backend's VF pool, what of it needs no hypervisor
 * (librettod/xen/xl_vf_pool.c, xl_vf_mac.c, xl_config.c): which VFs a
 * deployment gets and the errors of network.vf_pf, on the recorded sysfs
 * tree (argv[1]: tests/data/sysfs-sriov); the pool made assignable and
 * given back, with the VF's driver_override (and the library's undo of
 * it, vf_pciback.c), on copies of it; the libxl_device_pci of a VF's
 * address and a direct app's create config; the parked MACs and the MAC
 * read-back check.
 *
 * The hot-plug itself (libxl_device_pci_add / _remove) and the MAC on a
 * real VF are proved by tests/xen/run (Xen inside QEMU, igb).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "mac.h"
#include "vf_pciback.h"
#include "xen_vf_tree.h"
#include "xl_backend.h"

static const char *tree;

/* Selecting fails, and the message holds each of the strings. */
static void select_fails(const char *root, const struct lt_network *net,
			 const char *nic_bdf, const char *want1,
			 const char *want2)
{
	struct xl_vf_pool pool;
	char *err = NULL;

	if (!CHECK(xl_vf_pool_select(root, net, nic_bdf, &pool, &err) < 0))
		return;
	if (!CHECK(err != NULL && strstr(err, want1) != NULL &&
		   (want2 == NULL || strstr(err, want2) != NULL)))
		fprintf(stderr, "got: %s\nwanted: %s / %s\n",
			err ? err : "(null)", want1, want2 ? want2 : "");
	free(err);
}

static void test_select(void)
{
	struct lt_network net = network("eno1", "enp3s0f0", 2);
	struct xl_vf_pool pool;
	char *err = NULL;

	/* VF i is virtfn<i>: the engine's number is the PF's. */
	if (!CHECK(xl_vf_pool_select(tree, &net, "0000:00:19.0", &pool, &err) ==
		   0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	CHECK(strcmp(pool.pf_bdf, "0000:03:00.0") == 0);
	CHECK(strcmp(pool.pf_netdev, "enp3s0f0") == 0);
	CHECK(pool.count == 2);
	CHECK(strcmp(pool.slots[0].bdf, "0000:03:10.0") == 0);
	CHECK(strcmp(pool.slots[1].bdf, "0000:03:10.2") == 0);
	CHECK(strcmp(pool.slots[0].driver, "ixgbevf") == 0);
	CHECK(pool.slots[0].domid == 0 && !pool.slots[0].busy);
	CHECK(!pool.slots[0].driver_known);

	/* By address, all four. */
	net = network("eno1", "0000:03:00.0", 4);
	CHECK(xl_vf_pool_select(tree, &net, "0000:00:19.0", &pool, &err) == 0);
	CHECK(pool.count == 4);
	CHECK(strcmp(pool.pf_netdev, "enp3s0f0") == 0);
	CHECK(strcmp(pool.slots[2].bdf, "0000:03:10.4") == 0);
	CHECK(pool.slots[2].driver[0] == '\0');
	CHECK(strcmp(pool.slots[3].bdf, "0000:03:10.6") == 0);
	CHECK(strcmp(pool.slots[3].driver, "pciback") == 0);

	/* No VFs asked for: no pool, and vf_pf is not needed. */
	net = network("eno1", "", 0);
	CHECK(xl_vf_pool_select(tree, &net, "0000:00:19.0", &pool, &err) == 0);
	CHECK(pool.count == 0 && pool.pf_bdf[0] == '\0');
}

static void test_select_errors(void)
{
	struct lt_network net = network("eno1", "", 2);
	char root[PATH_MAX], want[PATH_MAX + 64], cmd[2 * PATH_MAX];

	select_fails(tree, &net, "0000:00:19.0",
		     "network.vfs is 2 but network.vf_pf is not set",
		     "(eno1) through to the network server whole");
	net = network("enp3s0f0", "0000:03:00.0", 2);
	select_fails(tree, &net, "0000:03:00.0",
		     "network.vf_pf 0000:03:00.0 (0000:03:00.0) is network.nic",
		     "its VFs would vanish");
	net = network("eno1", "enp3s0f0", 5);
	snprintf(want, sizeof(want),
		 "echo 5 > %s/bus/pci/devices/0000:03:00.0/sriov_numvfs", tree);
	select_fails(tree, &net, "0000:00:19.0",
		     "network.vf_pf enp3s0f0 (0000:03:00.0) has 4 VFs enabled "
		     "and network.vfs asks for 5",
		     want);
	select_fails(tree, &net, "0000:00:19.0", "(the device has up to 63)",
		     NULL);
	net = network("eno1", "enp3s0f1", 1);
	select_fails(tree, &net, "0000:00:19.0",
		     "network.vf_pf enp3s0f1: PF enp3s0f1 (0000:03:00.1): no "
		     "VFs enabled",
		     "sriov_numvfs");
	net = network("enp3s0f1", "eno1", 1);
	select_fails(tree, &net, "0000:03:00.1",
		     "network.vf_pf eno1: ", "not SR-IOV capable");
	net = network("eno1", "enp9s0", 1);
	select_fails(tree, &net, "0000:00:19.0",
		     "network.vf_pf enp9s0: ", "no such network interface");

	/* A PF whose driver is gone has no netdev to set MACs through. */
	if (tree_copy(tree, "no-netdev", root) < 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'",
		 tree_at(root, TREE_PF0 "/net"));
	CHECK(system(cmd) == 0);
	net = network("eno1", "0000:03:00.0", 2);
	select_fails(root, &net, "0000:00:19.0",
		     "network.vf_pf 0000:03:00.0 (0000:03:00.0) has no network "
		     "interface in dom0",
		     "the VFs' MACs are set through it");
}

/* What a write-only attribute holds: the last address written to it
 * (the copies do not truncate, and every address is as long). */
static int holds(const char *root, const char *rel, const char *want)
{
	char buf[128];

	tree_read(root, rel, buf, sizeof(buf));
	if (strcmp(buf, want) == 0)
		return 1;
	fprintf(stderr, "%s holds '%s', wanted '%s'\n", rel, buf, want);
	return 0;
}

static void test_assign_and_give_back(void)
{
	struct lt_network net = network("eno1", "enp3s0f0", 4);
	struct xl_vf_pool pool;
	char root[PATH_MAX], buf[64];
	char *err = NULL;

	if (tree_copy(tree, "assign", root) < 0)
		return;
	/* A kernel since 3.16 has driver_override; VF 1 has none here. */
	tree_put(root, TREE_VF("0") "/driver_override", "(null)\n");
	tree_put(root, TREE_VF("4") "/driver_override", "(null)\n");
	CHECK(xl_vf_pool_select(root, &net, "0000:00:19.0", &pool, &err) == 0);
	if (!CHECK(xl_vf_pool_assign(root, &pool, &err) == 0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	/* Each VF's driver before, to give it back to. */
	for (unsigned i = 0; i < 4; i++)
		CHECK(pool.slots[i].driver_known);
	CHECK(strcmp(pool.slots[0].driver, "ixgbevf") == 0);
	CHECK(strcmp(pool.slots[1].driver, "ixgbevf") == 0);
	CHECK(pool.slots[2].driver[0] == '\0');
	CHECK(!pool.slots[0].was_assignable && !pool.slots[2].was_assignable);
	CHECK(pool.slots[3].was_assignable); /* the host's, left there */
	/* The override names pciback before the unbind. */
	CHECK(holds(root, TREE_VF("0") "/driver_override", "pciback"));
	CHECK(holds(root, TREE_VF("4") "/driver_override", "pciback"));
	/* VF 0 and 1 unbound from ixgbevf, the last written is VF 1's;
	 * VF 0 to 2 slotted and bound, the last VF 2; VF 3 untouched. */
	CHECK(holds(root, "bus/pci/drivers/ixgbevf/unbind", "0000:03:10.2"));
	CHECK(holds(root, "bus/pci/drivers/pciback/new_slot", "0000:03:10.4"));
	CHECK(holds(root, "bus/pci/drivers/pciback/bind", "0000:03:10.4"));

	/* As the kernel has them now. */
	tree_bind(root, TREE_VF("0"), "pciback");
	tree_bind(root, TREE_VF("2"), "pciback");
	tree_bind(root, TREE_VF("4"), "pciback");
	if (!CHECK(xl_vf_pool_give_back(root, &pool, &err) == 0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	CHECK(holds(root, "bus/pci/drivers/pciback/unbind", "0000:03:10.4"));
	/* Slots lists only VF 3, which stays: no slot to remove. */
	CHECK(holds(root, "bus/pci/drivers/pciback/remove_slot", ""));
	/* VF 0 and 1 back on ixgbevf; VF 2 on none. */
	CHECK(holds(root, "bus/pci/drivers/ixgbevf/bind", "0000:03:10.2"));
	/* The overrides cleared at the end ("\n" over what was there). */
	tree_read(root, TREE_VF("0") "/driver_override", buf, sizeof(buf));
	CHECK(buf[0] == '\n');
	tree_read(root, TREE_VF("4") "/driver_override", buf, sizeof(buf));
	CHECK(buf[0] == '\n');
}

/* A VF that cannot be made assignable: the ones before it go back. */
static void test_assign_fails(void)
{
	struct lt_network net = network("eno1", "enp3s0f0", 3);
	struct xl_vf_pool pool;
	char root[PATH_MAX];
	char *err = NULL;

	if (tree_copy(tree, "assign-fails", root) < 0)
		return;
	tree_put(root, TREE_VF("0") "/driver_override", "(null)\n");
	tree_break(root, TREE_VF("2") "/driver_override");
	CHECK(xl_vf_pool_select(root, &net, "0000:00:19.0", &pool, &err) == 0);
	if (!CHECK(xl_vf_pool_assign(root, &pool, &err) < 0))
		return;
	if (!CHECK(err != NULL &&
		   strstr(err, "VF 1 of enp3s0f0: VF 0000:03:10.2: writing "
			       "'pciback' to ") != NULL &&
		   strstr(err, "driver_override: Is a directory") != NULL &&
		   strstr(err, "the VFs before it were given back") != NULL))
		fprintf(stderr, "got: %s\n", err ? err : "(null)");
	free(err);
	/* VF 1 failed before its unbind: still on ixgbevf. */
	CHECK(holds(root, "bus/pci/drivers/ixgbevf/unbind", "0000:03:10.0"));

	/* A give-back that fails names the VF and goes on with the rest. */
	err = NULL;
	tree_bind(root, TREE_VF("0"), "pciback");
	tree_bind(root, TREE_VF("2"), "pciback");
	tree_break(root, "bus/pci/drivers/ixgbevf/bind");
	pool.slots[0].driver_known = pool.slots[1].driver_known = 1;
	snprintf(pool.slots[1].driver, sizeof(pool.slots[1].driver), "ixgbevf");
	pool.slots[2].was_assignable = 1;
	if (!CHECK(xl_vf_pool_give_back(root, &pool, &err) < 0))
		return;
	if (!CHECK(err != NULL &&
		   strstr(err, "2 of the 3 VFs of enp3s0f0 could not be "
			       "given back: VF 0: ") != NULL &&
		   strstr(err, "; VF 1: ") != NULL))
		fprintf(stderr, "got: %s\n", err ? err : "(null)");
	free(err);
}

/* The library's undo of the override (vf_pciback.c): a VF whose unbind
 * fails keeps its driver, and its override is cleared. */
static void test_override_undo(void)
{
	char root[PATH_MAX], orig[XEN_VF_DRIVER_SIZE], buf[64];
	char *err = NULL;

	if (tree_copy(tree, "override-undo", root) < 0)
		return;
	tree_put(root, TREE_VF("0") "/driver_override", "(null)\n");
	tree_break(root, "bus/pci/drivers/ixgbevf/unbind");
	CHECK(xen_vf_assignable_add(root, "0000:03:10.0", orig, &err) < 0);
	CHECK(err != NULL && strstr(err, "unbind: Is a directory") != NULL &&
	      strstr(err, "failed too") == NULL);
	free(err);
	tree_read(root, TREE_VF("0") "/driver_override", buf, sizeof(buf));
	CHECK(buf[0] == '\n');
	CHECK(holds(root, "bus/pci/drivers/pciback/new_slot", ""));

	/* A bind that fails: slot, override and driver all taken back. */
	err = NULL;
	tree_put(root, TREE_VF("0") "/driver_override", "(null)\n");
	tree_break(root, "bus/pci/drivers/pciback/bind");
	rmdir(tree_at(root, "bus/pci/drivers/ixgbevf/unbind"));
	tree_put(root, "bus/pci/drivers/ixgbevf/unbind", "");
	CHECK(xen_vf_assignable_add(root, "0000:03:10.0", orig, &err) < 0);
	if (!CHECK(err != NULL && strstr(err, "; put back on ixgbevf") != NULL))
		fprintf(stderr, "got: %s\n", err ? err : "(null)");
	free(err);
	tree_read(root, TREE_VF("0") "/driver_override", buf, sizeof(buf));
	CHECK(buf[0] == '\n');
	CHECK(
	    holds(root, "bus/pci/drivers/pciback/remove_slot", "0000:03:10.0"));
	CHECK(holds(root, "bus/pci/drivers/ixgbevf/bind", "0000:03:10.0"));
}

static void test_pci_fill(void)
{
	libxl_device_pci pci;

	if (CHECK(xl_pci_fill(&pci, "0000:03:10.4") == 0)) {
		CHECK(pci.domain == 0 && pci.bus == 3 && pci.dev == 0x10 &&
		      pci.func == 4);
		CHECK(!pci.seize); /* pciback has it: libxl must not seize */
		CHECK(pci.name == NULL && pci.vdevfn == 0);
		libxl_device_pci_dispose(&pci);
	}
	if (CHECK(xl_pci_fill(&pci, "0001:1F:0A.7") == 0)) {
		CHECK(pci.domain == 1 && pci.bus == 0x1f && pci.dev == 0x0a &&
		      pci.func == 7);
		libxl_device_pci_dispose(&pci);
	}
	CHECK(xl_pci_fill(&pci, "03:10.4") < 0);
	CHECK(xl_pci_fill(&pci, "0000:03:10.8") < 0);
	CHECK(xl_pci_fill(&pci, "0000:03:10.4x") < 0);
	CHECK(xl_pci_fill(&pci, NULL) < 0);
}

/* A direct app's VF is in its create's pcidevs, passthrough on. */
static void test_config_direct(void)
{
	struct be_deployment dep = {.name = "demo"};
	struct be_domain dom = {.deployment = &dep,
				.name = "web",
				.memory_bytes = 128ULL << 20,
				.vcpus = 1,
				.vf = 1};
	struct daemon_config cfg;
	libxl_domain_config dc;
	char *err = NULL;

	daemon_config_defaults(&cfg);
	if (!CHECK(xl_config_build(&cfg, &dom, "0000:03:10.2", &dc, &err) ==
		   0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return;
	}
	CHECK(dc.c_info.passthrough == LIBXL_PASSTHROUGH_ENABLED);
	if (CHECK(dc.num_pcidevs == 1))
		CHECK(dc.pcidevs[0].bus == 3 && dc.pcidevs[0].dev == 0x10 &&
		      dc.pcidevs[0].func == 2 && !dc.pcidevs[0].seize);
	libxl_domain_config_dispose(&dc);
}

static void test_parked_mac(void)
{
	uint8_t a[6], b[6], app[6];

	for (unsigned i = 0; i < LT_MAX_VFS; i++) {
		xl_vf_mac_parked("demo", i, a);
		/* unicast, locally administered: never a vendor's */
		CHECK((a[0] & 0x03) == 0x02);
		CHECK(memcmp(a, (uint8_t[6]){0}, 6) != 0);
		for (unsigned j = 0; j < i; j++) {
			xl_vf_mac_parked("demo", j, b);
			CHECK(memcmp(a, b, 6) != 0);
		}
	}
	/* Stable, per deployment, and not an app's of that name. */
	xl_vf_mac_parked("demo", 3, a);
	xl_vf_mac_parked("demo", 3, b);
	CHECK(memcmp(a, b, 6) == 0);
	xl_vf_mac_parked("other", 3, b);
	CHECK(memcmp(a, b, 6) != 0);
	lt_mac_for("demo", "vf3", app);
	CHECK(memcmp(a, app, 6) != 0);
}

static void test_mac_check(void)
{
	const uint8_t want[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	const uint8_t got[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x56};
	char *err = NULL;

	CHECK(xl_vf_mac_check("VF 1 (0000:03:10.2) of enp3s0f0", want, want,
			      &err) == 0);
	CHECK(err == NULL);
	CHECK(xl_vf_mac_check("VF 1 (0000:03:10.2) of enp3s0f0", want, got,
			      &err) < 0);
	if (!CHECK(err != NULL &&
		   strcmp(err, "VF 1 (0000:03:10.2) of enp3s0f0: the PF "
			       "reports MAC 02:11:22:33:44:56 after it was "
			       "set to 02:11:22:33:44:55 (its driver did not "
			       "take it)") == 0))
		fprintf(stderr, "got: %s\n", err ? err : "(null)");
	free(err);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SYSFS_TREE\n", argv[0]);
		return 2;
	}
	tree = argv[1];
	if (tree_tmp_make("test_xen_vf_ops") < 0) {
		perror("mkdtemp");
		return 1;
	}
	test_select();
	test_select_errors();
	test_assign_and_give_back();
	test_assign_fails();
	test_override_undo();
	test_pci_fill();
	test_config_direct();
	test_parked_mac();
	test_mac_check();
	tree_tmp_remove();
	return check_summary("test_xen_vf_ops");
}
