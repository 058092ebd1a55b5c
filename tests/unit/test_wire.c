/*
 * test_wire: strict encoding and decoding of the wire formats (wire.h),
 * carrier record sealing and opening (record.h), and the session blob
 * (session.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "record.h"
#include "session.h"
#include "wire.h"

/* The sizes that docs/PROTOCOL.md states. */
static void
test_sizes(void **state)
{
	assert_int_equal(WIRE_INIT_NOISE, 144);
	assert_int_equal(WIRE_INIT_LEN, 184);
	assert_int_equal(WIRE_RESP_NOISE, 112);
	assert_int_equal(WIRE_RESP_LEN, 156);
	assert_int_equal(WIRE_REC_MIN, 40);
	assert_int_equal(WIRE_REC_MAX, WIRE_REC_HDR + WIRE_REC_MAXDATA + 16);
	assert_int_equal(WIRE_REC_OVERHEAD, 44);
	assert_int_equal(WIRE_HELLO_BODY, 32);
	assert_int_equal(WIRE_RESUME_NOISE, 128);
	assert_int_equal(WIRE_RESUME_LEN, 184);
	assert_int_equal(WIRE_RESUME_LEN, WIRE_INIT_LEN);
	assert_int_equal(WIRE_RESUMED_NOISE, 112);
	assert_int_equal(WIRE_RESUMED_LEN, 156);
	assert_int_equal(SESSION_PACKED_LEN, 245);
}

/*
 * TAI64N is the standard label (libtai's tai_unix, WireGuard): the Unix
 * epoch is 2^62 + 10.  Expected bytes worked out by hand:
 * 1700000000 = 0x6553f100, + 10 = 0x6553f10a.
 */
static void
test_tai64n(void **state)
{
	static const uint8_t epoch[WIRE_TAI64N_LEN] = {
	    0x40, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0 };
	static const uint8_t t17[WIRE_TAI64N_LEN] = {
	    0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0x0a, 0x3b, 0x9a, 0xc9, 0xff };
	uint8_t buf[WIRE_TAI64N_LEN];

	wire_tai64n(buf, 0, 0);
	assert_memory_equal(buf, epoch, sizeof(buf));
	assert_int_equal(wire_tai64n_unix(buf), 0);
	wire_tai64n(buf, 1700000000, 999999999);
	assert_memory_equal(buf, t17, sizeof(buf));
	assert_int_equal(wire_tai64n_unix(buf), 1700000000);
}

/* Front-door packet classification. */

static void
test_packet_type(void **state)
{
	uint8_t buf[256];

	memset(buf, 0, sizeof(buf));
	buf[0] = WIRE_INIT;
	buf[1] = WIRE_VERSION;
	assert_int_equal(wire_packet_type(buf, WIRE_INIT_LEN), WIRE_INIT);
	assert_int_equal(wire_packet_type(buf, WIRE_INIT_LEN - 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_INIT_LEN + 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESP_LEN), 0);

	buf[0] = WIRE_RESP;
	assert_int_equal(wire_packet_type(buf, WIRE_RESP_LEN), WIRE_RESP);
	assert_int_equal(wire_packet_type(buf, WIRE_RESP_LEN - 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESP_LEN + 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_INIT_LEN), 0);

	/* Short packets, unknown types. */
	assert_int_equal(wire_packet_type(buf, 0), 0);
	assert_int_equal(wire_packet_type(buf, 3), 0);
	buf[0] = 0;
	assert_int_equal(wire_packet_type(buf, WIRE_INIT_LEN), 0);
	buf[0] = 3;
	assert_int_equal(wire_packet_type(buf, WIRE_INIT_LEN), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESP_LEN), 0);

	/* RESUME is as long as INIT, RESUMED as RESP: the type tells. */
	buf[0] = WIRE_RESUME;
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN), WIRE_RESUME);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN - 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN + 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUMED_LEN), 0);
	buf[0] = WIRE_RESUMED;
	assert_int_equal(wire_packet_type(buf, WIRE_RESUMED_LEN), WIRE_RESUMED);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUMED_LEN - 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUMED_LEN + 1), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN), 0);
	buf[0] = 6;
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN), 0);
	assert_int_equal(wire_packet_type(buf, WIRE_RESUMED_LEN), 0);
	buf[0] = WIRE_RESUME;
	buf[1] = WIRE_VERSION + 1;
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN), 0);
	buf[1] = WIRE_VERSION;
	buf[3] = 1;
	assert_int_equal(wire_packet_type(buf, WIRE_RESUME_LEN), 0);
}

