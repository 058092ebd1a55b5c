/*
 * test_resume: RESUME and RESUMED (src/resume.c) as the two programs will
 * drive them: a session made by a real IKpsk2 handshake, resumed, resumed
 * again from the rotated secret; the single-use rule (replays, the old
 * secret, retries that supersede an answer); every flipped byte of both
 * packets; mac1 and cookies; and the key schedule against values computed
 * independently from PROTOCOL.md section 14.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "cookie.h"
#include "crypto.h"
#include "handshake.h"
#include "resume.h"
#include "session.h"
#include "wire.h"

#define RESUME_MAC1_OFF (WIRE_RESUME_NOISE_OFF + WIRE_RESUME_NOISE)
#define RESUMED_MAC1_OFF (12 + WIRE_RESUMED_NOISE)

struct fix {
	struct hs_node node;
	uint8_t apriv[32], apub[32];        /* client A */
	uint8_t bpub[32];                   /* client B (another key) */
	struct session sc, sn;              /* A's session, client and node */
};

static int
setup(void **state)
{
	static struct fix f;
	uint8_t npriv[32], npub[32], bpriv[32];

	memset(&f, 0, sizeof(f));
	assert_int_equal(crypto_x25519_keygen(npriv, npub), 0);
	assert_int_equal(hs_node_init(&f.node, npriv), 0);
	assert_int_equal(crypto_x25519_keygen(f.apriv, f.apub), 0);
	assert_int_equal(crypto_x25519_keygen(bpriv, f.bpub), 0);
	crypto_wipe(npriv, sizeof(npriv));
	crypto_wipe(bpriv, sizeof(bpriv));
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

/* A granted RESP/RESUMED payload for session id ${id}. */
static void
resp_fill(struct wire_resp *wr, const uint8_t id[WIRE_SESSION_ID_LEN],
    uint8_t status)
{
	memset(wr, 0, sizeof(*wr));
	wr->status = status;
	wr->client_port = 5555;
	wr->client_addr[10] = wr->client_addr[11] = 0xff;
	wr->client_addr[12] = 127;
	wr->client_addr[15] = 1;
	memcpy(wr->session_id, id, WIRE_SESSION_ID_LEN);
	wr->decoy = 7;
	wr->window = 9;
	wr->port_lo = 40000;
	wr->port_hi = 40999;
	wr->grant_timeout = 10;
	wr->keepalive = 10;
}

/* A new session between client A and the node: fills f->sc and f->sn. */
static void
handshake(struct fix *f)
{
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_LEN], cpub[32], id[16];
	struct hs_client *c;
	struct hs_pending *p;
	struct wire_init wi;
	struct wire_resp wr, got;

	memset(&f->sc, 0x5a, sizeof(f->sc));   /* must all be set */
	memset(&f->sn, 0xa5, sizeof(f->sn));
	c = hs_client_start(f->apriv, f->node.pub, NULL, "ssh", init);
	assert_non_null(c);
	p = hs_node_read(&f->node, init, sizeof(init), &wi, cpub, NULL);
	assert_non_null(p);
	assert_int_equal(crypto_random(id, sizeof(id)), 0);
	resp_fill(&wr, id, WIRE_OK);
	assert_int_equal(hs_node_reply(p, NULL, &wr, resp, &f->sn), 0);
	assert_int_equal(hs_client_finish(c, resp, sizeof(resp), &got, &f->sc),
	    0);
	hs_client_free(c);
	hs_pending_free(p);
	snprintf(f->sc.service, sizeof(f->sc.service), "ssh");
	snprintf(f->sn.service, sizeof(f->sn.service), "ssh");
	f->sc.sent = f->sc.received = f->sn.sent = f->sn.received = 0;
}

/*
 * The node's side for RESUME ${pkt}, in the order of PROTOCOL.md 14.5:
 * cheap checks, the id lookup (against ${s} only), Noise message 1, the
 * single-use rule, the answer.  Returns 0 with RESUMED in ${out} and the
 * keys in ${keys}, or the step that refused it (1..5).
 */
static int
node_answer(struct fix *f, struct session *s, const uint8_t *pkt, size_t len,
    uint8_t status, uint8_t out[WIRE_RESUMED_LEN], struct resume_keys *keys,
    struct hs_grant_key *grant)
{
	uint8_t id[WIRE_RESUME_ID_LEN], cur[WIRE_RESUME_ID_LEN];
	uint8_t next[WIRE_RESUME_ID_LEN];
	static const uint8_t zero[WIRE_RESUME_SECRET_LEN];
	struct resume_pending *p;
	struct wire_resume req;
	struct wire_resp wr;
	int rc;

