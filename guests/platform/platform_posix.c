/*
 * The posix platform (docs/platform.md): the sim's stand-in for grant
 * tables and event channels.
 *
 * Domains are processes in separate network namespaces but one pid and
 * mount namespace, all root.  Shared pages are a sealed memfd, channels a
 * pair of eventfds; a reference names the allocating process (pid + start
 * time) and the descriptor number there, and the peer takes a duplicate of
 * that descriptor with pidfd_getfd(2).  Nothing has a name in any file
 * system, so nothing can be left behind: the kernel frees the memory and
 * the counters with the last descriptor or mapping, whoever dies first and
 * however (SIGKILL included).
 */
#include "platform_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The memfd's name, seen by readlink(/proc/self/fd/N) as "/memfd:<name>
 * (deleted)"; the random token in it lets a mapper tell the share it was
 * told about from one that later took the same descriptor number. */
#define MEMFD_PREFIX  "libretto-share-"
#define SHARE_REF_TAG "posix-memfd"
#define CHAN_REF_TAG  "posix-eventfd"
#define MEMFD_SEALS   (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

struct plat_shared {
	void *addr;
	size_t npages;
	unsigned peer;
	/* Allocating side: the memfd, kept open because the reference names
	 * it; -1 on the mapping side, which needs nothing but the mapping. */
	int fd;
	char ref[PLAT_REF_MAX];
};

struct plat_chan {
	unsigned peer;
	int rx; /* ours: the peer writes it, we poll and read it */
	int tx; /* the peer's rx: we write it */
	char ref[PLAT_REF_MAX];
};

/* Used by the failure paths of the calls that come before them. */
static void posix_shared_free(struct plat_shared *s);
static void posix_chan_close(struct plat_chan *c);

/* ---- naming a process robustly --------------------------------------- */

/* The start time (field 22 of /proc/<pid>/stat, clock ticks after boot)
 * makes <pid> a name that a later process reusing the number does not
 * answer to. */
static int proc_starttime(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: count from the
	 * last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -EIO;
	p++;
	for (field = 2; field < 22 && *p != '\0'; p++)
		if (*p == ' ')
			field++;
	/* p is now at the start of field 22 */
	if (sscanf(p, "%llu", out) != 1)
		return -EIO;
	return 0;
}

static int self_starttime(unsigned long long *out)
{
	static unsigned long long cached;
	static pid_t cached_pid;
	int r;

	/* A forked child has another start time: key the cache on the pid. */
	if (cached_pid == getpid()) {
		*out = cached;
		return 0;
	}
	r = proc_starttime(getpid(), out);
	if (r == 0) {
		cached = *out;
		cached_pid = getpid();
	}
	return r;
}

/* Opens a pidfd for <pid> and checks that it is the process that started
 * at <start>.  The check comes after pidfd_open: the pidfd pins the
 * process it was opened for, so a match cannot be undone by a pid reuse
 * that happens after it. */
static int open_peer(pid_t pid, unsigned long long start)
{
	unsigned long long now;
	int pidfd, r;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	r = proc_starttime(pid, &now);
	if (r == 0 && now != start)
		r = -ESRCH;
	if (r < 0) {
		close(pidfd);
		return r;
	}
	return pidfd;
}

/* A duplicate of descriptor fd of the process behind pidfd, close-on-exec
 * (pidfd_getfd sets it), sharing its open file description.  Needs ptrace
 * access to the peer (root has it). */
static int take_fd(int pidfd, int fd)
{
	int r = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);

	if (r >= 0)
		return r;
	/* EBADF: the allocator no longer has that descriptor: it withdrew
	 * the reference. */
	return errno == EBADF ? -ESTALE : -errno;
}

/* ---- shared pages ---------------------------------------------------- */

static int posix_share_alloc(unsigned peer, size_t npages,
			     struct plat_shared **out)
{
	struct plat_shared *s;
	unsigned long long start;
	uint64_t token;
	char name[64];
	size_t len;
	int r;

	*out = NULL;
	if (npages == 0 || npages > PLAT_SHARE_MAX_PAGES)
		return -EINVAL;
	r = self_starttime(&start);
	if (r < 0)
		return r;
	if (getrandom(&token, sizeof(token), 0) != sizeof(token))
		return -EIO;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->peer = peer;
	s->npages = npages;
	s->addr = MAP_FAILED;
	len = npages * plat_page_size();

