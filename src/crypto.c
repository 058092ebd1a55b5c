/*
 * crypto: checked wrappers around OpenSSL 3 libcrypto (EVP).  This is the
 * only file of warren that includes OpenSSL headers.
 *
 * Algorithm handles (EVP_CIPHER, EVP_MD) are fetched once per
 * process and cached; an AEAD context keeps its key schedule, so sealing
 * or opening a record only sets the nonce and runs the cipher.
 */
/* The low-level SHA API (see digest()) is deprecated in OpenSSL 3. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "crypto.h"

/* Largest block of the hashes (SHA-512 and BLAKE2b: 128 bytes). */
#define HMAC_BLOCK_MAX 128

/* Largest chunk handed to one EVP update call (their lengths are int). */
#define CHUNK_MAX (1 << 30)

/* Algorithm handles, fetched once by fetch_all(). */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *cipher_aesgcm;
static EVP_CIPHER *cipher_chachapoly;
static EVP_MD *md_table[4];

/* OpenSSL names of the hashes, indexed by enum crypto_hash. */
static const char *const md_names[4] = {
	[CRYPTO_SHA256] = "SHA256",
	[CRYPTO_SHA512] = "SHA512",
	[CRYPTO_BLAKE2S] = "BLAKE2S-256",
	[CRYPTO_BLAKE2B] = "BLAKE2B-512",
};

/* Fetch every algorithm handle; a failed fetch leaves its pointer NULL. */
static void
fetch_all(void)
{
	size_t i;

	cipher_aesgcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	cipher_chachapoly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	for (i = 0; i < 4; i++)
		md_table[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
	ERR_clear_error();
}

/* Return the cached EVP_MD of hash ${h}, or NULL. */
static const EVP_MD *
get_md(enum crypto_hash h)
{

	if ((unsigned)h > CRYPTO_BLAKE2B)
		return (NULL);
	pthread_once(&fetch_once, fetch_all);
	return (md_table[h]);
}

/* Return the cached EVP_CIPHER of cipher ${c}, or NULL. */
static const EVP_CIPHER *
get_cipher(enum crypto_cipher c)
{

	pthread_once(&fetch_once, fetch_all);
	switch (c) {
	case CRYPTO_AESGCM:
		return (cipher_aesgcm);
	case CRYPTO_CHACHAPOLY:
		return (cipher_chachapoly);
	}
	return (NULL);
}

/**
 * crypto_hash_len(h):
 * Return the output length in bytes of hash ${h} (32 or 64).
 */
size_t
crypto_hash_len(enum crypto_hash h)
{

	return ((h == CRYPTO_SHA512 || h == CRYPTO_BLAKE2B) ? 64 : 32);
}

/**
 * crypto_hash_blocklen(h):
 * Return the block length in bytes of hash ${h} (64 or 128).
 */
size_t
crypto_hash_blocklen(enum crypto_hash h)
{

	return ((h == CRYPTO_SHA512 || h == CRYPTO_BLAKE2B) ? 128 : 64);
}

/**
 * crypto_random(buf, len):
 * Fill ${buf} with ${len} bytes from the OS CSPRNG (via OpenSSL).
 */
int
crypto_random(uint8_t *buf, size_t len)
{
	size_t n;

	while (len > 0) {
		n = len > CHUNK_MAX ? CHUNK_MAX : len;
		if (RAND_bytes(buf, (int)n) != 1) {
			ERR_clear_error();
			return (-1);
		}
		buf += n;
		len -= n;
	}
	return (0);
}

/**
 * crypto_wipe(buf, len):
 * Overwrite ${len} bytes at ${buf} with zeros in a way the compiler cannot
 * elide.  ${buf} may be NULL if ${len} is 0.
 */
void
crypto_wipe(void *buf, size_t len)
{

	if (buf == NULL || len == 0)
		return;
	OPENSSL_cleanse(buf, len);
}

/**
 * crypto_equal(a, b, len):
 * Compare ${len} bytes in constant time; return 1 if equal, 0 otherwise.
 */
int
crypto_equal(const void *a, const void *b, size_t len)
{

	if (len == 0)
		return (1);
	return (CRYPTO_memcmp(a, b, len) == 0);
}

/*
 * This thread's X25519 import context, made once: creating one per key
 * makes OpenSSL 3 look the key manager up again each time, and a handshake
 * imports a key for every Diffie-Hellman.
 */
static _Thread_local EVP_PKEY_CTX *x25519_import_ctx;

/* Import an X25519 key from ${params} (${selection}: what they hold). */
static EVP_PKEY *
x25519_import(int selection, OSSL_PARAM *params)
{
	EVP_PKEY *pk = NULL;

	if (x25519_import_ctx == NULL) {
		if ((x25519_import_ctx = EVP_PKEY_CTX_new_from_name(NULL,
		    "X25519", NULL)) == NULL)
			goto fail;
		if (EVP_PKEY_fromdata_init(x25519_import_ctx) != 1) {
			EVP_PKEY_CTX_free(x25519_import_ctx);
			x25519_import_ctx = NULL;
			goto fail;
		}
	}
	if (EVP_PKEY_fromdata(x25519_import_ctx, &pk, selection, params) == 1)
		return (pk);
fail:
	ERR_clear_error();
	return (NULL);
}

/* Import private key ${priv}; OpenSSL computes its public key into ${pub}. */
static EVP_PKEY *
x25519_private_key(const uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN])
{
	OSSL_PARAM params[2];
	EVP_PKEY *sk;
	size_t len = CRYPTO_DHLEN;

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY,
	    (void *)(uintptr_t)priv, CRYPTO_DHLEN);
	params[1] = OSSL_PARAM_construct_end();
	if ((sk = x25519_import(EVP_PKEY_KEYPAIR, params)) == NULL)
		return (NULL);
	if (EVP_PKEY_get_raw_public_key(sk, pub, &len) != 1 ||
	    len != CRYPTO_DHLEN) {
		EVP_PKEY_free(sk);
		ERR_clear_error();
		return (NULL);
	}
	return (sk);
}

