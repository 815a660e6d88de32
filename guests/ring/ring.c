/*
 * The SPSC frame ring.  Memory-ordering summary (docs/ring.md has the
 * full argument):
 *
 *  - Data: the producer writes payload and record header, then stores
 *    prod with release; the consumer loads prod with acquire, then reads
 *    headers and payloads.  Release/acquire is the weakest pair that makes
 *    the record visible before its index.
 *  - Space: the consumer reads a record, then stores cons with release;
 *    the producer loads cons with acquire before it overwrites that space.
 *    Release/acquire orders the consumer's reads before the producer's
 *    later writes (load->store), so a record is never overwritten while
 *    still being read.
 *  - Sleep: the sleeper stores its event index, the waker stores its
 *    position; each then loads the other's word.  That is the
 *    store-buffering (Dekker) pattern: only a seq_cst fence on both sides
 *    forbids both loads from reading the old values, which is exactly the
 *    lost wakeup.  The fence is paid once per batch and once per sleep,
 *    never per frame.
 *  - Record headers are read with one relaxed atomic load into a local
 *    and only the local is validated and used: the peer may rewrite
 *    shared memory at any time, and a plain read could be repeated by the
 *    compiler after validation.
 */
#include "ring.h"

#include <errno.h>
#include <string.h>

/* "No event requested": outside the first [checked, now) windows of a
 * fresh ring, so it signals nothing until a side asks. */
#define NO_EVENT 0xffffffffu

static inline _Atomic uint32_t *rec_word(struct ring *r, uint32_t off)
{
	/* off is a multiple of RING_ALIGN inside the data area, which is
	 * itself aligned: an aligned 32-bit word. */
	return (_Atomic uint32_t *)(void *)(r->data + off);
}

static inline uint32_t rec_hdr(uint32_t type, uint32_t len)
{
	return type << 24 | len;
}

/* Did an index move from `from` to `to` past event (i.e. is event in
 * [from, to), modulo 2^32)? */
static inline bool crossed(uint32_t event, uint32_t from, uint32_t to)
{
	return (uint32_t)(event - from) < (uint32_t)(to - from);
}

static bool is_pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

size_t ring_region_size(uint32_t data_size)
{
	if (!is_pow2(data_size) || data_size < RING_DATA_MIN ||
	    data_size > RING_DATA_MAX)
		return 0;
	return (size_t)RING_HDR_SIZE + data_size;
}

static void set_geometry(struct ring *r, void *region, uint32_t size,
			 uint32_t max_frame, bool producer)
{
	memset(r, 0, sizeof(*r));
	r->sh = region;
	r->data = (uint8_t *)region + RING_HDR_SIZE;
	r->size = size;
	r->mask = size - 1;
	r->max_frame = max_frame;
	r->producer = producer;
}

int ring_init(struct ring *r, void *region, size_t region_len,
	      uint32_t data_size, uint32_t max_frame)
{
	struct ring_shared *sh = region;
	size_t need = ring_region_size(data_size);

	if (max_frame == 0)
		max_frame = RING_FRAME_MAX;
	if (need == 0 || region_len < need || max_frame > RING_FRAME_MAX ||
	    (uintptr_t)region % RING_ALIGN != 0)
		return -EINVAL;
	/* Two maximal records: with the ring drained, a record that does
	 * not fit before the end is padded to it and then has the whole
	 * start of the area, more than the record itself. */
	if (data_size / 2 < ring_record_size(max_frame))
		return -EINVAL;

	/* Clear the magic first so that a consumer racing with a re-init
	 * refuses the region rather than trusting half-written fields. */
	atomic_store_explicit(&sh->magic, 0, memory_order_relaxed);
	memset((uint8_t *)sh + sizeof(sh->magic), 0,
	       RING_HDR_SIZE - sizeof(sh->magic));
	sh->version = RING_VERSION;
	sh->hdr_size = RING_HDR_SIZE;
	sh->data_size = data_size;
	sh->max_frame = max_frame;
	atomic_store_explicit(&sh->prod, 0, memory_order_relaxed);
	atomic_store_explicit(&sh->cons, 0, memory_order_relaxed);
	atomic_store_explicit(&sh->prod_event, NO_EVENT, memory_order_relaxed);
	atomic_store_explicit(&sh->cons_event, NO_EVENT, memory_order_relaxed);
	/* Release: whoever reads the magic reads the fields above. */
	atomic_store_explicit(&sh->magic, RING_MAGIC, memory_order_release);

	set_geometry(r, region, data_size, max_frame, true);
	return 0;
}

