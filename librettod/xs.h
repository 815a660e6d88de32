/*
 * The daemon's xenstore connection: small typed helpers over libxenstore,
 * transactions retried on EAGAIN, and watches delivered on the libevent loop
 * through xs_fileno (never a blocking read).
 */
#ifndef LIBRETTOD_XS_H
#define LIBRETTOD_XS_H

#include <stdbool.h>
#include <xenstore.h>

struct event_base;
struct lt_xs;
struct lt_xs_watch;

/* Connects to the xenstored at socket_path (NULL: the system default). */
struct lt_xs *lt_xs_open(struct event_base *base, const char *socket_path,
			 char **err);
void lt_xs_close(struct lt_xs *xs);

/* Plain operations; t may be XBT_NULL. Return 0, or -1 with errno. */
int lt_xs_printf(struct lt_xs *xs, xs_transaction_t t, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int lt_xs_mkdir(struct lt_xs *xs, xs_transaction_t t, const char *path);
int lt_xs_rm(struct lt_xs *xs, xs_transaction_t t, const char *path);
/*
 * Sets path's access list: perms[0] names the owner (who may do anything)
 * and what every domain not listed gets; the rest grant one domain each.
 * Nodes created later below path inherit it (xenstored's rule), so a
 * directory's list is set before its children are written.
 */
int lt_xs_chmod(struct lt_xs *xs, xs_transaction_t t, const char *path,
		const struct xs_permissions *perms, unsigned n);
/* Returns a malloc'd string, or NULL with errno (ENOENT: no such node). */
char *lt_xs_read(struct lt_xs *xs, xs_transaction_t t, const char *path);

/* The children's names, NULL-terminated, in one malloc'd block (free it
 * once); NULL with errno on failure. */
char **lt_xs_list(struct lt_xs *xs, xs_transaction_t t, const char *path);

/*
 * Runs body inside a transaction, retrying the whole body while the commit
 * fails with EAGAIN (another writer raced us). body returns 0 to commit,
 * -1 to abort; lt_xs_transact returns -1 when the body or the commit failed.
 */
int lt_xs_transact(struct lt_xs *xs,
		   int (*body)(struct lt_xs *xs, xs_transaction_t t, void *arg),
		   void *arg);

/*
 * Watches path (and its subtree). Watches carry no ordering guarantee: the
 * callback is told only which path fired and must re-read what it needs.
 */
typedef void (*lt_xs_watch_fn)(void *arg, const char *path);
struct lt_xs_watch *lt_xs_watch(struct lt_xs *xs, const char *path,
				lt_xs_watch_fn fn, void *arg);
void lt_xs_unwatch(struct lt_xs *xs, struct lt_xs_watch *w);

#endif
