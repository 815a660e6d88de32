/*
 * Link operations of the sim's VFs, made by the thread that runs them
 * (thread_job.c): the thread enters the namespace it works in with setns()
 * -- a thread's network namespace is its own and dies with it -- and talks
 * to the kernel directly: rtnetlink to create and delete a macvlan, ioctls
 * to rename it and take it down.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_rtnl.h"

#define MSG_MAX 512

struct nl_msg {
	union {
		struct nlmsghdr h;
		char buf[MSG_MAX];
	};
};

static int fail(char *err, size_t size, int e, const char *fmt, const char *arg)
{
	char what[128];

	snprintf(what, sizeof(what), fmt, arg);
	snprintf(err, size, "%s: %s", what, strerror(e));
	errno = e;
	return -1;
}

int sim_rtnl_enter(const char *ns_path, char *err, size_t size)
{
	int fd = open(ns_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(err, size, errno, "open %s", ns_path);
	if (setns(fd, CLONE_NEWNET) < 0) {
		int e = errno;

		close(fd);
		return fail(err, size, e, "setns %s", ns_path);
	}
	close(fd);
	return 0;
}

static struct rtattr *attr_put(struct nl_msg *m, unsigned short type,
			       const void *data, size_t len)
{
	struct rtattr *a =
	    (struct rtattr *)(m->buf + NLMSG_ALIGN(m->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void attr_end(struct nl_msg *m, struct rtattr *nest)
{
	nest->rta_len =
	    (unsigned short)(m->buf + m->h.nlmsg_len - (char *)nest);
}

static void link_msg_init(struct nl_msg *m, unsigned short type,
			  unsigned short flags)
{
	struct ifinfomsg *ifi;

	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	m->h.nlmsg_seq = 1;
	ifi = NLMSG_DATA(&m->h);
	ifi->ifi_family = AF_UNSPEC;
}

/* Sends m on a fresh NETLINK_ROUTE socket of the current namespace and
 * returns the kernel's answer: 0 or -errno. */
static int rtnl_talk(struct nl_msg *m)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nl_msg ack;
	struct nlmsgerr *e;
	ssize_t n;
	int sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int ret;

	if (sk < 0)
		return -errno;
	if (sendto(sk, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		ret = -errno;
		goto out;
	}
	do
		n = recv(sk, ack.buf, sizeof(ack.buf), 0);
	while (n < 0 && errno == EINTR);
	/* The kernel may append the request; MSG_TRUNC cuts only that. */
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*e)) ||
	    ack.h.nlmsg_type != NLMSG_ERROR) {
		ret = n < 0 ? -errno : -EPROTO;
		goto out;
	}
	e = NLMSG_DATA(&ack.h);
	ret = e->error;
out:
	close(sk);
	return ret;
}

int sim_rtnl_macvlan_add(const char *name, const char *lower,
			 const uint8_t mac[6], unsigned mtu,
			 const char *target_ns_path, char *err, size_t size)
{
	struct nl_msg m;
	struct rtattr *info, *data;
	unsigned lower_index = if_nametoindex(lower);
	unsigned mode = MACVLAN_MODE_BRIDGE;
	int ns_fd, ret;

	if (lower_index == 0)
		return fail(err, size, errno, "the PF %s", lower);
	ns_fd = open(target_ns_path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return fail(err, size, errno, "open %s", target_ns_path);
	link_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	attr_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
	attr_put(&m, IFLA_LINK, &lower_index, sizeof(lower_index));
	attr_put(&m, IFLA_ADDRESS, mac, 6);
	attr_put(&m, IFLA_MTU, &mtu, sizeof(mtu));
	/* Made where it is used: no move between namespaces, which would
	 * cost a grace period. */
	attr_put(&m, IFLA_NET_NS_FD, &ns_fd, sizeof(ns_fd));
	info = attr_put(&m, IFLA_LINKINFO, NULL, 0);
	attr_put(&m, IFLA_INFO_KIND, "macvlan", sizeof("macvlan"));
	data = attr_put(&m, IFLA_INFO_DATA, NULL, 0);
	attr_put(&m, IFLA_MACVLAN_MODE, &mode, sizeof(mode));
	attr_end(&m, data);
	attr_end(&m, info);
	ret = rtnl_talk(&m);
	close(ns_fd);
	if (ret < 0)
		return fail(err, size, -ret, "creating macvlan %s", name);
	return 0;
}

int sim_rtnl_link_del(const char *name, char *err, size_t size)
{
	struct nl_msg m;
	int ret;

	link_msg_init(&m, RTM_DELLINK, 0);
	attr_put(&m, IFLA_IFNAME, name, strlen(name) + 1);
	ret = rtnl_talk(&m);
	if (ret < 0)
		return fail(err, size, -ret, "deleting %s", name);
	return 0;
}

/* An ioctl socket of the current namespace and an ifreq naming name. */
static int ifr_socket(const char *name, struct ifreq *ifr, char *err,
		      size_t size)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0)
		return fail(err, size, errno, "socket for %s", name);
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	return sk;
}

int sim_rtnl_link_rename(const char *from, const char *to, char *err,
			 size_t size)
{
	struct ifreq ifr;
	int sk = ifr_socket(from, &ifr, err, size);
	int ret = 0;

	if (sk < 0)
		return -1;
	snprintf(ifr.ifr_newname, sizeof(ifr.ifr_newname), "%s", to);
	if (ioctl(sk, SIOCSIFNAME, &ifr) < 0)
		ret = fail(err, size, errno, "renaming %s", from);
	close(sk);
	return ret;
}

int sim_rtnl_link_down(const char *name, char *err, size_t size)
{
	struct ifreq ifr;
	int sk = ifr_socket(name, &ifr, err, size);
	int ret = 0;

	if (sk < 0)
		return -1;
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0) {
		ret = fail(err, size, errno, "flags of %s", name);
	} else if (ifr.ifr_flags & IFF_UP) {
		ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
			ret = fail(err, size, errno, "taking %s down", name);
	}
	close(sk);
	return ret;
}

int sim_rtnl_link_set_mac(const char *name, const uint8_t mac[6], unsigned mtu,
			  char *err, size_t size)
{
	struct ifreq ifr;
	int sk = ifr_socket(name, &ifr, err, size);
	int ret = 0;

	if (sk < 0)
		return -1;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(sk, SIOCSIFHWADDR, &ifr) < 0) {
		ret = fail(err, size, errno, "setting the MAC of %s", name);
	} else {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sk, SIOCSIFMTU, &ifr) < 0)
			ret = fail(err, size, errno, "setting the MTU of %s",
				   name);
	}
	close(sk);
	return ret;
}
