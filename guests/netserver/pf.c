/*
 * The PF: one AF_PACKET socket on pf0 with a memory-mapped TPACKET_V3
 * receive ring (blocks of variable-length frames, handed over a block at
 * a time: one wakeup per block, not per frame), and sends through the
 * same socket.  PACKET_VNET_HDR on both directions: received GSO/GRO
 * super-frames arrive whole with their virtio_net_hdr, and sent ones are
 * segmented by the kernel (or passed whole to a GSO-capable peer).
 */
#include <arpa/inet.h>
#include <errno.h>
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

/* A block must hold a whole 64 KiB super-frame with its headers, or the
 * kernel truncates it; 32 of them (4 MiB) absorb bursts while the server
 * is busy with the rings. */
#define PF_BLOCK_SIZE (128u * 1024u)
#define PF_BLOCKS     32u
#define PF_FRAME_SIZE 2048u /* V3 ignores it, but it must divide blocks */
/* How long the kernel holds a partly filled block before handing it
 * over: the latency bound at low rates (a ping), in ms. */
#define PF_RETIRE_MS 1u

int pf_open(struct pf *pf, const char *ifname)
{
	struct tpacket_req3 req = {
	    .tp_block_size = PF_BLOCK_SIZE,
	    .tp_block_nr = PF_BLOCKS,
	    .tp_frame_size = PF_FRAME_SIZE,
	    .tp_frame_nr = PF_BLOCK_SIZE / PF_FRAME_SIZE * PF_BLOCKS,
	    .tp_retire_blk_tov = PF_RETIRE_MS,
	};
	int one = 1, v3 = TPACKET_V3, err;
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
	    setsockopt(pf->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof(v3)) <
		0 ||
	    setsockopt(pf->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) <
		0)
		goto fail;
	pf->blk_size = PF_BLOCK_SIZE;
	pf->nblocks = PF_BLOCKS;
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

static struct tpacket_block_desc *block(const struct pf *pf, unsigned i)
{
	return (struct tpacket_block_desc *)(pf->map +
					     (size_t)i * pf->blk_size);
}

bool pf_rx_ready(const struct pf *pf)
{
	return __atomic_load_n(&block(pf, pf->cur)->hdr.bh1.block_status,
			       __ATOMIC_ACQUIRE) &
	       TP_STATUS_USER;
}

unsigned pf_rx(struct pf *pf, pf_rx_cb cb, void *arg, unsigned max_blocks)
{
	unsigned done = 0;

	while (done < max_blocks && pf_rx_ready(pf)) {
		struct tpacket_block_desc *b = block(pf, pf->cur);
		uint32_t n = b->hdr.bh1.num_pkts;

		/* Resume where a stalled callback left the block. */
		if (pf->pkt == 0)
			pf->off = b->hdr.bh1.offset_to_first_pkt;
		while (pf->pkt < n) {
			uint8_t *p = (uint8_t *)b + pf->off;
			struct tpacket3_hdr *h = (struct tpacket3_hdr *)p;

			/* The kernel put the vnet header right before the
			 * MAC header. */
			if (!cb(arg, p + h->tp_mac - VIF_VNET_HDR_LEN,
				h->tp_snaplen + VIF_VNET_HDR_LEN,
				h->tp_snaplen < h->tp_len))
				return done;
			pf->off += h->tp_next_offset;
			pf->pkt++;
		}
		/* Hand the block back; release so that our reads of it
		 * are done before the kernel refills it. */
		pf->pkt = 0;
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		pf->cur = (pf->cur + 1) % pf->nblocks;
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
