/*
 * Watches, delivered on the loop and fairly between domains (after
 * xenstored's per-domain quotas and netback's per-queue credit): every
 * guest is untrusted, and one that writes its own tree as fast as it can
 * must not keep the loop from the control socket or from other domains.
 *
 * - Reading: at most LT_XS_DRAIN_MAX events per loop turn. libxenstore
 *   keeps its notification pipe readable while events are queued, so the
 *   loop comes back for the rest after serving what else is ready.
 * - Coalescing: an event only marks its watch pending; each domain whose
 *   watches fired is then handled once, every pending watch's callback run
 *   once, reading the current values once however many writes there were.
 * - Budget: a token bucket per domain (LT_XS_FAIR_RATE a second, up to
 *   LT_XS_FAIR_BURST). A domain without a token is throttled: its watches
 *   stay pending and a timer handles them, first after
 *   LT_XS_FAIR_FIRST_DELAY_MS, doubling up to LT_XS_FAIR_MAX_DELAY_MS while
 *   it keeps writing; a timer that finds nothing pending ends it. The
 *   report (lt_xs_on_throttle) is rate-limited per domain.
 */
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "log.h"
#include "timing.h"
#include "xs.h"
#include "xs_internal.h"

/* The source of watches outside any domain's tree (dom0's own nodes). */
#define NO_DOMAIN UINT_MAX
/* A domain throttled again this soon after its last throttle ended goes
 * on from its last delay rather than from the first. */
#define RECENT_MS 10000.0

struct lt_xs_watch {
	LIST_ENTRY(lt_xs_watch) entry; /* in its source */
	struct watch_source *src;
	char *path;
	char token[32];
	lt_xs_watch_fn fn;
	void *arg;
	int pending; /* fired since its last call */
};

/* One domain's tree: its watches and their budget. */
struct watch_source {
	LIST_ENTRY(watch_source) entry;
	TAILQ_ENTRY(watch_source) ready_entry;
	struct lt_xs *xs;
	LIST_HEAD(, lt_xs_watch) watches;
	int queued;	 /* in ready */
	int dispatching; /* its callbacks are running: do not free it */
	double tokens;
	struct timespec refilled;
	struct timespec throttle_ended; /* valid once throttles > 0 */
	struct timespec reported;	/* the last report; zero: none */
	int episode_reported;		/* this throttle's start was reported */
	struct event *timer;
	struct lt_xs_fairness f;
};

struct xs_watches {
	struct event *ev; /* on xs_fileno */
	LIST_HEAD(, watch_source) sources;
	TAILQ_HEAD(, watch_source) ready; /* to handle at the end of the turn */
	unsigned next_token;
	lt_xs_throttle_fn on_throttle;
	void *on_throttle_arg;
};

static struct xs_watches *watches_get(struct lt_xs *xs)
{
	if (xs->watches == NULL) {
		xs->watches = calloc(1, sizeof(*xs->watches));
		if (xs->watches == NULL)
			return NULL;
		LIST_INIT(&xs->watches->sources);
		TAILQ_INIT(&xs->watches->ready);
	}
	return xs->watches;
}

/* The domain whose tree holds path, or NO_DOMAIN. */
static unsigned path_domain(const char *path)
{
	static const char prefix[] = "/local/domain/";
	unsigned long domid;
	char *end;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return NO_DOMAIN;
	path += sizeof(prefix) - 1;
	if (*path < '0' || *path > '9')
		return NO_DOMAIN;
	domid = strtoul(path, &end, 10);
	if ((*end != '/' && *end != '\0') || domid >= NO_DOMAIN)
		return NO_DOMAIN;
	return (unsigned)domid;
}

static struct watch_source *source_find(struct xs_watches *ws, unsigned domid)
{
	struct watch_source *s;

	LIST_FOREACH(s, &ws->sources, entry)
	if (s->f.domid == domid)
		return s;
	return NULL;
}

static void source_timer(evutil_socket_t fd, short what, void *arg);

static struct watch_source *source_get(struct lt_xs *xs, unsigned domid)
{
	struct xs_watches *ws = xs->watches;
	struct watch_source *s = source_find(ws, domid);

	if (s != NULL)
		return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->timer = evtimer_new(xs->base, source_timer, s);
	if (s->timer == NULL) {
		free(s);
		return NULL;
	}
	s->xs = xs;
	s->f.domid = domid;
	s->tokens = LT_XS_FAIR_BURST;
	clock_gettime(CLOCK_MONOTONIC, &s->refilled);
	LIST_INIT(&s->watches);
	LIST_INSERT_HEAD(&ws->sources, s, entry);
	return s;
}

