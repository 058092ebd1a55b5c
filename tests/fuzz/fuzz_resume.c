/*
 * libFuzzer target: the resume exchange (src/resume.c), both ends.
 *
 * The first input byte picks a mode (modulo RS_NMODES); the rest is the
 * fuzzed material.  Node side, as the front door will run a RESUME:
 * wire_packet_type, hs_mac1_ok with the node's mac1 key, resume_peek_id
 * against a fixed session, resume_node_read (Noise NNpsk0 message 1 and
 * wire_resume_parse), resume_node_accept, resume_node_reply.  Client
 * side: resume_client_finish on a RESUMED against a resume begun with
 * resume_client_start_fixed on the same fixed session.
 *
 *   0  node: the rest is the datagram, as received
 *   1  node: the rest, padded or cut to WIRE_RESUME_LEN, with a right
 *      header, the session's resume id and a valid mac1 (so the fuzzer
 *      reaches the Noise parsing)
 *   2  node: the rest is the 80-byte RESUME payload; the harness encrypts
 *      it as a real client would (NNpsk0 msg 1 under the session's secret),
 *      so resume_node_read authenticates it and wire_resume_parse sees
 *      arbitrary payloads; on success the node answers with a RESUMED
 *      built from the bytes after it
 *   3  wire_resume_parse on the rest (80 bytes, zero padded)
 *   4  client: the rest is the RESUMED datagram, as received
 *   5  client: the rest, padded or cut to WIRE_RESUMED_LEN, with a right
 *      header, the client's sender index as receiver, a valid mac1 and a
 *      zero mac2
 *   6  client: the rest is the 64-byte RESUMED payload; the harness plays
 *      the node (NNpsk0 msg 2 on the client's real RESUME), so
 *      resume_client_finish authenticates it and wire_resp_parse sees
 *      arbitrary payloads
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
#include "resume.h"
#include "session.h"
#include "wire.h"
#include "fuzz_keys.h"

#define RS_NMODES 7
#define RESUME_MAC1_OFF (WIRE_RESUME_NOISE_OFF + WIRE_RESUME_NOISE)
#define RESUMED_MAC1_OFF (12 + WIRE_RESUMED_NOISE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The client's static key and a fixed ephemeral for deterministic msg 1. */
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
static uint8_t client_mac1_key[32];
static struct session base;          /* the session both ends hold */
static uint8_t base_id[WIRE_RESUME_ID_LEN];

/* Stop with a report: a check of the harness (or a set-up step) failed. */
static void
fatal(const char *what)
{
	fprintf(stderr, "fuzz_resume: broken invariant: %s\n", what);
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
	memset(&base, 0, sizeof(base));
	for (int i = 0; i < 32; i++)
		base.resume_secret[i] = (uint8_t)(0x60 + i);
	for (int i = 0; i < WIRE_SESSION_ID_LEN; i++)
		base.id[i] = (uint8_t)(0xd0 + i);
	snprintf(base.service, sizeof(base.service), "ssh");
	if (crypto_x25519_pub(client_priv, base.client_pub) ||
	    hs_mac1_key(base.client_pub, client_mac1_key) ||
	    resume_id(base.resume_secret, base_id))
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

/* ${len} bytes of ${src} in a heap buffer of exactly ${want} bytes. */
static uint8_t *
fixed_copy(const uint8_t *src, size_t len, size_t want)
{
	uint8_t *p;

	if ((p = calloc(1, want)) == NULL)
		return NULL;
	memcpy(p, src, len < want ? len : want);
	return p;
}

/* A RESUMED payload for the node's answer, from whatever bytes are left. */
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
	memcpy(r->session_id, raw[1] & 1 ? raw + 20 : base.id,
	    WIRE_SESSION_ID_LEN);
	r->decoy = wire_get32(raw + 36);
	r->window = wire_get32(raw + 40);
	r->grant_timeout = wire_get16(raw + 44);
	r->keepalive = wire_get16(raw + 46);
	r->port_lo = wire_get16(raw + 48);
	r->port_hi = wire_get16(raw + 50);
}

