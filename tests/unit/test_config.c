/* librettod's config file: defaults, a full file, and errors with their
 * positions. librettod/config.c is compiled into this test directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "libretto/protocol.h"
#include "libretto/version.h"

static char path[64];

/* Writes text to a temporary file and loads it over the defaults. */
static int load(const char *text, struct daemon_config *cfg,
		struct lt_load_error *err)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	daemon_config_defaults(cfg);
	return daemon_config_load(path, cfg, err);
}

/* Loads text that must fail; returns the message without the file name. */
static const char *error_of(const char *text)
{
	static char msg[1024];
	struct daemon_config cfg;
	struct lt_load_error err;
	size_t n = strlen(path);

	if (load(text, &cfg, &err) == 0)
		return "(loaded)";
	lt_load_error_format(&err, msg, sizeof(msg));
	if (strncmp(msg, path, n) == 0)
		return msg + n;
	return msg;
}

static void test_defaults(void)
{
	struct daemon_config cfg;

	daemon_config_defaults(&cfg);
	CHECK(strcmp(cfg.socket_path, LT_DEFAULT_SOCKET) == 0);
	CHECK(strcmp(cfg.state_dir, "/var/lib/libretto") == 0);
	CHECK(strcmp(cfg.run_dir, "/run/libretto") == 0);
	CHECK(strcmp(cfg.backend, "sim") == 0);
	CHECK(cfg.control_group[0] == '\0');
	CHECK(cfg.control_gid == (gid_t)-1);
	CHECK(cfg.client_buffer_max == 4u << 20);
	CHECK(cfg.destroy_on_shutdown == 0);
	CHECK(strcmp(cfg.libexec_dir, LIBRETTO_LIBEXECDIR) == 0);
	CHECK(strcmp(cfg.xenstored, "/usr/lib/xen-4.17/bin/xenstored") == 0);
	CHECK(cfg.clients_max == 4096 && cfg.clients_per_uid == 64 &&
	      cfg.client_idle_timeout == 60 && cfg.fd_reserve == 128);
	CHECK(cfg.boot_timeout == 0); /* the backend's */
}

static void test_full(void)
{
	struct daemon_config cfg;
	struct lt_load_error err;

	CHECK(load("# every key\n"
		   "socket: /tmp/l.sock\n"
		   "state_dir: /tmp/state\n"
		   "run_dir: /tmp/run\n"
		   "backend: xen\n"
		   "control_group: root\n"
		   "client_buffer_max: 512K\n"
		   "on_shutdown: destroy\n"
		   "libexec_dir: /opt/libretto/libexec\n"
		   "xenstored: /opt/xen/sbin/xenstored\n"
		   "clients_max: 100\n"
		   "clients_per_uid: 10\n"
		   "client_idle_timeout: 0\n"
		   "fd_reserve: 64\n"
		   "boot_timeout: 300\n",
		   &cfg, &err) == 0);
	CHECK(cfg.boot_timeout == 300);
	CHECK(cfg.clients_max == 100 && cfg.clients_per_uid == 10 &&
	      cfg.client_idle_timeout == 0 && cfg.fd_reserve == 64);
	CHECK(strcmp(cfg.socket_path, "/tmp/l.sock") == 0);
	CHECK(strcmp(cfg.state_dir, "/tmp/state") == 0);
	CHECK(strcmp(cfg.run_dir, "/tmp/run") == 0);
	CHECK(strcmp(cfg.backend, "xen") == 0);
	CHECK(strcmp(cfg.control_group, "root") == 0);
	CHECK(cfg.control_gid == 0);
	CHECK(cfg.client_buffer_max == 512u << 10);
	CHECK(cfg.destroy_on_shutdown == 1);
	CHECK(strcmp(cfg.libexec_dir, "/opt/libretto/libexec") == 0);
	CHECK(strcmp(cfg.xenstored, "/opt/xen/sbin/xenstored") == 0);

	/* comments only, and an explicit "keep": the defaults stay */
	CHECK(load("# nothing\n", &cfg, &err) == 0);
	CHECK(strcmp(cfg.backend, "sim") == 0);
	CHECK(load("on_shutdown: keep\ncontrol_group: \"\"\n", &cfg, &err) ==
	      0);
	CHECK(cfg.destroy_on_shutdown == 0 && cfg.control_gid == (gid_t)-1);
}

