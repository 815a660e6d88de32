/*
 * The frame ring under two threads: a producer and a consumer move
 * millions of frames of varying sizes (1 byte to a 64 KiB super-frame,
 * most of them small) through one ring in a memfd, and every frame's
 * length and content (sequence number + pattern) is checked in order.
 * Both sides sleep on an eventfd when they cannot progress, so the
 * notification suppression is exercised in both directions; the counts of
 * notifications against frames are reported.  Half of the batches go
 * through the copying calls, half through reserve/commit and peek/release.
 *
 * usage: test_ring_stress [FRAMES [SECONDS]]   (default 4000000, 20)
 * The producer stops early at SECONDS so that a slow machine (or the TSan
 * build) stays bounded; a watchdog kills a deadlocked run.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ring.h"
#include "ring_test_util.h"

#define BATCH	16
#define SPIN	64	   /* empty/full polls before going to sleep */
#define DATA_SZ (1u << 18) /* the smallest area for super-frames */

static struct ring prod_ring, cons_ring;
static int efd_data;  /* producer -> consumer: frames arrived */
static int efd_space; /* consumer -> producer: room appeared */
static uint64_t n_frames;
static double time_limit;

/* Set by the producer when it stops: how many frames it sent. */
static atomic_bool done;
static _Atomic uint64_t total;

struct side_counts {
	uint64_t notifies; /* signals sent to the peer */
	uint64_t sleeps;   /* waits on our eventfd */
	uint64_t polls;	   /* empty/full polls that found nothing */
	uint64_t errors;
};
static struct side_counts pc, cc;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* The length of frame seq: mostly small, some MTU-sized, some jumbo, a
 * few super-frames, and the exact limits now and then. */
static uint32_t frame_len(uint64_t seq)
{
	uint64_t h = mix(seq + 1);
	uint32_t r = h % 1000, v = (uint32_t)(h >> 20);

	if (seq % 9973 == 0)
		return RING_FRAME_MAX;
	if (seq % 9967 == 0)
		return 1;
	if (r < 600)
		return 1 + v % 128;
	if (r < 900)
		return 1 + v % 1514;
	if (r < 990)
		return 1 + v % RING_JUMBO_FRAME;
	return 1 + v % RING_FRAME_MAX;
}

/* Word k of frame seq is seq * K + k: the first word carries the sequence
 * number, the rest a pattern that differs for every frame. */
#define PATTERN_K 0x9e3779b97f4a7c15ULL

static void pattern_fill(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t base = seq * PATTERN_K, v;
	uint32_t k, words = len / 8;

	for (k = 0; k < words; k++) {
		v = base + k;
		memcpy(p + 8 * k, &v, 8);
	}
	if (len % 8) {
		v = base + words;
		memcpy(p + 8 * words, &v, len % 8);
	}
}

static int pattern_ok(const uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t base = seq * PATTERN_K, v, diff = 0;
	uint32_t k, words = len / 8;

	/* No early exit: the loop stays simple enough to vectorise. */
	for (k = 0; k < words; k++) {
		memcpy(&v, p + 8 * k, 8);
		diff |= v ^ (base + k);
	}
	if (len % 8) {
		uint64_t want = base + words,
			 mask = (1ULL << 8 * (len % 8)) - 1;

		v = 0;
		memcpy(&v, p + 8 * words, len % 8);
		diff |= (v ^ want) & mask;
	}
	return diff == 0;
}

static void signal_fd(int fd, uint64_t *count)
{
	uint64_t one = 1;

	if (write(fd, &one, 8) != 8)
		abort();
	(*count)++;
}

static void wait_fd(int fd, uint64_t *count)
{
	uint64_t v;

	while (read(fd, &v, 8) < 0 && errno == EINTR)
		;
	(*count)++;
}

static void *producer(void *arg)
{
	static uint8_t stage[BATCH][RING_FRAME_MAX];
	struct ring_frame f[BATCH];
	struct ring *r = &prod_ring;
	unsigned first = 0, pending = 0, batch_no = 0, spins = 0, rounds = 0;
	uint64_t seq = 0;
	double t0 = now();
	int rc;

	(void)arg;
	while (seq < n_frames) {
		if ((++rounds & 255) == 0 && now() - t0 > time_limit)
			break;
		uint64_t before = seq;

		if (pending == 0 && (batch_no++ & 1)) {
			/* Zero-copy: the pattern is written into the ring. */
			for (unsigned i = 0; i < BATCH && seq < n_frames; i++) {
				uint32_t len = frame_len(seq);
				uint8_t *p = ring_reserve(r, len);

				if (!p)
					break;
				pattern_fill(p, len, seq);
				ring_commit(r, len);
				seq++;
			}
		} else {
			/* Copying: frames are staged once and stay staged
			 * until the ring takes them. */
			if (pending == 0) {
				first = 0;
				for (; pending < BATCH &&
				       seq + pending < n_frames;
				     pending++) {
					f[pending].data = stage[pending];
					f[pending].len =
					    frame_len(seq + pending);
					pattern_fill(stage[pending],
						     f[pending].len,
						     seq + pending);
				}
			}
			rc = ring_enqueue_batch(r, f + first, pending);
			if (!CHECK(rc >= 0))
				break;
			first += rc;
			pending -= rc;
			seq += rc;
		}
		if (ring_producer_needs_notify(r))
			signal_fd(efd_data, &pc.notifies);
		if (seq != before) {
			spins = 0;
			continue;
		}
		pc.polls++;
		if (++spins < SPIN) {
			cpu_relax();
			continue;
		}
		spins = 0;
		if (ring_producer_prepare_sleep(r, frame_len(seq)))
			wait_fd(efd_space, &pc.sleeps);
	}
	ring_producer_needs_notify(r);
	atomic_store_explicit(&total, seq, memory_order_relaxed);
	atomic_store_explicit(&done, true, memory_order_release);
	/* Unconditional: the consumer may be asleep on an empty ring. */
	signal_fd(efd_data, &pc.notifies);
	return NULL;
}

