/*
 * test_noise: the product's handshake (IKpsk2, AESGCM, SHA256) between two
 * in-memory parties, and its failure modes.  Interoperability with other
 * implementations is checked by tests/vectors/noise_vectors.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "noise.h"

#define PROLOGUE "warren test"
#define IK_PROTOCOL "Noise_IK_25519_AESGCM_SHA256"

/* Two parties' keys: client (initiator) and server (responder). */
struct parties {
	struct noise_keys ik, rk;
	uint8_t i_pub[32], r_pub[32];
};

/* Generate fresh key pairs and a shared PSK (if ${psk}). */
static void
make_parties(struct parties *p, int psk)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(crypto_x25519_keygen(p->ik.s_priv, p->i_pub), 0);
	assert_int_equal(crypto_x25519_keygen(p->rk.s_priv, p->r_pub), 0);
	p->ik.has_s = p->rk.has_s = 1;
	p->ik.has_rs = 1;
	memcpy(p->ik.rs, p->r_pub, 32);
	if (psk) {
		assert_int_equal(crypto_random(p->ik.psks[0], 32), 0);
		memcpy(p->rk.psks[0], p->ik.psks[0], 32);
		p->ik.npsks = p->rk.npsks = 1;
	}
}

/* Start both sides of ${proto}. */
static void
start(const char *proto, struct parties *p, struct noise_hs **i,
    struct noise_hs **r)
{

	*i = noise_hs_new(proto, NOISE_INITIATOR, (const uint8_t *)PROLOGUE,
	    strlen(PROLOGUE), &p->ik);
	*r = noise_hs_new(proto, NOISE_RESPONDER, (const uint8_t *)PROLOGUE,
	    strlen(PROLOGUE), &p->rk);
	assert_non_null(*i);
	assert_non_null(*r);
}

/* Run a full handshake of ${proto} and check everything agrees. */
static void
check_handshake(const char *proto, int psk)
{
	struct parties p;
	struct noise_hs *i, *r;
	struct noise_cipher *itx, *irx, *rtx, *rrx;
	uint8_t msg[512], pay[512], ih[64], rh[64];
	uint8_t ik1[32], ik2[32], rk1[32], rk2[32], rec[64], out[64];
	size_t len, plen;

	make_parties(&p, psk);
	start(proto, &p, &i, &r);
	assert_int_equal(noise_hs_cipher(i), CRYPTO_AESGCM);
	assert_false(noise_hs_done(i));

	/* -> e, es, s, ss, payload */
	assert_int_equal(noise_hs_write(i, (const uint8_t *)"hello", 5, msg,
	    sizeof(msg), &len), 0);
	assert_int_equal(len, 32 + 48 + 5 + 16);
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    0);
	assert_int_equal(plen, 5);
	assert_memory_equal(pay, "hello", 5);

	/* The responder learned the initiator's static key. */
	assert_non_null(noise_hs_remote_static(r));
	assert_memory_equal(noise_hs_remote_static(r), p.i_pub, 32);

	/* <- e, ee, se, [psk], payload (empty) */
	assert_int_equal(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(len, 32 + 16);
	assert_int_equal(noise_hs_read(i, msg, len, pay, sizeof(pay), &plen),
	    0);
	assert_int_equal(plen, 0);
	assert_true(noise_hs_done(i));
	assert_true(noise_hs_done(r));

	/* No more handshake messages. */
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    -1);

	/* Same handshake hash, same split keys, distinct directions. */
	assert_int_equal(noise_hs_hash(i, ih), 32);
	assert_int_equal(noise_hs_hash(r, rh), 32);
	assert_memory_equal(ih, rh, 32);
	assert_int_equal(noise_hs_split(i, ik1, ik2), 0);
	assert_int_equal(noise_hs_split(r, rk1, rk2), 0);
	assert_memory_equal(ik1, rk1, 32);
	assert_memory_equal(ik2, rk2, 32);
	assert_memory_not_equal(ik1, ik2, 32);

	/* Transport both ways; a failed open does not advance the nonce. */
	assert_non_null(itx = noise_cipher_new(CRYPTO_AESGCM, ik1));
	assert_non_null(rrx = noise_cipher_new(CRYPTO_AESGCM, rk1));
	assert_non_null(rtx = noise_cipher_new(CRYPTO_AESGCM, rk2));
	assert_non_null(irx = noise_cipher_new(CRYPTO_AESGCM, ik2));
	assert_int_equal(noise_cipher_seal(itx, NULL, 0,
	    (const uint8_t *)"ping", 4, rec), 0);
	rec[0] ^= 1;
	assert_int_equal(noise_cipher_open(rrx, NULL, 0, rec, 20, out), -1);
	rec[0] ^= 1;
	assert_int_equal(noise_cipher_open(rrx, NULL, 0, rec, 20, out), 0);
	assert_memory_equal(out, "ping", 4);
	assert_int_equal(noise_cipher_open(rrx, NULL, 0, rec, 20, out), -1);
	assert_int_equal(noise_cipher_seal(rtx, NULL, 0,
	    (const uint8_t *)"pong", 4, rec), 0);
	assert_int_equal(noise_cipher_open(irx, NULL, 0, rec, 20, out), 0);
	assert_memory_equal(out, "pong", 4);

	noise_cipher_free(itx);
	noise_cipher_free(irx);
	noise_cipher_free(rtx);
	noise_cipher_free(rrx);
	noise_cipher_free(NULL);
	noise_hs_free(i);
	noise_hs_free(r);
	noise_hs_free(NULL);
}

