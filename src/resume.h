/*
 * resume: the front-door exchange that puts a live session on a new
 * carrier (RESUME, RESUMED; PROTOCOL.md section 14).  It runs Noise NNpsk0
 * with the session's resumption secret as the PSK: fresh carrier keys from
 * the secret plus a fresh ephemeral Diffie-Hellman (forward secrecy, as
 * TLS 1.3 psk_dhe_ke), no static DH.  Each resume rotates the secret, and
 * a RESUME is good once.  Both the client agent and the node use it; it
 * does no I/O.
 *
 * The client, holding a struct session whose carrier died:
 *   rc = resume_client_start(s, node_pub, pkt)      send pkt (RESUME)
 *   resume_client_finish(rc, answer, len, &resp, &keys)
 *     0 and resp.status == WIRE_OK: resume_keys_apply(&keys, s), then
 *     connect to the grant (resume_client_grant_key(rc)); -1: not ours;
 *     -2: forged or broken, count it and keep waiting.
 * The node, for a datagram that passed wire_packet_type (WIRE_RESUME),
 * hs_mac1_ok with its own mac1 key, and the cookie and source limits as
 * an INIT does:
 *   resume_peek_id(pkt, len, id)         find the session s by id
 *   p = resume_node_read(s, pkt, len, &req)             NULL: silence
 *   resume_node_accept(s, p)             -1: a replay, silence
 *   open a grant with resume_pending_grant_key(p), fill resp
 *   resume_node_reply(p, s, &resp, out, &keys)          send out
 *   ... when that grant's carrier proves itself:
 *   resume_keys_apply(&keys, s)
 * A node indexes each session under resume_id(s->resume_secret) and, if
 * it is not all zero, resume_id(s->resume_next); both change in
 * resume_node_accept, resume_node_reply and resume_keys_apply.
 */
#ifndef WARREN_RESUME_H
#define WARREN_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "handshake.h"
#include "session.h"
#include "wire.h"

/*
 * What a successful resume gives both ends: the new carrier's number and
 * keys, and the resumption secret that replaces the one just used.
 * Public so that a node can keep it with the grant until the carrier
 * proves itself.  Holds secrets: resume_keys_apply wipes it.
 */
struct resume_keys {
	uint8_t key_c2s[CRYPTO_KEYLEN];   /* from Noise Split() */
	uint8_t key_s2c[CRYPTO_KEYLEN];
	uint8_t next_secret[WIRE_RESUME_SECRET_LEN];
	uint32_t carrier;
};

struct resume_client;    /* a client's resume in flight (opaque) */
struct resume_pending;   /* a node's resume between RESUME and RESUMED */

/**
 * resume_id(secret, id):
 * Compute the resume id HMAC-SHA256(${secret}, "warren resume id")[0..15]
 * that names the session of resumption secret ${secret} in a RESUME.
 */
int resume_id(const uint8_t secret[WIRE_RESUME_SECRET_LEN],
    uint8_t id[WIRE_RESUME_ID_LEN]) WR_MUST;

/**
 * resume_client_start(s, node_pub, pkt):
 * Begin resuming session ${s} (its resume_secret and client_pub set, as
 * hs_client_finish leaves them) at the node whose static public key is
 * ${node_pub}, asking for carrier ${s}->carrier + 1; write the RESUME
 * packet (WIRE_RESUME_LEN bytes, mac2 zero: see cookie_mac2) to ${pkt}.
 * The RESUME's timestamp is the clock's, or 1 ns past ${s}->resume_ts if
 * that is not older, and becomes ${s}->resume_ts.  Returns NULL on
 * failure.  Free the result with resume_client_free.
 */
struct resume_client *resume_client_start(struct session *s,
    const uint8_t node_pub[32], uint8_t pkt[WIRE_RESUME_LEN]);

/**
 * resume_client_start_fixed(s, node_pub, e_priv, pkt):
 * As resume_client_start with the ephemeral private key ${e_priv}
 * instead of a random one.  For known-answer tests only: an ephemeral
 * used twice gives away the keys.
 */
struct resume_client *resume_client_start_fixed(struct session *s,
    const uint8_t node_pub[32], const uint8_t e_priv[32],
    uint8_t pkt[WIRE_RESUME_LEN]);

/**
 * resume_client_grant_key(rc):
 * The grant PRF key of the resume ${rc} (valid once started).
 */
const struct hs_grant_key *resume_client_grant_key(
    const struct resume_client *rc);

/**
 * resume_client_finish(rc, pkt, len, resp, keys):
 * Process the node's answer ${pkt} of ${len} bytes.  Returns 0 with the
 * decoded payload in ${resp} (status WIRE_OK or WIRE_BUSY) and, with
 * WIRE_OK, the new carrier's keys and the next resumption secret in
 * ${keys}; ${rc} is then spent.  Returns -1 if the packet is not an
 * answer to ${rc} (wrong size, type, receiver, mac1, or a nonzero mac2;
 * or ${rc} already finished): ignore it.  Returns -2 if it is addressed
 * to ${rc} but fails to authenticate or carries a payload a node would
 * not send (a status other than OK or BUSY, another session id): ignore
 * it too, but count it; ${rc} stays usable and keeps waiting.
 */
