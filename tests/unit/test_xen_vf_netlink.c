/*
 * The VF pool's rtnetlink messages: the built requests read back with the
 * kernel's own macros (NLMSG_*, RTA_*), the parsers fed hand-built
 * answers, every truncation of them, and the non-blocking socket against
 * the running kernel on requests that cannot change anything (an ifindex
 * that does not exist, lo, which has no VFs).
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "vf_netlink.h"

static const uint8_t mac0[6] = {0x02, 0x00, 0xab, 0xcd, 0xef, 0x09};

/* Aligned for the kernel's macros, which cast to their structs. */
union msgbuf {
	struct nlmsghdr h;
	uint8_t bytes[4096];
};

static void check_aligned(const void *base, const void *p)
{
	CHECK(((const uint8_t *)p - (const uint8_t *)base) % 4 == 0);
}

static void test_build_set_mac(void)
{
	union msgbuf m;
	struct ifinfomsg *ifi;
	struct rtattr *list, *info, *attr;
	struct ifla_vf_mac ivm;
	int left, nlist = 0;
	size_t len;

	memset(&m, 0xa5, sizeof(m)); /* padding must come out zero */
	len = xen_vf_nl_build_set_mac(&m, sizeof(m), 77, 6, 3, mac0);
	CHECK(len == XEN_VF_NL_SET_MAC_SIZE);
	CHECK(len == 80);
	CHECK(m.h.nlmsg_len == len);
	CHECK(m.h.nlmsg_len >= NLMSG_HDRLEN);
	CHECK(m.h.nlmsg_type == RTM_SETLINK);
	CHECK(m.h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
	CHECK(m.h.nlmsg_seq == 77);
	CHECK(m.h.nlmsg_pid == 0);

	ifi = NLMSG_DATA(&m.h);
	CHECK(ifi->ifi_family == AF_UNSPEC);
	CHECK(ifi->__ifi_pad == 0);
	CHECK(ifi->ifi_type == 0);
	CHECK(ifi->ifi_index == 6);
	CHECK(ifi->ifi_flags == 0);
	CHECK(ifi->ifi_change == 0); /* no flag changes with it */

	/* one IFLA_VFINFO_LIST, filling the message to its end */
	list = IFLA_RTA(ifi);
	CHECK((uint8_t *)list - m.bytes == 32);
	left = (int)IFLA_PAYLOAD(&m.h);
	CHECK(left == 48);
	for (attr = list; RTA_OK(attr, left); attr = RTA_NEXT(attr, left)) {
		check_aligned(m.bytes, attr);
		CHECK(attr->rta_type == IFLA_VFINFO_LIST); /* no flag bits */
		nlist++;
	}
	CHECK(nlist == 1 && left == 0);
	CHECK(list->rta_len == 48);

	/* holding one IFLA_VF_INFO */
	info = RTA_DATA(list);
	check_aligned(m.bytes, info);
	CHECK(RTA_OK(info, (int)RTA_PAYLOAD(list)));
	CHECK(info->rta_type == IFLA_VF_INFO);
	CHECK(info->rta_len == RTA_PAYLOAD(list));
	CHECK(info->rta_len == 44);

	/* holding one IFLA_VF_MAC with the whole struct ifla_vf_mac */
	attr = RTA_DATA(info);
	check_aligned(m.bytes, attr);
	CHECK(RTA_OK(attr, (int)RTA_PAYLOAD(info)));
	CHECK(attr->rta_type == IFLA_VF_MAC);
	CHECK(attr->rta_len == RTA_LENGTH(sizeof(ivm)));
	CHECK(attr->rta_len == 40);
	CHECK(RTA_ALIGN(attr->rta_len) == RTA_PAYLOAD(info));
	CHECK((uint8_t *)attr + attr->rta_len == m.bytes + len);
	memcpy(&ivm, RTA_DATA(attr), sizeof(ivm));
	CHECK(ivm.vf == 3);
	CHECK(memcmp(ivm.mac, mac0, 6) == 0);
	for (size_t i = 6; i < sizeof(ivm.mac); i++)
		CHECK(ivm.mac[i] == 0);

	/* refusals */
	CHECK(xen_vf_nl_build_set_mac(&m, len - 1, 1, 6, 3, mac0) == 0);
	CHECK(xen_vf_nl_build_set_mac(&m, sizeof(m), 1, 0, 3, mac0) == 0);
	CHECK(xen_vf_nl_build_set_mac(&m, sizeof(m), 1, -2, 3, mac0) == 0);
	CHECK(xen_vf_nl_build_set_mac(&m, sizeof(m), 1, 6, INT_MAX, mac0) == 0);
	CHECK(xen_vf_nl_build_set_mac(&m, sizeof(m), 1, 6, INT_MAX - 1, mac0) ==
	      len);
}

static void test_build_get_link(void)
{
	union msgbuf m;
	struct ifinfomsg *ifi;
	struct rtattr *attr;
	uint32_t mask;
	size_t len;

	memset(&m, 0xa5, sizeof(m));
	len = xen_vf_nl_build_get_link(&m, sizeof(m), 9, 6);
	CHECK(len == XEN_VF_NL_GET_LINK_SIZE);
	CHECK(len == 40);
	CHECK(m.h.nlmsg_len == len);
	CHECK(m.h.nlmsg_type == RTM_GETLINK);
	CHECK(m.h.nlmsg_flags == NLM_F_REQUEST); /* one link, no dump */
	CHECK(m.h.nlmsg_seq == 9);
	ifi = NLMSG_DATA(&m.h);
	CHECK(ifi->ifi_family == AF_UNSPEC && ifi->ifi_index == 6);
	CHECK(ifi->ifi_flags == 0 && ifi->ifi_change == 0);
	attr = IFLA_RTA(ifi);
	CHECK(IFLA_PAYLOAD(&m.h) == 8);
	CHECK(RTA_OK(attr, (int)IFLA_PAYLOAD(&m.h)));
	CHECK(attr->rta_type == IFLA_EXT_MASK);
	CHECK(attr->rta_len == RTA_LENGTH(sizeof(mask)));
	memcpy(&mask, RTA_DATA(attr), sizeof(mask));
	CHECK(mask == RTEXT_FILTER_VF);

	CHECK(xen_vf_nl_build_get_link(&m, len - 1, 9, 6) == 0);
	CHECK(xen_vf_nl_build_get_link(&m, sizeof(m), 9, 0) == 0);
}

/*
 * A hand-made message writer, independent of the code under test.
 */
struct writer {
	union msgbuf m;
	size_t len;
};

static void w_bytes(struct writer *w, const void *data, size_t len)
{
	memcpy(w->m.bytes + w->len, data, len);
	w->len += len;
	while (w->len % 4) /* NLMSG_ALIGNTO and RTA_ALIGNTO are 4 */
		w->m.bytes[w->len++] = 0;
}

static size_t w_msg(struct writer *w, uint16_t type, uint16_t flags,
		    uint32_t seq)
{
	struct nlmsghdr h = {
	    .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq};
	size_t start = w->len;

	w_bytes(w, &h, sizeof(h));
	return start;
}

static void w_msg_end(struct writer *w, size_t start)
{
	uint32_t len = (uint32_t)(w->len - start);

	memcpy(w->m.bytes + start, &len, sizeof(len));
}

static size_t w_nest(struct writer *w, uint16_t type)
{
	struct rtattr a = {.rta_type = type};
	size_t start = w->len;

	w_bytes(w, &a, sizeof(a));
	return start;
}

static void w_nest_end(struct writer *w, size_t start)
{
	unsigned short len = (unsigned short)(w->len - start);

	memcpy(w->m.bytes + start, &len, sizeof(len));
}

static void w_attr(struct writer *w, uint16_t type, const void *data,
		   size_t len)
{
	struct rtattr a = {.rta_len = (unsigned short)RTA_LENGTH(len),
			   .rta_type = type};

	memcpy(w->m.bytes + w->len, &a, sizeof(a));
	w->len += sizeof(a);
	w_bytes(w, data, len);
}

static void vf_mac(uint32_t vf, uint8_t mac[6])
{
	memcpy(mac, mac0, 6);
	mac[5] = (uint8_t)(0x10 + vf);
}

/* What the kernel answers to RTM_GETLINK with RTEXT_FILTER_VF for a PF
 * with nvfs VFs (the parts that matter, and others to skip). */
static void w_newlink(struct writer *w, uint32_t seq, unsigned nvfs,
		      bool with_list)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 6};
	uint32_t mtu = 1500, num = nvfs;
	uint64_t packets = 12345;
	size_t msg, list, info, stats;

	msg = w_msg(w, RTM_NEWLINK, 0, seq);
	w_bytes(w, &ifi, sizeof(ifi));
	w_attr(w, IFLA_IFNAME, "enp3s0f0", 9); /* 4 + 9, padded to 16 */
	w_attr(w, IFLA_NUM_VF, &num, sizeof(num));
	if (with_list) {
		list = w_nest(w, IFLA_VFINFO_LIST);
		for (uint32_t vf = 0; vf < nvfs; vf++) {
			struct ifla_vf_mac ivm = {.vf = vf};
			struct ifla_vf_vlan ivv = {.vf = vf};

			vf_mac(vf, ivm.mac);
			/* the kernel's nests carry no NLA_F_NESTED; one
			 * with it must parse the same */
			info = w_nest(w, IFLA_VF_INFO |
					     (vf == 1 ? NLA_F_NESTED : 0));
			w_attr(w, IFLA_VF_VLAN, &ivv, sizeof(ivv));
			w_attr(w, IFLA_VF_MAC, &ivm, sizeof(ivm));
			stats = w_nest(w, IFLA_VF_STATS);
			w_attr(w, IFLA_VF_STATS_RX_PACKETS, &packets,
			       sizeof(packets));
			w_nest_end(w, stats);
			w_nest_end(w, info);
		}
		w_nest_end(w, list);
	}
	w_attr(w, IFLA_MTU, &mtu, sizeof(mtu));
	w_msg_end(w, msg);
}

