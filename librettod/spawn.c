#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct spawn_child {
	pid_t pid;
	int pidfd;
	struct event *ev;
	spawn_exit_fn on_exit;
	void *arg;
};

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static int env_has_key(char *const *env, const char *entry)
{
	size_t keylen = strcspn(entry, "=");

	for (; env && *env; env++)
		if (strncmp(*env, entry, keylen) == 0 && (*env)[keylen] == '=')
			return 1;
	return 0;
}

/* The default environment with extra_env over it.  The strings are not
 * copied: they live as long as the caller's opts. */
static char **build_env(char *const *extra_env)
{
	static char *const defaults[] = {"PATH=" SPAWN_DEFAULT_PATH,
					 "HOME=" SPAWN_DEFAULT_HOME};
	size_t nextra = 0;

	while (extra_env && extra_env[nextra])
		nextra++;
	char **env = calloc(nextra + 3, sizeof(*env));
	if (!env)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < 2; i++)
		if (!env_has_key(extra_env, defaults[i]))
			env[n++] = defaults[i];
	for (size_t i = 0; i < nextra; i++)
		env[n++] = extra_env[i];
	env[n] = NULL;
	return env;
}

/* Resolved in the parent, so that "command not found" is an error of the
 * call rather than a status 127 later. */
static char *resolve_command(const char *name, char **env, char **err)
{
	if (strchr(name, '/'))
		return strdup(name);
	const char *path = SPAWN_DEFAULT_PATH;
	for (char **e = env; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	while (*path) {
		size_t len = strcspn(path, ":");
		char *candidate =
		    lt_strdupf("%.*s/%s", (int)len, len ? path : ".", name);
		if (!candidate)
			break;
		if (access(candidate, X_OK) == 0)
			return candidate;
		free(candidate);
		path += len;
		if (*path == ':')
			path++;
	}
	*err = lt_strdupf("%s: command not found in PATH", name);
	return NULL;
}

/* Between fork and exec: async-signal-safe calls only. */
static void child_fail(const char *what, const char *detail)
{
	const char *reason = strerrordesc_np(errno);
	const char *parts[] = {"librettod: ", what, " ",
			       detail,	      ": ", reason ? reason : "error",
			       "\n"};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
			break;
	_exit(127);
}

static void child_reset_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fds[0..2] become the child's stdin, stdout and stderr. */
static void child_exec(const struct spawn_opts *opts, const char *path,
		       char **env, const int fds[3])
{
	int high[3];

	child_reset_signals();
	/* Moved above 2 first, so that one of them being 0..2 already cannot
	 * be clobbered by the dup2 of another. */
	for (int i = 0; i < 3; i++) {
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
		if (high[i] < 0)
			child_fail("dup", "stdio");
	}
	for (int i = 0; i < 3; i++)
		if (dup2(high[i], i) < 0)
			child_fail("dup2", "stdio");
	close_range(3, ~0U, 0);
	if (opts->new_session && setsid() < 0)
		child_fail("setsid", "");
	if (opts->netns_path) {
		int nsfd = open(opts->netns_path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			child_fail("setns into", opts->netns_path);
		close(nsfd);
	}
	execve(path, opts->argv, env);
	child_fail("exec", path);
}

static void child_exited(evutil_socket_t fd, short what, void *arg)
{
	struct spawn_child *child = arg;
	int wstatus = 0;

	(void)fd;
	(void)what;
	pid_t r = waitpid(child->pid, &wstatus, WNOHANG);
	if (r == 0)
		return; /* not yet: the persistent event fires again */
	if (r < 0)
		wstatus = W_EXITCODE(127, 0); /* reaped elsewhere: a bug */
	spawn_exit_fn on_exit = child->on_exit;
	void *cb_arg = child->arg;
	pid_t pid = child->pid;
	spawn_child_forget(child);
	on_exit(cb_arg, pid, wstatus);
}

/* Forks with fds as stdio and watches the child; fds stay the caller's. */
static struct spawn_child *spawn_fds(struct event_base *base,
				     const struct spawn_opts *opts,
				     const int fds[3], spawn_exit_fn on_exit,
				     void *arg, char **err)
{
	char **env = NULL;
	char *path = NULL;
	struct spawn_child *child = calloc(1, sizeof(*child));

	*err = NULL;
	if (!child || !(env = build_env(opts->extra_env)))
		goto nomem;
	child->pidfd = -1;
	child->on_exit = on_exit;
	child->arg = arg;
	path = resolve_command(opts->argv[0], env, err);
	if (!path)
		goto out;
	child->pid = fork();
	if (child->pid < 0) {
		*err = lt_strdupf("fork for %s: %s", path, strerror(errno));
		goto out;
	}
	if (child->pid == 0)
		child_exec(opts, path, env, fds);
	child->pidfd = sys_pidfd_open(child->pid);
	if (child->pidfd < 0) {
		*err = lt_strdupf("pidfd_open (Linux >= 5.3 needed): %s",
				  strerror(errno));
		goto kill_child;
	}
	child->ev = event_new(base, child->pidfd, EV_READ | EV_PERSIST,
			      child_exited, child);
	if (!child->ev || event_add(child->ev, NULL) < 0) {
		*err = lt_strdupf("cannot watch child %s", path);
		goto kill_child;
	}
	goto out;

kill_child:
	/* SIGKILL cannot be caught: this wait is immediate. */
	kill(child->pid, SIGKILL);
	waitpid(child->pid, NULL, 0);
	goto out;
nomem:
	*err = lt_strdupf("out of memory");
out:
	free(env);
	free(path);
	if (*err && child) {
		if (child->ev)
			event_free(child->ev);
		if (child->pidfd >= 0)
			close(child->pidfd);
		free(child);
		child = NULL;
	}
	return child;
}

struct spawn_child *spawn_start(struct event_base *base,
				const struct spawn_opts *opts,
				spawn_exit_fn on_exit, void *arg, char **err)
{
	int fds[3] = {-1, -1, -1};
	struct spawn_child *child = NULL;
	const char *out_path = opts->log_path ? opts->log_path : "/dev/null";

	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[1] =
	    open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fds[0] < 0 || fds[1] < 0) {
		*err = lt_strdupf("open %s: %s",
				  fds[0] < 0 ? "/dev/null" : out_path,
				  strerror(errno));
		goto out;
	}
	fds[2] = fds[1];
	child = spawn_fds(base, opts, fds, on_exit, arg, err);
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return child;
}

pid_t spawn_child_pid(const struct spawn_child *child)
{
	return child->pid;
}

int spawn_child_kill(struct spawn_child *child, int sig)
{
	return sys_pidfd_send_signal(child->pidfd, sig);
}

int spawn_child_kill_group(struct spawn_child *child, int sig)
{
	return kill(-child->pid, sig);
}

void spawn_child_forget(struct spawn_child *child)
{
	if (!child)
		return;
	event_free(child->ev);
	close(child->pidfd);
	free(child);
}

/* One captured stream of a spawn_run. */
struct capture {
	int fd;
	struct event *ev;
	size_t len;
	char buf[SPAWN_CAPTURE_MAX + 1];
};

struct spawn_run {
	struct spawn_child *child;
	struct capture out, err;
	struct event *timer;
	unsigned timeout_ms;
	int timed_out;
	int cancelled;
	spawn_run_fn done;
	void *arg;
};

/* Reads what is there; keeps the first SPAWN_CAPTURE_MAX bytes and drops
 * the rest so that a chatty tool never blocks on a full pipe. */
static void capture_drain(struct capture *cap)
{
	char scratch[4096];

	while (cap->fd >= 0) {
		char *dst = scratch;
		size_t room = sizeof(scratch);
		if (cap->len < SPAWN_CAPTURE_MAX) {
			dst = cap->buf + cap->len;
			room = SPAWN_CAPTURE_MAX - cap->len;
		}
		ssize_t n = read(cap->fd, dst, room);
		if (n > 0) {
			if (dst != scratch)
				cap->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			event_free(cap->ev);
			cap->ev = NULL;
			close(cap->fd);
			cap->fd = -1;
		}
		break; /* EAGAIN or EOF */
	}
	cap->buf[cap->len] = '\0';
}

static void capture_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	capture_drain(arg);
}

