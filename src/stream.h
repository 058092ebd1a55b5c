/*
 * stream: the sending half of one direction of a session.  It keeps the
 * plaintext read from the plain side until the peer acknowledges that it
 * delivered it (docs/PROTOCOL.md 7.6), so that a new carrier can send
 * again exactly what the peer lacks.  Pure bookkeeping: no I/O, no crypto.
 *
 * Offsets count bytes of the stream from its start:
 *
 *     acked <= sent <= end
 *     [acked, end)   kept: read from the plain side, not yet delivered
 *     [sent, end)    not yet sealed onto the current carrier
 *     end - acked <= window   (the peer's receive window)
 *
 * The bytes live in blocks of STREAM_BLOCK bytes; a read lands straight in
 * the last block (no copy), and a record is sealed out of place from there.
 */
#ifndef WARREN_STREAM_H
#define WARREN_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "wire.h"

#define STREAM_BLOCK WIRE_REC_MAXDATA   /* bytes per kept block */
#define STREAM_MIN_READ (64 * 1024)     /* smaller room: a new block */

struct stream_block;

struct stream_out {
	struct stream_block *head, *tail;
	uint64_t acked;    /* the peer delivered everything before this */
	uint64_t sent;     /* the next byte to seal onto the carrier */
	uint64_t end;      /* bytes read from the plain side */
	uint64_t window;   /* the peer's receive window (0: not known yet) */
};

/**
 * stream_out_init(s, start):
 * Make ${s} an empty stream whose offsets all start at ${start}.
 */
void stream_out_init(struct stream_out *s, uint64_t start);

/**
 * stream_out_room(s):
 * How many more bytes the peer's window lets ${s} keep now.
 */
uint64_t stream_out_room(const struct stream_out *s);

/**
 * stream_out_buf(s, len):
 * Return where the next read from the plain side should land and store
 * its size in ${len}: at most STREAM_BLOCK bytes and never more than
 * stream_out_room(${s}).  Returns NULL (errno ENOMEM) if no block could
 * be had, or if there is no room.  The buffer stays ${s}'s.
 */
uint8_t *stream_out_buf(struct stream_out *s, size_t *len);

/**
 * stream_out_wrote(s, n):
 * Record that ${n} bytes were read into the buffer stream_out_buf gave
 * (0 <= ${n} <= its size).
 */
void stream_out_wrote(struct stream_out *s, size_t n);

/**
 * stream_out_next(s, len):
 * Return the next bytes to send, from offset ${s}->sent, and store their
 * number in ${len} (at most WIRE_REC_MAXDATA, within one block).  Returns
 * NULL with ${len} 0 if everything read has been sent.  The bytes stay
 * ${s}'s and stay valid until stream_out_ack frees them.
 */
const uint8_t *stream_out_next(const struct stream_out *s, size_t *len);

/**
 * stream_out_sent(s, n):
 * Record that the ${n} bytes stream_out_next gave were sealed and sent.
 */
void stream_out_sent(struct stream_out *s, size_t n);

/**
 * stream_out_ack(s, ack):
 * The peer has delivered everything before offset ${ack}: free what it
 * covers.  Returns -1 (and changes nothing) if ${ack} is below the last
 * ack or beyond what was sent.
 */
int stream_out_ack(struct stream_out *s, uint64_t ack) WR_MUST;

/**
 * stream_out_rewind(s, received):
 * A new carrier: the peer has received everything before ${received}, so
 * sending starts again there.  Returns -1 (and changes nothing) unless
 * acked <= ${received} <= end.
 */
int stream_out_rewind(struct stream_out *s, uint64_t received) WR_MUST;

/**
 * stream_out_free(s):
 * Wipe and free every kept block of ${s}; ${s} is empty afterwards.
 */
void stream_out_free(struct stream_out *s);

#endif
