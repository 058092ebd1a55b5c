/*
 * status_json: "warren status --json", one JSON object.
 */
#include <stdio.h>
#include <string.h>

#include "ctlmsg.h"
#include "warren.h"

/* Print ${s} as a JSON string. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * Print the object ${key} of the stats of ${m} whose kind is ${kind}
 * (numbers; text for CTLMSG_UNKNOWN values that are not numbers), or
 * with ${clients}, the client_sessions:NAME values by NAME.
 */
static void
json_group(FILE *f, const char *key, const struct ctlmsg *m,
    enum ctlmsg_kind kind, int clients)
{
	static const char cs[] = "client_sessions:";
	const char *sep = "";

	fprintf(f, ",\n  ");
	json_str(f, key);
	fprintf(f, ": {");
	for (size_t i = 0; i < m->nstats; i++) {
		const struct ctlmsg_stat *st = &m->stats[i];
		int is_cs = strncmp(st->name, cs, sizeof(cs) - 1) == 0;

		if (is_cs != clients || (!clients &&
		    ctlmsg_kind(st->name, NULL) != kind) ||
		    strcmp(st->name, "version") == 0)
			continue;
		fprintf(f, "%s\n    ", sep);
		json_str(f, clients ? st->name + sizeof(cs) - 1 : st->name);
		fprintf(f, ": ");
		if (st->numeric)
			fprintf(f, "%llu", (unsigned long long)st->num);
		else
			json_str(f, st->value);
		sep = ",";
	}
	fprintf(f, "%s}", *sep != '\0' ? "\n  " : "");
}

void
status_json_print(FILE *f, const char *path, const struct ctlmsg *m)
{
	const struct ctlmsg_stat *v = ctlmsg_stat(m, "version");

	fprintf(f, "{\n  \"socket\": ");
	json_str(f, path);
	fprintf(f, ",\n  \"version\": ");
	if (v != NULL)
		json_str(f, v->value);
	else
		fprintf(f, "null");
	json_group(f, "counters", m, CTLMSG_COUNTER, 0);
	json_group(f, "gauges", m, CTLMSG_GAUGE, 0);
	json_group(f, "client_sessions", m, CTLMSG_GAUGE, 1);
	json_group(f, "other", m, CTLMSG_UNKNOWN, 0);
	fprintf(f, ",\n  \"sessions\": [");
	for (size_t i = 0; i < m->nsessions; i++) {
		const struct ctlmsg_session *s = &m->sessions[i];

		fprintf(f, "%s\n    {\"id\": ", i > 0 ? "," : "");
		json_str(f, s->id);
		fprintf(f, ", \"client\": ");
		json_str(f, s->client);
		fprintf(f, ", \"service\": ");
		json_str(f, s->service);
		fprintf(f, ", \"peer\": ");
		json_str(f, s->peer);
		fprintf(f, ", \"state\": ");
		json_str(f, s->state);
		fprintf(f, ", \"stalled\": %s, \"age_s\": %llu, ",
		    s->stalled ? "true" : "false",
		    (unsigned long long)s->age_s);
		if (s->has_idle)
			fprintf(f, "\"idle_s\": %llu, ",
			    (unsigned long long)s->idle_s);
		else
			fprintf(f, "\"idle_s\": null, ");
		fprintf(f, "\"bytes_in\": %llu, \"bytes_out\": %llu, "
		    "\"carriers\": %llu}", (unsigned long long)s->bytes_in,
		    (unsigned long long)s->bytes_out,
		    (unsigned long long)s->carriers);
	}
	fprintf(f, "%s]\n}\n", m->nsessions > 0 ? "\n  " : "");
}
