/*
 * libFuzzer target: the parsers of warrend's control-socket answers
 * (ctlmsg.h), which "warren status" reads, on arbitrary bytes.  What
 * they accept is checked against the rules they promise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctlmsg m;

	memset(&m, 0, sizeof(m));
	if (ctlmsg_parse_status(&m, (const char *)data, size) == 0) {
		for (size_t i = 0; i < m.nstats; i++) {
			const struct ctlmsg_stat *st = &m.stats[i];

			if (strlen(st->name) == 0 || strlen(st->value) == 0 ||
			    strchr(st->value, ' ') != NULL)
				abort();
			(void)ctlmsg_kind(st->name, NULL);
			if (ctlmsg_stat(&m, st->name) == NULL)
				abort();
		}
	}
	if (ctlmsg_parse_sessions(&m, (const char *)data, size) == 0) {
		for (size_t i = 0; i < m.nsessions; i++) {
			const struct ctlmsg_session *s = &m.sessions[i];

			if (s->id[0] == '\0' || s->client[0] == '\0' ||
			    s->service[0] == '\0' || s->peer[0] == '\0' ||
			    s->state[0] == '\0')
				abort();
		}
	}
	ctlmsg_free(&m);
	return (0);
}
