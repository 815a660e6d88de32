/*
 * The run-time choice of realisation (guests/platform/platform.c) and the
 * xen realisation where no hypervisor is: LIBRETTO_PLATFORM unset, empty,
 * posix, xen and unknown, each in a child of its own (the choice is made
 * once per process), with the child's stderr captured, since the layer
 * must print nothing but the one line about an unknown value.
 *
 * On a host without /dev/xen (this one), the xen calls must fail cleanly
 * with -ENOENT and leave nothing behind; a malformed reference must read
 * as -EINVAL and a wrong size as -EMSGSIZE on any host, since those are
 * checked before a device is opened.  (The real thing runs under Xen:
 * tests/xen/plat_pingpong.c.)
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform.h"
#include "platform_xs.h"

#define PEER 7

/* Open descriptors of this process. */
static int count_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void case_default(void)
{
	CHECK(strcmp(plat_name(), "posix") == 0);
	/* once chosen, a change of the variable changes nothing */
	setenv(PLAT_ENV, "xen", 1);
	CHECK(strcmp(plat_name(), "posix") == 0);
}

static void case_xen_refs(void)
{
	struct plat_shared *s = (struct plat_shared *)&s;
	struct plat_chan *c = (struct plat_chan *)&c;

	CHECK(strcmp(plat_name(), "xen") == 0);
	/* malformed, foreign or wrong-sized, on any host */
	CHECK(plat_share_map(PEER, "", 2, &s) == -EINVAL && s == NULL);
	CHECK(plat_share_map(PEER, "8,,9", 2, &s) == -EINVAL);
	CHECK(plat_share_map(PEER, "posix-memfd:1:2:3:4", 1, &s) == -EINVAL);
	CHECK(plat_share_map(PEER, "8,9", 3, &s) == -EMSGSIZE && s == NULL);
	CHECK(plat_share_map(PEER, "8,9", 1, &s) == -EMSGSIZE);
	CHECK(plat_share_map(PEER, "8", 0, &s) == -EINVAL);
	CHECK(plat_share_map(0x7ff0, "8", 1, &s) == -EINVAL); /* DOMID_SELF */
	CHECK(plat_chan_bind(PEER, "", &c) == -EINVAL && c == NULL);
	CHECK(plat_chan_bind(PEER, "0", &c) == -EINVAL);
	CHECK(plat_chan_bind(PEER, "12x", &c) == -EINVAL);
	CHECK(plat_chan_bind(PEER, "posix-eventfd:1:2:3:4:5:6", &c) == -EINVAL);
	CHECK(plat_share_alloc(PEER, 0, &s) == -EINVAL && s == NULL);
	CHECK(plat_share_alloc(PEER, PLAT_SHARE_MAX_PAGES + 1, &s) == -EINVAL);
	CHECK(plat_chan_alloc_unbound(0x7ff0, &c) == -EINVAL);
}

/* No hypervisor: every call that needs a device says it is not there. */
static void case_xen_absent(void)
{
	struct plat_shared *s = (struct plat_shared *)&s;
	struct plat_chan *c = (struct plat_chan *)&c;
	int fds = count_fds();

	CHECK(plat_share_alloc(PEER, 514, &s) == -ENOENT && s == NULL);
	CHECK(plat_share_map(PEER, "8,9", 2, &s) == -ENOENT && s == NULL);
	CHECK(plat_chan_alloc_unbound(PEER, &c) == -ENOENT && c == NULL);
	CHECK(plat_chan_bind(PEER, "5", &c) == -ENOENT && c == NULL);
	plat_shared_free(NULL);
	plat_chan_close(NULL);
	CHECK(count_fds() == fds);
}

static void case_invalid(void)
{
	struct plat_shared *s = (struct plat_shared *)&s;
	struct plat_chan *c = (struct plat_chan *)&c;

	CHECK(strcmp(plat_name(), "invalid") == 0);
	CHECK(plat_share_alloc(PEER, 1, &s) == -EINVAL && s == NULL);
	CHECK(plat_share_map(PEER, "8", 1, &s) == -EINVAL && s == NULL);
	CHECK(plat_chan_alloc_unbound(PEER, &c) == -EINVAL && c == NULL);
	CHECK(plat_chan_bind(PEER, "5", &c) == -EINVAL && c == NULL);
	plat_shared_free(NULL);
	plat_chan_close(NULL);
}

/* Runs fn in a child with PLAT_ENV = value (NULL: unset); returns what
 * the child wrote on stderr, other than check failures, in err.  The
 * child's failed checks count here. */
static void run_case(const char *value, void (*fn)(void), char *err,
		     size_t size)
{
	int pipefd[2], status;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	err[0] = '\0';
	if (!CHECK(pipe(pipefd) == 0))
		return;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 2);
		if (value != NULL)
			setenv(PLAT_ENV, value, 1);
		else
			unsetenv(PLAT_ENV);
		fn();
		_exit(check_failures);
	}
	close(pipefd[1]);
	while (used + 1 < size &&
	       (n = read(pipefd[0], err + used, size - 1 - used)) > 0)
		used += (size_t)n;
	err[used] = '\0';
	close(pipefd[0]);
	if (!CHECK(pid > 0 && waitpid(pid, &status, 0) == pid))
		return;
	if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "  with %s=%s:\n%s", PLAT_ENV,
			value ? value : "(unset)", err);
		err[0] = '\0';
	}
}

int main(void)
{
	char err[4096];

	run_case(NULL, case_default, err, sizeof(err));
	CHECK(err[0] == '\0');
	run_case("", case_default, err, sizeof(err));
	CHECK(err[0] == '\0');
	run_case("posix", case_default, err, sizeof(err));
	CHECK(err[0] == '\0');

	run_case("xen", case_xen_refs, err, sizeof(err));
	CHECK(err[0] == '\0');
	if (access("/dev/xen/gntalloc", F_OK) == 0 ||
	    access("/dev/xen/evtchn", F_OK) == 0) {
		printf("platform_choice: /dev/xen exists: the no-hypervisor "
		       "case is not run\n");
	} else {
		run_case("xen", case_xen_absent, err, sizeof(err));
		/* the libraries' own messages must not get through */
		if (!CHECK(err[0] == '\0'))
			fprintf(stderr, "  printed: %s", err);
	}

	run_case("bogus", case_invalid, err, sizeof(err));
	/* one line, once, naming the variable and the value */
	CHECK(strstr(err, PLAT_ENV "=bogus") != NULL);
	CHECK(strchr(err, '\n') == err + strlen(err) - 1);
	return check_summary("platform_choice");
}
