/*
 * libFuzzer target: the carrier record layer and the other fixed-size
 * parsers (session blobs, RESP and INIT payloads).
 *
 * The first input byte picks a mode (modulo REC_NMODES); the rest is the
 * fuzzed material.  Records are opened with a fixed AES-256-GCM key, the
 * nonce counting from 0 each run, as relay.c does on a carrier.
 *
 *   0  raw carrier bytes: record_frame_len / record_open over the stream
 *      as relay.c's process_input runs it, record_open on the whole input,
 *      and wire_rec_parse on the raw bytes
 *   1  chunks (type u8, seq u64, ack u64, bodylen u16, body) sealed with
 *      record_seal, then opened; each record must come back as sealed
 *   2  the rest is one record plaintext (arbitrary header and body) sealed
 *      with the record key: record_open succeeds and wire_rec_parse sees
 *      arbitrary decrypted headers and bodies; both must agree
 *   3  as 2, then one bit of the frame flipped (position from the first
 *      two bytes): the record must fail to open
 *   4  session_unpack on a blob; a good blob must round-trip through
 *      session_pack
 *   5  wire_resp_parse on a RESP payload; a good one must round-trip
 * (INIT payloads are fuzzed by fuzz_frontdoor, mode 3.)
 *
 * Any broken invariant aborts.  Everything allocated is freed each run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "log.h"
#include "record.h"
#include "session.h"
#include "wire.h"

#define REC_NMODES 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t rec_key[CRYPTO_KEYLEN] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* One context each way; only the nonce counters change per run. */
static struct crypto_aead *tx_aead, *rx_aead;

/* Stop with a report: a check of the harness (or a set-up step) failed. */
static void
fatal(const char *what)
{
	fprintf(stderr, "fuzz_record: broken invariant: %s\n", what);
	abort();
}

static void
setup(void)
{
	static int ready;

	if (ready)
		return;
	log_init("fuzz", LOG_SILENT);
	if ((tx_aead = crypto_aead_new(CRYPTO_AESGCM, rec_key)) == NULL ||
	    (rx_aead = crypto_aead_new(CRYPTO_AESGCM, rec_key)) == NULL)
		fatal("crypto_aead_new");
	ready = 1;
}

/* A fresh heap copy of exactly ${want} bytes (zero padded or cut). */
static uint8_t *
fixed_copy(const uint8_t *src, size_t len, size_t want)
{
	uint8_t *p;

	if ((p = malloc(want ? want : 1)) == NULL)
		return NULL;
	memset(p, 0, want);
	memcpy(p, src, len < want ? len : want);
	return p;
}

/* Check that ${rec} decoded from a buffer lies inside [lo, lo + n). */
static void
body_inside(const struct wire_rec *rec, const uint8_t *lo, size_t n)
{
	if (rec->bodylen > n || rec->body < lo ||
	    rec->body + rec->bodylen > lo + n)
		fatal("record body out of bounds");
}

/* Mode 0: untrusted carrier bytes. */
static void
raw_stream(const uint8_t *b, size_t len)
{
	struct record_dir rx = { rx_aead, 0 };
	struct wire_rec rec;
	uint8_t *buf, *out;
	size_t off = 0;
	long flen;

	if ((buf = fixed_copy(b, len, len)) == NULL)
		return;

	/* The plaintext parser straight on the bytes. */
	memset(&rec, 0, sizeof(rec));
	if (wire_rec_parse(buf, len, &rec) == 0)
		body_inside(&rec, buf, len);

	/* record_open straight on the whole input, out of place. */
	if ((out = malloc(len ? len : 1)) != NULL) {
		if (record_open(&rx, buf, len, out, &rec) == 0)
			body_inside(&rec, out, len);
		free(out);
	}

	/* The stream as relay.c reads it: open in place, frame by frame. */
	rx.nonce = 0;
	while ((flen = record_frame_len(buf + off, len - off)) > 0) {
		uint8_t *frame = buf + off;

		if ((size_t)flen > len - off ||
		    (size_t)flen < WIRE_REC_LENLEN + WIRE_REC_MIN)
			fatal("record_frame_len");
		if (record_open(&rx, frame, (size_t)flen,
		    frame + WIRE_REC_LENLEN, &rec))
			break;
		body_inside(&rec, frame + WIRE_REC_LENLEN, (size_t)flen);
		off += (size_t)flen;
	}
	free(buf);
}

