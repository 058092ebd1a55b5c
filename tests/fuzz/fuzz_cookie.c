/*
 * libFuzzer target: the COOKIE reply, above all the client's parser of it
 * (cookie_open), which runs on any datagram that reaches the client's
 * front-door socket.
 *
 * The first input byte picks a mode (modulo CK_NMODES); the rest is the
 * fuzzed material.  The client's INIT in flight is a fixed one (modes 0
 * and 1) or one whose sender index and mac1 come from the input (mode 2);
 * cookie_open reads only those fields of it.
 *
 *   0  client: the rest is the datagram, as received.  Invariant: it opens
 *      only if it has the COOKIE's length and header and answers our INIT.
 *   1  client: the rest, padded or cut to WIRE_COOKIE_LEN, with a right
 *      header and our sender index as receiver (so the fuzzer reaches the
 *      AES-GCM open).  Invariant: what opens under the node's public key
 *      does not open under another key nor for another INIT's mac1 (AD).
 *   2  round trip: the harness plays the node (cookie_reply) for a source
 *      address, port and INIT from the input, then XORs the rest into the
 *      COOKIE (and may cut it).  Invariants: the untouched COOKIE opens and
 *      the cookie it holds makes a mac2 that the node accepts for that
 *      address and port only (and for the IPv4-mapped IPv6 form of an IPv4
 *      address), and it opens for that INIT and node key only; a COOKIE
 *      with any byte changed or cut does not open.
 *   3  lifetime: a cookie made at a fuzzed time is checked at up to 6 later
 *      fuzzed times (each check may rotate the secret).  Invariants: it is
 *      accepted while less than WIRE_COOKIE_ROTATE s old (PROTOCOL.md 4.8:
 *      "at least 120 s"), refused once 3 periods old whatever the checks in
 *      between (the secret it was made with is then gone), and refused at
 *      the first check after 2 periods when nothing ran in between.
 *
 * A broken invariant aborts with a message.  Everything allocated is freed
 * each iteration.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cookie.h"
#include "crypto.h"
#include "log.h"
#include "wire.h"
#include "fuzz_keys.h"

#define CK_NMODES 4
#define INIT_MAC1_OFF (8 + WIRE_INIT_NOISE)
#define INIT_MAC2_OFF (INIT_MAC1_OFF + WIRE_MACLEN)
#define PERIOD_MS (WIRE_COOKIE_ROTATE * 1000ULL)
#define T0_MS 1000000000ULL    /* the node's start, in ms of uv_now() */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Another node's static key (ours is node_priv, fuzz_keys.h). */
static const uint8_t other_priv[32] = {
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
	0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0x6f,
};
/* The fixed INIT's sender index and mac1 (modes 0, 1 and 3). */
static const uint8_t fixed_sender[4] = { 0x5a, 0x17, 0xc0, 0x0e };
static const uint8_t fixed_mac1[WIRE_MACLEN] = {
	0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
	0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0,
};

static uint8_t node_pub[32], other_pub[32];
static uint8_t fixed_init[WIRE_INIT_LEN];

/* Stop with a report: an invariant (or a set-up step) failed. */
static void
fatal(const char *what)
{
	fprintf(stderr, "fuzz_cookie: broken invariant: %s\n", what);
	abort();
}

/* An INIT-shaped packet with ${sender} and ${mac1}; the rest is fixed. */
static void
make_init(uint8_t init[WIRE_INIT_LEN], const uint8_t sender[4],
    const uint8_t mac1[WIRE_MACLEN])
{
	memset(init, 0, WIRE_INIT_LEN);
	init[0] = WIRE_INIT;
	init[1] = WIRE_VERSION;
	memcpy(init + 4, sender, 4);
	for (size_t i = 8; i < INIT_MAC1_OFF; i++)
		init[i] = (uint8_t)(i * 7);
	memcpy(init + INIT_MAC1_OFF, mac1, WIRE_MACLEN);
}

