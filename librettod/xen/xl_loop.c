/*
 * libxl's osevent hooks over libevent.  Every registration is one
 * struct xl_reg: libxl keeps its pointer (for_app_registration) and hands
 * it back to modify and deregister.  All of libxl runs on the thread of
 * the base given (the libxl thread, xl_thread.h), so the hooks and the
 * callbacks below never race.
 */
#include "xl_loop.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "util.h"

struct xl_reg {
	LIST_ENTRY(xl_reg) entry;
	struct xl_loop *loop;
	struct event *ev; /* NULL while an fd is registered for no event */
	void *for_libxl;
	int fd;	      /* -1 for a timeout */
	short events; /* poll(2) events libxl asked for */
};

struct xl_loop {
	struct event_base *base;
	struct xl_loop_sink sink;
	struct event *sigchld;
	LIST_HEAD(, xl_reg) regs;
	unsigned nregs;
};

static struct xl_reg *reg_new(struct xl_loop *loop, int fd, void *for_libxl)
{
	struct xl_reg *reg = calloc(1, sizeof(*reg));

	if (reg == NULL)
		return NULL;
	reg->loop = loop;
	reg->fd = fd;
	reg->for_libxl = for_libxl;
	LIST_INSERT_HEAD(&loop->regs, reg, entry);
	loop->nregs++;
	return reg;
}

static void reg_free(struct xl_reg *reg)
{
	if (reg->ev != NULL)
		event_free(reg->ev);
	LIST_REMOVE(reg, entry);
	reg->loop->nregs--;
	free(reg);
}

/* libevent has no urgent-data event: POLLPRI is watched as readability,
 * and libxl polls the fd itself to see what it really has
 * (libxl_osevent_occurred_fd). */
static short poll_to_libevent(short events)
{
	short what = 0;

	if (events & (POLLIN | POLLPRI))
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	return what;
}

static void fd_ready(evutil_socket_t fd, short what, void *arg)
{
	struct xl_reg *reg = arg;
	struct xl_loop *loop = reg->loop;
	short revents = 0;

	if (what & EV_READ)
		revents |= reg->events & (POLLIN | POLLPRI);
	if (what & EV_WRITE)
		revents |= POLLOUT;
	/* libxl may deregister (free) reg from inside: not used after. */
	loop->sink.fd_occurred(loop->sink.arg, reg->for_libxl, (int)fd,
			       reg->events, revents);
}

/* Watches reg's fd for events from now on; on failure nothing changes,
 * as libxl requires of a failed register or modify. */
static int fd_arm(struct xl_reg *reg, short events)
{
	short what = poll_to_libevent(events);
	struct event *ev = NULL;

	if (what != 0) {
		ev = event_new(reg->loop->base, reg->fd, what | EV_PERSIST,
			       fd_ready, reg);
		if (ev == NULL || event_add(ev, NULL) < 0) {
			if (ev != NULL)
				event_free(ev);
			return -1;
		}
	}
	if (reg->ev != NULL)
		event_free(reg->ev);
	reg->ev = ev;
	reg->events = events;
	return 0;
}

static int hook_fd_register(void *user, int fd, void **for_app_out,
			    short events, void *for_libxl)
{
	struct xl_reg *reg = reg_new(user, fd, for_libxl);

	if (reg == NULL)
		return ERROR_OSEVENT_REG_FAIL;
	if (fd_arm(reg, events) < 0) {
		reg_free(reg);
		return ERROR_OSEVENT_REG_FAIL;
	}
	*for_app_out = reg;
	return 0;
}

static int hook_fd_modify(void *user, int fd, void **for_app_update,
			  short events)
{
	(void)user, (void)fd;
	return fd_arm(*for_app_update, events) < 0 ? ERROR_OSEVENT_REG_FAIL : 0;
}

static void hook_fd_deregister(void *user, int fd, void *for_app)
{
	(void)user, (void)fd;
	reg_free(for_app);
}

