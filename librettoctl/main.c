/*
 * librettoctl: the command line of librettod.  This file only reads the
 * command line and hands over to the command's cmd_*.c.
 */
#include <libretto/protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "report.h"
#include "usage.h"

enum {
	FLAG_DRY_RUN = 1 << 0,
	FLAG_WATCH = 1 << 1,
	FLAG_SWITCH = 1 << 2, /* --to, --deployment, --timeout, --fault */
};

struct command {
	const char *name;
	int (*run)(const struct ctl_invocation *inv);
	int min_args, max_args;
	unsigned flags; /* command-specific options it accepts */
};

static const struct command commands[] = {
    {"deploy", cmd_deploy, 1, 1, FLAG_DRY_RUN},
    {"validate", cmd_validate, 1, 1, 0},
    {"destroy", cmd_destroy, 1, 1, 0},
    {"status", cmd_status, 0, 2, FLAG_WATCH},
    {"version", cmd_version, 0, 0, 0},
    {"switch", cmd_switch, 1, 1, FLAG_SWITCH},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int usage_error(const char *command, const char *fmt, const char *arg)
{
	char message[512];

	snprintf(message, sizeof(message), fmt, arg);
	ctl_fail(LT_EXIT_USAGE, CTL_ERR_USAGE, "%s", message);
	fprintf(stderr, "usage: %s\n", usage_synopsis(command ? command : ""));
	return LT_EXIT_USAGE;
}

struct parsed {
	struct ctl_invocation inv;
	const char *socket_opt;
	unsigned flags_seen;
	bool help;
};

/* switch's options, each with a value. */
static bool switch_option(const char *a)
{
	return strcmp(a, "--to") == 0 || strcmp(a, "--deployment") == 0 ||
	       strcmp(a, "-d") == 0 || strcmp(a, "--timeout") == 0 ||
	       strcmp(a, "--fault") == 0;
}

static const char **switch_option_slot(struct ctl_invocation *inv,
				       const char *a)
{
	if (strcmp(a, "--to") == 0)
		return &inv->to;
	if (strcmp(a, "--timeout") == 0)
		return &inv->timeout;
	if (strcmp(a, "--fault") == 0)
		return &inv->fault;
	return &inv->deployment;
}

/*
 * Options may come before or after the command: `librettoctl --json status`
 * and `librettoctl status --json` are the same, as users type both.
 */
static int parse(int argc, char **argv, struct parsed *p)
{
	bool options_done = false;

	p->inv.argv = calloc((size_t)argc + 1, sizeof(char *));
	if (p->inv.argv == NULL)
		abort();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
			if (p->inv.command == NULL)
				p->inv.command = a;
			else
				p->inv.argv[p->inv.argc++] = argv[i];
		} else if (strcmp(a, "--") == 0) {
			options_done = true;
		} else if (strcmp(a, "--json") == 0) {
			p->inv.json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			p->help = true;
		} else if (strcmp(a, "--dry-run") == 0) {
			p->flags_seen |= FLAG_DRY_RUN;
			p->inv.dry_run = true;
		} else if (strcmp(a, "--watch") == 0 || strcmp(a, "-w") == 0) {
			p->flags_seen |= FLAG_WATCH;
			p->inv.watch = true;
		} else if (switch_option(a)) {
			if (i + 1 >= argc)
				return usage_error(p->inv.command,
						   "%s needs a value", a);
			p->flags_seen |= FLAG_SWITCH;
			*switch_option_slot(&p->inv, a) = argv[++i];
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			if (i + 1 >= argc)
				return usage_error(p->inv.command,
						   "%s needs a socket path", a);
			p->socket_opt = argv[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			p->socket_opt = a + 9;
		} else if (strncmp(a, "-s", 2) == 0) {
			p->socket_opt = a + 2;
		} else {
			return usage_error(p->inv.command,
					   "unknown option '%s'", a);
		}
	}
	return LT_EXIT_OK;
}

/* Everything after parsing; main frees what parse allocated, whichever
 * way this returns. */
static int run(int argc, char **argv, struct parsed *pp)
{
	const struct command *cmd;
	const char *env;
	int status;

	status = parse(argc, argv, pp);
	if (status != LT_EXIT_OK)
		return status;

	if (pp->inv.command != NULL && strcmp(pp->inv.command, "help") == 0) {
		if (pp->inv.argc == 0) {
			usage_print_global(stdout);
			return LT_EXIT_OK;
		}
		if (usage_print_command(stdout, pp->inv.argv[0]) < 0)
			return usage_error(NULL, "no command '%s'",
					   pp->inv.argv[0]);
		return LT_EXIT_OK;
	}
	if (pp->help) {
		if (pp->inv.command == NULL)
			usage_print_global(stdout);
		else if (usage_print_command(stdout, pp->inv.command) < 0)
			return usage_error(NULL, "no command '%s'",
					   pp->inv.command);
		return LT_EXIT_OK;
	}
	if (pp->inv.command == NULL)
		return usage_error(NULL, "%s", "no command");
	cmd = find_command(pp->inv.command);
	if (cmd == NULL)
		return usage_error(NULL,
				   "no command '%s' (librettoctl --help lists "
				   "them)",
				   pp->inv.command);
	for (unsigned flag = FLAG_DRY_RUN; flag <= FLAG_SWITCH; flag <<= 1)
		if ((pp->flags_seen & flag) && !(cmd->flags & flag))
			return usage_error(
			    cmd->name, "%s",
			    flag == FLAG_DRY_RUN
				? "--dry-run is for deploy only"
			    : flag == FLAG_WATCH
				? "--watch is for status only"
				: "--to, --deployment, --timeout and --fault "
				  "are for switch only");
	if (pp->inv.argc < cmd->min_args)
		return usage_error(cmd->name, "%s: missing argument",
				   cmd->name);
	if (pp->inv.argc > cmd->max_args)
		return usage_error(cmd->name, "%s: too many arguments",
				   cmd->name);

	/* -s first, then the environment, then the default. */
	env = getenv(LT_ENV_SOCKET);
	pp->inv.socket_path = pp->socket_opt != NULL ? pp->socket_opt
			      : env != NULL && env[0] != '\0'
				  ? env
				  : LT_DEFAULT_SOCKET;
	if (pp->inv.socket_path[0] == '\0')
		return usage_error(cmd->name, "%s", "-s: empty socket path");

	return cmd->run(&pp->inv);
}

int main(int argc, char **argv)
{
	struct parsed p = {0};
	int status = run(argc, argv, &p);

	free(p.inv.argv);
	return status;
}
