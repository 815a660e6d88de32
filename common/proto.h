/*
 * The control protocol's messages (docs/protocol.md): parsing one request
 * line, checking its arguments, building replies, events and the greeting.
 * Shared by librettod and librettoctl; no I/O here.
 */
#ifndef LIBRETTO_PROTO_H
#define LIBRETTO_PROTO_H

#include <json-c/json.h>
#include <stddef.h>

/*
 * An error as it goes on the wire.  Zero-initialise before first use (or
 * call lt_error_clear); class NULL means "no error".
 */
struct lt_error {
	const char *class; /* an LT_ERR_* name, static storage */
	char message[512];
	struct json_object *data; /* optional details, owned */
};

/* Sets class and message (printf-like); data is left as it is. */
void lt_error_set(struct lt_error *e, const char *class, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replaces data with {"field": field} (field copied). */
void lt_error_set_field(struct lt_error *e, const char *field);
/* Replaces data (owned; NULL clears it). */
void lt_error_set_data(struct lt_error *e, struct json_object *data);
/* Frees data and resets to "no error". */
void lt_error_clear(struct lt_error *e);

struct lt_request {
	struct json_object *root; /* owned: the whole parsed line */
	struct json_object *id;	  /* borrowed from root; NULL when absent */
	const char *cmd;	  /* borrowed from root; NULL when invalid */
	struct json_object *args; /* borrowed; NULL when absent */
};

/*
 * Parses one request line (without its '\n').  Returns 0, or -1 with err
 * set to parse-error (not one JSON object) or bad-request (wrong shape).
 * req->id is set whenever the line is an object with a valid id, even on
 * error, so that the error reply can echo it.  Call lt_request_free in
 * both cases.
 */
int lt_request_parse(const char *line, size_t len, struct lt_request *req,
		     struct lt_error *err);
void lt_request_free(struct lt_request *req);

/*
 * One accepted argument.  type json_type_null accepts any JSON type;
 * json_type_double accepts integers as well.  Arrays of specs end with
 * {NULL}.
 */
struct lt_arg_spec {
	const char *key;
	json_type type;
	int required;
};

/*
 * Checks args (may be NULL: no arguments) against spec (NULL: none
 * allowed).  Returns 0, or -1 with a bad-argument error whose data is
 * {"field": "args.<key>"}.
 */
int lt_args_check(struct json_object *args, const struct lt_arg_spec *spec,
		  struct lt_error *err);

/* {"id": id, "ok": true, "result": result}; id borrowed (NULL gives null),
 * result owned (NULL gives {}). */
struct json_object *lt_reply_ok(struct json_object *id,
				struct json_object *result);
/* {"id": id, "ok": false, "error": {"class", "message"[, "data"]}}; err is
 * not modified (data is shared by reference).  A NULL class is reported as
 * internal-error. */
struct json_object *lt_reply_error(struct json_object *id,
				   const struct lt_error *err);
/* {"event": event, "data": data, "ts": "2026-11-26T20:31:02.123Z"}; data
 * owned (NULL gives {}). */
struct json_object *lt_event_new(const char *event, struct json_object *data);
/* {"libretto": {"version", "protocol", "backend"}}. */
struct json_object *lt_greeting_new(const char *version, const char *backend);

#define LT_TS_LEN 24 /* strlen("2026-11-26T20:31:02.123Z") */
/* Writes the current UTC time, with milliseconds, into buf. */
void lt_timestamp(char buf[LT_TS_LEN + 1]);

/*
 * The compact one-line text of obj, without the trailing '\n'.  json-c
 * escapes control characters inside strings, so the text never contains a
 * newline.  The pointer is valid while obj lives and is not modified.
 */
const char *lt_json_line(struct json_object *obj, size_t *len);

#endif
