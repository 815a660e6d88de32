/* Unit tests of common/proto.c: request parsing, argument checks, and the
 * shape of replies, events and the greeting. */
#include <libretto/protocol.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto.h"

/* Parses s; returns 0/-1 and leaves the error class in *class. */
static int parse(const char *s, struct lt_request *req, struct lt_error *err)
{
	lt_error_clear(err);
	return lt_request_parse(s, strlen(s), req, err);
}

static const char *field_of(const struct lt_error *err)
{
	struct json_object *f;

	if (err->data == NULL ||
	    !json_object_object_get_ex(err->data, "field", &f))
		return "";
	return json_object_get_string(f);
}

static void test_parse_valid(void)
{
	struct lt_request req;
	struct lt_error err = {0};

	CHECK(parse("{\"id\": 7, \"cmd\": \"status\", \"args\": {\"a\": 1}}",
		    &req, &err) == 0);
	CHECK(req.id != NULL && json_object_get_int(req.id) == 7);
	CHECK(strcmp(req.cmd, "status") == 0);
	CHECK(req.args != NULL &&
	      json_object_is_type(req.args, json_type_object));
	lt_request_free(&req);

	CHECK(parse("{\"cmd\":\"version\"}\r", &req, &err) == 0);
	CHECK(req.id == NULL && req.args == NULL);
	lt_request_free(&req);

	CHECK(parse("  {\"id\":\"abc\",\"cmd\":\"x\"}  ", &req, &err) == 0);
	CHECK(strcmp(json_object_get_string(req.id), "abc") == 0);
	lt_request_free(&req);

	/* null id is the same as none */
	CHECK(parse("{\"id\":null,\"cmd\":\"x\"}", &req, &err) == 0);
	CHECK(req.id == NULL);
	lt_request_free(&req);

	/* unicode, raw and escaped */
	CHECK(parse("{\"id\":\"\xc3\xa9t\xc3\xa9 \\u2603\",\"cmd\":\"x\"}",
		    &req, &err) == 0);
	CHECK(strcmp(json_object_get_string(req.id),
		     "\xc3\xa9t\xc3\xa9 \xe2\x98\x83") == 0);
	lt_request_free(&req);
	lt_error_clear(&err);
}

static void test_parse_invalid(void)
{
	static const struct {
		const char *line;
		const char *class;
		const char *field;
		int has_id;
	} cases[] = {
	    {"not json", LT_ERR_PARSE, "", 0},
	    {"", LT_ERR_PARSE, "", 0},
	    {"{\"cmd\":\"x\"", LT_ERR_PARSE, "", 0},
	    {"{\"cmd\":\"x\"} {}", LT_ERR_PARSE, "", 0},
	    {"{'cmd':'x'}", LT_ERR_PARSE, "", 0},
	    {"[1,2]", LT_ERR_PARSE, "", 0},
	    {"\"status\"", LT_ERR_PARSE, "", 0},
	    {"42", LT_ERR_PARSE, "", 0},
	    {"{\"cmd\":\"\xff\xfe\"}", LT_ERR_PARSE, "", 0},
	    {"{\"id\":1.5,\"cmd\":\"x\"}", LT_ERR_BAD_REQUEST, "id", 0},
	    {"{\"id\":[1],\"cmd\":\"x\"}", LT_ERR_BAD_REQUEST, "id", 0},
	    {"{\"id\":{},\"cmd\":\"x\"}", LT_ERR_BAD_REQUEST, "id", 0},
	    {"{\"id\":true,\"cmd\":\"x\"}", LT_ERR_BAD_REQUEST, "id", 0},
	    {"{\"id\":3}", LT_ERR_BAD_REQUEST, "cmd", 1},
	    {"{\"id\":3,\"cmd\":5}", LT_ERR_BAD_REQUEST, "cmd", 1},
	    {"{\"id\":3,\"cmd\":\"a\\u0000b\"}", LT_ERR_BAD_REQUEST, "cmd", 1},
	    {"{\"id\":3,\"cmd\":\"x\",\"args\":[]}", LT_ERR_BAD_REQUEST, "args",
	     1},
	    {"{\"id\":3,\"cmd\":\"x\",\"args\":null}", LT_ERR_BAD_REQUEST,
	     "args", 1},
	    {"{\"id\":\"q\",\"cmd\":\"x\",\"arg\":{}}", LT_ERR_BAD_REQUEST,
	     "arg", 1},
	};
	struct lt_request req;
	struct lt_error err = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].line, &req, &err);

		if (rc != -1 || err.class == NULL ||
		    strcmp(err.class, cases[i].class) != 0 ||
		    strcmp(field_of(&err), cases[i].field) != 0 ||
		    (req.id != NULL) != cases[i].has_id) {
			fprintf(stderr, "case %zu '%s': rc %d class %s\n", i,
				cases[i].line, rc,
				err.class ? err.class : "(none)");
			check_failures++;
		}
		CHECK(strlen(err.message) > 0);
		lt_request_free(&req);
	}
	lt_error_clear(&err);

	/* Over the limit without looking at the bytes. */
	CHECK(lt_request_parse("{}", LT_MAX_REQUEST + 1, &req, &err) == -1);
	CHECK(strcmp(err.class, LT_ERR_TOO_LARGE) == 0);
	lt_request_free(&req);
	lt_error_clear(&err);

	/* An embedded NUL ends nothing early: it is trailing garbage. */
	CHECK(lt_request_parse("{\"cmd\":\"x\"}\0zz", 14, &req, &err) == -1);
	CHECK(strcmp(err.class, LT_ERR_PARSE) == 0);
	lt_request_free(&req);
	lt_error_clear(&err);
}

