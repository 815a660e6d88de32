/*
 * rtnetlink requests of the switch and the link counters: what netcfg.c's
 * ioctls cannot say.  The ioctls know one IPv4 address per link and no
 * route replacement, and the switch needs the app's address on two links
 * at once (the VF's added before the TAP's is removed), one exact address
 * removed, and the default route moved to another link in one step.  A
 * netlink socket acts on the namespace it was made in, the agent's, as
 * the ioctls do; every request is answered at once by the kernel, so the
 * poll() loop is not held up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

/* A request: its header, its fixed part and room for the few attributes
 * below (three addresses at most, 8 bytes each with their headers). */
struct req {
	struct nlmsghdr h;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rt;
		struct ifinfomsg ifi;
	} u;
	char attrs[64];
};

static void req_init(struct req *r, uint16_t type, uint16_t flags, size_t fixed)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	r->h.nlmsg_seq = 1;
}

static void put_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a =
	    (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len =
	    (uint32_t)(NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len));
}

/* The kernel's answers: an ack (or error) for a change, a link message
 * for RTM_GETLINK.  A link's message with every attribute is a few KiB. */
static uint64_t rbuf[32768 / 8];

/* Sends r and reads the answer into rbuf.  Returns its length, or -errno
 * (the kernel's, for a refused request). */
static ssize_t talk(struct req *r)
{
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	ssize_t n;
	int fd, e;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&nl,
		   sizeof(nl)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	do
		n = recv(fd, rbuf, sizeof(rbuf), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	if ((size_t)n > sizeof(rbuf))
		return -EMSGSIZE;
	return n;
}

/* The error of an ack (0 for success); -EPROTO for anything else. */
static int ack_error(size_t len)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)rbuf;
	const struct nlmsgerr *e;

	if (!NLMSG_OK(h, len) || h->nlmsg_type != NLMSG_ERROR ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EPROTO;
	e = NLMSG_DATA(h);
	return e->error;
}

static int change(struct req *r)
{
	ssize_t n = talk(r);

	return n < 0 ? (int)n : ack_error((size_t)n);
}

int rtnl_addr(int ifindex, struct in_addr ip, unsigned prefix, bool add)
{
	struct req r;
	struct in_addr brd;
	int err;

	if (ifindex <= 0 || prefix == 0 || prefix > 32)
		return -EINVAL;
	/* Replace: an identical address already there is no error, so a
	 * repeated step is harmless. */
	req_init(&r, add ? RTM_NEWADDR : RTM_DELADDR,
		 add ? NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE : NLM_F_ACK,
		 sizeof(r.u.ifa));
	r.u.ifa.ifa_family = AF_INET;
	r.u.ifa.ifa_prefixlen = (uint8_t)prefix;
	r.u.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.u.ifa.ifa_index = (uint32_t)ifindex;
	put_attr(&r, IFA_LOCAL, &ip, sizeof(ip));
	put_attr(&r, IFA_ADDRESS, &ip, sizeof(ip));
	if (add) {
		/* As the ioctls set it at boot (netcfg_addr). */
		brd.s_addr = ip.s_addr | htonl(~(~0u << (32 - prefix)));
		if (prefix == 32)
			brd.s_addr = ip.s_addr;
		put_attr(&r, IFA_BROADCAST, &brd, sizeof(brd));
	}
	err = change(&r);
	/* Gone already is what was asked for. */
	return !add && err == -EADDRNOTAVAIL ? 0 : err;
}

int rtnl_default_route(int ifindex, struct in_addr gw)
{
	uint32_t oif = (uint32_t)ifindex;
	struct req r;

	if (ifindex <= 0)
		return -EINVAL;
	/* Replace, not delete and add: there is a default route at every
	 * instant, and the one netcfg_default_route made at boot (metric 0,
	 * main table) is the one replaced. */
	req_init(&r, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		 sizeof(r.u.rt));
	r.u.rt.rtm_family = AF_INET;
	r.u.rt.rtm_table = RT_TABLE_MAIN;
	r.u.rt.rtm_protocol = RTPROT_BOOT;
	r.u.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	r.u.rt.rtm_type = RTN_UNICAST;
	put_attr(&r, RTA_GATEWAY, &gw, sizeof(gw));
	put_attr(&r, RTA_OIF, &oif, sizeof(oif));
	return change(&r);
}

int rtnl_parse_link(const void *buf, size_t len, struct link_counters *out)
{
	const struct nlmsghdr *h = buf;
	size_t left = len;

	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		const struct ifinfomsg *ifi;
		const struct rtattr *a;
		size_t alen;

		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error < 0 ? e->error : -EPROTO;
		}
		if (h->nlmsg_type != RTM_NEWLINK ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			continue;
		ifi = NLMSG_DATA(h);
		a = IFLA_RTA(ifi);
		alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
		for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			struct rtnl_link_stats64 s;

			if (a->rta_type != IFLA_STATS64 ||
			    RTA_PAYLOAD(a) < sizeof(s))
				continue;
			/* Attributes are 4-aligned only: copy, not cast. */
			memcpy(&s, RTA_DATA(a), sizeof(s));
			out->rx_packets = s.rx_packets;
			out->rx_bytes = s.rx_bytes;
			out->tx_packets = s.tx_packets;
			out->tx_bytes = s.tx_bytes;
			out->rx_dropped = s.rx_dropped;
			out->tx_dropped = s.tx_dropped;
			return 0;
		}
		return -ENODATA;
	}
	return -EPROTO;
}

int rtnl_link_counters(int ifindex, struct link_counters *out)
{
	struct req r;
	ssize_t n;

	if (ifindex <= 0)
		return -EINVAL;
	/* Netlink, not /sys/class/net/<if>/statistics: the agent enters its
	 * namespace with setns() alone, and /sys shows the links of the
	 * namespace that mounted it, not ours. */
	req_init(&r, RTM_GETLINK, 0, sizeof(r.u.ifi));
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = ifindex;
	n = talk(&r);
	return n < 0 ? (int)n : rtnl_parse_link(rbuf, (size_t)n, out);
}
