#include "state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "op.h"
#include "thread_job.h"
#include "util.h"

/* Snapshots are numbered; a write lands only over an older one, so the
 * final synchronous flush cannot be overwritten by a slower thread. */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long landed_seq;

/* The writer: one write out at a time, the newest snapshot next. */
struct state_writer {
	unsigned long long next_seq, seq; /* seq: of text */
	struct engine *e;
	struct event *tick;
	int busy, dirty, closing;
	char *text; /* the snapshot being written */
	char dir[256];
	int err; /* errno of the last failed write, for the log */
	char what[340];
};

static struct json_object *domain_snapshot(struct engine *e, struct domain *d)
{
	struct json_object *o = json_object_new_object();
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &d->ip, ip, sizeof(ip));
	json_object_object_add(o, "name", json_object_new_string(d->be.name));
	json_object_object_add(o, "domid", json_object_new_int64(d->domid));
	json_object_object_add(o, "created",
			       json_object_new_boolean(d->created));
	json_object_object_add(
	    o, "state", json_object_new_string(domain_state_name(d->state)));
	json_object_object_add(o, "ip", json_object_new_string(ip));
	json_object_object_add(o, "vf", json_object_new_int(d->vf));
	json_object_object_add(o, "ephemeral",
			       json_object_new_int(d->ephemeral));
	json_object_object_add(o, "on_vf", json_object_new_boolean(d->on_vf));
	json_object_object_add(o, "switch_seq",
			       json_object_new_int64(d->switch_seq));
	json_object_object_add(o, "restarts",
			       json_object_new_int64(d->nrestarts));
	json_object_object_add(o, "gave_up",
			       json_object_new_boolean(d->gave_up));
	json_object_object_add(o, "switching",
			       json_object_new_boolean(d->sw != NULL));
	/* What the backend says of it (sim: namespace, pid): handed back to
	 * its domain_adopt. */
	if (d->created) {
		struct json_object *b = json_object_new_object();

		e->backend->ops->domain_describe(e->backend, &d->be, b);
		json_object_object_add(o, "backend", b);
	}
	return o;
}

struct json_object *state_snapshot(struct engine *e)
{
	struct json_object *root = json_object_new_object();
	struct json_object *deps = json_object_new_array();
	struct deployment *dep;

	json_object_object_add(root, "libretto_state",
			       json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "backend",
			       json_object_new_string(e->backend->ops->name));
	TAILQ_FOREACH(dep, &e->deployments, entry)
	{
		struct json_object *o = json_object_new_object();
		struct json_object *doms = json_object_new_array();
		struct domain *d;

		json_object_object_add(o, "name",
				       json_object_new_string(dep->name));
		/* A first deploy in flight has only its pending text: kept,
		 * so that a restarted daemon can clean up after it. */
		json_object_object_add(
		    o, "file",
		    json_object_new_string(dep->source_file ? dep->source_file
					   : dep->pending_file
					       ? dep->pending_file
					       : ""));
		json_object_object_add(
		    o, "content",
		    json_object_new_string(dep->source_text ? dep->source_text
					   : dep->pending_text
					       ? dep->pending_text
					       : ""));
		/* What its relative image paths were resolved against: a
		 * restarted daemon resolves them the same, whatever its
		 * images_dir is now, so status and a redeploy's comparison
		 * see the domains as they run. */
		json_object_object_add(
		    o, "images_dir",
		    dep->spec != NULL && dep->spec->images_dir != NULL
			? json_object_new_string(dep->spec->images_dir)
			: NULL);
		json_object_object_add(o, "set_up",
				       json_object_new_boolean(dep->set_up));
		json_object_object_add(
		    o, "op",
		    dep->op
			? json_object_new_string(op_kind_name(dep->op->kind))
			: NULL);
		TAILQ_FOREACH(d, &dep->domains, entry)
		{
			if (d->state != DOM_GONE)
				json_object_array_add(doms,
						      domain_snapshot(e, d));
		}
		json_object_object_add(o, "domains", doms);
		json_object_array_add(deps, o);
	}
	json_object_object_add(root, "deployments", deps);
	return root;
}

