/*
 * Names of the control protocol (docs/protocol.md): commands, error classes
 * and events.  librettod and librettoctl both take them from here.
 */
#ifndef LIBRETTO_PROTOCOL_H
#define LIBRETTO_PROTOCOL_H

#define LT_PROTOCOL_VERSION 1
#define LT_DEFAULT_SOCKET   "/run/libretto/librettod.sock"
#define LT_ENV_SOCKET	    "LIBRETTO_SOCKET"
/* A request line longer than this is refused with LT_ERR_TOO_LARGE. */
#define LT_MAX_REQUEST (1024 * 1024)

/* commands */
#define LT_CMD_VERSION	 "version"
#define LT_CMD_STATUS	 "status"
#define LT_CMD_DEPLOY	 "deploy"
#define LT_CMD_VALIDATE	 "validate"
#define LT_CMD_DESTROY	 "destroy"
#define LT_CMD_SUBSCRIBE "subscribe"
#define LT_CMD_SWITCH	 "switch"

/* error classes: the fixed set, documented in docs/protocol.md */
#define LT_ERR_PARSE	       "parse-error" /* line is not a JSON object */
#define LT_ERR_TOO_LARGE       "too-large"   /* line over LT_MAX_REQUEST */
#define LT_ERR_BAD_REQUEST     "bad-request" /* missing/mistyped id, cmd, args */
#define LT_ERR_UNKNOWN_COMMAND "unknown-command"
#define LT_ERR_BAD_ARGUMENT    "bad-argument" /* unknown key, wrong type */
#define LT_ERR_INVALID	       "invalid-deployment"
#define LT_ERR_NOT_FOUND       "not-found"
#define LT_ERR_PERMISSION      "permission-denied"
#define LT_ERR_BUSY	       "busy" /* an operation is in flight */
#define LT_ERR_RESOURCE	       "resource-exhausted"
#define LT_ERR_BACKEND	       "backend-error"
#define LT_ERR_INTERNAL	       "internal-error"

/* events */
#define LT_EV_OP_PROGRESS    "op-progress"
#define LT_EV_OP_DONE	     "op-done"
#define LT_EV_DOMAIN_STATE   "domain-state"
#define LT_EV_DOMAIN_EXIT    "domain-exit"
#define LT_EV_GUEST_STATE    "guest-state"
/* A value of a guest's xenstore tree outside its grammar, refused. */
#define LT_EV_GUEST_INPUT_REFUSED "guest-input-refused"
#define LT_EV_BACKEND_FAILED "backend-failed"
#define LT_EV_PORT_CONFLICT  "port-conflict"
/* A domain's xenstore watches past their budget, deferred (docs/librettod.md). */
#define LT_EV_DOMAIN_THROTTLED "domain-throttled"
/* guest/ports entries refused in bulk: malformed, or beyond the cap. */
#define LT_EV_PORT_REFUSED "port-refused"
/* Restarts by policy and the network server's recovery (docs/recovery.md). */
#define LT_EV_DOMAIN_RESTARTED "domain-restarted"
#define LT_EV_DOMAIN_GAVE_UP   "domain-gave-up"
#define LT_EV_SERVER_RECOVERED "server-recovered"
#define LT_EV_DEPLOYMENT       "deployment-state"
/* The dynamic switch (ARCHITECTURE 5): a step done (or undone), then one of
 * done or failed, all carrying the switch's op id. */
#define LT_EV_SWITCH_STEP   "switch-step"
#define LT_EV_SWITCH_DONE   "switch-done"
#define LT_EV_SWITCH_FAILED "switch-failed"
/* An app's data path, as status reports it and switch takes it. */
#define LT_PATH_SERVER "server"
#define LT_PATH_DIRECT "direct"

/* domain states, as status reports them */
#define LT_DOM_STARTING "starting"
#define LT_DOM_RUNNING	"running"
#define LT_DOM_STOPPING "stopping"
#define LT_DOM_EXITED	"exited" /* process ended with status 0 */
#define LT_DOM_FAILED	"failed" /* ended by a signal or non-zero status */

/* librettoctl exit codes */
#define LT_EXIT_OK	    0
#define LT_EXIT_FAILED	    1
#define LT_EXIT_USAGE	    2
#define LT_EXIT_UNREACHABLE 3

#endif