	if (wire_packet_type(pkt, len) != WIRE_RESUME)
		return 1;
	if (!hs_mac1_ok(f->node.mac1_key, pkt, len))
		return 2;
	assert_int_equal(resume_peek_id(pkt, len, id), 0);
	assert_int_equal(resume_id(s->resume_secret, cur), 0);
	assert_int_equal(resume_id(s->resume_next, next), 0);
	if (memcmp(id, cur, sizeof(id)) != 0 &&
	    (memcmp(s->resume_next, zero, sizeof(zero)) == 0 ||
	    memcmp(id, next, sizeof(id)) != 0))
		return 3;
	if ((p = resume_node_read(s, pkt, len, &req)) == NULL)
		return 4;
	if (resume_node_accept(s, p) != 0) {
		resume_pending_free(p);
		return 5;
	}
	if (grant != NULL)
		*grant = *resume_pending_grant_key(p);
	resp_fill(&wr, s->id, status);
	rc = resume_node_reply(p, s, &wr, out, keys);
	resume_pending_free(p);
	assert_int_equal(rc, 0);
	return 0;
}

/* The handshake gives both ends the same secret, apart from the keys. */
static void
test_handshake_secret(void **state)
{
	struct fix *f = *state;
	static const uint8_t zero[WIRE_RESUME_SECRET_LEN];

	handshake(f);
	assert_memory_equal(f->sc.resume_secret, f->sn.resume_secret,
	    WIRE_RESUME_SECRET_LEN);
	assert_memory_not_equal(f->sc.resume_secret, zero, sizeof(zero));
	assert_memory_not_equal(f->sc.resume_secret, f->sc.key_c2s, 32);
	assert_memory_not_equal(f->sc.resume_secret, f->sc.key_s2c, 32);
	assert_memory_equal(f->sc.resume_next, zero, sizeof(zero));
	assert_memory_equal(f->sn.resume_next, zero, sizeof(zero));
	assert_memory_equal(f->sc.resume_ts, zero, WIRE_TAI64N_LEN);
	assert_memory_equal(f->sn.resume_ts, zero, WIRE_TAI64N_LEN);
	assert_memory_equal(f->sc.client_pub, f->apub, 32);
	assert_memory_equal(f->sn.client_pub, f->apub, 32);
	assert_int_equal(f->sc.carrier, 0);
	assert_int_equal(f->sn.carrier, 0);
}

/* RESUME, RESUMED: equal fresh keys and next secrets on both ends. */
static void
test_round_trip(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN];
	uint8_t old_c2s[32], old_s2c[32], old_secret[32];
	struct resume_keys kc, kn;
	struct hs_grant_key gn;
	struct resume_client *rc;
	struct wire_resp wr;
	uint32_t index = 0;

	handshake(f);
	memcpy(old_c2s, f->sc.key_c2s, 32);
	memcpy(old_s2c, f->sc.key_s2c, 32);
	memcpy(old_secret, f->sc.resume_secret, 32);

	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_non_null(rc);
	assert_int_equal(wire_packet_type(pkt, sizeof(pkt)), WIRE_RESUME);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, &gn), 0);
	assert_int_equal(wire_packet_type(out, sizeof(out)), WIRE_RESUMED);
	assert_int_equal(resume_client_answers(rc, out, sizeof(out), &index),
	    0);
	assert_int_equal(index, wire_get32(pkt + 4));
	assert_int_equal(resume_client_finish(rc, out, sizeof(out), &wr, &kc),
	    0);
	assert_int_equal(wr.status, WIRE_OK);
	assert_int_equal(wr.decoy, 7);
	assert_memory_equal(wr.session_id, f->sc.id, WIRE_SESSION_ID_LEN);
	assert_memory_equal(resume_client_grant_key(rc)->key, gn.key, 32);

	assert_memory_equal(kc.key_c2s, kn.key_c2s, 32);
	assert_memory_equal(kc.key_s2c, kn.key_s2c, 32);
	assert_memory_equal(kc.next_secret, kn.next_secret, 32);
	assert_int_equal(kc.carrier, 1);
	assert_int_equal(kn.carrier, 1);
	assert_memory_not_equal(kc.key_c2s, kc.key_s2c, 32);
	assert_memory_not_equal(kc.key_c2s, old_c2s, 32);
	assert_memory_not_equal(kc.key_s2c, old_s2c, 32);
	assert_memory_not_equal(kc.key_c2s, old_s2c, 32);
	assert_memory_not_equal(kc.next_secret, old_secret, 32);
	assert_memory_not_equal(kc.next_secret, kc.key_c2s, 32);
	assert_memory_not_equal(kc.next_secret, kc.key_s2c, 32);
	/* The node holds the next secret aside until the carrier proves. */
	assert_memory_equal(f->sn.resume_next, kn.next_secret, 32);
	assert_memory_equal(f->sn.resume_secret, old_secret, 32);

	/* A second finish on the spent client: not an answer any more. */
	assert_int_equal(resume_client_finish(rc, out, sizeof(out), &wr, &kc),
	    -1);
	resume_client_free(rc);

	resume_keys_apply(&kc, &f->sc);
	resume_keys_apply(&kn, &f->sn);
	assert_int_equal(f->sc.carrier, 1);
	assert_int_equal(f->sn.carrier, 1);
	assert_memory_equal(f->sc.key_c2s, f->sn.key_c2s, 32);
	assert_memory_equal(f->sc.key_s2c, f->sn.key_s2c, 32);
	assert_memory_equal(f->sc.resume_secret, f->sn.resume_secret, 32);
	assert_memory_not_equal(f->sc.resume_secret, old_secret, 32);
	for (size_t i = 0; i < sizeof(kc); i++)
		assert_int_equal(((uint8_t *)&kc)[i], 0);
}

