/*
 * libFuzzer: one request line through everything the daemon does with it
 * before a handler runs (parse, argument check) and the reply it builds.
 * Invariant: whatever comes in, the reply is one line of valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const struct lt_arg_spec spec[] = {
    {"deployment", json_type_string, 0},
    {"content", json_type_string, 0},
    {"dry_run", json_type_boolean, 0},
    {"count", json_type_int, 0},
    {"ratio", json_type_double, 0},
    {"any", json_type_null, 0},
    {NULL, 0, 0},
};

static void check_line(struct json_object *obj)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *back;
	size_t len;
	const char *line = lt_json_line(obj, &len);

	if (strlen(line) != len || memchr(line, '\n', len) != NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	back = json_tokener_parse_ex(tok, line, (int)len);
	if (back == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(back, json_type_object))
		abort();
	json_object_put(back);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_request req;
	struct lt_error err = {0};
	struct json_object *reply, *ev;

	if (lt_request_parse((const char *)data, size, &req, &err) == 0 &&
	    lt_args_check(req.args, spec, &err) == 0) {
		/* A handler that echoes its arguments. */
		reply = lt_reply_ok(req.id, json_object_get(req.args));
		ev = lt_event_new(req.cmd, json_object_get(req.args));
		check_line(ev);
		json_object_put(ev);
	} else {
		if (err.class == NULL)
			abort();
		reply = lt_reply_error(req.id, &err);
	}
	check_line(reply);
	json_object_put(reply);
	lt_request_free(&req);
	lt_error_clear(&err);
	return 0;
}
