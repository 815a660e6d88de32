/*
 * librettod/control.c over real sockets: the daemon side runs on a libevent
 * loop in this process and the test's clients are non-blocking sockets that
 * pump that loop while they wait.  The credential tests fork a child that
 * drops to nobody (65534) before it connects.
 */
#include <errno.h>
#include <event2/event.h>
#include <grp.h>
#include <libretto/protocol.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "control.h"
#include "proto.h"

#define NOBODY	   65534
#define ADMIN_GID  4242
#define CAP	   (256 * 1024)
#define TIMEOUT_MS 5000

static struct event_base *base; /* NULL in a forked child: no pumping */
static char dir[64];
static int pokes;

/* --- the daemon side: a tiny command table --- */

static struct control *emit_to; /* for "echo" with args.emit */

static int h_echo(void *ctx, struct json_object *args,
		  struct control_client *client, struct json_object **result,
		  struct lt_error *err)
{
	struct json_object *v;

	(void)ctx;
	CHECK(control_client_id(client) != 0);
	if (json_object_object_get_ex(args, "fail", &v) &&
	    json_object_get_boolean(v)) {
		lt_error_set(err, LT_ERR_NOT_FOUND, "asked to fail");
		return -1;
	}
	if (json_object_object_get_ex(args, "emit", &v))
		control_emit(emit_to, json_object_get_string(v), NULL);
	*result = args != NULL ? json_object_get(args) : NULL;
	return 0;
}

static int h_poke(void *ctx, struct json_object *args,
		  struct control_client *client, struct json_object **result,
		  struct lt_error *err)
{
	(void)ctx;
	(void)args;
	(void)err;
	CHECK(control_client_is_admin(client));
	*result = json_object_new_object();
	json_object_object_add(*result, "pokes", json_object_new_int(++pokes));
	return 0;
}

static int h_whoami(void *ctx, struct json_object *args,
		    struct control_client *client, struct json_object **result,
		    struct lt_error *err)
{
	(void)ctx;
	(void)args;
	(void)err;
	*result = json_object_new_object();
	json_object_object_add(
	    *result, "uid",
	    json_object_new_int64((int64_t)control_client_uid(client)));
	json_object_object_add(
	    *result, "pid",
	    json_object_new_int64((int64_t)control_client_pid(client)));
	json_object_object_add(
	    *result, "admin",
	    json_object_new_boolean(control_client_is_admin(client)));
	return 0;
}

static const struct lt_arg_spec echo_args[] = {
    {"text", json_type_string, 0},
    {"emit", json_type_string, 0},
    {"fail", json_type_boolean, 0},
    {NULL, 0, 0},
};

static const struct control_command table[] = {
    {"echo", 0, echo_args, h_echo},
    {"poke", 1, NULL, h_poke},
    {"whoami", 0, NULL, h_whoami},
    {NULL, 0, NULL, NULL},
};

/* The daemon's defaults but the output cap. */
static struct control_limits limits(size_t cap)
{
	struct control_limits l = {
	    .buffer_max = cap,
	    .clients_max = 4096,
	    .clients_per_uid = 64,
	    .fd_reserve = 128,
	    .idle_timeout_ms = 60000,
	};
	return l;
}

static struct control *open_ctl_with(const char *name, gid_t gid,
				     const struct control_limits *l,
				     char **errmsg, char *path_out)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (path_out != NULL)
		strcpy(path_out, path);
	return control_open(base, path, gid, l, "test", table, NULL, errmsg);
}

static struct control *open_ctl(const char *name, gid_t gid, size_t cap,
				char **errmsg, char *path_out)
{
	struct control_limits l = limits(cap);

	return open_ctl_with(name, gid, &l, errmsg, path_out);
}

/* --- the client side --- */

