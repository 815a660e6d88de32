/*
 * spawn.{c,h} on a real libevent loop: exit statuses, signal deaths, the
 * environment, log redirection, captured output, timeouts, many children at
 * once, kills, and (as root) entering a network namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "loop_util.h"
#include "spawn.h"

static struct event_base *base;

struct result {
	int finished;
	int wstatus;
	pid_t pid;
	char out[SPAWN_CAPTURE_MAX + 1];
	char err[SPAWN_CAPTURE_MAX + 1];
};

static void on_exit_cb(void *arg, pid_t pid, int wstatus)
{
	struct result *r = arg;

	r->finished++;
	r->pid = pid;
	r->wstatus = wstatus;
}

static void on_run_cb(void *arg, int wstatus, const char *out,
		      const char *errtext)
{
	struct result *r = arg;

	r->finished++;
	r->wstatus = wstatus;
	snprintf(r->out, sizeof(r->out), "%s", out);
	snprintf(r->err, sizeof(r->err), "%s", errtext);
}

static struct result run_argv(char *const *argv, char *const *env,
			      const char *netns, unsigned timeout_ms)
{
	struct result r = {0};
	struct spawn_opts opts = {
	    .argv = argv, .extra_env = env, .netns_path = netns};
	char *err = NULL;
	struct spawn_run *run =
	    spawn_run(base, &opts, timeout_ms, on_run_cb, &r, &err);

	if (!run) {
		fprintf(stderr, "spawn_run %s: %s\n", argv[0], err);
		free(err);
		check_failures++;
		r.wstatus = -1;
		return r;
	}
	loop_until(base, &r.finished, 1);
	return r;
}

static void test_exit_statuses(void)
{
	char *t[] = {"true", NULL}, *f[] = {"false", NULL};
	char *seven[] = {"sh", "-c", "exit 7", NULL};

	struct result r = run_argv(t, NULL, NULL, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);
	r = run_argv(f, NULL, NULL, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 1);
	r = run_argv(seven, NULL, NULL, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 7);
}

/* Live (not zombie) processes in process group pgid.  Zombies count as
 * gone: whoever inherited them reaps them in its own time. */
static int group_members(pid_t pgid)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int count = 0;

	while (proc && (d = readdir(proc))) {
		char path[300], state;
		int pgrp;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		/* pid (comm) state ppid pgrp; comm has no ')' here */
		if (fscanf(f, "%*d (%*[^)]) %c %*d %d", &state, &pgrp) == 2 &&
		    pgrp == pgid && state != 'Z')
			count++;
		fclose(f);
	}
	if (proc)
		closedir(proc);
	return count;
}

static void test_signal_death_and_kill(void)
{
	char *self_kill[] = {"sh", "-c", "kill -SEGV $$", NULL};
	char *sleeper[] = {"sleep", "1000", NULL};
	char buf[128];

	struct result r = run_argv(self_kill, NULL, NULL, 0);
	CHECK(WIFSIGNALED(r.wstatus) && WTERMSIG(r.wstatus) == SIGSEGV);
	spawn_describe_status(r.wstatus, buf, sizeof(buf));
	CHECK(strstr(buf, "killed by signal 11") != NULL);

	struct result s = {0};
	struct spawn_opts opts = {.argv = sleeper, .new_session = 1};
	char *err = NULL;
	struct spawn_child *c = spawn_start(base, &opts, on_exit_cb, &s, &err);
	CHECK(c != NULL);
	if (!c)
		return;
	pid_t pid = spawn_child_pid(c);
	/* Its own group (new_session), once the child got to setsid(). */
	for (int i = 0; i < 100 && getpgid(pid) != pid; i++)
		usleep(10000);
	CHECK(getpgid(pid) == pid);
	CHECK(spawn_child_kill(c, SIGTERM) == 0);
	loop_until(base, &s.finished, 1);
	CHECK(s.pid == pid);
	CHECK(WIFSIGNALED(s.wstatus) && WTERMSIG(s.wstatus) == SIGTERM);

	/* The whole group, grandchildren included. */
	char *tree[] = {"sh", "-c", "sleep 1000 & sleep 1000; :", NULL};
	struct result g = {0};
	opts.argv = tree;
	c = spawn_start(base, &opts, on_exit_cb, &g, &err);
	CHECK(c != NULL);
	if (!c)
		return;
	usleep(100000); /* let sh fork its background sleep */
	pid = spawn_child_pid(c);
	CHECK(spawn_child_kill_group(c, SIGKILL) == 0);
	loop_until(base, &g.finished, 1);
	CHECK(WIFSIGNALED(g.wstatus) && WTERMSIG(g.wstatus) == SIGKILL);
	for (int i = 0; i < 100 && group_members(pid) > 0; i++)
		usleep(10000);
	CHECK(group_members(pid) == 0);
}