/* The Noise prologue of the RESUME ${pkt}. */
static void
prologue(const uint8_t *pkt, uint8_t out[15 + WIRE_RESUME_NOISE_OFF])
{
	memcpy(out, WIRE_RESUME_PROLOGUE, 15);
	memcpy(out + 15, pkt, WIRE_RESUME_NOISE_OFF);
}

/*
 * The node's front door on one datagram ${pkt} of ${len} bytes, in the
 * order of PROTOCOL.md 14.5 (minus limits and the grant).  ${rest}
 * (${restlen} bytes) feeds the RESUMED payload if the RESUME is good.
 */
static void
node_door(const uint8_t *pkt, size_t len, const uint8_t *rest, size_t restlen)
{
	struct resume_pending *p;
	struct resume_keys keys;
	struct wire_resume req;
	struct wire_resp resp;
	struct session s;
	uint8_t id[WIRE_RESUME_ID_LEN], out[WIRE_RESUMED_LEN];

	if (wire_packet_type(pkt, len) != WIRE_RESUME)
		return;
	if (!hs_mac1_ok(node.mac1_key, pkt, len))
		return;
	if (resume_peek_id(pkt, len, id) || memcmp(id, base_id, sizeof(id)))
		return;
	s = base;
	memset(&req, 0, sizeof(req));
	if ((p = resume_node_read(&s, pkt, len, &req)) == NULL)
		goto out;
	/* What the node now trusts must be well formed. */
	if (req.carrier <= s.carrier)
		fatal("carrier");
	(void)resume_pending_grant_key(p);
	if (resume_node_accept(&s, p) != 0) {
		/* The session has seen no RESUME: only a zero one is old. */
		static const uint8_t zero[WIRE_TAI64N_LEN];

		if (memcmp(req.timestamp, zero, sizeof(zero)) != 0)
			fatal("accept of a fresh session");
		resume_pending_free(p);
		goto out;
	}
	if (resume_node_accept(&s, p) == 0)
		fatal("accepted twice");
	resp_from(rest, restlen, &resp);
	if (resume_node_reply(p, &s, &resp, out, &keys) == 0) {
		/* The answer must pass the client's own cheap checks. */
		if (wire_packet_type(out, sizeof(out)) != WIRE_RESUMED ||
		    wire_get32(out + 8) != wire_get32(pkt + 4) ||
		    !hs_mac1_ok(client_mac1_key, out, sizeof(out)))
			fatal("node reply");
		if (resp.status == WIRE_OK && memcmp(s.resume_next,
		    keys.next_secret, WIRE_RESUME_SECRET_LEN) != 0)
			fatal("resume_next");
		crypto_wipe(&keys, sizeof(keys));
	} else if ((resp.status == WIRE_OK || resp.status == WIRE_BUSY) &&
	    memcmp(resp.session_id, base.id, WIRE_SESSION_ID_LEN) == 0)
		fatal("node refused a good answer");
	resume_pending_free(p);
out:
	session_wipe(&s);
}

/* Mode 1: force header, id and mac1 onto the fuzzed RESUME. */
static void
node_fixup(const uint8_t *b, size_t len)
{
	uint8_t *pkt;

	if ((pkt = fixed_copy(b, len, WIRE_RESUME_LEN)) == NULL)
		return;
	pkt[0] = WIRE_RESUME;
	pkt[1] = WIRE_VERSION;
	pkt[2] = pkt[3] = 0;
	memcpy(pkt + WIRE_RESUME_ID_OFF, base_id, WIRE_RESUME_ID_LEN);
	put_mac1(node.mac1_key, pkt, RESUME_MAC1_OFF);
	node_door(pkt, WIRE_RESUME_LEN, NULL, 0);
	free(pkt);
}

