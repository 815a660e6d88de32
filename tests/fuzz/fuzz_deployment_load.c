/* libFuzzer target: any bytes through the deployment loader. It must not
 * crash, leak or overrun, and must either load or give an error with a
 * message; a success must survive freeing and the equality helpers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "deployment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lt_deployment *d = NULL;
	struct lt_load_error err;
	char msg[1024];

	if (lt_deployment_load((const char *)data, size, "fuzz.yaml", &d,
			       &err) < 0) {
		if (d != NULL || err.message[0] == '\0')
			abort();
		lt_load_error_format(&err, msg, sizeof(msg));
		return 0;
	}
	for (size_t i = 0; i < d->napps; i++)
		if (!lt_app_equal(&d->apps[i], &d->apps[i]))
			abort();
	if (!lt_network_equal(&d->net, &d->net) ||
	    !lt_server_equal(&d->server, &d->server))
		abort();
	lt_deployment_free(d);
	return 0;
}