/* --- writing ------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A fresh temp file: whatever sits at its path (a stale one, a planted
 * symlink) is unlinked, never followed, and O_EXCL refuses one planted in
 * between. */
static int open_temp(const char *tmp)
{
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -1;
	return open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
}

/* On the worker thread: the atomic replacement. */
static void write_work(void *arg)
{
	struct state_writer *w = arg;
	char tmp[300], path[300];
	int fd = -1, dfd = -1;

	w->err = 0;
	pthread_mutex_lock(&write_lock);
	if (w->seq <= landed_seq) {
		pthread_mutex_unlock(&write_lock);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s/" STATE_FILE ".tmp", w->dir);
	snprintf(path, sizeof(path), "%s/" STATE_FILE, w->dir);
	snprintf(w->what, sizeof(w->what), "write %s", tmp);
	fd = open_temp(tmp);
	if (fd < 0 || write_all(fd, w->text, strlen(w->text)) < 0)
		goto fail;
	snprintf(w->what, sizeof(w->what), "fsync %s", tmp);
	if (fsync(fd) < 0)
		goto fail;
	close(fd);
	fd = -1;
	snprintf(w->what, sizeof(w->what), "rename to %s", path);
	if (rename(tmp, path) < 0)
		goto fail;
	/* The rename itself is durable only once the folder is. */
	snprintf(w->what, sizeof(w->what), "fsync %s", w->dir);
	dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		goto fail;
	close(dfd);
	landed_seq = w->seq;
	pthread_mutex_unlock(&write_lock);
	return;
fail:
	w->err = errno;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (dfd >= 0)
		close(dfd);
	pthread_mutex_unlock(&write_lock);
}

static void write_start(struct state_writer *w);

static void write_done(void *arg)
{
	struct state_writer *w = arg;

	w->busy = 0;
	free(w->text);
	w->text = NULL;
	if (w->err != 0)
		log_err("state file: %s: %s", w->what, strerror(w->err));
	if (w->closing) {
		event_free(w->tick);
		free(w);
		return;
	}
	if (w->dirty)
		write_start(w);
}

static void write_start(struct state_writer *w)
{
	struct json_object *snap;

	if (w->busy)
		return; /* write_done starts the next one */
	w->dirty = 0;
	w->seq = ++w->next_seq;
	snap = state_snapshot(w->e);
	w->text = lt_strdupf("%s\n", json_object_to_json_string_ext(
					 snap, JSON_C_TO_STRING_PLAIN));
	json_object_put(snap);
	if (w->text == NULL)
		return;
	w->busy = 1;
	if (thread_job_run(w->e->base, write_work, write_done, w) < 0) {
		w->busy = 0;
		log_err("state file: cannot start the writer: %s",
			strerror(errno));
		free(w->text);
		w->text = NULL;
	}
}

static void write_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	write_start(arg);
}

static struct state_writer *writer(struct engine *e)
{
	struct state_writer *w = e->state;

	if (w != NULL)
		return w;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->e = e;
	snprintf(w->dir, sizeof(w->dir), "%s", e->cfg->state_dir);
	w->tick = event_new(e->base, -1, 0, write_tick, w);
	if (w->tick == NULL) {
		free(w);
		return NULL;
	}
	e->state = w;
	return w;
}

void state_changed(struct engine *e)
{
	struct state_writer *w = writer(e);

	if (w == NULL || w->closing || !e->state_ok)
		return;
	/* Changes made in one turn of the loop are written once. */
	if (!w->dirty) {
		w->dirty = 1;
		event_active(w->tick, 0, 0);
	}
}

