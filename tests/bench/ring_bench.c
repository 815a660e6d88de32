/*
 * ring_bench: frames per second through the frame ring between two
 * threads pinned to two different cores, for 64, 1500 and 9000-byte
 * frames, against a baseline measured in the same run: the same frames,
 * in the same batches, through a pipe (the plain-copy path a TAP or a
 * socket pair would be).  Every figure is printed with its ratio to that
 * baseline, since absolute numbers only mean something on one machine.
 *
 * Both paths copy each frame in and out once, and both sleep when idle
 * (the ring on eventfds with its notification suppression, the pipe in
 * the kernel), so the comparison is the transport and its wakeups.
 *
 * usage: ring_bench [SECONDS per case]   (default 1)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"
#include "ring_test_util.h"

#define BATCH 32
#define SPIN  256 /* polls before sleeping: a few microseconds */

struct run {
	uint32_t size;
	int cpu_p, cpu_c;
	/* ring */
	struct ring prod, cons;
	int efd_data, efd_space;
	/* pipe */
	int pfd[2];
	/* shared */
	atomic_bool stop; /* main -> producer */
	atomic_bool done; /* producer -> consumer: no more frames */
	_Atomic uint64_t sent;
	uint64_t received, notifies, sleeps;
	uint64_t checksum; /* keeps the consumer's copies from being elided */
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "ring_bench: cannot pin to cpu %d\n", cpu);
}

static void efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, 8) != 8)
		abort();
}

static void efd_wait(int fd)
{
	uint64_t v;

	while (read(fd, &v, 8) < 0 && errno == EINTR)
		;
}

static uint8_t src[BATCH][RING_JUMBO_FRAME];
static uint8_t dst[BATCH][RING_FRAME_MAX];

static void *ring_producer(void *arg)
{
	struct run *rn = arg;
	struct ring_frame f[BATCH];
	uint64_t sent = 0;
	unsigned spins = 0;
	int n;

	pin(rn->cpu_p);
	for (int i = 0; i < BATCH; i++)
		f[i] = (struct ring_frame){src[i], rn->size};
	while (!atomic_load_explicit(&rn->stop, memory_order_relaxed)) {
		n = ring_enqueue_batch(&rn->prod, f, BATCH);
		if (n < 0)
			abort();
		sent += n;
		if (ring_producer_needs_notify(&rn->prod)) {
			efd_signal(rn->efd_data);
			rn->notifies++;
		}
		if (n > 0) {
			spins = 0;
		} else if (++spins < SPIN) {
			cpu_relax();
		} else {
			spins = 0;
			if (ring_producer_prepare_sleep(&rn->prod, rn->size))
				efd_wait(rn->efd_space);
		}
	}
	atomic_store_explicit(&rn->sent, sent, memory_order_relaxed);
	atomic_store_explicit(&rn->done, true, memory_order_release);
	efd_signal(rn->efd_data);
	return NULL;
}

static void *ring_consumer(void *arg)
{
	struct run *rn = arg;
	struct ring_frame f[BATCH];
	uint64_t got = 0, sum = 0;
	unsigned spins = 0;
	int n;

	pin(rn->cpu_c);
	for (int i = 0; i < BATCH; i++)
		f[i].data = dst[i];
	for (;;) {
		n = ring_dequeue_batch(&rn->cons, f, BATCH, RING_FRAME_MAX);
		if (n < 0)
			abort();
		for (int i = 0; i < n; i++)
			sum += dst[i][0] + f[i].len;
		got += n;
		if (ring_consumer_needs_notify(&rn->cons))
			efd_signal(rn->efd_space);
		if (n > 0) {
			spins = 0;
			continue;
		}
		if (atomic_load_explicit(&rn->done, memory_order_acquire) &&
		    got ==
			atomic_load_explicit(&rn->sent, memory_order_relaxed))
			break;
		if (++spins < SPIN) {
			cpu_relax();
			continue;
		}
		spins = 0;
		if (ring_consumer_prepare_sleep(&rn->cons)) {
			efd_wait(rn->efd_data);
			rn->sleeps++;
		}
	}
	rn->received = got;
	rn->checksum = sum;
	return NULL;
}

/* The baseline: frames as [u32 length][payload] in a byte stream, one
 * writev per batch, read in large chunks and copied out frame by frame. */
static void *pipe_producer(void *arg)
{
	struct run *rn = arg;
	struct iovec iov[2 * BATCH];
	uint32_t len = rn->size;
	uint64_t sent = 0;

	pin(rn->cpu_p);
	for (int i = 0; i < BATCH; i++) {
		iov[2 * i] = (struct iovec){&len, 4};
		iov[2 * i + 1] = (struct iovec){src[i], rn->size};
	}
	while (!atomic_load_explicit(&rn->stop, memory_order_relaxed)) {
		/* Blocking pipe: writev returns once everything is in. */
		if (writev(rn->pfd[1], iov, 2 * BATCH) !=
		    (ssize_t)(BATCH * (4 + rn->size)))
			abort();
		sent += BATCH;
	}
	atomic_store_explicit(&rn->sent, sent, memory_order_relaxed);
	close(rn->pfd[1]);
	return NULL;
}

