/*
 * The posix platform layer (guests/platform): two processes share 4 pages
 * and a channel whose references travel over a pipe, as they would over
 * xenstore; a ping-pong measures the round trip; then the error paths and
 * the clean-up when either side closes or dies.  No xenstore here (see
 * test_platform_xs.c).
 */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

#define NPAGES	  4
#define PINGPONGS 100000
/* Long enough for a loaded CI host, short enough that a lost notification
 * fails the test instead of hanging it until ctest's timeout. */
#define WAIT_MS 10000

/* Peer domids: any number; the posix platform only records them. */
#define DOM_A 1
#define DOM_B 2

/* ---- what the process holds: for the leak checks --------------------- */

/* A description of every open descriptor, one line each, sorted by fd
 * number, so that two snapshots compare with strcmp. */
static void fd_snapshot(char *buf, size_t size)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	size_t used = 0;
	char link[256], path[300];
	int mark = dirfd(d);

	buf[0] = '\0';
	/* The listing is sorted by the kernel already (ascending fd). */
	while ((e = readdir(d)) != NULL) {
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == mark)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		used += (size_t)snprintf(buf + used, size - used, "%d %s\n", fd,
					 link);
		if (used >= size)
			break;
	}
	closedir(d);
}

/* Mappings of our memfds left in this process. */
static int share_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/memfd:libretto-share-") != NULL)
			n++;
	fclose(f);
	return n;
}

/* Entries of /dev/shm: the posix platform must never add one (a named
 * segment is what leaks when its owner is killed). */
static int dev_shm_entries(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- pipe helpers ---------------------------------------------------- */

static int send_line(int fd, const char *s)
{
	size_t len = strlen(s);

	return write(fd, s, len) == (ssize_t)len && write(fd, "\n", 1) == 1
		   ? 0
		   : -1;
}

/* Reads one line (without its '\n'), byte by byte: the pipe carries two
 * lines and neither side may read the other's. */
static int recv_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r <= 0)
			return -1;
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		buf[n++] = c;
	}
	return -1;
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the shared layout of the ping-pong ------------------------------ */

/* Word 0: the ping (A writes), word 1: the pong (B writes); the pattern
 * fills the rest of the 4 pages, so that all of them are checked. */
#define PATTERN_OFF 64

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131u + 7u);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Domain B: maps, binds, writes the pattern, notifies; then answers every
 * ping.  Exits with its own count of failed checks. */
static int run_b(int in, int out)
{
	char share_ref[PLAT_REF_MAX], chan_ref[PLAT_REF_MAX], before[4096],
	    after[4096];
	struct plat_shared *s = NULL;
	struct plat_chan *c = NULL;
	volatile uint64_t *w;
	uint8_t *p;
	size_t len, i;
	uint64_t k;

	check_failures = 0;
	if (!CHECK(recv_line(in, share_ref, sizeof(share_ref)) == 0) ||
	    !CHECK(recv_line(in, chan_ref, sizeof(chan_ref)) == 0))
		return 1;
	fd_snapshot(before, sizeof(before));
	if (!CHECK(plat_share_map(DOM_A, share_ref, NPAGES, &s) == 0) ||
	    !CHECK(plat_chan_bind(DOM_A, chan_ref, &c) == 0))
		return 1;
	CHECK(strcmp(plat_shared_ref(s), "") == 0);
	CHECK(strcmp(plat_chan_ref(c), "") == 0);
	CHECK(plat_shared_npages(s) == NPAGES);
	/* close-on-exec: the guest's application must not inherit it */
	CHECK(fcntl(plat_chan_fd(c), F_GETFD) & FD_CLOEXEC);

	p = plat_shared_addr(s);
	len = NPAGES * plat_page_size();
	for (i = PATTERN_OFF; i < len; i++)
		p[i] = pattern(i);
	CHECK(plat_chan_notify(c) == 0);

	w = (volatile uint64_t *)p;
	for (k = 1; k <= PINGPONGS; k++) {
		int r = plat_chan_wait(c, WAIT_MS);

		if (!CHECK(r == 1)) {
			fprintf(stderr, "B: wait for ping %llu: %d\n",
				(unsigned long long)k, r);
			break;
		}
		if (!CHECK(__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) == k))
			break;
		__atomic_store_n(&w[1], k, __ATOMIC_RELEASE);
		if (!CHECK(plat_chan_notify(c) == 0))
			break;
	}

	plat_shared_free(s);
	plat_chan_close(c);
	/* The mapping side holds nothing once it has unmapped and closed. */
	fd_snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) == 0);
	CHECK(share_mappings() == 0);
	CHECK(send_line(out, "done") == 0);
	return check_failures;
}

