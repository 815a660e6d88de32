#include "control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <libretto/protocol.h>
#include <libretto/version.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control_socket.h"
#include "log.h"

/* A client's requests wait in its socket while this much of its output is
 * unsent: back-pressure for pipelining clients, well before the cut-off. */
#define PAUSE_MAX (256 * 1024)
/* How long accept rests after it refused a client for want of room: the
 * backlog waits meanwhile, and a client that closes ends the rest early. */
#define ACCEPT_REST_MS 100
/* How often the descriptors in use are counted again (/proc/self/fd);
 * between counts, clients are added and removed from the last count. */
#define FD_RECOUNT_MS 100
/* What the kernel may hold for one client besides buffer_max: it doubles
 * this, and its default (212992) times thousands of stuck subscribers is
 * memory dom0 would not get back. */
#define CLIENT_SNDBUF (32 * 1024)
/* Every client's unsent output together, in units of buffer_max: past it
 * the client with the most unsent is cut, so that many stuck subscribers
 * together cannot hold clients_max times buffer_max. */
#define TOTAL_BUFFERS 16

struct control_client {
	struct control *ctl;
	struct control_client *prev, *next; /* live list, or the dead list */
	struct bufferevent *bev;
	struct event *idle_ev; /* closes the client when it stays idle */
	struct control_peer peer;
	uint64_t id;
	long last_request_ms;  /* when it connected or last sent a request */
	uint64_t last_request; /* the same as a rank: ties never happen */
	size_t scanned;	       /* input bytes known to hold no '\n' */
	int discarding;	       /* inside a too-large line, up to its '\n' */
	int subscribed;	       /* receives events */
	int paused;	       /* reading stopped by back-pressure */
	int eof;	       /* the peer shut its write side */
	int dead;	       /* on the dead list, freed from the loop */
};

struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *reap_ev;	 /* frees dead clients outside callbacks */
	struct event *resume_ev; /* re-enables accept after a rest */
	char *path;
	struct stat st;
	gid_t admin_gid;
	struct control_limits lim;
	size_t buffer_max;
	size_t pause_at;
	int accept_resting;	   /* the listener is disabled for a while */
	unsigned long long nofile; /* the soft descriptor limit; 0 none */
	unsigned long others_fds;  /* descriptors not clients', last count */
	long counted_ms;	   /* when others_fds was counted; 0 never */
	unsigned long refused;	   /* refusals not logged yet */
	long refused_logged_ms;	   /* when the last refusal was logged */
	char *backend;
	const struct control_command *table;
	void *ctx;
	struct control_client *clients, *dead;
	size_t nclients;
	uint64_t next_id;
	uint64_t requests; /* connections and requests so far, for ranks */
};

static void client_read_cb(struct bufferevent *bev, void *arg);
static void client_kill(struct control_client *cl);

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * One resource-exhausted error line (id null) written straight to a socket
 * whose output is empty, so that the peer learns why it is closed.  Never
 * blocks: a peer whose buffer is full just misses it.
 */
static void send_notice(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void send_notice(int fd, const char *fmt, ...)
{
	struct lt_error err = {0};
	struct json_object *reply;
	char msg[256], out[1024];
	const char *line;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lt_error_set(&err, LT_ERR_RESOURCE, "%s", msg);
	reply = lt_reply_error(NULL, &err);
	line = lt_json_line(reply, &len);
	/* One send: the line and its newline arrive together or not. */
	if (len + 1 <= sizeof(out)) {
		memcpy(out, line, len);
		out[len] = '\n';
		(void)!send(fd, out, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	json_object_put(reply);
	lt_error_clear(&err);
}

/* Idle: not subscribed and owed nothing (no reply unsent or held back).
 * A half-sent request does not count: bytes trickled without a newline
 * would otherwise hold a connection for ever. */
static int client_idle(struct control_client *cl)
{
	return !cl->subscribed && !cl->paused && !cl->eof &&
	       evbuffer_get_length(bufferevent_get_output(cl->bev)) == 0;
}

static void idle_arm(struct control_client *cl)
{
	unsigned ms = cl->ctl->lim.idle_timeout_ms;
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000) * 1000};

	cl->last_request_ms = mono_ms();
	cl->last_request = ++cl->ctl->requests;
	if (cl->idle_ev != NULL && !cl->subscribed && ms != 0)
		evtimer_add(cl->idle_ev, &tv);
}

/* An idle client's connection is a descriptor the daemon needs more; a
 * subscriber is never idle, and a client still being served waits. */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *cl = arg;

	(void)fd;
	(void)what;
	if (cl->dead || cl->subscribed)
		return;
	if (!client_idle(cl)) {
		idle_arm(cl);
		return;
	}
	log_info("control: client %llu (pid %d uid %u) idle for %u ms; "
		 "closing",
		 (unsigned long long)cl->id, (int)cl->peer.pid,
		 (unsigned)cl->peer.uid, cl->ctl->lim.idle_timeout_ms);
	send_notice(bufferevent_getfd(cl->bev),
		    "no request for %u s and not subscribed: closed",
		    (cl->ctl->lim.idle_timeout_ms + 999) / 1000);
	client_kill(cl);
}

