/*
 * A sim domain: a network namespace lt-<dep>-<domain> and the process tree
 * that runs in it.  Like a Xen domain it dies whole: when its main process
 * ends, whatever else runs in the namespace is ended too before the engine
 * hears of it; destroying it ends everything in the namespace and removes
 * the namespace.  The server's namespace holds the PF while it exists.
 *
 * A name is not proof of ownership: anyone with the right can make a
 * namespace called lt-<dep>-<domain>.  So the namespace a domain owns is
 * the one its create made, recorded by identity (the nsfs device and
 * inode) in memory and in <state-dir>/netns/<name>, so that a restarted
 * daemon knows it too.  Destroy, the reapers and adoption act only on a
 * namespace whose identity is the recorded one; one that merely carries
 * the name, and the processes in it, are left alone.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"
#include "libretto/xs_paths.h"
#include "log.h"
#include "sim.h"
#include "spawn.h"

enum sim_domain_op { OP_NONE, OP_CREATE, OP_RUN, OP_DESTROY, OP_RECREATE };

struct sim_domain {
	LIST_ENTRY(sim_domain) entry;
	struct sim_backend *sim;
	struct be_domain *dom;
	struct sim_netns ns;
	/* The identity of the namespace its create made (ns_known), the
	 * only one destroy and the reapers act on. */
	int ns_known;
	dev_t ns_dev;
	ino_t ns_ino;
	unsigned domid; /* 0 until allocated */
	char log_path[PATH_MAX];

	struct spawn_child *main;
	pid_t main_pid;
	int main_wstatus;
	struct sim_reaper *exit_reaper; /* the rest, after main ended */
	/* Adopted from an earlier daemon: main is not our child; its end
	 * shows on its pidfd, its status is unknown. */
	int adopted_pidfd;
	struct event *adopted_ev;

	enum sim_domain_op op;
	lt_done_fn done;
	void *arg;
	struct sim_steps *steps;
	struct sim_reaper *reaper;
	struct event *defer;
	/* Why the operation failed, reported once the undo is over. */
	int failed;
	char *failure;
};

static struct sim_domain *sim_domain_new(struct sim_backend *sim,
					 struct be_domain *dom)
{
	struct sim_domain *sd = calloc(1, sizeof(*sd));

	if (!sd)
		return NULL;
	sd->sim = sim;
	sd->dom = dom;
	sim_netns_init(&sd->ns, dom->deployment->name, dom->name);
	snprintf(sd->log_path, sizeof(sd->log_path), "%s/logs/%s-%s.log",
		 sim->be->cfg->state_dir, dom->deployment->name, dom->name);
	LIST_INSERT_HEAD(&sim->domains, sd, entry);
	dom->priv = sd;
	return sd;
}

/* Handles only: the processes, if any, keep running. */
static void adopted_forget(struct sim_domain *sd)
{
	if (sd->adopted_ev) {
		event_free(sd->adopted_ev);
		sd->adopted_ev = NULL;
	}
	if (sd->adopted_pidfd > 0)
		close(sd->adopted_pidfd);
	sd->adopted_pidfd = 0;
}

/* --- the record of the namespace the domain owns ----------------------- */

#define NS_RECORD_CREATING "creating\n"

static void ns_record_path(const struct sim_domain *sd, char *buf, size_t n)
{
	snprintf(buf, n, "%s/netns/%s", sd->sim->be->cfg->state_dir,
		 sd->ns.name);
}

/* Written on the loop, small and unsynced: it must outlive a crash of
 * the daemon, not of the machine (which takes the namespaces too). */
