/*
 * handshake: the front-door exchange (INIT, RESP) on top of Noise IKpsk2:
 * packet framing, mac1, payloads, and the keys a session starts with.
 * Both the client agent and the node use it; it does no I/O.
 */
#ifndef WARREN_HANDSHAKE_H
#define WARREN_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "session.h"
#include "wire.h"

/*
 * A long-lived static identity: a node's, or a client agent's (which then
 * need not derive its public key and import its key on every dial).
 */
struct hs_node {
	uint8_t priv[32];
	uint8_t pub[32];
	uint8_t mac1_key[32];     /* SHA256("mac1----" || pub) */
	struct crypto_x25519_key *key;   /* priv, imported once */
	/*
	 * Node side, optional (NULL after hs_node_init): returns 0 if the
	 * static key ${pub} belongs to an authorized client.  hs_node_read
	 * asks it as soon as the key is decrypted, so an unknown key costs
	 * one Diffie-Hellman, not two.
	 */
	int (*check_client)(void *arg, const uint8_t pub[32]);
	void *check_arg;
};

/* Output of a successful handshake for the grant: see grant.h. */
struct hs_grant_key {
	uint8_t key[32];
};

struct hs_client;   /* a client's handshake in flight (opaque) */
struct hs_pending;  /* a node's handshake between INIT and RESP (opaque) */

/**
 * hs_mac1_key(pub, key):
 * Compute the mac1 key SHA256("mac1----" || ${pub}).
 */
int hs_mac1_key(const uint8_t pub[32], uint8_t key[32]) WR_MUST;

/**
 * hs_mac1_ok(key, pkt, len):
 * Check the mac1 of front-door packet ${pkt} of ${len} bytes (INIT or RESP,
 * length already checked) in constant time; return 1 if it is valid.
 */
int hs_mac1_ok(const uint8_t key[32], const uint8_t *pkt, size_t len);

/**
 * hs_node_init(node, priv):
 * Fill ${node} from the node's static private key ${priv}; release it
 * with hs_node_free.
 */
int hs_node_init(struct hs_node *node, const uint8_t priv[32]) WR_MUST;

/**
 * hs_node_remember(node, peer):
 * Precompute the static-static Diffie-Hellman with ${peer}, a peer's
 * static public key (a configured client, or a cluster's key), so that a
 * handshake with it needs one scalar multiplication less on this side.
 */
int hs_node_remember(struct hs_node *node, const uint8_t peer[32]) WR_MUST;

/**
 * hs_node_free(node):
 * Wipe ${node} and free what hs_node_init allocated.
 */
void hs_node_free(struct hs_node *node);

/**
 * hs_client_start(cpriv, spub, psk, service, pkt):
 * Begin a handshake from the client with static key ${cpriv} to the node
 * with public key ${spub}, optional ${psk} (NULL: all zeros), asking for
 * ${service}; write the INIT packet (WIRE_INIT_LEN bytes) to ${pkt}.
 * Returns NULL on failure.
 */
struct hs_client *hs_client_start(const uint8_t cpriv[32],
    const uint8_t spub[32], const uint8_t *psk, const char *service,
    uint8_t pkt[WIRE_INIT_LEN]);

/**
 * hs_client_start_as(self, spub, psk, service, pkt):
 * As hs_client_start, for the prepared identity ${self}, whose imported
 * key (if any) must outlive the handshake.
 */
struct hs_client *hs_client_start_as(const struct hs_node *self,
    const uint8_t spub[32], const uint8_t *psk, const char *service,
    uint8_t pkt[WIRE_INIT_LEN]);

/*
 * Test vectors only (tests/unit/test_transcript.c): the inputs that
 * hs_client_start and hs_node_reply otherwise draw at random or read from
 * the clock.  The programs never use them.
 */
struct hs_fixed {
	uint8_t e_priv[32];                  /* ephemeral private key */
	uint32_t index;                      /* sender index */
	uint8_t timestamp[WIRE_TAI64N_LEN];  /* INIT only: TAI64N */
};

/**
 * hs_client_start_fixed(self, spub, psk, service, fx, pkt):
 * As hs_client_start_as, with the ephemeral key, sender index and
 * timestamp taken from ${fx} instead of the random source and the clock.
 * For test vectors only.
 */