static void capture_close(struct capture *cap)
{
	if (cap->ev)
		event_free(cap->ev);
	if (cap->fd >= 0)
		close(cap->fd);
	cap->ev = NULL;
	cap->fd = -1;
}

static void run_free(struct spawn_run *run)
{
	capture_close(&run->out);
	capture_close(&run->err);
	if (run->timer)
		event_free(run->timer);
	free(run);
}

static void run_exited(void *arg, pid_t pid, int wstatus)
{
	struct spawn_run *run = arg;

	(void)pid;
	run->child = NULL;
	/* Whatever the tool wrote before exiting is in the pipes now. */
	capture_drain(&run->out);
	capture_drain(&run->err);
	if (run->timed_out) {
		size_t len = run->err.len;
		snprintf(run->err.buf + len, sizeof(run->err.buf) - len,
			 "%stimed out after %u ms", len ? "; " : "",
			 run->timeout_ms);
	}
	if (!run->cancelled)
		run->done(run->arg, wstatus, run->out.buf, run->err.buf);
	run_free(run);
}

static void run_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct spawn_run *run = arg;

	(void)fd;
	(void)what;
	run->timed_out = 1;
	spawn_child_kill(run->child, SIGKILL);
}

/* A pipe whose read end is non-blocking and watched by the loop.  The write
 * end stays blocking: the tool must not see EAGAIN. */