int ring_attach(struct ring *r, void *region, size_t region_len)
{
	struct ring_shared *sh = region;
	uint32_t magic, size, max_frame, prod, cons;

	if (region_len < RING_HDR_SIZE || (uintptr_t)region % RING_ALIGN != 0)
		return -EINVAL;
	magic = atomic_load_explicit(&sh->magic, memory_order_acquire);
	if (magic == 0)
		return -EAGAIN;
	/* Each field is read once into a local: the checks below hold for
	 * the values we keep whatever the peer writes afterwards. */
	size = *(volatile uint32_t *)&sh->data_size;
	max_frame = *(volatile uint32_t *)&sh->max_frame;
	if (magic != RING_MAGIC ||
	    *(volatile uint32_t *)&sh->version != RING_VERSION ||
	    *(volatile uint32_t *)&sh->hdr_size != RING_HDR_SIZE ||
	    ring_region_size(size) == 0 ||
	    region_len < ring_region_size(size) || max_frame == 0 ||
	    max_frame > RING_FRAME_MAX ||
	    size / 2 < ring_record_size(max_frame))
		return -EINVAL;
	/* A consumer may attach mid-stream (a restarted server): it resumes
	 * at the shared cons, which must be a sane distance behind prod. */
	cons = atomic_load_explicit(&sh->cons, memory_order_relaxed);
	prod = atomic_load_explicit(&sh->prod, memory_order_acquire);
	if ((uint32_t)(prod - cons) > size || cons % RING_ALIGN != 0 ||
	    prod % RING_ALIGN != 0)
		return -EINVAL;

	set_geometry(r, region, size, max_frame, false);
	r->pos = r->pub = r->checked = cons;
	r->peer = prod;
	return 0;
}

/* ---- producer ---- */

/* Reloads cons.  It may only move forward and never past what we
 * published; anything else is a hostile or broken peer. */
static int prod_reload(struct ring *r)
{
	uint32_t c = atomic_load_explicit(&r->sh->cons, memory_order_acquire);

	if ((uint32_t)(c - r->peer) > (uint32_t)(r->pub - r->peer) ||
	    c % RING_ALIGN != 0) {
		r->stats.bad_index++;
		r->broken = true;
		return -EPROTO;
	}
	r->peer = c;
	return 0;
}

/* Bytes needed at pos for a record of rec bytes: the record, plus the pad
 * to the end of the area when it does not fit before the end (records
 * never wrap, so a consumer can hand out one contiguous pointer). */
static uint32_t prod_need(const struct ring *r, uint32_t rec, uint32_t *pad)
{
	uint32_t contig = r->size - (r->pos & r->mask);

	*pad = rec <= contig ? 0 : contig;
	return *pad + rec;
}

void *ring_reserve(struct ring *r, uint32_t len)
{
	uint32_t rec, pad, need;

	if (r->broken) {
		errno = EPROTO;
		return NULL;
	}
	if (len == 0 || len > r->max_frame) {
		r->stats.refused_oversize++;
		errno = EMSGSIZE;
		return NULL;
	}
	rec = ring_record_size(len);
	need = prod_need(r, rec, &pad);
	/* The cached cons is usually enough: reloading it on every frame
	 * would pull the consumer's cache line over each time. */
	if (r->size - (r->pos - r->peer) < need) {
		if (prod_reload(r) < 0) {
			errno = EPROTO;
			return NULL;
		}
		if (r->size - (r->pos - r->peer) < need) {
			r->stats.full++;
			errno = ENOBUFS;
			return NULL;
		}
	}
	if (pad) {
		atomic_store_explicit(
		    rec_word(r, r->pos & r->mask),
		    rec_hdr(RING_REC_PAD, pad - RING_RECHDR_SIZE),
		    memory_order_relaxed);
		r->pos += pad;
	}
	r->reserved = len;
	return r->data + (r->pos & r->mask) + RING_RECHDR_SIZE;
}