struct tc {
	int fd;
	char *buf;
	size_t len, size;
	int eof;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* One pass of the daemon's loop, or a short sleep in a child. */
static void pump(void)
{
	if (base != NULL)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Moves whatever the socket holds into t->buf; waits up to 1 ms. */
static void tc_fill(struct tc *t)
{
	struct pollfd p = {.fd = t->fd, .events = POLLIN};

	if (t->eof || poll(&p, 1, 1) <= 0)
		return;
	if (t->size - t->len < 65536) {
		t->size = t->size * 2 + 65536;
		t->buf = realloc(t->buf, t->size);
	}
	ssize_t n = read(t->fd, t->buf + t->len, t->size - t->len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		t->eof = 1;
	else if (n > 0)
		t->len += (size_t)n;
}

static int tc_connect(struct tc *t, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	memset(t, 0, sizeof(*t));
	strcpy(sun.sun_path, path);
	t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (t->fd < 0 ||
	    connect(t->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		t->fd = -1;
		return -1;
	}
	return 0;
}

static void tc_close(struct tc *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->buf);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

/* Writes everything, reading replies meanwhile as a real client must. */
static void tc_write(struct tc *t, const char *data, size_t len)
{
	long deadline = now_ms() + TIMEOUT_MS;

	while (len > 0 && now_ms() < deadline) {
		ssize_t n = write(t->fd, data, len);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
		pump();
		tc_fill(t);
	}
	CHECK(len == 0);
	pump();
}

static void tc_send(struct tc *t, const char *s)
{
	tc_write(t, s, strlen(s));
}

/* The next line as text (caller frees), or NULL on timeout or EOF. */
static char *tc_line_text(struct tc *t)
{
	long deadline = now_ms() + TIMEOUT_MS;

	while (now_ms() < deadline) {
		char *nl = t->len ? memchr(t->buf, '\n', t->len) : NULL;

		if (nl != NULL) {
			size_t n = (size_t)(nl - t->buf);
			char *line = strndup(t->buf, n);

			memmove(t->buf, nl + 1, t->len - n - 1);
			t->len -= n + 1;
			return line;
		}
		if (t->eof)
			return NULL;
		pump();
		tc_fill(t);
	}
	return NULL;
}

static struct json_object *tc_line(struct tc *t)
{
	char *text = tc_line_text(t);
	struct json_object *obj = text ? json_tokener_parse(text) : NULL;

	if (text != NULL && obj == NULL)
		fprintf(stderr, "unparsable line: %.200s\n", text);
	free(text);
	return obj;
}

static const char *get(struct json_object *o, const char *path)
{
	char key[64];

	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o != NULL ? json_object_get_string(o) : "null";
}

static int is(struct json_object *o, const char *path, const char *want)
{
	const char *have = get(o, path);

	if (have != NULL && strcmp(have, want) == 0)
		return 1;
	fprintf(stderr, "  %s is %s, want %s\n", path, have ? have : "(absent)",
		want);
	return 0;
}

/* Sends one line and returns the next line back. */
static struct json_object *tc_call(struct tc *t, const char *request)
{
	tc_send(t, request);
	tc_send(t, "\n");
	return tc_line(t);
}

/* Connects and swallows the greeting. */
static int tc_open(struct tc *t, const char *path)
{
	struct json_object *g;

	if (tc_connect(t, path) < 0)
		return -1;
	g = tc_line(t);
	CHECK(g != NULL && is(g, "libretto.backend", "test"));
	json_object_put(g);
	return 0;
}

#define EXPECT(t, request, path, want)                                         \
	do {                                                                   \
		struct json_object *r_ = tc_call(t, request);                  \
		CHECK(r_ != NULL && is(r_, path, want));                       \
		json_object_put(r_);                                           \
	} while (0)

static void pump_until_count(struct control *c, size_t n)
{
	long deadline = now_ms() + TIMEOUT_MS;

	while (control_client_count(c) != n && now_ms() < deadline) {
		pump();
		usleep(1000);
	}
}

/* --- tests --- */

static void test_greeting(const char *path)
{
	struct tc t;
	struct json_object *g;

	CHECK(tc_connect(&t, path) == 0);
	g = tc_line(&t);
	CHECK(g != NULL && is(g, "libretto.backend", "test") &&
	      is(g, "libretto.protocol", "1") &&
	      get(g, "libretto.version") != NULL);
	json_object_put(g);
	tc_close(&t);
}

static void test_requests(const char *path)
{
	struct tc t;
	struct json_object *r;

	CHECK(tc_open(&t, path) == 0);
	EXPECT(&t, "{\"id\":1,\"cmd\":\"echo\",\"args\":{\"text\":\"a\"}}",
	       "id", "1");
	EXPECT(&t, "{\"id\":\"s-1\",\"cmd\":\"echo\"}", "id", "s-1");
	EXPECT(&t, "{\"cmd\":\"echo\"}", "id", "null");
	EXPECT(&t,
	       "{\"id\":2,\"cmd\":\"echo\",\"args\":{\"text\":\"\\u2603\"}}",
	       "result.text", "\xe2\x98\x83");
	EXPECT(&t, "{\"id\":3,\"cmd\":\"echo\",\"args\":{\"fail\":true}}",
	       "error.class", LT_ERR_NOT_FOUND);

	/* Two requests in one write, replies in order. */
	tc_send(&t, "{\"id\":10,\"cmd\":\"echo\"}\n{\"id\":11,\"cmd\":\"echo\"}"
		    "\n\n   \n");
	r = tc_line(&t);
	CHECK(r != NULL && is(r, "id", "10") && is(r, "ok", "true"));
	json_object_put(r);
	r = tc_line(&t);
	CHECK(r != NULL && is(r, "id", "11"));
	json_object_put(r);

	/* One request over several writes. */
	const char *split =
	    "{\"id\":12,\"cmd\":\"echo\",\"args\":{\"text\":\"xyz\"}}\n";
	for (const char *p = split; *p != '\0'; p += 5) {
		tc_write(&t, p, strlen(p) < 5 ? strlen(p) : 5);
		for (int i = 0; i < 3; i++)
			pump();
	}
	r = tc_line(&t);
	CHECK(r != NULL && is(r, "id", "12") && is(r, "result.text", "xyz"));
	json_object_put(r);

	/* Errors keep the connection going. */
	EXPECT(&t, "this is not json", "error.class", LT_ERR_PARSE);
	EXPECT(&t, "[1]", "error.class", LT_ERR_PARSE);
	EXPECT(&t, "{\"id\":4}", "error.class", LT_ERR_BAD_REQUEST);
	EXPECT(&t, "{\"id\":4}", "id", "4");
	EXPECT(&t, "{\"id\":5,\"cmd\":\"nope\"}", "error.class",
	       LT_ERR_UNKNOWN_COMMAND);
	EXPECT(&t, "{\"id\":6,\"cmd\":\"echo\",\"args\":{\"bogus\":1}}",
	       "error.class", LT_ERR_BAD_ARGUMENT);
	EXPECT(&t, "{\"id\":6,\"cmd\":\"echo\",\"args\":{\"bogus\":1}}",
	       "error.data.field", "args.bogus");
	EXPECT(&t, "{\"id\":7,\"cmd\":\"echo\",\"args\":{\"text\":1}}",
	       "error.data.field", "args.text");
	EXPECT(&t, "{\"id\":8,\"cmd\":\"poke\",\"args\":{\"x\":1}}",
	       "error.class", LT_ERR_BAD_ARGUMENT);
	EXPECT(&t, "{\"id\":9,\"cmd\":\"subscribe\",\"args\":{\"x\":1}}",
	       "error.data.field", "args.x");
	EXPECT(&t, "{\"id\":13,\"cmd\":\"poke\"}", "ok", "true");
	EXPECT(&t, "{\"id\":14,\"cmd\":\"echo\",\"args\":{\"text\":\"ok\"}}",
	       "result.text", "ok");
	tc_close(&t);
}

static void test_too_large(const char *path)
{
	size_t big = LT_MAX_REQUEST + LT_MAX_REQUEST / 2;
	char *junk = malloc(big);
	struct tc t;
	struct json_object *r;

	memset(junk, 'x', big);
	memcpy(junk, "{\"id\":1,\"cmd\":\"echo\",\"args\":{\"text\":\"", 38);
	CHECK(tc_open(&t, path) == 0);
	tc_write(&t, junk, big);
	/* The rest of the over-long line, then a good request. */
	tc_send(&t, "xxxx\"}}\n{\"id\":2,\"cmd\":\"echo\"}\n");
	r = tc_line(&t);
	CHECK(r != NULL && is(r, "error.class", LT_ERR_TOO_LARGE) &&
	      is(r, "id", "null"));
	json_object_put(r);
	r = tc_line(&t);
	CHECK(r != NULL && is(r, "id", "2") && is(r, "ok", "true"));
	json_object_put(r);

	/* Exactly at the limit is still served (as a parse error here). */
	memset(junk, ' ', LT_MAX_REQUEST);
	junk[0] = '[';
	junk[LT_MAX_REQUEST - 1] = ']';
	tc_write(&t, junk, LT_MAX_REQUEST);
	EXPECT(&t, "", "error.class", LT_ERR_PARSE);
	EXPECT(&t, "{\"id\":3,\"cmd\":\"echo\"}", "id", "3");
	tc_close(&t);
	free(junk);
}

static void test_many_clients(const char *path, struct control *c)
{
	struct tc t[5];
	char req[128];

	for (int i = 0; i < 5; i++)
		CHECK(tc_open(&t[i], path) == 0);
	CHECK(control_client_count(c) == 5);
	for (int round = 0; round < 3; round++)
		for (int i = 4; i >= 0; i--) {
			snprintf(req, sizeof(req),
				 "{\"id\":%d,\"cmd\":\"echo\"}\n",
				 round * 10 + i);
			tc_send(&t[i], req);
		}
	for (int i = 0; i < 5; i++)
		for (int round = 0; round < 3; round++) {
			struct json_object *r = tc_line(&t[i]);
			char want[16];

			snprintf(want, sizeof(want), "%d", round * 10 + i);
			CHECK(r != NULL && is(r, "id", want));
			json_object_put(r);
		}
	for (int i = 0; i < 5; i++)
		tc_close(&t[i]);
	pump_until_count(c, 0);
	CHECK(control_client_count(c) == 0);
}

static void test_events(const char *path, struct control *c)
{
	struct tc sub, other;
	struct json_object *r, *data;
	regex_t ts_re;

	CHECK(regcomp(&ts_re,
		      "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
		      "\\.[0-9]{3}Z$",
		      REG_EXTENDED | REG_NOSUB) == 0);
	CHECK(tc_open(&sub, path) == 0);
	CHECK(tc_open(&other, path) == 0);
	EXPECT(&sub, "{\"id\":1,\"cmd\":\"subscribe\"}", "ok", "true");
	EXPECT(&sub, "{\"id\":2,\"cmd\":\"subscribe\",\"args\":{}}", "ok",
	       "true");

	data = json_object_new_object();
	json_object_object_add(data, "op", json_object_new_int(3));
	control_emit(c, LT_EV_OP_DONE, data);
	r = tc_line(&sub);
	CHECK(r != NULL && is(r, "event", LT_EV_OP_DONE) &&
	      is(r, "data.op", "3"));
	CHECK(r != NULL && get(r, "ts") != NULL &&
	      regexec(&ts_re, get(r, "ts"), 0, NULL, 0) == 0);
	json_object_put(r);
	/* The other client got no event: its next line is its reply. */
	EXPECT(&other, "{\"id\":5,\"cmd\":\"echo\"}", "id", "5");

	/* An event emitted by a handler: its own line, then the reply. */
	tc_send(&sub,
		"{\"id\":3,\"cmd\":\"echo\",\"args\":{\"emit\":\"ping\"}}\n");
	r = tc_line(&sub);
	CHECK(r != NULL && is(r, "event", "ping") && get(r, "id") == NULL);
	json_object_put(r);
	r = tc_line(&sub);
	CHECK(r != NULL && is(r, "id", "3") && get(r, "event") == NULL);
	json_object_put(r);
	EXPECT(&other, "{\"id\":6,\"cmd\":\"echo\"}", "id", "6");
	tc_close(&sub);
	tc_close(&other);
	pump_until_count(c, 0);
	regfree(&ts_re);
}

/* A subscriber that never reads is cut at the cap; others are served. */
static void test_slow_subscriber(const char *path, struct control *c)
{
	struct tc slow, other;
	char *text = malloc(8192);
	int sent = 0;

	memset(text, 'e', 8191);
	text[8191] = '\0';
	CHECK(tc_open(&slow, path) == 0);
	CHECK(tc_open(&other, path) == 0);
	EXPECT(&slow, "{\"cmd\":\"subscribe\"}", "ok", "true");
	CHECK(control_client_count(c) == 2);
	while (control_client_count(c) == 2 && sent < 4000) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "pad", json_object_new_string(text));
		control_emit(c, "flood", d);
		sent++;
		pump();
	}
	CHECK(control_client_count(c) == 1);
	fprintf(stderr, "  slow subscriber cut after %d events of 8 KiB\n",
		sent);
	EXPECT(&other, "{\"id\":1,\"cmd\":\"echo\"}", "id", "1");
	/* The cut client reads what was sent, then EOF. */
	for (char *l; (l = tc_line_text(&slow)) != NULL;)
		free(l);
	CHECK(slow.eof);
	tc_close(&slow);
	tc_close(&other);
	pump_until_count(c, 0);
	free(text);
}

/* A pipelining client that reads late is held back, not cut. */
static void test_pipelining(const char *path, struct control *c)
{
	struct tc t;
	size_t n = 3000, size = n * 1100;
	char *reqs = malloc(size), *p = reqs;
	char pad[1001];

	memset(pad, 'p', 1000);
	pad[1000] = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p,
			     "{\"id\":%zu,\"cmd\":\"echo\",\"args\":{\"text\":"
			     "\"%s\"}}\n",
			     i, pad);
	CHECK(tc_open(&t, path) == 0);
	tc_write(&t, reqs, (size_t)(p - reqs));
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = tc_line(&t);
		char want[32];

		snprintf(want, sizeof(want), "%zu", i);
		if (r == NULL || !is(r, "id", want)) {
			CHECK(0);
			json_object_put(r);
			break;
		}
		json_object_put(r);
	}
	CHECK(control_client_count(c) == 1);
	tc_close(&t);
	pump_until_count(c, 0);
	free(reqs);
}