/* Mode 1: what record_seal writes, record_open must read back. */
static void
sealed_chunks(const uint8_t *b, size_t len)
{
	struct record_dir tx = { tx_aead, 0 }, rx = { rx_aead, 0 };
	uint8_t *stream = NULL, *pt = NULL;
	size_t cap, slen = 0;

	/* Every chunk takes at least 19 input bytes and adds <= overhead. */
	cap = len + (len / 19 + 1) * WIRE_REC_OVERHEAD;
	if ((stream = malloc(cap)) == NULL ||
	    (pt = malloc(WIRE_REC_HDR + WIRE_REC_MAXDATA)) == NULL)
		goto out;
	while (len >= 19) {
		uint8_t type = b[0];
		uint64_t seq = wire_get64(b + 1), ack = wire_get64(b + 9);
		size_t bodylen = wire_get16(b + 17);
		uint8_t *frame = stream + slen;
		struct wire_rec want, got;
		size_t flen;
		int n, wok;
		long fl;

		b += 19;
		len -= 19;
		if (bodylen > len)
			bodylen = len;
		memcpy(frame + WIRE_REC_LENLEN + WIRE_REC_HDR, b, bodylen);
		if ((n = record_seal(&tx, frame, type, seq, ack, bodylen)) < 0)
			fatal("record_seal");
		flen = (size_t)n;
		if (flen != WIRE_REC_OVERHEAD + bodylen)
			fatal("record_seal length");

		/* The plaintext the receiver should see. */
		wire_rec_hdr(pt, type, seq, ack);
		memcpy(pt + WIRE_REC_HDR, b, bodylen);
		memset(&want, 0, sizeof(want));
		wok = wire_rec_parse(pt, WIRE_REC_HDR + bodylen, &want) == 0;

		fl = record_frame_len(frame, flen);
		if (fl != (long)flen || record_frame_len(frame, flen - 1) != 0)
			fatal("record_frame_len on a sealed frame");
		memset(&got, 0, sizeof(got));
		if ((record_open(&rx, frame, flen, frame + WIRE_REC_LENLEN,
		    &got) == 0) != wok)
			fatal("record_open disagrees with wire_rec_parse");
		if (wok) {
			if (got.type != type || got.seq != seq || got.ack != ack ||
			    got.bodylen != bodylen ||
			    got.body != frame + WIRE_REC_LENLEN + WIRE_REC_HDR ||
			    memcmp(got.body, b, bodylen) != 0)
				fatal("record changed in transit");
		} else {
			/* The node drops the carrier; so do we. */
			break;
		}
		if (rx.nonce != tx.nonce)
			fatal("nonces out of step");
		b += bodylen;
		len -= bodylen;
		slen += flen;
	}
out:
	free(pt);
	free(stream);
}

/* Seal plaintext ${pt} (${ptlen} bytes) as record number ${nonce} into a
 * fresh frame; return its length or 0. */
static size_t
seal_raw(const uint8_t *pt, size_t ptlen, uint64_t nonce, uint8_t **framep)
{
	size_t flen = WIRE_REC_LENLEN + ptlen + CRYPTO_TAGLEN;
	uint8_t *frame;

	*framep = NULL;
	if (ptlen + CRYPTO_TAGLEN > UINT32_MAX || (frame = malloc(flen)) == NULL)
		return 0;
	wire_put32(frame, (uint32_t)(ptlen + CRYPTO_TAGLEN));
	if (crypto_aead_seal(tx_aead, nonce, frame, WIRE_REC_LENLEN, pt, ptlen,
	    frame + WIRE_REC_LENLEN))
		fatal("crypto_aead_seal");
	*framep = frame;
	return flen;
}

