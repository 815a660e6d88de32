/* Stable MAC addresses for domains: the same deployment and domain name
 * always give the same MAC, so a restarted or switched app keeps it and
 * its peers' ARP caches stay right. */
#ifndef LIBRETTO_MAC_H
#define LIBRETTO_MAC_H

#include <stdint.h>

/* Locally administered, unicast: first octet has bit 1 set, bit 0 clear. */
void lt_mac_for(const char *deployment, const char *domain, uint8_t mac[6]);

/* "02:ab:cd:ef:01:23", lower case; out holds 18 bytes with the NUL. */
void lt_mac_format(const uint8_t mac[6], char out[18]);

#endif
