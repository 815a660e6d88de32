/*
 * The xen backend's VF pool against a recorded sysfs tree
 * (tests/data/sysfs-sriov, given as argv[1]): discovery of a PF and its
 * VFs, its errors, and the writes that move a VF to pciback and back.
 * Every case works on its own temporary copy of the tree, which also shows
 * that its relative links hold wherever it is copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "vf_pciback.h"
#include "vf_sysfs.h"

#define PF0  "devices/pci0000:00/0000:00:03.0/0000:03:00.0"
#define VF2  "devices/pci0000:00/0000:00:03.0/0000:03:10.4"
#define PCIB "bus/pci/drivers/pciback"

/* snprintf into a path buffer; a path that does not fit fails the test. */
#define PATHF(buf, size, ...)                                                  \
	CHECK(snprintf(buf, size, __VA_ARGS__) < (int)(size))

static const char *tree;	/* the recorded tree */
static char tmp[PATH_MAX];	/* this run's temporary directory */
static char copy_src[PATH_MAX]; /* nftw has no argument for its callback */
static char copy_dst[PATH_MAX];

static int copy_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char dst[PATH_MAX], target[PATH_MAX], data[4096];
	ssize_t n;
	int in, out;

	(void)ftw;
	PATHF(dst, sizeof(dst), "%s%s", copy_dst, path + strlen(copy_src));
	switch (type) {
	case FTW_D:
		return mkdir(dst, st->st_mode & 07777) < 0 && errno != EEXIST;
	case FTW_SL:
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlink(target, dst);
	case FTW_F:
		in = open(path, O_RDONLY);
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0644);
		while (in >= 0 && out >= 0 &&
		       (n = read(in, data, sizeof(data))) > 0)
			if (write(out, data, n) != n)
				n = -1;
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		return in < 0 || out < 0;
	default:
		return -1;
	}
}