static void
test_packet_type_version_reserved(void **state)
{
	uint8_t buf[WIRE_INIT_LEN];

	memset(buf, 0, sizeof(buf));
	buf[0] = WIRE_INIT;
	for (int v = 0; v < 256; v++) {
		buf[1] = (uint8_t)v;
		assert_int_equal(wire_packet_type(buf, sizeof(buf)),
		    v == WIRE_VERSION ? WIRE_INIT : 0);
	}
	buf[1] = WIRE_VERSION;
	buf[2] = 1;
	assert_int_equal(wire_packet_type(buf, sizeof(buf)), 0);
	buf[2] = 0;
	buf[3] = 0x80;
	assert_int_equal(wire_packet_type(buf, sizeof(buf)), 0);
	buf[3] = 0;
	/* The rest of the packet is not looked at here. */
	memset(buf + 4, 0xff, sizeof(buf) - 4);
	assert_int_equal(wire_packet_type(buf, sizeof(buf)), WIRE_INIT);
}

/* INIT payload. */

static void
init_fill(struct wire_init *in, const char *name)
{
	memset(in, 0, sizeof(*in));
	for (int i = 0; i < WIRE_TAI64N_LEN; i++)
		in->timestamp[i] = (uint8_t)(0xa0 + i);
	snprintf(in->service, sizeof(in->service), "%s", name);
}

static void
test_init_roundtrip(void **state)
{
	static const char *names[] = { "s", "ssh",
	    "abcdefghijklmnopqrstuvwxyz012345" };   /* 32: the longest */
	struct wire_init in, out;
	uint8_t buf[WIRE_INIT_PAYLOAD];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		init_fill(&in, names[i]);
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(wire_init_pack(&in, buf), 0);
		assert_memory_equal(buf, in.timestamp, WIRE_TAI64N_LEN);
		assert_int_equal(buf[12], strlen(names[i]));
		assert_int_equal(buf[13] | buf[14] | buf[15], 0);
		assert_memory_equal(buf + 16, names[i], strlen(names[i]));
		for (size_t j = 16 + strlen(names[i]); j < sizeof(buf); j++)
			assert_int_equal(buf[j], 0);
		memset(&out, 0x55, sizeof(out));
		assert_int_equal(wire_init_parse(buf, &out), 0);
		assert_memory_equal(out.timestamp, in.timestamp,
		    WIRE_TAI64N_LEN);
		assert_string_equal(out.service, names[i]);
	}
}

static void
test_init_pack_rejects(void **state)
{
	struct wire_init in;
	uint8_t buf[WIRE_INIT_PAYLOAD];

	init_fill(&in, "");
	assert_int_equal(wire_init_pack(&in, buf), -1);
	/* 33 characters, no room for a NUL: too long. */
	memset(in.service, 'x', sizeof(in.service));
	assert_int_equal(wire_init_pack(&in, buf), -1);
}