static void test_env(void)
{
	char *argv[] = {"sh", "-c",
			"test \"$FOO\" = bar && test \"$HOME\" = /elsewhere && "
			"test -z \"$SPAWN_TEST_SECRET\" && echo \"$PATH\"",
			NULL};
	char *env[] = {"FOO=bar", "HOME=/elsewhere", NULL};

	/* The daemon's own environment must not leak into children. */
	setenv("SPAWN_TEST_SECRET", "leak", 1);
	struct result r = run_argv(argv, env, NULL, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);
	CHECK(strcmp(r.out, SPAWN_DEFAULT_PATH "\n") == 0);
	unsetenv("SPAWN_TEST_SECRET");

	/* main() ignores SIGPIPE; a child starts with every default. */
	char *status[] = {"cat", "/proc/self/status", NULL};
	r = run_argv(status, NULL, NULL, 0);
	CHECK(strstr(r.out, "SigIgn:\t0000000000000000\n") != NULL);
	CHECK(strstr(r.out, "SigBlk:\t0000000000000000\n") != NULL);
}

static void test_capture(void)
{
	char *argv[] = {"sh", "-c", "echo out; echo oops >&2; exit 3", NULL};
	char *flood[] = {"sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x",
			 NULL};
	char *missing[] = {"libretto-no-such-command", NULL};
	char *err = NULL;

	struct result r = run_argv(argv, NULL, NULL, 0);
	CHECK(WEXITSTATUS(r.wstatus) == 3);
	CHECK(strcmp(r.out, "out\n") == 0);
	CHECK(strcmp(r.err, "oops\n") == 0);

	/* More than a pipe holds: kept to the cap, and the tool never
	 * blocks on a full pipe. */
	r = run_argv(flood, NULL, NULL, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);
	CHECK(strlen(r.out) == SPAWN_CAPTURE_MAX);

	struct spawn_opts opts = {.argv = missing};
	struct result unused = {0};
	CHECK(spawn_run(base, &opts, 0, on_run_cb, &unused, &err) == NULL);
	CHECK(err && strstr(err, "libretto-no-such-command"));
	free(err);
}

static void test_timeout(void)
{
	char *argv[] = {"sleep", "1000", NULL};

	struct result r = run_argv(argv, NULL, NULL, 100);
	CHECK(WIFSIGNALED(r.wstatus) && WTERMSIG(r.wstatus) == SIGKILL);
	CHECK(strstr(r.err, "timed out after 100 ms") != NULL);
}

static void test_log_redirection(const char *dir)
{
	char path[512], buf[256] = "";
	char *argv[] = {"sh", "-c",
			"echo to-stdout; echo to-stderr >&2; "
			"read x && echo stdin-not-null",
			NULL};

	snprintf(path, sizeof(path), "%s/child.log", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "before\n", 7) == 7);
	close(fd);
	struct result r = {0};
	struct spawn_opts opts = {.argv = argv, .log_path = path};
	char *err = NULL;
	CHECK(spawn_start(base, &opts, on_exit_cb, &r, &err) != NULL);
	loop_until(base, &r.finished, 1);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	CHECK(strcmp(buf, "before\nto-stdout\nto-stderr\n") == 0);

	opts.log_path = "/nonexistent-dir/x.log";
	CHECK(spawn_start(base, &opts, on_exit_cb, &r, &err) == NULL);
	CHECK(err && strstr(err, "/nonexistent-dir/x.log"));
	free(err);
}

