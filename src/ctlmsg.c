/*
 * ctlmsg: parse the answers of warrend's control socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"

/* What each status name is, with the help text of the metric formats. */
static const struct {
	const char *name;
	enum ctlmsg_kind kind;
	const char *help;
} kinds[] = {
	{ "version", CTLMSG_INFO, "warrend's version" },
	{ "started_unix", CTLMSG_GAUGE,
	    "When warrend (its keeper) started, in UNIX seconds" },
	{ "uptime_s", CTLMSG_GAUGE, "Seconds since warrend started" },
	{ "worker_uptime_s", CTLMSG_GAUGE,
	    "Seconds since the running worker started" },
	{ "rx_packets", CTLMSG_COUNTER, "Datagrams received on a front door" },
	{ "drop_kernel", CTLMSG_COUNTER,
	    "Datagrams dropped by the kernel before warrend read them" },
	{ "drop_malformed", CTLMSG_COUNTER,
	    "Datagrams that were not exactly one handshake packet" },
	{ "drop_mac1", CTLMSG_COUNTER, "Handshake packets with a wrong mac1" },
	{ "cookies_sent", CTLMSG_COUNTER, "Cookie replies sent under load" },
	{ "drop_handshake", CTLMSG_COUNTER,
	    "Handshakes that did not verify after the MACs passed" },
	{ "drop_unknown_client", CTLMSG_COUNTER,
	    "Valid handshakes from a key that no [client] lists" },
	{ "drop_replay", CTLMSG_COUNTER,
	    "Handshakes dropped as replays (timestamp not newer)" },
	{ "drop_skew", CTLMSG_COUNTER,
	    "Handshakes answered with the clock error" },
	{ "drop_queue_full", CTLMSG_COUNTER,
	    "Handshakes dropped because the handshake queue was full" },
	{ "drop_rate_source", CTLMSG_COUNTER,
	    "Handshakes dropped by a source's token bucket under load" },
	{ "drop_rate_cookie", CTLMSG_COUNTER,
	    "INITs without a cookie: their source's cookie budget was spent" },
	{ "drop_rate_client", CTLMSG_COUNTER,
	    "Handshakes dropped by a client key's rate" },
	{ "drop_pending_ip", CTLMSG_COUNTER,
	    "Handshakes refused by pending_per_ip" },
	{ "drop_pending_ip_port", CTLMSG_COUNTER,
	    "Handshakes refused by pending_per_ip_port" },
	{ "drop_grants_full", CTLMSG_COUNTER,
	    "Handshakes refused by max_grants" },
	{ "denied_service", CTLMSG_COUNTER,
	    "DENIED answers: a service the client may not use" },
	{ "no_service", CTLMSG_COUNTER, "DENIED answers: no such service" },
	{ "busy", CTLMSG_COUNTER, "BUSY answers" },
	{ "busy_max_sessions", CTLMSG_COUNTER,
	    "BUSY answers because the client key held its max_sessions" },
	{ "busy_global", CTLMSG_COUNTER,
	    "BUSY answers because the node held sessions_cap" },
	{ "grants", CTLMSG_COUNTER, "Grants opened" },
	{ "grants_expired", CTLMSG_COUNTER,
	    "Grants closed unused after grant_timeout" },
	{ "grants_superseded", CTLMSG_COUNTER,
	    "Unused grants closed for a newer handshake of the same client" },
	{ "grant_probes", CTLMSG_COUNTER,
	    "Connections to a grant port that were reset" },
	{ "carriers_rejected", CTLMSG_COUNTER,
	    "Carriers that ended before proving the session keys" },
	{ "sessions", CTLMSG_COUNTER, "Sessions started" },
	{ "sessions_live", CTLMSG_GAUGE, "Sessions running now" },
	{ "backend_errors", CTLMSG_COUNTER,
	    "Sessions whose backend connection failed" },
	{ "log_suppressed", CTLMSG_COUNTER,
	    "Log lines held back by the log rate limit" },
	{ "control_refused", CTLMSG_COUNTER,
	    "Control connections refused over the cap of 16" },
	{ "resumes", CTLMSG_COUNTER, "Sessions put on a new carrier" },
	{ "resume_drops", CTLMSG_COUNTER, "RESUMEs dropped without an answer" },
	{ "under_load", CTLMSG_GAUGE, "1 if the front door is under load now" },
	{ "handshake_queue", CTLMSG_GAUGE, "Handshakes waiting now" },
	{ "grants_live", CTLMSG_GAUGE,
	    "Open grants (negotiations in flight) now" },
	{ "sessions_stalled", CTLMSG_GAUGE, "Sessions stalled now" },
	{ "sessions_detached", CTLMSG_GAUGE,
	    "Sessions waiting for their client to resume them now" },
	{ "sessions_held", CTLMSG_GAUGE,
	    "Live sessions plus grants waiting for their carrier" },
	{ "sessions_cap", CTLMSG_GAUGE, "The node's global session cap" },
	{ "fd_limit", CTLMSG_GAUGE,
	    "The descriptor limit the session cap was sized from" },
};