static void
test_init_parse_rejects(void **state)
{
	struct wire_init in, out;
	uint8_t good[WIRE_INIT_PAYLOAD], buf[WIRE_INIT_PAYLOAD];

	init_fill(&in, "ssh");
	assert_int_equal(wire_init_pack(&in, good), 0);

	/* Length 0 and lengths past WIRE_SERVICE_MAX. */
	memcpy(buf, good, sizeof(buf));
	buf[12] = 0;
	assert_int_equal(wire_init_parse(buf, &out), -1);
	buf[12] = WIRE_SERVICE_MAX + 1;
	assert_int_equal(wire_init_parse(buf, &out), -1);
	buf[12] = 0xff;
	assert_int_equal(wire_init_parse(buf, &out), -1);

	/* Reserved bytes 13..15. */
	for (int i = 13; i < 16; i++) {
		memcpy(buf, good, sizeof(buf));
		buf[i] = 1;
		assert_int_equal(wire_init_parse(buf, &out), -1);
	}

	/* Nonzero padding after the name, anywhere. */
	for (int i = 16 + 3; i < WIRE_INIT_PAYLOAD; i++) {
		memcpy(buf, good, sizeof(buf));
		buf[i] = 'x';
		assert_int_equal(wire_init_parse(buf, &out), -1);
	}

	/* A NUL inside the name. */
	memcpy(buf, good, sizeof(buf));
	buf[17] = 0;
	assert_int_equal(wire_init_parse(buf, &out), -1);

	/* A length that covers the padding (the name would hold NULs). */
	memcpy(buf, good, sizeof(buf));
	buf[12] = 4;
	assert_int_equal(wire_init_parse(buf, &out), -1);

	/* A full-length name with no padding at all is fine. */
	memcpy(buf, good, sizeof(buf));
	buf[12] = WIRE_SERVICE_MAX;
	memset(buf + 16, 'n', WIRE_SERVICE_MAX);
	assert_int_equal(wire_init_parse(buf, &out), 0);
	assert_int_equal(strlen(out.service), WIRE_SERVICE_MAX);
}

/* RESP payload. */

static void
resp_fill(struct wire_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = WIRE_OK;
	r->client_port = 0xbeef;
	for (int i = 0; i < 16; i++) {
		r->client_addr[i] = (uint8_t)(0x10 + i);
		r->session_id[i] = (uint8_t)(0xf0 - i);
	}
	r->decoy = 0x01020304;
	r->window = 0x05060708;
	r->grant_timeout = 10;
	r->keepalive = 15;
	r->port_lo = 40000;
	r->port_hi = 49999;
}

static void
test_resp_roundtrip(void **state)
{
	struct wire_resp in, out;
	uint8_t buf[WIRE_RESP_PAYLOAD];

	resp_fill(&in);
	memset(buf, 0xee, sizeof(buf));
	wire_resp_pack(&in, buf);

	/* Offsets as in wire.h. */
	assert_int_equal(buf[0], WIRE_OK);
	assert_int_equal(buf[1], 0);
	assert_int_equal(wire_get16(buf + 2), 0xbeef);
	assert_memory_equal(buf + 4, in.client_addr, 16);
	assert_memory_equal(buf + 20, in.session_id, 16);
	assert_int_equal(wire_get32(buf + 36), 0x01020304);
	assert_int_equal(wire_get32(buf + 40), 0x05060708);
	assert_int_equal(wire_get16(buf + 44), 10);
	assert_int_equal(wire_get16(buf + 46), 15);
	assert_int_equal(wire_get16(buf + 48), 40000);
	assert_int_equal(wire_get16(buf + 50), 49999);
	for (int i = 52; i < WIRE_RESP_PAYLOAD; i++)
		assert_int_equal(buf[i], 0);

	memset(&out, 0x55, sizeof(out));
	assert_int_equal(wire_resp_parse(buf, &out), 0);
	assert_int_equal(out.status, in.status);
	assert_int_equal(out.client_port, in.client_port);
	assert_memory_equal(out.client_addr, in.client_addr, 16);
	assert_memory_equal(out.session_id, in.session_id, 16);
	assert_int_equal(out.decoy, in.decoy);
	assert_int_equal(out.window, in.window);
	assert_int_equal(out.grant_timeout, in.grant_timeout);
	assert_int_equal(out.keepalive, in.keepalive);
	assert_int_equal(out.port_lo, in.port_lo);
	assert_int_equal(out.port_hi, in.port_hi);

	/* A one-port range is valid. */
	in.port_hi = in.port_lo;
	wire_resp_pack(&in, buf);
	assert_int_equal(wire_resp_parse(buf, &out), 0);
}

static void
test_resp_status(void **state)
{
	struct wire_resp in, out;
	uint8_t buf[WIRE_RESP_PAYLOAD];

	/* Error statuses parse without grant fields; 2 is not assigned. */
	for (int s = WIRE_DENIED; s <= WIRE_CLOCK; s++) {
		memset(&in, 0, sizeof(in));
		in.status = (uint8_t)s;
		wire_resp_pack(&in, buf);
		if (s == 2) {
			assert_int_equal(wire_resp_parse(buf, &out), -1);
			continue;
		}
		assert_int_equal(wire_resp_parse(buf, &out), 0);
		assert_int_equal(out.status, s);
	}
	/* Unknown statuses do not. */
	resp_fill(&in);
	wire_resp_pack(&in, buf);
	for (int s = WIRE_CLOCK + 1; s < 256; s++) {
		buf[0] = (uint8_t)s;
		assert_int_equal(wire_resp_parse(buf, &out), -1);
	}
}