/* Loading text fails with the message want (after the file name). */
#define CHECK_ERROR(text, want) CHECK(strcmp(error_of(text), want) == 0)

static void test_errors(void)
{
	struct daemon_config cfg;
	struct lt_load_error err;
	char msg[1024];

	CHECK_ERROR("backend: sim\nsockets: /x\n",
		    ":2:1: unknown key \"sockets\" (expected socket, "
		    "state_dir, run_dir, backend, control_group, "
		    "client_buffer_max, on_shutdown, libexec_dir, "
		    "xenstored, xen_kernel, xen_ramdisk, xen_cmdline, "
		    "clients_max, clients_per_uid, client_idle_timeout, "
		    "fd_reserve, images_dir or boot_timeout)");
	CHECK_ERROR("boot_timeout: 0\n",
		    ":1:15: boot_timeout: \"0\" is not an integer from 1 to "
		    "3600");
	CHECK_ERROR("fd_reserve: 8\n",
		    ":1:13: fd_reserve: \"8\" is not an integer from 32 to "
		    "65536");
	CHECK_ERROR("clients_per_uid: 0\n",
		    ":1:18: clients_per_uid: \"0\" is not an integer from 1 "
		    "to 65536");
	CHECK_ERROR("backend: kvm\n",
		    ":1:10: backend: \"kvm\" is not valid (expected sim or "
		    "xen)");
	CHECK_ERROR("control_group: no-such-group-x\n",
		    ":1:16: control_group: \"no-such-group-x\" is not a group "
		    "on this host (expected a name from /etc/group)");
	CHECK_ERROR("client_buffer_max: 4X\n",
		    ":1:20: client_buffer_max: \"4X\" is not a size from 64K "
		    "to 1G: a number with an optional K, M or G suffix");
	CHECK_ERROR("client_buffer_max: 1K\n",
		    ":1:20: client_buffer_max: \"1K\" is not a size from 64K "
		    "to 1G: a number with an optional K, M or G suffix");
	CHECK_ERROR("on_shutdown: stop\n",
		    ":1:14: on_shutdown: \"stop\" is not valid (expected keep "
		    "or destroy)");
	CHECK_ERROR("state_dir: var/lib\n",
		    ":1:12: state_dir: \"var/lib\" is not an absolute path");
	CHECK_ERROR(
	    "socket: /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaa\n",
	    ":1:9: socket: \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."
	    "\" is longer than 107 characters");
	CHECK_ERROR("- backend\n",
		    ":1:1: expected a mapping, found a sequence");
	CHECK_ERROR("backend: sim\nbackend: xen\n",
		    ":2:1: key \"backend\" is given twice (first at line 1, "
		    "column 1)");
	CHECK_ERROR("backend: [sim\n",
		    ":2:1: YAML syntax error: did not find expected ',' or "
		    "']' (while parsing a flow sequence at line 1, column "
		    "10)");
	CHECK_ERROR("run_dir:\n",
		    ":1:9: run_dir: expected an absolute path, found "
		    "nothing");

	/* a failing file leaves the config as it was */
	daemon_config_defaults(&cfg);
	CHECK(daemon_config_load("/nonexistent/librettod.yaml", &cfg, &err) <
	      0);
	lt_load_error_format(&err, msg, sizeof(msg));
	CHECK(strcmp(msg, "/nonexistent/librettod.yaml: cannot read: No such "
			  "file or directory") == 0);
	CHECK(load("backend: xen\non_shutdown: never\n", &cfg, &err) < 0);
	CHECK(strcmp(cfg.backend, "sim") == 0);
}

int main(int argc, char **argv)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 2;
	}
	close(fd);
	test_defaults();
	test_full();
	test_errors();
	/* the shipped example, when given: all its keys are comments or
	 * defaults, so it must load */
	if (argc > 1) {
		struct daemon_config cfg;
		struct lt_load_error err;
		char msg[1024];
		daemon_config_defaults(&cfg);
		if (daemon_config_load(argv[1], &cfg, &err) < 0) {
			lt_load_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
			check_failures++;
		}
	}
	unlink(path);
	return check_summary("test_config");
}