/* Request, shutdown(SHUT_WR): the reply still arrives, then EOF. */
static void test_half_close(const char *path, struct control *c)
{
	struct tc t;
	struct json_object *r;

	CHECK(tc_open(&t, path) == 0);
	tc_send(&t, "{\"id\":1,\"cmd\":\"echo\"}\n");
	shutdown(t.fd, SHUT_WR);
	r = tc_line(&t);
	CHECK(r != NULL && is(r, "id", "1"));
	json_object_put(r);
	CHECK(tc_line_text(&t) == NULL && t.eof);
	tc_close(&t);
	pump_until_count(c, 0);
	CHECK(control_client_count(c) == 0);
}

static void test_second_open(const char *path)
{
	char *errmsg = NULL;
	char p[128];
	struct control *c2;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	struct control_limits l = limits(CAP);

	c2 = control_open(base, path, (gid_t)-1, &l, "test", table, NULL,
			  &errmsg);
	CHECK(c2 == NULL && errmsg != NULL &&
	      strstr(errmsg, "another librettod is listening on") != NULL);
	free(errmsg);
	errmsg = NULL;

	/* A stale socket (bound, nobody listening) is replaced. */
	snprintf(p, sizeof(p), "%s/stale.sock", dir);
	strcpy(sun.sun_path, p);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
	c2 = open_ctl("stale.sock", (gid_t)-1, CAP, &errmsg, NULL);
	CHECK(c2 != NULL);
	if (c2 != NULL) {
		struct stat st;

		CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0660);
		test_greeting(p);
		control_close(c2);
		CHECK(access(p, F_OK) < 0);
	}
	free(errmsg);
	errmsg = NULL;

	/* A regular file is never removed. */
	snprintf(p, sizeof(p), "%s/file", dir);
	fclose(fopen(p, "w"));
	CHECK(open_ctl("file", (gid_t)-1, CAP, &errmsg, NULL) == NULL);
	CHECK(errmsg != NULL && strstr(errmsg, "not a socket") != NULL);
	CHECK(access(p, F_OK) == 0);
	free(errmsg);
	errmsg = NULL;

	/* Missing parent directories are created. */
	c2 = open_ctl("a/b/c.sock", (gid_t)-1, CAP, &errmsg, p);
	CHECK(c2 != NULL);
	if (c2 != NULL)
		test_greeting(p);
	control_close(c2);
	free(errmsg);
}