static void
test_resp_rejects(void **state)
{
	struct wire_resp in, out;
	uint8_t good[WIRE_RESP_PAYLOAD], buf[WIRE_RESP_PAYLOAD];

	resp_fill(&in);
	wire_resp_pack(&in, good);

	/* Reserved byte 1 and bytes 60..63 (52..59 hold node_time). */
	memcpy(buf, good, sizeof(buf));
	buf[1] = 1;
	assert_int_equal(wire_resp_parse(buf, &out), -1);
	for (int i = 60; i < WIRE_RESP_PAYLOAD; i++) {
		memcpy(buf, good, sizeof(buf));
		buf[i] = 0x01;
		assert_int_equal(wire_resp_parse(buf, &out), -1);
	}

	/* WIRE_OK needs usable grant fields. */
	in.grant_timeout = 0;
	wire_resp_pack(&in, buf);
	assert_int_equal(wire_resp_parse(buf, &out), -1);
	resp_fill(&in);
	in.keepalive = 0;
	wire_resp_pack(&in, buf);
	assert_int_equal(wire_resp_parse(buf, &out), -1);
	resp_fill(&in);
	in.port_lo = 0;
	wire_resp_pack(&in, buf);
	assert_int_equal(wire_resp_parse(buf, &out), -1);
	resp_fill(&in);
	in.port_lo = 50000;
	in.port_hi = 49999;
	wire_resp_pack(&in, buf);
	assert_int_equal(wire_resp_parse(buf, &out), -1);
}

/* Record plaintexts. */

/* Build a plaintext of ${type} with ${bodylen} body bytes into ${pt}. */
static size_t
rec_build(uint8_t *pt, uint8_t type, size_t bodylen)
{
	wire_rec_hdr(pt, type, 0x1122334455667788ULL, 0x99aabbccddeeff00ULL);
	memset(pt + WIRE_REC_HDR, 'b', bodylen);
	return WIRE_REC_HDR + bodylen;
}

static int
rec_try(uint8_t type, size_t bodylen)
{
	static uint8_t pt[WIRE_REC_HDR + WIRE_REC_MAXDATA + 2];
	struct wire_rec rec;
	size_t n = rec_build(pt, type, bodylen);

	return wire_rec_parse(pt, n, &rec);
}

static void
test_rec_header(void **state)
{
	uint8_t pt[WIRE_REC_HDR + 5];
	struct wire_rec rec;
	size_t n = rec_build(pt, WIRE_REC_DATA, 5);

	assert_int_equal(pt[0], WIRE_REC_DATA);
	for (int i = 1; i < 8; i++)
		assert_int_equal(pt[i], 0);
	assert_int_equal(wire_rec_parse(pt, n, &rec), 0);
	assert_int_equal(rec.type, WIRE_REC_DATA);
	assert_true(rec.seq == 0x1122334455667788ULL);
	assert_true(rec.ack == 0x99aabbccddeeff00ULL);
	assert_ptr_equal(rec.body, pt + WIRE_REC_HDR);
	assert_int_equal(rec.bodylen, 5);
}

