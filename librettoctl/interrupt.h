/*
 * Ctrl-C while talking to the daemon.  SIGINT is blocked except inside the
 * wait for input (ppoll), so it can only interrupt that wait and a command
 * always notices it: no race between "check the flag" and "block in read".
 */
#ifndef LIBRETTOCTL_INTERRUPT_H
#define LIBRETTOCTL_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Blocks SIGINT and installs the handler; idempotent. */
void interrupt_setup(void);
/* The signal mask to wait with: the current one minus SIGINT. */
const sigset_t *interrupt_wait_mask(void);
/* True once SIGINT arrived. */
bool interrupt_pending(void);
/*
 * Ends the process the way the shell expects after Ctrl-C: killed by
 * SIGINT (status 130 in the shell), so a script running librettoctl in a
 * loop stops too.
 */
_Noreturn void interrupt_exit(void);

#endif
