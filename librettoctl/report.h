/*
 * Errors on stderr, always as "librettoctl: <class>: <message>", and the
 * mapping from an error class to the exit status.  Daemon classes come from
 * docs/protocol.md; the CLI adds its own for what happens on this side.
 */
#ifndef LIBRETTOCTL_REPORT_H
#define LIBRETTOCTL_REPORT_H

#include <json-c/json.h>

/* Classes of errors detected by the CLI itself (docs/librettoctl.md). */
#define CTL_ERR_USAGE "usage" /* bad command line */
#define CTL_ERR_FILE  "file"  /* cannot read a deployment file */
#define CTL_ERR_UNREACHABLE                                                    \
	"unreachable"		       /* connect failed, connection lost      \
					*/
#define CTL_ERR_PROTOCOL    "protocol" /* the peer does not speak our protocol */
#define CTL_ERR_INTERRUPTED "interrupted" /* SIGINT while waiting */

/* Prints the error and returns `status`, so callers can `return ctl_fail(...)`.
 */
int ctl_fail(int status, const char *class, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit status for an error class sent by the daemon. */
int ctl_exit_for_class(const char *class);

/*
 * Prints the error of a reply or op-done ({"class", "message", ...}, any
 * shape tolerated) and returns its exit status.  invalid-deployment is
 * printed as its bare "file:line:column: message", like a compiler.
 */
int ctl_fail_remote(struct json_object *error);

#endif
