/* The control commands' handlers: each checks what only it can check and
 * hands the rest to the engine. */
#include "commands.h"

#include <string.h>

#include "config.h"
#include "control.h"
#include "deployment.h"
#include "engine.h"
#include <libretto/protocol.h>
#include <libretto/version.h>

static int cmd_version(void *ctx, struct json_object *args,
		       struct control_client *client,
		       struct json_object **result, struct lt_error *err)
{
	struct engine *e = ctx;

	(void)args;
	(void)client;
	(void)err;
	*result = json_object_new_object();
	json_object_object_add(*result, "version",
			       json_object_new_string(LIBRETTO_VERSION));
	json_object_object_add(*result, "protocol",
			       json_object_new_int(LT_PROTOCOL_VERSION));
	json_object_object_add(*result, "backend",
			       json_object_new_string(e->backend->ops->name));
	return 0;
}

static const char *arg_string(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (args == NULL || !json_object_object_get_ex(args, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int cmd_status(void *ctx, struct json_object *args,
		      struct control_client *client,
		      struct json_object **result, struct lt_error *err)
{
	(void)client;
	return engine_status(ctx, arg_string(args, "deployment"),
			     arg_string(args, "domain"), result, err);
}

/* The load error as the protocol's invalid-deployment: the formatted
 * text, and file, line and column as data. */
static void invalid_deployment(const char *file,
			       const struct lt_load_error *lerr,
			       struct lt_error *err)
{
	char text[sizeof(lerr->message) + sizeof(lerr->file) + 32];
	struct json_object *data = json_object_new_object();

	lt_load_error_format(lerr, text, sizeof(text));
	lt_error_set(err, LT_ERR_INVALID, "%s", text);
	/* The client's own string (valid UTF-8), not the loader's copy,
	 * which may be cut. */
	json_object_object_add(data, "file", json_object_new_string(file));
	json_object_object_add(data, "line",
			       json_object_new_int(lerr->pos.line));
	json_object_object_add(data, "column",
			       json_object_new_int(lerr->pos.column));
	/* The message without its position, for a client that places it
	 * itself (librettoctl validate --json). */
	json_object_object_add(data, "reason",
			       json_object_new_string(lerr->message));
	lt_error_set_data(err, data);
}

/*
 * The same loader and the same positions as `librettoctl validate`,
 * whoever the client is; then every kernel and ramdisk resolved against
 * images_dir and opened, so that a missing image is refused here, before
 * anything starts, at the position of its key's value.
 */
static struct lt_deployment *load_request(struct engine *e,
					  struct json_object *args,
					  const char **file,
					  struct lt_error *err)
{
	struct json_object *content = NULL;
	struct lt_deployment *spec = NULL;
	struct lt_load_error lerr = {0};

	json_object_object_get_ex(args, "content", &content);
	*file = arg_string(args, "file");
	if (*file == NULL)
		*file = "<request>";
	if (lt_deployment_load(json_object_get_string(content),
			       (size_t)json_object_get_string_len(content),
			       *file, &spec, &lerr) < 0 ||
	    lt_deployment_resolve_images(spec, e->cfg->images_dir, 1, *file,
					 &lerr) < 0) {
		lt_deployment_free(spec);
		invalid_deployment(*file, &lerr, err);
		return NULL;
	}
	return spec;
}

static int cmd_deploy(void *ctx, struct json_object *args,
		      struct control_client *client,
		      struct json_object **result, struct lt_error *err)
{
	struct json_object *content = NULL, *dry = NULL;
	struct lt_deployment *spec;
	const char *file;

	(void)client;
	spec = load_request(ctx, args, &file, err);
	if (spec == NULL)
		return -1;
	json_object_object_get_ex(args, "content", &content);
	json_object_object_get_ex(args, "dry_run", &dry);
	return engine_deploy(ctx, spec, json_object_get_string(content), file,
			     dry && json_object_get_boolean(dry), result, err);
}

/* What deploy would refuse, and nothing else: no plan, no op, so it
 * answers whatever runs (librettoctl validate asks it for the images).
 * As privileged as deploy: its answer says whether a path the daemon
 * can read exists. */
static int cmd_validate(void *ctx, struct json_object *args,
			struct control_client *client,
			struct json_object **result, struct lt_error *err)
{
	struct lt_deployment *spec;
	const char *file;

	(void)client;
	spec = load_request(ctx, args, &file, err);
	if (spec == NULL)
		return -1;
	*result = json_object_new_object();
	json_object_object_add(*result, "deployment",
			       json_object_new_string(spec->name));
	json_object_object_add(*result, "apps",
			       json_object_new_int64((int64_t)spec->napps));
	json_object_object_add(*result, "images_dir",
			       json_object_new_string(spec->images_dir));
	lt_deployment_free(spec);
	return 0;
}

static int cmd_destroy(void *ctx, struct json_object *args,
		       struct control_client *client,
		       struct json_object **result, struct lt_error *err)
{
	(void)client;
	return engine_destroy(ctx, arg_string(args, "deployment"), result, err);
}

static int cmd_switch(void *ctx, struct json_object *args,
		      struct control_client *client,
		      struct json_object **result, struct lt_error *err)
{
	struct engine *e = ctx;
	struct json_object *timeout = NULL;
	struct switch_request req = {
	    .deployment = arg_string(args, "deployment"),
	    .domain = arg_string(args, "domain"),
	    .to = arg_string(args, "to"),
	    .fault_step = arg_string(args, "fault_step"),
	    .fault_kind = arg_string(args, "fault"),
	};

	(void)client;
	if (json_object_object_get_ex(args, "timeout_ms", &timeout)) {
		int64_t ms = json_object_get_int64(timeout);

		if (ms < 1 || ms > 600000) {
			lt_error_set(err, LT_ERR_BAD_ARGUMENT,
				     "timeout_ms must be 1 to 600000");
			lt_error_set_field(err, "args.timeout_ms");
			return -1;
		}
		req.timeout_ms = (unsigned)ms;
	}
	/* Faults are for the tests of every rollback path, never for a
	 * daemon that runs real work. */
	if ((req.fault_step != NULL || req.fault_kind != NULL) &&
	    !e->cfg->test_faults) {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT,
			     "fault injection needs librettod --test-faults");
		lt_error_set_field(err, req.fault_step ? "args.fault_step"
						       : "args.fault");
		return -1;
	}
	if (req.fault_kind != NULL && strcmp(req.fault_kind, "fail") != 0 &&
	    strcmp(req.fault_kind, "stall") != 0) {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT,
			     "fault must be \"fail\" or \"stall\"");
		lt_error_set_field(err, "args.fault");
		return -1;
	}
	if (req.fault_kind != NULL && req.fault_step == NULL) {
		lt_error_set(err, LT_ERR_BAD_ARGUMENT,
			     "fault needs fault_step");
		lt_error_set_field(err, "args.fault_step");
		return -1;
	}
	return engine_switch(e, &req, result, err);
}

static const struct lt_arg_spec status_args[] = {
    {"deployment", json_type_string, 0},
    {"domain", json_type_string, 0},
    {NULL, 0, 0},
};

static const struct lt_arg_spec deploy_args[] = {
    {"content", json_type_string, 1},
    {"file", json_type_string, 0},
    {"dry_run", json_type_boolean, 0},
    {NULL, 0, 0},
};

static const struct lt_arg_spec validate_args[] = {
    {"content", json_type_string, 1},
    {"file", json_type_string, 0},
    {NULL, 0, 0},
};

static const struct lt_arg_spec destroy_args[] = {
    {"deployment", json_type_string, 1},
    {NULL, 0, 0},
};

static const struct lt_arg_spec switch_args[] = {
    {"deployment", json_type_string, 0},
    {"domain", json_type_string, 1},
    {"to", json_type_string, 1},
    {"timeout_ms", json_type_int, 0},
    {"fault_step", json_type_string, 0},
    {"fault", json_type_string, 0},
    {NULL, 0, 0},
};

const struct control_command daemon_commands[] = {
    {LT_CMD_VERSION, 0, NULL, cmd_version},
    {LT_CMD_STATUS, 0, status_args, cmd_status},
    {LT_CMD_DEPLOY, 1, deploy_args, cmd_deploy},
    {LT_CMD_VALIDATE, 1, validate_args, cmd_validate},
    {LT_CMD_DESTROY, 1, destroy_args, cmd_destroy},
    {LT_CMD_SWITCH, 1, switch_args, cmd_switch},
    {NULL, 0, NULL, NULL},
};