static void
test_rec_body_sizes(void **state)
{
	/* HELLO: exactly session_id[16] || carrier u32. */
	assert_int_equal(rec_try(WIRE_REC_HELLO, WIRE_HELLO_BODY), 0);
	assert_int_equal(rec_try(WIRE_REC_HELLO, 0), -1);
	assert_int_equal(rec_try(WIRE_REC_HELLO, WIRE_HELLO_BODY - 1), -1);
	assert_int_equal(rec_try(WIRE_REC_HELLO, WIRE_HELLO_BODY + 1), -1);

	/* DATA: 1..WIRE_REC_MAXDATA. */
	assert_int_equal(rec_try(WIRE_REC_DATA, 1), 0);
	assert_int_equal(rec_try(WIRE_REC_DATA, WIRE_REC_MAXDATA), 0);
	assert_int_equal(rec_try(WIRE_REC_DATA, 0), -1);
	assert_int_equal(rec_try(WIRE_REC_DATA, WIRE_REC_MAXDATA + 1), -1);

	/* ACK, FIN: empty. */
	assert_int_equal(rec_try(WIRE_REC_ACK, 0), 0);
	assert_int_equal(rec_try(WIRE_REC_ACK, 1), -1);
	assert_int_equal(rec_try(WIRE_REC_FIN, 0), 0);
	assert_int_equal(rec_try(WIRE_REC_FIN, 1), -1);

	/* CLOSE: reason u8 and 0..WIRE_CLOSE_TEXT_MAX bytes of text. */
	assert_int_equal(rec_try(WIRE_REC_CLOSE, 1), 0);
	assert_int_equal(rec_try(WIRE_REC_CLOSE, 1 + WIRE_CLOSE_TEXT_MAX), 0);
	assert_int_equal(rec_try(WIRE_REC_CLOSE, 0), -1);
	assert_int_equal(rec_try(WIRE_REC_CLOSE, 2 + WIRE_CLOSE_TEXT_MAX), -1);

	/* Unknown types, whatever the body. */
	assert_int_equal(rec_try(0, 0), -1);
	assert_int_equal(rec_try(0, 1), -1);
	assert_int_equal(rec_try(WIRE_REC_CLOSE + 1, 0), -1);
	assert_int_equal(rec_try(WIRE_REC_CLOSE + 1, 10), -1);
	assert_int_equal(rec_try(0xff, 0), -1);
}

static void
test_rec_truncated_and_reserved(void **state)
{
	uint8_t pt[WIRE_REC_HDR + 4];
	struct wire_rec rec;
	size_t n;

	n = rec_build(pt, WIRE_REC_ACK, 0);
	assert_int_equal(wire_rec_parse(pt, n, &rec), 0);
	for (size_t k = 0; k < WIRE_REC_HDR; k++)
		assert_int_equal(wire_rec_parse(pt, k, &rec), -1);

	/* Flags (byte 1) and reserved bytes 2..7. */
	for (int i = 1; i < 8; i++) {
		n = rec_build(pt, WIRE_REC_ACK, 0);
		pt[i] = 0x40;
		assert_int_equal(wire_rec_parse(pt, n, &rec), -1);
	}
}

/* Carrier records: seal, frame, open. */

struct pair {
	struct record_dir tx, rx;
};

static int
pair_setup(void **state)
{
	static const uint8_t key[CRYPTO_KEYLEN] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	p->tx.aead = crypto_aead_new(CRYPTO_AESGCM, key);
	p->rx.aead = crypto_aead_new(CRYPTO_AESGCM, key);
	if (p->tx.aead == NULL || p->rx.aead == NULL)
		return -1;
	*state = p;
	return 0;
}

static int
pair_teardown(void **state)
{
	struct pair *p = *state;

	crypto_aead_free(p->tx.aead);
	crypto_aead_free(p->rx.aead);
	free(p);
	return 0;
}

/* Seal a DATA record carrying ${text} into ${frame}; return its length. */
static size_t
seal_data(struct record_dir *d, uint8_t *frame, const char *text,
    uint64_t seq, uint64_t ack)
{
	size_t len = strlen(text);
	int n;

	memcpy(frame + WIRE_REC_LENLEN + WIRE_REC_HDR, text, len);
	n = record_seal(d, frame, WIRE_REC_DATA, seq, ack, len);
	assert_int_equal(n, WIRE_REC_OVERHEAD + len);
	return (size_t)n;
}

