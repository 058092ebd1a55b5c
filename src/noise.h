/*
 * noise: the Noise Protocol Framework handshake state machine (revision 34)
 * over the primitives of crypto.h.  It interprets handshake patterns from a
 * table, so one engine runs the product's IKpsk2 and every pattern whose
 * test vectors we check.  DH is always 25519; cipher and hash are chosen by
 * the protocol name.
 */
#ifndef WARREN_NOISE_H
#define WARREN_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* The product's protocol. */
#define NOISE_PROTOCOL "Noise_IKpsk2_25519_AESGCM_SHA256"

#define NOISE_MAXMSG 65535   /* largest handshake message */
#define NOISE_MAXPSKS 4

enum noise_role { NOISE_INITIATOR, NOISE_RESPONDER };

/* Keys a party brings to a handshake.  Any field may be unset (has_* = 0). */
struct noise_keys {
	int has_s;                       /* local static key pair */
	uint8_t s_priv[CRYPTO_DHLEN];
	int has_s_pub;                   /* s_pub given: saves deriving it */
	uint8_t s_pub[CRYPTO_DHLEN];
	struct crypto_x25519_key *s_key; /* s_priv imported (borrowed), or NULL */
	int has_e;                       /* fixed ephemeral (test vectors only) */
	uint8_t e_priv[CRYPTO_DHLEN];
	int has_rs;                      /* remote static public key */
	uint8_t rs[CRYPTO_DHLEN];
	size_t npsks;                    /* PSKs, used in order of "psk" tokens */
	uint8_t psks[NOISE_MAXPSKS][32];
	/*
	 * Called with the remote static key as soon as a read has decrypted
	 * it; nonzero fails the message there, before any further
	 * Diffie-Hellman (see noise_hs_rs_rejected).  NULL: no check.
	 */
	int (*rs_check)(void *arg, const uint8_t rs[CRYPTO_DHLEN]);
	void *rs_check_arg;
};

/* A Noise CipherState: key, counter, and an AEAD context. Opaque. */
struct noise_cipher;

/* A Noise HandshakeState. Opaque. */
struct noise_hs;

/**
 * noise_hs_new(protocol, role, prologue, prologuelen, keys):
 * Start a handshake for the protocol named ${protocol} (for example
 * NOISE_PROTOCOL) in role ${role}.  ${keys} is copied.  Returns NULL if the
 * protocol is unsupported, a key the pattern needs is missing, or on
 * allocation failure.
 */
struct noise_hs *noise_hs_new(const char *protocol, enum noise_role role,
    const uint8_t *prologue, size_t prologuelen, const struct noise_keys *keys);

/**
 * noise_hs_supported(protocol):
 * Return 1 if ${protocol} names a protocol that this module can run.
 */
int noise_hs_supported(const char *protocol);

/**
 * noise_hs_set_psk(hs, psk):
 * Set the first PSK of ${hs} to the 32 bytes at ${psk}, replacing any
 * given at creation.  A responder uses this once msg 1 has told it who the
 * initiator is, before the first "psk" token is processed.
 */
void noise_hs_set_psk(struct noise_hs *hs, const uint8_t psk[32]);

/**
 * noise_hs_set_e(hs, e_priv):
 * Test vectors only: make ${e_priv} the local ephemeral private key of
 * ${hs}, which must not have one yet (no "e" token written, none given
 * at creation).  A responder's ephemeral is made when it writes message 2,
 * after it has read message 1, so noise_keys.has_e cannot fix it.
 * Returns -1 if ${hs} already has an ephemeral key or on failure.
 */
int noise_hs_set_e(struct noise_hs *hs, const uint8_t e_priv[CRYPTO_DHLEN])
    WR_MUST;

/**
 * noise_hs_write(hs, payload, paylen, out, outcap, outlen):
 * Write the next handshake message carrying ${payload} into ${out} (at most
 * ${outcap} bytes); store its length in ${outlen}.  It must be our turn.
 */
int noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t paylen,
    uint8_t *out, size_t outcap, size_t *outlen) WR_MUST;

