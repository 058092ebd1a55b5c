/*
 * test_transcript: the C code against the fixed-key transcript of
 * docs/PROTOCOL.md appendix A, byte for byte.  The transcript
 * (tests/vectors/transcript.txt) was computed by
 * tests/vectors/gen_transcript.py from the document alone, with Python's
 * cryptography package, not by this code.  The test drives the real
 * functions: hs_client_start_fixed and hs_node_reply_fixed (handshake.c,
 * noise.c) with the transcript's ephemeral keys, indexes and timestamp;
 * cookie_reply, cookie_open, cookie_mac2 and cookie_mac2_ok (cookie.c)
 * with its cookie secret; grant_port (grant.c); record_seal and
 * record_open (record.c).
 *
 * Run from the top of the tree (make unit does).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cookie.h"
#include "crypto.h"
#include "grant.h"
#include "handshake.h"
#include "record.h"
#include "session.h"
#include "wire.h"

#define TRANSCRIPT "tests/vectors/transcript.txt"
#define MAXV 64
#define MAXLEN 256

/* One "name = hex" line of the transcript. */
struct vec {
	char name[32];
	uint8_t v[MAXLEN];
	size_t len;
};

static struct vec vecs[MAXV];
static size_t nvecs;

/* Decode ${hex} into ${out} (room for MAXLEN); return its length or -1. */
static long
unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex), i;
	unsigned int b;

	if (n % 2 != 0 || n / 2 > MAXLEN)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return (long)(n / 2);
}

/* Read the transcript file once. */
static int
load(void **state)
{
	char line[1024], name[32], hex[MAXLEN * 2 + 2];
	FILE *f;
	long n;

	if (nvecs > 0)
		return 0;
	if ((f = fopen(TRANSCRIPT, "r")) == NULL) {
		fprintf(stderr, "%s: cannot open (run from the top of the "
		    "tree)\n", TRANSCRIPT);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s = %513s", name, hex) != 2 ||
		    nvecs == MAXV || (n = unhex(hex, vecs[nvecs].v)) < 0) {
			fprintf(stderr, "%s: bad line: %s", TRANSCRIPT, line);
			fclose(f);
			return -1;
		}
		snprintf(vecs[nvecs].name, sizeof(vecs[nvecs].name), "%s",
		    name);
		vecs[nvecs++].len = (size_t)n;
	}
	fclose(f);
	return 0;
}

/* The value named ${name}, which must be ${len} bytes long. */
static const uint8_t *
V(const char *name, size_t len)
{
	for (size_t i = 0; i < nvecs; i++) {
		if (strcmp(vecs[i].name, name) == 0) {
			if (vecs[i].len != len)
				fail_msg("%s: %zu bytes, expected %zu", name,
				    vecs[i].len, len);
			return vecs[i].v;
		}
	}
	fail_msg("%s: not in %s", name, TRANSCRIPT);
	return NULL;
}

/* Check ${len} bytes at ${got} against the transcript's ${name}. */
static void
same(const char *name, const uint8_t *got, size_t len)
{
	const uint8_t *want = V(name, len);

	if (memcmp(got, want, len) != 0) {
		fprintf(stderr, "%s differs:\n  got  ", name);
		for (size_t i = 0; i < len; i++)
			fprintf(stderr, "%02x", got[i]);
		fprintf(stderr, "\n");
		fail_msg("%s differs from the transcript", name);
	}
}

/* The client's source address of the transcript: 192.0.2.10:40123. */
static void
client_src(struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40123);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.10", &sin->sin_addr), 1);
}

/* The RESP payload the node sends in the transcript (section A.2). */
static void
node_resp(struct wire_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = WIRE_OK;
	r->client_port = 40123;
	memcpy(r->client_addr, V("resp_payload", WIRE_RESP_PAYLOAD) + 4, 16);
	memcpy(r->session_id, V("hello_body", WIRE_HELLO_BODY), WIRE_SESSION_ID_LEN);
	r->decoy = 0xdeadbeef;
	r->window = 1700000000 / GRANT_WINDOW_SECONDS;
	r->grant_timeout = 10;
	r->keepalive = 10;
	r->port_lo = 40000;
	r->port_hi = 49999;
}

/* What the handshake produced, for the carrier test. */
static struct session cs, ns;