static int check_frame(const void *p, uint32_t len, uint64_t seq)
{
	if (len != frame_len(seq) || !pattern_ok(p, len, seq)) {
		if (cc.errors++ < 10)
			fprintf(stderr,
				"frame %" PRIu64 ": len %u (want %u), "
				"content %s\n",
				seq, len, frame_len(seq),
				pattern_ok(p, len, seq) ? "ok" : "wrong");
		return 0;
	}
	return 1;
}

static void *consumer(void *arg)
{
	static uint8_t bufs[BATCH][RING_FRAME_MAX];
	struct ring_frame f[BATCH];
	struct ring *r = &cons_ring;
	unsigned batch_no = 0, spins = 0;
	uint64_t seq = 0;
	const void *p;
	uint32_t len;
	int n, rc;

	(void)arg;
	for (unsigned i = 0; i < BATCH; i++)
		f[i].data = bufs[i];
	for (;;) {
		if (batch_no++ & 1) {
			n = ring_dequeue_batch(r, f, BATCH, RING_FRAME_MAX);
			if (!CHECK(n >= 0))
				break;
			for (int i = 0; i < n; i++)
				check_frame(f[i].data, f[i].len, seq++);
		} else {
			/* Zero-copy: checked in place. */
			for (n = 0; n < BATCH; n++) {
				rc = ring_peek(r, &p, &len);
				if (!CHECK(rc >= 0))
					return NULL;
				if (rc == 0)
					break;
				check_frame(p, len, seq++);
				ring_release(r);
			}
		}
		if (ring_consumer_needs_notify(r))
			signal_fd(efd_space, &cc.notifies);
		if (cc.errors > 100)
			break;
		if (n > 0) {
			spins = 0;
			continue;
		}
		if (atomic_load_explicit(&done, memory_order_acquire) &&
		    seq == atomic_load_explicit(&total, memory_order_relaxed))
			break;
		cc.polls++;
		if (++spins < SPIN) {
			cpu_relax();
			continue;
		}
		spins = 0;
		if (ring_consumer_prepare_sleep(r))
			wait_fd(efd_data, &cc.sleeps);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	size_t len = ring_region_size(DATA_SZ);
	const struct ring_stats *ps, *cs;
	pthread_t tp, tc;
	double t0, dt;
	void *region;
	int mfd;

	n_frames = argc > 1 ? strtoull(argv[1], NULL, 0) : 4000000;
	time_limit = argc > 2 ? strtod(argv[2], NULL) : 20;
	/* A deadlock (a lost wakeup) ends the run here, as a failure. */
	alarm((unsigned)time_limit + 30);

	/* A memfd, as the sim's platform layer gives. */
	mfd = memfd_create("ring-stress", MFD_CLOEXEC);
	if (!CHECK(mfd >= 0) || !CHECK(ftruncate(mfd, len) == 0))
		return check_summary("ring_stress");
	region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (!CHECK(region != MAP_FAILED))
		return check_summary("ring_stress");
	CHECK(ring_init(&prod_ring, region, len, DATA_SZ, RING_FRAME_MAX) == 0);
	CHECK(ring_attach(&cons_ring, region, len) == 0);
	efd_data = eventfd(0, EFD_CLOEXEC);
	efd_space = eventfd(0, EFD_CLOEXEC);
	CHECK(efd_data >= 0 && efd_space >= 0);

	t0 = now();
	pthread_create(&tp, NULL, producer, NULL);
	pthread_create(&tc, NULL, consumer, NULL);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	dt = now() - t0;

	ps = ring_stats(&prod_ring);
	cs = ring_stats(&cons_ring);
	printf("ring_stress: %" PRIu64 " frames, %.1f MiB in %.2f s: "
	       "%.2f Mframes/s, %.2f GiB/s%s\n",
	       cs->frames, cs->bytes / 1048576.0, dt, cs->frames / dt / 1e6,
	       cs->bytes / dt / (1 << 30),
	       ps->frames < n_frames ? " (stopped at the time limit)" : "");
	printf("  data notifications %" PRIu64 " (%.5f per frame), consumer "
	       "sleeps %" PRIu64 ", empty polls %" PRIu64 "\n",
	       pc.notifies, (double)pc.notifies / (cs->frames ? cs->frames : 1),
	       cc.sleeps, cc.polls);
	printf("  space notifications %" PRIu64 ", producer sleeps %" PRIu64
	       ", full polls %" PRIu64 ", ring-full refusals %" PRIu64 "\n",
	       cc.notifies, pc.sleeps, pc.polls, ps->full);

	CHECK(cc.errors == 0);
	CHECK(cs->frames == ps->frames);
	CHECK(cs->bytes == ps->bytes);
	CHECK(ps->frames == atomic_load(&total));
	CHECK(ps->frames > 0);
	CHECK(cs->malformed == 0 && cs->dropped_bad_len == 0);
	CHECK(cs->bad_index == 0 && ps->bad_index == 0);
	CHECK(ps->refused_oversize == 0);
	/* Suppression works: far fewer signals than frames. */
	CHECK(pc.notifies < cs->frames / 4 + 10);
	munmap(region, len);
	return check_summary("ring_stress");
}
