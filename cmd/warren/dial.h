/*
 * dial: open one session to a service of a cluster: the front-door
 * handshake over UDP (with retries across the cluster's nodes), the grant
 * port, and the carrier's TCP connection.
 */
#ifndef WARREN_DIAL_H
#define WARREN_DIAL_H

#include <uv.h>

#include "config.h"
#include "handshake.h"
#include "session.h"

struct dial;   /* a dial in progress (opaque) */

/**
 * dial_cb(arg, carrier, s, keepalive, peer, node):
 * Called once.  On success ${carrier} is a connected TCP handle (yours),
 * ${s} the session and ${keepalive} the node's keepalive in seconds,
 * ${peer} names the node and ${node} is its index in the cluster's nodes.
 * On failure ${carrier} is NULL and ${node} -1; the reason has already
 * been logged.
 */
typedef void dial_cb(void *arg, uv_tcp_t *carrier, const struct session *s,
    int keepalive, const char *peer, int node);

/**
 * dial_start(loop, cfg, self, cluster, service, cb, arg, dp):
 * Start dialing ${service} on ${cluster} as ${self} (the identity made
 * from ${cfg}'s private key; it must outlive the dial), beginning with a
 * node picked at random, then round robin.  Sets ${dp} to the
 * dial, valid until ${cb} runs, before anything else (${cb} may run before
 * dial_start returns).  Returns -1 (after logging) if it cannot even
 * start; ${cb} is then not called.
 */
int dial_start(uv_loop_t *loop, const struct cfg_client_file *cfg,
    const struct hs_node *self, const struct cfg_cluster *cluster,
    const char *service, dial_cb *cb, void *arg, struct dial **dp);

/**
 * dial_resume(loop, cfg, self, cluster, s, first, cb, arg, dp):
 * As dial_start, but to put the live session ${s} on a new carrier
 * (PROTOCOL.md 14): a RESUME to the cluster's nodes in turn, from node
 * ${first} (the one that carried it), until one grants a carrier, the
 * timeout passes or every node refused.  ${s} stays the caller's and
 * must outlive the dial; it is updated in place (the resume timestamp at
 * once; the carrier number, keys and resumption secret when a node
 * answers), and ${cb} gets it.  Failures are logged at debug level only:
 * the caller decides when to try again and when to give up.
 */
int dial_resume(uv_loop_t *loop, const struct cfg_client_file *cfg,
    const struct hs_node *self, const struct cfg_cluster *cluster,
    struct session *s, int first, dial_cb *cb, void *arg, struct dial **dp);

/**
 * dial_cancel(d):
 * Give up dial ${d}, whose callback has not run yet: the callback runs
 * with no carrier (now, or once a carrier connect in progress unwinds)
 * and nothing is logged.
 */
void dial_cancel(struct dial *d);

#endif
