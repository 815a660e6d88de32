/*
 * What every librettoctl command receives: the parsed command line.  Each
 * command lives in its own cmd_*.c and returns the process exit status
 * (LT_EXIT_* in libretto/protocol.h).
 */
#ifndef LIBRETTOCTL_CTL_H
#define LIBRETTOCTL_CTL_H

#include <stdbool.h>

struct ctl_invocation {
	const char *command;	 /* "deploy", "status", ... */
	const char *socket_path; /* -s, else $LIBRETTO_SOCKET, else default */
	bool json;		 /* --json: machine output on stdout */
	bool dry_run;		 /* deploy --dry-run */
	bool watch;		 /* status --watch */
	const char *to;		 /* switch --to */
	const char *deployment;	 /* switch --deployment */
	const char *timeout;	 /* switch --timeout, seconds as typed */
	const char *fault;	 /* switch --fault STEP[:stall] (tests) */
	int argc;		 /* positional arguments after the command */
	char **argv;
};

int cmd_deploy(const struct ctl_invocation *inv);
int cmd_destroy(const struct ctl_invocation *inv);
int cmd_status(const struct ctl_invocation *inv);
int cmd_validate(const struct ctl_invocation *inv);
int cmd_version(const struct ctl_invocation *inv);
int cmd_switch(const struct ctl_invocation *inv);

#endif
