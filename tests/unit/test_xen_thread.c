/*
 * The libxl thread's queues (librettod/xen/xl_thread.c) on real threads
 * and a real libevent loop, with no libxl context (no hypervisor here):
 * the starts stand in for libxl calls, and one completes an asynchronous
 * operation through its how as libxl would, from inside a later call.
 *
 * - starts and afters run on the libxl thread, finishes on the loop's, in
 *   the order posted, with the after's rc;
 * - the loop keeps turning while a start sleeps (a libxl call that polls
 *   its backend);
 * - an operation completed through how (inside its own start, or inside a
 *   later one) finishes once, with libxl's rc;
 * - xl_thread_call_wait returns the start's result; xl_thread_to_loop
 *   delivers on the loop;
 * - a stop with work in flight runs the release on the thread with the
 *   operations never completed counted, and no finish after it.
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "loop_until.h"
#include "xl_thread.h"

static pthread_t loop_thread;

#define RUN_UNTIL(base, cond) LOOP_UNTIL(base, cond, 5000)

/* One call's record. */
struct call {
	int sleep_ms;
	int rc;		       /* start's result */
	int after_add;	       /* after returns rc + after_add */
	int started_off;       /* start ran off the loop's thread */
	int after_rc;	       /* what after saw */
	int finished;	       /* finish calls */
	int finish_rc;	       /* what finish saw */
	int finished_on;       /* finish ran on the loop's thread */
	int order;	       /* the order finish ran in */
	libxl_asyncop_how how; /* a pending operation's */
};

static int finish_count;

static int start_sync(libxl_ctx *ctx, void *arg, const libxl_asyncop_how *how)
{
	struct call *c = arg;

	(void)ctx, (void)how;
	c->started_off = !pthread_equal(pthread_self(), loop_thread);
	if (c->sleep_ms > 0)
		usleep((useconds_t)c->sleep_ms * 1000);
	return c->rc;
}

static int after_add(libxl_ctx *ctx, void *arg, int rc)
{
	struct call *c = arg;

	(void)ctx;
	c->after_rc = rc;
	return rc + c->after_add;
}

static void finish(void *arg, int rc)
{
	struct call *c = arg;

	c->finished++;
	c->finish_rc = rc;
	c->finished_on = pthread_equal(pthread_self(), loop_thread);
	c->order = ++finish_count;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	(*(int *)arg)++;
}

static struct xl_thread *thread_up(struct event_base *base)
{
	char *err = NULL;
	struct xl_thread *t = xl_thread_new(base, NULL, &err);

	if (!CHECK(t != NULL) || !CHECK(xl_thread_start(t, &err) == 0)) {
		fprintf(stderr, "%s\n", err ? err : "?");
		free(err);
		exit(1);
	}
	return t;
}

struct released {
	int calls;
	unsigned in_flight;
	int off_loop;
};

static void release(void *arg, libxl_ctx *ctx, unsigned in_flight)
{
	struct released *r = arg;

	(void)ctx;
	r->calls++;
	r->in_flight = in_flight;
	r->off_loop = !pthread_equal(pthread_self(), loop_thread);
}

static void test_order_and_loop(struct event_base *base)
{
	struct xl_thread *t = thread_up(base);
	struct call slow = {.sleep_ms = 400, .rc = -3, .after_add = -1};
	struct call a = {.rc = 0}, b = {.rc = -5};
	struct released r = {0};
	struct timeval every = {0, 20000};
	struct event *ticker;
	int ticks = 0;

	finish_count = 0;
	ticker = event_new(base, -1, EV_PERSIST, tick, &ticks);
	event_add(ticker, &every);
	CHECK(xl_thread_call(t, start_sync, after_add, finish, &slow) == 0);
	CHECK(xl_thread_call(t, start_sync, NULL, finish, &a) == 0);
	CHECK(xl_thread_call(t, start_sync, NULL, finish, &b) == 0);
	/* Not from inside the post. */
	CHECK(slow.finished == 0 && a.finished == 0);
	RUN_UNTIL(base, b.finished == 1);
	/* The loop turned while the slow start slept: 400 ms of 20 ms
	 * ticks, at least half of them. */
	CHECK(ticks >= 10);
	CHECK(slow.started_off && a.started_off && b.started_off);
	CHECK(slow.after_rc == -3 && slow.finish_rc == -4);
	CHECK(a.finish_rc == 0 && b.finish_rc == -5);
	CHECK(slow.finished_on && a.finished_on && b.finished_on);
	CHECK(slow.order == 1 && a.order == 2 && b.order == 3);
	CHECK(slow.finished == 1 && a.finished == 1 && b.finished == 1);
	event_free(ticker);
	CHECK(xl_thread_stop(t, release, &r, 5000) == 0);
	CHECK(r.calls == 1 && r.in_flight == 0 && r.off_loop);
}