/* Keys, INIT, RESP, grant key and port, session keys. */
static void
test_handshake(void **state)
{
	struct hs_node client, node;
	struct hs_fixed cfx, nfx;
	struct hs_client *c;
	struct hs_pending *p;
	struct wire_init wi;
	struct wire_resp wr, got;
	uint8_t init[WIRE_INIT_LEN], resp[WIRE_RESP_LEN], cpub[32];
	uint8_t payload[WIRE_RESP_PAYLOAD], pub[32];
	const uint8_t *psk = V("psk", 32);
	int unknown = -1, port;

	/* Keys. */
	assert_int_equal(hs_node_init(&node, V("node_static_priv", 32)), 0);
	assert_int_equal(hs_node_init(&client, V("client_static_priv", 32)), 0);
	same("node_static_pub", node.pub, 32);
	same("client_static_pub", client.pub, 32);
	same("mac1_key_node", node.mac1_key, 32);
	same("mac1_key_client", client.mac1_key, 32);
	assert_int_equal(crypto_x25519_pub(V("client_ephemeral_priv", 32),
	    pub), 0);
	same("client_ephemeral_pub", pub, 32);
	assert_int_equal(crypto_x25519_pub(V("node_ephemeral_priv", 32), pub),
	    0);
	same("node_ephemeral_pub", pub, 32);

	/* The client's INIT. */
	memset(&cfx, 0, sizeof(cfx));
	memcpy(cfx.e_priv, V("client_ephemeral_priv", 32), 32);
	cfx.index = wire_get32(V("client_index", 4));
	memcpy(cfx.timestamp, V("timestamp", WIRE_TAI64N_LEN),
	    WIRE_TAI64N_LEN);
	c = hs_client_start_fixed(&client, node.pub, psk, "echo", &cfx, init);
	assert_non_null(c);
	same("init", init, WIRE_INIT_LEN);
	same("init_mac1", init + 152, WIRE_MACLEN);
	same("grant_key", hs_client_grant_key(c)->key, 32);

	/* The node reads it. */
	assert_int_equal(hs_mac1_ok(node.mac1_key, init, WIRE_INIT_LEN), 1);
	p = hs_node_read(&node, init, WIRE_INIT_LEN, &wi, cpub, &unknown);
	assert_non_null(p);
	assert_memory_equal(cpub, client.pub, 32);
	assert_string_equal(wi.service, "echo");
	same("timestamp", wi.timestamp, WIRE_TAI64N_LEN);
	assert_int_equal(wire_tai64n_unix(wi.timestamp), 1700000000);
	same("grant_key", hs_pending_grant_key(p)->key, 32);

	/* The node's RESP. */
	node_resp(&wr);
	wire_resp_pack(&wr, payload);
	same("resp_payload", payload, WIRE_RESP_PAYLOAD);
	memset(&nfx, 0, sizeof(nfx));
	memcpy(nfx.e_priv, V("node_ephemeral_priv", 32), 32);
	nfx.index = wire_get32(V("node_index", 4));
	memset(&ns, 0, sizeof(ns));
	assert_int_equal(hs_node_reply_fixed(p, psk, &wr, &nfx, resp, &ns), 0);
	same("resp", resp, WIRE_RESP_LEN);
	same("resp_mac1", resp + 124, WIRE_MACLEN);
	same("key_c2s", ns.key_c2s, CRYPTO_KEYLEN);
	same("key_s2c", ns.key_s2c, CRYPTO_KEYLEN);

	/* The client reads it. */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(hs_client_finish(c, resp, WIRE_RESP_LEN, &got, &cs),
	    0);
	assert_int_equal(got.status, WIRE_OK);
	assert_int_equal(got.decoy, 0xdeadbeef);
	same("key_c2s", cs.key_c2s, CRYPTO_KEYLEN);
	same("key_s2c", cs.key_s2c, CRYPTO_KEYLEN);
	assert_memory_equal(cs.id, wr.session_id, WIRE_SESSION_ID_LEN);

	/* The grant port, from what the client got. */
	port = grant_port(hs_client_grant_key(c)->key, got.decoy, got.window,
	    got.client_addr, got.port_lo, got.port_hi);
	assert_int_equal(port, wire_get16(V("grant_port", 2)));

	hs_client_free(c);
	hs_pending_free(p);
	hs_node_free(&client);
	hs_node_free(&node);
}

/* The COOKIE for the INIT, and the INIT's mac2 under that cookie. */
static void
test_cookie(void **state)
{
	struct cookie_node cn;
	struct sockaddr_in src;
	uint8_t pkt[WIRE_COOKIE_LEN], cookie[WIRE_MACLEN], init[WIRE_INIT_LEN];
	const uint8_t *node_pub = V("node_static_pub", 32);

	client_src(&src);
	memcpy(init, V("init", WIRE_INIT_LEN), WIRE_INIT_LEN);
	assert_int_equal(cookie_node_init(&cn, node_pub, 1000), 0);
	assert_int_equal(cookie_node_fix(&cn, V("cookie_secret", 32),
	    V("cookie_epoch", 8), wire_get64(V("cookie_nonce", 8))), 0);
	assert_int_equal(cookie_reply(&cn, init, (struct sockaddr *)&src, 1000,
	    pkt), 0);
	same("cookie_packet", pkt, WIRE_COOKIE_LEN);

	/* The client opens it and puts the mac2 on its INIT. */
	assert_int_equal(cookie_open(node_pub, init, pkt, sizeof(pkt), cookie),
	    0);
	same("cookie", cookie, WIRE_MACLEN);
	assert_int_equal(cookie_mac2(cookie, init), 0);
	same("init_with_mac2", init, WIRE_INIT_LEN);
	same("init_mac2", init + 168, WIRE_MACLEN);

	/* The node accepts that mac2 from that address and port only. */
	assert_int_equal(cookie_mac2_ok(&cn, init, WIRE_INIT_LEN,
	    (struct sockaddr *)&src, 1000), 1);
	src.sin_port = htons(40124);
	assert_int_equal(cookie_mac2_ok(&cn, init, WIRE_INIT_LEN,
	    (struct sockaddr *)&src, 1000), 0);
	cookie_node_wipe(&cn);
}