struct hs_client *hs_client_start_fixed(const struct hs_node *self,
    const uint8_t spub[32], const uint8_t *psk, const char *service,
    const struct hs_fixed *fx, uint8_t pkt[WIRE_INIT_LEN]);

/**
 * hs_client_grant_key(c):
 * The grant PRF key of the handshake ${c} (valid once started).
 */
const struct hs_grant_key *hs_client_grant_key(const struct hs_client *c);

/**
 * hs_client_finish(c, pkt, len, resp, s):
 * Process the node's RESP ${pkt}.  Returns 0 with the decoded payload in
 * ${resp} and, when ${resp}->status is WIRE_OK, the new session's id,
 * keys, the client's static public key and the resumption secret in ${s}
 * (carrier 0, no resume_next, a zero resume_ts).  Returns -1 if the
 * packet is not an answer to ${c} (wrong type, receiver or mac1: ignore it
 * and keep waiting), or -2 if it looks like one but fails to authenticate
 * or parse (a forgery, or keys that do not match).  After -1 or -2, ${c}
 * is as it was: the real answer can still come.
 */
int hs_client_finish(struct hs_client *c, const uint8_t *pkt, size_t len,
    struct wire_resp *resp, struct session *s) WR_MUST;

/**
 * hs_client_answers(c, pkt, len, index):
 * If ${pkt} is a RESP whose mac1 shows it is meant for this client (the
 * key of ${c}'s static identity, the same for each of its handshakes),
 * store the sender index of the INIT it answers in ${index} and return 0;
 * otherwise return -1.  For recognising a late answer to an earlier INIT
 * after hs_client_finish returned -1; it proves nothing more.
 */
int hs_client_answers(const struct hs_client *c, const uint8_t *pkt,
    size_t len, uint32_t *index);

/**
 * hs_client_free(c):
 * Wipe and free ${c}.  Does nothing if ${c} is NULL.
 */
void hs_client_free(struct hs_client *c);

/**
 * hs_node_read(node, pkt, len, init, client_pub, unknown):
 * Run Noise message 1 of an INIT whose type, size and mac1 were already
 * checked.  On success return the pending handshake with the decoded
 * payload in ${init} and the client's static key in ${client_pub}.
 * Returns NULL if it fails to authenticate or parse; then ${unknown} (if
 * not NULL) says whether it failed because ${node}'s check_client refused
 * the client's (authenticated) static key.
 */
struct hs_pending *hs_node_read(const struct hs_node *node, const uint8_t *pkt,
    size_t len, struct wire_init *init, uint8_t client_pub[32], int *unknown);

/**
 * hs_pending_grant_key(p):
 * The grant PRF key of the pending handshake ${p}.
 */
const struct hs_grant_key *hs_pending_grant_key(const struct hs_pending *p);

/**
 * hs_node_reply(p, psk, resp, pkt, s):
 * Write the RESP packet (WIRE_RESP_LEN bytes) carrying ${resp} to ${pkt},
 * mixing ${psk} (NULL: all zeros).  If ${resp}->status is WIRE_OK, fill
 * ${s} with the session id from ${resp}, the session keys, the client's
 * static public key and the resumption secret (as hs_client_finish).
 */
int hs_node_reply(struct hs_pending *p, const uint8_t *psk,
    const struct wire_resp *resp, uint8_t pkt[WIRE_RESP_LEN],
    struct session *s) WR_MUST;

/**
 * hs_node_reply_fixed(p, psk, resp, fx, pkt, s):
 * As hs_node_reply, with the ephemeral key and sender index taken from
 * ${fx} (its timestamp is not used).  For test vectors only.
 */
int hs_node_reply_fixed(struct hs_pending *p, const uint8_t *psk,
    const struct wire_resp *resp, const struct hs_fixed *fx,
    uint8_t pkt[WIRE_RESP_LEN], struct session *s) WR_MUST;

/**
 * hs_pending_free(p):
 * Wipe and free ${p}.  Does nothing if ${p} is NULL.
 */
void hs_pending_free(struct hs_pending *p);

#endif
