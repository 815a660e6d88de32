#include "interrupt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t interrupted;
static sigset_t wait_mask;
static bool installed;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

void interrupt_setup(void)
{
	struct sigaction sa;
	sigset_t block;

	if (installed)
		return;
	/* Started with SIGINT ignored (nohup, a background job): keep it so,
	 * the caller asked not to be interrupted. */
	sigaction(SIGINT, NULL, &sa);
	if (sa.sa_handler == SIG_IGN) {
		sigprocmask(SIG_BLOCK, NULL, &wait_mask);
		installed = true;
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	installed = true;
}

const sigset_t *interrupt_wait_mask(void)
{
	return &wait_mask;
}

bool interrupt_pending(void)
{
	return interrupted != 0;
}

void interrupt_exit(void)
{
	sigset_t unblock;

	fflush(stdout);
	fflush(stderr);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGINT);
	raise(SIGINT); /* pending while blocked, delivered on unblock */
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);
	exit(130); /* not reached unless SIGINT is ignored by the parent */
}
