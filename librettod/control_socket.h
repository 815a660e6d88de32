/*
 * The control socket's file-system side and its peers' credentials, apart
 * from the protocol so that each stays small.
 */
#ifndef LIBRETTOD_CONTROL_SOCKET_H
#define LIBRETTOD_CONTROL_SOCKET_H

#include <sys/stat.h>
#include <sys/types.h>

/*
 * Creates path's parent directories (0755), refuses when a daemon answers
 * on path, removes a stale socket, binds a non-blocking listening socket
 * with mode 0660 (group gid unless (gid_t)-1) and records its identity in
 * *st.  Returns the fd, or -1 with *errmsg set (free it).
 */
int control_socket_listen(const char *path, gid_t gid, struct stat *st,
			  char **errmsg);
/* Unlinks path only if it is still the socket *st describes, so that a
 * daemon shutting down never removes a successor's socket. */
void control_socket_unlink(const char *path, const struct stat *st);

struct control_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int admin; /* uid 0, or admin_gid among its groups */
};

/* The descriptors this process holds (the entries of /proc/self/fd, less
 * the one listing them), or -1 when they cannot be counted. */
long control_fd_count(void);

/* Reads SO_PEERCRED and SO_PEERGROUPS of a connected socket. */
int control_peer_get(int fd, gid_t admin_gid, struct control_peer *peer);

#endif
