/*
 * echo_probe: round trips through a TCP echo server, timed, for the
 * isolation tests: how long another app's stall or flood makes a healthy
 * app's clients wait.
 *
 *   echo_probe IPV4 PORT [--count N] [--conns C] [--interval-ms M]
 *              [--size B] [--timeout-ms T] [--max-errors E]
 *
 * Opens C connections (default 4) and does N round trips (default 200)
 * over them in turn, each B bytes (default 64, at most 4096) of a pattern
 * that changes every round trip, waiting M ms (default 10) between them.
 * A round trip is timed from the send to the last byte of its echo, which
 * must be the bytes sent.  One that fails (no echo within T ms, default
 * 2000, a short or wrong echo, a closed connection) counts as an error
 * and as T ms in the figures; its connection is opened again.  With
 * --max-errors, the run ends at the E-th failure (count then says how many
 * round trips were done), so that a server that stopped answering costs
 * the caller E timeouts, not N.  Prints one JSON line:
 *   {"count":N,"errors":E,"p50_ms":X,"p99_ms":Y,"max_ms":Z,
 *    "last_error":"..."}
 * Exit 0 when every round trip succeeded, 1 otherwise, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe_stats.h"

#define CONNS_MAX 64
#define SIZE_MAX_ 4096

struct probe {
	struct sockaddr_in addr;
	int timeout_ms;
	int fd[CONNS_MAX];
	char last_error[160];
};

static int open_conn(struct probe *p)
{
	struct timeval tv = {p->timeout_ms / 1000,
			     (p->timeout_ms % 1000) * 1000};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "connect: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One round trip of size bytes on fd; 0 or -1 (last_error says why). */
static int round_trip(struct probe *p, int fd, const char *out, char *in,
		      size_t size)
{
	size_t got = 0;
	ssize_t n;

	if (send(fd, out, size, MSG_NOSIGNAL) != (ssize_t)size) {
		snprintf(p->last_error, sizeof(p->last_error), "send: %s",
			 strerror(errno));
		return -1;
	}
	while (got < size) {
		n = recv(fd, in + got, size - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(p->last_error, sizeof(p->last_error),
				 "recv: %s",
				 n == 0 ? "connection closed by the server"
				 : errno == EAGAIN ? "no echo in time"
						   : strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	if (memcmp(in, out, size) != 0) {
		snprintf(p->last_error, sizeof(p->last_error),
			 "the echo differs from what was sent");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char out[SIZE_MAX_], in[SIZE_MAX_];
	struct probe p = {.timeout_ms = 2000};
	unsigned count = 200, conns = 4, errors = 0, max_errors = 0, done;
	long interval_ms = 10, size = 64;
	double *rtt;

	if (argc < 3 || inet_pton(AF_INET, argv[1], &p.addr.sin_addr) != 1)
		goto usage;
	p.addr.sin_family = AF_INET;
	p.addr.sin_port = htons((uint16_t)atoi(argv[2]));
	for (int i = 3; i + 1 < argc; i += 2) {
		long v = atol(argv[i + 1]);

		if (strcmp(argv[i], "--count") == 0 && v > 0)
			count = (unsigned)v;
		else if (strcmp(argv[i], "--conns") == 0 && v > 0 &&
			 v <= CONNS_MAX)
			conns = (unsigned)v;
		else if (strcmp(argv[i], "--interval-ms") == 0 && v >= 0)
			interval_ms = v;
		else if (strcmp(argv[i], "--size") == 0 && v > 0 &&
			 v <= SIZE_MAX_)
			size = v;
		else if (strcmp(argv[i], "--timeout-ms") == 0 && v > 0)
			p.timeout_ms = (int)v;
		else if (strcmp(argv[i], "--max-errors") == 0 && v > 0)
			max_errors = (unsigned)v;
		else
			goto usage;
	}
	if (argc % 2 == 0)
		goto usage; /* an option without its value */
	rtt = calloc(count, sizeof(*rtt));
	if (rtt == NULL)
		return 2;
	for (unsigned c = 0; c < conns; c++)
		p.fd[c] = -1;

	for (done = 0; done < count; done++) {
		unsigned i = done, c = i % conns;

		if (max_errors != 0 && errors == max_errors)
			break;
		double t0;

		for (long k = 0; k < size; k++)
			out[k] = (char)('a' + (i + (unsigned)k) % 26);
		if (p.fd[c] < 0)
			p.fd[c] = open_conn(&p);
		t0 = probe_now_ms();
		if (p.fd[c] < 0 ||
		    round_trip(&p, p.fd[c], out, in, (size_t)size) < 0) {
			/* A failure costs what a client would have waited:
			 * the whole timeout. */
			errors++;
			rtt[i] = p.timeout_ms;
			if (p.fd[c] >= 0)
				close(p.fd[c]);
			p.fd[c] = -1;
		} else {
			rtt[i] = probe_now_ms() - t0;
		}
		if (interval_ms > 0) {
			struct timespec ts = {interval_ms / 1000,
					      (interval_ms % 1000) * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	for (unsigned c = 0; c < conns; c++)
		if (p.fd[c] >= 0)
			close(p.fd[c]);

	probe_print_summary(rtt, done, errors, p.last_error);
	free(rtt);
	return errors == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: echo_probe IPV4 PORT [--count N] [--conns C] "
			"[--interval-ms M] [--size B] [--timeout-ms T] "
			"[--max-errors E]\n");
	return 2;
}
