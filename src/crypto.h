/*
 * crypto: the only module that touches OpenSSL.  Thin, checked wrappers
 * around libcrypto's EVP interface for the primitives that Noise and the
 * record layer need.  Every function that can fail returns 0 on success
 * and -1 on failure and is marked warn_unused_result.
 */
#ifndef WARREN_CRYPTO_H
#define WARREN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define WR_MUST __attribute__((warn_unused_result))

#define CRYPTO_DHLEN 32     /* X25519 key and shared-secret length */
#define CRYPTO_KEYLEN 32    /* AEAD key length (both ciphers) */
#define CRYPTO_TAGLEN 16    /* AEAD tag length (both ciphers) */
#define CRYPTO_MAXHASH 64   /* largest hash output (SHA512, BLAKE2b) */

/* AEAD ciphers of the Noise framework. */
enum crypto_cipher { CRYPTO_AESGCM, CRYPTO_CHACHAPOLY };

/* Hash functions of the Noise framework. */
enum crypto_hash { CRYPTO_SHA256, CRYPTO_SHA512, CRYPTO_BLAKE2S, CRYPTO_BLAKE2B };

/**
 * crypto_hash_len(h):
 * Return the output length in bytes of hash ${h} (32 or 64).
 */
size_t crypto_hash_len(enum crypto_hash h);

/**
 * crypto_hash_blocklen(h):
 * Return the block length in bytes of hash ${h} (64 or 128).
 */
size_t crypto_hash_blocklen(enum crypto_hash h);

/**
 * crypto_random(buf, len):
 * Fill ${buf} with ${len} bytes from the OS CSPRNG (via OpenSSL).
 */
int crypto_random(uint8_t *buf, size_t len) WR_MUST;

/**
 * crypto_wipe(buf, len):
 * Overwrite ${len} bytes at ${buf} with zeros in a way the compiler cannot
 * elide.  ${buf} may be NULL if ${len} is 0.
 */
void crypto_wipe(void *buf, size_t len);

/**
 * crypto_equal(a, b, len):
 * Compare ${len} bytes in constant time; return 1 if equal, 0 otherwise.
 */
int crypto_equal(const void *a, const void *b, size_t len);

/**
 * crypto_x25519_keygen(priv, pub):
 * Generate a fresh X25519 key pair into ${priv} and ${pub} (32 bytes each).
 */
int crypto_x25519_keygen(uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN]) WR_MUST;

/**
 * crypto_x25519_pub(priv, pub):
 * Compute into ${pub} the public key of private key ${priv}.
 */
int crypto_x25519_pub(const uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN]) WR_MUST;

/**
 * crypto_x25519(out, priv, pub):
 * Compute the X25519 shared secret of ${priv} and ${pub} into ${out}.
 * Fails on an all-zero result (a low-order ${pub}).
 */
int crypto_x25519(uint8_t out[CRYPTO_DHLEN], const uint8_t priv[CRYPTO_DHLEN],
    const uint8_t pub[CRYPTO_DHLEN]) WR_MUST;

/* An X25519 private key imported once and ready for many DH. Opaque. */
struct crypto_x25519_key;

/**
 * crypto_x25519_key_new(priv):
 * Import the private key ${priv} for repeated use with
 * crypto_x25519_key_dh.  Returns NULL on failure.
 */
struct crypto_x25519_key *crypto_x25519_key_new(const uint8_t priv[CRYPTO_DHLEN]);

/**
 * crypto_x25519_key_generate(priv, pub):
 * Generate a fresh key pair: write it to ${priv} and ${pub} and return it
 * imported, or NULL on failure.
 */
struct crypto_x25519_key *crypto_x25519_key_generate(uint8_t priv[CRYPTO_DHLEN],
    uint8_t pub[CRYPTO_DHLEN]);

/**
 * crypto_x25519_key_dh(k, pub, out):
 * As crypto_x25519 with the imported private key ${k}.
 */
int crypto_x25519_key_dh(struct crypto_x25519_key *k,
    const uint8_t pub[CRYPTO_DHLEN], uint8_t out[CRYPTO_DHLEN]) WR_MUST;

/* Most static peers one key remembers (each costs a scan entry). */
#define CRYPTO_X25519_MEMO_MAX 256

/**
 * crypto_x25519_key_remember(k, pub):
 * Compute the Diffie-Hellman of ${k} with the long-lived public key ${pub}
 * now and keep it with ${k}, for crypto_x25519_key_dh_static (as WireGuard
 * precomputes its peers' static-static secrets).  Past
 * CRYPTO_X25519_MEMO_MAX peers it keeps nothing (and succeeds).  The
 * results are wiped when ${k} is freed.
 */
int crypto_x25519_key_remember(struct crypto_x25519_key *k,
    const uint8_t pub[CRYPTO_DHLEN]) WR_MUST;

/**
 * crypto_x25519_key_dh_static(k, pub, out):
 * As crypto_x25519_key_dh for a peer's static key ${pub}: if ${k}
 * remembered ${pub}, the result costs a constant-time scan of the
 * remembered peers instead of a scalar multiplication.
 */
int crypto_x25519_key_dh_static(struct crypto_x25519_key *k,
    const uint8_t pub[CRYPTO_DHLEN], uint8_t out[CRYPTO_DHLEN]) WR_MUST;

