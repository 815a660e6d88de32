#include "status_format.h"

#include <libretto/protocol.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jget.h"
#include "output.h"
#include "table.h"

enum {
	COL_NAME,
	COL_DOMID,
	COL_ROLE,
	COL_MODE,
	COL_PATH,
	COL_STATE,
	COL_ADDRESS,
	COL_MAC,
	COL_NAMESPACE,
	COL_PID,
	COL_PORTS,
	COL_FRAMES,
	COL_RESTARTS,
	COL_IMAGE,
	COL_COUNT
};

/* Optional columns are facts only some backends or versions report (sim
 * has namespaces and pids, xen does not). */
static const struct table_column domain_columns[COL_COUNT] = {
    [COL_NAME] = {"NAME", false},
    [COL_DOMID] = {"DOMID", false},
    [COL_ROLE] = {"ROLE", false},
    [COL_MODE] = {"MODE", false},
    [COL_PATH] = {"PATH", true},
    [COL_STATE] = {"STATE", false},
    [COL_ADDRESS] = {"ADDRESS", false},
    [COL_MAC] = {"MAC", false},
    [COL_NAMESPACE] = {"NAMESPACE", true},
    [COL_PID] = {"PID", true},
    [COL_PORTS] = {"PORTS", true},
    [COL_FRAMES] = {"FRAMES IN/OUT", true},
    [COL_RESTARTS] = {"RESTARTS", true},
    [COL_IMAGE] = {"IMAGE", true},
};

#define CELL_MAX 256

/* "web" -> "web"; "xenstored_socket" -> "xenstored socket". */
static void print_key(FILE *f, const char *key)
{
	for (; *key != '\0'; key++)
		fputc(*key == '_' ? ' ' : *key, f);
}

/* The state, and how the domain ended when it did: "failed (signal 9)". */
static void state_cell(struct json_object *dom, char *buf, size_t size)
{
	struct json_object *exit_info = jget(dom, "exit");
	char state[CELL_MAX / 2]; /* leaves room for the exit text */
	int64_t v;

	jget_text(jget(dom, "state"), state, sizeof(state));
	if (jget_int(exit_info, "signal", &v))
		snprintf(buf, size, "%s (signal %lld)", state, (long long)v);
	else if (jget_int(exit_info, "exit_code", &v))
		snprintf(buf, size, "%s (exit %lld)", state, (long long)v);
	else
		snprintf(buf, size, "%s", state);
}

/*
 * What the network server counted for the domain: frames it delivered to
 * the app and took from it (for the server itself: the PF's rx and tx);
 * "-" when it published nothing, as for an app on its VF.
 */
static void frames_cell(struct json_object *dom, char *buf, size_t size)
{
	struct json_object *c = jget_object(dom, "counters");
	struct json_object *vf = jget_object(dom, "vf_counters");
	const char *path = jget_str(dom, "path");
	int64_t in, out;

	/* On its VF, an app's frames are the VF's, counted by its agent. */
	if (path != NULL && strcmp(path, LT_PATH_DIRECT) == 0 &&
	    jget_int(vf, "rx_packets", &in) && jget_int(vf, "tx_packets", &out))
		snprintf(buf, size, "%lld/%lld vf", (long long)in,
			 (long long)out);
	else if ((jget_int(c, "to_app_packets", &in) &&
		  jget_int(c, "from_app_packets", &out)) ||
		 (jget_int(c, "rx_packets", &in) &&
		  jget_int(c, "tx_packets", &out)))
		snprintf(buf, size, "%lld/%lld", (long long)in, (long long)out);
	else
		snprintf(buf, size, "-");
}

/* "server", "direct vf1", and "server -> direct" while switching. */
static void path_cell(struct json_object *dom, char *buf, size_t size)
{
	const char *path = jget_str(dom, "path");
	int64_t vf;

	if (path == NULL)
		path = "-";
	if (jget(dom, "switching") != NULL)
		snprintf(buf, size, "%s -> %s", path,
			 strcmp(path, LT_PATH_DIRECT) == 0 ? LT_PATH_SERVER
							   : LT_PATH_DIRECT);
	else if (jget_int(dom, "vf", &vf) && strcmp(path, LT_PATH_DIRECT) == 0)
		snprintf(buf, size, "%s vf%lld", path, (long long)vf);
	else
		snprintf(buf, size, "%s", path);
}

