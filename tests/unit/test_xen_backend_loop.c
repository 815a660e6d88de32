/*
 * libxl's osevent hooks over libevent (librettod/xen/xl_loop.c), driven as
 * libxl drives them, with a recording sink where the daemon has libxl's
 * libxl_osevent_occurred_* (no hypervisor here to give a libxl context):
 *
 * - an fd fires from the loop with its poll(2) events, never from inside
 *   a hook; modify to no events silences it; deregister frees it;
 * - a timeout in the future fires once, after its time, and is
 *   deregistered before the sink hears of it; modify to {0, 0} makes one
 *   due in an hour fire at once;
 * - SIGCHLD reaches the sink from the loop.
 */
#include <event2/event.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "loop_until.h"
#include "xl_loop.h"

static int in_hook; /* set while the test calls a hook, as libxl would */

static struct {
	int fds, timeouts, sigchlds;
	void *for_libxl;
	int fd;
	short events, revents;
	unsigned regs_seen; /* registrations when the timeout fired */
} got;

static struct xl_loop *loop;

static void sink_fd(void *arg, void *for_libxl, int fd, short events,
		    short revents)
{
	(void)arg;
	CHECK(!in_hook);
	got.fds++;
	got.for_libxl = for_libxl;
	got.fd = fd;
	got.events = events;
	got.revents = revents;
}

static void sink_timeout(void *arg, void *for_libxl)
{
	(void)arg;
	CHECK(!in_hook);
	got.timeouts++;
	got.for_libxl = for_libxl;
	got.regs_seen = xl_loop_registrations(loop);
}

static void sink_sigchld(void *arg)
{
	(void)arg;
	CHECK(!in_hook);
	got.sigchlds++;
}

#define RUN_UNTIL(base, cond) LOOP_UNTIL(base, cond, 2000)

static void test_fd(struct event_base *base)
{
	int p[2], tag;
	void *reg = NULL;
	char c = 'x';

	if (!CHECK(pipe(p) == 0))
		return;
	memset(&got, 0, sizeof(got));
	in_hook = 1;
	CHECK(xl_loop_hooks.fd_register(loop, p[0], &reg, POLLIN, &tag) == 0);
	in_hook = 0;
	CHECK(reg != NULL && xl_loop_registrations(loop) == 1);
	/* nothing to read yet */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(got.fds == 0);
	CHECK(write(p[1], &c, 1) == 1);
	RUN_UNTIL(base, got.fds > 0);
	CHECK(got.fds >= 1 && got.for_libxl == &tag && got.fd == p[0]);
	CHECK(got.events == POLLIN && got.revents == POLLIN);

	/* no events asked: silent, though still readable */
	in_hook = 1;
	CHECK(xl_loop_hooks.fd_modify(loop, p[0], &reg, 0) == 0);
	in_hook = 0;
	got.fds = 0;
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(got.fds == 0);
	/* POLLIN again, and POLLOUT on the write end through a second
	 * registration of another fd */
	in_hook = 1;
	CHECK(xl_loop_hooks.fd_modify(loop, p[0], &reg, POLLIN) == 0);
	in_hook = 0;
	RUN_UNTIL(base, got.fds > 0);
	CHECK(got.fds >= 1);

	void *wreg = NULL;
	in_hook = 1;
	CHECK(xl_loop_hooks.fd_register(loop, p[1], &wreg, POLLOUT, &c) == 0);
	xl_loop_hooks.fd_deregister(loop, p[0], reg);
	in_hook = 0;
	got.fds = 0;
	RUN_UNTIL(base, got.fds > 0);
	CHECK(got.fd == p[1] && got.revents == POLLOUT && got.for_libxl == &c);
	in_hook = 1;
	xl_loop_hooks.fd_deregister(loop, p[1], wreg);
	in_hook = 0;
	CHECK(xl_loop_registrations(loop) == 0);
	got.fds = 0;
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(got.fds == 0);
	close(p[0]);
	close(p[1]);
}

