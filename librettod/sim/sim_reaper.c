/*
 * Ending a sim domain whole, as a Xen domain dies whole: every process whose
 * network namespace is the domain's gets SIGTERM, and SIGKILL once the grace
 * period is over.  Processes are found by comparing /proc/<pid>/ns/net with
 * the namespace's nsfs inode, re-scanned on a timer (never a blocking wait),
 * so that children forked during the shutdown are caught too.  Dead
 * processes drop their namespace at once, zombies included, so "none left"
 * means the namespace holds no process.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define REAPER_TICK_MS 20

struct sim_reaper {
	struct sim_netns ns;
	dev_t dev;
	ino_t ino;
	int have_ns;
	struct event *tick;
	struct timespec started;
	unsigned grace_ms, give_up_ms;
	pid_t *termed; /* already sent SIGTERM */
	size_t ntermed, termed_cap;
	lt_done_fn done;
	void *arg;
};

static int pid_in_ns(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Through a pidfd, and only if the pid still is in the namespace once the
 * pidfd pins it, so that a recycled pid is never signalled. */
static void signal_if_in_ns(pid_t pid, dev_t dev, ino_t ino, int sig)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd < 0)
		return;
	if (pid_in_ns(pid, dev, ino))
		syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
	close(pidfd);
}

typedef void (*pid_visit_fn)(void *arg, pid_t pid);

/* Calls visit for each process in the namespace; returns how many. */
static int scan_ns(dev_t dev, ino_t ino, pid_visit_fn visit, void *arg)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int count = 0;
	pid_t self = getpid();

	if (!proc)
		return -1;
	while ((d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0 || pid == self)
			continue;
		if (!pid_in_ns((pid_t)pid, dev, ino))
			continue;
		count++;
		if (visit)
			visit(arg, (pid_t)pid);
	}
	closedir(proc);
	return count;
}

int sim_netns_count_processes(const struct sim_netns *ns)
{
	struct stat st;

	if (stat(ns->path, &st) < 0)
		return 0;
	return scan_ns(st.st_dev, st.st_ino, NULL, NULL);
}

static unsigned elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (unsigned)((now.tv_sec - since->tv_sec) * 1000 +
			  (now.tv_nsec - since->tv_nsec) / 1000000);
}

static int was_termed(const struct sim_reaper *r, pid_t pid)
{
	for (size_t i = 0; i < r->ntermed; i++)
		if (r->termed[i] == pid)
			return 1;
	return 0;
}

static void visit_process(void *arg, pid_t pid)
{
	struct sim_reaper *r = arg;

	if (elapsed_ms(&r->started) >= r->grace_ms) {
		signal_if_in_ns(pid, r->dev, r->ino, SIGKILL);
		return;
	}
	if (was_termed(r, pid))
		return;
	signal_if_in_ns(pid, r->dev, r->ino, SIGTERM);
	if (r->ntermed == r->termed_cap) {
		size_t cap = r->termed_cap ? r->termed_cap * 2 : 16;
		pid_t *grown = reallocarray(r->termed, cap, sizeof(*grown));
		if (!grown)
			return; /* it is sent SIGTERM again next tick */
		r->termed = grown;
		r->termed_cap = cap;
	}
	r->termed[r->ntermed++] = pid;
}

static void reaper_finish(struct sim_reaper *r, int err, const char *msg)
{
	lt_done_fn done = r->done;
	void *arg = r->arg;

	sim_reaper_cancel(r);
	done(arg, err, msg);
}

static void reaper_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sim_reaper *r = arg;
	struct timeval next = {0, REAPER_TICK_MS * 1000};

	(void)fd;
	(void)what;
	int count = r->have_ns ? scan_ns(r->dev, r->ino, visit_process, r) : 0;
	if (count < 0) {
		char *msg = lt_strdupf("namespace %s: cannot scan /proc: %s",
				       r->ns.name, strerror(errno));
		reaper_finish(r, -1, msg ? msg : "cannot scan /proc");
		free(msg);
		return;
	}
	if (count == 0) {
		reaper_finish(r, 0, NULL);
		return;
	}
	if (elapsed_ms(&r->started) >= r->give_up_ms) {
		char *msg = lt_strdupf(
		    "namespace %s: %d processes still running %u ms after "
		    "SIGKILL was sent (stuck in the kernel?)",
		    r->ns.name, count, r->give_up_ms - r->grace_ms);
		reaper_finish(r, -1, msg ? msg : "processes did not exit");
		free(msg);
		return;
	}
	evtimer_add(r->tick, &next);
}

struct sim_reaper *sim_reaper_start(struct event_base *base,
				    const struct sim_netns *ns,
				    unsigned grace_ms, unsigned give_up_ms,
				    lt_done_fn done, void *arg)
{
	static const struct timeval now = {0, 0};
	struct sim_reaper *r = calloc(1, sizeof(*r));
	struct stat st;

	if (!r)
		return NULL;
	r->ns = *ns;
	r->grace_ms = grace_ms;
	r->give_up_ms = give_up_ms;
	r->done = done;
	r->arg = arg;
	/* No namespace file: nothing can be in it; done on the first tick. */
	if (stat(ns->path, &st) == 0) {
		r->have_ns = 1;
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->tick = evtimer_new(base, reaper_tick, r);
	if (!r->tick || evtimer_add(r->tick, &now) < 0) {
		sim_reaper_cancel(r);
		return NULL;
	}
	return r;
}

void sim_reaper_cancel(struct sim_reaper *r)
{
	if (!r)
		return;
	if (r->tick)
		event_free(r->tick);
	free(r->termed);
	free(r);
}
