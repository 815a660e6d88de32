/*
 * idle_clients: opens N connections to librettod's control socket and holds
 * them without a request, the attack that once left librettoctl without an
 * answer.  It tells how many the daemon greeted, refused (with its error
 * line) or closed, and goes on telling while it holds them.
 *
 *   idle_clients SOCKET N [--user UID] [--group GID] [--subscribe]
 *                [--hold-ms MS] [--connect-ms MS]
 *
 * Its own soft descriptor limit is raised to N + 64 first (the hard one
 * must allow it, or it runs with CAP_SYS_RESOURCE), then --group and --user
 * drop it to that uid with that group as its only group.  Each connection waits
 * up to --connect-ms (default 20000) in all to be accepted and read its first
 * line.  Then one JSON line:
 *   {"attempted":N,"greeted":G,"refused":R,"closed":C,"silent":S,
 *    "connect_errors":E,"refusal":"<the first refusal's message>"}
 * With --subscribe, each greeted connection then subscribes and never
 * reads again: a stuck `status --watch`.  While holding (until SIGTERM,
 * SIGINT or --hold-ms), a line is printed whenever the daemon closes more:
 *   {"held":H,"closed_by_daemon":K,"notice":"<its last error line's
 *    message>"}
 * A subscriber that never reads is seen closed by POLLHUP, unread.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum conn_state { PENDING, GREETED, REFUSED, CLOSED, HELD_CLOSED };

struct conn {
	int fd;
	enum conn_state state;
	char line[512];
	size_t len;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The "message" string of an error line, JSON escapes left as they are. */
static void message_of(const char *line, char *out, size_t size)
{
	const char *p = strstr(line, "\"message\":\"");
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("\"message\":\"");
	while (p[n] != '\0' && p[n] != '"' && n + 1 < size) {
		if (p[n] == '\\' && p[n + 1] != '\0' && n + 2 < size)
			n++;
		n++;
	}
	snprintf(out, size, "%.*s", (int)n, p);
}

static int connect_one(const struct sockaddr_un *sun, long deadline)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* A full backlog (the daemon resting its accept) says EAGAIN: try
	 * again until the deadline, as a blocking client would wait. */
	while (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0) {
		if (errno != EAGAIN || now_ms() >= deadline) {
			close(fd);
			return -1;
		}
		usleep(2000);
	}
	return fd;
}

/* Reads what the first line needs; 1 once it is whole or the peer is
 * gone. */
static int read_first_line(struct conn *c)
{
	ssize_t n = read(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0
							 : (c->state = CLOSED);
	if (n == 0) {
		c->state = CLOSED;
		return 1;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	if (memchr(c->line, '\n', c->len) == NULL &&
	    c->len < sizeof(c->line) - 1)
		return 0;
	c->state = strstr(c->line, "\"libretto\"") != NULL ? GREETED : REFUSED;
	return 1;
}

/* Waits until every connection has its first line, or the deadline. */
static void read_first_lines(struct conn *conns, int n, long deadline)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int *idx = calloc((size_t)n, sizeof(*idx));

	while (!stop && now_ms() < deadline) {
		int k = 0;

		for (int i = 0; i < n; i++)
			if (conns[i].fd >= 0 && conns[i].state == PENDING) {
				p[k].fd = conns[i].fd;
				p[k].events = POLLIN;
				idx[k++] = i;
			}
		if (k == 0)
			break;
		if (poll(p, (nfds_t)k, 50) <= 0)
			continue;
		for (int j = 0; j < k; j++)
			if (p[j].revents != 0)
				read_first_line(&conns[idx[j]]);
	}
	free(p);
	free(idx);
}

static void drop_privileges(long uid, long gid)
{
	if (gid >= 0) {
		gid_t g = (gid_t)gid;

		if (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0) {
			perror("idle_clients: group");
			exit(2);
		}
	}
	if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) {
		perror("idle_clients: user");
		exit(2);
	}
}

/* Holds the greeted connections; reports each time the daemon closes
 * more of them. */
