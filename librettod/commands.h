/* The daemon's dispatch table for the control socket. */
#ifndef LIBRETTOD_COMMANDS_H
#define LIBRETTOD_COMMANDS_H

#include "control.h"

/* ctx is the struct engine. */
extern const struct control_command daemon_commands[];

#endif
