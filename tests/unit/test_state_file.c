/*
 * The state file's folder and its atomic write (librettod/state.c), as
 * the attacks they stop: a state folder others may read or write, a
 * symbolic link in place of the folder, a folder owned by another user,
 * and a symbolic link planted at the temp file's path to make the daemon
 * write through it. The state file decides what a restarted daemon
 * adopts and destroys, so none of these may be followed or trusted.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "check.h"
#include "config.h"
#include "engine.h"
#include "state.h"

static char root[] = "/tmp/libretto-test-state.XXXXXX";

static mode_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int secure(const char *dir)
{
	char *err = NULL;
	int rc = state_dir_secure(dir, &err);

	if (rc < 0)
		printf("  refused: %s\n", err);
	free(err);
	return rc;
}

static void test_folder(void)
{
	char dir[300], link[300], other[300];

	/* Missing: made 0700. */
	snprintf(dir, sizeof(dir), "%s/state", root);
	CHECK(secure(dir) == 0);
	CHECK(mode_of(dir) == 0700);
	/* An existing 0755 one (an older daemon's): made 0700. */
	CHECK(chmod(dir, 0755) == 0);
	CHECK(secure(dir) == 0);
	CHECK(mode_of(dir) == 0700);
	/* A symbolic link to a folder: refused, the target untouched. */
	snprintf(other, sizeof(other), "%s/elsewhere", root);
	CHECK(mkdir(other, 0755) == 0);
	snprintf(link, sizeof(link), "%s/link", root);
	CHECK(symlink(other, link) == 0);
	CHECK(secure(link) < 0);
	CHECK(mode_of(other) == 0755);
	/* A file: refused. */
	snprintf(link, sizeof(link), "%s/file", root);
	close(open(link, O_CREAT | O_WRONLY, 0600));
	CHECK(secure(link) < 0);
	/* Owned by another user (as root only: chown needs it). */
	if (geteuid() == 0) {
		snprintf(other, sizeof(other), "%s/nobodys", root);
		CHECK(mkdir(other, 0700) == 0);
		CHECK(chown(other, 65534, 65534) == 0);
		CHECK(secure(other) < 0);
	}
}

/* An empty engine writing its snapshot to dir, as the daemon does. One
 * for the whole test: snapshots are numbered per process, and an older
 * number never lands. */
static const struct backend_ops ops = {.name = "sim"};
static struct daemon_config cfg;
static struct backend be = {.ops = &ops};
static struct engine e;

static void flush_to(const char *dir)
{
	if (e.base == NULL) {
		e.base = event_base_new();
		e.backend = &be;
		e.cfg = &cfg;
		e.state_ok = 1;
		TAILQ_INIT(&e.deployments);
	}
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
	state_flush(&e);
}

static void test_write(void)
{
	char dir[300], tmp[340], path[340], victim[300];
	struct json_object *read = NULL;
	char *err = NULL, *text;

	snprintf(dir, sizeof(dir), "%s/state", root);
	snprintf(tmp, sizeof(tmp), "%s/" STATE_FILE ".tmp", dir);
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	snprintf(victim, sizeof(victim), "%s/victim", root);
	/* A symbolic link at the temp path, to a file of someone's. */
	CHECK(close(open(victim, O_CREAT | O_WRONLY, 0644)) == 0);
	CHECK(symlink(victim, tmp) == 0);
	flush_to(dir);
	text = slurp(victim);
	CHECK(text != NULL && text[0] == '\0'); /* never written through */
	CHECK(mode_of(victim) == 0644);
	CHECK(mode_of(tmp) == (mode_t)-1); /* the link is gone */
	CHECK(mode_of(path) == 0600);	   /* a file, not a link */
	CHECK(state_read(dir, &read, &err) == 0 && read != NULL);
	json_object_put(read);
	read = NULL;
	free(err);
	err = NULL;
	/* A stale temp file (a crash mid-write): replaced. */
	CHECK(close(open(tmp, O_CREAT | O_WRONLY, 0666)) == 0);
	flush_to(dir);
	CHECK(mode_of(tmp) == (mode_t)-1);
	text = slurp(path);
	CHECK(text != NULL && strstr(text, "\"libretto_state\":1") != NULL);
	/* A state.json that is a symbolic link is not read. */
	CHECK(unlink(path) == 0 && symlink(victim, path) == 0);
	CHECK(state_read(dir, &read, &err) < 0 && read == NULL);
	CHECK(err != NULL && strstr(err, "symbolic link") != NULL);
	free(err);
}

int main(void)
{
	char cmd[400];

	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_folder();
	test_write();
	state_close(&e);
	event_base_free(e.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return check_summary("state_file");
}