static void
test_ikpsk2(void **state)
{

	check_handshake(NOISE_PROTOCOL, 1);
}

static void
test_ik_without_psk(void **state)
{

	check_handshake(IK_PROTOCOL, 0);
}

static void
test_missing_keys(void **state)
{
	struct parties p;
	struct noise_keys k;

	/* IKpsk2 needs a PSK on both sides. */
	make_parties(&p, 0);
	assert_null(noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR, NULL, 0,
	    &p.ik));
	assert_null(noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER, NULL, 0,
	    &p.rk));

	/* The initiator needs its static key and the responder's. */
	make_parties(&p, 1);
	k = p.ik;
	k.has_rs = 0;
	assert_null(noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR, NULL, 0, &k));
	k = p.ik;
	k.has_s = 0;
	assert_null(noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR, NULL, 0, &k));
	k = p.rk;
	k.has_s = 0;
	assert_null(noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER, NULL, 0, &k));
	k = p.ik;
	k.npsks = NOISE_MAXPSKS + 1;
	assert_null(noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR, NULL, 0, &k));
}

/* Flip bit ${bit} of message 1 (or 2 if ${second}); expect rejection. */
static void
check_tamper(int second, size_t byte)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512];
	size_t len, plen;

	make_parties(&p, 1);
	start(NOISE_PROTOCOL, &p, &i, &r);
	assert_int_equal(noise_hs_write(i, (const uint8_t *)"x", 1, msg,
	    sizeof(msg), &len), 0);
	if (!second) {
		msg[byte % len] ^= 0x01;
		assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay),
		    &plen), -1);

		/* The handshake is dead now, even for a good message. */
		msg[byte % len] ^= 0x01;
		assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay),
		    &plen), -1);
		assert_false(noise_hs_done(r));
	} else {
		assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay),
		    &plen), 0);
		assert_int_equal(noise_hs_write(r, NULL, 0, msg, sizeof(msg),
		    &len), 0);
		msg[byte % len] ^= 0x01;
		assert_int_equal(noise_hs_read(i, msg, len, pay, sizeof(pay),
		    &plen), -1);
		assert_false(noise_hs_done(i));
	}
	noise_hs_free(i);
	noise_hs_free(r);
}

static void
test_tampered(void **state)
{
	size_t b;

	/* Every region: e, encrypted s, its tag, payload, payload tag. */
	for (b = 0; b < 97; b += 7)
		check_tamper(0, b);
	check_tamper(0, 96);
	for (b = 0; b < 48; b += 5)
		check_tamper(1, b);
	check_tamper(1, 47);
}