static void test_timeouts(struct event_base *base)
{
	struct timeval now, abs, asap = {0, 0};
	struct timespec t0;
	void *reg = NULL, *reg2 = NULL;
	int tag, tag2;

	memset(&got, 0, sizeof(got));
	gettimeofday(&now, NULL);
	abs = now;
	abs.tv_usec += 100 * 1000;
	if (abs.tv_usec >= 1000000) {
		abs.tv_sec++;
		abs.tv_usec -= 1000000;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	in_hook = 1;
	CHECK(xl_loop_hooks.timeout_register(loop, &reg, abs, &tag) == 0);
	in_hook = 0;
	CHECK(xl_loop_registrations(loop) == 1);
	RUN_UNTIL(base, got.timeouts > 0);
	CHECK(got.timeouts == 1 && got.for_libxl == &tag);
	CHECK(loop_ms_since(&t0) >= 90);
	/* deregistered before libxl is told, as libxl_event.h says */
	CHECK(got.regs_seen == 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(got.timeouts == 1);

	/* an hour away, then "as soon as possible" */
	memset(&got, 0, sizeof(got));
	abs.tv_sec = now.tv_sec + 3600;
	in_hook = 1;
	CHECK(xl_loop_hooks.timeout_register(loop, &reg2, abs, &tag2) == 0);
	in_hook = 0;
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(got.timeouts == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	in_hook = 1;
	CHECK(xl_loop_hooks.timeout_modify(loop, &reg2, asap) == 0);
	in_hook = 0;
	CHECK(got.timeouts == 0); /* not from inside the hook */
	RUN_UNTIL(base, got.timeouts > 0);
	CHECK(got.timeouts == 1 && got.for_libxl == &tag2);
	CHECK(loop_ms_since(&t0) < 500);
	CHECK(xl_loop_registrations(loop) == 0);

	/* a time already past fires too */
	memset(&got, 0, sizeof(got));
	abs.tv_sec = now.tv_sec - 10;
	in_hook = 1;
	CHECK(xl_loop_hooks.timeout_register(loop, &reg, abs, &tag) == 0);
	in_hook = 0;
	RUN_UNTIL(base, got.timeouts > 0);
	CHECK(got.timeouts == 1);
}

static void test_sigchld(struct event_base *base)
{
	pid_t pid;
	int status;

	memset(&got, 0, sizeof(got));
	pid = fork();
	if (pid == 0)
		_exit(7);
	if (!CHECK(pid > 0))
		return;
	RUN_UNTIL(base, got.sigchlds > 0);
	CHECK(got.sigchlds >= 1);
	/* the loop only reports: the child is still there to reap */
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 7);
}

int main(void)
{
	struct xl_loop_sink sink = {.fd_occurred = sink_fd,
				    .timeout_occurred = sink_timeout,
				    .sigchld = sink_sigchld};
	struct event_base *base = event_base_new();
	char *err = NULL;

	if (!CHECK(base != NULL))
		return check_summary("test_xen_backend_loop");
	loop = xl_loop_new(base, &sink, &err);
	if (!CHECK(loop != NULL)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return check_summary("test_xen_backend_loop");
	}
	test_fd(base);
	test_timeouts(base);
	test_sigchld(base);

	/* a registration that fails leaves nothing registered (epoll
	 * refuses a regular file) */
	void *reg = NULL;
	FILE *file = tmpfile();
	if (CHECK(file != NULL)) {
		CHECK(xl_loop_hooks.fd_register(loop, fileno(file), &reg,
						POLLIN, NULL) ==
		      ERROR_OSEVENT_REG_FAIL);
		CHECK(reg == NULL && xl_loop_registrations(loop) == 0);
		fclose(file);
	}

	/* what libxl left registered goes with the loop */
	struct timeval later = {time(NULL) + 3600, 0};
	int p[2] = {-1, -1};
	CHECK(xl_loop_hooks.timeout_register(loop, &reg, later, NULL) == 0);
	if (CHECK(pipe(p) == 0))
		CHECK(xl_loop_hooks.fd_register(loop, p[0], &reg, POLLIN,
						NULL) == 0);
	CHECK(xl_loop_registrations(loop) == 2);
	xl_loop_free(loop);
	close(p[0]);
	close(p[1]);
	event_base_free(base);
	return check_summary("test_xen_backend_loop");
}
