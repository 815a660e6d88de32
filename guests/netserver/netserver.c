/*
 * libretto-netserver: the network server domain's program.
 *
 * This is the control-plane side only: it announces itself in xenstore
 * (server/state: starting, then running) and stays up until told to stop,
 * so that the daemon can deploy, watch and restart it. L2 forwarding,
 * ARP, the portmap and the rings come with the data path (issue 3).
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "guest_xs.h"
#include <libretto/xs_paths.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct guest_xs gx;
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (guest_xs_open(&gx, "libretto-netserver") < 0)
		return 1;
	if (guest_xs_write(&gx, LT_XS_SERVER_STATE, LT_SERVER_STARTING) < 0 ||
	    guest_xs_write(&gx, LT_XS_GUEST_STATE, LT_GUEST_BOOTING) < 0) {
		perror("libretto-netserver: xenstore write");
		return 1;
	}
	guest_xs_write(&gx, LT_XS_SERVER_STATE, LT_SERVER_RUNNING);
	guest_xs_write(&gx, LT_XS_GUEST_STATE, LT_GUEST_READY);
	while (!stop)
		pause();
	guest_xs_close(&gx);
	return 0;
}
