/*
 * The status result (docs/protocol.md "status result") as the user sees it.
 * The only place that turns a status into output, for `status` and for
 * every redraw of `status --watch`.
 */
#ifndef LIBRETTOCTL_STATUS_FORMAT_H
#define LIBRETTOCTL_STATUS_FORMAT_H

#include <json-c/json.h>
#include <stdbool.h>

/*
 * The whole output for one status result, newline-terminated, malloc'd:
 * with json the result serialised on one line; otherwise the backend line
 * and one block (header lines + domain table) per deployment, or, when
 * one_domain (status NAME DOMAIN), the key/value listing of that domain.  Any
 * shape is accepted: missing members print "-".
 */
char *status_format(struct json_object *result, bool json, bool one_domain);

#endif
