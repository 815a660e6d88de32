/*
 * Reading what a guest wrote, through its grammar (guest_value.h). A value
 * outside it is refused: treated as absent, counted against the domain
 * whose tree holds it, and reported at most once per GUEST_REPORT_INTERVAL_MS
 * for each domain and reason, as a log line with the value escaped and a
 * guest-input-refused event (docs/xenstore.md, "What a guest may write").
 */
#ifndef LIBRETTOD_GUEST_INPUT_H
#define LIBRETTOD_GUEST_INPUT_H

#include <stdint.h>
#include <time.h>

#include "guest_value.h"

struct domain;

/* A report per domain and reason at most this often. */
#define GUEST_REPORT_INTERVAL_MS 60000

/* What a domain had refused (a member of struct domain, zeroed with it). */
struct guest_refusals {
	uint64_t count; /* refused reads since the domain was made */
	struct timespec reported[GUEST_FAULTS]; /* zero: never reported */
	uint64_t unreported[GUEST_FAULTS];	/* since that report */
};

/*
 * Refuses value (NULL: none to show) read at path, a node of writer's tree
 * (or of the nodes writer writes): counts it, and reports it unless this
 * domain's last report of f is recent.
 */
void guest_refused(struct domain *writer, const char *path, const char *value,
		   enum guest_fault f);

/*
 * Read path and check it; NULL or -1 when it is absent or refused (the
 * refusal reported). guest_read_token returns the token from tokens (not
 * a copy: nothing to free); the others a malloc'd value.
 */
const char *guest_read_token(struct domain *writer, const char *path,
			     const char *const tokens[]);
int guest_read_u64(struct domain *writer, const char *path, uint64_t max,
		   uint64_t *out);
char *guest_read_text(struct domain *writer, const char *path);

/* The states of guest/state, NULL-terminated. */
extern const char *const guest_states[];

#endif
