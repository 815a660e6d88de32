/*
 * The daemon's watch delivery against a real xenstored (xs_watch.c): a
 * domain writing its tree 20,000 times from another connection is handled
 * far fewer times, throttled and reported once, its last value read in the
 * end; another domain's write meanwhile is handled at once; the loop's
 * timers keep running; callbacks may unwatch their own domain's watches.
 *
 *   test_xs_watch <preload.so> <xenstored>
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xs.h"
#include "xsd_util.h"

#define WRITES	    20000
#define FLOOD_STATE "/local/domain/7/libretto/guest/state"
#define FLOOD_PORTS "/local/domain/7/libretto/guest/ports"
#define VICTIM	    "/local/domain/8/libretto/guest/state"
#define PAIR_A	    "/local/domain/9/libretto/guest/a"
#define PAIR_B	    "/local/domain/9/libretto/guest/b"

static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			printf("ok: ");                                        \
		} else {                                                       \
			printf("FAIL: ");                                      \
			failures++;                                            \
		}                                                              \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct world {
	struct event_base *base;
	struct lt_xs *xs;
	struct event *tick;
	/* the flooder */
	unsigned flood_calls;
	char *flood_last;
	volatile int writer_done;
	double writer_end;
	/* the victim */
	double victim_written, victim_handled;
	int victim_phase; /* 0: not yet, 1: written, 2: handled */
	/* domain 9: a callback that unwatches both of its domain's */
	struct lt_xs_watch *pair[2];
	unsigned pair_calls;
	int pair_written;
	/* the loop */
	double last_tick, max_tick_gap;
	unsigned reports;
	struct lt_xs_fairness reported;
};

static void flood_changed(void *arg, const char *path)
{
	struct world *w = arg;

	(void)path;
	w->flood_calls++;
	free(w->flood_last);
	w->flood_last = lt_xs_read(w->xs, XBT_NULL, FLOOD_STATE);
}

static void victim_changed(void *arg, const char *path)
{
	struct world *w = arg;
	char *v = lt_xs_read(w->xs, XBT_NULL, VICTIM);

	(void)path;
	if (w->victim_phase == 1 && v != NULL && strcmp(v, "moved") == 0) {
		w->victim_handled = now_ms();
		w->victim_phase = 2;
	}
	free(v);
}

static void pair_changed(void *arg, const char *path)
{
	struct world *w = arg;

	(void)path;
	w->pair_calls++;
	if (!w->pair_written)
		return; /* the first event of a new watch */
	/* Both of domain 9's watches, the other one pending too. */
	lt_xs_unwatch(w->xs, w->pair[0]);
	lt_xs_unwatch(w->xs, w->pair[1]);
	w->pair[0] = w->pair[1] = NULL;
}

static void on_throttle(void *arg, const struct lt_xs_fairness *f)
{
	struct world *w = arg;

	w->reports++;
	w->reported = *f;
}

static void *writer(void *arg)
{
	struct world *w = arg;
	struct xs_handle *h = xs_open(0);
	char v[96];

	for (int i = 0; h != NULL && i < WRITES; i++) {
		if (i % 2 == 0) {
			snprintf(v, sizeof(v), "v%d", i);
			xs_write(h, XBT_NULL, FLOOD_STATE, v, strlen(v));
		} else {
			snprintf(v, sizeof(v), FLOOD_PORTS "/tcp/%d",
				 20000 + i % 8);
			xs_write(h, XBT_NULL, v, "", 0);
		}
	}
	if (h != NULL) {
		xs_write(h, XBT_NULL, FLOOD_STATE, "last", 4);
		xs_close(h);
	}
	w->writer_end = now_ms();
	w->writer_done = 1;
	return NULL;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct world *w = arg;
	double t = now_ms();
	struct xs_handle *h;

	(void)fd;
	(void)what;
	if (t - w->last_tick > w->max_tick_gap && !w->writer_done)
		w->max_tick_gap = t - w->last_tick;
	w->last_tick = t;
	/* Mid-flood: the victim writes once, and domain 9 both its nodes
	 * in one transaction (one turn). */
	if (w->victim_phase == 0 && w->flood_calls > 50) {
		h = xs_open(0);
		xs_write(h, XBT_NULL, VICTIM, "moved", 5);
		w->victim_written = now_ms();
		w->victim_phase = 1;
		w->pair_written = 1;
		for (;;) {
			xs_transaction_t tr = xs_transaction_start(h);

			xs_write(h, tr, PAIR_A, "1", 1);
			xs_write(h, tr, PAIR_B, "1", 1);
			if (xs_transaction_end(h, tr, false))
				break;
		}
		xs_close(h);
	}
	/* The end: the writer done and its throttling over. */
	if (w->writer_done && t - w->writer_end > 1000) {
		struct lt_xs_fairness f;

		if (lt_xs_fairness(w->xs, 7, &f) == 0 && !f.throttled)
			event_base_loopbreak(w->base);
		if (t - w->writer_end > 15000)
			event_base_loopbreak(w->base); /* checked below */
	}
}

