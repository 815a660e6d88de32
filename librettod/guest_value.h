/*
 * The grammar of what a guest writes in xenstore (docs/xenstore.md, "What a
 * guest may write"). Every value read from a guest's tree, or from the
 * nodes the network server writes, is checked here before it is used:
 * a state is one token of a fixed set, a number is a bounded decimal, a
 * name is [a-z0-9_-] of bounded length, free text is printable ASCII of
 * bounded length. Anything else is refused: the caller treats the node as
 * absent and reports it (guest_input.h) with the value escaped by
 * guest_escape(), never raw.
 *
 * Pure functions over strings: no daemon state, so the unit tests and any
 * part of librettod (the backends too) may use them.
 */
#ifndef LIBRETTOD_GUEST_VALUE_H
#define LIBRETTOD_GUEST_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* A name (a counter's node name): at most this many bytes. */
#define GUEST_NAME_MAX 32
/* Free text (guest/error): at most this many bytes. */
#define GUEST_TEXT_MAX 256
/* A directory of counters: at most this many entries. */
#define GUEST_COUNTERS_MAX 32
/* A decimal number: at most this many digits (2^64 has 20). */
#define GUEST_DIGITS_MAX 20
/* guest_escape() shows at most this many bytes of a value. */
#define GUEST_ESCAPE_SHOWN 48
/* Room for guest_escape()'s output: every byte as \xNN, "...", the NUL. */
#define GUEST_ESCAPED_SIZE (GUEST_ESCAPE_SHOWN * 4 + 4)

/* Why a value was refused; GUEST_OK when it was not. */
enum guest_fault {
	GUEST_OK = 0,
	GUEST_EMPTY,	     /* "" where the grammar wants something */
	GUEST_TOO_LONG,	     /* past the grammar's length bound */
	GUEST_CONTROL,	     /* a control character: newline, escape, ... */
	GUEST_NOT_ASCII,     /* a byte past 0x7e (also: not UTF-8) */
	GUEST_UNKNOWN_TOKEN, /* printable, but not one of the set */
	GUEST_NOT_DECIMAL,   /* a number with a sign, a space, a letter */
	GUEST_OUT_OF_RANGE,  /* a decimal past its bound */
	GUEST_BAD_NAME,	     /* a character outside [a-z0-9_-] */
	GUEST_TOO_MANY,	     /* more entries in a directory than allowed */
	GUEST_FAULTS
};

/* "too-long", "control-character", ...: for logs, events and status. */
const char *guest_fault_name(enum guest_fault f);

/* v is one of tokens (NULL-terminated); *index (may be NULL) says which. */
enum guest_fault guest_token(const char *v, const char *const tokens[],
			     size_t *index);
/* v is a decimal of digits only, no sign, no space, no leading zero (but
 * "0"), at most max; its value in *out (may be NULL). */
enum guest_fault guest_u64(const char *v, uint64_t max, uint64_t *out);
/* v is a name: 1 to GUEST_NAME_MAX bytes of [a-z0-9_-]. */
enum guest_fault guest_name(const char *v);
/* v is free text: 0 to GUEST_TEXT_MAX bytes of printable ASCII. */
enum guest_fault guest_text(const char *v);

/*
 * v shown safely in out (GUEST_ESCAPED_SIZE bytes): printable ASCII as is
 * but for '\' and '"', which are escaped, every other byte as \xNN; at most
 * GUEST_ESCAPE_SHOWN bytes of v, then "..." when there was more. NULL shows
 * as "(none)". Returns out.
 */
char *guest_escape(const char *v, char out[GUEST_ESCAPED_SIZE]);

#endif
