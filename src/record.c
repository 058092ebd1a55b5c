/*
 * record: carrier record sealing, framing and opening.
 */
#include "record.h"

int
record_seal(struct record_dir *d, uint8_t *frame, uint8_t type, uint64_t seq,
    uint64_t ack, size_t bodylen)
{
	return record_seal_from(d, frame, type, seq, ack,
	    frame + WIRE_REC_LENLEN + WIRE_REC_HDR, bodylen);
}

int
record_seal_from(struct record_dir *d, uint8_t *frame, uint8_t type,
    uint64_t seq, uint64_t ack, const uint8_t *body, size_t bodylen)
{
	uint8_t *pt = frame + WIRE_REC_LENLEN;
	size_t ptlen = WIRE_REC_HDR + bodylen;

	if (bodylen > WIRE_REC_MAXDATA || d->nonce == UINT64_MAX)
		return -1;
	wire_put32(frame, (uint32_t)(ptlen + CRYPTO_TAGLEN));
	wire_rec_hdr(pt, type, seq, ack);
	if (crypto_aead_seal2(d->aead, d->nonce, frame, WIRE_REC_LENLEN, pt,
	    WIRE_REC_HDR, body, bodylen, pt))
		return -1;
	d->nonce++;
	return (int)(WIRE_REC_LENLEN + ptlen + CRYPTO_TAGLEN);
}

long
record_frame_len(const uint8_t *buf, size_t avail)
{
	uint32_t len;

	if (avail < WIRE_REC_LENLEN)
		return 0;
	len = wire_get32(buf);
	if (len < WIRE_REC_MIN || len > WIRE_REC_MAX)
		return -1;
	if (avail < WIRE_REC_LENLEN + (size_t)len)
		return 0;
	return WIRE_REC_LENLEN + (long)len;
}

int
record_open(struct record_dir *d, const uint8_t *frame, size_t framelen,
    uint8_t *out, struct wire_rec *rec)
{
	size_t ctlen = framelen - WIRE_REC_LENLEN;

	if (framelen < WIRE_REC_LENLEN + WIRE_REC_MIN || d->nonce == UINT64_MAX)
		return -1;
	if (crypto_aead_open(d->aead, d->nonce, frame, WIRE_REC_LENLEN,
	    frame + WIRE_REC_LENLEN, ctlen, out))
		return -1;
	d->nonce++;
	return wire_rec_parse(out, ctlen - CRYPTO_TAGLEN, rec) ? -2 : 0;
}
