/*
 * cookie: WireGuard-style cookies for a node under load.  An INIT that
 * arrives without a valid mac2 while the node is under load gets a small
 * COOKIE reply instead of a Diffie-Hellman; the cookie is bound to the
 * client's address and port and to a node secret that rotates every
 * WIRE_COOKIE_ROTATE seconds (the previous secret is still accepted).
 * A RESUME has the length of an INIT and its mac1 and mac2 at the same
 * offsets, so every function here that takes an INIT takes a RESUME too.
 * Formats are in wire.h.
 */
#ifndef WARREN_COOKIE_H
#define WARREN_COOKIE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto.h"
#include "wire.h"

/* A node's cookie secrets. */
struct cookie_node {
	uint8_t secret[32], prev[32];
	uint64_t rotated_ms;          /* when secret was made */
	int has_prev;
	uint8_t seal_key[32];         /* SHA256("cookie--" || node public key) */
	uint8_t epoch[8];             /* names the reply key of this secret */
	uint64_t counter;             /* nonce of the next reply */
	struct crypto_aead *aead;     /* HMAC(seal_key, epoch), made once */
};

/**
 * cookie_node_init(c, node_pub, now_ms):
 * Set up ${c} for the node with public key ${node_pub}.
 */
int cookie_node_init(struct cookie_node *c, const uint8_t node_pub[32],
    uint64_t now_ms) WR_MUST;

/**
 * cookie_mac2_ok(c, pkt, len, src, now_ms):
 * Return 1 if the INIT ${pkt} (${len} bytes) carries a mac2 made with a
 * cookie for ${src} under the current or the previous secret.  Rotates the
 * secret first if it is older than WIRE_COOKIE_ROTATE seconds.
 */
int cookie_mac2_ok(struct cookie_node *c, const uint8_t *pkt, size_t len,
    const struct sockaddr *src, uint64_t now_ms);

/**
 * cookie_reply(c, init, src, now_ms, out):
 * Write the COOKIE packet (WIRE_COOKIE_LEN bytes) answering INIT ${init}
 * from ${src} to ${out}, rotating the secret first if it is due.
 */
int cookie_reply(struct cookie_node *c, const uint8_t init[WIRE_INIT_LEN],
    const struct sockaddr *src, uint64_t now_ms,
    uint8_t out[WIRE_COOKIE_LEN]) WR_MUST;

/**
 * cookie_open(node_pub, init, pkt, len, cookie):
 * Client side: if ${pkt} (${len} bytes) is a COOKIE packet answering our
 * INIT ${init} (receiver index and mac1 match) from the node with public
 * key ${node_pub}, write the cookie to ${cookie} and return 0; else -1.
 */
int cookie_open(const uint8_t node_pub[32], const uint8_t init[WIRE_INIT_LEN],
    const uint8_t *pkt, size_t len, uint8_t cookie[WIRE_MACLEN]) WR_MUST;

/**
 * cookie_mac2(cookie, pkt):
 * Client side: fill in the mac2 of INIT ${pkt} with ${cookie}.
 */
int cookie_mac2(const uint8_t cookie[WIRE_MACLEN], uint8_t pkt[WIRE_INIT_LEN])
    WR_MUST;

/**
 * cookie_node_fix(c, secret, epoch, counter):
 * Test vectors only: make ${secret} the current cookie secret of ${c}
 * (dropping the previous one), ${epoch} its epoch id, with its sealing
 * key derived as for a random one, and ${counter} the nonce of the next
 * COOKIE.  The programs never call it.
 */
int cookie_node_fix(struct cookie_node *c, const uint8_t secret[32],
    const uint8_t epoch[8], uint64_t counter) WR_MUST;

/**
 * cookie_node_wipe(c):
 * Erase the secrets of ${c}.
 */
void cookie_node_wipe(struct cookie_node *c);

#endif
