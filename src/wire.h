/*
 * wire: every wire format and protocol constant of warren, in one place.
 * docs/PROTOCOL.md is the normative text and this file implements it;
 * change both in the same commit.  All integers on the wire are big-endian.
 */
#ifndef WARREN_WIRE_H
#define WARREN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define WIRE_VERSION 1
#define WIRE_PROLOGUE "warren/1"         /* Noise prologue, no NUL */

/* Front-door (UDP) packet types. */
#define WIRE_INIT 1
#define WIRE_RESP 2
#define WIRE_COOKIE 3
#define WIRE_RESUME 4
#define WIRE_RESUMED 5

#define WIRE_MACLEN 16
#define WIRE_SERVICE_MAX 32              /* longest service name on the wire */
#define WIRE_SESSION_ID_LEN 16

/*
 * INIT payload (Noise msg 1 payload), WIRE_INIT_PAYLOAD bytes:
 *   0  timestamp[12]   TAI64N of the client's clock
 *  12  service_len u8  1..WIRE_SERVICE_MAX
 *  13  reserved[3]     zero
 *  16  service[32]     name, zero padded
 */
#define WIRE_INIT_PAYLOAD 48
#define WIRE_TAI64N_LEN 12
/*
 * The TAI64 label of the Unix epoch: 2^62 + 10, since 1970-01-01 00:00:00
 * UTC is taken as TAI - 10 s (libtai's tai_unix, WireGuard's timestamps).
 */
#define WIRE_TAI64_UNIX 0x400000000000000aULL

/*
 * INIT packet, WIRE_INIT_LEN bytes:
 *   0  type u8 = WIRE_INIT, version u8 = WIRE_VERSION, reserved u16 = 0
 *   4  sender u32      the client's index for this handshake
 *   8  noise[WIRE_INIT_NOISE]   e (32), enc s (48), enc payload (64)
 * 152  mac1[16]        HMAC-SHA256(SHA256("mac1----" || S_pub), bytes 0..151)[0..15]
 * 168  mac2[16]        HMAC-SHA256(cookie, bytes 0..167)[0..15] with a
 *                      cookie from the node (COOKIE, under load), else zero
 */
#define WIRE_INIT_NOISE (32 + 32 + 16 + WIRE_INIT_PAYLOAD + 16)
#define WIRE_INIT_LEN (8 + WIRE_INIT_NOISE + 2 * WIRE_MACLEN)

/*
 * RESP status codes.  WIRE_DENIED answers both "no such service" and "this
 * key may not use it", so that a client key cannot learn which service
 * names exist; the node's log tells the two apart.  2 is not assigned (an
 * early draft's NO_SERVICE): no node sends it and a parser rejects it.
 */
#define WIRE_OK 0
#define WIRE_DENIED 1           /* no such service, or not for this key */
#define WIRE_BUSY 3             /* a session cap, or no grant port open */
#define WIRE_CLOCK 4            /* INIT timestamp too far from the node's clock */

/*
 * RESP payload (Noise msg 2 payload), WIRE_RESP_PAYLOAD bytes:
 *   0  status u8            WIRE_OK or an error code above
 *   1  reserved u8
 *   2  client_port u16      UDP source port the node saw
 *   4  client_addr[16]      IP the node saw (IPv4 as ::ffff:a.b.c.d)
 *  20  session_id[16]
 *  36  decoy u32
 *  40  window u32           grant window number
 *  44  grant_timeout u16    seconds
 *  46  keepalive u16        seconds
 *  48  port_lo u16          the node's grant_ports range
 *  50  port_hi u16
 *  52  node_time u64        the node's Unix time (seconds), for WIRE_CLOCK
 *  60  reserved[4]          zero
 */
#define WIRE_RESP_PAYLOAD 64

/*
 * RESP packet, WIRE_RESP_LEN bytes:
 *   0  type u8 = WIRE_RESP, version u8, reserved u16
 *   4  sender u32      the node's index
 *   8  receiver u32    the client's index from INIT
 *  12  noise[WIRE_RESP_NOISE]   e (32), enc payload (80)
 * 124  mac1[16]        HMAC-SHA256(SHA256("mac1----" || C_pub), bytes 0..123)[0..15]
 * 140  mac2[16]        zero
 */
#define WIRE_RESP_NOISE (32 + WIRE_RESP_PAYLOAD + 16)
#define WIRE_RESP_LEN (12 + WIRE_RESP_NOISE + 2 * WIRE_MACLEN)

