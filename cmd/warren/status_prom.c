/*
 * status_prom: "warren status --prometheus", the Prometheus text
 * exposition format 0.0.4, for node_exporter's textfile collector (so the
 * node opens no TCP port for metrics; dist/warren-metrics.timer).
 *
 * Each status value becomes one metric named warren_NAME: counters end in
 * _total, time values are in seconds, the version is a label of
 * warren_info.  Sessions are not one series each: their ids are random
 * and short-lived, so a series per session would grow the database with
 * every session.  They are counted instead by client, service and state,
 * whose values the config bounds (warren_sessions_current).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"
#include "warren.h"

#define CS "client_sessions:"

/* Print the HELP text ${s}, escaped (backslash and line feed). */
static void
help_str(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* Print ${s} as a quoted label value. */
static void
label_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Print the # HELP and # TYPE lines of metric family ${name}. */
static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	help_str(f, help);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/*
 * The metric name of status value ${name} of kind ${kind} into ${out}:
 * warren_NAME (_total for a counter), any character a metric name may
 * not hold made '_'.
 */
static void
metric_name(const char *name, enum ctlmsg_kind kind,
    char out[CTLMSG_NAMELEN + 16])
{
	static const struct {
		const char *status, *metric;
	} renamed[] = {
		{ "started_unix", "warren_start_time_seconds" },
		{ "uptime_s", "warren_uptime_seconds" },
		{ "worker_uptime_s", "warren_worker_uptime_seconds" },
	};
	size_t i, n;

	for (i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (strcmp(name, renamed[i].status) == 0) {
			snprintf(out, CTLMSG_NAMELEN + 16, "%s",
			    renamed[i].metric);
			return;
		}
	n = (size_t)snprintf(out, CTLMSG_NAMELEN + 16, "warren_%s%s", name,
	    kind == CTLMSG_COUNTER ? "_total" : "");
	for (i = 0; i < n && out[i] != '\0'; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= '0' && out[i] <= '9') || out[i] == '_'))
			out[i] = '_';
}

/* Sort sessions by client, service, state (for counting runs). */
static int
by_key(const void *a, const void *b)
{
	const struct ctlmsg_session *x = a, *y = b;
	int c;

	if ((c = strcmp(x->client, y->client)) != 0)
		return c;
	if ((c = strcmp(x->service, y->service)) != 0)
		return c;
	return strcmp(x->state, y->state);
}

/* warren_sessions_current{client,service,state}: the live sessions. */
static void
sessions(FILE *f, const struct ctlmsg *m)
{
	struct ctlmsg_session *s;
	size_t i, j;

	family(f, "warren_sessions_current", "gauge",
	    "Live sessions now, by client, service and state");
	if (m->nsessions == 0)
		return;
	if ((s = malloc(m->nsessions * sizeof(*s))) == NULL)
		return;
	memcpy(s, m->sessions, m->nsessions * sizeof(*s));
	qsort(s, m->nsessions, sizeof(*s), by_key);
	for (i = 0; i < m->nsessions; i = j) {
		for (j = i + 1; j < m->nsessions && by_key(&s[i], &s[j]) == 0;
		    j++)
			;
		fprintf(f, "warren_sessions_current{client=");
		label_str(f, s[i].client);
		fprintf(f, ",service=");
		label_str(f, s[i].service);
		fprintf(f, ",state=");
		label_str(f, s[i].state);
		fprintf(f, "} %zu\n", j - i);
	}
	free(s);
}

void
status_prom_print(FILE *f, const struct ctlmsg *m)
{
	char name[CTLMSG_NAMELEN + 16];
	const char *help;
	int cs_done = 0;

	for (size_t i = 0; i < m->nstats; i++) {
		const struct ctlmsg_stat *st = &m->stats[i];
		enum ctlmsg_kind kind = ctlmsg_kind(st->name, &help);

		if (kind == CTLMSG_INFO) {
			family(f, "warren_info", "gauge", "warrend's version, "
			    "as a label (the value is always 1)");
			fprintf(f, "warren_info{%s=", st->name);
			label_str(f, st->value);
			fprintf(f, "} 1\n");
			continue;
		}
		if (!st->numeric)
			continue;    /* text this version does not know */
		if (strncmp(st->name, CS, sizeof(CS) - 1) == 0) {
			/* One family; every client_sessions: line follows. */
			if (cs_done)
				continue;
			cs_done = 1;
			family(f, "warren_client_sessions", "gauge", help);
			for (size_t k = i; k < m->nstats; k++) {
				if (strncmp(m->stats[k].name, CS,
				    sizeof(CS) - 1) != 0 ||
				    !m->stats[k].numeric)
					continue;
				fprintf(f, "warren_client_sessions{client=");
				label_str(f, m->stats[k].name + sizeof(CS) - 1);
				fprintf(f, "} %llu\n",
				    (unsigned long long)m->stats[k].num);
			}
			continue;
		}
		metric_name(st->name, kind, name);
		family(f, name, kind == CTLMSG_COUNTER ? "counter" :
		    kind == CTLMSG_GAUGE ? "gauge" : "untyped", help);
		fprintf(f, "%s %llu\n", name, (unsigned long long)st->num);
	}
	sessions(f, m);
}
