/* sd_notify_send speaks systemd's datagram protocol: a path socket, an
 * abstract one, and nothing at all without NOTIFY_SOCKET. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "sd_notify.h"

/* Binds a datagram socket at name (a leading '@' makes it abstract). */
static int listen_at(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sun.sun_path, name, len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&sun,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		return -1;
	return fd;
}

static void expect(int fd, const char *want)
{
	char buf[128];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	CHECK(n == (ssize_t)strlen(want));
	if (n > 0) {
		buf[n] = '\0';
		CHECK(strcmp(buf, want) == 0);
	}
}

int main(void)
{
	char path[64], abstract[64];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	CHECK(sd_notify_send("READY=1") == 0); /* not under systemd */

	snprintf(path, sizeof(path), "/tmp/lt-sd-notify-%d", getpid());
	unlink(path);
	fd = listen_at(path);
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(sd_notify_send("READY=1\nSTATUS=ready") == 0);
	expect(fd, "READY=1\nSTATUS=ready");
	close(fd);
	unlink(path);

	snprintf(abstract, sizeof(abstract), "@lt-sd-notify-%d", getpid());
	fd = listen_at(abstract);
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", abstract, 1);
	CHECK(sd_notify_send("STOPPING=1") == 0);
	expect(fd, "STOPPING=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK(sd_notify_send("READY=1") < 0);
	return check_summary("test_sd_notify");
}
