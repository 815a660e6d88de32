/*
 * plat_pingpong: the platform layer between two real domains, with the
 * VIF's share and handshake (docs/datapath.md, "The VIF"), for the
 * Xen-in-QEMU harness.  Not a ctest: it needs Xen (or, for a dry run, the
 * sim's xenstored and LIBRETTO_PLATFORM=posix).
 *
 *   plat_pingpong [-n FRAMES] [-t SECONDS] alloc PEER   (the frontend)
 *   plat_pingpong [-n FRAMES] [-t SECONDS] map PEER     (the backend)
 *
 * alloc shares VIF_PAGES pages with domain PEER, formats tx, allocates a
 * channel and publishes both in its own guest/vif (plat_xs_vif_publish:
 * the grant refs in ring-ref0, ring-ref1, ...).  map finds them below
 * PEER's directory, maps, binds, formats rx and notifies.  Then alloc
 * sends FRAMES frames (1000 by default; sizes from 60 bytes to the VIF's
 * largest record), one at a time; map checks each byte and echoes it
 * transformed; alloc checks the echo.  Every wait is bounded by SECONDS
 * (30 by default; the first, for the peer to appear, by twice that).
 *
 * At the end alloc withdraws, frees and writes guest/pingpong = freed;
 * map then checks the contract's semantics across domains: a notify to
 * the closed peer is not an error, its pages are still there after the
 * allocator freed them, and the withdrawn references are refused
 * (-ESTALE, or -ESRCH once the allocating domain is gone).  Under xen it
 * also checks that a bound port cannot be bound twice.
 *
 * Environment: LIBRETTO_PLATFORM (xen under Xen; the guest image's /init
 * sets it), LIBRETTO_DOMID (our domid; default: xenstore's "domid").
 * Exit status: 0 passed; 1 failed; 2 usage; 77 no such platform here (no
 * /dev/xen/gntalloc, gntdev or evtchn).  docs/platform.md, "Testing under
 * Xen", says how the harness runs it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libretto/xs_paths.h>

#include "platform.h"
#include "platform_xs.h"
#include "ring.h"
#include "vif.h"
#include "xen_refs.h"

#define EXIT_USAGE  2
#define EXIT_NOPLAT 77

/* The test's own node below the allocator's guest/: "freed" once it has
 * withdrawn and freed everything. */
#define PINGPONG_LEAF "guest/pingpong"

/* Echoed frames come back with every byte xor'ed with this, so that an
 * echo proves the peer read and rewrote the frame, not that our own
 * bytes are still in place. */
#define ECHO_XOR 0xa5u

struct side {
	const char *role;
	struct guest_xs gx;
	unsigned peer;
	unsigned frames;
	int timeout_ms;
	struct plat_shared *share;
	struct plat_chan *chan;
	struct ring tx; /* alloc -> map */
	struct ring rx; /* map -> alloc */
	uint8_t *frame; /* VIF_FRAME_MAX bytes */
	uint8_t *want;	/* VIF_FRAME_MAX bytes */
};

static const char *role_of(const struct side *s)
{
	return s->role;
}

static int fail(const struct side *s, const char *what, int err)
{
	fprintf(stderr, "plat_pingpong %s: FAIL: %s%s%s\n", role_of(s), what,
		err ? ": " : "", err ? strerror(-err) : "");
	return 1;
}

/* A first share or channel call failed: -ENOENT means that this domain
 * has no such device, which is a skip rather than a failure. */
