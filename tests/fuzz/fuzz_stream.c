/*
 * libFuzzer target: src/stream.c, statefully.  The input is a sequence of
 * operations on one struct stream_out, each an op byte and its arguments:
 *
 *   op % 7  arguments            what
 *   0       u16 n                feed: read n*16 bytes of the pattern in
 *                                through stream_out_buf/stream_out_wrote,
 *                                as far as the window lets
 *   1       u8 k, u8 full        feed once: one stream_out_buf, all of
 *                                it written if full != 0, else only its
 *                                first k*256 bytes (k = 0: none)
 *   2       u8 n                 send: up to n records (stream_out_next,
 *                                stream_out_sent)
 *   3       u8 how, u64 x        ack: an offset picked by how (acked,
 *                                sent, end, inside, just below acked,
 *                                just above sent, x itself)
 *   4       u8 how, u64 x        rewind: the same choices (end + 1 for
 *                                "above")
 *   5       u32 w                window := w mod (4 MiB + 1)
 *   6       u32 start            stream_out_free, then stream_out_init
 *                                at start (the next stream)
 *
 * After every operation it checks: acked <= sent <= end; the room is
 * what the window leaves and never "negative"; every kept byte
 * [acked, end) equals the pattern at its offset (read back through
 * stream_out_next after a rewind to acked, then the rewind undone);
 * stream_out_next gives exactly the bytes at [sent, end), in pieces of
 * 1..WIRE_REC_MAXDATA; a rejected ack or rewind changes nothing; an
 * accepted one moves exactly its offset.  Any broken invariant aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "wire.h"

#include "fuzz_pattern.h"

#define WINDOW_MAX (4u * 1024 * 1024)
#define CHECK_MAX (2u * 1024 * 1024)    /* kept bytes checked in full */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
fatal(const char *what, const struct stream_out *s)
{
	fprintf(stderr, "fuzz_stream: broken invariant: %s (acked=%llu "
	    "sent=%llu end=%llu window=%llu)\n", what,
	    (unsigned long long)s->acked, (unsigned long long)s->sent,
	    (unsigned long long)s->end, (unsigned long long)s->window);
	abort();
}

/* The room the window leaves, computed here independently. */
static uint64_t
room_expected(const struct stream_out *s)
{
	uint64_t kept = s->end - s->acked;

	return kept >= s->window ? 0 : s->window - kept;
}

/*
 * Check the offsets, the room, and (when few enough) every kept byte,
 * through the public calls only; leaves ${s} as it found it.
 */
static void
check(struct stream_out *s)
{
	uint64_t sent = s->sent, off;
	const uint8_t *p;
	size_t len;

	if (!(s->acked <= s->sent && s->sent <= s->end))
		fatal("acked <= sent <= end", s);
	if (stream_out_room(s) != room_expected(s))
		fatal("room is what the window leaves", s);
	if (stream_out_room(s) > s->window)
		fatal("room beyond the window (negative)", s);
	p = stream_out_next(s, &len);
	if ((p == NULL) != (s->sent == s->end) || (p == NULL && len != 0))
		fatal("next is NULL exactly when all was sent", s);
	if (p != NULL && (len == 0 || len > WIRE_REC_MAXDATA ||
	    len > s->end - s->sent))
		fatal("next gives 1..MAXDATA bytes within [sent, end)", s);
	if (p != NULL && !pat_equal(p, s->sent, len))
		fatal("next gives the bytes at sent", s);
	if (s->end - s->acked > CHECK_MAX)
		return;
	/* Every kept byte, from acked: the rewind a new carrier does. */
	if (stream_out_rewind(s, s->acked) != 0)
		fatal("rewind to acked refused", s);
	for (off = s->acked; off < s->end; off += len) {
		if ((p = stream_out_next(s, &len)) == NULL)
			fatal("kept bytes missing", s);
		if (len == 0 || len > WIRE_REC_MAXDATA || len > s->end - off)
			fatal("next piece out of range", s);
		if (!pat_equal(p, off, len))
			fatal("kept byte differs from the pattern", s);
		stream_out_sent(s, len);
		if (s->sent != off + len)
			fatal("sent moves by the bytes sent", s);
	}
	if (stream_out_next(s, &len) != NULL || len != 0)
		fatal("next after end", s);
	if (stream_out_rewind(s, sent) != 0 || s->sent != sent)
		fatal("rewind back to sent refused", s);
}

