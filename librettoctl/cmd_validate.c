/*
 * librettoctl validate FILE: the daemon's own loader, run locally, so a
 * file can be checked without a daemon (in CI, in an editor hook).
 */
#include <deployment.h>
#include <libretto/protocol.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "output.h"
#include "readfile.h"

/* The JSON form: {"file", "valid": true, "apps": N} or {"file", "valid":
 * false, "error": {"line", "column", "message"}}. */
static void print_json(const char *name, const struct lt_deployment *d,
		       const struct lt_load_error *err, const char *formatted)
{
	struct json_object *out = json_object_new_object();

	json_object_object_add(out, "file", json_object_new_string(name));
	json_object_object_add(out, "valid",
			       json_object_new_boolean(d != NULL));
	if (d != NULL) {
		json_object_object_add(out, "deployment",
				       json_object_new_string(d->name));
		json_object_object_add(
		    out, "apps", json_object_new_int64((int64_t)d->napps));
	} else {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "line",
				       json_object_new_int(err->pos.line));
		json_object_object_add(e, "column",
				       json_object_new_int(err->pos.column));
		json_object_object_add(e, "message",
				       json_object_new_string(err->message));
		json_object_object_add(e, "text",
				       json_object_new_string(formatted));
		json_object_object_add(out, "error", e);
	}
	out_json_line(out);
	json_object_put(out);
}

int cmd_validate(const struct ctl_invocation *inv)
{
	const char *name = readfile_name(inv->argv[0]);
	struct lt_deployment *d = NULL;
	struct lt_load_error err = {{0}, {0, 0}, {0}};
	char formatted[1024] = "";
	size_t len;
	char *text;
	int status;

	status = readfile(inv->argv[0], &text, &len);
	if (status != LT_EXIT_OK)
		return status;
	if (lt_deployment_load(text, len, name, &d, &err) != 0) {
		d = NULL;
		lt_load_error_format(&err, formatted, sizeof(formatted));
	}
	free(text);

	if (inv->json) {
		print_json(name, d, &err, formatted);
	} else if (d != NULL) {
		out_text(stdout, name);
		printf(": valid (%zu app%s)\n", d->napps,
		       d->napps == 1 ? "" : "s");
	}
	if (d == NULL) {
		/* file:line:column: message, as a compiler prints it */
		fflush(stdout);
		out_text(stderr, formatted);
		fputc('\n', stderr);
		return LT_EXIT_USAGE;
	}
	lt_deployment_free(d);
	return LT_EXIT_OK;
}
