/*
 * The deployment file loader: the top level, the server section, names,
 * and freeing. The network and apps sections have their own files.
 */
#include "deployment_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_MEMORY_DEFAULT ((uint64_t)256 << 20)
#define SERVER_VCPUS_DEFAULT  1
/* Below 16M no PV Linux boots; 1T is far past any dom0's host. */
#define MEMORY_MIN ((uint64_t)16 << 20)
#define MEMORY_MAX ((uint64_t)1 << 40)
#define VCPUS_MAX  128

int lt_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > LT_NAME_MAX)
		return 0;
	if (name[0] < 'a' || name[0] > 'z' || name[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int lt_load_name(struct lt_yaml *y, yaml_node_t *node, const char *where,
		 char out[LT_NAME_MAX + 1])
{
	char found[64];
	const char *s = lt_yaml_string(y, node, where, 0, "a name");

	if (!s)
		return -1;
	lt_yaml_describe(node, found, sizeof(found));
	if (strlen(s) > LT_NAME_MAX)
		return lt_yaml_fail(y, node, where,
				    "%s is longer than %d characters (a name "
				    "must fit xenstore, netns and interface "
				    "names)",
				    found, LT_NAME_MAX);
	if (!lt_name_valid(s))
		return lt_yaml_fail(y, node, where,
				    "%s is not a valid name (expected a-z, 0-9 "
				    "and '-', starting with a letter and not "
				    "ending with '-')",
				    found);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* Shared by the server section and each app. */
static int load_resources(struct lt_yaml *y, yaml_node_t *memory,
			  yaml_node_t *vcpus, const char *where,
			  uint64_t *memory_bytes, unsigned *nvcpus)
{
	char path[64];
	unsigned long long v;

	if (memory) {
		snprintf(path, sizeof(path), "%s.memory", where);
		if (lt_yaml_size(y, memory, path, MEMORY_MIN, MEMORY_MAX,
				 memory_bytes) < 0)
			return -1;
	}
	if (vcpus) {
		snprintf(path, sizeof(path), "%s.vcpus", where);
		if (lt_yaml_uint(y, vcpus, path, 1, VCPUS_MAX, &v) < 0)
			return -1;
		*nvcpus = (unsigned)v;
	}
	return 0;
}

int lt_load_app_resources(struct lt_yaml *y, yaml_node_t *memory,
			  yaml_node_t *vcpus, const char *where,
			  struct lt_app *app)
{
	return load_resources(y, memory, vcpus, where, &app->memory_bytes,
			      &app->vcpus);
}

int lt_load_restart(struct lt_yaml *y, yaml_node_t *restart, yaml_node_t *limit,
		    yaml_node_t *window, const char *where,
		    struct lt_restart_policy *policy)
{
	static const enum lt_restart whens[] = {
	    LT_RESTART_NEVER, LT_RESTART_ON_FAILURE, LT_RESTART_ALWAYS};
	char path[64], found[64];
	unsigned long long v;

	policy->limit = LT_RESTART_LIMIT_DEFAULT;
	policy->window_s = LT_RESTART_WINDOW_DEFAULT;
	if (restart) {
		const char *s;
		size_t i;

		snprintf(path, sizeof(path), "%s.restart", where);
		s = lt_yaml_string(y, restart, path, 0,
				   "always, on-failure or never");
		if (!s)
			return -1;
		for (i = 0; i < sizeof(whens) / sizeof(whens[0]); i++)
			if (strcmp(s, lt_restart_name(whens[i])) == 0)
				break;
		if (i == sizeof(whens) / sizeof(whens[0])) {
			lt_yaml_describe(restart, found, sizeof(found));
			return lt_yaml_fail(y, restart, path,
					    "%s is not a restart policy "
					    "(expected always, on-failure or "
					    "never)",
					    found);
		}
		policy->when = whens[i];
	}
	if (limit) {
		snprintf(path, sizeof(path), "%s.restart_limit", where);
		if (lt_yaml_uint(y, limit, path, 1, 1000000, &v) < 0)
			return -1;
		policy->limit = (unsigned)v;
	}
	if (window) {
		snprintf(path, sizeof(path), "%s.restart_window", where);
		if (lt_yaml_uint(y, window, path, 1, 86400, &v) < 0)
			return -1;
		policy->window_s = (unsigned)v;
	}
	return 0;
}

static int load_server(struct lt_yaml *y, yaml_node_t *node,
		       struct lt_server *server)
{
	struct lt_yaml_field f[] = {
	    LT_FIELD("memory", 0),	   LT_FIELD("vcpus", 0),
	    LT_FIELD("restart", 0),	   LT_FIELD("restart_limit", 0),
	    LT_FIELD("restart_window", 0), LT_FIELD("kernel", 0),
	    LT_FIELD("ramdisk", 0),	   LT_FIELD("cmdline", 0)};

	server->memory_bytes = SERVER_MEMORY_DEFAULT;
	server->vcpus = SERVER_VCPUS_DEFAULT;
	server->restart.when = LT_RESTART_ON_FAILURE;
	if (!node)
		return lt_load_restart(y, NULL, NULL, NULL, "server",
				       &server->restart);
	if (lt_yaml_fields(y, node, "server", f, LT_NFIELDS(f)) < 0)
		return -1;
	if (load_resources(y, f[0].value, f[1].value, "server",
			   &server->memory_bytes, &server->vcpus) < 0)
		return -1;
	if (lt_load_restart(y, f[2].value, f[3].value, f[4].value, "server",
			    &server->restart) < 0)
		return -1;
	return lt_load_image(y, f[5].value, f[6].value, f[7].value, "server",
			     &server->image);
}

static int load_top(struct lt_yaml *y, struct lt_deployment *d)
{
	struct lt_yaml_field f[] = {LT_FIELD("name", 1), LT_FIELD("network", 1),
				    LT_FIELD("server", 0), LT_FIELD("apps", 1)};
	yaml_node_t *root = lt_yaml_root(y);

	if (!root) {
		lt_load_error_set(y->err, y->file, NULL,
				  "the file is empty (expected a mapping with "
				  "name, network and apps)");
		return -1;
	}
	if (root->type != YAML_MAPPING_NODE) {
		char found[64];
		lt_yaml_describe(root, found, sizeof(found));
		return lt_yaml_fail(y, root, "",
				    "expected a mapping with name, network "
				    "and apps, found %s",
				    found);
	}
	if (lt_yaml_fields(y, root, "", f, LT_NFIELDS(f)) < 0)
		return -1;
	if (lt_load_name(y, f[0].value, "name", d->name) < 0)
		return -1;
	/* Joined names (namespace lt-<dep>-<app>, Xen domain <dep>-<app>,
	 * log <dep>-<app>.log) split at their first '-' only while a
	 * deployment's name has none: "a" + "b-c" would be "a-b" + "c". */
	if (strchr(d->name, '-') != NULL) {
		char found[64];

		lt_yaml_describe(f[0].value, found, sizeof(found));
		return lt_yaml_fail(y, f[0].value, "name",
				    "%s may not contain '-' (a deployment's "
				    "name is joined to its apps' names with "
				    "'-'; an app's name may contain it)",
				    found);
	}
	if (lt_load_network(y, f[1].value, &d->net) < 0)
		return -1;
	if (load_server(y, f[2].value, &d->server) < 0)
		return -1;
	return lt_load_apps(y, f[3].value, d);
}

int lt_deployment_load(const char *text, size_t len, const char *file,
		       struct lt_deployment **out, struct lt_load_error *err)
{
	struct lt_yaml y;
	struct lt_deployment *d = NULL;
	int rc = -1;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (len > LT_DEPLOYMENT_MAX_SIZE) {
		lt_load_error_set(err, file, NULL,
				  "the file has %zu bytes (expected at most "
				  "%d)",
				  len, LT_DEPLOYMENT_MAX_SIZE);
		return -1;
	}
	if (lt_yaml_open(&y, text, len, file, err) < 0)
		goto out;
	d = calloc(1, sizeof(*d));
	if (!d) {
		lt_load_error_set(err, file, NULL, "out of memory");
		goto out;
	}
	if (load_top(&y, d) < 0)
		goto out;
	*out = d;
	d = NULL;
	rc = 0;
out:
	lt_deployment_free(d);
	lt_yaml_close(&y);
	return rc;
}

int lt_deployment_load_file(const char *path, struct lt_deployment **out,
			    struct lt_load_error *err)
{
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (lt_read_file(path, LT_DEPLOYMENT_MAX_SIZE, &text, &len) < 0) {
		if (errno == EFBIG)
			lt_load_error_set(err, path, NULL,
					  "the file is larger than %d bytes",
					  LT_DEPLOYMENT_MAX_SIZE);
		else
			lt_load_error_set(err, path, NULL, "cannot read: %s",
					  strerror(errno));
		return -1;
	}
	rc = lt_deployment_load(text, len, path, out, err);
	free(text);
	return rc;
}

void lt_load_error_format(const struct lt_load_error *err, char *buf,
			  size_t size)
{
	if (err->pos.line > 0)
		snprintf(buf, size, "%s:%d:%d: %s", err->file, err->pos.line,
			 err->pos.column, err->message);
	else
		snprintf(buf, size, "%s: %s", err->file, err->message);
}

void lt_deployment_free(struct lt_deployment *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->napps; i++) {
		struct lt_app *app = &d->apps[i];
		for (size_t j = 0; app->argv && app->argv[j]; j++)
			free(app->argv[j]);
		free(app->argv);
		free(app->ports);
		lt_image_free(&app->image);
	}
	lt_image_free(&d->server.image);
	free(d->apps);
	free(d->images_dir);
	free(d);
}
