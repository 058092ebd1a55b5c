/*
 * libFuzzer target: the UDP front door, both ends.
 *
 * The first input byte picks a mode (modulo FD_NMODES); the rest is the
 * fuzzed material.  Node side, as warrend's door.c runs it on an untrusted
 * datagram: wire_packet_type, hs_mac1_ok with the node's mac1 key,
 * hs_node_read with the node's identity (which runs Noise message 1 and
 * wire_init_parse), then hs_node_reply.  Client side: hs_client_finish on a
 * RESP against a handshake begun with hs_client_start.
 *
 *   0  node: the rest is the datagram, as received
 *   1  node: the rest, padded or cut to WIRE_INIT_LEN, with a right header
 *      and a valid mac1 (so the fuzzer reaches the Noise parsing)
 *   2  node: the rest is the 48-byte INIT payload; the harness encrypts it
 *      as a real client would (Noise msg 1, fixed keys), so hs_node_read
 *      authenticates it and wire_init_parse sees arbitrary payloads; on
 *      success the node answers with a RESP built from the bytes after it
 *   3  wire_init_parse on the rest (48 bytes, zero padded)
 *   4  client: the rest is the RESP datagram, as received
 *   5  client: the rest, padded or cut to WIRE_RESP_LEN, with a right
 *      header, the client's sender index as receiver and a valid mac1
 *   6  client: the rest is the 64-byte RESP payload; the harness plays the
 *      node (Noise msg 2 on the client's real INIT), so hs_client_finish
 *      authenticates it and wire_resp_parse sees arbitrary payloads
 *
 * Logging is silenced.  Everything allocated is freed each iteration.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "handshake.h"
#include "log.h"
#include "noise.h"
#include "session.h"
#include "wire.h"
#include "fuzz_keys.h"

#define FD_NMODES 7
#define INIT_MAC1_OFF (8 + WIRE_INIT_NOISE)
#define RESP_MAC1_OFF (12 + WIRE_RESP_NOISE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Fixed keys besides the node's (node_priv, fuzz_keys.h): an authorized
 * client's static key, and a client ephemeral for the deterministic msg 1
 * of mode 2.
 */
static const uint8_t client_priv[32] = {
	0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
	0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
	0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
};
static const uint8_t client_eph[32] = {
	0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
	0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
	0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
};

static struct hs_node node;
static uint8_t client_pub[32];
static uint8_t client_mac1_key[32];

/* Stop with a report: a check of the harness (or a set-up step) failed. */
static void
fatal(const char *what)
{
	fprintf(stderr, "fuzz_frontdoor: broken invariant: %s\n", what);
	abort();
}

static void
setup(void)
{
	static int ready;

	if (ready)
		return;
	log_init("fuzz", LOG_SILENT);
	if (hs_node_init(&node, node_priv))
		fatal("hs_node_init");
	if (crypto_x25519_pub(client_priv, client_pub) ||
	    hs_mac1_key(client_pub, client_mac1_key))
		fatal("client keys");
	ready = 1;
}

/* Write the mac1 of the first ${off} bytes of ${pkt} at ${pkt} + ${off}. */
static void
put_mac1(const uint8_t key[32], uint8_t *pkt, size_t off)
{
	uint8_t full[32];
	const uint8_t *parts[1] = { pkt };
	size_t lens[1] = { off };

	if (crypto_hmac(CRYPTO_SHA256, full, key, 32, parts, lens, 1))
		fatal("hmac");
	memcpy(pkt + off, full, WIRE_MACLEN);
}

/* Copy ${len} bytes of ${src} into a fresh heap buffer of exactly ${want}
 * bytes (zero padded or cut), so that ASan sees any overread. */
static uint8_t *
fixed_copy(const uint8_t *src, size_t len, size_t want)
{
	uint8_t *p;

	if ((p = calloc(1, want)) == NULL)
		return NULL;
	memcpy(p, src, len < want ? len : want);
	return p;
}

/* A RESP payload for the node's answer, from whatever bytes are left. */
static void
resp_from(const uint8_t *b, size_t len, struct wire_resp *r)
{
	uint8_t raw[WIRE_RESP_PAYLOAD];

	memset(raw, 0, sizeof(raw));
	if (len > 0)
		memcpy(raw, b, len < sizeof(raw) ? len : sizeof(raw));
	memset(r, 0, sizeof(*r));
	r->status = raw[0] & 3;
	r->client_port = wire_get16(raw + 2);
	memcpy(r->client_addr, raw + 4, 16);
	memcpy(r->session_id, raw + 20, WIRE_SESSION_ID_LEN);
	r->decoy = wire_get32(raw + 36);
	r->window = wire_get32(raw + 40);
	r->grant_timeout = wire_get16(raw + 44);
	r->keepalive = wire_get16(raw + 46);
	r->port_lo = wire_get16(raw + 48);
	r->port_hi = wire_get16(raw + 50);
}