static int fail_first(const struct side *s, const char *what, int err)
{
	if (err != -ENOENT)
		return fail(s, what, err);
	fprintf(stderr,
		"plat_pingpong %s: SKIP: %s: %s (platform %s: under xen, not "
		"a Xen domain, or xen-gntalloc, xen-gntdev or xen-evtchn not "
		"loaded)\n",
		role_of(s), what, strerror(-err), plat_name());
	return EXIT_NOPLAT;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- frames ----------------------------------------------------------- */

/* Sizes that walk the ring's wrap-around at varied offsets: every 16th
 * the largest record, the others 60 bytes to a jumbo frame. */
static uint32_t frame_len(unsigned i)
{
	if (i % 16 == 15)
		return VIF_FRAME_MAX;
	return 60u + (uint32_t)((i * 7919u) % (VIF_ETH_MAX_MTU - 60u));
}

static void frame_fill(uint8_t *f, uint32_t len, unsigned i, uint8_t xor)
{
	uint32_t j;

	for (j = 0; j < len; j++)
		f[j] = (uint8_t)((i * 131u + j * 7u + (j >> 8)) ^ xor);
}

/* The first byte where got differs from frame i (xor'ed), or -1. */
static long frame_diff(const uint8_t *got, uint32_t len, unsigned i,
		       uint8_t xor)
{
	uint32_t j;

	for (j = 0; j < len; j++)
		if (got[j] != (uint8_t)((i * 131u + j * 7u + (j >> 8)) ^ xor))
			return (long)j;
	return -1;
}

/* ---- ring traffic over the one channel -------------------------------- */

/* Waits for the channel; 0 on a notification (or a signal: the caller
 * looks at its ring either way), -ETIMEDOUT, or the error. */
static int wait_chan(struct side *s)
{
	int r = plat_chan_wait(s->chan, s->timeout_ms);

	if (r == 0)
		return -ETIMEDOUT;
	return r < 0 && r != -EINTR ? r : 0;
}

static int send_frame(struct side *s, struct ring *r, const uint8_t *f,
		      uint32_t len)
{
	int e;

	for (;;) {
		e = ring_enqueue(r, f, len);
		if (ring_producer_needs_notify(r))
			plat_chan_notify(s->chan);
		if (e != -ENOBUFS)
			return e;
		if (ring_producer_prepare_sleep(r, len) && (e = wait_chan(s)))
			return e;
	}
}

/* The next frame of r into s->frame: its length, or -errno. */
static int receive_frame(struct side *s, struct ring *r)
{
	int n, e;

	for (;;) {
		n = ring_dequeue(r, s->frame, VIF_FRAME_MAX);
		if (ring_consumer_needs_notify(r))
			plat_chan_notify(s->chan);
		if (n != 0)
			return n;
		if (ring_consumer_prepare_sleep(r) && (e = wait_chan(s)))
			return e;
	}
}

/* ---- what a reference looks like -------------------------------------- */

/* One line on the share's reference: its length, how many xenstore
 * nodes it takes, and under xen the range of the grant refs, which is
 * what decides whether a VIF's refs fit PLAT_REF_MAX. */
static void describe_ref(const struct side *s, const char *ref)
{
	struct plat_xs_piece pieces[PLAT_XS_REF_NODES_MAX];
	uint32_t refs[PLAT_SHARE_MAX_PAGES], lo = UINT32_MAX, hi = 0;
	int n, nodes, i;

	nodes = plat_xs_ref_split(ref, PLAT_XS_REF_NODE_MAX, pieces,
				  PLAT_XS_REF_NODES_MAX);
	printf("plat_pingpong %s: ring-ref is %zu bytes in %d xenstore "
	       "node(s)",
	       role_of(s), strlen(ref), nodes);
	n = strcmp(plat_name(), "xen") == 0
		? xen_refs_parse(ref, refs, PLAT_SHARE_MAX_PAGES)
		: -EINVAL;
	for (i = 0; i < n; i++) {
		lo = refs[i] < lo ? refs[i] : lo;
		hi = refs[i] > hi ? refs[i] : hi;
	}
	if (n > 0)
		printf(", %d grant refs from %" PRIu32 " to %" PRIu32, n, lo,
		       hi);
	printf("\n");
	fflush(stdout);
}

/* ---- the allocator (frontend) ----------------------------------------- */

static int alloc_connect(struct side *s)
{
	uint64_t deadline;
	int r;

	r = plat_share_alloc(s->peer, VIF_PAGES, &s->share);
	if (r < 0)
		return fail_first(s, "plat_share_alloc", r);
	describe_ref(s, plat_shared_ref(s->share));
	r = ring_init(&s->tx, vif_tx_region(plat_shared_addr(s->share)),
		      VIF_RING_REGION, VIF_RING_DATA, VIF_FRAME_MAX);
	if (r < 0)
		return fail(s, "ring_init tx", r);
	r = plat_chan_alloc_unbound(s->peer, &s->chan);
	if (r < 0)
		return fail_first(s, "plat_chan_alloc_unbound", r);
	r = plat_xs_vif_publish(&s->gx, s->share, s->chan);
	if (r < 0)
		return fail(s, "plat_xs_vif_publish", r);
	printf("plat_pingpong alloc: published for domain %u, event channel "
	       "%s; waiting for it\n",
	       s->peer, plat_chan_ref(s->chan));
	fflush(stdout);
	/* The mapper formats rx, then notifies. */
	deadline = now_ns() + 2ull * (uint64_t)s->timeout_ms * 1000000u;
	while (
	    (r = ring_attach(&s->rx, vif_rx_region(plat_shared_addr(s->share)),
			     VIF_RING_REGION)) == -EAGAIN) {
		if (now_ns() > deadline)
			return fail(s, "the peer did not connect", -ETIMEDOUT);
		r = plat_chan_wait(s->chan, 500);
		if (r < 0 && r != -EINTR)
			return fail(s, "plat_chan_wait", r);
	}
	if (r < 0)
		return fail(s, "ring_attach rx", r);
	/* As the agent does; nothing waits for it here. */
	(void)plat_xs_vif_set_state(&s->gx, XenbusStateConnected);
	return 0;
}

static int alloc_pingpong(struct side *s)
{
	uint64_t t0 = now_ns(), t, rtt_max = 0, bytes = 0;
	unsigned i;
	long bad;
	int n, r;

	for (i = 0; i < s->frames; i++) {
		uint32_t len = frame_len(i);

		t = now_ns();
		frame_fill(s->want, len, i, 0);
		r = send_frame(s, &s->tx, s->want, len);
		if (r < 0)
			return fail(s, "sending a frame", r);
		n = receive_frame(s, &s->rx);
		if (n < 0)
			return fail(s, "waiting for an echo", n);
		t = now_ns() - t;
		rtt_max = t > rtt_max ? t : rtt_max;
		bad = frame_diff(s->frame, (uint32_t)n, i, ECHO_XOR);
		if ((uint32_t)n != len || bad >= 0) {
			fprintf(stderr,
				"plat_pingpong alloc: echo %u: %d bytes (sent "
				"%" PRIu32 "), first bad byte %ld\n",
				i, n, len, bad);
			return fail(s, "an echo differs", 0);
		}
		bytes += len;
	}
	t = now_ns() - t0;
	printf("plat_pingpong alloc: %u frames, %" PRIu64 " bytes each way "
	       "checked; round trip mean %.1f us, max %.1f us\n",
	       s->frames, bytes, s->frames ? t / 1e3 / s->frames : 0.0,
	       rtt_max / 1e3);
	return 0;
}

/* Withdraws, frees, and says so in guest/pingpong for the mapper's
 * checks. */
static int alloc_finish(struct side *s)
{
	int r = plat_xs_vif_withdraw(&s->gx);

	if (r < 0)
		return fail(s, "plat_xs_vif_withdraw", r);
	plat_chan_close(s->chan);
	s->chan = NULL;
	plat_shared_free(s->share);
	s->share = NULL;
	if (guest_xs_write(&s->gx, PINGPONG_LEAF, "freed") < 0)
		return fail(s, "writing " PINGPONG_LEAF, -errno);
	return 0;
}

static int run_alloc(struct side *s)
{
	int r = alloc_connect(s);

	if (r == 0)
		r = alloc_pingpong(s);
	if (r == 0)
		r = alloc_finish(s);
	return r;
}

/* ---- the mapper (backend) --------------------------------------------- */

static int map_connect(struct side *s, struct plat_vif_info *info)
{
	struct plat_shared *wrong = NULL;
	uint64_t deadline =
	    now_ns() + 2ull * (uint64_t)s->timeout_ms * 1000000u;
	int r;

	for (;;) {
		r = plat_xs_vif_read(s->gx.h, s->peer, info);
		if (r == 0 && info->state == XenbusStateInitialised)
			break;
		if (r < 0 && r != -ENOENT)
			return fail(s, "plat_xs_vif_read", r);
		if (now_ns() > deadline)
			return fail(s, "nothing published by the peer",
				    -ETIMEDOUT);
		sleep_ms(100);
	}
	describe_ref(s, info->ring_ref);
	if (info->ring_pages != VIF_PAGES)
		return fail(s, "ring-pages is not VIF_PAGES", -EMSGSIZE);
	/* A size other than the one shared is refused, before anything is
	 * mapped. */
	r = plat_share_map(s->peer, info->ring_ref, VIF_PAGES + 1, &wrong);
	plat_shared_free(wrong);
	if (r != -EMSGSIZE)
		return fail(s, "mapping one page too many was not -EMSGSIZE",
			    r);
	r = plat_share_map(s->peer, info->ring_ref, VIF_PAGES, &s->share);
	if (r < 0)
		return fail_first(s, "plat_share_map", r);
	r = plat_chan_bind(s->peer, info->event_channel, &s->chan);
	if (r < 0)
		return fail_first(s, "plat_chan_bind", r);
	r = ring_attach(&s->tx, vif_tx_region(plat_shared_addr(s->share)),
			VIF_RING_REGION);
	if (r < 0)
		return fail(s, "ring_attach tx", r);
	r = ring_init(&s->rx, vif_rx_region(plat_shared_addr(s->share)),
		      VIF_RING_REGION, VIF_RING_DATA, VIF_FRAME_MAX);
	if (r < 0)
		return fail(s, "ring_init rx", r);
	r = plat_chan_notify(s->chan);
	if (r < 0)
		return fail(s, "plat_chan_notify", r);
	printf("plat_pingpong map: connected to domain %u\n", s->peer);
	fflush(stdout);
	return 0;
}

static int map_pingpong(struct side *s)
{
	unsigned i;
	uint32_t j;
	long bad;
	int n, r;

	for (i = 0; i < s->frames; i++) {
		n = receive_frame(s, &s->tx);
		if (n < 0)
			return fail(s, "waiting for a frame", n);
		bad = frame_diff(s->frame, (uint32_t)n, i, 0);
		if ((uint32_t)n != frame_len(i) || bad >= 0) {
			fprintf(stderr,
				"plat_pingpong map: frame %u: %d bytes (want "
				"%" PRIu32 "), first bad byte %ld\n",
				i, n, frame_len(i), bad);
			return fail(s, "a frame differs", 0);
		}
		for (j = 0; j < (uint32_t)n; j++)
			s->frame[j] ^= ECHO_XOR;
		r = send_frame(s, &s->rx, s->frame, (uint32_t)n);
		if (r < 0)
			return fail(s, "echoing a frame", r);
	}
	printf("plat_pingpong map: %u frames checked and echoed\n", s->frames);
	fflush(stdout);
	return 0;
}

/* The allocator has freed: it wrote guest/pingpong = freed, or its
 * domain (its whole directory) is gone. */
static bool peer_freed(struct side *s)
{
	char path[128];
	unsigned len;
	char *v;
	bool freed;

	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" PINGPONG_LEAF,
		 s->peer);
	v = xs_read(s->gx.h, XBT_NULL, path, &len);
	freed = v != NULL && strcmp(v, "freed") == 0;
	free(v);
	if (freed)
		return true;
	snprintf(path, sizeof(path), "/local/domain/%u", s->peer);
	v = xs_read(s->gx.h, XBT_NULL, path, &len);
	free(v);
	return v == NULL && errno == ENOENT;
}

