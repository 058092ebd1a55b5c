/*
 * libFuzzer target: the server and client config parsers on arbitrary
 * text, and a reload's diff (cfgdiff) between each server config that
 * parses and the one parsed before it.  Logging is silenced and names
 * are never resolved.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cfgdiff.h"
#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	static struct cfg_server *prev;    /* the last server config parsed */
	struct cfg_server *cfg;
	struct cfgdiff d;
	char line[512];
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

	if ((cfg = cfg_server_parse_string(text, "fuzz.conf")) != NULL) {
		if (prev != NULL) {
			cfgdiff_compute(prev, cfg, &d);
			cfgdiff_format(&d, line, sizeof(line));
			cfgdiff_keep_restart(prev, cfg);
			cfgdiff_compute(prev, cfg, &d);
		}
		cfg_server_free(prev);
		prev = cfg;
	}
	cfg_client_free(cfg_client_parse_string(text, "fuzz.conf"));

	free(text);
	return (0);
}
