/* The grammar of guest-written values and the escaping of refused ones. */
#include <iconv.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "guest_value.h"
#include "proto.h"

static const char *const states[] = {"booting", "ready", "error", NULL};

static void test_token(void)
{
	size_t i = 99;

	CHECK(guest_token("ready", states, &i) == GUEST_OK && i == 1);
	CHECK(guest_token("booting", states, NULL) == GUEST_OK);
	CHECK(guest_token("", states, NULL) == GUEST_EMPTY);
	CHECK(guest_token("readyx", states, NULL) == GUEST_UNKNOWN_TOKEN);
	CHECK(guest_token("Ready", states, NULL) == GUEST_UNKNOWN_TOKEN);
	CHECK(guest_token("ready\n", states, NULL) == GUEST_CONTROL);
	CHECK(guest_token("ready\xff\xfe", states, NULL) == GUEST_NOT_ASCII);
	CHECK(guest_token("r\x1b[2Jeady", states, NULL) == GUEST_CONTROL);
	CHECK(guest_token("rea\x7f", states, NULL) == GUEST_CONTROL);
	/* Valid UTF-8 is still not a token. */
	CHECK(guest_token("r\xc3\xa9"
			  "ady",
			  states, NULL) == GUEST_NOT_ASCII);
	CHECK(guest_token("abcdefghijk", states, NULL) == GUEST_TOO_LONG);
}

