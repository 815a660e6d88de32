/* librettoctl destroy NAME */
#include <libretto/protocol.h>

#include "ctl.h"
#include "op_follow.h"

int cmd_destroy(const struct ctl_invocation *inv)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "deployment",
			       json_object_new_string(inv->argv[0]));
	return op_follow(inv, LT_CMD_DESTROY, args, inv->argv[0]);
}