/*
 * Clients are never freed where they are found broken: a handler may emit
 * an event that cuts the very client whose request is being read.  They
 * move to the dead list, out of every broadcast, and the loop frees them.
 */
static void client_kill(struct control_client *cl)
{
	struct control *c = cl->ctl;

	if (cl->dead)
		return;
	cl->dead = 1;
	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	c->nclients--;
	bufferevent_disable(cl->bev, EV_READ | EV_WRITE);
	if (cl->idle_ev != NULL)
		event_del(cl->idle_ev);
	if (c->accept_resting) {
		/* A descriptor and a place are free again. */
		c->accept_resting = 0;
		event_del(c->resume_ev);
		evconnlistener_enable(c->listener);
	}
	cl->prev = NULL;
	cl->next = c->dead;
	c->dead = cl;
	event_active(c->reap_ev, 0, 0);
}

static void reap_dead(struct control *c)
{
	while (c->dead != NULL) {
		struct control_client *cl = c->dead;

		c->dead = cl->next;
		if (cl->idle_ev != NULL)
			event_free(cl->idle_ev);
		bufferevent_free(cl->bev);
		free(cl);
	}
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reap_dead(arg);
}

/* Queues one whole line, or cuts the client when it would pass the cap. */
static void client_send(struct control_client *cl, struct json_object *obj)
{
	struct evbuffer *out;
	const char *line;
	size_t len, pending;

	if (cl->dead)
		return;
	out = bufferevent_get_output(cl->bev);
	line = lt_json_line(obj, &len);
	pending = evbuffer_get_length(out);
	if (pending + len + 1 > cl->ctl->buffer_max) {
		log_warn("control: client %llu (pid %d uid %u) has %zu bytes "
			 "unsent, over the %zu cap; disconnecting",
			 (unsigned long long)cl->id, (int)cl->peer.pid,
			 (unsigned)cl->peer.uid, pending + len + 1,
			 cl->ctl->buffer_max);
		client_kill(cl);
		return;
	}
	if (evbuffer_add(out, line, len) < 0 ||
	    evbuffer_add(out, "\n", 1) < 0) {
		log_warn("control: client %llu: out of memory",
			 (unsigned long long)cl->id);
		client_kill(cl);
	}
}

static void client_reply_error(struct control_client *cl,
			       struct json_object *id,
			       const struct lt_error *err)
{
	struct json_object *reply = lt_reply_error(id, err);

	log_debug("control: client %llu: %s: %s", (unsigned long long)cl->id,
		  err->class != NULL ? err->class : LT_ERR_INTERNAL,
		  err->message);
	client_send(cl, reply);
	json_object_put(reply);
}

