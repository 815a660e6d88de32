/*
 * Working copies of the recorded sysfs tree (tests/data/sysfs-sriov) for
 * the xen VF tests: each case changes its own copy, and changes it as the
 * kernel would where a case needs that (a driver link moved after a bind).
 * Include after check.h, once per test program.
 */
#ifndef LIBRETTO_TESTS_XEN_VF_TREE_H
#define LIBRETTO_TESTS_XEN_VF_TREE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deployment.h"

/* The PF with four VFs, and each VF's device directory. */
#define TREE_PF0   "devices/pci0000:00/0000:00:03.0/0000:03:00.0"
#define TREE_VF(n) "devices/pci0000:00/0000:00:03.0/0000:03:10." n

static char tree_tmp[256]; /* this run's temporary directory */

/* A deployment's network as the VF pool reads it. */
static inline struct lt_network network(const char *nic, const char *vf_pf,
					unsigned vfs)
{
	struct lt_network net = {.vfs = vfs};

	snprintf(net.nic, sizeof(net.nic), "%s", nic);
	snprintf(net.vf_pf, sizeof(net.vf_pf), "%s", vf_pf);
	return net;
}

/* mkdtemp under $TMPDIR; 0, or -1 (the test cannot go on). */
static inline int tree_tmp_make(const char *prog)
{
	const char *base = getenv("TMPDIR");

	snprintf(tree_tmp, sizeof(tree_tmp), "%s/%s.XXXXXX",
		 base && *base ? base : "/tmp", prog);
	return mkdtemp(tree_tmp) ? 0 : -1;
}

static inline void tree_tmp_remove(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree_tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tree_tmp);
}

/* A fresh copy of tree named name; its path in root.  The links are
 * relative, so cp -a keeps them working. */
static inline int tree_copy(const char *tree, const char *name,
			    char root[PATH_MAX])
{
	char cmd[3 * PATH_MAX];

	if (!CHECK(snprintf(root, PATH_MAX, "%s/%s", tree_tmp, name) <
		   PATH_MAX) ||
	    !CHECK(snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", tree, root) <
		   (int)sizeof(cmd)))
		return -1;
	return CHECK(system(cmd) == 0) ? 0 : -1;
}

/* <root>/<rel> */
static inline const char *tree_at(const char *root, const char *rel)
{
	static char paths[2][PATH_MAX];
	static unsigned next;
	char *path = paths[next++ % 2];

	snprintf(path, PATH_MAX, "%s/%s", root, rel);
	return path;
}

static inline void tree_put(const char *root, const char *rel, const char *text)
{
	FILE *f = fopen(tree_at(root, rel), "w");

	if (!CHECK(f != NULL))
		return;
	fputs(text, f);
	fclose(f);
}

/* What a file holds, up to size - 1 bytes ("" when missing). */
static inline const char *tree_read(const char *root, const char *rel,
				    char *buf, size_t size)
{
	FILE *f = fopen(tree_at(root, rel), "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* A directory where a file was: writing it fails (EISDIR), as a failing
 * sysfs store would. */
static inline void tree_break(const char *root, const char *rel)
{
	unlink(tree_at(root, rel));
	CHECK(mkdir(tree_at(root, rel), 0755) == 0);
}

/* A device's driver link moved to driver, as a bind does. */
static inline void tree_bind(const char *root, const char *dev_rel,
			     const char *driver)
{
	char link[PATH_MAX], target[PATH_MAX];

	snprintf(link, sizeof(link), "%s/%s/driver", root, dev_rel);
	snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s",
		 driver);
	unlink(link);
	CHECK(symlink(target, link) == 0);
}

#endif
