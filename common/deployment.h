/*
 * The deployment file (docs/deployment.md): the validated, in-memory model
 * that the loader produces and the daemon's deploy engine consumes.
 */
#ifndef LIBRETTO_DEPLOYMENT_H
#define LIBRETTO_DEPLOYMENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* A name must fit a xenstore path element, a netns name and an interface
 * suffix: [a-z][a-z0-9-]{0,LT_NAME_MAX-1}, no trailing '-'. */
#define LT_NAME_MAX 15
#define LT_MAX_APPS 64
#define LT_MAX_VFS  64
/* network.pool holds at most this many addresses (a /16): the address pool
 * keeps one slot per address. */
#define LT_POOL_MAX 65536
/* A deployment file is a page of text; anything larger is refused. */
#define LT_DEPLOYMENT_MAX_SIZE (1024 * 1024)

enum lt_mode { LT_MODE_SERVER, LT_MODE_DYNAMIC, LT_MODE_DIRECT };
enum lt_proto { LT_PROTO_TCP, LT_PROTO_UDP };

/* Where a value was in the source file, for error messages. */
struct lt_pos {
	int line;   /* 1-based */
	int column; /* 1-based */
};

/* When a domain that ended is started again (docs/deployment.md). */
enum lt_restart {
	LT_RESTART_NEVER,
	LT_RESTART_ON_FAILURE, /* ended by a signal or a non-zero status */
	LT_RESTART_ALWAYS,
};
/* At most `limit` restarts within `window_s` seconds, then give up. */
struct lt_restart_policy {
	enum lt_restart when;
	unsigned limit;
	unsigned window_s;
};
#define LT_RESTART_LIMIT_DEFAULT  5
#define LT_RESTART_WINDOW_DEFAULT 60

struct lt_port {
	enum lt_proto proto;
	uint16_t port;
	struct lt_pos pos;
};

struct lt_app {
	char name[LT_NAME_MAX + 1];
	enum lt_mode mode;
	char **argv; /* NULL-terminated */
	size_t argc;
	struct lt_port *ports;
	size_t nports;
	uint64_t memory_bytes;		  /* 0: backend default */
	unsigned vcpus;			  /* 0: backend default */
	struct lt_restart_policy restart; /* default never */
	struct lt_pos pos;
};

struct lt_network {
	char nic[LT_NAME_MAX + 1];
	/* xen: the SR-IOV PF whose VFs make the pool, when the network
	 * server has nic passed through; "" when not given (docs/
	 * deployment.md). */
	char vf_pf[LT_NAME_MAX + 1];
	struct in_addr subnet;
	unsigned prefix;
	struct in_addr gateway;
	struct in_addr server_ip;
	struct in_addr pool_first; /* host byte order is never stored: all */
	struct in_addr pool_last;  /* addresses are network byte order */
	unsigned vfs;
};

struct lt_server {
	uint64_t memory_bytes;
	unsigned vcpus;
	struct lt_restart_policy restart; /* default on-failure */
};

struct lt_deployment {
	char name[LT_NAME_MAX + 1];
	struct lt_network net;
	struct lt_server server;
	struct lt_app *apps;
	size_t napps;
};

struct lt_load_error {
	char file[256];
	struct lt_pos pos; /* 0:0 when the error has no position */
	char message[512]; /* what was found and what was expected */
};

/*
 * Parse and validate a deployment from text. On success returns 0 and sets
 * *out (free with lt_deployment_free). On failure returns -1, fills *err
 * and sets *out to NULL. `file` is used only in error messages.
 */
int lt_deployment_load(const char *text, size_t len, const char *file,
		       struct lt_deployment **out, struct lt_load_error *err);

/* Reads `path` and loads it; errors name `path` as given. */
int lt_deployment_load_file(const char *path, struct lt_deployment **out,
			    struct lt_load_error *err);

/* True when `name` follows the LT_NAME_MAX rule above. */
int lt_name_valid(const char *name);

/* Formats "file:line:column: message" (or "file: message"). */
void lt_load_error_format(const struct lt_load_error *err, char *buf,
			  size_t size);

void lt_deployment_free(struct lt_deployment *d);

const char *lt_mode_name(enum lt_mode mode);
const char *lt_proto_name(enum lt_proto proto);
const char *lt_restart_name(enum lt_restart when);

/* True when the two apps would run identically (name, mode, argv, ports,
 * memory, vcpus). */
int lt_app_equal(const struct lt_app *a, const struct lt_app *b);
int lt_network_equal(const struct lt_network *a, const struct lt_network *b);
int lt_server_equal(const struct lt_server *a, const struct lt_server *b);

#endif
