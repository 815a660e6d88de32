#include "proto.h"

#include <libretto/protocol.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Length of the valid UTF-8 sequence at p (at most n bytes left), or 0.
 * Overlong forms and surrogates are invalid, as JSON parsers that check
 * UTF-8 hold them.
 */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * A message quotes what the client sent, cut to fit (by a precision or the
 * buffer's end), which may split a multi-byte character or carry invalid
 * bytes: every byte that is not part of valid UTF-8 becomes '?', so a reply
 * is always valid UTF-8 whatever was quoted.
 */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t len = utf8_seq_len(p, n);

		if (len == 0) {
			*p = '?';
			len = 1;
		}
		p += len;
		n -= len;
	}
}

void lt_error_set(struct lt_error *e, const char *class, const char *fmt, ...)
{
	va_list ap;

	e->class = class;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	utf8_sanitize(e->message);
}

void lt_error_set_data(struct lt_error *e, struct json_object *data)
{
	json_object_put(e->data);
	e->data = data;
}

void lt_error_set_field(struct lt_error *e, const char *field)
{
	struct json_object *data = json_object_new_object();
	char *text = strdup(field);

	/* A field name is the client's key, possibly cut to fit. */
	if (text != NULL)
		utf8_sanitize(text);
	json_object_object_add(data, "field",
			       json_object_new_string(text ? text : "?"));
	free(text);
	lt_error_set_data(e, data);
}

void lt_error_clear(struct lt_error *e)
{
	json_object_put(e->data);
	memset(e, 0, sizeof(*e));
}

/* Strings with an embedded NUL would compare equal to their prefix. */
static int plain_string(struct json_object *s)
{
	return strlen(json_object_get_string(s)) ==
	       (size_t)json_object_get_string_len(s);
}

static int parse_json(const char *line, size_t len, struct json_object **out,
		      struct lt_error *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	int rc = -1;

	*out = NULL;
	if (len > LT_MAX_REQUEST) {
		lt_error_set(err, LT_ERR_TOO_LARGE,
			     "request of %zu bytes exceeds %d", len,
			     LT_MAX_REQUEST);
		goto out;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		lt_error_set(err, LT_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* Strict: no trailing garbage, no single quotes, no NaN; UTF-8 is
	 * validated so that every string can be echoed back as JSON. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* A complete line that is an incomplete value. */
		lt_error_set(err, LT_ERR_PARSE, "incomplete JSON");
		goto out;
	}
	if (jerr != json_tokener_success) {
		lt_error_set(err, LT_ERR_PARSE, "invalid JSON at byte %zu: %s",
			     json_tokener_get_parse_end(tok),
			     json_tokener_error_desc(jerr));
		goto out;
	}
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (strchr(" \t\r\n", line[i]) == NULL || line[i] == '\0') {
			lt_error_set(err, LT_ERR_PARSE,
				     "trailing characters at byte %zu", i);
			goto out;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		lt_error_set(err, LT_ERR_PARSE, "request is not a JSON object");
		goto out;
	}
	*out = obj;
	obj = NULL;
	rc = 0;
out:
	json_object_put(obj);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}

int lt_request_parse(const char *line, size_t len, struct lt_request *req,
		     struct lt_error *err)
{
	struct json_object *v;

	memset(req, 0, sizeof(*req));
	if (parse_json(line, len, &req->root, err) < 0)
		return -1;

	/* The id first, so that every later error can echo it. */
	if (json_object_object_get_ex(req->root, "id", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_string)) {
			lt_error_set(err, LT_ERR_BAD_REQUEST,
				     "id must be an integer or a string");
			lt_error_set_field(err, "id");
			return -1;
		}
		req->id = v;
	}
	json_object_object_foreach(req->root, key, val)
	{
		(void)val;
		if (strcmp(key, "id") != 0 && strcmp(key, "cmd") != 0 &&
		    strcmp(key, "args") != 0) {
			lt_error_set(err, LT_ERR_BAD_REQUEST,
				     "unknown request member '%.64s'", key);
			lt_error_set_field(err, key);
			return -1;
		}
	}
	if (!json_object_object_get_ex(req->root, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string) || !plain_string(v)) {
		lt_error_set(err, LT_ERR_BAD_REQUEST,
			     "cmd is missing or not a string");
		lt_error_set_field(err, "cmd");
		return -1;
	}
	req->cmd = json_object_get_string(v);
	if (json_object_object_get_ex(req->root, "args", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			lt_error_set(err, LT_ERR_BAD_REQUEST,
				     "args must be an object");
			lt_error_set_field(err, "args");
			return -1;
		}
		req->args = v;
	}
	return 0;
}

