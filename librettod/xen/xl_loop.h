/*
 * libxl's OS events on a libevent loop (libxl_event.h, "OS
 * event handling"): libxl registers the fds and timeouts it waits for
 * through xl_loop_hooks, a libevent base (the libxl thread's,
 * xl_thread.h) watches them, and a libevent callback --
 * never a hook, which libxl may call with its locks held -- tells libxl
 * when one fires.  SIGCHLD is a libevent signal event of the loop too.
 */
#ifndef LIBRETTOD_XEN_XL_LOOP_H
#define LIBRETTOD_XEN_XL_LOOP_H

#include <libxl_event.h>

struct event_base;
struct xl_loop;

/* Where the loop reports what fired: libxl_osevent_occurred_fd,
 * libxl_osevent_occurred_timeout and libxl_childproc_sigchld_occurred in
 * the daemon (backend_xen.c); a unit test records them.  Each is called
 * from a libevent callback only. */
struct xl_loop_sink {
	void (*fd_occurred)(void *arg, void *for_libxl, int fd, short events,
			    short revents);
	void (*timeout_occurred)(void *arg, void *for_libxl);
	void (*sigchld)(void *arg);
	void *arg;
};

/* Watches SIGCHLD from now on, unless sink->sigchld is NULL (the daemon
 * watches it on its own loop and relays it to the libxl thread). NULL
 * with *err. */
struct xl_loop *xl_loop_new(struct event_base *base,
			    const struct xl_loop_sink *sink, char **err);
/* Frees what is still registered: only once libxl is gone (after
 * libxl_ctx_free, which deregisters through the hooks). */
void xl_loop_free(struct xl_loop *loop);

/* For libxl_osevent_register_hooks(ctx, &xl_loop_hooks, loop). */
extern const libxl_osevent_hooks xl_loop_hooks;

/* How many fds and timeouts libxl holds registered now. */
unsigned xl_loop_registrations(const struct xl_loop *loop);

#endif