static void
setup(void)
{
	static int ready;

	if (ready)
		return;
	log_init("fuzz", LOG_SILENT);
	if (crypto_x25519_pub(node_priv, node_pub) ||
	    crypto_x25519_pub(other_priv, other_pub))
		fatal("set-up: public keys");
	make_init(fixed_init, fixed_sender, fixed_mac1);
	ready = 1;
}

/* Copy ${len} bytes of ${src} into a fresh heap buffer of exactly ${want}
 * bytes (zero padded or cut), so that ASan sees any overread. */
static uint8_t *
fixed_copy(const uint8_t *src, size_t len, size_t want)
{
	uint8_t *p;

	if ((p = calloc(1, want ? want : 1)) == NULL)
		return NULL;
	memcpy(p, src, len < want ? len : want);
	return p;
}

/* Did cookie_open accept a datagram it must not? */
static void
check_shape(const uint8_t *pkt, size_t len, const uint8_t *init)
{
	if (len != WIRE_COOKIE_LEN)
		fatal("a datagram of the wrong length opened");
	if (pkt[0] != WIRE_COOKIE || pkt[1] != WIRE_VERSION || pkt[2] != 0 ||
	    pkt[3] != 0)
		fatal("a datagram with a wrong header opened");
	if (memcmp(pkt + 4, init + 4, 4) != 0)
		fatal("a COOKIE for another INIT (receiver) opened");
}

/* Mode 0: any datagram. */
static void
mode_raw(const uint8_t *b, size_t len)
{
	uint8_t *pkt, cookie[WIRE_MACLEN];

	if ((pkt = fixed_copy(b, len, len)) == NULL)
		return;
	if (cookie_open(node_pub, fixed_init, pkt, len, cookie) == 0)
		check_shape(pkt, len, fixed_init);
	free(pkt);
}

/* Mode 1: a right header, so the AEAD runs. */
static void
mode_fixup(const uint8_t *b, size_t len)
{
	uint8_t *pkt, cookie[WIRE_MACLEN], again[WIRE_MACLEN];
	uint8_t init2[WIRE_INIT_LEN];

	if ((pkt = fixed_copy(b, len, WIRE_COOKIE_LEN)) == NULL)
		return;
	pkt[0] = WIRE_COOKIE;
	pkt[1] = WIRE_VERSION;
	pkt[2] = pkt[3] = 0;
	memcpy(pkt + 4, fixed_init + 4, 4);
	if (cookie_open(node_pub, fixed_init, pkt, WIRE_COOKIE_LEN, cookie) == 0) {
		check_shape(pkt, WIRE_COOKIE_LEN, fixed_init);
		if (cookie_open(other_pub, fixed_init, pkt, WIRE_COOKIE_LEN,
		    again) == 0)
			fatal("a COOKIE opened under two nodes' keys");
		memcpy(init2, fixed_init, sizeof(init2));
		init2[INIT_MAC1_OFF + (pkt[8] % WIRE_MACLEN)] ^= 0x01;
		if (cookie_open(node_pub, init2, pkt, WIRE_COOKIE_LEN, again) == 0)
			fatal("a COOKIE opened for an INIT with another mac1");
	}
	free(pkt);
}

/* Fill ${ss} with an address from ${b} (19 bytes: flags, 16 IP, port). */
static socklen_t
addr_from(const uint8_t b[19], struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (b[0] & 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, b + 1, 16);
		s6->sin6_port = htons(wire_get16(b + 17));
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, b + 1, 4);
		s4->sin_port = htons(wire_get16(b + 17));
		return sizeof(*s4);
	}
}

/* Change the port of ${ss} by one. */
static void
other_port(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_port = htons((uint16_t)(ntohs(s6->sin6_port) + 1));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_port = htons((uint16_t)(ntohs(s4->sin_port) + 1));
	}
}

/* Change the last byte of the IP of ${ss}. */
static void
other_ip(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_addr.s6_addr[15] ^= 0x01;
	else
		((uint8_t *)&((struct sockaddr_in *)ss)->sin_addr)[3] ^= 0x01;
}

