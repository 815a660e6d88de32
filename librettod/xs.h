/*
 * The daemon's xenstore connection: small typed helpers over libxenstore,
 * transactions retried on EAGAIN, and watches delivered on the libevent loop
 * through xs_fileno (never a blocking read), fairly between domains.
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
 * callback is told only which watched path changed (its own path, not the
 * node written) and must re-read what it needs.
 *
 * Delivery is fair between domains (xs_watch.c; docs/librettod.md,
 * "Fairness between guests"): a watch below /local/domain/<domid>/ belongs to
 * that domain's tree. A burst of writes to one domain's tree is handled once
 * per loop turn (each of its watches that fired called once), a domain
 * is handled at most LT_XS_FAIR_RATE times a second (LT_XS_FAIR_BURST at
 * once), and past that its handling is deferred by a timer that grows
 * while it keeps writing. Watches elsewhere are handled every turn.
 * Callbacks may watch and unwatch, but not close the connection.
 */
typedef void (*lt_xs_watch_fn)(void *arg, const char *path);
struct lt_xs_watch *lt_xs_watch(struct lt_xs *xs, const char *path,
				lt_xs_watch_fn fn, void *arg);
void lt_xs_unwatch(struct lt_xs *xs, struct lt_xs_watch *w);

/* The budget, its defaults (docs/librettod.md). */
#define LT_XS_FAIR_RATE		  20   /* handlings a second, per domain */
#define LT_XS_FAIR_BURST	  40   /* handlings at once */
#define LT_XS_FAIR_FIRST_DELAY_MS 100  /* the first deferral */
#define LT_XS_FAIR_MAX_DELAY_MS	  2000 /* doubling up to this */
#define LT_XS_FAIR_REPORT_S	  10 /* a report per domain at most this often */
#define LT_XS_DRAIN_MAX		  256 /* watch events read per loop turn */

/* One domain's watch traffic, since its first watch. */
struct lt_xs_fairness {
	unsigned domid;
	unsigned long long events;    /* watch events received */
	unsigned long long handled;   /* handlings (callbacks run once each) */
	unsigned long long throttles; /* times its budget ran out */
	int throttled;		      /* its handling is deferred now */
	unsigned delay_ms;	      /* the deferral, while throttled */
	/* Throttles since the last report, left out by its rate limit. */
	unsigned long long unreported;
};

/* Called when a domain's budget runs out, at most once per domain every
 * LT_XS_FAIR_REPORT_S seconds. */
typedef void (*lt_xs_throttle_fn)(void *arg, const struct lt_xs_fairness *f);
void lt_xs_on_throttle(struct lt_xs *xs, lt_xs_throttle_fn fn, void *arg);
/* 0 and *out filled while the daemon watches something in domid's tree,
 * -1 otherwise. */
int lt_xs_fairness(struct lt_xs *xs, unsigned domid,
		   struct lt_xs_fairness *out);

#endif