/*
 * Import the key pair (${priv}, ${pub}) without OpenSSL recomputing the
 * public key from the private one.
 */
static EVP_PKEY *
x25519_pair_key(const uint8_t priv[CRYPTO_DHLEN], const uint8_t pub[CRYPTO_DHLEN])
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY,
	    (void *)(uintptr_t)priv, CRYPTO_DHLEN);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)(uintptr_t)pub, CRYPTO_DHLEN);
	params[2] = OSSL_PARAM_construct_end();
	return (x25519_import(EVP_PKEY_KEYPAIR, params));
}

/*
 * Import ${priv} as an X25519 key for derivation only.  Importing a bare
 * private key makes OpenSSL compute its public key, a second scalar
 * multiplication that derivation never uses; so we pass a placeholder
 * public key alongside.  The key is only ever used to derive.  Should an
 * OpenSSL version refuse the pair, fall back to the plain import.
 */
static EVP_PKEY *
x25519_derive_key(const uint8_t priv[CRYPTO_DHLEN])
{
	static const uint8_t placeholder[CRYPTO_DHLEN] = { 9 };
	EVP_PKEY *sk;

	if ((sk = x25519_pair_key(priv, placeholder)) == NULL) {
		sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
		    CRYPTO_DHLEN);
		ERR_clear_error();
	}
	return (sk);
}

/* A fresh random (clamped) private key in ${priv}, its public key in ${pub}. */
static EVP_PKEY *
x25519_generate(uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN])
{
	EVP_PKEY *sk;

	if (crypto_random(priv, CRYPTO_DHLEN))
		return (NULL);
	/* Clamp as RFC 7748 (and wg genkey) do; X25519 clamps anyway. */
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	if ((sk = x25519_private_key(priv, pub)) == NULL)
		crypto_wipe(priv, CRYPTO_DHLEN);
	return (sk);
}

/**
 * crypto_x25519_keygen(priv, pub):
 * Generate a fresh X25519 key pair into ${priv} and ${pub} (32 bytes each).
 */
int
crypto_x25519_keygen(uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN])
{
	EVP_PKEY *sk;

	if ((sk = x25519_generate(priv, pub)) == NULL)
		return (-1);
	EVP_PKEY_free(sk);
	return (0);
}

