/*
 * librettod: the dom0 daemon. One libevent loop drives the control socket,
 * the backend and xenstore; see docs/librettod.md.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "commands.h"
#include "config.h"
#include "control.h"
#include "engine.h"
#include "log.h"
#include "sd_notify.h"
#include "state.h"
#include "util.h"
#include <libretto/protocol.h>
#include <libretto/version.h>

struct daemon {
	struct daemon_config cfg;
	struct event_base *base;
	struct backend backend;
	struct engine *engine;
	struct control *control;
	struct event *sigterm, *sigint;
	int stopping;
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: librettod [-fv] [-c FILE] [-s SOCKET] [--backend sim|xen]\n"
	    "                 [--state-dir DIR] [--run-dir DIR] "
	    "[--libexec-dir DIR]\n"
	    "\n"
	    "The libretto dom0 daemon: deploys the network server and the\n"
	    "application domains of deployment files, and answers "
	    "librettoctl.\n"
	    "\n"
	    "  -f, --foreground     stay in the foreground and log to stderr\n"
	    "                       (default: detach and log to syslog;\n"
	    "                       under systemd, Type=notify, no detach)\n"
	    "  -v, --verbose        log debug messages too\n"
	    "  -c, --config FILE    daemon config (YAML; see "
	    "docs/librettod-config.md)\n"
	    "  -s, --socket PATH    control socket (default %s)\n"
	    "      --backend NAME   sim (default: domains are processes in\n"
	    "                       network namespaces) or xen (libxl)\n"
	    "      --state-dir DIR  state and domain logs (default "
	    "/var/lib/libretto)\n"
	    "      --run-dir DIR    runtime files, sim xenstored (default "
	    "/run/libretto)\n"
	    "      --libexec-dir DIR  where libretto-netserver, "
	    "libretto-agent and\n"
	    "                       the xenstored preload library are\n"
	    "      --test-faults    let switch requests inject a failing or "
	    "stalling\n"
	    "                       step (for the tests of every rollback; "
	    "never in\n"
	    "                       production)\n"
	    "  -h, --help           this help\n"
	    "  -V, --version        print the version\n"
	    "\n"
	    "Command-line options override the config file. SIGTERM stops "
	    "the daemon;\n"
	    "domains keep running unless the config says on_shutdown: "
	    "destroy.\n",
	    LT_DEFAULT_SOCKET);
}

/* Where the helper binaries are when running from the build tree:
 * <dir of librettod>/../libexec/libretto. */