/* One full resume of f->sc at the node's f->sn, applied on both ends. */
static void
resume_once(struct fix *f)
{
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN];
	struct resume_keys kc, kn;
	struct resume_client *rc;
	struct wire_resp wr;

	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_non_null(rc);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 0);
	assert_int_equal(resume_client_finish(rc, out, sizeof(out), &wr, &kc),
	    0);
	resume_client_free(rc);
	resume_keys_apply(&kc, &f->sc);
	resume_keys_apply(&kn, &f->sn);
}

/* Rotation: the new secret resumes, the old one no longer does. */
static void
test_rotation(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], pkt2[WIRE_RESUME_LEN];
	uint8_t out[WIRE_RESUMED_LEN];
	struct session old;
	struct resume_keys kn;
	struct resume_client *rc;

	handshake(f);
	old = f->sc;
	resume_once(f);
	assert_int_equal(f->sc.carrier, 1);

	/* A RESUME under the first secret, newer than anything seen. */
	memcpy(old.resume_ts, f->sc.resume_ts, WIRE_TAI64N_LEN);
	rc = resume_client_start(&old, f->node.pub, pkt);
	assert_non_null(rc);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 3);
	/* Even with the id lookup bypassed, the node cannot read it. */
	assert_null(resume_node_read(&f->sn, pkt, sizeof(pkt),
	    &(struct wire_resume){ { 0 }, 0 }));
	resume_client_free(rc);

	/* The rotated secret works, twice over. */
	resume_once(f);
	assert_int_equal(f->sc.carrier, 2);
	assert_int_equal(f->sn.carrier, 2);
	rc = resume_client_start(&f->sc, f->node.pub, pkt2);
	assert_non_null(rc);
	assert_int_equal(node_answer(f, &f->sn, pkt2, sizeof(pkt2), WIRE_OK,
	    out, &kn, NULL), 0);
	resume_client_free(rc);
	crypto_wipe(&kn, sizeof(kn));
	session_wipe(&old);
}

/* A RESUME answered once gets silence: the same bytes, or older ones. */
static void
test_replay(void **state)
{
	struct fix *f = *state;
	uint8_t pkt1[WIRE_RESUME_LEN], pkt2[WIRE_RESUME_LEN];
	uint8_t out[WIRE_RESUMED_LEN];
	struct resume_client *rc1, *rc2;
	struct resume_pending *p;
	struct resume_keys kn;
	struct wire_resume req;
	struct wire_resp wr;

	handshake(f);
	rc1 = resume_client_start(&f->sc, f->node.pub, pkt1);
	rc2 = resume_client_start(&f->sc, f->node.pub, pkt2);
	assert_non_null(rc1);
	assert_non_null(rc2);
	assert_int_equal(node_answer(f, &f->sn, pkt2, sizeof(pkt2), WIRE_OK,
	    out, &kn, NULL), 0);
	/* The same RESUME again: it authenticates but is not fresh. */
	assert_int_equal(node_answer(f, &f->sn, pkt2, sizeof(pkt2), WIRE_OK,
	    out, &kn, NULL), 5);
	/* An older one (reordered, or captured earlier) neither. */
	assert_int_equal(node_answer(f, &f->sn, pkt1, sizeof(pkt1), WIRE_OK,
	    out, &kn, NULL), 5);

	/* A pending resume cannot be answered without the check... */
	p = resume_node_read(&f->sn, pkt2, sizeof(pkt2), &req);
	assert_non_null(p);
	resp_fill(&wr, f->sn.id, WIRE_OK);
	assert_int_equal(resume_node_reply(p, &f->sn, &wr, out, &kn), -1);
	resume_pending_free(p);
	/* ... nor accepted twice. */
	p = resume_node_read(&f->sn, pkt2, sizeof(pkt2), &req);
	assert_non_null(p);
	memset(f->sn.resume_ts, 0, WIRE_TAI64N_LEN);
	assert_int_equal(resume_node_accept(&f->sn, p), 0);
	assert_int_equal(resume_node_accept(&f->sn, p), -1);
	resume_pending_free(p);

	resume_client_free(rc1);
	resume_client_free(rc2);
	crypto_wipe(&kn, sizeof(kn));
}