/**
 * noise_hs_read(hs, msg, msglen, payload, paycap, paylen):
 * Read the peer's next handshake message ${msg}; write its decrypted
 * payload to ${payload} (at most ${paycap} bytes) and its length to
 * ${paylen}.  Returns -1 if the message is malformed or fails to
 * authenticate; the handshake is then dead and must be freed.
 */
int noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t msglen,
    uint8_t *payload, size_t paycap, size_t *paylen) WR_MUST;

/**
 * noise_hs_done(hs):
 * Return 1 once every message of the pattern has been written or read.
 */
int noise_hs_done(const struct noise_hs *hs);

/**
 * noise_hs_rs_rejected(hs):
 * Return 1 if a read failed because the keys' rs_check refused the
 * remote static key.
 */
int noise_hs_rs_rejected(const struct noise_hs *hs);

/**
 * noise_hs_remote_static(hs):
 * Return the remote static public key learned or given, or NULL if none.
 */
const uint8_t *noise_hs_remote_static(const struct noise_hs *hs);

/**
 * noise_hs_export(hs, label, out):
 * Derive a 32-byte key from the current chaining key ck:
 * the first output of HKDF(ck, ${label}) (Noise's HKDF with the label's
 * bytes, without NUL, as input key material), truncated to 32 bytes.  Both
 * parties get the same key at the same point of the handshake.  warren
 * uses it after message 1 to key the grant-port PRF.
 */
int noise_hs_export(const struct noise_hs *hs, const char *label,
    uint8_t out[32]) WR_MUST;

/**
 * noise_hs_hash(hs, out):
 * Copy the handshake hash h (hash length bytes) to ${out}; return its
 * length.  After the handshake this is the channel-binding value.
 */
size_t noise_hs_hash(const struct noise_hs *hs, uint8_t out[CRYPTO_MAXHASH]);

/**
 * noise_hs_split(hs, k1, k2):
 * After the handshake, run Split() and write the two raw 32-byte cipher
 * keys: ${k1} encrypts initiator-to-responder, ${k2} the other way.
 */
int noise_hs_split(struct noise_hs *hs, uint8_t k1[CRYPTO_KEYLEN],
    uint8_t k2[CRYPTO_KEYLEN]) WR_MUST;

/**
 * noise_hs_cipher(hs):
 * Return the cipher that the protocol of ${hs} names.
 */
enum crypto_cipher noise_hs_cipher(const struct noise_hs *hs);

/**
 * noise_hs_dup(hs):
 * Return a copy of ${hs} (keys, hashes, position in the pattern) that goes
 * on independently: reading a message with one leaves the other as it
 * was.  Free it with noise_hs_free.  Returns NULL on allocation failure.
 */
struct noise_hs *noise_hs_dup(const struct noise_hs *hs);

/**
 * noise_hs_free(hs):
 * Wipe every secret in ${hs} and free it.  Does nothing if ${hs} is NULL.
 */
void noise_hs_free(struct noise_hs *hs);

/**
 * noise_cipher_new(c, key):
 * Return a CipherState for cipher ${c} with key ${key} and nonce 0.
 */
struct noise_cipher *noise_cipher_new(enum crypto_cipher c,
    const uint8_t key[CRYPTO_KEYLEN]);

/**
 * noise_cipher_seal(cs, ad, adlen, pt, ptlen, out):
 * EncryptWithAd with the next nonce; ${out} gets ${ptlen} + 16 bytes.
 */
int noise_cipher_seal(struct noise_cipher *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out) WR_MUST;

/**
 * noise_cipher_open(cs, ad, adlen, ct, ctlen, out):
 * DecryptWithAd with the next nonce; ${out} gets ${ctlen} - 16 bytes.  The
 * nonce advances only on success.
 */
int noise_cipher_open(struct noise_cipher *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out) WR_MUST;

/**
 * noise_cipher_free(cs):
 * Wipe and free ${cs}.  Does nothing if ${cs} is NULL.
 */
void noise_cipher_free(struct noise_cipher *cs);

#endif