static void default_libexec(struct daemon_config *cfg)
{
	char exe[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	snprintf(probe, sizeof(probe), "%s/../libexec/libretto/libretto-agent",
		 exe);
	/* A path too long for the config keeps the compiled-in default. */
	if (access(probe, X_OK) == 0 &&
	    strlen(probe) < sizeof(cfg->libexec_dir)) {
		*strrchr(probe, '/') = '\0';
		memcpy(cfg->libexec_dir, probe, strlen(probe) + 1);
	}
}

static int copy_opt(char *dst, size_t size, const char *src, const char *name)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "librettod: %s: too long (at most %zu)\n", name,
			size - 1);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int parse_args(int argc, char **argv, struct daemon_config *cfg,
		      int *foreground, int *verbose)
{
	enum { OPT_BACKEND = 256, OPT_STATE, OPT_RUN, OPT_LIBEXEC, OPT_FAULTS };
	static const struct option longopts[] = {
	    {"foreground", no_argument, NULL, 'f'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"backend", required_argument, NULL, OPT_BACKEND},
	    {"state-dir", required_argument, NULL, OPT_STATE},
	    {"run-dir", required_argument, NULL, OPT_RUN},
	    {"libexec-dir", required_argument, NULL, OPT_LIBEXEC},
	    {"test-faults", no_argument, NULL, OPT_FAULTS},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = NULL, *socket = NULL, *backend = NULL;
	const char *state = NULL, *run = NULL, *libexec = NULL;
	int test_faults = 0;
	struct lt_load_error err = {0};
	char msg[1024];
	int c;

	while ((c = getopt_long(argc, argv, "fvc:s:hV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			*foreground = 1;
			break;
		case 'v':
			*verbose = 1;
			break;
		case 'c':
			config = optarg;
			break;
		case 's':
			socket = optarg;
			break;
		case OPT_BACKEND:
			backend = optarg;
			break;
		case OPT_STATE:
			state = optarg;
			break;
		case OPT_RUN:
			run = optarg;
			break;
		case OPT_LIBEXEC:
			libexec = optarg;
			break;
		case OPT_FAULTS:
			test_faults = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("librettod %s\n", LIBRETTO_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "librettod: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -1;
	}
	daemon_config_defaults(cfg);
	default_libexec(cfg);
	if (config != NULL && daemon_config_load(config, cfg, &err) < 0) {
		lt_load_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "librettod: %s\n", msg);
		return -1;
	}
	cfg->test_faults = test_faults;
	if ((socket && copy_opt(cfg->socket_path, sizeof(cfg->socket_path),
				socket, "--socket") < 0) ||
	    (backend && copy_opt(cfg->backend, sizeof(cfg->backend), backend,
				 "--backend") < 0) ||
	    (state && copy_opt(cfg->state_dir, sizeof(cfg->state_dir), state,
			       "--state-dir") < 0) ||
	    (run && copy_opt(cfg->run_dir, sizeof(cfg->run_dir), run,
			     "--run-dir") < 0) ||
	    (libexec && copy_opt(cfg->libexec_dir, sizeof(cfg->libexec_dir),
				 libexec, "--libexec-dir") < 0))
		return -1;
	if (backend_find(cfg->backend) == NULL) {
		fprintf(stderr,
			"librettod: unknown backend '%s' (sim or xen)\n",
			cfg->backend);
		return -1;
	}
	return 0;
}

static void daemon_stopped(void *arg)
{
	struct daemon *d = arg;

	/* What runs on is written down for the next daemon to adopt. */
	if (d->engine != NULL)
		state_flush(d->engine);
	event_base_loopexit(d->base, NULL);
}

static void daemon_stop(struct daemon *d, int exit_code)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	d->exit_code = exit_code;
	sd_notify_send("STOPPING=1");
	if (d->engine == NULL) {
		daemon_stopped(d);
		return;
	}
	log_info("stopping%s", d->cfg.destroy_on_shutdown
				   ? ": destroying every deployment"
				   : "; domains keep running");
	engine_shutdown(d->engine, d->cfg.destroy_on_shutdown, daemon_stopped,
			d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("received %s", strsignal((int)sig));
	daemon_stop(arg, 0);
}

static void backend_ready(void *arg, int err, const char *msg)
{
	struct daemon *d = arg;
	const struct control_limits limits = {
	    .buffer_max = d->cfg.client_buffer_max,
	    .clients_max = d->cfg.clients_max,
	    .clients_per_uid = d->cfg.clients_per_uid,
	    .fd_reserve = d->cfg.fd_reserve,
	    .idle_timeout_ms = d->cfg.client_idle_timeout * 1000u,
	};
	char *why = NULL;

	if (err != 0) {
		log_err("backend %s: %s", d->cfg.backend, msg ? msg : "failed");
		daemon_stop(d, 1);
		return;
	}
	if (engine_attach_xenstore(d->engine, &why) < 0) {
		log_err("%s", why ? why : "xenstore: failed");
		free(why);
		daemon_stop(d, 1);
		return;
	}
	d->control = control_open(d->base, d->cfg.socket_path,
				  d->cfg.control_gid, &limits, d->cfg.backend,
				  daemon_commands, d->engine, &why);
	if (d->control == NULL) {
		log_err("control socket: %s", why ? why : "failed");
		free(why);
		daemon_stop(d, 1);
		return;
	}
	engine_set_control(d->engine, d->control);
	log_info("ready: backend %s, control socket %s", d->cfg.backend,
		 d->cfg.socket_path);
	sd_notify_send("READY=1\nSTATUS=ready");
}

/*
 * The event loop. Without a cached clock: libevent otherwise times a new
 * timeout from the time it read when the current callback began, and a
 * callback that took long (libxl waits inside some calls, docs/xen.md "On
 * the loop") would arm every timeout it adds short by that much. A 2 s
 * PCI unplug made the next step's 2 s netlink guard fire at once.
 */
static struct event_base *loop_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NO_CACHE_TIME);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * The soft descriptor limit up to the hard one, as most daemons do: the
 * soft default (1024) is there for select(2), which libevent does not use
 * here, and every client, domain and namespace costs a descriptor.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the descriptor limit to %llu: %s",
			 (unsigned long long)rl.rlim_max, strerror(errno));
}

int main(int argc, char **argv)
{
	struct daemon d = {0};
	int foreground = 0, verbose = 0;
	char *why = NULL;

	if (parse_args(argc, argv, &d.cfg, &foreground, &verbose) < 0)
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "librettod: must run as root (it manages "
				"namespaces, links and domains)\n");
		return 1;
	}
	if (lt_mkdir_p(d.cfg.state_dir, 0700) < 0 ||
	    lt_mkdir_p(d.cfg.run_dir, 0755) < 0) {
		fprintf(stderr, "librettod: cannot create %s or %s: %s\n",
			d.cfg.state_dir, d.cfg.run_dir, strerror(errno));
		return 1;
	}
	/* Under systemd (Type=notify) the service manager is the parent:
	 * do not detach, but still log to syslog unless -f. */
	if (!foreground && getenv("NOTIFY_SOCKET") == NULL &&
	    daemon(0, 0) < 0) {
		perror("librettod: daemon");
		return 1;
	}
	log_init("librettod", foreground, verbose);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	d.base = loop_new();
	if (d.base == NULL) {
		log_err("cannot create the event loop");
		return 1;
	}
	d.backend.ops = backend_find(d.cfg.backend);
	d.backend.base = d.base;
	d.backend.cfg = &d.cfg;
	d.engine = engine_new(d.base, &d.backend, &d.cfg);
	d.sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	if (d.engine == NULL || d.sigterm == NULL || d.sigint == NULL ||
	    evsignal_add(d.sigterm, NULL) < 0 ||
	    evsignal_add(d.sigint, NULL) < 0) {
		log_err("out of memory at start");
		return 1;
	}
	log_info("librettod %s starting, backend %s", LIBRETTO_VERSION,
		 d.cfg.backend);
	if (d.backend.ops->init(&d.backend, backend_ready, &d, &why) < 0) {
		log_err("backend %s: %s", d.cfg.backend,
			why ? why : "cannot start");
		free(why);
		d.exit_code = 1;
	} else {
		event_base_dispatch(d.base);
	}

	if (d.control != NULL)
		control_close(d.control);
	/* The backend's handles point into the engine's deployments and
	 * domains: release them while those still exist. */
	if (d.backend.ops->shutdown != NULL)
		d.backend.ops->shutdown(&d.backend);
	engine_free(d.engine);
	event_free(d.sigterm);
	event_free(d.sigint);
	event_base_free(d.base);
	log_info("stopped");
	return d.exit_code;
}
