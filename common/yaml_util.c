/* Errors with positions, mapping keys against a table, string scalars. */
#include "yaml_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lt_load_error_set(struct lt_load_error *err, const char *file,
		       const struct lt_pos *pos, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->pos = pos ? *pos : (struct lt_pos){0, 0};
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

int lt_yaml_fail(struct lt_yaml *y, const yaml_node_t *node, const char *where,
		 const char *fmt, ...)
{
	struct lt_pos pos = node ? lt_yaml_pos(node) : (struct lt_pos){0, 0};
	char message[sizeof(y->err->message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (where && *where)
		lt_load_error_set(y->err, y->file, node ? &pos : NULL, "%s: %s",
				  where, message);
	else
		lt_load_error_set(y->err, y->file, node ? &pos : NULL, "%s",
				  message);
	return -1;
}

/* Error messages show what was found; keep them one short line. */
#define QUOTE_MAX 40

void lt_quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			snprintf(esc, sizeof(esc), "%c", c);
		size_t n = strlen(esc);
		if (i >= QUOTE_MAX || o + n + 5 > size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, esc, n);
		o += n;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

static int is_null_scalar(const yaml_node_t *node)
{
	const char *v = (const char *)node->data.scalar.value;
	size_t len = node->data.scalar.length;

	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return len == 0;
	return len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

void lt_yaml_describe(const yaml_node_t *node, char *buf, size_t size)
{
	switch (node->type) {
	case YAML_MAPPING_NODE:
		snprintf(buf, size, "a mapping");
		break;
	case YAML_SEQUENCE_NODE:
		snprintf(buf, size, "a sequence");
		break;
	case YAML_SCALAR_NODE:
		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    is_null_scalar(node))
			snprintf(buf, size, "nothing");
		else
			lt_quote((const char *)node->data.scalar.value,
				 node->data.scalar.length, buf, size);
		break;
	default:
		snprintf(buf, size, "nothing");
		break;
	}
}

/* "a, b, c or d" for the unknown-key message. */
static void list_keys(const struct lt_yaml_field *fields, size_t n, char *buf,
		      size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(buf + o, size - o, "%s%s", sep, fields[i].key);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

int lt_yaml_fields(struct lt_yaml *y, yaml_node_t *map, const char *where,
		   struct lt_yaml_field *fields, size_t nfields)
{
	char found[64], keys[256];

	for (size_t i = 0; i < nfields; i++)
		fields[i].key_node = fields[i].value = NULL;
	if (map->type != YAML_MAPPING_NODE) {
		lt_yaml_describe(map, found, sizeof(found));
		return lt_yaml_fail(y, map, where,
				    "expected a mapping, found %s", found);
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *key = lt_yaml_item(y, p->key);
		yaml_node_t *value = lt_yaml_item(y, p->value);
		if (!key || !value)
			return lt_yaml_fail(y, map, where, "malformed mapping");
		if (key->type != YAML_SCALAR_NODE) {
			lt_yaml_describe(key, found, sizeof(found));
			return lt_yaml_fail(y, key, where,
					    "a key must be a string, found %s",
					    found);
		}
		const char *name = (const char *)key->data.scalar.value;
		struct lt_yaml_field *f = NULL;
		for (size_t i = 0; i < nfields && !f; i++)
			if (key->data.scalar.length == strlen(fields[i].key) &&
			    strcmp(name, fields[i].key) == 0)
				f = &fields[i];
		if (!f) {
			lt_quote(name, key->data.scalar.length, found,
				 sizeof(found));
			list_keys(fields, nfields, keys, sizeof(keys));
			return lt_yaml_fail(y, key, where,
					    "unknown key %s (expected %s)",
					    found, keys);
		}
		if (f->key_node) {
			struct lt_pos first = lt_yaml_pos(f->key_node);
			return lt_yaml_fail(y, key, where,
					    "key \"%s\" is given twice (first "
					    "at line %d, column %d)",
					    f->key, first.line, first.column);
		}
		f->key_node = key;
		f->value = value;
	}
	for (size_t i = 0; i < nfields; i++)
		if (fields[i].required && !fields[i].value)
			return lt_yaml_fail(y, map, where, "missing key \"%s\"",
					    fields[i].key);
	return 0;
}

const char *lt_yaml_string(struct lt_yaml *y, yaml_node_t *node,
			   const char *where, int allow_empty,
			   const char *expected)
{
	char found[64];

	/* A plain ~ or nothing is YAML's null even where "" is allowed. */
	if (node->type != YAML_SCALAR_NODE ||
	    (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	     is_null_scalar(node)) ||
	    (!allow_empty && node->data.scalar.length == 0)) {
		lt_yaml_describe(node, found, sizeof(found));
		lt_yaml_fail(y, node, where, "expected %s, found %s", expected,
			     found);
		return NULL;
	}
	const char *v = (const char *)node->data.scalar.value;
	if (strlen(v) != node->data.scalar.length) {
		/* "\0" in a double-quoted scalar: no C string can hold it */
		lt_yaml_fail(y, node, where,
			     "the value contains a NUL character (expected %s)",
			     expected);
		return NULL;
	}
	return v;
}

const char *lt_yaml_cmdline(struct lt_yaml *y, yaml_node_t *node,
			    const char *where, size_t max)
{
	char found[64];
	const char *s =
	    lt_yaml_string(y, node, where, 1, "a kernel command line");

	if (!s)
		return NULL;
	lt_yaml_describe(node, found, sizeof(found));
	if (strlen(s) > max) {
		lt_yaml_fail(y, node, where, "%s is longer than %zu characters",
			     found, max);
		return NULL;
	}
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e) {
			lt_yaml_fail(
			    y, node, where,
			    "%s holds a control or non-ASCII character "
			    "(expected printable ASCII)",
			    found);
			return NULL;
		}
	return s;
}