/* A withdrawn reference must not map again.  Under Xen the allocating
 * kernel ends a grant that we still had mapped a little later (gntalloc's
 * deferred end of access, retried about once a second), so a map may
 * still work for a moment: it is undone and tried again until refused. */
static int map_refused_eventually(struct side *s, const char *ref)
{
	uint64_t deadline = now_ns() + (uint64_t)s->timeout_ms * 1000000u;
	struct plat_shared *again = NULL;
	int r;

	while ((r = plat_share_map(s->peer, ref, VIF_PAGES, &again)) == 0) {
		plat_shared_free(again);
		again = NULL;
		if (now_ns() > deadline)
			return fail(s, "a withdrawn reference still maps", 0);
		sleep_ms(250);
	}
	printf("plat_pingpong map: the withdrawn ring-ref is refused: %s\n",
	       strerror(-r));
	if (r != -ESTALE && r != -ESRCH)
		return fail(s, "a withdrawn reference: not -ESTALE or -ESRCH",
			    r);
	return 0;
}

static int map_after_free(struct side *s, const struct plat_vif_info *info)
{
	uint64_t deadline = now_ns() + (uint64_t)s->timeout_ms * 1000000u;
	struct plat_chan *twice = NULL;
	volatile uint8_t *p;
	size_t i, size = VIF_PAGES * VIF_PAGE_SIZE;
	int r;

	if (strcmp(plat_name(), "xen") == 0) {
		r = plat_chan_bind(s->peer, info->event_channel, &twice);
		plat_chan_close(twice);
		if (r != -ESTALE)
			return fail(s, "a bound port bound twice: not -ESTALE",
				    r);
	}
	while (!peer_freed(s)) {
		if (now_ns() > deadline)
			return fail(s, "the allocator did not free",
				    -ETIMEDOUT);
		sleep_ms(100);
	}
	r = plat_chan_notify(s->chan);
	if (r != 0)
		return fail(s, "a notify to the closed peer", r);
	/* Every page still there, and still ours to write. */
	p = plat_shared_addr(s->share);
	if (((struct ring_shared *)vif_tx_region((void *)p))->magic !=
	    RING_MAGIC)
		return fail(s, "tx's header changed after the free", 0);
	for (i = 0; i < size; i += 512)
		p[i] = (uint8_t)(i >> 9);
	for (i = 0; i < size; i += 512)
		if (p[i] != (uint8_t)(i >> 9))
			return fail(s, "a page changed after the free", 0);
	printf("plat_pingpong map: after the allocator's free: notify "
	       "dropped, %u pages still mapped and writable\n",
	       VIF_PAGES);
	plat_chan_close(s->chan);
	s->chan = NULL;
	plat_shared_free(s->share);
	s->share = NULL;
	r = map_refused_eventually(s, info->ring_ref);
	if (r != 0)
		return r;
	r = plat_chan_bind(s->peer, info->event_channel, &twice);
	plat_chan_close(twice);
	if (r != -ESTALE && r != -ESRCH)
		return fail(s, "a closed channel: not -ESTALE or -ESRCH", r);
	return 0;
}