static void
test_wrong_responder_key(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512], other[32];
	size_t len, plen;

	/* The initiator believes in another server key. */
	make_parties(&p, 1);
	assert_int_equal(crypto_x25519_keygen(other, p.ik.rs), 0);
	start(NOISE_PROTOCOL, &p, &i, &r);
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    -1);
	noise_hs_free(i);
	noise_hs_free(r);
}

/* rs_check: accept only the key at ${arg}; count the calls. */
static int rs_calls;
static int
only_key(void *arg, const uint8_t rs[32])
{
	rs_calls++;
	return memcmp(arg, rs, 32) != 0;
}

/* The responder's rs_check sees the initiator's key and can refuse it. */
static void
test_rs_check(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512], other[32], other_priv[32];
	size_t len, plen;

	/* Accepted: the handshake goes on. */
	make_parties(&p, 1);
	p.rk.rs_check = only_key;
	p.rk.rs_check_arg = p.i_pub;
	rs_calls = 0;
	start(NOISE_PROTOCOL, &p, &i, &r);
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    0);
	assert_int_equal(rs_calls, 1);
	assert_int_equal(noise_hs_rs_rejected(r), 0);
	noise_hs_free(i);
	noise_hs_free(r);

	/* Refused: the read fails and says why; a tampered message does not. */
	assert_int_equal(crypto_x25519_keygen(other_priv, other), 0);
	p.rk.rs_check_arg = other;
	start(NOISE_PROTOCOL, &p, &i, &r);
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    -1);
	assert_int_equal(rs_calls, 2);
	assert_int_equal(noise_hs_rs_rejected(r), 1);
	noise_hs_free(r);
	r = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), &p.rk);
	assert_non_null(r);
	msg[40] ^= 1;    /* inside the encrypted static key */
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    -1);
	assert_int_equal(rs_calls, 2);
	assert_int_equal(noise_hs_rs_rejected(r), 0);
	noise_hs_free(i);
	noise_hs_free(r);
}

static void
test_wrong_psk(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512];
	size_t len, plen;

	/* psk2 is mixed at the end of message 2: the initiator rejects it. */
	make_parties(&p, 1);
	p.rk.psks[0][7] ^= 0x40;
	start(NOISE_PROTOCOL, &p, &i, &r);
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    0);
	assert_int_equal(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(i, msg, len, pay, sizeof(pay), &plen),
	    -1);
	assert_false(noise_hs_done(i));
	noise_hs_free(i);
	noise_hs_free(r);
}

static void
test_wrong_prologue(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512];
	size_t len, plen;

	make_parties(&p, 1);
	assert_non_null(i = noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR,
	    (const uint8_t *)"a", 1, &p.ik));
	assert_non_null(r = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
	    (const uint8_t *)"b", 1, &p.rk));
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(r, msg, len, pay, sizeof(pay), &plen),
	    -1);
	noise_hs_free(i);
	noise_hs_free(r);
}

static void
test_lengths(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512];
	uint8_t *big;
	size_t len, plen, cut;

	make_parties(&p, 1);
	start(NOISE_PROTOCOL, &p, &i, &r);

	/* Output buffer too small for the message. */
	assert_int_equal(noise_hs_write(i, (const uint8_t *)"abcd", 4, msg,
	    32 + 48 + 16 + 3, &len), -1);
	noise_hs_free(i);

	/* Every truncation of a valid message is rejected. */
	assert_non_null(i = noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), &p.ik));
	assert_int_equal(noise_hs_write(i, (const uint8_t *)"abcd", 4, msg,
	    sizeof(msg), &len), 0);
	assert_int_equal(len, 100);
	for (cut = 0; cut < len; cut++) {
		noise_hs_free(r);
		assert_non_null(r = noise_hs_new(NOISE_PROTOCOL,
		    NOISE_RESPONDER, (const uint8_t *)PROLOGUE,
		    strlen(PROLOGUE), &p.rk));
		assert_int_equal(noise_hs_read(r, msg, cut, pay, sizeof(pay),
		    &plen), -1);
	}

	/* Payload larger than the caller's buffer. */
	noise_hs_free(r);
	assert_non_null(r = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), &p.rk));
	assert_int_equal(noise_hs_read(r, msg, len, pay, 3, &plen), -1);

	/* Longer than any handshake message. */
	noise_hs_free(r);
	assert_non_null(r = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), &p.rk));
	assert_non_null(big = calloc(1, NOISE_MAXMSG + 2));
	memcpy(big, msg, len);
	assert_int_equal(noise_hs_read(r, big, NOISE_MAXMSG + 1, big,
	    NOISE_MAXMSG + 1, &plen), -1);
	free(big);

	/* The exact message still works on a fresh responder. */
	noise_hs_free(r);
	assert_non_null(r = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
	    (const uint8_t *)PROLOGUE, strlen(PROLOGUE), &p.rk));
	assert_int_equal(noise_hs_read(r, msg, len, pay, 4, &plen), 0);
	assert_int_equal(plen, 4);
	noise_hs_free(i);
	noise_hs_free(r);
}