void state_flush(struct engine *e)
{
	struct state_writer *w = writer(e);
	struct json_object *snap;
	char *text;

	if (w == NULL || !e->state_ok)
		return;
	snap = state_snapshot(e);
	text = lt_strdupf("%s\n", json_object_to_json_string_ext(
				      snap, JSON_C_TO_STRING_PLAIN));
	json_object_put(snap);
	if (text == NULL)
		return;
	{
		/* A write may be out on the thread: this one is newer. */
		struct state_writer final = *w;

		final.text = text;
		final.seq = ++w->next_seq;
		write_work(&final);
		if (final.err != 0)
			log_err("state file: %s: %s", final.what,
				strerror(final.err));
	}
	free(text);
	w->dirty = 0;
}

void state_close(struct engine *e)
{
	struct state_writer *w = e->state;

	if (w == NULL)
		return;
	e->state = NULL;
	if (w->busy) {
		w->closing = 1; /* write_done frees it */
		return;
	}
	event_free(w->tick);
	free(w);
}

/* --- the folder ----------------------------------------------------------- */

int state_dir_secure(const char *dir, char **err)
{
	struct stat st, opened;
	int fd;

	if (lstat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0700) < 0 &&
	    errno != EEXIST) {
		*err = lt_strdupf("state folder %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Opened without following a link, then judged by what was opened:
	 * a folder swapped after a look is never the one changed. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		*err = lt_strdupf(
		    "state folder %s: %s", dir,
		    errno == ELOOP || errno == ENOTDIR
			? "not a folder (a symbolic link?): refusing it"
			: strerror(errno));
		return -1;
	}
	if (fstat(fd, &opened) < 0) {
		*err = lt_strdupf("state folder %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	if (opened.st_uid != 0 && opened.st_uid != geteuid()) {
		*err = lt_strdupf("state folder %s: owned by uid %u, not by "
				  "root: refusing it (whoever owns it could "
				  "rewrite what the daemon adopts)",
				  dir, (unsigned)opened.st_uid);
		close(fd);
		return -1;
	}
	if ((opened.st_mode & 07777) != 0700) {
		if (fchmod(fd, 0700) < 0) {
			*err = lt_strdupf("state folder %s: chmod 0700: %s",
					  dir, strerror(errno));
			close(fd);
			return -1;
		}
		log_info("state folder %s: mode %04o made 0700", dir,
			 (unsigned)(opened.st_mode & 07777));
	}
	close(fd);
	return 0;
}

/* --- reading ------------------------------------------------------------- */

int state_read(const char *dir, struct json_object **out, char **err)
{
	char path[300];
	struct json_object *root, *v;
	FILE *f = NULL;
	char *text = NULL;
	size_t len = 0;
	enum json_tokener_error jerr;
	int fd;

	*out = NULL;
	if (state_dir_secure(dir, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (f = fdopen(fd, "r")) == NULL)
		close(fd);
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		*err = lt_strdupf("%s: %s", path,
				  errno == ELOOP ? "a symbolic link: refusing "
						   "to act on it"
						 : strerror(errno));
		return -1;
	}
	{
		char buf[65536];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			char *t = realloc(text, len + n + 1);

			if (t == NULL) {
				fclose(f);
				free(text);
				*err = lt_strdupf("%s: out of memory", path);
				return -1;
			}
			text = t;
			memcpy(text + len, buf, n);
			len += n;
		}
	}
	fclose(f);
	if (text == NULL) {
		*err = lt_strdupf("%s: empty", path);
		return -1;
	}
	text[len] = '\0';
	root = json_tokener_parse_verbose(text, &jerr);
	free(text);
	if (root == NULL) {
		*err = lt_strdupf("%s: not JSON (%s): refusing to act on it; "
				  "move it away to start without adopting "
				  "anything",
				  path, json_tokener_error_desc(jerr));
		return -1;
	}
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "libretto_state", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) != STATE_VERSION) {
		*err = lt_strdupf("%s: not a libretto state file of version %d "
				  "(libretto_state); refusing to act on it",
				  path, STATE_VERSION);
		json_object_put(root);
		return -1;
	}
	*out = root;
	return 0;
}