static const struct lt_arg_spec spec[] = {
    {"name", json_type_string, 1},  {"count", json_type_int, 0},
    {"ratio", json_type_double, 0}, {"dry_run", json_type_boolean, 0},
    {"any", json_type_null, 0},	    {NULL, 0, 0},
};

static int check_args(const char *json, const struct lt_arg_spec *s,
		      struct lt_error *err)
{
	struct json_object *args =
	    json != NULL ? json_tokener_parse(json) : NULL;
	int rc;

	lt_error_clear(err);
	rc = lt_args_check(args, s, err);
	json_object_put(args);
	return rc;
}

static void test_args(void)
{
	struct lt_error err = {0};

	CHECK(check_args("{\"name\":\"a\"}", spec, &err) == 0);
	CHECK(check_args("{\"name\":\"a\",\"count\":3,\"ratio\":2,"
			 "\"dry_run\":false,\"any\":[1]}",
			 spec, &err) == 0);
	CHECK(check_args("{\"name\":\"a\",\"ratio\":0.5,\"any\":null}", spec,
			 &err) == 0);

	CHECK(check_args("{\"name\":\"a\",\"bogus\":1}", spec, &err) == -1);
	CHECK(strcmp(err.class, LT_ERR_BAD_ARGUMENT) == 0);
	CHECK(strcmp(field_of(&err), "args.bogus") == 0);

	CHECK(check_args("{\"name\":1}", spec, &err) == -1);
	CHECK(strcmp(err.class, LT_ERR_BAD_ARGUMENT) == 0);
	CHECK(strcmp(field_of(&err), "args.name") == 0);
	CHECK(strstr(err.message, "string") != NULL);

	CHECK(check_args("{\"name\":\"a\",\"count\":1.5}", spec, &err) == -1);
	CHECK(strcmp(field_of(&err), "args.count") == 0);

	CHECK(check_args("{}", spec, &err) == -1);
	CHECK(strcmp(err.class, LT_ERR_BAD_ARGUMENT) == 0);
	CHECK(strcmp(field_of(&err), "args.name") == 0);
	CHECK(check_args(NULL, spec, &err) == -1);
	CHECK(strcmp(field_of(&err), "args.name") == 0);

	/* No spec: no arguments at all. */
	CHECK(check_args(NULL, NULL, &err) == 0);
	CHECK(check_args("{}", NULL, &err) == 0);
	CHECK(check_args("{\"x\":1}", NULL, &err) == -1);
	CHECK(strcmp(field_of(&err), "args.x") == 0);
	lt_error_clear(&err);
	CHECK(err.class == NULL && err.data == NULL);
}

static struct json_object *reparse(struct json_object *obj)
{
	size_t len;
	const char *s = lt_json_line(obj, &len);

	CHECK(strlen(s) == len);
	CHECK(memchr(s, '\n', len) == NULL);
	return json_tokener_parse(s);
}

