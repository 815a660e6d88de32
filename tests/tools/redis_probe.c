/*
 * redis_probe: one long-lived connection to a redis server, sending PING
 * and waiting for +PONG in a loop, for the switch's tests and benchmark.
 * It tells whether a connection survived (the same local port from start
 * to end, no reconnect), how many requests failed, and the longest time
 * without a reply: the gap a client saw.
 *
 *   redis_probe HOST PORT [--reconnect] [--interval-ms N] [--progress FILE]
 *
 * Runs until SIGTERM or SIGINT, then prints one JSON line:
 *   {"requests":N,"errors":N,"reconnects":N,"first_local_port":P,
 *    "local_port":P,"max_gap_ms":G,"last_error":"..."}
 * Without --reconnect the first error ends the run (exit 1); with it, the
 * probe connects again and counts a lost connection.  A reply slower than
 * 5 s is an error.  --progress FILE: the count of replies, rewritten
 * every 100 ms, so that a caller can see the stream move.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe_stats.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct probe {
	struct sockaddr_in addr;
	int fd;
	unsigned long long requests, errors, reconnects;
	int first_port, port;
	double max_gap_ms, last_reply;
	char last_error[160];
};

static int probe_connect(struct probe *p)
{
	struct timeval tv = {5, 0};
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	int one = 1;

	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 ||
	    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(p->fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) < 0 ||
	    getsockname(p->fd, (struct sockaddr *)&local, &len) < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "connect: %s",
			 strerror(errno));
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		return -1;
	}
	p->port = ntohs(local.sin_port);
	if (p->first_port == 0)
		p->first_port = p->port;
	return 0;
}

/* One PING, one +PONG. */
static int probe_once(struct probe *p)
{
	static const char ping[] = "PING\r\n", pong[] = "+PONG\r\n";
	char buf[sizeof(pong)];
	size_t got = 0;
	ssize_t n;

	if (send(p->fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(ping) - 1) {
		snprintf(p->last_error, sizeof(p->last_error), "send: %s",
			 strerror(errno));
		return -1;
	}
	while (got < sizeof(pong) - 1) {
		n = recv(p->fd, buf + got, sizeof(pong) - 1 - got, 0);
		if (n < 0 && errno == EINTR) {
			if (stop)
				return -1; /* the end, not an error */
			continue;
		}
		if (n <= 0) {
			snprintf(p->last_error, sizeof(p->last_error),
				 "recv: %s",
				 n == 0 ? "connection closed by the server"
				 : errno == EAGAIN ? "no reply within 5 s"
						   : strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, pong, sizeof(pong) - 1) != 0) {
		snprintf(p->last_error, sizeof(p->last_error),
			 "unexpected reply");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct probe p = {.fd = -1};
	struct sigaction sa = {.sa_handler = on_signal};
	int reconnect = 0, interval_ms = 0;
	const char *progress = NULL;
	double last_progress = 0;

	if (argc < 3 || inet_pton(AF_INET, argv[1], &p.addr.sin_addr) != 1) {
		fprintf(stderr, "usage: redis_probe IPV4 PORT [--reconnect] "
				"[--interval-ms N]\n");
		return 2;
	}
	p.addr.sin_family = AF_INET;
	p.addr.sin_port = htons((uint16_t)atoi(argv[2]));
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--reconnect") == 0)
			reconnect = 1;
		else if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
			interval_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--progress") == 0 && i + 1 < argc)
			progress = argv[++i];
		else {
			fprintf(stderr, "redis_probe: unknown option %s\n",
				argv[i]);
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (probe_connect(&p) < 0) {
		fprintf(stderr, "redis_probe: %s\n", p.last_error);
		return 1;
	}
	/* Ready: the caller may start switching. */
	fprintf(stderr, "redis_probe: connected from port %d\n", p.port);
	p.last_reply = probe_now_ms();
	while (!stop) {
		if (probe_once(&p) == 0) {
			double t = probe_now_ms();

			p.requests++;
			if (t - p.last_reply > p.max_gap_ms)
				p.max_gap_ms = t - p.last_reply;
			p.last_reply = t;
		} else if (!stop) {
			p.errors++;
			if (!reconnect)
				break;
			close(p.fd);
			while (!stop && probe_connect(&p) < 0)
				usleep(10000);
			p.reconnects++;
		}
		if (progress != NULL && probe_now_ms() - last_progress >= 100) {
			/* Replaced whole: a reader never sees it half-written.
			 */
			char tmp[4096];
			FILE *f;

			snprintf(tmp, sizeof(tmp), "%s.tmp", progress);
			f = fopen(tmp, "w");
			if (f != NULL) {
				fprintf(f, "%llu\n", p.requests);
				if (fclose(f) == 0)
					rename(tmp, progress);
			}
			last_progress = probe_now_ms();
		}
		if (interval_ms > 0)
			usleep((useconds_t)interval_ms * 1000);
	}
	printf("{\"requests\":%llu,\"errors\":%llu,\"reconnects\":%llu,"
	       "\"first_local_port\":%d,\"local_port\":%d,\"max_gap_ms\":%.3f,"
	       "\"last_error\":\"%s\"}\n",
	       p.requests, p.errors, p.reconnects, p.first_port, p.port,
	       p.max_gap_ms, p.last_error);
	return p.errors == 0 ? 0 : 1;
}