static void test_u64(void)
{
	uint64_t n = 7;

	CHECK(guest_u64("0", 255, &n) == GUEST_OK && n == 0);
	CHECK(guest_u64("255", 255, &n) == GUEST_OK && n == 255);
	CHECK(guest_u64("256", 255, NULL) == GUEST_OUT_OF_RANGE);
	CHECK(guest_u64("18446744073709551615", UINT64_MAX, &n) == GUEST_OK &&
	      n == UINT64_MAX);
	CHECK(guest_u64("18446744073709551616", UINT64_MAX, NULL) ==
	      GUEST_OUT_OF_RANGE);
	CHECK(guest_u64("9223372036854775808", INT64_MAX, NULL) ==
	      GUEST_OUT_OF_RANGE);
	CHECK(guest_u64("99999999999999999999", UINT64_MAX, NULL) ==
	      GUEST_OUT_OF_RANGE);
	CHECK(guest_u64("5", 0, NULL) == GUEST_OUT_OF_RANGE);
	CHECK(guest_u64("", 10, NULL) == GUEST_EMPTY);
	CHECK(guest_u64("-1", 10, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64("+1", 10, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64(" 1", 10, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64("1 ", 10, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64("0x10", 100, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64("01", 10, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64("5junk", 10, NULL) == GUEST_NOT_DECIMAL);
	CHECK(guest_u64("1\n", 10, NULL) == GUEST_CONTROL);
	CHECK(guest_u64("1\xff", 10, NULL) == GUEST_NOT_ASCII);
	CHECK(guest_u64("000000000000000000001", 10, NULL) == GUEST_TOO_LONG);
	/* A value refused leaves *out alone. */
	n = 7;
	CHECK(guest_u64("x", 10, &n) == GUEST_NOT_DECIMAL && n == 7);
}

static void test_name(void)
{
	char longest[GUEST_NAME_MAX + 2];

	CHECK(guest_name("rx_packets") == GUEST_OK);
	CHECK(guest_name("vif-outage-drops") == GUEST_OK);
	CHECK(guest_name("") == GUEST_EMPTY);
	CHECK(guest_name("RX") == GUEST_BAD_NAME);
	CHECK(guest_name("a@b") == GUEST_BAD_NAME);
	CHECK(guest_name("a\"b") == GUEST_BAD_NAME);
	CHECK(guest_name("a b") == GUEST_BAD_NAME);
	CHECK(guest_name("a\nb") == GUEST_CONTROL);
	CHECK(guest_name("a\xc3\xa9") == GUEST_NOT_ASCII);
	memset(longest, 'a', sizeof(longest));
	longest[GUEST_NAME_MAX] = '\0';
	CHECK(guest_name(longest) == GUEST_OK);
	longest[GUEST_NAME_MAX] = 'a';
	longest[GUEST_NAME_MAX + 1] = '\0';
	CHECK(guest_name(longest) == GUEST_TOO_LONG);
}

static void test_text(void)
{
	char text[GUEST_TEXT_MAX + 2];

	CHECK(guest_text("") == GUEST_OK);
	CHECK(guest_text("exec /bin/app: No such file or directory") ==
	      GUEST_OK);
	CHECK(guest_text("line\nforged: log line") == GUEST_CONTROL);
	CHECK(guest_text("tab\there") == GUEST_CONTROL);
	CHECK(guest_text("\xff") == GUEST_NOT_ASCII);
	memset(text, 'x', sizeof(text));
	text[GUEST_TEXT_MAX] = '\0';
	CHECK(guest_text(text) == GUEST_OK);
	text[GUEST_TEXT_MAX] = 'x';
	text[GUEST_TEXT_MAX + 1] = '\0';
	CHECK(guest_text(text) == GUEST_TOO_LONG);
	/* The worst fault is named even past the length bound. */
	text[GUEST_TEXT_MAX] = '\n';
	CHECK(guest_text(text) == GUEST_CONTROL);
}

/*
 * Whether the n bytes at s are valid UTF-8: glibc's iconv holds it, but for
 * what lies past U+10FFFF, which it lets through and JSON parsers do not.
 */
static int utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	iconv_t cd = iconv_open("UTF-8", "UTF-8");
	char out[4096], *in = (char *)s, *o = out;
	size_t left = n, room = sizeof(out);
	size_t r;

	if (cd == (iconv_t)-1 || n > sizeof(out))
		return 0;
	r = iconv(cd, &in, &left, &o, &room);
	iconv_close(cd);
	for (size_t i = 0; i < n; i++)
		if (u[i] >= 0xf5 ||
		    (u[i] == 0xf4 && i + 1 < n && u[i + 1] >= 0x90))
			return 0;
	return r != (size_t)-1 && left == 0;
}

/* Belt and braces at the output: a line of JSON is valid UTF-8 whatever
 * its strings were given, and still the same JSON. */
static void test_json_line(void)
{
	static const char *const bad[] = {
	    "ready\xff\xfe", "\xc3\x28",     "\xed\xa0\x80",
	    "\xc0\xaf",	     "cut \xe2\x82", "\xf4\x90\x80\x80",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = json_object_new_object();
		struct json_object *back;
		const char *line;
		size_t len;

		json_object_object_add(o, "guest_state",
				       json_object_new_string(bad[i]));
		line = lt_json_line(o, &len);
		CHECK(!utf8_valid(bad[i], strlen(bad[i])));
		CHECK(line != NULL && len == strlen(line));
		CHECK(line != NULL && utf8_valid(line, len));
		back = line ? json_tokener_parse(line) : NULL;
		CHECK(back != NULL &&
		      json_object_object_get_ex(back, "guest_state", NULL));
		json_object_put(back);
		json_object_put(o);
	}
	/* Valid UTF-8 passes untouched. */
	struct json_object *o =
	    json_object_new_string("caf\xc3\xa9 \xe2\x82\xac");
	size_t len;

	CHECK(strcmp(lt_json_line(o, &len), "\"caf\xc3\xa9 \xe2\x82\xac\"") ==
	      0);
	json_object_put(o);
}

static void test_escape(void)
{
	char out[GUEST_ESCAPED_SIZE], in[200];

	CHECK(strcmp(guest_escape("ready", out), "ready") == 0);
	CHECK(strcmp(guest_escape(NULL, out), "(none)") == 0);
	CHECK(strcmp(guest_escape("a\nb\xff\"\\", out),
		     "a\\x0ab\\xff\\\"\\\\") == 0);
	/* The longest output fits: every byte escaped, then "...". */
	memset(in, 0xff, sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	guest_escape(in, out);
	CHECK(strlen(out) == GUEST_ESCAPE_SHOWN * 4 + 3);
	CHECK(strcmp(out + GUEST_ESCAPE_SHOWN * 4, "...") == 0);
	/* Whatever went in, what comes out is printable ASCII. */
	for (size_t i = 0; out[i]; i++)
		CHECK(out[i] >= 0x20 && out[i] <= 0x7e);
	memset(in, 'a', GUEST_ESCAPE_SHOWN);
	in[GUEST_ESCAPE_SHOWN] = '\0';
	CHECK(strcmp(guest_escape(in, out), in) == 0);
}

int main(void)
{
	test_token();
	test_u64();
	test_name();
	test_text();
	test_json_line();
	test_escape();
	return check_summary("guest_value");
}