/*
 * Retries: a lost RESUMED is answered again under the same secret (the
 * newer answer supersedes the older); a client that got an answer but
 * whose carrier failed resumes under the secret that answer gave, and
 * then the older secret is gone.
 */
static void
test_retry_and_next(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out1[WIRE_RESUMED_LEN];
	uint8_t out2[WIRE_RESUMED_LEN], out3[WIRE_RESUMED_LEN];
	uint8_t first[32], next1[32];
	struct session old;
	struct resume_keys kc, kn1, kn2, kn3;
	struct resume_client *rc;
	struct wire_resp wr;

	handshake(f);
	memcpy(first, f->sc.resume_secret, 32);

	/* Attempt 1: answered, the answer lost. */
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK,
	    out1, &kn1, NULL), 0);
	resume_client_free(rc);
	memcpy(next1, f->sn.resume_next, 32);

	/* Attempt 2, same secret: answered, supersedes attempt 1. */
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK,
	    out2, &kn2, NULL), 0);
	assert_memory_not_equal(f->sn.resume_next, next1, 32);
	assert_memory_equal(f->sn.resume_secret, first, 32);
	assert_int_equal(resume_client_finish(rc, out2, sizeof(out2), &wr,
	    &kc), 0);
	resume_client_free(rc);
	old = f->sc;
	resume_keys_apply(&kc, &f->sc);     /* the client moves on at once */
	/* The carrier of attempt 2 never proves itself (kn2 unused). */

	/* Attempt 3, under the secret attempt 2 gave. */
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_int_equal(f->sc.carrier, 1);
	assert_int_equal(f->sn.carrier, 0);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK,
	    out3, &kn3, NULL), 0);
	/* The node now holds attempt 2's secret as its own. */
	assert_memory_equal(f->sn.resume_secret, f->sc.resume_secret, 32);
	assert_int_equal(resume_client_finish(rc, out3, sizeof(out3), &wr,
	    &kc), 0);
	assert_int_equal(kc.carrier, 2);
	assert_int_equal(kn3.carrier, 2);
	resume_client_free(rc);

	/* The first secret is forgotten. */
	memcpy(old.resume_ts, f->sc.resume_ts, WIRE_TAI64N_LEN);
	rc = resume_client_start(&old, f->node.pub, pkt);
	assert_int_not_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK,
	    out1, &kn1, NULL), 0);
	resume_client_free(rc);

	resume_keys_apply(&kc, &f->sc);
	resume_keys_apply(&kn3, &f->sn);
	assert_memory_equal(f->sc.key_c2s, f->sn.key_c2s, 32);
	assert_memory_equal(f->sc.resume_secret, f->sn.resume_secret, 32);
	crypto_wipe(&kn1, sizeof(kn1));
	crypto_wipe(&kn2, sizeof(kn2));
	session_wipe(&old);
}

/* A wrong secret fails, with or without the right id. */
static void
test_wrong_secret(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN];
	uint8_t id[WIRE_RESUME_ID_LEN];
	struct session bad;
	struct resume_keys kn;
	struct resume_client *rc;
	struct wire_resume req;

	handshake(f);
	bad = f->sc;
	bad.resume_secret[0] ^= 1;
	rc = resume_client_start(&bad, f->node.pub, pkt);
	assert_non_null(rc);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 3);
	/* The right id on it, mac1 made again: Noise refuses it. */
	assert_int_equal(resume_id(f->sc.resume_secret, id), 0);
	memcpy(pkt + WIRE_RESUME_ID_OFF, id, sizeof(id));
	assert_int_equal(hs_mac1_ok(f->node.mac1_key, pkt, sizeof(pkt)), 0);
	{
		uint8_t full[32];
		const uint8_t *parts[1] = { pkt };
		size_t lens[1] = { RESUME_MAC1_OFF };

		assert_int_equal(crypto_hmac(CRYPTO_SHA256, full,
		    f->node.mac1_key, 32, parts, lens, 1), 0);
		memcpy(pkt + RESUME_MAC1_OFF, full, WIRE_MACLEN);
	}
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 4);
	resume_client_free(rc);

	/* A session without a secret cannot be resumed at all. */
	memset(bad.resume_secret, 0, sizeof(bad.resume_secret));
	memset(bad.resume_ts, 0, sizeof(bad.resume_ts));
	rc = resume_client_start(&bad, f->node.pub, pkt);
	assert_non_null(rc);
	assert_null(resume_node_read(&bad, pkt, sizeof(pkt), &req));
	resume_client_free(rc);
	session_wipe(&bad);
}

