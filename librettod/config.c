/* librettod's own config file (docs/librettod-config.md). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libretto/protocol.h"
#include "libretto/version.h"
#include "yaml_util.h"

/* The config is a dozen lines; this only bounds a mistaken path. */
#define CONFIG_MAX_SIZE (64 * 1024)
/* Below one reply line a client could never be served; above, a stuck
 * subscriber could hold a noticeable part of dom0's memory. */
#define CLIENT_BUFFER_MIN ((uint64_t)64 << 10)
#define CLIENT_BUFFER_MAX ((uint64_t)1 << 30)
/* Enough for every status --watch of a busy host; above, a flood of idle
 * connections would cost more descriptors than any default limit gives. */
#define CLIENTS_DEFAULT		4096
#define CLIENTS_LIMIT		65536
#define CLIENTS_PER_UID_DEFAULT 64
/* A minute is long for a client that sends nothing and waits for no
 * event; a day is a ceiling past which "idle" means nothing. */
#define IDLE_TIMEOUT_DEFAULT 60
#define IDLE_TIMEOUT_MAX     86400
/* What the daemon's own work holds at once beside its clients: xenstore,
 * the state file, each domain's pidfd and log, a deploy's namespaces and
 * spawn pipes, libxl's. */
#define FD_RESERVE_DEFAULT 128
#define FD_RESERVE_MIN	   32
#define FD_RESERVE_MAX	   65536
/* An hour: past it a guest that has not come up is not booting. */
#define BOOT_TIMEOUT_MAX 3600

void daemon_config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s",
		 LT_DEFAULT_SOCKET);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/libretto");
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "/run/libretto");
	snprintf(cfg->backend, sizeof(cfg->backend), "sim");
	cfg->control_group[0] = '\0';
	cfg->control_gid = (gid_t)-1;
	cfg->client_buffer_max = (size_t)4 << 20;
	cfg->clients_max = CLIENTS_DEFAULT;
	cfg->clients_per_uid = CLIENTS_PER_UID_DEFAULT;
	cfg->client_idle_timeout = IDLE_TIMEOUT_DEFAULT;
	cfg->fd_reserve = FD_RESERVE_DEFAULT;
	cfg->destroy_on_shutdown = 0;
	snprintf(cfg->libexec_dir, sizeof(cfg->libexec_dir), "%s",
		 LIBRETTO_LIBEXECDIR);
	snprintf(cfg->xenstored, sizeof(cfg->xenstored),
		 "/usr/lib/xen-4.17/bin/xenstored");
	snprintf(cfg->xen_kernel, sizeof(cfg->xen_kernel),
		 "/var/lib/libretto/images/vmlinux");
	snprintf(cfg->xen_ramdisk, sizeof(cfg->xen_ramdisk),
		 "/var/lib/libretto/images/guest.cpio.zst");
	snprintf(cfg->xen_cmdline, sizeof(cfg->xen_cmdline),
		 "console=hvc0 quiet");
	snprintf(cfg->images_dir, sizeof(cfg->images_dir), "%s",
		 LT_IMAGES_DIR_DEFAULT);
}

/* An absolute path that fits `size` bytes with its NUL. */
static int load_path(struct lt_yaml *y, yaml_node_t *node, const char *where,
		     char *out, size_t size)
{
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0, "an absolute path");

	if (!s)
		return -1;
	lt_yaml_describe(node, found, sizeof(found));
	if (s[0] != '/')
		return lt_yaml_fail(y, node, where,
				    "%s is not an absolute path", found);
	if (strlen(s) >= size)
		return lt_yaml_fail(y, node, where,
				    "%s is longer than %zu characters", found,
				    size - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* A kernel command line (lt_yaml_cmdline), at most XEN_CMDLINE_SIZE - 1
 * bytes. */
static int load_cmdline(struct lt_yaml *y, yaml_node_t *node,
			struct daemon_config *cfg)
{
	const char *s = lt_yaml_cmdline(y, node, "xen_cmdline",
					sizeof(cfg->xen_cmdline) - 1);

	if (!s)
		return -1;
	memcpy(cfg->xen_cmdline, s, strlen(s) + 1);
	return 0;
}

/* One of `choices` (NULL-terminated); returns its index or -1. */
static int load_choice(struct lt_yaml *y, yaml_node_t *node, const char *where,
		       const char *const *choices, const char *expected)
{
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0, expected);

	if (!s)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (strcmp(s, choices[i]) == 0)
			return i;
	lt_yaml_describe(node, found, sizeof(found));
	return lt_yaml_fail(y, node, where, "%s is not valid (expected %s)",
			    found, expected);
}