static void test_pingpong(void)
{
	char before[4096], after[4096], line[16];
	int64_t *rtt, t0, sum = 0;
	int a2b[2], b2a[2], shm0, r;
	struct plat_shared *s;
	struct plat_chan *c;
	struct pollfd pfd;
	volatile uint64_t *w;
	uint8_t *p;
	size_t len, i, bad = 0;
	uint64_t k;
	pid_t pid;

	shm0 = dev_shm_entries();
	fd_snapshot(before, sizeof(before));
	if (!CHECK(pipe2(a2b, O_CLOEXEC) == 0) ||
	    !CHECK(pipe2(b2a, O_CLOEXEC) == 0))
		return;
	/* Fork before allocating: B must reach A's pages through the
	 * reference alone, not through descriptors inherited by fork. */
	pid = fork();
	if (pid == 0) {
		close(a2b[1]);
		close(b2a[0]);
		_exit(run_b(a2b[0], b2a[1]));
	}
	close(a2b[0]);
	close(b2a[1]);

	if (!CHECK(plat_share_alloc(DOM_B, NPAGES, &s) == 0) ||
	    !CHECK(plat_chan_alloc_unbound(DOM_B, &c) == 0)) {
		kill(pid, SIGKILL);
		child_status(pid);
		return;
	}
	printf("share ref: %s\nchannel ref: %s\n", plat_shared_ref(s),
	       plat_chan_ref(c));
	p = plat_shared_addr(s);
	len = NPAGES * plat_page_size();
	/* Fresh shared pages are zeroed (gntalloc's are too). */
	for (i = 0; i < len; i++)
		bad += p[i] != 0;
	CHECK(bad == 0);
	CHECK(send_line(a2b[1], plat_shared_ref(s)) == 0);
	CHECK(send_line(a2b[1], plat_chan_ref(c)) == 0);

	/* The first notification, waited for as a daemon loop would: poll on
	 * the channel's fd, then ack. */
	pfd = (struct pollfd){.fd = plat_chan_fd(c), .events = POLLIN};
	CHECK(poll(&pfd, 1, WAIT_MS) == 1);
	CHECK(plat_chan_ack(c) == 1);
	CHECK(plat_chan_ack(c) == 0); /* consumed */
	for (bad = 0, i = PATTERN_OFF; i < len; i++)
		bad += p[i] != pattern(i);
	CHECK(bad == 0);

	rtt = calloc(PINGPONGS, sizeof(*rtt));
	w = (volatile uint64_t *)p;
	for (k = 1; k <= PINGPONGS; k++) {
		t0 = now_ns();
		__atomic_store_n(&w[0], k, __ATOMIC_RELEASE);
		if (!CHECK(plat_chan_notify(c) == 0))
			break;
		r = poll(&pfd, 1, WAIT_MS);
		if (!CHECK(r == 1)) {
			fprintf(stderr, "A: no pong %llu\n",
				(unsigned long long)k);
			break;
		}
		CHECK(plat_chan_ack(c) == 1);
		rtt[k - 1] = now_ns() - t0;
		if (!CHECK(__atomic_load_n(&w[1], __ATOMIC_ACQUIRE) == k))
			break;
	}
	if (k > PINGPONGS) {
		for (i = 0; i < PINGPONGS; i++)
			sum += rtt[i];
		qsort(rtt, PINGPONGS, sizeof(*rtt), cmp_i64);
		printf("round trip over %d ping-pongs: mean %lld ns, p50 %lld "
		       "ns, p99 %lld ns, max %lld ns\n",
		       PINGPONGS, (long long)(sum / PINGPONGS),
		       (long long)rtt[PINGPONGS / 2],
		       (long long)rtt[PINGPONGS * 99 / 100],
		       (long long)rtt[PINGPONGS - 1]);
	}
	free(rtt);

	CHECK(recv_line(b2a[0], line, sizeof(line)) == 0);
	CHECK(strcmp(line, "done") == 0);
	CHECK(child_status(pid) == 0);
	plat_shared_free(s);
	plat_chan_close(c);
	close(a2b[1]);
	close(b2a[0]);

	fd_snapshot(after, sizeof(after));
	if (!CHECK(strcmp(before, after) == 0))
		fprintf(stderr, "fds before:\n%safter:\n%s", before, after);
	CHECK(share_mappings() == 0);
	CHECK(dev_shm_entries() == shm0);
}

/* ---- references that must be refused --------------------------------- */

