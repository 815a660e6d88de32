/*
 * The VIF: what the frontend (libretto-agent) and the backend
 * (libretto-netserver) must agree on beyond the ring itself
 * (docs/datapath.md): the share's geometry, the largest frame, the
 * per-frame checks both sides apply, and the XenbusState numbers of the
 * handshake.  Defined once here so that the two programs cannot drift.
 */
#ifndef LIBRETTO_VIF_H
#define LIBRETTO_VIF_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* Each direction's data area: 1 MiB, sixteen offloaded 64 KiB
 * super-frames. 256 KiB (the ring's minimum for VIF_FRAME_MAX, four of
 * them) made the two sides take turns on the ring during bulk transfers:
 * 1 MiB measured 6.2 against 5.6 Gbit/s peer -> app (docs/benchmarks.md). */
#define VIF_RING_DATA (1024u * 1024u)

/* One ring's region: the ring header page plus the data area (257 pages);
 * a constant so that it can size arrays and the share. */
#define VIF_RING_REGION (RING_HDR_SIZE + VIF_RING_DATA)

/* The share: tx (app -> server) at offset 0, rx (server -> app) after. */
#define VIF_PAGE_SIZE 4096u
#define VIF_PAGES     514u

/* The virtio_net_hdr that leads every frame (no MRG_RXBUF, so 10 bytes, as
 * TAP with IFF_VNET_HDR + TUNSETVNETHDRSZ 10 and AF_PACKET with
 * PACKET_VNET_HDR give it). */
#define VIF_VNET_HDR_LEN 10u
#define VIF_ETH_HLEN	 14u
/* Ethernet without the FCS: a sender may hand over a runt (the NIC pads),
 * so the minimum is the header; the maximum of a non-offloaded frame is
 * MTU 9000 plus the header and one VLAN tag, as the kernel enforces. */
#define VIF_ETH_MIN	VIF_ETH_HLEN
#define VIF_ETH_MAX_MTU (9000u + VIF_ETH_HLEN + 4u)

/*
 * The largest record on either ring.  The contract (docs/datapath.md) says
 * 10 + 14 + 65535 = 65559, but the ring library caps a record at
 * RING_FRAME_MAX = 65547 and ring_init refuses more, so the effective
 * limit is the ring's.  Nothing real is lost: TCP sizes a TSO super-frame
 * to at most gso_max_size (65536) less MAX_TCP_HEADER, i.e. a few hundred
 * bytes under 64 KiB of IP, well below 65547 - 10 - 14.
 */
#define VIF_FRAME_MAX_CONTRACT (VIF_VNET_HDR_LEN + VIF_ETH_HLEN + 65535u)
#define VIF_FRAME_MAX	       RING_FRAME_MAX

_Static_assert(VIF_PAGES *VIF_PAGE_SIZE == 2u * VIF_RING_REGION,
	       "VIF_PAGES is two ring regions");
_Static_assert(VIF_RING_DATA / 2 >= (8u + VIF_FRAME_MAX + 7u) / 8u * 8u,
	       "a VIF ring holds two maximal records");

/* Where each ring lives in the share mapped at base. */
static inline void *vif_tx_region(void *base)
{
	return base;
}

static inline void *vif_rx_region(void *base)
{
	return (uint8_t *)base + VIF_RING_REGION;
}

/* XenbusState numbers (<xen/io/xenbus.h>), as both sides write them in
 * guest/vif/state and server/apps/<domid>/vif-state. */
#define VIF_STATE_UNKNOWN      0
#define VIF_STATE_INITIALISING 1
#define VIF_STATE_INITWAIT     2
#define VIF_STATE_INITIALISED  3
#define VIF_STATE_CONNECTED    4
#define VIF_STATE_CLOSING      5
#define VIF_STATE_CLOSED       6

/* Why a frame was refused; 0 is fine. */
enum vif_frame_err {
	VIF_FRAME_OK = 0,
	VIF_FRAME_SHORT,    /* under 10 + 14 bytes */
	VIF_FRAME_LONG,	    /* over VIF_FRAME_MAX, or a non-GSO frame
			       over the MTU */
	VIF_FRAME_BAD_VNET, /* flags/gso_type the kernel refuses */
	VIF_FRAME_BAD_CSUM, /* csum_start/offset outside the frame */
	VIF_FRAME_BAD_GSO,  /* gso_size 0, or hdr_len past the frame */
};

/*
 * Checks one VIF record (virtio_net_hdr + Ethernet frame of len bytes in
 * total) the way the kernel would before taking it (TAP write or
 * AF_PACKET send with a vnet header), so that a peer's garbage is counted
 * as malformed here rather than failing later or, worse, being sent.
 * frame must be a private copy: the peer may rewrite shared memory
 * between check and use.
 */
enum vif_frame_err vif_frame_check(const void *frame, size_t len);

/* A short name for an error, for logs and tests. */
const char *vif_frame_strerror(enum vif_frame_err e);

#endif