static bool is_default(struct json_object *dom, const char *part)
{
	struct json_object *defaults = jget_array(dom, "image_default");
	size_t n = defaults != NULL ? json_object_array_length(defaults) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(defaults, i);

		if (json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), part) == 0)
			return true;
	}
	return false;
}

/* The parts of the image the domain's file names, "-" when it boots the
 * daemon's defaults: "ramdisk redis.cpio.zst", a path under images_dir
 * shown relative to it. */
static void image_cell(struct json_object *dom, const char *images_dir,
		       char *buf, size_t size)
{
	static const char *const parts[] = {"kernel", "ramdisk", "cmdline"};
	size_t dir_len = images_dir != NULL ? strlen(images_dir) : 0;
	size_t used = 0;

	buf[0] = '\0';
	if (jget_array(dom, "image_default") == NULL) {
		snprintf(buf, size, "-"); /* an older daemon */
		return;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const char *v = jget_str(dom, parts[i]);
		int n;

		if (v == NULL || is_default(dom, parts[i]))
			continue;
		if (i < 2 && dir_len > 0 &&
		    strncmp(v, images_dir, dir_len) == 0 && v[dir_len] == '/')
			v += dir_len + 1;
		n = snprintf(buf + used, size - used,
			     i == 2 ? "%s%s \"%s\"" : "%s%s %s",
			     used ? ", " : "", parts[i], v);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "-");
}

static void add_domain_row(struct table *t, struct json_object *dom,
			   const char *images_dir)
{
	static const char *const keys[COL_COUNT] = {
	    [COL_NAME] = "name",	 [COL_DOMID] = "domid",
	    [COL_ROLE] = "role",	 [COL_MODE] = "mode",
	    [COL_PATH] = "path",	 [COL_ADDRESS] = "ip",
	    [COL_MAC] = "mac",		 [COL_NAMESPACE] = "namespace",
	    [COL_PID] = "pid",		 [COL_PORTS] = "ports",
	    [COL_RESTARTS] = "restarts",
	};
	char text[COL_COUNT][CELL_MAX];
	const char *cells[COL_COUNT];
	int64_t restarts;

	for (size_t c = 0; c < COL_COUNT; c++) {
		if (keys[c] != NULL)
			jget_text(jget(dom, keys[c]), text[c], CELL_MAX);
		cells[c] = text[c];
	}
	state_cell(dom, text[COL_STATE], CELL_MAX);
	path_cell(dom, text[COL_PATH], CELL_MAX);
	frames_cell(dom, text[COL_FRAMES], CELL_MAX);
	image_cell(dom, images_dir, text[COL_IMAGE], CELL_MAX);
	/* Zero restarts is the normal case: keep the column for domains that
	 * did restart. */
	if (jget_int(dom, "restarts", &restarts) && restarts == 0)
		cells[COL_RESTARTS] = "-";
	table_add_row(t, cells);
}

/* "nic pf0, subnet 10.77.0.0/24, ..." from whatever members it has. */
static void print_members_inline(FILE *f, struct json_object *obj)
{
	char value[CELL_MAX];
	bool first = true;

	json_object_object_foreach(obj, key, val)
	{
		fputs(first ? "" : ", ", f);
		print_key(f, key);
		fputc(' ', f);
		out_text(f, jget_text(val, value, sizeof(value)));
		first = false;
	}
}