static const struct control_command *lookup(const struct control *c,
					    const char *name)
{
	for (const struct control_command *cmd = c->table; cmd->name != NULL;
	     cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

/* Runs one request.  Events a handler emits are queued before its reply,
 * each on its own line. */
static int dispatch(struct control_client *cl, const struct lt_request *req,
		    struct json_object **result, struct lt_error *err)
{
	struct control *c = cl->ctl;
	const struct control_command *cmd;

	if (strcmp(req->cmd, LT_CMD_SUBSCRIBE) == 0) {
		if (lt_args_check(req->args, NULL, err) < 0)
			return -1;
		cl->subscribed = 1;
		if (cl->idle_ev != NULL)
			event_del(cl->idle_ev);
		return 0;
	}
	cmd = lookup(c, req->cmd);
	if (cmd == NULL) {
		lt_error_set(err, LT_ERR_UNKNOWN_COMMAND,
			     "unknown command '%.64s'", req->cmd);
		return -1;
	}
	if (lt_args_check(req->args, cmd->args, err) < 0)
		return -1;
	if (cmd->mutating && !cl->peer.admin) {
		lt_error_set(err, LT_ERR_PERMISSION,
			     "'%s' needs root or the control group (uid %u)",
			     cmd->name, (unsigned)cl->peer.uid);
		return -1;
	}
	if (cmd->handler(c->ctx, req->args, cl, result, err) < 0) {
		if (err->class == NULL)
			lt_error_set(err, LT_ERR_INTERNAL,
				     "'%s' failed without saying why",
				     cmd->name);
		if (strcmp(err->class, LT_ERR_INTERNAL) == 0)
			log_warn("control: %s: %s", cmd->name, err->message);
		return -1;
	}
	return 0;
}

static void handle_line(struct control_client *cl, const char *line, size_t len)
{
	struct lt_error err = {0};
	struct lt_request req = {0};
	struct json_object *result = NULL, *reply = NULL;

	if (strspn(line, " \t\r") >= len)
		goto out; /* empty lines are ignored */
	if (lt_request_parse(line, len, &req, &err) < 0 ||
	    dispatch(cl, &req, &result, &err) < 0) {
		client_reply_error(cl, req.id, &err);
		goto out;
	}
	reply = lt_reply_ok(req.id, result);
	result = NULL;
	client_send(cl, reply);
out:
	json_object_put(reply);
	json_object_put(result);
	lt_request_free(&req);
	lt_error_clear(&err);
}

static void reply_too_large(struct control_client *cl)
{
	struct lt_error err = {0};

	lt_error_set(&err, LT_ERR_TOO_LARGE,
		     "request line exceeds %d bytes; discarded",
		     LT_MAX_REQUEST);
	client_reply_error(cl, NULL, &err);
	lt_error_clear(&err);
}

/*
 * Serves every complete line in the input.  Partial lines wait for more
 * bytes; a line past LT_MAX_REQUEST is answered once and then drained as it
 * arrives, never buffered.
 */
static void client_process(struct control_client *cl)
{
	struct evbuffer *in = bufferevent_get_input(cl->bev);
	struct evbuffer *out = bufferevent_get_output(cl->bev);

	while (!cl->dead) {
		size_t avail = evbuffer_get_length(in);
		struct evbuffer_ptr nl;

		if (evbuffer_get_length(out) >= cl->ctl->pause_at) {
			/* The write callback resumes us once it drains. */
			cl->paused = 1;
			bufferevent_disable(cl->bev, EV_READ);
			return;
		}
		if (cl->scanned >= avail)
			nl.pos = -1;
		else if (evbuffer_ptr_set(in, &nl, cl->scanned,
					  EVBUFFER_PTR_SET) == 0)
			nl = evbuffer_search(in, "\n", 1, &nl);
		else
			nl.pos = -1;
		if (nl.pos < 0) {
			cl->scanned = avail;
			if (cl->discarding || avail > LT_MAX_REQUEST) {
				if (!cl->discarding)
					reply_too_large(cl);
				cl->discarding = 1;
				evbuffer_drain(in, avail);
				cl->scanned = 0;
			}
			return;
		}
		size_t len = (size_t)nl.pos;
		if (cl->discarding) {
			cl->discarding = 0;
		} else if (len > LT_MAX_REQUEST) {
			reply_too_large(cl);
		} else {
			const char *line =
			    (const char *)evbuffer_pullup(in, (ssize_t)len + 1);
			if (line == NULL) {
				log_warn("control: client %llu: out of memory",
					 (unsigned long long)cl->id);
				client_kill(cl);
				return;
			}
			handle_line(cl, line, len);
		}
		evbuffer_drain(in, len + 1);
		cl->scanned = 0;
		idle_arm(cl);
	}
}

static void client_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	client_process(arg);
}

static void client_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;
	size_t pending = evbuffer_get_length(bufferevent_get_output(bev));

	if (cl->eof && pending == 0) {
		/* Every reply to a half-closed client is out. */
		client_kill(cl);
		return;
	}
	if (cl->paused && pending <= cl->ctl->pause_at / 2) {
		cl->paused = 0;
		client_process(cl);
		if (!cl->paused && !cl->dead && !cl->eof)
			bufferevent_enable(bev, EV_READ);
	}
}

