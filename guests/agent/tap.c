/* The TAP device through which the app's TCP/IP (the Linux stack of the
 * namespace, the sim's libOS) reaches the VIF. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent.h"
#include "vif.h"

int tap_open(const char *name)
{
	struct ifreq ifr;
	int fd, hdr = VIF_VNET_HDR_LEN;
	/* With these the stack hands over TSO super-frames and frames with
	 * the checksum left to fill: the VIF carries them whole, the
	 * server's AF_PACKET send (PACKET_VNET_HDR) finishes them. */
	unsigned offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	/* NO_PI: the 4-byte packet info is useless for Ethernet; VNET_HDR:
	 * the frame's offload state travels with it (docs/datapath.md). */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, offload) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}