/*
 * The node's front door on one datagram ${pkt} of ${len} bytes, as
 * door_recv/door_init run it (minus the config lookups and the grant).
 * ${rest} (${restlen} bytes) feeds the RESP payload if the INIT is good.
 */
static void
node_door(const uint8_t *pkt, size_t len, const uint8_t *rest, size_t restlen)
{
	struct hs_pending *p;
	struct wire_init init;
	struct wire_resp resp;
	struct session s;
	uint8_t cpub[32], out[WIRE_RESP_LEN];

	if (wire_packet_type(pkt, len) != WIRE_INIT)
		return;
	if (!hs_mac1_ok(node.mac1_key, pkt, len))
		return;
	memset(&init, 0, sizeof(init));
	if ((p = hs_node_read(&node, pkt, len, &init, cpub, NULL)) == NULL)
		return;
	/* What the node now trusts must be well formed. */
	if (strlen(init.service) == 0 || strlen(init.service) > WIRE_SERVICE_MAX)
		fatal("service name");
	(void)hs_pending_grant_key(p);
	memset(&s, 0, sizeof(s));
	resp_from(rest, restlen, &resp);
	if (hs_node_reply(p, NULL, &resp, out, &s) == 0) {
		/* The answer must pass the client's own cheap checks. */
		uint8_t k[32];

		if (hs_mac1_key(cpub, k) ||
		    wire_packet_type(out, sizeof(out)) != WIRE_RESP ||
		    wire_get32(out + 8) != wire_get32(pkt + 4) ||
		    !hs_mac1_ok(k, out, sizeof(out)))
			fatal("node reply");
	}
	session_wipe(&s);
	hs_pending_free(p);
}

/* Mode 1: force header and mac1 onto the fuzzed INIT. */
static void
node_fixup(const uint8_t *b, size_t len)
{
	uint8_t *pkt;

	if ((pkt = fixed_copy(b, len, WIRE_INIT_LEN)) == NULL)
		return;
	pkt[0] = WIRE_INIT;
	pkt[1] = WIRE_VERSION;
	pkt[2] = pkt[3] = 0;
	put_mac1(node.mac1_key, pkt, INIT_MAC1_OFF);
	node_door(pkt, WIRE_INIT_LEN, NULL, 0);
	free(pkt);
}

/* Mode 2: encrypt a fuzzed INIT payload as the client would. */
static void
node_payload(const uint8_t *b, size_t len)
{
	struct noise_keys keys;
	struct noise_hs *hs;
	uint8_t payload[WIRE_INIT_PAYLOAD], *pkt;
	size_t n;

	if ((pkt = calloc(1, WIRE_INIT_LEN)) == NULL)
		return;
	memset(payload, 0, sizeof(payload));
	memcpy(payload, b, len < sizeof(payload) ? len : sizeof(payload));
	memset(&keys, 0, sizeof(keys));
	keys.has_s = 1;
	memcpy(keys.s_priv, client_priv, 32);
	keys.has_e = 1;
	memcpy(keys.e_priv, client_eph, 32);
	keys.has_rs = 1;
	memcpy(keys.rs, node.pub, 32);
	keys.npsks = 1;
	if ((hs = noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR,
	    (const uint8_t *)WIRE_PROLOGUE, strlen(WIRE_PROLOGUE), &keys)) == NULL)
		fatal("noise_hs_new");
	pkt[0] = WIRE_INIT;
	pkt[1] = WIRE_VERSION;
	wire_put32(pkt + 4, 0x01020304);
	if (noise_hs_write(hs, payload, sizeof(payload), pkt + 8,
	    WIRE_INIT_NOISE, &n) || n != WIRE_INIT_NOISE)
		fatal("noise_hs_write");
	noise_hs_free(hs);
	put_mac1(node.mac1_key, pkt, INIT_MAC1_OFF);
	node_door(pkt, WIRE_INIT_LEN, len > sizeof(payload) ?
	    b + sizeof(payload) : NULL, len > sizeof(payload) ?
	    len - sizeof(payload) : 0);
	free(pkt);
}

/* Mode 3: the INIT payload parser alone; a good parse must round-trip. */
static void
init_parse(const uint8_t *b, size_t len)
{
	struct wire_init init;
	uint8_t *buf, again[WIRE_INIT_PAYLOAD];

	if ((buf = fixed_copy(b, len, WIRE_INIT_PAYLOAD)) == NULL)
		return;
	memset(&init, 0, sizeof(init));
	if (wire_init_parse(buf, &init) == 0) {
		if (wire_init_pack(&init, again) ||
		    memcmp(again, buf, WIRE_INIT_PAYLOAD) != 0)
			fatal("init round trip");
	}
	free(buf);
}