static void hold(struct conn *conns, int n, int subscribed, long hold_ms)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int *idx = calloc((size_t)n, sizeof(*idx));
	long end = hold_ms > 0 ? now_ms() + hold_ms : 0;
	int closed = 0, reported = -1;
	char notice[256] = "";

	while (!stop && (end == 0 || now_ms() < end)) {
		int k = 0;

		for (int i = 0; i < n; i++)
			if (conns[i].state == GREETED) {
				p[k].fd = conns[i].fd;
				/* A stuck subscriber reads nothing: it
				 * only learns of the hang-up. */
				p[k].events = subscribed ? POLLRDHUP : POLLIN;
				idx[k++] = i;
			}
		if (closed != reported) {
			printf("{\"held\":%d,\"closed_by_daemon\":%d,"
			       "\"notice\":\"%s\"}\n",
			       k, closed, notice);
			fflush(stdout);
			reported = closed;
		}
		if (k == 0 || poll(p, (nfds_t)k, 100) <= 0)
			continue;
		for (int j = 0; j < k; j++) {
			struct conn *c = &conns[idx[j]];
			char buf[4096];
			ssize_t r;

			if (p[j].revents == 0)
				continue;
			if (subscribed) {
				if (p[j].revents & (POLLHUP | POLLRDHUP)) {
					c->state = HELD_CLOSED;
					closed++;
				}
				continue;
			}
			r = read(c->fd, buf, sizeof(buf) - 1);
			if (r > 0) {
				char msg[256];

				buf[r] = '\0';
				message_of(buf, msg, sizeof(msg));
				if (msg[0] != '\0')
					memcpy(notice, msg, sizeof(notice));
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				c->state = HELD_CLOSED;
				closed++;
			}
		}
	}
	free(p);
	free(idx);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct rlimit rl;
	struct conn *conns;
	long uid = -1, gid = -1, hold_ms = 0, connect_ms = 20000, deadline;
	int n, subscribe = 0, counts[5] = {0}, errors = 0;
	char refusal[256] = "";
	const char *sub = "{\"id\":1,\"cmd\":\"subscribe\"}\n";

	if (argc < 3) {
		fprintf(stderr, "usage: idle_clients SOCKET N [--user UID] "
				"[--group GID] [--subscribe] [--hold-ms MS] "
				"[--connect-ms MS]\n");
		return 2;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	n = atoi(argv[2]);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--subscribe") == 0)
			subscribe = 1;
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			uid = atol(argv[++i]);
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			gid = atol(argv[++i]);
		else if (strcmp(argv[i], "--hold-ms") == 0 && i + 1 < argc)
			hold_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--connect-ms") == 0 && i + 1 < argc)
			connect_ms = atol(argv[++i]);
		else {
			fprintf(stderr, "idle_clients: bad argument %s\n",
				argv[i]);
			return 2;
		}
	}
	if (n <= 0)
		return 2;
	/* Its own limit must not be what stops the flood: the soft one up
	 * to what N needs (raising the hard one needs CAP_SYS_RESOURCE). */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 2;
	if (rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			perror("idle_clients: setrlimit (its hard limit is "
			       "below N + 64)");
			return 2;
		}
	}
	drop_privileges(uid, gid);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	conns = calloc((size_t)n, sizeof(*conns));
	if (conns == NULL)
		return 2;
	deadline = now_ms() + connect_ms;
	for (int i = 0; i < n && !stop; i++) {
		conns[i].fd = connect_one(&sun, deadline);
		if (conns[i].fd < 0) {
			errors++;
			conns[i].state = CLOSED;
		}
	}
	read_first_lines(conns, n, deadline);
	for (int i = 0; i < n; i++) {
		counts[conns[i].state]++;
		if (conns[i].state == REFUSED && refusal[0] == '\0')
			message_of(conns[i].line, refusal, sizeof(refusal));
		if (conns[i].state != GREETED && conns[i].fd >= 0) {
			close(conns[i].fd);
			conns[i].fd = -1;
		}
		if (subscribe && conns[i].state == GREETED &&
		    write(conns[i].fd, sub, strlen(sub)) < 0)
			perror("idle_clients: subscribe");
	}
	printf("{\"attempted\":%d,\"greeted\":%d,\"refused\":%d,"
	       "\"closed\":%d,\"silent\":%d,\"connect_errors\":%d,"
	       "\"refusal\":\"%s\"}\n",
	       n, counts[GREETED], counts[REFUSED], counts[CLOSED] - errors,
	       counts[PENDING], errors, refusal);
	fflush(stdout);
	hold(conns, n, subscribe, hold_ms);
	for (int i = 0; i < n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	return 0;
}
