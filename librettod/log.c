#include "log.h"

#include <stdio.h>
#include <syslog.h>
#include <time.h>

static int log_foreground = 1;
static int log_verbose;

void log_init(const char *ident, int foreground, int verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void log_vwrite(int priority, const char *fmt, va_list ap)
{
	static const char *const labels[] = {[LOG_ERR] = "error",
					     [LOG_WARNING] = "warning",
					     [LOG_INFO] = "info",
					     [LOG_DEBUG] = "debug"};

	if (priority == LOG_DEBUG && !log_verbose)
		return;
	if (!log_foreground) {
		vsyslog(priority, fmt, ap);
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	/* One line at a time: the xen backend's libxl thread logs too. */
	flockfile(stderr);
	fprintf(stderr, "%02d:%02d:%02d.%03ld librettod %s: ", tm.tm_hour,
		tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000, labels[priority]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define LOG_FN(name, prio)                                                     \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(prio, fmt, ap);                                     \
		va_end(ap);                                                    \
	}
LOG_FN(log_err, LOG_ERR)
LOG_FN(log_warn, LOG_WARNING)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)