int resume_client_finish(struct resume_client *rc, const uint8_t *pkt,
    size_t len, struct wire_resp *resp, struct resume_keys *keys) WR_MUST;

/**
 * resume_client_answers(rc, pkt, len, index):
 * If ${pkt} is a RESUMED whose mac1 shows it is meant for this client,
 * store its receiver (the sender index of the RESUME it answers) in
 * ${index} and return 0; otherwise return -1.  For recognising a late
 * answer to an earlier RESUME; it proves nothing more.
 */
int resume_client_answers(const struct resume_client *rc, const uint8_t *pkt,
    size_t len, uint32_t *index);

/**
 * resume_client_free(rc):
 * Wipe and free ${rc}.  Does nothing if ${rc} is NULL.
 */
void resume_client_free(struct resume_client *rc);

/**
 * resume_peek_id(pkt, len, id):
 * Copy the resume id of the RESUME ${pkt} (${len} bytes) to ${id}.
 * Returns -1 if ${pkt} is not a well-formed RESUME header
 * (wire_packet_type).  Costs nothing: call it after the mac1 check, to
 * find the session.
 */
int resume_peek_id(const uint8_t *pkt, size_t len,
    uint8_t id[WIRE_RESUME_ID_LEN]);

/**
 * resume_node_read(s, pkt, len, req):
 * Run Noise message 1 of the RESUME ${pkt} (${len} bytes, type, size and
 * mac1 already checked) for session ${s}, under ${s}->resume_secret or
 * ${s}->resume_next, whichever the RESUME's id names.  No Diffie-Hellman:
 * message 1 costs HMACs and one AES-GCM decryption.  On success return
 * the pending resume with the decoded payload in ${req}.  Returns NULL if
 * the id names neither secret, the message fails to authenticate, the
 * payload does not parse, or it asks for a carrier not above
 * ${s}->carrier.  ${s} is not changed; the caller must then call
 * resume_node_accept.
 */
struct resume_pending *resume_node_read(const struct session *s,
    const uint8_t *pkt, size_t len, struct wire_resume *req);

/**
 * resume_node_read_fixed(s, pkt, len, e_priv, req):
 * As resume_node_read, with ${e_priv} as the node's ephemeral private key
 * for the RESUMED.  For known-answer tests only.
 */
struct resume_pending *resume_node_read_fixed(const struct session *s,
    const uint8_t *pkt, size_t len, const uint8_t e_priv[32],
    struct wire_resume *req);

/**
 * resume_node_accept(s, p):
 * The single-use rule.  If the timestamp of the pending resume ${p} is
 * not newer than ${s}->resume_ts (a replayed RESUME, or one the network
 * reordered), return -1: drop it without an answer.  Otherwise record it
 * in ${s}->resume_ts and, if ${p} was made under ${s}->resume_next (the
 * client holds that secret, so it has the RESUMED that gave it), make
 * that the session's resume_secret and forget the older one; return 0.
 * Call it once, after resume_node_read with the same ${s}.
 */
int resume_node_accept(struct session *s, struct resume_pending *p) WR_MUST;

/**
 * resume_pending_grant_key(p):
 * The grant PRF key of the pending resume ${p}.
 */
const struct hs_grant_key *resume_pending_grant_key(
    const struct resume_pending *p);

/**
 * resume_node_reply(p, s, resp, pkt, keys):
 * Write the RESUMED packet (WIRE_RESUMED_LEN bytes) carrying ${resp} to
 * ${pkt}; its mac1 is keyed by ${s}->client_pub.  ${resp}->status must be
 * WIRE_OK or WIRE_BUSY, and with WIRE_OK ${resp}->session_id must be
 * ${s}->id.  With WIRE_OK, fill ${keys} with the new carrier's keys and
 * the next resumption secret and set ${s}->resume_next to it (replacing
 * the one of any earlier answer, whose grant the caller closes).  Returns
 * -1 if ${p} was not accepted (resume_node_accept) or on failure.  ${p}
 * is spent either way.
 */
int resume_node_reply(struct resume_pending *p, struct session *s,
    const struct wire_resp *resp, uint8_t pkt[WIRE_RESUMED_LEN],
    struct resume_keys *keys) WR_MUST;

/**
 * resume_pending_free(p):
 * Wipe and free ${p}.  Does nothing if ${p} is NULL.
 */
void resume_pending_free(struct resume_pending *p);

/**
 * resume_keys_apply(keys, s):
 * Put the resumed carrier into session ${s}: its number and keys from
 * ${keys}, and ${keys}->next_secret as the resumption secret (the old one
 * is forgotten, and so is ${s}->resume_next).  The client calls it when
 * resume_client_finish gives WIRE_OK, the node when the carrier of that
 * RESUMED proves itself.  Wipes ${keys}.
 */
void resume_keys_apply(struct resume_keys *keys, struct session *s);

#endif