static void
test_record_roundtrip(void **state)
{
	struct pair *p = *state;
	uint8_t f1[128], f2[128], out[128];
	struct wire_rec rec;
	size_t n1, n2;

	n1 = seal_data(&p->tx, f1, "hello", 0, 7);
	assert_int_equal(wire_get32(f1), WIRE_REC_HDR + 5 + CRYPTO_TAGLEN);
	assert_true(p->tx.nonce == 1);
	/* The plaintext does not show. */
	assert_null(memmem(f1, n1, "hello", 5));
	n2 = seal_data(&p->tx, f2, "world!", 5, 9);

	assert_int_equal(record_frame_len(f1, n1), (long)n1);
	assert_int_equal(record_open(&p->rx, f1, n1, out, &rec), 0);
	assert_int_equal(rec.type, WIRE_REC_DATA);
	assert_true(rec.seq == 0 && rec.ack == 7);
	assert_int_equal(rec.bodylen, 5);
	assert_memory_equal(rec.body, "hello", 5);

	/* In place, as the relay does it. */
	assert_int_equal(record_open(&p->rx, f2, n2, f2 + WIRE_REC_LENLEN,
	    &rec), 0);
	assert_true(rec.seq == 5 && rec.ack == 9);
	assert_int_equal(rec.bodylen, 6);
	assert_memory_equal(rec.body, "world!", 6);
	assert_true(p->rx.nonce == 2);
}

static void
test_record_control(void **state)
{
	struct pair *p = *state;
	uint8_t f[128], out[128];
	struct wire_rec rec;
	int n;

	n = record_seal(&p->tx, f, WIRE_REC_ACK, 100, 200, 0);
	assert_int_equal(n, WIRE_REC_OVERHEAD);
	assert_int_equal(wire_get32(f), WIRE_REC_MIN);
	assert_int_equal(record_open(&p->rx, f, (size_t)n, out, &rec), 0);
	assert_int_equal(rec.type, WIRE_REC_ACK);
	assert_int_equal(rec.bodylen, 0);

	/* A body the type does not allow authenticates but is refused. */
	memset(f + WIRE_REC_LENLEN + WIRE_REC_HDR, 0, 3);
	n = record_seal(&p->tx, f, WIRE_REC_FIN, 1, 1, 3);
	assert_true(n > 0);
	assert_int_equal(record_open(&p->rx, f, (size_t)n, out, &rec), -2);
}

static void
test_record_order(void **state)
{
	struct pair *p = *state;
	uint8_t f1[128], f2[128], out[128];
	struct wire_rec rec;
	size_t n1, n2;

	n1 = seal_data(&p->tx, f1, "one", 0, 0);
	n2 = seal_data(&p->tx, f2, "two", 3, 0);
	/* Out of order or replayed: the nonce does not match. */
	assert_int_equal(record_open(&p->rx, f2, n2, out, &rec), -1);
	assert_true(p->rx.nonce == 0);
	assert_int_equal(record_open(&p->rx, f1, n1, out, &rec), 0);
	assert_int_equal(record_open(&p->rx, f1, n1, out, &rec), -1);
	assert_int_equal(record_open(&p->rx, f2, n2, out, &rec), 0);
}

static void
test_record_tamper(void **state)
{
	struct pair *p = *state;
	uint8_t f[128], bad[128], out[128];
	struct wire_rec rec;
	size_t n;

	n = seal_data(&p->tx, f, "secret bytes", 0, 0);
	/* Flip each byte after the length: header, body, tag. */
	for (size_t i = WIRE_REC_LENLEN; i < n; i++) {
		memcpy(bad, f, n);
		bad[i] ^= 0x01;
		assert_int_equal(record_open(&p->rx, bad, n, out, &rec), -1);
	}
	/* The length is authenticated too (it is the AD). */
	memcpy(bad, f, n);
	wire_put32(bad, (uint32_t)(n - WIRE_REC_LENLEN - 1));
	assert_int_equal(record_open(&p->rx, bad, n - 1, out, &rec), -1);
	assert_int_equal(record_open(&p->rx, f, n - 1, out, &rec), -1);
	/* A failed open leaves the nonce alone: the genuine frame opens. */
	assert_true(p->rx.nonce == 0);
	assert_int_equal(record_open(&p->rx, f, n, out, &rec), 0);
	assert_memory_equal(rec.body, "secret bytes", 12);
}

