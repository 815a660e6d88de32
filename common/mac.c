/* MACs from a 64-bit FNV-1a hash of "deployment\0domain". */
#include "mac.h"

#include <stdio.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const char *s, int with_nul)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	if (with_nul) {
		/* the separator keeps ("ab", "c") apart from ("a", "bc") */
		h ^= 0;
		h *= FNV_PRIME;
	}
	return h;
}

void lt_mac_for(const char *deployment, const char *domain, uint8_t mac[6])
{
	uint64_t h = fnv1a(FNV_OFFSET, deployment, 1);

	h = fnv1a(h, domain, 0);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

void lt_mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}