#define CLIENT_SESSIONS "client_sessions:"

/* Is ${c} allowed in a status name? */
static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	    c == '-';
}

/* Is ${c} allowed in a value: printable ASCII, no space? */
static int
value_char(char c)
{
	return c > ' ' && c < 0x7f;
}

/*
 * Parse the ${len} digits at ${s} as a decimal uint64 into ${out}: no
 * sign, no leading zero (but "0"), no overflow.  Returns 0 or -1.
 */
static int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * The lines of ${buf} (${len} bytes): each must end with LF and hold no
 * NUL.  Returns the number of lines, or -1.
 */
static long
count_lines(const char *buf, size_t len)
{
	long n = 0;

	if (len > 0 && buf[len - 1] != '\n')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\0')
			return -1;
		n += buf[i] == '\n';
	}
	return n;
}

int
ctlmsg_parse_status(struct ctlmsg *m, const char *buf, size_t len)
{
	struct ctlmsg_stat *st = NULL;
	const char *p = buf, *end = buf + len, *nl, *sp;
	long nlines;
	size_t n = 0;

	if ((nlines = count_lines(buf, len)) < 0 || nlines > CTLMSG_MAX_STATS)
		goto bad;
	if (nlines > 0 && (st = calloc((size_t)nlines, sizeof(*st))) == NULL)
		return -1;
	for (; p < end; p = nl + 1, n++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL ||
		    sp == p || (size_t)(sp - p) >= CTLMSG_NAMELEN ||
		    nl - sp - 1 <= 0 || nl - sp - 1 >= CTLMSG_VALLEN)
			goto bad;
		for (const char *q = p; q < sp; q++)
			if (!name_char(*q))
				goto bad;
		for (const char *q = sp + 1; q < nl; q++)
			if (!value_char(*q))
				goto bad;
		memcpy(st[n].name, p, (size_t)(sp - p));
		memcpy(st[n].value, sp + 1, (size_t)(nl - sp - 1));
		st[n].numeric = parse_u64(sp + 1, (size_t)(nl - sp - 1),
		    &st[n].num) == 0;
		/* A counter or gauge this version knows must be a number. */
		if (!st[n].numeric && ctlmsg_kind(st[n].name, NULL) !=
		    CTLMSG_UNKNOWN && ctlmsg_kind(st[n].name, NULL) !=
		    CTLMSG_INFO)
			goto bad;
	}
	free(m->stats);
	m->stats = st;
	m->nstats = n;
	return 0;
bad:
	free(st);
	errno = EINVAL;
	return -1;
}

/* Copy the token value [${v}, ${e}) into ${out}; -1 if too long or bad. */
static int
field(const char *v, const char *e, char out[CTLMSG_FIELDLEN])
{
	if (e - v <= 0 || e - v >= CTLMSG_FIELDLEN)
		return -1;
	for (const char *q = v; q < e; q++)
		if (!value_char(*q) || *q == '=')
			return -1;
	memcpy(out, v, (size_t)(e - v));
	out[e - v] = '\0';
	return 0;
}