/*
 * COOKIE packet (node -> client, under load), WIRE_COOKIE_LEN bytes:
 *   0  type u8 = WIRE_COOKIE, version u8, reserved u16
 *   4  receiver u32    the client's index from the INIT
 *   8  epoch[8]        random, new with each cookie secret
 *  16  nonce u64       counts the node's replies in this epoch
 *  24  sealed[32]      AES-256-GCM(key = HMAC-SHA256(SHA256("cookie--" ||
 *                      S_pub), epoch), nonce, ad = the INIT's mac1,
 *                      plaintext = cookie[16])
 * The cookie is HMAC-SHA256(secret, client IP[16] || client port u16)[0..15]
 * with a node secret that rotates every WIRE_COOKIE_ROTATE seconds; mac2
 * of a later INIT from that address and port is
 * HMAC-SHA256(cookie, all bytes before mac2)[0..15].
 */
#define WIRE_COOKIE_LEN (8 + 16 + WIRE_MACLEN + CRYPTO_TAGLEN)
#define WIRE_COOKIE_ROTATE 120

/*
 * Resume (PROTOCOL.md section 14).  A session's resumption secret
 * (WIRE_RESUME_SECRET_LEN bytes) is exported from the final chaining key
 * ck of every handshake that makes or resumes it:
 *   secret = HMAC(HMAC(ck, WIRE_LABEL_RESUME), 0x01)
 * and names the session to the node through
 *   resume_id = HMAC(secret, WIRE_LABEL_RESUME_ID)[0..15].
 * The grant key of either handshake is HMAC(HMAC(ck1, WIRE_LABEL_GRANT),
 * 0x01) with ck1 the chaining key after Noise message 1.
 */
#define WIRE_LABEL_GRANT "warren grant"
#define WIRE_LABEL_RESUME "warren resume"
#define WIRE_LABEL_RESUME_ID "warren resume id"
#define WIRE_RESUME_PROTOCOL "Noise_NNpsk0_25519_AESGCM_SHA256"
#define WIRE_RESUME_PROLOGUE "warren/1 resume"  /* then RESUME bytes 0..23 */
#define WIRE_RESUME_SECRET_LEN 32
#define WIRE_RESUME_ID_LEN 16

/*
 * RESUME payload (NNpsk0 msg 1 payload), WIRE_RESUME_PAYLOAD bytes:
 *   0  timestamp[12]   TAI64N of the client's clock, newer than any
 *                      earlier RESUME of the session
 *  12  carrier u32     the carrier number asked for (> the current one)
 *  16  reserved[64]    zero (pads RESUME to the length of an INIT)
 */
#define WIRE_RESUME_PAYLOAD 80

/*
 * RESUME packet (client -> node), WIRE_RESUME_LEN bytes, as long as an
 * INIT and with mac1 and mac2 at the same offsets:
 *   0  type u8 = WIRE_RESUME, version u8, reserved u16
 *   4  sender u32      the client's index for this resume
 *   8  resume_id[16]
 *  24  noise[WIRE_RESUME_NOISE]   e (32), enc payload (96)
 * 152  mac1[16]        as INIT: keyed by SHA256("mac1----" || S_pub)
 * 168  mac2[16]        as INIT: cookie MAC under load, else zero
 * The Noise prologue is WIRE_RESUME_PROLOGUE then bytes 0..23.
 */
#define WIRE_RESUME_NOISE (32 + WIRE_RESUME_PAYLOAD + 16)
#define WIRE_RESUME_ID_OFF 8
#define WIRE_RESUME_NOISE_OFF (WIRE_RESUME_ID_OFF + WIRE_RESUME_ID_LEN)
#define WIRE_RESUME_LEN (WIRE_RESUME_NOISE_OFF + WIRE_RESUME_NOISE + \
    2 * WIRE_MACLEN)

/*
 * RESUMED packet (node -> client), WIRE_RESUMED_LEN bytes, laid out as a
 * RESP:
 *   0  type u8 = WIRE_RESUMED, version u8, reserved u16
 *   4  sender u32      the node's index
 *   8  receiver u32    the client's index from RESUME
 *  12  noise[WIRE_RESUMED_NOISE]  e (32), enc RESP payload (80); status
 *                      WIRE_OK or WIRE_BUSY only
 * 124  mac1[16]        as RESP: keyed by SHA256("mac1----" || C_pub)
 * 140  mac2[16]        zero (a client rejects anything else)
 */
#define WIRE_RESUMED_NOISE (32 + WIRE_RESP_PAYLOAD + 16)
#define WIRE_RESUMED_LEN (12 + WIRE_RESUMED_NOISE + 2 * WIRE_MACLEN)

