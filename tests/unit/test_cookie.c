/*
 * test_cookie: cookies under load (src/cookie.c).  The node answers an INIT
 * with a COOKIE packet, the client opens it and puts a mac2 on its next
 * INIT, and the node accepts that mac2 only from the same address and
 * port, under its current or previous secret.  The formats are recomputed
 * here from docs/PROTOCOL.md ("COOKIE") with the crypto primitives, which
 * have their own known-answer tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cookie.h"
#include "crypto.h"
#include "handshake.h"
#include "wire.h"

#define MAC1_OFF (WIRE_INIT_LEN - 2 * WIRE_MACLEN)     /* 152 */
#define MAC2_OFF (WIRE_INIT_LEN - WIRE_MACLEN)         /* 168 */
#define T0 1000000ULL                                  /* a loop time, ms */
#define ROT (WIRE_COOKIE_ROTATE * 1000ULL)

/*
 * cookie_mac2_ok rotates lazily, only when it is called.  Set to 0 once a
 * rotation after a long idle spell (no call for more than two periods)
 * also retires the previous secret; test_rotation_after_idle then checks
 * it instead of skipping.
 */
#define KNOWN_BUG_IDLE_ROTATION 0

struct fix {
	uint8_t npriv[32], npub[32];        /* the node */
	uint8_t cpriv[32], cpub[32];        /* a client */
	uint8_t init[WIRE_INIT_LEN];        /* an INIT from that client */
	struct sockaddr_in v4, v4_port, v4_addr;
	struct sockaddr_in6 v6, v6_mapped;
};

static void
set4(struct sockaddr_in *sin, const char *ip, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void
set6(struct sockaddr_in6 *sin6, const char *ip, int port)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

#define SA(x) ((const struct sockaddr *)(x))

/* Write a fresh INIT from the fixture's client to ${pkt}. */
static void
make_init(struct fix *f, uint8_t pkt[WIRE_INIT_LEN])
{
	struct hs_client *hs;

	hs = hs_client_start(f->cpriv, f->npub, NULL, "ssh", pkt);
	assert_non_null(hs);
	hs_client_free(hs);
}

static int
setup(void **state)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(crypto_x25519_keygen(f.npriv, f.npub), 0);
	assert_int_equal(crypto_x25519_keygen(f.cpriv, f.cpub), 0);
	make_init(&f, f.init);
	set4(&f.v4, "192.0.2.1", 5000);
	set4(&f.v4_port, "192.0.2.1", 5001);
	set4(&f.v4_addr, "192.0.2.2", 5000);
	set6(&f.v6, "2001:db8::1", 5000);
	set6(&f.v6_mapped, "::ffff:192.0.2.1", 5000);
	*state = &f;
	return 0;
}

/* Ask ${c} for a cookie for ${init} from ${src}; the client opens it. */
static void
get_cookie(struct fix *f, struct cookie_node *c, const uint8_t *init,
    const struct sockaddr *src, uint8_t cookie[WIRE_MACLEN])
{
	uint8_t reply[WIRE_COOKIE_LEN];

	assert_int_equal(cookie_reply(c, init, src, c->rotated_ms, reply), 0);
	assert_int_equal(cookie_open(f->npub, init, reply, sizeof(reply),
	    cookie), 0);
}

/* An INIT carrying a mac2 made with ${cookie}. */
static void
init_with_mac2(struct fix *f, const uint8_t cookie[WIRE_MACLEN],
    uint8_t pkt[WIRE_INIT_LEN])
{
	make_init(f, pkt);
	assert_int_equal(cookie_mac2(cookie, pkt), 0);
}

static void
test_sizes(void **state)
{
	assert_int_equal(WIRE_COOKIE, 3);
	assert_int_equal(WIRE_COOKIE_LEN, 56);
	assert_int_equal(WIRE_COOKIE_ROTATE, 120);
	assert_int_equal(MAC1_OFF, 152);
	assert_int_equal(MAC2_OFF, 168);
}

