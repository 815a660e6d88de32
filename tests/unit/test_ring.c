/*
 * The frame ring (guests/ring), single-threaded: geometry and attach
 * validation, empty/full, wraparound (of the data area and of the 32-bit
 * positions), batches, oversize refusal, a hostile peer's headers and
 * indices, and the notification-suppression decisions.  The threaded
 * behaviour is test_ring_stress's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ring.h"

struct pair {
	void *region;
	size_t len;
	struct ring p, c;
};

static void pair_open(struct pair *pr, uint32_t data_size, uint32_t max_frame)
{
	pr->len = ring_region_size(data_size);
	pr->region = aligned_alloc(4096, pr->len);
	memset(pr->region, 0xa5, pr->len); /* no help from zeroed memory */
	CHECK(ring_init(&pr->p, pr->region, pr->len, data_size, max_frame) ==
	      0);
	CHECK(ring_attach(&pr->c, pr->region, pr->len) == 0);
}

static void pair_close(struct pair *pr)
{
	free(pr->region);
}

static void fill(uint8_t *buf, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7);
}

static int same(const uint8_t *buf, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] != (uint8_t)(seed * 31 + i * 7))
			return 0;
	return 1;
}

static void test_geometry(void)
{
	struct ring r;
	void *region = aligned_alloc(4096, 4096 + 65536);

	CHECK(ring_region_size(0) == 0);
	CHECK(ring_region_size(4095) == 0);
	CHECK(ring_region_size(6000) == 0);	/* not a power of two */
	CHECK(ring_region_size(2048) == 0);	/* below the minimum */
	CHECK(ring_region_size(1u << 31) == 0); /* above the maximum */
	CHECK(ring_region_size(4096) == 8192);
	CHECK(ring_region_size(RING_DATA_DEFAULT) ==
	      RING_HDR_SIZE + RING_DATA_DEFAULT);

	/* Two maximal records must fit the data area. */
	CHECK(ring_init(&r, region, 4096 + 65536, 65536, 0) == -EINVAL);
	CHECK(ring_init(&r, region, 4096 + 65536, 65536, 32760) == 0);
	CHECK(ring_init(&r, region, 4096 + 65536, 65536, 32761) == -EINVAL);
	CHECK(ring_init(&r, region, 4096 + 65535, 65536, 1500) == -EINVAL);
	CHECK(ring_init(&r, region, 4096 + 65536, 65536, RING_FRAME_MAX + 1) ==
	      -EINVAL);
	CHECK(ring_init(&r, (char *)region + 4, 4096 + 60000, 4096, 1500) ==
	      -EINVAL);
	/* A jumbo frame ring of the smallest size, and the super-frame
	 * default. */
	CHECK(ring_init(&r, region, 4096 + 65536, 32768, RING_JUMBO_FRAME) ==
	      0);
	CHECK(ring_max_frame(&r) == RING_JUMBO_FRAME);
	free(region);
}

static void test_attach(void)
{
	size_t len = ring_region_size(8192);
	void *region = aligned_alloc(4096, len);
	struct ring_shared *sh = region;
	struct ring p, c;

	memset(region, 0, len);
	CHECK(ring_attach(&c, region, len) == -EAGAIN); /* not formatted */
	CHECK(ring_attach(&c, region, 100) == -EINVAL);

	CHECK(ring_init(&p, region, len, 8192, 1500) == 0);
	CHECK(ring_attach(&c, region, len) == 0);
	CHECK(ring_max_frame(&c) == 1500);
	CHECK(ring_attach(&c, region, len - 1) == -EINVAL); /* short map */

	sh->magic = 0x12345678;
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->magic = RING_MAGIC;
	sh->version = RING_VERSION + 1;
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->version = RING_VERSION;
	sh->hdr_size = 64;
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->hdr_size = RING_HDR_SIZE;
	sh->data_size = 8192 + 8; /* not a power of two */
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->data_size = 16384; /* larger than what is mapped */
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->data_size = 8192;
	sh->max_frame = 0;
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->max_frame = 8000; /* two records do not fit */
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->max_frame = 1500;
	sh->prod = 8192 + 8; /* further ahead than the area */
	CHECK(ring_attach(&c, region, len) == -EINVAL);
	sh->prod = 4;
	CHECK(ring_attach(&c, region, len) == -EINVAL); /* misaligned */
	sh->prod = 0;
	CHECK(ring_attach(&c, region, len) == 0);
	free(region);
}

