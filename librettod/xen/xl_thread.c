/*
 * The libxl thread's two queues (xl_thread.h): calls from the loop to the
 * thread, results from the thread to the loop.  Each is a list under a
 * mutex and an eventfd that wakes the other side's libevent base (the
 * daemon does not enable libevent's threading, so no event_active across
 * threads).  An asynchronous libxl operation's completion, which libxl
 * reports from inside a libxl call, is only recorded; the after and the
 * result are made from an event of the thread's base.
 */
#include "xl_thread.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* A call waited for by the loop (xl_thread_call_wait). */
struct xl_wait {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int done;
	int rc;
};

struct xl_req {
	TAILQ_ENTRY(xl_req) entry;
	struct xl_thread *t;
	xl_start_fn start;
	xl_after_fn after;
	xl_finish_fn finish;
	void *arg;
	int rc;
	struct xl_wait *wait;
};

TAILQ_HEAD(xl_reqs, xl_req);

struct xl_thread {
	libxl_ctx *ctx;
	pthread_t thread;
	int running;
	pthread_mutex_t mu;
	/* loop -> thread, under mu */
	struct xl_reqs calls;
	int stopping;
	xl_release_fn release;
	void *release_arg;
	int call_efd;
	/* thread -> loop, under mu */
	struct xl_reqs results;
	int result_efd;
	/* The thread's own: its base, the completions libxl reported. */
	struct event_base *base;
	struct event *call_ev;
	struct event *completed_ev;
	struct xl_reqs completed;
	/* Started, their completion not reported yet: freed with the
	 * thread, for libxl calls them back only from inside a libxl call
	 * on this thread, and there is none once it has stopped. */
	struct xl_reqs pending;
	unsigned in_flight;
	/* The loop's */
	struct event *result_ev;
};

