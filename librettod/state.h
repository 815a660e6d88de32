/*
 * The daemon's state file (docs/recovery.md): what a restarted librettod
 * needs to adopt what its predecessor left running.  One JSON document,
 * versioned, replaced atomically (temp file, fsync, rename, fsync of the
 * folder) on a worker thread, so that the event loop never waits for the
 * disk; writes are coalesced: while one is out, the latest snapshot waits.
 */
#ifndef LIBRETTOD_STATE_H
#define LIBRETTOD_STATE_H

#include <json-c/json.h>

struct engine;

#define STATE_VERSION 1
#define STATE_FILE    "state.json"

/* Marks the state changed: a snapshot is written soon. */
void state_changed(struct engine *e);
/* Writes the snapshot now, on the calling thread (daemon exit). */
void state_flush(struct engine *e);
/* Frees the writer once no write is out (engine_free). */
void state_close(struct engine *e);

/*
 * Makes <dir> fit to hold the state: created 0700 when missing; an
 * existing one made 0700. -1 with *err (malloc'd) when it is a symbolic
 * link or not a folder, or is owned by someone but root and the daemon's
 * user: what it holds decides what the daemon adopts and destroys.
 */
int state_dir_secure(const char *dir, char **err);

/*
 * Reads <dir>/state.json (after state_dir_secure; a state.json that is a
 * symbolic link is refused). 0 with *out NULL when there is none; 0 with
 * *out set (owned) when it is valid; -1 with *err (malloc'd) when it is
 * unreadable, not JSON, or of another version -- the caller refuses to
 * start rather than act on it.
 */
int state_read(const char *dir, struct json_object **out, char **err);

/* The snapshot of the engine (pure: unit-testable). */
struct json_object *state_snapshot(struct engine *e);

#endif
