/*
 * libretto-agent: runs inside each application domain next to the app.
 * It starts the app, reports the guest's state in xenstore
 * (guest/state: booting, ready, error) and ends as the app ends, with the
 * same status, so the domain dies with its app as a Xen domain would.
 *
 * The data path (VIF rings, TAP bridge, port claims) is issue 3's; this is
 * the supervision part that the control plane needs now.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest_xs.h"
#include <libretto/xs_paths.h>

static volatile sig_atomic_t forward_signal;

static void on_signal(int sig)
{
	forward_signal = sig;
}

static void usage(void)
{
	fprintf(stderr, "usage: libretto-agent -- COMMAND [ARG...]\n"
			"Runs COMMAND as the application of a libretto domain "
			"(LIBRETTO_DOMID\nand XENSTORED_PATH come from "
			"librettod).\n");
}

int main(int argc, char **argv)
{
	struct guest_xs gx;
	struct sigaction sa = {.sa_handler = on_signal};
	int status, first = 1, exec_pipe[2], exec_errno;
	ssize_t n;
	pid_t app;

	if (argc >= 2 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (first >= argc) {
		usage();
		return 2;
	}
	if (guest_xs_open(&gx, "libretto-agent") < 0)
		return 1;
	guest_xs_write(&gx, LT_XS_GUEST_STATE, LT_GUEST_BOOTING);

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A close-on-exec pipe tells whether exec worked: it closes with
	 * no data on success, carries errno on failure. Only then is the
	 * guest "ready" -- librettod waits for that to call a domain up. */
	if (pipe2(exec_pipe, O_CLOEXEC) < 0) {
		perror("libretto-agent: pipe2");
		guest_xs_write(&gx, LT_XS_GUEST_STATE, LT_GUEST_ERROR);
		return 1;
	}
	app = fork();
	if (app < 0) {
		perror("libretto-agent: fork");
		guest_xs_write(&gx, LT_XS_GUEST_STATE, LT_GUEST_ERROR);
		return 1;
	}
	if (app == 0) {
		int err;

		close(exec_pipe[0]);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[first], argv + first);
		err = errno;
		fprintf(stderr, "libretto-agent: cannot run %s: %s\n",
			argv[first], strerror(err));
		/* If the parent is gone there is no one to tell. */
		ssize_t told = write(exec_pipe[1], &err, sizeof(err));
		(void)told;
		_exit(127);
	}
	close(exec_pipe[1]);
	exec_errno = 0;
	while ((n = read(exec_pipe[0], &exec_errno, sizeof(exec_errno))) < 0 &&
	       errno == EINTR)
		;
	close(exec_pipe[0]);
	guest_xs_write(&gx, LT_XS_GUEST_STATE,
		       n > 0 ? LT_GUEST_ERROR : LT_GUEST_READY);

	for (;;) {
		pid_t r = waitpid(app, &status, 0);

		if (r == app)
			break;
		if (r < 0 && errno == EINTR && forward_signal) {
			kill(app, forward_signal);
			forward_signal = 0;
			continue;
		}
		if (r < 0 && errno != EINTR) {
			perror("libretto-agent: waitpid");
			return 1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		guest_xs_write(&gx, LT_XS_GUEST_STATE, LT_GUEST_ERROR);
	guest_xs_close(&gx);
	if (WIFSIGNALED(status)) {
		/* Die of the same signal, so librettod sees what the app
		 * saw. */
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