static void *pipe_consumer(void *arg)
{
	struct run *rn = arg;
	size_t cap = 1 << 20, have = 0, off;
	uint8_t *buf = malloc(cap);
	uint64_t got = 0, sum = 0;
	uint32_t len;
	ssize_t n;

	pin(rn->cpu_c);
	for (;;) {
		n = read(rn->pfd[0], buf + have, cap - have);
		if (n <= 0)
			break;
		have += n;
		for (off = 0; have - off >= 4; off += 4 + len) {
			memcpy(&len, buf + off, 4);
			if (have - off < 4 + len)
				break;
			memcpy(dst[got % BATCH], buf + off + 4, len);
			sum += dst[got % BATCH][0] + len;
			got++;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	rn->received = got;
	rn->checksum = sum;
	free(buf);
	return NULL;
}

/* Runs one case for secs; returns frames per second. */
static double run_case(struct run *rn, int use_ring, double secs)
{
	pthread_t tp, tc;
	double t0, dt;

	atomic_store(&rn->stop, false);
	atomic_store(&rn->done, false);
	rn->notifies = rn->sleeps = 0;
	t0 = now();
	pthread_create(&tc, NULL, use_ring ? ring_consumer : pipe_consumer, rn);
	pthread_create(&tp, NULL, use_ring ? ring_producer : pipe_producer, rn);
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&rn->stop, true);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	dt = now() - t0;
	if (rn->received != atomic_load(&rn->sent)) {
		fprintf(stderr, "ring_bench: sent %llu, received %llu\n",
			(unsigned long long)atomic_load(&rn->sent),
			(unsigned long long)rn->received);
		exit(1);
	}
	return rn->received / dt;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = {64, 1500, 9000};
	double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	uint32_t data_size = RING_DATA_DEFAULT;
	size_t len = ring_region_size(data_size);
	int cpus[2], ncpu = 0;
	cpu_set_t set;
	struct run rn;
	void *region;

	/* The first two CPUs we may run on: producer and consumer on
	 * different cores, as two domains' vCPUs would be. */
	sched_getaffinity(0, sizeof(set), &set);
	for (int i = 0; i < CPU_SETSIZE && ncpu < 2; i++)
		if (CPU_ISSET(i, &set))
			cpus[ncpu++] = i;
	if (ncpu < 2) {
		fprintf(stderr, "ring_bench: needs two CPUs\n");
		return 1;
	}
	region = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 1;
	memset(src, 0x5a, sizeof(src));

	printf("ring_bench: producer on cpu %d, consumer on cpu %d, batches "
	       "of %d, ring data %u KiB, pipe %u KiB, %.1f s per case\n",
	       cpus[0], cpus[1], BATCH, data_size / 1024, data_size / 1024,
	       secs);
	printf("%6s %5s %11s %9s %9s %10s %13s\n", "frame", "path", "Mframes/s",
	       "ns/frame", "Gbit/s", "vs pipe", "notify/frame");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double ring_fps, pipe_fps;

		memset(&rn, 0, sizeof(rn));
		rn.size = sizes[s];
		rn.cpu_p = cpus[0];
		rn.cpu_c = cpus[1];

		if (pipe2(rn.pfd, O_CLOEXEC) < 0)
			return 1;
		fcntl(rn.pfd[1], F_SETPIPE_SZ, (int)data_size);
		pipe_fps = run_case(&rn, 0, secs);
		close(rn.pfd[0]);

		if (ring_init(&rn.prod, region, len, data_size, 0) != 0 ||
		    ring_attach(&rn.cons, region, len) != 0)
			return 1;
		rn.efd_data = eventfd(0, EFD_CLOEXEC);
		rn.efd_space = eventfd(0, EFD_CLOEXEC);
		ring_fps = run_case(&rn, 1, secs);
		close(rn.efd_data);
		close(rn.efd_space);

		printf("%6u %5s %11.2f %9.1f %9.2f %9.2fx %13.5f\n", rn.size,
		       "ring", ring_fps / 1e6, 1e9 / ring_fps,
		       ring_fps * rn.size * 8 / 1e9, ring_fps / pipe_fps,
		       (double)rn.notifies / rn.received);
		printf("%6u %5s %11.2f %9.1f %9.2f %9.2fx %13s\n", rn.size,
		       "pipe", pipe_fps / 1e6, 1e9 / pipe_fps,
		       pipe_fps * rn.size * 8 / 1e9, 1.0, "-");
	}
	munmap(region, len);
	return 0;
}