/* Seal one record under ${key} with nonce ${nonce}; compare it to ${name}. */
static void
seal_one(const char *name, const uint8_t key[CRYPTO_KEYLEN], uint64_t nonce,
    uint8_t type, uint64_t seq, uint64_t ack, const uint8_t *body,
    size_t bodylen)
{
	struct record_dir d;
	uint8_t frame[WIRE_REC_OVERHEAD + 64];
	int n;

	assert_true(bodylen <= 64);
	d.aead = crypto_aead_new(CRYPTO_AESGCM, key);
	assert_non_null(d.aead);
	d.nonce = nonce;
	if (bodylen > 0)
		memcpy(frame + WIRE_REC_LENLEN + WIRE_REC_HDR, body, bodylen);
	n = record_seal(&d, frame, type, seq, ack, bodylen);
	assert_int_equal(n, WIRE_REC_OVERHEAD + bodylen);
	same(name, frame, (size_t)n);
	crypto_aead_free(d.aead);
}

/* Open the transcript's record ${name} under ${key}, nonce ${nonce}. */
static void
open_one(const char *name, size_t framelen, const uint8_t key[CRYPTO_KEYLEN],
    uint64_t nonce, struct wire_rec *rec, uint8_t *out)
{
	struct record_dir d;

	d.aead = crypto_aead_new(CRYPTO_AESGCM, key);
	assert_non_null(d.aead);
	d.nonce = nonce;
	assert_int_equal(record_frame_len(V(name, framelen), framelen),
	    (long)framelen);
	assert_int_equal(record_open(&d, V(name, framelen), framelen, out,
	    rec), 0);
	crypto_aead_free(d.aead);
}

/*
 * The first records of the carrier: HELLO each way, a DATA from the
 * client, the node's ACK.  Kept apart from the handshake so that a change
 * of record layout touches only this case.
 * The HELLO body is session_id[16] || carrier u32 || window u32 ||
 * received u64 (WIRE_HELLO_BODY, 32 bytes; window 8 MiB both ways).
 */
static void
test_carrier(void **state)
{
	struct wire_rec rec;
	uint8_t out[WIRE_REC_HDR + 64];
	const uint8_t *hello = V("hello_body", WIRE_HELLO_BODY);
	const uint8_t *data = V("data", 14);

	assert_memory_equal(cs.key_c2s, V("key_c2s", 32), 32);  /* ran first */
	seal_one("rec_client_hello", cs.key_c2s, 0, WIRE_REC_HELLO, 0, 0,
	    hello, WIRE_HELLO_BODY);
	seal_one("rec_node_hello", ns.key_s2c, 0, WIRE_REC_HELLO, 0, 0,
	    hello, WIRE_HELLO_BODY);
	seal_one("rec_client_data", cs.key_c2s, 1, WIRE_REC_DATA, 0, 0,
	    data, 14);
	seal_one("rec_node_ack", ns.key_s2c, 1, WIRE_REC_ACK, 0, 14, NULL, 0);

	/* And the receivers open them. */
	open_one("rec_client_data", WIRE_REC_OVERHEAD + 14, ns.key_c2s, 1,
	    &rec, out);
	assert_int_equal(rec.type, WIRE_REC_DATA);
	assert_int_equal(rec.seq, 0);
	assert_int_equal(rec.ack, 0);
	assert_int_equal(rec.bodylen, 14);
	assert_memory_equal(rec.body, data, 14);
	open_one("rec_node_ack", WIRE_REC_OVERHEAD, cs.key_s2c, 1, &rec, out);
	assert_int_equal(rec.type, WIRE_REC_ACK);
	assert_int_equal(rec.ack, 14);
	open_one("rec_node_hello", WIRE_REC_OVERHEAD + WIRE_HELLO_BODY,
	    cs.key_s2c, 0, &rec, out);
	assert_int_equal(rec.type, WIRE_REC_HELLO);
	assert_memory_equal(rec.body, hello, WIRE_HELLO_BODY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_carrier),
	};

	return cmocka_run_group_tests(tests, load, NULL);
}