static void test_bad_refs(void)
{
	struct plat_shared *s, *m = NULL;
	struct plat_chan *c, *b = NULL;
	char ref[PLAT_REF_MAX], bad[PLAT_REF_MAX + 8];
	int pid, fd;
	unsigned long long start;

	CHECK(plat_share_map(DOM_A, "", NPAGES, &m) == -EINVAL);
	CHECK(plat_share_map(DOM_A, "42", NPAGES, &m) == -EINVAL);
	CHECK(plat_chan_bind(DOM_A, "posix-memfd:1:2:3:4", &b) == -EINVAL);
	CHECK(plat_share_map(DOM_A, "posix-eventfd:1:2:3:4:5:6", NPAGES, &m) ==
	      -EINVAL);
	CHECK(m == NULL && b == NULL);
	CHECK(plat_share_alloc(DOM_B, 0, &s) == -EINVAL);
	CHECK(plat_share_alloc(DOM_B, PLAT_SHARE_MAX_PAGES + 1, &s) == -EINVAL);

	if (!CHECK(plat_share_alloc(DOM_B, NPAGES, &s) == 0))
		return;
	snprintf(bad, sizeof(bad), "%s ", plat_shared_ref(s));
	CHECK(plat_share_map(DOM_A, bad, NPAGES, &m) == -EINVAL);
	/* The size is part of what was shared: a mapper must not run past
	 * the end, nor think the ring is smaller than it is. */
	CHECK(plat_share_map(DOM_A, plat_shared_ref(s), NPAGES + 1, &m) ==
	      -EMSGSIZE);
	CHECK(plat_share_map(DOM_A, plat_shared_ref(s), NPAGES - 1, &m) ==
	      -EMSGSIZE);
	/* Same pid and descriptor, but another start time: a process that
	 * reused the allocator's pid. */
	CHECK(sscanf(plat_shared_ref(s), "posix-memfd:%d:%llu:%d", &pid, &start,
		     &fd) == 3);
	snprintf(ref, sizeof(ref), "posix-memfd:%d:%llu:%d:0", pid, start + 1,
		 fd);
	CHECK(plat_share_map(DOM_A, ref, NPAGES, &m) == -ESRCH);
	/* Right process and descriptor, wrong token: another share. */
	snprintf(ref, sizeof(ref), "posix-memfd:%d:%llu:%d:1", pid, start, fd);
	CHECK(plat_share_map(DOM_A, ref, NPAGES, &m) == -ESTALE);

	/* Withdrawn: the allocator freed it.  Its descriptor number is taken
	 * by something else at once, which must not be mapped either. */
	snprintf(ref, sizeof(ref), "%s", plat_shared_ref(s));
	plat_shared_free(s);
	CHECK(plat_share_map(DOM_A, ref, NPAGES, &m) == -ESTALE);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(plat_share_map(DOM_A, ref, NPAGES, &m) == -ESTALE);
	if (CHECK(plat_share_alloc(DOM_B, NPAGES, &s) == 0)) {
		/* A new share may reuse the number: the token tells them
		 * apart. */
		CHECK(plat_share_map(DOM_A, ref, NPAGES, &m) == -ESTALE);
		plat_shared_free(s);
	}
	close(fd);

	if (!CHECK(plat_chan_alloc_unbound(DOM_B, &c) == 0))
		return;
	snprintf(ref, sizeof(ref), "%s", plat_chan_ref(c));
	plat_chan_close(c);
	CHECK(plat_chan_bind(DOM_A, ref, &b) == -ESTALE);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(plat_chan_bind(DOM_A, ref, &b) == -ESTALE);
	close(fd);
	CHECK(b == NULL);

	plat_shared_free(NULL);
	plat_chan_close(NULL);
	CHECK(share_mappings() == 0);
}

/* ---- notification semantics ------------------------------------------ */

static void test_coalescing(void)
{
	struct plat_chan *a, *b;

	if (!CHECK(plat_chan_alloc_unbound(DOM_B, &a) == 0))
		return;
	/* Binding in the same process is allowed (pidfd_getfd on ourself):
	 * it keeps this test free of fork. */
	if (!CHECK(plat_chan_bind(DOM_A, plat_chan_ref(a), &b) == 0)) {
		plat_chan_close(a);
		return;
	}
	CHECK(plat_chan_wait(b, 0) == 0);
	CHECK(plat_chan_ack(b) == 0);
	CHECK(plat_chan_notify(a) == 0);
	CHECK(plat_chan_notify(a) == 0);
	CHECK(plat_chan_notify(a) == 0);
	/* three notifies, one event, as with a pending bit */
	CHECK(plat_chan_wait(b, 0) == 1);
	CHECK(plat_chan_wait(b, 0) == 0);
	/* directions are separate: a notify is not seen by its sender */
	CHECK(plat_chan_wait(a, 0) == 0);
	CHECK(plat_chan_notify(b) == 0);
	CHECK(plat_chan_wait(a, 0) == 1);
	CHECK(plat_chan_fd(a) != plat_chan_fd(b));
	/* The peer closed: a notify goes nowhere and is no error. */
	plat_chan_close(a);
	CHECK(plat_chan_notify(b) == 0);
	CHECK(plat_chan_wait(b, 0) == 0);
	plat_chan_close(b);
}

