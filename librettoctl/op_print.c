#include "op_print.h"

#include <stdio.h>
#include <string.h>

#include "jget.h"
#include "output.h"

#define TEXT_MAX 1024

static size_t count_changes(struct json_object *changes)
{
	size_t n = 0;

	if (changes == NULL)
		return 0;
	for (size_t i = 0; i < json_object_array_length(changes); i++) {
		const char *action =
		    jget_str(json_object_array_get_idx(changes, i), "action");
		/* "keep" is listed for completeness; it is not a change. */
		if (action == NULL || strcmp(action, "keep") != 0)
			n++;
	}
	return n;
}

void op_print_plan(const char *cmd, const char *name,
		   struct json_object *result, bool dry_run)
{
	struct json_object *changes = jget_array(result, "changes");
	size_t n = changes != NULL ? json_object_array_length(changes) : 0;
	char action[TEXT_MAX], domain[TEXT_MAX];

	if (changes == NULL && !dry_run) /* destroy has no plan to show */
		return;
	if (count_changes(changes) == 0 && !dry_run) {
		printf("%s ", cmd);
		out_text(stdout, name);
		printf(": no changes\n");
		return;
	}
	printf("plan for ");
	out_text(stdout, name);
	printf("%s:\n", dry_run ? " (dry run, nothing changed)" : "");
	if (n == 0)
		printf("  nothing to do\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *change =
		    json_object_array_get_idx(changes, i);

		jget_text(jget(change, "action"), action, sizeof(action));
		jget_text(jget(change, "domain"), domain, sizeof(domain));
		printf("  ");
		out_text(stdout, action);
		for (size_t w = out_width(action); w < 9; w++)
			putchar(' ');
		out_text(stdout, domain);
		putchar('\n');
	}
	fflush(stdout);
}

void op_print_progress(struct json_object *data, int64_t since_ms)
{
	const char *step = jget_str(data, "step");
	const char *domain = jget_str(data, "domain");
	const char *message = jget_str(data, "message");

	printf("[%4lld.%02llds] ", (long long)(since_ms / 1000),
	       (long long)(since_ms % 1000 / 10));
	out_text(stdout, step != NULL ? step : "-");
	if (domain != NULL) {
		putchar(' ');
		out_text(stdout, domain);
	}
	if (message != NULL) {
		printf(": ");
		out_text(stdout, message);
	}
	putchar('\n');
	fflush(stdout);
}

void op_print_done(const char *cmd, const char *name, struct json_object *data,
		   int64_t measured_ms)
{
	int64_t ms = measured_ms;
	bool ok = false;

	jget_int(data, "elapsed_ms", &ms);
	jget_bool(data, "ok", &ok);
	printf("%s ", cmd);
	out_text(stdout, name);
	printf(": %s %lld.%02lld s\n", ok ? "done in" : "failed after",
	       (long long)(ms / 1000), (long long)(ms % 1000 / 10));
	fflush(stdout);
}

void op_print_switch_started(struct json_object *result)
{
	char domain[TEXT_MAX], from[TEXT_MAX], to[TEXT_MAX], op[32];

	jget_text(jget(result, "domain"), domain, sizeof(domain));
	jget_text(jget(result, "from"), from, sizeof(from));
	jget_text(jget(result, "to"), to, sizeof(to));
	jget_text(jget(result, "op"), op, sizeof(op));
	printf("switch ");
	out_text(stdout, domain);
	if (jget(result, "op") == NULL) {
		printf(": already on ");
		out_text(stdout, to);
		printf(", nothing to do\n");
	} else {
		printf(": ");
		out_text(stdout, from);
		printf(" -> ");
		out_text(stdout, to);
		printf(" (operation %s)\n", op);
	}
	fflush(stdout);
}

void op_print_switch_step(struct json_object *data)
{
	const char *step = jget_str(data, "step");
	const char *message = jget_str(data, "message");
	bool undo = false;
	double ms = 0;

	jget_bool(data, "undo", &undo);
	if (jget(data, "ms") != NULL)
		ms = json_object_get_double(jget(data, "ms"));
	printf("  %s", undo ? "undo " : "");
	out_text(stdout, step != NULL ? step : "-");
	for (size_t w = out_width(step ? step : "-") + (undo ? 5 : 0); w < 13;
	     w++)
		putchar(' ');
	printf("%9.3f ms  ", ms);
	out_text(stdout, message != NULL ? message : "");
	putchar('\n');
	fflush(stdout);
}

void op_print_switch_end(struct json_object *data, bool ok)
{
	char domain[TEXT_MAX], path[TEXT_MAX];
	double ms = 0;

	jget_text(jget(data, "domain"), domain, sizeof(domain));
	jget_text(jget(data, "path"), path, sizeof(path));
	if (jget(data, "elapsed_ms") != NULL)
		ms = json_object_get_double(jget(data, "elapsed_ms"));
	printf("switch ");
	out_text(stdout, domain);
	if (ok) {
		printf(": on ");
		out_text(stdout, path);
		printf(", done in %.3f ms\n", ms);
	} else {
		bool rolled_back = false;

		jget_bool(data, "rolled_back", &rolled_back);
		printf(": failed after %.3f ms; %s ", ms,
		       rolled_back ? "rolled back, still on"
				   : "ROLLBACK INCOMPLETE, now on");
		out_text(stdout, path);
		putchar('\n');
	}
	fflush(stdout);
}
