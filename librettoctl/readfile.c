#include "readfile.h"

#include <errno.h>
#include <libretto/protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *readfile_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int readfile(const char *path, char **text, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *buf = NULL;
	size_t used = 0, cap = 0;

	*text = NULL;
	*len = 0;
	if (f == NULL)
		return ctl_fail(LT_EXIT_USAGE, CTL_ERR_FILE, "%s: %s", path,
				strerror(errno));
	for (;;) {
		if (cap - used < 4096) {
			cap = cap ? cap * 2 : 16384;
			char *grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return ctl_fail(LT_EXIT_USAGE, CTL_ERR_FILE,
						"%s: too large to read",
						readfile_name(path));
			}
			buf = grown;
		}
		size_t n = fread(buf + used, 1, cap - used - 1, f);
		used += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int err = errno;
		free(buf);
		if (f != stdin)
			fclose(f);
		return ctl_fail(LT_EXIT_USAGE, CTL_ERR_FILE, "%s: %s",
				readfile_name(path), strerror(err));
	}
	if (f != stdin)
		fclose(f);
	buf[used] = '\0';
	*text = buf;
	*len = used;
	return LT_EXIT_OK;
}