/* Parse one session line [${p}, ${nl}) into ${s}; 0 or -1. */
static int
parse_session(const char *p, const char *nl, struct ctlmsg_session *s)
{
	static const char head[] = "session";
	const char *t, *te, *eq;
	unsigned seen = 0;

	memset(s, 0, sizeof(*s));
	if ((size_t)(nl - p) < sizeof(head) - 1 ||
	    memcmp(p, head, sizeof(head) - 1) != 0)
		return -1;
	for (t = p + sizeof(head) - 1; t < nl; t = te) {
		const char *v;
		size_t klen;
		uint64_t *num = NULL;

		if (*t != ' ' || t + 1 >= nl)
			return -1;
		t++;
		if ((te = memchr(t, ' ', (size_t)(nl - t))) == NULL)
			te = nl;
		if ((eq = memchr(t, '=', (size_t)(te - t))) == NULL || eq == t)
			return -1;
		klen = (size_t)(eq - t);
		v = eq + 1;
		for (const char *q = t; q < eq; q++)
			if (!name_char(*q) || *q == ':')
				return -1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(t, k, klen) == 0)
		if (KEY("id")) {
			if (field(v, te, s->id))
				return -1;
			seen |= 1;
		} else if (KEY("client")) {
			if (field(v, te, s->client))
				return -1;
			seen |= 2;
		} else if (KEY("service")) {
			if (field(v, te, s->service))
				return -1;
			seen |= 4;
		} else if (KEY("peer")) {
			if (field(v, te, s->peer))
				return -1;
			seen |= 8;
		} else if (KEY("state")) {
			if (field(v, te, s->state))
				return -1;
			seen |= 16;
		} else if (KEY("stalled")) {
			if (te - v != 1 || (*v != '0' && *v != '1'))
				return -1;
			s->stalled = *v == '1';
		} else if (KEY("age_s"))
			num = &s->age_s;
		else if (KEY("idle_s")) {
			num = &s->idle_s;
			s->has_idle = 1;
		} else if (KEY("bytes_in"))
			num = &s->bytes_in;
		else if (KEY("bytes_out"))
			num = &s->bytes_out;
		else if (KEY("carriers"))
			num = &s->carriers;
		else {
			/* A key unknown to this version: checked, skipped. */
			if (te == v)
				return -1;
			for (const char *q = v; q < te; q++)
				if (!value_char(*q))
					return -1;
		}
#undef KEY
		if (num != NULL && parse_u64(v, (size_t)(te - v), num))
			return -1;
	}
	return seen == 31 ? 0 : -1;
}

int
ctlmsg_parse_sessions(struct ctlmsg *m, const char *buf, size_t len)
{
	struct ctlmsg_session *ss = NULL;
	const char *p = buf, *end = buf + len, *nl;
	long nlines;
	size_t n = 0;

	if ((nlines = count_lines(buf, len)) < 0 ||
	    nlines > (long)CTLMSG_MAX_SESSIONS)
		goto bad;
	if (nlines > 0 && (ss = calloc((size_t)nlines, sizeof(*ss))) == NULL)
		return -1;
	for (; p < end; p = nl + 1, n++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (parse_session(p, nl, &ss[n]))
			goto bad;
	}
	free(m->sessions);
	m->sessions = ss;
	m->nsessions = n;
	return 0;
bad:
	free(ss);
	errno = EINVAL;
	return -1;
}

const struct ctlmsg_stat *
ctlmsg_stat(const struct ctlmsg *m, const char *name)
{
	for (size_t i = 0; i < m->nstats; i++)
		if (strcmp(m->stats[i].name, name) == 0)
			return &m->stats[i];
	return NULL;
}

enum ctlmsg_kind
ctlmsg_kind(const char *name, const char **help)
{
	if (strncmp(name, CLIENT_SESSIONS, sizeof(CLIENT_SESSIONS) - 1) == 0) {
		if (help != NULL)
			*help = "Sessions and grants a [client] holds now";
		return CTLMSG_GAUGE;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0) {
			if (help != NULL)
				*help = kinds[i].help;
			return kinds[i].kind;
		}
	if (help != NULL)
		*help = "A value of warrend's status that this warren does "
		    "not know";
	return CTLMSG_UNKNOWN;
}

void
ctlmsg_free(struct ctlmsg *m)
{
	if (m == NULL)
		return;
	free(m->stats);
	free(m->sessions);
	memset(m, 0, sizeof(*m));
}