/* An NLMSG_ERROR for seq answering an RTM_SETLINK, capped or echoing
 * the request, with the kernel's text when text is not NULL. */
static void w_error(struct writer *w, uint32_t seq, int error, bool capped,
		    const char *text)
{
	struct nlmsgerr e = {.error = error};
	uint8_t echo[XEN_VF_NL_SET_MAC_SIZE];
	uint16_t flags = 0;
	size_t msg;

	if (capped)
		flags |= NLM_F_CAPPED;
	if (text)
		flags |= NLM_F_ACK_TLVS;
	xen_vf_nl_build_set_mac(echo, sizeof(echo), seq, 6, 0, mac0);
	/* the request's header, with its length even when capped */
	memcpy(&e.msg, echo, sizeof(e.msg));
	msg = w_msg(w, NLMSG_ERROR, flags, seq);
	w_bytes(w, &e, sizeof(e));
	if (!capped)
		w_bytes(w, echo + NLMSG_HDRLEN, sizeof(echo) - NLMSG_HDRLEN);
	if (text) {
		uint32_t offs = 32;

		/* the kernel puts its attributes in no set order */
		w_attr(w, NLMSGERR_ATTR_OFFS, &offs, sizeof(offs));
		w_attr(w, NLMSGERR_ATTR_MSG, text, strlen(text) + 1);
	}
	w_msg_end(w, msg);
}

