/*
 * The PF: one AF_PACKET socket on pf0 with a memory-mapped TPACKET_V2
 * receive ring, and sends through the same socket.  PACKET_VNET_HDR on
 * both directions: received GSO/GRO super-frames arrive whole with their
 * virtio_net_hdr, and sent ones are segmented by the kernel (or passed
 * whole to a GSO-capable peer).
 *
 * Why V2 and not V3: a V3 block reaches user space only when it is full
 * or when its retire timer fires (at best 1 ms, rounded up to jiffies),
 * so every request/response exchange and every ACK of a TCP window paid
 * about a millisecond: ping through the server took ~1 ms, 15-20x a plain
 * veth.  V2 hands each frame over on its own and wakes poll() per frame;
 * the loop then drains every frame ready, so under load the wakeups are
 * amortised as V3's blocks were, without the timer at low load.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netserver.h"

/*
 * V2 slots have a fixed size, and a frame that does not fit its slot is
 * truncated (and dropped by us), so a slot must hold a whole 64 KiB
 * super-frame behind the tpacket2_hdr, the sockaddr_ll and the vnet
 * header (the kernel puts the MAC header about 80 bytes in).  Slots
 * never straddle blocks, and a block is one high-order allocation of the
 * kernel: 15 slots of 69904 bytes fill a 1 MiB block with little waste.
 * 16 blocks give 240 slots (16 MiB): about a NIC's ring, enough for
 * bursts of small frames (ACK trains, pipelined requests) while the
 * server is busy with the VIF rings.
 */
#define PF_BLOCK_SIZE (1024u * 1024u)
#define PF_BLOCKS     16u
#define PF_FRAME_SIZE ((PF_BLOCK_SIZE / 15u) & ~(TPACKET_ALIGNMENT - 1u))
_Static_assert(PF_FRAME_SIZE >= 128u + VIF_VNET_HDR_LEN + VIF_ETH_HLEN + 65535u,
	       "a PF slot holds a super-frame and its headers");

