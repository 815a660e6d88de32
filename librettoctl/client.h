/*
 * A connection to librettod: connect, greeting, requests, and the stream of
 * replies and events that follows (docs/protocol.md).
 */
#ifndef LIBRETTOCTL_CLIENT_H
#define LIBRETTOCTL_CLIENT_H

#include <json-c/json.h>
#include <stdint.h>

struct ctl_client;

enum ctl_msg_kind {
	CTL_MSG_REPLY,	     /* a line with "id" */
	CTL_MSG_EVENT,	     /* a line with "event" */
	CTL_MSG_TIMEOUT,     /* nothing arrived within the timeout */
	CTL_MSG_INTERRUPTED, /* SIGINT */
	CTL_MSG_LOST,	     /* EOF or a socket error: see client_lost_reason */
	CTL_MSG_GARBAGE,     /* a line that is not a JSON object */
};

struct ctl_msg {
	enum ctl_msg_kind kind;
	struct json_object *obj; /* REPLY, EVENT: the parsed line, owned */
	const char *line;	 /* REPLY, EVENT, GARBAGE: the raw line, valid
				    until the next client_next */
};

/*
 * Connects to the socket and reads the greeting.  Returns LT_EXIT_OK and
 * sets *out, or prints the error and returns its exit status
 * (LT_EXIT_UNREACHABLE).
 */
int client_open(const char *path, struct ctl_client **out);
void client_close(struct ctl_client *c);

/* The greeting's "libretto" object (version, protocol, backend). */
struct json_object *client_greeting(struct ctl_client *c);

/*
 * Sends {"id": N, "cmd": cmd, "args": args} with the next id (1, 2, ...),
 * stored in *id.  args is owned (NULL: no args).  Returns LT_EXIT_OK or
 * prints the error and returns LT_EXIT_UNREACHABLE.
 */
int client_send(struct ctl_client *c, const char *cmd, struct json_object *args,
		int64_t *id);

/*
 * Waits up to timeout_ms (-1: no limit) for the next reply or event.
 * Lines that are objects but neither are skipped, for forward
 * compatibility.  Free msg->obj with json_object_put.
 */
void client_next(struct ctl_client *c, int timeout_ms, struct ctl_msg *msg);

/* Why the connection was lost, after CTL_MSG_LOST. */
const char *client_lost_reason(struct ctl_client *c);

/* True when the reply answers request `id`.  A reply with "id": null
 * answers the oldest request (the daemon could not read our id); replies
 * come in request order, so that is the one we wait for. */
int client_reply_matches(struct json_object *reply, int64_t id);

/*
 * For a message that is neither what the caller waits for nor skippable:
 * prints the error that fits (lost, garbage, interrupted) and returns the
 * exit status.  On CTL_MSG_INTERRUPTED it does not return.
 */
int client_fail(struct ctl_client *c, const struct ctl_msg *msg);

/*
 * Sends a request and waits for its reply, ignoring events.  On an ok
 * reply returns LT_EXIT_OK with *reply set (free with json_object_put).
 * On a failed reply or a lost connection prints the error and returns the
 * exit status.
 */
int client_call(struct ctl_client *c, const char *cmd, struct json_object *args,
		struct json_object **reply);

#endif
