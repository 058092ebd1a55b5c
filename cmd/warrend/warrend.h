/*
 * warrend internals shared by its files.
 */
#ifndef WARREND_H
#define WARREND_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "handshake.h"
#include "session.h"

struct grant;
struct conn;

/* Counters of the front door and carriers. */
struct node_stats {
	uint64_t rx_packets, drop_malformed, drop_mac1, drop_handshake;
	uint64_t drop_unknown_client, drop_replay, denied_service, no_service, busy;
	uint64_t grants, grants_expired, grant_probes, carriers_rejected;
	uint64_t sessions, sessions_live, backend_errors;
};

struct node {
	uv_loop_t *loop;
	struct cfg_server *cfg;
	struct hs_node hs;
	uv_udp_t udp[CFG_MAXLISTEN];
	size_t nudp;
	uv_signal_t sigint, sigterm;
	struct grant *grants;            /* live grants (list) */
	size_t ngrants;
	struct conn *conns;              /* live carriers (list) */
	struct node_stats stats;
	uint8_t (*last_ts)[WIRE_TAI64N_LEN];  /* newest INIT time per [client] */
	int stopping;
};

/**
 * door_start(n):
 * Bind and start every UDP front door of ${n}.  Logs and returns -1 if a
 * listen address cannot be bound.
 */
int door_start(struct node *n);

/**
 * door_stop(n):
 * Close the front doors.
 */
void door_stop(struct node *n);

/**
 * carrier_grant(n, udp, client, svc, grant_key, resp):
 * Open a one-shot grant for a new session from ${client} to service
 * ${svc}: pick a decoy whose port (keyed by ${grant_key}) is free, listen
 * there on the address of front door ${udp}, for ${client} only.  Fills the
 * grant fields of ${resp}.  Returns NULL if no port could be opened.  The
 * grant accepts no carrier until carrier_grant_arm.
 */
struct grant *carrier_grant(struct node *n, uv_udp_t *udp,
    const struct sockaddr *client, const struct cfg_service *svc,
    const uint8_t grant_key[32], struct wire_resp *resp);

/**
 * carrier_grant_arm(g, s):
 * Give grant ${g} its session ${s} (copied) once the handshake is done.
 */
void carrier_grant_arm(struct grant *g, const struct session *s);

/**
 * carrier_grant_cancel(g):
 * Close grant ${g} at once.
 */
void carrier_grant_cancel(struct grant *g);

/**
 * carrier_stop_all(n):
 * Close every live grant (sessions in progress end with their carriers).
 */
void carrier_stop_all(struct node *n);

#endif
