/*
 * librettoctl validate FILE: the daemon's own loader, run locally, so a
 * file can be checked without a daemon (in CI, in an editor hook). A file
 * that names a kernel or ramdisk is then sent to the daemon's validate
 * command: images_dir is the daemon's config and the files are on its
 * host, so only it can say whether they are there.
 */
#include <deployment.h>
#include <libretto/protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "jget.h"
#include "output.h"
#include "readfile.h"
#include "report.h"

/* What the daemon said of the images: checked in images_dir, refused
 * (err filled, exit 2), or not asked (no image named). */
struct images_check {
	bool asked;
	char images_dir[256];
};

/* The JSON form: {"file", "valid": true, "apps": N} or {"file", "valid":
 * false, "error": {"line", "column", "message"}}. */
static void print_json(const char *name, const struct lt_deployment *d,
		       const struct lt_load_error *err, const char *formatted,
		       const struct images_check *images)
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
		json_object_object_add(
		    out, "images_dir",
		    images->asked ? json_object_new_string(images->images_dir)
				  : NULL);
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

/* The daemon's invalid-deployment as a load error. */
static void remote_error(struct json_object *error, const char *name,
			 struct lt_load_error *err)
{
	struct json_object *data = jget_object(error, "data");
	const char *reason = jget_str(data, "reason");
	int64_t line = 0, column = 0;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", name);
	if (jget_int(data, "line", &line) &&
	    jget_int(data, "column", &column)) {
		err->pos.line = (int)line;
		err->pos.column = (int)column;
	}
	snprintf(err->message, sizeof(err->message), "%s",
		 reason != NULL		      ? reason
		 : jget_str(error, "message") ? jget_str(error, "message")
					      : "(no message)");
}

/*
 * Sends the file to the daemon's validate command. LT_EXIT_OK when the
 * images are there (images->images_dir set), LT_EXIT_USAGE with *err
 * filled when the daemon refuses the file, else the status of what went
 * wrong (printed).
 */
static int check_images(const struct ctl_invocation *inv, const char *name,
			const char *text, size_t len, struct lt_load_error *err,
			struct images_check *images)
{
	struct json_object *args = json_object_new_object();
	struct ctl_client *c = NULL;
	struct ctl_msg msg = {0};
	int64_t id;
	bool ok = false;
	int status;

	images->asked = true;
	json_object_object_add(args, "content",
			       json_object_new_string_len(text, (int)len));
	json_object_object_add(args, "file", json_object_new_string(name));
	status = client_open(inv->socket_path, &c);
	if (status != LT_EXIT_OK) {
		json_object_put(args);
		goto not_checked;
	}
	status = client_send(c, LT_CMD_VALIDATE, args, &id);
	while (status == LT_EXIT_OK) {
		client_next(c, -1, &msg);
		if (msg.kind == CTL_MSG_EVENT) {
			json_object_put(msg.obj);
			continue;
		}
		if (msg.kind != CTL_MSG_REPLY) {
			status = client_fail(c, &msg);
			break;
		}
		if (client_reply_matches(msg.obj, id))
			break;
		json_object_put(msg.obj);
		msg.obj = NULL;
	}
	if (status != LT_EXIT_OK) {
		client_close(c);
		goto not_checked;
	}
	if (jget_bool(msg.obj, "ok", &ok) && ok) {
		const char *dir =
		    jget_str(jget(msg.obj, "result"), "images_dir");

		snprintf(images->images_dir, sizeof(images->images_dir), "%s",
			 dir != NULL ? dir : "?");
	} else {
		struct json_object *error = jget_object(msg.obj, "error");
		const char *class = jget_str(error, "class");

		if (class != NULL && strcmp(class, LT_ERR_INVALID) == 0) {
			remote_error(error, name, err);
			status = LT_EXIT_USAGE;
		} else {
			status = ctl_fail_remote(error);
			json_object_put(msg.obj);
			client_close(c);
			goto not_checked;
		}
	}
	json_object_put(msg.obj);
	client_close(c);
	return status;
not_checked:
	fflush(stdout);
	fputs("librettoctl: ", stderr);
	out_text(stderr, name);
	fputs(": names a kernel or ramdisk, which only librettod can check "
	      "(its images_dir, its files); not checked\n",
	      stderr);
	return status;
}

int cmd_validate(const struct ctl_invocation *inv)
{
	const char *name = readfile_name(inv->argv[0]);
	struct lt_deployment *d = NULL;
	struct lt_load_error err = {{0}, {0, 0}, {0}};
	struct images_check images = {0};
	char formatted[1024] = "";
	size_t len;
	char *text;
	int status;

	status = readfile(inv->argv[0], &text, &len);
	if (status != LT_EXIT_OK)
		return status;
	if (lt_deployment_load(text, len, name, &d, &err) != 0)
		d = NULL;
	if (d != NULL && lt_deployment_names_images(d)) {
		status = check_images(inv, name, text, len, &err, &images);
		if (status != LT_EXIT_OK) {
			lt_deployment_free(d);
			d = NULL;
			if (status != LT_EXIT_USAGE) {
				free(text);
				return status;
			}
		}
	}
	free(text);
	if (d == NULL)
		lt_load_error_format(&err, formatted, sizeof(formatted));

	if (inv->json) {
		print_json(name, d, &err, formatted, &images);
	} else if (d != NULL) {
		out_text(stdout, name);
		printf(": valid (%zu app%s", d->napps,
		       d->napps == 1 ? "" : "s");
		if (images.asked) {
			fputs(", images found by librettod in ", stdout);
			out_text(stdout, images.images_dir);
		}
		fputs(")\n", stdout);
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