/*
 * Carrier (TCP) records.  Each record is
 *   len u32            length of what follows, WIRE_REC_MIN..WIRE_REC_MAX
 *   sealed[len]        AEAD(key of this direction, nonce = record counter,
 *                           ad = the 4 len bytes, plaintext)
 * and each plaintext is a WIRE_REC_HDR-byte header and a body:
 *   0  type u8, flags u8 (0), reserved u16 (0), reserved u32 (0)
 *   8  seq u64         stream offset of the sender (see each type)
 *  16  ack u64         bytes of the peer's stream received so far
 *  24  body
 */
#define WIRE_REC_HELLO 1   /* body: session_id[16], carrier u32, window u32,
			      received u64; seq = bytes read from the plain side */
#define WIRE_REC_DATA 2    /* body: 1..WIRE_REC_MAXDATA stream bytes at offset seq */
#define WIRE_REC_ACK 3     /* empty body; also the keepalive */
#define WIRE_REC_FIN 4     /* empty body; seq = final length of sender's stream */
#define WIRE_REC_CLOSE 5   /* body: reason u8, then UTF-8 text (<= 200 bytes) */

#define WIRE_REC_LENLEN 4
#define WIRE_REC_HDR 24
/*
 * The largest body: a sender seals what one read gave it, so a bulk
 * stream moves in records this big.  512 KiB halves the reads, writes and
 * wakeups per byte of 256 KiB records: +12% single-stream throughput on
 * loopback (docs/BENCHMARKS.md); a receiver buffers two records at most.
 */
#define WIRE_REC_MAXDATA (512 * 1024)
#define WIRE_REC_MIN (WIRE_REC_HDR + CRYPTO_TAGLEN)
#define WIRE_REC_MAX (WIRE_REC_HDR + WIRE_REC_MAXDATA + CRYPTO_TAGLEN)
#define WIRE_REC_OVERHEAD (WIRE_REC_LENLEN + WIRE_REC_HDR + CRYPTO_TAGLEN)
#define WIRE_HELLO_BODY (WIRE_SESSION_ID_LEN + 4 + 4 + 8)
/*
 * The window in HELLO: how many bytes of its stream the sender of HELLO
 * accepts beyond what it has acknowledged (ack counts bytes delivered to
 * its plain side).  At least one full record.
 */
#define WIRE_WINDOW_MIN WIRE_REC_MAXDATA
#define WIRE_CLOSE_TEXT_MAX 200

/* CLOSE reasons. */
#define WIRE_CLOSE_ERROR 1        /* generic failure, see text */
#define WIRE_CLOSE_BACKEND 2      /* backend unreachable or reset */
#define WIRE_CLOSE_PROTOCOL 3     /* peer broke the protocol */

/*
 * Session store values (not on the network, but every implementation that
 * shares an LMDB or Redis store must agree; docs/STORE.md).  A stored value
 * is
 *   0  version u8 (WIRE_STORE_VERSION)
 *   1  expiry u64      Unix time in seconds (big-endian) when it lapses
 *   9  salt[24]        random, one per value
 *  33  AES-256-GCM(key = HKDF(K, salt), nonce = 0, ad = bytes 0..32 || name,
 *                  plaintext), tag last
 * with K = HKDF-SHA256(SHA-256(WIRE_STORE_LABEL), cluster secret).
 */
#define WIRE_STORE_VERSION 1
#define WIRE_STORE_LABEL "warren store v1"  /* no NUL */
#define WIRE_STORE_SALTLEN 24
#define WIRE_STORE_HDR (1 + 8 + WIRE_STORE_SALTLEN)
#define WIRE_STORE_OVERHEAD (WIRE_STORE_HDR + CRYPTO_TAGLEN)
#define WIRE_STORE_NAME_MAX 255           /* longest key name */
#define WIRE_STORE_VAL_MAX (1024 * 1024)  /* longest plaintext value */
#define WIRE_STORE_SESSION "sess:"        /* || session id: packed session */
#define WIRE_STORE_INIT "init:"           /* || client static key: newest
					     INIT timestamp (TAI64N) */

/* Decoded front-door INIT payload. */
struct wire_init {
	uint8_t timestamp[WIRE_TAI64N_LEN];
	char service[WIRE_SERVICE_MAX + 1];
};

/* Decoded RESUME payload. */
struct wire_resume {
	uint8_t timestamp[WIRE_TAI64N_LEN];
	uint32_t carrier;                /* 1 and up */
};