/*
 * Modes 4-6: a client handshake to the fixed node, and a RESP for it.
 * Mode 4 passes the datagram as is, mode 5 fixes header, receiver and
 * mac1, mode 6 builds a real msg 2 around a fuzzed payload.
 */
static void
client_resp(int mode, const uint8_t *b, size_t len)
{
	struct hs_client *c;
	struct noise_hs *hs = NULL;
	struct noise_keys keys;
	struct wire_resp resp;
	struct session s;
	uint8_t init[WIRE_INIT_LEN], payload[WIRE_RESP_PAYLOAD], tmp[64];
	uint8_t *pkt = NULL;
	size_t pktlen, n;
	int rc;

	if ((c = hs_client_start(client_priv, node.pub, NULL, "svc", init)) == NULL)
		fatal("hs_client_start");
	if (mode == 4) {
		pkt = fixed_copy(b, len, len);
		pktlen = len;
	} else if (mode == 5) {
		pkt = fixed_copy(b, len, WIRE_RESP_LEN);
		pktlen = WIRE_RESP_LEN;
	} else {
		pkt = calloc(1, WIRE_RESP_LEN);
		pktlen = WIRE_RESP_LEN;
	}
	if (pkt == NULL)
		goto out;
	if (mode == 6) {
		/* Play the node: read the INIT, answer with our payload. */
		memset(&keys, 0, sizeof(keys));
		keys.has_s = 1;
		memcpy(keys.s_priv, node_priv, 32);
		keys.npsks = 1;
		if ((hs = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
		    (const uint8_t *)WIRE_PROLOGUE, strlen(WIRE_PROLOGUE),
		    &keys)) == NULL)
			fatal("noise_hs_new");
		if (noise_hs_read(hs, init + 8, WIRE_INIT_NOISE, tmp,
		    sizeof(tmp), &n) || n != WIRE_INIT_PAYLOAD)
			fatal("client INIT does not read");
		memset(payload, 0, sizeof(payload));
		memcpy(payload, b, len < sizeof(payload) ? len : sizeof(payload));
		wire_put32(pkt + 4, 0x0a0b0c0d);
		if (noise_hs_write(hs, payload, sizeof(payload), pkt + 12,
		    WIRE_RESP_NOISE, &n) || n != WIRE_RESP_NOISE)
			fatal("noise_hs_write");
	}
	if (mode == 5 || mode == 6) {
		pkt[0] = WIRE_RESP;
		pkt[1] = WIRE_VERSION;
		pkt[2] = pkt[3] = 0;
		memcpy(pkt + 8, init + 4, 4);   /* receiver = client's sender */
		put_mac1(client_mac1_key, pkt, RESP_MAC1_OFF);
	}
	memset(&resp, 0, sizeof(resp));
	memset(&s, 0, sizeof(s));
	rc = hs_client_finish(c, pkt, pktlen, &resp, &s);
	if (rc != 0 && rc != -1 && rc != -2)
		fatal("hs_client_finish result");
	if (mode == 6) {
		/* A genuine msg 2: only the payload parser may refuse it. */
		struct wire_resp want;
		int ok;

		memset(&want, 0, sizeof(want));
		ok = wire_resp_parse(payload, &want) == 0;
		if (ok != (rc == 0))
			fatal("genuine RESP");
		if (ok && memcmp(&want, &resp, sizeof(want)) != 0)
			fatal("RESP payload decoded differently");
		if (ok && resp.status == WIRE_OK) {
			uint8_t k1[32], k2[32];

			if (noise_hs_split(hs, k1, k2) ||
			    !crypto_equal(k1, s.key_c2s, 32) ||
			    !crypto_equal(k2, s.key_s2c, 32))
				fatal("session keys differ");
			crypto_wipe(k1, 32);
			crypto_wipe(k2, 32);
		}
	}
	session_wipe(&s);
out:
	noise_hs_free(hs);
	free(pkt);
	hs_client_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *b;
	size_t len;

	setup();
	if (size < 1)
		return 0;
	b = data + 1;
	len = size - 1;
	switch (data[0] % FD_NMODES) {
	case 0: {
		/* Exact copy so that ASan sees reads past the datagram. */
		uint8_t *pkt = fixed_copy(b, len, len);

		if (pkt != NULL || len == 0)
			node_door(pkt, len, NULL, 0);
		free(pkt);
		break;
	}
	case 1:
		node_fixup(b, len);
		break;
	case 2:
		node_payload(b, len);
		break;
	case 3:
		init_parse(b, len);
		break;
	default:
		client_resp(data[0] % FD_NMODES, b, len);
		break;
	}
	return 0;
}
