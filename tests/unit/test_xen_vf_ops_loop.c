/*
 * The xen backend's VF pool through its backend operations, on a real
 * libevent loop and the recorded sysfs tree (argv[1]), with no libxl
 * context (no hypervisor here): deployment_setup and _teardown of the NIC
 * and the pool on a worker thread, their refusals and what status shows;
 * the VF steps refused before they reach libxl; the VF in a domain's
 * status; a VF's MAC sent to the build machine's kernel, whose refusal
 * (lo has no VFs) comes back through the loop.
 *
 * Whatever reaches libxl (the hot-plug, the unplug, a destroy's) is
 * proved by tests/xen/run.
 */
#include <errno.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "loop_util.h"
#include "xen_vf_tree.h"
#include "xl_backend.h"

static const char *tree;

/* A backend with no libxl context: enough for what never calls it. */
struct harness {
	struct event_base *base;
	struct backend be;
	struct xl_backend xb;
	char root[PATH_MAX];
};

static int harness_init(struct harness *h, const char *name)
{
	memset(h, 0, sizeof(*h));
	if (tree_copy(tree, name, h->root) < 0)
		return -1;
	h->base = event_base_new();
	if (!CHECK(h->base != NULL))
		return -1;
	h->be.ops = &xen_backend_ops;
	h->be.base = h->base;
	h->be.priv = &h->xb;
	h->xb.be = &h->be;
	h->xb.sysfs_root = h->root;
	LIST_INIT(&h->xb.domains);
	LIST_INIT(&h->xb.deployments);
	LIST_INIT(&h->xb.deferred);
	LIST_INIT(&h->xb.mac_ops);
	return 0;
}

static void harness_free(struct harness *h)
{
	xl_vf_mac_release_all(&h->xb);
	xl_deployment_release_all(&h->xb);
	xl_async_release(&h->xb);
	if (h->base != NULL)
		event_base_free(h->base);
}

/* One done callback's outcome. */
struct outcome {
	int calls;
	int err;
	char msg[1024];
};

static void record(void *arg, int err, const char *msg)
{
	struct outcome *o = arg;

	o->calls++;
	o->err = err;
	snprintf(o->msg, sizeof(o->msg), "%s", msg ? msg : "");
}

static int has(const char *s, const char *want)
{
	if (s != NULL && strstr(s, want) != NULL)
		return 1;
	fprintf(stderr, "got: %s\nwanted: %s\n", s ? s : "(null)", want);
	return 0;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
						     : NULL;
}