int main(int argc, char **argv)
{
	struct test_xsd xsd;
	struct world w = {0};
	struct timeval every = {0, 10 * 1000};
	struct lt_xs_fairness f = {0};
	pthread_t th;
	char *err = NULL;
	int rc = test_xsd_args(argc, argv);

	if (rc >= 0)
		return rc;
	log_init("test_xs_watch", 1, 0);
	if (test_xsd_start(&xsd, "xs-watch", argv[1], argv[2]) < 0) {
		test_xsd_stop(&xsd);
		return 1;
	}
	w.base = event_base_new();
	w.xs = lt_xs_open(w.base, xsd.socket, &err);
	if (w.xs == NULL) {
		fprintf(stderr, "%s\n", err);
		test_xsd_stop(&xsd);
		return 1;
	}
	lt_xs_on_throttle(w.xs, on_throttle, &w);
	lt_xs_printf(w.xs, XBT_NULL, FLOOD_STATE, "start");
	lt_xs_printf(w.xs, XBT_NULL, VICTIM, "ready");
	CHECK(lt_xs_watch(w.xs, FLOOD_STATE, flood_changed, &w) != NULL &&
		  lt_xs_watch(w.xs, FLOOD_PORTS, flood_changed, &w) != NULL &&
		  lt_xs_watch(w.xs, VICTIM, victim_changed, &w) != NULL &&
		  (w.pair[0] = lt_xs_watch(w.xs, PAIR_A, pair_changed, &w)) !=
		      NULL &&
		  (w.pair[1] = lt_xs_watch(w.xs, PAIR_B, pair_changed, &w)) !=
		      NULL,
	      "watches set");
	w.tick = event_new(w.base, -1, EV_PERSIST, tick, &w);
	event_add(w.tick, &every);
	w.last_tick = now_ms();
	pthread_create(&th, NULL, writer, &w);
	event_base_dispatch(w.base);
	pthread_join(th, NULL);

	lt_xs_fairness(w.xs, 7, &f);
	printf("flooder: %llu events, %llu handled, %u callbacks, %llu "
	       "throttles; loop's longest timer gap %.1f ms; victim handled "
	       "%.1f ms after its write\n",
	       f.events, f.handled, w.flood_calls, f.throttles, w.max_tick_gap,
	       w.victim_handled - w.victim_written);
	CHECK(f.handled > 0 && f.handled < WRITES / 20,
	      "the flood is coalesced (%llu handlings for %d writes)",
	      f.handled, WRITES);
	CHECK(f.throttles >= 1 && !f.throttled,
	      "the flooder was throttled, and is no longer once quiet");
	CHECK(w.reports == 1 && w.reported.domid == 7,
	      "reported once (%u), for domain 7", w.reports);
	CHECK(w.flood_last != NULL && strcmp(w.flood_last, "last") == 0,
	      "its last value is read (%s)",
	      w.flood_last ? w.flood_last : "(none)");
	CHECK(w.victim_phase == 2 && w.victim_handled - w.victim_written < 200,
	      "another domain's write is handled at once");
	CHECK(lt_xs_fairness(w.xs, 8, &f) == 0 && f.throttles == 0,
	      "the other domain is not throttled");
	CHECK(w.max_tick_gap < 200, "the loop's timers kept running (%.1f ms)",
	      w.max_tick_gap);
	CHECK(w.pair[0] == NULL && w.pair_calls == 3 &&
		  lt_xs_fairness(w.xs, 9, &f) < 0,
	      "a callback unwatching its domain's watches (%u calls), the "
	      "domain then forgotten",
	      w.pair_calls);

	free(w.flood_last);
	event_free(w.tick);
	lt_xs_close(w.xs);
	event_base_free(w.base);
	test_xsd_stop(&xsd);
	return failures ? 1 : 0;
}
