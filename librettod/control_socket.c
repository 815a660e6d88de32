#include "control_socket.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define LISTEN_BACKLOG 64
#define GROUPS_INLINE  64

static int fail(char **errmsg, const char *fmt, const char *path)
{
	char *msg = NULL;

	if (asprintf(&msg, fmt, path, strerror(errno)) < 0)
		msg = NULL;
	*errmsg = msg;
	return -1;
}

/* mkdir -p of path's directory part. */
static int make_parents(const char *path, char **errmsg)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return fail(errmsg, "cannot create directory %s: %s",
				    dir);
		*p = '/';
	}
	return 0;
}

/*
 * 1: something accepts connections on path; 0: nothing there (a stale
 * socket is removed); -1: error.  The probe is non-blocking so that a daemon
 * with a full backlog (EAGAIN) still counts as alive.
 */
static int probe(const struct sockaddr_un *sun, char **errmsg)
{
	struct stat st;
	int fd = -1, rc = -1;

	if (lstat(sun->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(errmsg, "cannot stat %s: %s", sun->sun_path);
	}
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return fail(errmsg, "%s exists and is not a socket (%s)",
			    sun->sun_path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(errmsg, "socket for %s: %s", sun->sun_path);
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS) {
		rc = 1;
		goto out;
	}
	if (errno != ECONNREFUSED) {
		fail(errmsg, "cannot probe %s: %s", sun->sun_path);
		goto out;
	}
	log_info("control: removing stale socket %s", sun->sun_path);
	if (unlink(sun->sun_path) < 0 && errno != ENOENT) {
		fail(errmsg, "cannot remove stale socket %s: %s",
		     sun->sun_path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int control_socket_listen(const char *path, gid_t gid, struct stat *st,
			  char **errmsg)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = -1, bound = 0;
	mode_t old_umask;

	*errmsg = NULL;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return fail(errmsg, "socket path %s: %s", path);
	}
	strcpy(sun.sun_path, path);
	if (make_parents(path, errmsg) < 0)
		goto out;
	switch (probe(&sun, errmsg)) {
	case 1:
		if (asprintf(errmsg, "another librettod is listening on %s",
			     path) < 0)
			*errmsg = NULL;
		goto out;
	case -1:
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(errmsg, "socket for %s: %s", path);
		goto out;
	}
	/* Nobody but the owner may connect before chmod/chown below; the
	 * socket only listens after them anyway. */
	old_umask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old_umask);
		fail(errmsg, "cannot bind %s: %s", path);
		goto out;
	}
	umask(old_umask);
	bound = 1;
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) {
		fail(errmsg, "cannot chown %s: %s", path);
		goto out;
	}
	if (chmod(path, 0660) < 0) {
		fail(errmsg, "cannot chmod %s: %s", path);
		goto out;
	}
	if (stat(path, st) < 0) {
		fail(errmsg, "cannot stat %s: %s", path);
		goto out;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		fail(errmsg, "cannot listen on %s: %s", path);
		goto out;
	}
	return fd;
out:
	if (bound)
		unlink(path);
	if (fd >= 0)
		close(fd);
	return -1;
}

void control_socket_unlink(const char *path, const struct stat *st)
{
	struct stat now;

	if (lstat(path, &now) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino)
		unlink(path);
}

long control_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

static int in_groups(int fd, uid_t uid, gid_t primary, gid_t admin_gid)
{
	gid_t inline_groups[GROUPS_INLINE], *groups = inline_groups;
	socklen_t len = sizeof(inline_groups);
	int found = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
		/* len holds the groups' size. */
	} else if (errno == ERANGE) {
		/* len now holds the size needed. */
		groups = malloc(len);
		if (groups == NULL)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			goto out;
	} else if (errno == ENOPROTOOPT) {
		/* Kernels before 4.13: ask the group database.  That may
		 * block on a network NSS module, a cost only such old
		 * kernels pay. */
		struct passwd pw, *pwp = NULL;
		char buf[4096];
		int n = GROUPS_INLINE;

		if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 ||
		    pwp == NULL)
			goto out;
		if (getgrouplist(pw.pw_name, primary, groups, &n) < 0)
			goto out;
		len = (socklen_t)((size_t)n * sizeof(gid_t));
	} else {
		goto out;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == admin_gid)
			found = 1;
out:
	if (groups != inline_groups)
		free(groups);
	return found;
}

int control_peer_get(int fd, gid_t admin_gid, struct control_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(peer, 0, sizeof(*peer));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	if (cred.uid == 0)
		peer->admin = 1;
	else if (admin_gid != (gid_t)-1)
		peer->admin = cred.gid == admin_gid ||
			      in_groups(fd, cred.uid, cred.gid, admin_gid);
	return 0;
}
