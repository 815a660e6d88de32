/*
 * Numbers read from xenstore node names and values the daemon writes
 * itself (a pool's VF ids, a switch's seq): checked before use, since a
 * corrupted or hand-edited store may hold anything, and an id indexes an
 * array.  Canonical decimals only: digits, no sign, no space, no leading
 * zero but "0" itself -- what strtoul or atoi would turn into some
 * number is refused.
 */
#ifndef LIBRETTOD_XS_INDEX_H
#define LIBRETTOD_XS_INDEX_H

/* s as an index below limit, or -1. */
int xs_index_parse(const char *s, unsigned limit);

/* s as an unsigned int in *out: 0, or -1 (out untouched). */
int xs_uint_parse(const char *s, unsigned *out);

#endif