/* ---- the allocator dies ---------------------------------------------- */

/* The allocator is SIGKILLed after the peer mapped and bound: the peer's
 * pages stay valid until it unmaps (as with Xen, where a mapped grant
 * outlives its granter's interest), its notifies are dropped, the
 * references are refused from then on, and nothing is left behind. */
static void test_allocator_killed(void)
{
	char share_ref[PLAT_REF_MAX], chan_ref[PLAT_REF_MAX], before[4096],
	    after[4096];
	struct plat_shared *m = NULL, *m2 = NULL;
	struct plat_chan *b = NULL, *b2 = NULL;
	int a2p[2], shm0 = dev_shm_entries();
	size_t i, len = NPAGES * plat_page_size(), bad = 0;
	uint8_t *p;
	pid_t pid;

	fd_snapshot(before, sizeof(before));
	if (!CHECK(pipe2(a2p, O_CLOEXEC) == 0))
		return;
	pid = fork();
	if (pid == 0) {
		struct plat_shared *s;
		struct plat_chan *c;

		close(a2p[0]);
		if (plat_share_alloc(DOM_B, NPAGES, &s) != 0 ||
		    plat_chan_alloc_unbound(DOM_B, &c) != 0)
			_exit(1);
		p = plat_shared_addr(s);
		for (i = 0; i < len; i++)
			p[i] = pattern(i);
		send_line(a2p[1], plat_shared_ref(s));
		send_line(a2p[1], plat_chan_ref(c));
		for (;;)
			pause();
	}
	close(a2p[1]);
	CHECK(recv_line(a2p[0], share_ref, sizeof(share_ref)) == 0);
	CHECK(recv_line(a2p[0], chan_ref, sizeof(chan_ref)) == 0);
	close(a2p[0]);
	CHECK(plat_share_map(DOM_A, share_ref, NPAGES, &m) == 0);
	CHECK(plat_chan_bind(DOM_A, chan_ref, &b) == 0);
	kill(pid, SIGKILL);
	CHECK(child_status(pid) == 128 + SIGKILL);

	if (m != NULL) {
		p = plat_shared_addr(m);
		for (i = 0; i < len; i++)
			bad += p[i] != pattern(i);
		CHECK(bad == 0);
	}
	if (b != NULL) {
		CHECK(plat_chan_notify(b) == 0);
		CHECK(plat_chan_wait(b, 0) == 0);
	}
	CHECK(plat_share_map(DOM_A, share_ref, NPAGES, &m2) == -ESRCH);
	CHECK(plat_chan_bind(DOM_A, chan_ref, &b2) == -ESRCH);
	plat_shared_free(m);
	plat_chan_close(b);
	fd_snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) == 0);
	CHECK(share_mappings() == 0);
	CHECK(dev_shm_entries() == shm0);
}

/* The mapper dies first: the allocator frees as usual, and a reference
 * freed after the peer mapped leaves the peer's pages intact. */
static void test_free_while_mapped(void)
{
	struct plat_shared *s, *m;
	uint8_t *p;

	if (!CHECK(plat_share_alloc(DOM_B, 1, &s) == 0))
		return;
	if (!CHECK(plat_share_map(DOM_A, plat_shared_ref(s), 1, &m) == 0)) {
		plat_shared_free(s);
		return;
	}
	p = plat_shared_addr(s);
	p[100] = 0x5a;
	plat_shared_free(s);
	p = plat_shared_addr(m);
	CHECK(p[100] == 0x5a);
	p[100] = 0xa5; /* still writable, no SIGBUS: the file is sealed */
	CHECK(share_mappings() == 1);
	plat_shared_free(m);
	CHECK(share_mappings() == 0);
}

int main(void)
{
	/* pidfd_getfd needs ptrace access to the peer: root has it, and so
	 * has any process over its own children; the pingpong's B takes
	 * from its parent, which only root may. */
	if (geteuid() != 0) {
		printf("platform: needs root (pidfd_getfd on the parent), "
		       "skipped\n");
		return 77;
	}
	test_bad_refs();
	test_coalescing();
	test_free_while_mapped();
	test_allocator_killed();
	test_pingpong();
	return check_summary("platform");
}