/* A record that authenticates but whose plaintext is malformed: -2. */
static void
test_record_malformed(void **state)
{
	struct pair *p = *state;
	uint8_t f[128], out[128];
	struct wire_rec rec;
	int n;

	/* An unknown type, and an ACK with a body. */
	n = record_seal(&p->tx, f, 99, 0, 0, 0);
	assert_true(n > 0);
	assert_int_equal(record_open(&p->rx, f, (size_t)n, out, &rec), -2);
	memset(f + WIRE_REC_LENLEN + WIRE_REC_HDR, 'x', 3);
	n = record_seal(&p->tx, f, WIRE_REC_ACK, 0, 0, 3);
	assert_true(n > 0);
	assert_int_equal(record_open(&p->rx, f, (size_t)n, out, &rec), -2);
	/* A HELLO without its window field (the 0.1 layout). */
	n = record_seal(&p->tx, f, WIRE_REC_HELLO, 0, 0, WIRE_HELLO_BODY - 4);
	assert_true(n > 0);
	assert_int_equal(record_open(&p->rx, f, (size_t)n, out, &rec), -2);
}

static void
test_record_frame_len(void **state)
{
	struct pair *p = *state;
	uint8_t f[128], hdr[4];
	size_t n;

	n = seal_data(&p->tx, f, "abc", 0, 0);
	/* Incomplete: need more bytes. */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(record_frame_len(f, k), 0);
	assert_int_equal(record_frame_len(f, n), (long)n);
	assert_int_equal(record_frame_len(f, n + 10), (long)n);

	/* Out-of-range lengths: drop the carrier. */
	wire_put32(hdr, WIRE_REC_MIN - 1);
	assert_int_equal(record_frame_len(hdr, 4), -1);
	wire_put32(hdr, 0);
	assert_int_equal(record_frame_len(hdr, 4), -1);
	wire_put32(hdr, WIRE_REC_MAX + 1);
	assert_int_equal(record_frame_len(hdr, 4), -1);
	wire_put32(hdr, 0xffffffff);
	assert_int_equal(record_frame_len(hdr, 4), -1);
	wire_put32(hdr, WIRE_REC_MIN);
	assert_int_equal(record_frame_len(hdr, 4), 0);
	wire_put32(hdr, WIRE_REC_MAX);
	assert_int_equal(record_frame_len(hdr, 4), 0);
}

static void
test_record_limits(void **state)
{
	struct pair *p = *state;
	uint8_t *f = calloc(1, WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA + 1);
	uint8_t out[64];
	struct wire_rec rec;
	int n;

	assert_non_null(f);
	/* Largest body seals; one more byte does not. */
	n = record_seal(&p->tx, f, WIRE_REC_DATA, 0, 0, WIRE_REC_MAXDATA);
	assert_int_equal(n, WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA);
	assert_int_equal(record_frame_len(f, (size_t)n), n);
	assert_int_equal(record_seal(&p->tx, f, WIRE_REC_DATA, 0, 0,
	    WIRE_REC_MAXDATA + 1), -1);
	/* Frames shorter than header plus tag are refused. */
	assert_int_equal(record_open(&p->rx, f, WIRE_REC_LENLEN +
	    WIRE_REC_MIN - 1, out, &rec), -1);
	assert_int_equal(record_open(&p->rx, f, 0, out, &rec), -1);
	/* The last nonce is reserved. */
	p->tx.nonce = UINT64_MAX;
	assert_int_equal(record_seal(&p->tx, f, WIRE_REC_ACK, 0, 0, 0), -1);
	free(f);
}

/* Session blob. */

static void
session_fill(struct session *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < WIRE_SESSION_ID_LEN; i++)
		s->id[i] = (uint8_t)(i + 1);
	snprintf(s->service, sizeof(s->service), "ssh");
	for (int i = 0; i < 32; i++) {
		s->client_pub[i] = (uint8_t)(0x40 + i);
		s->key_c2s[i] = (uint8_t)(0x80 + i);
		s->key_s2c[i] = (uint8_t)(0xc0 + i);
	}
	s->carrier = 3;
	s->sent = 0x0102030405060708ULL;
	s->received = 0x1112131415161718ULL;
	for (int i = 0; i < WIRE_RESUME_SECRET_LEN; i++) {
		s->resume_secret[i] = (uint8_t)(0x20 + i);
		s->resume_next[i] = (uint8_t)(0xa0 + i);
	}
	for (int i = 0; i < WIRE_TAI64N_LEN; i++)
		s->resume_ts[i] = (uint8_t)(0xe0 + i);
}