/* --- asynchronous operations ------------------------------------------ */

/* Keeps how, as a libxl call that began an operation. */
static int start_pending(libxl_ctx *ctx, void *arg,
			 const libxl_asyncop_how *how)
{
	struct call *c = arg;

	(void)ctx;
	c->how = *how;
	return XL_STARTED(0);
}

/* Completes it from inside the call that began it. */
static int start_completing(libxl_ctx *ctx, void *arg,
			    const libxl_asyncop_how *how)
{
	struct call *c = arg;

	how->callback(ctx, c->rc, how->u.for_callback);
	return XL_STARTED(0);
}

/* A later libxl call in which libxl completes the pending operation of
 * the call it is given. */
static int start_completes_other(libxl_ctx *ctx, void *arg,
				 const libxl_asyncop_how *how)
{
	struct call *pending = arg;

	(void)how;
	pending->how.callback(ctx, -7, pending->how.u.for_callback);
	return 0;
}

static void test_async(struct event_base *base)
{
	struct xl_thread *t = thread_up(base);
	struct call pending = {0}, inside = {.rc = -2};
	struct released r = {0};

	finish_count = 0;
	CHECK(xl_thread_call(t, start_pending, after_add, finish, &pending) ==
	      0);
	CHECK(xl_thread_call(t, start_completing, after_add, finish, &inside) ==
	      0);
	RUN_UNTIL(base, inside.finished == 1);
	CHECK(inside.finish_rc == -2 && inside.after_rc == -2);
	CHECK(pending.finished == 0);
	CHECK(xl_thread_call(t, start_completes_other, NULL, NULL, &pending) ==
	      0);
	RUN_UNTIL(base, pending.finished == 1);
	CHECK(pending.after_rc == -7 && pending.finish_rc == -7);
	CHECK(pending.finished_on);
	/* Nothing finishes twice. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(pending.finished == 1 && inside.finished == 1);
	CHECK(xl_thread_stop(t, release, &r, 5000) == 0);
	CHECK(r.calls == 1 && r.in_flight == 0);
}

/* --- waited for, and from the thread to the loop ------------------------ */

struct relay {
	struct xl_thread *t;
	struct call delivered;
};

static int start_relays(libxl_ctx *ctx, void *arg, const libxl_asyncop_how *how)
{
	struct relay *rl = arg;

	(void)ctx, (void)how;
	return xl_thread_to_loop(rl->t, finish, &rl->delivered, 42) == 0 ? 11
									 : -1;
}

static void test_wait_and_relay(struct event_base *base)
{
	struct relay rl = {.t = thread_up(base)};
	struct released r = {0};
	int rc = 0;

	finish_count = 0;
	CHECK(xl_thread_call_wait(rl.t, start_relays, &rl, &rc) == 0);
	CHECK(rc == 11);
	CHECK(rl.delivered.finished == 0); /* on the loop's next turn */
	RUN_UNTIL(base, rl.delivered.finished == 1);
	CHECK(rl.delivered.finish_rc == 42 && rl.delivered.finished_on);
	CHECK(xl_thread_stop(rl.t, release, &r, 5000) == 0);
}

/* --- shutdown with work in flight -------------------------------------- */

static void test_stop_in_flight(struct event_base *base)
{
	struct xl_thread *t = thread_up(base);
	struct call slow = {.sleep_ms = 300}, pending = {0}, queued = {0};
	struct released r = {0};
	struct timespec t0;

	CHECK(xl_thread_call(t, start_pending, NULL, finish, &pending) == 0);
	CHECK(xl_thread_call(t, start_sync, NULL, finish, &slow) == 0);
	CHECK(xl_thread_call(t, start_sync, NULL, finish, &queued) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Waits for the slow start, not for the operation libxl never
	 * completes, which the release is told of. */
	CHECK(xl_thread_stop(t, release, &r, 5000) == 0);
	CHECK(loop_ms_since(&t0) < 4000);
	CHECK(r.calls == 1 && r.in_flight == 1 && r.off_loop);
	CHECK(slow.started_off && queued.started_off);
	/* Their results are dropped: no finish after the stop. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(slow.finished == 0 && queued.finished == 0 &&
	      pending.finished == 0);
}

int main(void)
{
	struct event_base *base = event_base_new();

	alarm(60);
	loop_thread = pthread_self();
	if (!CHECK(base != NULL))
		return check_summary("test_xen_thread");
	test_order_and_loop(base);
	test_async(base);
	test_wait_and_relay(base);
	test_stop_in_flight(base);
	event_base_free(base);
	return check_summary("test_xen_thread");
}