static int ns_record_write(struct sim_domain *sd, const char *text)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/netns", sd->sim->be->cfg->state_dir);
	if ((mkdir(sd->sim->be->cfg->state_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(path, 0700) < 0 && errno != EEXIST))
		return -1;
	ns_record_path(sd, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void ns_record_remove(struct sim_domain *sd)
{
	char path[PATH_MAX];

	ns_record_path(sd, path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("domain %s: unlink %s: %s", sd->ns.name, path,
			 strerror(errno));
}

/* Reads the record into sd: 1 when it names an identity, 0 when there is
 * none, -1 when the create it describes never recorded one. */
static int ns_record_read(struct sim_domain *sd)
{
	char path[PATH_MAX], text[64];
	unsigned long long dev, ino;
	ssize_t n;
	int fd;

	ns_record_path(sd, path, sizeof(path));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (sscanf(text, "%llu %llu", &dev, &ino) != 2)
		return -1;
	sd->ns_known = 1;
	sd->ns_dev = (dev_t)dev;
	sd->ns_ino = (ino_t)ino;
	return 1;
}

/* Records the namespace now at sd->ns.path as the domain's own. */
static int ns_record_take(struct sim_domain *sd)
{
	struct stat st;
	char text[64];

	if (stat(sd->ns.path, &st) < 0)
		return -1;
	sd->ns_known = 1;
	sd->ns_dev = st.st_dev;
	sd->ns_ino = st.st_ino;
	snprintf(text, sizeof(text), "%llu %llu\n",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	return ns_record_write(sd, text);
}

/* The namespace at sd->ns.path is the one sd's create made. */
static int ns_is_ours(const struct sim_domain *sd)
{
	struct stat st;

	return sd->ns_known && stat(sd->ns.path, &st) == 0 &&
	       st.st_dev == sd->ns_dev && st.st_ino == sd->ns_ino;
}

/* Ends whatever runs in sd's own namespace; when the name is not (or no
 * longer) the recorded namespace's, there is nothing of sd's to end and
 * done reports that on the next tick. */
static struct sim_reaper *reap(struct sim_domain *sd, lt_done_fn done)
{
	struct sim_netns ns = sd->ns;

	if (!ns_is_ours(sd))
		ns.path[0] = '\0';
	return sim_reaper_start(sd->sim->be->base, &ns, SIM_GRACE_MS,
				SIM_GIVE_UP_MS, done, sd);
}

static void sim_domain_free(struct sim_domain *sd)
{
	adopted_forget(sd);
	spawn_child_forget(sd->main);
	sim_reaper_cancel(sd->exit_reaper);
	sim_reaper_cancel(sd->reaper);
	sim_steps_cancel(sd->steps);
	if (sd->defer)
		event_free(sd->defer);
	free(sd->failure);
	LIST_REMOVE(sd, entry);
	sd->dom->priv = NULL;
	free(sd);
}

static int busy(struct sim_domain *sd, char **err)
{
	static const char *const names[] = {"", "create", "run", "destroy",
					    "recreate"};

	if (sd->op == OP_NONE)
		return 0;
	*err = lt_strdupf("domain %s: a %s is still in flight", sd->ns.name,
			  names[sd->op]);
	return 1;
}

/* Ends the operation in flight and reports it (sd may be gone after). */
static void op_finish(struct sim_domain *sd, int err, const char *msg)
{
	lt_done_fn done = sd->done;
	void *arg = sd->arg;

	sd->op = OP_NONE;
	sd->done = NULL;
	done(arg, err, msg);
}

static void record_failure(struct sim_domain *sd, const char *msg)
{
	if (sd->failed) {
		/* The first cause is the one reported; this one is logged. */
		log_warn("%s", msg ? msg : "failed");
		return;
	}
	sd->failed = 1;
	sd->failure = strdup(msg ? msg : "failed");
}

/* Reports the recorded failure; the domain stays known so that a destroy
 * can try again. */
static void op_fail(struct sim_domain *sd)
{
	char *failure = sd->failure;

	sd->failure = NULL;
	sd->failed = 0;
	op_finish(sd, -1, failure ? failure : "failed");
	free(failure);
}

/* --- destroy (also the undo of a failed create) ------------------------ */

static void destroy_steps_done(void *arg, int err, const char *msg)
{
	struct sim_domain *sd = arg;
	char *delete_err = NULL;

	sd->steps = NULL;
	if (err) {
		record_failure(sd, msg);
		goto report;
	}
	if (ns_is_ours(sd) && sim_netns_delete(&sd->ns, &delete_err) < 0) {
		record_failure(sd, delete_err);
		free(delete_err);
		goto report;
	}
	if (!sd->ns_known && sim_netns_exists(&sd->ns))
		log_warn("domain %s: a namespace of that name exists, but this "
			 "daemon never recorded making it: left alone",
			 sd->ns.name);
	ns_record_remove(sd);
	/* Gone: only now may its domid be handed out again. */
	lt_done_fn done = sd->done;
	void *done_arg = sd->arg;
	int failed = sd->failed;
	char *failure = sd->failure;
	sd->failure = NULL;
	if (sd->domid)
		sim_domid_release(sd->sim, sd->domid);
	sd->dom->domid = 0;
	sim_domain_free(sd);
	done(done_arg, failed ? -1 : 0, failed ? failure : NULL);
	free(failure);
	return;
report:
	op_fail(sd);
}

static void destroy_continue(struct sim_domain *sd)
{
	char *err = NULL;
	char what[128];

	/* Every process must be gone first, the main one reaped. */
	if (sd->reaper || sd->exit_reaper || sd->main || sd->steps)
		return;
	snprintf(what, sizeof(what), "domain %s", sd->ns.name);
	sd->steps = sim_steps_new(sd->sim->be->base, what);
	if (!sd->steps) {
		record_failure(sd, "out of memory");
		destroy_steps_done(sd, -1, "out of memory");
		return;
	}
	/* The PF returns to the peer namespace, as a passed-through device
	 * returns to dom0; it would die with the namespace otherwise. */
	if (sd->dom->is_server && ns_is_ours(sd)) {
		struct sim_netns peer;
		sim_deployment_peer(sd->dom->deployment, &peer);
		sim_steps_add(sd->steps, SIM_STEP_MAY_FAIL, "ip", "-n",
			      sd->ns.name, "link", "set",
			      sd->dom->deployment->net->nic, "netns", peer.name,
			      NULL);
	}
	if (sim_steps_run(sd->steps, destroy_steps_done, sd, &err) < 0) {
		sd->steps = NULL;
		destroy_steps_done(sd, -1, err);
		free(err);
	}
}

static void destroy_reaped(void *arg, int err, const char *msg)
{
	struct sim_domain *sd = arg;

	sd->reaper = NULL;
	if (err) {
		record_failure(sd, msg);
		op_fail(sd);
		return;
	}
	/* Not in the namespace (its setns failed?) yet still alive. */
	if (sd->main)
		spawn_child_kill(sd->main, SIGKILL);
	destroy_continue(sd);
}

int sim_domain_destroy(struct backend *be, struct be_domain *dom,
		       lt_done_fn done, void *arg, char **err)
{
	struct sim_domain *sd = dom->priv;

	/* Not known in memory (a deploy a crash interrupted): what the
	 * record says its create made goes, and nothing else. */
	if (!sd) {
		if (!(sd = sim_domain_new(be->priv, dom))) {
			*err = lt_strdupf("out of memory");
			return -1;
		}
		if (ns_record_read(sd) < 0)
			log_warn("domain %s: its create was cut short before "
				 "its namespace was recorded; a namespace of "
				 "that name is left alone",
				 sd->ns.name);
	}
	if (busy(sd, err))
		return -1;
	sim_vf_forget(be->priv, dom->deployment->name, dom->name);
	sd->op = OP_DESTROY;
	sd->done = done;
	sd->arg = arg;
	if (sd->exit_reaper)
		return 0; /* destroy_continue runs when it is over */
	sd->reaper = reap(sd, destroy_reaped);
	if (!sd->reaper) {
		sd->op = OP_NONE;
		*err = lt_strdupf("domain %s: out of memory", sd->ns.name);
		return -1;
	}
	return 0;
}

/* --- recreate ----------------------------------------------------------- */

/*
 * The old domain's processes are all gone: the new domain takes its
 * namespace -- and so the PF, for the server, as Xen re-assigns a
 * passed-through device -- under a new domid.
 */
static void recreate_reaped(void *arg, int err, const char *msg)
{
	struct sim_domain *sd = arg;
	unsigned domid;

	sd->reaper = NULL;
	if (err) {
		record_failure(sd, msg);
		op_fail(sd);
		return;
	}
	domid = sim_domid_alloc(sd->sim);
	if (!domid) {
		record_failure(sd, "no free domid");
		op_fail(sd);
		return;
	}
	if (sd->domid)
		sim_domid_release(sd->sim, sd->domid);
	log_info("domain %s: domid %u replaces %u", sd->ns.name, domid,
		 sd->domid);
	sd->domid = domid;
	sd->dom->domid = domid;
	sd->main_wstatus = 0;
	op_finish(sd, 0, NULL);
}

int sim_domain_recreate(struct backend *be, struct be_domain *dom,
			lt_done_fn done, void *arg, char **err)
{
	struct sim_domain *sd = dom->priv;

	(void)be;
	if (!sd) {
		*err = lt_strdupf("domain %s: not created", dom->name);
		return -1;
	}
	if (busy(sd, err))
		return -1;
	if (sd->main || sd->exit_reaper) {
		*err = lt_strdupf("domain %s: still running", sd->ns.name);
		return -1;
	}
	if (!ns_is_ours(sd)) {
		*err = lt_strdupf("domain %s: its namespace is gone or not the "
				  "one its create made",
				  sd->ns.name);
		return -1;
	}
	sd->op = OP_RECREATE;
	sd->done = done;
	sd->arg = arg;
	/* Nothing may be left of the old domain; quick when nothing is. */
	sd->reaper = reap(sd, recreate_reaped);
	if (!sd->reaper) {
		sd->op = OP_NONE;
		*err = lt_strdupf("domain %s: out of memory", sd->ns.name);
		return -1;
	}
	return 0;
}

/* --- create ------------------------------------------------------------ */

static void create_done(void *arg, int err, const char *msg)
{
	struct sim_domain *sd = arg;

	sd->steps = NULL;
	if (!err) {
		sd->dom->domid = sd->domid;
		log_info("domain %s created (domid %u)", sd->ns.name,
			 sd->domid);
		op_finish(sd, 0, NULL);
		return;
	}
	/* Undo what was made, then report the first failure. */
	record_failure(sd, msg);
	sd->op = OP_DESTROY;
	destroy_continue(sd);
}

/* `ip netns add` is over: when it made the namespace, that namespace is
 * recorded as the domain's before anything else is done in it; when it
 * failed (one of that name appeared meanwhile), nothing is the domain's
 * and the undo touches nothing. */
static void create_netns_added(void *arg, int err, const char *msg)
{
	struct sim_domain *sd = arg;
	const struct be_domain *dom = sd->dom;
	struct sim_netns peer;
	char what[128], *why = NULL;

	sd->steps = NULL;
	if (err || ns_record_take(sd) < 0) {
		if (!err)
			why = lt_strdupf("domain %s: cannot record its "
					 "namespace: %s",
					 sd->ns.name, strerror(errno));
		create_done(sd, -1, err ? msg : why);
		free(why);
		return;
	}
	snprintf(what, sizeof(what), "domain %s", sd->ns.name);
	if (!(sd->steps = sim_steps_new(sd->sim->be->base, what))) {
		create_done(sd, -1, "out of memory");
		return;
	}
	sim_steps_add(sd->steps, 0, "ip", "-n", sd->ns.name, "link", "set",
		      "lo", "up", NULL);
	if (dom->is_server) {
		const char *nic = dom->deployment->net->nic;
		sim_deployment_peer(dom->deployment, &peer);
		sim_steps_add(sd->steps, 0, "ip", "-n", peer.name, "link",
			      "set", nic, "netns", sd->ns.name, NULL);
		/* Up and unaddressed: the network server owns it raw. */
		sim_steps_add(sd->steps, 0, "ip", "-n", sd->ns.name, "link",
			      "set", nic, "up", NULL);
	} else if (dom->vf >= 0) {
		/* A direct app's VF, down and unaddressed: the agent
		 * configures it, as a guest's driver would after a PCI
		 * hot-plug. */
		sim_vf_add_prepare_steps(sd->steps, dom, dom->vf, &sd->ns);
		sim_vf_add_attach_steps(sd->steps, dom->vf, &sd->ns);
	}
	if (sim_steps_run(sd->steps, create_done, sd, &why) < 0) {
		sd->steps = NULL;
		create_done(sd, -1, why);
		free(why);
	}
}

int sim_domain_create(struct backend *be, struct be_domain *dom,
		      lt_done_fn done, void *arg, char **err)
{
	struct sim_backend *sim = be->priv;
	struct sim_domain *sd = NULL;
	struct sim_netns ns, peer;
	char what[128];

	sim_netns_init(&ns, dom->deployment->name, dom->name);
	sim_deployment_peer(dom->deployment, &peer);
	if (dom->priv) {
		*err = lt_strdupf("domain %s: already created", ns.name);
		return -1;
	}
	if (!dom->is_server && !strcmp(ns.name, peer.name)) {
		*err = lt_strdupf("domain %s: the name 'peer' is taken by the "
				  "sim's peer namespace; rename the app",
				  dom->name);
		return -1;
	}
	if (sim_netns_exists(&ns)) {
		*err = lt_strdupf(
		    "namespace %s already exists and is not this domain's "
		    "(left from an earlier run, or someone else's); the daemon "
		    "never removes a namespace it did not make: remove it by "
		    "hand if it is stale",
		    ns.name);
		return -1;
	}
	if (!(sd = sim_domain_new(sim, dom)))
		goto nomem;
	sd->domid = sim_domid_alloc(sim);
	if (!sd->domid) {
		*err = lt_strdupf("domain %s: no free domid", ns.name);
		goto fail;
	}
	/* A create a crash cuts short leaves this behind: its namespace,
	 * if any, is then not known to be the domain's. */
	if (ns_record_write(sd, NS_RECORD_CREATING) < 0) {
		*err = lt_strdupf("domain %s: cannot record its namespace: %s",
				  ns.name, strerror(errno));
		goto fail;
	}
	snprintf(what, sizeof(what), "domain %s", ns.name);
	if (!(sd->steps = sim_steps_new(be->base, what)))
		goto nomem;
	sim_steps_add(sd->steps, 0, "ip", "netns", "add", ns.name, NULL);
	sd->op = OP_CREATE;
	sd->done = done;
	sd->arg = arg;
	if (sim_steps_run(sd->steps, create_netns_added, sd, err) < 0) {
		sd->steps = NULL;
		sd->op = OP_NONE;
		goto fail;
	}
	return 0;
nomem:
	*err = lt_strdupf("domain %s: out of memory", ns.name);
fail:
	if (sd) {
		ns_record_remove(sd);
		if (sd->domid)
			sim_domid_release(sim, sd->domid);
		sim_domain_free(sd);
	}
	return -1;
}

/* --- run --------------------------------------------------------------- */

static void exit_reaped(void *arg, int err, const char *msg)
{
	struct sim_domain *sd = arg;
	struct backend *be = sd->sim->be;

	sd->exit_reaper = NULL;
	if (err)
		log_warn("%s", msg);
	if (sd->op == OP_DESTROY) {
		destroy_continue(sd); /* destroyed meanwhile: no exit event */
		return;
	}
	if (sd->op == OP_RUN) {
		/* Died at once: the run is reported before its end. */
		evtimer_del(sd->defer);
		op_finish(sd, 0, NULL);
		if (sd->op == OP_DESTROY)
			return; /* its done destroyed it: no exit event */
	}
	if (be->events.domain_exited)
		be->events.domain_exited(be->events.arg, sd->dom,
					 sd->main_wstatus);
}

static void main_exited(void *arg, pid_t pid, int wstatus)
{
	struct sim_domain *sd = arg;
	char how[96];

	sd->main = NULL;
	sd->main_wstatus = wstatus;
	spawn_describe_status(wstatus, how, sizeof(how));
	log_info("domain %s: main process %d %s", sd->ns.name, (int)pid, how);
	if (sd->op == OP_DESTROY) {
		destroy_continue(sd);
		return;
	}
	/* The rest of the tree goes too before the engine hears of it. */
	sd->exit_reaper = reap(sd, exit_reaped);
	if (!sd->exit_reaper)
		exit_reaped(sd, -1, "cannot end the rest of the domain");
}

static void run_reported(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	op_finish(arg, 0, NULL);
}

static int mkdir_logs(const char *state_dir, char **err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/logs", state_dir);
	if ((mkdir(state_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(path, 0750) < 0 && errno != EEXIST)) {
		*err = lt_strdupf("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A line in the domain's log that tells one run from the next. */
static void log_banner(struct sim_domain *sd)
{
	char *cmd = spawn_format_argv(sd->dom->argv);
	int fd =
	    open(sd->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd >= 0 && cmd)
		dprintf(fd, "--- librettod: domain %s (domid %u) runs: %s\n",
			sd->ns.name, sd->domid, cmd);
	if (fd >= 0)
		close(fd);
	free(cmd);
}

static char **domain_env(struct sim_domain *sd)
{
	size_t n = 0;

	while (sd->dom->envp && sd->dom->envp[n])
		n++;
	char **env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	env[0] = lt_strdupf("%s=%u", LT_ENV_DOMID, sd->domid);
	env[1] = lt_strdupf("%s=%s", LT_ENV_XS_PATH,
			    sim_xenstored_socket(sd->sim->xsd));
	/* The engine's entries come last, so they win over ours. */
	for (size_t i = 0; i < n; i++)
		env[2 + i] = sd->dom->envp[i];
	if (!env[0] || !env[1]) {
		free(env[0]);
		free(env[1]);
		free(env);
		return NULL;
	}
	return env;
}

int sim_domain_run(struct backend *be, struct be_domain *dom, lt_done_fn done,
		   void *arg, char **err)
{
	static const struct timeval now = {0, 0};
	struct sim_domain *sd = dom->priv;
	char **env = NULL;
	int rc = -1;

	if (!sd) {
		*err = lt_strdupf("domain %s: run before create", dom->name);
		return -1;
	}
	if (busy(sd, err))
		return -1;
	if (sd->main || sd->exit_reaper) {
		*err = lt_strdupf("domain %s: already running", sd->ns.name);
		return -1;
	}
	if (!dom->argv || !dom->argv[0]) {
		*err = lt_strdupf("domain %s: no command", sd->ns.name);
		return -1;
	}
	if (mkdir_logs(be->cfg->state_dir, err) < 0)
		return -1;
	if (!(env = domain_env(sd)) ||
	    (!sd->defer &&
	     !(sd->defer = evtimer_new(be->base, run_reported, sd)))) {
		*err = lt_strdupf("domain %s: out of memory", sd->ns.name);
		goto out;
	}
	log_banner(sd);
	struct spawn_opts opts = {.argv = dom->argv,
				  .extra_env = env,
				  .netns_path = sd->ns.path,
				  .new_session = 1,
				  .log_path = sd->log_path};
	char *why = NULL;
	sd->main = spawn_start(be->base, &opts, main_exited, sd, &why);
	if (!sd->main) {
		*err = lt_strdupf("domain %s: %s", sd->ns.name, why);
		free(why);
		goto out;
	}
	sd->main_pid = spawn_child_pid(sd->main);
	log_info("domain %s: running %s as pid %d, log %s", sd->ns.name,
		 dom->argv[0], (int)sd->main_pid, sd->log_path);
	/* done from the loop, as every operation's. */
	sd->op = OP_RUN;
	sd->done = done;
	sd->arg = arg;
	evtimer_add(sd->defer, &now);
	rc = 0;
out:
	if (env) {
		free(env[0]);
		free(env[1]);
		free(env);
	}
	return rc;
}

/* --- describe, shutdown ------------------------------------------------ */

void sim_domain_describe(struct backend *be, struct be_domain *dom,
			 struct json_object *obj)
{
	struct sim_domain *sd = dom->priv;
	struct sim_netns ns;

	(void)be;
	sim_netns_init(&ns, dom->deployment->name, dom->name);
	json_object_object_add(obj, "namespace",
			       json_object_new_string(ns.name));
	json_object_object_add(obj, "pid",
			       sd && (sd->main || sd->adopted_ev)
				   ? json_object_new_int(sd->main_pid)
				   : NULL);
	if (sd)
		json_object_object_add(obj, "log",
				       json_object_new_string(sd->log_path));
}

void sim_domain_release_all(struct sim_backend *sim)
{
	while (!LIST_EMPTY(&sim->domains))
		sim_domain_free(LIST_FIRST(&sim->domains));
}

/* --- adoption (docs/recovery.md) ------------------------------------------ */

static void main_exited(void *arg, pid_t pid, int wstatus);

static void adopted_exited(evutil_socket_t fd, short what, void *arg)
{
	struct sim_domain *sd = arg;

	(void)fd;
	(void)what;
	adopted_forget(sd);
	/* Not our child: no status. 255 says "ended, how unknown". */
	main_exited(sd, sd->main_pid, 255 << 8);
}

/* pid is alive and runs in ns. */
static int pid_in_ns(pid_t pid, const struct sim_netns *ns)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &a) == 0 && stat(ns->path, &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int sim_domain_adopt(struct backend *be, struct be_domain *dom,
		     struct json_object *described, int *running, char **err)
{
	struct sim_backend *sim = be->priv;
	struct sim_domain *sd;
	struct json_object *v;
	pid_t pid = 0;

	*running = 0;
	sd = dom->priv ? dom->priv : sim_domain_new(sim, dom);
	if (!sd) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	if (!sim_netns_exists(&sd->ns)) {
		sim_domain_free(sd);
		return 0; /* gone with its namespace: nothing to adopt */
	}
	switch (ns_record_read(sd)) {
	case 0: /* an older daemon's domain: the record starts now */
		if (ns_record_take(sd) < 0)
			log_warn("domain %s: cannot record its namespace: %s",
				 sd->ns.name, strerror(errno));
		break;
	case 1:
		if (ns_is_ours(sd))
			break;
		/* FALLTHROUGH */
	default:
		log_warn("domain %s: the namespace of that name is not the one "
			 "this daemon made: left alone, the domain is gone",
			 sd->ns.name);
		sim_domain_free(sd);
		return 0;
	}
	if (dom->domid && !sim_domid_claim(sim, dom->domid)) {
		*err = lt_strdupf("domain %s: domid %u is taken", sd->ns.name,
				  dom->domid);
		return -1;
	}
	sd->domid = dom->domid;
	if (described && json_object_object_get_ex(described, "pid", &v) &&
	    json_object_is_type(v, json_type_int))
		pid = (pid_t)json_object_get_int(v);
	if (pid > 0 && pid_in_ns(pid, &sd->ns)) {
		int fd = (int)syscall(SYS_pidfd_open, pid, 0);

		/* Checked again through the pidfd: the pid may have been
		 * reused between the two looks. */
		if (fd >= 0 && pid_in_ns(pid, &sd->ns)) {
			sd->adopted_pidfd = fd;
			sd->main_pid = pid;
			sd->adopted_ev = event_new(be->base, fd, EV_READ,
						   adopted_exited, sd);
			if (sd->adopted_ev &&
			    event_add(sd->adopted_ev, NULL) == 0) {
				*running = 1;
				log_info(
				    "domain %s: adopted (domid %u, pid %d)",
				    sd->ns.name, sd->domid, (int)pid);
				return 1;
			}
			adopted_forget(sd);
		} else if (fd >= 0) {
			close(fd);
		}
	}
	log_info("domain %s: adopted, not running (domid %u)", sd->ns.name,
		 sd->domid);
	return 1;
}
