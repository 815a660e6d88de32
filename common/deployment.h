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

/*
 * What a domain boots (docs/deployment.md, "Images"): each part NULL when
 * the file does not name it, and the daemon's default (xen_kernel,
 * xen_ramdisk, xen_cmdline) applies. kernel and ramdisk are as written
 * until lt_deployment_resolve_images makes them absolute.
 */
struct lt_image {
	char *kernel;
	char *ramdisk;
	char *cmdline;
	struct lt_pos kernel_pos, ramdisk_pos;
};
/* A path or command line longer than this is refused; Xen keeps a PV
 * command line in 1024 bytes with its NUL. */
#define LT_IMAGE_PATH_MAX 255
#define LT_CMDLINE_MAX	  1023
/* Where relative kernel and ramdisk paths are, unless librettod.yaml's
 * images_dir says otherwise. */
#define LT_IMAGES_DIR_DEFAULT "/var/lib/libretto/images"

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
	struct lt_image image;
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
	struct lt_image image;
};

struct lt_deployment {
	char name[LT_NAME_MAX + 1];
	struct lt_network net;
	struct lt_server server;
	struct lt_app *apps;
	size_t napps;
	/* What relative image paths were resolved against; NULL until
	 * lt_deployment_resolve_images. */
	char *images_dir;
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

/*
 * Makes every kernel and ramdisk path of d absolute: a relative one is
 * joined to images_dir. With `check`, each must also open for reading as
 * a regular file; the first that does not fills *err at its position
 * (`file` names it) and -1 is returned. d->images_dir keeps images_dir.
 */
int lt_deployment_resolve_images(struct lt_deployment *d,
				 const char *images_dir, int check,
				 const char *file, struct lt_load_error *err);

/* True when d names a kernel or ramdisk anywhere (the ones that need the
 * daemon's images_dir and its files to be checked). */
int lt_deployment_names_images(const struct lt_deployment *d);

/* Copies an image (strings duplicated); 0 or -1 (out of memory). */
int lt_image_copy(struct lt_image *dst, const struct lt_image *src);
void lt_image_free(struct lt_image *image);
int lt_image_equal(const struct lt_image *a, const struct lt_image *b);

const char *lt_mode_name(enum lt_mode mode);
const char *lt_proto_name(enum lt_proto proto);
const char *lt_restart_name(enum lt_restart when);

/* True when the two apps would run identically (name, mode, argv, ports,
 * memory, vcpus, image). */
int lt_app_equal(const struct lt_app *a, const struct lt_app *b);
int lt_network_equal(const struct lt_network *a, const struct lt_network *b);
int lt_server_equal(const struct lt_server *a, const struct lt_server *b);

#endif