/* mac1 of ${pkt} before ${off}, keyed by mac1_key(${pub}), written at ${off}. */
static void
remac(const uint8_t pub[32], uint8_t *pkt, size_t off)
{
	uint8_t key[32], full[32];
	const uint8_t *parts[1] = { pkt };
	size_t lens[1] = { off };

	assert_int_equal(hs_mac1_key(pub, key), 0);
	assert_int_equal(crypto_hmac(CRYPTO_SHA256, full, key, 32, parts, lens,
	    1), 0);
	memcpy(pkt + off, full, WIRE_MACLEN);
}

/* Every flipped byte of a RESUME is refused (mac2: under load). */
static void
test_flip_resume(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], bad[WIRE_RESUME_LEN];
	uint8_t out[WIRE_RESUMED_LEN], cookie[WIRE_MACLEN];
	uint8_t reply[WIRE_COOKIE_LEN];
	struct sockaddr_in src;
	struct cookie_node ck;
	struct session sn;
	struct resume_keys kn;
	struct resume_client *rc;

	handshake(f);
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_non_null(rc);

	/* Under load: a COOKIE for the RESUME, and mac2 with it. */
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_port = htons(5555);
	src.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(cookie_node_init(&ck, f->node.pub, 1000), 0);
	assert_int_equal(cookie_mac2_ok(&ck, pkt, sizeof(pkt),
	    (struct sockaddr *)&src, 1000), 0);
	assert_int_equal(cookie_reply(&ck, pkt, (struct sockaddr *)&src, 1000,
	    reply), 0);
	assert_int_equal(cookie_open(f->node.pub, pkt, reply, sizeof(reply),
	    cookie), 0);
	assert_int_equal(cookie_mac2(cookie, pkt), 0);
	assert_int_equal(cookie_mac2_ok(&ck, pkt, sizeof(pkt),
	    (struct sockaddr *)&src, 1000), 1);

	for (size_t i = 0; i < sizeof(pkt); i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			memcpy(bad, pkt, sizeof(bad));
			bad[i] ^= (uint8_t)(1 << bit);
			sn = f->sn;
			if (i >= RESUME_MAC1_OFF + WIRE_MACLEN) {
				/* mac2 counts only under load. */
				assert_int_equal(cookie_mac2_ok(&ck, bad,
				    sizeof(bad), (struct sockaddr *)&src,
				    1000), 0);
				continue;
			}
			assert_int_not_equal(node_answer(f, &sn, bad,
			    sizeof(bad), WIRE_OK, out, &kn, NULL), 0);
			assert_int_equal(cookie_mac2_ok(&ck, bad, sizeof(bad),
			    (struct sockaddr *)&src, 1000), 0);
			if (i < 4 || i >= RESUME_MAC1_OFF)
				continue;
			/*
			 * An attacker who knows the node's public key can
			 * make mac1 again; the sender index, the id and the
			 * Noise message are still bound (prologue, AEAD).
			 */
			remac(f->node.pub, bad, RESUME_MAC1_OFF);
			assert_int_not_equal(node_answer(f, &sn, bad,
			    sizeof(bad), WIRE_OK, out, &kn, NULL), 0);
			assert_null(resume_node_read(&sn, bad, sizeof(bad),
			    &(struct wire_resume){ { 0 }, 0 }));
		}
	}
	/* The genuine one still passes. */
	sn = f->sn;
	assert_int_equal(node_answer(f, &sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 0);
	cookie_node_wipe(&ck);
	resume_client_free(rc);
	crypto_wipe(&kn, sizeof(kn));
	session_wipe(&sn);
}

