/*
 * The daemon's control socket (docs/protocol.md): a listening Unix socket on
 * the libevent loop, one JSON request per line, replies in order, events to
 * subscribers.  Peer credentials decide who may change things.
 */
#ifndef LIBRETTOD_CONTROL_H
#define LIBRETTOD_CONTROL_H

#include <event2/event.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

struct control;
struct control_client;

struct control_command {
	const char *name;
	int mutating;			/* needs uid 0 or the admin group */
	const struct lt_arg_spec *args; /* NULL: no arguments allowed */
	/*
	 * Called with args already checked against the spec (args may be
	 * NULL when the request had none).  Returns 0 and sets *result
	 * (ownership passes; NULL means {}), or -1 with err filled.  client
	 * is valid only until the handler returns; keep control_client_id()
	 * instead.  A handler must not call control_close().
	 */
	int (*handler)(void *ctx, struct json_object *args,
		       struct control_client *client,
		       struct json_object **result, struct lt_error *err);
};

/*
 * What one client, one uid and all clients together may hold
 * (docs/librettod.md, "Control socket limits").
 */
struct control_limits {
	size_t buffer_max;	  /* unsent bytes for one client, then cut */
	unsigned clients_max;	  /* connected clients, every peer together */
	unsigned clients_per_uid; /* connected clients of one uid but root */
	unsigned fd_reserve;	  /* descriptors accept never takes */
	unsigned idle_timeout_ms; /* no request and no subscription: closed;
				     0 never */
};

/*
 * Listens on path (parent directories created 0755, socket mode 0660, group
 * admin_gid unless it is (gid_t)-1).  Refuses when another daemon answers on
 * path; removes a stale socket.  A client whose unsent output would pass
 * limits->buffer_max bytes is disconnected.  The other limits bound the
 * clients: a connection past them gets one resource-exhausted error line
 * and is closed.  table ends with name == NULL and must outlive the
 * control.  SIGPIPE is ignored from here on.  Returns NULL with *errmsg set
 * (free it) on failure.
 */
struct control *
control_open(struct event_base *base, const char *path, gid_t admin_gid,
	     const struct control_limits *limits, const char *backend_name,
	     const struct control_command *table, void *ctx, char **errmsg);
/* Sends an event (data owned, "ts" added) to every subscribed client. */
void control_emit(struct control *c, const char *event,
		  struct json_object *data);
/* Connected clients, subscribed or not. */
size_t control_client_count(struct control *c);
/* Closes every client and unlinks the socket (if it is still ours). */
void control_close(struct control *c);

/* About the peer of a request, for handlers. */
uint64_t control_client_id(const struct control_client *cl); /* never 0 */
uid_t control_client_uid(const struct control_client *cl);
pid_t control_client_pid(const struct control_client *cl);
int control_client_is_admin(const struct control_client *cl);

#endif