static void test_fds_not_inherited(void)
{
	int leak = open("/dev/null", O_RDONLY); /* deliberately no CLOEXEC */
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "test ! -e /proc/self/fd/%d", leak);
	char *argv[] = {"sh", "-c", cmd, NULL};
	struct result r = run_argv(argv, NULL, NULL, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);
	close(leak);
}

#define MANY 64
static void test_many(void)
{
	static struct result r[MANY];
	int done = 0;
	char *exits[MANY][4];
	char codes[MANY][32];

	for (int i = 0; i < MANY; i++) {
		snprintf(codes[i], sizeof(codes[i]), "exit %d", i % 50);
		exits[i][0] = "sh";
		exits[i][1] = "-c";
		exits[i][2] = codes[i];
		exits[i][3] = NULL;
		struct spawn_opts opts = {.argv = exits[i]};
		char *err = NULL;
		memset(&r[i], 0, sizeof(r[i]));
		CHECK(spawn_start(base, &opts, on_exit_cb, &r[i], &err));
	}
	while (done < MANY) {
		event_base_loop(base, EVLOOP_ONCE);
		done = 0;
		for (int i = 0; i < MANY; i++)
			done += r[i].finished;
	}
	for (int i = 0; i < MANY; i++) {
		CHECK(r[i].finished == 1);
		CHECK(WIFEXITED(r[i].wstatus) &&
		      WEXITSTATUS(r[i].wstatus) == i % 50);
	}
}

static void test_cancel(void)
{
	char *argv[] = {"sleep", "1000", NULL};
	char *t[] = {"true", NULL};
	struct result r = {0};
	struct spawn_opts opts = {.argv = argv};
	char *err = NULL;

	struct spawn_run *run = spawn_run(base, &opts, 0, on_run_cb, &r, &err);
	CHECK(run != NULL);
	spawn_run_cancel(run);
	/* Something else completes; the cancelled one never calls back. */
	struct result after = run_argv(t, NULL, NULL, 0);
	CHECK(after.finished == 1);
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(r.finished == 0);
}

/* A private namespace made here (not via ip), so the test needs only root. */
static int make_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0444);
	if (fd < 0)
		return -1;
	close(fd);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0 ||
		    mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			_exit(1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void test_netns(const char *dir)
{
	char path[512], cmd[640];

	if (geteuid() != 0) {
		fprintf(stderr, "test_netns: skipped, not root\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/ns", dir);
	CHECK(make_netns(path) == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0);
	snprintf(cmd, sizeof(cmd),
		 "test \"$(stat -L -c %%i /proc/self/ns/net)\" = %lu",
		 (unsigned long)st.st_ino);
	char *argv[] = {"sh", "-c", cmd, NULL};
	struct result r = run_argv(argv, NULL, path, 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0);

	/* A bad namespace: the child says why and ends with 127. */
	r = run_argv(argv, NULL, "/nonexistent-netns", 0);
	CHECK(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 127);
	CHECK(strstr(r.err, "setns into /nonexistent-netns") != NULL);
	umount2(path, MNT_DETACH);
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/libretto-test-spawn.XXXXXX";

	alarm(60);		  /* never hang a test run */
	signal(SIGPIPE, SIG_IGN); /* a child must not inherit this */
	base = event_base_new();
	if (!base || !mkdtemp(dir))
		return 1;
	test_exit_statuses();
	test_signal_death_and_kill();
	test_env();
	test_capture();
	test_timeout();
	test_log_redirection(dir);
	test_fds_not_inherited();
	test_many();
	test_cancel();
	test_netns(dir);

	char log[512];
	snprintf(log, sizeof(log), "%s/child.log", dir);
	unlink(log);
	rmdir(dir);
	event_base_free(base);
	return check_summary("test_spawn");
}