/**
 * crypto_x25519_pub(priv, pub):
 * Compute into ${pub} the public key of private key ${priv}.
 */
int
crypto_x25519_pub(const uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN])
{
	EVP_PKEY *sk;

	if ((sk = x25519_private_key(priv, pub)) == NULL)
		return (-1);
	EVP_PKEY_free(sk);
	return (0);
}

/*
 * An imported private key with its derivation context set up once: per DH
 * only the peer's public key is imported.  Building OpenSSL key objects
 * cost more than the curve arithmetic, so a handshake imports each private
 * key at most once (the node's static key once per process).
 */
struct crypto_x25519_key {
	EVP_PKEY *sk;
	EVP_PKEY_CTX *ctx;
	struct x25519_memo {
		uint8_t pub[CRYPTO_DHLEN];
		uint8_t out[CRYPTO_DHLEN];
	} *memo;               /* remembered results (static peers) */
	size_t nmemo;
};

/* Wrap ${sk} (taken) with a derivation context; NULL on failure. */
static struct crypto_x25519_key *
x25519_key_wrap(EVP_PKEY *sk)
{
	struct crypto_x25519_key *k;

	if (sk == NULL || (k = malloc(sizeof(*k))) == NULL) {
		EVP_PKEY_free(sk);
		return (NULL);
	}
	k->sk = sk;
	k->memo = NULL;
	k->nmemo = 0;
	if ((k->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL)) == NULL ||
	    EVP_PKEY_derive_init(k->ctx) != 1) {
		crypto_x25519_key_free(k);
		ERR_clear_error();
		return (NULL);
	}
	return (k);
}

struct crypto_x25519_key *
crypto_x25519_key_new(const uint8_t priv[CRYPTO_DHLEN])
{

	return (x25519_key_wrap(x25519_derive_key(priv)));
}

struct crypto_x25519_key *
crypto_x25519_key_generate(uint8_t priv[CRYPTO_DHLEN], uint8_t pub[CRYPTO_DHLEN])
{
	struct crypto_x25519_key *k;

	if ((k = x25519_key_wrap(x25519_generate(priv, pub))) == NULL)
		crypto_wipe(priv, CRYPTO_DHLEN);
	return (k);
}

int
crypto_x25519_key_dh(struct crypto_x25519_key *k,
    const uint8_t pub[CRYPTO_DHLEN], uint8_t out[CRYPTO_DHLEN])
{
	EVP_PKEY *pk = NULL;
	OSSL_PARAM params[2];
	size_t len = CRYPTO_DHLEN;
	uint8_t acc = 0;
	size_t i;
	int rc = -1;


	params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)(uintptr_t)pub, CRYPTO_DHLEN);
	params[1] = OSSL_PARAM_construct_end();
	if ((pk = x25519_import(EVP_PKEY_PUBLIC_KEY, params)) == NULL)
		goto out;
	/*
	 * No peer validation (it would make a context and fetch a checker
	 * per call): every 32-byte string is an X25519 public key, and the
	 * one bad outcome, a low-order point, is caught below.
	 */
	if (EVP_PKEY_derive_set_peer_ex(k->ctx, pk, 0) != 1 ||
	    EVP_PKEY_derive(k->ctx, out, &len) != 1 || len != CRYPTO_DHLEN)
		goto out;

	/* Reject the all-zero output of a low-order point, in constant time. */
	for (i = 0; i < CRYPTO_DHLEN; i++)
		acc |= out[i];
	if (acc == 0)
		goto out;
	rc = 0;

out:
	EVP_PKEY_free(pk);
	if (rc) {
		crypto_wipe(out, CRYPTO_DHLEN);
		ERR_clear_error();
	}
	return (rc);
}

