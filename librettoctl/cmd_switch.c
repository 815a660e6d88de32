/* librettoctl switch APP --to direct|server [--deployment NAME]
 *                        [--timeout SECONDS] [--fault STEP[:stall]] */
#include <libretto/protocol.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "op_follow.h"
#include "report.h"
#include "usage.h"

static int usage_fail(const char *fmt, const char *arg)
{
	ctl_fail(LT_EXIT_USAGE, CTL_ERR_USAGE, fmt, arg);
	fprintf(stderr, "usage: %s\n", usage_synopsis("switch"));
	return LT_EXIT_USAGE;
}

/* --fault STEP or STEP:fail or STEP:stall, into the request's args. */
static int add_fault(struct json_object *args, const char *spec)
{
	const char *colon = strchr(spec, ':');
	const char *kind = colon != NULL ? colon + 1 : "fail";
	size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);

	if (len == 0 || (strcmp(kind, "fail") != 0 && strcmp(kind, "stall")))
		return -1;
	json_object_object_add(args, "fault_step",
			       json_object_new_string_len(spec, (int)len));
	json_object_object_add(args, "fault", json_object_new_string(kind));
	return 0;
}

int cmd_switch(const struct ctl_invocation *inv)
{
	struct json_object *args;
	const char *app = inv->argv[0];

	if (inv->to == NULL)
		return usage_fail("%s", "switch: --to direct or --to server "
					"is required");
	if (strcmp(inv->to, LT_PATH_DIRECT) != 0 &&
	    strcmp(inv->to, LT_PATH_SERVER) != 0)
		return usage_fail("--to '%s': say direct or server", inv->to);
	args = json_object_new_object();
	json_object_object_add(args, "domain", json_object_new_string(app));
	json_object_object_add(args, "to", json_object_new_string(inv->to));
	if (inv->deployment != NULL)
		json_object_object_add(args, "deployment",
				       json_object_new_string(inv->deployment));
	if (inv->timeout != NULL) {
		char *end;
		double s = strtod(inv->timeout, &end);

		if (end == inv->timeout || *end != '\0' || !isfinite(s) ||
		    s < 0.001 || s > 600) {
			json_object_put(args);
			return usage_fail("--timeout '%s': seconds per step, "
					  "0.001 to 600",
					  inv->timeout);
		}
		json_object_object_add(
		    args, "timeout_ms",
		    json_object_new_int64((int64_t)llround(s * 1000)));
	}
	if (inv->fault != NULL && add_fault(args, inv->fault) < 0) {
		json_object_put(args);
		return usage_fail("--fault '%s': STEP, STEP:fail or STEP:stall",
				  inv->fault);
	}
	return op_follow(inv, LT_CMD_SWITCH, args, app);
}