int pf_open(struct pf *pf, const char *ifname)
{
	struct tpacket_req req = {
	    .tp_block_size = PF_BLOCK_SIZE,
	    .tp_block_nr = PF_BLOCKS,
	    .tp_frame_size = PF_FRAME_SIZE,
	    .tp_frame_nr = PF_BLOCK_SIZE / PF_FRAME_SIZE * PF_BLOCKS,
	};
	int one = 1, v2 = TPACKET_V2, err;
	struct packet_mreq mr = {0};
	struct sockaddr_ll sll = {0};
	struct ifreq ifr = {0};

	memset(pf, 0, sizeof(*pf));
	pf->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			htons(ETH_P_ALL));
	if (pf->fd < 0)
		return -errno;
	pf->ifindex = (int)if_nametoindex(ifname);
	if (pf->ifindex == 0)
		goto fail;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(pf->fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	memcpy(pf->mac, ifr.ifr_hwaddr.sa_data, 6);
	/* The vnet header must be set before the ring exists (EBUSY
	 * after).  Our own sends are not wanted back on the ring. */
	if (setsockopt(pf->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) <
		0 ||
	    setsockopt(pf->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) < 0 ||
	    setsockopt(pf->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) <
		0 ||
	    setsockopt(pf->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) <
		0)
		goto fail;
	pf->frame_size = PF_FRAME_SIZE;
	pf->frames_per_block = PF_BLOCK_SIZE / PF_FRAME_SIZE;
	pf->nframes = req.tp_frame_nr;
	pf->map_len = (size_t)PF_BLOCK_SIZE * PF_BLOCKS;
	pf->map = mmap(NULL, pf->map_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_LOCKED, pf->fd, 0);
	if (pf->map == MAP_FAILED) /* MAP_LOCKED may exceed RLIMIT_MEMLOCK */
		pf->map = mmap(NULL, pf->map_len, PROT_READ | PROT_WRITE,
			       MAP_SHARED, pf->fd, 0);
	if (pf->map == MAP_FAILED) {
		pf->map = NULL;
		goto fail;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = pf->ifindex;
	if (bind(pf->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	/* Promiscuous: the PF carries the dedicated-IP apps' MACs too. */
	mr.mr_ifindex = pf->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(pf->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)) < 0)
		goto fail;
	return 0;
fail:
	err = errno ? -errno : -ENODEV;
	pf_close(pf);
	return err;
}

void pf_close(struct pf *pf)
{
	if (pf->map != NULL)
		munmap(pf->map, pf->map_len);
	if (pf->fd >= 0)
		close(pf->fd);
	pf->map = NULL;
	pf->fd = -1;
}

static struct tpacket2_hdr *slot(const struct pf *pf, unsigned i)
{
	unsigned blk = i / pf->frames_per_block, in = i % pf->frames_per_block;

	return (struct tpacket2_hdr *)(pf->map + (size_t)blk * PF_BLOCK_SIZE +
				       (size_t)in * pf->frame_size);
}

bool pf_rx_ready(const struct pf *pf)
{
	/* Acquire: the frame's bytes, written by the kernel before it set
	 * the status, must be read after it. */
	return __atomic_load_n(&slot(pf, pf->cur)->tp_status,
			       __ATOMIC_ACQUIRE) &
	       TP_STATUS_USER;
}

unsigned pf_rx(struct pf *pf, pf_rx_cb cb, void *arg, unsigned max_frames)
{
	unsigned done = 0;

	while (done < max_frames && pf_rx_ready(pf)) {
		struct tpacket2_hdr *h = slot(pf, pf->cur);
		uint8_t *p = (uint8_t *)h;
		/* The kernel owns these values and the slot until we hand it
		 * back; still, a tp_mac that would put the vnet header
		 * outside the slot is refused rather than trusted. */
		uint32_t mac = h->tp_mac, snap = h->tp_snaplen;
		bool bad = mac < VIF_VNET_HDR_LEN || mac > pf->frame_size ||
			   snap > pf->frame_size - mac;

		/* The kernel put the vnet header right before the MAC
		 * header. */
		if (!cb(arg, bad ? p : p + mac - VIF_VNET_HDR_LEN,
			bad ? 0 : snap + VIF_VNET_HDR_LEN,
			bad || snap < h->tp_len))
			return done; /* back-pressure: offered again later */
		/* Hand the slot back; release so that our reads of it are
		 * done before the kernel refills it. */
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		pf->cur = pf->cur + 1 == pf->nframes ? 0 : pf->cur + 1;
		done++;
	}
	return done;
}

int pf_send(struct pf *pf, const void *frame, size_t len)
{
	ssize_t n = send(pf->fd, frame, len, MSG_DONTWAIT);

	/* EAGAIN (socket buffer full) clears with POLLOUT; ENOBUFS (a
	 * device queue dropped it) would not, so it is a loss. */
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

int pf_send_batch(struct pf *pf, struct mmsghdr *m, unsigned n)
{
	/* One syscall for the whole batch: under the sim's (and a PV
	 * guest's) syscall cost, a send per frame was the server's main
	 * expense on request/response traffic. */
	int r = sendmmsg(pf->fd, m, n, MSG_DONTWAIT);

	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/*
 * Lets the kernel drop, before they reach the ring, the frames on pf0
 * that the server would only ignore: unicast to a MAC it does not serve
 * (a direct app's VF is on the same PF). Without it every one of those
 * frames wakes the server and costs a copy, which on a small machine
 * slows the direct apps down. Per MAC the program is four instructions:
 *
 *	ld [2]; jeq #lo, 0, 2; ldh [0]; jeq #hi, accept, 0
 *
 * and multicast/broadcast always pass. Returns 0 or -errno; with more
 * MACs than the jump offsets can span, the filter accepts everything.
 */
int pf_set_filter(struct pf *pf, const uint8_t (*macs)[6], unsigned n)
{
	struct sock_filter prog[2 + 4 * PF_FILTER_MACS + 2];
	struct sock_fprog fprog = {.filter = prog};
	unsigned len = 0, accept;

	if (n > PF_FILTER_MACS) {
		n = 0; /* accept all, below */
		prog[len++] =
		    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
		goto attach;
	}
	accept = 2 + 4 * n + 1; /* after the blocks and the drop */
	prog[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0);
	prog[len] = (struct sock_filter)BPF_JUMP(
	    BPF_JMP | BPF_JSET | BPF_K, 1, (uint8_t)(accept - len - 1), 0);
	len++;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *m = macs[i];
		uint32_t lo = (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 |
			      (uint32_t)m[4] << 8 | m[5];
		uint32_t hi = (uint32_t)m[0] << 8 | m[1];

		prog[len++] =
		    (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2);
		prog[len++] = (struct sock_filter)BPF_JUMP(
		    BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 2);
		prog[len++] =
		    (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0);
		prog[len] = (struct sock_filter)BPF_JUMP(
		    BPF_JMP | BPF_JEQ | BPF_K, hi, (uint8_t)(accept - len - 1),
		    0);
		len++;
	}
	prog[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	prog[len++] =
	    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
attach:
	fprog.len = (unsigned short)len;
	if (setsockopt(pf->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog,
		       sizeof(fprog)) < 0)
		return -errno;
	return 0;
}

int pf_clear_filter(struct pf *pf)
{
	int zero = 0;

	/* ENOENT: there was none, which is what is asked. */
	if (setsockopt(pf->fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
		       sizeof(zero)) < 0 &&
	    errno != ENOENT)
		return -errno;
	return 0;
}
