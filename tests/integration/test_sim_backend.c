/*
 * The sim backend as root, for real: xenstored (started, then adopted by a
 * second backend instance), the peer namespace and the PF veth pair, a
 * server and an app domain running in their namespaces, a domain that dies
 * (with a child that must die with it), a create that fails midway and
 * undoes itself, and destroy + teardown leaving nothing behind.
 *
 * usage: test_sim_backend LIBEXEC_DIR XENSTORED
 * Names are unique per run (deployment "t<pid>") and run_dir/state_dir are
 * temporary, so it never clashes with a running daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "loop_util.h"

static struct event_base *base;

struct done_result {
	int called;
	int err;
	char msg[1024];
};

static void on_done(void *arg, int err, const char *msg)
{
	struct done_result *r = arg;

	r->called++;
	r->err = err;
	snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
}

static struct {
	int count;
	struct be_domain *dom;
	int wstatus;
} exited;

static void on_domain_exited(void *arg, struct be_domain *dom, int wstatus)
{
	(void)arg;
	exited.count++;
	exited.dom = dom;
	exited.wstatus = wstatus;
}

static int backend_failed_count;
static char backend_failed_msg[1024];
static void on_backend_failed(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "backend_failed: %s\n", msg);
	snprintf(backend_failed_msg, sizeof(backend_failed_msg), "%s", msg);
	backend_failed_count++;
}

/* Starts an operation and runs the loop until it is done; returns err. */
#define RUN_OP(res, call)                                                      \
	do {                                                                   \
		char *err_ = NULL;                                             \
		memset(&(res), 0, sizeof(res));                                \
		if ((call) < 0) {                                              \
			(res).called = 1;                                      \
			(res).err = -1;                                        \
			snprintf((res).msg, sizeof((res).msg), "%s", err_);    \
			free(err_);                                            \
		} else {                                                       \
			loop_until(base, &(res).called, 1);                    \
		}                                                              \
		if ((res).err)                                                 \
			fprintf(stderr, "%s: %s\n", #call, (res).msg);         \
	} while (0)

/* Runs a shell command; returns its exit status (stdout to a buffer). */
static int sh(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t size, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = out ? fread(out, 1, size - 1, p) : 0;
	if (out)
		out[n] = '\0';
	else
		while (fgetc(p) != EOF)
			;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int netns_exists(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) == 0;
}

static int in_netns(pid_t pid, const char *name)
{
	char a[256], b[64];
	struct stat sa, sb;

	snprintf(a, sizeof(a), "/run/netns/%s", name);
	snprintf(b, sizeof(b), "/proc/%d/ns/net", (int)pid);
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static pid_t described_pid(struct backend *be, struct be_domain *dom)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *pid;
	pid_t result = 0;

	be->ops->domain_describe(be, dom, obj);
	if (json_object_object_get_ex(obj, "pid", &pid) && pid)
		result = json_object_get_int(pid);
	json_object_put(obj);
	return result;
}

static pid_t xenstored_pid(struct backend *be)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *pid;
	pid_t result = 0;

	be->ops->describe(be, obj);
	if (json_object_object_get_ex(obj, "xenstored_pid", &pid) && pid)
		result = json_object_get_int(pid);
	json_object_put(obj);
	return result;
}