static const char *str_at(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object *v = o;

	if (!json_object_object_get_ex(v, k1, &v))
		return NULL;
	if (k2 != NULL && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_get_string(v);
}

static void test_replies(void)
{
	struct json_object *id = json_object_new_string("a\nb");
	struct json_object *r, *back, *v;
	struct lt_error err = {0};
	size_t len;

	r = lt_reply_ok(id, NULL);
	back = reparse(r);
	CHECK(strcmp(str_at(back, "id", NULL), "a\nb") == 0);
	CHECK(json_object_object_get_ex(back, "ok", &v) &&
	      json_object_get_boolean(v));
	CHECK(json_object_object_get_ex(back, "result", &v) &&
	      json_object_is_type(v, json_type_object) &&
	      json_object_object_length(v) == 0);
	CHECK(strcmp(lt_json_line(r, &len),
		     "{\"id\":\"a\\nb\",\"ok\":true,\"result\":{}}") == 0);
	json_object_put(back);
	json_object_put(r);

	r = lt_reply_ok(NULL, json_object_new_int(3));
	CHECK(strcmp(lt_json_line(r, &len),
		     "{\"id\":null,\"ok\":true,\"result\":3}") == 0);
	json_object_put(r);

	lt_error_set(&err, LT_ERR_NOT_FOUND, "no deployment '%s'", "demo");
	lt_error_set_field(&err, "args.deployment");
	r = lt_reply_error(id, &err);
	back = reparse(r);
	CHECK(strcmp(str_at(back, "error", "class"), LT_ERR_NOT_FOUND) == 0);
	CHECK(strcmp(str_at(back, "error", "message"),
		     "no deployment 'demo'") == 0);
	CHECK(json_object_object_get_ex(back, "error", &v) &&
	      json_object_object_get_ex(v, "data", &v) &&
	      strcmp(str_at(v, "field", NULL), "args.deployment") == 0);
	CHECK(json_object_object_get_ex(back, "ok", &v) &&
	      !json_object_get_boolean(v));
	json_object_put(back);
	json_object_put(r);
	lt_error_clear(&err);

	/* A handler that forgot its error still produces a valid reply. */
	r = lt_reply_error(NULL, &err);
	back = reparse(r);
	CHECK(strcmp(str_at(back, "error", "class"), LT_ERR_INTERNAL) == 0);
	json_object_put(back);
	json_object_put(r);
	json_object_put(id);

	r = lt_greeting_new("0.1.0", "sim");
	CHECK(strcmp(lt_json_line(r, &len),
		     "{\"libretto\":{\"version\":\"0.1.0\",\"protocol\":1,"
		     "\"backend\":\"sim\"}}") == 0);
	json_object_put(r);
}

static void test_event(void)
{
	struct json_object *data = json_object_new_object();
	struct json_object *ev, *back, *v;
	regex_t re;
	char ts[LT_TS_LEN + 1];

	CHECK(regcomp(&re,
		      "^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:"
		      "[0-6][0-9]\\.[0-9]{3}Z$",
		      REG_EXTENDED | REG_NOSUB) == 0);
	lt_timestamp(ts);
	CHECK(strlen(ts) == LT_TS_LEN);
	CHECK(regexec(&re, ts, 0, NULL, 0) == 0);

	json_object_object_add(data, "op", json_object_new_int(3));
	ev = lt_event_new(LT_EV_OP_DONE, data);
	back = reparse(ev);
	CHECK(strcmp(str_at(back, "event", NULL), LT_EV_OP_DONE) == 0);
	CHECK(strcmp(str_at(back, "data", "op"), "3") == 0);
	CHECK(regexec(&re, str_at(back, "ts", NULL), 0, NULL, 0) == 0);
	CHECK(!json_object_object_get_ex(back, "id", &v));
	json_object_put(back);
	json_object_put(ev);

	ev = lt_event_new("x", NULL);
	CHECK(json_object_object_get_ex(ev, "data", &v) &&
	      json_object_is_type(v, json_type_object));
	json_object_put(ev);
	regfree(&re);
}

int main(void)
{
	test_parse_valid();
	test_parse_invalid();
	test_args();
	test_replies();
	test_event();
	return check_summary("test_proto");
}