static void efd_kick(int efd)
{
	uint64_t one = 1;

	/* An eventfd write of 1 cannot fail short of a bug. */
	while (write(efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void efd_drain(int efd)
{
	uint64_t n;

	while (read(efd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
}

static void reqs_free(struct xl_reqs *q)
{
	struct xl_req *r;

	while ((r = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, r, entry);
		free(r);
	}
}

/* --- on the thread ------------------------------------------------------ */

/* The work of r is over: its after, then its result to whoever waits. */
static void req_over(struct xl_thread *t, struct xl_req *r, int rc)
{
	if (r->after != NULL)
		rc = r->after(t->ctx, r->arg, rc);
	r->rc = rc;
	if (r->wait != NULL) {
		struct xl_wait *w = r->wait;

		free(r);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->done = 1;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->mu);
		return;
	}
	if (r->finish == NULL) {
		free(r);
		return;
	}
	pthread_mutex_lock(&t->mu);
	TAILQ_INSERT_TAIL(&t->results, r, entry);
	pthread_mutex_unlock(&t->mu);
	efd_kick(t->result_efd);
}

/* libxl's ao callback: may run inside any libxl call. */
static void ao_callback(libxl_ctx *ctx, int rc, void *for_callback)
{
	struct xl_req *r = for_callback;

	(void)ctx;
	r->rc = rc;
	TAILQ_REMOVE(&r->t->pending, r, entry);
	TAILQ_INSERT_TAIL(&r->t->completed, r, entry);
	event_active(r->t->completed_ev, 0, 0);
}

static void completed_fire(evutil_socket_t fd, short what, void *p)
{
	struct xl_thread *t = p;
	struct xl_req *r;

	(void)fd, (void)what;
	while ((r = TAILQ_FIRST(&t->completed)) != NULL) {
		TAILQ_REMOVE(&t->completed, r, entry);
		t->in_flight--;
		req_over(t, r, r->rc);
	}
}

static void req_start(struct xl_thread *t, struct xl_req *r)
{
	libxl_asyncop_how how;
	int rc;

	memset(&how, 0, sizeof(how));
	how.callback = ao_callback;
	how.u.for_callback = r;
	/* Counted and listed first: libxl may complete it inside the
	 * call. */
	t->in_flight++;
	TAILQ_INSERT_TAIL(&t->pending, r, entry);
	rc = r->start(t->ctx, r->arg, &how);
	if (rc == XL_PENDING)
		return;
	/* Not started: libxl calls no callback for it. */
	TAILQ_REMOVE(&t->pending, r, entry);
	t->in_flight--;
	req_over(t, r, rc);
}

static void calls_fire(evutil_socket_t fd, short what, void *p)
{
	struct xl_thread *t = p;
	struct xl_reqs todo = TAILQ_HEAD_INITIALIZER(todo);
	struct xl_req *r;
	int stopping;

	(void)fd, (void)what;
	efd_drain(t->call_efd);
	pthread_mutex_lock(&t->mu);
	TAILQ_CONCAT(&todo, &t->calls, entry);
	stopping = t->stopping;
	pthread_mutex_unlock(&t->mu);
	while ((r = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, r, entry);
		req_start(t, r);
	}
	if (stopping)
		event_base_loopbreak(t->base);
}

static void *thread_main(void *p)
{
	struct xl_thread *t = p;

	event_base_loop(t->base, 0);
	/* Completions libxl reported but not yet handled are dropped with
	 * the rest: no result is wanted any more. */
	reqs_free(&t->completed);
	t->release(t->release_arg, t->ctx, t->in_flight);
	return NULL;
}

/* --- on the loop -------------------------------------------------------- */

static void results_fire(evutil_socket_t fd, short what, void *p)
{
	struct xl_thread *t = p;
	struct xl_reqs done = TAILQ_HEAD_INITIALIZER(done);
	struct xl_req *r;

	(void)fd, (void)what;
	efd_drain(t->result_efd);
	pthread_mutex_lock(&t->mu);
	TAILQ_CONCAT(&done, &t->results, entry);
	pthread_mutex_unlock(&t->mu);
	while ((r = TAILQ_FIRST(&done)) != NULL) {
		xl_finish_fn finish = r->finish;
		void *arg = r->arg;
		int rc = r->rc;

		TAILQ_REMOVE(&done, r, entry);
		free(r);
		finish(arg, rc);
	}
}

static void thread_free(struct xl_thread *t)
{
	if (t->call_ev != NULL)
		event_free(t->call_ev);
	if (t->completed_ev != NULL)
		event_free(t->completed_ev);
	if (t->result_ev != NULL)
		event_free(t->result_ev);
	if (t->base != NULL)
		event_base_free(t->base);
	if (t->call_efd >= 0)
		close(t->call_efd);
	if (t->result_efd >= 0)
		close(t->result_efd);
	reqs_free(&t->calls);
	reqs_free(&t->results);
	reqs_free(&t->completed);
	reqs_free(&t->pending);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

struct xl_thread *xl_thread_new(struct event_base *loop, libxl_ctx *ctx,
				char **err)
{
	struct xl_thread *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		*err = lt_strdupf("out of memory");
		return NULL;
	}
	t->ctx = ctx;
	pthread_mutex_init(&t->mu, NULL);
	TAILQ_INIT(&t->calls);
	TAILQ_INIT(&t->results);
	TAILQ_INIT(&t->completed);
	TAILQ_INIT(&t->pending);
	t->call_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->result_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->call_efd < 0 || t->result_efd < 0) {
		*err = lt_strdupf("libxl thread: eventfd: %s", strerror(errno));
		goto fail;
	}
	t->base = event_base_new();
	if (t->base != NULL) {
		t->call_ev = event_new(t->base, t->call_efd,
				       EV_READ | EV_PERSIST, calls_fire, t);
		t->completed_ev = event_new(t->base, -1, 0, completed_fire, t);
	}
	t->result_ev = event_new(loop, t->result_efd, EV_READ | EV_PERSIST,
				 results_fire, t);
	if (t->call_ev == NULL || t->completed_ev == NULL ||
	    t->result_ev == NULL || event_add(t->call_ev, NULL) < 0 ||
	    event_add(t->result_ev, NULL) < 0) {
		*err = lt_strdupf("libxl thread: its events: out of memory");
		goto fail;
	}
	return t;
fail:
	thread_free(t);
	return NULL;
}

struct event_base *xl_thread_base(struct xl_thread *t)
{
	return t->base;
}

int xl_thread_start(struct xl_thread *t, char **err)
{
	int e = pthread_create(&t->thread, NULL, thread_main, t);

	if (e != 0) {
		*err = lt_strdupf("libxl thread: %s", strerror(e));
		return -1;
	}
	t->running = 1;
	return 0;
}

static int post(struct xl_thread *t, xl_start_fn start, xl_after_fn after,
		xl_finish_fn finish, void *arg, struct xl_wait *wait)
{
	struct xl_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	r->t = t;
	r->start = start;
	r->after = after;
	r->finish = finish;
	r->arg = arg;
	r->wait = wait;
	pthread_mutex_lock(&t->mu);
	TAILQ_INSERT_TAIL(&t->calls, r, entry);
	pthread_mutex_unlock(&t->mu);
	efd_kick(t->call_efd);
	return 0;
}

int xl_thread_call(struct xl_thread *t, xl_start_fn start, xl_after_fn after,
		   xl_finish_fn finish, void *arg)
{
	return post(t, start, after, finish, arg, NULL);
}

int xl_thread_call_wait(struct xl_thread *t, xl_start_fn start, void *arg,
			int *rc)
{
	struct xl_wait w = {.done = 0};

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cond, NULL);
	if (post(t, start, NULL, NULL, arg, &w) < 0) {
		pthread_cond_destroy(&w.cond);
		pthread_mutex_destroy(&w.mu);
		return -1;
	}
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.mu);
	*rc = w.rc;
	return 0;
}

int xl_thread_to_loop(struct xl_thread *t, xl_finish_fn finish, void *arg,
		      int rc)
{
	struct xl_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	r->t = t;
	r->finish = finish;
	r->arg = arg;
	r->rc = rc;
	pthread_mutex_lock(&t->mu);
	TAILQ_INSERT_TAIL(&t->results, r, entry);
	pthread_mutex_unlock(&t->mu);
	efd_kick(t->result_efd);
	return 0;
}

static int join_within(pthread_t thread, unsigned wait_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(thread, NULL, &until) == 0 ? 0 : -1;
}

int xl_thread_stop(struct xl_thread *t, xl_release_fn release, void *arg,
		   unsigned wait_ms)
{
	if (!t->running) {
		release(arg, t->ctx, 0);
		thread_free(t);
		return 0;
	}
	pthread_mutex_lock(&t->mu);
	t->release = release;
	t->release_arg = arg;
	t->stopping = 1;
	pthread_mutex_unlock(&t->mu);
	efd_kick(t->call_efd);
	/* The loop may be freed next: nothing of it is left to the
	 * thread, which only ever writes to result_efd. */
	event_free(t->result_ev);
	t->result_ev = NULL;
	if (join_within(t->thread, wait_ms) < 0)
		return -1;
	thread_free(t);
	return 0;
}