	snprintf(name, sizeof(name), MEMFD_PREFIX "%016" PRIx64, token);
	/* CLOEXEC: a guest that execs its application must not hand it the
	 * ring. */
	s->fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd < 0)
		goto fail;
	if (ftruncate(s->fd, (off_t)len) < 0)
		goto fail;
	/* The peer holds the same file: without the seals it could shrink it
	 * and turn our next access into SIGBUS.  A granted page cannot be
	 * taken from under the granter either. */
	if (fcntl(s->fd, F_ADD_SEALS, MEMFD_SEALS) < 0)
		goto fail;
	s->addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, s->fd, 0);
	if (s->addr == MAP_FAILED)
		goto fail;
	snprintf(s->ref, sizeof(s->ref),
		 SHARE_REF_TAG ":%d:%llu:%d:%016" PRIx64, (int)getpid(), start,
		 s->fd, token);
	*out = s;
	return 0;
fail:
	r = -errno;
	posix_shared_free(s);
	return r;
}

/* What /proc/self/fd/<fd> links to (memfd:..., anon_inode:[eventfd]),
 * which tells what kind of file a descriptor taken from a peer is. */
static int fd_link(int fd, char *link, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, size - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	return 0;
}

/* Checks that fd is the share named by token, of len bytes, sealed. */
static int check_memfd(int fd, uint64_t token, size_t len)
{
	char link[128], want[96];
	struct stat st;
	int seals, err;

	if ((err = fd_link(fd, link, sizeof(link))) < 0)
		return err;
	snprintf(want, sizeof(want), "/memfd:" MEMFD_PREFIX "%016" PRIx64 " ",
		 token);
	if (strncmp(link, want, strlen(want)) != 0)
		return -ESTALE; /* the number now names something else */
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((size_t)st.st_size != len)
		return -EMSGSIZE;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & MEMFD_SEALS) != MEMFD_SEALS)
		return -EPERM; /* it could shrink under us */
	return 0;
}

static int posix_share_map(unsigned peer, const char *ref, size_t npages,
			   struct plat_shared **out)
{
	struct plat_shared *s;
	unsigned long long start;
	uint64_t token;
	int pid, fd, pidfd, mfd, end = 0, r;
	size_t len;

	*out = NULL;
	if (npages == 0 || npages > PLAT_SHARE_MAX_PAGES)
		return -EINVAL;
	if (sscanf(ref, SHARE_REF_TAG ":%d:%llu:%d:%" SCNx64 "%n", &pid, &start,
		   &fd, &token, &end) != 4 ||
	    ref[end] != '\0' || pid <= 0 || fd < 0)
		return -EINVAL;
	len = npages * plat_page_size();

	pidfd = open_peer(pid, start);
	if (pidfd < 0)
		return pidfd;
	mfd = take_fd(pidfd, fd);
	close(pidfd);
	if (mfd < 0)
		return mfd;
	r = check_memfd(mfd, token, len);
	if (r < 0) {
		close(mfd);
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(mfd);
		return -ENOMEM;
	}
	s->peer = peer;
	s->npages = npages;
	s->fd = -1;
	s->addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, mfd, 0);
	r = -errno;
	/* The mapping keeps the pages; the descriptor would only be one more
	 * thing to leak. */
	close(mfd);
	if (s->addr == MAP_FAILED) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

static void *posix_shared_addr(const struct plat_shared *s)
{
	return s->addr;
}

static size_t posix_shared_npages(const struct plat_shared *s)
{
	return s->npages;
}

static const char *posix_shared_ref(const struct plat_shared *s)
{
	return s->ref;
}

static void posix_shared_free(struct plat_shared *s)
{
	int saved = errno;

	if (s == NULL)
		return;
	if (s->addr != MAP_FAILED && s->addr != NULL)
		munmap(s->addr, s->npages * plat_page_size());
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	errno = saved;
}

/* ---- notification channels ------------------------------------------- */

/* The kernel's id of an eventfd (fdinfo "eventfd-id"), or 0 where the
 * kernel does not show one.  It plays the memfd token's part, weaker:
 * ids are reused lowest-first, so it tells our eventfd from most others
 * that took its number, not from all (docs/platform.md). */
static unsigned long long eventfd_id(int fd)
{
	char path[64], line[128];
	unsigned long long id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "eventfd-id: %llu", &id) == 1)
			break;
	fclose(f);
	return id;
}

static int check_eventfd(int fd, unsigned long long id)
{
	char link[64];
	int err;

	if ((err = fd_link(fd, link, sizeof(link))) < 0)
		return err;
	if (strcmp(link, "anon_inode:[eventfd]") != 0)
		return -ESTALE;
	if (id != 0 && eventfd_id(fd) != id)
		return -ESTALE;
	return 0;
}

static struct plat_chan *chan_new(unsigned peer)
{
	struct plat_chan *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->peer = peer;
		c->rx = -1;
		c->tx = -1;
	}
	return c;
}