/* Modes 2 and 3: an arbitrary plaintext, sealed; maybe one bit flipped. */
static void
sealed_plaintext(const uint8_t *b, size_t len, int tamper)
{
	struct record_dir rx = { rx_aead, 0 };
	struct wire_rec want, got;
	uint8_t *pt, *frame = NULL;
	size_t flen, bit = 0;
	long fl;
	int wok, ook;

	if (tamper) {
		if (len < 2)
			return;
		bit = wire_get16(b);
		b += 2;
		len -= 2;
	}
	if ((pt = fixed_copy(b, len, len)) == NULL)
		return;
	if ((flen = seal_raw(pt, len, 0, &frame)) == 0)
		goto out;
	memset(&want, 0, sizeof(want));
	wok = wire_rec_parse(pt, len, &want) == 0;
	if (wok)
		body_inside(&want, pt, len);
	if (tamper) {
		bit %= flen * 8;
		frame[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}

	fl = record_frame_len(frame, flen);
	if (!tamper && len + CRYPTO_TAGLEN >= WIRE_REC_MIN &&
	    len + CRYPTO_TAGLEN <= WIRE_REC_MAX && fl != (long)flen)
		fatal("record_frame_len on a good frame");
	if (fl <= 0) {
		if (!tamper && len + CRYPTO_TAGLEN >= WIRE_REC_MIN &&
		    len + CRYPTO_TAGLEN <= WIRE_REC_MAX)
			fatal("good frame refused");
		goto out;
	}
	memset(&got, 0, sizeof(got));
	ook = record_open(&rx, frame, (size_t)fl, frame + WIRE_REC_LENLEN,
	    &got) == 0;
	if (tamper) {
		if (ook)
			fatal("tampered record opened");
	} else {
		if (ook != wok)
			fatal("record_open disagrees with wire_rec_parse");
		if (ook && (got.type != want.type || got.seq != want.seq ||
		    got.ack != want.ack || got.bodylen != want.bodylen ||
		    memcmp(got.body, want.body, want.bodylen) != 0))
			fatal("record changed in transit");
		if (ook)
			body_inside(&got, frame + WIRE_REC_LENLEN,
			    flen - WIRE_REC_LENLEN);
	}
out:
	free(frame);
	free(pt);
}

/* Mode 4: session blobs. */
static void
session_blob(const uint8_t *b, size_t len)
{
	struct session s, s2;
	uint8_t *buf, again[SESSION_PACKED_LEN];

	if ((buf = fixed_copy(b, len, SESSION_PACKED_LEN)) == NULL)
		return;
	if (session_unpack(buf, &s) == 0) {
		size_t n = strnlen(s.service, sizeof(s.service));

		if (n == 0 || n > WIRE_SERVICE_MAX)
			fatal("session service name");
		session_pack(&s, again);
		if (session_unpack(again, &s2) != 0 ||
		    memcmp(&s, &s2, sizeof(s)) != 0)
			fatal("session round trip");
		session_wipe(&s2);
	}
	session_wipe(&s);
	free(buf);
}

/* Mode 5: RESP payloads. */
static void
resp_payload(const uint8_t *b, size_t len)
{
	struct wire_resp r;
	uint8_t *buf, again[WIRE_RESP_PAYLOAD];

	if ((buf = fixed_copy(b, len, WIRE_RESP_PAYLOAD)) == NULL)
		return;
	if (wire_resp_parse(buf, &r) == 0) {
		if (r.status > WIRE_CLOCK)
			fatal("resp status");
		wire_resp_pack(&r, again);
		if (memcmp(again, buf, WIRE_RESP_PAYLOAD) != 0)
			fatal("resp round trip");
	}
	free(buf);
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
	switch (data[0] % REC_NMODES) {
	case 0:
		raw_stream(b, len);
		break;
	case 1:
		sealed_chunks(b, len);
		break;
	case 2:
		sealed_plaintext(b, len, 0);
		break;
	case 3:
		sealed_plaintext(b, len, 1);
		break;
	case 4:
		session_blob(b, len);
		break;
	case 5:
		resp_payload(b, len);
		break;
	}
	return 0;
}
