/*
 * libretto ring: a single-producer single-consumer lock-free ring of
 * variable-length frames in a shared memory region, one ring per
 * direction.  See docs/ring.md for the layout, the memory-ordering
 * argument and the notification protocol.
 *
 * The region is given by the caller (a memfd in sim, granted pages under
 * Xen), so the shared part holds no pointers, only free-running byte
 * positions.  Everything a side must trust (sizes, its own position, its
 * counters) lives in its private struct ring, never re-read from shared
 * memory, because the peer is untrusted.
 *
 * The library never blocks and never signals: the caller owns the
 * notification primitive (eventfd, futex, Xen event channel) and acts on
 * the booleans of the *_needs_notify() / *_prepare_sleep() calls.  That
 * primitive must be "sticky": a signal sent before the peer starts waiting
 * makes that wait return (an eventfd counter, a futex word compared on
 * wait, an event channel's pending bit all are).
 */
#ifndef LIBRETTO_RING_H
#define LIBRETTO_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layout version in the shared header; attach refuses any other. */
#define RING_VERSION 1
#define RING_MAGIC   0x4c425252u /* "LBRR" */

/* The header takes one page so that the data area starts on a page of its
 * own: under Xen each is granted as whole pages. */
#define RING_HDR_SIZE 4096u

/* Records are 8-byte aligned so that every payload is too (IP headers are
 * read in words) and a record header never straddles the end. */
#define RING_ALIGN	 8u
#define RING_RECHDR_SIZE 8u

/* The largest frame a ring can be configured for: an offloaded
 * super-frame of 64 KiB (the IP length limit, 65535) behind a
 * virtio_net_hdr_v1 (12 bytes), so bulk traffic is not capped at one MTU
 * per record. */
#define RING_VNET_HDR_LEN 12u
#define RING_FRAME_MAX	  (65535u + RING_VNET_HDR_LEN)

/* A jumbo frame: MTU 9000 + Ethernet header + one VLAN tag. */
#define RING_JUMBO_FRAME (9000u + 14u + 4u)

/* Data area bounds.  The minimum holds two maximal records, which is what
 * guarantees that a frame of max_frame always fits once the ring drains
 * (see ring_init).  The maximum keeps positions comparable as signed
 * 32-bit differences. */
#define RING_DATA_MIN	  4096u
#define RING_DATA_MAX	  (1u << 30)
#define RING_DATA_DEFAULT (1u << 20) /* 256 pages, as a Xen netif ring */

/* Record types: the top byte of a record header word.  0 is never valid,
 * so zeroed memory never reads as a record. */
#define RING_REC_DATA 1u
#define RING_REC_PAD  2u

/*
 * The shared header.  Fixed offsets, native byte order (both sides run on
 * the same machine).  The producer's and the consumer's words sit 128
 * bytes apart so that neither side's stores invalidate the other's line,
 * including through the adjacent-line prefetcher.
 */
struct ring_shared {
	/* Written once by ring_init (magic last, with release). */
	_Atomic uint32_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint32_t data_size; /* bytes, a power of two */
	uint32_t max_frame; /* largest payload of a data record */
	uint8_t pad0[128 - 5 * 4];

	/* Written by the producer only. */
	_Atomic uint32_t prod;	     /* bytes published */
	_Atomic uint32_t cons_event; /* wake me when cons moves past this */
	uint8_t pad1[128 - 2 * 4];

	/* Written by the consumer only. */
	_Atomic uint32_t cons;	     /* bytes released */
	_Atomic uint32_t prod_event; /* wake me when prod moves past this */
	uint8_t pad2[128 - 2 * 4];
};

/* Counters of one side.  Private: the peer cannot fake them. */
struct ring_stats {
	uint64_t frames; /* enqueued (producer) or delivered (consumer) */
	uint64_t bytes;	 /* payload bytes of those frames */
	/* producer */
	uint64_t refused_oversize; /* enqueue of len 0 or > max_frame */
	uint64_t full;		   /* enqueue refused for lack of space */
	/* consumer: what the (untrusted) producer wrote wrong */
	uint64_t dropped_bad_len; /* framing intact, len 0 or > max_frame */
	uint64_t malformed;	  /* framing broken: resynced to prod */
	uint64_t malformed_bytes; /* bytes skipped by those resyncs */
	/* either side: the peer's index moved impossibly; ring is dead */
	uint64_t bad_index;
};

/* One side's private view of a ring.  Opaque in use; public so that it can
 * be embedded without an allocation. */
struct ring {
	struct ring_shared *sh;
	uint8_t *data;
	uint32_t size; /* private copies: never re-read from shared memory */
	uint32_t mask;
	uint32_t max_frame;
	uint32_t pos;	   /* producer: next write; consumer: next read */
	uint32_t peer;	   /* last peer index seen (cons or prod) */
	uint32_t pub;	   /* last value of our own index we published */
	uint32_t checked;  /* our index at the last *_needs_notify() */
	uint32_t reserved; /* producer: payload room of the open reservation */
	uint32_t peeked;   /* consumer: record size of the open peek, or 0 */
	bool producer;
	bool broken;
	struct ring_stats stats;
};

/* A frame in a batch: data and length.  For dequeue, data is the caller's
 * buffer (of the cap given to the call) and len is set. */