/* A nest longer than what holds it fails cleanly too: VF 0's
 * IFLA_VF_INFO, after the ifinfomsg, IFNAME (16), NUM_VF (8) and the
 * list's header (4). */
static void check_bad_nest(struct writer *w)
{
	const size_t info = NLMSG_LENGTH(sizeof(struct ifinfomsg)) + 16 + 8 + 4;
	unsigned short bad = 0x7ff0, saved;
	uint8_t mac[6];
	char *err = NULL;
	int rc;

	memcpy(&saved, w->m.bytes + info, sizeof(saved));
	CHECK(saved > 0 && saved < 200);
	memcpy(w->m.bytes + info, &bad, sizeof(bad));
	rc = xen_vf_nl_parse_vf_mac(&w->m, w->len, 9, 0, mac, &err);
	CHECK(rc == -1 && err && strstr(err, "malformed RTM_NEWLINK"));
	free(err), err = NULL;
	memcpy(w->m.bytes + info, &saved, sizeof(saved));
	CHECK(xen_vf_nl_parse_vf_mac(&w->m, w->len, 9, 0, mac, &err) == 1);
}

static void test_parse_vf_mac(void)
{
	static struct writer w;
	uint8_t mac[6], want[6];
	char *err = NULL;
	int rc, ones = 0;

	w.len = 0;
	w_newlink(&w, 9, 4, true);
	for (uint32_t vf = 0; vf < 4; vf++) {
		memset(mac, 0, sizeof(mac));
		vf_mac(vf, want);
		CHECK(xen_vf_nl_parse_vf_mac(&w.m, w.len, 9, vf, mac, &err) ==
		      1);
		CHECK(memcmp(mac, want, 6) == 0);
		CHECK(err == NULL);
	}
	/* an answer to another request is not ours */
	CHECK(xen_vf_nl_parse_vf_mac(&w.m, w.len, 10, 0, mac, &err) == 0);
	CHECK(xen_vf_nl_parse_vf_mac(&w.m, 0, 9, 0, mac, &err) == 0);

	rc = xen_vf_nl_parse_vf_mac(&w.m, w.len, 9, 4, mac, &err);
	CHECK(rc == -1 && err && strstr(err, "no VF 4 (it lists 4)"));
	printf("  error: %s\n", err);
	free(err), err = NULL;

	/* every truncation fails cleanly, never reads past the end */
	for (size_t cut = 0; cut < w.len; cut++) {
		rc = xen_vf_nl_parse_vf_mac(&w.m, cut, 9, 3, mac, &err);
		CHECK(rc == (cut == 0 ? 0 : -1));
		CHECK((rc == -1) == (err != NULL));
		free(err), err = NULL;
	}
	check_bad_nest(&w);

	/* a device with no VF list */
	w.len = 0;
	w_newlink(&w, 9, 0, false);
	rc = xen_vf_nl_parse_vf_mac(&w.m, w.len, 9, 0, mac, &err);
	CHECK(rc == -1 && err && strstr(err, "lists no VFs"));
	printf("  error: %s\n", err);
	free(err), err = NULL;

	/* the kernel's refusal */
	w.len = 0;
	w_error(&w, 9, -ENODEV, true, NULL);
	rc = xen_vf_nl_parse_vf_mac(&w.m, w.len, 9, 0, mac, &err);
	CHECK(rc == -1 && err && strstr(err, strerror(ENODEV)));
	free(err), err = NULL;

	/* two messages in one datagram: someone else's, then ours */
	w.len = 0;
	w_newlink(&w, 8, 2, true);
	w_newlink(&w, 9, 4, true);
	for (uint32_t vf = 0; vf < 4; vf++) {
		vf_mac(vf, want);
		rc = xen_vf_nl_parse_vf_mac(&w.m, w.len, 9, vf, mac, &err);
		ones += rc == 1 && memcmp(mac, want, 6) == 0;
	}
	CHECK(ones == 4);
}