/* Mode 2: encrypt a fuzzed RESUME payload as the client would. */
static void
node_payload(const uint8_t *b, size_t len)
{
	struct noise_keys keys;
	struct noise_hs *hs;
	uint8_t payload[WIRE_RESUME_PAYLOAD], pro[15 + WIRE_RESUME_NOISE_OFF];
	uint8_t *pkt;
	size_t n;

	if ((pkt = calloc(1, WIRE_RESUME_LEN)) == NULL)
		return;
	memset(payload, 0, sizeof(payload));
	memcpy(payload, b, len < sizeof(payload) ? len : sizeof(payload));
	memset(&keys, 0, sizeof(keys));
	keys.has_e = 1;
	memcpy(keys.e_priv, client_eph, 32);
	keys.npsks = 1;
	memcpy(keys.psks[0], base.resume_secret, 32);
	pkt[0] = WIRE_RESUME;
	pkt[1] = WIRE_VERSION;
	wire_put32(pkt + 4, 0x01020304);
	memcpy(pkt + WIRE_RESUME_ID_OFF, base_id, WIRE_RESUME_ID_LEN);
	prologue(pkt, pro);
	if ((hs = noise_hs_new(WIRE_RESUME_PROTOCOL, NOISE_INITIATOR, pro,
	    sizeof(pro), &keys)) == NULL)
		fatal("noise_hs_new");
	if (noise_hs_write(hs, payload, sizeof(payload),
	    pkt + WIRE_RESUME_NOISE_OFF, WIRE_RESUME_NOISE, &n) ||
	    n != WIRE_RESUME_NOISE)
		fatal("noise_hs_write");
	noise_hs_free(hs);
	put_mac1(node.mac1_key, pkt, RESUME_MAC1_OFF);
	node_door(pkt, WIRE_RESUME_LEN, len > sizeof(payload) ?
	    b + sizeof(payload) : NULL, len > sizeof(payload) ?
	    len - sizeof(payload) : 0);
	free(pkt);
}

/* Mode 3: the RESUME payload parser alone; a good parse must round-trip. */
static void
resume_parse(const uint8_t *b, size_t len)
{
	struct wire_resume req;
	uint8_t *buf, again[WIRE_RESUME_PAYLOAD];

	if ((buf = fixed_copy(b, len, WIRE_RESUME_PAYLOAD)) == NULL)
		return;
	memset(&req, 0, sizeof(req));
	if (wire_resume_parse(buf, &req) == 0) {
		wire_resume_pack(&req, again);
		if (req.carrier == 0 ||
		    memcmp(again, buf, WIRE_RESUME_PAYLOAD) != 0)
			fatal("resume round trip");
	}
	free(buf);
}

/* Check what resume_client_finish returned for an answer. */
static void
client_check(int rc, const struct wire_resp *resp)
{
	if (rc != 0 && rc != -1 && rc != -2)
		fatal("finish return");
	if (rc == 0 && resp->status != WIRE_OK && resp->status != WIRE_BUSY)
		fatal("finish status");
	if (rc == 0 && resp->status == WIRE_OK &&
	    memcmp(resp->session_id, base.id, WIRE_SESSION_ID_LEN) != 0)
		fatal("finish session id");
}

