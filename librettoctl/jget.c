#include "jget.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct json_object *jget(struct json_object *obj, const char *key)
{
	struct json_object *member = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &member))
		return NULL;
	return member; /* json-c represents null as NULL */
}

static struct json_object *jget_typed(struct json_object *obj, const char *key,
				      json_type type)
{
	struct json_object *member = jget(obj, key);

	return json_object_is_type(member, type) ? member : NULL;
}

struct json_object *jget_object(struct json_object *obj, const char *key)
{
	return jget_typed(obj, key, json_type_object);
}

struct json_object *jget_array(struct json_object *obj, const char *key)
{
	return jget_typed(obj, key, json_type_array);
}

const char *jget_str(struct json_object *obj, const char *key)
{
	struct json_object *member = jget_typed(obj, key, json_type_string);

	return member != NULL ? json_object_get_string(member) : NULL;
}

bool jget_int(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *member = jget_typed(obj, key, json_type_int);

	if (member == NULL)
		return false;
	*out = json_object_get_int64(member);
	return true;
}

bool jget_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *member = jget_typed(obj, key, json_type_boolean);

	if (member == NULL)
		return false;
	*out = json_object_get_boolean(member);
	return true;
}

static void join_array(struct json_object *array, char *buf, size_t size)
{
	size_t n = json_object_array_length(array);
	size_t used = 0;
	char item[256];

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		jget_text(json_object_array_get_idx(array, i), item,
			  sizeof(item));
		int w = snprintf(buf + used, size - used, "%s%s",
				 i > 0 ? "," : "", item);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

const char *jget_text(struct json_object *value, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	switch (json_object_get_type(value)) {
	case json_type_null:
		snprintf(buf, size, "-");
		break;
	case json_type_string: {
		const char *s = json_object_get_string(value);
		snprintf(buf, size, "%s", s[0] != '\0' ? s : "-");
		break;
	}
	case json_type_int:
		snprintf(buf, size, "%" PRId64, json_object_get_int64(value));
		break;
	case json_type_double:
		snprintf(buf, size, "%g", json_object_get_double(value));
		break;
	case json_type_boolean:
		snprintf(buf, size, "%s",
			 json_object_get_boolean(value) ? "yes" : "no");
		break;
	case json_type_array:
		join_array(value, buf, size);
		break;
	case json_type_object:
		snprintf(buf, size, "%s",
			 json_object_to_json_string_ext(
			     value, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	}
	return buf;
}
