/*
 * record: sealing and opening carrier records (framing in wire.h).
 * Each direction of a carrier has its own AEAD key and a nonce counter
 * that starts at 0 and counts records.
 */
#ifndef WARREN_RECORD_H
#define WARREN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "wire.h"

/* One direction of a carrier. */
struct record_dir {
	struct crypto_aead *aead;
	uint64_t nonce;
};

/**
 * record_seal(d, frame, type, seq, ack, bodylen):
 * Seal a record in place.  The body (${bodylen} bytes) must already sit at
 * ${frame} + WIRE_REC_LENLEN + WIRE_REC_HDR, and ${frame} must have room
 * for WIRE_REC_OVERHEAD + ${bodylen} bytes.  Writes the length, header and
 * tag; returns the frame's total length, or -1 on failure.
 */
int record_seal(struct record_dir *d, uint8_t *frame, uint8_t type,
    uint64_t seq, uint64_t ack, size_t bodylen) WR_MUST;

/**
 * record_seal_from(d, frame, type, seq, ack, body, bodylen):
 * As record_seal, but the ${bodylen} bytes of the body are read from
 * ${body}, which stays the caller's (the sender's kept plaintext), and
 * sealed out of place into ${frame}.
 */
int record_seal_from(struct record_dir *d, uint8_t *frame, uint8_t type,
    uint64_t seq, uint64_t ack, const uint8_t *body, size_t bodylen) WR_MUST;

/**
 * record_frame_len(buf, avail):
 * Look at the ${avail} buffered bytes at ${buf}: return the length of the
 * complete frame at its start, 0 if more bytes are needed, or -1 if the
 * length field is out of range (the carrier must be dropped).
 */
long record_frame_len(const uint8_t *buf, size_t avail);

/**
 * record_open(d, frame, framelen, out, rec):
 * Authenticate and decrypt the complete frame ${frame} of ${framelen}
 * bytes into ${out} (room for framelen - WIRE_REC_LENLEN - CRYPTO_TAGLEN
 * bytes; may equal ${frame} + WIRE_REC_LENLEN) and decode it into ${rec},
 * whose body points into ${out}.  Returns 0; -1 if the frame does not
 * authenticate; -2 if it authenticates but its plaintext is malformed
 * (wire_rec_parse refuses it).  Either way the carrier must be dropped.
 */
int record_open(struct record_dir *d, const uint8_t *frame, size_t framelen,
    uint8_t *out, struct wire_rec *rec) WR_MUST;

#endif