static void
test_session_roundtrip(void **state)
{
	struct session in, out;
	uint8_t buf[SESSION_PACKED_LEN];

	session_fill(&in);
	session_pack(&in, buf);
	assert_int_equal(wire_get32(buf), 0x77727332);   /* "wrs2" */
	memset(&out, 0x55, sizeof(out));
	assert_int_equal(session_unpack(buf, &out), 0);
	assert_memory_equal(out.id, in.id, WIRE_SESSION_ID_LEN);
	assert_string_equal(out.service, "ssh");
	assert_memory_equal(out.client_pub, in.client_pub, 32);
	assert_memory_equal(out.key_c2s, in.key_c2s, 32);
	assert_memory_equal(out.key_s2c, in.key_s2c, 32);
	assert_int_equal(out.carrier, 3);
	assert_true(out.sent == in.sent);
	assert_true(out.received == in.received);
	assert_memory_equal(out.resume_secret, in.resume_secret,
	    WIRE_RESUME_SECRET_LEN);
	assert_memory_equal(out.resume_next, in.resume_next,
	    WIRE_RESUME_SECRET_LEN);
	assert_memory_equal(out.resume_ts, in.resume_ts, WIRE_TAI64N_LEN);
	/* The resume fields are the last 76 bytes, in that order. */
	assert_memory_equal(buf + SESSION_PACKED_LEN - 76, in.resume_secret,
	    WIRE_RESUME_SECRET_LEN);
	assert_memory_equal(buf + SESSION_PACKED_LEN - 12, in.resume_ts,
	    WIRE_TAI64N_LEN);

	/* A 32-character service name. */
	memset(in.service, 'z', WIRE_SERVICE_MAX);
	in.service[WIRE_SERVICE_MAX] = '\0';
	session_pack(&in, buf);
	assert_int_equal(session_unpack(buf, &out), 0);
	assert_string_equal(out.service, in.service);

	session_wipe(&in);
	for (size_t i = 0; i < sizeof(in); i++)
		assert_int_equal(((uint8_t *)&in)[i], 0);
}

static void
test_session_rejects(void **state)
{
	struct session in, out;
	uint8_t good[SESSION_PACKED_LEN], buf[SESSION_PACKED_LEN];

	session_fill(&in);
	session_pack(&in, good);

	/* Bad magic, byte by byte. */
	for (int i = 0; i < 4; i++) {
		memcpy(buf, good, sizeof(buf));
		buf[i] ^= 0x20;
		assert_int_equal(session_unpack(buf, &out), -1);
	}
	/* Service length 0, too long, NUL inside. */
	memcpy(buf, good, sizeof(buf));
	buf[4 + WIRE_SESSION_ID_LEN] = 0;
	assert_int_equal(session_unpack(buf, &out), -1);
	buf[4 + WIRE_SESSION_ID_LEN] = WIRE_SERVICE_MAX + 1;
	assert_int_equal(session_unpack(buf, &out), -1);
	memcpy(buf, good, sizeof(buf));
	buf[4 + WIRE_SESSION_ID_LEN + 1 + 1] = 0;
	assert_int_equal(session_unpack(buf, &out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_tai64n),
		cmocka_unit_test(test_packet_type),
		cmocka_unit_test(test_packet_type_version_reserved),
		cmocka_unit_test(test_init_roundtrip),
		cmocka_unit_test(test_init_pack_rejects),
		cmocka_unit_test(test_init_parse_rejects),
		cmocka_unit_test(test_resp_roundtrip),
		cmocka_unit_test(test_resp_status),
		cmocka_unit_test(test_resp_rejects),
		cmocka_unit_test(test_rec_header),
		cmocka_unit_test(test_rec_body_sizes),
		cmocka_unit_test(test_rec_truncated_and_reserved),
		cmocka_unit_test_setup_teardown(test_record_roundtrip,
		    pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_record_control,
		    pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_record_order,
		    pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_record_tamper,
		    pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_record_malformed,
		    pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_record_frame_len,
		    pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_record_limits,
		    pair_setup, pair_teardown),
		cmocka_unit_test(test_session_roundtrip),
		cmocka_unit_test(test_session_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