int
crypto_x25519_key_remember(struct crypto_x25519_key *k,
    const uint8_t pub[CRYPTO_DHLEN])
{
	struct x25519_memo *m;

	if (k->nmemo >= CRYPTO_X25519_MEMO_MAX)
		return (0);
	/* All at once: a realloc would leave copies of the secrets behind. */
	if (k->memo == NULL &&
	    (k->memo = calloc(CRYPTO_X25519_MEMO_MAX, sizeof(*m))) == NULL)
		return (-1);
	m = &k->memo[k->nmemo];
	if (crypto_x25519_key_dh(k, pub, m->out))
		return (-1);
	memcpy(m->pub, pub, CRYPTO_DHLEN);
	k->nmemo++;
	return (0);
}

int
crypto_x25519_key_dh_static(struct crypto_x25519_key *k,
    const uint8_t pub[CRYPTO_DHLEN], uint8_t out[CRYPTO_DHLEN])
{
	unsigned found = 0, hit;
	size_t i, j;

	/*
	 * Scan every remembered peer, whichever matches, and copy its result
	 * under a mask: the time taken does not depend on which one it is.
	 */
	memset(out, 0, CRYPTO_DHLEN);
	for (i = 0; i < k->nmemo; i++) {
		hit = 0U - (unsigned)crypto_equal(k->memo[i].pub, pub,
		    CRYPTO_DHLEN);
		for (j = 0; j < CRYPTO_DHLEN; j++)
			out[j] |= (uint8_t)(k->memo[i].out[j] & hit);
		found |= hit;
	}
	if (found)
		return (0);
	return (crypto_x25519_key_dh(k, pub, out));
}

void
crypto_x25519_key_free(struct crypto_x25519_key *k)
{

	if (k == NULL)
		return;
	if (k->memo != NULL) {
		crypto_wipe(k->memo, CRYPTO_X25519_MEMO_MAX * sizeof(*k->memo));
		free(k->memo);
	}
	EVP_PKEY_CTX_free(k->ctx);
	EVP_PKEY_free(k->sk);
	free(k);
}

/**
 * crypto_x25519(out, priv, pub):
 * Compute the X25519 shared secret of ${priv} and ${pub} into ${out}.
 * Fails on an all-zero result (a low-order ${pub}).
 */
int
crypto_x25519(uint8_t out[CRYPTO_DHLEN], const uint8_t priv[CRYPTO_DHLEN],
    const uint8_t pub[CRYPTO_DHLEN])
{
	struct crypto_x25519_key *k;
	int rc;

	if ((k = crypto_x25519_key_new(priv)) == NULL)
		return (-1);
	rc = crypto_x25519_key_dh(k, pub, out);
	crypto_x25519_key_free(k);
	return (rc);
}

/*
 * SHA-256, warren's hash, goes through OpenSSL's low-level SHA API: its
 * context is a plain struct, where OpenSSL 3 allocates and frees a
 * provider context on every EVP_DigestInit_ex, and the front door hashes
 * every packet (mac1).  The API is deprecated in OpenSSL 3 but kept, and
 * runs the same SHA-NI code as EVP.  The other hashes, only for the Noise
 * test vectors, use EVP.
 */
