/*
 * status_probe: how long librettod takes to answer `status`, for the
 * fairness test (tests/integration/isolation_flood.sh). One connection to
 * the control socket (docs/protocol.md: a greeting, then JSON lines); one
 * status request at a time, each timed from its send to its reply's end.
 *
 *   status_probe SOCKET [--duration-ms N] [--count N] [--interval-ms N]
 *                [--deployment NAME]
 *
 * Runs until the duration or the count is reached (or SIGTERM/SIGINT),
 * then prints one JSON line:
 *   {"count":N,"errors":N,"p50_ms":X,"p99_ms":X,"max_ms":X,"last_error":"..."}
 * Exit 0 when every request got an "ok":true reply within 10 s.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "probe_stats.h"

#define REPLY_MAX (4u << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct conn {
	int fd;
	char *buf; /* what was read past the last line */
	size_t len;
	char last_error[160];
};

/* Reads one line (without its '\n') into *line, valid until the next
 * call. */
static int read_line(struct conn *c, char **line)
{
	static char *out;
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(c->buf, '\n', c->len);
		if (nl != NULL)
			break;
		if (c->len >= REPLY_MAX) {
			snprintf(c->last_error, sizeof(c->last_error),
				 "a line longer than %u bytes", REPLY_MAX);
			return -1;
		}
		n = recv(c->fd, c->buf + c->len, REPLY_MAX - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(c->last_error, sizeof(c->last_error),
				 "recv: %s",
				 n == 0		   ? "closed by the daemon"
				 : errno == EAGAIN ? "no reply within 10 s"
						   : strerror(errno));
			return -1;
		}
		c->len += (size_t)n;
	}
	free(out);
	out = strndup(c->buf, (size_t)(nl - c->buf));
	if (out == NULL)
		return -1;
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	*line = out;
	return 0;
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {10, 0};
	char *greeting;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(c->last_error, sizeof(c->last_error),
			 "socket path too long");
		return -1;
	}
	strcpy(sa.sun_path, path);
	c->buf = malloc(REPLY_MAX);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->buf == NULL || c->fd < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(c->last_error, sizeof(c->last_error), "connect: %s",
			 strerror(errno));
		return -1;
	}
	return read_line(c, &greeting);
}

/* One status request and its reply. */
static int status_once(struct conn *c, unsigned long id, const char *dep)
{
	char req[256], idkey[48], *line;
	int len;

	if (dep != NULL)
		len = snprintf(req, sizeof(req),
			       "{\"id\":%lu,\"cmd\":\"status\",\"args\":"
			       "{\"deployment\":\"%s\"}}\n",
			       id, dep);
	else
		len = snprintf(req, sizeof(req),
			       "{\"id\":%lu,\"cmd\":\"status\"}\n", id);
	if (len < 0 || (size_t)len >= sizeof(req) ||
	    send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		snprintf(c->last_error, sizeof(c->last_error), "send: %s",
			 strerror(errno));
		return -1;
	}
	/* Not subscribed: the next line is the reply. */
	if (read_line(c, &line) < 0)
		return -1;
	snprintf(idkey, sizeof(idkey), "{\"id\":%lu,\"ok\":true,", id);
	if (strncmp(line, idkey, strlen(idkey)) != 0) {
		snprintf(c->last_error, sizeof(c->last_error),
			 "unexpected reply: %.100s", line);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct conn c = {.fd = -1};
	const char *dep = NULL;
	unsigned long count_max = 0, duration_ms = 0, interval_ms = 0;
	unsigned long errors = 0, id = 1;
	size_t n = 0, cap = 1024;
	double *ms = malloc(cap * sizeof(*ms)), start;

	if (argc < 2 || ms == NULL) {
		fprintf(stderr, "usage: status_probe SOCKET [--duration-ms N] "
				"[--count N] [--interval-ms N] "
				"[--deployment NAME]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc) {
			fprintf(stderr, "status_probe: %s needs a value\n",
				argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--duration-ms") == 0)
			duration_ms = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0)
			count_max = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--interval-ms") == 0)
			interval_ms = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--deployment") == 0)
			dep = argv[++i];
		else {
			fprintf(stderr, "status_probe: unknown option %s\n",
				argv[i]);
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (conn_open(&c, argv[1]) < 0) {
		printf("{\"count\":0,\"errors\":1,\"last_error\":\"%s\"}\n",
		       c.last_error);
		return 1;
	}
	start = probe_now_ms();
	while (!stop && (count_max == 0 || n < count_max) &&
	       (duration_ms == 0 ||
		probe_now_ms() - start < (double)duration_ms)) {
		double t0 = probe_now_ms(), t;

		if (status_once(&c, id++, dep) < 0) {
			errors++;
			break; /* the connection's framing is lost */
		}
		t = probe_now_ms() - t0;
		if (n == cap) {
			double *v = realloc(ms, 2 * cap * sizeof(*ms));

			if (v == NULL)
				break;
			ms = v;
			cap *= 2;
		}
		ms[n++] = t;
		if (interval_ms > 0)
			usleep((useconds_t)interval_ms * 1000);
	}
	probe_print_summary(ms, n, errors, c.last_error);
	close(c.fd);
	free(c.buf);
	free(ms);
	return errors == 0 && n > 0 ? 0 : 1;
}