/* Every flipped byte of a RESUMED is refused; the client keeps waiting. */
static void
test_flip_resumed(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN];
	uint8_t bad[WIRE_RESUMED_LEN];
	struct resume_keys kc, kn;
	struct resume_client *rc;
	struct wire_resp wr;
	int forged = 0;

	handshake(f);
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_non_null(rc);
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 0);

	for (size_t i = 0; i < sizeof(out); i++) {
		memcpy(bad, out, sizeof(bad));
		bad[i] ^= 0x01;
		assert_int_not_equal(resume_client_finish(rc, bad, sizeof(bad),
		    &wr, &kc), 0);
		if (i < 12 || i >= RESUMED_MAC1_OFF)
			continue;
		/* mac1 made again (by one who knows C_pub): -2, counted. */
		remac(f->apub, bad, RESUMED_MAC1_OFF);
		assert_int_equal(resume_client_finish(rc, bad, sizeof(bad),
		    &wr, &kc), -2);
		forged++;
	}
	assert_int_equal(forged, WIRE_RESUMED_NOISE);
	/* Wrong sizes. */
	assert_int_equal(resume_client_finish(rc, out, sizeof(out) - 1, &wr,
	    &kc), -1);
	/* After all that, the genuine answer still finishes it. */
	assert_int_equal(resume_client_finish(rc, out, sizeof(out), &wr, &kc),
	    0);
	assert_memory_equal(kc.key_c2s, kn.key_c2s, 32);
	assert_memory_equal(kc.next_secret, kn.next_secret, 32);
	resume_client_free(rc);
	crypto_wipe(&kc, sizeof(kc));
	crypto_wipe(&kn, sizeof(kn));
}

/* mac1: RESUME keyed as an INIT, RESUMED for one client only. */
static void
test_mac1(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN], key[32];
	struct session other;
	struct resume_keys kn, kc;
	struct resume_client *rc, *rb;
	struct wire_resp wr;
	uint32_t index;

	handshake(f);
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_non_null(rc);
	assert_int_equal(hs_mac1_ok(f->node.mac1_key, pkt, sizeof(pkt)), 1);
	assert_int_equal(hs_mac1_key(f->apub, key), 0);
	assert_int_equal(hs_mac1_ok(key, pkt, sizeof(pkt)), 0);
	/* mac2 is zero without a cookie. */
	for (size_t i = RESUME_MAC1_OFF + WIRE_MACLEN; i < sizeof(pkt); i++)
		assert_int_equal(pkt[i], 0);

	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_OK, out,
	    &kn, NULL), 0);
	assert_int_equal(hs_mac1_ok(key, out, sizeof(out)), 1);
	assert_int_equal(hs_mac1_ok(f->node.mac1_key, out, sizeof(out)), 0);
	for (size_t i = RESUMED_MAC1_OFF + WIRE_MACLEN; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);

	/* Another client's resume does not take it, even as a late answer. */
	other = f->sc;
	memcpy(other.client_pub, f->bpub, 32);
	rb = resume_client_start(&other, f->node.pub, pkt);
	assert_non_null(rb);
	assert_int_equal(resume_client_answers(rb, out, sizeof(out), &index),
	    -1);
	assert_int_equal(resume_client_finish(rb, out, sizeof(out), &wr, &kc),
	    -1);
	/* A's later resume knows it as a late answer to an earlier one. */
	resume_client_free(rb);
	rb = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_int_equal(resume_client_answers(rb, out, sizeof(out), &index),
	    0);
	assert_int_equal(resume_client_finish(rb, out, sizeof(out), &wr, &kc),
	    -1);
	resume_client_free(rb);
	resume_client_free(rc);
	crypto_wipe(&kn, sizeof(kn));
	session_wipe(&other);
}

/* BUSY: authenticated, no keys, no rotation. */
static void
test_busy(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN], secret[32];
	static const uint8_t zero[32];
	struct resume_keys kc, kn;
	struct resume_client *rc;
	struct resume_pending *p;
	struct wire_resume req;
	struct wire_resp wr;

	handshake(f);
	memcpy(secret, f->sn.resume_secret, 32);
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	memset(&kc, 0x33, sizeof(kc));
	assert_int_equal(node_answer(f, &f->sn, pkt, sizeof(pkt), WIRE_BUSY,
	    out, &kn, NULL), 0);
	assert_memory_equal(f->sn.resume_next, zero, 32);
	assert_memory_equal(f->sn.resume_secret, secret, 32);
	assert_int_equal(resume_client_finish(rc, out, sizeof(out), &wr, &kc),
	    0);
	assert_int_equal(wr.status, WIRE_BUSY);
	for (size_t i = 0; i < sizeof(kc); i++)
		assert_int_equal(((uint8_t *)&kc)[i], 0x33);
	resume_client_free(rc);

	/* Statuses a RESUMED cannot carry; another session's id. */
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	p = resume_node_read(&f->sn, pkt, sizeof(pkt), &req);
	assert_non_null(p);
	assert_int_equal(resume_node_accept(&f->sn, p), 0);
	resp_fill(&wr, f->sn.id, WIRE_DENIED);
	assert_int_equal(resume_node_reply(p, &f->sn, &wr, out, &kn), -1);
	resume_pending_free(p);
	p = resume_node_read(&f->sn, pkt, sizeof(pkt), &req);
	memset(f->sn.resume_ts, 0, WIRE_TAI64N_LEN);
	assert_int_equal(resume_node_accept(&f->sn, p), 0);
	resp_fill(&wr, f->sn.id, WIRE_OK);
	wr.session_id[0] ^= 1;
	assert_int_equal(resume_node_reply(p, &f->sn, &wr, out, &kn), -1);
	resume_pending_free(p);
	resume_client_free(rc);
}

