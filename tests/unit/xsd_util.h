/*
 * For unit tests that need a real xenstored: Debian's, run with -N under
 * the project's preload library (docs/sim-xenstored.md), in a temporary
 * directory of its own, with XENSTORED_PATH and XENSTORED_RUNDIR set for
 * this process so that xs_open(0) reaches it.
 */
#ifndef LIBRETTO_TESTS_XSD_UTIL_H
#define LIBRETTO_TESTS_XSD_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

struct test_xsd {
	char dir[64];	  /* a mkdtemp template until started */
	char socket[128]; /* XENSTORED_PATH */
	pid_t pid;	  /* -1 when not running */
};

static inline int test_xsd_rm_entry(const char *path, const struct stat *st,
				    int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* The arguments of every such test, <preload.so> <xenstored>: -1 to go
 * on, or the exit status: 2 (usage) or 77 (skipped: not root, or either
 * missing). */
static inline int test_xsd_args(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <preload.so> <xenstored>\n",
			argv[0]);
		return 2;
	}
	if (geteuid() != 0 || access(argv[1], R_OK) != 0 ||
	    access(argv[2], X_OK) != 0) {
		printf("%s: needs root, %s and %s; skipped\n", argv[0], argv[1],
		       argv[2]);
		return 77;
	}
	return -1;
}

/* Stops it and removes its directory; safe when it never started. */
static inline void test_xsd_stop(struct test_xsd *x)
{
	if (x->pid > 0) {
		kill(x->pid, SIGTERM);
		waitpid(x->pid, NULL, 0);
		x->pid = -1;
	}
	if (strchr(x->dir, 'X') == NULL) /* made by mkdtemp */
		nftw(x->dir, test_xsd_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Starts xenstored; ready once it answers a request (it listens before it
 * initialises). name: a word for the directory. 0, or -1 with why on
 * stderr. */
static inline int test_xsd_start(struct test_xsd *x, const char *name,
				 const char *preload, const char *xenstored)
{
	char path[160], log[160];

	x->pid = -1;
	snprintf(x->dir, sizeof(x->dir), "/tmp/libretto-%s.XXXXXX", name);
	if (mkdtemp(x->dir) == NULL)
		return -1;
	snprintf(x->socket, sizeof(x->socket), "%s/socket", x->dir);
	setenv("XENSTORED_PATH", x->socket, 1);
	snprintf(path, sizeof(path), "%s/run", x->dir);
	setenv("XENSTORED_RUNDIR", path, 1);
	snprintf(log, sizeof(log), "%s/xenstored.log", x->dir);
	x->pid = fork();
	if (x->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* Only xenstored gets the preload, not the test. */
		setenv("LD_PRELOAD", preload, 1);
		execl(xenstored, xenstored, "-N", (char *)NULL);
		_exit(127);
	}
	if (x->pid < 0)
		return -1;
	for (int i = 0; i < 200; i++) {
		struct timespec tick = {0, 50 * 1000 * 1000};
		struct xs_handle *h;
		char **d = NULL;
		unsigned n;

		if (waitpid(x->pid, NULL, WNOHANG) == x->pid) {
			x->pid = -1;
			fprintf(stderr, "xenstored exited during start-up\n");
			return -1;
		}
		h = xs_open(0);
		if (h != NULL) {
			d = xs_directory(h, XBT_NULL, "/", &n);
			xs_close(h);
		}
		free(d);
		if (d != NULL)
			return 0;
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "xenstored not answering after 10 s\n");
	return -1;
}

#endif