static void test_parse_ack(void)
{
	static struct writer w;
	struct xen_vf_nl_ack ack;
	char *err = NULL, *text;

	/* success: error 0, capped, no text */
	w.len = 0;
	w_error(&w, 5, 0, true, NULL);
	memset(&ack, 0x5a, sizeof(ack));
	CHECK(xen_vf_nl_parse_ack(&w.m, w.len, 5, &ack, &err) == 1);
	CHECK(ack.error == 0 && ack.message[0] == '\0');
	CHECK(xen_vf_nl_parse_ack(&w.m, w.len, 6, &ack, &err) == 0);

	/* a failure with the kernel's text after a capped request */
	w.len = 0;
	w_error(&w, 5, -EOPNOTSUPP, true, "VF MAC not supported\n");
	CHECK(xen_vf_nl_parse_ack(&w.m, w.len, 5, &ack, &err) == 1);
	CHECK(ack.error == -EOPNOTSUPP);
	CHECK(strcmp(ack.message, "VF MAC not supported") == 0);
	text = xen_vf_nl_ack_error("RTM_SETLINK", &ack);
	CHECK(text && strstr(text, strerror(EOPNOTSUPP)) &&
	      strstr(text, ": VF MAC not supported"));
	printf("  error: %s\n", text);
	free(text);

	/* the same after the whole request echoed back */
	w.len = 0;
	w_error(&w, 5, -EINVAL, false, "bad vf");
	CHECK(xen_vf_nl_parse_ack(&w.m, w.len, 5, &ack, &err) == 1);
	CHECK(ack.error == -EINVAL && strcmp(ack.message, "bad vf") == 0);

	/* echoed, no text */
	w.len = 0;
	w_error(&w, 5, -EPERM, false, NULL);
	CHECK(xen_vf_nl_parse_ack(&w.m, w.len, 5, &ack, &err) == 1);
	CHECK(ack.error == -EPERM && ack.message[0] == '\0');

	/* a wild error value still makes a message */
	ack.error = INT_MIN;
	text = xen_vf_nl_ack_error("x", &ack);
	CHECK(text && strstr(text, strerror(EPROTO)));
	free(text);

	/* behind an answer to another request */
	w.len = 0;
	w_error(&w, 4, -EBUSY, true, NULL);
	w_error(&w, 5, 0, true, NULL);
	CHECK(xen_vf_nl_parse_ack(&w.m, w.len, 5, &ack, &err) == 1);
	CHECK(ack.error == 0);

	/* truncated */
	w.len = 0;
	w_error(&w, 5, -EINVAL, false, "bad vf");
	for (size_t cut = 1; cut < w.len; cut++) {
		CHECK(xen_vf_nl_parse_ack(&w.m, cut, 5, &ack, &err) == -1);
		CHECK(err != NULL);
		free(err), err = NULL;
	}
}

