#include "guest_input.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "log.h"
#include "timing.h"
#include "xs.h"
#include <libretto/protocol.h>

const char *const guest_states[] = {
    LT_GUEST_BOOTING, LT_GUEST_READY, LT_GUEST_SWITCHING,
    LT_GUEST_DIRECT,  LT_GUEST_ERROR, NULL,
};

/* path below writer's libretto/ directory, as logs and events name it. */
static const char *node_name(const struct domain *writer, const char *path)
{
	char prefix[64];
	int n = snprintf(prefix, sizeof(prefix), LT_XS_GUEST_FMT "/",
			 writer->domid);

	if (n > 0 && strncmp(path, prefix, (size_t)n) == 0)
		return path + n;
	return path;
}

/* Whether f is due a report for writer now; notes it if so. */
static int report_due(struct guest_refusals *r, enum guest_fault f)
{
	return lt_interval_due(&r->reported[f], GUEST_REPORT_INTERVAL_MS);
}

void guest_refused(struct domain *writer, const char *path, const char *value,
		   enum guest_fault f)
{
	struct guest_refusals *r = &writer->refused;
	const char *node = node_name(writer, path);
	char shown[GUEST_ESCAPED_SIZE], more[96] = "";
	struct json_object *data;

	r->count++;
	if ((unsigned)f >= GUEST_FAULTS)
		return; /* not a reason: a caller's bug, nothing to index */
	if (!report_due(r, f)) {
		r->unreported[f]++;
		return;
	}
	if (r->unreported[f] != 0)
		snprintf(more, sizeof(more),
			 "; %" PRIu64 " more refused for this reason since "
			 "the last report",
			 r->unreported[f]);
	r->unreported[f] = 0;
	log_warn("domain %u (%s/%s): refused %s = \"%s\": %s%s "
		 "(treated as absent)",
		 writer->domid, writer->dep->name, writer->be.name, node,
		 guest_escape(value, shown), guest_fault_name(f), more);
	data = domain_event_data(writer);
	json_object_object_add(data, "node", json_object_new_string(node));
	json_object_object_add(data, "reason",
			       json_object_new_string(guest_fault_name(f)));
	json_object_object_add(data, "refused",
			       json_object_new_int64((int64_t)r->count));
	engine_emit(writer->dep->engine, LT_EV_GUEST_INPUT_REFUSED, data);
}

static char *read_node(struct domain *writer, const char *path)
{
	return lt_xs_read(writer->dep->engine->xs, XBT_NULL, path);
}

const char *guest_read_token(struct domain *writer, const char *path,
			     const char *const tokens[])
{
	char *v = read_node(writer, path);
	enum guest_fault f;
	size_t i;

	if (v == NULL)
		return NULL;
	f = guest_token(v, tokens, &i);
	if (f != GUEST_OK)
		guest_refused(writer, path, v, f);
	free(v);
	return f == GUEST_OK ? tokens[i] : NULL;
}

int guest_read_u64(struct domain *writer, const char *path, uint64_t max,
		   uint64_t *out)
{
	char *v = read_node(writer, path);
	enum guest_fault f;

	if (v == NULL)
		return -1;
	f = guest_u64(v, max, out);
	if (f != GUEST_OK)
		guest_refused(writer, path, v, f);
	free(v);
	return f == GUEST_OK ? 0 : -1;
}

char *guest_read_text(struct domain *writer, const char *path)
{
	char *v = read_node(writer, path);
	enum guest_fault f;

	if (v == NULL)
		return NULL;
	f = guest_text(v);
	if (f == GUEST_OK)
		return v;
	guest_refused(writer, path, v, f);
	free(v);
	return NULL;
}