static void test_empty_full(void)
{
	struct pair pr;
	uint8_t buf[2000], out[2000];
	int n = 0, rc;

	pair_open(&pr, 4096, 2000);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(ring_dequeue(&pr.c, out, 100) == -EINVAL); /* cap < max */

	/* 100-byte frames take 112-byte records: 36 fill 4032 bytes and
	 * the 64 left cannot take a 37th. */
	fill(buf, 100, 0);
	while ((rc = ring_enqueue(&pr.p, buf, 100)) == 0)
		n++;
	CHECK(rc == -ENOBUFS);
	CHECK(n == 36);
	CHECK(ring_stats(&pr.p)->full == 1);
	CHECK(ring_stats(&pr.p)->frames == 36);

	/* One frame out frees 112 bytes: 64 of pad at the end plus 112 at
	 * the start is exactly what the next record needs. */
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 100);
	CHECK(ring_enqueue(&pr.p, buf, 100) == 0);
	CHECK(ring_enqueue(&pr.p, buf, 100) == -ENOBUFS);
	for (int i = 0; i < 36; i++)
		CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 100);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(ring_stats(&pr.c)->frames == 37);
	CHECK(ring_stats(&pr.c)->malformed == 0);
	pair_close(&pr);
}

/* Varying sizes through a small ring for many laps, starting just below
 * the 32-bit wrap of the positions. */
static void test_wraparound(uint32_t start)
{
	struct pair pr;
	static uint8_t buf[RING_JUMBO_FRAME], out[RING_JUMBO_FRAME];
	uint32_t seq_in = 0, seq_out = 0, len;
	int rc;

	pair_open(&pr, 32768, RING_JUMBO_FRAME);
	/* White box: move both sides to start, as after 4 GiB of traffic. */
	pr.p.pos = pr.p.pub = pr.p.peer = pr.p.checked = start;
	pr.p.sh->prod = pr.p.sh->cons = start;
	CHECK(ring_attach(&pr.c, pr.region, pr.len) == 0);

	while (seq_out < 20000) {
		/* Produce until full, consume about half: the positions
		 * cross the end of the area at every kind of offset. */
		for (;;) {
			len =
			    1 + (seq_in * 2654435761u >> 7) % RING_JUMBO_FRAME;
			fill(buf, len, seq_in);
			rc = ring_enqueue(&pr.p, buf, len);
			if (rc == -ENOBUFS)
				break;
			CHECK(rc == 0);
			seq_in++;
		}
		for (int k = 0; k < 2 && seq_out < seq_in; k++) {
			rc = ring_dequeue(&pr.c, out, sizeof(out));
			len =
			    1 + (seq_out * 2654435761u >> 7) % RING_JUMBO_FRAME;
			if (!CHECK(rc == (int)len) ||
			    !CHECK(same(out, len, seq_out)))
				goto out;
			seq_out++;
		}
	}
	while (seq_out < seq_in) {
		len = 1 + (seq_out * 2654435761u >> 7) % RING_JUMBO_FRAME;
		rc = ring_dequeue(&pr.c, out, sizeof(out));
		if (!CHECK(rc == (int)len) || !CHECK(same(out, len, seq_out)))
			break;
		seq_out++;
	}
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
out:
	CHECK(ring_stats(&pr.c)->malformed == 0);
	CHECK(ring_stats(&pr.c)->dropped_bad_len == 0);
	CHECK(!ring_broken(&pr.c) && !ring_broken(&pr.p));
	pair_close(&pr);
}

