/* Small helpers every part of the daemon uses. */
#ifndef LIBRETTOD_UTIL_H
#define LIBRETTOD_UTIL_H

#include <sys/types.h>

/* asprintf that returns the string, or NULL when out of memory. */
char *lt_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mkdir -p: parents 0755, the last component mode; existing is fine. */
int lt_mkdir_p(const char *path, mode_t mode);

#endif
