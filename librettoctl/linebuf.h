/*
 * Splits a byte stream into lines.  Reads deliver arbitrary pieces: a line
 * may arrive over many reads, and one read may carry several lines.  A
 * line's length is limited only by memory, because a status reply for a
 * large deployment is one (long) line.
 */
#ifndef LIBRETTOCTL_LINEBUF_H
#define LIBRETTOCTL_LINEBUF_H

#include <stddef.h>

struct linebuf {
	char *data;
	size_t cap;
	size_t start;	/* first byte not yet returned as a line */
	size_t end;	/* end of the bytes received */
	size_t scanned; /* bytes after start already known to hold no '\n' */
};

void linebuf_init(struct linebuf *b);
void linebuf_free(struct linebuf *b);

/* Room for the next read, at least 4 KiB; NULL when out of memory.  Moves
 * pending bytes, so lines returned earlier become invalid. */
char *linebuf_space(struct linebuf *b, size_t *avail);
/* Records that n bytes were read into the space. */
void linebuf_commit(struct linebuf *b, size_t n);

/* The next complete line without its "\n" (or "\r\n"), NUL-terminated in
 * place, or NULL when no complete line is buffered. */
char *linebuf_next(struct linebuf *b);

/* True when bytes of an unfinished line are buffered (an EOF then cut a
 * line short). */
int linebuf_partial(const struct linebuf *b);

#endif