/* The IPv4-mapped IPv6 form (::ffff:a.b.c.d) of IPv4 address ${in}. */
static void
mapped(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)in;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	s6->sin6_family = AF_INET6;
	s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(s6->sin6_addr.s6_addr + 12, &s4->sin_addr, 4);
	s6->sin6_port = s4->sin_port;
}

/*
 * Mode 2: node and client.  Layout of ${b}: address (19 bytes, see
 * addr_from), sender (4), mac1 (16), then a cut byte and the XOR mask.
 */
#define RT_HDR (19 + 4 + WIRE_MACLEN)
static void
mode_roundtrip(const uint8_t *b, size_t len)
{
	uint8_t raw[RT_HDR], init[WIRE_INIT_LEN], init2[WIRE_INIT_LEN];
	uint8_t reply[WIRE_COOKIE_LEN], *pkt = NULL, cookie[WIRE_MACLEN];
	uint8_t again[WIRE_MACLEN];
	struct sockaddr_storage src, alt;
	struct cookie_node node;
	const uint8_t *mask = NULL;
	size_t masklen = 0, plen = WIRE_COOKIE_LEN;
	int changed = 0, rc;

	memset(raw, 0, sizeof(raw));
	memcpy(raw, b, len < sizeof(raw) ? len : sizeof(raw));
	if (len > RT_HDR) {
		uint8_t cut = b[RT_HDR];

		if (cut >= 0xf0)                  /* a short datagram, sometimes */
			plen = cut % WIRE_COOKIE_LEN;
		mask = b + RT_HDR + 1;
		masklen = len - RT_HDR - 1;
		if (masklen > WIRE_COOKIE_LEN)
			masklen = WIRE_COOKIE_LEN;
	}
	(void)addr_from(raw, &src);
	make_init(init, raw + 19, raw + 23);
	if (cookie_node_init(&node, node_pub, T0_MS))
		fatal("set-up: cookie_node_init");
	if (cookie_reply(&node, init, (struct sockaddr *)&src, T0_MS, reply))
		fatal("cookie_reply failed");
	check_shape(reply, sizeof(reply), init);
	for (size_t i = 0; i < masklen; i++) {
		reply[i] ^= mask[i];
		changed |= mask[i] != 0 && i < plen;
	}
	changed |= plen != WIRE_COOKIE_LEN;
	if ((pkt = fixed_copy(reply, sizeof(reply), plen)) == NULL)
		goto out;
	rc = cookie_open(node_pub, init, pkt, plen, cookie);
	if (changed && rc == 0)
		fatal("a changed or cut COOKIE opened");
	if (!changed && rc != 0)
		fatal("the node's own COOKIE did not open");
	if (rc != 0)
		goto out;

	/* The COOKIE answers this INIT only: its mac1 is the AD. */
	memcpy(init2, init, sizeof(init2));
	init2[INIT_MAC1_OFF + (size_t)raw[0] % WIRE_MACLEN] ^= 0x04;
	if (cookie_open(node_pub, init2, pkt, plen, again) == 0)
		fatal("a COOKIE opened for an INIT with another mac1");
	if (cookie_open(other_pub, init, pkt, plen, again) == 0)
		fatal("a COOKIE opened under another node's key");

	/* The cookie makes a mac2 that the node takes from this source only. */
	memcpy(init2, init, sizeof(init2));
	if (cookie_mac2(cookie, init2))
		fatal("cookie_mac2 failed");
	if (!cookie_mac2_ok(&node, init2, sizeof(init2),
	    (struct sockaddr *)&src, T0_MS + 1))
		fatal("the node refused a mac2 made with its own cookie");
	if (cookie_mac2_ok(&node, init2, sizeof(init2) - 1,
	    (struct sockaddr *)&src, T0_MS + 1))
		fatal("the node took a mac2 on a short INIT");
	alt = src;
	other_port(&alt);
	if (cookie_mac2_ok(&node, init2, sizeof(init2), (struct sockaddr *)&alt,
	    T0_MS + 1))
		fatal("a cookie was good for another source port");
	alt = src;
	other_ip(&alt);
	if (cookie_mac2_ok(&node, init2, sizeof(init2), (struct sockaddr *)&alt,
	    T0_MS + 1))
		fatal("a cookie was good for another source address");
	if (src.ss_family == AF_INET) {
		mapped(&src, &alt);
		if (!cookie_mac2_ok(&node, init2, sizeof(init2),
		    (struct sockaddr *)&alt, T0_MS + 1))
			fatal("the IPv4-mapped form of the address lost its cookie");
	}
	/* mac2 covers every byte before it, mac1 included. */
	init2[(size_t)raw[23] % INIT_MAC2_OFF] ^= 0x80;
	if (cookie_mac2_ok(&node, init2, sizeof(init2), (struct sockaddr *)&src,
	    T0_MS + 1))
		fatal("mac2 did not cover a changed INIT byte");
out:
	free(pkt);
	cookie_node_wipe(&node);
	crypto_wipe(cookie, sizeof(cookie));
}