static int
digest_evp(enum crypto_hash h, uint8_t *out, const uint8_t *pre,
    size_t prelen, const uint8_t *const *parts, const size_t *lens, size_t n)
{
	const EVP_MD *md;
	EVP_MD_CTX *ctx;
	unsigned int outl = 0;
	size_t i;
	int rc = -1;

	if ((md = get_md(h)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    (prelen > 0 && EVP_DigestUpdate(ctx, pre, prelen) != 1))
		goto out;
	for (i = 0; i < n; i++) {
		if (lens[i] > 0 && EVP_DigestUpdate(ctx, parts[i], lens[i]) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 ||
	    outl != crypto_hash_len(h))
		goto out;
	rc = 0;

out:
	EVP_MD_CTX_free(ctx);
	if (rc)
		ERR_clear_error();
	return (rc);
}

/*
 * Hash ${pre} (${prelen} bytes) then the concatenation of the ${n} buffers
 * ${parts}[i] of ${lens}[i] bytes with hash ${h}; write
 * crypto_hash_len(h) bytes to ${out}.
 */
static int
digest(enum crypto_hash h, uint8_t *out, const uint8_t *pre, size_t prelen,
    const uint8_t *const *parts, const size_t *lens, size_t n)
{
	size_t i;

	if (h == CRYPTO_SHA256) {
		SHA256_CTX c;
		int ok;

		ok = SHA256_Init(&c) == 1 && SHA256_Update(&c, pre, prelen) == 1;
		for (i = 0; ok && i < n; i++)
			ok = SHA256_Update(&c, parts[i], lens[i]) == 1;
		ok = ok && SHA256_Final(out, &c) == 1;
		OPENSSL_cleanse(&c, sizeof(c));
		return (ok ? 0 : -1);
	}
	return (digest_evp(h, out, pre, prelen, parts, lens, n));
}

/**
 * crypto_hash(h, out, parts, lens, n):
 * Hash the concatenation of the ${n} buffers ${parts}[i] of ${lens}[i]
 * bytes with hash ${h}; write crypto_hash_len(h) bytes to ${out}.
 */
int
crypto_hash(enum crypto_hash h, uint8_t *out, const uint8_t *const *parts,
    const size_t *lens, size_t n)
{

	return (digest(h, out, NULL, 0, parts, lens, n));
}

/* This thread's SipHash context, its output size set once. */
static _Thread_local EVP_MAC_CTX *siphash_ctx;

/**
 * crypto_siphash(key, msg, len, out):
 * SipHash-2-4 of ${len} bytes at ${msg} with the 16-byte ${key}.
 */

int
crypto_siphash(const uint8_t key[16], const uint8_t *msg, size_t len,
    uint64_t *out)
{
	uint8_t h[8];
	size_t outl = 0, size = sizeof(h);
	OSSL_PARAM params[2];
	EVP_MAC *mac;

	if (siphash_ctx == NULL) {
		if ((mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL)
			return (-1);
		siphash_ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		if (siphash_ctx == NULL)
			return (-1);
		params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_MAC_CTX_set_params(siphash_ctx, params) != 1) {
			EVP_MAC_CTX_free(siphash_ctx);
			siphash_ctx = NULL;
			ERR_clear_error();
			return (-1);
		}
	}
	if (EVP_MAC_init(siphash_ctx, key, 16, NULL) != 1 ||
	    EVP_MAC_update(siphash_ctx, msg, len) != 1 ||
	    EVP_MAC_final(siphash_ctx, h, &outl, sizeof(h)) != 1 || outl != 8) {
		ERR_clear_error();
		return (-1);
	}
	*out = (uint64_t)h[0] | (uint64_t)h[1] << 8 | (uint64_t)h[2] << 16 |
	    (uint64_t)h[3] << 24 | (uint64_t)h[4] << 32 | (uint64_t)h[5] << 40 |
	    (uint64_t)h[6] << 48 | (uint64_t)h[7] << 56;
	return (0);
}

/**
 * crypto_hmac(h, out, key, keylen, parts, lens, n):
 * HMAC with hash ${h} and key ${key} (${keylen} bytes) over the
 * concatenation of ${n} buffers; write crypto_hash_len(h) bytes to ${out}.
 *
 * HMAC (RFC 2104) from the digest itself: H((K ^ opad) || H((K ^ ipad) ||
 * msg)).  OpenSSL's EVP_MAC HMAC copies digest contexts on every use,
 * each copy an allocation; this costs two extra compression blocks and no
 * allocation, and mac1 on every front-door packet is the hot path.
 */
int
crypto_hmac(enum crypto_hash h, uint8_t *out, const uint8_t *key,
    size_t keylen, const uint8_t *const *parts, const size_t *lens, size_t n)
{
	uint8_t k[HMAC_BLOCK_MAX], pad[HMAC_BLOCK_MAX], inner[CRYPTO_MAXHASH];
	const uint8_t *in[1] = { inner };
	size_t inlen[1] = { crypto_hash_len(h) };
	const EVP_MD *md;
	size_t bs, i;
	int rc = -1;

	if ((md = get_md(h)) == NULL ||
	    (bs = (size_t)EVP_MD_get_block_size(md)) > sizeof(k))
		return (-1);
	memset(k, 0, sizeof(k));
	if (keylen > bs) {
		const uint8_t *kp[1] = { key };
		size_t kl[1] = { keylen };

		if (digest(h, k, NULL, 0, kp, kl, 1))
			goto out;
	} else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < bs; i++)
		pad[i] = k[i] ^ 0x36;
	if (digest(h, inner, pad, bs, parts, lens, n))
		goto out;
	for (i = 0; i < bs; i++)
		pad[i] = k[i] ^ 0x5c;
	rc = digest(h, out, pad, bs, in, inlen, 1);

out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	return (rc);
}

/**
 * crypto_hkdf(h, ck, ikm, ikmlen, out1, out2, out3):
 * The Noise HKDF: temp = HMAC(ck, ikm), out1 = HMAC(temp, 0x01),
 * out2 = HMAC(temp, out1 || 0x02), out3 = HMAC(temp, out2 || 0x03).
 * ${ck} is crypto_hash_len(h) bytes; each out is that many bytes.
 * ${out2} and ${out3} may be NULL when not wanted.
 */
int
crypto_hkdf(enum crypto_hash h, const uint8_t *ck, const uint8_t *ikm,
    size_t ikmlen, uint8_t *out1, uint8_t *out2, uint8_t *out3)
{
	static const uint8_t one = 0x01, two = 0x02, three = 0x03;
	uint8_t temp[CRYPTO_MAXHASH];
	uint8_t t1[CRYPTO_MAXHASH], t2[CRYPTO_MAXHASH], t3[CRYPTO_MAXHASH];
	size_t hlen = crypto_hash_len(h);
	const uint8_t *parts[2];
	size_t lens[2];
	int rc = -1;

	/* temp = HMAC(ck, ikm) */
	parts[0] = ikm;
	lens[0] = ikmlen;
	if (crypto_hmac(h, temp, ck, hlen, parts, lens, 1))
		goto out;

	/* t1 = HMAC(temp, 0x01) */
	parts[0] = &one;
	lens[0] = 1;
	if (crypto_hmac(h, t1, temp, hlen, parts, lens, 1))
		goto out;

	/* t2 = HMAC(temp, t1 || 0x02) */
	if (out2 != NULL || out3 != NULL) {
		parts[0] = t1;
		lens[0] = hlen;
		parts[1] = &two;
		lens[1] = 1;
		if (crypto_hmac(h, t2, temp, hlen, parts, lens, 2))
			goto out;
	}

	/* t3 = HMAC(temp, t2 || 0x03) */
	if (out3 != NULL) {
		parts[0] = t2;
		lens[0] = hlen;
		parts[1] = &three;
		lens[1] = 1;
		if (crypto_hmac(h, t3, temp, hlen, parts, lens, 2))
			goto out;
	}

	/* Outputs may alias ${ck}; write them only once all are computed. */
	memcpy(out1, t1, hlen);
	if (out2 != NULL)
		memcpy(out2, t2, hlen);
	if (out3 != NULL)
		memcpy(out3, t3, hlen);
	rc = 0;

out:
	crypto_wipe(temp, sizeof(temp));
	crypto_wipe(t1, sizeof(t1));
	crypto_wipe(t2, sizeof(t2));
	crypto_wipe(t3, sizeof(t3));
	return (rc);
}

/* An AEAD key schedule: one context per direction, each keyed once. */
struct crypto_aead {
	enum crypto_cipher c;
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

/* Encode counter ${n} into the 12-byte Noise nonce ${iv} for cipher ${c}. */
static void
make_iv(enum crypto_cipher c, uint64_t n, uint8_t iv[12])
{
	int i;

	memset(iv, 0, 4);
	if (c == CRYPTO_AESGCM) {
		for (i = 0; i < 8; i++)
			iv[4 + i] = (uint8_t)(n >> (56 - 8 * i));
	} else {
		for (i = 0; i < 8; i++)
			iv[4 + i] = (uint8_t)(n >> (8 * i));
	}
}

/**
 * crypto_aead_new(c, key):
 * Return a new AEAD context for cipher ${c} keyed with ${key} (32 bytes),
 * or NULL on failure.  The context keeps its own copy of the key.
 */
struct crypto_aead *
crypto_aead_new(enum crypto_cipher c, const uint8_t key[CRYPTO_KEYLEN])
{
	struct crypto_aead *a = NULL;
	const EVP_CIPHER *cipher;

	if ((cipher = get_cipher(c)) == NULL)
		goto err;
	if ((a = OPENSSL_zalloc(sizeof(*a))) == NULL)
		goto err;
	a->c = c;
	if ((a->enc = EVP_CIPHER_CTX_new()) == NULL ||
	    (a->dec = EVP_CIPHER_CTX_new()) == NULL)
		goto err;

	/* Both ciphers take a 96-bit nonce by default; no IV yet. */
	if (EVP_EncryptInit_ex(a->enc, cipher, NULL, key, NULL) != 1 ||
	    EVP_DecryptInit_ex(a->dec, cipher, NULL, key, NULL) != 1)
		goto err;
	if (EVP_CIPHER_CTX_get_iv_length(a->enc) != 12 ||
	    EVP_CIPHER_CTX_get_iv_length(a->dec) != 12)
		goto err;
	return (a);

err:
	crypto_aead_free(a);
	ERR_clear_error();
	return (NULL);
}

/**
 * crypto_aead_free(a):
 * Wipe and free ${a}.  Does nothing if ${a} is NULL.
 */
void
crypto_aead_free(struct crypto_aead *a)
{

	if (a == NULL)
		return;

	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	OPENSSL_clear_free(a, sizeof(*a));
}

/* Feed ${len} bytes of associated data to ${ctx} in int-sized chunks. */
static int
aead_ad(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *ad, size_t adlen)
{
	int outl, n;

	while (adlen > 0) {
		n = adlen > CHUNK_MAX ? CHUNK_MAX : (int)adlen;
		if ((enc ? EVP_EncryptUpdate(ctx, NULL, &outl, ad, n) :
		    EVP_DecryptUpdate(ctx, NULL, &outl, ad, n)) != 1)
			return (-1);
		ad += n;
		adlen -= (size_t)n;
	}
	return (0);
}

/* Run ${len} bytes from ${in} to ${out} through ${ctx}; 0 or -1. */
static int
aead_data(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *in, size_t len,
    uint8_t *out)
{
	int outl, n;

	while (len > 0) {
		n = len > CHUNK_MAX ? CHUNK_MAX : (int)len;
		if ((enc ? EVP_EncryptUpdate(ctx, out, &outl, in, n) :
		    EVP_DecryptUpdate(ctx, out, &outl, in, n)) != 1 ||
		    outl != n)
			return (-1);
		in += n;
		out += n;
		len -= (size_t)n;
	}
	return (0);
}

/**
 * crypto_aead_seal(a, nonce, ad, adlen, pt, ptlen, out):
 * Encrypt ${ptlen} bytes of ${pt} with 64-bit counter ${nonce} (encoded as
 * Noise specifies for the cipher) and associated data ${ad}; write
 * ${ptlen} + CRYPTO_TAGLEN bytes to ${out}.  ${out} may equal ${pt}.
 */
int
crypto_aead_seal(struct crypto_aead *a, uint64_t nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{

	return (crypto_aead_seal2(a, nonce, ad, adlen, pt, ptlen, NULL, 0,
	    out));
}

/**
 * crypto_aead_seal2(a, nonce, ad, adlen, pt1, len1, pt2, len2, out):
 * As crypto_aead_seal, for the plaintext ${pt1} || ${pt2}; writes
 * ${len1} + ${len2} + CRYPTO_TAGLEN bytes to ${out}.
 */
int
crypto_aead_seal2(struct crypto_aead *a, uint64_t nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *pt1, size_t len1, const uint8_t *pt2,
    size_t len2, uint8_t *out)
{
	uint8_t iv[12];
	int outl;

	make_iv(a->c, nonce, iv);
	if (EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, iv) != 1)
		goto err;
	if (aead_ad(a->enc, 1, ad, adlen))
		goto err;
	if (aead_data(a->enc, 1, pt1, len1, out) ||
	    aead_data(a->enc, 1, pt2, len2, out + len1))
		goto err;
	if (EVP_EncryptFinal_ex(a->enc, out + len1 + len2, &outl) != 1 ||
	    outl != 0)
		goto err;
	if (EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_AEAD_GET_TAG, CRYPTO_TAGLEN,
	    out + len1 + len2) != 1)
		goto err;
	return (0);

err:
	ERR_clear_error();
	return (-1);
}

/**
 * crypto_aead_open(a, nonce, ad, adlen, ct, ctlen, out):
 * Authenticate and decrypt ${ctlen} bytes of ${ct} (which include the tag)
 * and write ${ctlen} - CRYPTO_TAGLEN bytes to ${out}.  ${out} may equal
 * ${ct}.  Returns -1 if ${ctlen} is shorter than a tag or the tag is wrong.
 */
int
crypto_aead_open(struct crypto_aead *a, uint64_t nonce, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t iv[12];
	uint8_t tag[CRYPTO_TAGLEN];
	size_t ptlen;
	int outl;

	if (ctlen < CRYPTO_TAGLEN)
		return (-1);
	ptlen = ctlen - CRYPTO_TAGLEN;

	/* Copy the tag out first: in place, ${out} overlaps nothing past it. */
	memcpy(tag, ct + ptlen, CRYPTO_TAGLEN);
	make_iv(a->c, nonce, iv);
	if (EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, iv) != 1)
		goto err;
	if (EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_AEAD_SET_TAG, CRYPTO_TAGLEN,
	    tag) != 1)
		goto err;
	if (aead_ad(a->dec, 0, ad, adlen))
		goto err;
	if (aead_data(a->dec, 0, ct, ptlen, out))
		goto err;
	if (EVP_DecryptFinal_ex(a->dec, out + ptlen, &outl) != 1 || outl != 0)
		goto err;
	return (0);

