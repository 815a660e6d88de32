/*
 * A human table: columns as wide as their widest cell, two spaces apart, no
 * trailing blanks.  Optional columns are left out when no row has a value,
 * so a backend that does not report a field does not cost a column of "-".
 */
#ifndef LIBRETTOCTL_TABLE_H
#define LIBRETTOCTL_TABLE_H

#include <stdbool.h>
#include <stdio.h>

struct table_column {
	const char *header;
	bool optional;
};

struct table;

struct table *table_new(const struct table_column *columns, size_t ncolumns);
/* Adds a row of ncolumns cells (copied); NULL or "" cells print "-". */
void table_add_row(struct table *t, const char *const *cells);
/* Prints the header and the rows, each line starting with indent. */
void table_print(const struct table *t, FILE *f, const char *indent);
void table_free(struct table *t);

#endif
