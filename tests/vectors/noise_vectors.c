/*
 * noise-vectors FILE: check src/noise.c against a Noise test-vector file
 * (the JSON format of cacophony and snow).  For every vector whose protocol
 * noise_hs_supported() accepts, run both parties with the vector's keys,
 * check each handshake ciphertext and payload, then check the transport
 * messages under the split keys.  Unsupported protocols are skipped.
 *
 * Prints "<protocol>: N passed, M failed" per protocol name, then
 * "noise-vectors: N passed, M failed, K skipped"; exits non-zero if any
 * vector failed or none passed.  Key bytes are printed only on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "noise.h"

#define BUFSZ (NOISE_MAXMSG + 1)

/* Per-protocol tallies, in order of first appearance. */
struct tally {
	char *name;
	unsigned long passed, failed;
};

static struct tally *tallies;
static size_t ntallies;

/* Return the tally of protocol ${name}, adding it if new. */
static struct tally *
tally_get(const char *name)
{
	struct tally *t;
	size_t i;

	for (i = 0; i < ntallies; i++) {
		if (strcmp(tallies[i].name, name) == 0)
			return (&tallies[i]);
	}
	if ((t = realloc(tallies, (ntallies + 1) * sizeof(*t))) == NULL) {
		perror("realloc");
		exit(2);
	}
	tallies = t;
	t = &tallies[ntallies++];
	if ((t->name = strdup(name)) == NULL) {
		perror("strdup");
		exit(2);
	}
	t->passed = t->failed = 0;
	return (t);
}

