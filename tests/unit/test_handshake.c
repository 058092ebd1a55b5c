/*
 * test_handshake: the front-door handshake as the two programs drive it
 * (src/handshake.c): an INIT from hs_client_start, read and answered by
 * the node, finished by the client with the same session keys on both
 * sides; and how a client recognises a late answer to an earlier INIT of
 * its own (hs_client_answers), which cmd/warren/dial.c uses to learn the
 * round trip; and that a forged answer (right index and mac1, which anyone
 * who knows the client's public key can make) leaves the handshake able to
 * take the node's real answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "handshake.h"
#include "session.h"
#include "wire.h"

struct fix {
	struct hs_node node;
	uint8_t apriv[32], apub[32];        /* client A */
	uint8_t bpriv[32], bpub[32];        /* client B */
};

static int
setup(void **state)
{
	static struct fix f;
	uint8_t npriv[32], npub[32];

	memset(&f, 0, sizeof(f));
	assert_int_equal(crypto_x25519_keygen(npriv, npub), 0);
	assert_int_equal(hs_node_init(&f.node, npriv), 0);
	assert_int_equal(crypto_x25519_keygen(f.apriv, f.apub), 0);
	assert_int_equal(crypto_x25519_keygen(f.bpriv, f.bpub), 0);
	crypto_wipe(npriv, sizeof(npriv));
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	hs_node_free(&f->node);
	return 0;
}

/* The node reads ${init} (from client ${pub}) and writes its RESP. */
static void
answer(struct fix *f, const uint8_t init[WIRE_INIT_LEN],
    const uint8_t pub[32], uint8_t resp[WIRE_RESP_LEN], struct session *s)
{
	struct hs_pending *p;
	struct wire_init wi;
	struct wire_resp wr;
	uint8_t cpub[32];
	int unknown = -1;

	p = hs_node_read(&f->node, init, WIRE_INIT_LEN, &wi, cpub, &unknown);
	assert_non_null(p);
	assert_memory_equal(cpub, pub, 32);
	assert_string_equal(wi.service, "ssh");
	memset(&wr, 0, sizeof(wr));
	wr.status = WIRE_OK;
	wr.decoy = 7;
	wr.window = 9;
	wr.port_lo = 40000;
	wr.port_hi = 40999;
	wr.grant_timeout = 10;
	wr.keepalive = 10;
	assert_int_equal(crypto_random(wr.session_id, sizeof(wr.session_id)), 0);
	assert_int_equal(hs_node_reply(p, NULL, &wr, resp, s), 0);
	hs_pending_free(p);
}

static void
test_round_trip(void **state)
{
	struct fix *f = *state;
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_LEN];
	struct session sc, sn;
	struct wire_resp wr;
	struct hs_client *c;

	c = hs_client_start(f->apriv, f->node.pub, NULL, "ssh", init);
	assert_non_null(c);
	answer(f, init, f->apub, resp, &sn);
	assert_int_equal(hs_client_finish(c, resp, sizeof(resp), &wr, &sc), 0);
	assert_int_equal(wr.status, WIRE_OK);
	assert_int_equal(wr.decoy, 7);
	assert_memory_equal(sc.id, sn.id, sizeof(sc.id));
	assert_memory_equal(sc.key_c2s, sn.key_c2s, sizeof(sc.key_c2s));
	assert_memory_equal(sc.key_s2c, sn.key_s2c, sizeof(sc.key_s2c));
	assert_memory_not_equal(sc.key_c2s, sc.key_s2c, sizeof(sc.key_c2s));
	hs_client_free(c);
	session_wipe(&sc);
	session_wipe(&sn);
}

