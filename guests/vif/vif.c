/* The per-frame checks of the VIF (vif.h). */
#include "vif.h"

#include <linux/virtio_net.h>
#include <string.h>

/* Older uapi headers lack it; the kernel takes it since 4.18. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

enum vif_frame_err vif_frame_check(const void *frame, size_t len)
{
	struct virtio_net_hdr h;
	size_t eth_len;
	unsigned gso;

	if (len < VIF_VNET_HDR_LEN + VIF_ETH_MIN)
		return VIF_FRAME_SHORT;
	if (len > VIF_FRAME_MAX)
		return VIF_FRAME_LONG;
	/* memcpy: the record is only 8-aligned and the fields are 16-bit;
	 * also one read of each field, whatever the caller's buffer. */
	memcpy(&h, frame, sizeof(h));
	eth_len = len - VIF_VNET_HDR_LEN;

	/* The kernel accepts NEEDS_CSUM and DATA_VALID; any other bit is
	 * a header it does not understand. */
	if (h.flags &
	    ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return VIF_FRAME_BAD_VNET;
	gso = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (h.gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return VIF_FRAME_BAD_VNET;
		/* Not offloaded: one wire frame, so the MTU bounds it. */
		if (eth_len > VIF_ETH_MAX_MTU)
			return VIF_FRAME_LONG;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
	case VIRTIO_NET_HDR_GSO_UDP:
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		/* Segmentation needs a segment size and the checksum to be
		 * filled per segment, and headers inside the frame. */
		if (h.gso_size == 0)
			return VIF_FRAME_BAD_GSO;
		if (!(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
			return VIF_FRAME_BAD_GSO;
		if (h.hdr_len > eth_len)
			return VIF_FRAME_BAD_GSO;
		break;
	default:
		return VIF_FRAME_BAD_VNET;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* The checksum field (2 bytes) must lie inside the frame and
		 * after the Ethernet header. */
		if (h.csum_start < VIF_ETH_HLEN ||
		    (size_t)h.csum_start + h.csum_offset + 2 > eth_len)
			return VIF_FRAME_BAD_CSUM;
	}
	return VIF_FRAME_OK;
}

const char *vif_frame_strerror(enum vif_frame_err e)
{
	switch (e) {
	case VIF_FRAME_OK:
		return "ok";
	case VIF_FRAME_SHORT:
		return "short";
	case VIF_FRAME_LONG:
		return "long";
	case VIF_FRAME_BAD_VNET:
		return "bad vnet header";
	case VIF_FRAME_BAD_CSUM:
		return "bad checksum offsets";
	case VIF_FRAME_BAD_GSO:
		return "bad gso";
	}
	return "?";
}