static int capture_open(struct event_base *base, struct capture *cap,
			int *write_end)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	cap->ev =
	    event_new(base, p[0], EV_READ | EV_PERSIST, capture_readable, cap);
	if (!cap->ev || event_add(cap->ev, NULL) < 0)
		goto fail;
	cap->fd = p[0];
	*write_end = p[1];
	return 0;
fail:
	if (cap->ev)
		event_free(cap->ev);
	cap->ev = NULL;
	close(p[0]);
	close(p[1]);
	return -1;
}

struct spawn_run *spawn_run(struct event_base *base,
			    const struct spawn_opts *opts, unsigned timeout_ms,
			    spawn_run_fn done, void *arg, char **err)
{
	int fds[3] = {-1, -1, -1};
	struct spawn_run *run = calloc(1, sizeof(*run));

	*err = NULL;
	if (!run) {
		*err = lt_strdupf("out of memory");
		goto out;
	}
	run->out.fd = run->err.fd = -1;
	run->done = done;
	run->arg = arg;
	run->timeout_ms = timeout_ms;
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fds[0] < 0 || capture_open(base, &run->out, &fds[1]) < 0 ||
	    capture_open(base, &run->err, &fds[2]) < 0) {
		*err = lt_strdupf("cannot set up %s: %s", opts->argv[0],
				  strerror(errno));
		goto out;
	}
	if (timeout_ms) {
		struct timeval tv = {timeout_ms / 1000,
				     (timeout_ms % 1000) * 1000};
		run->timer = evtimer_new(base, run_timeout, run);
		if (!run->timer || evtimer_add(run->timer, &tv) < 0) {
			*err = lt_strdupf("cannot arm a timer");
			goto out;
		}
	}
	run->child = spawn_fds(base, opts, fds, run_exited, run, err);
out:
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (*err && run) {
		run_free(run);
		run = NULL;
	}
	return run;
}

void spawn_run_cancel(struct spawn_run *run)
{
	/* Still reaped when it dies, so that no zombie is left. */
	run->cancelled = 1;
	if (run->timer)
		evtimer_del(run->timer);
	spawn_child_kill(run->child, SIGKILL);
}

void spawn_describe_status(int wstatus, char *buf, size_t size)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "exited with status %d",
			 WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "killed by signal %d (%s)%s",
			 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)),
			 WCOREDUMP(wstatus) ? ", core dumped" : "");
	else
		snprintf(buf, size, "ended with wait status 0x%x", wstatus);
}

char *spawn_format_argv(char *const *argv)
{
	size_t len = 1;

	for (char *const *a = argv; *a; a++)
		len += strlen(*a) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	char *p = s;
	for (char *const *a = argv; *a; a++) {
		if (p != s)
			*p++ = ' ';
		p = stpcpy(p, *a);
	}
	*p = '\0';
	return s;
}