/* Return the value 0-15 of hex digit ${c}, or -1. */
static int
hexval(char c)
{

	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Decode hex string ${hex} into ${out} (${cap} bytes); length or -1. */
static long
hexdecode(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = strlen(hex), i;
	int hi, lo;

	if (len % 2 != 0 || len / 2 > cap)
		return (-1);
	for (i = 0; i < len / 2; i++) {
		if ((hi = hexval(hex[2 * i])) < 0 ||
		    (lo = hexval(hex[2 * i + 1])) < 0)
			return (-1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return ((long)(len / 2));
}

/* Print ${len} bytes of ${buf} in hex after ${label} (failures only). */
static void
hexdump(const char *label, const uint8_t *buf, size_t len)
{
	size_t i;

	fprintf(stderr, "  %s: ", label);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%02x", buf[i]);
	fprintf(stderr, "\n");
}

/* Read the hex field ${key} of ${v} into ${out}; its length, or -1. */
static long
get_hex(json_t *v, const char *key, uint8_t *out, size_t cap)
{
	const char *s;

	if ((s = json_string_value(json_object_get(v, key))) == NULL)
		return (-1);
	return (hexdecode(s, out, cap));
}

/* Load one party's keys (${pfx} is "init" or "resp") from ${v}. */
static int
load_keys(json_t *v, const char *pfx, struct noise_keys *k)
{
	char key[64];
	json_t *psks;
	size_t i;

	memset(k, 0, sizeof(*k));
	snprintf(key, sizeof(key), "%s_static", pfx);
	if (json_object_get(v, key) != NULL) {
		if (get_hex(v, key, k->s_priv, 32) != 32)
			return (-1);
		k->has_s = 1;
	}
	snprintf(key, sizeof(key), "%s_ephemeral", pfx);
	if (json_object_get(v, key) != NULL) {
		if (get_hex(v, key, k->e_priv, 32) != 32)
			return (-1);
		k->has_e = 1;
	}
	snprintf(key, sizeof(key), "%s_remote_static", pfx);
	if (json_object_get(v, key) != NULL) {
		if (get_hex(v, key, k->rs, 32) != 32)
			return (-1);
		k->has_rs = 1;
	}
	snprintf(key, sizeof(key), "%s_psks", pfx);
	if ((psks = json_object_get(v, key)) != NULL) {
		if (!json_is_array(psks) ||
		    json_array_size(psks) > NOISE_MAXPSKS)
			return (-1);
		for (i = 0; i < json_array_size(psks); i++) {
			const char *s = json_string_value(json_array_get(psks, i));

			if (s == NULL || hexdecode(s, k->psks[i], 32) != 32)
				return (-1);
		}
		k->npsks = json_array_size(psks);
	}
	return (0);
}

/* Scratch buffers shared by run_vector(). */
static uint8_t prologue[BUFSZ], payload[BUFSZ], expect[BUFSZ];
static uint8_t wire[BUFSZ], got[BUFSZ];

/* Run vector ${v} named ${name}; return 0 if it passes, -1 if not. */
static int
run_vector(json_t *v, const char *name)
{
	struct noise_keys ik, rk;
	struct noise_hs *init = NULL, *resp = NULL;
	struct noise_hs *tx, *rx;
	struct noise_cipher *i2r_tx = NULL, *i2r_rx = NULL;
	struct noise_cipher *r2i_tx = NULL, *r2i_rx = NULL;
	struct noise_cipher *ctx, *crx;
	uint8_t ik1[32], ik2[32], rk1[32], rk2[32];
	uint8_t ih[CRYPTO_MAXHASH], rh[CRYPTO_MAXHASH], vh[CRYPTO_MAXHASH];
	json_t *msgs, *m;
	long plen, prlen, clen;
	size_t i, hslen = 0, wlen, rlen, hlen;
	int oneway, rc = -1;

	if (load_keys(v, "init", &ik) || load_keys(v, "resp", &rk)) {
		fprintf(stderr, "%s: bad key fields\n", name);
		goto out;
	}
	if ((msgs = json_object_get(v, "messages")) == NULL ||
	    !json_is_array(msgs)) {
		fprintf(stderr, "%s: no messages\n", name);
		goto out;
	}

	/* Each party with its own prologue. */
	if ((prlen = get_hex(v, "init_prologue", prologue, BUFSZ)) < 0 ||
	    (init = noise_hs_new(name, NOISE_INITIATOR, prologue,
	    (size_t)prlen, &ik)) == NULL) {
		fprintf(stderr, "%s: cannot start initiator\n", name);
		goto out;
	}
	if ((prlen = get_hex(v, "resp_prologue", prologue, BUFSZ)) < 0 ||
	    (resp = noise_hs_new(name, NOISE_RESPONDER, prologue,
	    (size_t)prlen, &rk)) == NULL) {
		fprintf(stderr, "%s: cannot start responder\n", name);
		goto out;
	}

	/* The handshake. */
	for (i = 0; !noise_hs_done(init); i++) {
		if (i >= json_array_size(msgs)) {
			fprintf(stderr, "%s: vector ends mid-handshake\n", name);
			goto out;
		}
		m = json_array_get(msgs, i);
		tx = i % 2 == 0 ? init : resp;
		rx = i % 2 == 0 ? resp : init;
		if ((plen = get_hex(m, "payload", payload, BUFSZ)) < 0 ||
		    (clen = get_hex(m, "ciphertext", expect, BUFSZ)) < 0) {
			fprintf(stderr, "%s: message %zu: bad hex\n", name, i);
			goto out;
		}
		if (noise_hs_write(tx, payload, (size_t)plen, wire, BUFSZ,
		    &wlen)) {
			fprintf(stderr, "%s: message %zu: write failed\n", name,
			    i);
			goto out;
		}
		if (wlen != (size_t)clen || memcmp(wire, expect, wlen) != 0) {
			fprintf(stderr, "%s: message %zu: ciphertext differs\n",
			    name, i);
			hexdump("want", expect, (size_t)clen);
			hexdump("got ", wire, wlen);
			goto out;
		}
		if (noise_hs_read(rx, wire, wlen, got, BUFSZ, &rlen)) {
			fprintf(stderr, "%s: message %zu: read failed\n", name, i);
			goto out;
		}
		if (rlen != (size_t)plen || memcmp(got, payload, rlen) != 0) {
			fprintf(stderr, "%s: message %zu: payload differs\n",
			    name, i);
			goto out;
		}
	}
	hslen = i;
	if (!noise_hs_done(resp)) {
		fprintf(stderr, "%s: responder not done\n", name);
		goto out;
	}

	/* Both sides must agree on h, and on the vector's if it has one. */
	hlen = noise_hs_hash(init, ih);
	if (noise_hs_hash(resp, rh) != hlen || memcmp(ih, rh, hlen) != 0) {
		fprintf(stderr, "%s: handshake hashes differ\n", name);
		goto out;
	}
	if (json_object_get(v, "handshake_hash") != NULL &&
	    (get_hex(v, "handshake_hash", vh, sizeof(vh)) != (long)hlen ||
	    memcmp(ih, vh, hlen) != 0)) {
		fprintf(stderr, "%s: handshake hash differs from vector\n",
		    name);
		hexdump("want", vh, hlen);
		hexdump("got ", ih, hlen);
		goto out;
	}

	/* Split: both sides must derive the same pair of keys. */
	if (noise_hs_split(init, ik1, ik2) || noise_hs_split(resp, rk1, rk2)) {
		fprintf(stderr, "%s: split failed\n", name);
		goto out;
	}
	if (memcmp(ik1, rk1, 32) != 0 || memcmp(ik2, rk2, 32) != 0) {
		fprintf(stderr, "%s: split keys differ\n", name);
		goto out;
	}
	if ((i2r_tx = noise_cipher_new(noise_hs_cipher(init), ik1)) == NULL ||
	    (i2r_rx = noise_cipher_new(noise_hs_cipher(resp), rk1)) == NULL ||
	    (r2i_tx = noise_cipher_new(noise_hs_cipher(resp), rk2)) == NULL ||
	    (r2i_rx = noise_cipher_new(noise_hs_cipher(init), ik2)) == NULL) {
		fprintf(stderr, "%s: cannot make cipher states\n", name);
		goto out;
	}

	/*
	 * Transport messages keep alternating where the handshake left off;
	 * after a one-way handshake only the initiator sends.
	 */
	oneway = hslen == 1;
	for (; i < json_array_size(msgs); i++) {
		int from_init = oneway || i % 2 == 0;

		m = json_array_get(msgs, i);
		ctx = from_init ? i2r_tx : r2i_tx;
		crx = from_init ? i2r_rx : r2i_rx;
		if ((plen = get_hex(m, "payload", payload, BUFSZ - 16)) < 0 ||
		    (clen = get_hex(m, "ciphertext", expect, BUFSZ)) < 0) {
			fprintf(stderr, "%s: message %zu: bad hex\n", name, i);
			goto out;
		}
		if (noise_cipher_seal(ctx, NULL, 0, payload, (size_t)plen,
		    wire)) {
			fprintf(stderr, "%s: message %zu: seal failed\n", name,
			    i);
			goto out;
		}
		wlen = (size_t)plen + 16;
		if (wlen != (size_t)clen || memcmp(wire, expect, wlen) != 0) {
			fprintf(stderr, "%s: message %zu (transport): "
			    "ciphertext differs\n", name, i);
			hexdump("want", expect, (size_t)clen);
			hexdump("got ", wire, wlen);
			goto out;
		}
		if (noise_cipher_open(crx, NULL, 0, wire, wlen, got) ||
		    memcmp(got, payload, (size_t)plen) != 0) {
			fprintf(stderr, "%s: message %zu (transport): "
			    "open failed\n", name, i);
			goto out;
		}
	}
	rc = 0;

out:
	noise_cipher_free(i2r_tx);
	noise_cipher_free(i2r_rx);
	noise_cipher_free(r2i_tx);
	noise_cipher_free(r2i_rx);
	noise_hs_free(init);
	noise_hs_free(resp);
	crypto_wipe(&ik, sizeof(ik));
	crypto_wipe(&rk, sizeof(rk));
	crypto_wipe(ik1, sizeof(ik1));
	crypto_wipe(ik2, sizeof(ik2));
	crypto_wipe(rk1, sizeof(rk1));
	crypto_wipe(rk2, sizeof(rk2));
	return (rc);
}

int
main(int argc, char *argv[])
{
	json_error_t jerr;
	json_t *root, *vectors, *v;
	unsigned long passed = 0, failed = 0, skipped = 0;
	const char *name;
	struct tally *t;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: noise-vectors FILE\n");
		exit(2);
	}
	if ((root = json_load_file(argv[1], 0, &jerr)) == NULL) {
		fprintf(stderr, "noise-vectors: %s:%d: %s\n", argv[1],
		    jerr.line, jerr.text);
		exit(2);
	}
	if ((vectors = json_object_get(root, "vectors")) == NULL ||
	    !json_is_array(vectors)) {
		fprintf(stderr, "noise-vectors: %s: no \"vectors\" array\n",
		    argv[1]);
		exit(2);
	}

	for (i = 0; i < json_array_size(vectors); i++) {
		v = json_array_get(vectors, i);
		if ((name = json_string_value(json_object_get(v,
		    "protocol_name"))) == NULL) {
			fprintf(stderr, "noise-vectors: vector %zu: "
			    "no protocol_name\n", i);
			failed++;
			continue;
		}
		if (!noise_hs_supported(name)) {
			skipped++;
			continue;
		}
		t = tally_get(name);
		if (run_vector(v, name) == 0) {
			t->passed++;
			passed++;
		} else {
			t->failed++;
			failed++;
		}
	}

	for (i = 0; i < ntallies; i++) {
		printf("%s: %lu passed, %lu failed\n", tallies[i].name,
		    tallies[i].passed, tallies[i].failed);
		free(tallies[i].name);
	}
	free(tallies);
	printf("noise-vectors: %lu passed, %lu failed, %lu skipped\n", passed,
	    failed, skipped);
	json_decref(root);
	return ((failed > 0 || passed == 0) ? 1 : 0);
}
