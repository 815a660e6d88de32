/*
 * The libxl thread: the one thread that calls libxl (docs/xen.md, "On the
 * loop").  libxl sleeps inside some of its calls (a PCI unplug polls its
 * backend for up to seconds, a create loads the kernel into the guest's
 * memory before it returns) and holds its context's lock meanwhile, so
 * the daemon's loop never calls libxl at all: it posts calls here, and
 * their results come back to it.
 *
 * The thread runs its own libevent base, on which libxl's fds and
 * timeouts are watched (xl_loop.c); a call's start and after run there,
 * its finish on the daemon's loop.  Requests start in the order they were
 * posted; results reach the loop in the order they were made.
 */
#ifndef LIBRETTOD_XEN_XL_THREAD_H
#define LIBRETTOD_XEN_XL_THREAD_H

#include <libxl.h>

struct event_base;
struct xl_thread;

/* What a start returns when the libxl operation it began will complete
 * later, through how: never a libxl error code (those are negative). */
#define XL_PENDING 1000
/* start's value for the rc of an asynchronous libxl call it made. */
#define XL_STARTED(rc) ((rc) == 0 ? XL_PENDING : (rc))

/*
 * On the libxl thread: begins the work.  An asynchronous libxl operation
 * is passed how and start returns XL_STARTED(its rc); anything else
 * returns its result at once.
 */
typedef int (*xl_start_fn)(libxl_ctx *ctx, void *arg,
			   const libxl_asyncop_how *how);
/* On the libxl thread, once the work is over (not from inside libxl):
 * more of it, e.g. a look at what the operation left; returns the rc
 * passed on to finish. */
typedef int (*xl_after_fn)(libxl_ctx *ctx, void *arg, int rc);
/* On the daemon's loop: the work's result. */
typedef void (*xl_finish_fn)(void *arg, int rc);
/* On the libxl thread, when it stops: frees the context when in_flight
 * (libxl operations begun, never completed) is 0; else leaves it, as
 * libxl_ctx_free requires. */
typedef void (*xl_release_fn)(void *arg, libxl_ctx *ctx, unsigned in_flight);

/*
 * The thread for ctx (NULL in the unit tests: the calls then get NULL),
 * its results delivered on loop.  Its own base is xl_thread_base's, to
 * register libxl's osevent hooks on before xl_thread_start.  NULL with
 * *err.
 */
struct xl_thread *xl_thread_new(struct event_base *loop, libxl_ctx *ctx,
				char **err);
struct event_base *xl_thread_base(struct xl_thread *t);
int xl_thread_start(struct xl_thread *t, char **err);

/*
 * Posts a call: start (and after, unless NULL) on the thread, then
 * finish(arg, rc) on the loop, unless finish is NULL.  0, or -1 when out
 * of memory: nothing runs.
 */
int xl_thread_call(struct xl_thread *t, xl_start_fn start, xl_after_fn after,
		   xl_finish_fn finish, void *arg);
/*
 * Runs start (synchronous work only) on the thread and waits for its
 * result: the loop is held meanwhile, for as long as the thread's earlier
 * work takes.  For what the backend's interface wants answered at once
 * (adoption, at the daemon's start).  -1 when out of memory.
 */
int xl_thread_call_wait(struct xl_thread *t, xl_start_fn start, void *arg,
			int *rc);
/* From the libxl thread (libxl's event callbacks): finish(arg, rc) on
 * the loop.  -1 when out of memory. */
int xl_thread_to_loop(struct xl_thread *t, xl_finish_fn finish, void *arg,
		      int rc);

/*
 * Stops the thread once it has started what was posted before, runs
 * release there, and waits for it up to wait_ms.  Results not yet
 * delivered are dropped (their finish is never called).  0 when the
 * thread is gone and freed; -1 when it is still inside libxl after
 * wait_ms: it is left to the process's exit, with everything it refers
 * to.
 */
int xl_thread_stop(struct xl_thread *t, xl_release_fn release, void *arg,
		   unsigned wait_ms);

#endif