/*
 * In a child: become nobody (with the given supplementary group, or none),
 * connect, and check what the mutating "poke" answers.  Returns the
 * child's failure count (0 when all is well), or -1.
 */
static int as_nobody(const char *path, gid_t group, int expect_connect,
		     const char *poke_want)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct tc t;
		gid_t groups[1] = {group};

		base = NULL; /* the parent's loop is not ours to run */
		check_failures = 0;
		if (setgroups(group != (gid_t)-1 ? 1 : 0, groups) < 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(100);
		if (tc_connect(&t, path) < 0)
			_exit(expect_connect ? 101 : 0);
		if (!expect_connect)
			_exit(102);
		struct json_object *g = tc_line(&t);
		CHECK(g != NULL && is(g, "libretto.backend", "test"));
		json_object_put(g);
		EXPECT(&t, "{\"id\":1,\"cmd\":\"whoami\"}", "result.uid",
		       "65534");
		EXPECT(&t, "{\"id\":2,\"cmd\":\"echo\"}", "ok", "true");
		EXPECT(&t, "{\"id\":3,\"cmd\":\"subscribe\"}", "ok", "true");
		EXPECT(&t, "{\"id\":4,\"cmd\":\"poke\"}", "error.class",
		       poke_want);
		tc_close(&t);
		_exit(check_failures > 99 ? 99 : check_failures);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		pump();
		usleep(500);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_credentials(const char *path)
{
	char p[128], *errmsg = NULL;
	struct control *c2;
	struct stat st;
	int rc;

	/* The test opens the socket to everyone so that nobody can reach
	 * it; the credentials alone must then refuse the mutation. */
	CHECK(chmod(path, 0666) == 0);
	rc = as_nobody(path, (gid_t)-1, 1, LT_ERR_PERMISSION);
	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "  nobody child exited %d\n", rc);

	/* With an admin group: 0660 keeps others out, members may poke. */
	c2 = open_ctl("admin.sock", ADMIN_GID, CAP, &errmsg, p);
	CHECK(c2 != NULL);
	if (c2 == NULL) {
		fprintf(stderr, "  %s\n", errmsg);
		free(errmsg);
		return;
	}
	CHECK(stat(p, &st) == 0 && st.st_gid == ADMIN_GID &&
	      (st.st_mode & 0777) == 0660);
	CHECK(as_nobody(p, (gid_t)-1, 0, NULL) == 0);
	/* A member of the group may change things. */
	pid_t pid = fork();
	if (pid == 0) {
		struct tc t;
		gid_t groups[1] = {ADMIN_GID};

		base = NULL;
		check_failures = 0;
		if (setgroups(1, groups) < 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(100);
		if (tc_open(&t, p) < 0)
			_exit(101);
		EXPECT(&t, "{\"id\":1,\"cmd\":\"whoami\"}", "result.admin",
		       "true");
		EXPECT(&t, "{\"id\":2,\"cmd\":\"poke\"}", "ok", "true");
		tc_close(&t);
		_exit(check_failures > 99 ? 99 : check_failures);
	}
	int status = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		pump();
		usleep(500);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	control_close(c2);
}

/* The next line is a resource-exhausted notice, then the daemon closes. */
static int told_and_closed(struct tc *t, const char *says)
{
	struct json_object *r = tc_line(t);
	int ok = r != NULL && is(r, "error.class", LT_ERR_RESOURCE) &&
		 is(r, "id", "null") && get(r, "error.message") != NULL &&
		 strstr(get(r, "error.message"), says) != NULL;

	if (r != NULL && !ok)
		fprintf(stderr, "  notice: %s\n", get(r, "error.message"));
	json_object_put(r);
	return ok && tc_line_text(t) == NULL && t->eof;
}

/* An idle client is closed after the timeout; a subscriber and a client
 * that keeps sending requests are not; half a line is no request. */
static void test_idle_timeout(void)
{
	struct control_limits l = limits(CAP);
	struct tc idle, sub, busy, trickle;
	char *errmsg = NULL, path[128];
	struct control *c;
	long start, end;

	l.idle_timeout_ms = 300;
	c = open_ctl_with("idle.sock", (gid_t)-1, &l, &errmsg, path);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(tc_open(&idle, path) == 0 && tc_open(&sub, path) == 0 &&
	      tc_open(&busy, path) == 0 && tc_open(&trickle, path) == 0);
	EXPECT(&sub, "{\"id\":1,\"cmd\":\"subscribe\"}", "ok", "true");
	tc_send(&trickle, "{\"id\":1,");
	start = now_ms();
	end = start + 800;
	while (now_ms() < end) {
		EXPECT(&busy, "{\"id\":2,\"cmd\":\"echo\"}", "id", "2");
		/* Once closed, its bytes go nowhere. */
		(void)!send(trickle.fd, " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		for (long t = now_ms() + 100; now_ms() < t;) {
			pump();
			usleep(1000);
		}
	}
	CHECK(told_and_closed(&idle, "no request for 1 s and not subscribed"));
	CHECK(told_and_closed(&trickle, "no request for"));
	pump_until_count(c, 2);
	CHECK(control_client_count(c) == 2);
	EXPECT(&sub, "{\"id\":3,\"cmd\":\"echo\"}", "id", "3");
	EXPECT(&busy, "{\"id\":4,\"cmd\":\"echo\"}", "id", "4");
	tc_close(&idle);
	tc_close(&sub);
	tc_close(&busy);
	tc_close(&trickle);
	control_close(c);
}

/* Past clients_max the client idle the longest makes room; with every
 * client subscribed the newcomer is refused with one line. */
static void test_clients_max(void)
{
	struct control_limits l = limits(CAP);
	struct tc t[4];
	char *errmsg = NULL, path[128];
	struct control *c;

	l.clients_max = 3;
	c = open_ctl_with("max.sock", (gid_t)-1, &l, &errmsg, path);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	for (int i = 0; i < 3; i++)
		CHECK(tc_open(&t[i], path) == 0);
	/* t[0] is the oldest but has just sent a request: t[1] is idle the
	 * longest. */
	EXPECT(&t[0], "{\"id\":1,\"cmd\":\"echo\"}", "id", "1");
	CHECK(tc_open(&t[3], path) == 0);
	CHECK(told_and_closed(&t[1], "closed to make room for a new connection "
				     "(clients_max reached)"));
	tc_close(&t[1]);
	pump_until_count(c, 3);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			EXPECT(&t[i], "{\"cmd\":\"subscribe\"}", "ok", "true");
	CHECK(tc_connect(&t[1], path) == 0);
	CHECK(told_and_closed(&t[1], "3 clients connected, none idle "
				     "(clients_max reached)"));
	tc_close(&t[1]);
	/* A subscriber leaves: accept resumes at once, a newcomer is in. */
	tc_close(&t[0]);
	pump_until_count(c, 2);
	CHECK(tc_open(&t[0], path) == 0);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			tc_close(&t[i]);
	control_close(c);
}

/* In a child as nobody: per_uid + 1 connections, the last refused. */
static void test_per_uid(void)
{
	struct control_limits l = limits(CAP);
	char *errmsg = NULL, path[128];
	struct control *c;
	struct tc root;
	int status = 0;
	pid_t pid;

	l.clients_per_uid = 2;
	c = open_ctl_with("uid.sock", (gid_t)-1, &l, &errmsg, path);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(chmod(path, 0666) == 0);
	pid = fork();
	if (pid == 0) {
		struct tc t[3];

		base = NULL;
		check_failures = 0;
		if (setgroups(0, NULL) < 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(100);
		CHECK(tc_open(&t[0], path) == 0 && tc_open(&t[1], path) == 0);
		CHECK(tc_connect(&t[2], path) == 0);
		CHECK(told_and_closed(&t[2], "uid 65534 already has 2 "
					     "connections (clients_per_uid)"));
		EXPECT(&t[0], "{\"id\":1,\"cmd\":\"echo\"}", "id", "1");
		for (int i = 0; i < 3; i++)
			tc_close(&t[i]);
		_exit(check_failures > 99 ? 99 : check_failures);
	}
	while (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
		pump();
		usleep(500);
	}
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Root is not bound by the per-uid cap. */
	for (int i = 0; i < 3; i++) {
		CHECK(tc_open(&root, path) == 0);
		tc_close(&root);
	}
	control_close(c);
}

/* Many stuck subscribers together are cut at 16 times the cap, long
 * before each reaches the cap alone. */
static void test_total_output(void)
{
	enum { SUBS = 40, PAD = 8192 };
	struct control_limits l = limits(1024 * 1024);
	struct tc t[SUBS];
	char *errmsg = NULL, path[128], *text = malloc(PAD);
	struct control *c;
	int sent = 0;

	memset(text, 'e', PAD - 1);
	text[PAD - 1] = '\0';
	c = open_ctl_with("total.sock", (gid_t)-1, &l, &errmsg, path);
	CHECK(c != NULL);
	if (c == NULL) {
		free(text);
		return;
	}
	for (int i = 0; i < SUBS; i++) {
		CHECK(tc_open(&t[i], path) == 0);
		EXPECT(&t[i], "{\"cmd\":\"subscribe\"}", "ok", "true");
	}
	while (control_client_count(c) == SUBS && sent < 1000) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "pad", json_object_new_string(text));
		control_emit(c, "flood", d);
		sent++;
		pump();
	}
	/* Alone, each would be cut after about 1 MiB / 8 KiB = 128 events
	 * (more with what the kernel holds); together 16 MiB over 40 is
	 * about 51. */
	fprintf(stderr,
		"  first of %d stuck subscribers cut after %d events "
		"of 8 KiB\n",
		SUBS, sent);
	CHECK(control_client_count(c) < SUBS && sent < 100);
	for (int i = 0; i < SUBS; i++)
		tc_close(&t[i]);
	control_close(c);
	free(text);
}