/* getgrnam_r with a buffer that grows on ERANGE. */
static int lookup_group(const char *name, gid_t *gid)
{
	size_t size = 1024;
	char *buf = NULL;
	struct group grp, *found = NULL;
	int rc = -1, e;

	for (;;) {
		char *bigger = realloc(buf, size);
		if (!bigger)
			goto out;
		buf = bigger;
		e = getgrnam_r(name, &grp, buf, size, &found);
		if (e != ERANGE || size >= (1 << 20))
			break;
		size *= 2;
	}
	if (e == 0 && found) {
		*gid = found->gr_gid;
		rc = 0;
	}
out:
	free(buf);
	return rc;
}

static int load_group(struct lt_yaml *y, yaml_node_t *node,
		      struct daemon_config *cfg)
{
	const char *where = "control_group";
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 1, "a group name");

	if (!s)
		return -1;
	lt_yaml_describe(node, found, sizeof(found));
	if (strlen(s) >= sizeof(cfg->control_group))
		return lt_yaml_fail(y, node, where,
				    "%s is longer than %zu characters", found,
				    sizeof(cfg->control_group) - 1);
	if (s[0] == '\0') { /* "" turns a default group off */
		cfg->control_group[0] = '\0';
		cfg->control_gid = (gid_t)-1;
		return 0;
	}
	if (lookup_group(s, &cfg->control_gid) < 0)
		return lt_yaml_fail(y, node, where,
				    "%s is not a group on this host (expected "
				    "a name from /etc/group)",
				    found);
	memcpy(cfg->control_group, s, strlen(s) + 1);
	return 0;
}