/* The carrier asked for must be above the node's. */
static void
test_carrier(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN];
	struct resume_client *rc;
	struct resume_pending *p;
	struct wire_resume req;

	handshake(f);
	f->sn.carrier = 5;
	f->sc.carrier = 4;
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_null(resume_node_read(&f->sn, pkt, sizeof(pkt), &req));
	resume_client_free(rc);
	f->sc.carrier = 5;
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	p = resume_node_read(&f->sn, pkt, sizeof(pkt), &req);
	assert_non_null(p);
	assert_int_equal(req.carrier, 6);
	resume_pending_free(p);
	resume_client_free(rc);
	f->sc.carrier = UINT32_MAX;
	assert_null(resume_client_start(&f->sc, f->node.pub, pkt));
}

/* The client's timestamps only go up, even if its clock goes back. */
static void
test_timestamp(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], want[WIRE_TAI64N_LEN];
	struct resume_client *rc;
	struct resume_pending *p;
	struct wire_resume req;
	uint64_t now;

	handshake(f);
	/* A timestamp an hour ahead of the clock, last nanosecond. */
	now = (uint64_t)time(NULL);
	wire_tai64n(f->sc.resume_ts, now + 3600, 999999999);
	wire_tai64n(want, now + 3601, 0);
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	assert_non_null(rc);
	assert_memory_equal(f->sc.resume_ts, want, WIRE_TAI64N_LEN);
	p = resume_node_read(&f->sn, pkt, sizeof(pkt), &req);
	assert_non_null(p);
	assert_memory_equal(req.timestamp, want, WIRE_TAI64N_LEN);
	assert_int_equal(resume_node_accept(&f->sn, p), 0);
	assert_memory_equal(f->sn.resume_ts, want, WIRE_TAI64N_LEN);
	resume_pending_free(p);
	resume_client_free(rc);
	rc = resume_client_start(&f->sc, f->node.pub, pkt);
	wire_tai64n(want, now + 3601, 1);
	assert_memory_equal(f->sc.resume_ts, want, WIRE_TAI64N_LEN);
	resume_client_free(rc);
}

/* The RESUME payload's strict parsing. */
static void
test_payload(void **state)
{
	uint8_t buf[WIRE_RESUME_PAYLOAD];
	struct wire_resume in, out;

	memset(&in, 0, sizeof(in));
	for (int i = 0; i < WIRE_TAI64N_LEN; i++)
		in.timestamp[i] = (uint8_t)(i + 1);
	in.carrier = 0x01020304;
	wire_resume_pack(&in, buf);
	assert_int_equal(wire_get32(buf + 12), 0x01020304);
	assert_int_equal(wire_resume_parse(buf, &out), 0);
	assert_memory_equal(out.timestamp, in.timestamp, WIRE_TAI64N_LEN);
	assert_int_equal(out.carrier, in.carrier);
	for (size_t i = 16; i < sizeof(buf); i++) {
		buf[i] = 1;
		assert_int_equal(wire_resume_parse(buf, &out), -1);
		buf[i] = 0;
	}
	in.carrier = 0;
	wire_resume_pack(&in, buf);
	assert_int_equal(wire_resume_parse(buf, &out), -1);
}

/*
 * Known answers.  Inputs: resume secret 60 61 .. 7f, client ephemeral
 * 80 81 .. 9f, node ephemeral a0 a1 .. bf.  Expected values computed
 * with Python 3 (hmac, hashlib, and the cryptography package's X25519)
 * from the text of PROTOCOL.md section 14, not with warren's code:
 *   ck = "Noise_NNpsk0_25519_AESGCM_SHA256"  (32 bytes, so h = ck = name)
 *   ck = HKDF(ck, secret) out1         psk (MixKeyAndHash)
 *   ck = HKDF(ck, e_c_pub) out1        e (psk mode: MixKey)
 *   grant = HKDF(ck, "warren grant") out1
 *   ck = HKDF(ck, e_n_pub) out1        e
 *   ck = HKDF(ck, X25519(e_n, e_c_pub)) out1     ee
 *   next = HKDF(ck, "warren resume") out1
 *   c2s, s2c = HKDF(ck, "") out1, out2
 *   resume_id = HMAC(secret, "warren resume id")[0..15]
 * resume_id was checked again with
 *   printf 'warren resume id' | openssl dgst -sha256 -mac HMAC \
 *       -macopt hexkey:606162...7f
 */