/* Waits for the socket, as the daemon's loop would. */
static int wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 5000) == 1 && (p.revents & POLLIN);
}

static void test_socket(void)
{
	struct xen_vf_nl nl = {.fd = -1};
	uint8_t mac[6];
	char *err = NULL;
	int rc;

	if (xen_vf_nl_open(&nl, &err) < 0) {
		printf("  rtnetlink unavailable here, socket part skipped: "
		       "%s\n",
		       err);
		free(err);
		return;
	}
	CHECK(nl.fd >= 0);
	/* nothing sent, nothing to read: no wait */
	CHECK(xen_vf_nl_recv_ack(&nl, &err) == 0);
	CHECK(err == NULL);

	/* an ifindex no device has: refused, whatever our privileges */
	CHECK(xen_vf_nl_send_set_mac(&nl, 0x7ffffff0, 0, mac0, &err) == 0);
	CHECK(wait_readable(nl.fd));
	rc = xen_vf_nl_recv_ack(&nl, &err);
	CHECK(rc == -1 && err &&
	      (strstr(err, strerror(ENODEV)) || strstr(err, strerror(EPERM))));
	printf("  kernel: %s\n", err ? err : "(none)");
	free(err), err = NULL;
	CHECK(xen_vf_nl_recv_ack(&nl, &err) == 0); /* drained */

	/* lo has no VFs to list */
	CHECK(xen_vf_nl_send_get_link(&nl, 1, &err) == 0);
	CHECK(wait_readable(nl.fd));
	rc = xen_vf_nl_recv_vf_mac(&nl, 0, mac, &err);
	CHECK(rc == -1 && err && strstr(err, "lists no VFs"));
	printf("  kernel: %s\n", err ? err : "(none)");
	free(err), err = NULL;

	rc = xen_vf_nl_send_set_mac(&nl, 0, 0, mac0, &err);
	CHECK(rc == -1 && err && strstr(err, "out of range"));
	free(err), err = NULL;

	xen_vf_nl_close(&nl);
	CHECK(nl.fd == -1);
	xen_vf_nl_close(&nl);
}

int main(void)
{
	test_build_set_mac();
	test_build_get_link();
	test_parse_vf_mac();
	test_parse_ack();
	test_socket();
	return check_summary("test_xen_vf_netlink");
}
