/*
 * The rtnetlink messages of vf_netlink.h, built and parsed in plain
 * buffers.  Parsing copies every header out with memcpy: a datagram need
 * not be aligned for the structs, and nothing is read past its end.
 */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"
#include "vf_netlink.h"

_Static_assert(XEN_VF_NL_SET_MAC_SIZE ==
		   NLMSG_LENGTH(sizeof(struct ifinfomsg)) + RTA_LENGTH(0) +
		       RTA_LENGTH(0) +
		       RTA_ALIGN(RTA_LENGTH(sizeof(struct ifla_vf_mac))),
	       "XEN_VF_NL_SET_MAC_SIZE");
_Static_assert(XEN_VF_NL_GET_LINK_SIZE ==
		   NLMSG_LENGTH(sizeof(struct ifinfomsg)) +
		       RTA_LENGTH(sizeof(uint32_t)),
	       "XEN_VF_NL_GET_LINK_SIZE");

/* The netlink header and ifinfomsg every request starts with; returns
 * the offset of the first attribute. */
static size_t put_link_header(uint8_t *buf, size_t total, uint16_t type,
			      uint16_t flags, uint32_t seq, int ifindex)
{
	struct nlmsghdr h = {
	    .nlmsg_len = (uint32_t)total,
	    .nlmsg_type = type,
	    .nlmsg_flags = flags,
	    .nlmsg_seq = seq,
	};
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};

	memset(buf, 0, total);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + NLMSG_HDRLEN, &ifi, sizeof(ifi));
	return NLMSG_LENGTH(sizeof(ifi));
}

/* An attribute header of length RTA_LENGTH(payload) at off. */
static void put_attr_header(uint8_t *buf, size_t off, uint16_t type,
			    size_t payload)
{
	struct rtattr a = {.rta_len = (unsigned short)RTA_LENGTH(payload),
			   .rta_type = type};

	memcpy(buf + off, &a, sizeof(a));
}

size_t xen_vf_nl_build_set_mac(void *buf, size_t size, uint32_t seq,
			       int pf_ifindex, uint32_t vf,
			       const uint8_t mac[6])
{
	const size_t total = XEN_VF_NL_SET_MAC_SIZE;
	const size_t mac_attr = RTA_LENGTH(sizeof(struct ifla_vf_mac));
	struct ifla_vf_mac ivm = {.vf = vf};
	uint8_t *p = buf;
	size_t off;

	/* the kernel refuses vf >= INT_MAX */
	if (size < total || pf_ifindex <= 0 || vf >= INT_MAX)
		return 0;
	memcpy(ivm.mac, mac, 6); /* the rest of mac[32] stays zero */

	off = put_link_header(p, total, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK,
			      seq, pf_ifindex);
	/* nests carry no NLA_F_NESTED, as iproute2 sends them and as the
	 * kernel's own IFLA_VFINFO_LIST replies come */
	put_attr_header(p, off, IFLA_VFINFO_LIST,
			RTA_LENGTH(0) + RTA_ALIGN(mac_attr));
	off += RTA_LENGTH(0);
	put_attr_header(p, off, IFLA_VF_INFO, RTA_ALIGN(mac_attr));
	off += RTA_LENGTH(0);
	put_attr_header(p, off, IFLA_VF_MAC, sizeof(ivm));
	memcpy(p + off + RTA_LENGTH(0), &ivm, sizeof(ivm));
	return total;
}

size_t xen_vf_nl_build_get_link(void *buf, size_t size, uint32_t seq,
				int pf_ifindex)
{
	const size_t total = XEN_VF_NL_GET_LINK_SIZE;
	const uint32_t mask = RTEXT_FILTER_VF;
	uint8_t *p = buf;
	size_t off;

	if (size < total || pf_ifindex <= 0)
		return 0;
	off = put_link_header(p, total, RTM_GETLINK, NLM_F_REQUEST, seq,
			      pf_ifindex);
	put_attr_header(p, off, IFLA_EXT_MASK, sizeof(mask));
	memcpy(p + off + RTA_LENGTH(0), &mask, sizeof(mask));
	return total;
}

/* A span of a received datagram. */
struct span {
	const uint8_t *pos, *end;
};

/* The next netlink message of a datagram, its payload in *payload.  1, 0
 * at the end, -1 when a length runs past the end. */