/* The node's reply opens on the client side to the cookie it holds. */
static void
test_round_trip(void **state)
{
	struct fix *f = *state;
	struct cookie_node c;
	uint8_t reply[WIRE_COOKIE_LEN], reply2[WIRE_COOKIE_LEN];
	uint8_t cookie[WIRE_MACLEN], cookie2[WIRE_MACLEN];

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);
	assert_int_equal(cookie_reply(&c, f->init, SA(&f->v4), c.rotated_ms, reply), 0);

	/* Header: type 3, version 1, reserved 0, receiver = INIT sender. */
	assert_int_equal(reply[0], WIRE_COOKIE);
	assert_int_equal(reply[1], WIRE_VERSION);
	assert_int_equal(reply[2], 0);
	assert_int_equal(reply[3], 0);
	assert_memory_equal(reply + 4, f->init + 4, 4);
	assert_int_equal(wire_packet_type(reply, sizeof(reply)), WIRE_COOKIE);

	assert_int_equal(cookie_open(f->npub, f->init, reply, sizeof(reply),
	    cookie), 0);

	/* A second reply has a new nonce but carries the same cookie. */
	assert_int_equal(cookie_reply(&c, f->init, SA(&f->v4), c.rotated_ms, reply2), 0);
	assert_memory_not_equal(reply + 8, reply2 + 8, 16);
	assert_int_equal(cookie_open(f->npub, f->init, reply2, sizeof(reply2),
	    cookie2), 0);
	assert_memory_equal(cookie, cookie2, WIRE_MACLEN);

	/* Another port gets another cookie. */
	assert_int_equal(cookie_reply(&c, f->init, SA(&f->v4_port), c.rotated_ms, reply2), 0);
	assert_int_equal(cookie_open(f->npub, f->init, reply2, sizeof(reply2),
	    cookie2), 0);
	assert_memory_not_equal(cookie, cookie2, WIRE_MACLEN);
	cookie_node_wipe(&c);
}

/*
 * The formats of docs/PROTOCOL.md, recomputed from the primitives:
 * seal_key = SHA256("cookie--" || S_pub), cookie = trunc16(HMAC(secret,
 * ip16 || port)), sealed = AES-256-GCM(HMAC(seal_key, epoch), nonce,
 * ad = mac1, cookie), mac2 = trunc16(HMAC(cookie, INIT[0..167])).
 */
static void
test_formats(void **state)
{
	struct fix *f = *state;
	struct cookie_node c;
	uint8_t reply[WIRE_COOKIE_LEN], cookie[WIRE_MACLEN], pkt[WIRE_INIT_LEN];
	uint8_t seal[32], key[32], want[32], id[18], pt[WIRE_MACLEN];
	const uint8_t *parts[2];
	size_t lens[2];
	struct crypto_aead *a;

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);

	parts[0] = (const uint8_t *)"cookie--";
	lens[0] = 8;
	parts[1] = f->npub;
	lens[1] = 32;
	assert_int_equal(crypto_hash(CRYPTO_SHA256, seal, parts, lens, 2), 0);
	assert_memory_equal(c.seal_key, seal, 32);

	/* The cookie of 192.0.2.1:5000 under the current secret. */
	memcpy(id, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01", 16);
	id[16] = 5000 >> 8;
	id[17] = 5000 & 0xff;
	parts[0] = id;
	lens[0] = sizeof(id);
	assert_int_equal(crypto_hmac(CRYPTO_SHA256, want, c.secret, 32, parts,
	    lens, 1), 0);

	/* Open the reply by hand. */
	assert_int_equal(cookie_reply(&c, f->init, SA(&f->v4), c.rotated_ms, reply), 0);
	parts[0] = reply + 8;
	lens[0] = 8;
	assert_int_equal(crypto_hmac(CRYPTO_SHA256, key, seal, 32, parts, lens,
	    1), 0);
	assert_non_null(a = crypto_aead_new(CRYPTO_AESGCM, key));
	assert_int_equal(crypto_aead_open(a, wire_get64(reply + 16),
	    f->init + MAC1_OFF, WIRE_MACLEN,
	    reply + 24, WIRE_MACLEN + CRYPTO_TAGLEN, pt), 0);
	crypto_aead_free(a);
	assert_memory_equal(pt, want, WIRE_MACLEN);

	/* And the client's view agrees. */
	assert_int_equal(cookie_open(f->npub, f->init, reply, sizeof(reply),
	    cookie), 0);
	assert_memory_equal(cookie, want, WIRE_MACLEN);

	/* mac2 covers every byte before it; mac1 is left alone. */
	memcpy(pkt, f->init, sizeof(pkt));
	assert_int_equal(cookie_mac2(cookie, pkt), 0);
	assert_memory_equal(pkt, f->init, MAC2_OFF);
	parts[0] = f->init;
	lens[0] = MAC2_OFF;
	assert_int_equal(crypto_hmac(CRYPTO_SHA256, want, cookie, WIRE_MACLEN,
	    parts, lens, 1), 0);
	assert_memory_equal(pkt + MAC2_OFF, want, WIRE_MACLEN);
	cookie_node_wipe(&c);
}

