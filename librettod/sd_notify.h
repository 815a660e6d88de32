/* systemd's readiness protocol, written against its documented datagram
 * socket ($NOTIFY_SOCKET) so the daemon needs no libsystemd. */
#ifndef LIBRETTOD_SD_NOTIFY_H
#define LIBRETTOD_SD_NOTIFY_H

/* Sends state (e.g. "READY=1") when NOTIFY_SOCKET is set; a no-op
 * otherwise. Returns 0, or -1 with errno. */
int sd_notify_send(const char *state);

#endif