err:
	/* Never release unauthenticated plaintext. */
	crypto_wipe(out, ptlen);
	ERR_clear_error();
	return (-1);
}

/**
 * crypto_b64_encode(in, inlen, out, outlen):
 * Base64-encode ${inlen} bytes into NUL-terminated ${out} of ${outlen}
 * bytes.  Returns -1 if ${out} is too small.
 */
int
crypto_b64_encode(const uint8_t *in, size_t inlen, char *out, size_t outlen)
{
	size_t need;

	if (inlen > (size_t)INT_MAX / 4 * 3 - 3)
		return (-1);
	need = (inlen + 2) / 3 * 4 + 1;
	if (outlen < need)
		return (-1);
	if ((size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)inlen) !=
	    need - 1)
		return (-1);
	return (0);
}

/* Return 1 if ${ch} is a character of the standard base64 alphabet. */
static int
b64_char(char ch)
{

	return ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/');
}

/* Return 1 if ${ch} is whitespace we allow around a key. */
static int
b64_space(char ch)
{

	return (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f');
}

/**
 * crypto_b64_decode32(in, out):
 * Decode the base64 text ${in} (surrounding whitespace allowed) that must
 * encode exactly 32 bytes into ${out}.  Returns -1 on anything else.
 */
int
crypto_b64_decode32(const char *in, uint8_t out[32])
{
	const char *p, *end;
	uint8_t buf[36];
	size_t i;
	int rc = -1;

	/* Trim surrounding whitespace; 32 bytes are exactly 44 characters. */
	for (p = in; b64_space(*p); p++)
		continue;
	for (end = p + strlen(p); end > p && b64_space(end[-1]); end--)
		continue;
	if (end - p != 44)
		goto out;

	/* 43 alphabet characters then one '=' of padding. */
	for (i = 0; i < 43; i++) {
		if (!b64_char(p[i]))
			goto out;
	}
	if (p[43] != '=')
		goto out;

	/* The last character carries 4 bits; its 2 spare bits must be 0. */
	if (strchr("AEIMQUYcgkosw048", p[42]) == NULL)
		goto out;

	/* EVP_DecodeBlock ignores the padding and yields 33 bytes. */
	if (EVP_DecodeBlock(buf, (const unsigned char *)p, 44) != 33)
		goto out;
	memcpy(out, buf, 32);
	rc = 0;

out:
	crypto_wipe(buf, sizeof(buf));
	if (rc)
		ERR_clear_error();
	return (rc);
}
