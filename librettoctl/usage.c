#include "usage.h"

#include <string.h>

struct command_help {
	const char *name;
	const char *synopsis;
	const char *text;
};

static const char exit_text[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  the operation failed: the daemon refused it, or it ended not ok\n"
    "  2  usage or validation error, including invalid-deployment and\n"
    "     bad-argument replies\n"
    "  3  daemon unreachable: cannot connect, or the connection was lost\n"
    "     before the answer\n"
    "  Ctrl-C ends librettoctl by SIGINT (the shell shows 130), except\n"
    "  for status --watch, which then exits 0.\n";

static const struct command_help commands[] = {
    {"deploy", "librettoctl deploy FILE [--dry-run] [--json]",
     "Send the deployment FILE (\"-\" for standard input) to librettod and\n"
     "follow the operation to its end.  Prints the plan, one line per\n"
     "domain with its action (start, stop, restart, keep), then one line\n"
     "per progress step, then the outcome with the elapsed time.  Applying\n"
     "an unchanged file prints \"no changes\".\n"
     "\n"
     "  --dry-run  print the plan only; nothing is changed\n"
     "  --json     print the daemon's reply line, then every event line of\n"
     "             this operation as received (JSON lines)\n"
     "\n"
     "Ctrl-C stops following; the operation keeps running in the daemon.\n"
     "Exit status 0 when the operation ended ok, 1 when it failed or was\n"
     "refused, 2 when the file does not validate.\n"
     "\n"
     "Examples:\n"
     "  librettoctl deploy configs/demo.yaml\n"
     "  librettoctl deploy --dry-run configs/demo.yaml\n"
     "  generate-deployment | librettoctl --json deploy -\n"},
    {"validate", "librettoctl validate FILE [--json]",
     "Check the deployment FILE (\"-\" for standard input) locally, with\n"
     "the same loader librettod runs; no daemon needed.  Prints\n"
     "\"FILE: valid (N apps)\", or the first error as\n"
     "\"FILE:LINE:COLUMN: message\" on standard error.  A file that names\n"
     "a kernel or ramdisk is then checked by librettod (its images_dir,\n"
     "its files); without a daemon that is said and the exit status is 3.\n"
     "\n"
     "  --json  print {\"file\", \"valid\", \"deployment\", \"apps\"} or\n"
     "          {\"file\", \"valid\": false, \"error\": {\"line\", "
     "\"column\",\n"
     "          \"message\", \"text\"}}\n"
     "\n"
     "Exit status 0 when valid, 2 when not (or unreadable), 3 when its\n"
     "images could not be checked.\n"
     "\n"
     "Example:\n"
     "  librettoctl validate configs/demo.yaml\n"},
    {"destroy", "librettoctl destroy NAME [--json]",
     "Stop every domain of the deployment NAME and forget it, following\n"
     "the operation to its end like deploy.\n"
     "\n"
     "  --json  print the reply line, then the operation's event lines\n"
     "\n"
     "Example:\n"
     "  librettoctl destroy demo\n"},
    {"status", "librettoctl status [NAME [DOMAIN]] [--watch] [--json]",
     "Show the backend, every deployment (or only NAME) and a table of its\n"
     "domains: NAME DOMID ROLE MODE STATE ADDRESS MAC, and where the\n"
     "backend reports them PATH NAMESPACE PID PORTS RESTARTS.  A missing\n"
     "value prints \"-\".  With DOMAIN, every field of that one domain.\n"
     "\n"
     "  --watch  subscribe to events and show the status again whenever\n"
     "           it changes (at most every 200 ms), until Ctrl-C; on a\n"
     "           terminal the screen is redrawn in place\n"
     "  --json   print the \"result\" object of the daemon's reply,\n"
     "           serialised on one line; with --watch one such line per\n"
     "           change\n"
     "\n"
     "Examples:\n"
     "  librettoctl status\n"
     "  librettoctl status demo web\n"
     "  librettoctl status demo --watch\n"
     "  librettoctl status --json | jq '.deployments[].state'\n"},
    {"switch",
     "librettoctl switch APP --to direct|server [--deployment NAME]\n"
     "                   [--timeout SECONDS] [--json]",
     "Move the dynamic app APP between the network server's path and its\n"
     "own VF, with its TCP connections kept, and follow the switch to its\n"
     "end: one line per step (check, prepare, attach, guest, server, done;\n"
     "backwards for --to server) with its time, then the outcome and the\n"
     "total time.  When a step fails or times out, the steps done are\n"
     "undone in reverse order (lines marked \"undo\") and the app stays\n"
     "on the path it was on.\n"
     "\n"
     "  --to PATH            direct (its VF) or server (the server's "
     "path)\n"
     "  -d, --deployment NAME  the deployment, when more than one has an\n"
     "                       app called APP\n"
     "  --timeout SECONDS    the most each step may take (default 5)\n"
     "  --json               print the reply line, then every event line\n"
     "                       of this switch as received\n"
     "  --fault STEP[:stall] for tests, with librettod --test-faults: make\n"
     "                       STEP fail (or never finish) after doing its "
     "work\n"
     "\n"
     "A switch is refused when APP is not a dynamic app, is not running,\n"
     "is already switching, or no VF is free.  An app already on PATH is\n"
     "left alone (\"nothing to do\", exit 0).\n"
     "\n"
     "Examples:\n"
     "  librettoctl switch cache --to direct\n"
     "  librettoctl switch cache --to server --timeout 2\n"
     "  librettoctl --json switch cache --to direct | jq -c .data.ms\n"},
    {"version", "librettoctl version [--json]",
     "Print librettoctl's version, then the daemon's version, protocol and\n"
     "backend.\n"
     "\n"
     "  --json  print {\"librettoctl\": {\"version\", \"protocol\"},\n"
     "          \"librettod\": <the daemon's version result>}\n"},
    {"help", "librettoctl help [COMMAND]",
     "Show the overview, or the help of COMMAND.\n"},
};

static const struct command_help *find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void usage_print_global(FILE *f)
{
	fputs("usage: librettoctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	      "\n"
	      "Control librettod, the libretto dom0 daemon.\n"
	      "\n"
	      "Commands:\n"
	      "  deploy FILE [--dry-run]   apply a deployment, follow it to "
	      "the end\n"
	      "  validate FILE             check a deployment file locally\n"
	      "  destroy NAME              stop and remove a deployment\n"
	      "  status [NAME [DOMAIN]] [--watch]\n"
	      "                            show deployments and their "
	      "domains\n"
	      "  switch APP --to direct|server\n"
	      "                            move a dynamic app to its VF or "
	      "back\n"
	      "  version                   show librettoctl's and librettod's "
	      "versions\n"
	      "  help [COMMAND]            this text, or a command's help\n"
	      "\n"
	      "Options, anywhere on the command line:\n"
	      "  -s, --socket SOCKET  the daemon's socket\n"
	      "  --json               JSON output on standard output\n"
	      "  -h, --help           help ('librettoctl COMMAND --help' for a "
	      "command)\n"
	      "\n"
	      "Environment:\n"
	      "  LIBRETTO_SOCKET  the socket when -s is not given (default\n"
	      "                   /run/libretto/librettod.sock)\n"
	      "\n",
	      f);
	fputs(exit_text, f);
	fputs("\n"
	      "Errors go to standard error as \"librettoctl: CLASS: "
	      "MESSAGE\".\n"
	      "See docs/librettoctl.md for the full reference.\n",
	      f);
}

int usage_print_command(FILE *f, const char *command)
{
	const struct command_help *h = find(command);

	if (h == NULL)
		return -1;
	fprintf(f, "usage: %s\n\n%s", h->synopsis, h->text);
	if (strcmp(command, "help") != 0)
		fputs("\n"
		      "Options -s SOCKET and --json may appear anywhere; "
		      "LIBRETTO_SOCKET\n"
		      "sets the socket when -s is not given.\n"
		      "\n",
		      f);
	if (strcmp(command, "help") != 0)
		fputs(exit_text, f);
	return 0;
}

const char *usage_synopsis(const char *command)
{
	const struct command_help *h = find(command);

	return h != NULL ? h->synopsis
			 : "librettoctl [-s SOCKET] [--json] COMMAND [ARGS] "
			   "(librettoctl --help lists the commands)";
}
