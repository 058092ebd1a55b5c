/*
 * test_crypto: known-answer tests for every primitive of src/crypto.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"

/* Decode ${hex} into ${out}, which must have exactly strlen(hex)/2 bytes. */
static void
unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	unsigned int b;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* Assert that ${len} bytes at ${got} equal the hex string ${want}. */
static void
assert_hex(const uint8_t *got, const char *want, size_t len)
{
	uint8_t buf[512];

	assert_true(len <= sizeof(buf));
	unhex(want, buf, len);
	assert_memory_equal(got, buf, len);
}

/* Hash "abc" with ${h} in one part and in three; compare to ${want}. */
static void
check_abc(enum crypto_hash h, const char *want)
{
	const uint8_t *parts1[1] = { (const uint8_t *)"abc" };
	size_t lens1[1] = { 3 };
	const uint8_t *parts3[3] = { (const uint8_t *)"a", (const uint8_t *)"",
	    (const uint8_t *)"bc" };
	size_t lens3[3] = { 1, 0, 2 };
	uint8_t out[CRYPTO_MAXHASH];

	assert_int_equal(crypto_hash(h, out, parts1, lens1, 1), 0);
	assert_hex(out, want, crypto_hash_len(h));
	memset(out, 0, sizeof(out));
	assert_int_equal(crypto_hash(h, out, parts3, lens3, 3), 0);
	assert_hex(out, want, crypto_hash_len(h));
}

static void
test_hash_lengths(void **state)
{

	assert_int_equal(crypto_hash_len(CRYPTO_SHA256), 32);
	assert_int_equal(crypto_hash_len(CRYPTO_SHA512), 64);
	assert_int_equal(crypto_hash_len(CRYPTO_BLAKE2S), 32);
	assert_int_equal(crypto_hash_len(CRYPTO_BLAKE2B), 64);
	assert_int_equal(crypto_hash_blocklen(CRYPTO_SHA256), 64);
	assert_int_equal(crypto_hash_blocklen(CRYPTO_SHA512), 128);
	assert_int_equal(crypto_hash_blocklen(CRYPTO_BLAKE2S), 64);
	assert_int_equal(crypto_hash_blocklen(CRYPTO_BLAKE2B), 128);
}