static void
test_late_answer(void **state)
{
	struct fix *f = *state;
	uint8_t init1[WIRE_INIT_LEN], init2[WIRE_INIT_LEN], initb[WIRE_INIT_LEN];
	uint8_t resp1[WIRE_RESP_LEN];
	struct hs_client *c1, *c2, *cb;
	struct session sc, sn;
	struct wire_resp wr;
	uint32_t index = 0;

	/* Client A retries: a second, fresh INIT while the first is out. */
	c1 = hs_client_start(f->apriv, f->node.pub, NULL, "ssh", init1);
	c2 = hs_client_start(f->apriv, f->node.pub, NULL, "ssh", init2);
	cb = hs_client_start(f->bpriv, f->node.pub, NULL, "ssh", initb);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_non_null(cb);
	assert_int_not_equal(wire_get32(init1 + 4), wire_get32(init2 + 4));
	answer(f, init1, f->apub, resp1, &sn);

	/* The answer to the first is not one to the second... */
	assert_int_equal(hs_client_finish(c2, resp1, sizeof(resp1), &wr, &sc),
	    -1);
	/* ...but the second recognises it as A's, answering the first INIT. */
	assert_int_equal(hs_client_answers(c2, resp1, sizeof(resp1), &index), 0);
	assert_int_equal(index, wire_get32(init1 + 4));

	/* Not for another client (mac1 is keyed by the client's key). */
	assert_int_equal(hs_client_answers(cb, resp1, sizeof(resp1), &index), -1);
	/* Not with a damaged mac1, a wrong length, or an INIT. */
	resp1[WIRE_RESP_LEN - 2 * WIRE_MACLEN] ^= 1;
	assert_int_equal(hs_client_answers(c2, resp1, sizeof(resp1), &index), -1);
	resp1[WIRE_RESP_LEN - 2 * WIRE_MACLEN] ^= 1;
	assert_int_equal(hs_client_answers(c2, resp1, sizeof(resp1) - 1,
	    &index), -1);
	assert_int_equal(hs_client_answers(c2, init1, sizeof(init1), &index),
	    -1);

	/* The first handshake still finishes with it. */
	assert_int_equal(hs_client_finish(c1, resp1, sizeof(resp1), &wr, &sc),
	    0);
	assert_memory_equal(sc.key_c2s, sn.key_c2s, sizeof(sc.key_c2s));
	hs_client_free(c1);
	hs_client_free(c2);
	hs_client_free(cb);
	session_wipe(&sc);
	session_wipe(&sn);
}

/* Make ${resp} a forgery for client ${pub}: body ${fill}, mac1 valid. */
static void
forge(const uint8_t pub[32], uint8_t resp[WIRE_RESP_LEN], int fill)
{
	size_t off = WIRE_RESP_LEN - 2 * WIRE_MACLEN;
	uint8_t key[32], mac[32];
	const uint8_t *parts[1] = { resp };
	size_t lens[1] = { off };

	if (fill < 0)
		assert_int_equal(crypto_random(resp + 12, WIRE_RESP_NOISE), 0);
	else if (fill > 0)
		resp[12 + WIRE_RESP_NOISE - 1] ^= (uint8_t)fill;   /* the tag */
	assert_int_equal(hs_mac1_key(pub, key), 0);
	assert_int_equal(crypto_hmac(CRYPTO_SHA256, mac, key, 32, parts, lens,
	    1), 0);
	memcpy(resp + off, mac, WIRE_MACLEN);
	memset(resp + off + WIRE_MACLEN, 0, WIRE_MACLEN);
}

static void
test_forged_answer(void **state)
{
	struct fix *f = *state;
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_LEN], bad[WIRE_RESP_LEN];
	struct hs_node self;
	struct hs_client *c;
	struct session sc, sn;
	struct wire_resp wr;
	int as;

	/* A one-off identity (its key imported by the handshake), then a
	 * prepared one (its key borrowed), as warren uses. */
	assert_int_equal(hs_node_init(&self, f->apriv), 0);
	for (as = 0; as < 2; as++) {
		c = as ? hs_client_start_as(&self, f->node.pub, NULL, "ssh",
		    init) : hs_client_start(f->apriv, f->node.pub, NULL, "ssh",
		    init);
		assert_non_null(c);
		answer(f, init, f->apub, resp, &sn);

		/* Random bytes with the INIT's index and a valid mac1. */
		memcpy(bad, resp, sizeof(bad));
		forge(f->apub, bad, -1);
		assert_int_equal(hs_client_answers(c, bad, sizeof(bad),
		    &(uint32_t){ 0 }), 0);
		assert_int_equal(hs_client_finish(c, bad, sizeof(bad), &wr,
		    &sc), -2);
		/* The real answer with its tag damaged: -2 again. */
		memcpy(bad, resp, sizeof(bad));
		forge(f->apub, bad, 1);
		assert_int_equal(hs_client_finish(c, bad, sizeof(bad), &wr,
		    &sc), -2);

		/* The real answer still finishes the handshake. */
		assert_int_equal(hs_client_finish(c, resp, sizeof(resp), &wr,
		    &sc), 0);
		assert_int_equal(wr.status, WIRE_OK);
		assert_memory_equal(sc.id, sn.id, sizeof(sc.id));
		assert_memory_equal(sc.key_c2s, sn.key_c2s, sizeof(sc.key_c2s));
		assert_memory_equal(sc.key_s2c, sn.key_s2c, sizeof(sc.key_s2c));
		hs_client_free(c);
		session_wipe(&sc);
		session_wipe(&sn);
	}
	hs_node_free(&self);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_late_answer),
		cmocka_unit_test(test_forged_answer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
