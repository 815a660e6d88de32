/*
 * The human form of a long operation: its plan, its progress lines and its
 * outcome, each built from the reply or event object the daemon sent.
 * (With --json the received lines are printed unchanged instead.)
 */
#ifndef LIBRETTOCTL_OP_PRINT_H
#define LIBRETTOCTL_OP_PRINT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The reply's result: the plan ("changes"), or "no changes". */
void op_print_plan(const char *cmd, const char *name,
		   struct json_object *result, bool dry_run);
/* One op-progress event's data, stamped with the time since the request. */
void op_print_progress(struct json_object *data, int64_t since_ms);
/* The op-done event's data; elapsed from data.elapsed_ms when present,
 * else `measured_ms`. */
void op_print_done(const char *cmd, const char *name, struct json_object *data,
		   int64_t measured_ms);

/* switch: the reply's result, each switch-step, and switch-done or
 * switch-failed. */
void op_print_switch_started(struct json_object *result);
void op_print_switch_step(struct json_object *data);
void op_print_switch_end(struct json_object *data, bool ok);

#endif
