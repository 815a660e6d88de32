/*
 * The agent's pure parts (guests/agent): parsing what librettod writes,
 * the sysctl's text, the sock_diag dump parser behind the port claims and
 * the RTM_GETLINK parser behind the link counters (fed crafted netlink
 * messages, so no namespace or root is needed), and the switch's
 * decisions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <string.h>

#include "agent.h"
#include "check.h"

static void test_conf(void)
{
	uint8_t mac[6];
	unsigned a, b;

	CHECK(conf_parse_mac("02:00:0a:4d:00:64", mac) == 0);
	CHECK(mac[0] == 2 && mac[3] == 0x4d && mac[5] == 0x64);
	CHECK(conf_parse_mac("02:00:0A:4D:00:FF", mac) == 0 && mac[5] == 0xff);
	CHECK(conf_parse_mac("03:00:0a:4d:00:64", mac) < 0); /* multicast */
	CHECK(conf_parse_mac("02:00:0a:4d:00", mac) < 0);
	CHECK(conf_parse_mac("02:00:0a:4d:00:64:", mac) < 0);
	CHECK(conf_parse_mac("02:00:0a:4d:00:6", mac) < 0);
	CHECK(conf_parse_mac("", mac) < 0);

	CHECK(conf_parse_prefix("24", &a) == 0 && a == 24);
	CHECK(conf_parse_prefix("1", &a) == 0 && a == 1);
	CHECK(conf_parse_prefix("0", &a) < 0);
	CHECK(conf_parse_prefix("32", &a) < 0);
	CHECK(conf_parse_prefix("-1", &a) < 0);
	CHECK(conf_parse_prefix("24x", &a) < 0);
	CHECK(conf_parse_prefix("", &a) < 0);

	CHECK(conf_parse_ephemeral("32768-34815", &a, &b) == 0);
	CHECK(a == 32768 && b == 34815);
	CHECK(conf_parse_ephemeral("1-65535", &a, &b) == 0);
	CHECK(conf_parse_ephemeral("34815-32768", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("5000-5000", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("0-100", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("1-65536", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("32768", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("-32768", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("32768-", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("32768--40000", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("32768 -40000", &a, &b) < 0);
	CHECK(conf_parse_ephemeral("99999999-1", &a, &b) < 0);

	CHECK(conf_parse_domid("1", &a) == 0 && a == 1);
	CHECK(conf_parse_domid("32751", &a) == 0);
	CHECK(conf_parse_domid("32752", &a) < 0); /* DOMID_FIRST_RESERVED */
	CHECK(conf_parse_domid("+1", &a) < 0);
	CHECK(conf_parse_domid("", &a) < 0);
	/* net/backend: a domid, never our own */
	CHECK(conf_parse_backend("12", 5, &a) == 0 && a == 12);
	CHECK(conf_parse_backend("0", 5, &a) == 0 && a == 0);
	CHECK(conf_parse_backend("5", 5, &a) < 0);
	CHECK(conf_parse_backend("12 ", 5, &a) < 0);
	CHECK(conf_parse_backend("", 5, &a) < 0);
}

static void test_port_range(void)
{
	char buf[32];

	CHECK(netcfg_format_port_range(buf, sizeof(buf), 32768, 34815) == 0);
	CHECK(strcmp(buf, "32768 34815\n") == 0);
	CHECK(netcfg_format_port_range(buf, sizeof(buf), 1, 65535) == 0);
	CHECK(strcmp(buf, "1 65535\n") == 0);
	CHECK(netcfg_format_port_range(buf, sizeof(buf), 0, 10) < 0);
	CHECK(netcfg_format_port_range(buf, sizeof(buf), 10, 10) < 0);
	CHECK(netcfg_format_port_range(buf, sizeof(buf), 10, 65536) < 0);
	CHECK(netcfg_format_port_range(buf, 8, 32768, 34815) < 0); /* cut */
}

/* A dump under construction. */
struct dump {
	uint64_t words[4096 / 8];
	size_t len;
};

static struct inet_diag_msg *add_msg(struct dump *d, uint16_t type)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((uint8_t *)d->words + d->len);
	size_t sz = NLMSG_LENGTH(sizeof(struct inet_diag_msg));

	memset(h, 0, NLMSG_ALIGN(sz));
	h->nlmsg_len = (uint32_t)sz;
	h->nlmsg_type = type;
	d->len += NLMSG_ALIGN(sz);
	return NLMSG_DATA(h);
}

static void add_sock(struct dump *d, int family, const char *addr,
		     unsigned sport, unsigned dport, uint8_t state)
{
	struct inet_diag_msg *m = add_msg(d, SOCK_DIAG_BY_FAMILY);

	m->idiag_family = (uint8_t)family;
	m->idiag_state = state;
	m->id.idiag_sport = htons((uint16_t)sport);
	m->id.idiag_dport = htons((uint16_t)dport);
	inet_pton(family, addr, m->id.idiag_src);
}

static void add_done(struct dump *d)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((uint8_t *)d->words + d->len);

	memset(h, 0, NLMSG_HDRLEN + 4);
	h->nlmsg_len = NLMSG_LENGTH(4);
	h->nlmsg_type = NLMSG_DONE;
	d->len += NLMSG_ALIGN(h->nlmsg_len);
}

static void test_ports_parse(void)
{
	static struct dump d;
	static uint64_t set[PORTS_WORDS];
	static struct port_set cur, foreign;
	struct nlmsghdr *h;
	struct nlmsgerr *e;

	/* TCP: listeners count, loopback ones and other states do not. */
	memset(&d, 0, sizeof(d));
	add_sock(&d, AF_INET, "0.0.0.0", 80, 0, 10);
	add_sock(&d, AF_INET, "10.77.0.2", 443, 0, 10);
	add_sock(&d, AF_INET6, "::", 8080, 0, 10);
	add_sock(&d, AF_INET, "127.0.0.1", 6379, 0, 10);
	add_sock(&d, AF_INET6, "::1", 11211, 0, 10);
	add_sock(&d, AF_INET6, "::ffff:127.0.0.53", 53, 0, 10);
	add_sock(&d, AF_INET, "10.77.0.2", 40000, 80, 1); /* established */
	memset(set, 0, sizeof(set));
	CHECK(ports_parse_diag(d.words, d.len, false, set) == 0);
	CHECK(port_set_has(set, 80) && port_set_has(set, 443));
	CHECK(port_set_has(set, 8080));
	CHECK(!port_set_has(set, 6379) && !port_set_has(set, 11211));
	CHECK(!port_set_has(set, 53) && !port_set_has(set, 40000));
	add_done(&d);
	CHECK(ports_parse_diag(d.words, d.len, false, set) == 1);

	/* UDP: bound and unconnected counts; connected does not. */
	memset(&d, 0, sizeof(d));
	add_sock(&d, AF_INET, "0.0.0.0", 5353, 0, 7);
	add_sock(&d, AF_INET6, "::", 11211, 0, 7);
	add_sock(&d, AF_INET, "10.77.0.2", 41000, 53, 1);
	add_sock(&d, AF_INET, "0.0.0.0", 0, 0, 7); /* unbound */
	add_done(&d);
	memset(set, 0, sizeof(set));
	CHECK(ports_parse_diag(d.words, d.len, true, set) == 1);
	CHECK(port_set_has(set, 5353) && port_set_has(set, 11211));
	CHECK(!port_set_has(set, 41000) && !port_set_has(set, 0));

	/* Port 65535 lands in the last word. */
	memset(&d, 0, sizeof(d));
	add_sock(&d, AF_INET, "0.0.0.0", 65535, 0, 10);
	memset(set, 0, sizeof(set));
	CHECK(ports_parse_diag(d.words, d.len, false, set) == 0);
	CHECK(port_set_has(set, 65535) && set[PORTS_WORDS - 1] >> 63);

	/* A netlink error ends the dump with its errno. */
	memset(&d, 0, sizeof(d));
	h = (struct nlmsghdr *)d.words;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	h->nlmsg_type = NLMSG_ERROR;
	e = NLMSG_DATA(h);
	e->error = -ENOENT;
	d.len = NLMSG_ALIGN(h->nlmsg_len);
	CHECK(ports_parse_diag(d.words, d.len, false, set) == -ENOENT);

	/* Truncated: a short message is skipped, a cut header ends it. */
	memset(&d, 0, sizeof(d));
	add_sock(&d, AF_INET, "0.0.0.0", 1234, 0, 10);
	memset(set, 0, sizeof(set));
	CHECK(ports_parse_diag(d.words, 10, false, set) == 0);
	CHECK(!port_set_has(set, 1234));
	h = (struct nlmsghdr *)d.words;
	h->nlmsg_len = NLMSG_LENGTH(8); /* too short for inet_diag_msg */
	CHECK(ports_parse_diag(d.words, d.len, false, set) == 0);
	CHECK(!port_set_has(set, 1234));

	/* Foreign claims (librettod's) are masked out. */
	memset(&cur, 0, sizeof(cur));
	memset(&foreign, 0, sizeof(foreign));
	port_set_add(cur.tcp, 80);
	port_set_add(cur.tcp, 81);
	port_set_add(cur.udp, 80);
	port_set_add(foreign.tcp, 80);
	ports_mask(&cur, &foreign);
	CHECK(!port_set_has(cur.tcp, 80) && port_set_has(cur.tcp, 81));
	CHECK(port_set_has(cur.udp, 80));
}

/* An RTM_NEWLINK answer with an IFLA_MTU, then (if stats) IFLA_STATS64. */
static size_t link_msg(uint64_t *buf, bool stats)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct rtattr *a;
	struct rtnl_link_stats64 st = {.rx_packets = 7,
				       .rx_bytes = 7000,
				       .tx_packets = 5,
				       .tx_bytes = 1ull << 40,
				       .rx_dropped = 2,
				       .tx_dropped = 1};
	uint32_t mtu = 9000;

	memset(buf, 0, 1024);
	h->nlmsg_type = RTM_NEWLINK;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
	a->rta_type = IFLA_MTU;
	a->rta_len = RTA_LENGTH(sizeof(mtu));
	memcpy(RTA_DATA(a), &mtu, sizeof(mtu));
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	if (stats) {
		a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
		a->rta_type = IFLA_STATS64;
		a->rta_len = RTA_LENGTH(sizeof(st));
		memcpy(RTA_DATA(a), &st, sizeof(st));
		h->nlmsg_len =
		    NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	}
	return h->nlmsg_len;
}

static void test_link_counters(void)
{
	static uint64_t buf[1024 / 8];
	struct link_counters c;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlmsgerr *e;
	size_t n;

	memset(&c, 0, sizeof(c));
	n = link_msg(buf, true);
	CHECK(rtnl_parse_link(buf, n, &c) == 0);
	CHECK(c.rx_packets == 7 && c.rx_bytes == 7000);
	CHECK(c.tx_packets == 5 && c.tx_bytes == 1ull << 40);
	CHECK(c.rx_dropped == 2 && c.tx_dropped == 1);
	CHECK(rtnl_parse_link(buf, n - 8, &c) == -EPROTO); /* cut */
	n = link_msg(buf, false);
	CHECK(rtnl_parse_link(buf, n, &c) == -ENODATA);
	CHECK(rtnl_parse_link(buf, 8, &c) == -EPROTO);

	memset(buf, 0, 64);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	e = NLMSG_DATA(h);
	e->error = -ENODEV;
	CHECK(rtnl_parse_link(buf, h->nlmsg_len, &c) == -ENODEV);
}

static void test_switch(void)
{
	struct agent_net net = {.kind = AGENT_NET_VIF, .mode = "dynamic"};
	struct agent_switch sw = {.net = &net,
				  .can_switch = true,
				  .path = AGENT_PATH_VIF,
				  .last_seq = 3};
	struct switch_req r = {.seq = "4", .target = "direct", .vf = "vf0"};
	unsigned long long seq;
	char why[128];

	CHECK(switch_parse_seq("0", &seq) == 0 && seq == 0);
	CHECK(switch_parse_seq("18446744073709551615", &seq) == 0);
	CHECK(seq == 18446744073709551615ull);
	CHECK(switch_parse_seq("18446744073709551616", &seq) < 0);
	CHECK(switch_parse_seq("", &seq) < 0);
	CHECK(switch_parse_seq("-1", &seq) < 0);
	CHECK(switch_parse_seq("+1", &seq) < 0);
	CHECK(switch_parse_seq(" 1", &seq) < 0);
	CHECK(switch_parse_seq("1 ", &seq) < 0);
	CHECK(switch_parse_seq("0x10", &seq) < 0);

	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) ==
	      SWITCH_TO_DIRECT);
	CHECK(seq == 4);
	/* answered already, absent, or garbage: nothing */
	r.seq = "3";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_IGNORE);
	r.seq = NULL;
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_IGNORE);
	r.seq = "four";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_IGNORE);
	/* a seq below the last is a new request all the same */
	r.seq = "2";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) ==
	      SWITCH_TO_DIRECT);
	r.seq = "5";
	r.target = "server";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_ACK);
	r.target = "sideways";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	CHECK(strstr(why, "sideways") != NULL);
	r.target = NULL;
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	r.target = "direct";
	r.vf = NULL;
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	CHECK(strstr(why, "switch/vf") != NULL);
	r.vf = "../vf0";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	r.vf = "vf 0";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	r.vf = "a-name-far-too-long";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	r.vf = "";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);

	/* on the VF: a repeat is answered, another VF refused, back allowed */
	sw.path = AGENT_PATH_VF;
	strcpy(sw.vf, "vf0");
	r.vf = "vf0";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_ACK);
	r.vf = "vf1";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	r.target = "server";
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) ==
	      SWITCH_TO_SERVER);

	/* only a dynamic app moves */
	sw.can_switch = false;
	strcpy(net.mode, "server");
	CHECK(switch_decide(&sw, &r, &seq, why, sizeof(why)) == SWITCH_REFUSE);
	CHECK(strstr(why, "server app") != NULL);
}

int main(void)
{
	test_conf();
	test_port_range();
	test_ports_parse();
	test_link_counters();
	test_switch();
	return check_summary("agent");
}
