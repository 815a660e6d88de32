/*
 * Helpers shared by the YAML loaders (the deployment file and librettod's
 * own config): one-document parsing with positions, mapping keys checked
 * against a fixed table, typed scalars, and errors as file:line:column.
 */
#ifndef LIBRETTO_YAML_UTIL_H
#define LIBRETTO_YAML_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "deployment.h"

/* The schemas nest four levels deep (top, apps, app, command); anything
 * much deeper is hostile and is refused before libyaml builds a tree. */
#define LT_YAML_MAX_DEPTH 16

struct lt_yaml {
	yaml_document_t doc;
	int loaded;
	const char *file;
	struct lt_load_error *err;
};

/*
 * Parses exactly one YAML document. Anchors, aliases, tags and a second
 * document are refused (a value must be where its position says it is).
 * Returns 0, or -1 with *err filled; call lt_yaml_close in both cases.
 * An empty stream (nothing, or comments only) loads with a NULL root.
 */
int lt_yaml_open(struct lt_yaml *y, const char *text, size_t len,
		 const char *file, struct lt_load_error *err);
void lt_yaml_close(struct lt_yaml *y);
yaml_node_t *lt_yaml_root(struct lt_yaml *y);
yaml_node_t *lt_yaml_item(struct lt_yaml *y, yaml_node_item_t index);

struct lt_pos lt_yaml_pos(const yaml_node_t *node);

/* Fills *err; `pos` may be NULL (no position). */
void lt_load_error_set(struct lt_load_error *err, const char *file,
		       const struct lt_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fills the error at `node` ("where: message" when where is not empty) and
 * returns -1, so that callers can `return lt_yaml_fail(...)`. */
int lt_yaml_fail(struct lt_yaml *y, const yaml_node_t *node, const char *where,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "a mapping", "a sequence", "nothing" or the quoted scalar. */
void lt_yaml_describe(const yaml_node_t *node, char *buf, size_t size);

/* Quotes a string for an error message: escapes, truncated. */
void lt_quote(const char *s, size_t len, char *buf, size_t size);

/* One key of a mapping. lt_yaml_fields fills key_node and value. */
struct lt_yaml_field {
	const char *key;
	int required;
	yaml_node_t *key_node;
	yaml_node_t *value; /* NULL when the key is absent */
};

#define LT_FIELD(name, req)                                                    \
	{                                                                      \
		.key = (name), .required = (req)                               \
	}
#define LT_NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

/*
 * Matches the keys of `map` against `fields`. Refuses a node that is not a
 * mapping, unknown keys, a key given twice and missing required keys.
 */
int lt_yaml_fields(struct lt_yaml *y, yaml_node_t *map, const char *where,
		   struct lt_yaml_field *fields, size_t nfields);

/* A plain or quoted scalar, NUL-terminated, without embedded NUL. A plain
 * null (nothing, ~, null) is always refused; a quoted "" only when
 * allow_empty is 0. */
const char *lt_yaml_string(struct lt_yaml *y, yaml_node_t *node,
			   const char *where, int allow_empty,
			   const char *expected);

/* A kernel command line: printable ASCII only (no newline can reach the
 * guest's kernel), at most max characters; "" is allowed (no command line
 * at all). The daemon's xen_cmdline and a domain's cmdline share it. */
const char *lt_yaml_cmdline(struct lt_yaml *y, yaml_node_t *node,
			    const char *where, size_t max);

/* A decimal integer from min to max (digits only: no sign, no 0x). */
int lt_yaml_uint(struct lt_yaml *y, yaml_node_t *node, const char *where,
		 unsigned long long min, unsigned long long max,
		 unsigned long long *out);

/* A size in bytes with an optional K, M or G suffix (powers of 1024). */
int lt_yaml_size(struct lt_yaml *y, yaml_node_t *node, const char *where,
		 uint64_t min, uint64_t max, uint64_t *out);

/* Parsers behind the two above, for non-YAML callers. 0 or -1. */
int lt_parse_uint(const char *s, unsigned long long max,
		  unsigned long long *out);
int lt_parse_size(const char *s, uint64_t *out);
/* "256M", "4K", "1024G", or a plain byte count. */
void lt_format_size(uint64_t bytes, char *buf, size_t size);

/* Reads a whole file of at most `max` bytes into a NUL-terminated buffer
 * (free it). Returns 0 or -1 with errno (EFBIG when larger than max). */
int lt_read_file(const char *path, size_t max, char **text, size_t *len);

#endif