static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *cl = arg;

	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* A request followed by shutdown(SHUT_WR) still gets its
		 * replies; the write callback closes once they are out. */
		cl->eof = 1;
		return;
	}
	if (what & BEV_EVENT_ERROR)
		log_debug("control: client %llu: %s",
			  (unsigned long long)cl->id,
			  strerror(EVUTIL_SOCKET_ERROR()));
	log_info("control: client %llu (pid %d uid %u) disconnected",
		 (unsigned long long)cl->id, (int)cl->peer.pid,
		 (unsigned)cl->peer.uid);
	client_kill(cl);
}

/* The listener rests for ms, or until a client closes. */
static void accept_rest(struct control *c, long ms)
{
	const struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evconnlistener_disable(c->listener);
	c->accept_resting = 1;
	evtimer_add(c->resume_ev, &tv);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd;
	(void)what;
	c->accept_resting = 0;
	evconnlistener_enable(c->listener);
}

/* A flood of refusals (and of idle clients closed to make room) logs one
 * line a second, with how many it stands for. */
static void log_refusal(struct control *c, const char *why, uid_t uid,
			pid_t pid, const char *done)
{
	long now = mono_ms();

	c->refused++;
	if (c->refused_logged_ms != 0 && now - c->refused_logged_ms < 1000)
		return;
	log_warn("control: %s: %s pid %d uid %u (%lu clients refused or "
		 "closed since the last such line)",
		 why, done, (int)pid, (unsigned)uid, c->refused);
	c->refused = 0;
	c->refused_logged_ms = now;
}

/*
 * 1 when admitting fd would leave fewer than fd_reserve descriptors for the
 * daemon's own work.  Descriptors are allocated lowest first, so fd itself
 * near the limit means every one below is taken; otherwise the count of
 * /proc/self/fd (at most every FD_RECOUNT_MS) tells what the rest of the
 * daemon holds.
 */
static int descriptors_short(struct control *c, int fd)
{
	long now = mono_ms();
	unsigned long in_use;
	long n;

	if (c->nofile == 0)
		return 0;
	if ((unsigned long long)fd + c->lim.fd_reserve >= c->nofile)
		return 1;
	if (c->counted_ms == 0 || now - c->counted_ms >= FD_RECOUNT_MS) {
		n = control_fd_count();
		if (n >= 0) {
			/* Less the clients and the one being admitted. */
			in_use = (unsigned long)n;
			c->others_fds = in_use > c->nclients + 1
					    ? in_use - c->nclients - 1
					    : 0;
			c->counted_ms = now;
		}
	}
	in_use = c->others_fds + c->nclients + 1;
	return in_use + c->lim.fd_reserve > c->nofile;
}

/* The unsubscribed client owed nothing that sent its last request the
 * longest ago, or NULL. */
static struct control_client *longest_idle(struct control *c)
{
	struct control_client *best = NULL;

	for (struct control_client *cl = c->clients; cl != NULL; cl = cl->next)
		if (client_idle(cl) &&
		    (best == NULL || cl->last_request < best->last_request))
			best = cl;
	return best;
}

/*
 * 0 when the peer may stay; -1 when it is refused, told why on fd (the
 * caller closes it).  One uid other than root holds clients_per_uid
 * connections at most.  Past clients_max or the descriptor reserve, the
 * client idle the longest makes room; with none idle the newcomer is
 * refused and accept rests, so that a flood costs no busy loop.
 */