static void test_setup_teardown(void)
{
	struct lt_network net = network("enp3s0f1", "enp3s0f0", 2);
	struct be_deployment dep = {.name = "demo", .net = &net};
	struct outcome o = {0};
	struct json_object *desc, *pool;
	struct harness h;
	char *err = NULL, buf[32];

	if (harness_init(&h, "setup") < 0)
		return;
	if (!CHECK(xl_deployment_setup(&h.be, &dep, record, &o, &err) == 0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		goto out;
	}
	/* Not before the worker is done. */
	CHECK(xl_pool_of(&h.xb, &dep) == NULL);
	loop_until(h.base, &o.calls, 1);
	if (!CHECK(o.err == 0))
		fprintf(stderr, "%s\n", o.msg);
	CHECK(xl_pool_of(&h.xb, &dep) != NULL);
	CHECK(has(xl_pf_of(&h.xb, &dep), "0000:03:00.1"));
	/* The NIC, then the VFs, on pciback. */
	CHECK(has(
	    tree_read(h.root, "bus/pci/drivers/ixgbe/unbind", buf, sizeof(buf)),
	    "0000:03:00.1"));
	CHECK(has(
	    tree_read(h.root, "bus/pci/drivers/pciback/bind", buf, sizeof(buf)),
	    "0000:03:10.2"));

	desc = json_object_new_object();
	xl_deployment_describe(&h.be, &dep, desc);
	CHECK(has(json_str(desc, "pf"), "0000:03:00.1"));
	CHECK(has(json_str(desc, "vf_pf"), "0000:03:00.0"));
	CHECK(has(json_str(desc, "vf_pf_netdev"), "enp3s0f0"));
	if (CHECK(json_object_object_get_ex(desc, "vf_pool", &pool)) &&
	    CHECK(json_object_array_length(pool) == 2)) {
		CHECK(has(
		    json_object_get_string(json_object_array_get_idx(pool, 0)),
		    "0000:03:10.0"));
		CHECK(has(
		    json_object_get_string(json_object_array_get_idx(pool, 1)),
		    "0000:03:10.2"));
	}
	json_object_put(desc);

	/* As the kernel would have them, so that teardown gives them back. */
	tree_bind(h.root, "devices/pci0000:00/0000:00:03.0/0000:03:00.1",
		  "pciback");
	tree_bind(h.root, TREE_VF("0"), "pciback");
	tree_bind(h.root, TREE_VF("2"), "pciback");
	o.calls = 0;
	if (!CHECK(xl_deployment_teardown(&h.be, &dep, record, &o, &err) ==
		   0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		goto out;
	}
	loop_until(h.base, &o.calls, 1);
	if (!CHECK(o.err == 0))
		fprintf(stderr, "%s\n", o.msg);
	CHECK(xl_pool_of(&h.xb, &dep) == NULL);
	CHECK(xl_pf_of(&h.xb, &dep) == NULL);
	CHECK(has(
	    tree_read(h.root, "bus/pci/drivers/ixgbe/bind", buf, sizeof(buf)),
	    "0000:03:00.1"));
	CHECK(has(
	    tree_read(h.root, "bus/pci/drivers/ixgbevf/bind", buf, sizeof(buf)),
	    "0000:03:10.2"));
out:
	harness_free(&h);
}

/* Refused at once, with the deployment file's words. */
static void test_setup_refused(void)
{
	struct lt_network net1 = network("enp3s0f1", "enp3s0f0", 2);
	struct lt_network bad = network("eno1", "", 2);
	struct lt_network same = network("eno1", "0000:00:19.0", 1);
	struct lt_network few = network("eno1", "enp3s0f0", 9);
	struct lt_network nic_taken = network("enp3s0f1", "", 0);
	struct lt_network vf_pf_is_nic = network("enp3s0f0", "", 0);
	struct lt_network pf_taken = network("eno1", "0000:03:00.0", 1);
	struct be_deployment dep1 = {.name = "demo", .net = &net1};
	struct be_deployment dep2 = {.name = "two"};
	struct outcome o = {0};
	struct harness h;
	char *err = NULL;

	if (harness_init(&h, "refused") < 0)
		return;
	dep2.net = &bad;
	CHECK(xl_deployment_setup(&h.be, &dep2, record, &o, &err) < 0);
	CHECK(has(err, "network.vfs is 2 but network.vf_pf is not set"));
	free(err);
	err = NULL;
	dep2.net = &same;
	CHECK(xl_deployment_setup(&h.be, &dep2, record, &o, &err) < 0);
	CHECK(has(err, "network.vf_pf 0000:00:19.0 (0000:00:19.0) is "
		       "network.nic"));
	free(err);
	err = NULL;
	dep2.net = &few;
	CHECK(xl_deployment_setup(&h.be, &dep2, record, &o, &err) < 0);
	CHECK(has(err, "has 4 VFs enabled and network.vfs asks for 9: enable "
		       "more with echo 9 > "));
	free(err);
	err = NULL;
	CHECK(xl_pool_of(&h.xb, &dep2) == NULL);
	CHECK(LIST_EMPTY(&h.xb.deployments));

	/* One deployment's PFs are no other's. */
	CHECK(xl_deployment_setup(&h.be, &dep1, record, &o, &err) == 0);
	loop_until(h.base, &o.calls, 1);
	CHECK(o.err == 0);
	dep2.net = &nic_taken;
	CHECK(xl_deployment_setup(&h.be, &dep2, record, &o, &err) < 0);
	CHECK(has(err, "network.nic enp3s0f1 (0000:03:00.1) is the NIC of "
		       "deployment demo already"));
	free(err);
	err = NULL;
	dep2.net = &vf_pf_is_nic;
	CHECK(xl_deployment_setup(&h.be, &dep2, record, &o, &err) < 0);
	CHECK(has(err, "network.nic enp3s0f0 (0000:03:00.0) is the VF PF "
		       "(network.vf_pf) of deployment demo already"));
	free(err);
	err = NULL;
	dep2.net = &pf_taken;
	CHECK(xl_deployment_setup(&h.be, &dep2, record, &o, &err) < 0);
	CHECK(has(err, "network.vf_pf 0000:03:00.0 (0000:03:00.0) is the VF "
		       "PF (network.vf_pf) of deployment demo already"));
	free(err);
	harness_free(&h);
}

/* A VF that cannot be made assignable fails the setup, which gives the
 * NIC and the VFs before it back. */
static void test_setup_fails(void)
{
	struct lt_network net = network("enp3s0f1", "enp3s0f0", 2);
	struct be_deployment dep = {.name = "demo", .net = &net};
	struct outcome o = {0};
	struct harness h;
	char *err = NULL;

	if (harness_init(&h, "setup-fails") < 0)
		return;
	tree_break(h.root, TREE_VF("2") "/driver_override");
	CHECK(xl_deployment_setup(&h.be, &dep, record, &o, &err) == 0);
	loop_until(h.base, &o.calls, 1);
	CHECK(o.err != 0);
	CHECK(has(o.msg, "VF 1 of enp3s0f0: VF 0000:03:10.2: writing "
			 "'pciback' to "));
	CHECK(has(o.msg, "the VFs before it were given back; the NIC "
			 "0000:03:00.1 was given back"));
	CHECK(xl_pool_of(&h.xb, &dep) == NULL);
	CHECK(LIST_EMPTY(&h.xb.deployments));
	harness_free(&h);
}

static void test_vf_ops_refused(void)
{
	struct lt_network net = network("enp3s0f1", "enp3s0f0", 2);
	struct be_deployment dep = {.name = "demo", .net = &net};
	struct be_domain dom = {.deployment = &dep, .name = "cache", .vf = -1};
	struct json_object *desc;
	struct outcome o = {0};
	struct harness h;
	char *err = NULL;

	if (harness_init(&h, "ops") < 0)
		return;
	/* No pool yet. */
	CHECK(xl_vf_prepare(&h.be, &dom, 0, record, &o, &err) < 0);
	CHECK(has(err, "deployment demo has no VF pool on the xen backend "
		       "(network.vfs 2, network.vf_pf 'enp3s0f0')"));
	free(err);
	err = NULL;
	CHECK(xl_vf_attach(&h.be, &dom, 0, record, &o, &err) < 0);
	CHECK(has(err, "deployment demo has no VF pool"));
	free(err);
	err = NULL;

	CHECK(xl_deployment_setup(&h.be, &dep, record, &o, &err) == 0);
	loop_until(h.base, &o.calls, 1);
	CHECK(o.err == 0);
	o.calls = 0;
	CHECK(xl_vf_release(&h.be, &dom, 2, record, &o, &err) < 0);
	CHECK(has(err, "deployment demo: no VF 2 in its pool of 2"));
	free(err);
	err = NULL;
	CHECK(xl_vf_detach(&h.be, &dom, -1, record, &o, &err) < 0);
	CHECK(has(err, "deployment demo: no VF -1 in its pool of 2"));
	free(err);
	err = NULL;
	/* A domain not created has nothing to hot-plug into. */
	CHECK(xl_vf_attach(&h.be, &dom, 1, record, &o, &err) < 0);
	CHECK(has(err, "VF 1 (0000:03:10.2) of enp3s0f0: domain demo-cache "
		       "is not created"));
	free(err);
	err = NULL;
	CHECK(o.calls == 0);

	/* Status names the VF a domain has. */
	desc = json_object_new_object();
	xl_vf_domain_describe(&h.be, &dom, desc);
	CHECK(json_object_object_get_ex(desc, "vf_bdf", NULL) &&
	      json_str(desc, "vf_bdf") == NULL);
	json_object_put(desc);
	dom.domid = 7;
	xl_pool_of(&h.xb, &dep)->slots[1].domid = 7;
	desc = json_object_new_object();
	xl_vf_domain_describe(&h.be, &dom, desc);
	CHECK(has(json_str(desc, "vf_bdf"), "0000:03:10.2"));
	CHECK(has(json_str(desc, "xen_name"), "demo-cache"));
	json_object_put(desc);
	xl_pool_of(&h.xb, &dep)->slots[1].domid = 0;
	dom.domid = 0;

	/* A direct app is created with its VF. */
	dom.vf = 1;
	CHECK(has(xl_vf_create_bdf(&h.xb, &dom, &err), "0000:03:10.2"));
	dom.vf = 5;
	CHECK(xl_vf_create_bdf(&h.xb, &dom, &err) == NULL);
	CHECK(has(err, "no VF 5 in its pool of 2"));
	free(err);
	harness_free(&h);
}

/* The MAC over a real rtnetlink socket: lo has no VFs, so the kernel
 * refuses (EOPNOTSUPP; EPERM without CAP_NET_ADMIN), and the refusal
 * comes back through the loop, naming the VF. */
static void test_mac_kernel(void)
{
	const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};
	struct outcome o = {0};
	struct harness h;
	char *err = NULL;

	if (harness_init(&h, "mac") < 0)
		return;
	CHECK(xl_vf_mac_set(&h.xb, "nosuch0", 0, mac, "VF 0 of nosuch0", record,
			    &o, &err) < 0);
	CHECK(has(err, "VF 0 of nosuch0: PF nosuch0: No such device"));
	free(err);
	err = NULL;

	if (!CHECK(xl_vf_mac_set(&h.xb, "lo", 0, mac, "VF 0 of lo", record, &o,
				 &err) == 0)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		goto out;
	}
	CHECK(!LIST_EMPTY(&h.xb.mac_ops));
	loop_until(h.base, &o.calls, 1);
	CHECK(o.calls == 1 && o.err != 0);
	CHECK(has(o.msg, "VF 0 of lo: RTM_SETLINK (VF MAC): "));
	CHECK(LIST_EMPTY(&h.xb.mac_ops));

	/* Dropped at shutdown: no done, nothing left. */
	o.calls = 0;
	CHECK(xl_vf_mac_set(&h.xb, "lo", 0, mac, "VF 0 of lo", record, &o,
			    &err) == 0);
	xl_vf_mac_release_all(&h.xb);
	CHECK(LIST_EMPTY(&h.xb.mac_ops));
	event_base_loop(h.base, EVLOOP_NONBLOCK);
	CHECK(o.calls == 0);
out:
	harness_free(&h);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SYSFS_TREE\n", argv[0]);
		return 2;
	}
	tree = argv[1];
	alarm(60);
	if (tree_tmp_make("test_xen_vf_ops_loop") < 0) {
		perror("mkdtemp");
		return 1;
	}
	test_setup_teardown();
	test_setup_refused();
	test_setup_fails();
	test_vf_ops_refused();
	test_mac_kernel();
	tree_tmp_remove();
	return check_summary("test_xen_vf_ops_loop");
}