/* An unsigned setting from min to max. */
static int load_unsigned(struct lt_yaml *y, yaml_node_t *node,
			 const char *where, unsigned min, unsigned max,
			 unsigned *out)
{
	unsigned long long v;

	if (lt_yaml_uint(y, node, where, min, max, &v) < 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The control socket's bounds on its clients. */
static int load_client_limits(struct lt_yaml *y, yaml_node_t *clients_max,
			      yaml_node_t *per_uid, yaml_node_t *idle,
			      yaml_node_t *reserve, struct daemon_config *cfg)
{
	if ((clients_max &&
	     load_unsigned(y, clients_max, "clients_max", 1, CLIENTS_LIMIT,
			   &cfg->clients_max) < 0) ||
	    (per_uid &&
	     load_unsigned(y, per_uid, "clients_per_uid", 1, CLIENTS_LIMIT,
			   &cfg->clients_per_uid) < 0) ||
	    (idle &&
	     load_unsigned(y, idle, "client_idle_timeout", 0, IDLE_TIMEOUT_MAX,
			   &cfg->client_idle_timeout) < 0) ||
	    (reserve && load_unsigned(y, reserve, "fd_reserve", FD_RESERVE_MIN,
				      FD_RESERVE_MAX, &cfg->fd_reserve) < 0))
		return -1;
	return 0;
}

static int load_settings(struct lt_yaml *y, struct daemon_config *cfg)
{
	static const char *const backends[] = {"sim", "xen", NULL};
	static const char *const on_shutdown[] = {"keep", "destroy", NULL};
	struct lt_yaml_field f[] = {LT_FIELD("socket", 0),
				    LT_FIELD("state_dir", 0),
				    LT_FIELD("run_dir", 0),
				    LT_FIELD("backend", 0),
				    LT_FIELD("control_group", 0),
				    LT_FIELD("client_buffer_max", 0),
				    LT_FIELD("on_shutdown", 0),
				    LT_FIELD("libexec_dir", 0),
				    LT_FIELD("xenstored", 0),
				    LT_FIELD("xen_kernel", 0),
				    LT_FIELD("xen_ramdisk", 0),
				    LT_FIELD("xen_cmdline", 0),
				    LT_FIELD("clients_max", 0),
				    LT_FIELD("clients_per_uid", 0),
				    LT_FIELD("client_idle_timeout", 0),
				    LT_FIELD("fd_reserve", 0),
				    LT_FIELD("images_dir", 0),
				    LT_FIELD("boot_timeout", 0)};
	uint64_t size;
	int i;

	if (lt_yaml_fields(y, lt_yaml_root(y), "", f, LT_NFIELDS(f)) < 0)
		return -1;
	if ((f[0].value && load_path(y, f[0].value, "socket", cfg->socket_path,
				     sizeof(cfg->socket_path)) < 0) ||
	    (f[1].value && load_path(y, f[1].value, "state_dir", cfg->state_dir,
				     sizeof(cfg->state_dir)) < 0) ||
	    (f[2].value && load_path(y, f[2].value, "run_dir", cfg->run_dir,
				     sizeof(cfg->run_dir)) < 0))
		return -1;
	if (f[3].value) {
		i = load_choice(y, f[3].value, "backend", backends,
				"sim or xen");
		if (i < 0)
			return -1;
		snprintf(cfg->backend, sizeof(cfg->backend), "%s", backends[i]);
	}
	if (f[4].value && load_group(y, f[4].value, cfg) < 0)
		return -1;
	if (f[5].value) {
		if (lt_yaml_size(y, f[5].value, "client_buffer_max",
				 CLIENT_BUFFER_MIN, CLIENT_BUFFER_MAX,
				 &size) < 0)
			return -1;
		cfg->client_buffer_max = (size_t)size;
	}
	if (f[6].value) {
		i = load_choice(y, f[6].value, "on_shutdown", on_shutdown,
				"keep or destroy");
		if (i < 0)
			return -1;
		cfg->destroy_on_shutdown = i == 1;
	}
	if ((f[7].value &&
	     load_path(y, f[7].value, "libexec_dir", cfg->libexec_dir,
		       sizeof(cfg->libexec_dir)) < 0) ||
	    (f[8].value && load_path(y, f[8].value, "xenstored", cfg->xenstored,
				     sizeof(cfg->xenstored)) < 0))
		return -1;
	if ((f[9].value &&
	     load_path(y, f[9].value, "xen_kernel", cfg->xen_kernel,
		       sizeof(cfg->xen_kernel)) < 0) ||
	    (f[10].value &&
	     load_path(y, f[10].value, "xen_ramdisk", cfg->xen_ramdisk,
		       sizeof(cfg->xen_ramdisk)) < 0) ||
	    (f[11].value && load_cmdline(y, f[11].value, cfg) < 0) ||
	    (f[16].value &&
	     load_path(y, f[16].value, "images_dir", cfg->images_dir,
		       sizeof(cfg->images_dir)) < 0) ||
	    (f[17].value &&
	     load_unsigned(y, f[17].value, "boot_timeout", 1, BOOT_TIMEOUT_MAX,
			   &cfg->boot_timeout) < 0))
		return -1;
	return load_client_limits(y, f[12].value, f[13].value, f[14].value,
				  f[15].value, cfg);
}

int daemon_config_load(const char *path, struct daemon_config *cfg,
		       struct lt_load_error *err)
{
	struct lt_yaml y;
	struct daemon_config next = *cfg;
	char *text = NULL;
	size_t len;
	int rc = -1;

	memset(err, 0, sizeof(*err));
	memset(&y, 0, sizeof(y));
	if (lt_read_file(path, CONFIG_MAX_SIZE, &text, &len) < 0) {
		if (errno == EFBIG)
			lt_load_error_set(err, path, NULL,
					  "the file is larger than %d bytes",
					  CONFIG_MAX_SIZE);
		else
			lt_load_error_set(err, path, NULL, "cannot read: %s",
					  strerror(errno));
		goto out;
	}
	if (lt_yaml_open(&y, text, len, path, err) < 0)
		goto out;
	/* a file of comments only leaves every default in place */
	if (!lt_yaml_root(&y)) {
		rc = 0;
		goto out;
	}
	/* a file that fails halfway must not leave cfg half-changed */
	if (load_settings(&y, &next) < 0)
		goto out;
	*cfg = next;
	rc = 0;
out:
	lt_yaml_close(&y);
	free(text);
	return rc;
}