static int admit(struct control *c, int fd, const struct control_peer *peer)
{
	struct control_client *victim;
	const char *why = NULL;
	unsigned same = 0;

	if (peer->uid != 0) {
		for (struct control_client *cl = c->clients; cl != NULL;
		     cl = cl->next)
			same += cl->peer.uid == peer->uid;
		if (same >= c->lim.clients_per_uid) {
			log_refusal(c, "clients_per_uid reached", peer->uid,
				    peer->pid, "refused");
			send_notice(fd,
				    "uid %u already has %u connections "
				    "(clients_per_uid); closed",
				    (unsigned)peer->uid, same);
			return -1;
		}
	}
	if (c->nclients >= c->lim.clients_max)
		why = "clients_max";
	else if (descriptors_short(c, fd))
		why = "fd_reserve";
	if (why == NULL)
		return 0;
	victim = longest_idle(c);
	if (victim != NULL) {
		log_debug("control: %s reached: closing client %llu (pid %d "
			  "uid %u), idle the longest, for a new one",
			  why, (unsigned long long)victim->id,
			  (int)victim->peer.pid, (unsigned)victim->peer.uid);
		log_refusal(c, why, victim->peer.uid, victim->peer.pid,
			    "closed idle to make room");
		send_notice(bufferevent_getfd(victim->bev),
			    "closed to make room for a new connection (%s "
			    "reached) after %ld s without a request",
			    why, (mono_ms() - victim->last_request_ms) / 1000);
		client_kill(victim);
		/* No callback of the victim is running: it may be freed
		 * here.  libevent closes its descriptor later in this loop
		 * iteration, and accept would go on taking connections in
		 * this very callback: it rests until then. */
		reap_dead(c);
		accept_rest(c, 0);
		return 0;
	}
	log_refusal(c, why, peer->uid, peer->pid, "refused");
	send_notice(fd,
		    "%zu clients connected, none idle (%s reached); try "
		    "again later",
		    c->nclients, why);
	accept_rest(c, ACCEPT_REST_MS);
	return -1;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct control *c = arg;
	struct control_client *cl = NULL;
	struct control_peer peer;
	struct json_object *greeting = NULL;

	(void)l;
	(void)sa;
	(void)salen;
	if (control_peer_get(fd, c->admin_gid, &peer) < 0) {
		log_warn("control: no peer credentials: %s", strerror(errno));
		close(fd);
		return;
	}
	if (admit(c, fd, &peer) < 0) {
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		goto nomem;
	cl->peer = peer;
	cl->idle_ev = evtimer_new(c->base, idle_cb, cl);
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cl->idle_ev == NULL || cl->bev == NULL)
		goto nomem;
	cl->ctl = c;
	cl->id = ++c->next_id;
	cl->next = c->clients;
	if (c->clients != NULL)
		c->clients->prev = cl;
	c->clients = cl;
	c->nclients++;
	bufferevent_setcb(cl->bev, client_read_cb, client_write_cb,
			  client_event_cb, cl);
	/* The write callback runs whenever output drains this low. */
	bufferevent_setwatermark(cl->bev, EV_WRITE, c->pause_at / 2, 0);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	idle_arm(cl);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){CLIENT_SNDBUF},
		       sizeof(int)) < 0)
		log_debug("control: client %llu: SO_SNDBUF: %s",
			  (unsigned long long)cl->id, strerror(errno));
	log_info("control: client %llu connected: pid %d uid %u gid %u, %s",
		 (unsigned long long)cl->id, (int)cl->peer.pid,
		 (unsigned)cl->peer.uid, (unsigned)cl->peer.gid,
		 cl->peer.admin ? "admin" : "read-only");
	greeting = lt_greeting_new(LIBRETTO_VERSION, c->backend);
	client_send(cl, greeting);
	json_object_put(greeting);
	return;
nomem:
	log_warn("control: out of memory for a client");
	if (cl != NULL && cl->idle_ev != NULL)
		event_free(cl->idle_ev);
	if (cl != NULL && cl->bev != NULL)
		bufferevent_free(cl->bev); /* closes fd */
	else
		close(fd);
	free(cl);
}