static void
test_sha256(void **state)
{

	check_abc(CRYPTO_SHA256,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_sha512(void **state)
{

	check_abc(CRYPTO_SHA512,
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

static void
test_blake2s(void **state)
{

	check_abc(CRYPTO_BLAKE2S,
	    "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

static void
test_blake2b(void **state)
{

	check_abc(CRYPTO_BLAKE2B,
	    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
	    "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

/* HMAC with ${h} of RFC 4231 test case 2 ("Jefe"); compare to ${want}. */
static void
check_jefe(enum crypto_hash h, const char *want)
{
	static const char data[] = "what do ya want for nothing?";
	const uint8_t *parts[2] = { (const uint8_t *)data,
	    (const uint8_t *)data + 10 };
	size_t lens[2] = { 10, sizeof(data) - 1 - 10 };
	uint8_t out[CRYPTO_MAXHASH];

	assert_int_equal(crypto_hmac(h, out, (const uint8_t *)"Jefe", 4,
	    parts, lens, 2), 0);
	assert_hex(out, want, crypto_hash_len(h));
}

static void
test_hmac(void **state)
{
	uint8_t key[20], out[32];
	const uint8_t *parts[1] = { (const uint8_t *)"Hi There" };
	size_t lens[1] = { 8 };

	/* RFC 4231 test cases 1 and 2. */
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(crypto_hmac(CRYPTO_SHA256, out, key, sizeof(key),
	    parts, lens, 1), 0);
	assert_hex(out,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    32);
	check_jefe(CRYPTO_SHA256,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* RFC 4231 test case 6: a key longer than the block is hashed first. */
	{
		uint8_t big[131];
		static const char msg[] =
		    "Test Using Larger Than Block-Size Key - Hash Key First";
		const uint8_t *p6[1] = { (const uint8_t *)msg };
		size_t l6[1] = { sizeof(msg) - 1 };

		memset(big, 0xaa, sizeof(big));
		assert_int_equal(crypto_hmac(CRYPTO_SHA256, out, big,
		    sizeof(big), p6, l6, 1), 0);
		assert_hex(out, "60e431591ee0b67f0d8a26aacbf5b77f"
		    "8e0bc6213728c5140546040f0ee37f54", 32);
	}
	check_jefe(CRYPTO_SHA512,
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");

	/* BLAKE2 HMACs per RFC 2104 (values from Python's hmac module). */
	check_jefe(CRYPTO_BLAKE2S,
	    "90b6281e2f3038c9056af0b4a7e763cae6fe5d9eb4386a0ec95237890c104ff0");
	check_jefe(CRYPTO_BLAKE2B,
	    "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643"
	    "b8807c1335d107ecdb9ffeaeb6828c4625ba172c66379efcd222c2de11727ab4");
}

static void
test_hkdf(void **state)
{
	uint8_t ck[32], o1[32], o2[32], o3[32], a1[32];
	size_t i;

	for (i = 0; i < 32; i++)
		ck[i] = (uint8_t)i;
	assert_int_equal(crypto_hkdf(CRYPTO_SHA256, ck,
	    (const uint8_t *)"warren hkdf", 11, o1, o2, o3), 0);
	assert_hex(o1,
	    "abd2221a55e8231927b290054a01c08056fcc37bc608afaa65c8442ab5ca7f4c",
	    32);
	assert_hex(o2,
	    "6128ecc31d3867d9d06094300837097f2c92ae12c2be1eb45add31a4ca98d4c1",
	    32);
	assert_hex(o3,
	    "54a6e82694cb789526d0e64d32f6eee80469376fd09d0f0bc25a15b143dce11c",
	    32);

	/* out2/out3 optional; out1 may alias ck (as MixKey does). */
	assert_int_equal(crypto_hkdf(CRYPTO_SHA256, ck,
	    (const uint8_t *)"warren hkdf", 11, a1, NULL, NULL), 0);
	assert_memory_equal(a1, o1, 32);
	assert_int_equal(crypto_hkdf(CRYPTO_SHA256, ck,
	    (const uint8_t *)"warren hkdf", 11, ck, o3, NULL), 0);
	assert_memory_equal(ck, o1, 32);
	assert_memory_equal(o3, o2, 32);
}

static void
test_x25519_rfc7748(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], s1[32], s2[32];

	/* RFC 7748 section 6.1. */
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, 32);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, 32);
	assert_int_equal(crypto_x25519_pub(a, apub), 0);
	assert_hex(apub,
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    32);
	assert_int_equal(crypto_x25519_pub(b, bpub), 0);
	assert_hex(bpub,
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    32);
	assert_int_equal(crypto_x25519(s1, a, bpub), 0);
	assert_int_equal(crypto_x25519(s2, b, apub), 0);
	assert_hex(s1,
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    32);
	assert_memory_equal(s1, s2, 32);
}

static void
test_x25519_keygen(void **state)
{
	uint8_t a[32], apub[32], b[32], bpub[32], pub[32], s1[32], s2[32];

	assert_int_equal(crypto_x25519_keygen(a, apub), 0);
	assert_int_equal(crypto_x25519_keygen(b, bpub), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(crypto_x25519_pub(a, pub), 0);
	assert_memory_equal(pub, apub, 32);
	assert_int_equal(crypto_x25519(s1, a, bpub), 0);
	assert_int_equal(crypto_x25519(s2, b, apub), 0);
	assert_memory_equal(s1, s2, 32);
}

static void
test_x25519_low_order(void **state)
{
	static const char *const bad[] = {
		/* 0, 1, and a point of order 8. */
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		/* p - 1 (order 2) and p (== 0). */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[32], pub[32], out[32], zero[32] = { 0 };
	size_t i;

	assert_int_equal(crypto_x25519_keygen(priv, pub), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unhex(bad[i], pub, 32);
		memset(out, 0xaa, sizeof(out));
		assert_int_equal(crypto_x25519(out, priv, pub), -1);
		assert_memory_equal(out, zero, 32);
	}
}

/* A remembered static peer gives the same secret as computing it. */
static void
test_x25519_remember(void **state)
{
	uint8_t a[32], apub[32], b[32], bpub[32], c[32], cpub[32];
	uint8_t want[32], got[32], low[32] = { 1 };
	struct crypto_x25519_key *k;

	assert_int_equal(crypto_x25519_keygen(a, apub), 0);
	assert_int_equal(crypto_x25519_keygen(b, bpub), 0);
	assert_int_equal(crypto_x25519_keygen(c, cpub), 0);
	assert_non_null(k = crypto_x25519_key_new(a));
	assert_int_equal(crypto_x25519_key_remember(k, cpub), 0);
	assert_int_equal(crypto_x25519_key_remember(k, bpub), 0);
	assert_int_equal(crypto_x25519_key_remember(k, low), -1);

	assert_int_equal(crypto_x25519(want, b, apub), 0);
	assert_int_equal(crypto_x25519_key_dh_static(k, bpub, got), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(crypto_x25519(want, c, apub), 0);
	assert_int_equal(crypto_x25519_key_dh_static(k, cpub, got), 0);
	assert_memory_equal(got, want, 32);

	/* Not remembered: computed. */
	assert_int_equal(crypto_x25519_keygen(b, bpub), 0);
	assert_int_equal(crypto_x25519(want, b, apub), 0);
	assert_int_equal(crypto_x25519_key_dh_static(k, bpub, got), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(crypto_x25519_key_dh_static(k, low, got), -1);
	crypto_x25519_key_free(k);
}

static void
test_random(void **state)
{
	uint8_t a[64], b[64];

	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_random(NULL, 0), 0);
}

static void
test_wipe_equal(void **state)
{
	uint8_t a[16], b[16], zero[16] = { 0 };

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 1);
	b[15] ^= 1;
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
	b[15] ^= 1;
	b[0] ^= 0x80;
	assert_int_equal(crypto_equal(a, b, sizeof(a)), 0);
	assert_int_equal(crypto_equal(a, b, 0), 1);
	crypto_wipe(a, sizeof(a));
	assert_memory_equal(a, zero, sizeof(a));
	crypto_wipe(NULL, 0);
}

static void
test_aesgcm_kat(void **state)
{
	struct crypto_aead *a;
	uint8_t key[32], ct[64], pt[64], zero[16] = { 0 };

	/* GCM spec (McGrew-Viega) test cases 13 and 14: key 0, IV 0 (n=0). */
	memset(key, 0, sizeof(key));
	assert_non_null(a = crypto_aead_new(CRYPTO_AESGCM, key));
	assert_int_equal(crypto_aead_seal(a, 0, NULL, 0, NULL, 0, ct), 0);
	assert_hex(ct, "530f8afbc74536b9a963b4f1c4cb738b", 16);
	assert_int_equal(crypto_aead_seal(a, 0, NULL, 0, zero, 16, ct), 0);
	assert_hex(ct, "cea7403d4d606b6e074ec5d3baf39d18"
	    "d0d1c8a799996bf0265b98b5d48ab919", 32);
	assert_int_equal(crypto_aead_open(a, 0, NULL, 0, ct, 32, pt), 0);
	assert_memory_equal(pt, zero, 16);
	crypto_aead_free(a);

	/* Noise nonce layout: 4 zero bytes, big-endian counter. */
	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	    key, 32);
	assert_non_null(a = crypto_aead_new(CRYPTO_AESGCM, key));
	assert_int_equal(crypto_aead_seal(a, 0x0102030405060708ULL,
	    (const uint8_t *)"header", 6, (const uint8_t *)"warren record", 13,
	    ct), 0);
	assert_hex(ct, "f8d1a9901a3cbea0902e0fac51afe151ac0b7af73abf041077e311c8a6",
	    29);
	crypto_aead_free(a);
}

static void
test_chachapoly_kat(void **state)
{
	struct crypto_aead *a;
	uint8_t key[32], ct[64], pt[64];

	/* Noise nonce layout: 4 zero bytes, little-endian counter. */
	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	    key, 32);
	assert_non_null(a = crypto_aead_new(CRYPTO_CHACHAPOLY, key));
	assert_int_equal(crypto_aead_seal(a, 0x0102030405060708ULL,
	    (const uint8_t *)"header", 6, (const uint8_t *)"warren record", 13,
	    ct), 0);
	assert_hex(ct, "83d09cc935b47baf46d21ef96a073944a38f1a03f0775b262c81b9a60c",
	    29);
	assert_int_equal(crypto_aead_open(a, 0x0102030405060708ULL,
	    (const uint8_t *)"header", 6, ct, 29, pt), 0);
	assert_memory_equal(pt, "warren record", 13);
	crypto_aead_free(a);
}

/* Round trip, in place, tamper and misuse checks for cipher ${c}. */
static void
check_aead(enum crypto_cipher c)
{
	struct crypto_aead *a, *b;
	uint8_t key[32], pt[1000], buf[1016], ct[1016], out[1016];
	uint8_t ad[20];
	size_t i;

	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(pt, sizeof(pt)), 0);
	memset(ad, 7, sizeof(ad));
	assert_non_null(a = crypto_aead_new(c, key));

	/* Out of place, then in place gives the same bytes. */
	assert_int_equal(crypto_aead_seal(a, 5, ad, sizeof(ad), pt,
	    sizeof(pt), ct), 0);
	memcpy(buf, pt, sizeof(pt));
	assert_int_equal(crypto_aead_seal(a, 5, ad, sizeof(ad), buf,
	    sizeof(pt), buf), 0);
	assert_memory_equal(buf, ct, sizeof(ct));
	assert_int_equal(crypto_aead_open(a, 5, ad, sizeof(ad), buf,
	    sizeof(buf), buf), 0);
	assert_memory_equal(buf, pt, sizeof(pt));

	/* A second context with the same key opens it. */
	assert_non_null(b = crypto_aead_new(c, key));
	assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad), ct,
	    sizeof(ct), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));

	/* Wrong nonce, wrong AD, any flipped bit, short input: rejected. */
	assert_int_equal(crypto_aead_open(b, 6, ad, sizeof(ad), ct,
	    sizeof(ct), out), -1);
	assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad) - 1, ct,
	    sizeof(ct), out), -1);
	assert_int_equal(crypto_aead_open(b, 5, NULL, 0, ct, sizeof(ct),
	    out), -1);
	for (i = 0; i < sizeof(ct); i += 101) {
		ct[i] ^= 0x10;
		assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad), ct,
		    sizeof(ct), out), -1);
		ct[i] ^= 0x10;
	}
	ct[sizeof(ct) - 1] ^= 1;
	assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad), ct,
	    sizeof(ct), out), -1);
	ct[sizeof(ct) - 1] ^= 1;
	assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad), ct, 15, out),
	    -1);
	assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad), ct, 0, out),
	    -1);

	/* Still usable after failures; empty plaintext works. */
	assert_int_equal(crypto_aead_open(b, 5, ad, sizeof(ad), ct,
	    sizeof(ct), out), 0);
	assert_int_equal(crypto_aead_seal(a, 0, NULL, 0, NULL, 0, buf), 0);
	assert_int_equal(crypto_aead_open(b, 0, NULL, 0, buf, 16, out), 0);
	buf[0] ^= 1;
	assert_int_equal(crypto_aead_open(b, 0, NULL, 0, buf, 16, out), -1);

	/* Big nonces differ from each other. */
	assert_int_equal(crypto_aead_seal(a, UINT64_MAX - 1, NULL, 0, pt, 16,
	    buf), 0);
	assert_int_equal(crypto_aead_seal(a, UINT64_MAX - 2, NULL, 0, pt, 16,
	    out), 0);
	assert_memory_not_equal(buf, out, 32);

	crypto_aead_free(a);
	crypto_aead_free(b);
	crypto_aead_free(NULL);
}