static int next_msg(struct span *dgram, struct nlmsghdr *h,
		    struct span *payload)
{
	size_t left = (size_t)(dgram->end - dgram->pos), step;

	if (left == 0)
		return 0;
	if (left < NLMSG_HDRLEN)
		return -1;
	memcpy(h, dgram->pos, sizeof(*h));
	if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > left)
		return -1;
	payload->pos = dgram->pos + NLMSG_HDRLEN;
	payload->end = dgram->pos + h->nlmsg_len;
	step = NLMSG_ALIGN(h->nlmsg_len);
	dgram->pos += step < left ? step : left;
	return 1;
}

/* The next attribute of a span: its type (flags masked off) and payload.
 * 1, 0 at the end, -1 when a length runs past the end. */
static int next_attr(struct span *attrs, uint16_t *type, struct span *data)
{
	size_t left = (size_t)(attrs->end - attrs->pos), step;
	struct rtattr a;

	if (left == 0)
		return 0;
	if (left < sizeof(a))
		return -1;
	memcpy(&a, attrs->pos, sizeof(a));
	if (a.rta_len < sizeof(a) || a.rta_len > left)
		return -1;
	*type = a.rta_type & NLA_TYPE_MASK;
	data->pos = attrs->pos + RTA_LENGTH(0);
	data->end = attrs->pos + a.rta_len;
	step = RTA_ALIGN(a.rta_len);
	attrs->pos += step < left ? step : left;
	return 1;
}

/* The part of a span from offset on, empty when it is shorter. */
static struct span span_from(struct span s, size_t offset)
{
	size_t len = (size_t)(s.end - s.pos);

	s.pos += offset < len ? offset : len;
	return s;
}

/* An NLMSG_ERROR's errno and extended-ACK text.  -1 when too short. */
static int read_error(struct span payload, const struct nlmsghdr *h,
		      struct xen_vf_nl_ack *ack)
{
	struct nlmsgerr e;
	struct span tlvs, data;
	size_t skip = sizeof(e), n;
	uint16_t type;

	if ((size_t)(payload.end - payload.pos) < sizeof(e))
		return -1;
	memcpy(&e, payload.pos, sizeof(e));
	ack->error = e.error;
	ack->message[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* the request comes back after the header unless it was capped */
	if (!(h->nlmsg_flags & NLM_F_CAPPED) && e.msg.nlmsg_len >= NLMSG_HDRLEN)
		skip += e.msg.nlmsg_len - NLMSG_HDRLEN;
	tlvs = span_from(payload, NLMSG_ALIGN(skip));
	while (next_attr(&tlvs, &type, &data) == 1) {
		if (type != NLMSGERR_ATTR_MSG)
			continue;
		n = (size_t)(data.end - data.pos);
		if (n >= sizeof(ack->message))
			n = sizeof(ack->message) - 1;
		memcpy(ack->message, data.pos, n);
		ack->message[n] = '\0';
		ack->message[strcspn(ack->message, "\n")] = '\0';
		break;
	}
	return 0;
}

char *xen_vf_nl_ack_error(const char *what, const struct xen_vf_nl_ack *ack)
{
	/* only the kernel sends to us, but a wild value must not index
	 * strerror's table or negate INT_MIN */
	int e = ack->error < 0 && ack->error > -4096 ? -ack->error : EPROTO;

	return lt_strdupf("%s: %s%s%s", what, strerror(e),
			  ack->message[0] ? ": " : "", ack->message);
}

int xen_vf_nl_parse_ack(const void *buf, size_t len, uint32_t seq,
			struct xen_vf_nl_ack *ack, char **err)
{
	struct span dgram = {buf, (const uint8_t *)buf + len}, payload;
	struct nlmsghdr h;
	int rc;