/* Out of descriptors: accept would fail at once again and spin the loop,
 * so stop accepting for a second (as relayd does), or until a client
 * closes. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control *c = arg;
	int e = EVUTIL_SOCKET_ERROR();

	(void)l;
	log_warn("control: accept on %s: %s", c->path, strerror(e));
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
		accept_rest(c, 1000);
}

struct control *
control_open(struct event_base *base, const char *path, gid_t admin_gid,
	     const struct control_limits *limits, const char *backend_name,
	     const struct control_command *table, void *ctx, char **errmsg)
{
	struct control *c = NULL;
	struct rlimit nofile;
	int fd = -1;

	*errmsg = NULL;
	/* A client that hangs up must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->base = base;
	c->admin_gid = admin_gid;
	c->lim = *limits;
	if (c->lim.clients_max == 0)
		c->lim.clients_max = 1; /* 0 would lock out even root */
	if (c->lim.clients_per_uid == 0)
		c->lim.clients_per_uid = 1;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur != RLIM_INFINITY)
		c->nofile = (unsigned long long)nofile.rlim_cur;
	c->buffer_max = limits->buffer_max;
	c->pause_at =
	    c->buffer_max / 2 < PAUSE_MAX ? c->buffer_max / 2 : PAUSE_MAX;
	if (c->pause_at == 0)
		c->pause_at = 1; /* 0 would never read a request */
	c->table = table;
	c->ctx = ctx;
	c->path = strdup(path);
	c->backend = strdup(backend_name);
	c->reap_ev = event_new(base, -1, 0, reap_cb, c);
	c->resume_ev = evtimer_new(base, resume_cb, c);
	if (c->path == NULL || c->backend == NULL || c->reap_ev == NULL ||
	    c->resume_ev == NULL)
		goto nomem;
	fd = control_socket_listen(path, admin_gid, &c->st, errmsg);
	if (fd < 0)
		goto fail;
	c->listener = evconnlistener_new(
	    base, accept_cb, c, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	    0, fd);
	if (c->listener == NULL) {
		control_socket_unlink(path, &c->st);
		close(fd);
		goto nomem;
	}
	evconnlistener_set_error_cb(c->listener, accept_error_cb);
	log_info("control: listening on %s (clients: %u, %u per uid but "
		 "root; %u descriptors of %llu kept for the daemon; idle "
		 "clients closed after %u ms)",
		 path, c->lim.clients_max, c->lim.clients_per_uid,
		 c->lim.fd_reserve, c->nofile, c->lim.idle_timeout_ms);
	return c;
nomem:
	if (asprintf(errmsg, "control socket %s: out of memory", path) < 0)
		*errmsg = NULL;
fail:
	control_close(c);
	return NULL;
}

/* Cuts the subscribers with the most unsent output until all clients'
 * together fit TOTAL_BUFFERS times buffer_max. */
static void bound_total_output(struct control *c)
{
	size_t total = 0, most;
	struct control_client *cl, *worst;

	for (cl = c->clients; cl != NULL; cl = cl->next)
		total += evbuffer_get_length(bufferevent_get_output(cl->bev));
	while (total > c->buffer_max * TOTAL_BUFFERS) {
		worst = NULL;
		most = 0;
		for (cl = c->clients; cl != NULL; cl = cl->next) {
			size_t n = evbuffer_get_length(
			    bufferevent_get_output(cl->bev));
			if (cl->subscribed && n > most) {
				most = n;
				worst = cl;
			}
		}
		if (worst == NULL)
			return; /* replies only: each is bounded already */
		log_warn("control: clients hold %zu bytes unsent together, "
			 "over %zu; disconnecting client %llu (pid %d uid %u), "
			 "%zu of them",
			 total, c->buffer_max * TOTAL_BUFFERS,
			 (unsigned long long)worst->id, (int)worst->peer.pid,
			 (unsigned)worst->peer.uid, most);
		client_kill(worst);
		total -= most;
	}
}

void control_emit(struct control *c, const char *event,
		  struct json_object *data)
{
	struct json_object *ev = lt_event_new(event, data);
	struct control_client *cl, *next;

	for (cl = c->clients; cl != NULL; cl = next) {
		/* client_send may move cl to the dead list. */
		next = cl->next;
		if (cl->subscribed)
			client_send(cl, ev);
	}
	json_object_put(ev);
	bound_total_output(c);
}

size_t control_client_count(struct control *c)
{
	return c->nclients;
}

void control_close(struct control *c)
{
	if (c == NULL)
		return;
	while (c->clients != NULL)
		client_kill(c->clients);
	reap_dead(c);
	if (c->listener != NULL) {
		evconnlistener_free(c->listener);
		control_socket_unlink(c->path, &c->st);
	}
	if (c->reap_ev != NULL)
		event_free(c->reap_ev);
	if (c->resume_ev != NULL)
		event_free(c->resume_ev);
	free(c->path);
	free(c->backend);
	free(c);
}

uint64_t control_client_id(const struct control_client *cl)
{
	return cl->id;
}

uid_t control_client_uid(const struct control_client *cl)
{
	return cl->peer.uid;
}

pid_t control_client_pid(const struct control_client *cl)
{
	return cl->peer.pid;
}

int control_client_is_admin(const struct control_client *cl)
{
	return cl->peer.admin;
}