/* Frees s once nothing watches its tree and no callback of it runs. */
static void source_release(struct watch_source *s)
{
	if (s->dispatching || !LIST_EMPTY(&s->watches))
		return;
	if (s->queued)
		TAILQ_REMOVE(&s->xs->watches->ready, s, ready_entry);
	LIST_REMOVE(s, entry);
	event_free(s->timer);
	free(s);
}

static struct lt_xs_watch *watch_find(struct xs_watches *ws, const char *token)
{
	struct watch_source *s;
	struct lt_xs_watch *w;
	unsigned long domid;
	char *end;

	/* Our own tokens, "<domid or x>.<n>": the source first. */
	if (token[0] == 'x')
		domid = NO_DOMAIN;
	else if ((domid = strtoul(token, &end, 10)) >= NO_DOMAIN || *end != '.')
		return NULL;
	if ((s = source_find(ws, (unsigned)domid)) == NULL)
		return NULL;
	LIST_FOREACH(w, &s->watches, entry)
	if (strcmp(w->token, token) == 0)
		return w;
	return NULL; /* unwatched since: the event is stale */
}

/* Runs every pending watch of s once. s survives: the caller releases. */
static void source_handle(struct watch_source *s)
{
	struct lt_xs_watch *w;

	s->f.handled++;
	s->dispatching++;
	for (;;) {
		/* From the start each time: a callback may unwatch any. */
		LIST_FOREACH(w, &s->watches, entry)
		if (w->pending)
			break;
		if (w == NULL)
			break;
		w->pending = 0;
		w->fn(w->arg, w->path);
	}
	s->dispatching--;
}

static int source_has_pending(const struct watch_source *s)
{
	const struct lt_xs_watch *w;

	LIST_FOREACH(w, &s->watches, entry)
	if (w->pending)
		return 1;
	return 0;
}

static int source_take_token(struct watch_source *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s->tokens += lt_ms_between(&s->refilled, &now) * LT_XS_FAIR_RATE / 1e3;
	if (s->tokens > LT_XS_FAIR_BURST)
		s->tokens = LT_XS_FAIR_BURST;
	s->refilled = now;
	if (s->tokens < 1)
		return 0;
	s->tokens -= 1;
	return 1;
}

static void timer_arm(struct watch_source *s)
{
	struct timeval tv = {s->f.delay_ms / 1000,
			     (s->f.delay_ms % 1000) * 1000};

	evtimer_add(s->timer, &tv);
}

static void source_report(struct watch_source *s)
{
	struct xs_watches *ws = s->xs->watches;

	if (!lt_interval_due(&s->reported, LT_XS_FAIR_REPORT_S * 1e3)) {
		s->f.unreported++;
		s->episode_reported = 0;
		return;
	}
	s->episode_reported = 1;
	if (ws->on_throttle != NULL)
		ws->on_throttle(ws->on_throttle_arg, &s->f);
	else
		log_warn("domain %u: xenstore watches throttled (%llu events, "
			 "%llu handled); handled every %u ms while it writes",
			 s->f.domid, s->f.events, s->f.handled, s->f.delay_ms);
	s->f.unreported = 0;
}

/* Out of budget: defer its handling. */
static void source_throttle(struct watch_source *s)
{
	if (s->f.throttles > 0 && lt_ms_since(&s->throttle_ended) < RECENT_MS) {
		s->f.delay_ms *= 2;
		if (s->f.delay_ms > LT_XS_FAIR_MAX_DELAY_MS)
			s->f.delay_ms = LT_XS_FAIR_MAX_DELAY_MS;
	} else {
		s->f.delay_ms = LT_XS_FAIR_FIRST_DELAY_MS;
	}
	s->f.throttled = 1;
	s->f.throttles++;
	timer_arm(s);
	source_report(s);
}

static void source_timer(evutil_socket_t fd, short what, void *arg)
{
	struct watch_source *s = arg;

	(void)fd;
	(void)what;
	if (!source_has_pending(s)) {
		/* Quiet for a whole delay: back to its budget. */
		s->f.throttled = 0;
		clock_gettime(CLOCK_MONOTONIC, &s->throttle_ended);
		if (s->episode_reported) /* the same rate limit */
			log_info("domain %u: xenstore watches no longer "
				 "throttled",
				 s->f.domid);
		return;
	}
	/* Still writing: handle what is there, then wait longer. What
	 * it saved during the delay is spent by this handling. */
	s->tokens = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->refilled);
	s->f.delay_ms *= 2;
	if (s->f.delay_ms > LT_XS_FAIR_MAX_DELAY_MS)
		s->f.delay_ms = LT_XS_FAIR_MAX_DELAY_MS;
	timer_arm(s);
	source_handle(s);
	source_release(s);
}