static void timeout_fired(evutil_socket_t fd, short what, void *arg)
{
	struct xl_reg *reg = arg;
	struct xl_loop *loop = reg->loop;
	void *for_libxl = reg->for_libxl;

	(void)fd, (void)what;
	/* On entry to libxl_osevent_occurred_timeout the timeout counts as
	 * deregistered: libxl never names it again (libxl_event.h). */
	reg_free(reg);
	loop->sink.timeout_occurred(loop->sink.arg, for_libxl);
}

/* libxl's times are gettimeofday's; libevent wants a delay. A time past
 * (abs = {0, 0}: "as soon as possible") fires on the next iteration. */
static int timeout_arm(struct xl_reg *reg, struct timeval abs)
{
	struct timeval now, delay = {0, 0};

	gettimeofday(&now, NULL);
	if (timercmp(&abs, &now, >))
		timersub(&abs, &now, &delay);
	return evtimer_add(reg->ev, &delay);
}

static int hook_timeout_register(void *user, void **for_app_out,
				 struct timeval abs, void *for_libxl)
{
	struct xl_reg *reg = reg_new(user, -1, for_libxl);

	if (reg == NULL)
		return ERROR_OSEVENT_REG_FAIL;
	reg->ev = evtimer_new(reg->loop->base, timeout_fired, reg);
	if (reg->ev == NULL || timeout_arm(reg, abs) < 0) {
		reg_free(reg);
		return ERROR_OSEVENT_REG_FAIL;
	}
	*for_app_out = reg;
	return 0;
}

/* Only ever abs = {0, 0}. A timeout already firing is freed before libxl
 * hears of it, so libxl cannot modify one that is going. */
static int hook_timeout_modify(void *user, void **for_app_update,
			       struct timeval abs)
{
	(void)user;
	return timeout_arm(*for_app_update, abs) < 0 ? ERROR_OSEVENT_REG_FAIL
						     : 0;
}

/* Never called by libxl (libxl_event.h); here for completeness. */
static void hook_timeout_deregister(void *user, void *for_app)
{
	(void)user;
	reg_free(for_app);
}

const libxl_osevent_hooks xl_loop_hooks = {
    .fd_register = hook_fd_register,
    .fd_modify = hook_fd_modify,
    .fd_deregister = hook_fd_deregister,
    .timeout_register = hook_timeout_register,
    .timeout_modify = hook_timeout_modify,
    .timeout_deregister = hook_timeout_deregister,
};

static void sigchld_caught(evutil_socket_t sig, short what, void *arg)
{
	struct xl_loop *loop = arg;

	(void)sig, (void)what;
	loop->sink.sigchld(loop->sink.arg);
}

struct xl_loop *xl_loop_new(struct event_base *base,
			    const struct xl_loop_sink *sink, char **err)
{
	struct xl_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		goto fail;
	loop->base = base;
	loop->sink = *sink;
	LIST_INIT(&loop->regs);
	if (sink->sigchld == NULL)
		return loop;
	loop->sigchld = evsignal_new(base, SIGCHLD, sigchld_caught, loop);
	if (loop->sigchld == NULL || evsignal_add(loop->sigchld, NULL) < 0)
		goto fail;
	return loop;
fail:
	*err = lt_strdupf("libxl's event loop: cannot watch SIGCHLD: %s",
			  strerror(errno ? errno : ENOMEM));
	if (loop != NULL && loop->sigchld != NULL)
		event_free(loop->sigchld);
	free(loop);
	return NULL;
}

void xl_loop_free(struct xl_loop *loop)
{
	if (loop == NULL)
		return;
	while (!LIST_EMPTY(&loop->regs))
		reg_free(LIST_FIRST(&loop->regs));
	if (loop->sigchld != NULL)
		event_free(loop->sigchld);
	free(loop);
}

unsigned xl_loop_registrations(const struct xl_loop *loop)
{
	return loop->nregs;
}
