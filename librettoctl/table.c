#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"

struct table {
	const struct table_column *columns;
	size_t ncolumns;
	char **cells; /* nrows * ncolumns */
	size_t nrows;
	size_t cap;
};

struct table *table_new(const struct table_column *columns, size_t ncolumns)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort(); /* a CLI printing a table has nothing better to do */
	t->columns = columns;
	t->ncolumns = ncolumns;
	return t;
}

void table_add_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->cells =
		    realloc(t->cells, t->cap * t->ncolumns * sizeof(*t->cells));
		if (t->cells == NULL)
			abort();
	}
	for (size_t i = 0; i < t->ncolumns; i++) {
		const char *s = cells[i];
		char *copy = strdup(s != NULL && s[0] != '\0' ? s : "-");

		if (copy == NULL)
			abort();
		t->cells[t->nrows * t->ncolumns + i] = copy;
	}
	t->nrows++;
}

static const char *cell(const struct table *t, size_t row, size_t col)
{
	return t->cells[row * t->ncolumns + col];
}

static bool column_shown(const struct table *t, size_t col)
{
	if (!t->columns[col].optional)
		return true;
	for (size_t r = 0; r < t->nrows; r++)
		if (strcmp(cell(t, r, col), "-") != 0)
			return true;
	return false;
}

static void print_line(const struct table *t, FILE *f, const char *indent,
		       const size_t *width, const bool *shown, size_t last,
		       const char *const *texts)
{
	fputs(indent, f);
	for (size_t c = 0; c < t->ncolumns; c++) {
		const char *s = texts[c];

		if (!shown[c])
			continue;
		out_text(f, s);
		if (c == last)
			break;
		for (size_t pad = out_width(s); pad < width[c] + 2; pad++)
			fputc(' ', f);
	}
	fputc('\n', f);
}

void table_print(const struct table *t, FILE *f, const char *indent)
{
	size_t *width = calloc(t->ncolumns, sizeof(*width));
	bool *shown = calloc(t->ncolumns, sizeof(*shown));
	const char **headers = calloc(t->ncolumns, sizeof(*headers));
	size_t last = 0;

	if (width == NULL || shown == NULL || headers == NULL)
		abort();
	for (size_t c = 0; c < t->ncolumns; c++) {
		shown[c] = column_shown(t, c);
		if (shown[c])
			last = c;
		headers[c] = t->columns[c].header;
		width[c] = out_width(headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = out_width(cell(t, r, c));
			if (w > width[c])
				width[c] = w;
		}
	}
	print_line(t, f, indent, width, shown, last, headers);
	for (size_t r = 0; r < t->nrows; r++)
		print_line(t, f, indent, width, shown, last,
			   (const char *const *)&t->cells[r * t->ncolumns]);
	free(width);
	free(shown);
	free(headers);
}

void table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncolumns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