/* Under a high descriptor limit 2,000 idle clients of root are all
 * served: the defaults bound a flood, not a busy host. */
static void test_many_idle(void)
{
	enum { N = 2000 };
	struct control_limits l = limits(CAP);
	struct rlimit rl;
	struct tc *t = calloc(N, sizeof(*t));
	char *errmsg = NULL, path[128];
	struct control *c;
	int opened = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 2 * N + 200) {
		fprintf(stderr,
			"  descriptor limit below %d: 2,000 idle "
			"clients skipped\n",
			2 * N + 200);
		free(t);
		return;
	}
	c = open_ctl_with("many.sock", (gid_t)-1, &l, &errmsg, path);
	CHECK(c != NULL);
	for (int i = 0; c != NULL && i < N; i++) {
		if (tc_open(&t[i], path) < 0)
			break;
		opened++;
	}
	CHECK(opened == N);
	if (c != NULL)
		CHECK(control_client_count(c) == N);
	if (opened > 0)
		EXPECT(&t[0], "{\"id\":1,\"cmd\":\"echo\"}", "id", "1");
	for (int i = 0; i < opened; i++)
		tc_close(&t[i]);
	control_close(c);
	free(t);
}

int main(void)
{
	char path[128], *errmsg = NULL;
	struct control *c;

	snprintf(dir, sizeof(dir), "/tmp/lt-control-XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0) {
		perror("mkdtemp");
		return 1;
	}
	base = event_base_new();
	c = open_ctl("ctl.sock", (gid_t)-1, CAP, &errmsg, path);
	if (c == NULL) {
		fprintf(stderr, "control_open: %s\n", errmsg);
		return 1;
	}
	emit_to = c;

	test_greeting(path);
	test_requests(path);
	test_too_large(path);
	test_many_clients(path, c);
	test_events(path, c);
	test_slow_subscriber(path, c);
	test_pipelining(path, c);
	test_half_close(path, c);
	test_second_open(path);
	test_idle_timeout();
	test_clients_max();
	test_total_output();
	test_many_idle();
	if (geteuid() == 0) {
		test_credentials(path);
		test_per_uid();
	} else {
		fprintf(stderr, "  not root: credential tests skipped\n");
	}

	control_close(c);
	CHECK(access(path, F_OK) < 0);
	event_base_free(base);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		check_failures++;
	return check_summary("test_control");
}
