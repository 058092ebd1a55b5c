/*
 * libFuzzer target: the server and client config parsers on arbitrary
 * text.  Logging is silenced and names are never resolved.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *text;

	if (!ready) {
		log_init("fuzz", LOG_SILENT);
		addr_set_resolve(0);
		ready = 1;
	}
	if ((text = malloc(size + 1)) == NULL)
		return (0);
	memcpy(text, data, size);
	text[size] = '\0';

	cfg_server_free(cfg_server_parse_string(text, "fuzz.conf"));
	cfg_client_free(cfg_client_parse_string(text, "fuzz.conf"));

	free(text);
	return (0);
}
