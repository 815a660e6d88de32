/*
 * The sim's xenstored: Debian's C xenstored on a private Unix socket under
 * <run_dir>/xenstored, with the project's preload library standing in for
 * the hypervisor interfaces it opens at start.  It runs in its own session
 * and outlives the daemon, so that running domains keep their store; a
 * restarted daemon adopts the one that answers on the socket.
 *
 * Readiness is a real round trip (XS_DIRECTORY "/"), polled on a timer:
 * xenstored listens before it initialises dom0, so a mere connect() could
 * succeed on one that is about to fail.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "config.h"
#include "log.h"
#include "sim.h"
#include "spawn.h"
#include "util.h"

#define XSD_POLL_MS	10
#define XSD_READY_MS	5000
#define XSD_PRELOAD_LIB "libretto-xsd-preload.so"

struct sim_xenstored {
	struct sim_backend *sim;
	char dir[PATH_MAX];
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char log_path[PATH_MAX];
	pid_t pid;
	int adopted;
	struct spawn_child *child; /* when started by us */
	int pidfd;		   /* when adopted: watched, not reaped */
	struct event *pidfd_ev;
	struct event *poll;
	int probe_fd;
	unsigned waited_ms;
	int ready;
	int gave_up;
	lt_done_fn done;
	void *done_arg;
};

static int socket_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One step of the readiness probe: connect and ask, or read the answer.
 * Returns 1 once xenstored answered. */
static int probe_step(struct sim_xenstored *xsd)
{
	struct {
		struct xsd_sockmsg hdr;
		char body[2];
	} req = {{.type = XS_DIRECTORY, .len = 2}, "/"};
	struct xsd_sockmsg reply;

	if (xsd->probe_fd < 0) {
		xsd->probe_fd = socket_connect(xsd->socket_path);
		if (xsd->probe_fd < 0)
			return 0;
		if (write(xsd->probe_fd, &req, sizeof(req)) != sizeof(req))
			goto retry;
		return 0;
	}
	ssize_t n = recv(xsd->probe_fd, &reply, sizeof(reply), MSG_PEEK);
	if (n == (ssize_t)sizeof(reply))
		return 1;
	if ((n < 0 && (errno == EAGAIN || errno == EINTR)) || n > 0)
		return 0; /* not yet, or not all of the header yet */
retry:
	close(xsd->probe_fd);
	xsd->probe_fd = -1;
	return 0;
}

/* The last line xenstored wrote, to say why it failed. */
static void log_tail(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tail[512];
	ssize_t n = 0;

	buf[0] = '\0';
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end > 0) {
		off_t from = end > (off_t)sizeof(tail) - 1
				 ? end - (off_t)sizeof(tail) + 1
				 : 0;
		n = pread(fd, tail, sizeof(tail) - 1, from);
	}
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
		n--;
	tail[n] = '\0';
	char *line = strrchr(tail, '\n');
	snprintf(buf, size, "%s", line ? line + 1 : tail);
}

static void xsd_ready_done(struct sim_xenstored *xsd, int err, const char *msg)
{
	lt_done_fn done = xsd->done;

	if (xsd->poll)
		evtimer_del(xsd->poll);
	if (xsd->probe_fd >= 0)
		close(xsd->probe_fd);
	xsd->probe_fd = -1;
	xsd->done = NULL;
	if (done)
		done(xsd->done_arg, err, msg);
}

static void xsd_died(struct sim_xenstored *xsd, const char *how)
{
	char last[512], *msg;

	log_tail(xsd->log_path, last, sizeof(last));
	msg = lt_strdupf(
	    "xenstored (pid %d) %s%s; its log %s%s%s", (int)xsd->pid, how,
	    xsd->ready ? "" : " before it answered", xsd->log_path,
	    last[0] ? " ends with: " : " is empty", last[0] ? last : "");
	xsd->pid = 0;
	if (!xsd->ready) {
		xsd_ready_done(xsd, -1, msg ? msg : "xenstored died");
	} else {
		struct backend *be = xsd->sim->be;
		log_err("%s", msg ? msg : "xenstored died");
		if (be->events.backend_failed)
			be->events.backend_failed(be->events.arg,
						  msg ? msg : "xenstored died");
	}
	free(msg);
}

