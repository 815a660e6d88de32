/*
 * Links, addresses, routes and sysctls of the namespace the agent runs in.
 * Plain ioctls: they act on the caller's namespace, need no library and no
 * `ip` binary (which a guest image may not carry), and IPv4 with one
 * address and one default route is all a domain needs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

static int ctl_socket(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return s < 0 ? -errno : s;
}

/* A control socket and an ifreq naming ifname, or -errno. */
static int ifr_socket(const char *ifname, struct ifreq *ifr)
{
	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	memset(ifr, 0, sizeof(*ifr));
	strcpy(ifr->ifr_name, ifname);
	return ctl_socket();
}

static int ioc(int s, unsigned long req, void *arg)
{
	return ioctl(s, req, arg) < 0 ? -errno : 0;
}

int netcfg_link(const char *ifname, const uint8_t *mac, int mtu, bool up)
{
	struct ifreq ifr;
	int s, r = 0;

	s = ifr_socket(ifname, &ifr);
	if (s < 0)
		return s;
	if (mac != NULL) {
		ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
		r = ioc(s, SIOCSIFHWADDR, &ifr);
	}
	if (r == 0 && mtu > 0) {
		ifr.ifr_mtu = mtu;
		r = ioc(s, SIOCSIFMTU, &ifr);
	}
	if (r == 0 && up) {
		r = ioc(s, SIOCGIFFLAGS, &ifr);
		if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			r = ioc(s, SIOCSIFFLAGS, &ifr);
		}
	}
	close(s);
	return r;
}

int netcfg_link_down(const char *ifname)
{
	struct ifreq ifr;
	int s, r;

	s = ifr_socket(ifname, &ifr);
	if (s < 0)
		return s;
	r = ioc(s, SIOCGIFFLAGS, &ifr);
	if (r == 0 && (ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags &= ~IFF_UP;
		r = ioc(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return r;
}

int netcfg_rename(const char *ifname, const char *newname)
{
	struct ifreq ifr;
	int s, r;

	if (strlen(newname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	s = ifr_socket(ifname, &ifr);
	if (s < 0)
		return s;
	strcpy(ifr.ifr_newname, newname);
	r = ioc(s, SIOCSIFNAME, &ifr);
	close(s);
	return r;
}

int netcfg_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int s, r;

	s = ifr_socket(ifname, &ifr);
	if (s < 0)
		return s;
	r = ioc(s, SIOCGIFHWADDR, &ifr);
	if (r == 0 && ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		r = -EAFNOSUPPORT;
	if (r == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	return r;
}

static void set_sin(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	sin.sin_addr.s_addr = a;
	memcpy(sa, &sin, sizeof(sin));
}

int netcfg_addr(const char *ifname, struct in_addr ip, unsigned prefix)
{
	struct ifreq ifr;
	in_addr_t mask;
	int s, r;

	if (strlen(ifname) >= IFNAMSIZ || prefix == 0 || prefix > 32)
		return -EINVAL;
	mask = htonl(~0u << (32 - prefix));
	s = ctl_socket();
	if (s < 0)
		return s;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	set_sin(&ifr.ifr_addr, ip.s_addr);
	r = ioc(s, SIOCSIFADDR, &ifr);
	/* SIOCSIFADDR gives the classful mask; the real one replaces it, and
	 * with it the on-link prefix route. */
	if (r == 0) {
		set_sin(&ifr.ifr_netmask, mask);
		r = ioc(s, SIOCSIFNETMASK, &ifr);
	}
	close(s);
	return r;
}

int netcfg_default_route(struct in_addr gw)
{
	struct rtentry rt;
	int s, r;

	s = ctl_socket();
	if (s < 0)
		return s;
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, INADDR_ANY);
	set_sin(&rt.rt_genmask, INADDR_ANY);
	set_sin(&rt.rt_gateway, gw.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	r = ioc(s, SIOCADDRT, &rt);
	close(s);
	/* Already there (a restarted agent in the same namespace). */
	return r == -EEXIST ? 0 : r;
}

int netcfg_format_port_range(char *buf, size_t size, unsigned lo, unsigned hi)
{
	int n;

	if (lo == 0 || lo >= hi || hi > 65535)
		return -1;
	n = snprintf(buf, size, "%u %u\n", lo, hi);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int netcfg_port_range(unsigned lo, unsigned hi)
{
	/* /proc/sys/net is per network namespace: the one of the process
	 * that opens it, and the agent runs inside the domain's. */
	static const char path[] = "/proc/sys/net/ipv4/ip_local_port_range";
	char v[32];
	ssize_t n;
	int fd, r = 0;

	if (netcfg_format_port_range(v, sizeof(v), lo, hi) < 0)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, v, strlen(v));
	if (n < 0)
		r = -errno;
	else if ((size_t)n != strlen(v))
		r = -EIO;
	close(fd);
	return r;
}

int netcfg_iface(const char *ifname, const struct agent_net *net, bool set_mac)
{
	char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
	int r;

	inet_ntop(AF_INET, &net->ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &net->gateway, gw, sizeof(gw));
	/* The MAC first: a link's address is set while it is down, before
	 * anything (ARP, IPv6 DAD) went out with the old one. */
	r = netcfg_link(ifname, set_mac ? net->mac : NULL, AGENT_MTU, false);
	if (r < 0) {
		agent_log("%s: cannot set %sMTU %d: %s\n", ifname,
			  set_mac ? "MAC and " : "", AGENT_MTU, strerror(-r));
		return -1;
	}
	r = netcfg_link(ifname, NULL, 0, true);
	if (r < 0) {
		agent_log("%s: cannot bring it up: %s\n", ifname, strerror(-r));
		return -1;
	}
	r = netcfg_addr(ifname, net->ip, net->prefix);
	if (r < 0) {
		agent_log("%s: cannot add %s/%u: %s\n", ifname, ip, net->prefix,
			  strerror(-r));
		return -1;
	}
	/* After the address: the gateway must be on-link by then. */
	r = netcfg_default_route(net->gateway);
	if (r < 0) {
		agent_log("cannot add the default route via %s: %s\n", gw,
			  strerror(-r));
		return -1;
	}
	agent_log("%s: %s/%u via %s, MTU %d\n", ifname, ip, net->prefix, gw,
		  AGENT_MTU);
	return 0;
}