static const char *kat_id = "dfe28c2f7de9aede81c1869014f8d4e8";
static const char *kat_ec_pub =
    "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d";
static const char *kat_en_pub =
    "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c";
static const char *kat_grant =
    "e01d5538307c4d869368fa6326f5839cb3ded6b49cd214d335c46fee959cff71";
static const char *kat_next =
    "929c1190bdb4c9ac1cac81eb663d295451ac72d383fba27343195a2ae968891a";
static const char *kat_c2s =
    "c9772a05f90626fbe916f47531e63662465c000fbd87707c4f177b0766a9dcc1";
static const char *kat_s2c =
    "24f22142c7b1ef6c760c1ba8290edbc8050705a4ef24a5c745e099b667f116a1";
static const char *kat_id2 = "78df91ac2fa7fb765962470a33539448";

static void
unhex(const char *s, uint8_t *out, size_t len)
{
	assert_int_equal(strlen(s), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned int v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void
test_known_answer(void **state)
{
	struct fix *f = *state;
	uint8_t pkt[WIRE_RESUME_LEN], out[WIRE_RESUMED_LEN];
	uint8_t ec[32], en[32], want[32], id[WIRE_RESUME_ID_LEN];
	struct session sc, sn;
	struct resume_keys kc, kn;
	struct resume_client *rc;
	struct resume_pending *p;
	struct wire_resume req;
	struct wire_resp wr;

	memset(&sc, 0, sizeof(sc));
	for (int i = 0; i < 32; i++) {
		sc.resume_secret[i] = (uint8_t)(0x60 + i);
		ec[i] = (uint8_t)(0x80 + i);
		en[i] = (uint8_t)(0xa0 + i);
	}
	memcpy(sc.client_pub, f->apub, 32);
	sc.id[0] = 1;
	sn = sc;

	unhex(kat_id, want, WIRE_RESUME_ID_LEN);
	assert_int_equal(resume_id(sc.resume_secret, id), 0);
	assert_memory_equal(id, want, WIRE_RESUME_ID_LEN);

	rc = resume_client_start_fixed(&sc, f->node.pub, ec, pkt);
	assert_non_null(rc);
	assert_memory_equal(pkt + WIRE_RESUME_ID_OFF, want, WIRE_RESUME_ID_LEN);
	unhex(kat_ec_pub, want, 32);
	assert_memory_equal(pkt + WIRE_RESUME_NOISE_OFF, want, 32);
	unhex(kat_grant, want, 32);
	assert_memory_equal(resume_client_grant_key(rc)->key, want, 32);

	p = resume_node_read_fixed(&sn, pkt, sizeof(pkt), en, &req);
	assert_non_null(p);
	assert_memory_equal(resume_pending_grant_key(p)->key, want, 32);
	assert_int_equal(resume_node_accept(&sn, p), 0);
	resp_fill(&wr, sn.id, WIRE_OK);
	assert_int_equal(resume_node_reply(p, &sn, &wr, out, &kn), 0);
	resume_pending_free(p);
	unhex(kat_en_pub, want, 32);
	assert_memory_equal(out + 12, want, 32);
	assert_int_equal(resume_client_finish(rc, out, sizeof(out), &wr, &kc),
	    0);
	resume_client_free(rc);

	unhex(kat_next, want, 32);
	assert_memory_equal(kc.next_secret, want, 32);
	assert_memory_equal(kn.next_secret, want, 32);
	unhex(kat_c2s, want, 32);
	assert_memory_equal(kc.key_c2s, want, 32);
	assert_memory_equal(kn.key_c2s, want, 32);
	unhex(kat_s2c, want, 32);
	assert_memory_equal(kc.key_s2c, want, 32);
	assert_memory_equal(kn.key_s2c, want, 32);

	resume_keys_apply(&kc, &sc);
	unhex(kat_id2, want, WIRE_RESUME_ID_LEN);
	assert_int_equal(resume_id(sc.resume_secret, id), 0);
	assert_memory_equal(id, want, WIRE_RESUME_ID_LEN);
	crypto_wipe(&kn, sizeof(kn));
	session_wipe(&sc);
	session_wipe(&sn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_secret),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_retry_and_next),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_flip_resume),
		cmocka_unit_test(test_flip_resumed),
		cmocka_unit_test(test_mac1),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_carrier),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_known_answer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