/* Modes 4-6: a client resume of the fixed session, and a RESUMED for it. */
static void
client_side(int mode, const uint8_t *b, size_t len)
{
	struct resume_client *rc;
	struct resume_keys keys;
	struct wire_resp resp;
	struct session s = base;
	uint8_t resume[WIRE_RESUME_LEN], *pkt = NULL;
	int r;

	if ((rc = resume_client_start_fixed(&s, node.pub, client_eph,
	    resume)) == NULL)
		fatal("resume_client_start");
	memset(&resp, 0, sizeof(resp));
	if (mode == 4) {
		if ((pkt = fixed_copy(b, len, len ? len : 1)) == NULL)
			goto out;
		r = resume_client_finish(rc, pkt, len, &resp, &keys);
		client_check(r, &resp);
	} else if (mode == 5) {
		if ((pkt = fixed_copy(b, len, WIRE_RESUMED_LEN)) == NULL)
			goto out;
		pkt[0] = WIRE_RESUMED;
		pkt[1] = WIRE_VERSION;
		pkt[2] = pkt[3] = 0;
		memcpy(pkt + 8, resume + 4, 4);
		put_mac1(client_mac1_key, pkt, RESUMED_MAC1_OFF);
		memset(pkt + RESUMED_MAC1_OFF + WIRE_MACLEN, 0, WIRE_MACLEN);
		r = resume_client_finish(rc, pkt, WIRE_RESUMED_LEN, &resp,
		    &keys);
		if (r == -1)
			fatal("fixed-up answer not taken as ours");
		client_check(r, &resp);
	} else {
		/* Play the node: NNpsk0 msg 2 around the fuzzed payload. */
		struct noise_keys nk;
		struct noise_hs *hs;
		uint8_t payload[WIRE_RESP_PAYLOAD], m1[WIRE_RESUME_PAYLOAD];
		uint8_t pro[15 + WIRE_RESUME_NOISE_OFF];
		size_t n;

		if ((pkt = calloc(1, WIRE_RESUMED_LEN)) == NULL)
			goto out;
		memset(payload, 0, sizeof(payload));
		memcpy(payload, b, len < sizeof(payload) ? len : sizeof(payload));
		memset(&nk, 0, sizeof(nk));
		nk.npsks = 1;
		memcpy(nk.psks[0], base.resume_secret, 32);
		prologue(resume, pro);
		if ((hs = noise_hs_new(WIRE_RESUME_PROTOCOL, NOISE_RESPONDER,
		    pro, sizeof(pro), &nk)) == NULL ||
		    noise_hs_read(hs, resume + WIRE_RESUME_NOISE_OFF,
		    WIRE_RESUME_NOISE, m1, sizeof(m1), &n) ||
		    n != sizeof(m1))
			fatal("harness node msg 1");
		pkt[0] = WIRE_RESUMED;
		pkt[1] = WIRE_VERSION;
		memcpy(pkt + 8, resume + 4, 4);
		if (noise_hs_write(hs, payload, sizeof(payload), pkt + 12,
		    WIRE_RESUMED_NOISE, &n) || n != WIRE_RESUMED_NOISE)
			fatal("harness node msg 2");
		noise_hs_free(hs);
		put_mac1(client_mac1_key, pkt, RESUMED_MAC1_OFF);
		r = resume_client_finish(rc, pkt, WIRE_RESUMED_LEN, &resp,
		    &keys);
		client_check(r, &resp);
		if (r == -1)
			fatal("authentic answer not taken as ours");
		/* Accepted exactly when a node could have sent it. */
		{
			struct wire_resp want;
			int ok = wire_resp_parse(payload, &want) == 0 &&
			    (want.status == WIRE_BUSY ||
			    (want.status == WIRE_OK && memcmp(want.session_id,
			    base.id, WIRE_SESSION_ID_LEN) == 0));

			if (ok != (r == 0))
				fatal("client verdict on an authentic answer");
		}
	}
out:
	crypto_wipe(&keys, sizeof(keys));
	session_wipe(&s);
	free(pkt);
	resume_client_free(rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt;
	int mode;

	setup();
	if (size < 1)
		return 0;
	mode = data[0] % RS_NMODES;
	data++;
	size--;
	switch (mode) {
	case 0:
		/* Exactly the datagram's bytes, so ASan sees any overread. */
		if ((pkt = fixed_copy(data, size, size ? size : 1)) == NULL)
			return 0;
		node_door(pkt, size, NULL, 0);
		free(pkt);
		break;
	case 1:
		node_fixup(data, size);
		break;
	case 2:
		node_payload(data, size);
		break;
	case 3:
		resume_parse(data, size);
		break;
	default:
		client_side(mode, data, size);
		break;
	}
	return 0;
}
