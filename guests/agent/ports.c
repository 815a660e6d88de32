/*
 * The app's listening sockets become port claims in guest/ports, which
 * librettod turns into the portmap (docs/datapath.md).  The sockets are
 * found with NETLINK_SOCK_DIAG in the agent's own namespace: a filtered
 * binary dump, no text to parse, and only the sockets asked for.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libretto/xs_paths.h>

#include "agent.h"

/* TCP states as inet_diag numbers them (include/net/tcp_states.h). */
#define DIAG_TCP_LISTEN 10

static bool is_loopback(const struct inet_diag_msg *m)
{
	const uint8_t *a = (const uint8_t *)m->id.idiag_src;
	static const uint8_t v6_lo[16] = {[15] = 1};
	static const uint8_t v4_mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (m->idiag_family == AF_INET)
		return a[0] == 127;
	if (memcmp(a, v6_lo, 16) == 0)
		return true;
	return memcmp(a, v4_mapped, 12) == 0 && a[12] == 127;
}

int ports_parse_diag(const void *buf, size_t len, bool udp, uint64_t *set)
{
	const struct nlmsghdr *h = buf;
	size_t left = len;

	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		const struct inet_diag_msg *m;
		unsigned port;

		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error < 0 ? e->error : -EPROTO;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		m = NLMSG_DATA(h);
		if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
			continue;
		port = ntohs(m->id.idiag_sport);
		if (port == 0 || is_loopback(m))
			continue;
		if (udp) {
			/* A connected UDP socket is a client's (a resolver's
			 * query, say), not a service. */
			if (m->id.idiag_dport != 0)
				continue;
		} else if (m->idiag_state != DIAG_TCP_LISTEN) {
			continue;
		}
		port_set_add(set, port);
	}
	return 0;
}

/* One dump: family x protocol, into set. */
static int dump(int fd, int family, bool udp, uint64_t *set)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	/* 8 KiB: the kernel's dump chunk; aligned for the headers. */
	static uint64_t rbuf[8192 / 8];
	int r = 0;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = udp ? IPPROTO_UDP : IPPROTO_TCP;
	/* TCP: listeners only, filtered in the kernel; UDP has no listen
	 * state (a bound socket is "closed"), so all, filtered here. */
	req.r.idiag_states = udp ? ~0u : 1u << DIAG_TCP_LISTEN;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl,
		   sizeof(nl)) < 0)
		return -errno;
	while (r == 0) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPROTO;
		r = ports_parse_diag(rbuf, (size_t)n, udp, set);
	}
	/* A family the kernel lacks (no IPv6) has no sockets to claim. */
	return r == -ENOENT || r == -EAFNOSUPPORT ? 0 : (r < 0 ? r : 0);
}

int ports_scan(struct port_set *cur)
{
	int fd, r = 0;

	memset(cur, 0, sizeof(*cur));
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	if (r == 0)
		r = dump(fd, AF_INET, false, cur->tcp);
	if (r == 0)
		r = dump(fd, AF_INET6, false, cur->tcp);
	if (r == 0)
		r = dump(fd, AF_INET, true, cur->udp);
	if (r == 0)
		r = dump(fd, AF_INET6, true, cur->udp);
	close(fd);
	return r;
}

/* Writes (add) or removes one claim in transaction t. */
static int claim(struct guest_xs *gx, xs_transaction_t t, const char *proto,
		 unsigned port, bool add)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s/%s/%u", gx->base, LT_XS_GUEST_PORTS,
		 proto, port);
	if (add)
		return xs_write(gx->h, t, path, "", 0) ? 0 : -errno;
	return xs_rm(gx->h, t, path) || errno == ENOENT ? 0 : -errno;
}

/* Applies the difference of one protocol's sets; *changes counts. */
static int sync_one(struct guest_xs *gx, xs_transaction_t t, const char *proto,
		    const uint64_t *old, const uint64_t *cur, unsigned *changes)
{
	unsigned w, b;
	int r;

	for (w = 0; w < PORTS_WORDS; w++) {
		uint64_t diff = old[w] ^ cur[w];

		while (diff) {
			b = (unsigned)__builtin_ctzll(diff);
			diff &= diff - 1;
			r = claim(gx, t, proto, w * 64 + b, (cur[w] >> b) & 1);
			if (r < 0)
				return r;
			(*changes)++;
		}
	}
	return 0;
}

int ports_sync(struct guest_xs *gx, struct port_set *claimed,
	       const struct port_set *cur)
{
	unsigned changes, tries;
	int r = -EAGAIN;

	if (memcmp(claimed, cur, sizeof(*cur)) == 0)
		return 0;
	/* One transaction: librettod sees one consistent change per scan.
	 * Only what we claimed is ever removed: the claims librettod wrote
	 * itself for declared ports are not ours. */
	for (tries = 0; tries < 8 && r == -EAGAIN; tries++) {
		xs_transaction_t t = xs_transaction_start(gx->h);

		if (t == XBT_NULL)
			return -errno;
		changes = 0;
		r = sync_one(gx, t, "tcp", claimed->tcp, cur->tcp, &changes);
		if (r == 0)
			r = sync_one(gx, t, "udp", claimed->udp, cur->udp,
				     &changes);
		if (r < 0) {
			xs_transaction_end(gx->h, t, true);
			return r;
		}
		r = xs_transaction_end(gx->h, t, false) ? 0 : -errno;
	}
	if (r == 0)
		*claimed = *cur;
	return r;
}

int ports_read_existing(struct guest_xs *gx, struct port_set *out)
{
	static const char *const protos[] = {"tcp", "udp"};
	char path[160];
	unsigned i, n, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 2; i++) {
		uint64_t *set = i == 0 ? out->tcp : out->udp;
		char **ents;

		snprintf(path, sizeof(path), "%s/%s/%s", gx->base,
			 LT_XS_GUEST_PORTS, protos[i]);
		ents = xs_directory(gx->h, XBT_NULL, path, &n);
		if (ents == NULL)
			continue;
		for (j = 0; j < n; j++) {
			char *end;
			unsigned long p = strtoul(ents[j], &end, 10);

			if (*end == '\0' && p > 0 && p < 65536)
				port_set_add(set, (unsigned)p);
		}
		free(ents);
	}
	return 0;
}

void ports_mask(struct port_set *cur, const struct port_set *foreign)
{
	unsigned w;

	for (w = 0; w < PORTS_WORDS; w++) {
		cur->tcp[w] &= ~foreign->tcp[w];
		cur->udp[w] &= ~foreign->udp[w];
	}
}