static void print_backend(FILE *f, struct json_object *backend)
{
	char value[CELL_MAX];

	fputs("backend: ", f);
	if (backend == NULL) { /* json-c cannot iterate NULL */
		fputs("-\n", f);
		return;
	}
	out_text(f, jget_text(jget(backend, "name"), value, sizeof(value)));
	json_object_object_foreach(backend, key, val)
	{
		if (strcmp(key, "name") == 0)
			continue;
		fputs(", ", f);
		print_key(f, key);
		fputc(' ', f);
		out_text(f, jget_text(val, value, sizeof(value)));
	}
	fputc('\n', f);
}

static void print_deployment(FILE *f, struct json_object *dep)
{
	struct json_object *network = jget_object(dep, "network");
	struct json_object *domains = jget_array(dep, "domains");
	size_t n = domains != NULL ? json_object_array_length(domains) : 0;
	char value[CELL_MAX];

	if (!json_object_is_type(dep, json_type_object)) {
		fputs("deployment -: unexpected entry ", f);
		out_text(f, dep != NULL ? out_json_text(dep) : "null");
		fputc('\n', f);
		return;
	}
	fputs("deployment ", f);
	out_text(f, jget_text(jget(dep, "name"), value, sizeof(value)));
	fputs(": ", f);
	out_text(f, jget_text(jget(dep, "state"), value, sizeof(value)));
	fputc('\n', f);
	if (network != NULL) {
		fputs("  network: ", f);
		print_members_inline(f, network);
		fputc('\n', f);
	}
	/* Backend facts (the sim's peer namespace, ...) and whatever a newer
	 * daemon adds, one "key: value" line each. */
	json_object_object_foreach(dep, key, val)
	{
		/* null: nothing to report (no operation in flight, ...) */
		if (val == NULL || strcmp(key, "name") == 0 ||
		    strcmp(key, "state") == 0 || strcmp(key, "network") == 0 ||
		    strcmp(key, "domains") == 0)
			continue;
		fputs("  ", f);
		print_key(f, key);
		fputs(": ", f);
		out_text(f, jget_text(val, value, sizeof(value)));
		fputc('\n', f);
	}
	if (n == 0) {
		fputs("  no domains\n", f);
		return;
	}
	struct table *t = table_new(domain_columns, COL_COUNT);
	for (size_t i = 0; i < n; i++)
		add_domain_row(t, json_object_array_get_idx(domains, i),
			       jget_str(dep, "images_dir"));
	table_print(t, f, "  ");
	table_free(t);
}

/* `status DEPLOYMENT DOMAIN`: every member, one per line. */
static void print_single_domain(FILE *f, struct json_object *dom)
{
	char value[CELL_MAX];
	size_t width = 0;

	json_object_object_foreach(dom, k, v)
	{
		(void)v;
		if (strlen(k) > width)
			width = strlen(k);
	}
	json_object_object_foreach(dom, key, val)
	{
		print_key(f, key);
		fprintf(f, ":%*s ", (int)(width - strlen(key)), "");
		if (strcmp(key, "state") == 0)
			state_cell(dom, value, sizeof(value));
		else
			jget_text(val, value, sizeof(value));
		out_text(f, value);
		fputc('\n', f);
	}
}

static void format_text(FILE *f, struct json_object *result, bool one_domain)
{
	struct json_object *deployments = jget_array(result, "deployments");

	if (!json_object_is_type(result, json_type_object)) {
		fputs("unexpected status result: ", f);
		out_text(f, result != NULL ? out_json_text(result) : "null");
		fputc('\n', f);
		return;
	}
	if (one_domain) {
		print_single_domain(f, result);
		return;
	}
	print_backend(f, jget_object(result, "backend"));
	size_t n =
	    deployments != NULL ? json_object_array_length(deployments) : 0;
	if (n == 0)
		fputs("no deployments\n", f);
	for (size_t i = 0; i < n; i++) {
		fputc('\n', f);
		print_deployment(f, json_object_array_get_idx(deployments, i));
	}
}

char *status_format(struct json_object *result, bool json, bool one_domain)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	if (json)
		fprintf(f, "%s\n",
			result != NULL ? out_json_text(result) : "null");
	else
		format_text(f, result, one_domain);
	if (fclose(f) != 0)
		abort();
	return text;
}