/* mac2 is bound to the address and port the cookie was made for. */
static void
test_mac2_binding(void **state)
{
	struct fix *f = *state;
	struct cookie_node c;
	uint8_t cookie[WIRE_MACLEN], pkt[WIRE_INIT_LEN], bad[WIRE_INIT_LEN];
	uint8_t hkey[32];

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);
	get_cookie(f, &c, f->init, SA(&f->v4), cookie);
	init_with_mac2(f, cookie, pkt);

	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4), T0), 1);
	/* The same IPv4 address seen on an IPv6 socket is the same source. */
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt),
	    SA(&f->v6_mapped), T0), 1);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4_port),
	    T0), 0);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4_addr),
	    T0), 0);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v6), T0), 0);

	/* The mac1 stays valid: mac2 comes after it. */
	assert_int_equal(hs_mac1_key(f->npub, hkey), 0);
	assert_int_equal(hs_mac1_ok(hkey, pkt, sizeof(pkt)), 1);

	/* One cookie serves several INITs from that source. */
	init_with_mac2(f, cookie, pkt);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4), T0), 1);

	/* Without mac2, or with any byte before it changed, it fails. */
	assert_int_equal(cookie_mac2_ok(&c, f->init, sizeof(f->init),
	    SA(&f->v4), T0), 0);
	for (size_t i = 0; i < WIRE_INIT_LEN; i += 7) {
		memcpy(bad, pkt, sizeof(bad));
		bad[i] ^= 0x01;
		assert_int_equal(cookie_mac2_ok(&c, bad, sizeof(bad),
		    SA(&f->v4), T0), 0);
	}
	/* Wrong lengths. */
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt) - 1, SA(&f->v4),
	    T0), 0);
	assert_int_equal(cookie_mac2_ok(&c, pkt, 0, SA(&f->v4), T0), 0);

	/* A cookie for IPv6 works for that address only. */
	get_cookie(f, &c, f->init, SA(&f->v6), cookie);
	init_with_mac2(f, cookie, pkt);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v6), T0), 1);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4), T0), 0);

	/* Another node (another secret) does not take it. */
	{
		struct cookie_node other;

		assert_int_equal(cookie_node_init(&other, f->npub, T0), 0);
		assert_int_equal(cookie_mac2_ok(&other, pkt, sizeof(pkt),
		    SA(&f->v6), T0), 0);
		cookie_node_wipe(&other);
	}
	cookie_node_wipe(&c);
}

/* The secret rotates after 120 s; the previous one is still accepted. */
static void
test_rotation(void **state)
{
	struct fix *f = *state;
	struct cookie_node c;
	uint8_t cookie[WIRE_MACLEN], fresh[WIRE_MACLEN];
	uint8_t old_pkt[WIRE_INIT_LEN], pkt[WIRE_INIT_LEN], secret[32];

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);
	memcpy(secret, c.secret, 32);
	get_cookie(f, &c, f->init, SA(&f->v4), cookie);
	init_with_mac2(f, cookie, old_pkt);

	/* Not yet due: no rotation. */
	assert_int_equal(cookie_mac2_ok(&c, old_pkt, sizeof(old_pkt),
	    SA(&f->v4), T0 + ROT - 1), 1);
	assert_memory_equal(c.secret, secret, 32);
	assert_int_equal(c.has_prev, 0);

	/* 121 s later: rotated, and the old cookie is still good. */
	assert_int_equal(cookie_mac2_ok(&c, old_pkt, sizeof(old_pkt),
	    SA(&f->v4), T0 + 121000), 1);
	assert_memory_not_equal(c.secret, secret, 32);
	assert_memory_equal(c.prev, secret, 32);
	assert_int_equal(c.has_prev, 1);
	assert_true(c.rotated_ms == T0 + 121000);
	/* ... still from its own source only. */
	assert_int_equal(cookie_mac2_ok(&c, old_pkt, sizeof(old_pkt),
	    SA(&f->v4_port), T0 + 121000), 0);

	/* A cookie handed out now uses the new secret. */
	get_cookie(f, &c, f->init, SA(&f->v4), fresh);
	assert_memory_not_equal(fresh, cookie, WIRE_MACLEN);
	init_with_mac2(f, fresh, pkt);
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4),
	    T0 + 121000), 1);

	/* A second rotation retires the first secret. */
	assert_int_equal(cookie_mac2_ok(&c, old_pkt, sizeof(old_pkt),
	    SA(&f->v4), T0 + 242000), 0);
	/* The cookie of the second secret is now the previous one. */
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4),
	    T0 + 242000), 1);
	/* And after a third, it is gone too. */
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4),
	    T0 + 363000), 0);
	cookie_node_wipe(&c);
	assert_int_equal(c.has_prev, 0);
}

/*
 * A node that was calm (cookie_mac2_ok not called) for ten minutes, then
 * comes under load: a cookie handed out before the calm spell is more
 * than two rotation periods old and should no longer be accepted.
 */
