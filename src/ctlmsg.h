/*
 * ctlmsg: the answers of warrend's control socket (docs/PROTOCOL.md 13),
 * parsed strictly for "warren status" and its --json and --prometheus
 * formats.  The answers are local, but they carry names and addresses
 * that reached warrend from the network, so they are parsed as untrusted
 * input: bounded lengths, a fixed character set, exact numbers.
 */
#ifndef WARREN_CTLMSG_H
#define WARREN_CTLMSG_H

#include <stddef.h>
#include <stdint.h>

#define CTLMSG_NAMELEN 96      /* "client_sessions:" + a [client] name */
#define CTLMSG_VALLEN 64
#define CTLMSG_FIELDLEN 64     /* a session's client, service, peer, state */
#define CTLMSG_MAX_STATS 4096
#define CTLMSG_MAX_SESSIONS (1u << 20)

/* One "NAME VALUE" line of the status answer. */
struct ctlmsg_stat {
	char name[CTLMSG_NAMELEN];
	char value[CTLMSG_VALLEN];
	int numeric;                /* value is a decimal uint64 */
	uint64_t num;
};

/* One "session key=value ..." line of the sessions answer. */
struct ctlmsg_session {
	char id[CTLMSG_FIELDLEN];
	char client[CTLMSG_FIELDLEN];
	char service[CTLMSG_FIELDLEN];
	char peer[CTLMSG_FIELDLEN];
	char state[CTLMSG_FIELDLEN];
	uint64_t age_s, idle_s, bytes_in, bytes_out, carriers;
	int has_idle;               /* idle_s was given (warrend 0.1.0+) */
	int stalled;
};

/*
 * The parsed answers.  Public so that the formats can read it field by
 * field; the caller allocates it zeroed and frees it with ctlmsg_free.
 */
struct ctlmsg {
	struct ctlmsg_stat *stats;
	size_t nstats;
	struct ctlmsg_session *sessions;
	size_t nsessions;
};

/* What a status name is, for the formats (ctlmsg_kind). */
enum ctlmsg_kind {
	CTLMSG_UNKNOWN,      /* a name this version does not know */
	CTLMSG_COUNTER,      /* only grows while warrend runs */
	CTLMSG_GAUGE,        /* a value now */
	CTLMSG_INFO          /* text: version */
};

/**
 * ctlmsg_parse_status(m, buf, len):
 * Parse the answer ${buf} (${len} bytes) to "status" into ${m}'s stats.
 * Every line must be "NAME SP VALUE LF": NAME of [A-Za-z0-9_.:-], VALUE
 * of printable ASCII without spaces, each shorter than its buffer.
 * Returns 0, or -1 (errno EINVAL for a malformed answer, ENOMEM) with
 * ${m}'s stats unchanged.
 */
int ctlmsg_parse_status(struct ctlmsg *m, const char *buf, size_t len);

/**
 * ctlmsg_parse_sessions(m, buf, len):
 * Parse the answer ${buf} (${len} bytes) to "sessions" into ${m}'s
 * sessions: lines "session" then SP-separated KEY=VALUE tokens; id,
 * client, service, peer and state are required; keys this version does
 * not know are skipped, known numbers must be exact decimals.  Returns 0,
 * or -1 (errno EINVAL, ENOMEM) with ${m}'s sessions unchanged.
 */
int ctlmsg_parse_sessions(struct ctlmsg *m, const char *buf, size_t len);

/**
 * ctlmsg_stat(m, name):
 * Return the stat ${name} of ${m}, or NULL.
 */
const struct ctlmsg_stat *ctlmsg_stat(const struct ctlmsg *m,
    const char *name);

/**
 * ctlmsg_kind(name, help):
 * Return what the status name ${name} is; if ${help} is not NULL, set it
 * to a one-line description (a static string; for "client_sessions:NAME"
 * that of the family).
 */
enum ctlmsg_kind ctlmsg_kind(const char *name, const char **help);

/**
 * ctlmsg_free(m):
 * Free what ${m} holds (not ${m} itself) and zero it.  Does nothing if
 * ${m} is NULL.
 */
void ctlmsg_free(struct ctlmsg *m);

#endif
