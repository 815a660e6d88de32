/*
 * One YAML document with honest positions: a first pass over the events
 * refuses what the loaders do not implement (anchors, aliases, tags, more
 * than one document, deep nesting), then libyaml builds the node tree.
 */
#include "yaml_util.h"

#include <string.h>

/* libyaml gives reader errors (bad UTF-8, control characters) as a byte
 * offset only; turn it into the 1-based line and character column that
 * the other errors use. */
static struct lt_pos pos_of_offset(const char *text, size_t len, size_t offset)
{
	struct lt_pos pos = {1, 1};

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			pos.line++;
			pos.column = 1;
		} else if ((c & 0xc0) != 0x80) {
			pos.column++; /* count characters, not bytes */
		}
	}
	return pos;
}

static struct lt_pos pos_of_mark(yaml_mark_t mark)
{
	return (struct lt_pos){(int)mark.line + 1, (int)mark.column + 1};
}

static void syntax_error(const yaml_parser_t *parser, const char *text,
			 size_t len, const char *file,
			 struct lt_load_error *err)
{
	const char *problem = parser->problem ? parser->problem : "unknown";
	struct lt_pos pos;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		lt_load_error_set(err, file, NULL,
				  "out of memory while parsing YAML");
		return;
	case YAML_READER_ERROR:
		pos = pos_of_offset(text, len, parser->problem_offset);
		lt_load_error_set(err, file, &pos,
				  "invalid text: %s (byte 0x%02x; expected "
				  "UTF-8 without control characters)",
				  problem,
				  (unsigned)parser->problem_value & 0xff);
		return;
	default:
		break;
	}
	pos = pos_of_mark(parser->problem_mark);
	if (parser->context) {
		lt_load_error_set(err, file, &pos,
				  "YAML syntax error: %s (%s at line %zu, "
				  "column %zu)",
				  problem, parser->context,
				  parser->context_mark.line + 1,
				  parser->context_mark.column + 1);
	} else {
		lt_load_error_set(err, file, &pos, "YAML syntax error: %s",
				  problem);
	}
}

/* Returns 0 when the event is acceptable, else fills err. */
static int check_event(const yaml_event_t *ev, int *depth, int *documents,
		       const char *file, struct lt_load_error *err)
{
	struct lt_pos pos = pos_of_mark(ev->start_mark);
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*documents > 1) {
			lt_load_error_set(err, file, &pos,
					  "a second YAML document starts here "
					  "(expected exactly one document)");
			return -1;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		lt_load_error_set(err, file, &pos,
				  "alias *%.40s: anchors and aliases are not "
				  "supported (write the value out)",
				  (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		++*depth;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		++*depth;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		return 0;
	default:
		return 0;
	}
	if (anchor) {
		lt_load_error_set(err, file, &pos,
				  "anchor &%.40s: anchors and aliases are not "
				  "supported (write the value out)",
				  (const char *)anchor);
		return -1;
	}
	if (tag) {
		lt_load_error_set(err, file, &pos,
				  "tag %.40s: YAML tags are not supported "
				  "(write a plain or quoted value)",
				  (const char *)tag);
		return -1;
	}
	if (*depth > LT_YAML_MAX_DEPTH) {
		lt_load_error_set(err, file, &pos,
				  "nesting deeper than %d levels (expected "
				  "the flat layout of the schema)",
				  LT_YAML_MAX_DEPTH);
		return -1;
	}
	return 0;
}

static int prescan(const char *text, size_t len, const char *file,
		   struct lt_load_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, documents = 0, rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		lt_load_error_set(err, file, NULL, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&parser, text, len, file, err);
			goto out;
		}
		int bad = check_event(&ev, &depth, &documents, file, err);
		int done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (bad)
			goto out;
		if (done)
			break;
	}
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

int lt_yaml_open(struct lt_yaml *y, const char *text, size_t len,
		 const char *file, struct lt_load_error *err)
{
	yaml_parser_t parser;
	int rc = -1;

	memset(y, 0, sizeof(*y));
	y->file = file;
	y->err = err;
	if (prescan(text, len, file, err) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		lt_load_error_set(err, file, NULL, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&parser, &y->doc)) {
		syntax_error(&parser, text, len, file, err);
		goto out;
	}
	y->loaded = 1;
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

void lt_yaml_close(struct lt_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = 0;
}

yaml_node_t *lt_yaml_root(struct lt_yaml *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *lt_yaml_item(struct lt_yaml *y, yaml_node_item_t index)
{
	return yaml_document_get_node(&y->doc, index);
}

struct lt_pos lt_yaml_pos(const yaml_node_t *node)
{
	return pos_of_mark(node->start_mark);
}