static void init_backend(struct backend *be, const struct daemon_config *cfg)
{
	struct done_result r;

	memset(be, 0, sizeof(*be));
	be->ops = backend_find("sim");
	be->base = base;
	be->cfg = cfg;
	be->events.domain_exited = on_domain_exited;
	be->events.backend_failed = on_backend_failed;
	RUN_OP(r, be->ops->init(be, on_done, &r, &err_));
	CHECK(r.err == 0);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s LIBEXEC_DIR XENSTORED\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		printf("SKIP: the sim backend test needs root (network "
		       "namespaces, veth pairs)\n");
		return 77;
	}
	alarm(100); /* never hang a test run */
	log_init("test_sim_backend", 1, 1);
	base = event_base_new();

	char tmp[] = "/tmp/libretto-simtest.XXXXXX";
	if (!mkdtemp(tmp))
		return 1;
	struct daemon_config cfg = {0};
	snprintf(cfg.run_dir, sizeof(cfg.run_dir), "%s/run", tmp);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s/state", tmp);
	snprintf(cfg.libexec_dir, sizeof(cfg.libexec_dir), "%s", argv[1]);
	snprintf(cfg.xenstored, sizeof(cfg.xenstored), "%s", argv[2]);
	snprintf(cfg.backend, sizeof(cfg.backend), "sim");

	CHECK(backend_find("sim") == &sim_backend_ops);
	CHECK(backend_find("xen") == &xen_backend_ops);
	CHECK(backend_find("kvm") == NULL);

	/* xenstored: started, answering, then adopted by a second instance
	 * (a daemon restart) while it keeps running. */
	struct backend be;
	struct done_result r;
	init_backend(&be, &cfg);
	pid_t xsd = xenstored_pid(&be);
	CHECK(xsd > 0);
	const char *xs_path = be.ops->xenstore_path(&be);
	CHECK(xs_path && strstr(xs_path, "/run/xenstored/socket"));
	CHECK(sh(NULL, 0, "XENSTORED_PATH=%s xenstore-write /t ok", xs_path) ==
	      0);
	be.ops->shutdown(&be);
	CHECK(kill(xsd, 0) == 0);
	init_backend(&be, &cfg);
	CHECK(xenstored_pid(&be) == xsd);
	char out[4096];
	CHECK(sh(out, sizeof(out), "XENSTORED_PATH=%s xenstore-read /t",
		 be.ops->xenstore_path(&be)) == 0);
	CHECK(strcmp(out, "ok\n") == 0);

	/* The deployment: peer namespace, PF veth pair, gateway address. */
	struct lt_network net = {.prefix = 24, .vfs = 2};
	snprintf(net.nic, sizeof(net.nic), "pf0");
	inet_pton(AF_INET, "10.199.0.0", &net.subnet);
	inet_pton(AF_INET, "10.199.0.1", &net.gateway);
	struct be_deployment dep = {
	    .net = &net, .pf_mac = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}};
	snprintf(dep.name, sizeof(dep.name), "t%d", (int)getpid());
	char peer[64], server_ns[64], app_ns[64], extra_ns[64];
	snprintf(peer, sizeof(peer), "lt-%s-peer", dep.name);
	snprintf(server_ns, sizeof(server_ns), "lt-%s-server", dep.name);
	snprintf(app_ns, sizeof(app_ns), "lt-%s-web", dep.name);
	snprintf(extra_ns, sizeof(extra_ns), "lt-%s-extra", dep.name);

	RUN_OP(r, be.ops->deployment_setup(&be, &dep, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(sh(out, sizeof(out), "ip netns list") == 0 && strstr(out, peer));
	CHECK(sh(out, sizeof(out), "ip -n %s addr show dev wire0", peer) == 0);
	CHECK(strstr(out, "inet 10.199.0.1/24") && strstr(out, "UP"));
	CHECK(sh(out, sizeof(out), "ip -n %s link show pf0", peer) == 0);
	CHECK(strstr(out, "02:aa:bb:cc:dd:ee") && strstr(out, "mtu 9000"));
	CHECK(sh(NULL, 0, "ip link show pf0 2>/dev/null") != 0); /* host */
	/* A second setup must not take over a peer namespace that exists
	 * (another daemon's or deployment's): refused, and it is untouched. */
	RUN_OP(r, be.ops->deployment_setup(&be, &dep, on_done, &r, &err_));
	CHECK(r.err != 0 && strstr(r.msg, peer) && strstr(r.msg, "exists"));
	CHECK(sh(out, sizeof(out), "ip -n %s addr show dev wire0", peer) == 0);
	CHECK(strstr(out, "inet 10.199.0.1/24") != NULL);

	/* The server: its namespace, with the PF moved in and up. */
	char *server_argv[] = {
	    "sh", "-c", "trap '' TERM; sleep 1000 & exec sleep 1000", NULL};
	char *no_env[] = {NULL};
	struct be_domain server = {.deployment = &dep,
				   .is_server = 1,
				   .argv = server_argv,
				   .envp = no_env};
	snprintf(server.name, sizeof(server.name), "server");
	RUN_OP(r, be.ops->domain_create(&be, &server, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(server.domid == 1);
	CHECK(netns_exists(server_ns));
	CHECK(sh(out, sizeof(out), "ip -n %s link show pf0", server_ns) == 0);
	CHECK(strstr(out, "UP") != NULL);
	CHECK(sh(NULL, 0, "ip -n %s link show pf0 2>/dev/null", peer) != 0);

	/* An app, with its environment. */
	char *app_argv[] = {"sh", "-c",
			    "echo domid=$LIBRETTO_DOMID xs=$XENSTORED_PATH "
			    "extra=$EXTRA; sleep 1000 & exec sleep 1000",
			    NULL};
	char *app_env[] = {"EXTRA=yes", NULL};
	struct be_domain app = {
	    .deployment = &dep, .argv = app_argv, .envp = app_env, .vf = -1};
	snprintf(app.name, sizeof(app.name), "web");
	RUN_OP(r, be.ops->domain_create(&be, &app, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(app.domid == 2);
	CHECK(sh(out, sizeof(out), "ip netns list") == 0 &&
	      strstr(out, app_ns));

	/* A direct app: its VF, a macvlan on the PF with its MAC, is in its
	 * namespace as vf0, down; nothing of it is left on the PF's side. */
	struct be_domain kv = {.deployment = &dep,
			       .argv = app_argv,
			       .envp = app_env,
			       .vf = 2,
			       .mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
	snprintf(kv.name, sizeof(kv.name), "kv");
	RUN_OP(r, be.ops->domain_create(&be, &kv, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(sh(out, sizeof(out), "ip -n lt-%s-kv link show vf0", dep.name) ==
	      0);
	CHECK(strstr(out, "02:11:22:33:44:55") != NULL);
	CHECK(strstr(out, "mtu 9000") != NULL);
	CHECK(sh(NULL, 0, "ip -n %s link show vf2 2>/dev/null", server_ns) !=
	      0);
	RUN_OP(r, be.ops->domain_destroy(&be, &kv, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(sh(NULL, 0, "ip netns list | grep -q lt-%s-kv", dep.name) != 0);

	/* A create that fails midway (no PF left to move) undoes itself. */
	struct be_domain extra = {.deployment = &dep,
				  .vf = -1,
				  .is_server = 1,
				  .argv = server_argv,
				  .envp = no_env};
	snprintf(extra.name, sizeof(extra.name), "extra");
	RUN_OP(r, be.ops->domain_create(&be, &extra, on_done, &r, &err_));
	CHECK(r.err != 0);
	CHECK(strstr(r.msg, "link set pf0 netns") != NULL);
	CHECK(!netns_exists(extra_ns));
	CHECK(extra.priv == NULL);
	/* ... and destroying what is left of it is fine. */
	RUN_OP(r, be.ops->domain_destroy(&be, &extra, on_done, &r, &err_));
	CHECK(r.err == 0);

	RUN_OP(r, be.ops->domain_run(&be, &server, on_done, &r, &err_));
	CHECK(r.err == 0);
	RUN_OP(r, be.ops->domain_run(&be, &app, on_done, &r, &err_));
	CHECK(r.err == 0);
	pid_t server_pid = described_pid(&be, &server);
	pid_t app_pid = described_pid(&be, &app);
	CHECK(server_pid > 0 && app_pid > 0);
	usleep(200000); /* let sh fork its background sleep and exec */
	CHECK(in_netns(server_pid, server_ns));
	CHECK(in_netns(app_pid, app_ns));
	CHECK(sh(out, sizeof(out), "ip netns pids %s | wc -l", app_ns) == 0 &&
	      atoi(out) == 2);
	char log_path[600], expect[400];
	snprintf(log_path, sizeof(log_path), "%s/logs/%s-web.log",
		 cfg.state_dir, dep.name);
	snprintf(expect, sizeof(expect), "domid=2 xs=%s extra=yes",
		 be.ops->xenstore_path(&be));
	CHECK(sh(NULL, 0, "grep -q '%s' %s", expect, log_path) == 0);

	/* The app dies: domain_exited with the signal, and the rest of its
	 * tree is gone by then. */
	kill(app_pid, SIGKILL);
	loop_until(base, &exited.count, 1);
	CHECK(exited.dom == &app);
	CHECK(WIFSIGNALED(exited.wstatus) &&
	      WTERMSIG(exited.wstatus) == SIGKILL);
	CHECK(sh(out, sizeof(out), "ip netns pids %s | wc -l", app_ns) == 0 &&
	      atoi(out) == 0);
	CHECK(described_pid(&be, &app) == 0);

	RUN_OP(r, be.ops->domain_destroy(&be, &app, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(!netns_exists(app_ns));

	/* The server ignores SIGTERM: SIGKILL after the grace period. No
	 * domain_exited follows a destroy. The PF returns to the peer. */
	RUN_OP(r, be.ops->domain_destroy(&be, &server, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(!netns_exists(server_ns));
	CHECK(kill(server_pid, 0) < 0 && errno == ESRCH);
	CHECK(sh(NULL, 0, "ip -n %s link show pf0", peer) == 0);
	for (int i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(exited.count == 1);

	/* A fresh server gets a fresh domid, not a recycled one. */
	RUN_OP(r, be.ops->domain_create(&be, &server, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(server.domid == 5); /* 3 went to kv, 4 to extra */
	RUN_OP(r, be.ops->domain_destroy(&be, &server, on_done, &r, &err_));
	CHECK(r.err == 0);

	/* A domain that ends at once, with a status; and one whose command
	 * does not exist, refused by domain_run itself. */
	char *quick_argv[] = {"sh", "-c", "exit 3", NULL};
	struct be_domain quick = {
	    .vf = -1, .deployment = &dep, .argv = quick_argv, .envp = no_env};
	snprintf(quick.name, sizeof(quick.name), "quick");
	RUN_OP(r, be.ops->domain_create(&be, &quick, on_done, &r, &err_));
	CHECK(r.err == 0);
	RUN_OP(r, be.ops->domain_run(&be, &quick, on_done, &r, &err_));
	CHECK(r.err == 0);
	loop_until(base, &exited.count, 2);
	CHECK(exited.dom == &quick && WIFEXITED(exited.wstatus) &&
	      WEXITSTATUS(exited.wstatus) == 3);
	char *missing_argv[] = {"libretto-no-such-command", NULL};
	quick.argv = missing_argv;
	RUN_OP(r, be.ops->domain_run(&be, &quick, on_done, &r, &err_));
	CHECK(r.err != 0 && strstr(r.msg, "libretto-no-such-command"));
	RUN_OP(r, be.ops->domain_destroy(&be, &quick, on_done, &r, &err_));
	CHECK(r.err == 0);

	/* Teardown: the peer namespace, the veth pair, a client left in it. */
	CHECK(sh(NULL, 0,
		 "ip netns exec %s sleep 1000 >/dev/null 2>&1 & sleep 0.2",
		 peer) == 0);
	RUN_OP(r, be.ops->deployment_teardown(&be, &dep, on_done, &r, &err_));
	CHECK(r.err == 0);
	CHECK(sh(out, sizeof(out), "ip netns list") == 0);
	CHECK(strstr(out, dep.name) == NULL);

	/* xenstored dies: the backend says so. (Ours to reap: the first
	 * instance started it; the second only watches it.) */
	CHECK(backend_failed_count == 0);
	kill(xsd, SIGTERM);
	loop_until(base, &backend_failed_count, 1);
	CHECK(strstr(backend_failed_msg, "xenstored") != NULL);
	waitpid(xsd, NULL, 0);
	be.ops->shutdown(&be);

	/* A xenstored that cannot start fails init, saying why. */
	struct daemon_config bad = cfg;
	snprintf(bad.run_dir, sizeof(bad.run_dir), "%s/run-bad", tmp);
	snprintf(bad.xenstored, sizeof(bad.xenstored), "/bin/false");
	memset(&be, 0, sizeof(be));
	be.ops = &sim_backend_ops;
	be.base = base;
	be.cfg = &bad;
	RUN_OP(r, be.ops->init(&be, on_done, &r, &err_));
	CHECK(r.err != 0 && strstr(r.msg, "exited with status 1"));
	be.ops->shutdown(&be);
	snprintf(bad.libexec_dir, sizeof(bad.libexec_dir), "%s/none", tmp);
	RUN_OP(r, be.ops->init(&be, on_done, &r, &err_));
	CHECK(r.err != 0 && strstr(r.msg, "libretto-xsd-preload.so"));
	sh(NULL, 0, "rm -rf %s", tmp);
	event_base_free(base);
	return check_summary("test_sim_backend");
}