void ring_commit(struct ring *r, uint32_t len)
{
	if (len > r->reserved)
		len = r->reserved; /* caller bug: never run past the room */
	r->reserved = 0;
	if (len == 0)
		return; /* cancelled: a pad already written stays harmless */
	/* Relaxed: the release store of prod in ring_publish orders this
	 * header (and the payload) before the index that exposes them. */
	atomic_store_explicit(rec_word(r, r->pos & r->mask),
			      rec_hdr(RING_REC_DATA, len),
			      memory_order_relaxed);
	r->pos += ring_record_size(len);
	r->stats.frames++;
	r->stats.bytes += len;
}

void ring_publish(struct ring *r)
{
	if (r->pos != r->pub) {
		atomic_store_explicit(&r->sh->prod, r->pos,
				      memory_order_release);
		r->pub = r->pos;
	}
}

int ring_enqueue(struct ring *r, const void *data, uint32_t len)
{
	void *p = ring_reserve(r, len);

	if (!p)
		return -errno;
	memcpy(p, data, len);
	ring_commit(r, len);
	ring_publish(r);
	return 0;
}

int ring_enqueue_batch(struct ring *r, const struct ring_frame *f, unsigned n)
{
	unsigned i;
	void *p;

	for (i = 0; i < n; i++) {
		p = ring_reserve(r, f[i].len);
		if (!p) {
			if (errno == EMSGSIZE)
				continue; /* refused and counted: skip it */
			if (errno == EPROTO)
				return -EPROTO;
			break; /* full */
		}
		memcpy(p, f[i].data, f[i].len);
		ring_commit(r, f[i].len);
	}
	ring_publish(r);
	return (int)i;
}

bool ring_producer_needs_notify(struct ring *r)
{
	uint32_t event;
	bool n;

	ring_publish(r);
	/* Nothing new since the last check: a consumer that went to sleep
	 * since then saw everything we had published. */
	if (r->pub == r->checked)
		return false;
	/* StoreLoad: our prod store must be globally ordered before the
	 * load of prod_event; the consumer does the mirror image.  See
	 * ring_consumer_prepare_sleep. */
	atomic_thread_fence(memory_order_seq_cst);
	event = atomic_load_explicit(&r->sh->prod_event, memory_order_relaxed);
	/* The event is only a hint from the peer: a wrong value can cost
	 * it a wakeup, never cost us memory safety. */
	n = crossed(event, r->checked, r->pub);
	r->checked = r->pub;
	return n;
}