static void test_batch_oversize(void)
{
	struct pair pr;
	static uint8_t in[10][1600], out[10][1600];
	struct ring_frame f[10], g[10];
	int n;

	pair_open(&pr, 65536, 1600);
	for (int i = 0; i < 10; i++) {
		f[i].data = in[i];
		f[i].len = 60 + i * 150;
		fill(in[i], f[i].len, i);
		g[i].data = out[i];
	}
	f[4].len = 1601; /* oversize: refused, counted, skipped */
	f[7].len = 0;	 /* empty: likewise */
	CHECK(ring_enqueue(&pr.p, in[0], 1601) == -EMSGSIZE);
	CHECK(ring_enqueue(&pr.p, in[0], 0) == -EMSGSIZE);
	CHECK(ring_enqueue_batch(&pr.p, f, 10) == 10);
	CHECK(ring_stats(&pr.p)->refused_oversize == 4);
	CHECK(ring_stats(&pr.p)->frames == 8);

	n = ring_dequeue_batch(&pr.c, g, 10, 1600);
	CHECK(n == 8);
	for (int i = 0, j = 0; i < 10 && j < n; i++) {
		if (i == 4 || i == 7)
			continue;
		CHECK(g[j].len == f[i].len);
		CHECK(same(out[j], g[j].len, i));
		j++;
	}
	CHECK(ring_dequeue_batch(&pr.c, g, 10, 1600) == 0);

	/* A batch stops at the first frame that does not fit. */
	for (int i = 0; i < 10; i++)
		f[i].len = 1600;
	pair_close(&pr);
	pair_open(&pr, 8192, 1600);
	CHECK(ring_enqueue_batch(&pr.p, f, 10) == 5); /* 5 x 1608 = 8040 */
	CHECK(ring_dequeue_batch(&pr.c, g, 3, 1600) == 3);
	CHECK(ring_enqueue_batch(&pr.p, f, 10) == 3);
	CHECK(ring_dequeue_batch(&pr.c, g, 10, 1600) == 5);
	pair_close(&pr);
}

static void test_zero_copy(void)
{
	struct pair pr;
	const void *p;
	uint32_t len;
	uint8_t *w;

	pair_open(&pr, 1u << 18, RING_FRAME_MAX); /* smallest that fits */
	/* Reserve the maximum (as a TAP read would), commit the real
	 * length: the consumer sees only that. */
	w = ring_reserve(&pr.p, RING_FRAME_MAX);
	CHECK(w != NULL);
	fill(w, 300, 9);
	ring_commit(&pr.p, 300);
	CHECK(ring_peek(&pr.c, &p, &len) == 0); /* not published yet */
	ring_publish(&pr.p);
	CHECK(ring_peek(&pr.c, &p, &len) == 1);
	CHECK(len == 300 && same(p, 300, 9));
	CHECK(((uintptr_t)p & 7) == 0); /* payloads are aligned */
	CHECK(ring_peek(&pr.c, &p, &len) == 1 && len == 300); /* again */
	ring_release(&pr.c);
	ring_consumer_publish(&pr.c);
	CHECK(ring_peek(&pr.c, &p, &len) == 0);

	/* A cancelled reservation leaves nothing. */
	CHECK(ring_reserve(&pr.p, 100) != NULL);
	ring_commit(&pr.p, 0);
	ring_publish(&pr.p);
	CHECK(ring_peek(&pr.c, &p, &len) == 0);

	/* A super-frame goes through in one record. */
	w = ring_reserve(&pr.p, RING_FRAME_MAX);
	CHECK(w != NULL);
	fill(w, RING_FRAME_MAX, 3);
	ring_commit(&pr.p, RING_FRAME_MAX);
	ring_publish(&pr.p);
	CHECK(ring_peek(&pr.c, &p, &len) == 1);
	CHECK(len == RING_FRAME_MAX && same(p, len, 3));
	ring_release(&pr.c);
	pair_close(&pr);
}