/* Read up to ${n} pattern bytes into ${s}, as the plain reader does. */
static void
feed(struct stream_out *s, uint64_t n)
{
	while (n > 0) {
		uint64_t room = stream_out_room(s);
		size_t len;
		uint8_t *p = stream_out_buf(s, &len);

		if (p == NULL) {
			if (room != 0)
				fatal("no buffer though there is room", s);
			return;
		}
		if (len == 0 || len > STREAM_BLOCK || len > room)
			fatal("buffer beyond the block or the room", s);
		if (len > n)
			len = (size_t)n;
		pat_fill(p, s->end, len);
		stream_out_wrote(s, len);
		n -= len;
	}
}

/* An offset for an ack or a rewind, by ${how}. */
static uint64_t
pick(const struct stream_out *s, unsigned how, uint64_t x, uint64_t hi)
{
	switch (how % 7) {
	case 0:
		return s->acked;
	case 1:
		return s->sent;
	case 2:
		return s->end;
	case 3:   /* inside [acked, hi] */
		return s->acked + (hi > s->acked ? x % (hi - s->acked + 1) : 0);
	case 4:
		return s->acked - 1 - x % 4;     /* below (wraps at 0) */
	case 5:
		return hi + 1 + x % 4;           /* above */
	default:
		return x;
	}
}

/* Ack or rewind at an offset; a refusal must change nothing. */
static void
ack_or_rewind(struct stream_out *s, int rewind, unsigned how, uint64_t x)
{
	struct stream_out before = *s;
	uint64_t hi = rewind ? s->end : s->sent;
	uint64_t off = pick(s, how, x, hi);
	int ok = off >= s->acked && off <= hi;
	int rc = rewind ? stream_out_rewind(s, off) : stream_out_ack(s, off);

	if (rc != (ok ? 0 : -1))
		fatal(rewind ? "rewind accepted or refused wrongly" :
		    "ack accepted or refused wrongly", s);
	if (!ok && memcmp(&before, s, sizeof(before)) != 0)
		fatal("a refused offset changed the stream", s);
	if (ok && !rewind && (s->acked != off || s->sent != before.sent ||
	    s->end != before.end))
		fatal("ack moves acked only", s);
	if (ok && rewind && (s->sent != off || s->acked != before.acked ||
	    s->end != before.end))
		fatal("rewind moves sent only", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct stream_out s;
	struct in in = { data, size };
	unsigned ops = 0;

	if (!ready) {
		pat_init(0x12345678);
		ready = 1;
	}
	stream_out_init(&s, 0);
	while (in.n > 0 && ops++ < 512) {
		unsigned op = (unsigned)get(&in, 1) % 7;
		uint64_t a, b;
		size_t len;
		uint8_t *p;

		switch (op) {
		case 0:
			feed(&s, get(&in, 2) * 16);
			break;
		case 1:
			a = get(&in, 1);
			b = get(&in, 1);
			if ((p = stream_out_buf(&s, &len)) == NULL)
				break;
			if (b == 0 && a * 256 < len)
				len = (size_t)(a * 256);
			pat_fill(p, s.end, len);
			stream_out_wrote(&s, len);
			break;
		case 2:
			for (a = get(&in, 1); a > 0; a--) {
				const uint8_t *q = stream_out_next(&s, &len);

				if (q == NULL)
					break;
				stream_out_sent(&s, len);
			}
			break;
		case 3:
		case 4:
			a = get(&in, 1);
			b = get(&in, 8);
			ack_or_rewind(&s, op == 4, (unsigned)a, b);
			break;
		case 5:
			s.window = get(&in, 4) % (WINDOW_MAX + 1);
			break;
		case 6:
			a = get(&in, 4);
			stream_out_free(&s);
			if (s.head != NULL || s.tail != NULL ||
			    s.acked != s.end || s.sent != s.end)
				fatal("free leaves an empty stream", &s);
			stream_out_init(&s, a << 16);
			break;
		}
		check(&s);
	}
	stream_out_free(&s);
	return 0;
}