bool ring_producer_prepare_sleep(struct ring *r, uint32_t len)
{
	uint32_t rec, pad, target;

	if (r->broken || len == 0 || len > r->max_frame)
		return false;
	/* Unchecked frames: the consumer may be asleep waiting for them,
	 * and sleeping now could deadlock both sides. */
	if (r->pos != r->pub || r->pub != r->checked)
		return false;
	rec = ring_record_size(len);
	target = r->pos + prod_need(r, rec, &pad) - r->size;
	/* Wake me when cons reaches target, i.e. moves past target - 1. */
	atomic_store_explicit(&r->sh->cons_event, target - 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (prod_reload(r) < 0)
		return false;
	return (int32_t)(r->peer - target) < 0;
}

/* ---- consumer ---- */

/* Reloads prod.  It may only move forward and at most one data area past
 * what we have released; anything else is a hostile or broken peer. */
static int cons_reload(struct ring *r)
{
	uint32_t p = atomic_load_explicit(&r->sh->prod, memory_order_acquire);

	if ((uint32_t)(p - r->peer) > (uint32_t)(r->pub + r->size - r->peer) ||
	    p % RING_ALIGN != 0) {
		r->stats.bad_index++;
		r->broken = true;
		return -EPROTO;
	}
	r->peer = p;
	return 0;
}

int ring_peek(struct ring *r, const void **data, uint32_t *len)
{
	uint32_t avail, off, contig, w, type, l, rec;

	if (r->broken)
		return -EPROTO;
	for (;;) {
		if (r->pos == r->peer) {
			if (cons_reload(r) < 0)
				return -EPROTO;
			if (r->pos == r->peer)
				return 0;
		}
		/* Everything below is checked against private values: avail
		 * and contig bound every access to the data area. */
		avail = r->peer - r->pos;
		off = r->pos & r->mask;
		contig = r->size - off;
		w = atomic_load_explicit(rec_word(r, off),
					 memory_order_relaxed);
		type = w >> 24;
		l = w & 0xffffffu;
		if (type == RING_REC_PAD && l == contig - RING_RECHDR_SIZE &&
		    contig <= avail) {
			r->pos += contig;
			continue;
		}
		rec = ring_record_size(l);
		if (type != RING_REC_DATA || rec > contig || rec > avail) {
			/* Framing is lost: the next record cannot be found.
			 * Drop everything published and start again at prod. */
			r->stats.malformed++;
			r->stats.malformed_bytes += avail;
			r->pos = r->peer;
			continue;
		}
		if (l == 0 || l > r->max_frame) {
			/* Framing intact but a length we refuse to deliver. */
			r->stats.dropped_bad_len++;
			r->pos += rec;
			continue;
		}
		r->peeked = rec;
		r->reserved = l;
		*data = r->data + off + RING_RECHDR_SIZE;
		*len = l;
		return 1;
	}
}

void ring_release(struct ring *r)
{
	if (r->peeked == 0)
		return;
	r->pos += r->peeked;
	r->stats.frames++;
	r->stats.bytes += r->reserved;
	r->peeked = 0;
}

void ring_consumer_publish(struct ring *r)
{
	if (r->pos != r->pub) {
		/* Release: our reads of the records are done before the
		 * producer can see their space as free. */
		atomic_store_explicit(&r->sh->cons, r->pos,
				      memory_order_release);
		r->pub = r->pos;
	}
}

int ring_dequeue_batch(struct ring *r, struct ring_frame *f, unsigned n,
		       uint32_t cap)
{
	const void *p;
	uint32_t len;
	unsigned i;
	int rc = 0;

	if (cap < r->max_frame)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		rc = ring_peek(r, &p, &len);
		if (rc <= 0)
			break;
		memcpy(f[i].data, p, len);
		f[i].len = len;
		ring_release(r);
	}
	ring_consumer_publish(r);
	return rc < 0 ? rc : (int)i;
}

int ring_dequeue(struct ring *r, void *buf, uint32_t cap)
{
	struct ring_frame f = {.data = buf};
	int rc = ring_dequeue_batch(r, &f, 1, cap);

	return rc <= 0 ? rc : (int)f.len;
}

bool ring_consumer_needs_notify(struct ring *r)
{
	uint32_t event;
	bool n;

	ring_consumer_publish(r);
	if (r->pub == r->checked)
		return false;
	/* StoreLoad, mirror of ring_producer_prepare_sleep. */
	atomic_thread_fence(memory_order_seq_cst);
	event = atomic_load_explicit(&r->sh->cons_event, memory_order_relaxed);
	n = crossed(event, r->checked, r->pub);
	r->checked = r->pub;
	return n;
}

bool ring_consumer_prepare_sleep(struct ring *r)
{
	if (r->broken)
		return false;
	/* Unread, unpublished or unchecked progress: do not sleep on it
	 * (a producer waiting for room may need our notification). */
	if (r->pos != r->peer || r->pos != r->pub || r->pub != r->checked)
		return false;
	/*
	 * Lost-wakeup argument.  We store prod_event (E = pos: "wake me when
	 * prod moves past pos"), fence, load prod.  The producer stores
	 * prod, fences (ring_producer_needs_notify), loads prod_event.  The
	 * two seq_cst fences are totally ordered: if ours comes first, the
	 * producer's load sees E and its [checked, now) window contains E,
	 * so it notifies; if its fence comes first, our load sees its prod
	 * and we do not sleep.  Neither can miss the other.
	 */
	atomic_store_explicit(&r->sh->prod_event, r->pos, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (cons_reload(r) < 0)
		return false;
	return r->pos == r->peer;
}