static uint32_t *hdr_at(struct pair *pr, uint32_t off)
{
	return (uint32_t *)(void *)((uint8_t *)pr->region + RING_HDR_SIZE +
				    off);
}

/* The producer is hostile: whatever it writes into record headers, the
 * consumer reads only inside the area, drops and counts. */
static void test_hostile_headers(void)
{
	struct pair pr;
	static uint8_t buf[2000], out[2000];
	const struct ring_stats *cs;

	/* An unknown record type: framing lost, both records dropped. */
	pair_open(&pr, 8192, 997);
	cs = ring_stats(&pr.c);
	fill(buf, 997, 1);
	CHECK(ring_enqueue(&pr.p, buf, 100) == 0);
	CHECK(ring_enqueue(&pr.p, buf, 100) == 0);
	*hdr_at(&pr, 0) = 7u << 24 | 100;
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(cs->malformed == 1 && cs->malformed_bytes == 224);
	/* The ring goes on after the resync. */
	CHECK(ring_enqueue(&pr.p, buf, 50) == 0);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 50);

	/* A length past what was published. */
	CHECK(ring_enqueue(&pr.p, buf, 100) == 0);
	*hdr_at(&pr, 224 + 64) = RING_REC_DATA << 24 | 4000;
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(cs->malformed == 2);

	/* A huge length (would run past the end of the area). */
	CHECK(ring_enqueue(&pr.p, buf, 100) == 0);
	*hdr_at(&pr, 224 + 64 + 112) = RING_REC_DATA << 24 | 0xffffff;
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(cs->malformed == 3);

	/* Framing intact, length above max_frame: that record only. */
	CHECK(ring_enqueue(&pr.p, buf, 997) == 0); /* record of 1008 */
	CHECK(ring_enqueue(&pr.p, buf, 20) == 0);
	*hdr_at(&pr, 224 + 64 + 224) = RING_REC_DATA << 24 | 1000;
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 20);
	CHECK(cs->dropped_bad_len == 1 && cs->malformed == 3);

	/* Zero length, framing intact. */
	CHECK(ring_enqueue(&pr.p, buf, 3) == 0);
	CHECK(ring_enqueue(&pr.p, buf, 4) == 0);
	*hdr_at(&pr, 224 + 64 + 224 + 1008 + 32) = RING_REC_DATA << 24 | 0;
	/* Dropped (its record would be 8 bytes), and the next header is
	 * then read inside its payload: framing lost, resync. */
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(cs->dropped_bad_len == 2 && cs->malformed == 4);
	CHECK(!ring_broken(&pr.c));
	pair_close(&pr);

	/* A pad record that does not end at the end of the area. */
	pair_open(&pr, 4096, 997);
	cs = ring_stats(&pr.c);
	for (int i = 0; i < 4; i++) /* records at 0, 1008, 2016, 3024 */
		CHECK(ring_enqueue(&pr.p, buf, 997) == 0);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 997);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 997);
	CHECK(ring_enqueue(&pr.p, buf, 997) == 0); /* pad of 64 + 1008 */
	CHECK(*hdr_at(&pr, 4032) == (RING_REC_PAD << 24 | (64 - 8)));
	*hdr_at(&pr, 4032) = RING_REC_PAD << 24 | 16;
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 997);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 997);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 0);
	CHECK(cs->malformed == 1 && cs->malformed_bytes == 64 + 1008);
	pair_close(&pr);
}

