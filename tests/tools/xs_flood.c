/*
 * xs_flood: what a hostile guest can do to the daemon's watches without
 * leaving its own tree: write its nodes as fast as one xenstore
 * connection goes (one write answered before the next is sent, as
 * libxenstore does), for the fairness test (tests/integration/
 * isolation_flood.sh). A process per write (xenstore-write) is far slower.
 *
 *   xs_flood COUNT PATH VALUE [PATH VALUE...]
 *
 * Writes the pairs in turn, COUNT writes in all, on XENSTORED_PATH, then
 * prints one JSON line: {"writes":N,"errors":N,"seconds":S,"per_s":R}.
 * Exit 0 when every write succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct xs_handle *h;
	unsigned long count, errors = 0, i;
	unsigned pairs;
	char *end;
	double start, secs;

	if (argc < 4 || (argc - 2) % 2 != 0) {
		fprintf(stderr, "usage: xs_flood COUNT PATH VALUE "
				"[PATH VALUE...]\n");
		return 2;
	}
	count = strtoul(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0') {
		fprintf(stderr, "xs_flood: bad count '%s'\n", argv[1]);
		return 2;
	}
	pairs = (unsigned)(argc - 2) / 2;
	h = xs_open(0);
	if (h == NULL) {
		fprintf(stderr, "xs_flood: cannot connect to xenstored: %s\n",
			strerror(errno));
		return 1;
	}
	start = now_s();
	for (i = 0; i < count; i++) {
		const char *path = argv[2 + 2 * (i % pairs)];
		const char *value = argv[3 + 2 * (i % pairs)];

		if (!xs_write(h, XBT_NULL, path, value, strlen(value)) &&
		    errors++ == 0)
			fprintf(stderr, "xs_flood: write %s: %s\n", path,
				strerror(errno));
	}
	secs = now_s() - start;
	xs_close(h);
	printf("{\"writes\":%lu,\"errors\":%lu,\"seconds\":%.3f,"
	       "\"per_s\":%.0f}\n",
	       count, errors, secs, secs > 0 ? (double)count / secs : 0.0);
	return errors == 0 ? 0 : 1;
}