static void child_exited(void *arg, pid_t pid, int wstatus)
{
	struct sim_xenstored *xsd = arg;
	char how[96];

	(void)pid;
	xsd->child = NULL;
	if (xsd->gave_up)
		return; /* already reported as not answering */
	spawn_describe_status(wstatus, how, sizeof(how));
	xsd_died(xsd, how);
}

static void adopted_exited(evutil_socket_t fd, short what, void *arg)
{
	struct sim_xenstored *xsd = arg;

	(void)fd;
	(void)what;
	event_free(xsd->pidfd_ev);
	xsd->pidfd_ev = NULL;
	close(xsd->pidfd);
	xsd->pidfd = -1;
	/* Not our child: its status belongs to whoever reaps it. */
	xsd_died(xsd, "exited (adopted; status unknown)");
}

static void poll_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sim_xenstored *xsd = arg;
	struct timeval next = {0, XSD_POLL_MS * 1000};

	(void)fd;
	(void)what;
	if (probe_step(xsd)) {
		xsd->ready = 1;
		log_info("xenstored (pid %d) answers on %s", (int)xsd->pid,
			 xsd->socket_path);
		xsd_ready_done(xsd, 0, NULL);
		return;
	}
	xsd->waited_ms += XSD_POLL_MS;
	if (xsd->waited_ms >= XSD_READY_MS) {
		char *msg = lt_strdupf(
		    "xenstored (pid %d) did not answer on %s within %u ms; "
		    "killed it; see %s",
		    (int)xsd->pid, xsd->socket_path, XSD_READY_MS,
		    xsd->log_path);
		xsd->gave_up = 1;
		if (xsd->child)
			spawn_child_kill(xsd->child, SIGKILL);
		xsd_ready_done(xsd, -1, msg ? msg : "xenstored did not answer");
		free(msg);
		return;
	}
	evtimer_add(xsd->poll, &next);
}