/**
 * crypto_x25519_key_free(k):
 * Free ${k} (OpenSSL cleanses the key).  Does nothing if ${k} is NULL.
 */
void crypto_x25519_key_free(struct crypto_x25519_key *k);

/**
 * crypto_hash(h, out, parts, lens, n):
 * Hash the concatenation of the ${n} buffers ${parts}[i] of ${lens}[i]
 * bytes with hash ${h}; write crypto_hash_len(h) bytes to ${out}.
 */
int crypto_hash(enum crypto_hash h, uint8_t *out, const uint8_t *const *parts,
    const size_t *lens, size_t n) WR_MUST;

/**
 * crypto_hmac(h, out, key, keylen, parts, lens, n):
 * HMAC with hash ${h} and key ${key} (${keylen} bytes) over the
 * concatenation of ${n} buffers; write crypto_hash_len(h) bytes to ${out}.
 */
int crypto_hmac(enum crypto_hash h, uint8_t *out, const uint8_t *key,
    size_t keylen, const uint8_t *const *parts, const size_t *lens,
    size_t n) WR_MUST;

/**
 * crypto_siphash(key, msg, len, out):
 * SipHash-2-4 of ${len} bytes at ${msg} with the 16-byte ${key}, as a
 * 64-bit number in ${out}: a keyed hash for tables an attacker can fill.
 */
int crypto_siphash(const uint8_t key[16], const uint8_t *msg, size_t len,
    uint64_t *out) WR_MUST;

/**
 * crypto_hkdf(h, ck, ikm, ikmlen, out1, out2, out3):
 * The Noise HKDF: temp = HMAC(ck, ikm), out1 = HMAC(temp, 0x01),
 * out2 = HMAC(temp, out1 || 0x02), out3 = HMAC(temp, out2 || 0x03).
 * ${ck} is crypto_hash_len(h) bytes; each out is that many bytes.
 * ${out2} and ${out3} may be NULL when not wanted.
 */
int crypto_hkdf(enum crypto_hash h, const uint8_t *ck, const uint8_t *ikm,
    size_t ikmlen, uint8_t *out1, uint8_t *out2, uint8_t *out3) WR_MUST;

/* An AEAD key schedule, set up once and used for many records. Opaque. */
struct crypto_aead;

/**
 * crypto_aead_new(c, key):
 * Return a new AEAD context for cipher ${c} keyed with ${key} (32 bytes),
 * or NULL on failure.  The context keeps its own copy of the key.
 */
struct crypto_aead *crypto_aead_new(enum crypto_cipher c,
    const uint8_t key[CRYPTO_KEYLEN]);

/**
 * crypto_aead_free(a):
 * Wipe and free ${a}.  Does nothing if ${a} is NULL.
 */
void crypto_aead_free(struct crypto_aead *a);

/**
 * crypto_aead_seal(a, nonce, ad, adlen, pt, ptlen, out):
 * Encrypt ${ptlen} bytes of ${pt} with 64-bit counter ${nonce} (encoded as
 * Noise specifies for the cipher) and associated data ${ad}; write
 * ${ptlen} + CRYPTO_TAGLEN bytes to ${out}.  ${out} may equal ${pt}.
 */
int crypto_aead_seal(struct crypto_aead *a, uint64_t nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out) WR_MUST;

/**
 * crypto_aead_seal2(a, nonce, ad, adlen, pt1, len1, pt2, len2, out):
 * As crypto_aead_seal, for the plaintext ${pt1} || ${pt2} (two places, so
 * a record header and a kept body need no copy into one buffer); writes
 * ${len1} + ${len2} + CRYPTO_TAGLEN bytes to ${out}.  ${out} may equal
 * ${pt1} (in place, as crypto_aead_seal allows) but must not overlap
 * ${pt2} otherwise than at ${out} + ${len1} == ${pt2}.
 */
int crypto_aead_seal2(struct crypto_aead *a, uint64_t nonce,
    const uint8_t *ad, size_t adlen, const uint8_t *pt1, size_t len1,
    const uint8_t *pt2, size_t len2, uint8_t *out) WR_MUST;

/**
 * crypto_aead_open(a, nonce, ad, adlen, ct, ctlen, out):
 * Authenticate and decrypt ${ctlen} bytes of ${ct} (which include the tag)
 * and write ${ctlen} - CRYPTO_TAGLEN bytes to ${out}.  ${out} may equal
 * ${ct}.  Returns -1 if ${ctlen} is shorter than a tag or the tag is wrong.
 */
int crypto_aead_open(struct crypto_aead *a, uint64_t nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out) WR_MUST;

/**
 * crypto_b64_encode(in, inlen, out, outlen):
 * Base64-encode ${inlen} bytes into NUL-terminated ${out} of ${outlen}
 * bytes.  Returns -1 if ${out} is too small.
 */
int crypto_b64_encode(const uint8_t *in, size_t inlen, char *out,
    size_t outlen) WR_MUST;

/**
 * crypto_b64_decode32(in, out):
 * Decode the base64 text ${in} (surrounding whitespace allowed) that must
 * encode exactly 32 bytes into ${out}.  Returns -1 on anything else.
 */
int crypto_b64_decode32(const char *in, uint8_t out[32]) WR_MUST;

#endif