static int posix_chan_alloc_unbound(unsigned peer, struct plat_chan **out)
{
	unsigned long long start;
	struct plat_chan *c;
	int r;

	*out = NULL;
	r = self_starttime(&start);
	if (r < 0)
		return r;
	c = chan_new(peer);
	if (c == NULL)
		return -ENOMEM;
	/* One eventfd per direction, both made here because only the
	 * allocator can publish: the binder takes both.  Non-blocking, and
	 * the binder's duplicates share the flag, so that ack never blocks
	 * and notify never stalls on a full counter. */
	c->rx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->rx < 0)
		goto fail;
	c->tx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->tx < 0)
		goto fail;
	/* <pid>:<start>:<allocator's rx>:<its id>:<binder's rx>:<its id> */
	snprintf(c->ref, sizeof(c->ref),
		 CHAN_REF_TAG ":%d:%llu:%d:%llu:%d:%llu", (int)getpid(), start,
		 c->rx, eventfd_id(c->rx), c->tx, eventfd_id(c->tx));
	*out = c;
	return 0;
fail:
	r = -errno;
	posix_chan_close(c);
	return r;
}

static int posix_chan_bind(unsigned peer, const char *ref,
			   struct plat_chan **out)
{
	unsigned long long start, id_a, id_b;
	int pid, fd_a, fd_b, end = 0, pidfd, r;
	struct plat_chan *c;

	*out = NULL;
	if (sscanf(ref, CHAN_REF_TAG ":%d:%llu:%d:%llu:%d:%llu%n", &pid, &start,
		   &fd_a, &id_a, &fd_b, &id_b, &end) != 6 ||
	    ref[end] != '\0' || pid <= 0 || fd_a < 0 || fd_b < 0)
		return -EINVAL;
	c = chan_new(peer);
	if (c == NULL)
		return -ENOMEM;
	pidfd = open_peer(pid, start);
	if (pidfd < 0) {
		free(c);
		return pidfd;
	}
	/* Crossed: the allocator's rx is what we write, its tx what we read. */
	c->tx = take_fd(pidfd, fd_a);
	r = c->tx < 0 ? c->tx : check_eventfd(c->tx, id_a);
	if (r == 0) {
		c->rx = take_fd(pidfd, fd_b);
		r = c->rx < 0 ? c->rx : check_eventfd(c->rx, id_b);
	}
	close(pidfd);
	if (r < 0) {
		posix_chan_close(c);
		return r;
	}
	*out = c;
	return 0;
}

static const char *posix_chan_ref(const struct plat_chan *c)
{
	return c->ref;
}

static int posix_chan_notify(struct plat_chan *c)
{
	uint64_t one = 1;

	if (write(c->tx, &one, sizeof(one)) == sizeof(one))
		return 0;
	/* EAGAIN: the counter is at its ceiling, so the peer has a
	 * notification pending already: coalesced, as Xen's pending bit. */
	return errno == EAGAIN ? 0 : -errno;
}

static int posix_chan_fd(const struct plat_chan *c)
{
	return c->rx;
}

static int posix_chan_ack(struct plat_chan *c)
{
	uint64_t v;

	/* A read returns the whole count and resets it: every notify so far
	 * is consumed by one ack. */
	if (read(c->rx, &v, sizeof(v)) == sizeof(v))
		return 1;
	return errno == EAGAIN ? 0 : -errno;
}

static int posix_chan_wait(struct plat_chan *c, int timeout_ms)
{
	struct pollfd p = {.fd = c->rx, .events = POLLIN};
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	r = posix_chan_ack(c);
	/* 0 here means a second reader of our rx took the event (there is
	 * none by design): a spurious wake-up, reported as a timeout is;
	 * callers look at their ring either way. */
	return r;
}

static void posix_chan_close(struct plat_chan *c)
{
	int saved = errno;

	if (c == NULL)
		return;
	if (c->rx >= 0)
		close(c->rx);
	if (c->tx >= 0)
		close(c->tx);
	free(c);
	errno = saved;
}

const struct plat_ops plat_posix_ops = {
    .name = "posix",
    .share_alloc = posix_share_alloc,
    .share_map = posix_share_map,
    .shared_addr = posix_shared_addr,
    .shared_npages = posix_shared_npages,
    .shared_ref = posix_shared_ref,
    .shared_free = posix_shared_free,
    .chan_alloc_unbound = posix_chan_alloc_unbound,
    .chan_bind = posix_chan_bind,
    .chan_ref = posix_chan_ref,
    .chan_notify = posix_chan_notify,
    .chan_fd = posix_chan_fd,
    .chan_ack = posix_chan_ack,
    .chan_wait = posix_chan_wait,
    .chan_close = posix_chan_close,
};