/* A restarted daemon finds xenstored still serving the running domains. */
static int try_adopt(struct sim_xenstored *xsd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = socket_connect(xsd->socket_path);

	if (fd < 0)
		return 0;
	/* The listener's credentials, as of its listen(). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		xsd->pid = cred.pid;
	close(fd);
	xsd->adopted = 1;
	xsd->pidfd = (int)syscall(SYS_pidfd_open, xsd->pid, 0);
	if (xsd->pidfd >= 0) {
		xsd->pidfd_ev = event_new(xsd->sim->be->base, xsd->pidfd,
					  EV_READ, adopted_exited, xsd);
		if (!xsd->pidfd_ev || event_add(xsd->pidfd_ev, NULL) < 0)
			log_warn("cannot watch the adopted xenstored");
	} else {
		log_warn("cannot watch the adopted xenstored (pid %d): %s",
			 (int)xsd->pid, strerror(errno));
	}
	log_info("adopted the running xenstored (pid %d) on %s", (int)xsd->pid,
		 xsd->socket_path);
	return 1;
}

/*
 * Debian's /usr/sbin/xenstored is a wrapper that picks the binary matching
 * the running hypervisor's version and fails without one, which is the sim's
 * whole situation: the real binary under /usr/lib/xen-<version>/bin is run
 * instead (the newest installed).
 */
static const char *real_xenstored(const char *configured, char *buf,
				  size_t size)
{
	char resolved[PATH_MAX];
	glob_t found;

	if (!realpath(configured, resolved) ||
	    strcmp(strrchr(resolved, '/') + 1, "xen-utils-wrapper") != 0)
		return configured;
	if (glob("/usr/lib/xen-*/bin/xenstored", 0, NULL, &found) != 0)
		return configured;
	snprintf(buf, size, "%s", found.gl_pathv[found.gl_pathc - 1]);
	globfree(&found);
	log_info("%s is Debian's wrapper, which needs a running hypervisor; "
		 "the sim runs %s",
		 configured, buf);
	return buf;
}

static int start_xenstored(struct sim_xenstored *xsd, char **err)
{
	const struct daemon_config *cfg = xsd->sim->be->cfg;
	char *env[4] = {NULL};
	char binary[PATH_MAX];
	char *argv[] = {
	    (char *)real_xenstored(cfg->xenstored, binary, sizeof(binary)),
	    "-N", NULL};
	int rc = -1;

	env[0] = lt_strdupf("XENSTORED_PATH=%s", xsd->socket_path);
	env[1] = lt_strdupf("XENSTORED_RUNDIR=%s", xsd->dir);
	env[2] =
	    lt_strdupf("LD_PRELOAD=%s/%s", cfg->libexec_dir, XSD_PRELOAD_LIB);
	if (!env[0] || !env[1] || !env[2]) {
		*err = lt_strdupf("out of memory");
		goto out;
	}
	if (access(env[2] + strlen("LD_PRELOAD="), R_OK) < 0) {
		*err =
		    lt_strdupf("xenstored: preload library %s: %s (built "
			       "by the libretto-xsd-preload target)",
			       env[2] + strlen("LD_PRELOAD="), strerror(errno));
		goto out;
	}
	/* A socket left by a dead xenstored. */
	if (unlink(xsd->socket_path) < 0 && errno != ENOENT) {
		*err = lt_strdupf("xenstored: remove stale %s: %s",
				  xsd->socket_path, strerror(errno));
		goto out;
	}
	struct spawn_opts opts = {.argv = argv,
				  .extra_env = env,
				  .new_session = 1,
				  .log_path = xsd->log_path};
	char *why = NULL;
	xsd->child =
	    spawn_start(xsd->sim->be->base, &opts, child_exited, xsd, &why);
	if (!xsd->child) {
		*err = lt_strdupf("xenstored: %s", why);
		free(why);
		goto out;
	}
	xsd->pid = spawn_child_pid(xsd->child);
	log_info("started xenstored (pid %d) on %s, log %s", (int)xsd->pid,
		 xsd->socket_path, xsd->log_path);
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		free(env[i]);
	return rc;
}

int sim_xenstored_start(struct sim_backend *sim, lt_done_fn done, void *arg,
			char **err)
{
	static const struct timeval now = {0, 0};
	const struct daemon_config *cfg = sim->be->cfg;
	struct sim_xenstored *xsd = calloc(1, sizeof(*xsd));

	if (!xsd) {
		*err = lt_strdupf("out of memory");
		return -1;
	}
	xsd->sim = sim;
	xsd->pidfd = xsd->probe_fd = -1;
	xsd->done = done;
	xsd->done_arg = arg;
	int n =
	    snprintf(xsd->dir, sizeof(xsd->dir), "%s/xenstored", cfg->run_dir);
	int m = snprintf(xsd->socket_path, sizeof(xsd->socket_path),
			 "%s/socket", xsd->dir);
	snprintf(xsd->log_path, sizeof(xsd->log_path),
		 "%s/xenstored/xenstored.log", cfg->run_dir);
	if (n >= (int)sizeof(xsd->dir) || m >= (int)sizeof(xsd->socket_path)) {
		*err = lt_strdupf("xenstored: socket path %s/xenstored/socket "
				  "is too long for a Unix socket",
				  cfg->run_dir);
		goto fail;
	}
	if (lt_mkdir_p(xsd->dir, 0700) < 0) {
		*err = lt_strdupf("xenstored: mkdir %s: %s", xsd->dir,
				  strerror(errno));
		goto fail;
	}
	xsd->poll = evtimer_new(sim->be->base, poll_tick, xsd);
	if (!xsd->poll) {
		*err = lt_strdupf("out of memory");
		goto fail;
	}
	/* Adopted or started, readiness is checked the same way, from the
	 * loop, so that done never fires inside this call. */
	if (!try_adopt(xsd) && start_xenstored(xsd, err) < 0)
		goto fail;
	evtimer_add(xsd->poll, &now);
	sim->xsd = xsd;
	return 0;
fail:
	sim_xenstored_release(xsd);
	return -1;
}

const char *sim_xenstored_socket(const struct sim_xenstored *xsd)
{
	return xsd->socket_path;
}

pid_t sim_xenstored_pid(const struct sim_xenstored *xsd)
{
	return xsd->pid;
}

void sim_xenstored_release(struct sim_xenstored *xsd)
{
	if (!xsd)
		return;
	spawn_child_forget(xsd->child);
	if (xsd->pidfd_ev)
		event_free(xsd->pidfd_ev);
	if (xsd->pidfd >= 0)
		close(xsd->pidfd);
	if (xsd->poll)
		event_free(xsd->poll);
	if (xsd->probe_fd >= 0)
		close(xsd->probe_fd);
	free(xsd);
}
