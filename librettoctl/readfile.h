/*
 * Reading a deployment file for deploy and validate.  "-" reads standard
 * input, so a generated deployment can be piped in.
 */
#ifndef LIBRETTOCTL_READFILE_H
#define LIBRETTOCTL_READFILE_H

#include <stddef.h>

/* The display name for errors: "<stdin>" for "-", else path. */
const char *readfile_name(const char *path);

/*
 * Reads the whole file into *text (NUL-terminated, malloc'd) and *len.
 * Returns LT_EXIT_OK, or prints the error and returns LT_EXIT_USAGE.
 */
int readfile(const char *path, char **text, size_t *len);

#endif