static void
test_aead_aesgcm(void **state)
{

	check_aead(CRYPTO_AESGCM);
}

static void
test_aead_chachapoly(void **state)
{

	check_aead(CRYPTO_CHACHAPOLY);
}

static void
test_b64(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",      /* 43 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",    /* 45 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",     /* 31 bytes */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     /* no pad */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=",     /* garbage */
		"AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA=",     /* inner space */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",     /* non-canonical */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=x",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n=",
	};
	uint8_t key[32], out[32], zero[32] = { 0 };
	char text[64];
	size_t i;

	/* Zero key, known text. */
	assert_int_equal(crypto_b64_encode(zero, 32, text, sizeof(text)), 0);
	assert_string_equal(text,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	assert_int_equal(crypto_b64_encode(zero, 32, text, 45), 0);
	assert_int_equal(crypto_b64_encode(zero, 32, text, 44), -1);
	assert_int_equal(crypto_b64_encode(zero, 0, text, 1), 0);
	assert_string_equal(text, "");
	assert_int_equal(crypto_b64_encode((const uint8_t *)"abcd", 4, text,
	    sizeof(text)), 0);
	assert_string_equal(text, "YWJjZA==");

	/* The RFC 7748 key as WireGuard would print it; whitespace around. */
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    key, 32);
	assert_int_equal(crypto_b64_encode(key, 32, text, sizeof(text)), 0);
	assert_string_equal(text,
	    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
	assert_int_equal(crypto_b64_decode32(
	    " \tdwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\r\n", out), 0);
	assert_memory_equal(out, key, 32);

	/* Random round trips. */
	for (i = 0; i < 64; i++) {
		assert_int_equal(crypto_random(key, 32), 0);
		assert_int_equal(crypto_b64_encode(key, 32, text, sizeof(text)),
		    0);
		assert_int_equal(crypto_b64_decode32(text, out), 0);
		assert_memory_equal(out, key, 32);
	}

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(crypto_b64_decode32(bad[i], out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_lengths),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_sha512),
		cmocka_unit_test(test_blake2s),
		cmocka_unit_test(test_blake2b),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_hkdf),
		cmocka_unit_test(test_x25519_rfc7748),
		cmocka_unit_test(test_x25519_keygen),
		cmocka_unit_test(test_x25519_low_order),
		cmocka_unit_test(test_x25519_remember),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_wipe_equal),
		cmocka_unit_test(test_aesgcm_kat),
		cmocka_unit_test(test_chachapoly_kat),
		cmocka_unit_test(test_aead_aesgcm),
		cmocka_unit_test(test_aead_chachapoly),
		cmocka_unit_test(test_b64),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