/*
 * Mode 3: lifetime.  ${b}: the time of the COOKIE after the node's start
 * (u32, ms, below 4 periods), then up to 6 steps (u32 each, ms, below 4
 * periods) to the checks.
 */
static void
mode_lifetime(const uint8_t *b, size_t len)
{
	uint8_t reply[WIRE_COOKIE_LEN], cookie[WIRE_MACLEN];
	uint8_t init[WIRE_INIT_LEN];
	struct sockaddr_in src;
	struct cookie_node node;
	uint64_t t1, t;
	char msg[160];

	if (len < 4)
		return;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001);
	src.sin_port = htons(40000);
	if (cookie_node_init(&node, node_pub, T0_MS))
		fatal("set-up: cookie_node_init");
	t1 = T0_MS + wire_get32(b) % (4 * PERIOD_MS);
	if (cookie_reply(&node, fixed_init, (struct sockaddr *)&src, t1, reply) ||
	    cookie_open(node_pub, fixed_init, reply, sizeof(reply), cookie))
		fatal("the node's own COOKIE did not open");
	memcpy(init, fixed_init, sizeof(init));
	if (cookie_mac2(cookie, init))
		fatal("cookie_mac2 failed");
	t = t1;
	for (size_t i = 4, n = 0; i + 4 <= len && n < 6; i += 4, n++) {
		uint64_t age;
		int ok;

		t += wire_get32(b + i) % (4 * PERIOD_MS);
		age = t - t1;
		ok = cookie_mac2_ok(&node, init, sizeof(init),
		    (struct sockaddr *)&src, t);
		if (!ok && age < PERIOD_MS) {
			snprintf(msg, sizeof(msg), "a cookie %llu ms old was refused "
			    "(check %zu)", (unsigned long long)age, n + 1);
			fatal(msg);
		}
		if (ok && age >= 3 * PERIOD_MS) {
			snprintf(msg, sizeof(msg), "a cookie %llu ms old was accepted "
			    "(check %zu)", (unsigned long long)age, n + 1);
			fatal(msg);
		}
		if (ok && n == 0 && age >= 2 * PERIOD_MS) {
			snprintf(msg, sizeof(msg), "a cookie %llu ms old was accepted "
			    "at the first check", (unsigned long long)age);
			fatal(msg);
		}
	}
	cookie_node_wipe(&node);
	crypto_wipe(cookie, sizeof(cookie));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 1)
		return 0;
	switch (data[0] % CK_NMODES) {
	case 0:
		mode_raw(data + 1, size - 1);
		break;
	case 1:
		mode_fixup(data + 1, size - 1);
		break;
	case 2:
		mode_roundtrip(data + 1, size - 1);
		break;
	default:
		mode_lifetime(data + 1, size - 1);
		break;
	}
	return 0;
}