/* A fresh copy of the tree under tmp; its path in root. */
static void fresh_copy(const char *name, char root[PATH_MAX])
{
	PATHF(root, PATH_MAX, "%s/%s", tmp, name);
	PATHF(copy_src, sizeof(copy_src), "%s", tree);
	PATHF(copy_dst, sizeof(copy_dst), "%s", root);
	if (!CHECK(nftw(tree, copy_one, 16, FTW_PHYS) == 0))
		fprintf(stderr, "copying %s to %s failed\n", tree, root);
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st, (void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* <root>/<rel>, for the test's own changes to a copy; two at a time
 * (for rename). */
static const char *at(const char *root, const char *rel)
{
	static char paths[2][PATH_MAX];
	static unsigned next;
	char *path = paths[next++ % 2];

	PATHF(path, PATH_MAX, "%s/%s", root, rel);
	return path;
}

static void put_file(const char *root, const char *rel, const char *text)
{
	FILE *f = fopen(at(root, rel), "w");

	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

/* Replaces a file with a directory: the next open for writing fails with
 * EISDIR, as a failing sysfs store would. */
static void break_file(const char *root, const char *rel)
{
	CHECK(unlink(at(root, rel)) == 0);
	CHECK(mkdir(at(root, rel), 0755) == 0);
}

static void mend_file(const char *root, const char *rel)
{
	CHECK(rmdir(at(root, rel)) == 0);
	put_file(root, rel, "");
}

/* Every attribute the pool may write, sorted. */
static const char *const attrs[] = {
    "bus/pci/drivers/ixgbe/bind",
    "bus/pci/drivers/ixgbe/unbind",
    "bus/pci/drivers/ixgbevf/bind",
    "bus/pci/drivers/ixgbevf/unbind",
    "bus/pci/drivers/pciback/bind",
    "bus/pci/drivers/pciback/new_slot",
    "bus/pci/drivers/pciback/remove_slot",
    "bus/pci/drivers/pciback/unbind",
    "bus/pci/drivers_probe",
};

/* What was written where since the last call, as "attr=value ..." in
 * the order of attrs; empties the attributes for the next case. */
static const char *writes(const char *root)
{
	static char out[1024];
	char value[64];
	size_t len = 0;
	ssize_t n;
	int fd;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		fd = open(at(root, attrs[i]), O_RDWR);
		if (fd < 0)
			continue; /* broken on purpose by the case */
		n = read(fd, value, sizeof(value) - 1);
		if (n > 0) {
			value[n] = '\0';
			len += snprintf(out + len, sizeof(out) - len, "%s%s=%s",
					len ? " " : "", attrs[i], value);
		}
		CHECK(ftruncate(fd, 0) == 0);
		close(fd);
	}
	return out;
}

/* Shows each error the pool reports, so that the log shows they read
 * well, and checks that it names what it should; frees it. */
static void check_err(int rc, char **err, const char *want1, const char *want2)
{
	CHECK(rc == -1);
	if (!CHECK(*err != NULL))
		return;
	printf("  error: %s\n", *err);
	if (!CHECK(strstr(*err, want1) != NULL) ||
	    (want2 && !CHECK(strstr(*err, want2) != NULL)))
		fprintf(stderr, "  wanted '%s' and '%s' in '%s'\n", want1,
			want2 ? want2 : "", *err);
	free(*err);
	*err = NULL;
}

static void test_bdf(void)
{
	char bdf[XEN_VF_BDF_SIZE];

	CHECK(xen_vf_bdf_parse("0000:03:10.6", bdf));
	CHECK(strcmp(bdf, "0000:03:10.6") == 0);
	CHECK(xen_vf_bdf_parse("0000:0A:1F.7", bdf));
	CHECK(strcmp(bdf, "0000:0a:1f.7") == 0);
	CHECK(xen_vf_bdf_parse("ffff:ff:00.0", NULL));
	CHECK(!xen_vf_bdf_parse("0000:03:20.0", NULL)); /* device > 1f */
	CHECK(!xen_vf_bdf_parse("0000:03:10.8", NULL)); /* function > 7 */
	CHECK(!xen_vf_bdf_parse("03:10.0", NULL));
	CHECK(!xen_vf_bdf_parse("0000:03:10.0 ", NULL));
	CHECK(!xen_vf_bdf_parse("0000:03:10", NULL));
	CHECK(!xen_vf_bdf_parse("0000-03:10.0", NULL));
	CHECK(!xen_vf_bdf_parse("", NULL));
	CHECK(!xen_vf_bdf_parse("enp3s0f0", NULL));

	CHECK(xen_vf_driver_is_pciback("pciback"));
	CHECK(xen_vf_driver_is_pciback("xen-pciback"));
	CHECK(!xen_vf_driver_is_pciback("ixgbevf"));
	CHECK(!xen_vf_driver_is_pciback(""));
}

/* The recorded PF 0: four VFs, two on ixgbevf, one on none, one on
 * pciback. */
static void check_pf0(const struct xen_vf_pf *pf)
{
	static const struct {
		const char *bdf, *driver;
		bool on_pciback;
	} want[] = {
	    {"0000:03:10.0", "ixgbevf", false},
	    {"0000:03:10.2", "ixgbevf", false},
	    {"0000:03:10.4", "", false},
	    {"0000:03:10.6", "pciback", true},
	};

	CHECK(strcmp(pf->bdf, "0000:03:00.0") == 0);
	CHECK(strcmp(pf->netdev, "enp3s0f0") == 0);
	CHECK(pf->total_vfs == 63);
	CHECK(pf->num_vfs == 4);
	if (!CHECK(pf->nvfs == 4))
		return;
	for (unsigned i = 0; i < 4; i++) {
		CHECK(pf->vfs[i].index == i);
		CHECK(strcmp(pf->vfs[i].bdf, want[i].bdf) == 0);
		CHECK(strcmp(pf->vfs[i].driver, want[i].driver) == 0);
		CHECK(pf->vfs[i].on_pciback == want[i].on_pciback);
	}
}

static void test_discover(void)
{
	static struct xen_vf_pf pf;
	char root[PATH_MAX], slashed[PATH_MAX + 1];
	char *err = NULL;

	fresh_copy("discover", root);
	CHECK(xen_vf_pf_discover(root, "enp3s0f0", &pf, &err) == 0);
	CHECK(err == NULL);
	check_pf0(&pf);

	/* by address: the netdev is found in its net/ */
	CHECK(xen_vf_pf_discover(root, "0000:03:00.0", &pf, &err) == 0);
	check_pf0(&pf);

	/* with a trailing slash on the root, as a config may spell it */
	PATHF(slashed, sizeof(slashed), "%s/", root);
	CHECK(xen_vf_pf_discover(slashed, "enp3s0f0", &pf, &err) == 0);
	check_pf0(&pf);
}

static void test_discover_errors(void)
{
	static struct xen_vf_pf pf;
	char root[PATH_MAX];
	char *err = NULL;
	int rc;

	fresh_copy("errors", root);
	rc = xen_vf_pf_discover(root, "enp9s0", &pf, &err);
	check_err(rc, &err, "no such network interface", "class/net/enp9s0");
	rc = xen_vf_pf_discover(root, "0000:04:00.0", &pf, &err);
	check_err(rc, &err, "no such PCI device",
		  "bus/pci/devices/0000:04:00.0");
	rc = xen_vf_pf_discover(root, "lo", &pf, &err);
	check_err(rc, &err, "class/net/lo/device", "virtual interface");
	rc = xen_vf_pf_discover(root, "eno1", &pf, &err);
	check_err(rc, &err, "not SR-IOV capable", "sriov_totalvfs");
	rc = xen_vf_pf_discover(root, "enp3s0f1", &pf, &err);
	check_err(rc, &err, "no VFs enabled", "> ");
	rc = xen_vf_pf_discover(root, "0000:03:00.1", &pf, &err);
	check_err(rc, &err, "no VFs enabled", "0000:03:00.1/sriov_numvfs");
	rc = xen_vf_pf_discover(root, "../enp3s0f0", &pf, &err);
	check_err(rc, &err, "neither a PCI address", NULL);
	rc = xen_vf_pf_discover(root, "", &pf, &err);
	check_err(rc, &err, "neither a PCI address", NULL);
	rc = xen_vf_pf_discover(root, "averyveryverylongname", &pf, &err);
	check_err(rc, &err, "neither a PCI address", NULL);

	/* VF 2's device gone: its virtfn link dangles */
	fresh_copy("dangling", root);
	remove_tree(at(root, VF2));
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "virtfn2: dangling", strerror(ENOENT));

	fresh_copy("badlink", root);
	CHECK(unlink(at(root, PF0 "/virtfn1")) == 0);
	CHECK(symlink("../not-a-device", at(root, PF0 "/virtfn1")) == 0);
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "virtfn1 links to not-a-device", "not a PCI");

	fresh_copy("notlink", root);
	CHECK(unlink(at(root, PF0 "/virtfn0")) == 0);
	put_file(root, PF0 "/virtfn0", "");
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "virtfn0: not a symlink", NULL);

	fresh_copy("missing", root);
	CHECK(unlink(at(root, PF0 "/virtfn3")) == 0);
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "virtfn3: missing", "sriov_numvfs is 4");

	fresh_copy("beyond", root);
	put_file(root, PF0 "/sriov_numvfs", "3\n");
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "virtfn3: beyond sriov_numvfs (3)", NULL);

	fresh_copy("badname", root);
	CHECK(symlink("../0000:03:10.0", at(root, PF0 "/virtfn01")) == 0);
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "virtfn01: not a virtfn<N> name", NULL);

	fresh_copy("badnum", root);
	put_file(root, PF0 "/sriov_numvfs", "four\n");
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "sriov_numvfs: not a number", NULL);

	fresh_copy("toomany", root);
	put_file(root, PF0 "/sriov_numvfs", "64\n");
	rc = xen_vf_pf_discover(root, "enp3s0f0", &pf, &err);
	check_err(rc, &err, "more than sriov_totalvfs (63)", NULL);
}

