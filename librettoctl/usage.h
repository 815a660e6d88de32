/*
 * Help texts.  docs/librettoctl.md says the same; keep them in step.
 */
#ifndef LIBRETTOCTL_USAGE_H
#define LIBRETTOCTL_USAGE_H

#include <stdio.h>

/* `librettoctl --help`. */
void usage_print_global(FILE *f);
/* `librettoctl COMMAND --help`; returns -1 for an unknown command. */
int usage_print_command(FILE *f, const char *command);
/* The one-line synopsis of a command, for usage errors. */
const char *usage_synopsis(const char *command);

#endif
