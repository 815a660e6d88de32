/*
 * A VF's MAC, set and read back through its PF over rtnetlink, as
 * `ip link set <pf> vf N mac M` and `ip link show <pf>` do:
 *
 *   set:  RTM_SETLINK  ifinfomsg{ifi_index = PF}
 *           IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_MAC {vf, mac[32]} } }
 *   read: RTM_GETLINK  ifinfomsg{ifi_index = PF}
 *           IFLA_EXT_MASK = RTEXT_FILTER_VF
 *         answered by RTM_NEWLINK carrying the same IFLA_VFINFO_LIST.
 *
 * The builders and parsers are pure (vf_netlink_msg.c, unit-tested); the
 * socket (vf_netlink.c) never blocks, for the daemon's loop: send, wait
 * for the descriptor to be readable, then call the matching recv, which
 * returns 0 while the answer has not come.
 */
#ifndef LIBRETTOD_XEN_VF_NETLINK_H
#define LIBRETTOD_XEN_VF_NETLINK_H

#include <stddef.h>
#include <stdint.h>

/* The sizes of the two requests, for their buffers. */
#define XEN_VF_NL_SET_MAC_SIZE	80
#define XEN_VF_NL_GET_LINK_SIZE 40

/* The RTM_SETLINK that sets VF vf's MAC on the PF pf_ifindex, asking for
 * an ACK.  Its length, or 0 when buf is too small or an argument is out
 * of range. */
size_t xen_vf_nl_build_set_mac(void *buf, size_t size, uint32_t seq,
			       int pf_ifindex, uint32_t vf,
			       const uint8_t mac[6]);

/* The RTM_GETLINK for the PF pf_ifindex with its VFs' information.  Its
 * length, or 0 as above. */
size_t xen_vf_nl_build_get_link(void *buf, size_t size, uint32_t seq,
				int pf_ifindex);

/* What the kernel answered to a request sent with NLM_F_ACK. */
struct xen_vf_nl_ack {
	int error;	   /* 0, or the kernel's -errno */
	char message[128]; /* the kernel's extended-ACK text, "" if none */
};

/* "<what>: <strerror>[: <kernel's message>]" for a failed ack, allocated. */
char *xen_vf_nl_ack_error(const char *what, const struct xen_vf_nl_ack *ack);

/* Looks in one received datagram for the NLMSG_ERROR answering seq.
 * 1: found, *ack filled; 0: not in this datagram; -1 malformed, *err. */
int xen_vf_nl_parse_ack(const void *buf, size_t len, uint32_t seq,
			struct xen_vf_nl_ack *ack, char **err);

/* Looks in one received datagram for the answer to the RTM_GETLINK seq
 * and VF vf's MAC in it.  1: found, mac filled; 0: not in this datagram;
 * -1 with *err: the kernel's error, a PF with no such VF, or a malformed
 * message. */
int xen_vf_nl_parse_vf_mac(const void *buf, size_t len, uint32_t seq,
			   uint32_t vf, uint8_t mac[6], char **err);

/* A NETLINK_ROUTE socket with one request in flight at a time. */
struct xen_vf_nl {
	int fd;	      /* non-blocking; wait for it to be readable */
	uint32_t seq; /* of the request in flight */
};

/* Opens the socket, non-blocking, with extended ACKs where the kernel
 * has them.  -1 with *err. */
int xen_vf_nl_open(struct xen_vf_nl *nl, char **err);

/* Closes it; a closed or never opened one (fd -1) is fine. */
void xen_vf_nl_close(struct xen_vf_nl *nl);

/* Sends the request to set VF vf's MAC; then xen_vf_nl_recv_ack. */
int xen_vf_nl_send_set_mac(struct xen_vf_nl *nl, int pf_ifindex, uint32_t vf,
			   const uint8_t mac[6], char **err);

/* Reads what the socket holds.  1: the request succeeded; 0: no answer
 * yet, wait for readable again; -1 with *err: it failed (the kernel's
 * errno and message) or the socket did. */
int xen_vf_nl_recv_ack(struct xen_vf_nl *nl, char **err);

/* Sends the request for the PF's VF information; then
 * xen_vf_nl_recv_vf_mac. */
int xen_vf_nl_send_get_link(struct xen_vf_nl *nl, int pf_ifindex, char **err);

/* Reads what the socket holds.  1: mac is VF vf's MAC; 0: no answer yet;
 * -1 with *err. */
int xen_vf_nl_recv_vf_mac(struct xen_vf_nl *nl, uint32_t vf, uint8_t mac[6],
			  char **err);

#endif
