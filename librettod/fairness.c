#include "fairness.h"

#include "engine.h"
#include "log.h"
#include "xs.h"
#include <libretto/protocol.h>

static struct domain *domain_by_domid(struct engine *e, unsigned domid)
{
	struct deployment *dep;
	struct domain *d;

	TAILQ_FOREACH(dep, &e->deployments, entry)
	TAILQ_FOREACH(d, &dep->domains, entry)
	if (d->domid == domid && d->created && d->state != DOM_GONE)
		return d;
	return NULL;
}

static void on_throttle(void *arg, const struct lt_xs_fairness *f)
{
	struct engine *e = arg;
	struct domain *d = domain_by_domid(e, f->domid);
	struct json_object *data;

	log_warn("domain %u (%s/%s) floods its xenstore tree: %llu watch "
		 "events, %llu handled; now handled every %u ms while it "
		 "goes on (%llu throttles unreported)",
		 f->domid, d ? d->dep->name : "?", d ? d->be.name : "?",
		 f->events, f->handled, f->delay_ms, f->unreported);
	if (d != NULL) {
		data = domain_event_data(d);
	} else {
		data = json_object_new_object();
		json_object_object_add(data, "domid",
				       json_object_new_int64(f->domid));
	}
	json_object_object_add(data, "events",
			       json_object_new_int64((int64_t)f->events));
	json_object_object_add(data, "handled",
			       json_object_new_int64((int64_t)f->handled));
	json_object_object_add(data, "throttles",
			       json_object_new_int64((int64_t)f->throttles));
	json_object_object_add(data, "delay_ms",
			       json_object_new_int64(f->delay_ms));
	json_object_object_add(data, "budget_per_s",
			       json_object_new_int64(LT_XS_FAIR_RATE));
	engine_emit(e, LT_EV_DOMAIN_THROTTLED, data);
}

void fairness_attach(struct engine *e)
{
	lt_xs_on_throttle(e->xs, on_throttle, e);
}

void fairness_describe(struct engine *e, const struct domain *d,
		       struct json_object *o)
{
	struct lt_xs_fairness f;
	struct json_object *w;

	if (e->xs == NULL || d->domid == 0 ||
	    lt_xs_fairness(e->xs, d->domid, &f) < 0) {
		json_object_object_add(o, "watches", NULL);
		return;
	}
	w = json_object_new_object();
	json_object_object_add(w, "events",
			       json_object_new_int64((int64_t)f.events));
	json_object_object_add(w, "handled",
			       json_object_new_int64((int64_t)f.handled));
	json_object_object_add(w, "throttled",
			       json_object_new_boolean(f.throttled));
	json_object_object_add(w, "throttles",
			       json_object_new_int64((int64_t)f.throttles));
	json_object_object_add(o, "watches", w);
}
