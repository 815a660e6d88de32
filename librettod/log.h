/* Logging: stderr in the foreground, syslog otherwise (after vmd's log.c). */
#ifndef LIBRETTOD_LOG_H
#define LIBRETTOD_LOG_H

#include <stdarg.h>

/* foreground: log to stderr; verbose: also log_debug. */
void log_init(const char *ident, int foreground, int verbose);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
