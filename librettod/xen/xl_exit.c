/*
 * A domain's end as a waitpid status, so that the engine treats a Xen
 * domain as it treats a sim one (docs/xen.md, "How a domain ends"):
 *
 *   poweroff      exited with the guest program's code, which the guest's
 *                 /init left in guest/exit-status (255 when it left none)
 *   crash         killed by SIGSEGV: the guest kernel died
 *   reboot        killed by SIGHUP: asked to start again; the engine's
 *   soft_reset    restart policy decides, nothing reboots by itself
 *   watchdog      killed by SIGALRM: the guest stopped feeding it
 *   suspend,      killed by SIGKILL: nothing here suspends a domain
 *   unknown
 *   destroyed     killed by SIGKILL (XL_WSTATUS_DESTROYED): gone without
 *   from outside  a shutdown, e.g. `xl destroy`
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xl_backend.h"

/* The code the guest left: decimal, 0 to 255, a newline allowed. */
static int parse_exit_status(const char *s, int *code)
{
	size_t n = s ? strlen(s) : 0;
	int v = 0;

	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 255)
		return -1;
	*code = v;
	return 0;
}

int xl_exit_wstatus(int shutdown_reason, const char *exit_status, int *bad)
{
	int code;

	*bad = 0;
	switch (shutdown_reason) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		if (parse_exit_status(exit_status, &code) < 0) {
			*bad = 1;
			code = 255;
		}
		return W_EXITCODE(code, 0);
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return W_EXITCODE(0, SIGSEGV);
	case LIBXL_SHUTDOWN_REASON_REBOOT:
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return W_EXITCODE(0, SIGHUP);
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return W_EXITCODE(0, SIGALRM);
	default:
		return W_EXITCODE(0, SIGKILL);
	}
}

const char *xl_exit_reason_name(int shutdown_reason)
{
	switch (shutdown_reason) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return "poweroff";
	case LIBXL_SHUTDOWN_REASON_REBOOT:
		return "reboot";
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		return "suspend";
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return "crash";
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return "watchdog";
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return "soft_reset";
	default:
		return "unknown";
	}
}
