#include "control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <libretto/protocol.h>
#include <libretto/version.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control_socket.h"
#include "log.h"

/* A client's requests wait in its socket while this much of its output is
 * unsent: back-pressure for pipelining clients, well before the cut-off. */
#define PAUSE_MAX (256 * 1024)

struct control_client {
	struct control *ctl;
	struct control_client *prev, *next; /* live list, or the dead list */
	struct bufferevent *bev;
	struct control_peer peer;
	uint64_t id;
	size_t scanned; /* input bytes known to hold no '\n' */
	int discarding; /* inside a too-large line, up to its '\n' */
	int subscribed; /* receives events */
	int paused;	/* reading stopped by back-pressure */
	int eof;	/* the peer shut its write side */
	int dead;	/* on the dead list, freed from the loop */
};

struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *reap_ev;	 /* frees dead clients outside callbacks */
	struct event *resume_ev; /* re-enables accept after EMFILE */
	char *path;
	struct stat st;
	gid_t admin_gid;
	size_t buffer_max;
	size_t pause_at;
	char *backend;
	const struct control_command *table;
	void *ctx;
	struct control_client *clients, *dead;
	size_t nclients;
	uint64_t next_id;
};

static void client_read_cb(struct bufferevent *bev, void *arg);

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

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct control *c = arg;
	struct control_client *cl = NULL;
	struct json_object *greeting = NULL;

	(void)l;
	(void)sa;
	(void)salen;
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		log_warn("control: out of memory for a client");
		close(fd);
		goto out;
	}
	if (control_peer_get(fd, c->admin_gid, &cl->peer) < 0) {
		log_warn("control: no peer credentials: %s", strerror(errno));
		close(fd);
		free(cl);
		goto out;
	}
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cl->bev == NULL) {
		log_warn("control: out of memory for a client");
		close(fd);
		free(cl);
		goto out;
	}
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
	log_info("control: client %llu connected: pid %d uid %u gid %u, %s",
		 (unsigned long long)cl->id, (int)cl->peer.pid,
		 (unsigned)cl->peer.uid, (unsigned)cl->peer.gid,
		 cl->peer.admin ? "admin" : "read-only");
	greeting = lt_greeting_new(LIBRETTO_VERSION, c->backend);
	client_send(cl, greeting);
out:
	json_object_put(greeting);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(c->listener);
}

/* Out of descriptors: accept would fail at once again and spin the loop,
 * so stop accepting for a second (as relayd does). */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control *c = arg;
	const struct timeval pause = {1, 0};
	int e = EVUTIL_SOCKET_ERROR();

	log_warn("control: accept on %s: %s", c->path, strerror(e));
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		evconnlistener_disable(l);
		evtimer_add(c->resume_ev, &pause);
	}
}

struct control *control_open(struct event_base *base, const char *path,
			     gid_t admin_gid, size_t client_buffer_max,
			     const char *backend_name,
			     const struct control_command *table, void *ctx,
			     char **errmsg)
{
	struct control *c = NULL;
	int fd = -1;

	*errmsg = NULL;
	/* A client that hangs up must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->base = base;
	c->admin_gid = admin_gid;
	c->buffer_max = client_buffer_max;
	c->pause_at = client_buffer_max / 2 < PAUSE_MAX ? client_buffer_max / 2
							: PAUSE_MAX;
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
	log_info("control: listening on %s", path);
	return c;
nomem:
	if (asprintf(errmsg, "control socket %s: out of memory", path) < 0)
		*errmsg = NULL;
fail:
	control_close(c);
	return NULL;
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
