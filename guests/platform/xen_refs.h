/*
 * The xen realisation's reference texts (docs/platform.md), kept apart
 * from the hypercalls so that they can be tested anywhere:
 *
 *   share:   its grant refs in decimal, comma-separated, in page order
 *            ("8,9,10,...": netfront's ring-ref, one per page);
 *   channel: the allocator's event-channel port in decimal.
 *
 * Parsing is strict: it accepts exactly what the formatting writes (no
 * sign, no space, no leading zero, no empty item), so that one share has
 * one text and a peer's text is either ours or refused.
 */
#ifndef LIBRETTO_XEN_REFS_H
#define LIBRETTO_XEN_REFS_H

#include <stddef.h>
#include <stdint.h>

/* Writes n refs into buf (size bytes, NUL included).  0, or -E2BIG when
 * they do not fit (buf then holds ""). */
int xen_refs_format(const uint32_t *refs, size_t n, char *buf, size_t size);

/* Reads up to max refs from text into refs.  Returns their count (>= 1),
 * or -EINVAL: text is empty, malformed, or has more than max refs. */
int xen_refs_parse(const char *text, uint32_t *refs, size_t max);

/* Reads an event-channel port.  0, or -EINVAL (malformed, or 0, which
 * Xen never allocates). */
int xen_port_parse(const char *text, uint32_t *port);

#endif
