/* librettoctl version: this program's version and the daemon's. */
#include <libretto/protocol.h>
#include <libretto/version.h>
#include <stdio.h>

#include "client.h"
#include "ctl.h"
#include "jget.h"
#include "output.h"

int cmd_version(const struct ctl_invocation *inv)
{
	struct ctl_client *client;
	struct json_object *reply = NULL;
	struct json_object *result;
	char version[256], protocol[64], backend[256];
	int status;

	/* Our own version first and in any case: it is the one fact that does
	 * not need the daemon, and the one wanted when the daemon is down. */
	if (!inv->json) {
		printf("librettoctl %s (protocol %d)\n", LIBRETTO_VERSION,
		       LT_PROTOCOL_VERSION);
		fflush(stdout);
	}
	status = client_open(inv->socket_path, &client);
	if (status == LT_EXIT_OK) {
		status = client_call(client, LT_CMD_VERSION, NULL, &reply);
		client_close(client);
	}
	if (status != LT_EXIT_OK)
		return status;
	result = jget_object(reply, "result");
	if (inv->json) {
		struct json_object *out = json_object_new_object();
		struct json_object *cli = json_object_new_object();

		json_object_object_add(
		    cli, "version", json_object_new_string(LIBRETTO_VERSION));
		json_object_object_add(
		    cli, "protocol", json_object_new_int(LT_PROTOCOL_VERSION));
		json_object_object_add(out, "librettoctl", cli);
		json_object_object_add(out, "librettod",
				       json_object_get(result));
		out_json_line(out);
		json_object_put(out);
	} else {
		jget_text(jget(result, "version"), version, sizeof(version));
		jget_text(jget(result, "protocol"), protocol, sizeof(protocol));
		jget_text(jget(result, "backend"), backend, sizeof(backend));
		printf("librettod ");
		out_text(stdout, version);
		printf(" (protocol ");
		out_text(stdout, protocol);
		printf(", backend ");
		out_text(stdout, backend);
		printf(")\n");
	}
	json_object_put(reply);
	return LT_EXIT_OK;
}
