#include "guest_value.h"

#include <stdio.h>
#include <string.h>

static const char *const fault_names[GUEST_FAULTS] = {
    [GUEST_OK] = "ok",
    [GUEST_EMPTY] = "empty",
    [GUEST_TOO_LONG] = "too-long",
    [GUEST_CONTROL] = "control-character",
    [GUEST_NOT_ASCII] = "not-ascii",
    [GUEST_UNKNOWN_TOKEN] = "unknown-token",
    [GUEST_NOT_DECIMAL] = "not-decimal",
    [GUEST_OUT_OF_RANGE] = "out-of-range",
    [GUEST_BAD_NAME] = "bad-name",
    [GUEST_TOO_MANY] = "too-many",
};

const char *guest_fault_name(enum guest_fault f)
{
	return (unsigned)f < GUEST_FAULTS ? fault_names[f] : "?";
}

/*
 * The first fault of the bytes of v up to max: a control character or a
 * byte past ASCII anywhere in them wins over length, so that the log says
 * what is worst about the value.
 */
static enum guest_fault printable(const char *v, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)v; *p; p++, n++) {
		if (*p < 0x20 || *p == 0x7f)
			return GUEST_CONTROL;
		if (*p > 0x7f)
			return GUEST_NOT_ASCII;
	}
	return n > max ? GUEST_TOO_LONG : GUEST_OK;
}

enum guest_fault guest_token(const char *v, const char *const tokens[],
			     size_t *index)
{
	size_t longest = 0;
	enum guest_fault f;

	for (size_t i = 0; tokens[i] != NULL; i++) {
		if (strcmp(v, tokens[i]) == 0) {
			if (index != NULL)
				*index = i;
			return GUEST_OK;
		}
		if (strlen(tokens[i]) > longest)
			longest = strlen(tokens[i]);
	}
	if (*v == '\0')
		return GUEST_EMPTY;
	f = printable(v, longest);
	return f != GUEST_OK ? f : GUEST_UNKNOWN_TOKEN;
}

enum guest_fault guest_u64(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	size_t len = strlen(v);
	enum guest_fault f;

	if (len == 0)
		return GUEST_EMPTY;
	if ((f = printable(v, GUEST_DIGITS_MAX)) != GUEST_OK)
		return f;
	if (strspn(v, "0123456789") != len || (v[0] == '0' && len > 1))
		return GUEST_NOT_DECIMAL;
	for (const char *p = v; *p; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (digit > max || n > (max - digit) / 10)
			return GUEST_OUT_OF_RANGE;
		n = n * 10 + digit;
	}
	if (out != NULL)
		*out = n;
	return GUEST_OK;
}

enum guest_fault guest_name(const char *v)
{
	size_t len = strlen(v);
	enum guest_fault f;

	if (len == 0)
		return GUEST_EMPTY;
	if ((f = printable(v, GUEST_NAME_MAX)) != GUEST_OK)
		return f;
	if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != len)
		return GUEST_BAD_NAME;
	return GUEST_OK;
}

enum guest_fault guest_text(const char *v)
{
	return printable(v, GUEST_TEXT_MAX);
}

char *guest_escape(const char *v, char out[GUEST_ESCAPED_SIZE])
{
	const unsigned char *p = (const unsigned char *)v;
	size_t o = 0, shown = 0;

	if (v == NULL) {
		snprintf(out, GUEST_ESCAPED_SIZE, "(none)");
		return out;
	}
	for (; *p && shown < GUEST_ESCAPE_SHOWN; p++, shown++) {
		if (*p == '\\' || *p == '"') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p >= 0x20 && *p <= 0x7e) {
			out[o++] = (char)*p;
		} else {
			snprintf(out + o, 5, "\\x%02x", *p);
			o += 4;
		}
	}
	if (*p) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
