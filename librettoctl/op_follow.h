/*
 * deploy and destroy: the daemon answers at once with an operation id and
 * reports the rest as op-progress / op-done events.  This runs the request
 * and follows the operation to its end (docs/protocol.md "Long
 * operations").
 */
#ifndef LIBRETTOCTL_OP_FOLLOW_H
#define LIBRETTOCTL_OP_FOLLOW_H

#include <json-c/json.h>

#include "ctl.h"

/*
 * Subscribes, sends {"cmd": cmd, "args": args} (args owned), prints the
 * plan and then the operation's progress until op-done.  `name` is the
 * deployment for messages until the daemon names it.  Returns the exit
 * status.
 */
int op_follow(const struct ctl_invocation *inv, const char *cmd,
	      struct json_object *args, const char *name);

#endif
