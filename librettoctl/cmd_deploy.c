/* librettoctl deploy FILE [--dry-run] */
#include <libretto/protocol.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "op_follow.h"
#include "output.h"
#include "readfile.h"
#include "report.h"

/* The deployment's name before the daemon tells us: the file's base name,
 * only used if the daemon fails before naming it. */
static const char *guess_name(const char *file)
{
	const char *slash = strrchr(file, '/');

	return slash != NULL ? slash + 1 : file;
}

int cmd_deploy(const struct ctl_invocation *inv)
{
	const char *file = inv->argv[0];
	struct json_object *args;
	size_t len, request_len;
	char *text;
	int status;

	status = readfile(file, &text, &len);
	if (status != LT_EXIT_OK)
		return status;
	if (len > LT_MAX_REQUEST) {
		free(text);
		return ctl_fail(LT_EXIT_USAGE, CTL_ERR_FILE,
				"%s: too large: %zu bytes, the daemon accepts "
				"requests up to %d",
				readfile_name(file), len, LT_MAX_REQUEST);
	}
	args = json_object_new_object();
	json_object_object_add(args, "content",
			       json_object_new_string_len(text, (int)len));
	json_object_object_add(args, "file",
			       json_object_new_string(readfile_name(file)));
	json_object_object_add(args, "dry_run",
			       json_object_new_boolean(inv->dry_run));
	free(text);

	/* The daemon refuses request lines over LT_MAX_REQUEST; say so here,
	 * with the file's name, rather than relay a bare too-large. */
	request_len = strlen(out_json_text(args)) + 64;
	if (request_len > LT_MAX_REQUEST) {
		json_object_put(args);
		return ctl_fail(LT_EXIT_USAGE, CTL_ERR_FILE,
				"%s: too large: the request would be %zu "
				"bytes, the daemon accepts up to %d",
				readfile_name(file), request_len,
				LT_MAX_REQUEST);
	}
	return op_follow(inv, LT_CMD_DEPLOY, args, guess_name(file));
}