/* Decoded front-door RESP payload (also the RESUMED payload). */
struct wire_resp {
	uint8_t status;
	uint16_t client_port;
	uint8_t client_addr[16];
	uint8_t session_id[WIRE_SESSION_ID_LEN];
	uint32_t decoy;
	uint32_t window;
	uint16_t grant_timeout;
	uint16_t keepalive;
	uint16_t port_lo, port_hi;
	uint64_t node_time;
};

/* Decoded record header. */
struct wire_rec {
	uint8_t type;
	uint64_t seq;
	uint64_t ack;
	const uint8_t *body;
	size_t bodylen;
};

/**
 * wire_init_pack(in, out):
 * Encode ${in} into the WIRE_INIT_PAYLOAD bytes at ${out}.  Returns -1 if
 * the service name is empty or longer than WIRE_SERVICE_MAX.
 */
int wire_init_pack(const struct wire_init *in, uint8_t out[WIRE_INIT_PAYLOAD]);

/**
 * wire_init_parse(buf, out):
 * Decode an INIT payload; -1 if a length or reserved field is invalid or
 * the name holds a NUL.
 */
int wire_init_parse(const uint8_t buf[WIRE_INIT_PAYLOAD], struct wire_init *out);

/**
 * wire_resume_pack(in, out) / wire_resume_parse(buf, out):
 * Encode or decode a RESUME payload; parse fails on a carrier of 0 or a
 * nonzero reserved byte.
 */
void wire_resume_pack(const struct wire_resume *in,
    uint8_t out[WIRE_RESUME_PAYLOAD]);
int wire_resume_parse(const uint8_t buf[WIRE_RESUME_PAYLOAD],
    struct wire_resume *out);

/**
 * wire_resp_pack(in, out) / wire_resp_parse(buf, out):
 * Encode or decode a RESP payload; parse fails on nonzero reserved bytes
 * or an unknown status.
 */
void wire_resp_pack(const struct wire_resp *in, uint8_t out[WIRE_RESP_PAYLOAD]);
int wire_resp_parse(const uint8_t buf[WIRE_RESP_PAYLOAD], struct wire_resp *out);

/**
 * wire_packet_type(buf, len):
 * Cheap first look at a front-door packet: return WIRE_INIT, WIRE_RESP,
 * WIRE_COOKIE, WIRE_RESUME or WIRE_RESUMED if ${len} is exactly that
 * type's length and the version and reserved bytes are right; otherwise 0.
 */
int wire_packet_type(const uint8_t *buf, size_t len);

/**
 * wire_rec_parse(pt, ptlen, out):
 * Decode a record plaintext of ${ptlen} bytes; ${out}->body points into
 * ${pt}.  Fails on a short record, nonzero reserved bytes, an unknown type
 * or a body size the type does not allow.
 */
int wire_rec_parse(const uint8_t *pt, size_t ptlen, struct wire_rec *out);

/**
 * wire_rec_hdr(out, type, seq, ack):
 * Write a WIRE_REC_HDR-byte record header to ${out}.
 */
void wire_rec_hdr(uint8_t out[WIRE_REC_HDR], uint8_t type, uint64_t seq,
    uint64_t ack);

/**
 * wire_tai64n(out, sec, nsec):
 * Write the standard TAI64N label of Unix time ${sec}.${nsec} to ${out}:
 * u64 WIRE_TAI64_UNIX + ${sec}, then u32 ${nsec}, big-endian (as libtai
 * and WireGuard do).
 */
void wire_tai64n(uint8_t out[WIRE_TAI64N_LEN], uint64_t sec, uint32_t nsec);

/**
 * wire_tai64n_unix(ts):
 * Return the Unix seconds of the TAI64N label ${ts} (its first 8 bytes
 * minus WIRE_TAI64_UNIX, modulo 2^64: a label before the epoch gives a
 * huge value, which a caller comparing clocks treats as far off).
 */
uint64_t wire_tai64n_unix(const uint8_t ts[WIRE_TAI64N_LEN]);

/* Big-endian helpers. */
static inline void wire_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void wire_put32(uint8_t *p, uint32_t v) {
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static inline void wire_put64(uint8_t *p, uint64_t v) {
	wire_put32(p, v >> 32); wire_put32(p + 4, (uint32_t)v);
}
static inline uint16_t wire_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t wire_get32(const uint8_t *p) {
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t wire_get64(const uint8_t *p) {
	return (uint64_t)wire_get32(p) << 32 | wire_get32(p + 4);
}

#endif