static void test_assignable_add(void)
{
	char root[PATH_MAX], orig[XEN_VF_DRIVER_SIZE];
	char *err = NULL;
	int rc;

	fresh_copy("add", root);
	/* from ixgbevf: unbind, a new slot, bind */
	strcpy(orig, "junk");
	CHECK(xen_vf_assignable_add(root, "0000:03:10.0", orig, &err) == 0);
	CHECK(err == NULL);
	CHECK(strcmp(orig, "ixgbevf") == 0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/unbind=0000:03:10.0 "
		     "bus/pci/drivers/pciback/bind=0000:03:10.0 "
		     "bus/pci/drivers/pciback/new_slot=0000:03:10.0") == 0);

	/* from no driver: nothing to unbind */
	CHECK(xen_vf_assignable_add(root, "0000:03:10.4", orig, &err) == 0);
	CHECK(strcmp(orig, "") == 0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/pciback/bind=0000:03:10.4 "
		     "bus/pci/drivers/pciback/new_slot=0000:03:10.4") == 0);

	/* on pciback already: nothing */
	CHECK(xen_vf_assignable_add(root, "0000:03:10.6", orig, &err) == 1);
	CHECK(strcmp(orig, "") == 0);
	CHECK(strcmp(writes(root), "") == 0);

	/* a slot listed already is not added twice */
	put_file(root, PCIB "/slots", "0000:03:10.6\n0000:03:10.2\n");
	CHECK(xen_vf_assignable_add(root, "0000:03:10.2", orig, &err) == 0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/unbind=0000:03:10.2 "
		     "bus/pci/drivers/pciback/bind=0000:03:10.2") == 0);
	put_file(root, PCIB "/slots", "0000:03:10.6\n");

	rc = xen_vf_assignable_add(root, "0000:03:10", orig, &err);
	check_err(rc, &err, "not a PCI address", NULL);
	rc = xen_vf_assignable_add(root, "0000:03:11.0", orig, &err);
	check_err(rc, &err, "no such PCI device",
		  "bus/pci/devices/0000:03:11.0");
	CHECK(strcmp(writes(root), "") == 0);

	/* bind fails: the slot goes and ixgbevf gets the VF back, which
	 * also shows that the unbind and new_slot came before the bind */
	break_file(root, PCIB "/bind");
	rc = xen_vf_assignable_add(root, "0000:03:10.0", orig, &err);
	check_err(rc, &err, "pciback/bind", "put back on ixgbevf");
	mend_file(root, PCIB "/bind");
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/bind=0000:03:10.0 "
		     "bus/pci/drivers/ixgbevf/unbind=0000:03:10.0 "
		     "bus/pci/drivers/pciback/new_slot=0000:03:10.0 "
		     "bus/pci/drivers/pciback/remove_slot=0000:03:10.0") == 0);

	/* new_slot fails: no bind was tried; and the way back fails too */
	break_file(root, PCIB "/new_slot");
	break_file(root, "bus/pci/drivers/ixgbevf/bind");
	rc = xen_vf_assignable_add(root, "0000:03:10.0", orig, &err);
	check_err(rc, &err, "pciback/new_slot", "undoing it failed too");
	mend_file(root, PCIB "/new_slot");
	mend_file(root, "bus/pci/drivers/ixgbevf/bind");
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/unbind=0000:03:10.0") == 0);

	/* bind and remove_slot fail: the rebind is still tried */
	break_file(root, PCIB "/bind");
	break_file(root, PCIB "/remove_slot");
	rc = xen_vf_assignable_add(root, "0000:03:10.0", orig, &err);
	check_err(rc, &err, "undoing it failed too", "pciback/remove_slot");
	mend_file(root, PCIB "/bind");
	mend_file(root, PCIB "/remove_slot");
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/bind=0000:03:10.0 "
		     "bus/pci/drivers/ixgbevf/unbind=0000:03:10.0 "
		     "bus/pci/drivers/pciback/new_slot=0000:03:10.0") == 0);

	/* no pciback: the module is named */
	CHECK(rename(at(root, PCIB), at(root, PCIB ".off")) == 0);
	rc = xen_vf_assignable_add(root, "0000:03:10.0", orig, &err);
	check_err(rc, &err, "modprobe xen-pciback", NULL);
	CHECK(rename(at(root, PCIB ".off"), at(root, PCIB)) == 0);
	CHECK(strcmp(writes(root), "") == 0);
}