	while ((rc = next_msg(&dgram, &h, &payload)) == 1) {
		if (h.nlmsg_seq != seq || h.nlmsg_type != NLMSG_ERROR)
			continue;
		if (read_error(payload, &h, ack) < 0) {
			*err = lt_strdupf("rtnetlink: a truncated NLMSG_ERROR "
					  "(%u bytes)",
					  h.nlmsg_len);
			return -1;
		}
		return 1;
	}
	if (rc < 0) {
		*err = lt_strdupf("rtnetlink: a message runs past the end of "
				  "its %zu-byte datagram",
				  len);
		return -1;
	}
	return 0;
}

/* VF vf's MAC in one IFLA_VF_INFO nest: 1 found, 0 another VF's, -1
 * malformed. */
static int vf_info_mac(struct span info, uint32_t vf, uint8_t mac[6])
{
	struct ifla_vf_mac ivm;
	struct span data;
	uint16_t type;
	int rc;

	while ((rc = next_attr(&info, &type, &data)) == 1) {
		if (type != IFLA_VF_MAC)
			continue;
		/* the vf and at least an Ethernet address */
		if ((size_t)(data.end - data.pos) <
		    offsetof(struct ifla_vf_mac, mac) + 6)
			return -1;
		memset(&ivm, 0, sizeof(ivm));
		memcpy(&ivm, data.pos,
		       (size_t)(data.end - data.pos) < sizeof(ivm)
			   ? (size_t)(data.end - data.pos)
			   : sizeof(ivm));
		if (ivm.vf != vf)
			return 0;
		memcpy(mac, ivm.mac, 6);
		return 1;
	}
	return rc < 0 ? -1 : 0;
}

/* VF vf's MAC in an RTM_NEWLINK payload; -1 with *err. */
static int newlink_vf_mac(struct span payload, uint32_t vf, uint8_t mac[6],
			  char **err)
{
	struct ifinfomsg ifi;
	struct span attrs, list, info;
	bool listed = false;
	size_t nvfs = 0;
	uint16_t type;
	int rc;

	if ((size_t)(payload.end - payload.pos) < sizeof(ifi))
		goto malformed;
	memcpy(&ifi, payload.pos, sizeof(ifi));
	attrs = span_from(payload, NLMSG_ALIGN(sizeof(ifi)));
	while ((rc = next_attr(&attrs, &type, &list)) == 1) {
		if (type != IFLA_VFINFO_LIST)
			continue;
		listed = true;
		while ((rc = next_attr(&list, &type, &info)) == 1) {
			if (type != IFLA_VF_INFO)
				continue;
			nvfs++;
			rc = vf_info_mac(info, vf, mac);
			if (rc != 0)
				break;
		}
		if (rc != 0)
			break;
	}
	if (rc < 0)
		goto malformed;
	if (rc == 1)
		return 0;
	if (!listed)
		*err = lt_strdupf("PF ifindex %d lists no VFs (no "
				  "IFLA_VFINFO_LIST: not an SR-IOV PF, or no "
				  "VFs enabled)",
				  ifi.ifi_index);
	else
		*err = lt_strdupf("PF ifindex %d has no VF %u (it lists %zu)",
				  ifi.ifi_index, vf, nvfs);
	return -1;
malformed:
	*err = lt_strdupf("rtnetlink: a malformed RTM_NEWLINK (%zu bytes)",
			  (size_t)(payload.end - payload.pos));
	return -1;
}

int xen_vf_nl_parse_vf_mac(const void *buf, size_t len, uint32_t seq,
			   uint32_t vf, uint8_t mac[6], char **err)
{
	struct span dgram = {buf, (const uint8_t *)buf + len}, payload;
	struct xen_vf_nl_ack ack;
	struct nlmsghdr h;
	int rc;

	while ((rc = next_msg(&dgram, &h, &payload)) == 1) {
		if (h.nlmsg_seq != seq)
			continue;
		if (h.nlmsg_type == RTM_NEWLINK)
			return newlink_vf_mac(payload, vf, mac, err) < 0 ? -1
									 : 1;
		if (h.nlmsg_type != NLMSG_ERROR)
			continue;
		if (read_error(payload, &h, &ack) < 0) {
			*err = lt_strdupf("rtnetlink: a truncated NLMSG_ERROR "
					  "(%u bytes)",
					  h.nlmsg_len);
			return -1;
		}
		if (ack.error == 0)
			continue; /* an ACK; the answer is the NEWLINK */
		*err = xen_vf_nl_ack_error("RTM_GETLINK", &ack);
		return -1;
	}
	if (rc < 0) {
		*err = lt_strdupf("rtnetlink: a message runs past the end of "
				  "its %zu-byte datagram",
				  len);
		return -1;
	}
	return 0;
}