static void
test_rotation_after_idle(void **state)
{
	struct fix *f = *state;
	struct cookie_node c;
	uint8_t cookie[WIRE_MACLEN], pkt[WIRE_INIT_LEN];
	int ok;

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);
	get_cookie(f, &c, f->init, SA(&f->v4), cookie);
	init_with_mac2(f, cookie, pkt);
	ok = cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4), T0 + 600000);
	cookie_node_wipe(&c);
	if (KNOWN_BUG_IDLE_ROTATION && ok) {
		print_message("known bug: a 600 s old cookie is still accepted "
		    "after an idle spell (lazy rotation keeps the stale secret "
		    "as the previous one)\n");
		skip();
	}
	assert_int_equal(ok, 0);
}

/* The client opens only a COOKIE that answers its own INIT. */
static void
test_open_rejects(void **state)
{
	struct fix *f = *state;
	struct cookie_node c;
	uint8_t reply[WIRE_COOKIE_LEN], bad[WIRE_COOKIE_LEN + 1];
	uint8_t init2[WIRE_INIT_LEN], cookie[WIRE_MACLEN];
	uint8_t opriv[32], opub[32];

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);
	assert_int_equal(cookie_reply(&c, f->init, SA(&f->v4), c.rotated_ms, reply), 0);
	assert_int_equal(cookie_open(f->npub, f->init, reply, sizeof(reply),
	    cookie), 0);

	/* Wrong receiver index. */
	memcpy(bad, reply, sizeof(reply));
	bad[7] ^= 0x01;
	assert_int_equal(cookie_open(f->npub, f->init, bad, sizeof(reply),
	    cookie), -1);

	/* Another INIT: other sender index and mac1. */
	make_init(f, init2);
	assert_int_equal(cookie_open(f->npub, init2, reply, sizeof(reply),
	    cookie), -1);
	/* ... even with our sender index: the mac1 (the AD) differs. */
	memcpy(init2 + 4, f->init + 4, 4);
	assert_int_equal(cookie_open(f->npub, init2, reply, sizeof(reply),
	    cookie), -1);
	/* ... or our INIT with one bit of its mac1 changed. */
	memcpy(init2, f->init, sizeof(init2));
	init2[MAC1_OFF + 3] ^= 0x80;
	assert_int_equal(cookie_open(f->npub, init2, reply, sizeof(reply),
	    cookie), -1);

	/* Another node key. */
	assert_int_equal(crypto_x25519_keygen(opriv, opub), 0);
	assert_int_equal(cookie_open(opub, f->init, reply, sizeof(reply),
	    cookie), -1);

	/* Truncated or padded. */
	for (size_t len = 0; len < sizeof(reply); len++)
		assert_int_equal(cookie_open(f->npub, f->init, reply, len,
		    cookie), -1);
	memcpy(bad, reply, sizeof(reply));
	bad[sizeof(reply)] = 0;
	assert_int_equal(cookie_open(f->npub, f->init, bad, sizeof(bad),
	    cookie), -1);

	/* Any changed byte: header, salt, sealed cookie or tag. */
	for (size_t i = 0; i < sizeof(reply); i++) {
		memcpy(bad, reply, sizeof(reply));
		bad[i] ^= 0x04;
		assert_int_equal(cookie_open(f->npub, f->init, bad,
		    sizeof(reply), cookie), -1);
	}

	/* Garbage with a valid header. */
	for (int k = 0; k < 64; k++) {
		memcpy(bad, reply, 8);
		assert_int_equal(crypto_random(bad + 8, sizeof(reply) - 8), 0);
		assert_int_equal(cookie_open(f->npub, f->init, bad,
		    sizeof(reply), cookie), -1);
	}

	/* Other packet types of the right length are not cookies. */
	memcpy(bad, reply, sizeof(reply));
	bad[0] = WIRE_RESP;
	assert_int_equal(cookie_open(f->npub, f->init, bad, sizeof(reply),
	    cookie), -1);
	assert_int_equal(cookie_open(f->npub, f->init, f->init,
	    sizeof(f->init), cookie), -1);

	/* The original still opens (nothing above changed it). */
	assert_int_equal(cookie_open(f->npub, f->init, reply, sizeof(reply),
	    cookie), 0);
	cookie_node_wipe(&c);
}

/* cookie_node_wipe erases every secret. */
static void
test_wipe(void **state)
{
	struct fix *f = *state;
	struct cookie_node c, zero;
	uint8_t pkt[WIRE_INIT_LEN];

	assert_int_equal(cookie_node_init(&c, f->npub, T0), 0);
	memcpy(pkt, f->init, sizeof(pkt));
	pkt[WIRE_INIT_LEN - 1] ^= 1;    /* a (wrong) mac2, so it is checked */
	assert_int_equal(cookie_mac2_ok(&c, pkt, sizeof(pkt), SA(&f->v4),
	    T0 + ROT), 0);
	assert_int_equal(c.has_prev, 1);
	cookie_node_wipe(&c);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&c, &zero, sizeof(c));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_mac2_binding),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_rotation_after_idle),
		cmocka_unit_test(test_open_rejects),
		cmocka_unit_test(test_wipe),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