static void test_assignable_remove(void)
{
	char root[PATH_MAX];
	char *err = NULL;
	int rc;

	fresh_copy("remove", root);
	/* back to the driver it came from */
	CHECK(xen_vf_assignable_remove(root, "0000:03:10.6", "ixgbevf", &err) ==
	      0);
	CHECK(err == NULL);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/bind=0000:03:10.6 "
		     "bus/pci/drivers/pciback/remove_slot=0000:03:10.6 "
		     "bus/pci/drivers/pciback/unbind=0000:03:10.6") == 0);

	/* the driver unknown: the kernel chooses */
	CHECK(xen_vf_assignable_remove(root, "0000:03:10.6", NULL, &err) == 0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/pciback/remove_slot=0000:03:10.6 "
		     "bus/pci/drivers/pciback/unbind=0000:03:10.6 "
		     "bus/pci/drivers_probe=0000:03:10.6") == 0);

	/* it had none: it gets none */
	CHECK(xen_vf_assignable_remove(root, "0000:03:10.6", "", &err) == 0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/pciback/remove_slot=0000:03:10.6 "
		     "bus/pci/drivers/pciback/unbind=0000:03:10.6") == 0);

	/* no slot listed: none removed */
	put_file(root, PCIB "/slots", "");
	CHECK(xen_vf_assignable_remove(root, "0000:03:10.6", "", &err) == 0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/pciback/unbind=0000:03:10.6") == 0);
	put_file(root, PCIB "/slots", "0000:03:10.6\n");

	/* on a dom0 driver already: left alone */
	CHECK(xen_vf_assignable_remove(root, "0000:03:10.0", "ixgbevf", &err) ==
	      1);
	CHECK(strcmp(writes(root), "") == 0);

	/* on no driver: only the rebind */
	CHECK(xen_vf_assignable_remove(root, "0000:03:10.4", "ixgbevf", &err) ==
	      0);
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/ixgbevf/bind=0000:03:10.4") == 0);

	rc = xen_vf_assignable_remove(root, "0000:03:10.6", "../ixgbe", &err);
	check_err(rc, &err, "not a dom0 driver", NULL);
	rc = xen_vf_assignable_remove(root, "0000:03:10.6", "pciback", &err);
	check_err(rc, &err, "not a dom0 driver", NULL);
	rc = xen_vf_assignable_remove(root, "0000:03:11.0", NULL, &err);
	check_err(rc, &err, "no such PCI device", NULL);
	CHECK(strcmp(writes(root), "") == 0);

	/* the rebind fails after the unbind: said, with the path */
	rc = xen_vf_assignable_remove(root, "0000:03:10.6", "e1000e", &err);
	check_err(rc, &err, "bus/pci/drivers/e1000e/bind", strerror(ENOENT));
	CHECK(strcmp(writes(root),
		     "bus/pci/drivers/pciback/remove_slot=0000:03:10.6 "
		     "bus/pci/drivers/pciback/unbind=0000:03:10.6") == 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s RECORDED-SYSFS-TREE\n", argv[0]);
		return 2;
	}
	tree = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0); /* in order with stderr */
	PATHF(tmp, sizeof(tmp), "%s/test_xen_vf.XXXXXX",
	      getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror(tmp);
		return 1;
	}

	test_bdf();
	test_discover();
	test_discover_errors();
	test_assignable_add();
	test_assignable_remove();

	if (check_failures == 0)
		remove_tree(tmp);
	else
		fprintf(stderr, "the copies are kept in %s\n", tmp);
	return check_summary("test_xen_vf");
}
