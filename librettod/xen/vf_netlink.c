/*
 * The rtnetlink socket of vf_netlink.h.  rtnetlink handles a request
 * within sendto(2), so sending does not wait on a peer; the answer is
 * read when the descriptor is readable, never waited for here.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "vf_netlink.h"

int xen_vf_nl_open(struct xen_vf_nl *nl, char **err)
{
	struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
	int one = 1;

	nl->seq = 0;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_ROUTE);
	if (nl->fd < 0) {
		*err = lt_strdupf("rtnetlink socket: %s", strerror(errno));
		return -1;
	}
	/* the kernel's reason in words, and no echo of the request in an
	 * error; a kernel without them still answers, so failures here do
	 * not matter */
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
			 sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
			 sizeof(one));
	if (bind(nl->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		*err = lt_strdupf("rtnetlink bind: %s", strerror(errno));
		xen_vf_nl_close(nl);
		return -1;
	}
	return 0;
}

void xen_vf_nl_close(struct xen_vf_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

static int send_request(struct xen_vf_nl *nl, const void *msg, size_t len,
			const char *what, char **err)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (len == 0) {
		*err = lt_strdupf("%s: an argument is out of range", what);
		return -1;
	}
	n = sendto(nl->fd, msg, len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel));
	if (n < 0 || (size_t)n != len) {
		*err = lt_strdupf("%s: sending to rtnetlink: %s", what,
				  n < 0 ? strerror(errno) : "short send");
		return -1;
	}
	return 0;
}

int xen_vf_nl_send_set_mac(struct xen_vf_nl *nl, int pf_ifindex, uint32_t vf,
			   const uint8_t mac[6], char **err)
{
	uint8_t msg[XEN_VF_NL_SET_MAC_SIZE];
	size_t len;

	len = xen_vf_nl_build_set_mac(msg, sizeof(msg), ++nl->seq, pf_ifindex,
				      vf, mac);
	return send_request(nl, msg, len, "RTM_SETLINK (VF MAC)", err);
}

int xen_vf_nl_send_get_link(struct xen_vf_nl *nl, int pf_ifindex, char **err)
{
	uint8_t msg[XEN_VF_NL_GET_LINK_SIZE];
	size_t len;

	len = xen_vf_nl_build_get_link(msg, sizeof(msg), ++nl->seq, pf_ifindex);
	return send_request(nl, msg, len, "RTM_GETLINK (VF info)", err);
}

/* One datagram from the kernel, in a buffer of its size (a PF's VF list
 * grows with its VFs).  1: *buf (to free) and *len; 0: nothing waiting;
 * -1 with *err. */
static int recv_datagram(struct xen_vf_nl *nl, uint8_t **buf, size_t *len,
			 char **err)
{
	struct sockaddr_nl from;
	socklen_t from_len;
	ssize_t size, n;

	for (;;) {
		*buf = NULL;
		size = recv(nl->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (size < 0)
			goto fail;
		*buf = malloc(size > 0 ? (size_t)size : 1);
		if (!*buf) {
			*err = lt_strdupf("rtnetlink: out of memory for %zd "
					  "bytes",
					  size);
			return -1;
		}
		from_len = sizeof(from);
		n = recvfrom(nl->fd, *buf, (size_t)size, 0,
			     (struct sockaddr *)&from, &from_len);
		if (n < 0)
			goto fail;
		if (from_len == sizeof(from) && from.nl_pid == 0) {
			*len = (size_t)n;
			return 1;
		}
		free(*buf); /* not from the kernel: not an answer */
	}
fail:
	free(*buf);
	*buf = NULL;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	/* ENOBUFS: the kernel dropped messages for us, our answer perhaps */
	*err = lt_strdupf("rtnetlink receive: %s", strerror(errno));
	return -1;
}

int xen_vf_nl_recv_ack(struct xen_vf_nl *nl, char **err)
{
	struct xen_vf_nl_ack ack;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	for (;;) {
		rc = recv_datagram(nl, &buf, &len, err);
		if (rc <= 0)
			return rc;
		rc = xen_vf_nl_parse_ack(buf, len, nl->seq, &ack, err);
		free(buf);
		if (rc < 0)
			return -1;
		if (rc == 1 && ack.error == 0)
			return 1;
		if (rc == 1) {
			*err =
			    xen_vf_nl_ack_error("RTM_SETLINK (VF MAC)", &ack);
			return -1;
		}
	}
}

int xen_vf_nl_recv_vf_mac(struct xen_vf_nl *nl, uint32_t vf, uint8_t mac[6],
			  char **err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	for (;;) {
		rc = recv_datagram(nl, &buf, &len, err);
		if (rc <= 0)
			return rc;
		rc = xen_vf_nl_parse_vf_mac(buf, len, nl->seq, vf, mac, err);
		free(buf);
		if (rc != 0)
			return rc;
	}
}