void lt_request_free(struct lt_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

static const char *type_name(json_type type)
{
	switch (type) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	default:
		return "anything";
	}
}

static int type_fits(struct json_object *v, json_type want)
{
	json_type have = json_object_get_type(v);

	if (want == json_type_null || have == want)
		return 1;
	return want == json_type_double && have == json_type_int;
}

static int arg_error(struct lt_error *err, const char *key, const char *fmt,
		     const char *what)
{
	char field[128];

	lt_error_set(err, LT_ERR_BAD_ARGUMENT, fmt, key, what);
	snprintf(field, sizeof(field), "args.%s", key);
	lt_error_set_field(err, field);
	return -1;
}

int lt_args_check(struct json_object *args, const struct lt_arg_spec *spec,
		  struct lt_error *err)
{
	static const struct lt_arg_spec none[] = {{NULL, 0, 0}};
	const struct lt_arg_spec *s;

	if (spec == NULL)
		spec = none;
	if (args != NULL) {
		json_object_object_foreach(args, key, val)
		{
			for (s = spec; s->key != NULL; s++)
				if (strcmp(s->key, key) == 0)
					break;
			if (s->key == NULL)
				return arg_error(
				    err, key, "unknown argument '%.64s'%s", "");
			if (!type_fits(val, s->type))
				return arg_error(err, key,
						 "argument '%.64s' must be %s",
						 type_name(s->type));
		}
	}
	for (s = spec; s->key != NULL; s++) {
		if (s->required && (args == NULL || !json_object_object_get_ex(
							args, s->key, NULL)))
			return arg_error(err, s->key,
					 "missing argument '%.64s'%s", "");
	}
	return 0;
}

static struct json_object *reply_new(struct json_object *id, int ok)
{
	struct json_object *reply = json_object_new_object();

	json_object_object_add(reply, "id", json_object_get(id));
	json_object_object_add(reply, "ok", json_object_new_boolean(ok));
	return reply;
}

struct json_object *lt_reply_ok(struct json_object *id,
				struct json_object *result)
{
	struct json_object *reply = reply_new(id, 1);

	if (result == NULL)
		result = json_object_new_object();
	json_object_object_add(reply, "result", result);
	return reply;
}

struct json_object *lt_reply_error(struct json_object *id,
				   const struct lt_error *err)
{
	struct json_object *reply = reply_new(id, 0);
	struct json_object *e = json_object_new_object();

	if (err->class != NULL) {
		json_object_object_add(e, "class",
				       json_object_new_string(err->class));
		json_object_object_add(e, "message",
				       json_object_new_string(err->message));
	} else {
		json_object_object_add(e, "class",
				       json_object_new_string(LT_ERR_INTERNAL));
		json_object_object_add(
		    e, "message",
		    json_object_new_string("failed without an error"));
	}
	if (err->data != NULL)
		json_object_object_add(e, "data", json_object_get(err->data));
	json_object_object_add(reply, "error", e);
	return reply;
}

void lt_timestamp(char buf[LT_TS_LEN + 1])
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (strftime(buf, LT_TS_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		/* A year past 9999: keep the documented fixed shape. */
		strcpy(buf, "9999-12-31T23:59:59.999Z");
		return;
	}
	snprintf(buf + 19, LT_TS_LEN + 1 - 19, ".%03uZ",
		 (unsigned)(now.tv_nsec / 1000000) % 1000u);
}

struct json_object *lt_event_new(const char *event, struct json_object *data)
{
	struct json_object *ev = json_object_new_object();
	char ts[LT_TS_LEN + 1];

	if (data == NULL)
		data = json_object_new_object();
	lt_timestamp(ts);
	json_object_object_add(ev, "event", json_object_new_string(event));
	json_object_object_add(ev, "data", data);
	json_object_object_add(ev, "ts", json_object_new_string(ts));
	return ev;
}

struct json_object *lt_greeting_new(const char *version, const char *backend)
{
	struct json_object *g = json_object_new_object();
	struct json_object *info = json_object_new_object();

	json_object_object_add(info, "version",
			       json_object_new_string(version));
	json_object_object_add(info, "protocol",
			       json_object_new_int(LT_PROTOCOL_VERSION));
	json_object_object_add(info, "backend",
			       json_object_new_string(backend));
	json_object_object_add(g, "libretto", info);
	return g;
}

const char *lt_json_line(struct json_object *obj, size_t *len)
{
	/* json-c passes bytes past ASCII through as they are: whatever a
	 * string was given, the line is made valid UTF-8 ('?' for a bad
	 * byte, one for one, so the length and the JSON hold). */
	char *line = (char *)json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);

	if (line != NULL)
		utf8_sanitize(line);
	return line;
}