/* Hostile indices: the ring is declared broken, nothing is read. */
static void test_hostile_indices(void)
{
	struct pair pr;
	uint8_t buf[64] = {0}, out[1500];

	pair_open(&pr, 4096, 1500);
	CHECK(ring_enqueue(&pr.p, buf, 64) == 0);
	CHECK(ring_enqueue(&pr.p, buf, 64) == 0);
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 64);
	/* prod may be at most one area past the published cons (144
	 * after the next read). */
	pr.p.sh->prod = 144 + 4096 + 8;
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 64); /* cached prod */
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == -EPROTO);
	CHECK(ring_broken(&pr.c) && ring_stats(&pr.c)->bad_index == 1);
	CHECK(!ring_consumer_prepare_sleep(&pr.c));
	pair_close(&pr);

	pair_open(&pr, 4096, 1500);
	pr.p.sh->prod = 12; /* misaligned */
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == -EPROTO);
	pair_close(&pr);

	/* cons ahead of what was published, seen when the producer needs
	 * to reload it. */
	pair_open(&pr, 4096, 1500);
	pr.p.sh->cons = 0x80000000u;
	for (int i = 0; i < 100; i++)
		if (ring_enqueue(&pr.p, buf, 64) != 0)
			break;
	CHECK(ring_broken(&pr.p) && ring_stats(&pr.p)->bad_index == 1);
	CHECK(ring_enqueue(&pr.p, buf, 64) == -EPROTO);
	pair_close(&pr);
}

/* The suppression decisions, single-threaded. */
static void test_notify(void)
{
	struct pair pr;
	uint8_t buf[1000] = {0}, out[1000];
	int n = 0;

	pair_open(&pr, 4096, 1000);
	/* Nobody asked: no notification. */
	CHECK(ring_enqueue(&pr.p, buf, 64) == 0);
	CHECK(!ring_producer_needs_notify(&pr.p));
	CHECK(!ring_consumer_prepare_sleep(&pr.c)); /* data waiting */
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 64);
	CHECK(!ring_consumer_needs_notify(&pr.c));
	/* Empty: the consumer may sleep; the next batch wakes it, once. */
	CHECK(ring_consumer_prepare_sleep(&pr.c));
	CHECK(!ring_producer_needs_notify(&pr.p)); /* nothing new */
	CHECK(ring_enqueue(&pr.p, buf, 64) == 0);
	CHECK(ring_enqueue(&pr.p, buf, 64) == 0);
	CHECK(ring_producer_needs_notify(&pr.p));
	CHECK(ring_enqueue(&pr.p, buf, 64) == 0);
	CHECK(!ring_producer_needs_notify(&pr.p)); /* not asleep again */
	/* The consumer must not sleep on unread data. */
	CHECK(!ring_consumer_prepare_sleep(&pr.c));

	/* Producer side: full, asks for room for a 1000-byte frame. */
	while (ring_enqueue(&pr.p, buf, 1000) == 0)
		n++;
	CHECK(!ring_producer_prepare_sleep(&pr.p, 1000)); /* unchecked */
	ring_producer_needs_notify(&pr.p);
	CHECK(ring_producer_prepare_sleep(&pr.p, 1000));
	CHECK(!ring_producer_prepare_sleep(&pr.p, 1001)); /* cannot fit */
	CHECK(ring_producer_prepare_sleep(&pr.p, 1000));
	/* Three 72-byte records free 216 bytes: not enough, no wakeup. */
	for (int i = 0; i < 3; i++)
		CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 64);
	CHECK(!ring_consumer_needs_notify(&pr.c));
	/* One 1008-byte record more: now there is room, wake it. */
	CHECK(ring_dequeue(&pr.c, out, sizeof(out)) == 1000);
	CHECK(ring_consumer_needs_notify(&pr.c));
	CHECK(!ring_producer_prepare_sleep(&pr.p, 1000));
	CHECK(ring_enqueue(&pr.p, buf, 1000) == 0);
	pair_close(&pr);
}

int main(void)
{
	test_geometry();
	test_attach();
	test_empty_full();
	test_wraparound(0);
	test_wraparound(0u - 20000u); /* 8-aligned, 20000 bytes below 2^32 */
	test_batch_oversize();
	test_zero_copy();
	test_hostile_headers();
	test_hostile_indices();
	test_notify();
	return check_summary("ring");
}
