/*
 * session: the state of one warren session, which outlives any single
 * carrier.  Everything needed to resume a session on another carrier (or,
 * later, another node) is here and serializes to a fixed-size blob.
 */
#ifndef WARREN_SESSION_H
#define WARREN_SESSION_H

#include <stdint.h>

#include "crypto.h"
#include "wire.h"

struct session {
	uint8_t id[WIRE_SESSION_ID_LEN];
	char service[WIRE_SERVICE_MAX + 1];
	uint8_t client_pub[32];
	uint8_t key_c2s[CRYPTO_KEYLEN];   /* from Noise Split() */
	uint8_t key_s2c[CRYPTO_KEYLEN];
	uint32_t carrier;                 /* number of the current carrier */
	uint64_t sent;                    /* bytes of our stream sent */
	uint64_t received;                /* bytes of the peer's stream received */
	/*
	 * Resumption (resume.h, PROTOCOL.md section 14).  resume_secret is
	 * exported from the handshake that made or last resumed the
	 * session, never from or to the traffic keys.  Node side only:
	 * resume_next is the secret handed out in the last RESUMED whose
	 * carrier has not proved itself yet (all zero: none).  resume_ts is
	 * the newest RESUME timestamp: sent (client) or accepted (node).
	 */
	uint8_t resume_secret[WIRE_RESUME_SECRET_LEN];
	uint8_t resume_next[WIRE_RESUME_SECRET_LEN];
	uint8_t resume_ts[WIRE_TAI64N_LEN];
};

#define SESSION_PACKED_LEN (4 + WIRE_SESSION_ID_LEN + 1 + WIRE_SERVICE_MAX + 32 + \
    2 * CRYPTO_KEYLEN + 4 + 8 + 8 + 2 * WIRE_RESUME_SECRET_LEN + \
    WIRE_TAI64N_LEN)

/**
 * session_pack(s, out):
 * Serialize ${s} into SESSION_PACKED_LEN bytes at ${out}.  The blob holds
 * keys: seal it before it leaves the process.
 */
void session_pack(const struct session *s, uint8_t out[SESSION_PACKED_LEN]);

/**
 * session_unpack(buf, s):
 * Deserialize a blob from session_pack; -1 if it is malformed.
 */
int session_unpack(const uint8_t buf[SESSION_PACKED_LEN], struct session *s);

/**
 * session_wipe(s):
 * Erase every byte of ${s}.
 */
void session_wipe(struct session *s);

#endif
