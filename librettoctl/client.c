#include "client.h"

#include <errno.h>
#include <libretto/protocol.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"
#include "jget.h"
#include "linebuf.h"
#include "output.h"
#include "report.h"

/* librettod greets at once from its event loop; a socket that stays silent
 * this long is not a librettod. */
#define CTL_GREETING_TIMEOUT_MS 10000

struct ctl_client {
	int fd;
	const char *path;
	struct linebuf in;
	struct json_object *greeting; /* the whole greeting line */
	int64_t last_id;
	char lost[256];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Parses a line as one JSON object with nothing after it. */
static struct json_object *parse_line(const char *line)
{
	struct json_tokener *tok = json_tokener_new();
	size_t len = strlen(line);
	struct json_object *obj;

	/* JSON whitespace after the object is not garbage. */
	while (len > 0 && strchr(" \t\r", line[len - 1]) != NULL)
		len--;

	if (tok == NULL)
		return NULL;
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj != NULL &&
	    (json_tokener_get_error(tok) != json_tokener_success ||
	     json_tokener_get_parse_end(tok) < len ||
	     !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Reads more bytes; 1 got some, 0 timeout, -1 interrupted, -2 lost. */
static int fill(struct ctl_client *c, int timeout_ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	struct timespec ts, *tsp = NULL;
	size_t avail;
	char *space;
	ssize_t n;
	int r;

	if (interrupt_pending())
		return -1;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	r = ppoll(&pfd, 1, tsp, interrupt_wait_mask());
	if (r < 0 && errno == EINTR)
		return interrupt_pending() ? -1 : 0;
	if (r < 0) {
		snprintf(c->lost, sizeof(c->lost), "poll: %s", strerror(errno));
		return -2;
	}
	if (r == 0)
		return 0;
	space = linebuf_space(&c->in, &avail);
	if (space == NULL) {
		snprintf(c->lost, sizeof(c->lost),
			 "out of memory for a %zu-byte line", c->in.end);
		return -2;
	}
	do
		n = read(c->fd, space, avail);
	while (n < 0 && errno == EINTR && !interrupt_pending());
	if (n < 0) {
		snprintf(c->lost, sizeof(c->lost), "%s", strerror(errno));
		return -2;
	}
	if (n == 0) {
		snprintf(c->lost, sizeof(c->lost), "%s",
			 linebuf_partial(&c->in)
			     ? "daemon closed the connection in mid-line"
			     : "daemon closed the connection");
		return -2;
	}
	linebuf_commit(&c->in, (size_t)n);
	return 1;
}

void client_next(struct ctl_client *c, int timeout_ms, struct ctl_msg *msg)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;

	memset(msg, 0, sizeof(*msg));
	for (;;) {
		char *line = linebuf_next(&c->in);

		if (line != NULL) {
			struct json_object *obj = parse_line(line);

			msg->line = line;
			if (obj == NULL) {
				msg->kind = CTL_MSG_GARBAGE;
				return;
			}
			if (jget(obj, "event") != NULL) {
				msg->kind = CTL_MSG_EVENT;
				msg->obj = obj;
				return;
			}
			if (json_object_object_get_ex(obj, "id", NULL)) {
				msg->kind = CTL_MSG_REPLY;
				msg->obj = obj;
				return;
			}
			json_object_put(obj); /* neither: a newer daemon's */
			continue;
		}

		int wait = -1;
		if (timeout_ms >= 0) {
			int64_t left = deadline - now_ms();
			wait = left > 0 ? (int)left : 0;
		}
		switch (fill(c, wait)) {
		case 1:
			continue;
		case 0:
			if (timeout_ms >= 0 && now_ms() >= deadline) {
				msg->kind = CTL_MSG_TIMEOUT;
				return;
			}
			continue;
		case -1:
			msg->kind = CTL_MSG_INTERRUPTED;
			return;
		default:
			msg->kind = CTL_MSG_LOST;
			return;
		}
	}
}

const char *client_lost_reason(struct ctl_client *c)
{
	return c->lost;
}

int client_fail(struct ctl_client *c, const struct ctl_msg *msg)
{
	switch (msg->kind) {
	case CTL_MSG_INTERRUPTED:
		interrupt_exit();
	case CTL_MSG_LOST:
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_UNREACHABLE,
				"%s: %s", c->path, c->lost);
	case CTL_MSG_GARBAGE:
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_PROTOCOL,
				"%s: daemon sent a line that is not a JSON "
				"object",
				c->path);
	case CTL_MSG_TIMEOUT:
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_UNREACHABLE,
				"%s: no answer from the daemon", c->path);
	default:
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_PROTOCOL,
				"%s: unexpected message from the daemon",
				c->path);
	}
}

