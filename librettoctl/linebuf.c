#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

#define LINEBUF_MIN_READ 4096

void linebuf_init(struct linebuf *b)
{
	memset(b, 0, sizeof(*b));
}

void linebuf_free(struct linebuf *b)
{
	free(b->data);
	linebuf_init(b);
}

char *linebuf_space(struct linebuf *b, size_t *avail)
{
	/* Drop the consumed lines first so the buffer only grows when one
	 * line really is longer than the buffer. */
	if (b->start > 0) {
		memmove(b->data, b->data + b->start, b->end - b->start);
		b->end -= b->start;
		b->start = 0;
	}
	if (b->cap - b->end < LINEBUF_MIN_READ) {
		size_t cap = b->cap ? b->cap * 2 : 2 * LINEBUF_MIN_READ;
		char *data;

		while (cap - b->end < LINEBUF_MIN_READ)
			cap *= 2;
		data = realloc(b->data, cap);
		if (data == NULL)
			return NULL;
		b->data = data;
		b->cap = cap;
	}
	*avail = b->cap - b->end - 1; /* keep a byte for a terminating NUL */
	return b->data + b->end;
}

void linebuf_commit(struct linebuf *b, size_t n)
{
	b->end += n;
}

char *linebuf_next(struct linebuf *b)
{
	char *line = b->data + b->start;
	char *from = line + b->scanned;
	char *nl;
	size_t len;

	if (b->data == NULL)
		return NULL;
	nl = memchr(from, '\n', b->end - b->start - b->scanned);
	if (nl == NULL) {
		/* Remember how far we looked, so a long line arriving in many
		 * small reads is scanned once, not once per read. */
		b->scanned = b->end - b->start;
		return NULL;
	}
	len = (size_t)(nl - line);
	*nl = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	b->start += len + 1;
	b->scanned = 0;
	return line;
}

int linebuf_partial(const struct linebuf *b)
{
	return b->end > b->start;
}