struct ring_frame {
	void *data;
	uint32_t len;
};

/* Record size of a payload of len bytes (header + payload, aligned). */
static inline uint32_t ring_record_size(uint32_t len)
{
	return (RING_RECHDR_SIZE + len + RING_ALIGN - 1) & ~(RING_ALIGN - 1);
}

/*
 * Bytes of shared region for a data area of data_size bytes, or 0 if
 * data_size is not a power of two within [RING_DATA_MIN, RING_DATA_MAX].
 */
size_t ring_region_size(uint32_t data_size);

/*
 * Producer side: formats region (region_len bytes) as an empty ring with a
 * data area of data_size bytes carrying frames of up to max_frame bytes
 * (0: RING_FRAME_MAX).  data_size must be at least 2 *
 * ring_record_size(max_frame).  Returns 0 or -EINVAL.
 */
int ring_init(struct ring *r, void *region, size_t region_len,
	      uint32_t data_size, uint32_t max_frame);

/*
 * Consumer side: validates a region formatted by the peer (magic,
 * version, sizes against region_len, indices) and takes private copies of
 * its geometry.  Returns 0, -EAGAIN (not formatted yet: no magic) or
 * -EINVAL (formatted wrongly).
 */
int ring_attach(struct ring *r, void *region, size_t region_len);

/* The largest frame this ring carries. */
static inline uint32_t ring_max_frame(const struct ring *r)
{
	return r->max_frame;
}

/* True once the peer moved an index impossibly: every call then fails
 * with -EPROTO and the caller should tear the connection down. */
static inline bool ring_broken(const struct ring *r)
{
	return r->broken;
}

static inline const struct ring_stats *ring_stats(const struct ring *r)
{
	return &r->stats;
}

/* ---- producer ---- */

/*
 * Copies one frame in and publishes it.  Returns 0, -EMSGSIZE (len 0 or
 * above max_frame: refused and counted), -ENOBUFS (no room now) or
 * -EPROTO (ring broken).
 */
int ring_enqueue(struct ring *r, const void *data, uint32_t len);

/*
 * Copies frames in order and publishes them with one index store.  Stops
 * at the first frame that does not fit.  Oversize frames are refused,
 * counted and skipped.  Returns how many frames were taken from the front
 * of the array (enqueued or refused), or -EPROTO.
 */
int ring_enqueue_batch(struct ring *r, const struct ring_frame *f, unsigned n);

/*
 * Zero-copy: room for a payload of up to len bytes, contiguous in the
 * data area, or NULL (errno EMSGSIZE, ENOBUFS or EPROTO as above).  Fill
 * it, then ring_commit() the real length (<= len).  Nothing is visible to
 * the consumer until ring_publish() or ring_producer_needs_notify().
 */
void *ring_reserve(struct ring *r, uint32_t len);
void ring_commit(struct ring *r, uint32_t len);

/* Makes every committed frame visible to the consumer. */
void ring_publish(struct ring *r);

/*
 * After a batch: publishes, then says whether the consumer went to sleep
 * waiting for it (true at most once per sleep).  Must be called, and
 * acted on, before the producer stops producing or sleeps: that is what
 * rules out the lost wakeup.
 */
bool ring_producer_needs_notify(struct ring *r);

/*
 * The ring has no room for a frame of len bytes: asks the consumer for a
 * notification once it has, then re-checks.  True: still no room, the
 * caller may wait for the notification.  False: room appeared (or len can
 * never fit, or the ring is broken), do not wait.  Call
 * ring_producer_needs_notify() (and act on it) first.
 */
bool ring_producer_prepare_sleep(struct ring *r, uint32_t len);

/* ---- consumer ---- */

/*
 * Zero-copy: the next frame, in place.  Returns 1 (*data, *len set), 0
 * (empty) or -EPROTO.  The payload is in shared memory and the peer can
 * still write it: copy what you parse.  Malformed records are dropped and
 * counted on the way.  ring_release() consumes the frame.
 */
int ring_peek(struct ring *r, const void **data, uint32_t *len);
void ring_release(struct ring *r);

/*
 * Copies up to n frames out into f[i].data (each with room for cap bytes,
 * which must be at least ring_max_frame()) and releases them with one
 * index store.  Returns the count (0: empty), -EINVAL or -EPROTO.
 */
int ring_dequeue_batch(struct ring *r, struct ring_frame *f, unsigned n,
		       uint32_t cap);

/* Single-frame form: returns the length, 0 if empty, or -errno. */
int ring_dequeue(struct ring *r, void *buf, uint32_t cap);

/* Makes every released byte reusable by the producer. */
void ring_consumer_publish(struct ring *r);

/*
 * After a batch: publishes, then says whether the producer went to sleep
 * waiting for room (true at most once per sleep).
 */
bool ring_consumer_needs_notify(struct ring *r);

/*
 * The ring looks empty: asks the producer for a notification at the next
 * frame, then re-checks.  True: still empty, the caller may wait.  False:
 * a frame arrived (or the ring is broken), do not wait.  Call
 * ring_consumer_needs_notify() (and act on it) first.
 */
bool ring_consumer_prepare_sleep(struct ring *r);

#endif
