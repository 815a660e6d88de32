/* Link operations for the sim's VFs, run on a worker thread (sim_rtnl.c).
 * Each returns 0, or -1 with errno and a message in err. */
#ifndef LIBRETTOD_SIM_RTNL_H
#define LIBRETTOD_SIM_RTNL_H

#include <stddef.h>
#include <stdint.h>

/* Moves the calling thread into the network namespace at ns_path. */
int sim_rtnl_enter(const char *ns_path, char *err, size_t size);
/* A bridge-mode macvlan `name` on `lower` (of the current namespace), made
 * down inside the namespace at target_ns_path. */
int sim_rtnl_macvlan_add(const char *name, const char *lower,
			 const uint8_t mac[6], unsigned mtu,
			 const char *target_ns_path, char *err, size_t size);
int sim_rtnl_link_del(const char *name, char *err, size_t size);
int sim_rtnl_link_rename(const char *from, const char *to, char *err,
			 size_t size);
/* The MAC and MTU of a link that is down. */
int sim_rtnl_link_set_mac(const char *name, const uint8_t mac[6], unsigned mtu,
			  char *err, size_t size);
/* Down, if it is up. */
int sim_rtnl_link_down(const char *name, char *err, size_t size);

#endif
