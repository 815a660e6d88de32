#include "report.h"

#include <libretto/protocol.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jget.h"
#include "output.h"

int ctl_fail(int status, const char *class, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* keep stdout and stderr in order on a terminal */
	fprintf(stderr, "librettoctl: %s: ", class);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int ctl_exit_for_class(const char *class)
{
	/* The request itself was wrong: the user has to change the command
	 * line or the file, retrying is pointless. */
	static const char *const usage_classes[] = {
	    LT_ERR_PARSE,	    LT_ERR_TOO_LARGE,	 LT_ERR_BAD_REQUEST,
	    LT_ERR_UNKNOWN_COMMAND, LT_ERR_BAD_ARGUMENT, LT_ERR_INVALID,
	};

	if (class == NULL)
		return LT_EXIT_FAILED;
	for (size_t i = 0; i < sizeof(usage_classes) / sizeof(*usage_classes);
	     i++)
		if (strcmp(class, usage_classes[i]) == 0)
			return LT_EXIT_USAGE;
	return LT_EXIT_FAILED;
}

int ctl_fail_remote(struct json_object *error)
{
	const char *class = jget_str(error, "class");
	const char *message = jget_str(error, "message");
	int status = ctl_exit_for_class(class);

	if (message == NULL)
		message = "(no message)";
	fflush(stdout);
	/* invalid-deployment reads like a compiler error, so editors can jump
	 * to the position. */
	if (class == NULL || strcmp(class, LT_ERR_INVALID) != 0) {
		fputs("librettoctl: ", stderr);
		out_text(stderr, class != NULL ? class : "error");
		fputs(": ", stderr);
	}
	out_text(stderr, message);
	fputc('\n', stderr);
	return status;
}
