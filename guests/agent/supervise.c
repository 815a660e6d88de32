/* Starting the app and ending as it ended, so that the domain dies with
 * its app as a Xen domain would. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

pid_t supervise_start(char **argv, const void *sigmask_child, int *exec_errno)
{
	int exec_pipe[2], err = 0;
	ssize_t n;
	pid_t app;

	*exec_errno = 0;
	/* A close-on-exec pipe tells whether exec worked: it closes with no
	 * data on success, carries errno on failure.  Only then is the guest
	 * "ready": librettod waits for that to call a domain up. */
	if (pipe2(exec_pipe, O_CLOEXEC) < 0) {
		*exec_errno = errno;
		return -1;
	}
	app = fork();
	if (app < 0) {
		*exec_errno = errno;
		close(exec_pipe[0]);
		close(exec_pipe[1]);
		return -1;
	}
	if (app == 0) {
		close(exec_pipe[0]);
		/* The agent blocks these for its signalfd; a blocked mask and
		 * ignored dispositions would survive exec into the app. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, sigmask_child, NULL);
		execvp(argv[0], argv);
		err = errno;
		fprintf(stderr, "libretto-agent: cannot run %s: %s\n", argv[0],
			strerror(err));
		/* If the parent is gone there is no one to tell. */
		ssize_t told = write(exec_pipe[1], &err, sizeof(err));
		(void)told;
		_exit(127);
	}
	close(exec_pipe[1]);
	while ((n = read(exec_pipe[0], &err, sizeof(err))) < 0 &&
	       errno == EINTR)
		;
	close(exec_pipe[0]);
	if (n > 0)
		*exec_errno = err ? err : EIO;
	return app;
}

_Noreturn void supervise_exit_like(int status)
{
	if (WIFSIGNALED(status)) {
		sigset_t s;
		int sig = WTERMSIG(status);

		/* Die of the same signal, so librettod sees what the app
		 * saw; it must be neither blocked nor handled for that. */
		signal(sig, SIG_DFL);
		sigemptyset(&s);
		sigaddset(&s, sig);
		sigprocmask(SIG_UNBLOCK, &s, NULL);
		kill(getpid(), sig);
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}