static int read_greeting(struct ctl_client *c)
{
	struct ctl_msg msg;
	struct json_object *obj;
	struct json_object *info;
	int64_t protocol;

	/* The greeting is neither a reply nor an event, so read it as a raw
	 * line rather than through client_next. */
	int64_t deadline = now_ms() + CTL_GREETING_TIMEOUT_MS;
	char *line;

	while ((line = linebuf_next(&c->in)) == NULL) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return ctl_fail(
			    LT_EXIT_UNREACHABLE, CTL_ERR_UNREACHABLE,
			    "%s: no greeting within %d s: is it "
			    "librettod?",
			    c->path, CTL_GREETING_TIMEOUT_MS / 1000);
		r = fill(c, (int)left);
		if (r < 0) {
			memset(&msg, 0, sizeof(msg));
			msg.kind = r == -1 ? CTL_MSG_INTERRUPTED : CTL_MSG_LOST;
			return client_fail(c, &msg);
		}
	}
	obj = parse_line(line);
	info = jget_object(obj, "libretto");
	if (info == NULL && jget_object(obj, "error") != NULL) {
		/* Refused (too many clients): the daemon says why in place
		 * of the greeting. */
		int status = ctl_fail_remote(jget_object(obj, "error"));

		json_object_put(obj);
		return status;
	}
	if (info == NULL) {
		json_object_put(obj);
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_PROTOCOL,
				"%s: not a librettod socket (no greeting)",
				c->path);
	}
	/* An absent protocol number is read as 1: the first daemons did not
	 * send one. */
	if (jget_int(info, "protocol", &protocol) &&
	    protocol != LT_PROTOCOL_VERSION) {
		json_object_put(obj);
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_PROTOCOL,
				"%s: daemon speaks protocol %lld, this "
				"librettoctl speaks %d",
				c->path, (long long)protocol,
				LT_PROTOCOL_VERSION);
	}
	c->greeting = obj;
	return LT_EXIT_OK;
}

int client_open(const char *path, struct ctl_client **out)
{
	struct ctl_client *c;
	int status;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ctl_fail(LT_EXIT_FAILED, "internal", "out of memory");
	c->path = path;
	linebuf_init(&c->in);
	interrupt_setup();
	c->fd = connect_unix(path);
	if (c->fd < 0) {
		int err = errno;
		free(c);
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_UNREACHABLE,
				"cannot connect to %s: %s%s", path,
				strerror(err),
				err == ENOENT || err == ECONNREFUSED
				    ? " (is librettod running? -s or "
				      "LIBRETTO_SOCKET choose the socket)"
				    : "");
	}
	status = read_greeting(c);
	if (status != LT_EXIT_OK) {
		client_close(c);
		return status;
	}
	*out = c;
	return LT_EXIT_OK;
}

void client_close(struct ctl_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	linebuf_free(&c->in);
	json_object_put(c->greeting);
	free(c);
}

struct json_object *client_greeting(struct ctl_client *c)
{
	return jget_object(c->greeting, "libretto");
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon gone away is an error to report, not
		 * a SIGPIPE that kills us silently. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int client_send(struct ctl_client *c, const char *cmd, struct json_object *args,
		int64_t *id)
{
	struct json_object *req = json_object_new_object();
	const char *text;
	int rc;

	*id = ++c->last_id;
	json_object_object_add(req, "id", json_object_new_int64(*id));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args != NULL)
		json_object_object_add(req, "args", args);
	text = out_json_text(req);
	rc = write_all(c->fd, text, strlen(text));
	if (rc == 0)
		rc = write_all(c->fd, "\n", 1);
	if (rc < 0) {
		int err = errno;
		json_object_put(req);
		return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_UNREACHABLE,
				"%s: sending %s: %s", c->path, cmd,
				strerror(err));
	}
	json_object_put(req);
	return LT_EXIT_OK;
}

int client_reply_matches(struct json_object *reply, int64_t id)
{
	struct json_object *rid = NULL;

	json_object_object_get_ex(reply, "id", &rid);
	if (rid == NULL)
		return 1;
	return json_object_is_type(rid, json_type_int) &&
	       json_object_get_int64(rid) == id;
}

int client_call(struct ctl_client *c, const char *cmd, struct json_object *args,
		struct json_object **reply)
{
	struct ctl_msg msg;
	int64_t id;
	int status;
	bool ok = false;

	*reply = NULL;
	status = client_send(c, cmd, args, &id);
	if (status != LT_EXIT_OK)
		return status;
	for (;;) {
		client_next(c, -1, &msg);
		if (msg.kind == CTL_MSG_EVENT) {
			json_object_put(msg.obj);
			continue;
		}
		if (msg.kind != CTL_MSG_REPLY)
			return client_fail(c, &msg);
		if (!client_reply_matches(msg.obj, id)) {
			json_object_put(msg.obj);
			return ctl_fail(LT_EXIT_UNREACHABLE, CTL_ERR_PROTOCOL,
					"%s: reply to another request (%s "
					"expected id %lld)",
					c->path, cmd, (long long)id);
		}
		break;
	}
	if (jget_bool(msg.obj, "ok", &ok) && ok) {
		*reply = msg.obj;
		return LT_EXIT_OK;
	}
	status = ctl_fail_remote(jget_object(msg.obj, "error"));
	json_object_put(msg.obj);
	return status;
}
