/*
 * Refusals of guest-written values (librettod/guest_input.c): counted per
 * domain, reported once per domain and reason per interval, the value
 * escaped in the log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "engine.h"
#include "guest_input.h"
#include "log.h"

static char log_path[] = "/tmp/test_guest_input.XXXXXX";

/* The lines logged so far, read back from the file stderr goes to. */
static char *logged(void)
{
	static char buf[65536];
	FILE *f = fopen(log_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int main(void)
{
	struct engine e = {0};
	struct deployment dep = {.engine = &e};
	struct domain evil = {.dep = &dep, .domid = 7};
	struct domain other = {.dep = &dep, .domid = 8};
	const char *path = "/local/domain/7/libretto/guest/state";
	int fd = mkstemp(log_path), saved = dup(STDERR_FILENO);
	char *out;

	/* The log goes to stderr: into a file, to count its lines (a failed
	 * CHECK's message lands there too, and is shown at the end). */
	if (fd < 0 || saved < 0 || dup2(fd, STDERR_FILENO) < 0) {
		perror("log file");
		return 1;
	}
	close(fd);
	log_init("test", 1, 0);
	snprintf(dep.name, sizeof(dep.name), "dep");
	snprintf(evil.be.name, sizeof(evil.be.name), "evil");
	snprintf(other.be.name, sizeof(other.be.name), "other");

	/* A hundred of one reason: all counted, one line. */
	for (int i = 0; i < 100; i++)
		guest_refused(&evil, path, "ready\xff\nFORGED",
			      GUEST_NOT_ASCII);
	out = logged();
	CHECK(evil.refused.count == 100);
	CHECK(lines(out) == 1);
	CHECK(strstr(out, "domain 7 (dep/evil): refused guest/state = "
			  "\"ready\\xff\\x0aFORGED\": not-ascii") != NULL);
	CHECK(strstr(out, "\nFORGED") == NULL);
	CHECK(evil.refused.unreported[GUEST_NOT_ASCII] == 99);

	/* Another reason, and another domain: a line each. */
	guest_refused(&evil, path, "readyX", GUEST_UNKNOWN_TOKEN);
	guest_refused(&other, "/local/domain/8/libretto/guest/seq", "-1",
		      GUEST_NOT_DECIMAL);
	out = logged();
	CHECK(lines(out) == 3);
	CHECK(strstr(out, "domain 8 (dep/other): refused guest/seq = \"-1\": "
			  "not-decimal") != NULL);
	CHECK(other.refused.count == 1 && evil.refused.count == 101);

	/* Once the interval has passed, the next one is reported with how
	 * many went unreported. */
	evil.refused.reported[GUEST_NOT_ASCII].tv_sec -=
	    GUEST_REPORT_INTERVAL_MS / 1000 + 1;
	guest_refused(&evil, path, "\xfe", GUEST_NOT_ASCII);
	out = logged();
	CHECK(lines(out) == 4);
	CHECK(strstr(out, "99 more refused for this reason") != NULL);
	CHECK(evil.refused.unreported[GUEST_NOT_ASCII] == 0);

	/* A path outside the domain's tree is named whole. */
	guest_refused(&evil, "/elsewhere/x", NULL, GUEST_TOO_MANY);
	out = logged();
	CHECK(strstr(out, "refused /elsewhere/x = \"(none)\": too-many") !=
	      NULL);
	dup2(saved, STDERR_FILENO);
	if (check_failures != 0)
		fprintf(stderr, "--- the log ---\n%s", logged());
	unlink(log_path);
	return check_summary("guest_input");
}
