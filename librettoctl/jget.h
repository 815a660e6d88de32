/*
 * Tolerant accessors for JSON the daemon sent.  A reply of an unexpected
 * shape must never crash the CLI: every accessor accepts NULL and wrong
 * types and then answers "absent".
 */
#ifndef LIBRETTOCTL_JGET_H
#define LIBRETTOCTL_JGET_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The member `key` of obj if obj is an object and has it, else NULL.  A
 * JSON null member also gives NULL. */
struct json_object *jget(struct json_object *obj, const char *key);
/* The member if it has the given type, else NULL. */
struct json_object *jget_object(struct json_object *obj, const char *key);
struct json_object *jget_array(struct json_object *obj, const char *key);
const char *jget_str(struct json_object *obj, const char *key);
/* True and *out set when the member is an integer. */
bool jget_int(struct json_object *obj, const char *key, int64_t *out);
/* True and *out set when the member is a boolean. */
bool jget_bool(struct json_object *obj, const char *key, bool *out);

/*
 * A short human form of any JSON value, for a table cell or a message:
 * absent, null and "" give "-"; strings as they are; numbers; booleans as
 * yes/no; arrays as their elements joined by ","; objects as compact JSON.
 * The result is in buf (truncated to size) and returned.
 */
const char *jget_text(struct json_object *value, char *buf, size_t size);

#endif