static void
test_out_of_turn(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t msg[512], pay[512];
	size_t len, plen;

	make_parties(&p, 1);
	start(NOISE_PROTOCOL, &p, &i, &r);

	/* The responder cannot speak first; the initiator cannot read first. */
	assert_int_equal(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &len),
	    -1);
	noise_hs_free(r);
	assert_int_equal(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &len),
	    0);
	assert_int_equal(noise_hs_read(i, msg, len, pay, sizeof(pay), &plen),
	    -1);
	noise_hs_free(i);
}

static void
test_split_before_done(void **state)
{
	struct parties p;
	struct noise_hs *i, *r;
	uint8_t k1[32], k2[32];

	make_parties(&p, 1);
	start(NOISE_PROTOCOL, &p, &i, &r);
	assert_int_equal(noise_hs_split(i, k1, k2), -1);
	noise_hs_free(i);
	noise_hs_free(r);
}

static void
test_protocol_names(void **state)
{
	static const char *const good[] = {
		NOISE_PROTOCOL,
		"Noise_IK_25519_AESGCM_SHA256",
		"Noise_XX_25519_ChaChaPoly_BLAKE2s",
		"Noise_NN_25519_AESGCM_SHA512",
		"Noise_N_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXpsk0+psk1+psk2+psk3_25519_AESGCM_SHA256",
		"Noise_NNpsk0_25519_ChaChaPoly_SHA256",
		"Noise_I1K1_25519_AESGCM_SHA256",
	};
	static const char *const bad[] = {
		"",
		"Noise",
		"Noise_IKpsk2_448_AESGCM_SHA256",
		"Noise_IKpsk2_25519_AESGCM_SHA384",
		"Noise_IKpsk2_25519_AES256_SHA256",
		"Noise_ZZ_25519_AESGCM_SHA256",
		"Noise_ik_25519_AESGCM_SHA256",
		"Noise_IKpsk3_25519_AESGCM_SHA256",
		"Noise_IKpsk2+psk2_25519_AESGCM_SHA256",
		"Noise_IKpsk02_25519_AESGCM_SHA256",
		"Noise_IKpsk_25519_AESGCM_SHA256",
		"Noise_IKpsk2+_25519_AESGCM_SHA256",
		"Noise_IKfallback_25519_AESGCM_SHA256",
		"Noise_psk0_25519_AESGCM_SHA256",
		"Noise_IKpsk2_25519_AESGCM_SHA256_",
		"Noise_IKpsk2_25519_AESGCM_SHA256_x",
		"Noise__25519_AESGCM_SHA256",
		"noise_IKpsk2_25519_AESGCM_SHA256",
		"Noise_IKpsk2_25519_AESGCM",
	};
	struct parties p;
	size_t i;

	make_parties(&p, 1);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(noise_hs_supported(good[i]), 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(noise_hs_supported(bad[i]), 0);
		assert_null(noise_hs_new(bad[i], NOISE_INITIATOR, NULL, 0,
		    &p.ik));
		assert_null(noise_hs_new(bad[i], NOISE_RESPONDER, NULL, 0,
		    &p.rk));
	}
	assert_int_equal(noise_hs_supported(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ikpsk2),
		cmocka_unit_test(test_ik_without_psk),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_rs_check),
		cmocka_unit_test(test_wrong_responder_key),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_wrong_prologue),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_out_of_turn),
		cmocka_unit_test(test_split_before_done),
		cmocka_unit_test(test_protocol_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
