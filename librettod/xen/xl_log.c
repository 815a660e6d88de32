/*
 * libxl's (and libxc's) messages go where the daemon's own go (log.c):
 * stderr in the foreground, syslog otherwise.  libxl logs every xenstore
 * step at its debug levels; those are dropped, DETAIL and PROGRESS become
 * debug messages (seen with -v), the rest keep their weight.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xentoollog.h>

#include "log.h"
#include "xl_backend.h"

static void xl_log_vmessage(xentoollog_logger *logger, xentoollog_level level,
			    int errnoval, const char *context,
			    const char *format, va_list al)
    __attribute__((format(printf, 5, 0)));

static void xl_log_vmessage(xentoollog_logger *logger, xentoollog_level level,
			    int errnoval, const char *context,
			    const char *format, va_list al)
{
	char msg[1024], why[128] = "";

	(void)logger;
	if (level < XTL_DETAIL)
		return;
	vsnprintf(msg, sizeof(msg), format, al);
	if (errnoval >= 0)
		snprintf(why, sizeof(why), ": %s", strerror(errnoval));
	if (level >= XTL_ERROR)
		log_err("%s: %s%s", context ? context : "libxl", msg, why);
	else if (level >= XTL_WARN)
		log_warn("%s: %s%s", context ? context : "libxl", msg, why);
	else if (level >= XTL_INFO)
		log_info("%s: %s%s", context ? context : "libxl", msg, why);
	else
		log_debug("%s: %s%s", context ? context : "libxl", msg, why);
}

static void xl_log_destroy(xentoollog_logger *logger)
{
	free(logger);
}

xentoollog_logger *xl_log_new(void)
{
	xentoollog_logger *lg = calloc(1, sizeof(*lg));

	if (lg == NULL)
		return NULL;
	lg->vmessage = xl_log_vmessage;
	lg->progress = NULL; /* allowed: no progress bars in a log */
	lg->destroy = xl_log_destroy;
	return lg;
}
