/*
 * The two forms of output.  Every command builds what it prints from the
 * JSON the daemon sent: with --json that JSON goes out as one line, without
 * it a formatter turns the same object into text.  Nothing is printed from
 * any other data, so the two forms cannot drift apart.
 */
#ifndef LIBRETTOCTL_OUTPUT_H
#define LIBRETTOCTL_OUTPUT_H

#include <json-c/json.h>
#include <stdio.h>

/* The compact one-line serialisation used for every JSON output: the same
 * members in the same order, "/" not escaped.  Valid while obj lives. */
const char *out_json_text(struct json_object *obj);

/* Writes obj as one line and flushes, so a script reading a pipe sees each
 * line as soon as it happens. */
void out_json_line(struct json_object *obj);

/* Writes a raw line received from the daemon, unchanged, and flushes. */
void out_raw_line(const char *line);

/*
 * Writes text that came from the daemon, replacing control characters with
 * '?': a name or message must not be able to move the cursor or retitle
 * the user's terminal.
 */
void out_text(FILE *f, const char *s);

/* Display width of a UTF-8 string, counting one column per code point
 * (names here are ASCII; this keeps tables aligned if one is not). */
size_t out_width(const char *s);

#endif
