/*
 * Operations: a list of steps run one after another on the backend, each
 * completed step leaving its inverse on an undo stack.  When a step fails,
 * the undo stack runs in reverse so nothing is left half-made; progress and
 * the outcome are events on the control socket, tagged with the op id.
 */
#ifndef LIBRETTOD_OP_H
#define LIBRETTOD_OP_H

#include <stddef.h>
#include <time.h>

#include "proto.h"

struct deployment;
struct domain;
struct lt_network;

enum step_kind {
	STEP_SETUP,    /* backend deployment_setup */
	STEP_TEARDOWN, /* backend deployment_teardown */
	STEP_CREATE,   /* backend domain_create, then the xenstore layout */
	STEP_RUN,      /* backend domain_run */
	STEP_DESTROY,  /* backend domain_destroy, xenstore nodes removed */
	/* backend domain_recreate: DESTROY then CREATE, keeping what was
	 * passed through (a restarted network server, restart.c) */
	STEP_RECREATE,
};

struct step {
	enum step_kind kind;
	struct domain *dom;	      /* CREATE, RUN, DESTROY */
	const struct lt_network *net; /* SETUP, TEARDOWN */
};

/* OP_RESTART: a domain that ended, started again by its restart policy
 * (restart.c): destroy, create, run; no undo, a failure is reported. */
enum op_kind { OP_DEPLOY, OP_DESTROY, OP_RESTART };

struct op {
	unsigned id;
	enum op_kind kind;
	struct deployment *dep;
	struct step *steps;
	size_t nsteps, next;
	struct step *undo;
	size_t nundo, undo_cap;
	int rolling_back;
	int best_effort; /* destroy: go on past failures, undo nothing */
	int failed;
	int undo_failed; /* an undo step failed too: something is left */
	struct lt_error err;
	struct timespec started;
	/* Called once at the end, ok or not, before the op is freed. */
	void (*finish)(struct op *op);
};

struct op *op_new(struct deployment *dep, enum op_kind kind);
int op_add(struct op *op, enum step_kind kind, struct domain *dom,
	   const struct lt_network *net);
/* Frees an op that was never started. */
void op_discard(struct op *op);
/* Runs the steps; the op frees itself after finish(). */
void op_start(struct op *op);
const char *op_kind_name(enum op_kind kind);

#endif
