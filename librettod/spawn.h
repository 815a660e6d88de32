/*
 * Child processes on the libevent loop, never blocking it.
 *
 * A child is watched through its pidfd (pidfd_open, Linux >= 5.3) registered
 * as a read event; when it becomes readable the child is reaped with
 * waitpid(pid, WNOHANG).  Nothing else in the daemon may call waitpid(-1) or
 * install a reaping SIGCHLD handler, or the status would be stolen.
 *
 * Children inherit nothing by accident: stdin is /dev/null, stdout and stderr
 * go to a log file, a capture pipe or /dev/null, every other descriptor is
 * closed, signal dispositions and the signal mask are reset, and the
 * environment is a fixed minimal one plus what the caller adds.
 */
#ifndef LIBRETTOD_SPAWN_H
#define LIBRETTOD_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;

/* The environment every child starts from, before extra_env. */
#define SPAWN_DEFAULT_PATH                                                     \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPAWN_DEFAULT_HOME "/root"

struct spawn_opts {
	/* argv[0] is a path, or a name looked up in the child's PATH. */
	char *const *argv;
	/* "K=V" entries over the default environment (PATH, HOME); a key
	 * given here replaces the default one.  May be NULL. */
	char *const *extra_env;
	/* Path of a network namespace (e.g. /run/netns/NAME) the child enters
	 * with setns() before exec; NULL stays in the daemon's. */
	const char *netns_path;
	/* setsid(): own session and process group, so that the child survives
	 * the daemon's terminal and can be signalled as a group. */
	int new_session;
	/* stdout and stderr appended to this file (created 0640); NULL sends
	 * them to /dev/null.  Ignored by spawn_run, which captures. */
	const char *log_path;
};

/* wstatus as from waitpid.  The child's handle is already freed: it must not
 * be used from here on. */
typedef void (*spawn_exit_fn)(void *arg, pid_t pid, int wstatus);

struct spawn_child;

/*
 * Forks and execs.  Failures that happen in the child before exec (setns,
 * exec itself) are written to the child's stderr and end it with status 127.
 * Returns NULL with *err (malloc'd) when the child could not be started.
 */
struct spawn_child *spawn_start(struct event_base *base,
				const struct spawn_opts *opts,
				spawn_exit_fn on_exit, void *arg, char **err);
pid_t spawn_child_pid(const struct spawn_child *child);
/* Signals the child itself through its pidfd (no pid-reuse race). */
int spawn_child_kill(struct spawn_child *child, int sig);
/* Signals the child's process group (only meaningful with new_session). */
int spawn_child_kill_group(struct spawn_child *child, int sig);
/* Stops watching and frees the handle without a callback; the process keeps
 * running (used when the daemon exits and leaves its children behind). */
void spawn_child_forget(struct spawn_child *child);

/* How much of a short tool's stdout and stderr spawn_run keeps. */
#define SPAWN_CAPTURE_MAX 4096

/* out and errtext are NUL-terminated, at most SPAWN_CAPTURE_MAX bytes, never
 * NULL, and valid only during the call; the run's handle must not be used
 * from here on (it is freed when this returns). */
typedef void (*spawn_run_fn)(void *arg, int wstatus, const char *out,
			     const char *errtext);

struct spawn_run;

/*
 * Runs a short tool (e.g. `ip`) and calls done with its exit status and the
 * first SPAWN_CAPTURE_MAX bytes of its stdout and stderr.  timeout_ms > 0
 * kills it with SIGKILL when it runs longer.  Returns NULL with *err when
 * it could not be started; done is then never called.
 */
struct spawn_run *spawn_run(struct event_base *base,
			    const struct spawn_opts *opts, unsigned timeout_ms,
			    spawn_run_fn done, void *arg, char **err);
/* Kills the tool and frees the handle; done is never called. */
void spawn_run_cancel(struct spawn_run *run);

/* "exited with status 1", "killed by signal 9 (Killed)". */
void spawn_describe_status(int wstatus, char *buf, size_t size);
/* The argv joined by spaces, for error messages (malloc'd). */
char *spawn_format_argv(char *const *argv);

#endif