/* The end of a turn: each domain whose watches fired, once. */
static void handle_ready(struct xs_watches *ws)
{
	struct watch_source *s;

	while ((s = TAILQ_FIRST(&ws->ready)) != NULL) {
		TAILQ_REMOVE(&ws->ready, s, ready_entry);
		s->queued = 0;
		if (s->f.domid != NO_DOMAIN && !source_take_token(s)) {
			source_throttle(s);
			continue;
		}
		source_handle(s);
		source_release(s);
	}
}

static void watch_fired(struct xs_watches *ws, struct lt_xs_watch *w)
{
	struct watch_source *s = w->src;

	w->pending = 1;
	s->f.events++;
	if (s->queued || s->f.throttled)
		return; /* its timer handles it */
	s->queued = 1;
	TAILQ_INSERT_TAIL(&ws->ready, s, ready_entry);
}

static void watches_readable(evutil_socket_t fd, short what, void *arg)
{
	struct lt_xs *xs = arg;
	struct xs_watches *ws = xs->watches;
	char **vec;

	(void)fd;
	(void)what;
	for (unsigned n = 0;
	     n < LT_XS_DRAIN_MAX && (vec = xs_check_watch(xs->h)) != NULL;
	     n++) {
		struct lt_xs_watch *w = watch_find(ws, vec[XS_WATCH_TOKEN]);

		if (w != NULL)
			watch_fired(ws, w);
		free(vec);
	}
	handle_ready(ws);
}

struct lt_xs_watch *lt_xs_watch(struct lt_xs *xs, const char *path,
				lt_xs_watch_fn fn, void *arg)
{
	struct xs_watches *ws = watches_get(xs);
	unsigned domid = path_domain(path);
	struct lt_xs_watch *w;

	if (ws == NULL)
		return NULL;
	if (ws->ev == NULL) {
		int fd = xs_fileno(xs->h);

		if (fd < 0)
			return NULL;
		ws->ev = event_new(xs->base, fd, EV_READ | EV_PERSIST,
				   watches_readable, xs);
		if (ws->ev == NULL)
			return NULL;
		if (event_add(ws->ev, NULL) < 0) {
			event_free(ws->ev);
			ws->ev = NULL;
			return NULL;
		}
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->path = strdup(path)) == NULL)
		goto fail;
	if ((w->src = source_get(xs, domid)) == NULL)
		goto fail;
	if (domid == NO_DOMAIN)
		snprintf(w->token, sizeof(w->token), "x.%u", ws->next_token++);
	else
		snprintf(w->token, sizeof(w->token), "%u.%u", domid,
			 ws->next_token++);
	w->fn = fn;
	w->arg = arg;
	LIST_INSERT_HEAD(&w->src->watches, w, entry);
	if (!xs_watch(xs->h, path, w->token)) {
		LIST_REMOVE(w, entry);
		source_release(w->src);
		goto fail;
	}
	return w;
fail:
	if (w != NULL)
		free(w->path);
	free(w);
	return NULL;
}

void lt_xs_unwatch(struct lt_xs *xs, struct lt_xs_watch *w)
{
	if (w == NULL)
		return;
	xs_unwatch(xs->h, w->path, w->token);
	LIST_REMOVE(w, entry);
	source_release(w->src);
	free(w->path);
	free(w);
}

void lt_xs_on_throttle(struct lt_xs *xs, lt_xs_throttle_fn fn, void *arg)
{
	struct xs_watches *ws = watches_get(xs);

	if (ws == NULL) {
		log_warn("xenstore: no memory for the throttle reports");
		return;
	}
	ws->on_throttle = fn;
	ws->on_throttle_arg = arg;
}

int lt_xs_fairness(struct lt_xs *xs, unsigned domid, struct lt_xs_fairness *out)
{
	struct watch_source *s;

	if (xs->watches == NULL || domid >= NO_DOMAIN ||
	    (s = source_find(xs->watches, domid)) == NULL)
		return -1;
	*out = s->f;
	return 0;
}

void xs_watches_free(struct lt_xs *xs)
{
	struct xs_watches *ws = xs->watches;
	struct watch_source *s;

	if (ws == NULL)
		return;
	while ((s = LIST_FIRST(&ws->sources)) != NULL) {
		struct lt_xs_watch *w;

		/* Pin it: the last unwatch must not free it under us. */
		s->dispatching++;
		while ((w = LIST_FIRST(&s->watches)) != NULL)
			lt_xs_unwatch(xs, w);
		s->dispatching--;
		source_release(s);
	}
	if (ws->ev != NULL)
		event_free(ws->ev);
	free(ws);
	xs->watches = NULL;
}