static int run_map(struct side *s)
{
	struct plat_vif_info *info = calloc(1, sizeof(*info));
	char path[128];
	int r;

	if (info == NULL)
		return fail(s, "calloc", -ENOMEM);
	r = map_connect(s, info);
	if (r == 0)
		r = map_pingpong(s);
	if (r == 0)
		r = map_after_free(s, info);
	/* The marker is the allocator's, but it may be gone by now. */
	snprintf(path, sizeof(path), LT_XS_GUEST_FMT "/" PINGPONG_LEAF,
		 s->peer);
	xs_rm(s->gx.h, XBT_NULL, path);
	free(info);
	return r;
}

/* ---- main ------------------------------------------------------------- */

/* Our domid: LIBRETTO_DOMID, or xenstore's "domid" (relative to our
 * home, which every domain has, dom0 included). */
static int own_domid(struct xs_handle *h, unsigned *out)
{
	const char *env = getenv(LT_ENV_DOMID);
	char *v = NULL, *end;
	unsigned long d;
	unsigned len;

	if (env == NULL || *env == '\0')
		env = v = xs_read(h, XBT_NULL, "domid", &len);
	if (env == NULL)
		return -1;
	errno = 0;
	d = strtoul(env, &end, 10);
	if (errno != 0 || end == env || *end != '\0' || d >= 0x7ff0) {
		free(v);
		return -1;
	}
	free(v);
	*out = (unsigned)d;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: plat_pingpong [-n FRAMES] [-t SECONDS] "
			"alloc|map PEER-DOMID\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct side s = {.frames = 1000, .timeout_ms = 30000};
	unsigned long v;
	char *end;
	int opt, r;

	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		if (opt == '?')
			return usage();
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || end == optarg || *end != '\0')
			return usage();
		if (opt == 'n')
			s.frames = (unsigned)v;
		else if (v == 0 || v > 3600)
			return usage();
		else
			s.timeout_ms = (int)v * 1000;
	}
	if (argc - optind != 2)
		return usage();
	s.role = argv[optind];
	if (strcmp(s.role, "alloc") != 0 && strcmp(s.role, "map") != 0)
		return usage();
	errno = 0;
	v = strtoul(argv[optind + 1], &end, 10);
	if (errno || *end != '\0' || end == argv[optind + 1] || v >= 0x7ff0)
		return usage();
	s.peer = (unsigned)v;

	s.frame = malloc(VIF_FRAME_MAX);
	s.want = malloc(VIF_FRAME_MAX);
	s.gx.h = xs_open(0);
	if (s.frame == NULL || s.want == NULL) {
		r = fail(&s, "malloc", -ENOMEM);
		goto out;
	}
	if (s.gx.h == NULL) {
		r = fail(&s, "cannot connect to xenstore", -errno);
		goto out;
	}
	/* Only the allocator writes below its own directory. */
	if (own_domid(s.gx.h, &s.gx.domid) < 0 &&
	    strcmp(s.role, "alloc") == 0) {
		r = fail(&s, "no domid of ours: set " LT_ENV_DOMID, 0);
		goto out;
	}
	snprintf(s.gx.base, sizeof(s.gx.base), LT_XS_GUEST_FMT, s.gx.domid);
	printf("plat_pingpong %s: domain %u, peer %u, platform %s, %u frames\n",
	       s.role, s.gx.domid, s.peer, plat_name(), s.frames);
	fflush(stdout);
	r = strcmp(s.role, "alloc") == 0 ? run_alloc(&s) : run_map(&s);
	if (r == 0)
		printf("plat_pingpong %s: PASS\n", s.role);
out:
	plat_chan_close(s.chan);
	plat_shared_free(s.share);
	guest_xs_close(&s.gx);
	free(s.frame);
	free(s.want);
	return r;
}
